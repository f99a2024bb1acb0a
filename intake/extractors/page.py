"""The page reader: one raster page in, one `PageRead` out (kind, confidence, fields, findings).

Cheap signals first: quality (no OCR), then the MRZ (morphology before any OCR), then 2D-Docs
(DataMatrix), and only then OCR, of the top of the page first and of the rest when the kind or a
needed field is still missing. Text is never logged.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np

from intake.documents import Finding, PageRead
from intake.extractors import classify as classify_mod
from intake.extractors import evidence as evidence_mod
from intake.extractors import fields as fields_mod
from intake.extractors.dates import evidence as dates_evidence
from intake.extractors.dates import find_dates, pick
from intake.extractors.photo_code import (
    FACE_MIN_SCORE,
    PhotoCode as _PhotoCode,
    find_code,
    is_valid,
    normalise_code,
    photo_date,
    read_glyphs,
    zero_or_o,
)
from intake.extractors.quality import assess
from intake.extractors.text import PageText, prepare
from intake.validators.key_fields import (
    DECISIVE_CONFIDENCE,
    KEY_MIN_CONFIDENCE,
    REREAD,
    decisive,
    key_field_names,
    one_slip_from_valid_code,
)

log = logging.getLogger(__name__)

try:  # written by another engineer; the reader still works without it
    from intake.extractors.mrz import read_mrz
except ImportError:  # pragma: no cover
    read_mrz = None  # type: ignore[assignment]
try:
    from intake.extractors.twoddoc import ADDRESS_TYPES, contradictions, read_2ddocs
except ImportError:  # pragma: no cover
    read_2ddocs = None  # type: ignore[assignment]
    ADDRESS_TYPES = ("00", "01", "02", "04", "28")

    def contradictions(doc, ocr_fields):  # type: ignore[no-redef]
        return []

TAX_2DDOC_TYPES = ("02", "04", "28")
#: Classification confidence under which the rest of the page is read before deciding.
SURE = 0.8
#: The top band read first: header, issuer, addressee block and dates of French documents.
TOP_FRACTION = 0.42


def read_page(image: np.ndarray, page_number: int, _codes: list | None = None) -> PageRead:
    """Classify one page and read the fields of its kind. (`_codes`: the page's 2D-Docs, already
    decoded, when the page is read again for its print alone.)"""
    started = time.perf_counter()
    page = PageRead(page=page_number)
    quality = assess(image)
    page.evidence["quality"] = quality.to_evidence()
    if _codes is None:
        if quality.reason:
            # Codes before the gate: a 2D-Doc or an MRZ band cropped alone is small, and its
            # signature or check digits say whether it was read right.
            if not _read_codes_alone(page, image):
                page.unreadable = quality.message
            return page
        mrz = _read_mrz_safely(image)
        if mrz is not None:
            _identity_from_mrz(page, mrz, image.shape)
            log.debug("page %d: MRZ %s in %.2f s", page_number, mrz.format, time.perf_counter() - started)
            return page
        codes = _read_2ddocs_safely(image)
        if codes and _code_fills_page(codes, image.shape):
            _page_of_codes(page, codes, image.shape)  # nothing printed around the code to read
            return page
        if any(d.doc_type not in ADDRESS_TYPES for d in codes):
            # a 2D-Doc no requirement uses: the page read as usual, the code reported with it
            return _with_codes(read_page(image, page_number, _codes=codes), codes)
    else:
        codes = _codes
    docs = [d for d in codes if d.doc_type in ADDRESS_TYPES]

    pt = prepare(image)
    card = pt.card_shaped
    if card:
        pt.read(0.0, 1.0, psm=11)
    else:
        pt.read(0.0, TOP_FRACTION)
    result = classify_mod.classify_text(pt.text, card_shaped=card, address_2ddoc=bool(docs))
    if result.confidence < SURE or result.kind == "unknown" or _needs_rest(result.kind):
        if not card:
            pt.read_rest()
        elif result.kind == "unknown":
            # Sparse-text reading misses small print set in a column (the categories table on
            # the back of a low-resolution licence scan); reading it as one block finds it.
            pt.read(0.0, 1.0, psm=6)
        result = classify_mod.classify_text(pt.text, card_shaped=card, address_2ddoc=bool(docs))

    if quality.doubtful and result.kind == "unknown" and _looks_garbled(pt):
        page.unreadable = "image trop floue"
        page.text = pt.text
        return page

    page.kind, page.confidence, page.text = result.kind, result.confidence, pt.text
    page.evidence["scores"] = {k: v for k, v in result.scores.items() if v}
    candidates = find_dates(pt.text)
    if result.kind == "proof_of_address":
        _proof_of_address(page, pt, candidates, docs)
    elif result.kind in ("identity_card", "passport", "residence_permit"):
        page.side = classify_mod.card_side(pt.text, has_mrz=False) if result.kind != "passport" else None
        page.evidence["names_protected"] = False
        page.evidence["issuing_state"] = "FRA" if "republique francaise" in classify_mod.normalise(pt.text) else ""
    elif result.kind == "photo_code":
        _photo_code(page, pt, candidates, image)
    elif result.kind == "driving_licence" and classify_mod.licence_table_rows(pt.text) >= 6:
        page.side = "back"  # the categories table: the holder is on the front
        held = fields_mod.licence_back_categories(pt.words())
        if held:
            page.fields = {"categories": held}
    elif result.kind != "unknown":
        if result.kind == "driving_licence":
            page.side = "front" if card else None
        page.fields = _certificate_fields(result.kind, pt, candidates)
        used = pick(candidates, "issue") or pick(candidates, "exam")
        page.evidence["date_candidates"] = dates_evidence(candidates, used)
    _text_evidence(page, pt)
    page.evidence["ocr_coverage"] = round(pt.covered, 2)
    page.evidence["orientation"] = {"rotation": pt.rotation, "skew": round(pt.skew, 2), "flattened": pt.flattened}
    log.debug("page %d: %s (%.2f) in %.2f s", page_number, page.kind, page.confidence, time.perf_counter() - started)
    return page


def _address_from_2ddoc(doc) -> dict[str, Any]:
    """A proof of address's fields as its 2D-Doc gives them (RULES.md: they win over the print)."""
    fields: dict[str, Any] = {}
    if doc.doc_type in TAX_2DDOC_TYPES:
        fields["document_subtype"] = "tax_notice"
    for key, value in (("holder_name", doc.holder_name()), ("address_line", doc.address_line()),
                       ("postcode", doc.postcode()), ("city", doc.city())):
        if value:
            fields[key] = value
    if doc.issue_date():
        fields["issue_date"] = doc.issue_date().isoformat()
    fields["two_d_doc"] = doc.to_contract()
    return fields


def _certificate_fields(kind: str, pt: PageText, candidates) -> dict[str, Any]:
    """Fields from the page's printed lines (certificates are one column, and tesseract's column
    finding can cut a line in two), completed by the block reading for what those lack."""
    fields = fields_mod.certificate_fields(kind, pt.text, candidates)
    if kind == "driving_licence":
        return fields  # its fields are numbered blocks: the block reading is the right one
    by_lines = fields_mod.certificate_fields(kind, pt.line_text())
    return {**fields, **by_lines}


def _needs_rest(kind: str) -> bool:
    """Certificates carry their holder and date anywhere on the page: read it all."""
    return kind not in ("proof_of_address", "unknown", "photo_code", "identity_card", "passport", "residence_permit")


def _looks_garbled(pt: PageText) -> bool:
    confs = [b.conf for b in pt.bands if b.words]
    return not confs or max(confs) < 55


def _text_evidence(page: PageRead, pt: PageText) -> None:
    """Evidence of every field read from the OCR text (those a 2D-Doc or a barcode gave have
    theirs already). Read a second time, alone: the values a refusal could rest on, and the key
    values read with doubt (two readings agreeing make a doubtful value a sure one; a region is read
    again only when one of its values needs it)."""
    known = page.evidence.setdefault("fields", {})
    found = evidence_mod.text_evidence(pt, page.fields, page.page, skip=known)
    doubtful = [n for n in key_field_names(page.kind)
                if n in found and float(found[n].get("confidence") or 0.0) < KEY_MIN_CONFIDENCE]
    again = tuple(dict.fromkeys([*REREAD.get(page.kind, ()), *doubtful]))
    evidence_mod.confirm_by_rereading(pt, page.kind, page.fields, found, again)
    known.update(evidence_mod.strip_private(found))
    page.evidence.setdefault("frames", {})[str(page.page)] = pt.frame()


def _identity_from_mrz(page: PageRead, mrz: Any, shape: tuple[int, ...]) -> None:
    page.kind = mrz.kind
    page.confidence = float(mrz.confidence)
    page.fields = dict(mrz.fields)
    page.fields.setdefault("mrz_valid", bool(mrz.valid))
    page.fields.setdefault("mrz_format", mrz.format)
    page.evidence["fields"] = evidence_mod.mrz_evidence(mrz, page.page)
    page.evidence["mrz_names_full"] = evidence_mod.mrz_names_full(mrz)
    page.evidence["frames"] = {str(page.page): evidence_mod.mrz_frame(shape, mrz.rotation)}
    page.evidence["names_protected"] = bool(mrz.names_protected)
    page.evidence["issuing_state"] = mrz.issuing_state
    page.evidence["mrz_rotation"] = mrz.rotation
    if mrz.name_readings:
        page.evidence["mrz_name_readings"] = [{"surname": surname, "given_names": given}
                                              for surname, given in mrz.name_readings]
    if mrz.kind == "passport":
        page.side = None
    else:
        # The laminated French CNI carries its MRZ on the photo side; TD1 and TD2 cards on the back.
        page.side = "front" if mrz.format == "fr_cni_2x36" else "back"
    page.link = page.fields.get("document_number")
    if not mrz.valid:
        failed = [name for name, ok in (getattr(mrz, "checks", {}) or {}).items() if not ok]
        page.findings.append(Finding(
            "mrz_invalid",
            "La bande MRZ de la pièce d'identité est lue mais ses chiffres de contrôle ne sont pas bons"
            + (f" ({', '.join(failed)})." if failed else "."),
            page=page.page, details={"failed_checks": failed},
        ))


def _proof_of_address(page: PageRead, pt: PageText, candidates, docs) -> None:
    fields = fields_mod.proof_of_address_fields(pt.text, candidates)
    need = ("issue_date", "holder_name", "postcode")
    if not docs and any(k not in fields for k in need) and pt.covered < 0.99:
        pt.read_rest()
        candidates = find_dates(pt.text)
        fields = fields_mod.proof_of_address_fields(pt.text, candidates)
        page.text = pt.text
    line_text = None  # the printed lines rebuilt from the word boxes, when needed, once
    if any(k not in fields for k in ("holder_name", "postcode")):
        # Tesseract's layout analysis may give an addressee block's lines as one line ("MME ÇAĞLA
        # ÇELIK 18 RUE NATIONALE 37000 TOURS" at 150 dpi): the printed lines keep them apart.
        line_text = pt.line_text()
        for key, value in fields_mod.address_block(fields_mod.lines_of(line_text)).items():
            fields.setdefault(key, value)
    # Two parties side by side (tenant and landlord of a rent receipt): the OCR joins their lines;
    # the addressee block is the column not labelled as the other party.
    columns = fields_mod.side_by_side_columns(pt.words())
    if columns:
        fields.update(fields_mod.holder_block_of_columns(columns))
    used = pick(candidates, "issue")
    if used is None:
        # Labels in one column and values in another (a tax notice's header table) are read as
        # separate blocks: the date is found with its label on the printed line.
        by_lines = find_dates(line_text if line_text is not None else pt.line_text())
        used = pick(by_lines, "issue")
        if used is not None:
            candidates = by_lines
            fields["issue_date"] = used.date.isoformat()
    page.evidence["date_candidates"] = dates_evidence(candidates, used)
    if docs:
        doc = docs[0]
        ocr_fields = dict(fields)
        fields.update(_address_from_2ddoc(doc))
        from_code = [k for k in ("holder_name", "address_line", "postcode", "city", "issue_date", "two_d_doc",
                                 "document_subtype")
                     if k == "two_d_doc" or (k in fields and fields.get(k) != ocr_fields.get(k))
                     or (k in fields and doc.signature_valid is True)]
        page.evidence.setdefault("fields", {}).update(
            evidence_mod.twoddoc_evidence(from_code, doc.signature_valid, page.page))
        differing = list(contradictions(doc, ocr_fields) or [])
        if doc.signature_valid is False or differing:
            what = []
            if doc.signature_valid is False:
                what.append("la signature du 2D-Doc ne se vérifie pas")
            if differing:
                what.append("le 2D-Doc contredit la page imprimée (" + ", ".join(differing) + ")")
            page.findings.append(Finding(
                "proof_of_address_signature_invalid",
                "Justificatif de domicile : " + " et ".join(what) + ".",
                page=page.page, details={"contradictions": differing, "signature_valid": doc.signature_valid},
            ))
    page.fields = fields


def _photo_code(page: PageRead, pt: PageText, candidates, image: np.ndarray) -> None:
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
    from difflib import SequenceMatcher

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
    from intake.extractors.photo_code import whole_code_run

    best = whole_code_run(next(ws for ws in lines.values() if best[0] in ws), best)
    left = min(w.left for w in best)
    top = min(w.top for w in best)
    right = max(w.left + w.width for w in best)
    bottom = max(w.top + w.height for w in best)
    from intake.extractors.photo_code import ink_extent

    left, right = ink_extent(pt.image, left, top, right, bottom)
    crop = pt.line_crop(left, top, right, bottom)
    box = [left, top, right - left, bottom - top]
    glyphs, score, _face = read_glyphs(crop)
    # A code of the wrong length is still reported as printed: the glyphs decide when they cut
    # the line into about as many characters as the text reading found (the language model
    # inserts characters in random strings, the glyph cutter does not).
    if score >= FACE_MIN_SCORE and (is_valid(glyphs) or abs(len(glyphs) - len(normalise_code(raw))) <= 1):
        return _PhotoCode(glyphs, raw, is_valid(glyphs), "glyphs"), box, float(score)
    text = pt.read_line_box(left, top, right, bottom, CODE_ALPHABET)
    found = find_code("code : " + text)
    if found is None:
        code = "".join(ch for ch in text if ch.isalnum()).upper()
        found = _PhotoCode(code, text, is_valid(code), "text") if code else None
    if found is not None:
        settled = zero_or_o(crop, found.code)
        if settled != found.code:
            found = _PhotoCode(settled, found.raw, is_valid(settled), "text")
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


# --- codes read before any gate: 2D-Docs and MRZ bands alone (issue 16) ------------------------------
#: A code covering this share of the image is the whole upload (a code cropped or photographed
#: alone): there is no print around it to read.
CODE_ALONE_SHARE = 0.2


def _read_mrz_safely(image: np.ndarray):
    if read_mrz is None:
        return None
    try:
        return read_mrz(image)
    except Exception:  # a reader bug must not lose the page
        log.exception("MRZ reader failed")
        return None


def _read_2ddocs_safely(image: np.ndarray) -> list:
    if read_2ddocs is None:
        return []
    try:
        return list(read_2ddocs(image))
    except Exception:
        log.exception("2D-Doc reader failed")
        return []


def _code_fills_page(codes: list, shape: tuple[int, ...]) -> bool:
    h, w = shape[:2]
    return any(d.box and d.box[2] * d.box[3] >= CODE_ALONE_SHARE * w * h for d in codes)


def _read_codes_alone(page: PageRead, image: np.ndarray) -> bool:
    """A page the quality gate refuses (too small, blurred...) read for what needs no OCR: its
    2D-Docs (error-corrected, signed) and an MRZ whose check digits all hold. True when read."""
    codes = _read_2ddocs_safely(image)
    if codes:
        _page_of_codes(page, codes, image.shape)
        return True
    mrz = _read_mrz_safely(image)
    if mrz is not None and mrz.valid:
        _identity_from_mrz(page, mrz, image.shape)
        return True
    return False


def _page_of_codes(page: PageRead, codes: list, shape: tuple[int, ...]) -> None:
    """A page that is its 2D-Doc alone: a proof of address when the code is of an address type
    (its data are the piece's), else a page of no known kind that still reports its code."""
    h, w = shape[:2]
    page.evidence["frames"] = {str(page.page): {"width": int(w), "height": int(h), "rotation": 0,
                                                "flattened": False}}
    page.evidence["two_d_docs"] = [{**d.to_contract(), "label": d.label()} for d in codes]
    address = [d for d in codes if d.doc_type in ADDRESS_TYPES]
    if not address:
        page.fields = {"two_d_doc": codes[0].to_contract()}
        return
    doc = address[0]
    fields: dict[str, Any] = _address_from_2ddoc(doc)
    if doc.doc_type == "01":
        fields.setdefault("document_subtype", "bill")
    page.kind = "proof_of_address"
    page.confidence = 0.99 if doc.signature_valid else 0.8
    page.fields = fields
    found = evidence_mod.twoddoc_evidence(list(fields), doc.signature_valid, page.page)
    for entry in found.values():
        entry["box"] = list(doc.box) if doc.box else None
    page.evidence["fields"] = found
    if doc.signature_valid is False:
        page.findings.append(Finding(
            "proof_of_address_signature_invalid",
            "Justificatif de domicile : la signature du 2D-Doc ne se vérifie pas.",
            page=page.page, details={"contradictions": [], "signature_valid": False},
        ))


def _with_codes(page: PageRead, codes: list) -> PageRead:
    """The page read from its print, with the 2D-Docs no requirement uses reported in its fields."""
    page.evidence["two_d_docs"] = [{**d.to_contract(), "label": d.label()} for d in codes]
    if page.unreadable is None and "two_d_doc" not in page.fields:
        other = next(d for d in codes if d.doc_type not in ADDRESS_TYPES)
        page.fields["two_d_doc"] = other.to_contract()
        entry = evidence_mod.twoddoc_evidence(["two_d_doc"], other.signature_valid, page.page)["two_d_doc"]
        entry["box"] = list(other.box) if other.box else None
        page.evidence.setdefault("fields", {})["two_d_doc"] = entry
    return page
