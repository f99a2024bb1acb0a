"""Throughput of the workers on Redis + PostgreSQL, and the latency of one typical dossier.

    .venv/bin/python bench/throughput.py [--n 8] [--processes 1,2] [--latency-runs 3]

1. Throughput: for each process count P, a fresh PostgreSQL database, an emptied Redis database and
   `intake worker --processes P --threads 1`; N copies of fixtures/sample are submitted at once (the
   way the web service does) and the clock stops when the last one has its verdict. Prints dossiers
   per minute for each P and the ratio of the last to the first (goal: 2 processes >= 1.8 x 1).
2. Latency: `intake check fixtures/sample` (embedded SQLite, in-process worker) timed end to end,
   pinned to one core with taskset (goal: <= 5 s), and unpinned. The local database is created by
   one untimed run first, as it is on a school's machine after its first check.

The machine is shared: run it when it is quiet, and read the figures as noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "fixtures" / "sample"
VENV_BIN = Path(sys.executable).parent


def make_copies(folder: Path, n: int) -> list[Path]:
    copies = []
    for i in range(n):
        target = folder / f"d{i:04d}"
        shutil.copytree(SAMPLE, target, ignore=shutil.ignore_patterns("expected.json"))
        declared = json.loads((target / "dossier.json").read_text())
        declared["reference"] = f"BENCH-{i:04d}"
        (target / "dossier.json").write_text(json.dumps(declared, ensure_ascii=False))
        copies.append(target)
    return copies


def _admin_engine(base_url: str):
    """An engine on the server's maintenance database, which exists on every PostgreSQL server."""
    import sqlalchemy as sa

    return sa.create_engine(sa.make_url(base_url).set(database="postgres"), isolation_level="AUTOCOMMIT")


def create_database(base_url: str) -> str:
    import sqlalchemy as sa

    name = f"intake_bench_{uuid.uuid4().hex[:8]}"
    admin = _admin_engine(base_url)
    with admin.connect() as conn:
        conn.execute(sa.text(f'create database "{name}"'))
    admin.dispose()
    return sa.make_url(base_url).set(database=name).render_as_string(hide_password=False)


def drop_database(base_url: str, url: str) -> None:
    import sqlalchemy as sa

    name = url.rsplit("/", 1)[1]
    admin = _admin_engine(base_url)
    with admin.connect() as conn:
        conn.execute(sa.text(f"select pg_terminate_backend(pid) from pg_stat_activity where datname = '{name}'"))
        conn.execute(sa.text(f'drop database if exists "{name}"'))
    admin.dispose()


def throughput(processes: int, dossiers: list[Path], base_db: str, redis_url: str, work: Path) -> float:
    """Dossiers per minute with `intake worker --processes P --threads 1`."""
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    database = create_database(base_db)
    env = {**os.environ, "INTAKE_DATA_DIR": str(work / f"data-{processes}"), "INTAKE_DATABASE_URL": database,
           "INTAKE_BROKER_URL": redis_url, "INTAKE_2DDOC_CERTS": str(ROOT / "fixtures" / "certs"),
           "OMP_THREAD_LIMIT": "1"}
    worker = None
    try:
        subprocess.run([str(VENV_BIN / "intake"), "db", "upgrade"], env=env, check=True, capture_output=True)
        worker = subprocess.Popen([str(VENV_BIN / "intake"), "worker", "--processes", str(processes),
                                   "--threads", "1", "--metrics-port", "0"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        # Ready when every worker process has sent its first heartbeat.
        deadline = time.monotonic() + 60
        while client.zcard("intake:__heartbeats__") < processes:
            if time.monotonic() > deadline:
                raise RuntimeError("the workers did not start")
            time.sleep(0.2)
        submitter = subprocess.run(
            [sys.executable, __file__, "_submit", *map(str, dossiers)], env=env, capture_output=True, text=True,
            timeout=3600)
        if submitter.returncode != 0:
            raise RuntimeError(submitter.stderr)
        return float(submitter.stdout.strip())
    finally:
        if worker is not None:
            os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
        drop_database(base_db, database)
        client.flushdb()


def _submit(folders: list[str]) -> int:
    """(child process) Submit the dossiers, wait for every verdict, print dossiers per minute."""
    from sqlalchemy import func, select

    from intake import units
    from intake.db import session_scope
    from intake.dossier import load_declared
    from intake.pipeline import list_piece_files
    from intake.service import start_workers, submit
    from models import CheckRun

    start_workers()
    started = time.perf_counter()
    ids = []
    for folder in map(Path, folders):
        dossier_id = units.create_dossier(load_declared(folder), source="bench")
        units.upload_files(dossier_id, list_piece_files(folder))
        submit(dossier_id)
        ids.append(dossier_id)
    while True:
        with session_scope() as session:
            done = session.scalar(select(func.count(func.distinct(CheckRun.dossier_id)))
                                  .where(CheckRun.dossier_id.in_(ids)))
        if done >= len(ids):
            break
        time.sleep(0.2)
    elapsed = time.perf_counter() - started
    print(f"{len(ids) / elapsed * 60:.3f}")
    return 0


def latency(runs: int, pin: bool, work: Path) -> list[float]:
    """`intake check` timed end to end, the way a school runs it: its local database already
    exists (one untimed first run creates it), each timed run a new check of the same dossier."""
    env = {**os.environ, "INTAKE_DATA_DIR": str(work / f"latency-{pin}"),
           "INTAKE_2DDOC_CERTS": str(ROOT / "fixtures" / "certs"), "OMP_THREAD_LIMIT": "1"}
    env.pop("INTAKE_DATABASE_URL", None)
    env.pop("INTAKE_BROKER_URL", None)
    cmd = [str(VENV_BIN / "intake"), "check", str(SAMPLE), "--json"]
    if pin:
        cmd = ["taskset", "-c", "0", *cmd]
    times = []
    for i in range(runs + 1):
        started = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
        if i:
            times.append(time.perf_counter() - started)
        if proc.returncode not in (0, 1):
            raise RuntimeError(proc.stderr)
    return times


def main(argv: list[str] | None = None) -> int:
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "_submit":
        return _submit(sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=8, help="dossiers per throughput run (default 8)")
    parser.add_argument("--processes", default="1,2", help="worker process counts to compare (default 1,2)")
    parser.add_argument("--latency-runs", type=int, default=5, help="timed `intake check` runs (default 5)")
    parser.add_argument("--database-url", default=os.environ.get(
        "INTAKE_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/intake_test"))
    parser.add_argument("--redis-url", default=os.environ.get("INTAKE_TEST_REDIS_URL", "redis://127.0.0.1:6379/14"))
    args = parser.parse_args(argv)

    print(f"cores: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="intake-bench-") as tmp:
        work = Path(tmp)
        if args.latency_runs:
            for pin in (True, False):
                times = latency(args.latency_runs, pin, work)
                label = "1 core (taskset -c 0)" if pin else "unpinned"
                print(f"latency of `intake check fixtures/sample`, {label}: median {statistics.median(times):.2f} s, "
                      f"min {min(times):.2f} s, runs {', '.join(f'{t:.2f}' for t in times)}")
        if args.n:
            dossiers = make_copies(work / "dossiers", args.n)
            rates = {}
            for processes in [int(p) for p in args.processes.split(",")]:
                rates[processes] = throughput(processes, dossiers, args.database_url, args.redis_url, work)
                print(f"throughput, {processes} worker process(es) x 1 thread, {args.n} dossiers: "
                      f"{rates[processes]:.1f} dossiers/min (load average now {os.getloadavg()[0]:.2f})")
            counts = sorted(rates)
            if len(counts) > 1:
                print(f"scaling ratio {counts[-1]} vs {counts[0]} processes: {rates[counts[-1]] / rates[counts[0]]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
