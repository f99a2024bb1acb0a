"""An e-photo sheet (booth or photographer): the 22-character code and the date the photo was taken.

The code is taken from a barcode when the sheet prints one (error-corrected), else from the text:
the line that printed it is found by geometry (line.py), read again alone by the glyph matcher and
by tesseract with an A-Z 0-9 whitelist, because the free reading of a whole sheet confuses 4/A, 6/G
and Q/O far more often. A glyph the matcher cannot tell from another is settled by the other
readings or left in doubt (vote.py): a code is never made sure by guessing, its evidence then sends
it to a person. The line is made upright first (a slanted photo leaves its glyphs leaning), and a
glyph reading is in doubt too when another reading contradicts it at several characters, when the
line runs off the image, or when its length is one no other reading gives. When the page's reading
missed the photo's date, the lines under the code's label are read alone for it. When the print
around a barcode was not read (its bars spoil tesseract's reading, barcodes.py), the page is read
again with its barcodes made white.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from intake.documents import Finding
from intake.extractors import evidence as evidence_mod
from intake.extractors.dates import evidence as dates_evidence
from intake.extractors.dates import find_dates, pick
from intake.extractors.ephoto.barcodes import barcode_texts, without_barcodes
from intake.extractors.ephoto.code import (
    FACE_MIN_SCORE,
    PhotoCode,
    find_code,
    glyph_boxes,
    glyphs_beside,
    ink_extent,
    is_valid,
    normalise_code,
    photo_date,
    read_glyphs_ranked,
    zero_or_o,
    zero_rings,
)
from intake.extractors.ephoto.line import clean_line, label_box, line_under, lines_under, locate_code_line, upright
from intake.extractors.ephoto.vote import CONTESTED_MARGIN, contradicts, settle
from intake.extractors.kinds.context import PageContext
from intake.extractors.ocr import page_text
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
    barcodes = barcode_texts(image, lambda texts: any(find_code("", [t]) for t in texts))
    found = find_code(pt.text, barcodes)
    if found is None or photo_date(candidates) is None:
        if _read_again_without_barcodes(pt, found, photo_date(candidates) is not None, barcodes):
            page.text = pt.text
            candidates = find_dates(pt.text)
            found = find_code(pt.text, barcodes)
    code_evidence = None
    line_box = None  # the code's line in `pt.image` pixels, when read from the print
    if found is not None and found.source == "text":
        first = found
        line = _reread_code_line(pt, found.raw)
        again = line.found
        # The line read alone with the A-Z 0-9 whitelist is the better reading (measured on the
        # fixture sheets: the free reading confuses 4/A, 6/G, Q/O far more often).
        # A second reading far from the first is another line of the sheet (a date, a booth
        # number), not a better reading of the code.
        if again is not None and (again.valid or not found.valid) and _similar(again.code, found.code):
            found = again
        hit = evidence_mod.locate(pt.words(), first.raw)
        if found.source == "glyphs":
            confidence = line.confidence
        elif line.weakest is not None:
            confidence = line.weakest
        else:
            confidence = hit.confidence if hit else 0.0
        # Two readers (the free reading of the page, the line read alone) agreeing: two readings.
        readings = line.readings if found.source == "glyphs" else \
            (2 if again is not None and again.code == first.code else 1)
        if found.source != "glyphs" and readings < 2:
            # tesseract alone, read once or read twice differently: its word confidence says little
            # of a random code (a phone photo's W read M, 5 read S in a word of confidence 52)
            confidence = min(confidence, UNSETTLED_CONFIDENCE)
        # Both readers found a code of the same wrong length: they agree on what makes it invalid.
        same_wrong_length = again is not None and not again.valid and not first.valid and \
            len(again.code) == len(first.code)
        box = line.box or (hit.box if hit else None)
        line_box = box
        code_evidence = evidence_mod.FieldEvidence(confidence, evidence_mod.PHOTO_CODE, None, page.page,
                                                   evidence_mod.scale_box(box, pt.scale), readings)
    elif found is not None:
        # a QR or DataMatrix code: error-corrected, as good as two agreeing readings
        code_evidence = evidence_mod.FieldEvidence(1.0, evidence_mod.BARCODE, None, page.page, None, 2)
        same_wrong_length = False
    else:
        under = _code_under_label(pt)
        if under is not None:
            found = under.found
            # the glyphs and the whitelisted reading agreeing are two readings; tesseract alone
            # is one, and then in doubt (as for a line found by its words)
            readings = under.readings if found.source == "glyphs" else 1
            confidence = under.confidence if readings >= 2 else min(under.confidence, UNSETTLED_CONFIDENCE)
            code_evidence = evidence_mod.FieldEvidence(confidence, evidence_mod.PHOTO_CODE, None, page.page,
                                                       evidence_mod.scale_box(under.box, pt.scale), readings)
            line_box = under.box
            same_wrong_length = False
    fields: dict[str, Any] = {}
    if found is not None:
        fields["code"] = found.code
        page.evidence["photo_code_source"] = found.source
        page.evidence.setdefault("fields", {})["code"] = code_evidence.to_json()
        if not found.valid:
            # A refusal only for a code read twice the same way, with confidence, that no single
            # slip of the reader (one character wrong, added or lost) explains; else a person looks.
            # Nor when print that may be the code's lies beside the line read: every reading of the
            # line then missed the same characters (a group beyond a wide gap: family-2 seed 127).
            sure = (decisive(fields, page.evidence, "code") or (same_wrong_length and code_evidence.confidence
                                                                 >= DECISIVE_CONFIDENCE)) \
                and not one_slip_from_valid_code(found.code) \
                and not (line_box is not None and glyphs_beside(pt.image, line_box))
            page.findings.append(Finding(
                "photo_code_invalid",
                f"Le code e-photo lu ne fait pas 22 caractères (A-Z, 0-9) : {len(found.code)} caractères lus."
                + ("" if sure else " Une erreur de lecture est possible : vérifier le code sur la planche, ou "
                                   "la numériser à nouveau, bien à plat."),
                severity="blocking" if sure else "review",
                page=page.page,
            ))
    if photo_date(candidates) is None:
        under, date_evidence = _date_under_label(pt, page.page)
        if under:
            candidates = [*candidates, *under]
            page.evidence.setdefault("fields", {})["photo_date"] = date_evidence.to_json()
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


@dataclass(frozen=True)
class _LineReading:
    """The code's line read again alone."""

    found: PhotoCode | None  # the reading (None: the line was not found, or nothing read on it)
    box: list[int] | None  # the line's box in `pt.image` pixels
    confidence: float  # of the glyph reading (its face's match, or a doubt when a glyph is unsettled)
    readings: int  # readers giving the glyph reading's code exactly (the glyphs included)
    weakest: float | None  # OCR confidence of the weakest word that printed the code (None: no line)


#: The confidence given to a code some glyph of which no reader could settle: under the key fields'
#: threshold (KEY_MIN_CONFIDENCE), so a person checks the code.
UNSETTLED_CONFIDENCE = 0.3


def _reread_code_line(pt: PageText, raw: str) -> _LineReading:
    """The words that printed the code, read again alone: by the glyph matcher when a face fits the
    line (its ambiguous glyphs settled by the other readings), else by tesseract with an A-Z 0-9
    whitelist, the line cleaned of its frame."""
    line = locate_code_line(pt.words(), raw)
    if line is None:
        return _LineReading(None, None, 0.0, 1, None)
    left, right = ink_extent(pt.image, line.left, line.top, line.right, line.bottom)
    top, bottom = line.top, line.bottom
    return _read_code_crop(pt, left, top, right, bottom, raw, line.weakest)


def _read_code_crop(pt: PageText, left: int, top: int, right: int, bottom: int, raw: str,
                    weakest: float | None) -> _LineReading:
    """The code's line in the box given (`pt.image` pixels) read alone: by the glyph matcher when a
    face fits it (its doubtful glyphs settled by `raw` and the whitelisted reading), else by
    tesseract with an A-Z 0-9 whitelist, the line cleaned of its frame."""
    crop = pt.line_crop(left, top, right, bottom)
    box = [left, top, right - left, bottom - top]
    if crop.size == 0:
        return _LineReading(None, box, 0.0, 1, weakest)
    cut = _runs_off(crop)  # (before the crop is made upright: its shear moves the glyphs off the sides)
    crop = upright(crop)  # a slanted photo's glyphs lean like an italic: the templates stand
    glyphs = read_glyphs_ranked(crop)
    first = normalise_code(raw)
    if glyphs.score >= FACE_MIN_SCORE and glyphs.chars == first and is_valid(first) and not cut \
            and all(m >= CONTESTED_MARGIN for m in glyphs.margins):
        # The glyphs and the page's reading give the same valid code, no glyph near a tie: two
        # readings agree already. A third (the English model, loaded for it alone: 0.05 s of a
        # check, issue 19) is read only when they leave something to settle.
        return _LineReading(PhotoCode(first, raw, True, "glyphs"), box, glyphs.score, 2, weakest)
    # the English model: a reading made otherwise than the page's (the French model settles fewer
    # glyphs of a photographed code: a G read 6 on seed 105)
    text = page_text.read_line(clean_line(crop), CODE_ALPHABET, lang="eng")
    # A code of the wrong length is still reported as printed: the glyphs decide when they cut
    # the line into about as many characters as the text reading found (the language model
    # inserts characters in random strings, the glyph cutter does not).
    if glyphs.score >= FACE_MIN_SCORE and (is_valid(glyphs.chars) or abs(len(glyphs.chars) - len(first)) <= 1):
        others = [first, normalise_code(text)]
        settled = settle(glyphs, others, zeros=zero_rings(crop, glyphs.chars))
        readings = 2 if settled.code in others and not settled.unsettled else 1
        # In doubt besides: a line another reading contradicts at several characters (vote.py); a
        # line running off the image (the page cut through a glyph, the rest of the code unseen);
        # a code of the wrong length no other reading gives (a glyph lost or split, not a misprint).
        doubt = settled.unsettled or any(contradicts(settled.code, other) for other in others) \
            or cut or (not is_valid(settled.code) and all(len(o) != len(settled.code) for o in others))
        confidence = min(glyphs.score, UNSETTLED_CONFIDENCE) if doubt else glyphs.score
        readings = 1 if doubt else readings  # a doubt is not made good by a reading agreeing
        return _LineReading(PhotoCode(settled.code, raw, is_valid(settled.code), "glyphs"), box, confidence,
                            readings, weakest)
    found = find_code("code : " + text)
    if found is None:
        code = "".join(ch for ch in text if ch.isalnum()).upper()
        found = PhotoCode(code, text, is_valid(code), "text") if code else None
    if found is not None:
        settled_o = zero_or_o(crop, found.code)
        if settled_o != found.code:
            found = PhotoCode(settled_o, found.raw, is_valid(settled_o), "text")
    return _LineReading(found, box, float(glyphs.score), 1, weakest)


def _runs_off(crop) -> bool:
    """Whether a glyph of the line touches the crop's left or right side: the crop leaves a margin
    of paper beside a whole line, so the line was cut by the edge of the image (a photo's page
    found narrower than the sheet), its last glyph cut in half and read as another character."""
    boxes = glyph_boxes(crop)
    cols = crop.shape[1]
    return any(x == 0 or x + w >= cols for x, _y, w, _h in boxes)


def _code_under_label(pt: PageText) -> _LineReading | None:
    """When no code was read on the sheet but its label was: the first printed line under the
    label, found by its ink (`line.line_under`), read alone as a code's line is. Tesseract's
    layout analysis may skip a code in a frame that hugs it (the frame taken for a picture) though
    the line alone reads. None when there is no label, no line under it, or nothing code-like
    (18 to 26 letters and digits) read on it."""
    box = label_box(pt.words())
    if box is None:
        return None
    found = line_under(pt.image, box)
    if found is None:
        return None
    reading = _read_code_crop(pt, *found, raw="", weakest=None)
    if reading.found is None or not 18 <= len(reading.found.code) <= 26:
        return None
    return reading


#: Label heights under the code's label searched for the photo's date when the page's reading missed
#: it, and how many lines there are read at most (each is two tesseract readings).
DATE_DEPTH = 10
DATE_LINES = 4


def _date_under_label(pt: PageText, page: int) -> tuple[list, evidence_mod.FieldEvidence | None]:
    """The date candidates of the first printed line under the code's label that gives the photo's
    date, each line read alone, and the date's evidence: tesseract's layout analysis may skip a
    short line beside the sheet's photos ("Photo réalisée le 6 avril 2026") that reads well alone.
    The line's words give the confidence; a second reading of the line (another language model)
    giving the same date makes it two readings. ([], None) when no label or no such line."""
    box = label_box(pt.words())
    if box is None:
        return [], None
    for left, top, right, bottom in lines_under(pt.image, box, DATE_DEPTH)[:DATE_LINES]:
        line_box = [left, top, right - left, bottom - top]
        text, confidence = pt.reread_box(line_box)
        found = find_dates(text)
        day = photo_date(found)
        if day:
            again = page_text.read_line(pt.line_crop(left, top, right, bottom), "", lang="eng")
            readings = 2 if evidence_mod.date_agrees(day, again) else 1
            return list(found), evidence_mod.FieldEvidence(confidence, evidence_mod.OCR, None, page,
                                                           evidence_mod.scale_box(line_box, pt.scale), readings)
    return [], None


def _read_again_without_barcodes(pt: PageText, found: PhotoCode | None, dated: bool, barcodes: list[str]) -> bool:
    """When the code or the date was not read from the print, the page's barcodes are made white
    and the page read again: their bars spoil tesseract's reading of the print around them
    (barcodes.py). The new reading is kept only when it reads what was missing and loses nothing
    the first one read; True when it was kept."""
    blank, removed = without_barcodes(pt.image)
    if not removed:
        return False
    kept = (pt.image, pt.bands, pt.orientation_checked)
    pt.image, pt.bands = blank, []
    pt.orientation_checked = True  # the page was turned upright already; its bars only hid the print
    pt.read_rest()
    again_found = find_code(pt.text, barcodes)
    again_dated = photo_date(find_dates(pt.text)) is not None
    from_print = found is not None and found.source != "barcode"
    again_from_print = again_found is not None and again_found.source != "barcode"
    gains = (again_dated and not dated) or (again_from_print and not from_print)
    loses = (dated and not again_dated) or (from_print and not again_from_print) or \
        (found is not None and found.valid and not (again_found and again_found.valid))
    if gains and not loses:
        return True
    pt.image, pt.bands, pt.orientation_checked = kept
    return False
