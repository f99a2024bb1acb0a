"""Units of work behind the actors are idempotent: at-least-once delivery leaves the same rows."""

from __future__ import annotations

import io

from PIL import Image

from conftest import base_declared
from intake import units
from intake.db import session_scope
from intake.dossier import parse_declared
from models import AuditEvent, CheckRun, Dossier, FindingRow, Piece, Upload


def _png(color=255, size=(600, 400)) -> bytes:
    buf = io.BytesIO()
    Image.new("L", size, color).save(buf, "PNG")
    return buf.getvalue()


def _rows(dossier_id: int):
    with session_scope() as session:
        pieces = session.query(Piece).join(Upload).filter(Upload.dossier_id == dossier_id).count()
        findings = [(f.code, f.file) for f in session.query(FindingRow).filter_by(dossier_id=dossier_id)]
        return pieces, sorted(findings)


def test_reading_and_checking_twice_leaves_the_same_rows(migrated):
    # Given a dossier with a blank scan and a file that is not an image
    dossier_id = units.create_dossier(parse_declared(base_declared()))
    blank = units.add_upload(dossier_id, "blank.png", io.BytesIO(_png()))
    bad = units.add_upload(dossier_id, "notes.txt", io.BytesIO(b"hello"))
    # When each message is delivered twice (at-least-once), forced re-reads included
    for upload_id in (blank, bad, blank):
        units.read_and_record_upload(upload_id)
    units.read_and_record_upload(blank, force=True)
    units.run_check(dossier_id)
    first = _rows(dossier_id)
    units.run_check(dossier_id)
    # Then the rows are the same as after one delivery: no duplicate pieces or findings
    assert _rows(dossier_id) == first
    codes = [code for code, _ in first[1]]
    assert codes.count("unsupported_file") == 1
    assert "missing_piece" in codes
    with session_scope() as session:
        assert session.get(Dossier, dossier_id).status == "incomplete"
        assert session.query(CheckRun).filter_by(dossier_id=dossier_id).count() == 2


def test_a_reviewer_decision_survives_a_new_check(migrated):
    # Given a checked dossier whose 'missing photo code' finding a reviewer accepted
    dossier_id = units.create_dossier(parse_declared(base_declared()))
    units.read_and_record_upload(units.add_upload(dossier_id, "blank.png", io.BytesIO(_png())))
    units.run_check(dossier_id)
    with session_scope() as session:
        row = session.query(FindingRow).filter_by(dossier_id=dossier_id, code="missing_piece",
                                                  requirement="photo_code").one()
        row.state, row.note = "accepted", "code fourni par téléphone"
    # When the dossier is checked again
    units.run_check(dossier_id, trigger="reprocess")
    # Then the same finding is still accepted with its note
    with session_scope() as session:
        row = session.query(FindingRow).filter_by(dossier_id=dossier_id, code="missing_piece",
                                                  requirement="photo_code").one()
        assert (row.state, row.note) == ("accepted", "code fourni par téléphone")


def _finding_ids(dossier_id: int) -> dict[tuple, int]:
    with session_scope() as session:
        rows = session.query(FindingRow).filter_by(dossier_id=dossier_id).all()
        return {(r.code, r.requirement, r.file): r.id for r in rows}


def test_a_finding_found_again_keeps_its_id(migrated):
    # Given a checked dossier with a blank scan: its findings have ids (a reviewer's page holds them)
    dossier_id = units.create_dossier(parse_declared(base_declared()))
    units.read_and_record_upload(units.add_upload(dossier_id, "blank.png", io.BytesIO(_png())))
    units.run_check(dossier_id)
    first = _finding_ids(dossier_id)
    assert ("missing_piece", "photo_code", None) in first
    # When it is checked again, Then every finding keeps its id
    units.run_check(dossier_id, trigger="reprocess")
    assert _finding_ids(dossier_id) == first
    # When a file that cannot be read is added and the dossier checked again
    units.read_and_record_upload(units.add_upload(dossier_id, "notes.txt", io.BytesIO(b"hello")))
    units.run_check(dossier_id)
    # Then the findings found again keep their ids and only the new one has a new row
    after = _finding_ids(dossier_id)
    assert {k: v for k, v in after.items() if k in first} == first
    new = {k: v for k, v in after.items() if k not in first}
    assert list(new) == [("unsupported_file", None, "notes.txt")]
    assert new[("unsupported_file", None, "notes.txt")] > max(first.values())
    # When that file is withdrawn (marked replaced) and the dossier checked again
    with session_scope() as session:
        upload = session.query(Upload).filter_by(dossier_id=dossier_id, original_name="notes.txt").one()
        upload.state = "replaced"
    units.run_check(dossier_id)
    # Then the finding that is no longer found is gone, the others still keep their ids
    assert _finding_ids(dossier_id) == first


def test_a_check_of_an_older_revision_is_not_taken_as_current(migrated):
    # Given a dossier checked, then given a new upload not read yet
    dossier_id = units.create_dossier(parse_declared(base_declared()))
    units.read_and_record_upload(units.add_upload(dossier_id, "a.txt", io.BytesIO(b"a")))
    units.run_check(dossier_id)
    new = units.add_upload(dossier_id, "b.txt", io.BytesIO(b"b"))
    # When a check arrives before the new upload is read, Then it does nothing
    assert units.run_check(dossier_id) is None
    assert units.wait_for_check(dossier_id, timeout=0) is None
    # And once read, the check covers both files
    units.read_and_record_upload(new)
    units.run_check(dossier_id)
    run = units.wait_for_check(dossier_id, timeout=0)
    assert {f["file"] for f in run.result["findings"] if f["code"] == "unsupported_file"} == {"a.txt", "b.txt"}


def test_a_failed_read_settles_the_upload_and_the_dossier_is_still_checked(migrated):
    # Given an upload whose read failed for good
    dossier_id = units.create_dossier(parse_declared(base_declared()))
    upload_id = units.add_upload(dossier_id, "scan.jpg", io.BytesIO(_png()))
    assert units.mark_upload_failed(upload_id, "TimeLimitExceeded") == dossier_id
    # When the dossier is checked
    assert units.all_uploads_settled(dossier_id)
    status = units.run_check(dossier_id)
    # Then it is not complete and says a person must look at the file
    assert status == "incomplete"
    run = units.wait_for_check(dossier_id, timeout=0)
    assert any(f["code"] == "check_failed" and f["file"] == "scan.jpg" for f in run.result["findings"])
    with session_scope() as session:
        assert session.query(AuditEvent).filter_by(dossier_id=dossier_id, action="upload_failed").count() == 1


def test_uploaded_names_cannot_escape_or_break_anything(migrated):
    # Given hostile file names
    dossier_id = units.create_dossier(parse_declared(base_declared()))
    names = ["../../etc/passwd", "..\\..\\boot.ini", "a\x00b\nc.jpg", "\udcff\udcfe.jpg", ""]
    ids = [units.add_upload(dossier_id, name, io.BytesIO(b"x")) for name in names]
    # Then each is stored under a plain name, unique in the dossier
    with session_scope() as session:
        stored = [session.get(Upload, i).original_name for i in ids]
    assert stored[0] == "passwd" and stored[1] == "boot.ini"
    assert all("/" not in n and "\\" not in n and "\x00" not in n for n in stored)
    assert len(set(stored)) == len(stored)
    for name in stored:
        name.encode("utf-8")
