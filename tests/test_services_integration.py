"""The same dossier gives the same JSON on SQLite with the in-process broker and on PostgreSQL with
Redis and separate worker processes (CONTRACT.md §6)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import FIXTURES, VENV_BIN, copy_dossier, run_intake

pytestmark = pytest.mark.services


def _start_worker(env: dict, processes: int = 1, threads: int = 2) -> subprocess.Popen:
    full = dict(os.environ)
    full.update(env)
    return subprocess.Popen([str(VENV_BIN / "intake"), "worker", "--processes", str(processes),
                             "--threads", str(threads)], env=full, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def _stop(proc: subprocess.Popen) -> str:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        _, err = proc.communicate()
    return err or ""


def test_sqlite_embedded_and_postgres_redis_give_the_same_json(tmp_path, pg_database, redis_broker_url):
    # Given the sample dossier
    dossier = copy_dossier(FIXTURES / "sample", tmp_path / "sample")
    certs = {"INTAKE_2DDOC_CERTS": str(FIXTURES / "certs")}

    # When it is checked on a single machine (SQLite, in-process broker)
    embedded = run_intake("check", str(dossier), "--json",
                          env={**certs, "INTAKE_DATA_DIR": str(tmp_path / "embedded")})
    # And on PostgreSQL with Redis and a separate worker process
    env = {**certs, "INTAKE_DATA_DIR": str(tmp_path / "shared"), "INTAKE_DATABASE_URL": pg_database,
           "INTAKE_BROKER_URL": redis_broker_url}
    assert run_intake("db", "upgrade", env=env).returncode == 0
    worker = _start_worker(env)
    try:
        distributed = run_intake("check", str(dossier), "--json", env=env, timeout=300)
    finally:
        worker_log = _stop(worker)

    # Then both ran, exit with the same status, and print the same JSON document
    assert embedded.returncode in (0, 1), embedded.stderr
    assert distributed.returncode == embedded.returncode, distributed.stderr + worker_log
    first, second = json.loads(embedded.stdout), json.loads(distributed.stdout)
    assert first == second
    # And the document is the contract's: the sample's pieces were read
    assert first["reference"] and first["status"] in ("complete", "incomplete", "needs_review")
    assert {p["kind"] for p in first["pieces"]} >= {"identity_card", "proof_of_address", "photo_code"}


def test_a_server_database_must_be_migrated_first(tmp_path, pg_database):
    # Given an empty PostgreSQL database, When intake check runs on it
    dossier = copy_dossier(FIXTURES / "sample", tmp_path / "sample")
    proc = run_intake("check", str(dossier), "--json",
                      env={"INTAKE_DATA_DIR": str(tmp_path / "d"), "INTAKE_DATABASE_URL": pg_database})
    # Then it refuses with exit 2 and says how to migrate
    assert proc.returncode == 2
    assert "intake db upgrade" in proc.stderr
