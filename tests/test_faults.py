"""Faults on the real services: nothing lost, nothing doubled, nothing left behind.

Real PostgreSQL, a Redis server of the test's own (AOF on, in a temporary folder, on a free port
of 127.0.0.1), real `intake serve` and `intake worker` processes; a client that talks HTTP to the
service as a school's software would, retrying with the same Idempotency-Key when an answer is
lost. Each scenario ends with every dossier settled once, no duplicate dossier or upload, no upload
pending and nothing left unsent in the outbox. The recovery times measured are printed (-s shows them).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import FIXTURES, VENV_BIN, base_declared, run_intake

pytestmark = [pytest.mark.services, pytest.mark.faults]

SAMPLE = FIXTURES / "sample"
PASSWORD = "correct horse battery"
#: One real scan (read by tesseract) and one file that is no image (settled at once).
PIECES = {"piece1.png": (SAMPLE / "piece1.png").read_bytes(), "note.txt": b"pas une image"}
SETTLE_TIMEOUT = 150


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> list[int]:
    """Direct children of a process, from /proc (no psutil)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry))
    return found


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class RedisServer:
    """A redis-server of the test's own, with the durability scripts/services.sh configures."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, free_port()
        folder.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [shutil.which("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
             "--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--daemonize", "no",
             "--logfile", str(self.folder / "redis.log")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis

        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        deadline = time.monotonic() + 20
        while True:
            try:
                if client.ping():
                    return
            except redis.exceptions.RedisError:
                pass
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


class Service:
    """`intake serve` and `intake worker` on PostgreSQL and the test's Redis."""

    def __init__(self, tmp: Path, database_url: str, redis: RedisServer, processes: int = 2) -> None:
        self.tmp, self.redis, self.processes = tmp, redis, processes
        self.port = free_port()
        self.env = {
            "INTAKE_DATA_DIR": str(tmp / "data"), "INTAKE_DATABASE_URL": database_url,
            "INTAKE_BROKER_URL": redis.url, "INTAKE_2DDOC_CERTS": str(FIXTURES / "certs"),
            "INTAKE_REDIS_HEARTBEAT_TIMEOUT_MS": "2000", "INTAKE_OUTBOX_RESEND_AFTER_S": "3",
            "INTAKE_SWEEP_INTERVAL_S": "1", "INTAKE_SECRET_KEY": "fault-suite-secret", "OMP_THREAD_LIMIT": "1",
        }
        self.web: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None
        self.logs: list[Path] = []
        # The schema and the school's account, in this process (two commands less to start)
        import sqlalchemy as sa

        from intake import db
        from intake.web.auth import hash_password

        db.upgrade(database_url)
        engine = sa.create_engine(database_url)
        with engine.begin() as conn:
            conn.execute(sa.text("insert into users (username, password_hash, role, school, active, created_at, "
                                 "failed_logins) values ('ecole', :h, 'school', 'Auto-école du Centre', true, now(), 0)"),
                         {"h": hash_password(PASSWORD)})
        engine.dispose()

    def _spawn(self, name: str, *args: str) -> subprocess.Popen:
        log = self.tmp / f"{name}-{len(self.logs)}.log"
        self.logs.append(log)
        return subprocess.Popen([str(VENV_BIN / "intake"), *args], env={**os.environ, **self.env},
                                stdout=open(log, "w"), stderr=subprocess.STDOUT, start_new_session=True)

    def start_web(self) -> None:
        self.web = self._spawn("web", "serve", "--host", "127.0.0.1", "--port", str(self.port))
        deadline = time.monotonic() + 60
        while True:
            try:
                if self.http("GET", "/sante", timeout=2).status_code == 200:
                    return
            except Exception:  # noqa: BLE001 - not listening yet
                pass
            assert self.web.poll() is None and time.monotonic() < deadline, self.log_text()
            time.sleep(0.1)

    def start_worker(self) -> None:
        self.worker = self._spawn("worker", "worker", "--processes", str(self.processes), "--threads", "1",
                                  "--metrics-port", "0")

    def worker_processes(self) -> list[int]:
        """The Dramatiq worker processes (grandchildren of `intake worker`: one master per slot)."""
        return [w for master in children(self.worker.pid) for w in children(master)]

    def http(self, method: str, path: str, timeout: float = 30, **kwargs):
        import httpx

        return httpx.request(method, f"http://127.0.0.1:{self.port}{path}", timeout=timeout, **kwargs)

    def token(self) -> dict:
        r = self.http("POST", "/api/v1/token", json={"username": "ecole", "password": PASSWORD})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    def log_text(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in self.logs if p.exists())

    def stop(self) -> None:
        for proc in (self.web, self.worker):
            if proc is None or proc.poll() is not None:
                continue
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(timeout=10)


@pytest.fixture
def services(tmp_path, pg_database):
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    service = Service(tmp_path, pg_database, redis)
    try:
        yield service
    finally:
        service.stop()
        redis.kill()


class Client:
    """A school's software: every request carries an Idempotency-Key and is retried, with the same
    key, until it gets an answer (a lost answer, a refused connection, a 5xx)."""

    def __init__(self, service: Service, deadline_s: float = 90) -> None:
        self.service, self.deadline_s = service, deadline_s
        self.headers = None
        self.errors_5xx = 0
        self.retries = 0

    def _call(self, method: str, path: str, key: str, **kwargs):
        deadline = time.monotonic() + self.deadline_s
        while True:
            try:
                if self.headers is None:
                    self.headers = self.service.token()
                r = self.service.http(method, path, headers={**self.headers, "Idempotency-Key": key}, **kwargs)
                if r.status_code < 500:
                    return r
                self.errors_5xx += 1
            except Exception:  # noqa: BLE001 - connection refused or reset: the service is restarting
                pass
            assert time.monotonic() < deadline, f"{method} {path} never answered"
            self.retries += 1
            time.sleep(0.2)

    def create(self, key: str, reference: str) -> int:
        r = self._call("POST", "/api/v1/dossiers", key, json=base_declared(reference=reference))
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def upload(self, dossier_id: int, key: str) -> list[int]:
        def files():
            return [("files", (name, io.BytesIO(data), "application/octet-stream")) for name, data in PIECES.items()]

        deadline = time.monotonic() + self.deadline_s
        while True:  # the multipart body must be rebuilt for every try
            try:
                if self.headers is None:
                    self.headers = self.service.token()
                r = self.service.http("POST", f"/api/v1/dossiers/{dossier_id}/pieces",
                                      headers={**self.headers, "Idempotency-Key": key}, files=files())
                if r.status_code < 500:
                    assert r.status_code == 202, r.text
                    return r.json()["uploads"]
                self.errors_5xx += 1
            except AssertionError:
                raise
            except Exception:  # noqa: BLE001
                pass
            assert time.monotonic() < deadline, "upload never answered"
            self.retries += 1
            time.sleep(0.2)


def query(database_url: str, sql: str) -> list[tuple]:
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(sa.text(sql))]
    finally:
        engine.dispose()


def unsettled(database_url: str) -> list[tuple]:
    """Dossiers without a finished check of their current pieces, or with an upload still pending."""
    return query(database_url, """
        select d.id, d.status, d.revision,
               (select max(r.revision) from check_runs r where r.dossier_id = d.id and r.revision = d.revision),
               (select count(*) from uploads u where u.dossier_id = d.id and u.state = 'pending')
        from dossiers d
        where d.status = 'pending'
           or not exists (select 1 from check_runs r where r.dossier_id = d.id and r.revision = d.revision)
           or exists (select 1 from uploads u where u.dossier_id = d.id and u.state = 'pending')""")


def wait_settled(service: Service, database_url: str, timeout: float = SETTLE_TIMEOUT) -> float:
    started = time.monotonic()
    while unsettled(database_url):
        assert time.monotonic() - started < timeout, (unsettled(database_url), service.log_text())
        time.sleep(0.25)
    return time.monotonic() - started


def assert_settled_once(database_url: str, references: list[str]) -> None:
    """Every dossier once, its two uploads once, read once, checked; nothing pending or unsent."""
    dossiers = query(database_url, "select reference, count(*) from dossiers group by reference")
    assert sorted(dossiers) == sorted((ref, 1) for ref in references)
    uploads = query(database_url, "select dossier_id, count(*) from uploads group by dossier_id")
    assert len(uploads) == len(references) and all(n == len(PIECES) for _, n in uploads), uploads
    assert query(database_url, "select count(*) from uploads where state <> 'done'") == [(0,)]
    assert query(database_url, "select count(*) from findings where code = 'duplicate_piece'") == [(0,)]
    assert query(database_url, "select count(*) from dossiers where status in ('pending', 'failed')") == [(0,)]
    assert unsettled(database_url) == []
    # The outbox: nothing left unsent or unfinished (the sweeper marks what finished as done)
    deadline = time.monotonic() + 15
    while query(database_url, "select count(*) from outbox o where o.done_at is null and o.sent_at is null") != [(0,)]:
        assert time.monotonic() < deadline, query(database_url, "select * from outbox where done_at is null")
        time.sleep(0.5)


def report(name: str, **figures) -> None:
    line = json.dumps({"scenario": name, **{k: round(v, 2) if isinstance(v, float) else v
                                             for k, v in figures.items()}})
    print(f"\nFAULTS {line}")
    out = os.environ.get("INTAKE_FAULTS_REPORT")
    if out:
        with open(out, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")


# --- the scenarios ---------------------------------------------------------------------------------


def test_redis_killed_and_restarted_mid_batch_loses_nothing(services, pg_database):
    service, redis = services, services.redis
    service.start_web()
    service.start_worker()
    client = Client(service)
    references = [f"AE-REDIS-{i}" for i in range(5)]
    # Given a batch being read: the first dossiers are uploaded
    ids = {}
    for ref in references[:3]:
        ids[ref] = client.create(f"create-{ref}", ref)
        client.upload(ids[ref], f"upload-{ref}")
    time.sleep(0.5)
    # When Redis is killed (SIGKILL: its last second of AOF may be lost) mid-batch
    redis.kill()
    down_at = time.monotonic()
    # Then the service goes on taking dossiers and files: no 5xx, the work waits in the outbox
    for ref in references[3:]:
        ids[ref] = client.create(f"create-{ref}", ref)
        client.upload(ids[ref], f"upload-{ref}")
    assert client.errors_5xx == 0
    waiting = json.loads(run_intake("status", "--json", env=service.env).stdout)["outbox"]
    assert sum(w["unsent"] for w in waiting) > 0, waiting
    # When Redis comes back (same folder: the AOF is replayed)
    redis.start()
    back_at = time.monotonic()
    # Then every dossier settles, once
    recovery = wait_settled(service, pg_database)
    assert_settled_once(pg_database, references)
    report("redis_restart", redis_down_s=back_at - down_at, settled_after_restart_s=recovery,
           client_retries=client.retries, errors_5xx=client.errors_5xx)


def test_a_worker_process_killed_is_replaced_and_its_messages_come_back(services, pg_database):
    import redis as redis_lib

    service = services
    service.start_web()
    service.start_worker()
    client = Client(service)
    references = [f"AE-KILLW-{i}" for i in range(3)]
    for ref in references:
        dossier_id = client.create(f"create-{ref}", ref)
        client.upload(dossier_id, f"upload-{ref}")
    # Given both worker processes up, one of them reading a piece
    deadline = time.monotonic() + 60
    while service.log_text().count("Worker process is ready for action") < 2:
        assert time.monotonic() < deadline, service.log_text()
        time.sleep(0.1)
    broker = redis_lib.Redis.from_url(service.redis.url)
    deadline = time.monotonic() + 60
    while not any(broker.scard(k) for k in broker.scan_iter(match="intake:__acks__.*.intake-ocr")):
        assert time.monotonic() < deadline, "no piece was taken"
        time.sleep(0.05)
    workers = service.worker_processes()
    assert len(workers) == 2, workers
    # When it is killed with SIGKILL
    victim = workers[0]
    os.kill(victim, signal.SIGKILL)
    killed_at = time.monotonic()
    # Then `intake worker` stays up and a new worker process takes the dead one's place
    while True:
        current = [p for p in service.worker_processes() if alive(p)]
        if len(current) == 2 and victim not in current:
            break
        assert service.worker.poll() is None, service.log_text()
        assert time.monotonic() - killed_at < 60, (current, service.log_text())
        time.sleep(0.1)
    replaced = time.monotonic() - killed_at
    # And every dossier settles, once (the killed process' messages came back on the heartbeat)
    settled = wait_settled(service, pg_database) + replaced
    assert_settled_once(pg_database, references)
    assert service.worker.poll() is None
    report("worker_sigkill", replaced_after_s=replaced, all_settled_after_s=settled)


def test_the_web_process_killed_mid_upload_and_clients_retrying_leave_no_duplicate(services, pg_database):
    service = services
    service.start_web()
    service.start_worker()
    client = Client(service)
    references = [f"AE-KILLWEB-{i}" for i in range(5)]
    done: dict[str, int] = {}

    def school():
        for ref in references:
            dossier_id = client.create(f"create-{ref}", ref)
            client.upload(dossier_id, f"upload-{ref}")
            done[ref] = dossier_id

    # Given a school's software sending dossiers
    sender = threading.Thread(target=school)
    sender.start()
    deadline = time.monotonic() + 60
    while len(done) < 2:
        assert time.monotonic() < deadline and sender.is_alive(), service.log_text()
        time.sleep(0.02)
    # When the web process is killed with SIGKILL in the middle of the uploads
    os.killpg(service.web.pid, signal.SIGKILL)
    service.web.wait(timeout=10)
    killed_at = time.monotonic()
    time.sleep(1.0)
    # And started again
    service.start_web()
    back = time.monotonic() - killed_at
    sender.join(timeout=120)
    assert not sender.is_alive()
    # Then the retries (same keys) made no second dossier nor upload, and every dossier settles once
    settled = wait_settled(service, pg_database)
    assert_settled_once(pg_database, references)
    # And a create and an upload retried once more after the fact answer what they first answered
    first_id = done[references[0]]
    assert client.create(f"create-{references[0]}", references[0]) == first_id
    before = query(pg_database, f"select id from uploads where dossier_id = {first_id} order by id")
    assert sorted(client.upload(first_id, f"upload-{references[0]}")) == [row[0] for row in before]
    assert_settled_once(pg_database, references)
    report("web_sigkill", web_back_after_s=back, all_settled_after_restart_s=settled,
           client_retries=client.retries)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-s"]))
