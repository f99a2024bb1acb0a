"""One error hierarchy (intake.errors), one table to exit statuses and one to HTTP statuses."""

from __future__ import annotations

import json

import pytest
from conftest import base_declared, run_intake, write_dossier

from intake import errors
from intake.dossier import DossierError
from intake.export import ExportError, ExportRefused
from intake.service import ServiceError
from intake.tools import ToolMissing
from intake.web import operations


@pytest.mark.parametrize("exc,code,status", [
    (DossierError("applicant.birth_date", "date invalide"), errors.ExitCode.error, 422),
    (ServiceError("pas de worker"), errors.ExitCode.error, 503),
    (ToolMissing("tesseract absent"), errors.ExitCode.error, 503),
    (ExportRefused("pas complet"), errors.ExitCode.findings, 409),
    (ExportError("page trop grande"), errors.ExitCode.error, 422),
    (operations.NotFound("introuvable"), errors.ExitCode.error, 404),
    (operations.Forbidden("non"), errors.ExitCode.error, 403),
    (operations.Conflict("déjà pris"), errors.ExitCode.error, 409),
    (operations.Invalid("note trop longue"), errors.ExitCode.error, 422),
])
def test_every_error_a_person_reads_has_one_exit_status_and_one_http_status(exc, code, status):
    # Given an error raised anywhere in intake, Then both front doors map it from one table
    assert isinstance(exc, errors.IntakeError)
    assert errors.exit_code(exc) == code and errors.http_status(exc) == status


def test_a_refused_dossier_json_exits_2_with_the_field_named(tmp_path, data_dir):
    # Given a dossier.json whose birth date is not a date
    folder = write_dossier(tmp_path / "d", base_declared(applicant={**base_declared()["applicant"],
                                                                   "birth_date": "12/04/2005"}))
    # When checked
    proc = run_intake("check", str(folder))
    # Then the command could not run (2), and says which field, in French
    assert proc.returncode == 2
    assert "dossier.json refusé" in proc.stderr and "applicant.birth_date" in proc.stderr


def test_an_export_refused_exits_1_with_the_reason(tmp_path, data_dir):
    # Given a dossier with no piece at all (not complete)
    folder = write_dossier(tmp_path / "d", base_declared())
    (folder / "x.txt").write_text("pas une image")
    # When exported
    proc = run_intake("export", str(folder), "--out", str(tmp_path / "out"))
    # Then it is refused (1) with the reason, and nothing is written
    assert proc.returncode == 1, proc.stderr
    assert "intake export :" in proc.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    json.dumps(proc.stderr)
