"""E-photo codes read glyph by glyph where a phone photo or a vendor's layout changes the glyphs' look
(issue #16): OCR-B's zeros beside its O, a code stretched to fit its box, a line leaning like an
italic. Real fonts drawn and blurred as a phone sees them; sheets end to end in test_ephoto_sheets.py.
"""

import json

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from intake.extractors.ephoto.code import read_glyphs_ranked
from intake.extractors.ephoto.line import upright
from intake.extractors.ephoto.vote import contradicts

OCRB = "/usr/share/fonts/opentype/ocr-b/OCRB.otf"
MONO_BOLD = "/usr/share/fonts/truetype/liberation/LiberationMono-Bold.ttf"


def _printed(text: str, font: str, size: int, stretch: float = 1.0, lean: float = 0.0,
             blur: float = 0.7) -> np.ndarray:
    """A code line as a phone sees it: drawn in `font`, widened by `stretch`, sheared by `lean`
    (pixels across per pixel down), blurred."""
    face = ImageFont.truetype(font, size)
    img = Image.new("L", (int(face.getlength(text)) + 80, int(size * 2.2)), 255)
    ImageDraw.Draw(img).text((40, int(size * 0.5)), text, font=face, fill=0)
    line = np.array(img)
    rows, cols = line.shape
    if stretch != 1.0 or lean:
        m = np.float32([[stretch, lean, 20 - lean * rows / 2], [0, 1, 0]])
        line = cv2.warpAffine(line, m, (int(cols * stretch) + 40, rows), borderValue=255)
    return cv2.GaussianBlur(line, (0, 0), blur)


@pytest.mark.parametrize("code", ["PD 30 10 O6 SD Z5 2D 0Z B3 WL NH", "53 61 Y0 KX H7 78 IZ QJ DT JH UY"])
def test_ocrb_zeros_and_letters_o_are_told_apart_in_a_code_of_many_digits(code):
    # Given a booth code printed small in OCR-B, whose digits stand taller than its capitals
    line = _printed(code, OCRB, 26)
    # When it is read glyph by glyph
    reading = read_glyphs_ranked(line)
    # Then each zero is a 0 and each letter O an O (the line measured at the face's own scale)
    assert reading.chars == code.replace(" ", "")
    assert reading.face.endswith("OCRB.otf")


def test_a_code_stretched_to_fit_its_box_is_read_in_its_own_face():
    # Given a code in bold Liberation Mono printed a tenth wider than the face draws it
    code = "WMD OQ0 MWN 0DO HMW 8B3 OMW Q"
    line = _printed(code, MONO_BOLD, 30, stretch=1.12, blur=0.8)
    # When it is read glyph by glyph
    reading = read_glyphs_ranked(line)
    # Then its own face is found and its M, W, O and 0 come out as printed
    assert reading.face.endswith("LiberationMono-Bold.ttf")
    assert reading.chars == code.replace(" ", "")


def test_a_leaning_line_is_made_upright_before_its_glyphs_are_read():
    # Given a code line photographed at a slant: its glyphs lean like an italic
    code = "7LU MOP RXF ZZW 3XF Q8N TKP 8"
    line = _printed(code, MONO_BOLD, 30, lean=0.25, blur=0.8)
    # When it is made upright and read
    reading = read_glyphs_ranked(upright(line))
    # Then every character comes out as printed
    assert reading.chars == code.replace(" ", "")


def test_an_upright_line_is_left_as_it_is():
    # Given a code line printed straight
    line = _printed("PD 30 10 O6 SD Z5 2D 0Z B3 WL NH", OCRB, 26)
    # When it is made upright, Then it is unchanged
    assert np.array_equal(upright(line), line)


def test_a_reading_another_contradicts_at_three_characters_is_contradicted():
    # Given a glyph reading and the line's tesseract reading of the same length
    glyphs = "ZLUNDPRXFZZN3XF08NTKP8"
    # Then three characters or more apart (O/0 and I/1 not counted) contradict it
    assert contradicts(glyphs, "7LUMOPRXFZZW3XFQENTKP8")
    # And O read 0 or I read 1 alone, or a reading of another length, does not
    assert not contradicts("PD3010O6SDZ52D0ZB3WLNH", "PD3O1OO6SDZ52DOZB3WLNI")
    assert not contradicts(glyphs, "7LUMOPRXFZZW3XFQENTKP")
