"""A sheet photographed over another paper is flattened with it, into a card's proportions: when its
card reading says nothing, it is read as the page it is.
"""

from family2_pieces import family2_piece

from intake.extractors.page import read_page
from intake.validators.key_fields import well_read


def test_an_ephoto_sheet_flattened_with_a_paper_under_it_is_read_as_a_page(tmp_path):
    # Given an e-photo sheet photographed a quarter turn on a desk, a printed paper under its edge: the
    # quadrilateral found holds both, and the flattened picture has an ID card's proportions
    # (family 2, tuning seed 118, dossier 51)
    image, piece = family2_piece(tmp_path, 118, 50, "pj3.jpg")
    assert piece["kind"] == "photo_code"
    # When the page is read
    page = read_page(image, 1)
    # Then it is the e-photo sheet, its code and date read as printed and taken as read
    assert page.kind == "photo_code"
    for name in ("code", "photo_date"):
        assert page.fields.get(name) == piece["fields"][name], name
        assert well_read(page.fields, page.evidence, name), name
