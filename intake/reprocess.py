"""Check a selection of stored dossiers again after the rules or the OCR changed (`intake reprocess`).

A dossier is re-read and re-checked only as far as it is out of date: uploads read by an older
*extraction* version are read again (the OCR is the cost), and a dossier whose verdict comes from an
older pipeline version (rules) is only judged again. A dossier entirely at the current version is
left alone, unless `force`. Everything goes through the usual actors, so the workers (or the
in-process worker without Redis) do the work and every result records its pipeline version.

A run is a *batch*: its key is a digest of the selection, `force` and the pipeline version, and its
start is recorded as an audit event holding the highest check-run id at that moment. Run again with
the same arguments after an interruption, the batch resumes: a dossier checked since the batch
started and not pending is finished work and is not sent again. The batch ends (a
`reprocess_finished` event) once every dossier it sent has its new check.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time as dtime, timedelta, timezone
from typing import Callable, TextIO

from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from intake.db import session_scope
from intake.state import UploadState, move_upload
from intake.version import PIPELINE_VERSION
from models import AuditEvent, CheckRun, Dossier, FindingRow, Piece, Upload

log = logging.getLogger(__name__)


def extraction_part(version: str | None) -> str | None:
    """'x3' from 'x3.r7': the part of a pipeline version that says how files were read."""
    return version.split(".", 1)[0] if version else None


CURRENT_EXTRACTION = extraction_part(PIPELINE_VERSION)


@dataclass(frozen=True)
class Selection:
    """Which dossiers to look at; empty fields do not filter. Closed and purged dossiers are out."""

    statuses: tuple[str, ...] = ()
    created_from: date | None = None  # included
    created_to: date | None = None  # included
    codes: tuple[str, ...] = ()  # a current finding with one of these codes
    kinds: tuple[str, ...] = ()  # a current piece of one of these kinds
    outdated: bool = False  # verdict or a read from an older pipeline version
    include_closed: bool = False

    def key(self, force: bool) -> str:
        data = asdict(self)
        data.update(created_from=str(self.created_from), created_to=str(self.created_to), force=force,
                    version=PIPELINE_VERSION, statuses=sorted(self.statuses), codes=sorted(self.codes),
                    kinds=sorted(self.kinds))
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def select_dossier_ids(selection: Selection) -> list[int]:
    """The ids of the dossiers the selection names, in id order (SQL only, no rows loaded)."""
    query = select(Dossier.id).where(Dossier.purged_at.is_(None))
    if not selection.include_closed:
        query = query.where(Dossier.closed_at.is_(None))
    if selection.statuses:
        query = query.where(Dossier.status.in_(selection.statuses))
    if selection.created_from:
        query = query.where(Dossier.created_at >= _day_start(selection.created_from))
    if selection.created_to:
        query = query.where(Dossier.created_at < _day_start(selection.created_to + timedelta(days=1)))
    if selection.codes:
        query = query.where(Dossier.id.in_(select(FindingRow.dossier_id).where(FindingRow.code.in_(selection.codes))))
    if selection.kinds:
        query = query.where(Dossier.id.in_(
            select(Upload.dossier_id).join(Piece, Piece.upload_id == Upload.id)
            .where(Upload.state != "replaced", Piece.kind.in_(selection.kinds))))
    if selection.outdated:
        stale_upload = select(Upload.dossier_id).where(
            Upload.state != "replaced", Upload.sha256.is_not(None),
            (Upload.pipeline_version.is_(None)) | (~Upload.pipeline_version.startswith(f"{CURRENT_EXTRACTION}.")))
        query = query.where((Dossier.pipeline_version.is_(None)) | (Dossier.pipeline_version != PIPELINE_VERSION)
                            | Dossier.id.in_(stale_upload))
    with session_scope() as session:
        return list(session.scalars(query.order_by(Dossier.id)))


def _day_start(day: date) -> datetime:
    return datetime.combine(day, dtime.min, tzinfo=timezone.utc)


# --- planning ------------------------------------------------------------------------------------


@dataclass
class DossierPlan:
    dossier_id: int
    reference: str
    status_before: str
    version_before: str | None
    #: up_to_date: nothing to do; finished: done earlier in this batch; reread / recheck: to send.
    action: str
    reread: list[int] = field(default_factory=list)


@dataclass
class Batch:
    key: str
    baseline_run_id: int  # check runs with a higher id were made during the batch
    resumed: bool


def _upload_is_stale(upload: Upload) -> bool:
    return extraction_part(upload.pipeline_version) != CURRENT_EXTRACTION


def plan_dossier(dossier: Dossier, force: bool, batch: Batch, last_run_id: int | None) -> DossierPlan:
    uploads = [u for u in dossier.uploads if u.state != "replaced"]
    readable = [u for u in uploads if u.sha256 is not None]
    plan = DossierPlan(dossier.id, dossier.reference, dossier.status, dossier.pipeline_version, "up_to_date")
    pending = any(u.state == "pending" for u in uploads)
    checked_in_batch = last_run_id is not None and last_run_id > batch.baseline_run_id
    if checked_in_batch and not pending and (force or not any(
            u.state == "done" and _upload_is_stale(u) for u in readable)):
        plan.action = "finished"
        return plan
    plan.reread = [u.id for u in readable if force or u.state in ("pending", "failed") or _upload_is_stale(u)]
    if plan.reread:
        plan.action = "reread"
    elif force or dossier.status in ("pending", "failed") or dossier.pipeline_version != PIPELINE_VERSION:
        plan.action = "recheck"
    return plan


def make_plans(ids: list[int], force: bool, batch: Batch, chunk: int = 500) -> list[DossierPlan]:
    plans = []
    for start in range(0, len(ids), chunk):
        part = ids[start:start + chunk]
        with session_scope() as session:
            last_runs = dict(session.execute(select(CheckRun.dossier_id, func.max(CheckRun.id))
                                             .where(CheckRun.dossier_id.in_(part)).group_by(CheckRun.dossier_id)).all())
            dossiers = session.scalars(select(Dossier).where(Dossier.id.in_(part))
                                       .options(selectinload(Dossier.uploads)).order_by(Dossier.id))
            plans += [plan_dossier(d, force, batch, last_runs.get(d.id)) for d in dossiers]
    return plans


def _unfinished_baseline(session, key: str) -> int | None:
    """The baseline of the batch with this key if its last event is a start (it was interrupted)."""
    events = session.scalars(select(AuditEvent).where(AuditEvent.action.in_(
        ("reprocess_started", "reprocess_finished"))).order_by(AuditEvent.id.desc()).limit(1000))
    for event in events:
        if (event.details or {}).get("key") == key:
            return int(event.details["baseline_run_id"]) if event.action == "reprocess_started" else None
    return None


def open_batch(key: str, selection: Selection, force: bool) -> Batch:
    """Resume the unfinished batch with this key, or start one (an audit event marks it)."""
    with session_scope() as session:
        baseline = _unfinished_baseline(session, key)
        if baseline is not None:
            return Batch(key, baseline, resumed=True)
        baseline = int(session.scalar(select(func.max(CheckRun.id))) or 0)
        session.add(AuditEvent(action="reprocess_started", actor="reprocess", details={
            "key": key, "baseline_run_id": baseline, "pipeline_version": PIPELINE_VERSION, "force": force,
            "selection": json.loads(json.dumps(asdict(selection), default=str))}))
        return Batch(key, baseline, resumed=False)


def close_batch(batch: Batch, summary: dict) -> None:
    with session_scope() as session:
        session.add(AuditEvent(action="reprocess_finished", actor="reprocess", details={
            "key": batch.key, "sent": summary["sent"], "changed": summary["changed"]}))


# --- running -------------------------------------------------------------------------------------


def send(plans: list[DossierPlan]) -> None:
    """Mark the uploads to read again as pending (so no check runs before they are all read) and put
    their reads (or the check) in the outbox in the same transaction, then send them.

    The dossier's revision is bumped with it, so a check that was running on the old reads is not
    taken as the verdict of the new ones.
    """
    from intake.units import outbox
    from intake.workers.outbox import send_pending

    for plan in plans:
        if plan.action not in ("reread", "recheck"):
            continue
        with session_scope() as session:
            bumped = session.execute(update(Dossier).where(Dossier.id == plan.dossier_id)
                                     .values(revision=Dossier.revision + 1)
                                     .execution_options(synchronize_session=False))
            if bumped.rowcount != 1:
                continue
            if plan.action == "reread":
                for upload in session.scalars(select(Upload).where(Upload.id.in_(plan.reread))):
                    if upload.state in (UploadState.DONE.value, UploadState.FAILED.value):
                        move_upload(upload, UploadState.PENDING)
                    outbox(session, "read_upload", upload.id, plan.dossier_id, "reprocess")
            else:
                outbox(session, "check_dossier", plan.dossier_id, plan.dossier_id, "reprocess")
        send_pending(plan.dossier_id)


def finished_since(run_id: int, dossier_ids: set[int]) -> dict[int, int]:
    """Dossiers among `dossier_ids` with a check run (done or failed) after `run_id`: id -> last run id."""
    with session_scope() as session:
        rows = session.execute(select(CheckRun.dossier_id, func.max(CheckRun.id))
                               .where(CheckRun.id > run_id).group_by(CheckRun.dossier_id)).all()
    return {d: r for d, r in rows if d in dossier_ids}


def statuses(dossier_ids: list[int], chunk: int = 500) -> dict[int, str]:
    out: dict[int, str] = {}
    for start in range(0, len(dossier_ids), chunk):
        with session_scope() as session:
            out.update(session.execute(select(Dossier.id, Dossier.status)
                                       .where(Dossier.id.in_(dossier_ids[start:start + chunk]))).all())
    return out


class ProgressBar:
    """A plain bar on stderr: redrawn in place on a terminal, a line every tenth otherwise."""

    def __init__(self, total: int, stream: TextIO = sys.stderr, width: int = 30) -> None:
        self.total, self.stream, self.width = total, stream, width
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.last_tenth = -1
        self.started = time.monotonic()

    def update(self, done: int) -> None:
        if not self.total:
            return
        fraction = done / self.total
        elapsed = time.monotonic() - self.started
        rate = done / elapsed * 60 if elapsed > 0 else 0.0
        filled = int(self.width * fraction)
        line = (f"[{'#' * filled}{'.' * (self.width - filled)}] {done}/{self.total} dossiers "
                f"({rate:.1f}/min)")
        if self.tty:
            self.stream.write("\r" + line)
            self.stream.flush()
        elif int(fraction * 10) > self.last_tenth:
            self.last_tenth = int(fraction * 10)
            self.stream.write(line + "\n")
            self.stream.flush()

    def close(self) -> None:
        if self.tty and self.total:
            self.stream.write("\n")
            self.stream.flush()


def wait(plans: list[DossierPlan], baseline: int, stall_timeout: float, progress: ProgressBar | None,
         poll: float = 0.5, sleep: Callable[[float], None] = time.sleep) -> set[int]:
    """Wait until every sent dossier has a check run after `baseline`; give up after a stall."""
    waiting = {p.dossier_id for p in plans}
    done: set[int] = set()
    last_progress = time.monotonic()
    while waiting - done:
        finished = set(finished_since(baseline, waiting))
        if len(finished) > len(done):
            last_progress = time.monotonic()
        done = finished
        if progress:
            progress.update(len(done))
        if not waiting - done or time.monotonic() - last_progress > stall_timeout:
            break
        sleep(poll)
        poll = min(poll * 1.2, 2.0)
    return done


def transitions(plans: list[DossierPlan], after: dict[int, str]) -> Counter:
    return Counter((p.status_before, after.get(p.dossier_id, "?")) for p in plans)


def format_summary(summary: dict) -> str:
    lines = [
        f"sélection : {summary['selected']} dossier(s) ; à jour (ignorés) : {summary['up_to_date']} ; "
        f"déjà faits dans ce lot : {summary['finished_before']} ; envoyés : {summary['sent']} "
        f"(dont {summary['reread_uploads']} fichier(s) à relire)",
    ]
    if summary.get("transitions"):
        lines += ["", f"{'avant':<14} → {'après':<14} dossiers"]
        for row in summary["transitions"]:
            mark = "" if row["before"] == row["after"] else "  *"
            lines.append(f"{row['before']:<14} → {row['after']:<14} {row['count']:>8}{mark}")
        lines.append("")
        lines.append(f"verdicts changés : {summary['changed']} ; inchangés : {summary['unchanged']}")
    if summary.get("not_finished"):
        lines.append(f"pas encore terminés : {summary['not_finished']} (relancer la même commande pour reprendre)")
    return "\n".join(lines)


def reprocess(selection: Selection, *, force: bool = False, dry_run: bool = False, wait_for: bool = True,
              stall_timeout: float = 900.0, progress_stream: TextIO | None = sys.stderr) -> dict:
    """Select, plan, send and (unless told not to) wait; return the summary as a dict.

    Embedded mode (no INTAKE_BROKER_URL): the in-process worker does the work, so the call waits.
    """
    from intake.workers import broker

    embedded = broker.is_embedded()
    key = selection.key(force)
    ids = select_dossier_ids(selection)
    batch = open_batch(key, selection, force) if not dry_run else Batch(key, _resume_baseline(key), False)
    plans = make_plans(ids, force, batch)
    to_send = [p for p in plans if p.action in ("reread", "recheck")]
    summary: dict = {
        "batch": key, "resumed": batch.resumed, "pipeline_version": PIPELINE_VERSION, "dry_run": dry_run,
        "selected": len(plans), "up_to_date": sum(p.action == "up_to_date" for p in plans),
        "finished_before": sum(p.action == "finished" for p in plans), "sent": len(to_send),
        "reread_uploads": sum(len(p.reread) for p in to_send),
        "plans": [{"dossier_id": p.dossier_id, "reference": p.reference, "status": p.status_before,
                   "pipeline_version": p.version_before, "action": p.action, "reread": len(p.reread)}
                  for p in plans],
    }
    if dry_run:
        summary["by_status"] = dict(Counter(p.status_before for p in to_send))
        return summary
    log.info("reprocess batch %s: %d selected, %d to send", key, len(plans), len(to_send))
    if embedded:
        from intake.service import prepare_database, start_workers

        prepare_database()
        start_workers()
        wait_for = True
    with session_scope() as session:
        wait_baseline = int(session.scalar(select(func.max(CheckRun.id))) or 0)
    send(to_send)
    done: set[int] = set()
    if wait_for and to_send:
        bar = ProgressBar(len(to_send), progress_stream) if progress_stream else None
        done = wait(to_send, wait_baseline, stall_timeout, bar)
        if bar:
            bar.close()
    after = statuses([p.dossier_id for p in to_send]) if wait_for else {}
    moves = transitions([p for p in to_send if p.dossier_id in done], after)
    summary["transitions"] = [{"before": b, "after": a, "count": n} for (b, a), n in sorted(moves.items())]
    summary["changed"] = sum(n for (b, a), n in moves.items() if b != a)
    summary["unchanged"] = sum(n for (b, a), n in moves.items() if b == a)
    summary["not_finished"] = len(to_send) - len(done) if wait_for else None
    if wait_for and len(done) == len(to_send):
        close_batch(batch, summary)
    return summary


def _resume_baseline(key: str) -> int:
    """For a dry run: the baseline of the unfinished batch with this key, without starting one."""
    with session_scope() as session:
        baseline = _unfinished_baseline(session, key)
    return baseline if baseline is not None else 1 << 62
