"""Refuse to start worker processes from an unguarded top-level ``run()`` call.

Dask's local worker processes start by importing the main script again (the ``spawn``
start method). A script that calls ``dask_parallel.run(job)`` at its top level, outside
``if __name__ == "__main__":``, would then start the job again inside every starting
worker, which fails with multiprocessing bootstrap errors, over and over. This module
notices that case before any process starts, and names the fix.
"""

from __future__ import annotations

import ast
import multiprocessing
import os
import sys
from types import FrameType
from typing import Any

from dask_parallel.errors import JobValidationError

MESSAGE = (
    "dask_parallel.run() is called at the top level of {where} without "
    'if __name__ == "__main__":. Dask starts its worker processes by importing that script '
    "again, which would start the job again in every worker. Put the call (and the code that "
    'only the main process should run) under if __name__ == "__main__":.'
)


def in_spawned_bootstrap() -> bool:
    """True while a spawned child process imports the parent's main script."""
    return (
        multiprocessing.parent_process() is not None
        and "__mp_main__" in sys.modules
        and (sys.modules.get("__main__") is sys.modules.get("__mp_main__"))
    )


def _guarded_lines(tree: ast.Module) -> list[tuple[int, int]]:
    spans = []
    for node in tree.body:
        if (
            isinstance(node, ast.If)
            and "__name__" in ast.unparse(node.test)
            and "__main__" in ast.unparse(node.test)
        ):
            spans.append((node.lineno, node.end_lineno or node.lineno))
    return spans


def _unguarded_main_call(frame: FrameType | None) -> str | None:
    """``file:line`` of a top-level call in the main script that no main guard covers."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if not path or not os.path.isfile(path):
        return None  # Jupyter, python -c, an interactive session: no re-import
    spec = getattr(main, "__spec__", None)
    if spec is not None and (spec.name == "__main__" or spec.name.endswith(".__main__")):
        return None  # python -m package: multiprocessing does not re-import a package's __main__
    target = os.path.abspath(path)
    while frame is not None:
        if frame.f_code.co_name == "<module>" and os.path.abspath(frame.f_code.co_filename) == target:
            try:
                with open(path, encoding="utf-8") as handle:
                    tree = ast.parse(handle.read(), filename=path)
            except (OSError, SyntaxError, UnicodeDecodeError):
                return None
            line = frame.f_lineno
            if any(start <= line <= end for start, end in _guarded_lines(tree)):
                return None
            return f"{path} line {line}"
        frame = frame.f_back
    return None


def starts_local_processes(client: Any) -> bool:
    """True when running with ``client`` starts the built-in LocalCluster's processes."""
    from dask_parallel import config

    return client is None and not config.get("cluster.address") and not config.get("cluster.class")


def check_main_guard(client: Any = None) -> None:
    """Raise :class:`JobValidationError` when local worker processes would re-run the job."""
    if not starts_local_processes(client):
        return
    if in_spawned_bootstrap():
        raise JobValidationError(MESSAGE.format(where="the main script"))
    where = _unguarded_main_call(sys._getframe(1))
    if where is not None:
        raise JobValidationError(MESSAGE.format(where=where))


__all__ = ["check_main_guard", "starts_local_processes"]
