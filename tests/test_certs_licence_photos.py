"""Driving licences photographed among papers (issue 16, helper "certs"): a card whose outline
opens where it lies on a paper is found by its straight sides, and a front whose title is cut by
a glare or whose categories lost their slash is read from the order of its lines, the less sure
values kept under the key-field threshold. Real tesseract; the photos are family-2 tuning
dossiers regenerated from their seed and index (fixtures.family2.corpus.generate_one)."""

from __future__ import annotations



from family2_pieces import family2_piece
from intake.evaluation import field_matches
from intake.extractors.kinds import licence_text
from intake.extractors.page import read_page
from intake.validators.key_fields import KEY_MIN_CONFIDENCE




def test_a_licence_lying_half_on_a_paper_is_found_by_its_straight_sides(tmp_path):
    # Given a phone photo (seed 113, dossier 19) of a licence's front lying across the edge of a
    # paper, a quarter turn: its outline merges with the paper's, and its print fills its face
    image, piece = family2_piece(tmp_path, 113, 18, kind="driving_licence", case="medical_too_old", style="f2_mixed")
    # When the page is read
    page = read_page(image, 1)
    # Then it is read as a licence, its holder and number as printed
    assert page.kind == "driving_licence"
    for name in ("holder_name", "licence_number"):
        assert field_matches(name, piece["fields"][name], page.fields.get(name)), name


def test_a_licence_front_with_its_title_cut_and_its_slash_lost_is_read_from_its_lines(tmp_path):
    # Given a phone photo (seed 117, dossier 56) whose front reads "REP" on a line of its own above
    # the names (a glare over the title) and "AMB" for field 9 "AM/B"
    image, piece = family2_piece(tmp_path, 117, 55, kind="driving_licence", case="medical_heavy_ok", style="f2_phone")
    # When the page is read
    page = read_page(image, 1)
    # Then the holder is the two name lines above the birth line, not the title's fragment
    assert page.kind == "driving_licence"
    assert field_matches("holder_name", piece["fields"]["holder_name"], page.fields.get("holder_name"))
    # And categories read run together are given, but under the key-field threshold: a person
    # confirms them
    cats = page.fields.get("categories")
    if cats is not None:
        assert field_matches("categories", piece["fields"]["categories"], cats)
        assert float(page.evidence["fields"]["categories"]["confidence"]) < KEY_MIN_CONFIDENCE


def test_a_run_of_category_codes_splits_one_way_only():
    # Given field 9 read with its separators lost, or with the field number misread before it
    # When it is split
    # Then each run gives its codes (no category is an E or a digit alone), anything else nothing
    assert licence_text.split_run("AMB") == ["AM", "B"]
    assert licence_text.split_run("B1BE") == ["B1", "BE"]
    assert licence_text.split_run("AMX") is None
    assert licence_text.split_run("BB") is None
    assert licence_text.categories_under_number("160450720455\nAD :\nAMB") == (["AM", "B"], True)
    assert licence_text.categories_under_number("160450720455\n9. AM/B1/B") == (["AM", "B1", "B"], False)
    assert licence_text.categories_under_number("160450720455\nSATA") is None


def test_a_licence_photographed_from_far_on_a_white_desk_is_found_and_read(tmp_path):
    # Given a phone photo (seed 125, dossier 23) of a licence's two faces, each a twentieth of the
    # picture, on a desk as light as a scan's margin (gray level 172), a quarter turn
    image, piece = family2_piece(tmp_path, 125, 22, kind="driving_licence")
    # When the page is read
    page = read_page(image, 1)
    # Then its cards are looked for, and the front read as a licence, its holder as printed
    assert page.kind == "driving_licence"
    assert field_matches("holder_name", piece["fields"]["holder_name"], page.fields.get("holder_name"))
    # And its number, a digit of it misread on so small a card, is not trusted: a person reads it
    number = page.fields.get("licence_number")
    if not field_matches("licence_number", piece["fields"]["licence_number"], number):
        assert float(page.evidence["fields"]["licence_number"]["confidence"]) < KEY_MIN_CONFIDENCE
