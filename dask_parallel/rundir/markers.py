"""Attempt markers in ``attempts/``: which attempts a process started, which the watchdog stopped.

Workers write them; the driver reads them when a submission vanished with its worker."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from dask_parallel.execution.state import Outcome

if TYPE_CHECKING:
    from dask_parallel.worker.runtime_spec import RuntimeSpec


def marker_path(spec: RuntimeSpec, token: str, kind: str) -> str:
    return os.path.join(spec.markers_dir, f"{token}.{kind}")


def _was_logged(spec: RuntimeSpec, token: str, kind: str) -> bool:
    """Whether some worker process logged ``token`` in its ``.<kind>`` file (read only after a loss)."""
    needle = f"{token}\n"
    try:
        names = os.listdir(spec.markers_dir)
    except FileNotFoundError:
        return False
    for name in names:
        if name.endswith(f".{kind}"):
            with open(os.path.join(spec.markers_dir, name), encoding="utf-8") as handle:
                if needle in handle.read():
                    return True
    return False


def classify_lost_attempt(spec: RuntimeSpec, token: str) -> tuple[Outcome, str]:
    """Why a submission vanished with its worker, read from the records it left.

    Each process appends the tokens it starts to its own ``attempts/<process>.started``
    file (one cheap write, no file created per attempt), and to ``<process>.initializing``
    the token whose attempt had to run init() first; the watchdog leaves
    ``attempts/<token>.timeout`` when it stops a call. A process that dies inside init()
    (a crash, or its replacement after another init() failure) is an init failure, which
    never uses up the mini-batch's attempts.
    """
    timeout_marker = marker_path(spec, token, "timeout")
    if os.path.exists(timeout_marker):
        with open(timeout_marker, encoding="utf-8") as handle:
            text = handle.read().strip()
        if text.startswith("init"):
            return Outcome.INIT_ERROR, text
        return Outcome.TIMEOUT, text
    if _was_logged(spec, token, "started"):
        return Outcome.PROCESS_DIED, (
            "the worker process running this attempt died (killed by the OS, out of memory, "
            "or crashed); see logs/sys/node/ for its last lines."
        )
    if _was_logged(spec, token, "initializing"):
        return Outcome.INIT_ERROR, (
            "init() failed: the worker process died while init() was running (it crashed, ran "
            "out of memory, or was replaced after an earlier init() failure); see logs/sys/node/."
        )
    return Outcome.NOT_STARTED, "the worker was lost before the attempt started"


def write_timeout_details(spec: RuntimeSpec, token: str, details: dict[str, Any]) -> None:
    """Where and since when the stopped attempt ran (written by the watchdog before exiting).

    Written before the ``.timeout`` marker, so a reader that sees the marker sees these too.
    """
    path = marker_path(spec, token, "timeout.json")
    with open(path + ".tmp", "w", encoding="utf-8") as handle:
        json.dump(details, handle)
    os.replace(path + ".tmp", path)


def read_timeout_details(spec: RuntimeSpec, token: str) -> dict[str, Any]:
    """The details :func:`write_timeout_details` left for ``token``; empty when there are none."""
    try:
        with open(marker_path(spec, token, "timeout.json"), encoding="utf-8") as handle:
            details = json.load(handle)
    except (OSError, ValueError):
        return {}
    return details if isinstance(details, dict) else {}
