"""The MRZ of phone photos: a check digit that look-alike glyphs pass by chance does not protect a
value, and the deep looks for a shaken card are not paid by photos whose print says they hold none.

Dossiers are regenerated from family-2 tuning seeds 116 to 118 (fixtures.family2.corpus).
"""

import pytest

from family2_pieces import family2_piece
from intake.extractors.mrz import reader as mrz_reader
from intake.extractors.page import read_page
from intake.validators.key_fields import well_read


def test_a_number_whose_check_digit_two_look_alikes_pass_as_well_is_not_protected(tmp_path):
    # Given an identity card photographed a quarter turn whose number begins '00', which the MRZ
    # reader sees as 'O' (0 a close second) at two places where O and 0 pass the check alike
    image, piece = family2_piece(tmp_path, 117, 26, "pj4.jpg")
    assert piece["kind"] == "identity_card"
    # When it is read
    page = read_page(image, 1)
    # Then the number is either the printed one or not taken as read: no check digit vouches for it
    number = page.fields.get("document_number")
    if number != piece["fields"]["document_number"]:
        assert not well_read(page.fields, page.evidence, "document_number")
        assert (page.evidence["fields"].get("document_number") or {}).get("protected") != "check_digit"


@pytest.fixture
def deep_looks(monkeypatch):
    """The deep looks of the MRZ reader at a page: bands read with their perspective undone, or
    looked for by their glyphs' cores."""
    calls = []
    plain = mrz_reader._read_gray

    def counted(gray, max_bands=mrz_reader.MAX_BANDS, boost=1.0, rectify=True):
        if boost != 1.0 or rectify:
            calls.append((boost, rectify))
        return plain(gray, max_bands, boost, rectify)

    monkeypatch.setattr(mrz_reader, "_read_gray", counted)
    return calls


def test_a_bill_photographed_on_a_table_is_not_searched_for_a_shaken_card(tmp_path, deep_looks):
    # Given a bill photographed upside down on a wooden table (no MRZ anywhere on it)
    image, piece = family2_piece(tmp_path, 116, 12, "Numérisation_003.jpg")
    assert piece["kind"] == "proof_of_address"
    # When it is read
    page = read_page(image, 1)
    # Then it is read as the bill it is, without the deep MRZ looks a shaken identity card needs
    assert page.kind == "proof_of_address"
    assert deep_looks == []


def test_a_shaken_card_photo_still_gets_the_deep_looks(tmp_path, deep_looks):
    # Given an identity card photographed with a strong shake among papers (its MRZ unread at first)
    image, piece = family2_piece(tmp_path, 116, 1, "pj2.jpg")
    assert piece["kind"] == "identity_card" and piece["degradation"]["condition"] == "phone_rough"
    # When it is read
    read_page(image, 1)
    # Then the MRZ reader looked again with the glyphs' cores
    assert deep_looks


def test_a_card_photographed_on_a_light_desk_gets_the_photo_looks(tmp_path):
    # Given an identity card photographed (shaken, far) on a light grey desk: the picture's border
    # is as bright as a scanner's lid, the card's paper whiter still (family 2, tuning seed 118)
    image, piece = family2_piece(tmp_path, 118, 42, "PXL_20261212_199630805.jpg")
    assert piece["kind"] == "identity_card"
    # When it is read
    page = read_page(image, 1)
    # Then its MRZ is found and read: the values under check digits are the printed ones
    assert page.kind == "identity_card"
    for name in ("document_number", "birth_date", "expiry_date"):
        assert page.fields.get(name) == piece["fields"][name], name
