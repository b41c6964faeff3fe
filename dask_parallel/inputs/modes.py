"""Input and output modes (``ro_mount``, ``download``, ``direct``, ...) with their local meaning.

On Azure a mode says how data reaches the compute node. Here:

* local paths are used where they are, whatever the mode;
* ``direct`` passes the URI itself (the script or the engine reads it with fsspec);
* the major input in a mount mode (``ro_mount``, ``mount``, ``eval_mount``) is read in
  place through fsspec by the workers;
* ``download`` / ``eval_download`` of remote data, and remote side inputs in any mode but
  ``direct``, are copied into the run directory first, so scripts get a local path;
* outputs on remote storage are written locally then uploaded at the end, for both
  ``rw_mount`` and ``upload``; local outputs are written in place.

Invalid combinations are rejected with Azure's messages, before anything runs.
"""

from __future__ import annotations

import copy
import os
from typing import Any

from dask_parallel.errors import JobValidationError
from dask_parallel.jobs.entities import Input
from dask_parallel.paths import filesystem, is_remote, normalize_path
from dask_parallel.spec.sizes import is_binding

MOUNT_MODES = ("mount", "ro_mount", "eval_mount")
DOWNLOAD_MODES = ("download", "eval_download")
TABULAR_DIRECT_MESSAGE = "To use mltable tabular data, it is required to use 'direct' mode"


def _is_tabular_mltable(uri: str) -> bool:
    from dask_parallel.inputs import mltable

    try:
        return mltable.load(uri).is_tabular
    except JobValidationError:
        return False  # a missing or broken MLTable is reported by the input planner


def check_major_input_mode(name: str, value: Input, uri: str, partition_keys: Any = None) -> None:
    """Reject the mode combinations Azure rejects for the input that is split."""
    if value.type != "mltable" or value.mode in (None, "direct"):
        return
    if partition_keys:
        raise JobValidationError(
            f"inputs.{name}: mode {value.mode!r}: partition_keys require the input in 'direct' mode; "
            "set mode='direct'."
        )
    if _is_tabular_mltable(uri):
        raise JobValidationError(
            f"inputs.{name}: mode {value.mode!r}: {TABULAR_DIRECT_MESSAGE}. The MLTable at {uri!r} "
            "has a read transformation (tabular data); set mode='direct' (InputOutputModes.DIRECT)."
        )


def download(uri: str, target: str) -> str:
    """Copy a remote file or folder to ``target`` (once) and return the local path."""
    fs, path = filesystem(uri)
    if os.path.exists(target):
        return target
    partial = target + ".partial"
    if fs.isdir(path):
        os.makedirs(partial, exist_ok=True)
        fs.get(path.rstrip("/") + "/", partial + "/", recursive=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        fs.get_file(path, partial)
    os.replace(partial, target)
    return target


def check_input_modes(job: Any, *, base_dir: str) -> None:
    """The mode checks of :func:`apply_input_modes`, without placing anything (``validate``)."""
    major = getattr(job, "major_input_name", None)
    value = job.inputs.get(major) if major is not None else None
    if not isinstance(value, Input) or not value.is_data or value.path is None or is_binding(value.path):
        return
    uri = normalize_path(value.path, base_dir)
    check_major_input_mode(major, value, uri, getattr(job, "partition_keys", None))


def apply_input_modes(job: Any, *, base_dir: str, run_dir: str) -> Any:
    """Return ``job`` with its data inputs placed as their modes say (a copy if anything moved).

    Checks the major-input mode first (tabular MLTable needs ``direct``), then downloads
    remote data in download modes (and remote side inputs not in ``direct`` mode) into
    ``run_dir/inputs/<name>``.
    """
    major = getattr(job, "major_input_name", None)
    changed = None
    for name, value in job.inputs.items():
        if not isinstance(value, Input) or not value.is_data or value.path is None or is_binding(value.path):
            continue
        uri = normalize_path(value.path, base_dir)
        if name == major:
            check_major_input_mode(name, value, uri, getattr(job, "partition_keys", None))
        if not is_remote(uri) or value.mode == "direct":
            continue
        if name == major and value.mode not in DOWNLOAD_MODES:
            continue  # mounted major input: the workers read it through fsspec
        local = os.path.join(run_dir, "inputs", name, os.path.basename(uri.rstrip("/")) or name)
        if changed is None:
            changed = copy.deepcopy(job)
        placed = copy.copy(value)
        placed.path = download(uri, local)
        changed.inputs[name] = placed
    return changed if changed is not None else job


__all__ = ["TABULAR_DIRECT_MESSAGE", "apply_input_modes", "check_input_modes", "check_major_input_mode"]
