"""read_page end to end on rendered specimens, with the real tesseract."""

import random
from datetime import date

import numpy as np
import pytest

from fixtures import specimens as S
from fixtures.degrade import to_bgr
from fixtures.people import make_person
from conftest import read_generated_page
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


def _bill_with_valid_code_reprinted(person, key: str, text: str, fill=(0, 0, 0), below: str = ""):
    """A bill with a valid 2D-Doc whose printed `key` value is covered with `text` (the print
    altered after the code was signed); `below`, printed lower on the page."""
    from PIL import ImageDraw, ImageFont

    from fixtures.canvas import FONTS

    spec = S.bill(random.Random(21), person, date(2026, 9, 3), twoddoc="valid")
    image = spec.pages[0].copy()
    _, x, y, w, h = spec.boxes[key][0]
    draw = ImageDraw.Draw(image)
    draw.rectangle([x - 2, y - 2, x + w + 2, y + h + 2], fill="white")
    draw.text((x, y - 4), text, font=ImageFont.truetype(FONTS["arial-bold"], int(h * 1.3)), fill=fill)
    if below:
        draw.text((140, 560), below, font=ImageFont.truetype(FONTS["arial"], 30), fill=(0, 0, 0))
    return spec, image


def test_a_print_altered_under_a_valid_2ddoc_is_refused(person, fixture_certs):
    # Given a bill whose signed 2D-Doc says one postcode and whose print, crisp, says another
    spec = S.bill(random.Random(21), person, date(2026, 9, 3), twoddoc="valid")
    other = "75011" if spec.fields["postcode"] != "75011" else "69003"
    spec, image = _bill_with_valid_code_reprinted(person, "postcode", f"{other}  {spec.fields['city']}")
    # When it is read
    page = read_page(to_bgr(image), 1)
    # Then the code's data are the piece's, and the contradiction, read surely, refuses it
    assert page.fields["postcode"] == spec.fields["postcode"]
    refused = [f for f in page.findings if f.code == "proof_of_address_signature_invalid"]
    assert [f.severity for f in refused] == ["blocking"] and refused[0].details["contradictions"] == ["postcode"]


def test_a_2ddoc_date_printed_elsewhere_on_the_page_is_no_contradiction(person, fixture_certs):
    # Given a bill with a valid 2D-Doc whose title date reads otherwise, the code's date printed
    # lower on the page (family-2 seed 125: a past bill's date in an account history taken for
    # the issue date, the date of issue read elsewhere)
    spec, image = _bill_with_valid_code_reprinted(person, "issue_date", "01/06/2026",
                                                  below="Date d'émission : 03/09/2026")
    # When it is read
    page = read_page(to_bgr(image), 1)
    # Then the code's date is the issue date, and nothing refuses the piece
    assert page.fields["issue_date"] == "2026-09-03"
    assert not [f for f in page.findings if f.code == "proof_of_address_signature_invalid"]


def test_only_a_value_read_twice_alike_with_confidence_is_printed_surely(person):
    # Given a bill read as a page
    from intake.extractors.kinds.proof_of_address import printed_surely
    from intake.extractors.ocr.page_text import prepare

    spec = S.bill(random.Random(7), person, date(2026, 9, 3))
    pt = prepare(np.asarray(spec.pages[0].convert("L")))
    pt.read(0.0, 1.0)
    other = "75011" if spec.fields["postcode"] != "75011" else "69003"
    # When its printed postcode, and a postcode it does not print, are checked
    # Then the printed one is sure (found, read again alike) and the other is not
    assert printed_surely(pt, 1, {"postcode": spec.fields["postcode"]}, ["postcode"]) == ["postcode"]
    assert printed_surely(pt, 1, {"postcode": other}, ["postcode"]) == []


def test_an_addressee_block_given_as_one_ocr_line_is_still_read(tmp_path):
    # Given the generated (seed 5) water bill of MME ÇAĞLA ÇELIK scanned at 150 dpi, whose addressee
    # block tesseract's layout analysis returns as one line with the street and the city
    # When the page is read
    page = read_generated_page(tmp_path, "0007-non_eu_ok", "non_eu_ok", "scan_150", 5, 6, "Document (4).jpg")
    # Then the holder, street, postcode and city are found (the holder was missing)
    assert page.kind == "proof_of_address"
    assert page.fields["holder_name"] == "ÇAGLA ÇELIK"
    assert (page.fields["address_line"], page.fields["postcode"], page.fields["city"]) == (
        "18 RUE NATIONALE", "37000", "TOURS")


def test_even_lighting_whitens_a_shaded_sheet_and_keeps_its_print():
    from intake.extractors.ocr.orient import even_lighting

    # Given a photographed sheet whose paper goes from 235 at the top to 150 at the bottom
    # (a shadow), with print of the same darkness at the top and at the bottom
    h, w = 1200, 900
    sheet = np.repeat(np.linspace(235, 150, h, dtype=np.float32)[:, None], w, axis=1)
    for y in (100, 1050):
        sheet[y:y + 20, 100:800:40] = 30
    g = sheet.astype(np.uint8)
    # When its lighting is evened out
    even = even_lighting(g)
    # Then the paper is white everywhere and the print stays dark, top and bottom alike
    paper = np.ones_like(g, dtype=bool)
    paper[90:130, :] = paper[1040:1080, :] = False
    assert even[paper].min() >= 235
    assert even[100:120, 100].max() < 60 and even[1050:1070, 100].max() < 60


def test_a_phone_photo_whose_lower_half_is_in_shadow_is_read_whole(tmp_path):
    # Given the generated (seed 5) phone photo of a medical opinion, darker towards its bottom
    # When the page is read
    page = read_generated_page(tmp_path, "0022-medical_too_old", "medical_too_old", "phone", 5, 21, "piece3.jpg")
    # Then the examination date, printed in the shaded half, is read (no word was read there)
    assert page.kind == "medical_opinion"
    assert page.fields["issue_date"] == "2024-02-20"
    assert page.fields["categories"] == ["C"] and page.fields["fit"] is True


@pytest.mark.parametrize("dossier_id,case,degradation,index,file", [
    ("0107-mrz_invalid", "mrz_invalid", "skew", 106, "IMG_20260224_176854.jpg"),
    ("0061-mrz_invalid", "mrz_invalid", "recto_verso_a4", 60, "IMG_20261020_148276.jpg"),
])
def test_a_passport_whose_mrz_check_digits_are_wrong_is_read_and_flagged(tmp_path, dossier_id, case, degradation,
                                                                          index, file):
    # Given a generated (seed 7) passport whose MRZ has a wrong check digit, on a skewed scan or on
    # an A4 page: read upside down, its band gave check digits that came out right by chance
    page = read_generated_page(tmp_path, dossier_id, case, degradation, 7, index, file)
    # Then the upright reading is kept: the fields are read, and the MRZ is flagged for a person
    assert page.kind == "passport" and page.fields["mrz_valid"] is False
    assert page.fields["surname"] in ("ROUSSEAU", "BOYER")
    assert "mrz_invalid" in {f.code for f in page.findings}


@pytest.mark.parametrize("dossier_id,degradation,index,file", [
    ("0127-levee78_ok", "rot180", 126, "IMG_20261106_186805.pdf"),
    ("0141-levee78_ok", "rot90", 140, "Document (2).pdf"),
])
def test_the_back_of_a_turned_licence_is_read_the_right_way_up(tmp_path, dossier_id, degradation, index, file):
    # Given the back of a generated (seed 7) licence card, scanned upside down or sideways: short
    # labels (AM, A1, B) and two dates, too short to be counted as words read with confidence
    page = read_generated_page(tmp_path, dossier_id, "levee78_ok", degradation, 7, index, file, page=2)
    # Then it is turned by the confidence of its reading, and the categories held are read
    assert page.kind == "driving_licence" and page.side == "back"
    assert page.fields["categories"] == ["B"]


def test_a_doubtful_mrz_name_letter_on_a_phone_photo_keeps_its_other_reading(tmp_path):
    from intake.grouping import group_pages

    # Given a generated (seed 6) phone photo of a TD1 card (front, then back with the MRZ) of DA
    # SILVA, whose MRZ reader scores the first letter O just ahead of D
    file = "IMG_20260419_100237.pdf"
    pages = [read_generated_page(tmp_path / str(n), "0038-titre_reussite_ok", "titre_reussite_ok", "phone", 6, 37,
                                 file, page=n) for n in (1, 2)]
    # When the two faces are put together
    documents, _ = group_pages(file, pages)
    # Then the card reads DA SILVA, or keeps the reading with D beside the one with O, for the check
    # against the declared name
    assert [d.kind for d in documents] == ["identity_card"]
    printed = {"surname": "DA SILVA", "given_names": ["MAEL", "PIERRE", "LOUIS"]}
    assert documents[0].fields.get("surname") == "DA SILVA" \
        or printed in documents[0].evidence.get("mrz_name_readings", [])


def test_every_kind_a_page_can_be_classified_as_has_its_reader():
    """Given the kinds of CONTRACT.md, when the page reader's table is read, then every kind but
    `unknown` has exactly one reader (a kind added without one would be classified and left empty)."""
    from intake.documents import KINDS
    from intake.extractors.page import READERS

    assert set(READERS) == set(KINDS) - {"unknown"}
    assert all(callable(reader) for reader in READERS.values())


def test_the_2ddoc_types_that_prove_an_address_are_those_of_rules_md():
    """Given the one table of 2D-Doc types, then the address types are 00, 01, 02, 04 and 28, the tax
    notices among them 02, 04 and 28, and an unknown type is named by its code."""
    from intake.twoddoc_types import ADDRESS_TYPES, TAX_NOTICE_TYPES, label

    assert ADDRESS_TYPES == ("00", "01", "02", "04", "28")
    assert TAX_NOTICE_TYPES == ("02", "04", "28")
    assert label("ZZ") == "document de type ZZ"
