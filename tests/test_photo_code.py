"""The e-photo code: 22 characters, printed grouped or not, O/0 and I/1 resolved where the groups allow."""

import random
import string

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from intake.extractors.ephoto.code import find_code, is_valid, normalise_code, zero_or_o

CODE = "7K3P9QX2ZT4M8R5VN6WB1C"


def _grouped(code: str, sep: str = " ") -> str:
    return sep.join(code[i:i + 4] for i in range(0, len(code), 4))


@pytest.mark.parametrize("printed", [CODE, _grouped(CODE), _grouped(CODE, "-"), _grouped(CODE, " - ")])
def test_code_read_with_or_without_spaces_and_dashes(printed):
    # Given a booth sheet printing the code after its label
    text = f"PHOTOMATON - Photo d'identité conforme ANTS\nCode photo signature numérique :\n{printed}\nDate : 12/03/2026"
    found = find_code(text)
    # Then the code is the 22 characters without separators
    assert found is not None and found.code == CODE and found.valid


def test_code_on_the_label_line():
    found = find_code(f"Code e-photo : {_grouped(CODE)}")
    assert found.code == CODE


def test_characters_outside_the_alphabet_are_mapped_to_their_only_meaning():
    # Given OCR output with a bar for 1 and lower-case letters
    assert normalise_code("7k3p 9QX2 |C") == "7K3P9QX21C"


def test_o_and_zero_are_kept_as_read_since_codes_are_random():
    # Booth codes are random alphanumerics: no position tells a 0 from an O, the glyph does.
    assert normalise_code("AB0C 12O4") == "AB0C12O4"


def test_barcode_payload_wins_over_ocr():
    found = find_code(f"Code e-photo : {_grouped('7K3P9QX2ZT4M8R5VN6WB1O')}", barcode_texts=[f"EPHOTO;{CODE};"])
    assert found.code == CODE and found.source == "barcode"


def test_wrong_length_code_is_reported_invalid():
    # Given a code missing one character, When read, Then it is found but not valid (photo_code_invalid)
    found = find_code(f"Code photo signature numérique : {CODE[:-1]}")
    assert found is not None and not found.valid and len(found.code) == 21


def test_prose_is_not_a_code():
    assert find_code("La photo et la signature sont transmises\nà l'ANTS de manière sécurisée") is None


def test_validity_is_22_uppercase_letters_and_digits():
    rng = random.Random(3)
    for _ in range(50):
        code = "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(22))
        assert is_valid(code)
    assert not is_valid(CODE[:-1]) and not is_valid(CODE.lower()) and not is_valid(CODE[:-1] + "-")


def _line(text: str, font: str) -> "np.ndarray":
    img = Image.new("L", (40 * len(text) + 80, 90), 255)
    ImageDraw.Draw(img).text((40, 20), text, font=ImageFont.truetype(font, 44), fill=0)
    return np.array(img)


MONO_DOTTED_ZERO = "/usr/share/fonts/truetype/liberation/LiberationMono-Regular.ttf"


def test_dotted_zeros_settle_o_against_0_from_the_glyphs():
    # Given a code printed in a font that dots its zeros, and an OCR reading with O and 0 swapped
    printed = "X44S0O2A0QPOASTVJTBOQB"
    misread = "X44SO02AOQP0ASTVJTB0QB"
    # When the glyphs are looked at, Then every ring with a dot is 0 and every empty ring O
    assert zero_or_o(_line(printed, MONO_DOTTED_ZERO), misread) == printed


def test_without_any_marked_zero_the_reading_is_kept():
    # OCR-B draws plain zeros: nothing in the glyphs tells them from O, so nothing is changed
    line = _line("AB0CO1", "/usr/share/fonts/opentype/ocr-b/OCRB.otf")
    assert zero_or_o(line, "AB0CO1") == "AB0CO1"
    assert zero_or_o(line, "ABOC01") == "ABOC01"


def test_a_code_in_a_common_face_is_read_glyph_by_glyph():
    # Given a random code printed in a monospaced face, glyphs touching as booth printers do
    from intake.extractors.ephoto.code import FACE_MIN_SCORE, read_glyphs

    code = "WWVA0OQ1I7SAAJ6G9Z4MKX"
    img = Image.new("L", (1400, 90), 255)
    ImageDraw.Draw(img).text((30, 20), " ".join(code[i:i + 4] for i in range(0, 22, 4)),
                             font=ImageFont.truetype(MONO_DOTTED_ZERO, 44), fill=0)
    # When read against the templates, Then every character comes out, O and 0 and I and 1 apart
    text, score, face = read_glyphs(np.array(img))
    assert text == code and score >= FACE_MIN_SCORE and face.endswith("LiberationMono-Regular.ttf")


def test_a_face_unlike_the_templates_is_not_trusted():
    from intake.extractors.ephoto.code import FACE_MIN_SCORE, read_glyphs

    img = Image.new("L", (1400, 90), 255)
    ImageDraw.Draw(img).text((30, 20), "7K3P 9QX2 ZT4M 8R5V N6WB 1C",
                             font=ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSerif-BoldItalic.ttf", 44),
                             fill=0)
    assert read_glyphs(np.array(img))[1] < FACE_MIN_SCORE
