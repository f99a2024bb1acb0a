"""Workers on the real Redis and PostgreSQL: a piece that fails for good is shown failed (never pending),
listed by `intake failed`, counted by `intake status` and the metrics, and `intake failed retry` sends it
again; an interrupted `intake reprocess` resumes without redoing finished work."""

from __future__ import annotations

import json
import shutil
import socket
import time
import urllib.request

import pytest
import sqlalchemy as sa

from conftest import FIXTURES, run_intake
from test_crash_redis import slow_dossier, start_worker, stop

pytestmark = pytest.mark.services

SAMPLE = FIXTURES / "sample"


def small_dossier(folder, reference: str = "AE-SMALL-1"):
    """The sample's declared data with its e-photo sheet only: one quick piece."""
    folder.mkdir(parents=True)
    declared = json.loads((SAMPLE / "dossier.json").read_text())
    declared["reference"] = reference
    (folder / "dossier.json").write_text(json.dumps(declared))
    expected = json.loads((SAMPLE / "expected.json").read_text())
    name = next(p["file"] for p in expected["pieces"] if p["kind"] == "photo_code")
    shutil.copy(SAMPLE / name, folder / name)
    return folder


def services_env(tmp_path, pg_database, redis_broker_url, **extra) -> dict:
    env = {"INTAKE_2DDOC_CERTS": str(FIXTURES / "certs"), "INTAKE_DATA_DIR": str(tmp_path / "shared"),
           "INTAKE_DATABASE_URL": pg_database, "INTAKE_BROKER_URL": redis_broker_url}
    env.update(extra)
    return env


def query(url: str, text: str, **params) -> list:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            result = conn.execute(sa.text(text), params)
            return result.all() if result.returns_rows else []
    finally:
        engine.dispose()


def wait_until(predicate, timeout: float = 90, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.3)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_piece_that_fails_for_good_is_listed_counted_and_retried(tmp_path, pg_database, redis_broker_url,
                                                                    monkeypatch):
    # A piece that takes well over a second to read: Dramatiq enforces time limits on a one-second
    # tick, so a quick piece could finish before its (expired) limit is noticed.
    dossier = slow_dossier(tmp_path / "slow")
    env = services_env(tmp_path, pg_database, redis_broker_url)
    assert run_intake("db", "upgrade", env=env).returncode == 0

    # Given a worker whose time limit for a piece is far too short (every read times out, no retry)
    hasty = start_worker({**env, "INTAKE_PIECE_TIME_LIMIT_MS": "1"})
    try:
        # When a dossier is submitted
        proc = run_intake("check", str(dossier), "--json", env={**env, "INTAKE_CHECK_TIMEOUT": "90"}, timeout=120)
    finally:
        hasty_log = stop(hasty)
    # Then its check still ends, and says the piece could not be analysed (it does not stay pending)
    assert proc.returncode == 1, proc.stderr + hasty_log
    result = json.loads(proc.stdout)
    assert "check_failed" in {f["code"] for f in result["findings"]}
    assert query(pg_database, "select state, error from uploads")[0] == ("failed", "TimeLimitExceeded")

    # And `intake failed` lists the dead message: actor, upload id, exception type
    listed = run_intake("failed", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    letters = json.loads(listed.stdout)
    upload_id = query(pg_database, "select id from uploads")[0][0]
    assert [(x["actor"], x["target_id"], x["error"]) for x in letters] == [
        ("read_upload", upload_id, "TimeLimitExceeded")]
    # And `intake status` and the metrics count it
    status = json.loads(run_intake("status", "--json", env=env).stdout)
    ocr = next(q for q in status["queues"] if q["queue"] == "intake-ocr")
    assert (ocr["dead"], ocr["ready"], status["failed_uploads"], status["pending_uploads"]) == (1, 0, 1, 0)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    from intake.monitoring import metrics
    from intake.settings import reset_settings

    reset_settings()
    try:
        text = metrics()
    finally:
        monkeypatch.undo()
        reset_settings()
    assert 'intake_queue_messages{queue="intake-ocr",state="dead"} 1.0' in text
    assert 'intake_uploads{state="failed"} 1.0' in text

    # When a worker with the normal limits runs and the failed message is sent again
    port = free_port()
    worker = _worker_with_metrics(env, port)
    try:
        runs_before = query(pg_database, "select count(*) from check_runs")[0][0]
        retried = run_intake("failed", "retry", "--all", env=env)
        assert retried.returncode == 0, retried.stderr
        # Then the piece is read and the dossier checked again, without the failure
        wait_until(lambda: query(pg_database, "select count(*) from check_runs")[0][0] > runs_before,
                   what="the check after the retry")
        assert query(pg_database, "select state from uploads")[0][0] == "done"
        run = query(pg_database, "select result from check_runs order by id desc limit 1")[0][0]
        assert "check_failed" not in {f["code"] for f in run["findings"]}
        expected = json.loads((SAMPLE / "expected.json").read_text())
        assert sorted(p["kind"] for p in run["pieces"]) == sorted(p["kind"] for p in expected["pieces"])
        # And nothing is listed as failed any more
        assert json.loads(run_intake("failed", "--json", env=env).stdout) == []
        # And the worker's Prometheus endpoint counts the messages it processed
        body = _get(f"http://127.0.0.1:{port}/metrics", timeout=30)
        assert 'dramatiq_messages_total{actor_name="read_upload",queue_name="intake-ocr"}' in body
    finally:
        stop(worker)


def _worker_with_metrics(env: dict, port: int):
    import os
    import subprocess

    from conftest import VENV_BIN

    return subprocess.Popen([str(VENV_BIN / "intake"), "worker", "--processes", "1", "--threads", "1",
                             "--metrics-port", str(port), "--metrics-host", "127.0.0.1"],
                            env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)


def _get(url: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def test_an_interrupted_reprocess_resumes_without_redoing_finished_work(tmp_path, pg_database, redis_broker_url):
    import redis

    env = services_env(tmp_path, pg_database, redis_broker_url)
    assert run_intake("db", "upgrade", env=env).returncode == 0
    # Given two checked dossiers
    worker = start_worker(env)
    try:
        for n in (1, 2):
            proc = run_intake("check", str(small_dossier(tmp_path / f"d{n}", f"AE-SMALL-{n}")), "--json",
                              env=env, timeout=120)
            assert proc.returncode in (0, 1), proc.stderr
    finally:
        stop(worker)
    first_id, second_id = [row[0] for row in query(pg_database, "select id from dossiers order by id")]

    # When a forced reprocessing of all of them is interrupted: both were sent, but the second one's
    # message is lost before any worker took it
    sent = run_intake("reprocess", "--all", "--force", "--no-wait", "--json", env=env)
    assert sent.returncode == 0, sent.stderr
    assert json.loads(sent.stdout)["sent"] == 2
    client = redis.Redis.from_url(redis_broker_url)
    second_upload = query(pg_database, "select id from uploads where dossier_id = :d", d=second_id)[0][0]
    for message_id, data in client.hgetall("intake:intake-ocr.msgs").items():
        if json.loads(data)["args"][0] == second_upload:
            client.lrem("intake:intake-ocr", 0, message_id)
            client.hdel("intake:intake-ocr.msgs", message_id)
    # And the workers finish what they got
    worker = start_worker(env)
    try:
        wait_until(lambda: query(pg_database, "select count(*) from check_runs where dossier_id = :d "
                                 "and trigger = 'reprocess'", d=first_id)[0][0] == 1, what="the first dossier")
        read_at = query(pg_database, "select read_at from uploads where dossier_id = :d", d=first_id)

        # When the same command is run again
        again = run_intake("reprocess", "--all", "--force", "--json", env=env, timeout=120)
    finally:
        stop(worker)

    # Then it resumes the batch: the finished dossier is skipped, only the other one is sent
    assert again.returncode == 0, again.stderr
    summary = json.loads(again.stdout)
    assert (summary["resumed"], summary["finished_before"], summary["sent"], summary["not_finished"]) == (
        True, 1, 1, 0)
    assert query(pg_database, "select read_at from uploads where dossier_id = :d", d=first_id) == read_at
    assert query(pg_database, "select count(*) from check_runs where trigger = 'reprocess'")[0][0] == 2
    # And a third run is a new batch (the previous one finished), which --force sends again in full
    dry = json.loads(run_intake("reprocess", "--all", "--force", "--dry-run", "--json", env=env).stdout)
    assert (dry["resumed"], dry["sent"]) == (False, 2)


def test_the_threads_of_one_worker_process_read_pieces_at_the_same_time(tmp_path, pg_database, redis_broker_url):
    import os
    import subprocess

    from conftest import VENV_BIN

    # Given a dossier of two PDF pieces and one worker process with two threads
    folder = tmp_path / "two"
    folder.mkdir()
    shutil.copy(SAMPLE / "dossier.json", folder / "dossier.json")
    pdfs = sorted(p.name for p in SAMPLE.glob("*.pdf"))[:2]
    assert len(pdfs) == 2, "the sample dossier has two PDF pieces"
    for name in pdfs:
        shutil.copy(SAMPLE / name, folder / name)
    env = services_env(tmp_path, pg_database, redis_broker_url)
    assert run_intake("db", "upgrade", env=env).returncode == 0
    worker = subprocess.Popen([str(VENV_BIN / "intake"), "worker", "--processes", "1", "--threads", "2",
                               "--metrics-port", "0"], env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        # When the dossier is checked through Redis
        proc = run_intake("check", str(folder), "--json", env=env, timeout=120)
    finally:
        log = stop(worker)
    assert proc.returncode in (0, 1), proc.stderr + log

    # Then both pieces were read at the same time: the thread count is honoured (each thread holds
    # its own messages; one message shared by the process kept the second thread idle)
    spans = [(read_at.timestamp() - seconds, read_at.timestamp())
             for read_at, seconds in query(pg_database, "select read_at, seconds from uploads order by id")]
    assert len(spans) == 2
    (start_a, end_a), (start_b, end_b) = spans
    assert start_a < end_b and start_b < end_a, f"the two reads did not overlap: {spans}"


def test_worker_processes_run_one_core_each_and_hold_messages_per_thread():
    from intake.workers.cli import worker_environment

    # Given a worker started with 4 threads per process and the default prefetch of 2 per thread
    env = worker_environment(threads=4, prefetch=2, poll_ms=250)
    # Then Dramatiq, whose prefetch counts per queue, holds 8 messages per queue: 2 for each thread
    assert env["dramatiq_queue_prefetch"] == "8"
    # And the libraries' own thread pools are one thread: the process' parallelism is its threads
    assert env["OMP_THREAD_LIMIT"] == env["OPENCV_FOR_THREADS_NUM"] == env["OPENBLAS_NUM_THREADS"] == "1"
    # And an idle queue is polled at least every 250 ms, not Dramatiq's default second
    assert env["dramatiq_worker_timeout"] == "250"


def test_the_intake_entry_points_keep_opencv_on_one_thread():
    import os
    import subprocess
    import sys

    # Given a fresh interpreter with no thread settings of its own, that starts as the `intake`
    # command and the worker processes do (importing intake alone changes no environment)
    env = {k: v for k, v in os.environ.items()
           if k not in ("OMP_THREAD_LIMIT", "OPENCV_FOR_THREADS_NUM", "OPENBLAS_NUM_THREADS")}
    proc = subprocess.run([sys.executable, "-c",
                           "import intake; intake.single_threaded_pools(); import cv2; print(cv2.getNumThreads())"],
                          capture_output=True, text=True, env=env, timeout=60)
    # Then OpenCV runs its work on the calling thread only
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "1"
