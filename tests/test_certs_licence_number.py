"""A licence number read on a card found in a photo (issue 16, helper "certs", fail-safe): the
page's second reading of the number's box is made as the first, and on a blurred card both can
misread the same digit; a reading made otherwise (one line of capitals and digits, at its size or
reduced) must agree too, or the number is left to a person. Real tesseract; the photo is a
family-2 tuning dossier regenerated from its seed and index."""

from __future__ import annotations



from family2_pieces import family2_piece
from intake.evaluation import field_matches
from intake.extractors.page import read_page
from intake.validators.key_fields import KEY_MIN_CONFIDENCE




def test_a_card_number_misread_the_same_way_twice_does_not_count(tmp_path):
    # Given a phone photo (seed 113, dossier 15) of a licence among papers whose number tesseract
    # reads with its 9 as a 0, on the card and again on the number's box alone
    image, piece = family2_piece(tmp_path, 113, 14, kind="driving_licence", case="b96_ok", style="f2_phone")
    # When the page is read
    page = read_page(image, 1)
    # Then a number that is not the one printed is never given with a confidence that counts
    number = page.fields.get("licence_number")
    if number and not field_matches("licence_number", piece["fields"]["licence_number"], number):
        assert float(page.evidence["fields"]["licence_number"]["confidence"]) < KEY_MIN_CONFIDENCE, number
