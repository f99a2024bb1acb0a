"""The MRZ of a card photographed badly (shaken, out of focus, at an angle, JPEG at low quality):
read exactly when its check digits settle every doubt, left `mrz_invalid` when they cannot
(issue 16: a value the check digits do not confirm is never presented as protected)."""

from __future__ import annotations

import random
from datetime import date

import cv2
import numpy as np
import pytest

from intake.extractors.mrz.parse import parse_candidates
from intake.extractors.mrz.reader import read_mrz
from intake.icao import MrzData, compose_td1

from test_mrz_specimens import random_identity, render_document


def _candidates(lines: list[str], doubts: dict[tuple[int, int], tuple[str, float]]) -> list:
    """Per-position candidates as the glyph matcher gives them: each character sure, except the
    `doubts` (line, position) -> (runner-up, cost)."""
    return [[[(c, 0.0)] + ([doubts[(li, i)]] if (li, i) in doubts else []) for i, c in enumerate(line)]
            for li, line in enumerate(lines)]


CARD = MrzData("ID", "FRA", "X0DQNW72M", "ROUSSEAU", ("LOUISE",), "FRA", date(1994, 4, 17), "F", date(2032, 8, 15))


def test_a_check_digit_two_readings_pass_alike_confirms_neither():
    # Given a blurred TD1 whose number X0DQNW72M was read XODQNW72H, and three letters hesitating:
    # O/0 and H/M (the truth, two changes) and D/6 (one change that passes the mod-10 check too)
    lines = compose_td1(CARD)
    read = [lines[0][:6] + "O" + lines[0][7:13] + "H" + lines[0][14:], lines[1], lines[2]]
    doubts = {(0, 6): ("0", 0.06), (0, 7): ("6", 0.09), (0, 13): ("M", 0.04)}
    # When it is parsed
    result = parse_candidates(_candidates(read, doubts), "td1")
    # Then the number's check does not choose: the MRZ is invalid, its number not presented as sure
    assert not result.checks["number"] and not result.valid
    assert result.fields["document_number"] != "XO6QNW72H"


def test_a_check_digit_one_cheap_reading_passes_is_repaired():
    # Given the same card with one hesitating letter only: H read where M is printed
    lines = compose_td1(CARD)
    read = [lines[0][:13] + "H" + lines[0][14:], lines[1], lines[2]]
    # When it is parsed
    result = parse_candidates(_candidates(read, {(0, 13): ("M", 0.04)}), "td1")
    # Then the check digit restores the number
    assert result.valid and result.fields["document_number"] == "X0DQNW72M"


def test_a_state_code_read_wrong_is_restored_from_its_runner_up():
    # Given a TD1 whose nationality FRA was read FHA, R a close runner-up of H
    lines = compose_td1(CARD)
    read = [lines[0], lines[1][:16] + "H" + lines[1][17:], lines[2]]
    # When it is parsed
    result = parse_candidates(_candidates(read, {(1, 16): ("R", 0.08)}), "td1")
    # Then the nationality is the ICAO code, and the check digits still hold
    assert result.fields["nationality"] == "FRA" and result.valid


def _shaken(card: np.ndarray, rng: random.Random, length: int, angle: float, quality: int) -> np.ndarray:
    """The card shrunk to a phone photo's scale (about 15 px per MRZ character), shaken along
    `angle`, saved as JPEG at `quality`."""
    small = cv2.resize(card, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    kernel = np.zeros((length, length), np.float32)
    c = length // 2
    for t in np.linspace(-c, c, 4 * length):
        kernel[int(round(c + t * np.sin(np.radians(angle)))), int(round(c + t * np.cos(np.radians(angle))))] = 1
    shaken = cv2.filter2D(small, -1, kernel / kernel.sum(), borderType=cv2.BORDER_REPLICATE)
    pad = cv2.copyMakeBorder(shaken, 80, 80, 80, 80, cv2.BORDER_CONSTANT, value=(60, 70, 90))
    ok, data = cv2.imencode(".jpg", pad, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(data, cv2.IMREAD_COLOR)


@pytest.mark.parametrize("seed,fmt,angle", [(3, "td1", 80.0), (4, "td3", 10.0), (6, "td1", 0.0), (7, "fr_cni_2x36", 90.0)])
def test_a_shaken_photo_of_a_card_is_read_exactly_or_not_confirmed(seed, fmt, angle):
    # Given a card photographed with a 7 px shake, small and in low-quality JPEG
    rng = random.Random(seed)
    lines, fields = random_identity(rng, fmt)
    image = _shaken(render_document(lines, fmt, rng), rng, 7, angle, 30)
    # When its MRZ is read
    result = read_mrz(image)
    # Then it is found, and what its check digits confirm is exactly what is printed
    assert result is not None
    if result.valid:
        assert all(result.fields.get(k) == fields[k] for k in ("document_number", "birth_date", "expiry_date"))
    assert result.valid, "a 7 px shake at this scale is legible to a person"


def test_a_shaken_band_reads_better_with_blurred_glyphs():
    from intake.extractors.mrz import ocr

    # Given the cells of a line of OCR-B blurred by a shake across the line
    tpl, chars = ocr.templates()
    kernel = ocr._blur_kernel(("shake", 90, 7), 1.0)
    text = "P<FRA0123456789"
    cells = [cv2.filter2D(tpl[chars.index(ch)], -1, kernel) for ch in text]
    # When they are classified
    candidates, scores = ocr.classify(cells)
    # Then every glyph is the one printed
    assert "".join(c[0][0] for c in candidates) == text


def test_a_card_on_a_striped_tablecloth_is_read():
    # Given a card photographed upside down on a cloth whose stripes run from edge to edge of the
    # photo (each stripe looks like a long text line, and they come evenly spaced like an MRZ's)
    rng = random.Random(11)
    lines, fields = random_identity(rng, "td1")
    card = cv2.rotate(render_document(lines, "td1", rng), cv2.ROTATE_180)
    card = cv2.resize(card, None, fx=0.6, fy=0.6, interpolation=cv2.INTER_AREA)
    photo = np.full((1500, 2000, 3), 190, np.uint8)
    for y in range(0, 1500, 45):
        for x in range(0, 2000, 14):  # stripes of short dashes, like a weave
            cv2.rectangle(photo, (x, y), (x + 9, y + 12), (70, 60, 50), -1)
    h, w = card.shape[:2]
    photo[500:500 + h, 700:700 + w] = card
    # When its MRZ is read
    result = read_mrz(photo)
    # Then the card's band is found among the stripes and read exactly
    assert result is not None and result.valid
    assert all(result.fields.get(k) == fields[k] for k in ("document_number", "birth_date", "expiry_date"))
