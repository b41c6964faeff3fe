"""Stop a hung call for real: replace the worker process when a deadline passes.

Dask cannot cancel a running task, and Python cannot interrupt a thread stuck in C code,
so the only reliable stop is the process itself. The watchdog writes why it fired, dumps
the stuck thread's stack for the user, and exits; the Dask nanny starts a fresh process.

A worker inside the caller's own process (``Client(processes=False)``) must not end that
process (a notebook's kernel): there the watchdog raises :class:`AttemptTimedOut` in the
stuck thread instead, which stops Python code (not a call stuck in C).
"""

from __future__ import annotations

import os
import sys
import threading
import time
import traceback
from collections.abc import Callable

TIMEOUT_EXIT_CODE = 71  # the code Azure's driver uses for "task timeout"


class AttemptTimedOut(BaseException):
    """Raised in a call the watchdog stopped, in a worker that must not exit."""


def _interrupt(thread_id: int) -> None:
    import ctypes

    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), ctypes.py_object(AttemptTimedOut))


class Watchdog:
    """One background thread per process; ``arm`` before a call, ``disarm`` after it."""

    def __init__(self, on_fire: Callable[[str, str], None], exit_process: bool = True) -> None:
        self._on_fire = on_fire
        self._exit_process = exit_process
        self._lock = threading.Condition()
        self._deadline: float | None = None
        self._label = ""
        self._target_thread: int | None = None
        self._thread = threading.Thread(target=self._loop, name="dask-parallel-watchdog", daemon=True)
        self._thread.start()

    def arm(self, seconds: float, label: str) -> None:
        with self._lock:
            self._deadline = time.monotonic() + seconds
            self._label = label
            self._target_thread = threading.get_ident()
            self._lock.notify()

    def disarm(self) -> None:
        with self._lock:
            self._deadline = None

    def _loop(self) -> None:
        while True:
            with self._lock:
                while self._deadline is None:
                    self._lock.wait()
                remaining = self._deadline - time.monotonic()
                if remaining > 0:
                    self._lock.wait(remaining)
                    continue
                label, thread_id = self._label, self._target_thread
            frame = sys._current_frames().get(thread_id) if thread_id else None
            stack = "".join(traceback.format_stack(frame)) if frame is not None else ""
            try:
                self._on_fire(label, stack)
            finally:
                if self._exit_process:
                    os._exit(TIMEOUT_EXIT_CODE)
            with self._lock:
                self._deadline = None
            if thread_id:
                _interrupt(thread_id)
