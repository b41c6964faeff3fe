"""Close a cluster without losing the result of the job that ran on it.

Closing a cluster can fail after every mini-batch has finished: a Nanny that does not join
in time under load, a scheduler that went away first. The job's outcome does not depend on
it, so such an error is logged as a warning and the result is kept. An error raised by the
job itself is never replaced by one raised while closing.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any, TypeVar

logger = logging.getLogger("dask_parallel")

T = TypeVar("T")


@contextlib.contextmanager
def closing_quietly(manager: AbstractContextManager[T], what: str = "the Dask cluster") -> Iterator[T]:
    """Enter ``manager``; an exception from its ``__exit__`` is logged, not raised."""
    value = manager.__enter__()
    try:
        yield value
    except BaseException as raised:
        try:
            suppressed = manager.__exit__(type(raised), raised, raised.__traceback__)
        except Exception as exc:  # noqa: BLE001 - the job's own exception matters more
            _warn(what, exc)
            suppressed = False
        if not suppressed:
            raise
    else:
        try:
            manager.__exit__(None, None, None)
        except Exception as exc:  # noqa: BLE001 - the job finished; keep its result
            _warn(what, exc)


def _warn(what: str, exc: Any) -> None:
    logger.warning(
        "closing %s failed (%s: %s); the job's result is kept. Check that no Dask processes "
        "are left running.",
        what,
        type(exc).__name__,
        exc,
    )


__all__ = ["closing_quietly"]
