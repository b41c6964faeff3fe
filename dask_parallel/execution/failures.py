"""What a job that stopped on an exception outside the driver's rules reports.

The driver loop decides a job's status from its mini-batches; connecting to the cluster,
registering the worker plugin, creating the output folders or writing the outputs can fail
on their own. Such a job still ends with a terminal status: the exception is either the
environment's (a lost connection, a full disk: the job failed) or a problem the user can fix
(``DaskParallelError``: raised again after the status is written), or a bug (raised again).
"""

from __future__ import annotations

MEMORY_HINT = (
    " A worker process closed its connection; a worker that exceeds its memory_limit is killed "
    "by its nanny before it can answer. Raise the workers' memory limit "
    "(dask-parallel.local-cluster.memory-limit for the local cluster, `dask worker "
    "--memory-limit` or the cluster's memory_limit elsewhere) and check logs/sys/ for the worker's log."
)


def is_environment_failure(exc: BaseException) -> bool:
    """A failure of the machine or the cluster (the job failed), not of the job's definition or our code."""
    from dask_parallel.errors import DaskParallelError

    return isinstance(exc, (OSError, TimeoutError, MemoryError)) and not isinstance(exc, DaskParallelError)


def failure_reason(exc: BaseException, during: str) -> str:
    """One paragraph naming what failed, the exception, and how to go on."""
    reason = f"The job stopped while {during}: {type(exc).__name__}: {exc}".rstrip(": ")
    if not reason.endswith("."):
        reason += "."
    if type(exc).__name__ in ("CommClosedError", "KilledWorker"):
        reason += MEMORY_HINT
    return reason


__all__ = ["failure_reason", "is_environment_failure"]
