"""Certificates photographed or turned a quarter turn (issue 16, helper "certs"): a surname the
page's two readings begin differently is read again on its line alone (never trusted from one of
them), a ticked box the text does not show is found by its ink, a birth date whose separators were
misread is read from its labelled line twice, and categories under a label read whole are taken
(kept for a person). Real tesseract; the pages are family-2 tuning dossiers regenerated from their
seed and index (fixtures.family2.corpus.generate_one)."""

from __future__ import annotations

import cv2
import numpy as np

from family2_pieces import family2_piece
from intake.evaluation import field_matches
from intake.extractors.kinds import birth_lines, holder_names, licence_text, tick_boxes
from intake.extractors.ocr.words import Word
from intake.extractors.page import read_page
from intake.validators.key_fields import KEY_MIN_CONFIDENCE


def _confidence(page, name: str) -> float:
    return float(page.evidence["fields"][name]["confidence"])


def test_a_surname_the_two_readings_begin_differently_is_never_trusted_wrong(tmp_path):
    # Given a JDC certificate exported a quarter turn (seed 119, dossier 1) whose block reading
    # gives the surname "M" and whose line reading gives "ÉNARD" (the first letter lost between
    # two bands), for "MÉNARD"
    image, piece = family2_piece(tmp_path, 119, 0, kind="jdc")
    # When the page is read
    page = read_page(image, 1)
    # Then the holder is the printed name, or else not taken as read: never a wrong confident one
    assert page.kind == "jdc"
    right = field_matches("holder_name", piece["fields"]["holder_name"], page.fields.get("holder_name"))
    assert right or _confidence(page, "holder_name") < KEY_MIN_CONFIDENCE
    # (here the surname's line read again alone gives the whole surname, for a person to confirm)
    assert right


def test_the_ticked_box_of_a_medical_opinion_is_found_by_its_ink(tmp_path):
    # Given a medical opinion exported a quarter turn (seed 118, dossier 49) whose ticked box is
    # read as nothing and whose empty boxes are read "[]"
    image, piece = family2_piece(tmp_path, 118, 48, kind="medical_opinion")
    # When the page is read
    page = read_page(image, 1)
    # Then the ticked option gives the verdict, counted as read but not enough to refuse on
    assert page.fields.get("fit") is piece["fields"]["fit"] is True
    assert KEY_MIN_CONFIDENCE <= _confidence(page, "fit") < 0.75


def test_categories_after_their_whole_label_are_taken_for_a_person_to_confirm(tmp_path):
    # Given a phone photo of a medical opinion (seed 119, dossier 23), a quarter turn, whose
    # category "C" is read "c" after the whole label "Catégorie(s) de permis concernée(s)"
    image, piece = family2_piece(tmp_path, 119, 22, kind="medical_opinion")
    # When the page is read
    page = read_page(image, 1)
    # Then the categories are given, under the key-field threshold
    assert page.fields.get("categories") == piece["fields"]["categories"]
    assert _confidence(page, "categories") < KEY_MIN_CONFIDENCE


def test_a_birth_date_read_with_a_space_for_a_dot_is_read_twice_from_its_line(tmp_path):
    # Given a phone photo of a training certificate (seed 118, dossier 52) whose birth date reads
    # "07 09.2010" after "né(e) le"
    image, piece = family2_piece(tmp_path, 118, 51, kind="training_certificate")
    # When the page is read
    page = read_page(image, 1)
    # Then the birth date is the printed one, the line read again alone agreeing
    assert page.fields.get("birth_date") == piece["fields"]["birth_date"]
    assert page.evidence["fields"]["birth_date"]["readings"] == 2


def test_loose_birth_dates_under_their_label_only():
    # Given labelled lines whose date separators were misread, and a licence's field 3 without its number
    lines = birth_lines.labelled_lines("Né(e) le 07 09.2010 à Paris\nDate de naissance\n27107991\n"
                                       "08112013 4c. PRÉFECTURE\n11,12,1994 PARIS (75)", licence=True)
    # When each is read with loose separators
    # Then a space, a comma or a whole DDMMYYYY gives the date; an impossible date gives none; a
    # line with no birth label (an issue date) is not looked at
    assert [birth_lines.loose_date(line) for line in lines] == [
        birth_lines.loose_date(" 07.09.2010"), None, birth_lines.loose_date("11.12.1994")]
    assert str(birth_lines.loose_date(" 07 09.2010 à Paris")) == "2010-09-07"
    assert str(birth_lines.loose_date("11122008")) == "2008-12-11"
    assert birth_lines.loose_date("31132008") is None


def test_a_surname_read_again_settles_or_leaves_the_name_to_a_person():
    # Given a holder whose two readings begin differently, and its surname's line read again
    # When the second reading is compared
    # Then the same first word settles it, a longer one holding it restores the lost letter, and
    # another word settles nothing
    assert holder_names.first_words_differ("M LÉA BÉRÉNICE", "ÉNARD LÉA BÉRÉNICE")
    assert not holder_names.first_words_differ("DE LA FONTAINE DATE", "DE LA FONTAINE FATOUMATA")
    assert holder_names.reread_settles("ÉNARD LÉA", "Nom : ÉNARD") == (True, None)
    assert holder_names.reread_settles("ÉNARD LÉA", "Nom: MÉNARD") == (False, "MÉNARD LÉA")
    assert holder_names.reread_settles("ÉNARD LÉA", "Nom: DUPONT") == (False, None)


def test_a_surname_cut_in_two_or_read_again_after_its_title_is_settled():
    # Given a holder one reading cut in two ("GU ÉRIN"), and a surname line read again with the
    # holder's title before the name and no label
    # When the readings are compared
    # Then a cut word lost nothing, and the title is no surname: the name is settled, not doubted
    assert not holder_names.first_words_differ("GU ÉRIN RÉMI KARIM", "GUÉRIN RÉMI KARIM")
    assert holder_names.reread_settles("GUÉRIN RÉMI KARIM", "M. GUÉRIN Rémi Karim,") == (True, None)
    assert holder_names.reread_settles("GUÉRIN RÉMI", "MME DUPONT Rémi") == (False, None)


def _form(ticked: str) -> tuple[np.ndarray, list]:
    """A drawn verdict block: three boxes and their options, one box crossed."""
    image = np.full((260, 600), 255, np.uint8)
    words = []
    for i, (option, label) in enumerate((("apte", "Apte"), ("temporaire", "Apte"), ("inapte", "Inapte"))):
        top = 40 + 70 * i
        cv2.rectangle(image, (40, top), (68, top + 28), 0, 2)
        if option == ticked:
            cv2.line(image, (44, top + 4), (64, top + 24), 0, 3)
            cv2.line(image, (64, top + 4), (44, top + 24), 0, 3)
        cv2.putText(image, label, (90, top + 24), cv2.FONT_HERSHEY_SIMPLEX, 0.9, 0, 2)
        words.append(Word(label, 90.0, 90, top + 2, 70, 26, 1, i))
        if option == "temporaire":
            words.append(Word("temporaire", 90.0, 170, top + 2, 140, 26, 1, i))
    return image, words


def test_the_crossed_box_names_the_option_and_an_unclear_one_nothing():
    # Given a verdict block with "Inapte" crossed, one with "Apte" crossed, and one with none
    # When the boxes' ink is compared
    # Then the crossed option is given (unfit as well as fit), and none when no box stands out
    assert tick_boxes.ticked(*_form("inapte")) == "inapte"
    assert tick_boxes.ticked(*_form("apte")) == "apte"
    assert tick_boxes.ticked(*_form("none")) is None
    # And with one option unread, nothing is said
    image, words = _form("apte")
    assert tick_boxes.ticked(image, [w for w in words if w.text != "Inapte"]) is None


def test_a_licence_given_name_read_in_small_letters_completes_the_holder_for_a_person():
    # Given a licence front whose field 2 was read in small letters ("Loic" for "LOÏC"): its
    # capitals-only reading gives the surname alone as the holder
    text = ("PERMIS DE CONDUIRE\nRÉPUBLIQUE FRANÇAISE\nDA SILVA\nLoic\n15.12.1990 NANTES (44)\n"
            "29.10.2009 4c. PRÉFECTURE\n091055727302\nAMIB")
    fields = {"holder_name": "DA SILVA"}
    # When the front is completed from the order of its lines
    completed = licence_text.given_below_surname(fields, text)
    # Then the holder has its given name, and the completion is reported (the caller leaves the
    # name to a person), while a holder with both lines read is left as it is
    assert completed and fields["holder_name"] == "DA SILVA LOIC"
    whole = {"holder_name": "DA SILVA"}
    assert not licence_text.given_below_surname(whole, text.replace("DA SILVA\nLoic", "DA SILVA\nLOÏC\nX"))


def test_a_surname_alone_on_its_labelled_line_is_left_to_a_person(tmp_path):
    # Given a shaken phone photo of an exam certificate (seed 116, dossier 59) whose given names'
    # label is misread: the geometric lines give "Nom : <surname>" alone on its line, the blocks
    # run the surname into the next labels
    image, piece = family2_piece(tmp_path, 116, 58, kind="exam_certificate")
    # When the page is read
    page = read_page(image, 1)
    # Then a holder that is not the printed name is not taken as read
    holder = page.fields.get("holder_name")
    if holder and not field_matches("holder_name", piece["fields"]["holder_name"], holder):
        assert _confidence(page, "holder_name") < KEY_MIN_CONFIDENCE
