"""`intake purge` removes stored files and personal fields of closed dossiers, keeps statistics."""

from __future__ import annotations

import io
import json
import os
import stat
from datetime import datetime, timedelta, timezone

from conftest import base_declared, run_intake
from intake import jobs
from intake.db import session_scope
from intake.dossier import parse_declared
from intake.purge import purge
from models import CheckRun, Dossier, FindingRow, Upload


def _checked_dossier(name: str, content: bytes) -> int:
    dossier_id = jobs.create_dossier(parse_declared(base_declared()), source="api")
    upload_id = jobs.add_upload(dossier_id, name, io.BytesIO(content))
    jobs.read_upload(upload_id)
    jobs.check_dossier(dossier_id)
    return dossier_id


def test_purge_blanks_closed_dossiers_and_deletes_their_files(migrated):
    # Given two checked dossiers, one closed 100 days ago and one still open
    old = _checked_dossier("DUPONT-facture.txt", b"not an image, from Jean Dupont")
    kept = _checked_dossier("other.txt", b"another file")
    with session_scope() as session:
        session.get(Dossier, old).closed_at = datetime.now(timezone.utc) - timedelta(days=100)
        old_sha = session.query(Upload).filter_by(dossier_id=old).one().sha256
    store = jobs.store()
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
    dossier_id = jobs.create_dossier(parse_declared(base_declared()))
    jobs.add_upload(dossier_id, "x.bin", io.BytesIO(b"secret scan"))
    with session_scope() as session:
        sha = session.query(Upload).filter_by(dossier_id=dossier_id).one().sha256
    path = jobs.store().path_for(sha)
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
