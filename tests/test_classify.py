"""Kind of a page from its words: real labels of French documents, and `unknown` for the rest."""

import pytest

from intake.extractors.classify import card_side, classify_text

TEXTS = {
    "proof_of_address": "EDF\nFacture du 12/03/2026\nRéférence client : 1234567\nM. JEAN DUPONT\n12 RUE DES LILAS\n"
                        "75011 PARIS\nConsommation d'électricité 350 kWh\nMontant TTC 84,20 €",
    "hosting_attestation": "ATTESTATION D'HÉBERGEMENT\nJe soussigné M. Paul MARTIN atteste sur l'honneur héberger "
                           "à mon domicile M. Jean DUPONT depuis le 01/01/2024.",
    "photo_code": "PHOTOMATON - Photo d'identité conforme ANTS\nCode photo signature numérique :\n7K3P 9QX2 ZT4M 8R5V N6WB 1C",
    "assr": "RÉPUBLIQUE FRANÇAISE\nATTESTATION SCOLAIRE DE SÉCURITÉ ROUTIÈRE\nSecond niveau\nNom : DUPONT",
    "jdc": "Certificat individuel de participation à la Journée défense et citoyenneté\nNom : DUPONT",
    "medical_opinion": "cerfa n°14880*02\nAVIS MÉDICAL\nsur l'aptitude à la conduite\nMédecin agréé\nApte",
    "training_certificate": "ATTESTATION DE SUIVI DE FORMATION\nFormation B96 de 7 heures\nÉcole de conduite",
    "exam_certificate": "CERTIFICAT D'EXAMEN DU PERMIS DE CONDUIRE (CEPC)\nRésultat : favorable\nL'inspecteur",
    "residence_permit": "RÉPUBLIQUE FRANÇAISE\nTITRE DE SÉJOUR\nNom\nPrénoms",
}


@pytest.mark.parametrize("kind", sorted(TEXTS))
def test_each_kind_is_recognised_from_its_printed_title_and_labels(kind):
    result = classify_text(TEXTS[kind])
    assert result.kind == kind and result.confidence >= 0.8


def test_tax_notice_is_a_proof_of_address():
    text = "DIRECTION GÉNÉRALE DES FINANCES PUBLIQUES\nAVIS D'IMPÔT 2025 SUR LES REVENUS 2024\nRevenu fiscal de référence"
    assert classify_text(text).kind == "proof_of_address"


def test_one_ocr_slip_in_a_long_word_is_tolerated():
    assert classify_text("ATTESTATION D'HEBERGEMFNT\nJe soussigné").kind == "hosting_attestation"


def test_an_unrelated_page_is_unknown_with_low_confidence():
    result = classify_text("RELEVÉ D'IDENTITÉ BANCAIRE\nTitulaire du compte : DUPONT JEAN\nIBAN : FR76 1234\nBIC : ABCDEFGH")
    assert result.kind == "unknown" and result.confidence < 0.6


def test_a_certificate_mentioning_the_licence_is_not_a_driving_licence():
    text = "Attestation de suivi de formation\nen vue de l'obtention du permis de conduire\ncatégorie AM\ncyclomoteur"
    assert classify_text(text).kind == "training_certificate"


def test_a_licence_front_on_an_a4_page_whose_field_numbers_were_lost_is_a_driving_licence():
    # Given the OCR of a licence front scanned on an A4 page: most field numbers (2., 3., 5., 9.) lost
    front = ("PERMIS DE CONDUIRE\nRÉPUBLIQUE FRANÇAISE\n1 BOYER\nMAËLYS GAËLLE\n26.01.1995 MARSEILLE (13)\n"
             "08.04.2014 4c. PRÉFECTURE\n08.04.2029\n140438090955")
    # Then the birth line with its department and the 12-digit number alone make it a licence
    assert classify_text(front).kind == "driving_licence"
    # But a certificate about the licence, its holder born "le 26/01/1995 à Marseille (13)", is not one
    medical = ("AVIS MÉDICAL\nPERMIS DE CONDUIRE\nNé(e) le 26/01/1995 à Marseille (13)\nN° RPPS 84909049308\n"
               "Apte\nDate de l'examen : 12.03.2026")
    assert classify_text(medical).kind == "medical_opinion"
    # And without any word of the licence, those line shapes alone make nothing
    assert classify_text("26.01.1995 MARSEILLE (13)\n140438090955").kind == "unknown"


def test_a_licence_front_scanned_with_its_back_on_one_a4_page_is_read(tmp_path):
    from conftest import read_generated_page

    # Given the generated (seed 8) licence of BOYER MAËLYS GAËLLE, both faces on one A4 page, whose
    # field numbers tesseract mostly dropped (it was an unknown piece: the B96 dossier was refused)
    page = read_generated_page(tmp_path, "0025-b96_ok", "b96_ok", "recto_verso_a4", 8, 24, "Document (3).pdf")
    # Then it is the licence, with its holder, birth date and number
    assert page.kind == "driving_licence"
    assert (page.fields["holder_name"], page.fields["birth_date"], page.fields["licence_number"]) == (
        "BOYER MAËLYS GAËLLE", "1995-01-26", "140438090955")


def test_a_2ddoc_of_an_address_type_makes_a_proof_of_address():
    assert classify_text("", address_2ddoc=True).kind == "proof_of_address"


def test_card_front_and_back():
    assert card_side("CARTE NATIONALE D'IDENTITÉ\nNom : DUPONT\nPrénom(s) : JEAN\nSexe : M", has_mrz=False) == "front"
    assert card_side("Adresse : 12 rue des Lilas\nTaille : 1,80 m\nDélivrée le 01.02.2020 par la préfecture",
                     has_mrz=False) == "back"


def _phrase_anywhere(words, tokens):
    """The plain search the length index must agree with: every place, one slip per long word."""
    from intake.extractors.classify import _close

    n = len(tokens)
    return any(all(_close(words[i + j], tokens[j]) for j in range(n)) for i in range(len(words) - n + 1))


def _slip(word: str, kind: int, at: int, letter: str) -> str:
    """One OCR slip in a word: a letter dropped, added or changed (kind 0 leaves it alone)."""
    at %= len(word)
    return [word, word[:at] + word[at + 1:], word[:at] + letter + word[at:], word[:at] + letter + word[at + 1:]][kind]


def test_the_indexed_phrase_search_finds_exactly_what_a_scan_of_every_place_finds():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from intake.extractors.classify import Words, has_phrase

    letters = st.text(alphabet="abcdeh", min_size=1, max_size=9)
    slips = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 20), st.sampled_from("abz")), min_size=3, max_size=3)

    @settings(max_examples=500, deadline=None)
    @given(st.lists(letters, max_size=25), st.lists(letters, min_size=1, max_size=3), st.integers(0, 25), slips)
    def check(words, tokens, where, edits):
        # Given a text holding the phrase with OCR slips somewhere, and other words around it
        slipped = [_slip(t, *e) or t for t, e in zip(tokens, edits)]
        words = words[:where] + slipped + words[where:]
        phrase = " ".join(tokens)
        norm = " " + " ".join(words) + " "
        if f" {phrase} " in norm or not any(len(t) >= 6 for t in tokens):
            return
        # When the phrase is looked for with the length index, Then it is found exactly where a
        # scan of every place would find it
        assert has_phrase(norm, phrase, Words(words)) == _phrase_anywhere(words, tokens)

    check()
