"""A process-wide cancel request, for jobs that run in threads (the steps of a pipeline).

Ctrl-C and SIGTERM reach the main thread only. When a pipeline is interrupted, its runner
calls :func:`request`; every driver loop and command step checks :func:`requested` about
once a second and stops as a Ctrl-C would: in-flight mini-batches are canceled, the step
is recorded as Canceled, and what finished is kept for ``resume``.
"""

from __future__ import annotations

import threading

_REQUESTED = threading.Event()


def request() -> None:
    """Ask every running job of this process to stop."""
    _REQUESTED.set()


def clear() -> None:
    """Forget an earlier request (a new pipeline run starts)."""
    _REQUESTED.clear()


def requested() -> bool:
    return _REQUESTED.is_set()


__all__ = ["clear", "request", "requested"]
