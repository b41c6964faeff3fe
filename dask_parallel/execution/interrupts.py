"""Hold Ctrl-C and SIGTERM while a finished job records its result.

Once the driver loop has decided a job's status, writing the outputs, job_result.txt and
the timeline picture must not be cut in half: a stop asked for then would turn a completed
job into a canceled one with a half-written record. The signals are noted and reported.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

HELD = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def hold_interrupts() -> Iterator[list[int]]:
    """Yield the list of stop signals that arrived inside; outside the main thread, a no-op."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def note(signum: int, frame: object) -> None:
        received.append(signum)

    previous = {number: signal.signal(number, note) for number in HELD}
    try:
        yield received
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def held_note(received: list[int], what: str) -> str | None:
    """The note to print when a stop signal was held back, else None."""
    if not received:
        return None
    names = ", ".join(sorted({signal.Signals(number).name for number in received}))
    return f"{names} arrived while {what}; the job had already finished, so its result stands."


__all__ = ["held_note", "hold_interrupts"]
