"""The single-machine server (`intake serve` without Redis) sends again what a killed server had
queued in memory: an upload is never left "en cours de lecture" forever."""

from __future__ import annotations

import io
import time
from datetime import timedelta

from PIL import Image
from sqlalchemy import update

from conftest import base_declared
from intake import units
from intake.db import session_scope
from intake.dossier import parse_declared
from intake.settings import reset_settings
from models import CheckRun, OutboxMessage, Upload, utcnow


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("L", (600, 400), 255).save(buf, "PNG")
    return buf.getvalue()


def _queued_by_a_killed_server() -> tuple[int, int]:
    """A dossier and its upload whose outbox rows were sent, a minute ago, on the in-memory broker
    of a process that is gone (its message ids are not this process's)."""
    dossier_id = units.create_dossier(parse_declared(base_declared()))
    upload_id = units.add_upload(dossier_id, "blank.png", io.BytesIO(_png()))
    with session_scope() as session:
        session.execute(update(OutboxMessage).where(OutboxMessage.dossier_id == dossier_id)
                        .values(sent_at=utcnow() - timedelta(minutes=1), message_id="lost-with-its-process"))
    return dossier_id, upload_id


def _state(upload_id: int, dossier_id: int) -> tuple[str, int]:
    with session_scope() as session:
        state = session.get(Upload, upload_id).state
        runs = session.query(CheckRun).filter_by(dossier_id=dossier_id).count()
    return state, runs


def test_a_new_server_reads_what_a_killed_one_had_queued(migrated, monkeypatch):
    from fastapi.testclient import TestClient

    from intake.web.app import create_app

    # Given an upload whose read was queued in memory by an `intake serve` that was then killed
    dossier_id, upload_id = _queued_by_a_killed_server()
    assert _state(upload_id, dossier_id) == ("pending", 0)
    # When a new server starts on the same data folder (sweeping every 0.2 s, resending after 1 s)
    monkeypatch.setenv("INTAKE_SWEEP_INTERVAL_S", "0.2")
    monkeypatch.setenv("INTAKE_OUTBOX_RESEND_AFTER_S", "1")
    reset_settings()
    with TestClient(create_app()):
        deadline = time.monotonic() + 60
        while _state(upload_id, dossier_id)[1] == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        state, runs = _state(upload_id, dossier_id)
    # Then the upload is read and the dossier checked, without anyone sending it again
    assert state != "pending"
    assert runs >= 1


def test_a_message_this_server_queued_itself_is_never_taken_for_lost(migrated, monkeypatch):
    from intake.workers import broker, outbox

    # Given the in-memory broker, a read this process queued on it, and one queued by a process gone
    monkeypatch.delenv("INTAKE_BROKER_URL", raising=False)
    reset_settings()
    broker.configure()
    dossier_id = units.create_dossier(parse_declared(base_declared()))
    upload_id = units.add_upload(dossier_id, "blank.png", io.BytesIO(_png()))
    stub = broker.configure()
    try:
        mine = broker.send("read_upload", upload_id, "upload")
        # When the sweeper asks whether each message is still somewhere (no Redis: client None)
        # Then this process's own is (it waits in this process's queue or runs in it), the other is lost
        assert outbox._alive(None, "read_upload", mine) is True
        assert outbox._alive(None, "read_upload", "lost-with-its-process") is False
        assert outbox._alive(None, "read_upload", None) is False
    finally:
        stub.flush_all()  # no message of this test's database left for the next test's worker
