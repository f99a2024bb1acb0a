"""The Dramatiq actors: read one upload, check one dossier, record a failure.

Every actor carries ids, never payloads; is idempotent (delivery is at least once: running one twice
leaves the same rows); holds no transaction across OCR; and writes the next stage into the outbox in
the transaction that stores its work, sending it after the commit (`intake.workers.outbox`): a
message lost on the way is sent again by the sweeper. Retry policy: transient infrastructure errors (database or broker unreachable) are retried
with exponential backoff; anything else (a bug, a timeout) is not retried: the message fails, lands
in the dead-letter queue (`intake failed`), and `record_failure` marks the work as failed so that the
dossier never stays pending. `record_failure` runs only once a message has failed for good
(Dramatiq's `on_retry_exhausted`), never on an attempt that will be retried.
"""

from __future__ import annotations

import logging

import dramatiq

from intake.workers.broker import QUEUE_CHECKS, QUEUE_OCR, configure

configure()

from intake.settings import get_settings  # noqa: E402

log = logging.getLogger(__name__)

MAX_RETRIES = 5


def is_transient(exc: BaseException) -> bool:
    """Errors worth retrying: the database or the broker is unreachable for a while."""
    import redis.exceptions
    import sqlalchemy.exc

    transient = (
        sqlalchemy.exc.OperationalError,
        sqlalchemy.exc.InterfaceError,
        sqlalchemy.exc.DisconnectionError,
        redis.exceptions.ConnectionError,
        redis.exceptions.TimeoutError,
        ConnectionError,
    )
    return isinstance(exc, transient)


def _retry_when(retries: int, exc: BaseException) -> bool:
    return retries < MAX_RETRIES and is_transient(exc)


_settings = get_settings()


@dramatiq.actor(queue_name=QUEUE_CHECKS, max_retries=MAX_RETRIES, retry_when=_retry_when,
                min_backoff=1_000, max_backoff=60_000, time_limit=60_000)
def record_failure(message_data: dict, exception_data: dict) -> None:
    """Called when a read or a check has failed for good: mark it failed, never pending forever."""
    from intake import jobs

    from intake.workers.outbox import send_pending

    actor = message_data.get("actor_name")
    args = message_data.get("args") or []
    if not args:
        return
    # Dramatiq passes (message.asdict(), {"retries": n, "max_retries": m}): the exception is only in
    # the traceback it stored in the message's options.
    reason = exception_type(message_data) or "erreur"
    if actor == "read_upload":
        trigger = args[1] if len(args) > 1 else (message_data.get("kwargs") or {}).get("trigger", "upload")
        dossier_id = jobs.mark_upload_failed(int(args[0]), reason, trigger=str(trigger))
        if dossier_id is not None:
            send_pending(dossier_id)
    elif actor == "check_dossier":
        jobs.mark_check_failed(int(args[0]), reason)


def exception_type(message_data: dict) -> str | None:
    """The exception type named by the traceback Dramatiq keeps with a failed message (its last
    unindented line, `package.Type: text`)."""
    trace = ((message_data.get("options") or {}).get("traceback") or "").strip()
    for line in reversed(trace.splitlines()):
        if line and not line.startswith((" ", "\t")):
            name = line.split(":", 1)[0].rsplit(".", 1)[-1].strip()
            return name or None
    return None


@dramatiq.actor(queue_name=QUEUE_OCR, max_retries=MAX_RETRIES, retry_when=_retry_when,
                min_backoff=1_000, max_backoff=60_000, time_limit=_settings.piece_time_limit_ms,
                on_retry_exhausted=record_failure.actor_name)
def read_upload(upload_id: int, trigger: str = "upload") -> None:
    """Read one uploaded file (the OCR-heavy stage), store its documents, then ask for a check."""
    from intake import jobs
    from intake.workers.outbox import send_pending

    dossier_id = jobs.read_upload(upload_id, trigger=trigger)
    if dossier_id is not None:
        send_pending(dossier_id)


@dramatiq.actor(queue_name=QUEUE_CHECKS, max_retries=MAX_RETRIES, retry_when=_retry_when,
                min_backoff=1_000, max_backoff=60_000, time_limit=_settings.dossier_time_limit_ms,
                on_retry_exhausted=record_failure.actor_name)
def check_dossier(dossier_id: int, trigger: str = "upload") -> None:
    """Judge a dossier from its stored reads; stores the verdict, findings and a check run."""
    from intake import jobs

    jobs.check_dossier(dossier_id, trigger=trigger)




