"""The end of a job on the workers: shutdown() gets a deadline, as init() and run() do.

Removing the entry-script plugin makes every worker call the entry script's ``shutdown()``.
A ``shutdown()`` that hangs must not hold a job whose mini-batches all finished: the driver
waits at most ``retry_settings.timeout`` seconds, records that it stopped waiting, and has
the worker processes replaced (their nannies start fresh ones), so the output is written and
the job ends with its true status.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

RESTART_TIMEOUT = 60.0


def unregister_with_deadline(
    client: Any, plugin_name: str, seconds: float, log: Callable[[str], None]
) -> bool:
    """Remove the plugin (each worker runs ``shutdown()``), waiting at most ``seconds``.

    Returns whether every worker finished in time. Errors of the removal itself are
    ignored, as before: the job's result no longer depends on the workers.
    """
    finished = threading.Event()

    def remove() -> None:
        try:
            with contextlib.suppress(Exception):
                client.unregister_worker_plugin(plugin_name)
        finally:
            finished.set()

    threading.Thread(target=remove, name="dask-parallel-shutdown", daemon=True).start()
    if finished.wait(seconds):
        return True
    log(
        f"shutdown() did not return within {seconds:g} s (retry_settings.timeout) on every worker; "
        "the job goes on without waiting, and the worker processes are replaced."
    )
    threading.Thread(
        target=_replace_workers, args=(client,), name="dask-parallel-replace", daemon=True
    ).start()
    return False


def _replace_workers(client: Any) -> None:
    """Restart every worker process (through its nanny); best effort, in the background."""
    with contextlib.suppress(Exception):
        workers = list(client.scheduler_info().get("workers", {}))
        if workers:
            client.restart_workers(workers=workers, timeout=RESTART_TIMEOUT, raise_for_error=False)
