"""intake's Dramatiq middleware, one concern per module, as Dramatiq keeps its own in `dramatiq/middleware/`.

- `metrics.WorkerMetrics`: the worker processes' Prometheus metrics (Dramatiq's `Prometheus`, inert in
  processes that only send messages);
- `heartbeat.Heartbeat`: a thread that keeps a busy worker process from being taken for a dead one.

The Redis broker (`intake.workers.broker`) installs both. Nothing here imports the rest of intake.
"""
