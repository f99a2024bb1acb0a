"""THE table of requirements (RULES.md) and THE table of decided choices, readable by a person.

Each requirement is one row: the piece kinds that meet it, whose they must be, and a small named
condition over (declared data, reference date) that says whether it is needed and why, in French.
`explain()` evaluates the table for a dossier without looking at any document; `format_rules()`
prints it for `intake rules`. A rule change is one edit here, then a reprocessing run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable

from intake.documents import Document
from intake.dossier import Declared
from intake.labels import HOLDERS, KINDS
from intake.validators.dates import age_at, french_date


#: Bumped whenever a row, a condition or a decided value changes: results judged with an older
#: version are reprocessed (intake.version.PIPELINE_VERSION).
RULES_VERSION = 2  # 2: key fields and decisive refusals (validators/key_fields.py)


@dataclass(frozen=True)
class Decided:
    """Durations, tolerances and choices (RULES.md marks the contested ones **decided**)."""

    proof_of_address_months: int = 6          # bill, rent receipt: within 6 months, same day included
    tax_notice_months: int = 12                # **decided**: tax notices within 12 months
    photo_months: int = 6
    medical_opinion_years: int = 2
    french_identity_tolerance_years: int = 5   # French CNI and passport: R < expiry + 5 years (**decided**)
    laminated_cni_first_year: int = 1988       # YY >= 88 -> 19YY, else 20YY
    laminated_cni_years: int = 10
    laminated_cni_long_years: int = 15         # décret 2013-1188
    laminated_cni_long_from: date = date(2004, 1, 2)
    laminated_cni_long_to: date = date(2013, 12, 31)
    laminated_cni_adult_age: int = 18          # age on the issue date (1st of the issue month)
    max_age: int = 120                         # birth_date_unusual beyond this age
    adult_age: int = 18                        # legal representative below this age
    jdc_min_age: int = 17                      # included
    jdc_max_age: int = 25                      # excluded
    assr_max_age: int = 21                     # excluded
    assr_at_inscription: bool = True           # **decided**: ASSR also asked at inscription, primo, under 21
    assr_am_born_from: date = date(1988, 1, 1)
    heavy_categories: tuple[str, ...] = ("C1", "C1E", "C", "CE", "D1", "D1E", "D", "DE")
    licence_trainings: tuple[str, ...] = ("A", "B96", "levee_78")


DECIDED = Decided()

#: The decided choices, one line each, as `intake rules` prints them.
DECISION_NOTES: tuple[tuple[str, str], ...] = (
    (KINDS["proof_of_address"].noun, f"facture ou quittance de moins de {DECIDED.proof_of_address_months} mois "
     f"(le même jour compris) ; avis d'imposition : {DECIDED.tax_notice_months} mois (choix décidé)"),
    ("photo", f"date de la photo de moins de {DECIDED.photo_months} mois, si elle est imprimée"),
    (KINDS["medical_opinion"].noun, f"daté de moins de {DECIDED.medical_opinion_years} ans"),
    ("CNI et passeport français", f"valides ou expirés depuis moins de {DECIDED.french_identity_tolerance_years} ans "
     "(refusés à partir du 5e anniversaire de l'expiration, choix décidé)"),
    ("CNI plastifiée", f"émise le 1er du mois lu dans le numéro (AAMM) ; {DECIDED.laminated_cni_long_years} ans si "
     f"émise du {french_date(DECIDED.laminated_cni_long_from)} au {french_date(DECIDED.laminated_cni_long_to)} à "
     f"une personne majeure, sinon {DECIDED.laminated_cni_years} ans ; puis la tolérance de "
     f"{DECIDED.french_identity_tolerance_years} ans"),
    ("documents étrangers, titres de séjour", "valides à la date de référence"),
    ("ASSR à l'inscription", "demandée aussi à l'inscription en première demande avant 21 ans (choix décidé)"),
    ("taxe régionale", "supprimée au 1er janvier 2020 : jamais demandée"),
)

#: EU, EEA and Switzerland, as ICAO codes ('D' is Germany in MRZs).
EU_EEA_CH = frozenset({
    "AUT", "BEL", "BGR", "HRV", "CYP", "CZE", "DNK", "EST", "FIN", "FRA", "DEU", "D", "GRC", "HUN",
    "IRL", "ITA", "LVA", "LTU", "LUX", "MLT", "NLD", "POL", "PRT", "ROU", "SVK", "SVN", "ESP", "SWE",
    "ISL", "LIE", "NOR", "CHE",
})


@dataclass(frozen=True)
class Need:
    """Whether a requirement applies to a dossier, and why (French, with the facts)."""

    needed: bool
    why: str


Condition = Callable[[Declared, date], Need]


def applicant_age(declared: Declared, ref: date) -> int | None:
    birth = declared.applicant.birth_date
    return age_at(birth, ref) if birth is not None else None


def _ans(age: int | None) -> str:
    return "âge inconnu" if age is None else f"{age} ans à la date de référence"


# --- conditions: one small named predicate per row ------------------------------------------------

def always(declared: Declared, ref: date) -> Need:
    return Need(True, "toujours exigé")


def not_hosted(declared: Declared, ref: date) -> Need:
    if declared.situation.hosted:
        return Need(False, "candidat hébergé : le justificatif demandé est celui de l'hébergeant")
    return Need(True, "toujours exigé quand le candidat n'est pas hébergé")


def outside_eu_eea_ch(declared: Declared, ref: date) -> Need:
    nat = declared.applicant.nationality.upper()
    if nat in EU_EEA_CH:
        return Need(False, f"nationalité {nat} : Union européenne, EEE ou Suisse")
    return Need(True, f"nationalité {nat} : hors Union européenne, EEE et Suisse")


def jdc_needed(declared: Declared, ref: date) -> Need:
    d, a = DECIDED, declared.applicant
    age = applicant_age(declared, ref)
    facts = (f"nationalité {a.nationality}, {_ans(age)}, motif {declared.motif}, "
             f"procédure {declared.procedure}")
    needed = (
        a.nationality.upper() == "FRA"
        and age is not None and d.jdc_min_age <= age < d.jdc_max_age
        and declared.motif == "primo" and declared.procedure == "inscription"
    )
    rule = (f"exigé pour un Français de {d.jdc_min_age} à {d.jdc_max_age} ans (exclu), "
            "en première demande (primo) à l'inscription")
    return Need(needed, f"{facts} ; {rule}")


def assr_needed(declared: Declared, ref: date) -> Need:
    d = DECIDED
    age = applicant_age(declared, ref)
    under = age is not None and age < d.assr_max_age
    if declared.procedure == "titre_formation":
        if declared.training == "AM":
            birth = declared.applicant.birth_date
            born_late = birth is not None and birth >= d.assr_am_born_from
            return Need(born_late, f"formation AM, né(e) le {french_date(birth)} ; exigé pour les personnes nées "
                                   f"à partir du {french_date(d.assr_am_born_from)}")
        return Need(False, f"formation {declared.training} : pas d'ASSR demandée")
    facts = f"{_ans(age)}, motif {declared.motif}, procédure {declared.procedure}"
    rule = f"exigé en première demande (primo) avant {d.assr_max_age} ans, au titre et à l'inscription"
    if declared.motif != "primo":
        return Need(False, f"{facts} ; {rule}")
    if declared.procedure == "titre_reussite":
        return Need(under, f"{facts} ; {rule}")
    if declared.procedure == "inscription" and d.assr_at_inscription:
        return Need(under, f"{facts} ; {rule} (choix décidé pour l'inscription)")
    return Need(False, f"{facts} ; {rule}")


def medical_needed(declared: Declared, ref: date) -> Need:
    heavy = [c for c in declared.categories if c in DECIDED.heavy_categories]
    reasons = []
    if heavy:
        reasons.append(f"catégorie(s) du groupe lourd demandée(s) : {', '.join(heavy)}")
    if declared.motif == "retour":
        reasons.append("motif retour (après invalidation ou annulation)")
    if declared.situation.medical_condition:
        reasons.append("situation médicale déclarée")
    if reasons:
        return Need(True, " ; ".join(reasons))
    return Need(False, "ni catégorie C/D, ni motif retour, ni situation médicale déclarée")


def licence_needed(declared: Declared, ref: date) -> Need:
    if declared.motif == "extension":
        return Need(True, "motif extension : le permis actuel est à joindre")
    if declared.procedure == "titre_formation" and declared.training in DECIDED.licence_trainings:
        return Need(True, f"formation {declared.training} : elle complète un permis existant")
    return Need(False, "ni extension, ni formation A, B96 ou levée du code 78")


def training_needed(declared: Declared, ref: date) -> Need:
    if declared.procedure == "titre_formation":
        return Need(True, f"procédure titre après formation ({declared.training})")
    return Need(False, f"procédure {declared.procedure} : pas de formation à attester")


def minor_or_guardianship(declared: Declared, ref: date) -> Need:
    age = applicant_age(declared, ref)
    if declared.situation.under_guardianship:
        return Need(True, "candidat sous tutelle ou curatelle")
    if age is not None and age < DECIDED.adult_age:
        return Need(True, f"candidat mineur : {_ans(age)}")
    return Need(False, f"candidat majeur ({_ans(age)}) et pas sous tutelle")


def hosted(declared: Declared, ref: date) -> Need:
    if declared.situation.hosted:
        return Need(True, "candidat hébergé chez un tiers")
    return Need(False, "candidat non hébergé")


# --- the table ------------------------------------------------------------------------------------

#: How a document is matched to a requirement: `holder` (assigned to that person by names and
#: birth date), `address` (a proof of address whose holder name contains that person's surname),
#: `certificate` (the applicant's, or with no name read), `any` (no name on it: photo code).
MATCH_MODES = ("holder", "address", "certificate", "any")


@dataclass(frozen=True)
class Requirement:
    name: str
    label: str                   # the piece, in French, as a school names it
    kinds: tuple[str, ...]
    holder: str | None           # whose piece: applicant, host, legal_representative; None: anyone's
    condition: Condition
    match: str = "holder"

    def needed(self, declared: Declared, ref: date) -> Need:
        return self.condition(declared, ref)


REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement("identity", "pièce d'identité du candidat (carte d'identité, passeport ou titre de séjour)",
                ("identity_card", "passport", "residence_permit"), "applicant", always),
    Requirement("proof_of_address", "justificatif de domicile au nom du candidat",
                ("proof_of_address",), "applicant", not_hosted, "address"),
    Requirement("photo_code", "code photo-signature numérique (e-photo)", ("photo_code",), None, always, "any"),
    Requirement("residence_permit", "titre de séjour du candidat en cours de validité",
                ("residence_permit",), "applicant", outside_eu_eea_ch),
    Requirement("jdc", "certificat de participation à la JDC (ou attestation de recensement)",
                ("jdc",), "applicant", jdc_needed, "certificate"),
    Requirement("assr", "ASSR 2 ou ASR (ou attestation sur l'honneur qui la remplace)",
                ("assr",), "applicant", assr_needed, "certificate"),
    Requirement("medical_opinion", "avis médical (Cerfa 14880)", ("medical_opinion",), "applicant",
                medical_needed, "certificate"),
    Requirement("driving_licence", "copie du permis de conduire en cours de validité", ("driving_licence",),
                "applicant", licence_needed, "certificate"),
    Requirement("training_certificate", "attestation de suivi de la formation déclarée",
                ("training_certificate",), "applicant", training_needed, "certificate"),
    Requirement("legal_representative_identity", "pièce d'identité du représentant légal",
                ("identity_card", "passport"), "legal_representative", minor_or_guardianship),
    Requirement("hosting_attestation", "attestation d'hébergement signée par l'hébergeant",
                ("hosting_attestation",), None, hosted, "any"),
    Requirement("host_identity", "pièce d'identité de l'hébergeant", ("identity_card", "passport"), "host", hosted),
    Requirement("host_proof_of_address", "justificatif de domicile au nom de l'hébergeant",
                ("proof_of_address",), "host", hosted, "address"),
)

REQUIREMENT_BY_NAME = {r.name: r for r in REQUIREMENTS}


@dataclass
class RequirementStatus:
    """One requirement for one dossier: needed or not and why; met or not and by which document.

    state: `not_needed`, `unchecked` (explain(): no documents looked at), `met`, `invalid`
    (pieces given but none acceptable: the findings say why) or `missing` (no piece at all).
    """

    requirement: str
    label: str
    needed: bool
    why: str
    holder: str | None
    kinds: tuple[str, ...]
    state: str = "unchecked"
    documents: list[Document] = field(default_factory=list)

    @property
    def met(self) -> bool | None:
        """True or False once judged; None when not needed or not judged."""
        if not self.needed or self.state == "unchecked":
            return None
        return self.state == "met"

    def to_json(self) -> dict[str, Any]:
        return {
            "requirement": self.requirement,
            "needed": self.needed,
            "why": self.why,
            "holder": self.holder,
            "kinds": list(self.kinds),
            "state": self.state,
            "met": self.met,
            "documents": [{"file": d.file, "page": d.page, "kind": d.kind} for d in self.documents],
        }


def reference_of(declared: Declared, reference_date: date | None) -> date:
    """The reference date: the one given, else the declared one. Never the clock."""
    ref = reference_date or declared.reference_date
    if ref is None:
        raise ValueError("a reference date is needed (reference_date or --today)")
    return ref


def explain(declared: Declared, reference_date: date) -> list[RequirementStatus]:
    """Every requirement of the table for this dossier, needed or not, with the reason."""
    ref = reference_of(declared, reference_date)
    out = []
    for req in REQUIREMENTS:
        need = req.needed(declared, ref)
        out.append(RequirementStatus(
            requirement=req.name, label=req.label, needed=need.needed, why=need.why,
            holder=req.holder, kinds=req.kinds, state="unchecked" if need.needed else "not_needed",
        ))
    return out


def format_rules(declared: Declared, reference_date: date) -> str:
    """The requirements table for one dossier, for a person (`intake rules DOSSIER_DIR`)."""
    ref = reference_of(declared, reference_date)
    lines = [
        f"Dossier {declared.reference} - date de référence : {french_date(ref)}",
        f"procédure {declared.procedure}, motif {declared.motif}, catégories {', '.join(declared.categories)}"
        + (f", formation {declared.training}" if declared.training else ""),
        "",
        "Pièces exigées / required pieces:",
    ]
    statuses = explain(declared, ref)
    width = max(len(s.requirement) for s in statuses)
    for s in statuses:
        mark = "EXIGÉ " if s.needed else "-     "
        whose = f" [{HOLDERS[s.holder].noun}]" if s.holder else ""
        kinds = ", ".join(KINDS[k].noun for k in s.kinds)
        lines.append(f"  {mark} {s.requirement.ljust(width)}  {s.label}{whose}")
        lines.append(f"  {'':6} {'':{width}}  pièces acceptées : {kinds}")
        lines.append(f"  {'':6} {'':{width}}  pourquoi : {s.why}")
    lines += ["", "Règles de validité (choix du tableau DECIDED):"]
    lines += [f"  - {k} : {v}" for k, v in DECISION_NOTES]
    return "\n".join(lines) + "\n"
