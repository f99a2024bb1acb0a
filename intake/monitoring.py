"""What the operators watch: queue depths, pending and failed work, dead letters, Prometheus metrics.

Two sources, read fresh on every call: Redis (the queues of the `intake` namespace, as Dramatiq's
Redis broker lays them out) and the database (uploads and dossiers still pending or failed). Nothing
here returns personal data: only ids, counts, actor names, exception types and times.

Redis layout (dramatiq/brokers/redis/dispatch.lua), for a queue Q in namespace `intake`:
`intake:Q` list of ready message ids; `intake:Q.msgs` hash id -> message (ready and in flight);
`intake:Q.DQ` / `intake:Q.DQ.msgs` the delay queue (retries waiting for their backoff);
`intake:Q.XQ` sorted set of dead-lettered ids scored by the failure time in ms, `intake:Q.XQ.msgs`
their messages.

The worker processes' own metrics (messages processed, durations) are Dramatiq's Prometheus
middleware, in `intake.workers.middleware.metrics`; this module serves intake's gauges on the web's /metrics.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

from intake.workers.broker import NAMESPACE, QUEUES, exception_type, redis_client

log = logging.getLogger(__name__)

#: The content type to serve `metrics()` with.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


# --- figures -----------------------------------------------------------------------------------


@dataclass
class QueueDepth:
    queue: str
    ready: int = 0
    in_flight: int = 0
    delayed: int = 0
    dead: int = 0


@dataclass
class StatusFigures:
    broker: str  # "redis" or "in-process"
    broker_reachable: bool = True
    queues: list[QueueDepth] = field(default_factory=list)
    pending_uploads: int = 0
    failed_uploads: int = 0
    pending_dossiers: int = 0
    failed_dossiers: int = 0
    #: Age in seconds of the oldest upload or dossier still pending, None when nothing is pending.
    oldest_pending_seconds: float | None = None
    #: The outbox by actor: messages unsent, and sent whose work is unfinished, with the oldest of each.
    outbox: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)


def queue_depths(client) -> list[QueueDepth]:
    """Depth of every intake queue, read straight from Redis (cheap: a few O(1) calls per queue)."""
    depths = []
    for queue in QUEUES:
        key = f"{NAMESPACE}:{queue}"
        pipe = client.pipeline(transaction=False)
        pipe.llen(key)
        pipe.hlen(f"{key}.msgs")
        pipe.hlen(f"{key}.DQ.msgs")
        pipe.zcard(f"{key}.XQ")
        ready, stored, delayed, dead = pipe.execute()
        depths.append(QueueDepth(queue=queue, ready=int(ready), in_flight=max(0, int(stored) - int(ready)),
                                 delayed=int(delayed), dead=int(dead)))
    return depths


def database_figures(figures: StatusFigures) -> StatusFigures:
    from sqlalchemy import func, select

    from intake.db import session_scope
    from models import Dossier, Upload

    with session_scope() as session:
        def count(model, *where) -> int:
            return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)

        figures.pending_uploads = count(Upload, Upload.state == "pending")
        figures.failed_uploads = count(Upload, Upload.state == "failed")
        figures.pending_dossiers = count(Dossier, Dossier.status == "pending", Dossier.purged_at.is_(None))
        figures.failed_dossiers = count(Dossier, Dossier.status == "failed", Dossier.purged_at.is_(None))
        oldest = [session.scalar(select(func.min(Upload.uploaded_at)).where(Upload.state == "pending")),
                  session.scalar(select(func.min(Dossier.updated_at)).where(
                      Dossier.status == "pending", Dossier.purged_at.is_(None)))]
    oldest = [_aware(t) for t in oldest if t is not None]
    if oldest:
        figures.oldest_pending_seconds = round((datetime.now(timezone.utc) - min(oldest)).total_seconds(), 1)
    from intake.workers.outbox import waiting

    figures.outbox = [w.to_json() for w in waiting()]
    return figures


def _aware(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes; they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def status_figures() -> StatusFigures:
    """Queue depths (Redis only) and pending/failed counts from the database."""
    client = redis_client()
    figures = StatusFigures(broker="redis" if client is not None else "in-process")
    if client is not None:
        import redis

        try:
            figures.queues = queue_depths(client)
        except redis.exceptions.RedisError as exc:  # the outbox still says what waits
            log.warning("Redis unreachable: %s", type(exc).__name__)
            figures.broker_reachable = False
    return database_figures(figures)


# --- Prometheus --------------------------------------------------------------------------------


class _IntakeCollector:
    """Collects intake's own gauges at scrape time (no state kept between scrapes)."""

    def __init__(self, figures: StatusFigures) -> None:
        self.figures = figures

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily

        f = self.figures
        queue = GaugeMetricFamily("intake_queue_messages", "Messages in the intake queues, by state.",
                                  labels=["queue", "state"])
        for depth in f.queues:
            for state in ("ready", "in_flight", "delayed", "dead"):
                queue.add_metric([depth.queue, state], getattr(depth, state))
        yield queue
        uploads = GaugeMetricFamily("intake_uploads", "Uploads pending a read or failed.", labels=["state"])
        uploads.add_metric(["pending"], f.pending_uploads)
        uploads.add_metric(["failed"], f.failed_uploads)
        yield uploads
        dossiers = GaugeMetricFamily("intake_dossiers", "Dossiers pending a verdict or whose check failed.",
                                     labels=["status"])
        dossiers.add_metric(["pending"], f.pending_dossiers)
        dossiers.add_metric(["failed"], f.failed_dossiers)
        yield dossiers
        outbox = GaugeMetricFamily("intake_outbox_messages", "Outbox messages not finished, by actor and state.",
                                   labels=["actor", "state"])
        for waiting in f.outbox:
            outbox.add_metric([waiting["actor"], "unsent"], waiting["unsent"])
            outbox.add_metric([waiting["actor"], "sent"], waiting["sent"])
        yield outbox
        yield GaugeMetricFamily("intake_oldest_pending_seconds",
                                "Age of the oldest pending upload or dossier (0 when none).",
                                value=f.oldest_pending_seconds or 0.0)


def metrics() -> str:
    """Prometheus text exposition of intake's gauges, for the web service's /metrics (CONTENT_TYPE)."""
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_IntakeCollector(status_figures()))
    return generate_latest(registry).decode("utf-8")


# --- dead letters ------------------------------------------------------------------------------


@dataclass
class DeadLetter:
    """A message that failed for good, as `intake failed` lists it (ids and types only)."""

    id: str  # the Redis message id, what `intake failed retry ID` takes
    queue: str
    actor: str
    target_id: int | None  # the upload id (read_upload) or dossier id (check_dossier)
    failed_at: datetime
    error: str | None  # exception type
    retries: int

    def to_json(self) -> dict:
        data = asdict(self)
        data["failed_at"] = self.failed_at.isoformat()
        return data


def _target_id(message: dict) -> int | None:
    args = message.get("args") or []
    if args and isinstance(args[0], int):
        return args[0]
    if args and isinstance(args[0], dict):  # record_failure(message_data, exception_data)
        inner = args[0].get("args") or []
        return inner[0] if inner and isinstance(inner[0], int) else None
    return None


def _errors_from_database(letters: list[DeadLetter]) -> None:
    """The failure reason the actors recorded (an exception type), where the message has none."""
    from sqlalchemy import select

    from intake.db import session_scope
    from models import CheckRun, Upload

    with session_scope() as session:
        for letter in letters:
            if letter.error or letter.target_id is None:
                continue
            if letter.actor == "read_upload":
                letter.error = session.scalar(select(Upload.error).where(Upload.id == letter.target_id))
            elif letter.actor == "check_dossier":
                letter.error = session.scalar(select(CheckRun.error).where(
                    CheckRun.dossier_id == letter.target_id, CheckRun.state == "failed")
                    .order_by(CheckRun.id.desc()).limit(1))


def dead_letters(client=None, with_database: bool = True) -> list[DeadLetter]:
    """Every dead-lettered intake message, oldest failure first."""
    client = client or redis_client()
    if client is None:
        return []
    letters = []
    for queue in QUEUES:
        xq = f"{NAMESPACE}:{queue}.XQ"
        entries = client.zrange(xq, 0, -1, withscores=True)
        if not entries:
            continue
        ids = [member for member, _ in entries]
        raw = client.hmget(f"{xq}.msgs", ids)
        for (member, score), data in zip(entries, raw):
            if data is None:
                continue
            message = json.loads(data)
            letters.append(DeadLetter(
                id=member.decode() if isinstance(member, bytes) else str(member), queue=queue,
                actor=str(message.get("actor_name")), target_id=_target_id(message),
                failed_at=datetime.fromtimestamp(score / 1000, tz=timezone.utc),
                error=exception_type(message), retries=int((message.get("options") or {}).get("retries", 0))))
    letters.sort(key=lambda letter: letter.failed_at)
    if with_database and letters:
        try:
            _errors_from_database(letters)
        except Exception as exc:  # noqa: BLE001 - the listing must work when the database is down
            log.warning("failure reasons not read from the database: %s", type(exc).__name__)
    return letters


#: Options Dramatiq adds while running or failing a message: a requeued message starts afresh.
_RUN_OPTIONS = ("retries", "traceback", "requeue_timestamp", "eta", "redis_message_id")


def retry_dead_letters(ids: list[str] | None = None, client=None) -> list[DeadLetter]:
    """Send dead-lettered messages again with fresh retries (all when `ids` is None), then forget them.

    At least once: a message is removed from the dead letters only after it is back in its queue.
    """
    import dramatiq
    from dramatiq import Message

    from intake.workers.broker import configure

    client = client or redis_client()
    if client is None:
        return []
    broker = configure()  # the queues are declared with it

    wanted = None if ids is None else set(ids)
    done = []
    for letter in dead_letters(client, with_database=False):
        if wanted is not None and letter.id not in wanted:
            continue
        xq = f"{NAMESPACE}:{letter.queue}.XQ"
        data = client.hget(f"{xq}.msgs", letter.id)
        if data is None:
            continue
        message = Message.decode(data)
        options = {k: v for k, v in message.options.items() if k not in _RUN_OPTIONS}
        message = dramatiq.Message(queue_name=letter.queue, actor_name=message.actor_name, args=message.args,
                                   kwargs=message.kwargs, options=options, message_id=message.message_id,
                                   message_timestamp=int(time.time() * 1000))
        broker.enqueue(message)
        pipe = client.pipeline()
        pipe.zrem(xq, letter.id)
        pipe.hdel(f"{xq}.msgs", letter.id)
        pipe.execute()
        done.append(letter)
        log.info("dead letter %s (%s) sent again", letter.id, letter.actor)
    return done
