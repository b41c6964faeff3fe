"""Keep Dask's log lines about what the driver did on purpose off the user's terminal.

When init() fails everywhere or a job is canceled, the driver cancels the attempts still
in flight and workers are replaced; Dask then logs, at ERROR level, keys it could not
gather, tasks "marked as failed", a plugin broadcast to a closing worker, "Compute Failed"
with a traceback. Those are consequences, not causes: the job's own record (job_result.txt,
logs/) says what happened. They go to the ``dask_parallel`` logger at DEBUG level instead.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

EXPECTED = (
    "Couldn't gather keys",
    "Compute Failed",
    "marked as failed because",
    "broadcast to",
)
LOGGERS = ("distributed.scheduler", "distributed.client", "distributed.worker", "distributed.core")

logger = logging.getLogger("dask_parallel")


class _Expected(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a record that cannot be formatted is shown as it is
            return True
        if message.startswith(EXPECTED) or any(text in message for text in EXPECTED[2:]):
            logger.debug("dask: %s", message)
            return False
        return True


@contextlib.contextmanager
def quiet_expected_dask_errors() -> Iterator[None]:
    """Inside, Dask's lines about canceled attempts and replaced workers are not shown."""
    quiet = _Expected()
    loggers = [logging.getLogger(name) for name in LOGGERS]
    for each in loggers:
        each.addFilter(quiet)
    try:
        yield
    finally:
        for each in loggers:
            each.removeFilter(quiet)


__all__ = ["quiet_expected_dask_errors"]
