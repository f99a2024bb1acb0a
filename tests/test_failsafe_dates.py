"""Dates whose reading leaves a doubt about which date they are go to a person, not to the verdict.

A bill's issue date known only by a bare "le" (a debit's date, "Montant prélevé le", its label
misread) made a bill look younger than it is at confidence 0.91; a date box read again alone that
gives another date counted as if the first reading were sure. Family-2 tuning seed 117 holds the
first case as it was photographed; the second is the evidence rule itself.
"""

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from family2_pieces import family2_piece
from intake.extractors.evidence import DISAGREEING_DATE, confirm_by_rereading
from intake.extractors.page import read_page
from intake.validators.key_fields import KEY_MIN_CONFIDENCE, well_read


def test_a_bills_date_labelled_only_le_is_left_to_a_person(tmp_path):
    # Given a bill photographed a quarter turn whose "Émise le 24 janv." is misread ("2A janv.") and
    # whose only other labelled date is a debit's, "prélevé le 04/02/2026", its label misread too
    image, piece = family2_piece(tmp_path, 117, 29, "Numérisation_001.jpg")
    assert piece["kind"] == "proof_of_address"
    # When it is read
    page = read_page(image, 1)
    # Then a date known by a bare "le" is no issue date a verdict may use: a person checks it
    assert page.kind == "proof_of_address"
    issue = page.fields.get("issue_date")
    if issue is not None and issue != piece["fields"]["issue_date"]:
        assert not well_read(page.fields, page.evidence, "issue_date")
    ev = page.evidence["fields"].get("issue_date")
    assert ev is None or ev["confidence"] < KEY_MIN_CONFIDENCE


def test_a_bills_date_after_its_own_label_keeps_its_confidence(tmp_path):
    # Given a bill photographed on a light desk, its issue date printed after "Fait le" / "Émise le"
    image, piece = family2_piece(tmp_path, 117, 47, "Numérisation_002.jpg")
    # When it is read
    page = read_page(image, 1)
    # Then its issue date is the printed one and counts
    assert page.fields.get("issue_date") == piece["fields"]["issue_date"]
    assert well_read(page.fields, page.evidence, "issue_date")


_BILL = ["ÉLECTRICITÉ DU NORD", "Facture d'électricité", "N° client 123456789", "", "M. JEAN DUPONT",
         "3 RUE DES LILAS", "75011 PARIS", "", "Consommation électricité 150 kWh", "Abonnement 12,00 €",
         "Total à payer 85,40 €"]


def _printed(lines: list[str]) -> np.ndarray:
    """An A4 page at 200 dpi with `lines` printed in DejaVu Sans (BGR)."""
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 34)
    image = Image.new("L", (1654, 2339), 255)
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((150, 150 + 60 * i), line, font=font, fill=0)
    return np.array(image.convert("RGB"))[:, :, ::-1].copy()


@pytest.mark.parametrize("last,counts", [
    (["Montant prélevé", "le 04/02/2026 sur votre compte"], False),
    (["Facture émise le 24/01/2026"], True),
], ids=["bare-le", "emise-le"])
def test_an_issue_date_counts_only_under_a_label_that_names_it(last, counts):
    # Given a bill whose one date follows a bare "le" on its line, or "Facture émise le"
    page_image = _printed(_BILL + last)
    # When it is read
    page = read_page(page_image, 1)
    # Then the date is reported either way, but only the labelled one counts for the verdict
    assert page.kind == "proof_of_address" and page.fields.get("issue_date")
    assert well_read(page.fields, page.evidence, "issue_date") is counts


class _Rereading:
    """A page whose boxes read again alone give `text` (the evidence rule, not the OCR, is tested)."""

    def __init__(self, text: str, confidence: float = 0.95):
        self.text, self.confidence = text, confidence

    def reread_box(self, box, **_):
        return self.text, self.confidence


def test_a_date_read_again_as_another_date_is_left_in_doubt():
    # Given an issue date read at 0.91 whose box, read again alone, gives another date
    fields = {"issue_date": "2026-02-04"}
    evidence = {"issue_date": {"confidence": 0.91, "readings": 1, "_box": [10, 10, 100, 20]}}
    # When the value is confirmed by rereading
    confirm_by_rereading(_Rereading("24/01/2026"), "proof_of_address", fields, evidence, ["issue_date"])
    # Then it is left under the threshold: a person says which date is printed
    assert evidence["issue_date"]["confidence"] <= DISAGREEING_DATE < KEY_MIN_CONFIDENCE
    assert evidence["issue_date"]["readings"] == 1


def test_a_date_read_again_alike_counts_twice_and_one_read_as_noise_stays_as_it_was():
    # Given the same date, its box read again once as the same date and once as no date at all
    same = {"issue_date": {"confidence": 0.5, "readings": 1, "_box": [10, 10, 100, 20]}}
    noise = {"issue_date": {"confidence": 0.91, "readings": 1, "_box": [10, 10, 100, 20]}}
    fields = {"issue_date": "2026-02-04"}
    # When each is confirmed by rereading
    confirm_by_rereading(_Rereading("04/02/2026"), "proof_of_address", fields, same, ["issue_date"])
    confirm_by_rereading(_Rereading("~~ ,"), "proof_of_address", fields, noise, ["issue_date"])
    # Then the agreeing one is read twice, the other keeps its first confidence
    assert same["issue_date"]["readings"] == 2 and same["issue_date"]["confidence"] == 0.95
    assert noise["issue_date"] == {"confidence": 0.91, "readings": 1, "_box": [10, 10, 100, 20]}


class _TwoModels:
    """A page whose boxes read again alone give `french` with the page's model, `english` with the
    other one."""

    def __init__(self, french: str, english: str, confidence: float = 0.9):
        self.readings, self.confidence = {"fra": french, "eng": english}, confidence

    def reread_box(self, box, *, psm: int = 7, lang: str = "fra"):
        return self.readings[lang], self.confidence


@pytest.mark.parametrize("french,english,readings,doubt", [
    ("21/05/26", "21/03/26", 1, True),   # the other model reads another date: in doubt, whatever the first
    ("21/05/26", "", 2, False),          # the other model silent: the page's model alike alone counts
    ("21/03/26", "", 1, True),           # ... and its other date is a doubt
    ("21/05/26", "21/05/26", 2, False),  # both models alike: two readings
    ("", "21/05/26", 2, False),
], ids=["other-model-differs", "other-model-silent", "other-model-silent-page-model-differs", "both-models",
        "other-model-only"])
def test_a_date_read_another_way_by_another_model_is_left_in_doubt(french, english, readings, doubt):
    # Given a photo date read at 0.81 on a blurred sheet (family-2 seed 120: "21/03/26" read 21/05/26
    # by the French model, on the page and again alone), its box read again by the two models
    fields = {"photo_date": "2026-05-21"}
    evidence = {"photo_date": {"confidence": 0.81, "readings": 1, "_box": [10, 10, 100, 20]}}
    # When the value is confirmed by rereading
    confirm_by_rereading(_TwoModels(french, english), "photo_code", fields, evidence, ["photo_date"])
    # Then the other model's reading decides when it reads a date; the page's model's only when not
    assert evidence["photo_date"]["readings"] == readings
    assert (evidence["photo_date"]["confidence"] <= DISAGREEING_DATE) is doubt
