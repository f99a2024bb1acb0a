"""read_page end to end on rendered specimens, with the real tesseract."""

import random
from datetime import date

import numpy as np
import pytest

from fixtures import specimens as S
from fixtures.degrade import to_bgr
from fixtures.people import make_person
from intake.extractors.page import read_page

R = date(2026, 11, 26)


@pytest.fixture(scope="module")
def person():
    return make_person(random.Random(7), 30, R)


def test_a_bill_is_a_proof_of_address_with_its_issue_date_and_addressee(person):
    # Given an energy bill rendered at 200 dpi
    spec = S.bill(random.Random(7), person, date(2026, 9, 3))
    # When its page is read
    page = read_page(to_bgr(spec.pages[0]), 1)
    # Then it is a proof of address with the printed issue date, postcode and city
    assert page.kind == "proof_of_address" and page.confidence >= 0.8
    assert page.fields["issue_date"] == "2026-09-03"
    assert page.fields["postcode"] == spec.fields["postcode"] and page.fields["city"] == spec.fields["city"]
    assert page.fields["document_subtype"] == "bill"
    assert any(c["used"] and c["date"] == "2026-09-03" for c in page.evidence["date_candidates"])


def test_an_ephoto_sheet_gives_its_code_and_date():
    spec = S.ephoto_sheet(random.Random(11), date(2026, 10, 1))
    page = read_page(to_bgr(spec.pages[0]), 1)
    assert page.kind == "photo_code"
    assert len(page.fields["code"]) == 22 and page.fields["photo_date"] == "2026-10-01"


def test_a_blank_page_is_unreadable_with_its_reason():
    spec = S.blank_page()
    page = read_page(to_bgr(spec.pages[0]), 3)
    assert page.unreadable == "page blanche" and page.kind == "unknown"


def test_an_unrelated_page_is_unknown(person):
    spec = S.unrelated(random.Random(5), person, R)
    page = read_page(to_bgr(spec.pages[0]), 1)
    assert page.kind == "unknown" and page.unreadable is None


@pytest.mark.parametrize("turn", [180, 90])
def test_a_page_scanned_upside_down_or_sideways_is_still_read(person, turn):
    # Given an ASSR certificate put in the scanner the wrong way
    spec = S.assr(random.Random(3), person, date(2022, 6, 1))
    image = np.ascontiguousarray(np.rot90(to_bgr(spec.pages[0]), k=turn // 90))
    # When read, Then it is turned upright and recognised with its date
    page = read_page(image, 1)
    assert page.kind == "assr" and page.fields["issue_date"] == "2022-06-01"
    assert page.evidence["orientation"]["rotation"] in (90, 180, 270)


def test_phone_photo_of_a_bill(person):
    # Given a phone picture of a bill on a table
    from fixtures.degrade import phone_photo

    spec = S.bill(random.Random(9), person, date(2026, 9, 3))
    image = phone_photo(to_bgr(spec.pages[0]), random.Random(9))
    page = read_page(image, 1)
    assert page.kind == "proof_of_address" and page.fields.get("issue_date") == "2026-09-03"


@pytest.fixture
def fixture_certs(monkeypatch):
    from pathlib import Path

    from intake.settings import reset_settings

    monkeypatch.setenv("INTAKE_2DDOC_CERTS", str(Path(S.__file__).parent / "certs"))
    reset_settings()
    yield
    monkeypatch.delenv("INTAKE_2DDOC_CERTS")
    reset_settings()


def test_a_bill_with_a_valid_2ddoc_takes_its_data_from_the_code(person, fixture_certs):
    spec = S.bill(random.Random(21), person, date(2026, 9, 3), twoddoc="valid")
    page = read_page(to_bgr(spec.pages[0]), 1)
    assert page.kind == "proof_of_address"
    assert page.fields["two_d_doc"]["signature_valid"] is True
    assert page.fields["issue_date"] == "2026-09-03" and page.fields["postcode"] == spec.fields["postcode"]
    assert not [f for f in page.findings if f.code == "proof_of_address_signature_invalid"]


def test_a_bill_with_a_tampered_2ddoc_is_flagged(person, fixture_certs):
    spec = S.bill(random.Random(22), person, date(2026, 9, 3), twoddoc="tamper")
    page = read_page(to_bgr(spec.pages[0]), 1)
    assert page.kind == "proof_of_address"
    assert [f.severity for f in page.findings if f.code == "proof_of_address_signature_invalid"] == ["blocking"]
