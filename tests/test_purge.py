"""`intake purge` removes stored files and personal fields of closed dossiers, keeps statistics."""

from __future__ import annotations

import io
import json
import os
import stat
from datetime import datetime, timedelta, timezone

from conftest import base_declared, run_intake
from intake import units
from intake.db import session_scope
from intake.dossier import parse_declared
from intake.purge import purge
from models import CheckRun, Dossier, FindingRow, Upload


def _checked_dossier(name: str, content: bytes) -> int:
    dossier_id = units.create_dossier(parse_declared(base_declared()), source="api")
    upload_id = units.add_upload(dossier_id, name, io.BytesIO(content))
    units.read_and_record_upload(upload_id)
    units.run_check(dossier_id)
    return dossier_id


def test_purge_blanks_closed_dossiers_and_deletes_their_files(migrated):
    # Given two checked dossiers, one closed 100 days ago and one still open
    old = _checked_dossier("DUPONT-facture.txt", b"not an image, from Jean Dupont")
    kept = _checked_dossier("other.txt", b"another file")
    with session_scope() as session:
        session.get(Dossier, old).closed_at = datetime.now(timezone.utc) - timedelta(days=100)
        old_sha = session.query(Upload).filter_by(dossier_id=old).one().sha256
    store = units.store()
    assert store.exists(old_sha)

    # When purging what was closed more than 90 days ago
    count, files = purge(timedelta(days=90))

    # Then only the old dossier is purged and its file is gone
    assert (count, files) == (1, 1)
    assert not store.exists(old_sha)
    with session_scope() as session:
        dossier = session.get(Dossier, old)
        assert dossier.purged_at is not None
        # And no personal data is left in it, while the statistics remain
        dump = json.dumps([dossier.declared, dossier.reference,
                           [u.original_name for u in dossier.uploads],
                           [r.result for r in session.query(CheckRun).filter_by(dossier_id=old)],
                           [f.message for f in session.query(FindingRow).filter_by(dossier_id=old)]])
        for personal in ("Dupont", "DUPONT", "Jean", "2005-04-12", "Lilas", "AE-TEST-1"):
            assert personal not in dump
        assert dossier.declared["procedure"] == "inscription"
        run = session.query(CheckRun).filter_by(dossier_id=old).one()
        assert run.result["status"] in ("incomplete", "needs_review")
        assert {f["code"] for f in run.result["findings"]} >= {"unsupported_file"}
        # And the open dossier is untouched
        assert session.get(Dossier, kept).purged_at is None
        assert session.get(Dossier, kept).declared["applicant"]["surname"] == "Dupont"


def test_a_file_shared_with_a_kept_dossier_is_not_deleted(migrated):
    # Given the same bytes uploaded to a closed dossier and to an open one
    closed = _checked_dossier("a.txt", b"same bytes")
    _checked_dossier("b.txt", b"same bytes")
    with session_scope() as session:
        session.get(Dossier, closed).closed_at = datetime.now(timezone.utc) - timedelta(days=200)
    # When purging, Then the dossier is purged but the shared file stays
    assert purge(timedelta(days=90)) == (1, 0)


def test_stored_files_are_readable_by_the_service_user_only(migrated):
    # Given a stored upload
    dossier_id = units.create_dossier(parse_declared(base_declared()))
    units.add_upload(dossier_id, "x.bin", io.BytesIO(b"secret scan"))
    with session_scope() as session:
        sha = session.query(Upload).filter_by(dossier_id=dossier_id).one().sha256
    path = units.store().path_for(sha)
    # Then neither group nor others may read it or list its folder
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) & 0o077 == 0


def test_purge_command_dry_run_counts_without_erasing(migrated, tmp_path):
    # Given a closed old dossier
    old = _checked_dossier("x.txt", b"x")
    with session_scope() as session:
        session.get(Dossier, old).closed_at = datetime.now(timezone.utc) - timedelta(days=100)
    # When the command runs with --dry-run
    proc = run_intake("purge", "--older-than", "90d", "--dry-run", env={"INTAKE_DATA_DIR": str(migrated)})
    # Then it reports one dossier and erases nothing
    assert proc.returncode == 0, proc.stderr
    assert "1 dossier" in proc.stderr
    with session_scope() as session:
        assert session.get(Dossier, old).purged_at is None


def _all_text(session, dossier_id: int) -> str:
    """Everything the database holds about a dossier, as one string."""
    from models import AuditEvent, OutboxMessage, Piece

    rows = [session.get(Dossier, dossier_id)]
    rows += session.query(Upload).filter_by(dossier_id=dossier_id).all()
    rows += session.query(Piece).join(Upload).filter(Upload.dossier_id == dossier_id).all()
    rows += session.query(FindingRow).filter_by(dossier_id=dossier_id).all()
    rows += session.query(CheckRun).filter_by(dossier_id=dossier_id).all()
    rows += session.query(AuditEvent).filter_by(dossier_id=dossier_id).all()
    rows += session.query(OutboxMessage).filter_by(dossier_id=dossier_id).all()
    return json.dumps([{c.name: getattr(r, c.key, None) for c in r.__table__.columns} for r in rows], default=str)


def test_a_purge_leaves_no_personal_data_in_the_database_the_data_folder_or_its_temp_files(migrated):
    from intake.units import audit
    from intake.settings import get_settings
    from intake.web.previews import page_png
    from models import AuditEvent

    # Given a dossier whose scan was read, previewed, and noted by a reviewer with the applicant's name
    from conftest import FIXTURES

    dossier_id = units.create_dossier(parse_declared(base_declared()), source="api")
    scan = (FIXTURES / "sample" / "piece1.png").read_bytes()
    upload_id = units.add_upload(dossier_id, "DUPONT-cni.png", io.BytesIO(scan), idempotency_key="client-key#0")
    units.read_and_record_upload(upload_id)
    units.run_check(dossier_id)
    with session_scope() as session:
        sha = session.get(Upload, upload_id).sha256
        audit(session, "finding_accepted", dossier_id, actor="verif1", code="name_mismatch",
              note="Vu avec Jean Dupont, né le 2005-04-12")
    data_dir = get_settings().data_dir
    preview = page_png(units.store().path_for(sha), sha, 1, 800)
    assert preview.exists()
    # And what a killed process left: a page image in its temporary folder, a stored file no row names
    leftover = data_dir / "tmp" / "host-999999" / "page-1.ppm"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"P6 rent receipt of Jean Dupont")
    orphan_sha, _ = units.store().put_bytes(b"scan stored by a web process killed before its commit")
    old = 3 * 3600
    for path in (leftover, units.store().path_for(orphan_sha)):
        os.utime(path, (path.stat().st_mtime - old, path.stat().st_mtime - old))
    # And the dossier closed as submitted 100 days ago
    from intake.purge import close_dossier

    assert close_dossier(dossier_id, "submitted")
    with session_scope() as session:
        session.get(Dossier, dossier_id).closed_at = datetime.now(timezone.utc) - timedelta(days=100)

    # When purging what was closed more than 90 days ago
    assert purge(timedelta(days=90)) == (1, 1)

    # Then no file of it is left: the scan, its previews, the temporary page, the orphan
    assert not units.store().exists(sha) and not preview.exists()
    assert not leftover.exists() and not units.store().exists(orphan_sha)
    # And the database holds nothing that names the applicant, nor the file's hash
    with session_scope() as session:
        text = _all_text(session, dossier_id)
        for personal in ("Dupont", "DUPONT", "Jean", "2005-04-12", "Lilas", "AE-TEST-1", sha, "client-key"):
            assert personal not in text, personal
        # And what stays is anonymous: the closing, the verdict, the piece kinds, who decided when
        dossier = session.get(Dossier, dossier_id)
        assert dossier.closed_reason == "submitted" and dossier.purged_at is not None
        assert session.query(CheckRun).filter_by(dossier_id=dossier_id).one().result["status"]
        accepted = session.query(AuditEvent).filter_by(dossier_id=dossier_id, action="finding_accepted").one()
        assert accepted.actor == "verif1" and accepted.details == {"code": "name_mismatch"}


def test_dossiers_idle_too_long_are_closed_as_expired_then_purged(migrated, monkeypatch):
    from intake.settings import reset_settings

    # Given an open dossier untouched for a year and a fresh one, and dossiers closed after 180 idle days
    stale = _checked_dossier("a.txt", b"a")
    fresh = _checked_dossier("b.txt", b"b")
    with session_scope() as session:
        session.execute(Dossier.__table__.update().where(Dossier.id == stale)
                        .values(updated_at=datetime.now(timezone.utc) - timedelta(days=365)))
    monkeypatch.setenv("INTAKE_CLOSE_IDLE_AFTER_DAYS", "180")
    reset_settings()
    # When purging closed dossiers at once (retention 0 days)
    count, _ = purge(timedelta(0))
    # Then the idle one was closed as expired and purged; the fresh one is open and untouched
    assert count == 1
    with session_scope() as session:
        assert session.get(Dossier, stale).closed_reason == "expired"
        assert session.get(Dossier, stale).purged_at is not None
        assert session.get(Dossier, fresh).closed_at is None


def test_a_closed_dossier_that_receives_a_file_is_open_again(migrated):
    from intake.purge import close_dossier

    # Given a dossier closed as abandoned
    dossier_id = _checked_dossier("a.txt", b"a")
    assert close_dossier(dossier_id, "abandoned")
    # When the school sends one more file, Then it is open again: a purge will not erase it
    units.add_upload(dossier_id, "b.txt", io.BytesIO(b"b"))
    with session_scope() as session:
        dossier = session.get(Dossier, dossier_id)
        assert dossier.closed_at is None and dossier.closed_reason is None


def test_a_school_closes_a_dossier_it_submitted_through_the_api(migrated):
    from fastapi.testclient import TestClient

    from intake.web.app import create_app
    from intake.web.auth import create_user

    with TestClient(create_app()) as client:
        create_user("ecole_a", "correct horse battery", "school", "Auto-école A")
        token = client.post("/api/v1/token", json={"username": "ecole_a", "password": "correct horse battery"})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        dossier_id = client.post("/api/v1/dossiers", headers=headers, json=base_declared()).json()["id"]
        # When the school says the dossier was submitted to ANTS
        r = client.post(f"/api/v1/dossiers/{dossier_id}/close", headers=headers, json={"reason": "submitted"})
        # Then it is closed with that reason and a date, which the purge counts from
        assert r.status_code == 204, r.text
        with session_scope() as session:
            dossier = session.get(Dossier, dossier_id)
            assert dossier.closed_reason == "submitted" and dossier.closed_at is not None
        # And an unknown reason is refused
        bad = client.post(f"/api/v1/dossiers/{dossier_id}/close", headers=headers, json={"reason": "lost"})
        assert bad.status_code == 422
    from intake.workers.broker import QUEUES, configure

    broker = configure()  # let the in-process worker finish this test's messages
    for queue in QUEUES:
        if queue in broker.queues:
            broker.join(queue, timeout=120_000)
