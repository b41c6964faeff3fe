"""A preload for the workers of the local cluster: Ctrl-C is the client's to handle.

A terminal's Ctrl-C reaches every process of its process group, the local cluster's worker
processes included; each would die printing a KeyboardInterrupt traceback, while the
client is already canceling the job and closing them in order. Workers ignore SIGINT;
their nanny still stops them (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import signal
import threading
from typing import Any


def dask_setup(worker: Any) -> None:
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


__all__ = ["dask_setup"]
