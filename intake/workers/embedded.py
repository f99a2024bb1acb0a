"""The in-process worker: the actors run in this process when the broker is in-memory.

Single-machine mode (`intake check`, `intake serve` without INTAKE_BROKER_URL): the same actors as
`intake worker` runs, on Dramatiq's in-memory broker, in a `dramatiq.Worker` started here. `intake
check` waits on this worker's signal (`settled_count`, `wait_settled`) instead of polling the
database.
"""

from __future__ import annotations

import atexit
import logging
import threading

import dramatiq
from dramatiq.brokers.stub import StubBroker

from intake.settings import get_settings
from intake.workers.actors import declare
from intake.workers.broker import configure

log = logging.getLogger(__name__)

_lock = threading.Lock()
_worker: dramatiq.Worker | None = None
_sweeper: threading.Thread | None = None
_sweeper_stop = threading.Event()


def start() -> dramatiq.Worker | None:
    """Start the in-process worker when the broker is in-memory (idempotent); None with Redis."""
    global _worker
    broker = configure()
    if not isinstance(broker, StubBroker):
        return None
    declare(broker)
    with _lock:
        if _worker is None:
            if not any(isinstance(m, _Settled) for m in broker.middleware):
                broker.add_middleware(_Settled())
            _worker = dramatiq.Worker(broker, worker_threads=get_settings().worker_threads, worker_timeout=100)
            _worker.start()
            atexit.register(stop)
        return _worker


# --- the in-process signal: `intake check` waits on it instead of polling the database -------------

_settled = threading.Condition()
_settled_count = 0
_running: set[str] = set()


class _Settled(dramatiq.Middleware):
    """Counts the messages the in-process worker has finished (done, failed or skipped) and wakes
    whoever waits for one; keeps the ids of those running, so a stop knows whether it may be quick."""

    def before_process_message(self, broker, message):
        with _settled:
            _running.add(message.message_id)

    def after_process_message(self, broker, message, *, result=None, exception=None):
        _note_settled(message)

    def after_skip_message(self, broker, message):
        _note_settled(message)


def _note_settled(message) -> None:
    global _settled_count
    with _settled:
        _running.discard(message.message_id)
        _settled_count += 1
        _settled.notify_all()


def settled_count() -> int:
    """How many messages the in-process worker has finished so far."""
    with _settled:
        return _settled_count


def wait_settled(seen: int, timeout: float) -> int:
    """Block until the in-process worker finishes a message after the `seen`-th (or `timeout`
    seconds pass); return the new count. Take `seen` before looking at the database, so that a
    message finished in between is not missed."""
    with _settled:
        _settled.wait_for(lambda: _settled_count > seen, timeout=max(0.0, timeout))
        return _settled_count


def _idle(worker: dramatiq.Worker) -> bool:
    with _settled:
        if _running:
            return False
    queues = getattr(worker.broker, "queues", {})
    if any(q.qsize() for q in queues.values()) or worker.work_queue.qsize():
        return False
    return not any(c.delay_queue.qsize() for c in worker.consumers.values())


def stop() -> None:
    """Stop the in-process worker. Idle (nothing queued or running: `intake check` has its verdict),
    its threads are told to stop and not waited for: they are daemon threads blocked on a queue, and
    joining them would wait out their 100 ms poll, twice. Busy, it stops gracefully."""
    global _worker
    with _lock:
        worker, _worker = _worker, None
    if worker is None:
        return
    if _idle(worker):
        for thread in [*worker.workers, *worker.consumers.values()]:
            thread.stop()
        return
    worker.stop(timeout=10_000)


# --- the outbox sweeper of the single-machine server ---------------------------------------------


def start_sweeper() -> None:
    """`intake serve` without Redis: the outbox sweeper (`intake.workers.outbox.sweep`) in a thread
    of this process, as `intake worker` runs it with Redis. Messages queued in memory by an `intake
    serve` that was killed are gone with it; the next one sends them again once their rows are
    older than `outbox_resend_after_s`, and gives a row to pending work that has none. Not for
    `intake check`, whose process lives for one dossier. Idempotent."""
    global _sweeper
    with _lock:
        if _sweeper is not None and _sweeper.is_alive():
            return
        _sweeper_stop.clear()
        _sweeper = threading.Thread(target=_sweep_loop, name="intake-sweeper", daemon=True)
        _sweeper.start()
    atexit.register(stop_sweeper)


def _sweep_loop() -> None:
    from intake.workers.outbox import sweep

    interval = get_settings().sweep_interval_s
    while not _sweeper_stop.wait(interval):
        try:
            sweep()
        except Exception:  # noqa: BLE001 - the database busy for a moment: the next pass retries
            log.exception("outbox sweeper pass failed")


def stop_sweeper(timeout: float = 10.0) -> None:
    """Stop the sweeper thread (after its current pass)."""
    global _sweeper
    _sweeper_stop.set()
    with _lock:
        thread, _sweeper = _sweeper, None
    if thread is not None and thread is not threading.current_thread():
        thread.join(timeout)
