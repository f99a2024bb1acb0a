"""The page reader: one raster page in, one `PageRead` out (kind, confidence, fields, findings).

A short list of stages over one page:
1. quality, measured without OCR; a page the gate refuses is still read for its codes (a 2D-Doc or
   an MRZ band cropped alone is small, and its signature or check digits say whether it was read);
2. the MRZ (morphology, then glyph matching: no tesseract), which settles an identity page alone;
3. the 2D-Docs, which settle a page that is its code alone;
4. the OCR of the top of the page (the whole of a card), the kind from its words, the rest of the
   page only when the kind is unsure or its fields are not all in the top;
5. the kind's reader, from `READERS`, which fills the fields, then the evidence of every value read.

Only what is needed is read (issue 19): the page is turned to gray once for every stage; an A4
scan (white margins, A4 proportions) is read for its kind before the MRZ search, which it gets
only when its print does not surely say a bill or a certificate (the search costs a bill a quarter
of its reading and finds nothing there); a certificate whose top band gave every field it can give
is not read further.
Text is never logged.
"""

from __future__ import annotations

import logging
import time
from typing import Callable

import numpy as np

from intake.documents import IDENTITY_KINDS, KINDS, PageRead
from intake.extractors import classify as classify_mod
from intake.extractors import evidence as evidence_mod
from intake.extractors.dates import find_dates
from intake.extractors.evidence import DATE_FIELDS
from intake.extractors.ephoto import sheet
from intake.extractors.kinds import certificates, identity, proof_of_address
from intake.extractors.kinds.context import PageContext
from intake.extractors.mrz.reader import read_mrz
from intake.extractors.ocr.orient import border_median
from intake.extractors.ocr.page_text import PageText, prepare, read_restored
from intake.extractors.ocr.restore import RESTORED_CEILING
from intake.extractors.quality import assess, gray
from intake.extractors.twoddoc.decode import read_2ddocs
from intake.twoddoc_types import ADDRESS_TYPES
from intake.validators.key_fields import KEY_MIN_CONFIDENCE, REREAD, key_field_names

log = logging.getLogger(__name__)

#: Classification confidence under which the rest of the page is read before deciding.
SURE = 0.8
#: The top band read first: header, issuer, addressee block and dates of French documents.
TOP_FRACTION = 0.42
#: Kinds printed on a card: a page read as a card keeps its card reading for them.
CARD_KINDS = ("identity_card", "passport", "residence_permit", "driving_licence")

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
    g = gray(image)  # once: quality, MRZ, 2D-Doc and OCR all work on gray
    quality = assess(g)
    page.evidence["quality"] = quality.to_evidence()
    # An A4 scan is read for its kind first; the MRZ search waits for its print to ask for it.
    text_first = _a4_scan(g)
    if _codes is None:
        if quality.reason:
            # Codes before the gate: a 2D-Doc or an MRZ band cropped alone is small, and its
            # signature or check digits say whether it was read right.
            if not _read_codes_alone(page, image):
                page.unreadable = quality.message
            return page
        if not text_first and _settled_by_mrz(page, g, image.shape, started, deep=False, valid_only=True):
            return page
        codes = _read_2ddocs_safely(g)
        if codes and _code_fills_page(codes, image.shape):
            proof_of_address.read_code_alone(page, codes, image.shape)  # nothing printed around it
            return page
        if any(d.doc_type not in ADDRESS_TYPES for d in codes):
            # a 2D-Doc no requirement uses: the page read as usual, the code reported with it
            return _with_codes(read_page(image, page_number, _codes=codes), codes)
    else:
        codes = _codes
    docs = [d for d in codes if d.doc_type in ADDRESS_TYPES]

    pt = prepare(g)
    card = pt.card_shaped
    if card:
        pt.read(0.0, 1.0, psm=11)
    else:
        pt.read(0.0, TOP_FRACTION)
    result = classify_mod.classify_text(pt.text, card_shaped=card, address_2ddoc=bool(docs))
    if result.confidence < SURE or result.kind == "unknown" or _needs_rest(result.kind):
        if not card:
            if not _top_gives_all(result, pt, image, docs):
                pt.read_rest()
        elif result.kind == "unknown":
            # Sparse-text reading misses small print set in a column (the categories table on
            # the back of a low-resolution licence scan); reading it as one block finds it.
            pt.read(0.0, 1.0, psm=6)
        result = classify_mod.classify_text(pt.text, card_shaped=card, address_2ddoc=bool(docs))
        if card and result.kind == "unknown" and pt.flattened:
            # A sheet flattened from a photo with a paper under it takes a card's proportions
            # (the quadrilateral holds both): read as a page, its lines found by layout analysis.
            sheet = PageText(pt.image, rotation=pt.rotation, skew=pt.skew, flattened=True, scale=pt.scale)
            sheet.read(0.0, TOP_FRACTION)
            as_page = classify_mod.classify_text(sheet.text, card_shaped=False, address_2ddoc=bool(docs))
            if as_page.kind != "unknown" and as_page.kind not in CARD_KINDS:
                pt, result, card = sheet, as_page, False
    if result.kind == "unknown" and not text_first and not docs and certificates.photographed(image):
        # a licence photographed among other papers: its cards found, flattened, read one by one (a
        # fallback: only a photo that read as nothing pays for it)
        photographed = certificates.read_photographed_cards(image, want="driving_licence")
        if photographed is not None:
            pt, result = photographed
    if result.kind == "unknown" and not text_first and not docs and quality.rough:
        # a rough phone photo read as nothing: read again deblurred, enlarged (issue 16)
        restored = read_restored(g, pt, lambda text, card: classify_mod.classify_text(text, card_shaped=card))
        if restored is not None:
            pt, result = restored
    if not _surely_printed_kind(result) and _settled_by_mrz(page, g, image.shape, started):
        # an identity document copied on an A4 page, or a photo whose MRZ no quick look read valid
        return page

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
        if not card and not pt.restored and result.kind in DROPPED_PRINT_KINDS:
            _read_dropped_print(page, pt, image, docs)
    if pt.restored:  # values read on a restored image: the least sure reading, a person looks
        page.evidence["restored"] = True
        page.ceilings.update({n: min(page.ceilings.get(n, 1.0), RESTORED_CEILING) for n in page.fields})
    _text_evidence(page, pt)
    page.evidence["ocr_coverage"] = round(pt.covered, 2)
    page.evidence["orientation"] = {"rotation": pt.rotation, "skew": round(pt.skew, 2), "flattened": pt.flattened}
    log.debug("page %d: %s (%.2f) in %.2f s", page_number, page.kind, page.confidence, time.perf_counter() - started)
    return page


#: Kinds printed on sheets whose key fields a row of print dropped by the layout analysis may hold.
DROPPED_PRINT_KINDS = ("proof_of_address", "hosting_attestation", "assr", "jdc", "medical_opinion",
                       "training_certificate", "exam_certificate")


def _read_dropped_print(page: PageRead, pt: PageText, image: np.ndarray, docs: list) -> None:
    """A sheet missing a key field, or holding one in doubt whatever its reading (a ceiling under
    the key threshold: an issue date known by a bare "le"), read again with the rows of print its
    bands' reading dropped, and with the rows of its dates found with no label, each row read alone.
    The second reading is kept only when it finds every other value of the first unchanged, and
    the missing value or the doubtful one on surer grounds (issue 16: a bill's header table whose
    labels tesseract dropped or misread beside its rules gave its date no role)."""
    doubtful = {n for n, ceiling in page.ceilings.items() if ceiling < KEY_MIN_CONFIDENCE}
    wanted = [n for n in key_field_names(page.kind) if not page.fields.get(n) or n in doubtful]
    if not wanted:
        return
    rows = pt.read_dropped_rows()
    if any(n in DATE_FIELDS for n in wanted):
        rows += pt.read_unlabelled_date_rows()
    if not rows:
        return
    again = PageRead(page=page.page, kind=page.kind, confidence=page.confidence)
    READERS[page.kind](PageContext(page=again, text=pt, image=image, dates=find_dates(pt.text),
                                   address_codes=docs, card=False))
    kept = all(again.fields.get(name) == value for name, value in page.fields.items() if name not in wanted)
    surer = [n for n in wanted if again.fields.get(n) and
             (not page.fields.get(n) or again.ceilings.get(n, 1.0) > page.ceilings.get(n, 1.0))]
    if not kept or not surer:
        pt.forget_dropped_rows()
        return
    page.fields, page.ceilings, page.side, page.link = again.fields, again.ceilings, again.side, again.link
    page.evidence.update(again.evidence)
    page.findings.extend(f for f in again.findings if f not in page.findings)
    page.text = pt.text
    page.evidence["dropped_rows_read"] = True


def _needs_rest(kind: str) -> bool:
    """Certificates carry their holder and date anywhere on the page: read it all."""
    return kind not in ("proof_of_address", "unknown", "photo_code", "identity_card", "passport", "residence_permit")


#: Certificates whose dates no rule checks (RULES.md: a JDC or an ASSR is needed, not recent), with
#: every field their reader can give: when the top band gave all of these, the rest of the page
#: (a place, a date of signature, a signature) is not read. Kinds whose issue date a rule checks
#: (medical opinion, training certificate, hosting attestation) are always read whole: their date
#: of signature is at the bottom.
TOP_IS_ENOUGH = {
    "jdc": ("holder_name", "birth_date", "issue_date"),
    "assr": ("holder_name", "birth_date", "issue_date", "level"),
    "exam_certificate": ("holder_name", "birth_date", "issue_date"),
}


def _top_gives_all(result, pt: PageText, image: np.ndarray, docs: list) -> bool:
    """The page surely of a kind of TOP_IS_ENOUGH, and its reader finds every field in the top band
    read so far (tried on a scratch page: the reader runs again on the page itself afterwards)."""
    wanted = TOP_IS_ENOUGH.get(result.kind)
    if wanted is None or result.confidence < SURE:
        return False
    scratch = PageRead(page=0, kind=result.kind)
    READERS[result.kind](PageContext(page=scratch, text=pt, image=image, dates=find_dates(pt.text),
                                     address_codes=docs, card=False))
    return all(scratch.fields.get(name) for name in wanted)


#: A4 proportions (297 / 210 = 1.414), with room for a scanner's margins and a slight crop.
A4_ASPECT = (1.36, 1.47)
#: A scan's margins are paper: the median of its border at least this bright (a photo's border is
#: the table around the sheet).
SCAN_BORDER = 170


def _a4_scan(g: np.ndarray) -> bool:
    """A whole A4 page, scanned or rendered (white margins all round), large enough to be a page and
    not a card: the kind of page that is a bill or a certificate far more often than an identity
    document (a photo of a card among papers keeps the MRZ search first)."""
    h, w = g.shape[:2]
    if max(h, w) < 1500 or not A4_ASPECT[0] <= max(h, w) / max(1, min(h, w)) <= A4_ASPECT[1]:
        return False
    return border_median(g) >= SCAN_BORDER


def _surely_printed_kind(result) -> bool:
    """The print surely says a kind that carries no MRZ (a bill, a certificate, a licence, an e-photo
    sheet): no MRZ search on the page."""
    return result.confidence >= SURE and result.kind != "unknown" and result.kind not in IDENTITY_KINDS


def _settled_by_mrz(page: PageRead, g: np.ndarray, shape: tuple[int, ...], started: float, *,
                    deep: bool = True, valid_only: bool = False) -> bool:
    """The page filled from its MRZ, when one is read (`valid_only`: read valid): an identity page
    needs nothing else. A photo's first look is quick (`deep` False); the deeper looks wait for the
    print to leave the kind open."""
    mrz = _read_mrz_safely(g, deep)
    if mrz is None or (valid_only and not mrz.valid):
        return False
    identity.from_mrz(page, mrz, shape)
    log.debug("page %d: MRZ %s in %.2f s", page.page, mrz.format, time.perf_counter() - started)
    return True


def _looks_garbled(pt: PageText) -> bool:
    confs = [b.conf for b in pt.bands if b.words]
    return not confs or max(confs) < 55


#: The confidence a key value read from a card found among papers keeps when a second reading of
#: its box does not give it again: under KEY_MIN_CONFIDENCE, so a person looks at it.
UNCONFIRMED_ON_CARD = 0.4


def _text_evidence(page: PageRead, pt: PageText) -> None:
    """Evidence of every field read from the OCR text (those a 2D-Doc or a barcode gave have
    theirs already). Read a second time, alone: the values a refusal could rest on, and the key
    values read with doubt (two readings agreeing make a doubtful value a sure one; a region is read
    again only when one of its values needs it)."""
    known = page.evidence.setdefault("fields", {})
    found = evidence_mod.text_evidence(pt, page.fields, page.page, skip=known)
    doubtful = [n for n in key_field_names(page.kind)
                if n in found and float(found[n].get("confidence") or 0.0) < KEY_MIN_CONFIDENCE]
    if pt.from_card:
        # A card found and flattened among other papers in a photo is the least sure reading there
        # is: each of its key values counts only when a second reading of its box gives it again.
        doubtful = [n for n in key_field_names(page.kind) if n in found]
    again = tuple(dict.fromkeys([*REREAD.get(page.kind, ()), *doubtful]))
    evidence_mod.confirm_by_rereading(pt, page.kind, page.fields, found, again)
    if pt.from_card:
        for name in doubtful:
            entry = found[name]
            if int(entry.get("readings") or 1) < 2 and not entry.get("protected"):
                entry["confidence"] = min(float(entry.get("confidence") or 0.0), UNCONFIRMED_ON_CARD)
    for name, ceiling in page.ceilings.items():
        if name in found and not found[name].get("protected"):
            found[name]["confidence"] = min(float(found[name].get("confidence") or 0.0), ceiling)
    known.update(evidence_mod.strip_private(found))
    page.evidence.setdefault("frames", {})[str(page.page)] = pt.frame()


# --- codes read before any gate: 2D-Docs and MRZ bands alone (issue 16) ------------------------------
#: A code covering this share of the image is the whole upload (a code cropped or photographed
#: alone): there is no print around it to read.
CODE_ALONE_SHARE = 0.2


def _read_mrz_safely(image: np.ndarray, deep: bool = True):
    try:
        return read_mrz(image, deep)
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
