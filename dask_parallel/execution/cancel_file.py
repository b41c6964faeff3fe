"""Cancel a running job from another shell, process or host: a request file the driver polls.

``dask-parallel cancel RUN_DIR`` (or ``handle.cancel()``, or :func:`request_cancel`)
writes ``RUN_DIR/cancel.request``; while a job runs, :func:`watch_cancel_requests` looks
for it every second and ends the job as "Canceled": in-flight mini-batches are canceled,
finished ones stay in the ledger, and ``resume`` continues from there. A file works
wherever the run directory is shared (NFS, a cluster's home folder), without a signal
reaching the driver's host.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator

from dask_parallel.execution.state import JobState
from dask_parallel.rundir.status import CANCEL_REQUEST

POLL_SECONDS = 1.0
PROCESS_STARTED = time.time()  # requests older than this process are left over from another run


def request_file(run_dir: str) -> str:
    return os.path.join(os.path.abspath(run_dir), CANCEL_REQUEST)


def request_cancel(run_dir: str, reason: str | None = None) -> str:
    """Ask the job running in ``run_dir`` to stop; return the request file's path."""
    path = request_file(run_dir)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no user name in some containers
        user = "unknown"
    record = {
        "time": time.time(),
        "host": socket.gethostname(),
        "user": user,
        "pid": os.getpid(),
        "reason": reason,
    }
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(record, handle)
    os.replace(temporary, path)
    return path


def _read(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as handle:
            record = json.load(handle)
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def _describe(path: str) -> str:
    record = _read(path)
    if not record:
        return "The job was canceled by a cancel request."
    who = f"{record.get('user', 'unknown')}@{record.get('host', 'unknown')}"
    reason = f": {record['reason']}" if record.get("reason") else ""
    return f"The job was canceled by a cancel request from {who}{reason}."


@contextlib.contextmanager
def watch_cancel_requests(
    run_dir: str,
    state: JobState,
    log: Callable[[str], None] | None = None,
    interval: float = POLL_SECONDS,
) -> Iterator[None]:
    """While the block runs, end ``state`` as "Canceled" once a cancel request appears.

    A request is consumed when it is acted on, and one left when the block ends is
    removed: a resumed job is not canceled by the request that stopped its predecessor. A
    request made before this process started (by a driver that died) is removed at the
    start; one made since (``handle.cancel()`` or ``dask-parallel cancel`` right after
    ``run --detach``) is honoured.
    """
    path = request_file(run_dir)
    if os.path.exists(path) and float(_read(path).get("time") or 0.0) < PROCESS_STARTED:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
    stop = threading.Event()

    def poll() -> None:
        while not stop.wait(interval):
            if state.finished:
                return
            if os.path.exists(path):
                message = _describe(path)
                if log is not None:
                    log(message)
                state.abort(message, status="Canceled")
                with contextlib.suppress(FileNotFoundError):
                    os.remove(path)
                return

    watcher = threading.Thread(target=poll, name="dask-parallel-cancel-watch", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        stop.set()
        watcher.join(timeout=5)
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
