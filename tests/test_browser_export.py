"""Browser journey (issue 21): from "complete" to a folder ready to file, in one click.

Given a school whose dossier (every piece scanned a quarter turn) was sent by its software through the
API and checked complete, when the school opens the dossier's page in Debian's Chromium and clicks the
two download buttons, then it gets the zip of the pieces named for the ANTS form (PDFs that open, the
e-photo code to paste) and the check report as a PDF. Screenshots go to INTAKE_SCREENSHOTS.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from pathlib import Path

import pytest

from conftest import FIXTURES
from test_browser import CHECK_TIMEOUT_MS, PASSWORD, _login, browser, server, shots  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

DOSSIER = FIXTURES / "corpus" / "013-titre_reussite_ok"


def _checked_dossier(base: str) -> int:
    """The school's software creates the dossier, sends its pieces and waits for the verdict."""
    import httpx

    with httpx.Client(base_url=base, timeout=120) as client:
        token = client.post("/api/v1/token", json={"username": "ecole", "password": PASSWORD}).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        declared = json.loads((DOSSIER / "dossier.json").read_text(encoding="utf-8"))
        created = client.post("/api/v1/dossiers", json=declared, headers=headers)
        assert created.status_code == 201, created.text
        dossier_id = created.json()["id"]
        pieces = [p for p in sorted(DOSSIER.iterdir()) if p.name not in ("dossier.json", "expected.json")]
        files = [("files", (p.name, p.read_bytes())) for p in pieces]
        assert client.post(f"/api/v1/dossiers/{dossier_id}/uploads", files=files, headers=headers).status_code == 202
        deadline = time.monotonic() + CHECK_TIMEOUT_MS / 1000
        while True:
            state = client.get(f"/api/v1/dossiers/{dossier_id}/status", headers=headers).json()
            if state["settled"] and state["uploads_pending"] == 0:
                break
            assert time.monotonic() < deadline, state
            time.sleep(1)
        assert state["status"] == "complete", state
        return dossier_id


def test_a_school_downloads_the_pieces_ready_to_file_and_the_report(server, browser, shots, tmp_path):  # noqa: F811
    from pypdf import PdfReader

    dossier_id = _checked_dossier(server)
    page = browser.new_page(accept_downloads=True)
    try:
        _login(page, server, "ecole")
        page.goto(f"{server}/dossiers/{dossier_id}")
        button = page.get_by_role("link", name="Télécharger les pièces prêtes à déposer (zip)")
        button.scroll_into_view_if_needed()
        page.screenshot(path=str(shots / "export-1-dossier-complet.png"), full_page=True)

        with page.expect_download(timeout=120_000) as download:
            button.click()
        zip_path = tmp_path / download.value.suggested_filename
        download.value.save_as(zip_path)
        assert zip_path.name == "depot-ants-AE-FX-013-titre_reussite_ok.zip"
        with zipfile.ZipFile(zip_path) as archive:
            names = sorted(Path(n).name for n in archive.namelist())
            assert names == ["01-piece-identite.pdf", "02-justificatif-domicile.pdf", "03-code-ephoto.txt",
                             "04-assr.pdf", "rapport-controle.json", "rapport-controle.pdf"]
            for name in archive.namelist():
                if name.endswith(".pdf"):
                    assert len(PdfReader(io.BytesIO(archive.read(name))).pages) >= 1
            code = next(archive.read(n).decode("utf-8") for n in archive.namelist() if n.endswith(".txt"))
            assert "KZGX3GWZBHU1WALQZ7XBNP" in code.splitlines()

        with page.expect_download(timeout=120_000) as download:
            page.get_by_role("link", name="Télécharger le rapport de contrôle (PDF)").click()
        report_path = tmp_path / download.value.suggested_filename
        download.value.save_as(report_path)
        reader = PdfReader(report_path)
        assert 1 <= len(reader.pages) <= 2
        assert "AE-FX-013-titre_reussite_ok" in (reader.pages[0].extract_text() or "")
        page.screenshot(path=str(shots / "export-2-telechargements.png"), full_page=True)
    finally:
        page.close()
