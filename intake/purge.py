"""`intake purge`: forget the personal data of closed dossiers, keep anonymous statistics.

A dossier is purgeable when it was closed (resolved by a reviewer, or submitted) before the cutoff;
dossiers checked once from the command line (`intake check`) count as closed when checked. Purging
deletes the stored files that no other kept dossier uses, and blanks every personal field: declared
identity, fields read from pieces, file names, finding messages and the stored JSON results. What stays:
the procedure, categories, verdicts, piece kinds, finding codes and timings.
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import datetime, timedelta, timezone

from sqlalchemy import or_, select

from intake.db import session_scope
from models import CheckRun, Dossier, FindingRow, Upload

#: Declared data that identifies nobody and serves statistics.
KEPT_DECLARED = ("procedure", "motif", "categories", "training", "situation")
PURGED = "(effacé)"


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


def purgeable(session, cutoff: datetime) -> list[int]:
    query = select(Dossier.id).where(
        Dossier.purged_at.is_(None),
        or_(Dossier.closed_at < cutoff, (Dossier.source == "cli") & (Dossier.created_at < cutoff)),
    ).order_by(Dossier.id)
    return list(session.scalars(query))


def purge_dossier(session, dossier: Dossier) -> set[str]:
    """Blank one dossier's personal data; return the sha256 of its files."""
    shas = set()
    declared = dossier.declared or {}
    dossier.declared = {k: declared.get(k) for k in KEPT_DECLARED if k in declared}
    dossier.reference = f"purged-{dossier.id}"
    for upload in dossier.uploads:
        if upload.sha256:
            shas.add(upload.sha256)
        upload.original_name = f"piece-{upload.id}"
        upload.file_findings = [{"code": f.get("code"), "severity": f.get("severity")}
                                for f in upload.file_findings or []]
        upload.error = None
        for piece in upload.pieces:
            piece.fields = {}
            piece.evidence = {}
    for finding in session.scalars(select(FindingRow).where(FindingRow.dossier_id == dossier.id)):
        finding.message = PURGED
        finding.file = None
        finding.details = {}
        finding.note = PURGED if finding.note else None
    for run in session.scalars(select(CheckRun).where(CheckRun.dossier_id == dossier.id)):
        run.result = anonymous_result(run.result or {})
        run.error = None
    dossier.purged_at = datetime.now(timezone.utc)
    return shas


def purge(older_than: timedelta, dry_run: bool = False) -> tuple[int, int]:
    """Purge every purgeable dossier; return (dossiers purged, files deleted)."""
    from intake.jobs import audit, store

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
    return len(ids), files_deleted


def cmd_purge(args: argparse.Namespace) -> int:
    from intake.service import prepare_database

    prepare_database()
    count, files = purge(args.older_than, dry_run=args.dry_run)
    verb = "seraient purgés" if args.dry_run else "purgés"
    print(f"{count} dossier(s) {verb}, {files} fichier(s) supprimé(s)", file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("purge", help="effacer les fichiers et données personnelles des dossiers clos")
    p.add_argument("--older-than", type=parse_age, required=True, metavar="DURÉE",
                   help="clos depuis plus de DURÉE (ex. 90d)")
    p.add_argument("--dry-run", action="store_true", help="compter sans rien effacer")
    p.set_defaults(func=cmd_purge)
