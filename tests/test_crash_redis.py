"""Crash safety on the real Redis: a worker killed with SIGKILL in the middle of a piece loses nothing.

Delivery is at least once: the killed worker's unacknowledged message goes back to its queue once
the worker's heartbeat is older than INTAKE_REDIS_HEARTBEAT_TIMEOUT_MS, another worker reads the
piece again, and the read replaces (never adds to) what is stored.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import FIXTURES, VENV_BIN, run_intake

pytestmark = pytest.mark.services

SAMPLE = FIXTURES / "sample"


def slow_dossier(folder: Path) -> Path:
    """The sample's declared data and all its pages in one multi-page PDF: a piece slow to read."""
    from pdf2image import convert_from_path
    from PIL import Image

    folder.mkdir(parents=True)
    (folder / "dossier.json").write_bytes((SAMPLE / "dossier.json").read_bytes())
    pages = []
    for path in sorted(SAMPLE.iterdir()):
        if path.suffix.lower() == ".pdf":
            pages += convert_from_path(str(path), dpi=200)
        elif path.suffix.lower() in (".jpg", ".jpeg", ".png"):
            pages.append(Image.open(path).convert("RGB"))
    assert len(pages) >= 3, "the sample dossier is needed (fixtures/sample)"
    pages[0].save(folder / "dossier-complet.pdf", save_all=True, append_images=pages[1:], resolution=200)
    return folder


def start_worker(env: dict) -> subprocess.Popen:
    return subprocess.Popen([str(VENV_BIN / "intake"), "worker", "--processes", "1", "--threads", "1",
                             "--metrics-port", "0"], env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> str:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        _, err = proc.communicate()
    return err or ""


def ocr_messages_in_flight(client) -> int:
    return sum(client.scard(key) for key in client.scan_iter(match="intake:__acks__.*.intake-ocr"))


def upload_states(database_url: str) -> list[str]:
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            return [row[0] for row in conn.execute(sa.text("select state from uploads order by id"))]
    finally:
        engine.dispose()


def test_sigkill_in_the_middle_of_a_piece_loses_nothing(tmp_path, pg_database, redis_broker_url):
    import redis
    import sqlalchemy as sa

    # Given a dossier whose single piece is a multi-page PDF, slow to read
    dossier = slow_dossier(tmp_path / "slow")
    certs = {"INTAKE_2DDOC_CERTS": str(FIXTURES / "certs")}
    # And its verdict from a clean run on a single machine
    clean = run_intake("check", str(dossier), "--json", env={**certs, "INTAKE_DATA_DIR": str(tmp_path / "clean")})
    assert clean.returncode in (0, 1), clean.stderr

    # And PostgreSQL, Redis with a short heartbeat, and one worker
    env = {**certs, "INTAKE_DATA_DIR": str(tmp_path / "shared"), "INTAKE_DATABASE_URL": pg_database,
           "INTAKE_BROKER_URL": redis_broker_url, "INTAKE_REDIS_HEARTBEAT_TIMEOUT_MS": "2000",
           "INTAKE_REDIS_MAINTENANCE_CHANCE": "1000000"}
    assert run_intake("db", "upgrade", env=env).returncode == 0
    client = redis.Redis.from_url(redis_broker_url)
    first = start_worker(env)
    submit = subprocess.Popen([str(VENV_BIN / "intake"), "check", str(dossier), "--json"],
                              env={**os.environ, **env, "INTAKE_CHECK_TIMEOUT": "120"},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    second = None
    try:
        # When the worker has taken the piece and is reading it
        deadline = time.monotonic() + 60
        while ocr_messages_in_flight(client) == 0:
            assert time.monotonic() < deadline, "the worker never took the piece"
            assert submit.poll() is None, submit.stderr.read()
            time.sleep(0.05)
        time.sleep(1.0)
        # And its whole process group is killed with SIGKILL
        stop(first, signal.SIGKILL)
        # Then the piece was not finished: nothing of it is stored yet
        assert upload_states(pg_database) == ["pending"]

        # When another worker starts
        second = start_worker(env)
        out, err = submit.communicate(timeout=150)
    finally:
        if submit.poll() is None:
            submit.kill()
        worker_log = stop(second) if second is not None else ""

    # Then the submission completes with the very verdict of the clean run
    assert submit.returncode == clean.returncode, err + worker_log
    assert json.loads(out) == json.loads(clean.stdout)
    # And the piece's documents are stored once, by one read
    engine = sa.create_engine(pg_database)
    try:
        with engine.connect() as conn:
            pieces = conn.execute(sa.text("select upload_id, position from pieces")).all()
            runs = conn.execute(sa.text("select state from check_runs")).all()
            upload = conn.execute(sa.text("select state, pipeline_version from uploads")).one()
    finally:
        engine.dispose()
    assert len(pieces) == len(json.loads(out)["pieces"]) == len(set(pieces))
    assert [r.state for r in runs] == ["done"]
    assert upload.state == "done" and upload.pipeline_version
    # And no message is left in the queues nor dead-lettered
    assert not any(client.llen(f"intake:{q}") or client.hlen(f"intake:{q}.msgs") or client.zcard(f"intake:{q}.XQ")
                   for q in ("intake-ocr", "intake-checks"))
