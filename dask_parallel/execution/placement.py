"""Whether the workers of a run see the client's disk: decided once per run.

``dask-parallel.shared-filesystem`` forces it (``true``/``false``); ``auto`` (the default)
writes a probe file into the run directory and asks every connected worker whether it
reads the same bytes there and finds the entry script at the client's path. Any worker
that does not, or no worker at all yet, means no shared disk: that mode works everywhere.
"""

from __future__ import annotations

import contextlib
import os
import uuid

from distributed import Client

from dask_parallel import config
from dask_parallel.errors import JobValidationError

PROBE_TIMEOUT = 60


def sees(probe_path: str, token: str, entry_script: str) -> bool:
    """On a worker: does it read ``token`` at ``probe_path`` and find ``entry_script``?"""
    try:
        with open(probe_path, encoding="utf-8") as handle:
            if handle.read() != token:
                return False
    except OSError:
        return False
    return os.path.isfile(entry_script)


def setting() -> str:
    value = config.get("shared-filesystem", "auto")
    text = str(value).strip().lower()
    if value is True or text in ("true", "yes", "1"):
        return "true"
    if value is False or text in ("false", "no", "0"):
        return "false"
    if text != "auto":
        raise JobValidationError(
            f"dask-parallel.shared-filesystem is {value!r}; use auto, true or false (docs/clusters.md)."
        )
    return "auto"


def detect_shared_filesystem(client: Client, run_dir: str, entry_script: str) -> tuple[bool, str]:
    """(shared, why) for this run's workers."""
    chosen = setting()
    if chosen != "auto":
        return chosen == "true", f"dask-parallel.shared-filesystem is {chosen}"
    os.makedirs(run_dir, exist_ok=True)
    token = uuid.uuid4().hex
    probe = os.path.join(run_dir, f".probe-{token[:12]}")
    with open(probe, "w", encoding="utf-8") as handle:
        handle.write(token)
    try:
        answers = client.run(sees, probe, token, entry_script, on_error="return", wait=True)
    finally:
        with contextlib.suppress(OSError):
            os.remove(probe)
    # A worker closing or restarting right now cannot answer: only the answers count.
    answered = {address: answer for address, answer in answers.items() if isinstance(answer, bool)}
    if not answered:
        return False, "no worker could be asked; assuming none sees this disk"
    blind = sorted(address for address, answer in answered.items() if not answer)
    if blind:
        return False, f"{len(blind)} of {len(answered)} workers do not see {run_dir} ({', '.join(blind[:3])})"
    return True, f"all {len(answered)} workers see {run_dir}"
