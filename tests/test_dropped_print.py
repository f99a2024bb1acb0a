"""Print that tesseract's layout analysis dropped, or joined across rows, is found again: a bill's
header table whose labels were lost or misread beside its rules (its date then had no label, hence
no issue date), a logo beside several rows that merged them into one printed line, and a day's 1
read "l" ("ler avril", "ll mars") (issue 16). Family-2 seed 116 and 121 pieces, regenerated from
their seed."""

from __future__ import annotations

import numpy as np

from intake.extractors.dates import find_dates
from intake.extractors.ocr import words as ocr
from intake.extractors.ocr.page_text import dropped_rows, geometric_lines
from intake.extractors.page import read_page
from tests.family2_pieces import family2_piece


def test_a_bill_whose_table_labels_were_dropped_gets_its_issue_date(tmp_path):
    # Given a phone photo, upside down, of a water bill whose header table ("Émise le | 20 mars
    # 2026") tesseract reads without its labels
    image, expected = family2_piece(tmp_path, 116, 38, "Numérisation_003.jpg")
    assert expected["kind"] == "proof_of_address"
    # When the page is read
    page = read_page(image, 1)
    # Then the dropped row was read again alone, and the date under its label is the issue date
    assert page.kind == "proof_of_address"
    assert page.evidence.get("dropped_rows_read") is True
    assert page.fields.get("issue_date") == expected["fields"]["issue_date"]
    # and the values the first reading found are the same
    assert page.fields.get("postcode") == expected["fields"]["postcode"]


def test_a_scanned_bill_whose_date_label_was_misread_beside_a_rule_gets_its_issue_date(tmp_path):
    # Given a clean scan of a bill whose header table's "Émise le" tesseract reads "l'Étoile" beside
    # the cell's rule, so that its date "20 nov. 2025" has no label
    image, expected = family2_piece(tmp_path, 121, 9, "Numérisation_004.tif")
    assert expected["kind"] == "proof_of_address"
    # When the page is read
    page = read_page(image, 1)
    # Then the date's row, read again alone, gives the date with its label: the issue date
    assert page.evidence.get("dropped_rows_read") is True
    assert page.fields.get("issue_date") == expected["fields"]["issue_date"]
    assert "issue_date" not in page.ceilings


def test_rows_already_read_are_not_dropped_rows():
    # Given a white page with two printed rows, one of which the OCR gave
    page = np.full((300, 900), 255, np.uint8)
    import cv2

    cv2.putText(page, "Facture du 12 mars", (40, 80), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 0, 2)
    cv2.putText(page, "Emise le 3 avril", (40, 200), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 0, 2)
    read = [ocr.Word(text, 95, 40 + 80 * i, 58, 70, 28, 1, 1) for i, text in enumerate("Facture du 12 mars x".split())]
    # When the rows no word covers are looked for
    rows = dropped_rows(page, read)
    # Then the second row alone is found, at its height
    assert len(rows) == 1
    left, top, bottom, _ = rows[0]
    assert 170 <= top <= 185 and 195 <= bottom <= 215 and left <= 45


def test_a_tall_word_beside_several_rows_does_not_join_them():
    # Given a logo-sized word beside two rows of small print, as a band's OCR gives them
    words = [ocr.Word("Aqualis", 90, 0, 0, 200, 60, 1, 1),
             ocr.Word("Facture", 90, 300, 5, 80, 20, 2, 1), ocr.Word("n°", 90, 390, 5, 20, 20, 2, 1),
             ocr.Word("Émise", 90, 300, 35, 70, 20, 3, 1), ocr.Word("le", 90, 380, 35, 20, 20, 3, 1),
             ocr.Word("28", 90, 450, 35, 25, 20, 4, 1), ocr.Word("oct.", 90, 480, 35, 40, 20, 4, 1),
             ocr.Word("2025", 90, 530, 35, 50, 20, 4, 1), ocr.Word(":", 90, 590, 40, 5, 8, 4, 1)]
    # When the printed lines are rebuilt from the boxes
    lines = geometric_lines(words).splitlines()
    # Then the rows stay apart (the logo joins one of them), each label before its value, the
    # colon kept on its row
    assert "Facture n°" in lines
    assert any(line.endswith("Émise le 28 oct. 2025 :") for line in lines)
    assert len(lines) == 2
    dates = find_dates("\n".join(lines))
    assert [(d.role, d.date.isoformat()) for d in dates] == [("issue", "2025-10-28")]


def test_first_of_the_month_read_with_a_letter_l_is_still_a_date():
    # Given "1er" read "ler", "Ier" or "|er" before a month and a year
    for text in ("Votre facture du mercredi ler avril 2026", "Émise le Ier avril 2026", "le |er avril 2026"):
        # When its dates are found
        found = find_dates(text)
        # Then the first of the month is found, with its label's role
        assert [d.date.isoformat() for d in found] == ["2026-04-01"], text
        assert found[0].role == "issue"
    # and a word that merely ends in "ler" is no day
    assert find_dates("Régler avril 2026") == []


def test_a_day_whose_ones_were_read_as_letters_l_is_still_a_date():
    # Given "11 mars 2026" read "ll mars 2026" and "21 mars" read "2l mars", under their labels
    # When their dates are found
    # Then the days are 11 and 21
    assert [d.date.isoformat() for d in find_dates("Émise le ll mars 2026")] == ["2026-03-11"]
    assert [d.date.isoformat() for d in find_dates("Facture du 2l mars 2026")] == ["2026-03-21"]
    # and "Il" (a word) or a day out of range is no date
    assert find_dates("Il mars 2026") == [] and find_dates("le 4l mars 2026") == []
