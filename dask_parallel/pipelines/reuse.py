"""The reuse key of a pipeline command step (parallel steps are keyed by ``engine.run``).

A deterministic command whose definition and inputs did not change is not run again. The
key hashes the step's definition (command line, environment variables), the content of its
code folder, the identity of every input (file paths, sizes and versions;
:mod:`dask_parallel.rundir.fingerprint`) and any output path the user chose. Looking the
key up and remembering a completed step is the one reuse cache of
:mod:`dask_parallel.rundir.reuse`, with its location, record format and validity rule.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from dask_parallel.jobs.command import Command
from dask_parallel.jobs.entities import Input, Output
from dask_parallel.paths import exists
from dask_parallel.rundir.fingerprint import code_fingerprint, digest, tree_fingerprint


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
