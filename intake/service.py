"""Flows shared by the front doors (CLI, web): prepare the database, submit a dossier, wait.

`check_folder` is what `intake check` runs: it creates the dossier, stores its files and goes
through the very actors the workers run (in-process when INTAKE_BROKER_URL is unset, Redis when set),
then returns the stored result.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

from intake import units
from intake.errors import ServiceUnavailable
from intake.dossier import load_declared
from intake.pipeline import list_piece_files
from intake.settings import get_settings

log = logging.getLogger(__name__)


class ServiceError(ServiceUnavailable):
    """The command could not run (database not migrated, no worker answering)."""


def prepare_database() -> None:
    """The embedded SQLite database migrates itself; a server database must be migrated by hand."""
    from intake import db

    settings = get_settings()
    if settings.is_sqlite:
        db.upgrade()
        return
    if not db.is_current():
        raise ServiceError("la base de données n'est pas à jour : lancer `intake db upgrade`")


def start_workers(sweeper: bool = False) -> None:
    """Choose the broker the settings ask for, and make sure the actors can run: the in-process
    worker when there is no Redis broker (with Redis, `intake worker` runs them). `sweeper`: a
    long-running server (`intake serve`) also runs the outbox sweeper in-process."""
    from intake.workers import broker, embedded

    broker.configure()
    if embedded.start() is not None and sweeper:
        embedded.start_sweeper()


def stop_sweeper() -> None:
    """Stop the in-process sweeper (a server shutting down; its worker stops at exit)."""
    from intake.workers import embedded

    embedded.stop_sweeper()


def require_tools() -> None:
    """ServiceError (French) when tesseract, its languages, poppler or the OCR-B font is missing."""
    from intake.tools import ToolMissing, require

    try:
        require()
    except ToolMissing as exc:
        raise ServiceError(str(exc)) from None


def wait_for_check(dossier_id: int, timeout: float):
    """The dossier's finished check run, or None after `timeout` seconds. In-process, woken by the
    embedded worker each time it finishes a message (no polling); with Redis, polling the database."""
    import time

    from intake.workers import broker, embedded

    if not broker.is_embedded():
        return units.wait_for_check(dossier_id, timeout=timeout)
    deadline = time.monotonic() + timeout
    while True:
        seen = embedded.settled_count()
        run = units.wait_for_check(dossier_id, timeout=-1)  # one look, no sleep
        remaining = deadline - time.monotonic()
        if run is not None or remaining <= 0:
            return run
        embedded.wait_settled(seen, remaining)


def submit(dossier_id: int) -> None:
    """Send what the outbox holds for the dossier: its pending reads, or its check when nothing is pending."""
    from intake.workers.outbox import send_pending

    send_pending(dossier_id)


def check_folder(folder: Path, today: date | None = None, timeout: float | None = None) -> dict:
    return check_folder_dossier(folder, today, timeout)[1]


def check_folder_dossier(folder: Path, today: date | None = None, timeout: float | None = None) -> tuple[int, dict]:
    """`check_folder`, also giving the dossier's id (`intake export DOSSIER_DIR` exports that dossier)."""
    declared = load_declared(folder)
    if not get_settings().broker_url:
        require_tools()  # this process reads the pieces: refuse now rather than fail every page
    prepare_database()
    start_workers()
    dossier_id = units.create_dossier(declared, source="cli", reference_date=today or declared.reference_date)
    files = list_piece_files(folder)
    settings = get_settings()
    if len(files) > settings.max_dossier_files:
        raise ServiceError(f"trop de fichiers dans le dossier ({len(files)}, au plus {settings.max_dossier_files})")
    units.upload_files(dossier_id, files)
    submit(dossier_id)
    run = wait_for_check(dossier_id, timeout or settings.check_timeout)
    if run is None:
        raise ServiceError("aucun worker n'a terminé la vérification à temps (le broker Redis a-t-il des "
                           "workers ? `intake worker`)")
    if run.state != "done":
        raise ServiceError("la vérification du dossier a échoué ; voir `intake failed`")
    return dossier_id, run.result
