"""The requirements table (RULES.md): every row met by a dossier that has the piece, and unmet by one
that lacks it; every condition at its edges; the table as `intake rules` prints it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from test_verdict_builders import R, add_years, complete_pieces, declared, flat

from intake.validators.rules import REQUIREMENTS, explain, format_rules
from intake.validators.verdict import judge

HOST = {"surname": "Martin", "given_names": ["Claire"], "birth_date": "1970-02-03"}
REP = {"surname": "Dupont", "given_names": ["Marc"], "birth_date": "1975-06-30"}
HOSTED = {"hosted": True, "host": HOST}

#: For each row: a declared situation where the requirement applies.
SITUATION = {
    "identity": {},
    "proof_of_address": {},
    "photo_code": {},
    "residence_permit": {"applicant_nationality": "DZA"},
    "jdc": {"applicant_birth_date": "2007-06-01"},
    "assr": {"applicant_birth_date": "2007-06-01"},
    "medical_opinion": {"categories": ["C"]},
    "driving_licence": {"motif": "extension", "categories": ["A2"]},
    "training_certificate": {"procedure": "titre_formation", "training": "B96"},
    "legal_representative_identity": {"applicant_birth_date": "2010-01-01", "legal_representative": REP},
    "hosting_attestation": HOSTED,
    "host_identity": HOSTED,
    "host_proof_of_address": HOSTED,
}


def test_every_requirement_of_rules_md_is_one_row_of_the_table():
    # Given the RULES.md requirement names / Then the table has exactly those rows, once each
    assert [r.name for r in REQUIREMENTS] == list(SITUATION)


def _needed(decl) -> set[str]:
    return {s.requirement for s in explain(decl, R) if s.needed}


@pytest.mark.parametrize("requirement", list(SITUATION))
def test_row_is_met_when_its_piece_is_there(requirement):
    # Given a dossier where the requirement applies, with a good piece for every needed requirement
    decl = declared(**SITUATION[requirement])
    pieces = complete_pieces(decl)
    assert requirement in pieces
    # When it is judged
    v = judge(decl, flat(pieces), [], R)
    # Then the requirement is met by its piece and the dossier is complete
    status = {s.requirement: s for s in v.requirements}[requirement]
    assert status.met is True
    assert status.documents == pieces[requirement]
    assert v.status == "complete", [f.message for f in v.findings]


@pytest.mark.parametrize("requirement", list(SITUATION))
def test_row_is_a_missing_piece_when_its_piece_is_absent(requirement):
    # Given the same dossier without the piece of that requirement
    decl = declared(**SITUATION[requirement])
    pieces = complete_pieces(decl)
    # When it is judged
    v = judge(decl, flat(pieces, without=requirement), [], R)
    # Then one blocking missing_piece names the requirement, and the dossier is incomplete
    missing = [f for f in v.findings if f.code == "missing_piece"]
    assert [f.requirement for f in missing] == [requirement]
    assert missing[0].severity == "blocking"
    assert missing[0].message.startswith("Fournir")
    assert v.status == "incomplete"


def born(years: int, days: int = 0) -> str:
    """A birth date giving `years` at R, moved `days` later (so that the age is one less when days > 0)."""
    return (add_years(R, -years) + timedelta(days=days)).isoformat()


@pytest.mark.parametrize("over, needed", [
    ({"applicant_birth_date": born(17)}, True),               # 17 today: included
    ({"applicant_birth_date": born(17, 1)}, False),           # 17 tomorrow
    ({"applicant_birth_date": born(25, 1)}, True),            # 24, one day before 25
    ({"applicant_birth_date": born(25)}, False),              # 25: excluded
    ({"applicant_birth_date": born(19), "applicant_nationality": "DEU"}, False),
    ({"applicant_birth_date": born(19), "motif": "extension"}, False),
    ({"applicant_birth_date": born(19), "procedure": "titre_reussite"}, False),
])
def test_jdc_condition(over, needed):
    assert ("jdc" in _needed(declared(**over))) is needed


@pytest.mark.parametrize("over, needed", [
    ({"applicant_birth_date": born(21, 1)}, True),            # 20 at inscription: decided
    ({"applicant_birth_date": born(21)}, False),
    ({"applicant_birth_date": born(20), "procedure": "titre_reussite"}, True),
    ({"applicant_birth_date": born(20), "motif": "extension"}, False),
    ({"applicant_birth_date": "1988-01-01", "procedure": "titre_formation", "training": "AM",
      "categories": ["AM"]}, True),
    ({"applicant_birth_date": "1987-12-31", "procedure": "titre_formation", "training": "AM",
      "categories": ["AM"]}, False),
    ({"applicant_birth_date": born(19), "procedure": "titre_formation", "training": "B96"}, False),
])
def test_assr_condition(over, needed):
    assert ("assr" in _needed(declared(**over))) is needed


@pytest.mark.parametrize("over, needed", [
    *[({"categories": ["B", c]}, True) for c in ("C1", "C1E", "C", "CE", "D1", "D1E", "D", "DE")],
    ({"categories": ["B", "BE", "A2"]}, False),
    ({"motif": "retour"}, True),
    ({"medical_condition": True}, True),
])
def test_medical_opinion_condition(over, needed):
    assert ("medical_opinion" in _needed(declared(**over))) is needed


@pytest.mark.parametrize("over, licence, training", [
    ({"motif": "extension"}, True, False),
    ({"procedure": "titre_formation", "training": "A"}, True, True),
    ({"procedure": "titre_formation", "training": "B96"}, True, True),
    ({"procedure": "titre_formation", "training": "levee_78"}, True, True),
    ({"procedure": "titre_formation", "training": "AM", "categories": ["AM"]}, False, True),
    ({}, False, False),
])
def test_driving_licence_and_training_conditions(over, licence, training):
    needed = _needed(declared(**over))
    assert ("driving_licence" in needed) is licence
    assert ("training_certificate" in needed) is training


@pytest.mark.parametrize("over, needed", [
    ({"applicant_birth_date": born(18, 1)}, True),
    ({"applicant_birth_date": born(18)}, False),
    ({"under_guardianship": True}, True),
])
def test_legal_representative_condition(over, needed):
    assert ("legal_representative_identity" in _needed(declared(**over))) is needed


@pytest.mark.parametrize("nationality, needed", [
    ("FRA", False), ("DEU", False), ("NOR", False), ("CHE", False), ("ISL", False),
    ("DZA", True), ("GBR", True), ("USA", True),
])
def test_residence_permit_condition(nationality, needed):
    assert ("residence_permit" in _needed(declared(applicant_nationality=nationality))) is needed


def test_hosting_swaps_the_applicants_proof_of_address_for_the_hosts():
    plain, hosted = _needed(declared()), _needed(declared(**HOSTED))
    assert "proof_of_address" in plain and "proof_of_address" not in hosted
    host_rows = {"hosting_attestation", "host_identity", "host_proof_of_address"}
    assert host_rows <= hosted and not host_rows & plain


def test_regional_tax_and_exam_certificate_are_never_required():
    # Given the widest dossier / Then neither the abolished regional tax nor the CEPC is asked for
    names = {r.name for r in REQUIREMENTS}
    assert not any("tax" in n or "exam" in n for n in names)
    assert all("exam_certificate" not in r.kinds for r in REQUIREMENTS)


@pytest.mark.parametrize("over, role, word", [
    ({"hosted": True}, "host", "hébergeant"),
    ({"applicant_birth_date": born(16)}, "legal_representative", "représentant légal"),
])
def test_person_not_declared_is_a_missing_piece_saying_who_to_declare(over, role, word):
    # Given a requirement on a person the dossier does not declare
    decl = declared(**over)
    # When judged with no pieces at all
    v = judge(decl, [], [], R)
    # Then the requirement's missing_piece asks to declare that person
    req = "host_identity" if role == "host" else "legal_representative_identity"
    f = next(f for f in v.findings if f.requirement == req)
    assert f.code == "missing_piece" and f.message.startswith(f"Déclarer le {word}")
    assert f.severity == "blocking" and v.status == "incomplete"


def test_explain_needs_no_documents_and_says_why_with_the_facts():
    decl = declared(applicant_birth_date=born(19))
    statuses = explain(decl, R)
    jdc = next(s for s in statuses if s.requirement == "jdc")
    assert jdc.needed and "19 ans" in jdc.why and jdc.met is None and jdc.state == "unchecked"
    assert all(s.state == "not_needed" for s in statuses if not s.needed)


def test_the_reference_date_decides_not_the_clock():
    # Given an applicant who turns 25 between two reference dates
    decl = declared(applicant_birth_date="2001-06-15")
    # Then the JDC is needed the day before and not on the birthday
    assert any(s.requirement == "jdc" and s.needed for s in explain(decl, date(2026, 6, 14)))
    assert not any(s.requirement == "jdc" and s.needed for s in explain(decl, date(2026, 6, 15)))


def test_format_rules_prints_every_row_what_is_required_and_why():
    decl = declared(applicant_birth_date=born(19), categories=["B", "C"])
    text = format_rules(decl, R)
    needed = [s for s in explain(decl, R) if s.needed]
    for r in REQUIREMENTS:
        assert r.name in text
    assert text.count("EXIGÉ ") == len(needed)
    assert "19 ans à la date de référence" in text
    assert "26 novembre 2026" in text
    assert "avis d'imposition : 12 mois" in text
