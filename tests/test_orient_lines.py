"""The direction of a text page's lines from their geometry (issue 16: pages turned a quarter).

Small print on an A4 page, reduced to the work size, runs its letters together: a word becomes
one component, long along its line. A page turned a quarter then shows words as tall as a logo,
and a filter of glyph-sized ink alone saw no line at all: the page was read sideways, and its
dates were missed. No OCR here: the line geometry alone is measured.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from intake.extractors.ocr.orient import geometry, rotate_quarter

WORDS = ("Date", "d'emission", ":", "20-12-2025", "Compte", "n", "239923196692", "Facture", "du",
         "20/06/2025", "Reglee", "139,03", "EUR", "Consommation", "eau", "potable", "45,08")


def _sparse_bill() -> np.ndarray:
    """A portrait A4 page at 200 dpi with a dozen short lines of small condensed print (glyphs
    about 13 px tall, letters touching once reduced), in two columns, as a statement prints them."""
    condensed = 0.8  # drawn wider, then narrowed: a condensed face, letters set tight
    wide = np.full((2339, int(1654 / condensed)), 255, np.uint8)
    rng = np.random.default_rng(7)
    y = 160
    for row in range(12):
        for column_x in (120, 900):
            text = " ".join(rng.choice(WORDS, size=3))
            cv2.putText(wide, text, (int(column_x / condensed), y), cv2.FONT_HERSHEY_SIMPLEX, 0.6, 0, 2, cv2.LINE_AA)
        y += 50 if row % 4 else 120
    return cv2.resize(wide, (1654, 2339), interpolation=cv2.INTER_AREA)


@pytest.mark.parametrize("turn", [90, 270])
def test_a_bill_of_small_print_turned_a_quarter_reads_as_vertical_lines(turn):
    # Given a bill of small print, turned a quarter (the page lies landscape)
    page = rotate_quarter(_sparse_bill(), turn)
    # When its lines are measured
    vertical, skew, lines = geometry(page)
    # Then its lines are seen running down the page, level
    assert vertical and lines >= 5
    assert abs(skew) < 2


def test_the_same_bill_upright_reads_as_horizontal_lines():
    # Given the same bill upright
    vertical, skew, lines = geometry(_sparse_bill())
    # Then its lines run across the page
    assert not vertical and lines >= 5 and abs(skew) < 2


def test_barcode_bars_beside_turned_text_do_not_pass_for_lines():
    # Given a sheet turned a quarter: five short lines of text down the page, and beside them a
    # barcode whose bars now run across the page (solid, long, thin, like lines of text)
    page = np.full((1654, 2339), 255, np.uint8)
    upright = np.full((2339, 1654), 255, np.uint8)
    for i in range(5):
        cv2.putText(upright, "Identifiant photo 2H341L1M9GJ9", (200, 300 + 90 * i), cv2.FONT_HERSHEY_SIMPLEX,
                    1.2, 0, 3, cv2.LINE_AA)
    page = rotate_quarter(upright, 90)
    x = 300
    for k in range(40):  # the bars: 120 px across, 4 to 12 px thick, horizontal on the turned page
        thick = 4 + (k * 7) % 9
        cv2.rectangle(page, (1500, x), (1620, x + thick), 0, -1)
        x += thick + 6
    # When its lines are measured
    vertical, _, _ = geometry(page)
    # Then the text decides: its lines run down the page
    assert vertical
