"""The process-wide settings a job's script sees: argv, environment, cwd, sys.path.

A worker process may host several jobs one after another or side by side (pipeline steps);
each activates its own settings before init() and run(), and the process's own are put
back when the last job leaves. ``current_host()`` is read by
``azureml_user.parallel_run.EntryScript``."""

from __future__ import annotations

import contextlib
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dask_parallel.worker.host import EntryScriptHost


_current_host: EntryScriptHost | None = None
_baseline: dict[str, Any] | None = None


applied_environment: dict[str, str] = {}


def restore_environment(names: set[str]) -> None:
    for name in names:
        if _baseline is not None and name in _baseline["env"]:
            os.environ[name] = _baseline["env"][name]
        else:
            os.environ.pop(name, None)


def remember_baseline() -> None:
    """The process's own argv, environment, cwd and sys.path, before any job changed them."""
    global _baseline
    if _baseline is None:
        _baseline = {
            "env": dict(os.environ),
            "cwd": os.getcwd(),
            "argv": list(sys.argv),
            "path": list(sys.path),
        }


def set_current(host: EntryScriptHost) -> None:
    global _current_host
    _current_host = host


def clear_current(host: EntryScriptHost) -> None:
    global _current_host
    if _current_host is host:
        _current_host = None


def current_host() -> EntryScriptHost | None:
    return _current_host


def restore_process(module_name: str, module: Any) -> None:
    """Put back what the process looked like before any job, for the jobs to come."""
    if _baseline is None:
        return
    restore_environment(set(applied_environment))
    applied_environment.clear()
    with contextlib.suppress(OSError):
        os.chdir(_baseline["cwd"])
    sys.argv[:] = _baseline["argv"]
    sys.path[:] = _baseline["path"]
    if sys.modules.get(module_name) is module:
        sys.modules.pop(module_name, None)
