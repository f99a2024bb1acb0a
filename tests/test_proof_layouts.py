"""Proofs of address laid out unlike family 1 (fixtures/family2.proofs): a rent receipt with the
tenant and the landlord side by side, drawn for fixed seeds and read with the real tesseract."""

from __future__ import annotations

import random

import cv2
import numpy as np
import pytest

from fixtures.family2.proofs import proof
from intake.evaluation import field_matches
from intake.extractors.fields import is_label_word, street_part
from intake.extractors.page import read_page

TENANTS = [
    ("MME ÉLOÏSE GUÉRIN", "9 ALLÉE DES CERISIERS", "44000", "NANTES"),
    ("M. SAINT-JUST PIERRE-LOUIS", "101 CHEMIN DU MOULIN", "13090", "AIX-EN-PROVENCE"),
]


@pytest.mark.parametrize("seed,tenant", [(500, TENANTS[0]), (501, TENANTS[1])])
def test_the_tenant_of_a_rent_receipt_is_the_column_not_labelled_landlord(seed, tenant):
    # Given a rent receipt: "Locataire" and the tenant's block on the left, "Bailleur" and the
    # landlord's name and street on the right, on the same rows
    holder, street, postcode, city = tenant
    printed = {"holder_name": holder, "address_line": street, "postcode": postcode, "city": city,
               "issue_date": "2026-05-12", "document_subtype": "rent_receipt"}
    drawn = proof(random.Random(seed), printed, "rent", 200)
    image = cv2.cvtColor(np.array(drawn.pages[0].convert("RGB")), cv2.COLOR_RGB2BGR)
    # When it is read
    page = read_page(image, 1)
    # Then the holder and the street are the tenant's alone (not merged with the landlord's), and
    # each field read carries its evidence
    assert page.kind == "proof_of_address"
    for key in ("holder_name", "address_line", "postcode", "city", "issue_date"):
        assert field_matches(key, printed[key], page.fields.get(key)), (key, page.fields.get(key))
        assert key in page.evidence["fields"], key


def test_a_label_is_never_a_holder_and_a_name_joined_to_its_street_is_cut_off():
    assert is_label_word("BAILLEUR") and is_label_word("Locataire :")
    assert not is_label_word("Mme Awa DIOP")
    assert street_part("M YACINE HADDAD 9 ALLÉE DES CERISIERS") == "9 ALLÉE DES CERISIERS"
    assert street_part("12 RUE DES LILAS") == "12 RUE DES LILAS"


def test_specks_of_the_name_line_joined_to_the_street_are_cut_off_but_a_building_is_kept():
    # Given street lines as the OCR gives them on phone photos, and lines that are streets as printed
    # When the street is taken from them
    # Then the specks before the house number go; a building, a flat or a residence stays
    assert street_part("me ED 24 RUE ÉMILE ZOLA") == "24 RUE ÉMILE ZOLA"
    assert street_part("MADOU 101 CHEMIN DU MOULIN") == "101 CHEMIN DU MOULIN"
    assert street_part("BAT A 12 RUE DES LILAS") == "BAT A 12 RUE DES LILAS"
    assert street_part("RÉSIDENCE LES PINS 4 AVENUE FOCH") == "RÉSIDENCE LES PINS 4 AVENUE FOCH"
    assert street_part("APPT 3 12 RUE DES LILAS") == "APPT 3 12 RUE DES LILAS"


def test_an_addressee_block_beside_a_header_table_of_labels_and_values_is_the_holder():
    from intake.extractors.fields import holder_block_of_columns, side_by_side_columns
    from intake.extractors.ocr.words import Word

    # Given the words of a tax notice's top, as tesseract placed them: the addressee block on the
    # left, and on its right a header table in two more columns (labels, then dates), so that the
    # printed lines join the block to the table ("29200 BREST Date de mise en recouvrement 16/04/2026")
    rows = [
        (361, [("PEREZ", 158), ("DE", 251), ("CASTRO-VILLENEUVE", 295)]),
        (402, [("2", 158), ("PLACE", 179), ("DE", 275), ("L'ÉGLISE", 319), ("Date", 899),
               ("d'établissement", 946), ("16/04/2026", 1416)]),
        (442, [("29200", 158), ("BREST", 242), ("Date", 899), ("de", 946), ("mise", 972), ("en", 1019),
               ("recouvrement", 1046), ("16/04/2026", 1416)]),
        (500, [("Date", 899), ("limite", 946), ("de", 1010), ("paiement", 1040), ("05/06/2026", 1416)]),
    ]
    words = [Word(text, 95.0, left, top, 12 * len(text), 18, 1, n) for n, (top, ws) in enumerate(rows)
             for text, left in ws]
    # When the side-by-side parts are found and the holder's column chosen
    block = holder_block_of_columns(side_by_side_columns(words))
    # Then the addressee block alone is the holder's, the table's words are not in it
    assert block == {"holder_name": "PEREZ DE CASTRO-VILLENEUVE", "address_line": "2 PLACE DE L'ÉGLISE",
                     "postcode": "29200", "city": "BREST"}


def test_a_title_whose_dot_touches_the_name_still_opens_the_addressee_block():
    from intake.extractors.fields import address_block

    # Given a bill's addressee block read "M.JOËL NGUYEN" (no space after the title's dot)
    lines = ["E Kapso Télécom", "M.JOËL NGUYEN", "24 RUE ÉMILE ZOLA", "44000 NANTES"]
    # When the block is read, Then the holder is the name without its title
    assert address_block(lines) == {"holder_name": "JOËL NGUYEN", "postcode": "44000", "city": "NANTES",
                                    "address_line": "24 RUE ÉMILE ZOLA"}


def test_an_addressee_block_beside_a_table_whose_rows_are_not_level_with_it_is_read_whole():
    from intake.extractors.fields import address_block, segment_lines
    from intake.extractors.ocr.words import Word

    # Given a tax notice's words where the header table on the right sits half a line above the
    # addressee block's rows: the street has a row of its own, the postcode row has the table's
    # label and date beside it (so tesseract's line reads "21000 DIJON Date de mise en ...")
    placed = [("MME", 119, 271), ("ROUSSEAU", 174, 271), ("LOUISE", 290, 271),
              ("Date", 674, 292), ("d'établissement", 709, 292), ("04/01/2026", 1061, 292),
              ("31", 119, 301), ("RUE", 145, 301), ("PASTEUR", 192, 301),
              ("21000", 118, 331), ("DIJON", 182, 331), ("Date", 674, 334), ("de", 709, 333),
              ("mise", 729, 337), ("en", 764, 337), ("recouvrement", 784, 336), ("04/01/2026", 1061, 334)]
    words = [Word(text, 95.0, left, top, 11 * len(text), 13, 1, 1) for text, left, top in placed]
    # When the rows are cut at their wide gaps and the addressee block read from them
    block = address_block(segment_lines(words))
    # Then the block is whole, with no word of the table in it
    assert block == {"holder_name": "ROUSSEAU LOUISE", "postcode": "21000", "city": "DIJON",
                     "address_line": "31 RUE PASTEUR"}


def test_a_title_whose_dot_was_read_as_a_comma_still_opens_the_holder_line():
    from intake.extractors.fields import address_block

    # Given a rent receipt's tenant column as a phone photo's OCR gave it (family-2 seed 125): its
    # label misread, the title's dot read as a comma
    lines = ["Laatattv", "M, RÈMI LE GOFF", "5 QUAI DE LA FOSSE", "76000 ROUEN"]
    # When its address block is read, Then the holder is the titled line, without its title
    block = address_block(lines)
    assert block["holder_name"] == "RÈMI LE GOFF" and block["postcode"] == "76000"
