"""Identity cards photographed roughly (issue 16): a card lying among printed papers, small in the
photo, shaken across its lines so that the MRZ's lines smear into one another, saved as JPEG at low
quality. Its band is found by the glyphs' darker cores and read with cells centred on the glyphs'
middle row; what the check digits confirm is exactly what is printed, never another value."""

from __future__ import annotations

import random

import cv2
import numpy as np

from intake.extractors.mrz.locate import find_bands
from intake.extractors.mrz.reader import read_mrz

from test_mrz_specimens import random_identity, render_document

KEYS = ("document_number", "birth_date", "expiry_date")


def _shake(image: np.ndarray, length: int, angle: float) -> np.ndarray:
    kernel = np.zeros((length, length), np.float32)
    c = length // 2
    for t in np.linspace(-c, c, 4 * length):
        kernel[int(round(c + t * np.sin(np.radians(angle)))), int(round(c + t * np.cos(np.radians(angle))))] = 1
    return cv2.filter2D(image, -1, kernel / kernel.sum(), borderType=cv2.BORDER_REPLICATE)


def _photo(seed: int, quarter: int) -> tuple[np.ndarray, dict]:
    """A TD1 card at about 10 px per MRZ character on a table beside a printed paper, the whole
    photo shaken 7 px across the card's lines, turned `quarter` degrees, JPEG quality 30."""
    rng = random.Random(seed)
    lines, fields = random_identity(rng, "td1")
    card = cv2.resize(render_document(lines, "td1", rng), None, fx=0.35, fy=0.35, interpolation=cv2.INTER_AREA)
    table = np.full((1200, 1600, 3), (60, 80, 110), np.uint8)
    grain = np.random.default_rng(seed).integers(-12, 12, table.shape)
    table = np.clip(table.astype(np.int16) + grain, 0, 255).astype(np.uint8)
    cv2.rectangle(table, (80, 650), (760, 1150), (235, 235, 230), -1)  # a printed paper beside it
    for y in range(690, 1130, 26):
        cv2.line(table, (120, y), (120 + rng.randint(350, 600), y), (90, 90, 90), 5)
    h, w = card.shape[:2]
    table[250:250 + h, 850:850 + w] = card
    photo = _shake(table, 7, 90.0)
    if quarter:
        photo = np.ascontiguousarray(np.rot90(photo, quarter // 90))
    ok, data = cv2.imencode(".jpg", photo, [cv2.IMWRITE_JPEG_QUALITY, 30])
    return cv2.imdecode(data, cv2.IMREAD_COLOR), fields


def test_cards_shaken_across_their_lines_among_papers_are_read_and_never_misread():
    # Given six photos of cards among papers, shaken across the MRZ lines, upright or turned
    read, wrong = 0, []
    for seed in range(3):
        for quarter in (0, 90):
            photo, fields = _photo(seed, quarter)
            # When each photo's MRZ is read
            result = read_mrz(photo)
            if result is not None and result.valid:
                if all(result.fields.get(k) == fields[k] for k in KEYS):
                    read += 1
                else:
                    wrong.append((seed, quarter))
    # Then no check-digit-valid MRZ carries a value other than the printed one (fail-safe), and
    # half of the cards at least are read exactly (before the second look by glyph cores: none)
    assert not wrong
    assert read >= 3


def test_lines_smeared_into_one_another_are_found_by_their_cores():
    # Given a card whose MRZ lines a vertical shake has smeared into one another
    rng = random.Random(5)
    lines, _fields = random_identity(rng, "td1")
    card = cv2.resize(render_document(lines, "td1", rng), None, fx=0.3, fy=0.3, interpolation=cv2.INTER_AREA)
    table = np.full((900, 1200, 3), (60, 80, 110), np.uint8)
    h, w = card.shape[:2]
    table[200:200 + h, 300:300 + w] = card
    gray = cv2.cvtColor(_shake(table, 7, 90.0), cv2.COLOR_BGR2GRAY)
    # When the band is looked for as usual, and by the glyphs' darker cores
    plain = [b for b in find_bands(gray, limit=24) if len(b.lines) == 3]
    cores = [b for b in find_bands(gray, limit=24, boost=1.6) if len(b.lines) == 3]
    # Then only the cores keep the three lines apart, each as long as the card's band
    assert not plain
    assert cores and all(0.6 * w <= ln.length <= w for ln in cores[0].lines)


def _td1_read(doubtful_name_letters: int):
    """A valid TD1 read whose names carry `doubtful_name_letters` letters with a close runner-up."""
    from datetime import date

    from intake.extractors.mrz.parse import parse_candidates
    from intake.icao import MrzData, compose_td1

    lines = compose_td1(MrzData("ID", "FRA", "X0DQNW72M", "MERCIER", ("ADRIEN",), "FRA",
                                date(1995, 9, 19), "M", date(2035, 1, 26)))
    grid = [[[(c, 0.0)] for c in line] for line in lines]
    for i in range(doubtful_name_letters):  # MERCIER: M, E, R... each with a look-alike close behind
        grid[2][i].append(("H" if lines[2][i] != "H" else "M", 0.05))
    return parse_candidates(grid, "td1")


def test_names_with_several_doubtful_letters_do_not_count_without_a_person():
    from intake.documents import PageRead
    from intake.extractors.kinds.identity import from_mrz
    from intake.validators.key_fields import KEY_MIN_CONFIDENCE

    # Given two valid TD1 reads, one clear, one whose names hesitate on three letters (a shaken band)
    clear, shaken = _td1_read(0), _td1_read(3)
    assert clear.valid and shaken.valid and len(shaken.name_readings) >= 3
    # When each fills a page
    pages = []
    for mrz in (clear, shaken):
        page = PageRead(page=1)
        from_mrz(page, mrz, (1000, 1500))
        pages.append(page)
    # Then the clear names count, the doubtful ones stay under the key-field threshold, while the
    # numbers the check digits confirm keep their confidence
    confidence = [{k: p.evidence["fields"][k]["confidence"] for k in ("surname", "given_names", "document_number")}
                  for p in pages]
    assert confidence[0]["surname"] >= KEY_MIN_CONFIDENCE
    assert confidence[1]["surname"] < KEY_MIN_CONFIDENCE and confidence[1]["given_names"] < KEY_MIN_CONFIDENCE
    assert confidence[1]["document_number"] >= KEY_MIN_CONFIDENCE
