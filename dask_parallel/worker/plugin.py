"""Dask glue: the worker plugin that hosts a job's entry script, and the task that runs one attempt."""

from __future__ import annotations

from typing import Any

from distributed import Worker, WorkerPlugin, get_worker

from dask_parallel.batching import MiniBatch
from dask_parallel.execution.events import AttemptResult
from dask_parallel.worker.host import EntryScriptHost
from dask_parallel.worker.runtime_spec import RuntimeSpec


def plugin_name(job_id: str) -> str:
    return f"dask-parallel-{job_id}"


class EntryScriptPlugin(WorkerPlugin):
    """Hosts one job's entry script in every worker process, including replacements.

    Each worker unpickles its own copy of the plugin, so each holds its own host (even
    several in-process workers of one LocalCluster).
    """

    def __init__(self, spec: RuntimeSpec) -> None:
        self.spec = spec
        self.name = plugin_name(spec.job_id)
        self.host: EntryScriptHost | None = None

    def setup(self, worker: Worker) -> None:
        self.host = EntryScriptHost(self.spec, worker)

    def teardown(self, worker: Worker) -> None:
        host, self.host = self.host, None
        if host is not None:
            host.shutdown()


def run_mini_batch(
    job_id: str, mb: MiniBatch, attempt: int, token: str, payload: dict[str, bytes | str] | None = None
) -> AttemptResult:
    """The Dask task: one attempt of one mini-batch on this worker's host.

    ``payload`` carries the mini-batch's local input files for a worker that cannot see
    the client's disk: client path -> bytes, or -> the URL of its staged copy.
    """
    worker = get_worker()
    plugin = worker.plugins.get(plugin_name(job_id))
    if not isinstance(plugin, EntryScriptPlugin):
        raise RuntimeError(f"dask_parallel job {job_id} is not registered on worker {worker.address}")
    if plugin.host is None:  # the task arrived before the plugin's setup finished
        plugin.setup(worker)
    assert plugin.host is not None
    return plugin.host.run_attempt(mb, attempt, token, payload)


def finish_job(job_id: str, dask_worker: Any = None) -> dict[str, dict[str, bytes]] | None:
    """Run by the driver on every worker at the end (``client.run``): call shutdown() and
    return what the log and output files gained since the last result."""
    plugin = (dask_worker.plugins if dask_worker is not None else {}).get(plugin_name(job_id))
    host = getattr(plugin, "host", None)
    if host is None:
        return None
    host.shutdown()
    return host.take_remaining_files()
