"""Closing dossiers and `intake purge`: erase the personal data of closed dossiers, keep anonymous figures.

A dossier is closed with a reason and a date (`closed_reason`, `closed_at`): `submitted` (sent to
ANTS) or `abandoned` by the school (`POST /api/v1/dossiers/{id}/close`, `intake close`), or
`expired` when nothing happened to it for INTAKE_CLOSE_IDLE_AFTER_DAYS (closed by `intake purge`
itself, before it selects). Dossiers checked once from the command line (`intake check`) count as
closed when created. A closed dossier that receives a new file is open again.

Purging a dossier closed before the cutoff deletes: its stored files (unless a kept dossier has the
same bytes), their page previews, the pieces read from them (fields, evidence), its finding rows
(messages, reviewers' notes), the details of its audit events that could carry personal data (notes,
messages, file hashes), its outbox rows; and blanks the declared identity, the reference and the
file names. What stays, without anything that identifies a person: the dossier row (school,
procedure, motif, categories, verdict, dates of creation, closing and purge, closing reason), each
upload's size, type, page count and timings, each check run's verdict, piece kinds and finding
codes, and the audit trail (who did what, when). Temporary files older than an hour under the data
folder's `tmp/`, and stored files that no upload row names (a web process killed mid-upload), go too.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import delete, or_, select, update

from intake.db import session_scope
from models import AuditEvent, CheckRun, Dossier, FindingRow, OutboxMessage, Piece, Upload

#: Declared data that identifies nobody and serves statistics.
KEPT_DECLARED = ("procedure", "motif", "categories", "training", "situation")
PURGED = "(effacé)"
CLOSE_REASONS = ("submitted", "abandoned", "expired")
#: Audit details kept after a purge: ids, codes, states, sizes; never notes, messages or hashes.
KEPT_AUDIT_DETAILS = ("source", "status", "previous", "trigger", "pipeline_version", "upload_id", "size", "kinds",
                      "fields", "finding_id", "code", "error", "role", "reason")
#: Temporary and orphan files older than this are removed by a purge.
STALE_FILE_S = 3600


class CloseError(ValueError):
    """The dossier cannot be closed as asked; the message is French."""


def close_dossier(dossier_id: int, reason: str, actor: str = "system", user_id: int | None = None) -> bool:
    """Close a dossier (submitted, abandoned, expired); False when it was already closed."""
    from intake.units import audit

    if reason not in CLOSE_REASONS:
        raise CloseError(f"motif de clôture inconnu {reason!r} (attendu : {', '.join(CLOSE_REASONS)})")
    with session_scope() as session:
        dossier = session.get(Dossier, dossier_id)
        if dossier is None or dossier.purged_at is not None:
            raise CloseError("dossier introuvable")
        if dossier.closed_at is not None:
            return False
        dossier.closed_at = datetime.now(timezone.utc)
        dossier.closed_reason = reason
        audit(session, "dossier_closed", dossier_id, actor=actor, user_id=user_id, reason=reason)
        return True


def close_idle(idle_for: timedelta, now: datetime | None = None) -> int:
    """Close as `expired` the open dossiers nothing happened to for `idle_for`; return how many."""
    from intake.units import audit

    now = now or datetime.now(timezone.utc)
    with session_scope() as session:
        ids = list(session.scalars(select(Dossier.id).where(
            Dossier.closed_at.is_(None), Dossier.purged_at.is_(None), Dossier.updated_at < now - idle_for)))
        if ids:
            session.execute(update(Dossier).where(Dossier.id.in_(ids))
                            .values(closed_at=now, closed_reason="expired")
                            .execution_options(synchronize_session=False))
            for dossier_id in ids:
                audit(session, "dossier_closed", dossier_id, reason="expired")
    return len(ids)


def parse_age(text: str) -> timedelta:
    match = re.fullmatch(r"\s*(\d+)\s*([dhw]?)\s*", text or "")
    if not match:
        raise argparse.ArgumentTypeError("durée attendue comme 90d, 12w ou 48h")
    value, unit = int(match.group(1)), match.group(2) or "d"
    return {"d": timedelta(days=value), "h": timedelta(hours=value), "w": timedelta(weeks=value)}[unit]


def anonymous_result(result: dict) -> dict:
    """A check result without anything that could identify a person."""
    return {
        "status": result.get("status"),
        "pieces": [{"kind": p.get("kind"), "holder": p.get("holder"), "confidence": p.get("confidence")}
                   for p in result.get("pieces") or []],
        "findings": [{"code": f.get("code"), "severity": f.get("severity"), "requirement": f.get("requirement")}
                     for f in result.get("findings") or []],
    }


def purge_dossier(session, dossier: Dossier) -> set[str]:
    """Erase one dossier's personal data (see the module docstring); return the sha256 of its files."""
    shas = set()
    declared = dossier.declared or {}
    dossier.declared = {k: declared.get(k) for k in KEPT_DECLARED if k in declared}
    dossier.reference = f"purged-{dossier.id}"
    dossier.idempotency_key = None
    upload_ids = []
    for upload in dossier.uploads:
        upload_ids.append(upload.id)
        if upload.sha256:
            shas.add(upload.sha256)
        upload.sha256 = None
        upload.original_name = f"piece-{upload.id}"
        upload.file_findings = [{"code": f.get("code"), "severity": f.get("severity")}
                                for f in upload.file_findings or []]
        upload.error = None
        upload.idempotency_key = None
    if upload_ids:
        session.execute(delete(Piece).where(Piece.upload_id.in_(upload_ids)))
    session.execute(delete(FindingRow).where(FindingRow.dossier_id == dossier.id))
    session.execute(delete(OutboxMessage).where(OutboxMessage.dossier_id == dossier.id))
    for run in session.scalars(select(CheckRun).where(CheckRun.dossier_id == dossier.id)):
        run.result = anonymous_result(run.result or {})
        run.error = None
    for event in session.scalars(select(AuditEvent).where(AuditEvent.dossier_id == dossier.id)):
        details = event.details or {}
        kept = {k: v for k, v in details.items() if k in KEPT_AUDIT_DETAILS}
        if kept != details:
            event.details = kept
    dossier.purged_at = datetime.now(timezone.utc)
    session.expire(dossier, ["uploads", "findings"])
    return shas


def purgeable(session, cutoff: datetime) -> list[int]:
    query = select(Dossier.id).where(
        Dossier.purged_at.is_(None),
        or_(Dossier.closed_at < cutoff, (Dossier.source == "cli") & (Dossier.created_at < cutoff)),
    ).order_by(Dossier.id)
    return list(session.scalars(query))


def delete_previews(data_dir: Path, sha: str) -> int:
    """The cached page images of one stored file (every page and width)."""
    count = 0
    for path in (data_dir / "previews" / sha[:2]).glob(f"{sha}-*.png"):
        path.unlink(missing_ok=True)
        count += 1
    return count


def remove_stale_files(data_dir: Path, now: float | None = None) -> int:
    """Temporary files older than an hour (what a killed process left), and stored files no upload
    row names (a web process killed between storing a file and committing its row)."""
    now = now or time.time()
    removed = 0
    tmp = data_dir / "tmp"
    if tmp.is_dir():
        for path in sorted(tmp.rglob("*"), reverse=True):
            try:
                if path.is_file() and now - path.stat().st_mtime > STALE_FILE_S:
                    path.unlink()
                    removed += 1
                elif path.is_dir() and path.parent != tmp and not any(path.iterdir()) \
                        and now - path.stat().st_mtime > STALE_FILE_S:
                    path.rmdir()
            except OSError:
                continue
    from intake.units import store

    files = store().root
    if files.is_dir():
        candidates = {}
        for path in files.glob("*/*/*"):
            try:
                if path.is_file() and now - path.stat().st_mtime > STALE_FILE_S:
                    candidates[path.name] = path
            except OSError:
                continue
        for path in files.glob(".upload-*"):  # a stream cut mid-way
            try:
                if now - path.stat().st_mtime > STALE_FILE_S:
                    path.unlink()
                    removed += 1
            except OSError:
                continue
        names = list(candidates)
        for start in range(0, len(names), 500):
            chunk = names[start:start + 500]
            with session_scope() as session:
                known = set(session.scalars(select(Upload.sha256).where(Upload.sha256.in_(chunk))))
            for name in chunk:
                if name not in known:
                    candidates[name].unlink(missing_ok=True)
                    removed += 1
    return removed


def purge(older_than: timedelta, dry_run: bool = False, close_idle_after: timedelta | None = None) -> tuple[int, int]:
    """Close idle dossiers, then purge every purgeable one; return (dossiers purged, files deleted)."""
    from intake.units import audit, store
    from intake.settings import get_settings

    settings = get_settings()
    if close_idle_after is None:
        close_idle_after = timedelta(days=settings.close_idle_after_days)
    if not dry_run:
        close_idle(close_idle_after)
    cutoff = datetime.now(timezone.utc) - older_than
    with session_scope() as session:
        ids = purgeable(session, cutoff)
    if dry_run:
        return len(ids), 0
    files_deleted = 0
    file_store = store()
    for dossier_id in ids:
        with session_scope() as session:
            dossier = session.get(Dossier, dossier_id)
            if dossier is None or dossier.purged_at is not None:
                continue
            shas = purge_dossier(session, dossier)
            audit(session, "dossier_purged", dossier_id)
            session.flush()
            still_used = set(session.scalars(
                select(Upload.sha256).join(Dossier).where(Upload.sha256.in_(shas), Dossier.purged_at.is_(None))))
        for sha in shas - still_used:
            if file_store.delete(sha):
                files_deleted += 1
            delete_previews(settings.data_dir, sha)
    remove_stale_files(settings.data_dir)
    forget_old_sessions()
    return len(ids), files_deleted


def forget_old_sessions(older_than: timedelta = timedelta(days=2)) -> int:
    """Browser sessions past any cookie's life (12 h): their rows serve nothing any more."""
    from models import WebSession

    with session_scope() as session:
        done = session.execute(delete(WebSession).where(
            WebSession.created_at < datetime.now(timezone.utc) - older_than))
        return done.rowcount or 0


def cmd_purge(args: argparse.Namespace) -> int:
    from intake.service import prepare_database

    prepare_database()
    count, files = purge(args.older_than, dry_run=args.dry_run)
    verb = "seraient purgés" if args.dry_run else "purgés"
    print(f"{count} dossier(s) {verb}, {files} fichier(s) supprimé(s)", file=sys.stderr)
    return 0


def cmd_close(args: argparse.Namespace) -> int:
    from intake.service import prepare_database

    prepare_database()
    code = 0
    for dossier_id in args.ids:
        try:
            closed = close_dossier(dossier_id, args.reason, actor="cli")
        except CloseError as exc:
            print(f"intake close : dossier {dossier_id} : {exc}", file=sys.stderr)
            code = 2
            continue
        print(f"dossier {dossier_id} : {'clos' if closed else 'déjà clos'}")
    return code


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("purge", help="effacer les fichiers et données personnelles des dossiers clos")
    p.add_argument("--older-than", type=parse_age, required=True, metavar="DURÉE",
                   help="clos depuis plus de DURÉE (ex. 90d)")
    p.add_argument("--dry-run", action="store_true", help="compter sans rien effacer")
    p.set_defaults(func=cmd_purge)

    p = sub.add_parser("close", help="clore des dossiers (déposés à l'ANTS ou abandonnés)")
    p.add_argument("ids", nargs="+", type=int, metavar="ID")
    p.add_argument("--reason", choices=["submitted", "abandoned"], required=True,
                   help="submitted : déposé à l'ANTS ; abandoned : abandonné")
    p.set_defaults(func=cmd_close)
