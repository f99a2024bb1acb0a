"""An e-photo sheet (booth or photographer): the 22-character code and the date the photo was taken.

The code is taken from a barcode when the sheet prints one (error-corrected), else from the text:
the line that printed it is read again alone, by the OCR-B/booth glyph matcher and with an A-Z 0-9
whitelist, because the free reading of a whole sheet confuses 4/A, 6/G and Q/O far more often.
"""

from __future__ import annotations

from difflib import SequenceMatcher
from typing import Any

import numpy as np

from intake.documents import Finding
from intake.extractors import evidence as evidence_mod
from intake.extractors.dates import evidence as dates_evidence
from intake.extractors.dates import find_dates, pick
from intake.extractors.ephoto.code import (
    FACE_MIN_SCORE,
    PhotoCode,
    find_code,
    ink_extent,
    is_valid,
    normalise_code,
    photo_date,
    read_glyphs,
    whole_code_run,
    zero_or_o,
)
from intake.extractors.kinds.context import PageContext
from intake.extractors.ocr.page_text import PageText
from intake.validators.key_fields import DECISIVE_CONFIDENCE, decisive, one_slip_from_valid_code


def read(ctx: PageContext) -> None:
    """The sheet's code (barcode first, else the printed line read again alone), its photo date,
    and `photo_code_invalid` when the code is not 22 characters (blocking only when sure)."""
    page, pt, candidates, image = ctx.page, ctx.text, ctx.dates, ctx.image
    if pt.covered < 0.99:
        pt.read_rest()
        page.text = pt.text
        candidates = find_dates(pt.text)
    barcodes = _barcode_texts(image)
    found = find_code(pt.text, barcodes)
    code_evidence = None
    if found is not None and found.source == "text":
        first = found
        again, box, score = _reread_code_line(pt, found.raw)
        # The line read alone with the A-Z 0-9 whitelist is the better reading (measured on the
        # fixture sheets: the free reading confuses 4/A, 6/G, Q/O far more often).
        # A second reading far from the first is another line of the sheet (a date, a booth
        # number), not a better reading of the code.
        if again is not None and (again.valid or not found.valid) and _similar(again.code, found.code):
            found = again
        hit = evidence_mod.locate(pt.words(), first.raw)
        confidence = score if found.source == "glyphs" else (hit.confidence if hit else 0.0)
        # Two readers (the free reading of the page, the line read alone) agreeing: two readings.
        readings = 2 if again is not None and again.code == first.code else 1
        # Both readers found a code of the same wrong length: they agree on what makes it invalid.
        same_wrong_length = again is not None and not again.valid and not first.valid and \
            len(again.code) == len(first.code)
        box = box or (hit.box if hit else None)
        code_evidence = evidence_mod.FieldEvidence(confidence, evidence_mod.PHOTO_CODE, None, page.page,
                                                   evidence_mod.scale_box(box, pt.scale), readings)
    elif found is not None:
        # a QR or DataMatrix code: error-corrected, as good as two agreeing readings
        code_evidence = evidence_mod.FieldEvidence(1.0, evidence_mod.BARCODE, None, page.page, None, 2)
        same_wrong_length = False
    fields: dict[str, Any] = {}
    if found is not None:
        fields["code"] = found.code
        page.evidence["photo_code_source"] = found.source
        page.evidence.setdefault("fields", {})["code"] = code_evidence.to_json()
        if not found.valid:
            # A refusal only for a code read twice the same way, with confidence, that no single
            # slip of the reader (one character wrong, added or lost) explains; else a person looks.
            sure = (decisive(fields, page.evidence, "code") or (same_wrong_length and code_evidence.confidence
                                                                 >= DECISIVE_CONFIDENCE)) \
                and not one_slip_from_valid_code(found.code)
            page.findings.append(Finding(
                "photo_code_invalid",
                f"Le code e-photo lu ne fait pas 22 caractères (A-Z, 0-9) : {len(found.code)} caractères lus."
                + ("" if sure else " Une erreur de lecture est possible : vérifier le code sur la planche, ou "
                                   "la numériser à nouveau, bien à plat."),
                severity="blocking" if sure else "review",
                page=page.page,
            ))
    day = photo_date(candidates)
    if day:
        fields["photo_date"] = day
    page.evidence["date_candidates"] = dates_evidence(candidates, pick(candidates, "photo") or pick(candidates, "issue"))
    page.fields = fields
    if page.link is None and found is not None and found.valid:
        page.link = found.code


CODE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _similar(a: str, b: str) -> bool:
    return SequenceMatcher(None, a, b).ratio() >= 0.6


def _reread_code_line(pt: PageText, raw: str):
    """The words that printed the code, read again alone with an A-Z 0-9 whitelist: (reading or
    None, the line's box in `pt.image` pixels or None, the glyph matcher's score)."""
    pieces = [p for p in raw.replace("-", " ").split() if p]
    if not pieces:
        return None, None, 0.0
    lines: dict[tuple, list] = {}
    for index, band in enumerate(pt.bands):
        for w in band.boxes:
            lines.setdefault((index, w.block, w.line), []).append(w)
    # The code's line is the one whose words cover most of the code's characters: short words
    # that happen to be in the code ("CO", "ED" read in the photos above it) cover little.
    best, best_cover = None, 0
    for ws in lines.values():
        hits = [w for w in ws if any(p in w.text or w.text in p for p in pieces if len(w.text) >= 2)]
        cover = sum(len(w.text) for w in hits)
        if len(hits) >= max(1, len(pieces) // 2) and cover > best_cover:
            best, best_cover = hits, cover
    if not best or best_cover < 0.5 * len("".join(pieces)):
        return None, None, 0.0
    best = whole_code_run(next(ws for ws in lines.values() if best[0] in ws), best)
    left = min(w.left for w in best)
    top = min(w.top for w in best)
    right = max(w.left + w.width for w in best)
    bottom = max(w.top + w.height for w in best)
    left, right = ink_extent(pt.image, left, top, right, bottom)
    crop = pt.line_crop(left, top, right, bottom)
    box = [left, top, right - left, bottom - top]
    glyphs, score, _face = read_glyphs(crop)
    # A code of the wrong length is still reported as printed: the glyphs decide when they cut
    # the line into about as many characters as the text reading found (the language model
    # inserts characters in random strings, the glyph cutter does not).
    if score >= FACE_MIN_SCORE and (is_valid(glyphs) or abs(len(glyphs) - len(normalise_code(raw))) <= 1):
        return PhotoCode(glyphs, raw, is_valid(glyphs), "glyphs"), box, float(score)
    text = pt.read_line_box(left, top, right, bottom, CODE_ALPHABET)
    found = find_code("code : " + text)
    if found is None:
        code = "".join(ch for ch in text if ch.isalnum()).upper()
        found = PhotoCode(code, text, is_valid(code), "text") if code else None
    if found is not None:
        settled = zero_or_o(crop, found.code)
        if settled != found.code:
            found = PhotoCode(settled, found.raw, is_valid(settled), "text")
    return found, box, float(score)


def _barcode_texts(image: np.ndarray) -> list[str]:
    """QR, DataMatrix and Code 128 payloads of an e-photo sheet (booths and photographers print the
    code as a barcode too). A second pass binarises the whole page at once: a photographed sheet's
    uneven light breaks the bars of a linear code for the local binariser."""
    try:
        import zxingcpp

        fmts = [zxingcpp.BarcodeFormat.QRCode, zxingcpp.BarcodeFormat.DataMatrix, zxingcpp.BarcodeFormat.Code128]
        texts = [r.text for r in zxingcpp.read_barcodes(image, formats=fmts)]
        if not any(find_code("", [t]) for t in texts):
            texts += [r.text for r in zxingcpp.read_barcodes(image, formats=fmts,
                                                            binarizer=zxingcpp.Binarizer.GlobalHistogram)]
        return texts
    except Exception:
        return []
