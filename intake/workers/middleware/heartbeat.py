"""A thread that heartbeats to Redis from a worker process whose threads are all busy.

The work's modules are loaded with the actors (`intake.workers.actors` imports them), before the
first message: a time limit firing in the middle of a first import would leave half-imported modules.
"""

from __future__ import annotations

import logging
import threading

import dramatiq

log = logging.getLogger(__name__)


class Heartbeat(dramatiq.Middleware):
    """In worker processes only: a thread calling the broker's `heartbeat()` every `interval` seconds.

    A process whose threads are all busy reading long pieces fetches nothing, hence sent no
    heartbeat: without this thread its messages would be taken for a dead worker's.
    """

    def __init__(self, interval: float) -> None:
        self.interval = max(0.2, interval)
        self._stop = threading.Event()

    def after_worker_boot(self, broker, worker) -> None:
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
