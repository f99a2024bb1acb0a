"""External tools: `intake doctor` says what is there and what to install; `intake check` and the
workers refuse to start without tesseract, its languages or poppler; PDFs render in one call."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import FIXTURES, VENV_BIN, redis_url

TESSDATA = Path("/usr/share/tesseract-ocr/5/tessdata")


def _intake(*args: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([str(VENV_BIN / "intake"), *args], env={**os.environ, **env}, capture_output=True,
                          text=True, timeout=timeout)


def test_doctor_lists_tools_versions_languages_and_fonts(tmp_path):
    # Given this machine, set up by scripts/setup.sh
    # When the doctor looks
    done = _intake("doctor", env={"INTAKE_DATA_DIR": str(tmp_path)})
    # Then every tool is there, with its version, the three languages and the OCR-B font
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "tesseract 5." in out and "poppler" in out and "zxing-cpp" in out
    assert "eng, fra, osd" in out
    assert "OCRB.otf" in out
    assert "Tous les outils nécessaires sont installés." in out


def test_doctor_reports_a_missing_language_and_its_package(tmp_path):
    # Given a tessdata folder with fra and osd but no eng
    tessdata = tmp_path / "tessdata"
    tessdata.mkdir()
    for lang in ("fra", "osd"):
        (tessdata / f"{lang}.traineddata").symlink_to(TESSDATA / f"{lang}.traineddata")
    # When the doctor looks there
    done = _intake("doctor", env={"TESSDATA_PREFIX": str(tessdata), "INTAKE_DATA_DIR": str(tmp_path / "data")})
    # Then it says eng is missing, which package brings it, and exits 1
    assert done.returncode == 1
    assert "manque : les données de langue tesseract eng" in done.stdout
    assert "apt-get install tesseract-ocr-eng" in done.stdout
    assert "fra" in done.stdout and "tesseract-ocr-fra" not in done.stdout


def test_check_refuses_to_start_without_tesseract_and_poppler(tmp_path):
    # Given a PATH where neither tesseract nor poppler can be found
    empty = tmp_path / "bin"
    empty.mkdir()
    data = tmp_path / "data"
    # When the sample dossier is checked
    done = _intake("check", str(FIXTURES / "sample"), env={"PATH": str(empty), "INTAKE_DATA_DIR": str(data)})
    # Then the command refuses before reading anything, in French, naming what to install
    assert done.returncode == 2
    assert "outils manquants" in done.stderr
    assert "le programme tesseract" in done.stderr and "pdftoppm" in done.stderr
    assert "apt-get install poppler-utils tesseract-ocr" in done.stderr
    assert not (data / "intake.db").exists()
    assert done.stdout == ""


def test_check_refuses_to_start_without_the_french_data(tmp_path):
    # Given tesseract's data folder pointed at an empty folder
    empty = tmp_path / "tessdata"
    empty.mkdir()
    # When the sample dossier is checked
    done = _intake("check", str(FIXTURES / "sample"),
                   env={"TESSDATA_PREFIX": str(empty), "INTAKE_DATA_DIR": str(tmp_path / "data")})
    # Then it refuses, saying which languages and packages are missing
    assert done.returncode == 2
    assert "les données de langue tesseract fra, eng, osd" in done.stderr
    assert "tesseract-ocr-fra" in done.stderr


def test_ocr_worker_refuses_to_start_without_tesseract(tmp_path):
    # Given a Redis broker configured but no tesseract on the PATH
    empty = tmp_path / "bin"
    empty.mkdir()
    # When an OCR worker is started
    done = _intake("worker", "--processes", "1", timeout=60,
                   env={"PATH": str(empty), "INTAKE_BROKER_URL": redis_url(), "INTAKE_DATA_DIR": str(tmp_path)})
    # Then it refuses at once with the same French message
    assert done.returncode == 2
    assert "intake worker : outils manquants : le programme tesseract" in done.stderr


def test_extract_and_doctor_do_not_import_the_database_stack(tmp_path):
    # Given a fresh interpreter running the CLI's parser for commands that need no database
    code = ("import sys; from intake.cli import build_parser; build_parser(sys.argv[1:]); "
            "print(sorted(m for m in ('sqlalchemy', 'dramatiq', 'fastapi') if m in sys.modules))")
    for verb in (["doctor"], ["extract", "x.png"], ["rules", "d"]):
        done = subprocess.run([sys.executable, "-c", code, *verb], capture_output=True, text=True, timeout=60,
                              check=True)
        # Then SQLAlchemy, Dramatiq and FastAPI are not imported
        assert done.stdout.strip() == "[]", verb
    # And the full help still lists the verbs of the command modules
    help_text = _intake("--help", env={"INTAKE_DATA_DIR": str(tmp_path)}).stdout
    assert "worker" in help_text and "serve" in help_text and "doctor" in help_text


def test_a_pdf_is_rendered_once_for_all_its_pages_in_gray(data_dir, monkeypatch):
    # Given a 3-page PDF and a count of pdftoppm calls
    from intake.extractors.images import open_source
    from intake.settings import get_settings
    from intake.tools import poppler

    calls = []
    real = poppler.render

    def counted(*args, **kwargs):
        calls.append((args[1], args[2], kwargs.get("gray")))
        return real(*args, **kwargs)

    monkeypatch.setattr(poppler, "render", counted)
    pdf = FIXTURES / "corpus" / "025-b96_ok" / "piece1.pdf"
    # When the pipeline renders every page
    source = open_source(pdf, get_settings(), reading=True)
    pages = [source.render(i) for i in range(1, source.page_count + 1)]
    # Then one pdftoppm call rendered the three pages, in gray
    assert source.page_count == 3
    assert calls == [(1, 3, True)]
    assert all(page.ndim == 3 and np.array_equal(page[:, :, 0], page[:, :, 2]) for page in pages)
    # And the rendered files are gone once loaded
    assert not [p for p in (data_dir / "tmp").rglob("*") if p.is_file()]
    # And a preview still renders the page alone, in colour, the same size
    preview = open_source(pdf, get_settings()).render(2)
    assert preview.shape == pages[1].shape
    assert calls[-1] == (2, 2, False)


def test_a_broken_pdf_page_is_rendered_alone_with_its_own_reason(data_dir, monkeypatch):
    # Given pdftoppm failing on the batch call (a hostile PDF killed at its timeout)
    from intake.extractors.images import UnsupportedFile, open_source
    from intake.settings import get_settings
    from intake.tools import poppler

    real = poppler.render

    def batch_times_out(path, first, last, *args, **kwargs):
        if first != last:
            raise poppler.PopplerTimeout("pdftoppm")
        return real(path, first, last, *args, **kwargs)

    monkeypatch.setattr(poppler, "render", batch_times_out)
    source = open_source(FIXTURES / "corpus" / "025-b96_ok" / "piece1.pdf", get_settings(), reading=True)
    # When the pages are asked
    pages = [source.render(i) for i in range(1, 4)]
    # Then each page was rendered on its own instead
    monkeypatch.setattr(poppler, "render", real)
    alone = open_source(FIXTURES / "corpus" / "025-b96_ok" / "piece1.pdf", get_settings())
    assert [p.shape for p in pages] == [alone.render(i).shape for i in range(1, 4)]
    # And a page poppler gives nothing for is reported alone, in French
    monkeypatch.setattr(poppler, "render", lambda *a, **k: {})
    source = open_source(FIXTURES / "corpus" / "025-b96_ok" / "piece1.pdf", get_settings(), reading=True)
    with pytest.raises(UnsupportedFile, match="page 2 du PDF illisible"):
        source.render(2)
