"""Validity rules (RULES.md, Validity) at their edges, from the reference date only."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_verdict_builders import R, bill, certificate, codes, complete_pieces, declared, flat, identity, photo

from intake.validators.dates import add_months, add_years, age_at, french_date
from intake.validators.validity import (
    identity_validity,
    laminated_cni_issue,
    laminated_cni_years,
    proof_of_address_fresh,
    unusual_birth_date,
)
from intake.validators.verdict import judge


# --- calendar ---------------------------------------------------------------------------------------

def test_six_months_before_the_end_of_august_is_the_end_of_february():
    assert add_months(date(2026, 8, 31), -6) == date(2026, 2, 28)
    assert add_months(date(2028, 8, 31), -6) == date(2028, 2, 29)
    assert add_years(date(2024, 2, 29), 1) == date(2025, 2, 28)


@given(st.dates(date(1900, 1, 1), date(2100, 12, 31)), st.dates(date(1900, 1, 1), date(2100, 12, 31)))
def test_age_is_whole_years_and_grows_on_the_birthday(birth, ref):
    if birth > ref:
        return
    age = age_at(birth, ref)
    assert add_years(birth, age) <= ref
    assert add_years(birth, age + 1) > ref or (birth.month, birth.day) == (2, 29)


def test_french_long_dates():
    assert french_date("2026-03-12") == "12 mars 2026"
    assert french_date(date(2026, 4, 1)) == "1er avril 2026"
    assert french_date("2026-08-15") == "15 août 2026"


# --- proof of address -------------------------------------------------------------------------------

@pytest.mark.parametrize("subtype, months", [("bill", 6), ("rent_receipt", 6), ("tax_notice", 12)])
def test_proof_of_address_window_includes_its_first_day_only(subtype, months):
    first_day = add_months(R, -months)
    assert proof_of_address_fresh(first_day, R, subtype)
    assert not proof_of_address_fresh(first_day - timedelta(days=1), R, subtype)


def _proof_verdict(issue: date, **fields):
    decl = declared()
    pieces = complete_pieces(decl)
    pieces["proof_of_address"] = [bill(decl, issue_date=issue.isoformat(), **fields)]
    return judge(decl, flat(pieces), [], R)


def test_bill_of_exactly_six_months_is_accepted_one_day_more_is_too_old_with_its_date():
    # Given a bill dated R minus 6 months / Then the dossier is complete
    assert _proof_verdict(add_months(R, -6)).status == "complete"
    # Given a bill one day older / Then it is too old, and the message gives the date in French
    v = _proof_verdict(add_months(R, -6) - timedelta(days=1))
    f = next(f for f in v.findings if f.code == "proof_of_address_too_old")
    assert f.severity == "blocking" and v.status == "incomplete"
    assert f.message == ("Fournir un justificatif de domicile de moins de 6 mois : le document fourni est daté du "
                         f"{french_date(add_months(R, -6) - timedelta(days=1))}.")
    assert "missing_piece" not in codes(v)  # one clear finding


def test_tax_notice_is_accepted_for_twelve_months():
    assert _proof_verdict(add_months(R, -11), document_subtype="tax_notice").status == "complete"
    v = _proof_verdict(add_months(R, -12) - timedelta(days=1), document_subtype="tax_notice")
    assert codes(v).get("proof_of_address_too_old") == "blocking"


def test_bill_with_no_date_read_goes_to_review_never_silently_valid():
    # Given a bill dated R itself / Then it is fresh
    assert _proof_verdict(R).status == "complete"
    # Given a bill whose date could not be read / Then a person checks it
    decl = declared()
    v = judge(decl, flat({**complete_pieces(decl), "proof_of_address": [bill(decl, issue_date=None)]}), [], R)
    assert codes(v).get("proof_of_address_date_missing") == "review" and v.status == "needs_review"


def test_2ddoc_data_wins_over_the_printed_date():
    # Given a bill whose print reads an old date but whose signed 2D-Doc says last month
    decl = declared()
    tdd = {"type": "01", "signature_valid": True,
           "fields": {"holder_name": "JEAN DUPONT", "issue_date": (R - timedelta(days=30)).isoformat()}}
    pieces = complete_pieces(decl)
    pieces["proof_of_address"] = [bill(decl, issue_date="2020-01-01", two_d_doc=tdd)]
    # Then the 2D-Doc's date is the one judged
    assert judge(decl, flat(pieces), [], R).status == "complete"


# --- photo and medical opinion ----------------------------------------------------------------------

def test_photo_six_months_edge():
    decl = declared()
    pieces = complete_pieces(decl)
    six = (R - add_months(R, -6)).days
    pieces["photo_code"] = [photo(days=six)]
    assert judge(decl, flat(pieces), [], R).status == "complete"
    pieces["photo_code"] = [photo(days=six + 1)]
    v = judge(decl, flat(pieces), [], R)
    assert codes(v).get("photo_code_expired") == "blocking"


def test_photo_without_a_date_read_goes_to_a_person():
    # RULES.md: the photo date is a key field (its 6 months apply "when printed"): a sheet on which no
    # date was read may print none, or hide it; a person checks, the dossier is not said complete
    decl = declared()
    pieces = complete_pieces(decl)
    pieces["photo_code"] = [photo(photo_date=None)]
    v = judge(decl, flat(pieces), [], R)
    assert v.status == "needs_review"
    assert any(f.code == "key_field_unread" and "la date de la photo" in f.message for f in v.findings)


def test_medical_opinion_two_years_edge_and_unfit():
    decl = declared(categories=["B", "C"])
    pieces = complete_pieces(decl)
    two = (R - add_years(R, -2)).days
    pieces["medical_opinion"] = [certificate(decl, "medical_opinion", days=two)]
    assert judge(decl, flat(pieces), [], R).status == "complete"
    pieces["medical_opinion"] = [certificate(decl, "medical_opinion", days=two + 1)]
    assert codes(judge(decl, flat(pieces), [], R)).get("medical_opinion_too_old") == "blocking"
    pieces["medical_opinion"] = [certificate(decl, "medical_opinion", fit=False)]
    assert judge(decl, flat(pieces), [], R).status == "incomplete"


# --- identity documents -----------------------------------------------------------------------------

def _fields(**f):
    base = {"nationality": "FRA", "mrz_format": "td1"}
    base.update(f)
    return base


@pytest.mark.parametrize("kind", ["identity_card", "passport"])
def test_french_card_and_passport_five_year_tolerance_edges(kind):
    fra = {"issuing_state": "FRA"}
    # Expired 5 years minus one day before R: tolerated
    expiry = add_years(R, -5) + timedelta(days=1)
    assert identity_validity(kind, _fields(expiry_date=expiry.isoformat()), fra, R).state == "tolerated"
    # Expired exactly 5 years before R: no longer (**decided**: less than 5 years)
    expiry = add_years(R, -5)
    assert identity_validity(kind, _fields(expiry_date=expiry.isoformat()), fra, R).state == "expired"
    # Expiring on R: valid
    assert identity_validity(kind, _fields(expiry_date=R.isoformat()), fra, R).state == "valid"


def test_foreign_documents_and_residence_permits_must_be_valid_on_the_reference_date():
    deu = {"issuing_state": "DEU"}
    assert identity_validity("passport", _fields(nationality="DEU", expiry_date=R.isoformat()), deu, R).ok
    yesterday = (R - timedelta(days=1)).isoformat()
    assert identity_validity("passport", _fields(nationality="DEU", expiry_date=yesterday), deu, R).state == "expired"
    # a residence permit gets no tolerance, even issued by France
    assert not identity_validity("residence_permit", _fields(expiry_date=yesterday), {"issuing_state": "FRA"}, R).ok


@pytest.mark.parametrize("number, issued", [
    ("040175123456", date(2004, 1, 1)), ("131275123456", date(2013, 12, 1)), ("880175123456", date(1988, 1, 1)),
    ("991375123456", None), ("ABCD75123456", None),
])
def test_laminated_card_issue_month_from_its_number(number, issued):
    assert laminated_cni_issue(number) == issued


@pytest.mark.parametrize("issued, birth, years", [
    (date(2004, 1, 1), date(1970, 1, 1), 10),    # before 2004-01-02 (day taken as the 1st)
    (date(2004, 2, 1), date(1970, 1, 1), 15),
    (date(2013, 12, 1), date(1970, 1, 1), 15),   # the last month of the 15-year rule
    (date(2014, 1, 1), date(1970, 1, 1), 10),
    (date(2010, 5, 1), date(1992, 5, 1), 15),    # 18 on the issue date
    (date(2010, 5, 1), date(1992, 5, 2), 10),    # 18 the next day: a minor's card
    (date(2010, 5, 1), None, 10),                # unknown age: the cautious reading
])
def test_laminated_card_fifteen_year_rule(issued, birth, years):
    assert laminated_cni_years(issued, birth) == years


def _laminated(number: str, birth: str):
    return {"document_number": number, "mrz_format": "fr_cni_2x36", "birth_date": birth, "nationality": "FRA"}


def test_laminated_card_validity_from_its_number_with_tolerance():
    # Issued 2008-03 to an adult: 15 years then 5 more, until 2028-03-01 excluded
    f = _laminated("080375123456", "1980-01-01")
    assert identity_validity("identity_card", f, {"issuing_state": "FRA"}, date(2028, 2, 29)).state == "tolerated"
    assert identity_validity("identity_card", f, {"issuing_state": "FRA"}, date(2028, 3, 1)).state == "expired"
    # Same month to a 15-year-old: 10 years then 5, until 2023-03-01 excluded
    f = _laminated("080375123456", "1993-01-01")
    assert identity_validity("identity_card", f, {"issuing_state": "FRA"}, date(2023, 3, 1)).state == "expired"
    assert identity_validity("identity_card", f, {"issuing_state": "FRA"}, date(2023, 2, 28)).ok


def test_expired_laminated_card_message_gives_issue_month_period_and_end_of_tolerance():
    decl = declared(applicant_birth_date="1980-01-01")
    pieces = complete_pieces(decl)
    pieces["identity"] = [identity(decl, document_number="030375123456", mrz_format="fr_cni_2x36",
                                   expiry_date=None)]
    v = judge(decl, flat(pieces), [], R)
    f = next(f for f in v.findings if f.code == "identity_expired")
    assert "mars 2003" in f.message and "10 ans" in f.message and "1er mars 2018" in f.message
    assert f.severity == "blocking" and "missing_piece" not in codes(v)


def test_identity_with_no_expiry_read_is_a_review_never_silently_valid():
    decl = declared()
    pieces = complete_pieces(decl)
    pieces["identity"] = [identity(decl, expiry_date=None)]
    v = judge(decl, flat(pieces), [], R)
    assert codes(v).get("identity_expiry_unknown") == "review" and v.status == "needs_review"


def test_expired_residence_permit_is_its_own_finding_and_no_redundant_missing_piece():
    decl = declared(applicant_nationality="DZA")
    pieces = complete_pieces(decl)
    pieces["identity"] = [identity(decl, kind="passport", nationality="DZA")]
    pieces["residence_permit"] = [identity(decl, kind="residence_permit", nationality="DZA",
                                           expiry_date=(R - timedelta(days=1)).isoformat())]
    v = judge(decl, flat(pieces), [], R)
    assert codes(v).get("residence_permit_expired") == "blocking"
    assert "missing_piece" not in codes(v) and v.status == "incomplete"


# --- birth dates ------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, reason", [
    ("1990-00-00", "zero"), ("1990-05-00", "zero"), ((R + timedelta(days=1)).isoformat(), "future"),
    (add_years(R, -121).isoformat(), "too_old"), (add_years(R, -120).isoformat(), None), ("1990-05-17", None),
])
def test_unusual_birth_dates(value, reason):
    assert unusual_birth_date(value, R) == reason


def test_declared_birth_date_with_00_is_a_review_finding():
    decl = declared(applicant_birth_date="1990-00-00")
    pieces = complete_pieces(decl)
    v = judge(decl, flat(pieces), [], R)
    f = next(f for f in v.findings if f.code == "birth_date_unusual")
    assert f.severity == "review" and "1990-00-00" in f.message and v.status != "complete"
