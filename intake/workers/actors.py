"""The Dramatiq actors: read one upload, check one dossier, record a failure.

Every actor carries ids, never payloads; is idempotent (delivery is at least once: running one twice
leaves the same rows); holds no transaction across OCR; and writes the next stage into the outbox in
the transaction that stores its work, sending it after the commit (`intake.workers.outbox`): a
message lost on the way is sent again by the sweeper. The work itself is in `intake.units`.

Retry policy: transient infrastructure errors (database or broker unreachable) are retried with
exponential backoff; anything else (a bug, a timeout) is not retried: the message fails, lands in the
dead-letter queue (`intake failed`), and `record_failure` marks the work as failed so that the dossier
never stays pending. `record_failure` runs only once a message has failed for good (Dramatiq's
`on_retry_exhausted`), never on an attempt that will be retried.

Importing this module declares nothing and chooses no broker: `declare(broker)` puts the actors on
the broker an entry point chose (the in-process worker, `intake.workers.embedded`), and `boot` is the
entry point of the worker processes of `intake worker` (`dramatiq intake.workers.actors:boot`).
"""

from __future__ import annotations

import logging

import dramatiq

from intake import units
from intake.settings import get_settings
from intake.workers.broker import QUEUE_OF_ACTOR, configure, exception_type
from intake.workers.outbox import send_pending

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


def record_failure(message_data: dict, exception_data: dict) -> None:
    """Called when a read or a check has failed for good: mark it failed, never pending forever.

    Dramatiq passes `(message.asdict(), {"retries": n, "max_retries": m})`: the exception is only
    in the traceback its Retries middleware stored in the message's options (`exception_type`).
    """
    actor = message_data.get("actor_name")
    args = message_data.get("args") or []
    if not args:
        return
    reason = exception_type(message_data) or "erreur"
    if actor == "read_upload":
        trigger = args[1] if len(args) > 1 else (message_data.get("kwargs") or {}).get("trigger", "upload")
        dossier_id = units.mark_upload_failed(int(args[0]), reason, trigger=str(trigger))
        if dossier_id is not None:
            send_pending(dossier_id)
    elif actor == "check_dossier":
        units.mark_check_failed(int(args[0]), reason)


def read_upload(upload_id: int, trigger: str = "upload") -> None:
    """Read one uploaded file (the OCR-heavy stage), store its documents, then ask for a check."""
    dossier_id = units.read_and_record_upload(upload_id, trigger=trigger)
    if dossier_id is not None:
        send_pending(dossier_id)


def check_dossier(dossier_id: int, trigger: str = "upload") -> None:
    """Judge a dossier from its stored reads; stores the verdict, findings and a check run."""
    units.run_check(dossier_id, trigger=trigger)


def declare(broker: dramatiq.Broker) -> dict[str, dramatiq.Actor]:
    """Declare the three actors on `broker` (once; again is a no-op); return them by name.

    Time limits are read from the settings now, not when the module is imported.
    """
    settings = get_settings()
    retry = {"max_retries": MAX_RETRIES, "retry_when": _retry_when, "min_backoff": 1_000, "max_backoff": 60_000}
    options = {
        record_failure: {"time_limit": 60_000},
        read_upload: {"time_limit": settings.piece_time_limit_ms, "on_retry_exhausted": "record_failure"},
        check_dossier: {"time_limit": settings.dossier_time_limit_ms, "on_retry_exhausted": "record_failure"},
    }
    declared = {}
    for fn, extra in options.items():
        name = fn.__name__
        if name in broker.actors:
            declared[name] = broker.actors[name]
            continue
        declared[name] = dramatiq.actor(fn, actor_name=name, queue_name=QUEUE_OF_ACTOR[name], broker=broker,
                                        **retry, **extra)
    return declared


def boot() -> None:
    """Entry point of the Dramatiq worker processes (`dramatiq intake.workers.actors:boot`): choose
    the broker the settings ask for and declare the actors on it."""
    declare(configure())
