"""`intake check` and `intake extract` end their process without the interpreter's teardown (issue
19), but nothing a user relies on at exit is skipped: the whole output, the exit status, and no page
image left in the data folder."""

from __future__ import annotations

import json
import shutil
import sys
import tomllib
from pathlib import Path

from conftest import FIXTURES, ROOT, base_declared, run_intake, write_dossier

BILL_PDF = FIXTURES / "corpus" / "005-photo_code_missing" / "piece2.pdf"


def _leftovers(data: Path) -> list[Path]:
    tmp = data / "tmp"
    return [p for p in tmp.rglob("*")] if tmp.exists() else []


def test_the_intake_program_is_the_entry_with_the_quick_exit():
    # Given the package's declared console script
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    # Then `intake` is `run` (main, then the quick exit), not `main` alone
    assert scripts["intake"] == "intake.cli:run"


def test_check_ends_with_its_whole_report_and_no_page_image_left(tmp_path):
    # Given a dossier with a PDF bill (rendered by pdftoppm into the process's temporary folder)
    dossier = write_dossier(tmp_path / "dossier", base_declared())
    shutil.copy(BILL_PDF, dossier / "facture.pdf")
    data = tmp_path / "data"
    env = {"INTAKE_DATA_DIR": str(data), "INTAKE_2DDOC_CERTS": str(FIXTURES / "certs")}
    # When `intake check --json` runs as a program
    out = run_intake("check", "--json", str(dossier), env=env, timeout=300)
    # Then the report is whole, its status gives the exit code, nothing is left in tmp/, and the
    # database's write-ahead log was folded into it as at a normal exit
    assert "Traceback" not in out.stderr
    result = json.loads(out.stdout)
    assert result["status"] in ("incomplete", "review")
    assert any(p["file"] == "facture.pdf" for p in result["pieces"])
    assert out.returncode == 1
    assert _leftovers(data) == []
    assert (data / "intake.db").exists() and not (data / "intake.db-wal").exists()


def test_extract_ends_with_its_whole_output_and_no_page_image_left(tmp_path):
    # Given a PDF bill
    data = tmp_path / "data"
    env = {"INTAKE_DATA_DIR": str(data), "INTAKE_2DDOC_CERTS": str(FIXTURES / "certs")}
    # When `intake extract --json` runs as a program
    out = run_intake("extract", "--json", str(BILL_PDF), env=env, timeout=300)
    # Then its JSON is whole, the exit status is success, and nothing is left in tmp/
    assert out.returncode == 0, out.stderr
    pieces = json.loads(out.stdout)["pieces"]
    assert pieces and pieces[0]["kind"] == "proof_of_address"
    assert _leftovers(data) == []


def test_a_closed_output_pipe_does_not_turn_into_a_traceback(tmp_path):
    # Given `intake extract` whose reader of the output goes away at once (`| head -c 0`)
    import subprocess

    from conftest import VENV_BIN

    data = tmp_path / "data"
    proc = subprocess.Popen([str(VENV_BIN / "intake"), "extract", "--json", str(BILL_PDF)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**__import__("os").environ, "INTAKE_DATA_DIR": str(data)})
    proc.stdout.close()
    # When it ends
    _, err = proc.communicate(timeout=300)
    # Then it ends without a Python traceback, says the output was not all delivered, and leaves
    # nothing in tmp/
    assert b"Traceback" not in err
    assert proc.returncode == 2
    assert _leftovers(data) == []


def test_a_one_shot_verb_collects_garbage_again_once_its_modules_are_loaded(monkeypatch, tmp_path, capsys):
    # Given `intake extract` run as the program runs it (`run`, which pauses the cyclic collector
    # while the verb's modules load), its quick exit caught
    import gc

    from intake import cli

    class Exited(Exception):
        pass

    def caught_exit(code):
        raise Exited(code)

    monkeypatch.setenv("INTAKE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(sys, "argv", ["intake", "extract", "--json", str(BILL_PDF)])
    monkeypatch.setattr(cli, "quick_exit", caught_exit)
    frozen_before = gc.get_freeze_count()
    try:
        # When it has read the file
        try:
            cli.run()
        except Exited as exc:
            code = exc.args[0]
        # Then it succeeded, the collector runs again (a long check's cycles are freed), and the
        # objects of the loaded modules were set out of its reach
        assert code == 0 and json.loads(capsys.readouterr().out)["pieces"]
        assert gc.isenabled()
        assert gc.get_freeze_count() > frozen_before
    finally:
        gc.unfreeze()
        gc.enable()
