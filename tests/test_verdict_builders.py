"""Builders for the rules and verdict tests: declared data from small dicts, documents by hand.

Documents carry the fields CONTRACT.md promises, as the page reader would give them; nothing here is
read from an image, so these tests check the rules alone (no OCR involved).
"""

from __future__ import annotations

import copy
from datetime import date, timedelta

from intake.documents import Document
from intake.dossier import Declared, parse_declared
from intake.validators.dates import add_months, add_years
from intake.validators.rules import explain

R = date(2026, 11, 26)

APPLICANT = {
    "surname": "Dupont", "usage_name": None, "given_names": ["Jean", "Pierre"],
    "birth_date": "1995-04-12", "birth_place": "Lyon", "sex": "M", "nationality": "FRA",
    "address": {"line": "12 rue des Lilas", "postcode": "75011", "city": "Paris"},
}
HOST = {"surname": "Martin", "given_names": ["Claire"], "birth_date": "1970-02-03"}
REP = {"surname": "Dupont", "given_names": ["Marc"], "birth_date": "1975-06-30"}


def declared_dict(**over) -> dict:
    """A dossier.json dict; keyword arguments replace top-level keys, `applicant_*` applicant keys."""
    d = {
        "reference": "AE-TEST", "reference_date": R.isoformat(), "procedure": "inscription", "motif": "primo",
        "categories": ["B"], "training": None, "applicant": copy.deepcopy(APPLICANT),
        "situation": {"hosted": False, "under_guardianship": False, "medical_condition": False},
        "host": None, "legal_representative": None,
    }
    for key, value in over.items():
        if key.startswith("applicant_"):
            d["applicant"][key[len("applicant_"):]] = value
        elif key in ("hosted", "under_guardianship", "medical_condition"):
            d["situation"][key] = value
        else:
            d[key] = value
    return d


def declared(**over) -> Declared:
    return parse_declared(declared_dict(**over))


def person_of(decl: Declared, role: str):
    return decl.people()[role]


def identity(decl: Declared, role: str = "applicant", kind: str = "identity_card", file: str | None = None,
             **fields) -> Document:
    """A valid identity document of `role` (TD1 French card unless told otherwise)."""
    p = person_of(decl, role)
    f = {
        "document_number": "X4RTBPFW4", "surname": p.surname.upper(),
        "given_names": [g.upper() for g in p.given_names],
        "birth_date": p.birth_date.isoformat() if p.birth_date else None, "sex": "M",
        "nationality": "FRA", "expiry_date": add_years(R, 3).isoformat(), "mrz_valid": True,
        "mrz_format": "td3" if kind == "passport" else "td1",
    }
    if role == "applicant":
        f["sex"] = decl.applicant.sex
        f["nationality"] = decl.applicant.nationality
    f.update(fields)
    f = {k: v for k, v in f.items() if v is not None}
    state = f.get("nationality", "FRA") if kind != "residence_permit" else "FRA"
    return read_well(Document(file or f"{role}_{kind}.jpg", 1, kind, 0.95, f,
                              evidence={"issuing_state": state,
                                        "names_protected": f.get("mrz_format") == "fr_cni_2x36"}))


MRZ_CHECKED = ("document_number", "birth_date", "expiry_date")


def read_well(doc: Document) -> Document:
    """Evidence as a reader gives it for a clean page (CONTRACT.md, "Evidence"): MRZ values under
    their check digits (names only on the laminated French card), other values read twice with
    confidence. Values a test changes afterwards keep this evidence: these tests judge the rules."""
    cni = doc.fields.get("mrz_format") == "fr_cni_2x36"
    fields = doc.evidence.setdefault("fields", {})
    for name in doc.fields:
        if doc.kind in ("identity_card", "passport", "residence_permit"):
            protected = name in MRZ_CHECKED or (cni and name in ("surname", "given_names", "issue_date"))
            fields[name] = {"confidence": 0.95, "reader": "mrz", "protected": "check_digit" if protected else None,
                            "page": 1, "box": [10, 10, 100, 20], "readings": 1}
        else:
            fields[name] = {"confidence": 0.95, "reader": "ocr", "protected": None, "page": 1,
                            "box": [10, 10, 100, 20], "readings": 2}
    return doc


def once_with_doubt(doc: Document, name: str, confidence: float = 0.95) -> Document:
    """The value `name` read once only (no second reading agreed), with `confidence`."""
    ev = doc.evidence.setdefault("fields", {}).setdefault(name, {"reader": "ocr", "page": 1, "box": None})
    ev.update(confidence=confidence, readings=1, protected=None)
    return doc


def bill(decl: Declared, role: str = "applicant", days: int = 30, file: str | None = None, **fields) -> Document:
    p = person_of(decl, role)
    a = decl.applicant.address
    f = {"issue_date": (R - timedelta(days=days)).isoformat(),
         "holder_name": f"M {p.given_names[0].upper()} {p.surname.upper()}",
         "address_line": a.line.upper(), "postcode": a.postcode, "city": a.city.upper(),
         "document_subtype": "bill"}
    f.update(fields)
    return read_well(Document(file or f"{role}_bill.pdf", 1, "proof_of_address", 0.9,
                              {k: v for k, v in f.items() if v is not None}))


def certificate(decl: Declared, kind: str, role: str = "applicant", days: int = 60, **fields) -> Document:
    p = person_of(decl, role)
    f = {"holder_name": f"{p.surname.upper()} {' '.join(g.upper() for g in p.given_names)}",
         "birth_date": p.birth_date.isoformat() if p.birth_date else None,
         "issue_date": (R - timedelta(days=days)).isoformat()}
    if kind == "medical_opinion":
        f.pop("birth_date")
        f.update({"categories": list(decl.categories), "fit": True})
    if kind == "training_certificate":
        f["training"] = decl.training
    if kind == "driving_licence":
        f.pop("issue_date")
        f.update({"licence_number": "123456789012", "categories": ["B"]})
    f.update(fields)
    return read_well(Document(f"{role}_{kind}.pdf", 1, kind, 0.9, {k: v for k, v in f.items() if v is not None}))


def photo(days: int = 30, **fields) -> Document:
    f = {"code": "AB12CD34EF56GH78IJ90KL", "photo_date": (R - timedelta(days=days)).isoformat()}
    f.update(fields)
    return read_well(Document("photo.jpg", 1, "photo_code", 0.9, {k: v for k, v in f.items() if v is not None}))


def hosting(decl: Declared) -> Document:
    h = person_of(decl, "host")
    return read_well(Document("hebergement.pdf", 1, "hosting_attestation", 0.9,
                              {"holder_name": f"{h.surname.upper()} {h.given_names[0].upper()}",
                               "hosted_name": f"{decl.applicant.surname.upper()} "
                                              f"{decl.applicant.given_names[0].upper()}",
                               "birth_date": h.birth_date.isoformat(),
                               "issue_date": (R - timedelta(days=10)).isoformat()}))


def pieces_for(decl: Declared, requirement: str) -> list[Document]:
    """Good pieces meeting one requirement of the table."""
    if requirement == "identity":
        return [identity(decl)]
    if requirement == "proof_of_address":
        return [bill(decl)]
    if requirement == "photo_code":
        return [photo()]
    if requirement == "residence_permit":
        return [identity(decl, kind="residence_permit", document_number="AB1234567", mrz_format="td1")]
    if requirement in ("jdc", "assr", "medical_opinion", "driving_licence", "training_certificate"):
        return [certificate(decl, requirement)]
    if requirement == "legal_representative_identity":
        return [identity(decl, "legal_representative")]
    if requirement == "hosting_attestation":
        return [hosting(decl)]
    if requirement == "host_identity":
        return [identity(decl, "host", kind="passport")]
    if requirement == "host_proof_of_address":
        return [bill(decl, "host")]
    raise ValueError(requirement)


def complete_pieces(decl: Declared) -> dict[str, list[Document]]:
    """One good piece set per needed requirement, keyed by requirement."""
    people = decl.people()
    return {s.requirement: pieces_for(decl, s.requirement) for s in explain(decl, R)
            if s.needed and (s.holder is None or s.holder in people)
            and not (s.requirement == "hosting_attestation" and "host" not in people)}


def flat(pieces: dict[str, list[Document]], without: str | None = None) -> list[Document]:
    return [d for name, docs in pieces.items() if name != without for d in docs]


def codes(verdict) -> dict[str, str]:
    return {f.code: f.severity for f in verdict.findings}


__all__ = ["R", "add_months", "add_years", "bill", "certificate", "codes", "complete_pieces", "declared",
           "declared_dict", "flat", "hosting", "identity", "once_with_doubt", "photo", "pieces_for", "read_well"]
