"""The check report (issue 21): a French PDF of one or two pages drawn from the check's data.

Given the data of a checked dossier (declared identity, requirements, pieces with where each value
was read, findings with the reviewers' decisions), when the report is rendered, then it opens, holds
one or two A4 pages, and says everything a school keeps: every finding and its decision, which piece
meets each requirement, the values read with their crops, the pipeline version and the date.
"""

from __future__ import annotations

import io

import numpy as np
import pytest

from intake.report import render_report


def _jpeg(width: int = 300, height: int = 40) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("L", (width, height), 255)
    ImageDraw.Draw(image).text((5, 10), "12/10/2021", fill=0)
    out = io.BytesIO()
    image.save(out, "JPEG")
    return out.getvalue()


def _data(findings: list[dict]) -> dict:
    return {
        "reference": "AE-2026-00042",
        "status": "complete",
        "reference_date": "2026-11-26",
        "checked_at": "2026-11-26T09:30:00+00:00",
        "generated_at": "2026-11-27T15:00:00+00:00",
        "pipeline_version": "x7.r3",
        "intake_version": "0.1.0",
        "declared": {
            "reference": "AE-2026-00042", "procedure": "inscription", "motif": "primo", "categories": ["B"],
            "training": None,
            "applicant": {"surname": "Çelik", "usage_name": None, "given_names": ["Çağla", "Œdipe"],
                          "birth_date": "2005-04-12", "birth_place": "Lyon", "sex": "F", "nationality": "TUR",
                          "address": {"line": "18 rue Nationale", "postcode": "37000", "city": "Tours"}},
            "situation": {"hosted": False, "under_guardianship": False, "medical_condition": False},
            "host": None, "legal_representative": None,
        },
        "requirements": [
            {"requirement": "identity", "label": "pièce d'identité du candidat", "state": "met", "why": "toujours",
             "documents": [{"file": "carte.pdf", "page": 1, "kind": "residence_permit"}],
             "export_file": "01-piece-identite.pdf"},
            {"requirement": "proof_of_address", "label": "justificatif de domicile au nom du candidat",
             "state": "invalid", "why": "toujours", "documents": [], "export_file": None},
        ],
        "pieces": [
            {"index": 0, "file": "carte.pdf", "page": 1, "pages": [1, 2], "kind": "residence_permit",
             "holder": "applicant", "confidence": 0.98,
             "fields": {"surname": "CELIK", "given_names": ["CAGLA"], "birth_date": "2005-04-12",
                        "document_number": "IR1234567", "expiry_date": "2030-01-01", "mrz_valid": True},
             "evidence": {"surname": {"confidence": 0.99, "reader": "mrz", "protected": "check_digit",
                                      "page": 2, "box": [10, 10, 100, 20]}}},
            {"index": 1, "file": "facture.jpg", "page": 1, "pages": [1], "kind": "proof_of_address",
             "holder": "applicant", "confidence": 0.9,
             "fields": {"issue_date": "2021-10-12", "holder_name": "MME ÇAĞLA ÇELIK", "postcode": "37000"},
             "evidence": {"issue_date": {"confidence": 0.93, "reader": "ocr", "protected": None, "page": 1,
                                         "box": [1, 2, 3, 4]}}},
        ],
        "findings": findings,
    }


FINDINGS = [
    {"id": 1, "code": "proof_of_address_too_old", "severity": "blocking", "requirement": "proof_of_address",
     "file": "facture.jpg", "page": 1, "message": "Fournir un justificatif de domicile de moins de 6 mois.",
     "state": "accepted", "note": "Attestation d'hébergement vue au guichet", "decided_by": "verif1",
     "decided_at": "2026-11-26"},
    {"id": 2, "code": "identity_sex_mismatch", "severity": "review", "requirement": "identity", "file": "carte.pdf",
     "page": 1, "message": "Le sexe lu sur la pièce d'identité diffère du sexe déclaré.", "state": "resolved",
     "note": None, "decided_by": "verif2", "decided_at": "2026-11-26"},
    {"id": 3, "code": "duplicate_piece", "severity": "info", "requirement": None, "file": "carte-2.pdf", "page": None,
     "message": "carte-2.pdf est le même fichier que carte.pdf (envoyé deux fois).", "state": "open", "note": None,
     "decided_by": None, "decided_at": None},
]


def _text(pdf: bytes) -> str:
    from pypdf import PdfReader

    return " ".join(" ".join((page.extract_text() or "") for page in PdfReader(io.BytesIO(pdf)).pages).split())


def _pages(pdf: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


def test_the_report_lists_every_finding_with_its_decision():
    pdf = render_report(_data(FINDINGS))
    text = _text(pdf)
    for finding in FINDINGS:
        assert finding["code"] in text
    assert "Accepté par verif1 le 26 novembre 2026 : « Attestation d'hébergement vue au guichet »" in text
    assert "Résolu par verif2" in text
    assert "Constats (3)" in text


def test_the_report_says_who_the_dossier_is_for_and_what_meets_each_requirement():
    text = _text(render_report(_data([])))
    assert "Rapport de contrôle du dossier AE-2026-00042" in text
    assert "Çelik" in text and "Çağla, Œdipe" in text  # outside Latin-1: the font covers them
    assert "Pièce d'identité du candidat Fournie carte.pdf, p. 1 01-piece-identite.pdf" in text
    assert "Non valable" in text
    assert "Aucun constat" in text


def test_the_report_gives_the_values_read_their_reader_and_the_version_and_date():
    text = _text(render_report(_data([])))
    assert "IR1234567" in text and "MME ÇAĞLA ÇELIK" in text and "12 octobre 2021" in text
    assert "bande MRZ, confiance 0.99, chiffre de contrôle juste" in text
    assert "version du contrôle x7.r3" in text
    assert "27 novembre 2026" in text


def test_crops_of_where_values_were_read_are_drawn():
    from pypdf import PdfReader

    crops = {"0/surname": _jpeg(), "1/issue_date": _jpeg(200, 30)}
    pdf = render_report(_data(FINDINGS), crops)
    images = sum(len(page.images) for page in PdfReader(io.BytesIO(pdf)).pages)
    assert images == 2
    assert images != sum(len(page.images) for page in PdfReader(io.BytesIO(render_report(_data(FINDINGS)))).pages)


def test_a_typical_dossier_fits_on_one_or_two_pages():
    data = _data(FINDINGS * 3)
    assert 1 <= _pages(render_report(data, {"0/surname": _jpeg(), "1/issue_date": _jpeg()})) <= 2


@pytest.mark.parametrize("box", [[0, 0, 50, 10], [590, 390, 50, 30], [-20, -20, 40, 40]])
def test_a_crop_stays_inside_the_page_and_follows_the_frame(box):
    from intake.export import crop_box

    page = np.full((400, 600, 3), 255, np.uint8)
    page[100:120, 200:300] = 0
    assert crop_box(page, box, {"width": 600, "height": 400}) is not None
    # A frame twice the page's size: the box is scaled onto the page (the black bar is in the crop).
    crop = crop_box(page, [400, 200, 200, 40], {"width": 1200, "height": 800})
    from PIL import Image

    assert np.asarray(Image.open(io.BytesIO(crop))).min() < 50
