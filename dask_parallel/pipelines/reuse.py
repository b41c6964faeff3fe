"""Command-step reuse: a deterministic command whose definition and inputs did not change
is not run again (parallel steps are reused by :mod:`dask_parallel.rundir.reuse` in ``api.run``).

The key hashes the step's definition (command or entry script and every setting), the
content of its code folder and the identity of every input (file paths, sizes and
versions; :mod:`dask_parallel.rundir.fingerprint`), and any output path the user chose. Records live in a
``.step-cache`` folder beside the run directories, and a record is used only while the
outputs it points at still exist.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

from dask_parallel.jobs.command import Command
from dask_parallel.jobs.entities import Input, Output
from dask_parallel.paths import exists, is_remote
from dask_parallel.rundir.atomic import write_json_atomic
from dask_parallel.rundir.fingerprint import code_fingerprint, digest, tree_fingerprint

CACHE_DIR = ".step-cache"


def _content(path: str) -> Any:
    """The identity of an input's files (sizes and versions), or the path if it is absent."""
    return tree_fingerprint(path) if exists(path) else path


def _plain(value: Any) -> Any:
    if isinstance(value, Input):
        data = {k: v for k, v in dataclasses.asdict(value).items() if v is not None}
        if value.is_data and value.path is not None:
            data["content"] = _content(value.path)
        return data
    if isinstance(value, Output):
        return dataclasses.asdict(value)
    if dataclasses.is_dataclass(value):
        return dataclasses.asdict(value)
    return value


def step_key(node: Command, code_dir: str, staged_outputs: set[str]) -> str:
    """A stable hash of everything that decides what the command step produces."""
    definition = {
        "kind": "command",
        "command": node.command,
        "env": node.environment_variables,
        "code": code_fingerprint(code_dir) if os.path.isdir(code_dir) else code_dir,
        "inputs": {k: _plain(v) for k, v in sorted(node.inputs.items())},
        "outputs": {
            k: _plain(v) for k, v in sorted(node.outputs.items()) if k not in staged_outputs and v is not None
        },
    }
    return digest(definition)[:32]


def lookup(cache_root: str, key: str) -> dict[str, Any] | None:
    """The record of an earlier successful run of the same step, if its outputs still exist."""
    path = os.path.join(cache_root, CACHE_DIR, f"{key}.json")
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            record = json.load(handle)
    except (OSError, ValueError):
        return None
    outputs = record.get("outputs", {})
    if any(not is_remote(uri) and not os.path.exists(uri) for uri in outputs.values()):
        return None
    return record


def remember(cache_root: str, key: str, record: dict[str, Any]) -> None:
    folder = os.path.join(cache_root, CACHE_DIR)
    os.makedirs(folder, exist_ok=True)
    write_json_atomic(os.path.join(folder, f"{key}.json"), record, indent=2, default=str)
