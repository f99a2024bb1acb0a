"""Flows shared by the front doors (CLI, web): prepare the database, submit a dossier, wait.

`check_folder` is what `intake check` runs: it creates the dossier, stores its files and goes
through the very actors the workers run (in-process when INTAKE_BROKER_URL is unset, Redis when set),
then returns the stored result.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

from intake import jobs
from intake.dossier import load_declared
from intake.pipeline import list_piece_files
from intake.settings import get_settings

log = logging.getLogger(__name__)


class ServiceError(RuntimeError):
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


def start_workers() -> None:
    """Make sure the actors can run: the in-process worker when there is no Redis broker."""
    from intake.workers import broker

    broker.configure()
    broker.start_embedded_worker()
    import intake.workers.actors  # noqa: F401


def submit(dossier_id: int) -> None:
    """Send the dossier's pending reads, or its check when nothing is pending."""
    from intake.workers.actors import check_dossier, read_upload

    pending = jobs.pending_upload_ids(dossier_id)
    for upload_id in pending:
        read_upload.send(upload_id)
    if not pending:
        check_dossier.send(dossier_id)


def check_folder(folder: Path, today: date | None = None, timeout: float | None = None) -> dict:
    declared = load_declared(folder)
    prepare_database()
    start_workers()
    dossier_id = jobs.create_dossier(declared, source="cli", reference_date=today or declared.reference_date)
    files = list_piece_files(folder)
    settings = get_settings()
    if len(files) > settings.max_dossier_files:
        raise ServiceError(f"trop de fichiers dans le dossier ({len(files)}, au plus {settings.max_dossier_files})")
    jobs.upload_files(dossier_id, files)
    submit(dossier_id)
    run = jobs.wait_for_check(dossier_id, timeout=timeout or settings.check_timeout)
    if run is None:
        raise ServiceError("aucun worker n'a terminé la vérification à temps (le broker Redis a-t-il des "
                           "workers ? `intake worker`)")
    if run.state != "done":
        raise ServiceError("la vérification du dossier a échoué ; voir `intake failed`")
    return run.result
