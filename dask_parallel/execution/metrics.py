"""Prometheus metrics of running jobs: mini-batches, items, attempts, retries, durations.

Optional: with ``prometheus_client`` installed (the ``[metrics]`` extra) the counters below
are kept in its default registry, which

- Dask's dashboard already serves at ``/metrics`` when the scheduler runs in the driver's
  process (the built-in local cluster), and
- ``dask-parallel.metrics.port`` serves from the driver process itself (any cluster), for
  a Prometheus server to scrape.

Without ``prometheus_client`` nothing is counted; asking for a port then says which extra
to install. Every metric has the label ``job`` (the job's name).
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from typing import Any

from dask_parallel import config

logger = logging.getLogger("dask_parallel")

METRICS_EXTRA_MESSAGE = (
    "dask-parallel.metrics.port is set but prometheus_client is not installed: "
    "pip install 'dask_parallel[metrics]' (or leave the setting null)."
)
DURATION_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)

_lock = threading.Lock()
_metrics: dict[str, Any] | None = None
_served_port: int | None = None


def available() -> bool:
    return importlib.util.find_spec("prometheus_client") is not None


def _create() -> dict[str, Any]:
    from prometheus_client import Counter, Gauge, Histogram

    return {
        "mini_batches": Counter(
            "dask_parallel_mini_batches",
            "Mini-batches that reached a final state, by status (succeeded, failed).",
            ["job", "status"],
        ),
        "items": Counter(
            "dask_parallel_items", "Items of finished mini-batches, by status.", ["job", "status"]
        ),
        "attempts": Counter(
            "dask_parallel_attempts",
            "Mini-batch attempts, by outcome (succeeded, run_error, timeout, process_died, ...).",
            ["job", "outcome"],
        ),
        "retries": Counter("dask_parallel_retries", "Attempts the driver decided to retry.", ["job"]),
        "duration": Histogram(
            "dask_parallel_mini_batch_duration_seconds",
            "Seconds of each succeeded attempt, without init().",
            ["job"],
            buckets=DURATION_BUCKETS,
        ),
        "init": Histogram(
            "dask_parallel_init_duration_seconds",
            "Seconds of init() per worker process.",
            ["job"],
            buckets=DURATION_BUCKETS,
        ),
        "running": Gauge("dask_parallel_jobs_running", "Jobs running in this process.", ["job"]),
    }


def _registry() -> dict[str, Any] | None:
    global _metrics
    if not available():
        return None
    with _lock:
        if _metrics is None:
            _metrics = _create()
        return _metrics


def serve(port: int | None = None) -> int | None:
    """Serve the metrics over HTTP from this process (once); return the port, or None.

    The port is ``port``, else the ``dask-parallel.metrics.port`` setting; when neither is
    set, the port already served (or None).
    """
    global _served_port
    port = port if port is not None else config.get("metrics.port")
    if port is None:
        return _served_port
    if not available():
        raise ImportError(METRICS_EXTRA_MESSAGE)
    from prometheus_client import start_http_server

    with _lock:
        if _served_port is None:
            address = str(config.get("metrics.address") or "127.0.0.1")
            server, _ = start_http_server(int(port), addr=address)
            _served_port = server.server_port
            logger.info("Prometheus metrics at http://%s:%s/metrics", address, _served_port)
        return _served_port


class JobMetrics:
    """Counts one job's attempts into the Prometheus metrics (a no-op without prometheus_client)."""

    def __init__(self, job: str) -> None:
        self.job = job
        self.metrics = _registry()
        self._children: dict[tuple[Any, ...], Any] = {}

    def _child(self, name: str, *labels: Any) -> Any:
        """``metrics[name].labels(job, *labels)``, looked up once: labels() costs more than inc()."""
        key = (name, *labels)
        child = self._children.get(key)
        if child is None:
            assert self.metrics is not None
            child = self._children[key] = self.metrics[name].labels(self.job, *labels)
        return child

    def __enter__(self) -> JobMetrics:
        if self.metrics is not None:
            serve()
            self.metrics["running"].labels(self.job).inc()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.metrics is not None:
            self.metrics["running"].labels(self.job).dec()

    def attempt(self, result: Any, retried: bool, final: Any = None) -> None:
        """One finished attempt; ``final`` is the mini-batch's state when it reached its end."""
        metrics = self.metrics
        if metrics is None:
            return
        outcome = getattr(result.outcome, "value", str(result.outcome))
        self._child("attempts", outcome).inc()
        init_time = float(getattr(result, "init_time", 0.0) or 0.0)
        if init_time > 0:
            self._child("init").observe(init_time)
        if outcome == "succeeded":
            self._child("duration").observe(max(0.0, result.elapsed - init_time))
        if retried:
            self._child("retries").inc()
        if final is not None and final.final is not None:
            self._child("mini_batches", final.final).inc()
            total = final.total_items or 0
            won = final.succeeded_items if final.final == "succeeded" else 0
            self._child("items", "succeeded").inc(won)
            self._child("items", "failed").inc(max(0, total - won))
