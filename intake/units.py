"""Units of work on the database, each opening its own sessions: the actors, the CLI and the web call them.

Reading a file (OCR) happens between two short sessions, never inside one. Each function is
idempotent so that at-least-once delivery is harmless. The actors of `intake.workers.actors` are
named after the messages (`read_upload`, `check_dossier`); the work they do is here, under names of
its own (`read_and_record_upload`, `run_check`), so that a name says which of the two it is.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from intake.db import session_scope
from intake.documents import FileRead, Finding
from intake.dossier import Declared, parse_declared
from intake.pipeline import judge_dossier, read_file, result_json
from intake.settings import get_settings
from intake.state import (
    DossierStatus,
    FindingState,
    UploadState,
    file_read_of,
    move_dossier,
    move_upload,
    piece_rows,
    status_from_findings,
)
from intake.storage import FileStore, FileTooLarge
from intake.version import PIPELINE_VERSION
from models import AuditEvent, CheckRun, Dossier, FindingRow, OutboxMessage, Piece, Upload, finding_key, utcnow

log = logging.getLogger(__name__)


def store() -> FileStore:
    return FileStore(get_settings().files_dir)


def audit(session: Session, action: str, dossier_id: int | None = None, actor: str = "system",
          user_id: int | None = None, **details) -> None:
    session.add(AuditEvent(action=action, dossier_id=dossier_id, actor=actor, user_id=user_id, details=details))


def outbox(session: Session, actor: str, target_id: int, dossier_id: int, trigger: str = "upload") -> None:
    """Record a message to send (to the actor `read_upload` or `check_dossier`) in the caller's transaction.

    It is sent after the commit (`intake.workers.outbox.send_pending`); if that send is lost (broker
    away, process killed), the worker's sweeper sends it again. Nothing is ever only in Redis.
    """
    session.add(OutboxMessage(actor=actor, target_id=target_id, dossier_id=dossier_id, trigger=trigger[:30]))


def _settle_outbox(session: Session, actor: str, **where) -> None:
    """Mark the outbox rows of finished work as done, in the transaction that finished it."""
    query = update(OutboxMessage).where(OutboxMessage.actor == actor, OutboxMessage.done_at.is_(None))
    for column, value in where.items():
        query = query.where(getattr(OutboxMessage, column) == value)
    session.execute(query.values(done_at=utcnow()).execution_options(synchronize_session=False))


# --- creating dossiers and uploads -------------------------------------------------------------


def create_dossier(declared: Declared, *, school: str = "local", source: str = "api",
                   reference_date: date | None = None, actor: str = "system",
                   user_id: int | None = None, idempotency_key: str | None = None) -> int:
    """Create a dossier (with its first check in the outbox); return its id.

    With an `idempotency_key`, a second call from the same school returns the first dossier.
    """
    if idempotency_key:
        existing = _dossier_for_key(school, idempotency_key)
        if existing is not None:
            return existing
    try:
        with session_scope() as session:
            dossier = Dossier(reference=declared.reference, school=school, declared=declared.to_json(),
                              reference_date=reference_date or declared.reference_date, source=source,
                              status=DossierStatus.PENDING.value, revision=0, idempotency_key=idempotency_key or None)
            session.add(dossier)
            session.flush()
            audit(session, "dossier_created", dossier.id, actor=actor, user_id=user_id, source=source)
            outbox(session, "check_dossier", dossier.id, dossier.id, "upload")
            return dossier.id
    except IntegrityError:
        existing = _dossier_for_key(school, idempotency_key) if idempotency_key else None
        if existing is None:
            raise
        return existing  # a concurrent retry with the same key won the race


def _dossier_for_key(school: str, key: str) -> int | None:
    with session_scope() as session:
        return session.scalar(select(Dossier.id).where(Dossier.school == school, Dossier.idempotency_key == key))


def upload_for_key(dossier_id: int, key: str) -> int | None:
    """The upload already stored for this idempotency key (`<key>#<position>`), if any."""
    with session_scope() as session:
        return session.scalar(select(Upload.id).where(Upload.dossier_id == dossier_id,
                                                      Upload.idempotency_key == key))


def _unique_name(session: Session, dossier_id: int, name: str) -> str:
    taken = set(session.scalars(select(Upload.original_name).where(
        Upload.dossier_id == dossier_id, Upload.state != "replaced")))
    if name not in taken:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    n = 2
    while f"{stem}-{n}{dot}{ext}" in taken:
        n += 1
    return f"{stem}-{n}{dot}{ext}"


def add_upload(dossier_id: int, name: str, stream: BinaryIO, *, replaces: int | None = None,
               actor: str = "system", user_id: int | None = None, idempotency_key: str | None = None) -> int:
    """Store a file (once, by sha256) and attach it to the dossier as a pending upload, its read in
    the outbox (the check instead when there is nothing to read).

    A file past the byte limit is not stored: its upload is settled at once with `unsupported_file`.
    With an `idempotency_key` already used on this dossier, the first upload's id is returned and
    nothing is stored again. A closed (not purged) dossier that receives a file is open again.
    """
    if idempotency_key:
        existing = upload_for_key(dossier_id, idempotency_key)
        if existing is not None:
            return existing
        try:
            return _add_upload(dossier_id, name, stream, replaces, actor, user_id, idempotency_key)
        except IntegrityError:
            existing = upload_for_key(dossier_id, idempotency_key)
            if existing is None:
                raise
            return existing
    return _add_upload(dossier_id, name, stream, replaces, actor, user_id, None)


def _add_upload(dossier_id: int, name: str, stream: BinaryIO, replaces: int | None, actor: str,
                user_id: int | None, idempotency_key: str | None) -> int:
    settings = get_settings()
    name = safe_name(name)
    try:
        sha, size = store().put_stream(stream, max_bytes=settings.max_file_bytes)
        state, findings = UploadState.PENDING, []
    except FileTooLarge:
        sha, size, state = None, 0, UploadState.DONE
        findings = [Finding(
            "unsupported_file",
            f"Le fichier « {name} » n'a pas pu être lu : fichier trop volumineux (au plus "
            f"{settings.max_file_bytes // (1024 * 1024)} Mo). Fournir un fichier plus léger.",
            file=name).to_json()]
    with session_scope() as session:
        # Bump in one statement, first: it takes the write lock (SQLite ignores FOR UPDATE), so a
        # check finishing meanwhile cannot overwrite "pending" with the verdict of older pieces.
        bumped = session.execute(update(Dossier).where(Dossier.id == dossier_id)
                                 .values(revision=Dossier.revision + 1, status=DossierStatus.PENDING.value)
                                 .execution_options(synchronize_session=False))
        dossier = session.get(Dossier, dossier_id, with_for_update=True)
        if dossier is None or bumped.rowcount != 1:
            raise LookupError(f"dossier {dossier_id} not found")
        if dossier.closed_at is not None and dossier.purged_at is None:
            dossier.closed_at, dossier.closed_reason = None, None
        if replaces is not None:
            old = session.get(Upload, replaces)
            if old is not None and old.dossier_id == dossier_id:
                move_upload(old, UploadState.REPLACED)
                session.flush()
        upload = Upload(dossier_id=dossier_id, sha256=sha, original_name=_unique_name(session, dossier_id, name),
                        size=size, state=state.value, file_findings=findings, replaces_id=replaces,
                        pipeline_version=PIPELINE_VERSION if state is UploadState.DONE else None,
                        idempotency_key=idempotency_key)
        session.add(upload)
        session.flush()
        audit(session, "upload_added" if replaces is None else "upload_replaced", dossier_id, actor=actor,
              user_id=user_id, upload_id=upload.id, sha256=sha, size=size)
        if state is UploadState.PENDING:
            outbox(session, "read_upload", upload.id, dossier_id, "upload")
        else:
            outbox(session, "check_dossier", dossier_id, dossier_id, "upload")
        return upload.id


def safe_name(name: str) -> str:
    """A display name that is only a file name: no folders, no control characters, valid UTF-8."""
    if isinstance(name, bytes):
        name = name.decode("utf-8", "replace")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c if c.isprintable() else "_" for c in name)
    name = name.encode("utf-8", "replace").decode("utf-8", "replace").strip().lstrip(".")
    return (name or "fichier")[:200]


# --- reading one upload (the OCR stage) --------------------------------------------------------


@dataclass
class _UploadRef:
    id: int
    dossier_id: int
    sha256: str | None
    name: str


def read_and_record_upload(upload_id: int, force: bool = False, trigger: str = "upload") -> int | None:
    """Read an upload's file and store its documents; return its dossier id (None if gone).

    Idempotent: an upload already read by this pipeline version is not read again, and a second
    read replaces the first one's rows instead of adding to them. The dossier's check goes into the
    outbox in the transaction that stores the read.
    """
    with session_scope() as session:
        upload = session.get(Upload, upload_id)
        if upload is None or upload.state == "replaced":
            return None
        ref = _UploadRef(upload.id, upload.dossier_id, upload.sha256, upload.original_name)
        if upload.state == "done" and upload.pipeline_version == PIPELINE_VERSION and not force:
            return ref.dossier_id
    started = time.monotonic()
    if ref.sha256 is None:
        read = FileRead(file=ref.name, findings=[Finding(
            "unsupported_file", f"Le fichier « {ref.name} » n'a pas pu être conservé.", file=ref.name)])
    else:
        path = store().path_for(ref.sha256)
        if not path.exists():
            read = FileRead(file=ref.name, findings=[Finding(
                "unsupported_file", f"Le fichier « {ref.name} » est introuvable dans le stockage ; le déposer à "
                "nouveau.", file=ref.name)])
        else:
            read = read_file(path, ref.name)
    seconds = time.monotonic() - started
    with session_scope() as session:
        # The pieces change: bump the revision (dossier lock first, as add_upload takes it), so a
        # check judged on the previous reads is not stored as the verdict of these ones.
        session.execute(update(Dossier).where(Dossier.id == ref.dossier_id)
                        .values(revision=Dossier.revision + 1).execution_options(synchronize_session=False))
        upload = session.get(Upload, upload_id, with_for_update=True)
        if upload is None or upload.state == "replaced":
            return None
        for piece in list(upload.pieces):
            session.delete(piece)
        session.flush()
        session.add_all(piece_rows(upload.id, read))
        # with their details: a blank page's reason says it hides no piece (the verdict reads it)
        upload.file_findings = [{**f.to_json(), "details": f.details} for f in read.findings]
        upload.page_count = read.page_count
        upload.media_type = read.media_type
        move_upload(upload, UploadState.DONE)
        upload.error = None
        upload.pipeline_version = PIPELINE_VERSION
        upload.read_at = utcnow()
        upload.seconds = round(seconds, 3)
        _settle_outbox(session, "read_upload", target_id=upload.id)
        outbox(session, "check_dossier", upload.dossier_id, upload.dossier_id, trigger)
    log.info("upload %d read: %d document(s), %d finding(s), %.2f s", upload_id, len(read.documents),
             len(read.findings), seconds)
    return ref.dossier_id


def all_uploads_settled(dossier_id: int) -> bool:
    with session_scope() as session:
        pending = session.scalar(select(func.count()).select_from(Upload).where(
            Upload.dossier_id == dossier_id, Upload.state == "pending"))
        return pending == 0


def mark_upload_failed(upload_id: int, reason: str, trigger: str = "upload") -> int | None:
    with session_scope() as session:
        upload = session.get(Upload, upload_id)
        if upload is None:
            return None
        if upload.state == UploadState.PENDING.value:
            move_upload(upload, UploadState.FAILED)
            upload.error = reason[:500]
            upload.file_findings = [Finding(
                "check_failed",
                f"Le fichier « {upload.original_name} » n'a pas pu être analysé automatiquement ; il doit être "
                "vérifié par une personne.", file=upload.original_name).to_json()]
            audit(session, "upload_failed", upload.dossier_id, upload_id=upload_id, error=reason[:200])
            _settle_outbox(session, "read_upload", target_id=upload_id)
            outbox(session, "check_dossier", upload.dossier_id, upload.dossier_id, trigger)
        return upload.dossier_id


# --- checking one dossier (the cheap stage) ----------------------------------------------------


def _current_uploads(session: Session, dossier_id: int) -> list[Upload]:
    return list(session.scalars(
        select(Upload).where(Upload.dossier_id == dossier_id, Upload.state != "replaced")
        .options(selectinload(Upload.pieces)).order_by(Upload.original_name, Upload.id)))


def run_check(dossier_id: int, trigger: str = "upload", today: date | None = None) -> str | None:
    """Judge a dossier from its stored reads and store the verdict; return its status.

    Idempotent: the findings of the previous check are replaced, except that a reviewer's decision
    on a finding (accepted, resolved) is carried over to the same finding found again.
    """
    with session_scope() as session:
        dossier = session.get(Dossier, dossier_id)
        if dossier is None:
            return None
        uploads = _current_uploads(session, dossier_id)
        if any(u.state == "pending" for u in uploads):
            return None  # the last read to finish asks again
        declared = parse_declared(dossier.declared)
        revision = dossier.revision
        reference_date = today or dossier.reference_date or datetime.now(timezone.utc).date()
        reads, sha_by_file = [], {}
        for upload in uploads:
            reads.append(file_read_of(upload))
            if upload.sha256:
                sha_by_file[upload.original_name] = upload.sha256
        piece_ids = [p.id for u in uploads for p in u.pieces]
        reference = dossier.reference

    status, documents, findings = judge_dossier(declared, reads, sha_by_file, reference_date)
    result = result_json(reference, status, documents, findings)

    with session_scope() as session:
        # Take the write lock before testing the revision (SQLite ignores FOR UPDATE): an upload
        # committed between the test and the writes would otherwise get this older verdict.
        session.execute(update(Dossier).where(Dossier.id == dossier_id, Dossier.revision == revision)
                        .values(revision=revision).execution_options(synchronize_session=False))
        dossier = session.get(Dossier, dossier_id, with_for_update=True)
        if dossier is None:
            return None
        if dossier.revision != revision:
            return None  # pieces changed meanwhile: the check of the new state will follow
        run = CheckRun(dossier_id=dossier_id, revision=revision, pipeline_version=PIPELINE_VERSION,
                       state="done", status=status, result=result, trigger=trigger, finished_at=utcnow())
        session.add(run)
        session.flush()
        effective = [finding for row, finding in _carry_findings(session, dossier, run.id, findings)
                     if row.state == "open"]
        for piece_id, document in zip(piece_ids, documents):
            piece = session.get(Piece, piece_id)
            if piece is not None:
                piece.holder = document.holder
        # the verdict, less what a reviewer already accepted or resolved in an earlier check
        move_dossier(dossier, status_from_findings(effective) if len(effective) != len(findings)
                     else DossierStatus(status))
        dossier.checked_at = utcnow()
        _settle_outbox(session, "check_dossier", dossier_id=dossier_id)
        dossier.pipeline_version = PIPELINE_VERSION
        audit(session, "dossier_checked", dossier_id, status=dossier.status, trigger=trigger,
              pipeline_version=PIPELINE_VERSION)
        return dossier.status


def _carry_findings(session: Session, dossier: Dossier, run_id: int,
                    findings: list[Finding]) -> list[tuple[FindingRow, Finding]]:
    """Store a check's findings over the previous check's rows.

    A finding found again (same code, requirement, file and page) keeps its row: its id, which a
    reviewer's page or a school's software may hold, and a reviewer's decision on it (accepted,
    resolved, with the note). Rows not found again are deleted; new findings get new rows.
    """
    previous: dict[tuple, list[FindingRow]] = {}
    for row in sorted(dossier.findings, key=lambda r: (r.position, r.id)):
        previous.setdefault(row.key(), []).append(row)
    kept = []
    for position, finding in enumerate(findings):
        same = previous.get(finding_key(finding))
        row = same.pop(0) if same else FindingRow(dossier_id=dossier.id, state=FindingState.OPEN.value)
        row.run_id, row.position, row.code, row.severity = run_id, position, finding.code, finding.severity
        row.requirement, row.file, row.page = finding.requirement, finding.file, finding.page
        row.message, row.details = finding.message, finding.details
        if row.id is None:
            session.add(row)
        kept.append((row, finding))
    for rows in previous.values():
        for row in rows:
            session.delete(row)
    session.flush()
    return kept


def mark_check_failed(dossier_id: int, reason: str) -> None:
    with session_scope() as session:
        dossier = session.get(Dossier, dossier_id)
        if dossier is None:
            return
        session.add(CheckRun(dossier_id=dossier_id, revision=dossier.revision, pipeline_version=PIPELINE_VERSION,
                             state="failed", error=reason[:500], finished_at=utcnow()))
        move_dossier(dossier, DossierStatus.FAILED)
        _settle_outbox(session, "check_dossier", dossier_id=dossier_id)
        audit(session, "check_failed", dossier_id, error=reason[:200])


def wait_for_check(dossier_id: int, timeout: float, poll: float = 0.02) -> CheckRun | None:
    """Wait until the dossier's current revision has a finished check (done or failed)."""
    deadline = time.monotonic() + timeout
    while True:
        with session_scope() as session:
            dossier = session.get(Dossier, dossier_id)
            run = session.scalar(select(CheckRun).where(CheckRun.dossier_id == dossier_id)
                                 .order_by(CheckRun.id.desc()).limit(1))
            if dossier is not None and run is not None and run.revision == dossier.revision:
                return run
        if time.monotonic() > deadline:
            return None
        time.sleep(poll)
        poll = min(poll * 1.5, 0.05)


def upload_files(dossier_id: int, paths: list[Path]) -> list[int]:
    ids = []
    for path in paths:
        try:
            handle = open(path, "rb")
        except OSError:
            ids.append(add_upload(dossier_id, path.name, _EmptyStream()))
            continue
        with handle:
            ids.append(add_upload(dossier_id, path.name, handle))
    return ids


class _EmptyStream:
    def read(self, _n: int = -1) -> bytes:
        return b""
