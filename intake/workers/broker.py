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
            from dramatiq.brokers.redis import RedisBroker

            broker: dramatiq.Broker = RedisBroker(
                url=settings.broker_url,
                namespace="intake",
                heartbeat_timeout=settings.redis_heartbeat_timeout_ms,
                maintenance_chance=settings.redis_maintenance_chance,
            )
            # Worker processes export Prometheus metrics (inert in processes that only send).
            from intake.monitoring import WorkerMetrics

            broker.add_middleware(WorkerMetrics())
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
            _worker = dramatiq.Worker(broker, worker_threads=get_settings().worker_threads, worker_timeout=100)
            _worker.start()
            atexit.register(stop_embedded_worker)
        return _worker


def stop_embedded_worker() -> None:
    global _worker
    with _lock:
        if _worker is not None:
            _worker.stop(timeout=10_000)
            _worker = None
