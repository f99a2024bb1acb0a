"""The Dramatiq broker: Redis when INTAKE_BROKER_URL is set, else Dramatiq's in-memory broker.

The broker is chosen by the entry points (`intake check`, `intake serve` and the web app's startup,
`intake worker` and its worker processes, `intake reprocess`, the evaluation through
`intake.service`), by calling `configure()`; never when a module is imported. The in-memory broker
serves the single-machine mode: the same actors run in an in-process worker
(`intake.workers.embedded`).

Messages are sent by actor name (`send`): a process that only sends (the web service, `intake check`
with Redis) does not need the actors declared, and this module imports neither the actors nor the
outbox. The queues are declared here, so a message can be sent before any actor exists.
"""

from __future__ import annotations

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
#: The queue of each actor's messages (`intake.workers.actors` declares the actors on these).
QUEUE_OF_ACTOR = {"read_upload": QUEUE_OCR, "check_dossier": QUEUE_CHECKS, "record_failure": QUEUE_CHECKS}
#: The Redis key prefix of every intake queue (see `intake.monitoring` for the layout).
NAMESPACE = "intake"

_lock = threading.Lock()
_broker: dramatiq.Broker | None = None


def configure() -> dramatiq.Broker:
    """Create (once) and install the broker the settings ask for, with intake's queues declared."""
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
        for queue in QUEUES:
            broker.declare_queue(queue)
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
    import redis
    from dramatiq.brokers.redis import RedisBroker

    from intake.workers.middleware.heartbeat import Heartbeat
    from intake.workers.middleware.metrics import WorkerMetrics

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

    broker = IntakeRedisBroker(
        client=redis.Redis.from_url(settings.broker_url, socket_connect_timeout=5, socket_timeout=30,
                                    health_check_interval=30),
        namespace=NAMESPACE,
        heartbeat_timeout=settings.redis_heartbeat_timeout_ms,
        maintenance_chance=settings.redis_maintenance_chance,
    )
    # Worker processes export Prometheus metrics (inert in processes that only send).
    broker.add_middleware(WorkerMetrics())
    broker.add_middleware(Heartbeat(settings.redis_heartbeat_timeout_ms / 4000))
    return broker


def is_embedded() -> bool:
    """True when the broker is in-memory: the work runs in this process (`intake.workers.embedded`)."""
    return isinstance(configure(), StubBroker)


def redis_client():
    """A Redis client on the broker's server (to read the queues directly), None without Redis."""
    import redis

    url = get_settings().broker_url
    return redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=30) if url else None


#: Ids of the messages this process put on the in-memory broker. Such a message is lost only with
#: this process: a row whose message is not one of these was sent by a process now gone (an `intake
#: serve` killed with work queued), and the in-process sweeper sends it again.
_sent_here: set[str] = set()
_sent_lock = threading.Lock()


def send(actor_name: str, *args) -> str:
    """Send a message to an actor by its name; return its Redis message id (the Dramatiq message id
    with the in-memory broker). Raises when the broker is unreachable."""
    message = dramatiq.Message(queue_name=QUEUE_OF_ACTOR[actor_name], actor_name=actor_name, args=args,
                               kwargs={}, options={})
    message = configure().enqueue(message)
    redis_id = (message.options or {}).get("redis_message_id")
    if redis_id:
        return redis_id
    with _sent_lock:
        _sent_here.add(message.message_id)
    return message.message_id


def sent_by_this_process(message_id: str) -> bool:
    """Was this message put on the in-memory broker by this process (and so not lost)?"""
    with _sent_lock:
        return message_id in _sent_here


def exception_type(message_data: dict) -> str | None:
    """The exception type of a failed message: Dramatiq's Retries middleware keeps the traceback in
    the message's options (`options["traceback"]`), whose last unindented line is `package.Type: text`.

    This is what `record_failure` receives (`message.asdict()`, then `{"retries", "max_retries"}`: the
    exception itself is passed nowhere else) and what a dead letter holds in Redis.
    """
    trace = ((message_data.get("options") or {}).get("traceback") or "").strip()
    for line in reversed(trace.splitlines()):
        if line and not line.startswith((" ", "\t")):
            name = line.split(":", 1)[0].rsplit(".", 1)[-1].strip()
            return name or None
    return None
