"""A bill's holder name stops where the bill's own vocabulary starts.

On a phone photo of a bill, tesseract may join the addressee's name to the label printed beside it
on the same row ("HÉLÈNE MERCIER VOTRE CONTRAT"). Taken whole, such a name is a wrong value read with
confidence: it must end at the first word that is nobody's name.
"""

from __future__ import annotations

from family2_pieces import family2_piece

from intake.evaluation import field_matches
from intake.extractors.kinds.proof_of_address import before_document_words
from intake.extractors.page import read_page


def test_a_label_joined_to_the_holder_name_is_cut_off():
    # Given names as the OCR joins them to a neighbour column's label
    # When the holder's name is taken
    # Then the label goes, the name stays, and a name that is only labels is left to the other checks
    assert before_document_words("HÉLÈNE MERCIER VOTRE CONTRAT") == "HÉLÈNE MERCIER"
    assert before_document_words("M. ET MME DUPONT Référence client") == "M. ET MME DUPONT"
    assert before_document_words("DUPONT JEAN-PIERRE") == "DUPONT JEAN-PIERRE"
    assert before_document_words("VOTRE CONTRAT") == "VOTRE CONTRAT"


def test_a_photographed_bill_gives_its_holder_without_the_label_beside_it(tmp_path):
    # Given a bill photographed with a phone whose addressee row the OCR reads with "VOTRE CONTRAT"
    # (family 2, seed 118, dossier 16: a tuning seed)
    image, expected = family2_piece(tmp_path, 118, 15, kind="proof_of_address")
    # When the page is read
    page = read_page(image, 1)
    # Then the holder's name is the addressee's, no more
    assert page.kind == "proof_of_address"
    assert field_matches("holder_name", expected["fields"]["holder_name"], page.fields.get("holder_name")), \
        page.fields.get("holder_name")
