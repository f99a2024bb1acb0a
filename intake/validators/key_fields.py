"""THE table of key fields, and THE table of what each refusal rests on (issue #15, fail safe).

A piece meets a requirement by the values read from it, never by its kind alone. Its *key fields*
are the values without which it proves nothing (an e-photo sheet whose code is hidden by a thumb
proves nothing, even though it is plainly an e-photo sheet): each must be read, with confidence.
A key field that is missing or doubtful makes the piece unacceptable, with a `review` finding that
says which value could not be read and what to do.

A refusal (`blocking`) must rest on confident evidence: a value protected by an MRZ check digit or
by a verified 2D-Doc signature, or read twice, alone, the same way and with high confidence.
`RESTS_ON` says, for each blocking code, which values it rests on; a blocking finding whose values
are not all decisive becomes `review` (a person looks before the school is told to start again).

Both tables are read by the verdict (validators/verdict.py) and by the page reader, which reads a
second time the values a refusal could rest on (extractors/page.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from intake.labels import FIELD_THE
from intake.validators.dates import add_years, parse_date

#: A key field counts as read when its reader's confidence reaches this (tesseract word confidences
#: /100, the MRZ and e-photo glyph matchers' scores). Measured on generator seed 2 (a tuning seed, 80
#: dossiers, 628 key values): the lowest right values scored 0.47 and 0.48 (a rotated bill's date, a
#: JPEG-30 medical opinion's name); the values read wrong all scored higher (they are diacritics or a
#: truncation the verdict's name matching handles), so no threshold separates those.
KEY_MIN_CONFIDENCE = 0.45
#: A refusal needs a value read twice the same way with at least this confidence (or protected).
DECISIVE_CONFIDENCE = 0.75

IDENTITY = ("document_number", "surname", "given_names", "birth_date", ("expiry_date", "issue_date"))

#: kind -> key fields, as RULES.md "Key fields" lists them. An entry is a field, or a tuple of
#: alternatives (any one read is enough), an alternative being a field or a tuple of fields all needed:
#: a laminated CNI has no printed expiry (its validity runs from the issue month in its number); an
#: ASSR that prints no birth date is identified by its level and date.
KEY_FIELDS: dict[str, tuple] = {
    "identity_card": IDENTITY,
    "passport": IDENTITY,
    "residence_permit": ("document_number", "surname", "given_names", "birth_date", "expiry_date"),
    "proof_of_address": ("issue_date", "holder_name", "address_line", "postcode", "city"),
    "photo_code": ("code", "photo_date"),
    "assr": ("holder_name", ("birth_date", ("level", "issue_date"))),
    "jdc": ("holder_name",),  # the kind of certificate is the page's kind
    "medical_opinion": ("holder_name", "issue_date", "categories", "fit"),
    "driving_licence": ("holder_name", "licence_number", "categories"),
    "training_certificate": ("holder_name", "training", "issue_date"),
    "hosting_attestation": ("holder_name", "hosted_name", "issue_date"),
    "exam_certificate": ("holder_name", "issue_date"),  # recognised, never required (RULES.md)
}


def alternatives(entry) -> list[tuple[str, ...]]:
    """The ways of meeting one entry of KEY_FIELDS, each a tuple of fields all needed."""
    if isinstance(entry, str):
        return [(entry,)]
    return [(alt,) if isinstance(alt, str) else tuple(alt) for alt in entry]


#: blocking code -> the fields it rests on (by the kind of the piece it is about, "*" for any).
RESTS_ON: dict[str, dict[str, tuple[str, ...]]] = {
    # a laminated CNI's validity runs from the issue month its number gives (RULES.md)
    "identity_expired": {"*": ("expiry_date",), "identity_card": ("expiry_date", "issue_date", "document_number")},
    "residence_permit_expired": {"*": ("expiry_date",)},
    "identity_birth_date_mismatch": {"*": ("birth_date",)},
    "identity_name_mismatch": {"*": ("surname", "given_names")},
    "proof_of_address_too_old": {"*": ("issue_date",)},
    "proof_of_address_name_mismatch": {"*": ("holder_name",)},
    "photo_code_invalid": {"*": ("code",)},
    "photo_code_expired": {"*": ("photo_date",)},
    "medical_opinion_too_old": {"*": ("issue_date",)},
    "medical_opinion_unfit": {"*": ("fit",)},
    "training_certificate_mismatch": {"*": ("training",)},
}

#: Fields the page reader reads a second time, alone, when it could: what a refusal may rest on and
#: no check digit or signature protects.
REREAD: dict[str, tuple[str, ...]] = {
    "proof_of_address": ("issue_date", "holder_name"),
    "photo_code": ("photo_date",),
    "medical_opinion": ("issue_date",),
    "training_certificate": ("training",),
}

#: French names of the fields, with their article, for the messages.


def key_field_names(kind: str) -> list[str]:
    """Every field named in the kind's key fields, alternatives included."""
    return list(dict.fromkeys(n for entry in KEY_FIELDS.get(kind, ()) for way in alternatives(entry) for n in way))


def field_label(name: str) -> str:
    return FIELD_THE.get(name, name)


def evidence_of(evidence: dict | None, name: str) -> dict | None:
    fields = (evidence or {}).get("fields") or {}
    ev = fields.get(name)
    return ev if isinstance(ev, dict) else None


def _present(value: Any) -> bool:
    return value not in (None, "", [], {})


def _read_evidence(fields: dict, evidence: dict | None, name: str) -> dict | None:
    """The evidence of a value that is there (None: no value, or nothing says how it was read)."""
    if not _present(fields.get(name)):
        return None
    return evidence_of(evidence, name)


def _protected(ev: dict) -> bool:
    return ev.get("protected") in ("check_digit", "signature")


#: Two readings agreeing settle a value read with some doubt, down to this confidence (under it the
#: words are garbage that two readings may well get wrong the same way).
AGREED_MIN_CONFIDENCE = 0.2


#: Dates no document can carry later than the day it is checked: a piece is issued, a photo taken,
#: before it is uploaded. Read after the reference date, such a value is a misread whatever its
#: confidence (2076 read for 2026, 2028 for 2025 on a shaken photo), and one that makes a stale bill
#: or photo look fresh: a person reads it.
NOT_AFTER_REFERENCE = ("issue_date", "photo_date")
#: The longest validity of an identity document this pre-check meets (CNI, passport, residence
#: permit: ten years): issued at the latest on the reference date, none expires later than this
#: after it. An MRZ's check digits do not catch the same digit misread the same way in three places
#: of a date (2034-03-03 read 2054-05-05 on a blurred card, its check digits holding: family-2 seed
#: 125); a person reads such a date. (A Belgian card of a person over 75, valid thirty years, is
#: sent to a person too.)
MAX_VALIDITY_YEARS = 10


def after_reference(fields: dict, name: str, ref: date | None) -> bool:
    """The value of `name` is a date that cannot be later than `ref`, and is."""
    if ref is None or name not in NOT_AFTER_REFERENCE:
        return False
    read = parse_date(fields.get(name))
    return read is not None and read > ref


def beyond_validity(fields: dict, name: str, ref: date | None) -> bool:
    """The value of `name` is an expiry later than any document issued by `ref` can have."""
    if ref is None or name != "expiry_date":
        return False
    read = parse_date(fields.get(name))
    return read is not None and read > add_years(ref, MAX_VALIDITY_YEARS)


def impossible_date(fields: dict, name: str, ref: date | None) -> bool:
    """The value of `name` is a date no document checked on `ref` can carry: surely misread."""
    return after_reference(fields, name, ref) or beyond_validity(fields, name, ref)


def well_read(fields: dict, evidence: dict | None, name: str, ref: date | None = None) -> bool:
    """The value is there and read with confidence: protected, or its reader sure enough, or read
    twice the same way; and, given the reference date, not a date it cannot be."""
    ev = _read_evidence(fields, evidence, name)
    if ev is None or impossible_date(fields, name, ref):
        return False
    confidence = float(ev.get("confidence") or 0.0)
    return _protected(ev) or confidence >= KEY_MIN_CONFIDENCE or (
        int(ev.get("readings") or 1) >= 2 and confidence >= AGREED_MIN_CONFIDENCE)


def decisive(fields: dict, evidence: dict | None, name: str) -> bool:
    """The value may carry a refusal: protected, or read twice the same way with high confidence."""
    ev = _read_evidence(fields, evidence, name)
    return ev is not None and (_protected(ev) or (int(ev.get("readings") or 1) >= 2
                                                  and float(ev.get("confidence") or 0.0) >= DECISIVE_CONFIDENCE))


@dataclass(frozen=True)
class KeyFieldGap:
    """Key fields of one piece that are not read well: absent, or read with doubt."""

    missing: tuple[str, ...]
    doubtful: tuple[str, ...]
    #: read as dates no document checked on the reference date can carry (`impossible_date`): misread,
    #: whatever their confidence
    impossible: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.missing or self.doubtful or self.impossible)


def key_field_gaps(kind: str, fields: dict, evidence: dict | None, ref: date | None = None) -> KeyFieldGap:
    missing: list[str] = []
    doubtful: list[str] = []
    impossible: list[str] = []
    laminated = kind == "identity_card" and fields.get("mrz_format") == "fr_cni_2x36"
    for entry in KEY_FIELDS.get(kind, ()):
        ways = alternatives(entry)
        if laminated and ("expiry_date",) in ways:
            ways.append(("document_number",))  # RULES.md: the card number gives the issue month
        if any(all(well_read(fields, evidence, n, ref) for n in way) for way in ways):
            continue
        if ways == [("given_names",)] and (evidence or {}).get("mrz_names_full") and not fields.get("given_names"):
            continue  # a surname that fills the MRZ's name field leaves no room for given names
        # name what is wrong in the way that got furthest (the first one when none did)
        way = max(ways, key=lambda w: sum(_present(fields.get(n)) for n in w))
        for n in way:
            if impossible_date(fields, n, ref):
                impossible.append(n)
            elif not well_read(fields, evidence, n):
                (doubtful if _present(fields.get(n)) else missing).append(n)
    return KeyFieldGap(tuple(dict.fromkeys(missing)), tuple(dict.fromkeys(doubtful)), tuple(dict.fromkeys(impossible)))


def rests_on(code: str, kind: str) -> tuple[str, ...]:
    table = RESTS_ON.get(code)
    if not table:
        return ()
    return table.get(kind, table.get("*", ()))


def refusal_is_decisive(code: str, kind: str, fields: dict, evidence: dict | None) -> bool:
    """A blocking finding of `code` on this piece rests only on decisive values (a code with no
    entry in RESTS_ON rests on no read value: a missing piece, a corrupt file)."""
    names = [n for n in rests_on(code, kind) if _present(fields.get(n))]
    if code == "identity_expired" and kind == "identity_card":
        # the expiry printed, else the laminated card's issue month: whichever the validity used
        names = names[:1]
    if not rests_on(code, kind):
        return True
    return bool(names) and all(decisive(fields, evidence, n) for n in names)


# --- a code that one slip explains ------------------------------------------------------------------

_CODE = re.compile(r"^[A-Z0-9]{22}$")


def one_slip_from_valid_code(code: str) -> bool:
    """A read e-photo code that one wrong, extra or lost character would make valid: a reading slip
    is as likely as a wrong code, so it is no ground for a refusal."""
    code = code or ""
    if _CODE.match(code):
        return True
    bad = sum(1 for c in code if not ("A" <= c <= "Z" or "0" <= c <= "9"))
    if len(code) == 22:
        return bad <= 1
    if len(code) == 23:
        return bad <= 1
    if len(code) == 21:
        return bad == 0
    return False
