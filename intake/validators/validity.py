"""Dates and validity periods (RULES.md, Validity), counted from the reference date R only.

No function here reads the clock: every one takes the reference date. Durations and tolerances
come from `rules.DECIDED`, so a rule change is one edit there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from intake.dossier import is_placeholder_date
from intake.validators.dates import add_months, add_years, age_at, date_text, parse_date  # noqa: F401
from intake.validators.rules import DECIDED

def within_months(issued: date, ref: date, months: int) -> bool:
    """Issued within `months` calendar months before `ref`, that day included."""
    return issued >= add_months(ref, -months)


def unusual_birth_date(value: Any, ref: date) -> str | None:
    """Why a birth date cannot be right (day or month 00, in the future, age over the limit), else None."""
    if value is None:
        return None
    if isinstance(value, date) and is_placeholder_date(value):
        return "zero"
    text = date_text(value)
    if isinstance(value, str):
        m = re.match(r"^(\d{4})-(\d{2})-(\d{2})$", text or "")
        if m and (m.group(2) == "00" or m.group(3) == "00"):
            return "zero"
    d = parse_date(value)
    if d is None:
        return None
    if d > ref:
        return "future"
    if age_at(d, ref) > DECIDED.max_age:
        return "too_old"
    return None


# --- identity documents -------------------------------------------------------------------------

def is_french_document(kind: str, fields: dict, evidence: dict) -> bool:
    """A French CNI or passport: FRA issuing state, or (state unknown) French nationality on it."""
    if kind not in ("identity_card", "passport"):
        return False
    state = (evidence or {}).get("issuing_state")
    if state:
        return str(state).upper() == "FRA"
    if fields.get("mrz_format") == "fr_cni_2x36":
        return True
    return str(fields.get("nationality") or "").upper() == "FRA"


_CARD_NUMBER = re.compile(r"^(\d{2})(\d{2})[0-9A-Z]{8}$")


def is_laminated_cni(kind: str, fields: dict, evidence: dict | None = None) -> bool:
    """The French laminated CNI (1988-2021): MRZ 2x36 with no expiry, 12-character card number."""
    if kind != "identity_card":
        return False
    if fields.get("mrz_format") == "fr_cni_2x36":
        return True
    if fields.get("mrz_format"):
        return False
    number = str(fields.get("document_number") or "").replace(" ", "").upper()
    return (
        not fields.get("expiry_date")
        and is_french_document(kind, fields, evidence or {})
        and bool(_CARD_NUMBER.match(number))
    )


def laminated_cni_issue(card_number: Any) -> date | None:
    """Issue month of a laminated CNI from its number (YYMM...), day taken as the 1st."""
    m = _CARD_NUMBER.match(str(card_number or "").replace(" ", "").upper())
    if not m:
        return None
    yy, mm = int(m.group(1)), int(m.group(2))
    if not 1 <= mm <= 12:
        return None
    year = 1900 + yy if yy >= DECIDED.laminated_cni_first_year % 100 else 2000 + yy
    return date(year, mm, 1)


def laminated_cni_years(issued: date, birth: date | None) -> int:
    """15 years for a card issued 2004-01-02..2013-12-31 to an adult (décret 2013-1188), else 10.

    An unknown birth date gives the shorter period: the cautious reading.
    """
    d = DECIDED
    adult = birth is not None and age_at(birth, issued) >= d.laminated_cni_adult_age
    if d.laminated_cni_long_from <= issued <= d.laminated_cni_long_to and adult:
        return d.laminated_cni_long_years
    return d.laminated_cni_years


@dataclass(frozen=True)
class IdentityValidity:
    """Whether an identity document is valid on R, and the dates that say so.

    state: `valid` (expiry on or after R), `tolerated` (French document within the tolerance),
    `expired`, or `unknown` (no expiry could be read or computed).
    """

    state: str
    expiry: date | None = None      # end of the document's own validity
    limit: date | None = None       # end of the tolerance: accepted strictly before this day
    basis: str = "printed"          # "printed" or "card_number" (laminated CNI)
    issued: date | None = None
    years: int | None = None        # validity period of a laminated CNI
    french: bool = False

    @property
    def ok(self) -> bool:
        return self.state in ("valid", "tolerated")


def identity_validity(kind: str, fields: dict, evidence: dict | None, ref: date,
                      birth_fallback: date | None = None) -> IdentityValidity:
    """Validity of an identity card, passport or residence permit on `ref` (RULES.md).

    French CNI and passports get the 5-year tolerance ("expired less than 5 years before R": the
    fifth anniversary of the expiry is no longer accepted, **decided**); the
    laminated CNI's expiry is computed from its card number; residence permits and foreign
    documents must be valid on R. Nothing read and nothing computable gives `unknown`.
    """
    evidence = evidence or {}
    french = kind != "residence_permit" and is_french_document(kind, fields, evidence)
    expiry = parse_date(fields.get("expiry_date"))
    basis, issued, years = "printed", None, None
    if is_laminated_cni(kind, fields, evidence):
        issued = laminated_cni_issue(fields.get("document_number"))
        if issued is not None:
            birth = parse_date(fields.get("birth_date")) or birth_fallback
            if birth is not None and is_placeholder_date(birth):
                birth = None
            years = laminated_cni_years(issued, birth)
            expiry, basis = add_years(issued, years), "card_number"
    if expiry is None:
        return IdentityValidity("unknown", french=french, issued=issued)
    if expiry >= ref:
        return IdentityValidity("valid", expiry, expiry, basis, issued, years, french)
    if french:
        limit = add_years(expiry, DECIDED.french_identity_tolerance_years)
        if limit > ref:
            return IdentityValidity("tolerated", expiry, limit, basis, issued, years, french)
        return IdentityValidity("expired", expiry, limit, basis, issued, years, french)
    return IdentityValidity("expired", expiry, expiry, basis, issued, years, french)


# --- other pieces -------------------------------------------------------------------------------

def proof_of_address_months(subtype: str | None) -> int:
    """6 months for bills and rent receipts, 12 for tax notices (**decided**)."""
    if subtype in ("tax_notice", "housing_tax"):
        return DECIDED.tax_notice_months
    return DECIDED.proof_of_address_months


def proof_of_address_fresh(issued: date, ref: date, subtype: str | None) -> bool:
    return within_months(issued, ref, proof_of_address_months(subtype))


def photo_fresh(taken: date, ref: date) -> bool:
    return within_months(taken, ref, DECIDED.photo_months)


def medical_opinion_fresh(issued: date, ref: date) -> bool:
    return within_months(issued, ref, 12 * DECIDED.medical_opinion_years)
