"""`intake reprocess` on a single machine (SQLite, in-process worker): what it selects, what it
reads again, and that running it twice changes nothing the second time."""

from __future__ import annotations

import json
import shutil

import pytest
import sqlalchemy as sa

from conftest import FIXTURES, run_intake

SAMPLE = FIXTURES / "sample"


@pytest.fixture(scope="module")
def checked_once(tmp_path_factory):
    """A data folder holding one small dossier (declared data + the e-photo sheet), checked once."""
    root = tmp_path_factory.mktemp("reprocess")
    dossier = root / "small"
    dossier.mkdir()
    shutil.copy(SAMPLE / "dossier.json", dossier / "dossier.json")
    photo = next(p for p in sorted(SAMPLE.glob("piece*")) if _kind_of(SAMPLE, p.name) == "photo_code")
    shutil.copy(photo, dossier / photo.name)
    env = _env(root / "data")
    proc = run_intake("check", str(dossier), "--json", env=env)
    assert proc.returncode in (0, 1), proc.stderr
    return root / "data", json.loads(proc.stdout)


def _kind_of(folder, name: str) -> str | None:
    expected = json.loads((folder / "expected.json").read_text())
    return next((p["kind"] for p in expected["pieces"] if p["file"] == name), None)


def _env(data_dir) -> dict:
    return {"INTAKE_DATA_DIR": str(data_dir), "INTAKE_2DDOC_CERTS": str(FIXTURES / "certs")}


@pytest.fixture
def data(checked_once, tmp_path):
    """A private copy of the checked data folder, and the result of the first check."""
    source, result = checked_once
    copy = tmp_path / "data"
    shutil.copytree(source, copy)
    return copy, result


def sql(data_dir, query: str, **params) -> list:
    engine = sa.create_engine(f"sqlite:///{data_dir / 'intake.db'}")
    try:
        with engine.begin() as conn:
            result = conn.execute(sa.text(query), params)
            return result.all() if result.returns_rows else []
    finally:
        engine.dispose()


def reprocess(data_dir, *args: str) -> dict:
    proc = run_intake("reprocess", *args, "--json", env=_env(data_dir))
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def current_version() -> str:
    from intake.version import PIPELINE_VERSION

    return PIPELINE_VERSION


def test_results_of_an_older_version_are_read_again_once(data):
    data_dir, first = data
    # Given a dossier whose reads and verdict were produced by an older pipeline version
    sql(data_dir, "update uploads set pipeline_version = 'x0.r0'")
    sql(data_dir, "update dossiers set pipeline_version = 'x0.r0'")
    pieces_before = sql(data_dir, "select count(*) from pieces")[0][0]
    runs_before = sql(data_dir, "select count(*) from check_runs")[0][0]

    # When a dry run looks at the out-of-date dossiers
    dry = reprocess(data_dir, "--outdated", "--dry-run")
    # Then it counts one dossier and one file to read again, and changes nothing
    assert (dry["selected"], dry["sent"], dry["reread_uploads"]) == (1, 1, 1)
    assert sql(data_dir, "select count(*) from check_runs")[0][0] == runs_before
    assert sql(data_dir, "select pipeline_version from uploads")[0][0] == "x0.r0"

    # When the reprocessing runs
    summary = reprocess(data_dir, "--outdated")
    # Then the dossier was read and checked again, and the summary shows its verdict before and after
    assert (summary["sent"], summary["not_finished"]) == (1, 0)
    assert summary["transitions"] == [{"before": first["status"], "after": first["status"], "count": 1}]
    # And every stored result records the current version, with the same pieces stored once
    version = current_version()
    assert {row[0] for row in sql(data_dir, "select pipeline_version from uploads")} == {version}
    assert sql(data_dir, "select pipeline_version from dossiers")[0][0] == version
    assert sql(data_dir, "select count(*) from pieces")[0][0] == pieces_before
    run = sql(data_dir, "select trigger, pipeline_version, result from check_runs order by id desc limit 1")[0]
    assert (run.trigger, run.pipeline_version) == ("reprocess", version)
    assert json.loads(run.result) == first

    # When it runs again: nothing is out of date, nothing is sent
    again = reprocess(data_dir, "--outdated")
    assert (again["selected"], again["sent"]) == (0, 0)
    assert reprocess(data_dir, "--all")["up_to_date"] == 1
    assert sql(data_dir, "select count(*) from check_runs")[0][0] == runs_before + 1


def test_a_rules_change_judges_again_without_reading_again(data):
    data_dir, first = data
    # Given a verdict from older rules, over reads made by the current extraction
    sql(data_dir, "update dossiers set pipeline_version = :v", v=current_version().split(".")[0] + ".r-old")
    read_at = sql(data_dir, "select read_at from uploads")

    # When the out-of-date dossiers are reprocessed
    summary = reprocess(data_dir, "--outdated")

    # Then the dossier is judged again and no file is read again
    assert (summary["sent"], summary["reread_uploads"], summary["not_finished"]) == (1, 0, 0)
    assert sql(data_dir, "select read_at from uploads") == read_at
    assert sql(data_dir, "select pipeline_version from dossiers")[0][0] == current_version()


def test_selections_by_status_date_finding_and_kind(data, monkeypatch):
    from datetime import date

    from intake.reprocess import Selection, reprocess as run
    from intake.settings import reset_settings

    data_dir, first = data
    monkeypatch.setenv("INTAKE_DATA_DIR", str(data_dir))
    monkeypatch.delenv("INTAKE_DATABASE_URL", raising=False)
    monkeypatch.delenv("INTAKE_BROKER_URL", raising=False)
    reset_settings()
    codes = {f["code"] for f in first["findings"]}
    assert codes, "the small dossier lacks pieces: it has findings"
    code = sorted(codes)[0]

    def selected(**filters) -> int:
        return run(Selection(**filters), force=True, dry_run=True)["selected"]

    try:
        # Given one checked dossier: each filter keeps it or not, as it says
        assert selected() == 1
        assert selected(statuses=(first["status"],)) == 1
        assert selected(statuses=("failed",)) == 0
        assert selected(codes=(code,)) == 1
        assert selected(codes=("no_such_code",)) == 0
        assert selected(kinds=("photo_code",)) == 1
        assert selected(kinds=("passport",)) == 0
        assert selected(created_from=date(2000, 1, 1), created_to=date(2999, 12, 31)) == 1
        assert selected(created_from=date(2999, 1, 1)) == 0
        assert selected(outdated=True) == 0
        # And --force makes a dossier at the current version one to read again (without it: up to date)
        assert run(Selection(), force=True, dry_run=True)["reread_uploads"] == 1
        assert run(Selection(), dry_run=True)["sent"] == 0
    finally:
        reset_settings()


def test_a_selection_is_required(data):
    data_dir, _ = data
    proc = run_intake("reprocess", env=_env(data_dir))
    assert proc.returncode == 2 and "--all" in proc.stderr
