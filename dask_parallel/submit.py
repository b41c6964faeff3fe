"""``dask_parallel.submit(job)``: start a job without waiting, and follow it with a handle.

The job runs in a background thread of this process (on the given client, or on a local
cluster of its own); the handle knows its run directory from the start, so
``dask-parallel status RUN_DIR`` works from another shell as well.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from dask_parallel.rundir.result import JobResult


class JobHandle:
    """A job started by :func:`submit`: ``status()``, ``wait()``, ``cancel()``, ``result()``."""

    def __init__(self, run_dir: str, name: str) -> None:
        self.run_dir = run_dir
        self.name = name
        self._result: JobResult | None = None
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"<JobHandle {self.name!r} {self.status()} run_dir={self.run_dir!r}>"

    def done(self) -> bool:
        """True once the job has ended (or failed to start)."""
        return self._thread is not None and not self._thread.is_alive()

    def status(self) -> str:
        """ "NotStarted" while the input is listed, then "Running" (or "CancelRequested"),
        then the final "Completed", "Failed" or "Canceled"."""
        if self.done():
            if self._result is not None:
                return self._result.status
            return "Invalid"
        from dask_parallel.rundir.status import NotARunDirectory, read_status

        try:
            return read_status(self.run_dir).status
        except NotARunDirectory:
            return "NotStarted"

    def wait(self, timeout: float | None = None) -> JobResult:
        """Wait for the job to end and return its result.

        Raises ``TimeoutError`` when it is still running after ``timeout`` seconds, and the
        job's own error (``JobValidationError`` for instance) when it could not start.
        """
        assert self._thread is not None
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError(
                f"job {self.name!r} is still running after {timeout} s; see its progress with "
                f"dask-parallel status {self.run_dir}"
            )
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result

    def result(self, timeout: float | None = None) -> JobResult:
        """The job's :class:`JobResult`, waiting for it if needed (same as :meth:`wait`)."""
        return self.wait(timeout)

    def cancel(self, reason: str | None = None) -> None:
        """Ask the job to stop: in-flight mini-batches are canceled, finished ones kept.

        Returns at once; ``wait()`` then returns a result with status "Canceled"
        (``resume(handle.run_dir)`` continues it later).
        """
        if self.done():
            return
        from dask_parallel.execution.cancel_file import request_cancel

        request_cancel(self.run_dir, reason)

    def _target(self, job: Any, options: dict[str, Any]) -> None:
        from dask_parallel.engine import run

        try:
            self._result = run(job, run_dir=self.run_dir, **options)
        except BaseException as exc:  # noqa: BLE001 - handed to wait()
            self._error = exc


def submit(
    job: Any,
    *,
    client: Any = None,
    run_dir: str | os.PathLike | None = None,
    show_progress: bool = False,
    base_dir: str | os.PathLike | None = None,
    force_rerun: bool | None = None,
) -> JobHandle:
    """Start ``job`` like :func:`dask_parallel.run` but return at once with a :class:`JobHandle`.

    The progress bar is off by default (a background job should not draw over a
    notebook's other cells); ``handle.status()`` and ``dask-parallel status`` show progress.

    Examples
    --------
    >>> handle = dask_parallel.submit(job)  # doctest: +SKIP
    >>> handle.status()  # doctest: +SKIP
    'Running'
    >>> result = handle.wait()  # doctest: +SKIP
    """
    from dask_parallel.engine import new_run_dir

    name = getattr(job, "name", None) or "parallel_job"
    target = os.path.abspath(os.fspath(run_dir)) if run_dir is not None else new_run_dir(name)
    handle = JobHandle(target, name)
    options = {
        "client": client,
        "show_progress": show_progress,
        "base_dir": base_dir,
        "force_rerun": force_rerun,
    }
    handle._thread = threading.Thread(
        target=handle._target, args=(job, options), name=f"dask-parallel-{name}", daemon=True
    )
    handle._thread.start()
    return handle
