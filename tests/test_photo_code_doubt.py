"""The e-photo code's line found, read and doubted without the look of one vendor: glyphs one face
cannot tell apart are settled by another reader or left in doubt, a frame merged with the first group
is not a character, a barcode no longer hides the print around it.

Unit tests build their inputs by hand (glyph readings, OCR words) or draw them (a family-2 sheet,
seeds that are not held out); nothing here stands in for tesseract where reading is measured.
"""

from __future__ import annotations

import random
import string
from datetime import date
from difflib import SequenceMatcher

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from fixtures.family2.ephoto import ephoto
from intake.extractors.ephoto.barcodes import barcode_texts, without_barcodes
from intake.extractors.ephoto.code import GlyphReading, read_glyphs_ranked, zero_rings
from intake.extractors.ephoto.line import clean_line, locate_code_line
from intake.extractors.ephoto.vote import AMBIGUOUS_MARGIN, settle
from intake.extractors.ocr import words as ocr
from intake.extractors.ocr.words import Word

CLEAR = 0.1
NEAR = AMBIGUOUS_MARGIN / 4


def _reading(chars: str, second: str, margins: list[float]) -> GlyphReading:
    return GlyphReading(chars, 0.93, "face", second, tuple(margins))


def test_an_ambiguous_glyph_is_settled_by_another_reader_naming_one_of_its_two_candidates():
    # Given a D that matches the O template almost as well (a blurred bold O), and a line reading
    # that has an O there
    glyphs = _reading("AXD4", "8KO1", [CLEAR, CLEAR, NEAR, CLEAR])
    # When it is settled
    settled = settle(glyphs, ["AXO4"])
    # Then the O is taken and nothing is left in doubt
    assert settled.code == "AXO4" and settled.unsettled == ()


def test_an_ambiguous_glyph_no_reader_settles_stays_in_doubt():
    # Given the same glyph, and readings that name neither candidate, or are of another length
    glyphs = _reading("AXD4", "8KO1", [CLEAR, CLEAR, NEAR, CLEAR])
    settled = settle(glyphs, ["AX04", "AXDD4"])
    # Then the glyph is kept as read, and its position is unsettled
    assert settled.code == "AXD4" and settled.unsettled == (2,)


def test_tesseract_is_no_vote_between_o_and_zero():
    # Given an O the glyphs prefer by a hair to 0, in a face with plain zeros, and two tesseract
    # readings that both say 0
    glyphs = _reading("HAY3O6", "R4V808", [CLEAR, CLEAR, CLEAR, CLEAR, NEAR, CLEAR])
    settled = settle(glyphs, ["HAY306", "HAY306"])
    # Then the glyph is not changed on their word: it stays in doubt
    assert settled.code == "HAY3O6" and settled.unsettled == (4,)


def test_o_and_zero_are_settled_by_the_ring_in_a_face_that_marks_its_zeros():
    # Given an O read 0 by a hair in a face whose zeros are dotted (the ring's middle says O)
    glyphs = _reading("0G2", "OG2", [NEAR, CLEAR, CLEAR])
    settled = settle(glyphs, ["0G2"], zeros={0: False})
    # Then the ring decides, whatever tesseract said
    assert settled.code == "OG2" and settled.unsettled == ()


def _line(text: str, font: str, size: int = 40, blur: float = 0.0) -> np.ndarray:
    face = ImageFont.truetype(font, size)
    img = Image.new("L", (int(face.getlength(text)) + 60, size * 2), 255)
    ImageDraw.Draw(img).text((30, size // 2), text, font=face, fill=0)
    line = np.array(img)
    return cv2.GaussianBlur(line, (0, 0), blur) if blur else line


DEJAVU_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"


def test_a_blurred_bold_o_is_told_from_a_dotted_zero_by_the_middle_of_its_ring():
    # Given a bold monospaced line with an O and a dotted zero, blurred as by a phone photo
    line = _line("O7K0", DEJAVU_BOLD, blur=1.6)
    # When the rings are looked at
    rings = zero_rings(line, "O7K0")
    # Then the O's ring is empty and the zero's is marked
    assert rings == {0: False, 3: True}


def test_a_clear_line_reads_with_no_ambiguous_glyph():
    # Given a sharp line in a face the matcher knows
    reading = read_glyphs_ranked(_line("7K3P9QX2ZT", DEJAVU_BOLD))
    # Then it is read as printed, every glyph clear of its runner-up
    assert reading.chars == "7K3P9QX2ZT"
    assert reading.ambiguous(AMBIGUOUS_MARGIN) == []


def _word(text, left, top, width, height, conf=90.0):
    return Word(text, conf, left, top, width, height, 1, 1)


def test_a_frame_merged_with_the_first_group_gives_its_width_not_its_height():
    # Given the OCR words of a boxed code whose first group was read with the frame's side as one
    # tall word "Le" of low confidence, the other groups at the line's height
    words = [_word("Code", 758, 281, 74, 23), _word("Le", 742, 323, 55, 99, 21.0)]
    words += [_word(g, 822 + 57 * i, 350, 32, 19) for i, g in enumerate(["GM", "72", "QW", "AP", "JU", "ZQ"])]
    # When the code's line is located
    line = locate_code_line(words, "Le GM 72 QW AP JU ZQ")
    # Then it spans from the tall word's left to the last group, at the groups' height, and it is as
    # sure as its weakest word
    assert line.left == 742 and line.right == 822 + 57 * 5 + 32
    assert line.top == 350 and line.bottom == 369
    assert line.weakest == 0.21


def test_a_code_printed_with_dashes_is_one_word_and_still_located():
    # Given a code read as one dashed word after a frame's side read '|'
    words = [_word("|", 60, 180, 8, 97, 33.0), _word("AF7-GBZ-3SH-Q65-9K1-GQ3-KVN-Z", 83, 205, 830, 40)]
    # When its line is located
    line = locate_code_line(words, "| AF7-GBZ-3SH-Q65-9K1-GQ3-KVN-Z")
    # Then it is found, at the code's height
    assert line is not None and line.top == 205 and line.bottom == 245


def test_the_sides_of_a_frame_are_not_read_as_a_leading_one():
    # Given a code line inside a drawn frame, cropped with its sides
    img = Image.new("L", (760, 90), 255)
    draw = ImageDraw.Draw(img)
    draw.rectangle([6, 2, 750, 87], outline=0, width=3)
    draw.text((30, 25), "AF7 GBZ 3SH Q65", font=ImageFont.truetype(DEJAVU_BOLD, 40), fill=0)
    crop = np.array(img)[10:80, :]
    # When the line is cleaned and read by tesseract alone
    text = ocr.image_to_text(clean_line(crop), lang="eng", psm=7,
                             config="-c tessedit_char_whitelist=ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    # Then no side is read as a character
    assert "".join(text.split()) == "AF7GBZ3SHQ65"


def _studio_sheet(seed: int):
    rng = random.Random(seed)
    code = "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(22))
    drawn = ephoto(rng, code, date(2026, 4, 5), 300, vendor="studio_lumiere")
    return cv2.cvtColor(np.array(drawn.pages[0].convert("RGB")), cv2.COLOR_RGB2GRAY), code


def test_a_barcode_is_made_white_and_the_code_printed_under_it_is_kept():
    # Given a photographer's sheet: a Code 128 of the code, the code printed right under the bars
    gray, code = _studio_sheet(1002)
    assert code in barcode_texts(gray)
    # When its barcodes are made white
    blank, removed = without_barcodes(gray)
    # Then the barcode is gone, and the print under it still reads
    assert removed == 1 and barcode_texts(blank) == []
    words = ocr.image_to_words(blank, lang="fra", psm=3)
    assert max(SequenceMatcher(None, code, w.text).ratio() for w in words) >= 0.8


def test_a_glyph_won_by_little_against_the_character_another_reader_names_is_in_doubt():
    # Given a Z that beats 2 by a little, where the line's tesseract reading has a 2
    glyphs = _reading("ZXG7", "2K6T", [AMBIGUOUS_MARGIN * 1.7, CLEAR, CLEAR, CLEAR])
    settled = settle(glyphs, ["2XG7"])
    # Then the glyph is kept, in doubt
    assert settled.code == "ZXG7" and settled.unsettled == (0,)
    # and a reader agreeing with the glyph leaves nothing in doubt
    assert settle(glyphs, ["ZXG7"]).unsettled == ()
