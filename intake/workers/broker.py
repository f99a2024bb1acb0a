"""The Dramatiq broker: Redis when INTAKE_BROKER_URL is set, else Dramatiq's in-memory broker.

The in-memory broker serves the single-machine mode (`intake check`, `intake serve` without Redis):
the same actors run in an in-process `dramatiq.Worker`. It must be configured before the actors
module is imported, which `configure()` (called at the top of `intake.workers.actors`) guarantees.
"""

from __future__ import annotations

import atexit
import logging
import threading

import dramatiq
from dramatiq.brokers.stub import StubBroker

from intake.settings import get_settings

log = logging.getLogger(__name__)

#: OCR-heavy work (reading a file) and light work (judging a dossier) have their own queues, so a
#: flood of scans never delays verdicts and workers can be sized for each.
QUEUE_OCR = "intake-ocr"
QUEUE_CHECKS = "intake-checks"
QUEUES = (QUEUE_OCR, QUEUE_CHECKS)

_lock = threading.Lock()
_broker: dramatiq.Broker | None = None
_worker: dramatiq.Worker | None = None


def configure() -> dramatiq.Broker:
    """Create (once) and install the broker the settings ask for."""
    global _broker
    with _lock:
        if _broker is not None:
            return _broker
        settings = get_settings()
        if settings.broker_url:
            broker: dramatiq.Broker = _redis_broker(settings)
        else:
            broker = StubBroker()
            broker.emit_after("process_boot")
            # The in-process worker shares its process with the CLI or the web service: no
            # metrics server of its own (the web service exposes /metrics).
            for middleware in list(broker.middleware):
                if type(middleware).__name__ == "Prometheus":
                    broker.middleware.remove(middleware)
        dramatiq.set_broker(broker)
        _broker = broker
        return broker


def _redis_broker(settings) -> dramatiq.Broker:
    """Dramatiq's Redis broker, with a heartbeat that makes a dead worker's messages come back in seconds.

    Dramatiq requeues the messages a worker process had taken once its heartbeat is older than
    `heartbeat_timeout`, but only during a "maintenance" that a command triggers by chance (one in
    a thousand): with an idle queue that took minutes. Here every worker process (and the sweeper of
    `intake worker`) heartbeats and runs that maintenance on every queue every quarter of the
    timeout, so a killed worker's messages are back within about 1.25 x the timeout (10 s by
    default). Socket timeouts keep a hung Redis from hanging a web request that sends a message.
    """
    from dramatiq.brokers.redis import RedisBroker

    class IntakeRedisBroker(RedisBroker):
        _maintaining = threading.local()

        def _should_do_maintenance(self, command: str) -> int:
            if getattr(self._maintaining, "on", False):
                return 1
            return super()._should_do_maintenance(command)

        def heartbeat(self) -> None:
            """Heartbeat, and give back the messages of workers whose heartbeat stopped."""
            self._maintaining.on = True
            try:
                for queue in sorted(self.queues | self.delay_queues) or QUEUES:
                    self.do_qsize(queue)
            finally:
                self._maintaining.on = False

    import redis

    broker = IntakeRedisBroker(
        client=redis.Redis.from_url(settings.broker_url, socket_connect_timeout=5, socket_timeout=30,
                                    health_check_interval=30),
        namespace="intake",
        heartbeat_timeout=settings.redis_heartbeat_timeout_ms,
        maintenance_chance=settings.redis_maintenance_chance,
    )
    # Worker processes export Prometheus metrics (inert in processes that only send).
    from intake.monitoring import WorkerMetrics

    broker.add_middleware(WorkerMetrics())
    broker.add_middleware(Heartbeat(settings.redis_heartbeat_timeout_ms / 4000))
    return broker


class Heartbeat(dramatiq.Middleware):
    """In worker processes only: a thread calling the broker's `heartbeat()` every `interval` seconds.

    A process whose threads are all busy reading long pieces fetches nothing, hence sent no
    heartbeat: without this thread its messages would be taken for a dead worker's.
    """

    def __init__(self, interval: float) -> None:
        self.interval = max(0.2, interval)
        self._stop = threading.Event()

    def after_worker_boot(self, broker, worker) -> None:
        # Load the work's modules now, not inside the first message: a time limit firing in the
        # middle of a first import would leave half-imported modules behind.
        import intake.jobs  # noqa: F401
        import intake.workers.outbox  # noqa: F401

        self._stop.clear()
        threading.Thread(target=self._run, args=(broker,), name="intake-heartbeat", daemon=True).start()

    def before_worker_shutdown(self, broker, worker) -> None:
        self._stop.set()

    def _run(self, broker) -> None:
        while not self._stop.wait(self.interval):
            try:
                broker.heartbeat()
            except Exception as exc:  # noqa: BLE001 - Redis away: the next beat tries again
                log.debug("heartbeat failed: %s", type(exc).__name__)


def is_embedded() -> bool:
    return isinstance(configure(), StubBroker)


def start_embedded_worker() -> dramatiq.Worker | None:
    """Start the in-process worker when the broker is in-memory (idempotent); None with Redis."""
    global _worker
    broker = configure()
    if not isinstance(broker, StubBroker):
        return None
    import intake.workers.actors  # noqa: F401 - declares the actors on this broker

    with _lock:
        if _worker is None:
            if not any(isinstance(m, _Settled) for m in broker.middleware):
                broker.add_middleware(_Settled())
            _worker = dramatiq.Worker(broker, worker_threads=get_settings().worker_threads, worker_timeout=100)
            _worker.start()
            atexit.register(stop_embedded_worker)
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


def stop_embedded_worker() -> None:
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
