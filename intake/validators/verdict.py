"""The verdict of a dossier (CONTRACT.md §2): which requirements are met, by which document, and why not.

`judge()` assigns a holder to every document, checks each needed requirement of `rules.REQUIREMENTS`
against the documents that could meet it, and turns every failure into one clear finding:

- a requirement with no candidate piece at all gives `missing_piece`;
- a requirement whose candidate pieces are all unacceptable (expired, wrong name, unreadable date...)
  gives those pieces' findings, and no redundant `missing_piece`;
- a problem on a piece that is not needed (an old bill beside a recent one) is kept as `info`.

The status is `intake.documents.status_of` over the findings, with one guard: a needed requirement
that is not met always leaves a blocking or review finding, so `complete` is never said by default.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from intake.documents import FINDING_SEVERITY, IDENTITY_KINDS, Document, Finding, status_of
from intake.icao import state_code
from intake.dossier import Declared, Person
from intake.twoddoc_types import TAX_NOTICE_TYPES
from intake.validators import messages as msg
from intake.validators.key_fields import (KEY_FIELDS, alternatives, key_field_gaps, refusal_is_decisive, rests_on,
                                         well_read)
from intake.validators.holders import DIFFERS, UNKNOWN, Assignment, PersonMatch, assign_holders
from intake.validators.names import (
    MATCH,
    NEAR,
    NONE,
    address_holder_matches,
    address_holder_near,
    holder_tokens,
    match_holder_name,
)
from intake.validators.rules import (
    DECIDED,
    REQUIREMENTS,
    Requirement,
    RequirementStatus,
    explain,
    reference_of,
)
from intake.validators.validity import (
    identity_validity,
    medical_opinion_fresh,
    parse_date,
    photo_fresh,
    proof_of_address_fresh,
    proof_of_address_months,
    unusual_birth_date,
)

log = logging.getLogger(__name__)

ACTIONABLE = ("blocking", "review")
#: Upstream findings that make the document they are about unacceptable (by kind).
_UPSTREAM_BY_KIND = {
    "mrz_invalid": IDENTITY_KINDS,
    "photo_code_invalid": ("photo_code",),
    "proof_of_address_signature_invalid": ("proof_of_address",),
    "unreadable_piece": None,  # any kind
}
#: Codes added by this module beyond CONTRACT.md, with their severity.
ADDED_CODES = {
    "identity_expiry_unknown": "review",
    "medical_opinion_date_missing": "review",
    "medical_opinion_unfit": "blocking",
    "training_certificate_mismatch": "blocking",
    "key_field_unread": "review",
}
#: Findings that already say a key value is absent: the key-field finding does not say it again.
_SAYS_ABSENT = {
    "proof_of_address_date_missing": ("issue_date",),
    "proof_of_address_name_mismatch": ("holder_name",),
    "identity_birth_date_mismatch": ("birth_date",),
    "identity_name_mismatch": ("surname",),
    "identity_expiry_unknown": ("expiry_date", "issue_date"),
    "medical_opinion_date_missing": ("issue_date",),
    "training_certificate_mismatch": ("training",),
}
#: Upstream findings that already send the whole piece to a person (nothing read can be trusted).
_PIECE_IN_DOUBT = ("mrz_invalid", "unreadable_piece")
#: Findings about whose document it is: kept as they are even beside a good piece.
NEVER_DOWNGRADED = frozenset({"holder_mismatch", "birth_date_unusual"})
#: Certificates: a name on them that is not the applicant's is `holder_mismatch` (CONTRACT.md).
CERTIFICATE_KINDS = ("assr", "jdc", "medical_opinion", "driving_licence", "training_certificate",
                     "exam_certificate")


@dataclass
class Verdict:
    status: str                  # complete | incomplete | needs_review (intake.documents.status_of)
    documents: list[Document]    # same objects and order as given, with `holder` set
    findings: list[Finding]      # file-level findings given, then the dossier-level ones, stable order
    requirements: list[RequirementStatus]

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "pieces": [d.to_json() for d in self.documents],
            "findings": [f.to_json() for f in self.findings],
            "requirements": [r.to_json() for r in self.requirements],
        }


def _finding(code: str, message: str, doc: Document | None = None, severity: str | None = None,
             requirement: str | None = None) -> Finding:
    """A finding about `doc`. A refusal resting on a value not read decisively (no check digit, no
    signature, not read twice the same way with confidence) is sent to a person instead (issue #15:
    a reading slip must never refuse a dossier)."""
    sev = severity or FINDING_SEVERITY.get(code) or ADDED_CODES[code]
    details: dict[str, Any] = {}
    if sev == "blocking" and doc is not None:
        fields = address_fields(doc) if doc.kind == "proof_of_address" else doc.fields
        if not refusal_is_decisive(code, doc.kind, fields, doc.evidence):
            sev = "review"
            names = [n for n in rests_on(code, doc.kind) if fields.get(n) not in (None, "", [])] or \
                list(rests_on(code, doc.kind))
            message = message.rstrip() + msg.doubtful_refusal(names)
            details["doubtful"] = names
    return Finding(code, message, severity=sev, requirement=requirement,
                   file=doc.file if doc else None, page=doc.page if doc else None, details=details)


# --- fields seen through the 2D-Doc ---------------------------------------------------------------

def address_fields(doc: Document) -> dict[str, Any]:
    """A proof of address's fields, the 2D-Doc's data winning over the OCR text (RULES.md) unless its
    signature was found bad (then it proves nothing and the printed page is what is judged)."""
    out = dict(doc.fields)
    tdd = out.get("two_d_doc")
    if isinstance(tdd, dict) and tdd.get("signature_valid") is not False:
        for key, value in (tdd.get("fields") or {}).items():
            if value not in (None, "", []):
                out[key] = value
        if tdd.get("type") in TAX_NOTICE_TYPES and not out.get("document_subtype"):
            out["document_subtype"] = "tax_notice"
    return out


def _declared_name(p: Person) -> str:
    return msg.person_name(p.surname + (f" ({p.usage_name})" if p.usage_name else ""), list(p.given_names))


def _names_protected(doc: Document) -> bool:
    """A check digit covers the names: the French laminated CNI with a valid MRZ (evidence first)."""
    ev = doc.evidence or {}
    if "names_protected" in ev:
        return bool(ev["names_protected"])
    return doc.fields.get("mrz_format") == "fr_cni_2x36" and doc.fields.get("mrz_valid") is True


# --- the judge ------------------------------------------------------------------------------------

@dataclass
class _Ctx:
    declared: Declared
    ref: date
    documents: list[Document]
    assignment: Assignment
    upstream: dict[int, list[Finding]]
    needed: dict[str, bool] = field(default_factory=dict)             # requirement -> needed
    forced: dict[int, str] = field(default_factory=dict)              # doc index -> role compared by default
    problems: dict[tuple[int, str], list[Finding]] = field(default_factory=dict)  # (doc, requirement)


def _upstream_by_doc(documents: list[Document], findings: list[Finding]) -> dict[int, list[Finding]]:
    out: dict[int, list[Finding]] = {}
    for i, doc in enumerate(documents):
        for f in findings:
            if f.severity not in ACTIONABLE or f.code not in _UPSTREAM_BY_KIND or f.file != doc.file:
                continue
            kinds = _UPSTREAM_BY_KIND[f.code]
            if kinds is not None and doc.kind not in kinds:
                continue
            if f.page is not None and f.page not in doc.pages:
                continue
            out.setdefault(i, []).append(f)
    return out


def _force_identity_comparisons(ctx: _Ctx, needed: dict[str, bool]) -> None:
    """A person with no identity document of theirs is compared with the unmatched one (RULES.md:
    that is how a typo in the declared name is caught): closest first, or the only one left."""
    people = ctx.declared.people()
    holders = ctx.assignment.holders
    for req in REQUIREMENTS:
        if req.match != "holder" or not needed.get(req.name) or req.holder not in people:
            continue
        role = req.holder
        if any(holders[i] == role and d.kind in req.kinds for i, d in enumerate(ctx.documents)):
            continue
        free = [i for i, d in enumerate(ctx.documents)
                if d.kind in req.kinds and holders[i] == "unknown" and i not in ctx.forced]
        if not free:
            continue
        scored = sorted(free, key=lambda i: -ctx.assignment.matches[i][role].in_common)
        best = ctx.assignment.matches[scored[0]][role].in_common
        top = [i for i in scored if ctx.assignment.matches[i][role].in_common == best]
        if len(free) == 1 or (best > 0 and len(top) == 1):
            i = scored[0]
            ctx.forced[i] = role
            if best > 0:
                holders[i] = role


def _name_mismatch_severity(doc: Document, m: PersonMatch, person: Person) -> str:
    """Blocking when a check digit vouches for the names read, else review (CONTRACT.md: the
    contract's promise; a plainly different person is also caught by the birth date, which the
    MRZ check digits do protect). Names one letter apart are a review even then: the MRZ reader lets
    the check digits choose among a letter's candidates, so a slip can come out "valid" (BEPARD read
    for BÉRARD on a phone photo, generator seed 44)."""
    return "blocking" if _names_protected(doc) and m.names != NEAR else "review"


def _identity_problems(ctx: _Ctx, i: int, role: str, req: Requirement) -> list[Finding]:
    doc = ctx.documents[i]
    f = doc.fields
    person = ctx.declared.people()[role]
    m: PersonMatch = ctx.assignment.matches[i][role]
    out: list[Finding] = []
    if i in ctx.assignment.ambiguous:
        out.append(_finding("holder_mismatch", msg.holder_ambiguous(doc.kind, ctx.assignment.ambiguous[i]), doc))
    if m.names != MATCH:
        protected = _names_protected(doc)
        read = msg.person_name(f.get("surname"), f.get("given_names"))
        out.append(_finding(
            "identity_name_mismatch",
            msg.identity_name_mismatch(doc.kind, read, _declared_name(person), role, protected, m.names == NEAR),
            doc, severity=_name_mismatch_severity(doc, m, person)))
    if m.birth == DIFFERS:
        out.append(_finding("identity_birth_date_mismatch", msg.identity_birth_date_mismatch(
            doc.kind, f.get("birth_date"), person.birth_date, role), doc))
    elif m.birth == UNKNOWN and person.birth_date is not None and not f.get("birth_date"):
        out.append(_finding("identity_birth_date_mismatch", msg.identity_birth_date_unread(doc.kind), doc,
                            severity="review"))
    reason = unusual_birth_date(f.get("birth_date"), ctx.ref)
    if reason:
        out.append(_finding("birth_date_unusual", msg.birth_date_unusual_read(doc.kind, f.get("birth_date"), reason),
                            doc))
    if role == "applicant":
        read_sex, decl_sex = str(f.get("sex") or "").upper(), ctx.declared.applicant.sex
        if read_sex in ("M", "F") and decl_sex in ("M", "F") and read_sex != decl_sex:
            out.append(_finding("identity_sex_mismatch", msg.identity_sex_mismatch(doc.kind, read_sex, decl_sex), doc))
        read_state, decl_state = state_code(f.get("nationality")), state_code(ctx.declared.applicant.nationality)
        if read_state and decl_state and read_state != decl_state and well_read(f, doc.evidence, "nationality"):
            # the declared nationality decides which pieces are needed (a residence permit outside
            # the EU, a JDC for the French): a piece of another one is a doubt on the requirements
            out.append(_finding("identity_nationality_mismatch",
                                msg.identity_nationality_mismatch(doc.kind, read_state, decl_state), doc))
    v = identity_validity(doc.kind, f, doc.evidence, ctx.ref, birth_fallback=person.birth_date)
    if v.state == "unknown":
        if not any(u.code == "mrz_invalid" for u in ctx.upstream.get(i, [])):
            out.append(_finding("identity_expiry_unknown", msg.identity_expiry_unknown(doc.kind), doc))
    elif not v.ok:
        if doc.kind == "residence_permit":
            out.append(_finding("residence_permit_expired", msg.residence_permit_expired(v.expiry), doc))
        else:
            out.append(_finding("identity_expired", msg.identity_expired(doc.kind, v, role), doc))
    return out


def _address_problems(ctx: _Ctx, i: int, role: str, req: Requirement) -> list[Finding]:
    doc = ctx.documents[i]
    f = address_fields(doc)
    person = ctx.declared.people()[role]
    out: list[Finding] = []
    holder_name = f.get("holder_name")
    if not holder_tokens(holder_name):
        out.append(_finding("proof_of_address_name_mismatch",
                            msg.proof_of_address_name_mismatch(None, role, _declared_name(person)),
                            doc, severity="review"))
    elif not address_holder_matches(holder_name, person):
        if address_holder_near(holder_name, person):  # one letter off: an OCR slip as likely as not
            out.append(_finding("proof_of_address_name_mismatch",
                                msg.proof_of_address_name_near(holder_name, role, _declared_name(person)),
                                doc, severity="review"))
        else:
            # A refusal needs a person's name read (a surname and more), not one word that may be a
            # label the layout put where the name was expected ("BAILLEUR", "LOCATAIRE").
            named = len(holder_tokens(holder_name)) >= 2
            out.append(_finding("proof_of_address_name_mismatch",
                                msg.proof_of_address_name_mismatch(holder_name, role, _declared_name(person)), doc,
                                severity=None if named else "review"))
    elif match_holder_name(holder_name, person).level != MATCH and not any(
            match_holder_name(holder_name, p).level == MATCH for r, p in ctx.declared.people().items() if r != role):
        # Same surname, another first name, and no declared person of that name: a relative's bill
        # is allowed by the surname rule, but it may as well be a namesake's. A person decides.
        out.append(_finding("proof_of_address_name_mismatch",
                            msg.proof_of_address_relative(holder_name, role, _declared_name(person)),
                            doc, severity="review"))
    subtype = f.get("document_subtype")
    months = proof_of_address_months(subtype)
    issued = parse_date(f.get("issue_date"))
    if issued is None:
        out.append(_finding("proof_of_address_date_missing", msg.proof_of_address_date_missing(months), doc))
    elif not proof_of_address_fresh(issued, ctx.ref, subtype):
        out.append(_finding("proof_of_address_too_old",
                            msg.proof_of_address_too_old(issued, months, months != DECIDED.proof_of_address_months), doc))
    mismatch = _address_mismatch(f, ctx.declared)
    if mismatch:
        out.append(_finding("proof_of_address_address_mismatch", msg.proof_of_address_address_mismatch(*mismatch), doc))
    return out


_STREET_WORDS = {"RUE", "AVENUE", "AV", "AVE", "BD", "BOULEVARD", "BLVD", "CHEMIN", "CHE", "CH", "IMPASSE", "IMP",
                 "ALLEE", "ALL", "PLACE", "PL", "ROUTE", "RTE", "QUAI", "COURS", "CRS", "SQUARE", "SQ", "RESIDENCE",
                 "RES", "LIEU", "DIT", "LD", "BIS", "TER", "DE", "DU", "DES", "LA", "LE", "LES", "L", "D", "ET",
                 "APPT", "APT", "BAT", "ETAGE", "ESC", "CEDEX", "FAUBOURG", "FG", "PASSAGE", "PAS", "HAMEAU", "HAM"}


def _address_words(text: str | None) -> set[str]:
    return {t for t in holder_tokens(text) if t not in _STREET_WORDS and not t.isdigit() and len(t) >= 3}


def _address_mismatch(f: dict[str, Any], declared: Declared) -> tuple[str, str] | None:
    """(read, declared) when the address on the bill is clearly another one: a different postcode,
    or a street line with not one significant word in common. Absent data is no mismatch."""
    a = declared.applicant.address
    read_pc = re.sub(r"\s", "", str(f.get("postcode") or ""))
    decl_pc = re.sub(r"\s", "", a.postcode or "")
    differs = bool(read_pc and decl_pc and read_pc != decl_pc)
    rw, dw = _address_words(f.get("address_line")), _address_words(a.line)
    if rw and dw and not (rw & dw):
        differs = True
    if not differs:
        return None
    read = ", ".join(x for x in (f.get("address_line"), " ".join(x for x in (f.get("postcode"), f.get("city")) if x)) if x)
    decl = ", ".join(x for x in (a.line, " ".join(x for x in (a.postcode, a.city) if x)) if x)
    return read, decl


def _holder_check(ctx: _Ctx, i: int) -> list[Finding]:
    """A certificate in someone else's name (or birth date), and an impossible birth date on it."""
    doc = ctx.documents[i]
    f = doc.fields
    m = ctx.assignment.matches[i]["applicant"]
    out = []
    named = bool(holder_tokens(f.get("holder_name")))
    if (named and m.names != MATCH) or m.birth == DIFFERS:
        out.append(_finding("holder_mismatch", msg.holder_mismatch(
            doc.kind, f.get("holder_name"), f.get("birth_date") if m.birth == DIFFERS else None), doc))
    reason = unusual_birth_date(f.get("birth_date"), ctx.ref)
    if reason:
        out.append(_finding("birth_date_unusual", msg.birth_date_unusual_read(doc.kind, f.get("birth_date"), reason),
                            doc))
    return out


def _certificate_problems(ctx: _Ctx, i: int, req: Requirement) -> list[Finding]:
    doc = ctx.documents[i]
    f = doc.fields
    m = ctx.assignment.matches[i]["applicant"]
    out: list[Finding] = []
    if i in ctx.assignment.ambiguous:
        out.append(_finding("holder_mismatch", msg.holder_ambiguous(doc.kind, ctx.assignment.ambiguous[i]), doc))
    out += _holder_check(ctx, i)
    if doc.kind == "medical_opinion":
        issued = parse_date(f.get("issue_date"))
        if issued is None:
            out.append(_finding("medical_opinion_date_missing", msg.medical_opinion_date_missing(), doc))
        elif not medical_opinion_fresh(issued, ctx.ref):
            out.append(_finding("medical_opinion_too_old", msg.medical_opinion_too_old(issued), doc))
        if f.get("fit") is False:
            out.append(_finding("medical_opinion_unfit", msg.medical_opinion_unfit(), doc))
    if doc.kind == "training_certificate":
        read = f.get("training")
        if read != ctx.declared.training:
            out.append(_finding("training_certificate_mismatch", msg.training_mismatch(read, ctx.declared.training),
                                doc, severity="blocking" if read else "review"))
    return out


def _photo_problems(ctx: _Ctx, i: int) -> list[Finding]:
    doc = ctx.documents[i]
    taken = parse_date(doc.fields.get("photo_date"))
    if taken is not None and not photo_fresh(taken, ctx.ref):
        return [_finding("photo_code_expired", msg.photo_code_expired(taken), doc)]
    return []


def _candidates(ctx: _Ctx, req: Requirement) -> list[int]:
    """Documents that could meet `req`: its kinds, and the right person (or nobody else)."""
    holders = ctx.assignment.holders
    out = []
    for i, doc in enumerate(ctx.documents):
        if doc.kind not in req.kinds:
            continue
        if req.match == "holder":
            if holders[i] == req.holder or ctx.forced.get(i) == req.holder:
                out.append(i)
        elif req.match == "address":
            if _address_candidate(ctx, i, req.holder):
                out.append(i)
        elif req.match == "certificate":
            if holders[i] in ("applicant", "unknown") or i in ctx.assignment.ambiguous:
                out.append(i)
        else:
            out.append(i)
    return out


def _address_candidate(ctx: _Ctx, i: int, role: str) -> bool:
    """A bill whose holder name contains the person's surname (RULES.md), unless it plainly names
    another declared person; a bill in nobody's name is a candidate too, reported as in the wrong name."""
    people = ctx.declared.people()
    name = address_fields(ctx.documents[i]).get("holder_name")
    if not any(address_holder_matches(name, p) for p in people.values()):
        return True
    if not address_holder_matches(name, people[role]):
        return False
    # A bill that plainly names another declared person is theirs (the applicant's own bill is not
    # the host's); a minor's legal representative's bill is the applicant's home, though.
    rivals = {r for r in people if r != role and not (role == "applicant" and r == "legal_representative")}
    holder = ctx.assignment.holders[i]
    if holder in rivals:
        mine = ctx.assignment.matches[i][role]
        theirs = ctx.assignment.matches[i][holder]
        return mine.rank >= theirs.rank
    return True


def _problems(ctx: _Ctx, i: int, req: Requirement) -> list[Finding]:
    key = (i, req.name)
    if key not in ctx.problems:
        doc = ctx.documents[i]
        if req.match == "holder":
            found = _identity_problems(ctx, i, req.holder, req)
        elif req.match == "address":
            found = _address_problems(ctx, i, req.holder, req)
        elif req.match == "certificate":
            found = _certificate_problems(ctx, i, req)
        elif doc.kind == "photo_code":
            found = _photo_problems(ctx, i)
        else:
            found = []
        found += _key_field_problems(ctx, i, found)
        ctx.problems[key] = found
    return ctx.problems[key]


def _key_field_problems(ctx: _Ctx, i: int, found: list[Finding]) -> list[Finding]:
    """A piece meets nothing by its kind alone: its key values must be read, with confidence."""
    doc = ctx.documents[i]
    if any(u.code in _PIECE_IN_DOUBT for u in ctx.upstream.get(i, [])):
        return []
    fields = address_fields(doc) if doc.kind == "proof_of_address" else doc.fields
    gaps = key_field_gaps(doc.kind, fields, doc.evidence, ctx.ref)
    if not gaps:
        return []
    if not any(fields.get(n) not in (None, "", []) for entry in KEY_FIELDS.get(doc.kind, ())
               for way in alternatives(entry) for n in way):
        # nothing at all was read: one finding says so, instead of one per value not read
        found[:] = [f for f in found if f.code not in _SAYS_ABSENT or f.severity == "blocking"]
    said = {n for f in found for n in _SAYS_ABSENT.get(f.code, ())}
    said |= {n for f in found for n in f.details.get("doubtful", ())}
    missing = [n for n in gaps.missing if n not in said]
    doubtful = [n for n in gaps.doubtful if n not in said]
    impossible = [(n, fields[n]) for n in gaps.impossible]
    if not missing and not doubtful and not impossible:
        return []
    return [_finding("key_field_unread", msg.key_fields_unread(doc.kind, missing, doubtful, impossible), doc)]


def _acceptable(ctx: _Ctx, i: int, req: Requirement) -> bool:
    bad = [f for f in _problems(ctx, i, req) + ctx.upstream.get(i, []) if f.severity in ACTIONABLE]
    return not bad


def _missing_hint(ctx: _Ctx, req: Requirement) -> str | None:
    holders = ctx.assignment.holders
    others = [(d.kind, holders[i]) for i, d in enumerate(ctx.documents)
              if d.kind in req.kinds and holders[i] not in ("unknown", req.holder)]
    if others and req.holder:
        return msg.hint_other_holder([k for k, _ in others], [r for _, r in others])
    unknown = [d for i, d in enumerate(ctx.documents) if d.kind in req.kinds and holders[i] == "unknown"]
    if unknown and req.match == "holder":
        return ("les pièces d'identité fournies ne correspondent à aucune personne déclarée "
                "(vérifier les noms et dates de naissance saisis)")
    return None


#: An unreadable page for this reason holds no document (quality.py's message for a blank page).
_BLANK = "page blanche"


def _unrecognised_pages(findings: list[Finding]) -> list[str]:
    """Files with a page that no reader recognised or could read (a blank sheet aside)."""
    out = []
    for f in findings:
        if f.code == "unknown_piece" or (f.code == "unreadable_piece" and (f.details or {}).get("reason") != _BLANK):
            if f.file and f.file not in out:
                out.append(f.file)
    return out


def _declared_findings(declared: Declared, ref: date) -> list[Finding]:
    out = []
    for role, person in declared.people().items():
        reason = unusual_birth_date(person.birth_date, ref)
        if reason:
            out.append(_finding("birth_date_unusual", msg.birth_date_unusual_declared(role, person.birth_date, reason)))
    return out


def judge(declared: Declared, documents: list[Document], file_findings: list[Finding],
          reference_date: date) -> Verdict:
    """The verdict on a dossier: holders set on `documents`, findings, requirement statuses."""
    ref = reference_of(declared, reference_date)
    statuses = explain(declared, ref)
    needed = {s.requirement: s.needed for s in statuses}
    ctx = _Ctx(declared, ref, documents, assign_holders(declared, documents),
               _upstream_by_doc(documents, file_findings), needed)
    _force_identity_comparisons(ctx, needed)
    for doc, holder in zip(documents, ctx.assignment.holders):
        doc.holder = holder

    people = declared.people()
    # Pass 1: each needed requirement's state, and the documents it depends on.
    cands_of: dict[str, list[int]] = {}
    missing: dict[str, Finding] = {}
    for req, st in zip(REQUIREMENTS, statuses):
        if not st.needed:
            continue
        if req.holder in ("host", "legal_representative") and req.holder not in people:
            st.state = "missing"
            missing[req.name] = _finding("missing_piece", msg.person_not_declared(req.name, req.holder, st.why),
                                         requirement=req.name)
            continue
        cands = _candidates(ctx, req)
        cands_of[req.name] = cands
        good = [i for i in cands if _acceptable(ctx, i, req)]
        if good:
            st.state, st.documents = "met", [documents[i] for i in good]
        elif cands:
            st.state, st.documents = "invalid", [documents[i] for i in cands]
        else:
            st.state = "missing"
            message = msg.missing_piece(req.name, st.why, _missing_hint(ctx, req), declared.training)
            unrecognised = _unrecognised_pages(file_findings)
            # A page that could not be read or recognised may be the very piece: "missing" is then
            # no confident evidence, and a person looks before the school is told to provide it.
            missing[req.name] = _finding(
                "missing_piece", message + (msg.maybe_unrecognised(unrecognised) if unrecognised else ""),
                requirement=req.name, severity="review" if unrecognised else None)

    # A document keeps the severity of its problems only where it is needed: it is a candidate of a
    # requirement that nothing else meets. Elsewhere its problems are information.
    needed_by: dict[int, str] = {}
    for req, st in zip(REQUIREMENTS, statuses):
        if st.state == "invalid":
            for i in cands_of[req.name]:
                needed_by.setdefault(i, req.name)

    # Pass 2: findings in a stable order (requirement table order, then document order).
    findings = list(file_findings) + _declared_findings(declared, ref)
    seen: set[tuple[int, str, str]] = set()
    for req, st in zip(REQUIREMENTS, statuses):
        if not st.needed:
            continue
        for i in cands_of.get(req.name, []):
            for p in _problems(ctx, i, req):
                key = (i, p.code, p.message)
                if key in seen:
                    continue
                seen.add(key)
                if i in needed_by:
                    p.requirement = needed_by[i]
                else:
                    p.requirement = req.name
                    if p.severity in ACTIONABLE and p.code not in NEVER_DOWNGRADED:
                        p.severity = "info"
                findings.append(p)
        if req.name in missing:
            findings.append(missing[req.name])

    # Certificates no requirement looked at (a CEPC, an unneeded ASSR) still must be the applicant's.
    looked_at = {i for cands in cands_of.values() for i in cands}
    for i, doc in enumerate(documents):
        if doc.kind in CERTIFICATE_KINDS and i not in looked_at and ctx.assignment.holders[i] in ("applicant", "unknown"):
            findings += _holder_check(ctx, i)

    # Guard: an unmet requirement must leave an actionable finding about it or its pieces.
    for req, st in zip(REQUIREMENTS, statuses):
        if st.needed and st.state != "met" and not _has_actionable(findings, req.name, cands_of.get(req.name, []),
                                                                   ctx):
            log.warning("requirement %s unmet without a finding: adding missing_piece", req.name)
            findings.append(_finding("missing_piece", msg.missing_piece(req.name, st.why), requirement=req.name))

    status = status_of(findings)
    return Verdict(status=status, documents=documents, findings=findings, requirements=statuses)


def _has_actionable(findings: list[Finding], requirement: str, cands: list[int], ctx: _Ctx) -> bool:
    """Some blocking or review finding names the requirement, or is about one of its candidate pieces."""
    if any(f.requirement == requirement and f.severity in ACTIONABLE for f in findings):
        return True
    places = {(ctx.documents[i].file, p) for i in cands for p in ctx.documents[i].pages}
    return any(f.severity in ACTIONABLE and (f.file, f.page) in places for f in findings) or any(
        f.severity in ACTIONABLE for i in cands for f in ctx.upstream.get(i, []))
