"""Fields of certificates, attestations and bills, read from page text as OCR gives it."""

import random
from datetime import date

import pytest

from fixtures import specimens as S
from fixtures.degrade import to_bgr
from fixtures.people import make_person
from intake.extractors.fields import (
    certificate_fields,
    medical_fit,
    proof_of_address_fields,
    strip_title,
    training_of,
)
from intake.extractors.page import read_page

MEDICAL = """RÉPUBLIQUE cerfa
N°14880*02
PERMIS DE CONDUIRE
AVIS MÉDICAL
Nom de naissance : DUPONT
Prénom(s) : Jean Date de naissance : 12/04/2005
Catégorie(s) de permis concernée(s) : C, CE
AVIS DU MÉDECIN AGRÉÉ :
{fit} Apte
{temp} Apte temporaire
{unfit} Inapte
Date de l'examen : 05/01/2026 Cachet et signature du médecin"""


def test_medical_opinion_fields_and_the_ticked_box():
    # Given the Cerfa 14880 with the box "Apte" ticked (OCR reads the box as [IX])
    text = MEDICAL.format(fit="[IX]", temp="[]", unfit="[]")
    fields = certificate_fields("medical_opinion", text)
    # Then holder, categories, fitness and the examination date are read
    assert fields == {"holder_name": "DUPONT JEAN", "categories": ["C", "CE"], "fit": True,
                      "birth_date": "2005-04-12", "issue_date": "2026-01-05"}


def test_medical_opinion_unfit_when_inapte_is_ticked():
    assert medical_fit(MEDICAL.format(fit="[]", temp="[]", unfit="[X]")) is False
    assert medical_fit(MEDICAL.format(fit="", temp="", unfit="")) is None


def test_hosting_attestation_names_host_and_hosted():
    text = ("ATTESTATION D'HÉBERGEMENT\nJe soussigné(e) Mme MARTIN Claire, né(e) le 1er août 1981 à Lyon, demeurant "
            "9 allée des Cerisiers, 67000 Strasbourg, atteste sur l'honneur héberger à mon domicile depuis le "
            "10 juin 2026\nM. DUPONT Jean, né(e) le 12 avril 2005.\nFait à Strasbourg, le 10 octobre 2026")
    fields = certificate_fields("hosting_attestation", text)
    assert fields["host_name"] == fields["holder_name"] == "MARTIN CLAIRE"
    assert fields["hosted_name"] == "DUPONT JEAN"
    assert fields["issue_date"] == "2026-10-10" and fields["birth_date"] == "1981-08-01"


def test_which_training():
    assert training_of("formation à la conduite des cyclomoteurs (catégorie AM)") == "AM"
    assert training_of("formation de 7 heures B96 remorque") == "B96"
    assert training_of("formation passerelle A2 vers A, accès progressif") == "A"
    assert training_of("levée de la restriction code 78 (boîte automatique)") == "levee_78"


def test_titles_are_ignored_in_names():
    for printed in ("M. Jean DUPONT", "MME JEANNE DUPONT", "Madame Jeanne Dupont", "MLLE JEANNE DUPONT",
                    "M ou MME DUPONT JEAN", "Monsieur et Madame DUPONT"):
        assert not strip_title(printed).startswith(("M ", "M.", "MME", "MADAME", "MONSIEUR", "MLLE", "OU", "ET"))


def test_bill_addressee_block_and_issue_date():
    text = ("Lumen Énergie\nFacture du 3 septembre 2026\nN° de facture : 1234567890\nRéférence client : ABC12345678\n"
            "M. TRAORÉ ANTHONY\n3 AVENUE JEAN JAURÈS\n69007 LYON\n"
            "Période de consommation du 01/08/2026 au 31/08/2026\nÀ payer avant le 20/09/2026")
    fields = proof_of_address_fields(text)
    assert fields == {"document_subtype": "bill", "issuer": "Lumen Énergie", "holder_name": "TRAORÉ ANTHONY",
                      "address_line": "3 AVENUE JEAN JAURÈS", "postcode": "69007", "city": "LYON",
                      "issue_date": "2026-09-03"}


def test_rendered_driving_licence_front_and_back():
    # Given both faces of a licence, rendered; When read; Then front fields and a back side
    rng = random.Random(1)
    p = make_person(rng, 19, date(2026, 11, 26))
    spec = S.driving_licence(rng, p, date(2024, 1, 1), ["B"])
    front, back = (read_page(to_bgr(img), i + 1) for i, img in enumerate(spec.pages))
    assert (front.kind, front.side, back.kind, back.side) == ("driving_licence", "front", "driving_licence", "back")
    assert front.fields["licence_number"] == spec.fields["licence_number"]
    assert front.fields["birth_date"] == spec.fields["birth_date"] and front.fields["categories"] == ["B"]


def test_licence_front_with_each_field_number_on_its_own_line():
    from intake.extractors.fields import licence_fields

    # Given the OCR of a small licence scan, the field numbers read on lines of their own
    text = "PERMIS DE CONDUIRE\nRÉPUBLIQUE FRANÇAISE\n1\nBOYER\n2\nRÉMI MAËL\n3\n16.03.1995 BREST (29)\n5.\n130991455636"
    # Then the surname and the given names are both the holder's
    fields = licence_fields(text)
    assert fields["holder_name"] == "BOYER RÉMI MAËL" and fields["birth_date"] == "1995-03-16"


def test_licence_front_with_a_field_number_without_its_dot_and_a_slash_read_as_i():
    from intake.extractors.fields import licence_fields

    # Given the OCR of a licence front where "1." lost its dot and "AM/B" was read "AMIB"
    text = ("PERMIS DE CONDUIRE\nRÉPUBLIQUE FRANÇAISE\n1 DUPRÉ\n2.  ANAÏS OCÉANE\n3. 13.05.1991 PARIS (75)\n"
            "4a. 18.05.2010 4c. PRÉFECTURE\n4b. 18.05.2025\n5. 100558300497\n9. AMIB\n")
    fields = licence_fields(text)
    # Then the surname is still the first name line, and the categories are AM and B
    assert fields["holder_name"] == "DUPRÉ ANAÏS OCÉANE"
    assert fields["categories"] == ["AM", "B"]
    # But a word that only looks like joined letters is not a list of categories
    assert "categories" not in licence_fields(text.replace("9. AMIB", "9. ABC"))


def test_licence_front_and_back_on_one_a4_page_name_the_holder(tmp_path):
    from conftest import read_generated_page

    # Given the generated (seed 5) licence of DUPRÉ ANAÏS OCÉANE, both faces scanned on one A4 page,
    # whose front tesseract reads "1 DUPRÉ" (no dot after the field number) and "9. AMIB"
    # When the page is read
    page = read_generated_page(tmp_path, "0115-medical_heavy_ok", "medical_heavy_ok", "recto_verso_a4", 5, 114,
                               "Document (3).jpg")
    # Then the holder is the whole name (it was the given names alone) and AM and B are held
    assert page.kind == "driving_licence"
    assert page.fields["holder_name"] == "DUPRÉ ANAÏS OCÉANE"
    assert page.fields["categories"] == ["AM", "B"]


def _word(text, left, top, height=14):
    from intake.extractors.ocr.words import Word

    return Word(text, 90.0, left, top, 10 * len(text), height, 1, 1)


def test_licence_back_categories_are_the_rows_with_a_date_placed_by_height():
    from intake.extractors.fields import LICENCE_BACK_ROWS, licence_back_categories

    # Given the back's table read with the B label misread "8" and two dates on the A2 and B rows
    rows = {label: 100 + 30 * i for i, label in enumerate(LICENCE_BACK_ROWS)}
    words = [_word(label if label != "B" else "8", 40, y) for label, y in rows.items()]
    words += [_word("05.09.2013", 300, rows["B"] + 2), _word("05.09.2028", 420, rows["B"]),
              _word("12,03.2019", 300, rows["A2"] - 3), _word("9.", 40, 60), _word("10.", 300, 60)]
    # When the categories held are read, Then they are the rows carrying a date, in table order
    assert licence_back_categories(words) == ["A2", "B"]
    # and a table with no date in it holds nothing
    assert licence_back_categories([w for w in words if not w.text[0].isdigit() or len(w.text) < 4]) == []


LOW_RES_LICENCES = [(83, "b96_ok", "low_res"), (194, "b96_ok", "low_res"), (189, "levee78_ok", "scan_150")]


@pytest.mark.parametrize("index,case,degradation", LOW_RES_LICENCES, ids=[f"{i + 1:04d}" for i, _, _ in LOW_RES_LICENCES])
def test_both_faces_of_a_small_licence_scan_are_the_licence(tmp_path, index, case, degradation):
    import json

    from fixtures.corpus import generate_one
    from intake.extractors.images import open_source
    from intake.settings import get_settings

    # Given a two-page licence scan of the generated corpus (seed 1), at low resolution
    dossier_id = f"{index + 1:04d}-{case}"
    generate_one(tmp_path, dossier_id, case, degradation, 1, index)
    expected = json.loads((tmp_path / dossier_id / "expected.json").read_text(encoding="utf-8"))
    licence = next(p for p in expected["pieces"] if p["kind"] == "driving_licence")
    source = open_source(tmp_path / dossier_id / licence["file"], get_settings())
    # When both pages are read
    front, back = (read_page(source.render(i), i) for i in (1, 2))
    # Then the front names the holder in full and the back is the categories table, with the
    # categories held
    assert (front.kind, front.side, back.kind, back.side) == ("driving_licence", "front", "driving_licence", "back")
    assert front.fields["holder_name"] == licence["fields"]["holder_name"]
    assert back.fields["categories"] == licence["fields"]["categories"]


ADDRESSEE_BLOCKS = [
    # (OCR text of the page, holder, street, postcode, city)
    # a bill whose addressee line is the name alone, cut to the 38 characters of a postal line: the
    # block under the references is the addressee
    ("Fibrea\nFacture du 11 septembre 2026\nRéférence client : OWJ88528365\n"
     "MONTMORENCY-LAVAL DE SAINT-EXUPÉRY Z\n101 CHEMIN DU MOULIN\n13090 AIX-EN-PROVENCE\n"
     "Forfait Box Fibre\nMontant total TTC",
     "MONTMORENCY-LAVAL DE SAINT-EXUPÉRY Z", "101 CHEMIN DU MOULIN", "13090", "AIX-EN-PROVENCE"),
    # a rent receipt: the landlord's block first, then the tenant's, whose city line the OCR read
    # with a colon after it: the address is the tenant's, under her name, not the landlord's
    ("SCI Foncia Ouest\nGestion locative\n10 rue de la République\n67000 STRASBOURG\n"
     "QUITTANCE DE LOYER\nPériode du 1er janvier 2026 au 31 janvier 2026\n"
     "MME HÉLÈNE GUÉRIN\n9 ALLÉE DES CERISIERS\n67000 STRASBOURG:\n",
     "HÉLÈNE GUÉRIN", "9 ALLÉE DES CERISIERS", "67000", "STRASBOURG"),
]


@pytest.mark.parametrize("text,holder,street,postcode,city", ADDRESSEE_BLOCKS, ids=["long_name", "rent_receipt"])
def test_the_addressee_block_of_a_proof_of_address_is_read(text, holder, street, postcode, city):
    # Given the OCR text of a proof of address, When its fields are read, Then the addressee is found
    fields = proof_of_address_fields(text)
    assert fields["holder_name"] == holder
    assert (fields["address_line"], fields["postcode"], fields["city"]) == (street, postcode, city)


def test_a_line_of_prose_above_a_street_is_not_taken_for_a_name():
    assert "holder_name" not in proof_of_address_fields("Fibrea\nVotre offre a changé\n101 CHEMIN DU MOULIN\n"
                                                        "13090 AIX-EN-PROVENCE")


HELD_OUT_PAGES = [
    # (seed, index, case, degradation, field, what went wrong) in the generated corpus
    (2, 147, "laminated_adult_2008_tolerated", "phone", "issue_date",
     "a tax notice's labels and values read as two columns, the date left without its label"),
    (2, 74, "long_names_ok", "recto_verso_a4", "holder_name", "a long name printed without a title"),
    (4, 24, "b96_ok", "rot270", "issue_date",
     "a bill turned a quarter the wrong way: upside-down print gave enough confident words to pass"),
    (4, 177, "complete_adult", "rot180", "issue_date", "the same, a bill scanned upside down"),
]


@pytest.mark.parametrize("seed,index,case,degradation,field,why", HELD_OUT_PAGES,
                         ids=[f"s{h[0]}-{h[1] + 1:04d}" for h in HELD_OUT_PAGES])
def test_the_proof_of_address_of_the_dossier_gives_its_field(tmp_path, seed, index, case, degradation, field, why):
    import json

    from fixtures.corpus import generate_one
    from intake.extractors.images import open_source
    from intake.settings import get_settings

    # Given a dossier of the generated corpus
    dossier_id = f"{index + 1:04d}-{case}"
    generate_one(tmp_path, dossier_id, case, degradation, seed, index)
    expected = json.loads((tmp_path / dossier_id / "expected.json").read_text(encoding="utf-8"))
    bill = next(p for p in expected["pieces"] if p["kind"] == "proof_of_address")
    # When its proof of address is read
    source = open_source(tmp_path / dossier_id / bill["file"], get_settings())
    page = read_page(source.render(bill.get("page", 1)), bill.get("page", 1))
    # Then the field is the printed one
    assert page.kind == "proof_of_address"
    assert page.fields.get(field) == bill["fields"][field].removeprefix("MME ").removeprefix("M. "), why


def test_a_letter_slipped_into_the_given_names_label_is_not_a_name():
    from intake.extractors.fields import person_name

    # Given a JDC whose "Prénom(s)" label was read "Prénomt(s)"
    text = "Nom : BENOÎT-LEMAÎTRE\nPrénomt(s) : Théo\nNé(e) le : 08/06/2009 à Paris (75)"
    # Then the holder is the surname and the given name, nothing of the label
    assert person_name(text) == "BENOÎT-LEMAÎTRE THÉO"


def test_licence_front_field_number_misread_is_no_category():
    from intake.extractors.fields import licence_fields

    # Given the OCR of a licence front turned upside down and read back, where the label "9." was
    # read "D :" on its own line and the category B follows on the next line
    text = ("PERMIS DE CONDUIRE\nRÉPUBLIQUE FRANÇAISE\nBÉRARD\nJEAN-BAPTISTE\n16.12.1998 TOULOUSE (31)\n"
            "22.07.2017 4c. PRÉFECTURE\n4b.\n22.07.2032\n170785643274\nD :\nB\n")
    # When its fields are read
    fields = licence_fields(text)
    # Then the category held is B, not the D of the misread label
    assert fields["categories"] == ["B"]


def test_a_medical_opinion_with_misread_name_labels_names_its_holder():
    from intake.extractors.fields import person_name

    # Given the OCR of a phone photo of a medical opinion (Cerfa 14880) whose labels were read
    # with letters wrong ("Nom de nalsaance", "Prénom(x)"), each value on the line under its label
    text = ("AVIS MÉDICAL\nNom de nalsaance\nROUSSEAU\nNom d'usage\nPrénom(x)\nNoëmie Camille\n"
            "Date de naissance\n13 mars 1986\n")
    # When the holder is read, Then it is the birth name and the given names, not the label's words
    assert person_name(text) == "ROUSSEAU NOËMIE CAMILLE"
