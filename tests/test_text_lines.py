"""Printed lines rebuilt from word boxes, for certificates whose layout tesseract cut into columns."""

from intake.extractors.ocr.words import Word
from intake.extractors.ocr.page_text import geometric_lines


def _w(text, left, top, block, width=None, height=20):
    return Word(text, 95.0, left, top, width if width is not None else 14 * len(text), height, block, 1)


def test_a_line_cut_into_two_blocks_is_one_line_again_and_a_cut_word_is_whole():
    # Given the words of two printed lines as tesseract returned them: the second line cut in two
    # blocks, a name cut between them, and the first line's end in the second block
    words = [
        _w("Je", 100, 400, 1), _w("soussigné,", 140, 401, 1), _w("atteste", 600, 400, 2), _w("que", 710, 399, 2),
        _w("Mme", 100, 450, 1), _w("DUPONT-MART", 170, 451, 1, width=250), _w("IN", 426, 450, 2, width=30),
        _w("Claire,", 470, 450, 2),
    ]
    # When put back in lines by position
    text = geometric_lines(words)
    # Then each printed line is one line, in reading order, with the cut word whole
    assert text.splitlines() == ["Je soussigné, atteste que", "Mme DUPONT-MARTIN Claire,"]


def test_a_word_read_twice_on_the_overlap_of_two_bands_is_kept_once():
    # Given the last line of one band read again as the first line of the next
    words = [_w("Fait", 100, 900, 5), _w("le", 170, 900, 5), _w("Fait", 101, 901, 1), _w("le", 171, 900, 1),
             _w("12/03/2026", 210, 901, 1)]
    # Then the line has each word once
    assert geometric_lines(words) == "Fait le 12/03/2026"


def test_words_of_one_block_keep_their_spaces_however_close():
    # Given two words of the same block set close together
    words = [_w("M.", 100, 300, 3, width=20), _w("DUPONT", 124, 300, 3)]
    # Then tesseract's own word spacing is kept
    assert geometric_lines(words) == "M. DUPONT"
