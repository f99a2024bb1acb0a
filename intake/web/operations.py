"""What users do to dossiers, whatever the door (pages or JSON API): see, claim, decide, ask.

Each function is one unit of work on the database and writes its audit event in the same
transaction. Permissions are checked here, not in the routes, so that the pages and the API can
never disagree: a school user sees only its school's dossiers (anything else is "not found"), and
only the reviewer holding a dossier's claim may decide on it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from intake import errors, state, units
from intake.db import session_scope
from intake.settings import get_settings
from intake.state import DossierStatus, FindingState, move_dossier, status_from_open_rows
from intake.web.auth import Account
from models import AuditEvent, CheckRun, Dossier, FindingRow, Upload, User, utcnow

log = logging.getLogger(__name__)

QUEUE_SEVERITIES = ("blocking", "review")
SETTLED_STATUSES = ("complete", "incomplete", "needs_review")
MAX_NOTE = 2000


class OperationError(errors.IntakeError):
    """An action refused; `message` is French for the user, the HTTP status comes from intake.errors."""

    @property
    def status(self) -> int:
        return errors.http_status(self)


class NotFound(OperationError, errors.NotFound):
    pass


class Forbidden(OperationError, errors.Forbidden):
    pass


class Conflict(OperationError, errors.Conflict):
    pass


class Invalid(OperationError, errors.InputError):
    pass


# --- access ------------------------------------------------------------------------------------


def _visible(session: Session, account: Account, dossier_id: int, lock: bool = False) -> Dossier:
    if lock:
        # A no-op write takes the lock first: SQLite ignores FOR UPDATE, and a check finishing
        # between our read and our write must not be overwritten.
        session.execute(update(Dossier).where(Dossier.id == dossier_id).values(id=Dossier.id)
                        .execution_options(synchronize_session=False))
    dossier = session.get(Dossier, dossier_id, with_for_update=lock)
    if dossier is None or dossier.purged_at is not None or not account.can_see(dossier.school):
        raise NotFound("Dossier introuvable.")
    return dossier


def _require_reviewer(account: Account) -> None:
    if not account.is_reviewer:
        raise Forbidden("Action réservée aux vérificateurs.")


def _require_uploader(account: Account) -> None:
    if account.role not in ("school", "admin"):
        raise Forbidden("Seules les auto-écoles déposent des dossiers et des pièces.")


def _clean_text(text: str | None, what: str, required: bool) -> str:
    text = (text or "").strip()
    if required and not text:
        raise Invalid(f"{what} est obligatoire.")
    if len(text) > MAX_NOTE:
        raise Invalid(f"{what} est trop long (au plus {MAX_NOTE} caractères).")
    return text


# --- dossiers and uploads ----------------------------------------------------------------------


def create_dossier(account: Account, declared_json: dict, source: str = "web",
                   idempotency_key: str | None = None) -> int:
    """Validate the declared data (DossierError names the field) and create the dossier (the same
    one again for a retried `idempotency_key`)."""
    from intake.dossier import parse_declared
    from intake.web.forms import check_contact
    from intake.web.labels import today_paris

    _require_uploader(account)
    declared = parse_declared(declared_json)
    check_contact(declared.to_json(), today_paris())
    school = account.school or "local"
    dossier_id = units.create_dossier(declared, school=school, source=source, actor=account.username,
                                      user_id=account.id, idempotency_key=idempotency_key)
    # Checked at once: the school sees straight away which pieces the dossier needs.
    dispatch(dossier_id, [])
    return dossier_id


def check_can_upload(account: Account, dossier_id: int, replaces: int | None = None) -> None:
    """Raise unless this user may add a file to this dossier (and replace that upload)."""
    _require_uploader(account)
    with session_scope() as session:
        _visible(session, account, dossier_id)
        if replaces is not None:
            old = session.get(Upload, replaces)
            if old is None or old.dossier_id != dossier_id:
                raise NotFound("Pièce introuvable.")
            if old.state == "replaced":
                raise Conflict("Cette pièce a déjà été remplacée.")


def add_files(account: Account, dossier_id: int, files: list[tuple[str, BinaryIO]],
              replaces: int | None = None, idempotency_key: str | None = None) -> list[int]:
    """Store the files (streamed, within the byte limit) and send them to be read; a retried
    `idempotency_key` gives the first request's uploads back (file i is `<key>#i`)."""
    check_can_upload(account, dossier_id, replaces)
    if not files:
        raise Invalid("Aucun fichier reçu.")
    settings = get_settings()
    with session_scope() as session:
        current = session.scalar(select(func.count()).select_from(Upload).where(
            Upload.dossier_id == dossier_id, Upload.state != "replaced"))
    if replaces is None and current + len(files) > settings.max_dossier_files:
        raise Invalid(f"Trop de fichiers pour un dossier (au plus {settings.max_dossier_files}).")
    if replaces is not None and len(files) != 1:
        raise Invalid("Un remplacement se fait avec un seul fichier.")
    ids = [units.add_upload(dossier_id, name, stream, replaces=replaces, actor=account.username,
                            user_id=account.id, idempotency_key=f"{idempotency_key}#{i}" if idempotency_key else None)
           for i, (name, stream) in enumerate(files)]
    dispatch(dossier_id, ids)
    return ids


def dispatch(dossier_id: int, upload_ids: list[int]) -> None:
    """Send what the outbox holds for the dossier (the new uploads' reads, else its check).

    A broker briefly away leaves them in the outbox for the worker's sweeper: never an error here.
    """
    from intake.workers.outbox import send_pending

    send_pending(dossier_id)


def _bump(session: Session, dossier_id: int) -> None:
    """A new revision, status pending: a check of the older state is no longer taken as current."""
    session.execute(update(Dossier).where(Dossier.id == dossier_id)
                    .values(revision=Dossier.revision + 1, status=DossierStatus.PENDING.value)
                    .execution_options(synchronize_session=False))


def _recheck(dossier_id: int) -> None:
    """Send the check written in the outbox by the transaction just committed (the sweeper of
    `intake worker` sends it later if the broker is away)."""
    from intake.workers.outbox import send_pending

    send_pending(dossier_id)


def delete_upload(account: Account, dossier_id: int, upload_id: int) -> None:
    """Remove an upload from the dossier (the pieces read in it and their findings), then check the
    dossier again. The journal keeps what kind of piece it was, never its content."""
    _require_uploader(account)
    with session_scope() as session:
        _visible(session, account, dossier_id, lock=True)
        upload = session.get(Upload, upload_id)
        if upload is None or upload.dossier_id != dossier_id or upload.state == "replaced":
            raise NotFound("Pièce introuvable : elle a peut-être déjà été supprimée.")
        kinds = sorted({p.kind for p in upload.pieces})
        size = upload.size
        session.execute(delete(FindingRow).where(FindingRow.dossier_id == dossier_id,
                                                 FindingRow.file == upload.original_name))
        session.delete(upload)
        session.flush()
        _bump(session, dossier_id)
        units.audit(session, "upload_deleted", dossier_id, actor=account.username, user_id=account.id,
                   upload_id=upload_id, kinds=kinds, size=size)
        units.outbox(session, "check_dossier", dossier_id, dossier_id, "delete")
    _recheck(dossier_id)


def update_declared(account: Account, dossier_id: int, declared_json: dict) -> list[str]:
    """Correct the declared data (validated as at creation), then check the dossier again.

    Returns the paths of the fields that changed (empty: nothing to do, no new check). The journal
    names the fields corrected, not their values.
    """
    from intake.dossier import parse_declared
    from intake.web.forms import changed_fields, check_contact
    from intake.web.labels import today_paris

    _require_uploader(account)
    declared = parse_declared(declared_json)
    new = declared.to_json()
    check_contact(new, today_paris())
    with session_scope() as session:
        dossier = _visible(session, account, dossier_id, lock=True)
        changed = changed_fields(dossier.declared or {}, new)
        if not changed:
            return []
        dossier.declared = new
        dossier.reference = declared.reference
        dossier.reference_date = declared.reference_date
        session.flush()
        _bump(session, dossier_id)
        units.audit(session, "declared_edited", dossier_id, actor=account.username, user_id=account.id,
                   fields=changed)
        units.outbox(session, "check_dossier", dossier_id, dossier_id, "edit")
    _recheck(dossier_id)
    return changed


def duplicate_references(account: Account, reference: str, exclude_id: int | None = None) -> list[int]:
    """Ids of this school's other dossiers with the same reference (a warning, not a refusal)."""
    with session_scope() as session:
        query = select(Dossier.id).where(Dossier.reference == reference.strip(), Dossier.purged_at.is_(None),
                                         Dossier.school == (account.school or "local"))
        if exclude_id is not None:
            query = query.where(Dossier.id != exclude_id)
        return list(session.scalars(query.order_by(Dossier.id)))


# --- reading ---------------------------------------------------------------------------------


@dataclass
class DossierSummary:
    id: int
    reference: str
    school: str
    status: str
    created_at: datetime
    updated_at: datetime | None
    claimed_by: str | None
    open_codes: list[str] = field(default_factory=list)
    #: The candidate's name as declared ("DUPONT Jean Pierre").
    candidate: str = ""
    #: Open findings that need someone (blocking or review), counted one by one.
    open_findings: int = 0
    #: What the lists show: status, or waiting (no piece yet) or requested (a reviewer asked for a piece).
    shown_status: str = ""
    #: The next move is the viewer's: the school must upload or correct, or the reviewer must decide.
    action_required: bool = False
    uploads: int = 0


def candidate_name(declared: dict | None) -> str:
    applicant = (declared or {}).get("applicant") or {}
    surname = str(applicant.get("surname") or "").upper()
    given = applicant.get("given_names") or []
    if isinstance(given, str):
        given = [given]
    return " ".join([surname] + [str(g) for g in given]).strip()


def shown_status(status: str, uploads: int, requested: bool) -> str:
    """The status a person is shown: a dossier being read says so; one with no piece is waiting for
    its pieces (not "incomplete"); one with a reviewer's request unanswered says a piece is asked for."""
    if status in ("pending", "failed"):
        return status
    if requested:
        return "requested"
    if uploads == 0:
        return "waiting"
    return status


SCHOOL_ACTION = ("waiting", "requested", "incomplete")
DISPLAY_ONLY = ("waiting", "requested")


def list_dossiers(account: Account, *, status: str | None = None, school: str | None = None,
                  code: str | None = None, queue: bool = False, limit: int = 500,
                  search: str | None = None, action: bool = False,
                  by_shown: bool = False) -> list[DossierSummary]:
    """Dossiers this user may see, newest first; with `queue`, those waiting for a reviewer, oldest first.

    The queue holds dossiers with an open `review` or `blocking` finding, and those whose check failed.
    `status` may be a shown status (waiting, requested); `search` matches the reference or the
    candidate's name (accents and case ignored); `action` keeps those whose next move is the viewer's.
    With `by_shown`, `status` is compared with the shown status (the pages' filter: "Incomplet" then
    leaves out a dossier still waiting for its pieces).
    """
    from intake.icao import fold

    if queue:
        _require_reviewer(account)
    needle = fold(search or "").strip()
    with session_scope() as session:
        query = select(Dossier, User.username).outerjoin(User, User.id == Dossier.claimed_by).where(
            Dossier.purged_at.is_(None))
        if not account.is_reviewer:
            query = query.where(Dossier.school == (account.school or "\x00"))
        if status and status not in DISPLAY_ONLY:
            query = query.where(Dossier.status == status)
        if school:
            query = query.where(Dossier.school == school)
        open_finding = and_(FindingRow.dossier_id == Dossier.id, FindingRow.state == "open")
        if code:
            query = query.where(exists().where(open_finding, FindingRow.code == code))
        if queue:
            query = query.where(or_(
                exists().where(open_finding, FindingRow.severity.in_(QUEUE_SEVERITIES)),
                Dossier.status == "failed"))
            query = query.order_by(Dossier.created_at.asc(), Dossier.id.asc())
        else:
            query = query.order_by(Dossier.created_at.desc(), Dossier.id.desc())
        # Filters computed in Python (name, shown status) look further than `limit` rows.
        filtered = bool(needle or action or status in DISPLAY_ONLY or (status and by_shown))
        rows = session.execute(query.limit(limit * 10 if filtered else limit)).all()
        ids = [d.id for d, _ in rows]
        codes: dict[int, list[str]] = {i: [] for i in ids}
        counts: dict[int, int] = dict.fromkeys(ids, 0)
        uploads: dict[int, int] = dict.fromkeys(ids, 0)
        last_upload: dict[int, datetime] = {}
        last_request: dict[int, datetime] = {}
        if ids:
            for dossier_id, finding_code in session.execute(
                    select(FindingRow.dossier_id, FindingRow.code).where(
                        FindingRow.dossier_id.in_(ids), FindingRow.state == "open",
                        FindingRow.severity.in_(QUEUE_SEVERITIES)).order_by(FindingRow.position)):
                counts[dossier_id] += 1
                if finding_code not in codes[dossier_id]:
                    codes[dossier_id].append(finding_code)
            for dossier_id, upload_state, n, latest in session.execute(
                    select(Upload.dossier_id, Upload.state, func.count(), func.max(Upload.uploaded_at))
                    .where(Upload.dossier_id.in_(ids)).group_by(Upload.dossier_id, Upload.state)):
                if upload_state != "replaced":
                    uploads[dossier_id] += n
                if latest is not None and (dossier_id not in last_upload
                                           or _aware(latest) > _aware(last_upload[dossier_id])):
                    last_upload[dossier_id] = latest
            for dossier_id, latest in session.execute(
                    select(AuditEvent.dossier_id, func.max(AuditEvent.at)).where(
                        AuditEvent.dossier_id.in_(ids), AuditEvent.action == "piece_requested")
                    .group_by(AuditEvent.dossier_id)):
                last_request[dossier_id] = latest
        out = []
        for d, claimer in rows:
            requested = d.id in last_request and (
                d.id not in last_upload or _aware(last_request[d.id]) > _aware(last_upload[d.id]))
            shown = shown_status(d.status, uploads[d.id], requested)
            if account.is_reviewer:
                needs_me = (counts[d.id] > 0 or d.status == "failed") and shown not in ("pending", "requested") \
                    and claimer in (None, account.username)
            else:
                needs_me = shown in SCHOOL_ACTION
            summary = DossierSummary(d.id, d.reference, d.school, d.status, d.created_at, d.updated_at, claimer,
                                     codes[d.id], candidate_name(d.declared), counts[d.id], shown, needs_me,
                                     uploads[d.id])
            if needle and needle not in fold(summary.reference) and needle not in fold(summary.candidate):
                continue
            if status and (status in DISPLAY_ONLY or by_shown) and shown != status:
                continue
            if action and not needs_me:
                continue
            out.append(summary)
        return out[:limit]


def schools() -> list[str]:
    with session_scope() as session:
        return sorted(s for s in session.scalars(select(Dossier.school).distinct()) if s)


def open_codes() -> list[str]:
    with session_scope() as session:
        return sorted(session.scalars(select(FindingRow.code).where(FindingRow.state == "open").distinct()))


def dossier_detail(account: Account, dossier_id: int) -> dict[str, Any]:
    """Everything a page or the API shows about one dossier, as plain data."""
    with session_scope() as session:
        dossier = _visible(session, account, dossier_id)
        claimer = session.get(User, dossier.claimed_by) if dossier.claimed_by else None
        run = session.scalar(select(CheckRun).where(CheckRun.dossier_id == dossier_id)
                             .order_by(CheckRun.id.desc()).limit(1))
        uploads = []
        for upload in dossier.uploads:
            shown, reason = _upload_shown(upload)
            uploads.append({
                "id": upload.id, "name": upload.original_name, "state": upload.state, "size": upload.size,
                "media_type": upload.media_type, "page_count": upload.page_count,
                "uploaded_at": _iso(upload.uploaded_at), "replaces_id": upload.replaces_id,
                "findings": list(upload.file_findings or []), "shown_state": shown, "reason": reason,
                "pieces": [{"id": p.id, "page": p.page, "pages": list(p.pages or [p.page]), "kind": p.kind,
                            "holder": p.holder, "confidence": round(p.confidence, 3), "fields": dict(p.fields or {}),
                            "evidence": _evidence(p.evidence)}
                           for p in upload.pieces],
            })
        deciders = _usernames(session, {f.decided_by for f in dossier.findings if f.decided_by})
        findings = [{
            "id": f.id, "code": f.code, "severity": f.severity, "requirement": f.requirement, "file": f.file,
            "page": f.page, "message": f.message, "state": f.state, "note": f.note,
            "decided_by": deciders.get(f.decided_by), "decided_at": _iso(f.decided_at),
        } for f in dossier.findings]
        events = session.execute(
            select(AuditEvent, User.username).outerjoin(User, User.id == AuditEvent.user_id)
            .where(AuditEvent.dossier_id == dossier_id).order_by(AuditEvent.at, AuditEvent.id)).all()
        audit_trail = [{"at": _iso(e.at), "actor": name or e.actor, "action": e.action,
                        "details": _public_details(e.details)} for e, name in events]
        last_upload = max((u.uploaded_at for u in dossier.uploads), default=None)
        requests = [{
            "at": _iso(e.at), "by": name or e.actor, "message": (e.details or {}).get("message", ""),
            "finding_id": (e.details or {}).get("finding_id"),
            "open": last_upload is None or _aware(e.at) > _aware(last_upload),
        } for e, name in events if e.action == "piece_requested"]
        current_run = run is not None and run.revision == dossier.revision and dossier.status != "pending"
        same_reference = [{"id": i, "created_at": _iso(at)} for i, at in session.execute(
            select(Dossier.id, Dossier.created_at).where(
                Dossier.school == dossier.school, Dossier.reference == dossier.reference,
                Dossier.id != dossier.id, Dossier.purged_at.is_(None)).order_by(Dossier.id))]
        current_uploads = sum(1 for u in dossier.uploads if u.state != "replaced")
        shown = shown_status(dossier.status, current_uploads, any(r["open"] for r in requests))
        open_findings = sum(1 for f in findings if f["state"] == "open" and f["severity"] in QUEUE_SEVERITIES)
        return {
            "id": dossier.id, "reference": dossier.reference, "school": dossier.school, "status": dossier.status,
            "shown_status": shown, "candidate": candidate_name(dossier.declared), "open_findings": open_findings,
            "same_reference": same_reference,
            "revision": dossier.revision, "created_at": _iso(dossier.created_at),
            "checked_at": _iso(dossier.checked_at), "declared": dossier.declared,
            "claimed_by": claimer.username if claimer else None, "claimed_at": _iso(dossier.claimed_at),
            "uploads": uploads, "findings": findings, "requests": requests,
            "result": run.result if current_run and run.state == "done" else None,
            "audit": audit_trail if account.is_reviewer else None,
        }


def _upload_shown(upload: Upload) -> tuple[str, str | None]:
    """What the school is shown for a file: being read, read, unreadable (with why), or nothing found."""
    if upload.state in ("pending", "replaced"):
        return upload.state, None
    for finding in upload.file_findings or []:
        if isinstance(finding, dict) and finding.get("code") in ("unsupported_file", "unreadable_piece",
                                                                 "check_failed"):
            return "unreadable", str(finding.get("message") or "")
    if upload.state == "failed":
        return "unreadable", "La lecture de ce fichier a échoué ; un vérificateur l'examinera."
    if not upload.pieces:
        return "empty", None
    return "done", None


def _evidence(evidence: dict | None) -> dict[str, Any]:
    """The part of a piece's evidence the pages use: each field's place, and the pages' frames."""
    evidence = evidence if isinstance(evidence, dict) else {}
    fields = evidence.get("fields")
    frames = evidence.get("frames")
    return {"fields": fields if isinstance(fields, dict) else {},
            "frames": frames if isinstance(frames, dict) else {}}


def dossier_state(account: Account, dossier_id: int) -> dict[str, Any]:
    """The small answer polled by pages and programs: status, and how far the reading is."""
    with session_scope() as session:
        dossier = _visible(session, account, dossier_id)
        states = session.execute(select(Upload.state, func.count()).where(
            Upload.dossier_id == dossier_id).group_by(Upload.state)).all()
        counts = {upload_state: n for upload_state, n in states}
        findings = session.scalar(select(func.count()).select_from(FindingRow).where(
            FindingRow.dossier_id == dossier_id))
        return {
            "id": dossier.id, "status": dossier.status, "revision": dossier.revision,
            "checked_at": _iso(dossier.checked_at), "uploads_pending": counts.get("pending", 0),
            "uploads_read": counts.get("done", 0) + counts.get("failed", 0), "findings": findings,
            "settled": dossier.status != "pending",
            "signature": f"{dossier.revision}:{dossier.status}:{_iso(dossier.checked_at)}:"
                         f"{counts.get('pending', 0)}:{findings}:{_iso(dossier.updated_at)}",
        }


def upload_file_path(account: Account, upload_id: int) -> tuple[Path, str, str]:
    """(stored path, sha256, original name) of an upload this user may see."""
    with session_scope() as session:
        upload = session.get(Upload, upload_id)
        if upload is None:
            raise NotFound("Pièce introuvable.")
        _visible(session, account, upload.dossier_id)
        if not upload.sha256:
            raise NotFound("Ce fichier n'a pas été conservé.")
        return units.store().path_for(upload.sha256), upload.sha256, upload.original_name


def _usernames(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.username).where(User.id.in_(ids))).all())


#: Audit details that may be shown: never personal data, which the audit does not hold anyway.
_PUBLIC_DETAILS = ("source", "status", "trigger", "upload_id", "finding_id", "code", "note", "message", "size",
                   "previous", "error", "kinds", "fields")


def _public_details(details: dict | None) -> dict:
    return {k: v for k, v in (details or {}).items() if k in _PUBLIC_DETAILS}


def _iso(value: datetime | None) -> str | None:
    return _aware(value).isoformat(timespec="seconds") if value else None


def _aware(value: datetime) -> datetime:
    from datetime import timezone

    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


# --- the reviewer's actions --------------------------------------------------------------------


def claim(account: Account, dossier_id: int) -> None:
    """Take the dossier for review: atomic, so two reviewers never both get it."""
    _require_reviewer(account)
    with session_scope() as session:
        _visible(session, account, dossier_id)
        result = session.execute(update(Dossier).where(Dossier.id == dossier_id, Dossier.claimed_by.is_(None))
                                 .values(claimed_by=account.id, claimed_at=utcnow())
                                 .execution_options(synchronize_session=False))
        if result.rowcount != 1:
            holder = session.scalar(select(User.username).join(Dossier, Dossier.claimed_by == User.id)
                                    .where(Dossier.id == dossier_id))
            if holder == account.username:
                return
            raise Conflict(f"Ce dossier est déjà pris en charge par {holder or 'un autre vérificateur'}.")
        units.audit(session, "dossier_claimed", dossier_id, actor=account.username, user_id=account.id)


def release(account: Account, dossier_id: int) -> None:
    """Give the dossier back to the queue (its holder, or an administrator)."""
    _require_reviewer(account)
    with session_scope() as session:
        dossier = _visible(session, account, dossier_id, lock=True)
        if dossier.claimed_by is None:
            return
        if dossier.claimed_by != account.id and account.role != "admin":
            raise Conflict("Ce dossier est pris en charge par un autre vérificateur.")
        session.execute(update(Dossier).where(Dossier.id == dossier_id, Dossier.claimed_by == dossier.claimed_by)
                        .values(claimed_by=None, claimed_at=None).execution_options(synchronize_session=False))
        units.audit(session, "dossier_released", dossier_id, actor=account.username, user_id=account.id)


def _held(session: Session, account: Account, dossier_id: int) -> Dossier:
    _require_reviewer(account)
    dossier = _visible(session, account, dossier_id, lock=True)
    if dossier.claimed_by != account.id:
        raise Conflict("Prendre le dossier en charge avant de décider (il n'est pas à vous).")
    return dossier


def decide_finding(account: Account, finding_id: int, decision: str, note: str | None) -> int:
    """Accept (override, note required) or resolve a finding; return its dossier id.

    The dossier's status follows: the findings still open decide it. A reviewer's decision is kept
    when the same finding comes back at the next check (units.run_check carries it over).
    """
    if decision not in ("accept", "resolve"):
        raise Invalid("Décision inconnue.")
    note = _clean_text(note, "La note", required=decision == "accept")
    with session_scope() as session:
        row = session.get(FindingRow, finding_id)
        if row is None:
            raise NotFound("Constat introuvable : le dossier a peut-être été revérifié, recharger la page.")
        dossier = _held(session, account, row.dossier_id)
        if row.state != FindingState.OPEN.value:
            raise Conflict("Ce constat a déjà été traité.")
        if dossier.status == "pending":
            raise Conflict("Le dossier est en cours de vérification ; attendre la fin avant de décider.")
        previous = dossier.status
        state.decide_finding(row, FindingState.ACCEPTED if decision == "accept" else FindingState.RESOLVED)
        row.note = note or None
        row.decided_by = account.id
        row.decided_at = utcnow()
        session.flush()
        _settle_status(session, dossier)
        units.audit(session, "finding_accepted" if decision == "accept" else "finding_resolved", dossier.id,
                   actor=account.username, user_id=account.id, finding_id=row.id, code=row.code, note=note,
                   previous=previous, status=dossier.status)
        return dossier.id


def request_piece(account: Account, dossier_id: int, message: str, finding_id: int | None = None) -> None:
    """Ask the school for a new piece; the school sees the message until it uploads something."""
    message = _clean_text(message, "Le message à l'auto-école", required=True)
    with session_scope() as session:
        dossier = _held(session, account, dossier_id)
        code = None
        if finding_id is not None:
            row = session.get(FindingRow, finding_id)
            if row is None or row.dossier_id != dossier.id:
                raise NotFound("Constat introuvable.")
            code = row.code
        units.audit(session, "piece_requested", dossier.id, actor=account.username, user_id=account.id,
                   message=message, finding_id=finding_id, code=code)


def _settle_status(session: Session, dossier: Dossier) -> None:
    """Status from the findings still open; a dossier out of the queue is released."""
    if dossier.status not in SETTLED_STATUSES:
        return
    rows = session.scalars(select(FindingRow).where(FindingRow.dossier_id == dossier.id,
                                                    FindingRow.state == FindingState.OPEN.value)).all()
    move_dossier(dossier, status_from_open_rows(rows))
    if not any(r.severity in QUEUE_SEVERITIES for r in rows):
        dossier.claimed_by = None
        dossier.claimed_at = None
