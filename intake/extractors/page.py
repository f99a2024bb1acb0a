"""The page reader: one raster page in, one `PageRead` out (kind, confidence, fields, findings).

A short list of stages over one page:
1. quality, measured without OCR; a page the gate refuses is still read for its codes (a 2D-Doc or
   an MRZ band cropped alone is small, and its signature or check digits say whether it was read);
2. the MRZ (morphology, then glyph matching: no tesseract), which settles an identity page alone;
3. the 2D-Docs, which settle a page that is its code alone;
4. the OCR of the top of the page (the whole of a card), the kind from its words, the rest of the
   page only when the kind is unsure;
5. the kind's reader, from `READERS`, which fills the fields, then the evidence of every value read.
Text is never logged.
"""

from __future__ import annotations

import logging
import time
from typing import Callable

import numpy as np

from intake.documents import KINDS, PageRead
from intake.extractors import classify as classify_mod
from intake.extractors import evidence as evidence_mod
from intake.extractors.dates import find_dates
from intake.extractors.ephoto import sheet
from intake.extractors.kinds import certificates, identity, proof_of_address
from intake.extractors.kinds.context import PageContext
from intake.extractors.mrz.reader import read_mrz
from intake.extractors.ocr.page_text import PageText, prepare
from intake.extractors.quality import assess
from intake.extractors.twoddoc.decode import read_2ddocs
from intake.twoddoc_types import ADDRESS_TYPES
from intake.validators.key_fields import KEY_MIN_CONFIDENCE, REREAD, key_field_names

log = logging.getLogger(__name__)

#: Classification confidence under which the rest of the page is read before deciding.
SURE = 0.8
#: The top band read first: header, issuer, addressee block and dates of French documents.
TOP_FRACTION = 0.42

#: Which reader fills the fields of each kind. An identity page reaches its reader only when its MRZ
#: was not read (the MRZ stage fills the page itself).
READERS: dict[str, Callable[[PageContext], None]] = {
    "identity_card": identity.read_printed_side,
    "passport": identity.read_printed_side,
    "residence_permit": identity.read_printed_side,
    "proof_of_address": proof_of_address.read,
    "photo_code": sheet.read,
    "driving_licence": certificates.read_licence,
    "hosting_attestation": certificates.read,
    "assr": certificates.read,
    "jdc": certificates.read,
    "medical_opinion": certificates.read,
    "training_certificate": certificates.read,
    "exam_certificate": certificates.read,
}
assert set(READERS) == set(KINDS) - {"unknown"}, "every kind has its reader"


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
            identity.from_mrz(page, mrz, image.shape)
            log.debug("page %d: MRZ %s in %.2f s", page_number, mrz.format, time.perf_counter() - started)
            return page
        codes = _read_2ddocs_safely(image)
        if codes and _code_fills_page(codes, image.shape):
            proof_of_address.read_code_alone(page, codes, image.shape)  # nothing printed around it
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
    reader = READERS.get(result.kind)
    if reader is not None:
        reader(PageContext(page=page, text=pt, image=image, dates=find_dates(pt.text), address_codes=docs,
                           card=card))
    _text_evidence(page, pt)
    page.evidence["ocr_coverage"] = round(pt.covered, 2)
    page.evidence["orientation"] = {"rotation": pt.rotation, "skew": round(pt.skew, 2), "flattened": pt.flattened}
    log.debug("page %d: %s (%.2f) in %.2f s", page_number, page.kind, page.confidence, time.perf_counter() - started)
    return page


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


# --- codes read before any gate: 2D-Docs and MRZ bands alone (issue 16) ------------------------------
#: A code covering this share of the image is the whole upload (a code cropped or photographed
#: alone): there is no print around it to read.
CODE_ALONE_SHARE = 0.2


def _read_mrz_safely(image: np.ndarray):
    try:
        return read_mrz(image)
    except Exception:  # a reader bug must not lose the page
        log.exception("MRZ reader failed")
        return None


def _read_2ddocs_safely(image: np.ndarray) -> list:
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
        proof_of_address.read_code_alone(page, codes, image.shape)
        return True
    mrz = _read_mrz_safely(image)
    if mrz is not None and mrz.valid:
        identity.from_mrz(page, mrz, image.shape)
        return True
    return False


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
