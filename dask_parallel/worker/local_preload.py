"""A preload for the workers of the local cluster: the client speaks for them on the terminal.

A terminal's Ctrl-C reaches every process of its process group, the local cluster's worker
processes included; each would die printing a KeyboardInterrupt traceback, while the
client is already canceling the job and closing them in order. Workers ignore SIGINT;
their nanny still stops them (SIGTERM, then SIGKILL). The local scheduler lives in the
client process, so a worker's failed heartbeat only means the client is closing the
cluster: that traceback is not shown either.
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

CLOSING_NOISE = "Failed to communicate with scheduler during heartbeat"


class _ClosingNoise(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(CLOSING_NOISE)


def dask_setup(worker: Any) -> None:
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.getLogger("distributed.worker").addFilter(_ClosingNoise())


__all__ = ["dask_setup"]
