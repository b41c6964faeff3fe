"""Per-thread capture of ``print()`` output, without taking the process's streams away.

``contextlib.redirect_stdout`` swaps the process-wide ``sys.stdout``: with several worker
threads (or a worker inside the caller's own process, ``Client(processes=False)``) the swaps
interleave, the caller's prints land in a worker's log file and ``sys.stdout`` can be left
pointing at a file the worker later closes. Instead, while any entry-script host lives in
a process, ``sys.stdout`` and ``sys.stderr`` are wrapped once by a router that sends each
write to the file of the attempt running in the writing thread, and everything else to
the stream that was there before. When the last host leaves, the original streams are put
back (unless someone replaced them meanwhile, in which case theirs are left alone).
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator
from typing import Any, TextIO

_local = threading.local()
_lock = threading.Lock()
_users = 0


class RoutedStream:
    """Writes go to this thread's capture target, if any, else to the wrapped stream."""

    def __init__(self, fallback: TextIO, name: str) -> None:
        self._fallback = fallback
        self._name = name

    @property
    def fallback(self) -> TextIO:
        return self._fallback

    def _target(self) -> Any:
        return getattr(_local, self._name, None) or self._fallback

    def write(self, text: str) -> int:
        return self._target().write(text)

    def writelines(self, lines: Any) -> None:
        self._target().writelines(lines)

    def flush(self) -> None:
        target = self._target()
        with contextlib.suppress(ValueError):  # a closed capture file
            target.flush()

    def __getattr__(self, name: str) -> Any:  # encoding, fileno, isatty, ... of the real stream
        return getattr(self._target(), name)


def acquire() -> None:
    """A host starts using capture in this process: route ``sys.stdout``/``sys.stderr``."""
    global _users
    with _lock:
        _users += 1
        _install()


def release() -> None:
    """A host is done; the last one puts the original streams back."""
    global _users
    with _lock:
        _users = max(0, _users - 1)
        if _users:
            return
        for name in ("stdout", "stderr"):
            current = getattr(sys, name)
            if isinstance(current, RoutedStream):
                setattr(sys, name, current.fallback)


def _install() -> None:
    for name in ("stdout", "stderr"):
        current = getattr(sys, name)
        if not isinstance(current, RoutedStream):
            setattr(sys, name, RoutedStream(current, name))


@contextlib.contextmanager
def captured(stdout: TextIO, stderr: TextIO) -> Iterator[None]:
    """Send this thread's ``print()`` output (and ``sys.stderr`` writes) to the given files."""
    with _lock:
        _install()  # someone may have replaced sys.stdout since acquire()
    saved = getattr(_local, "stdout", None), getattr(_local, "stderr", None)
    _local.stdout, _local.stderr = stdout, stderr
    try:
        yield
    finally:
        _local.stdout, _local.stderr = saved
