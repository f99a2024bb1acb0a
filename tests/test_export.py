"""Ready to file (issue 21): the pieces prepared for the ANTS site, and the refusal of a dossier
that is not complete.

Given specimen dossiers of the corpus checked by the real pipeline (tesseract, the in-process
worker), when the school runs `intake export` (or the API), then it gets one file per requirement,
named for the ANTS form, that opens, reads upright at 0° with the real tesseract, stays under the
size limit, and a report that lists every finding; a dossier with open findings is refused with the
reason in French until a reviewer accepts them.
"""

from __future__ import annotations

import io
import json
import subprocess
import zipfile
from pathlib import Path

import pytest

from conftest import FIXTURES, run_intake

CORPUS = FIXTURES / "corpus"
#: Every piece of this complete dossier was scanned a quarter turn (the corpus's rot90 degradation).
ROT90 = CORPUS / "013-titre_reussite_ok"
#: A bill photographed on a table with a phone (the corpus's phone degradation).
PHONE_BILL = CORPUS / "018-medical_retour_ok" / "Document (3).jpg"
#: needs_review: the proof of address is at another address than the declared one.
OTHER_ADDRESS = CORPUS / "052-proof_other_address"
LIMIT = 400_000
EXPECTED_FILES = ["01-piece-identite.pdf", "02-justificatif-domicile.pdf", "03-code-ephoto.txt", "04-assr.pdf",
                  "rapport-controle.json", "rapport-controle.pdf"]


def ocr_at_zero(image) -> str:
    """Tesseract as it reads a page laid as it is: no orientation detection (psm 3)."""
    import pytesseract

    return pytesseract.image_to_string(image, lang="fra", config="--psm 3", timeout=120)


def pdf_page_image(path: Path, page: int = 1, dpi: int = 150):
    from PIL import Image

    done = subprocess.run(["pdftoppm", "-r", str(dpi), "-f", str(page), "-l", str(page), "-png", "-singlefile",
                           str(path), str(path.with_suffix(f".p{page}"))], capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return Image.open(path.with_suffix(f".p{page}.png"))


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """`intake export DOSSIER_DIR --out DIR --max-bytes 400000` on the rot90 dossier, as a school runs it."""
    tmp = tmp_path_factory.mktemp("export")
    out = tmp / "pret-a-deposer"
    done = run_intake("export", str(ROT90), "--out", str(out), "--max-bytes", str(LIMIT),
                      env={"INTAKE_DATA_DIR": str(tmp / "data"), "INTAKE_2DDOC_CERTS": str(FIXTURES / "certs"),
                           "INTAKE_DATABASE_URL": "", "INTAKE_BROKER_URL": ""})
    assert done.returncode == 0, done.stderr
    return out, done


def test_one_file_per_requirement_named_for_the_ants_form(exported):
    out, done = exported
    assert sorted(p.name for p in out.iterdir()) == EXPECTED_FILES
    assert [Path(line).name for line in done.stdout.split()] == [
        "01-piece-identite.pdf", "02-justificatif-domicile.pdf", "03-code-ephoto.txt", "04-assr.pdf",
        "rapport-controle.pdf", "rapport-controle.json"]


def test_exported_pdfs_open_and_stay_under_the_size_limit(exported):
    from pypdf import PdfReader

    out, _ = exported
    for path in sorted(out.glob("*.pdf")):
        info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, timeout=60)
        assert info.returncode == 0, (path.name, info.stderr)
        assert len(PdfReader(path).pages) >= 1
        if not path.name.startswith("rapport"):
            assert path.stat().st_size <= LIMIT, path.name


def test_both_faces_of_the_card_are_in_one_file(exported):
    from pypdf import PdfReader

    out, _ = exported
    reader = PdfReader(out / "01-piece-identite.pdf")
    assert sum(len(page.images) for page in reader.pages) == 2


def test_the_bill_scanned_sideways_is_exported_upright(exported, tmp_path):
    from intake.extractors.images import open_source
    from intake.settings import load_settings
    from PIL import Image

    out, _ = exported
    # Given: the upload, read as it lies, does not give the title (it runs down the page).
    source = open_source(ROT90 / "scan_0003.pdf", load_settings()).render(1)
    assert source.shape[1] > source.shape[0]  # landscape: the A4 page lies on its side
    assert "QUITTANCE DE LOYER" not in ocr_at_zero(Image.fromarray(source)).upper()
    # When / Then: the exported page, read at 0°, gives its title and its addressee.
    text = ocr_at_zero(pdf_page_image(out / "02-justificatif-domicile.pdf")).upper()
    assert "QUITTANCE DE LOYER" in text
    assert "IMPASSE DES TILLEULS" in text


def test_the_certificate_and_the_card_read_upright(exported):
    out, _ = exported
    assert "ATTESTATION SCOLAIRE" in ocr_at_zero(pdf_page_image(out / "04-assr.pdf")).upper()
    card = ocr_at_zero(pdf_page_image(out / "01-piece-identite.pdf", dpi=200)).upper()
    assert "REPUBLIQUE FRANCAISE" in card.replace("É", "E").replace("Ç", "C")


def test_the_ephoto_code_and_date_are_in_a_text_file_to_paste(exported):
    out, _ = exported
    expected = next(p for p in json.loads((ROT90 / "expected.json").read_text())["pieces"] if p["kind"] == "photo_code")
    lines = (out / "03-code-ephoto.txt").read_text(encoding="utf-8").splitlines()
    assert expected["fields"]["code"] in lines  # alone on its line: copied as is
    assert any("12 juillet 2026" in line for line in lines)


def test_the_report_is_one_or_two_pages_with_the_requirements_and_version(exported):
    from pypdf import PdfReader

    from intake.version import PIPELINE_VERSION

    out, _ = exported
    data = (out / "rapport-controle.pdf").read_bytes()
    assert 1 <= len(PdfReader(io.BytesIO(data)).pages) <= 2
    text = pdf_text(data)
    assert "AE-FX-013-titre_reussite_ok" in text and "Complet" in text
    assert PIPELINE_VERSION in text
    for name in ("01-piece-identite.pdf", "04-assr.pdf", "03-code-ephoto.txt"):
        assert name in text
    report = json.loads((out / "rapport-controle.json").read_text(encoding="utf-8"))
    assert [r["requirement"] for r in report["requirements"]] == ["identity", "proof_of_address", "photo_code", "assr"]
    assert all(r["state"] == "met" for r in report["requirements"])


def test_a_bill_photographed_on_a_table_is_cropped_and_fits_a_small_limit(tmp_path):
    from PIL import Image

    from intake.export import ExportError, compressed_pdf, upright_page
    from intake.extractors.images import open_source
    from intake.settings import load_settings

    photo = open_source(PHONE_BILL, load_settings()).render(1)
    page = upright_page(photo, {})
    # The table around the sheet is gone, and the sheet keeps A4 proportions.
    assert page.shape[0] * page.shape[1] < 0.75 * photo.shape[0] * photo.shape[1]
    assert 1.3 < page.shape[0] / page.shape[1] < 1.6
    data = compressed_pdf([page], "justificatif", 60_000)
    assert len(data) <= 60_000
    path = tmp_path / "facture.pdf"
    path.write_bytes(data)
    text = ocr_at_zero(pdf_page_image(path))
    assert "Facture du 16/01/2026" in text and "Montant total" in text
    with pytest.raises(ExportError, match="ne tient pas sous"):
        compressed_pdf([page], "justificatif", 5_000)


# --- a dossier that is not complete --------------------------------------------------------------------


@pytest.fixture(scope="module")
def other_address(tmp_path_factory):
    """The 052 dossier checked through the service (needs_review), an API client and a reviewer."""
    from fastapi.testclient import TestClient

    from intake.settings import reset_settings

    data = tmp_path_factory.mktemp("refused") / "data"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("INTAKE_DATA_DIR", str(data))
        mp.delenv("INTAKE_DATABASE_URL", raising=False)
        mp.delenv("INTAKE_BROKER_URL", raising=False)
        mp.setenv("INTAKE_2DDOC_CERTS", str(FIXTURES / "certs"))
        reset_settings()
        from intake.db import engine_for
        from intake.service import check_folder_dossier
        from intake.web.app import create_app
        from intake.web.auth import create_user

        engine_for.cache_clear()
        dossier_id, result = check_folder_dossier(OTHER_ADDRESS)
        with TestClient(create_app()) as client:
            create_user("verif_export", "mot-de-passe-export", "reviewer")
            token = client.post("/api/v1/token", json={"username": "verif_export",
                                                        "password": "mot-de-passe-export"}).json()["access_token"]
            yield {"id": dossier_id, "result": result, "client": client, "data": data,
                   "headers": {"Authorization": f"Bearer {token}"}}
        reset_settings()
        engine_for.cache_clear()


def test_export_of_a_dossier_that_is_not_complete_is_refused_with_the_reason(other_address, tmp_path):
    from intake.export import ExportRefused, export_dossier

    assert other_address["result"]["status"] == "needs_review"
    out = tmp_path / "out"
    with pytest.raises(ExportRefused) as refused:
        export_dossier(other_address["id"], out)
    assert "Export refusé : le dossier n'est pas complet (statut : à vérifier)" in refused.value.message
    mismatch = next(f for f in other_address["result"]["findings"] if f["code"] == "proof_of_address_address_mismatch")
    assert mismatch["message"].rstrip(" .") in refused.value.message
    assert not out.exists()
    # The command line says the same, on stderr, with exit status 1.
    done = run_intake("export", str(other_address["id"]), "--out", str(out),
                      env={"INTAKE_DATA_DIR": str(other_address["data"]), "INTAKE_DATABASE_URL": "",
                           "INTAKE_BROKER_URL": ""})
    assert done.returncode == 1
    assert "Export refusé" in done.stderr and not out.exists()
    # And the API answers 409 with the reason.
    answer = other_address["client"].get(f"/api/v1/dossiers/{other_address['id']}/export",
                                         headers=other_address["headers"])
    assert answer.status_code == 409
    assert "Export refusé" in json.dumps(answer.json(), ensure_ascii=False)


def test_once_a_reviewer_accepts_every_open_finding_the_export_is_given_with_the_decisions(other_address):
    from pypdf import PdfReader

    client, headers, dossier_id = other_address["client"], other_address["headers"], other_address["id"]
    detail = client.get(f"/api/v1/dossiers/{dossier_id}", headers=headers).json()
    assert client.post(f"/api/v1/dossiers/{dossier_id}/claim", headers=headers).status_code == 204
    for finding in detail["findings"]:
        if finding["state"] == "open" and finding["severity"] in ("blocking", "review"):
            answer = client.post(f"/api/v1/findings/{finding['id']}/accept", headers=headers,
                                 json={"note": "Déménagement récent, bail fourni au guichet"})
            assert answer.status_code == 204, answer.text
    answer = client.get(f"/api/v1/dossiers/{dossier_id}/export", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    names = sorted(Path(n).name for n in archive.namelist())
    assert names == ["01-piece-identite.pdf", "02-justificatif-domicile.pdf", "03-code-ephoto.txt",
                     "rapport-controle.json", "rapport-controle.pdf"]
    for name in archive.namelist():
        if name.endswith(".pdf"):
            assert len(PdfReader(io.BytesIO(archive.read(name))).pages) >= 1
    # The report lists every finding of the dossier, with who accepted it and the note.
    report = client.get(f"/api/v1/dossiers/{dossier_id}/report", headers=headers)
    assert report.status_code == 200 and report.headers["content-type"] == "application/pdf"
    text = " ".join(pdf_text(report.content).split())
    assert detail["findings"]
    for finding in detail["findings"]:
        assert finding["code"] in text
    assert "Accepté par verif_export" in text
    assert "Déménagement récent, bail fourni au guichet" in text


def test_another_schools_dossier_is_not_found(other_address):
    from intake.web.auth import create_user

    client, dossier_id = other_address["client"], other_address["id"]
    create_user("ecole_export", "mot-de-passe-export", "school", "Auto-école Ailleurs")
    token = client.post("/api/v1/token", json={"username": "ecole_export",
                                                "password": "mot-de-passe-export"}).json()["access_token"]
    answer = client.get(f"/api/v1/dossiers/{dossier_id}/report", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 404


def test_a_card_photographed_on_a_table_gives_both_faces_cropped_on_one_page(tmp_path):
    from pypdf import PdfReader

    from intake.export import compressed_pdf, upright_page
    from intake.extractors.images import open_source
    from intake.settings import load_settings

    # Given: the two faces of an identity card, each photographed on a table (corpus 018, phone).
    source = open_source(CORPUS / "018-medical_retour_ok" / "piece1.pdf", load_settings())
    photos = [source.render(i) for i in (1, 2)]
    # When: prepared for the ANTS site.
    faces = [upright_page(photo, {}, card=True) for photo in photos]
    path = tmp_path / "carte.pdf"
    path.write_bytes(compressed_pdf(faces, "pièce d'identité", 400_000, card=True))
    # Then: one page holds both faces, each cut to the card's ID-1 proportions (85.6 x 54 mm).
    reader = PdfReader(path)
    assert len(reader.pages) == 1
    images = reader.pages[0].images
    assert len(images) == 2
    for image in images:
        width, height = image.image.size
        assert 1.50 <= width / height <= 1.68
    assert path.stat().st_size <= 400_000
    text = ocr_at_zero(pdf_page_image(path, dpi=200)).upper().replace("É", "E").replace("Ç", "C")
    assert "REPUBLIQUE FRANCAISE" in text
