"""Driving licences as users send them (issue 16): photographed on a table beside their back and
other papers, at any quarter turn, and the real French specimen (../shared/data/specimens), read
with the real tesseract.

The photos are family-2 dossiers regenerated from their seed and index
(fixtures.family2.corpus.generate_one: the exact pixels that were once not read). The specimen is
used only when ../shared is present.
"""

from __future__ import annotations

import random
from pathlib import Path

import cv2
import numpy as np
import pytest

from family2_pieces import family2_piece
from intake.evaluation import field_matches
from intake.extractors import classify as classify_mod
from intake.extractors import fields as fields_mod
from intake.extractors.images import open_source
from intake.extractors.kinds import certificates
from intake.extractors.page import read_page
from intake.settings import get_settings
from intake.validators.key_fields import KEY_MIN_CONFIDENCE

FRONT_KEYS = ("holder_name", "licence_number", "categories")
SPECIMEN = Path(__file__).resolve().parents[2] / "shared" / "data" / "specimens" / "driving_licence" / \
    "arezkisaba_permis_specimen_MARTIN_Marie.png"

PHOTOS = [
    # (seed, index, case, style, what went wrong)
    (112, 3, "extension_ok", "f2_phone", "both faces upside down on a desk: the photo read as nothing"),
    (112, 10, "medical_too_old", "f2_mixed", "a sheet under the cards flattened as the page: no text"),
    (112, 16, "medical_heavy_ok", "f2_phone", "the cards a quarter turn, the whole table flattened"),
]




@pytest.mark.parametrize("seed,index,case,style,why", PHOTOS, ids=[f"s{p[0]}-{p[1] + 1:04d}" for p in PHOTOS])
def test_a_licence_photographed_beside_its_back_among_papers_is_found_and_read(tmp_path, seed, index, case,
                                                                                style, why):
    # Given a photo of a licence's two faces lying on a table among other papers
    image, piece = family2_piece(tmp_path, seed, index, kind="driving_licence", case=case, style=style)
    # When its cards are found and read one by one
    found = certificates.read_photographed_cards(image)
    # Then the licence's front is read: holder and number as printed, and the categories as printed
    # or not at all (field 9 read "AMB", its slash lost, is not split into a guess)
    assert found is not None, why
    pt, result = found
    assert result.kind == "driving_licence", why
    read = fields_mod.licence_fields(pt.text)
    for name in ("holder_name", "licence_number"):
        assert field_matches(name, piece["fields"][name], read.get(name)), f"{name}: {why}"
    assert read.get("categories") is None or field_matches("categories", piece["fields"]["categories"],
                                                           read["categories"]), why


def test_a_licence_photo_read_as_its_back_is_read_again_card_by_card(tmp_path):
    # Given a photo where the page reader flattens both faces as one page (it reads the back's table)
    image, piece = family2_piece(tmp_path, 113, 12, kind="driving_licence", case="formation_a_ok", style="f2_mixed")
    # When the page is read
    page = read_page(image, 1)
    # Then it is the licence's front that gives the values, traced to the card's words
    assert page.kind == "driving_licence"
    for name in FRONT_KEYS:
        assert field_matches(name, piece["fields"][name], page.fields.get(name)), name
    assert page.evidence["fields"]["licence_number"].get("box")
    # And, read from one card among papers, each key value counts only when a second reading of its
    # box gave it again: otherwise it stays under the threshold, for a person to look at
    for name, entry in page.evidence["fields"].items():
        if name in FRONT_KEYS and not entry.get("protected"):
            assert entry.get("readings") == 2 or entry["confidence"] < KEY_MIN_CONFIDENCE, name


def test_a_photo_of_a_table_without_a_card_gives_no_card():
    # Given a cluttered table photographed with nothing card-shaped on it
    from fixtures.family2.degrade import clutter

    table, _ = clutter(random.Random(7), 1600, 1200)
    # When its cards are looked for
    # Then none is read (the fallback gives nothing rather than a guess)
    assert certificates.read_photographed_cards(table) is None


def test_a_scan_is_not_taken_for_a_photo():
    # Given a scanned page: white margins all round
    page = np.full((1400, 1000, 3), 255, np.uint8)
    cv2.putText(page, "PERMIS DE CONDUIRE", (100, 300), cv2.FONT_HERSHEY_SIMPLEX, 1.5, (0, 0, 0), 3)
    # Then the card-by-card reading (for photos) is not for it
    assert not certificates.photographed(page)


def test_the_licence_title_hidden_by_the_portrait_is_still_a_licence():
    # Given the OCR of a licence whose title the ghost portrait covers, with its numbered sub-fields
    # and the machine-readable line at its foot
    text = "PERMIS DE\nQUIRE\nREPUBLIQUE FRANÇAISE\n1. MARTI\n2. Marie\n3. 14.07.1981\n4b 31.12.2015\n" \
           "5. 13AA00001\n9. A/B\nDIFRAT3AA000026181231MARTIN<<9"
    # When it is classified as a card
    result = classify_mod.classify_text(text, card_shaped=True)
    # Then it is a driving licence, its 2013-model number is read, and the machine-readable line
    # gives the surname that field 1 lost its last letter of
    assert result.kind == "driving_licence"
    read = fields_mod.licence_fields(text)
    assert read["licence_number"] == "13AA00001"
    assert read["categories"] == ["A", "B"]
    assert read["holder_name"] == "MARTI Marie"
    assert fields_mod.licence_machine_surname(text) == "MARTIN"


def test_field_9_read_as_8_is_category_b_and_nothing_else_is_guessed():
    # Given field 9 with its bold B read as the digit 8, and a field 9 of digits only
    one = "1. DUPONT\n2. JEAN\n5. 121187151692\n9\n8"
    two = "1. DUPONT\n2. JEAN\n5. 121187151692\n9. 88"
    # Then the lone 8 is B (no category is a digit); "88" is no category and is left unread
    assert fields_mod.licence_fields(one)["categories"] == ["B"]
    assert "categories" not in fields_mod.licence_fields(two)


@pytest.mark.skipif(not SPECIMEN.is_file(), reason="../shared/data/specimens is not present")
def test_the_french_licence_specimen_is_read_as_a_driving_licence():
    # Given the official French EU-card licence specimen (a photo of the card, ghost portrait over
    # the title and the end of the surname), opened as `intake extract` opens it
    source = open_source(SPECIMEN, get_settings(), reading=True)
    # When it is read
    page = read_page(source.render(1), 1)
    # Then it is a driving licence (it was "image trop floue"), and every value given is the
    # printed one: the number, the categories and the birth date as printed, or not given
    assert page.kind == "driving_licence"
    assert page.fields.get("licence_number") in ("13AA00001", None)
    assert page.fields.get("categories") in (["A", "B"], None)
    assert page.fields.get("birth_date") in ("1981-07-14", None)
    # and the holder is MARTIN Marie (field 1 cut to "MARTI", completed from the machine-readable
    # line), left for a person since its two readings disagreed: never a cut surname called sure
    assert field_matches("holder_name", "MARTIN MARIE", page.fields.get("holder_name"))
    assert page.evidence["fields"]["holder_name"]["confidence"] < KEY_MIN_CONFIDENCE
