"""The worker processes' Prometheus metrics: Dramatiq's own middleware, inert where no worker runs.

intake's gauges (queue depths, pending work, the outbox) are not here: the web service serves them on
/metrics (`intake.monitoring`).
"""

from __future__ import annotations

import os

from dramatiq.middleware.prometheus import Prometheus


class WorkerMetrics(Prometheus):
    """Dramatiq's Prometheus middleware, made safe in processes that only send messages.

    The Redis broker is also built by `intake check`, `intake serve` and `intake reprocess`, which
    never boot a worker: there the middleware stays inert (Dramatiq's would fail on a re-enqueued
    message before its metrics exist). In `intake worker` processes it counts messages, and the
    dramatiq master forks its exposition server on `dramatiq_prom_host:dramatiq_prom_port`
    (default 0.0.0.0:9191), which aggregates every process through the `dramatiq_prom_db` folder.
    Port "0" turns the server off.
    """

    booted = False

    @property
    def forks(self):
        if os.environ.get("dramatiq_prom_port") == "0":
            return []
        return super().forks

    def after_process_boot(self, broker):
        super().after_process_boot(broker)
        self.booted = True

    def after_worker_shutdown(self, broker, worker):
        if self.booted:
            super().after_worker_shutdown(broker, worker)

    def after_nack(self, broker, message):
        if self.booted:
            super().after_nack(broker, message)

    def after_enqueue(self, broker, message, delay):
        if self.booted:
            super().after_enqueue(broker, message, delay)

    def before_delay_message(self, broker, message):
        if self.booted:
            super().before_delay_message(broker, message)

    def before_process_message(self, broker, message):
        if self.booted:
            super().before_process_message(broker, message)

    def after_process_message(self, broker, message, *, result=None, exception=None):
        if self.booted:
            super().after_process_message(broker, message, result=result, exception=exception)

    after_skip_message = after_process_message
