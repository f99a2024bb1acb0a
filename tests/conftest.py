"""Shared test fixtures: an isolated data folder per test, and the real Redis and PostgreSQL servers.

The services are started by scripts/services.sh (run by the README's test command and CI); a test
that needs them fails, never skips, when they are not there.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
VENV_BIN = Path(sys.executable).parent

from intake import single_threaded_pools  # noqa: E402

single_threaded_pools()  # as the `intake` command does, before the libraries load

# Property tests explore new examples on every run on a developer's machine; the README's test
# command and CI (INTAKE_TEST_DERANDOMIZE=1) run a fixed set, so that a green or red CI run says
# something about the change, not about the draw. A counter-example found locally becomes an
# example test.
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("INTAKE_TEST_DERANDOMIZE") == "1":
    _hypothesis_settings.load_profile("ci")


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """An empty INTAKE_DATA_DIR with the embedded SQLite database, for one test."""
    from intake.settings import reset_settings

    folder = tmp_path / "data"
    monkeypatch.setenv("INTAKE_DATA_DIR", str(folder))
    monkeypatch.delenv("INTAKE_DATABASE_URL", raising=False)
    monkeypatch.delenv("INTAKE_BROKER_URL", raising=False)
    monkeypatch.setenv("INTAKE_2DDOC_CERTS", str(FIXTURES / "certs"))
    reset_settings()
    yield folder
    reset_settings()


@pytest.fixture
def migrated(data_dir):
    """The embedded database, migrated."""
    from intake import db

    db.upgrade()
    return data_dir


def postgres_url() -> str:
    return os.environ.get("INTAKE_TEST_DATABASE_URL",
                          "postgresql+psycopg://postgres@127.0.0.1:5432/intake_test")


def redis_url() -> str:
    """The tests' Redis database; under pytest-xdist, one of its own per worker (15, 14...): a
    test empties its database before and after it."""
    url = os.environ.get("INTAKE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    base, _, db = url.rpartition("/")
    if worker.startswith("gw") and worker[2:].isdigit() and db.isdigit():
        url = f"{base}/{max(0, int(db) - int(worker[2:]))}"
    return url


@pytest.fixture
def pg_database():
    """A fresh PostgreSQL database (created and dropped around the test) on the real server."""
    import sqlalchemy as sa

    base = postgres_url()
    name = f"intake_t_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'create database "{name}"'))
    url = base.rsplit("/", 1)[0] + "/" + name
    try:
        yield url
    finally:
        from intake.db import engine_for

        engine_for.cache_clear()
        with admin.connect() as conn:
            conn.execute(sa.text(
                f"select pg_terminate_backend(pid) from pg_stat_activity where datname = '{name}'"))
            conn.execute(sa.text(f'drop database if exists "{name}"'))
        admin.dispose()


@pytest.fixture
def redis_broker_url():
    """A Redis database on the real server, emptied before and after the test."""
    import redis

    url = redis_url()
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()


def run_intake(*args: str, env: dict | None = None, timeout: float = 600, cwd: Path | None = None):
    """Run the installed `intake` command as a user would; return the CompletedProcess."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([str(VENV_BIN / "intake"), *args], capture_output=True, text=True,
                          timeout=timeout, env=full_env, cwd=cwd)


def write_dossier(folder: Path, data: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dossier.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return folder


def base_declared(**overrides) -> dict:
    """A valid dossier.json for an 20-year-old French applicant (tests change what they need)."""
    data = {
        "reference": "AE-TEST-1",
        "reference_date": "2026-11-26",
        "procedure": "inscription",
        "motif": "primo",
        "categories": ["B"],
        "training": None,
        "applicant": {
            "surname": "Dupont", "usage_name": None, "given_names": ["Jean", "Pierre"],
            "birth_date": "2005-04-12", "birth_place": "Lyon", "sex": "M", "nationality": "FRA",
            "address": {"line": "12 rue des Lilas", "postcode": "75011", "city": "Paris"},
            "email": "jean.dupont@example.org", "phone": "+33612345678",
        },
        "situation": {"hosted": False, "under_guardianship": False, "medical_condition": False},
        "host": None,
        "legal_representative": None,
    }
    data.update(overrides)
    return data


def copy_dossier(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def read_generated_page(folder: Path, dossier_id: str, case: str, degradation: str, seed: int, index: int,
                        file: str, page: int = 1):
    """Regenerate one dossier of a generated corpus (same seed and index, same files) and read one
    page of one of its files with the real page reader."""
    from fixtures.corpus import generate_one
    from intake.extractors.images import open_source
    from intake.extractors.page import read_page
    from intake.settings import get_settings

    generate_one(folder, dossier_id, case, degradation, seed, index)
    return read_page(open_source(folder / dossier_id / file, get_settings()).render(page), page)
