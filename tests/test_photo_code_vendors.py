"""E-photo sheets of vendors the reader was not drawn for (fixtures/family2: IDENTIPLUS, Studio
Lumière, clicmatic, PIXID), drawn clean and upright or turned, and read with the real tesseract.

Each sheet is drawn directly by fixtures.family2.ephoto for a fixed seed, so the test holds the
exact pixels; none of these seeds is a held-out seed of the family-2 corpus.
"""

from __future__ import annotations

import random
import string
from datetime import date

import cv2
import numpy as np
import pytest

from fixtures.family2.ephoto import ephoto
from intake.extractors.page import read_page


def _sheet(vendor: str, seed: int, **options):
    rng = random.Random(seed)
    code = "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(22))
    taken = date(2026, rng.randint(1, 12), rng.randint(1, 28))
    drawn = ephoto(rng, code, taken, 300, vendor=vendor, **options)
    image = cv2.cvtColor(np.array(drawn.pages[0].convert("RGB")), cv2.COLOR_RGB2BGR)
    return image, code, taken


def _turned(image: np.ndarray, rotation: int) -> np.ndarray:
    return image if rotation == 0 else np.ascontiguousarray(np.rot90(image, k=-rotation // 90))


@pytest.mark.parametrize("rotation", [0, 90])
def test_a_sheet_whose_code_is_a_signature_number_beside_a_qr_code_is_an_ephoto(rotation):
    # Given a clicmatic ticket: "N° de signature", "Prise de vue le 19/07/2026 à 14h02", a QR code
    image, code, taken = _sheet("clicmatic", 1001)
    # When it is read, upright or turned a quarter
    page = read_page(_turned(image, rotation), 1)
    # Then it is an e-photo sheet, its code is the QR's, with its evidence, and its date is read
    assert page.kind == "photo_code"
    assert page.fields.get("code") == code
    assert page.evidence["fields"]["code"]["reader"] == "barcode"
    assert page.fields.get("photo_date") == taken.isoformat()


@pytest.mark.parametrize("seed,rotation", [(1000, 0), (1001, 0), (1000, 270)])
def test_a_code_boxed_in_ocr_b_in_groups_of_two_is_read_glyph_by_glyph(seed, rotation):
    # Given an IDENTIPLUS sheet: the code in OCR-B, in groups of 2, inside a rounded box
    image, code, taken = _sheet("identiplus", seed)
    # When it is read
    page = read_page(_turned(image, rotation), 1)
    # Then every character is the printed one (1 not T, 0 not O, Q not a), with its evidence
    assert page.kind == "photo_code"
    assert page.fields.get("code") == code
    assert page.evidence["fields"]["code"]["reader"] == "photo_code"
    assert page.fields.get("photo_date") == taken.isoformat()


def test_a_code_under_a_code_128_barcode_is_read_from_the_barcode():
    # Given a Studio Lumière print: "Identifiant photo ANTS", a Code 128 barcode, the code under it
    image, code, taken = _sheet("studio_lumiere", 1000)
    # When it is read
    page = read_page(image, 1)
    # Then the code is the barcode's, and the date of the shot is read
    assert page.fields.get("code") == code
    assert page.evidence["fields"]["code"]["reader"] == "barcode"
    assert page.fields.get("photo_date") == taken.isoformat()


def test_a_code_framed_in_a_box_with_a_weekday_date_and_no_barcode():
    # Given a PIXID sheet with no DataMatrix: the code in groups of 3 inside a frame, whose last
    # group is one character, and "Le <date> à 14:02" under it
    image, code, taken = _sheet("pixid", 1001)
    # When it is read
    page = read_page(image, 1)
    # Then the frame's side is no leading 'T' and the last group is kept
    assert page.fields.get("code") == code
    assert page.fields.get("photo_date") == taken.isoformat()
