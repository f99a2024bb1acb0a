"""dossier.json is validated with a message naming the bad field (CONTRACT.md §1)."""

from __future__ import annotations

import json

import pytest

from conftest import base_declared, run_intake, write_dossier
from intake.dossier import DossierError, is_placeholder_date, parse_declared


def test_a_valid_dossier_is_parsed_with_its_people():
    # Given the contract's example dossier
    data = base_declared()
    # When it is parsed
    declared = parse_declared(data)
    # Then the applicant and the situation are typed
    assert declared.applicant.given_names == ("Jean", "Pierre")
    assert declared.applicant.birth_date.isoformat() == "2005-04-12"
    assert declared.situation.hosted is False
    assert list(declared.people()) == ["applicant"]


@pytest.mark.parametrize(
    "change, field",
    [
        (lambda d: d.update(procedure="permis"), "procedure"),
        (lambda d: d.update(motif=None), "motif"),
        (lambda d: d.update(categories=["B", "Z"]), "categories[1]"),
        (lambda d: d.update(categories="B"), "categories"),
        (lambda d: d["applicant"].update(birth_date="12/04/2005"), "applicant.birth_date"),
        (lambda d: d["applicant"].update(birth_date="2005-02-30"), "applicant.birth_date"),
        (lambda d: d["applicant"].update(sex="H"), "applicant.sex"),
        (lambda d: d["applicant"].update(nationality="France"), "applicant.nationality"),
        (lambda d: d["applicant"].update(given_names=[]), "applicant.given_names"),
        (lambda d: d["applicant"].pop("surname"), "applicant.surname"),
        (lambda d: d["situation"].update(hosted="yes"), "situation.hosted"),
        (lambda d: d.update(host={"surname": "Martin"}), "host.given_names"),
        (lambda d: d.update(training="B96"), "training"),
        (lambda d: d.update(applicant=[]), "applicant"),
    ],
)
def test_a_schema_error_names_the_field(change, field):
    # Given a dossier with one wrong field
    data = base_declared()
    change(data)
    # When it is parsed
    with pytest.raises(DossierError) as err:
        parse_declared(data)
    # Then the error names that field
    assert err.value.field == field


def test_titre_formation_needs_its_training():
    # Given a training procedure without the training
    data = base_declared(procedure="titre_formation")
    # When parsed, Then the training field is named
    with pytest.raises(DossierError) as err:
        parse_declared(data)
    assert err.value.field == "training"
    # And with it, the dossier is accepted
    assert parse_declared(base_declared(procedure="titre_formation", training="B96")).training == "B96"


def test_a_birth_date_with_day_00_is_kept_for_the_rules():
    # Given a foreign birth date with an unknown day
    data = base_declared()
    data["applicant"]["birth_date"] = "1990-05-00"
    # When parsed, Then it is kept (the rules report birth_date_unusual) and written back as declared
    declared = parse_declared(data)
    assert is_placeholder_date(declared.applicant.birth_date)
    assert declared.applicant.birth_date.isoformat() == "1990-05-00"


@pytest.mark.parametrize(
    "content, field_in_message",
    [
        (None, "dossier.json"),
        (b"{not json", "dossier.json"),
        (b"\xff\xfe\x00garbage", "dossier.json"),
        (json.dumps(base_declared(procedure=12)).encode(), "procedure"),
        (b"[" * 100000 + b"]" * 100000, "dossier.json"),
    ],
)
def test_intake_check_refuses_a_bad_dossier_json_with_exit_2(tmp_path, content, field_in_message):
    # Given a dossier folder whose dossier.json is missing, malformed or of the wrong types
    folder = tmp_path / "d"
    folder.mkdir()
    if content is not None:
        (folder / "dossier.json").write_bytes(content)
    # When intake check runs on it
    proc = run_intake("check", str(folder), "--json", env={"INTAKE_DATA_DIR": str(tmp_path / "data")})
    # Then it exits 2, names the field, prints nothing on stdout and writes no database
    assert proc.returncode == 2, proc.stderr
    assert field_in_message in proc.stderr
    assert proc.stdout == ""
    assert not (tmp_path / "data" / "intake.db").exists()


def test_bad_arguments_exit_2(tmp_path):
    # Given a valid dossier, When --today is not a date, Then exit status 2
    folder = write_dossier(tmp_path / "d", base_declared())
    proc = run_intake("check", str(folder), "--today", "26/11/2026", env={"INTAKE_DATA_DIR": str(tmp_path)})
    assert proc.returncode == 2
