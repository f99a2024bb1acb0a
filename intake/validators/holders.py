"""Whose document is it? Each document is matched with the declared people (RULES.md, Matching people).

Identity documents are compared field by field (surname, given names, birth date, with the MRZ
truncation rules); bills and certificates by their free-form holder name. A document goes to the
person it matches best, birth date first; when two people match equally it is `ambiguous`, which
the verdict turns into a review finding: never a silent guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from intake.documents import IDENTITY_KINDS, Document
from intake.dossier import Declared, Person
from intake.validators.dates import date_text
from intake.validators.names import MATCH, NEAR, NONE, compare_names, match_holder_name

EQUAL, UNKNOWN, DIFFERS = "equal", "unknown", "differs"
_RANK = {MATCH: 2, NEAR: 1, NONE: 0, EQUAL: 2, UNKNOWN: 1, DIFFERS: 0}

#: Kinds with a free-form `holder_name` field.
NAMED_KINDS = ("proof_of_address", "hosting_attestation", "assr", "jdc", "medical_opinion",
               "driving_licence", "training_certificate", "exam_certificate")


@dataclass(frozen=True)
class PersonMatch:
    """How one document relates to one declared person."""

    role: str
    names: str           # MATCH, NEAR or NONE
    birth: str           # EQUAL, UNKNOWN (not read or not declared) or DIFFERS
    surname: str = NONE  # the surname part alone (identity documents), for partial matches
    given: str = NONE
    address_surname: bool = False  # proof of address: the surname is in the holder name

    @property
    def candidate(self) -> bool:
        """Could be this person's: names match or nearly, birth date not contradicting."""
        return self.names != NONE and self.birth != DIFFERS

    @property
    def rank(self) -> tuple[int, int]:
        return (_RANK[self.birth], _RANK[self.names])

    @property
    def in_common(self) -> int:
        """How much is shared, for choosing the closest of several unmatched documents."""
        return (self.birth == EQUAL) * 2 + (self.surname != NONE) + (self.given != NONE)


def birth_relation(read: object, person: Person) -> str:
    """EQUAL, UNKNOWN or DIFFERS, comparing the dates as written (placeholders '1990-00-00' too)."""
    a, b = date_text(read), date_text(person.birth_date)
    if not a or not b:
        return UNKNOWN
    return EQUAL if a == b else DIFFERS


def match_person(doc: Document, role: str, person: Person) -> PersonMatch:
    f = doc.fields
    birth = birth_relation(f.get("birth_date"), person)
    if doc.kind in IDENTITY_KINDS:
        cmp = compare_names(f.get("surname"), f.get("given_names"), person, f.get("mrz_format"))
        if cmp.level != MATCH:
            # An MRZ letter the reader could not tell from another (O or D), in names no check
            # digit covers: the reading that spells the declared name is the one printed.
            for other in doc.evidence.get("mrz_name_readings") or []:
                alt = compare_names(other.get("surname"), other.get("given_names"), person, f.get("mrz_format"))
                if alt.level == MATCH:
                    cmp = alt
                    break
        return PersonMatch(role, cmp.level, birth, cmp.surname, cmp.given)
    if doc.kind in NAMED_KINDS:
        hm = match_holder_name(f.get("holder_name"), person)
        return PersonMatch(role, hm.level, birth, MATCH if hm.surname else NONE, MATCH if hm.given else NONE,
                           address_surname=hm.surname)
    return PersonMatch(role, NONE, UNKNOWN)


def preferred_roles(doc: Document, declared: Declared) -> tuple[str, ...]:
    """Tie-break order: a shared surname on a bill goes to the host when the applicant is hosted."""
    if doc.kind == "proof_of_address" and declared.situation.hosted:
        return ("host", "applicant", "legal_representative")
    return ("applicant", "legal_representative", "host")


@dataclass
class Assignment:
    holders: list[str]
    matches: list[dict[str, PersonMatch]]
    ambiguous: dict[int, list[str]] = field(default_factory=dict)


def assign_holders(declared: Declared, documents: list[Document]) -> Assignment:
    """The holder role of each document (`unknown` when it matches nobody), without changing them."""
    people = declared.people()
    holders, matches, ambiguous = [], [], {}
    for i, doc in enumerate(documents):
        per_role = {role: match_person(doc, role, p) for role, p in people.items()}
        matches.append(per_role)
        if doc.kind == "photo_code":
            # No name on an e-photo sheet: the dossier's photo is the applicant's by what it is for.
            holders.append("applicant")
            continue
        cands = [m for m in per_role.values() if m.candidate]
        if not cands:
            holders.append("unknown")
            continue
        best_rank = max(m.rank for m in cands)
        best = [m.role for m in cands if m.rank == best_rank]
        order = preferred_roles(doc, declared)
        best.sort(key=order.index)
        holders.append(best[0])
        if len(best) > 1 and doc.kind != "proof_of_address":
            # Bills often carry a family name shared by several people: the tie-break is the rule.
            ambiguous[i] = best
    return Assignment(holders, matches, ambiguous)
