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


def test_a_2ddoc_of_an_address_type_makes_a_proof_of_address():
    assert classify_text("", address_2ddoc=True).kind == "proof_of_address"


def test_card_front_and_back():
    assert card_side("CARTE NATIONALE D'IDENTITÉ\nNom : DUPONT\nPrénom(s) : JEAN\nSexe : M", has_mrz=False) == "front"
    assert card_side("Adresse : 12 rue des Lilas\nTaille : 1,80 m\nDélivrée le 01.02.2020 par la préfecture",
                     has_mrz=False) == "back"
