"""Database engine and sessions: one session per unit of work, never held across OCR.

Migrations are Alembic's (`models/migrations`); `upgrade()` is a setup step called by `intake db
upgrade` and by the single-machine commands before they start, never at import.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from intake.settings import get_settings

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "models" / "migrations"


def _ensure_sqlite_folder(url: str) -> None:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True, mode=0o700)


def make_engine(url: str) -> Engine:
    _ensure_sqlite_folder(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # pragma: no cover - trivial
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    engine = make_engine(url)
    _engines.append(engine)
    return engine


_engines: list[Engine] = []


def close_connections() -> None:
    """Close every pooled connection of this process (a quick exit skips the interpreter's own
    teardown): SQLite then folds its write-ahead log into the database file and removes it, as at
    a normal exit, instead of leaving recent rows in `intake.db-wal`."""
    for engine in list(_engines):
        engine.dispose()


def get_engine() -> Engine:
    return engine_for(get_settings().database_url)


@lru_cache(maxsize=8)
def _sessionmaker(url: str) -> sessionmaker[Session]:
    return sessionmaker(bind=engine_for(url), expire_on_commit=False)


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session that commits at the end of the block, or rolls back on error."""
    session = _sessionmaker(get_settings().database_url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: str | None = None):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", (url or get_settings().database_url).replace("%", "%%"))
    return config


def upgrade(url: str | None = None) -> None:
    """Bring the database schema to the latest migration."""
    url = url or get_settings().database_url
    _ensure_sqlite_folder(url)
    if _stamped_revision(url) == head_revision():
        return  # already there: no need to load Alembic (a quarter of a second of imports)
    from alembic import command

    with _migration_lock(url):
        command.upgrade(alembic_config(url), "head")


_REVISION_LINE = re.compile(r"^(down_revision|revision)\s*(?::[^=]*)?=\s*['\"]?([\w-]+|None)['\"]?", re.M)


@lru_cache(maxsize=1)
def head_revision() -> str | None:
    """The newest migration, read from the migration files' `revision` / `down_revision` lines
    (the revision no other one names as its parent)."""
    revisions, parents = set(), set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        fields = dict((k, v) for k, v in _REVISION_LINE.findall(path.read_text(encoding="utf-8")))
        if "revision" in fields:
            revisions.add(fields["revision"])
            if fields.get("down_revision") not in (None, "None"):
                parents.add(fields["down_revision"])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _stamped_revision(url: str) -> str | None:
    """The revision the database says it is at; None when it has none (or cannot say)."""
    try:
        with engine_for(url).connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:  # noqa: BLE001 - any doubt: let Alembic look
        return None


@contextmanager
def _migration_lock(url: str) -> Iterator[None]:
    """Several processes sharing one SQLite file (eval --jobs, CLI beside the web) migrate in turn."""
    if not url.startswith("sqlite"):
        yield  # PostgreSQL: Alembic's transactional DDL serialises concurrent upgrades
        return
    import fcntl

    path = url.split("///", 1)[-1]
    if not path or path == ":memory:":
        yield
        return
    with open(f"{path}.migrate.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def is_current(url: str | None = None) -> bool:
    """True when the database is at the latest migration."""
    if head_revision() is not None:
        return _stamped_revision(url or get_settings().database_url) == head_revision()
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(url))
    engine = engine_for(url or get_settings().database_url)
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return False
        return MigrationContext.configure(conn).get_current_revision() == script.get_current_head()
