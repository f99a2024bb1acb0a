"""Proofs of address (bills, tax notices, rent receipts, attestations): holder, address and issue
date from the print, and from the 2D-Doc when the page carries one (RULES.md: a signed code's data
win over the print; a code alone, with no print around it, is a proof of address on its own)."""

from __future__ import annotations

import re
from typing import Any

from intake.documents import Finding, PageRead
from intake.extractors import evidence as evidence_mod
from intake.extractors import fields as fields_mod
from intake.extractors.dates import evidence as dates_evidence
from intake.extractors.dates import find_dates, fold_text, pick
from intake.extractors.kinds.context import PageContext
from intake.extractors.twoddoc.parse import contradictions
from intake.twoddoc_types import ADDRESS_TYPES, DOCUMENT_TYPES, TAX_NOTICE_TYPES

#: The values without which the print is read whole before deciding.
NEEDED = ("issue_date", "holder_name", "postcode")
#: An issue date whose only label is a bare "le" is left to a person, at most at this confidence: on
#: family-2 seeds 116+117 and the committed corpus, 3 of 165 issue dates, 2 right and 1 a debit date
#: ("Montant prélevé le", its label misread) that made the bill look younger than it is. Under
#: `AGREED_MIN_CONFIDENCE`: the doubt is about which date it is, which a second reading cannot settle.
BARE_LABEL_CONFIDENCE = 0.15


def read(ctx: PageContext) -> None:
    """Fields from the print, the 2D-Doc's data over them, and a finding when the code's signature
    fails or the code contradicts the print."""
    page, pt = ctx.page, ctx.text
    candidates = ctx.dates
    docs = ctx.address_codes
    fields = fields_mod.proof_of_address_fields(pt.text, candidates)
    if not docs and any(k not in fields for k in NEEDED) and pt.covered < 0.99:
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
    if any(k not in fields for k in ("holder_name", "postcode")):
        # A header table beside the addressee block, its rows not level with the block's: the
        # rows cut at their wide gaps give the block's lines alone.
        block = fields_mod.address_block(fields_mod.segment_lines(pt.words()))
        if "postcode" in block and fields.get("holder_name", block.get("holder_name")) == block.get("holder_name"):
            for key, value in block.items():
                fields.setdefault(key, value)
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
    if used is not None and fields.get("issue_date") == used.date.isoformat() and used.label == "le":
        # "le 04/02/2026" says nothing of what the date is (a debit's, a payment's, a letter's): a
        # person checks it is the bill's date
        page.ceilings["issue_date"] = BARE_LABEL_CONFIDENCE
    if fields.get("holder_name"):
        fields["holder_name"] = before_document_words(after_inner_title(fields["holder_name"]))
    if docs:
        _with_code(page, fields, docs[0], pt)
    page.fields = fields


#: A title that opens a name (the bare M, MR and DR left out: they may be initials). Found inside a
#: holder's name, after other words, it says that the OCR joined to the name a word printed before
#: it on the same row (a label or a neighbour column's word: "ELLE MME LE GOFF CHLOÉ").
_INNER_TITLE = re.compile(r"\s(?:MONSIEUR|MADAME|MADEMOISELLE|MLLE|MELLE|MME|MMES)\.?\s+(?=\S)", re.I)
_COUPLE_WORDS = {"M", "MR", "MME", "MMES", "MLLE", "MELLE", "MONSIEUR", "MADAME", "MADEMOISELLE", "DR", "ET", "OU", "&"}


def after_inner_title(name: str) -> str:
    """The holder's name from its title on, when other words came before the title: 'ELLE MME LE
    GOFF CHLOÉ' -> 'LE GOFF CHLOÉ'. A couple's titles ('M. ET MME DUPONT') are the name's own."""
    m = _INNER_TITLE.search(name or "")
    if not m:
        return name
    before = name[:m.start()].replace(".", " ").upper().split()
    if any(w in _COUPLE_WORDS for w in before):
        return name
    rest = name[m.end():].strip()
    return rest if len(rest.split()) >= 2 else name


#: Words of a bill's own vocabulary that are nobody's name. Found after a holder's name, they say
#: that the OCR joined to the name the label of a column printed beside it on the same row ("HÉLÈNE
#: MERCIER VOTRE CONTRAT"). Words that are also surnames (PAGE, DATE...) are left out.
DOCUMENT_WORDS = frozenset({
    "votre", "vos", "contrat", "client", "cliente", "facture", "reference", "numero", "echeance", "montant",
    "periode", "consommation", "abonnement", "prelevement", "quittance", "identifiant", "releve",
    "telephone", "courriel", "email", "espace", "compteur", "offre",
})


def before_document_words(name: str) -> str:
    """The holder's name up to the first word of a bill's vocabulary, when two words or more of
    the name come before it: 'HÉLÈNE MERCIER VOTRE CONTRAT' -> 'HÉLÈNE MERCIER'."""
    words = (name or "").split()
    for i, word in enumerate(words):
        if fold_text(word).strip(".:,;") in DOCUMENT_WORDS:
            return " ".join(words[:i]) if i >= 2 else name
    return name


def _with_code(page: PageRead, fields: dict[str, Any], doc, pt) -> None:
    ocr_fields = dict(fields)
    fields.update(fields_from_code(doc))
    from_code = [k for k in ("holder_name", "address_line", "postcode", "city", "issue_date", "two_d_doc",
                             "document_subtype")
                 if k == "two_d_doc" or (k in fields and fields.get(k) != ocr_fields.get(k))
                 or (k in fields and doc.signature_valid is True)]
    page.evidence.setdefault("fields", {}).update(
        evidence_mod.twoddoc_evidence(from_code, doc.signature_valid, page.page))
    differing = list(contradictions(doc, ocr_fields) or [])
    code_date = doc.issue_date()
    if "issue_date" in differing and any(c.date == code_date for c in find_dates(pt.text)):
        # the code's date is printed on the page: the print's reader took another of its dates (a
        # past bill's in an account history) for the issue date; the print says the same
        differing.remove("issue_date")
    # A contradiction refuses the piece only when the printed value is sure: read twice alike with
    # confidence. An OCR misreading (33000 read 22000, a past bill's date in the history taken for the
    # issue date: family-2 seed 125) is no altered print; the signed data are judged, not the print.
    sure = printed_surely(pt, page.page, ocr_fields, differing) if doc.signature_valid is not False else differing
    unsure = [n for n in differing if n not in sure]
    if doc.signature_valid is False or sure:
        what = []
        if doc.signature_valid is False:
            what.append("la signature du 2D-Doc ne se vérifie pas")
        if sure:
            named = ", ".join(PRINTED_NAMES.get(n, n) for n in sure)
            what.append(f"le 2D-Doc contredit la page imprimée ({named})")
        page.findings.append(Finding(
            "proof_of_address_signature_invalid",
            "Justificatif de domicile : " + " et ".join(what) + ".",
            page=page.page, details={"contradictions": sure, "signature_valid": doc.signature_valid},
        ))
    if unsure:
        page.findings.append(Finding(
            "proof_of_address_print_differs",
            "Justificatif de domicile : la lecture de la page imprimée diffère du 2D-Doc ("
            + ", ".join(PRINTED_NAMES.get(n, n) for n in unsure) + ") ; ce sont les données signées du "
            "2D-Doc qui sont retenues. Comparer la page au 2D-Doc en cas de doute sur la pièce.",
            page=page.page, details={"contradictions": unsure, "signature_valid": doc.signature_valid},
        ))


#: The printed values a 2D-Doc is compared with, as the French messages name them.
PRINTED_NAMES = {"holder_name": "nom", "postcode": "code postal", "issue_date": "date d'émission"}


def printed_surely(pt, page_number: int, printed: dict[str, Any], names: list[str]) -> list[str]:
    """The `names` whose printed value `pt` gives surely: traced back to its words and read a second
    time alike, with the confidence a refusal needs (`validators.key_fields.decisive`)."""
    from intake.validators.key_fields import decisive

    values = {n: printed[n] for n in names if printed.get(n) not in (None, "", [])}
    if not values:
        return []
    found = evidence_mod.text_evidence(pt, values, page_number)
    evidence_mod.confirm_by_rereading(pt, "proof_of_address", values, found, list(values))
    return [n for n in values if decisive(values, {"fields": found}, n)]


def fields_from_code(doc) -> dict[str, Any]:
    """A proof of address's fields as its 2D-Doc gives them (RULES.md: they win over the print)."""
    fields: dict[str, Any] = {}
    if doc.doc_type in TAX_NOTICE_TYPES:
        fields["document_subtype"] = "tax_notice"
    for key, value in (("holder_name", doc.holder_name()), ("address_line", doc.address_line()),
                       ("postcode", doc.postcode()), ("city", doc.city())):
        if value:
            fields[key] = value
    if doc.issue_date():
        fields["issue_date"] = doc.issue_date().isoformat()
    fields["two_d_doc"] = doc.to_contract()
    return fields


def read_code_alone(page: PageRead, codes: list, shape: tuple[int, ...]) -> None:
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
    fields: dict[str, Any] = fields_from_code(doc)
    subtype = DOCUMENT_TYPES[doc.doc_type].subtype
    if subtype:
        fields.setdefault("document_subtype", subtype)
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
