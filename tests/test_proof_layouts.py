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
