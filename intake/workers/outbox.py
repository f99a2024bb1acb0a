"""Sending the transactional outbox, and the sweeper that sends again what was lost.

Every read and check to do is first a row of `outbox` (models.OutboxMessage), written in the
transaction that makes it needed (`intake.units`). After the commit the writer calls `send_pending`,
which sends the dossier's unsent rows; a broker briefly away only leaves them unsent, it never
fails the request. The sweeper (`sweep`, run by `intake worker` every few seconds) then:

- marks done the rows whose work is finished (upload read or failed, dossier's current revision checked);
- sends again what is still unsent, or sent but unfinished and no longer in Redis (a Redis restart
  without its last second of AOF, a killed web process), once older than `outbox_resend_after_s`;
- writes rows for work pending without any (an upload pending with no row, a dossier whose reads are all
  settled and whose current revision has no check): nothing stays pending forever.

Delivery is at least once: the actors are idempotent, a second message is harmless. Messages are
sent by actor name through the broker (`intake.workers.broker.send`): this module does not import
the actors, which import it.

`send_pending` is the one "send the reads, else the check" function: the CLI (`intake.service`), the
web (`intake.web.operations`), reprocessing and the actors all call it after their commit.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import and_, exists, func, or_, select, update

from intake.db import session_scope
from intake.settings import get_settings
from intake.workers import broker
from models import CheckRun, Dossier, OutboxMessage, Upload, utcnow

log = logging.getLogger(__name__)

ACTORS = ("read_upload", "check_dossier")
#: Done rows are kept this long (what was sent when, for an operator), then deleted by the sweeper.
KEEP_DONE = timedelta(days=2)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment


# --- is the work finished? -----------------------------------------------------------------------


def _finished(session, row: OutboxMessage) -> bool:
    """True when the work the row asks for is done (or no longer wanted)."""
    if row.actor == "read_upload":
        state = session.scalar(select(Upload.state).where(Upload.id == row.target_id))
        return state is None or state != "pending"
    dossier = session.get(Dossier, row.target_id)
    if dossier is None or dossier.purged_at is not None:
        return True
    if session.scalar(select(Upload.id).where(Upload.dossier_id == dossier.id, Upload.state == "pending").limit(1)):
        return True  # superseded: the read still to finish writes its own check row
    last = session.scalar(select(CheckRun.revision).where(CheckRun.dossier_id == dossier.id)
                          .order_by(CheckRun.id.desc()).limit(1))
    return last is not None and last >= dossier.revision


# --- sending -------------------------------------------------------------------------------------


def _send(row_actor: str, target_id: int, trigger: str) -> str | None:
    """Send one message, by actor name; return its Redis message id (the message id in-process)."""
    return broker.send(row_actor, target_id, trigger)


def _claim(row_id: int, sent_before: datetime | None) -> bool:
    """Take a row for sending (one sender wins when several try): sets sent_at, counts the attempt."""
    with session_scope() as session:
        query = update(OutboxMessage).where(OutboxMessage.id == row_id, OutboxMessage.done_at.is_(None))
        if sent_before is None:
            query = query.where(OutboxMessage.sent_at.is_(None))
        else:
            query = query.where(OutboxMessage.sent_at == sent_before)
        done = session.execute(query.values(sent_at=utcnow(), attempts=OutboxMessage.attempts + 1, message_id=None)
                               .execution_options(synchronize_session=False))
        return done.rowcount == 1


def _dispatch(row_id: int, actor: str, target_id: int, trigger: str, sent_before: datetime | None) -> bool | None:
    """Send one row: True when sent, False when another sender had it, None when the broker is away."""
    if not _claim(row_id, sent_before):
        return False
    try:
        message_id = _send(actor, target_id, trigger)
    except Exception as exc:  # noqa: BLE001 - the broker is away: the sweeper sends it later
        log.warning("outbox %d (%s %d) not sent: %s; the sweeper will send it", row_id, actor, target_id,
                    type(exc).__name__)
        with session_scope() as session:
            session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id)
                            .values(sent_at=sent_before).execution_options(synchronize_session=False))
        return None
    with session_scope() as session:
        session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id)
                        .values(message_id=message_id).execution_options(synchronize_session=False))
    return True


def send_pending(dossier_id: int) -> int:
    """Send the dossier's unsent outbox rows (reads first; its check once no read is pending).

    Never raises for a broker that is away: what could not be sent stays for the sweeper.
    Returns how many messages were sent.
    """
    with session_scope() as session:
        rows = list(session.scalars(select(OutboxMessage).where(
            OutboxMessage.dossier_id == dossier_id, OutboxMessage.done_at.is_(None),
            OutboxMessage.sent_at.is_(None)).order_by(OutboxMessage.actor.desc(), OutboxMessage.id)))
        todo, done_ids = [], []
        for row in rows:
            if _finished(session, row):
                done_ids.append(row.id)
            else:
                todo.append((row.id, row.actor, row.target_id, row.trigger))
        _mark_done(session, done_ids)
    # One check per dossier is enough: the others are marked done when it writes its run.
    check_sent = False
    sent = 0
    for row_id, actor, target_id, trigger in todo:
        if actor == "check_dossier" and check_sent:
            continue
        outcome = _dispatch(row_id, actor, target_id, trigger, None)
        if outcome is None:
            break  # the broker is away: the rest waits for the sweeper too, without more timeouts
        if outcome:
            sent += 1
            # Only a check actually sent by this call covers the others (one taken by another
            # sender, or marked done meanwhile, does not).
            check_sent = check_sent or actor == "check_dossier"
    return sent


def _mark_done(session, ids: list[int]) -> None:
    if ids:
        session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(done_at=utcnow())
                        .execution_options(synchronize_session=False))


# --- the sweeper ---------------------------------------------------------------------------------


def _alive(client, actor: str, message_id: str | None) -> bool:
    """Is this message still in Redis (ready, in flight, delayed for a retry, or dead-lettered)?"""
    if client is None:  # in-process broker: lost with the process that sent it
        return message_id is not None and broker.sent_by_this_process(message_id)
    if not message_id:
        return False
    queue = f"{broker.NAMESPACE}:{broker.QUEUE_OF_ACTOR[actor]}"
    pipe = client.pipeline(transaction=False)
    for key in (f"{queue}.msgs", f"{queue}.DQ.msgs", f"{queue}.XQ.msgs"):
        pipe.hexists(key, message_id)
    return any(pipe.execute())


@dataclass
class SweepReport:
    done: int = 0
    resent: int = 0
    added: int = 0
    deleted: int = 0

    def __bool__(self) -> bool:
        return bool(self.resent or self.added)


def _add_missing_rows(session, cutoff: datetime) -> int:
    """Rows for work pending with none open: uploads pending, dossiers whose current revision is unchecked."""
    open_read = exists().where(OutboxMessage.actor == "read_upload", OutboxMessage.target_id == Upload.id,
                               OutboxMessage.done_at.is_(None))
    uploads = session.execute(select(Upload.id, Upload.dossier_id).where(
        Upload.state == "pending", Upload.uploaded_at < cutoff, ~open_read).limit(500)).all()
    due = cutoff - timedelta(seconds=1)  # sent in this very pass
    for upload_id, dossier_id in uploads:
        session.add(OutboxMessage(actor="read_upload", target_id=upload_id, dossier_id=dossier_id,
                                  trigger="sweeper", created_at=due))
    pending_upload = exists().where(Upload.dossier_id == Dossier.id, Upload.state == "pending")
    open_check = exists().where(OutboxMessage.actor == "check_dossier", OutboxMessage.target_id == Dossier.id,
                                OutboxMessage.done_at.is_(None))
    last_revision = (select(CheckRun.revision).where(CheckRun.dossier_id == Dossier.id)
                     .order_by(CheckRun.id.desc()).limit(1).scalar_subquery())
    dossiers = session.scalars(select(Dossier.id).where(
        Dossier.purged_at.is_(None), Dossier.status == "pending", Dossier.updated_at < cutoff, ~pending_upload,
        ~open_check, or_(last_revision.is_(None), last_revision < Dossier.revision)).limit(500)).all()
    for dossier_id in dossiers:
        session.add(OutboxMessage(actor="check_dossier", target_id=dossier_id, dossier_id=dossier_id,
                                  trigger="sweeper", created_at=due))
    return len(uploads) + len(dossiers)


def sweep(resend_after: float | None = None, now: datetime | None = None, client=None) -> SweepReport:
    """One pass of the sweeper (see the module docstring); safe to run from several hosts at once."""
    settings = get_settings()
    now = now or datetime.now(timezone.utc)
    cutoff = now - timedelta(seconds=settings.outbox_resend_after_s if resend_after is None else resend_after)
    client = client if client is not None else broker.redis_client()
    report = SweepReport()
    with session_scope() as session:
        report.added = _add_missing_rows(session, cutoff)
    with session_scope() as session:
        rows = list(session.scalars(select(OutboxMessage).where(
            OutboxMessage.done_at.is_(None),
            or_(and_(OutboxMessage.sent_at.is_(None), OutboxMessage.created_at < cutoff),
                OutboxMessage.sent_at < cutoff)).order_by(OutboxMessage.id).limit(1000)))
        due, done_ids = [], []
        for row in rows:
            if _finished(session, row):
                done_ids.append(row.id)
            else:
                due.append((row.id, row.actor, row.target_id, row.trigger, row.sent_at, row.message_id))
        _mark_done(session, done_ids)
        report.done = len(done_ids)
        report.deleted = session.execute(
            OutboxMessage.__table__.delete().where(OutboxMessage.done_at < now - KEEP_DONE)).rowcount or 0
    checks_sent: set[int] = set()
    for row_id, actor, target_id, trigger, sent_at, message_id in due:
        if sent_at is not None and _alive(client, actor, message_id):
            continue
        if actor == "check_dossier" and target_id in checks_sent:
            continue
        outcome = _dispatch(row_id, actor, target_id, trigger, sent_at)
        if outcome is None:
            break  # the broker is away: the next pass tries again
        if outcome:
            report.resent += 1
            if actor == "check_dossier":
                checks_sent.add(target_id)
    if report:
        log.warning("sweeper: %d message(s) sent again, %d row(s) added for pending work", report.resent,
                    report.added)
    return report


# --- what is waiting (intake status) -------------------------------------------------------------


@dataclass
class Waiting:
    actor: str
    unsent: int = 0
    oldest_unsent: datetime | None = None
    sent: int = 0  # sent, work not finished yet
    oldest_sent: datetime | None = None

    def to_json(self) -> dict:
        data = asdict(self)
        for key in ("oldest_unsent", "oldest_sent"):
            data[key] = data[key].isoformat() if data[key] else None
        return data


def waiting() -> list[Waiting]:
    """Open outbox rows by actor: how many unsent, how many sent and unfinished, and since when."""
    out = []
    with session_scope() as session:
        for actor in ACTORS:
            base = (OutboxMessage.actor == actor, OutboxMessage.done_at.is_(None))
            unsent, oldest_unsent = session.execute(select(func.count(), func.min(OutboxMessage.created_at))
                                                    .where(*base, OutboxMessage.sent_at.is_(None))).one()
            sent, oldest_sent = session.execute(select(func.count(), func.min(OutboxMessage.sent_at))
                                                .where(*base, OutboxMessage.sent_at.is_not(None))).one()
            out.append(Waiting(actor, int(unsent or 0), _aware(oldest_unsent), int(sent or 0), _aware(oldest_sent)))
    return out
