"""``--set key=value``: change a job file's YAML mapping before it is turned into a job.

Keys are dotted paths into the mapping (``mini_batch_size``, ``inputs.data.path``,
``retry_settings.max_retries``). Values are read as YAML scalars (``5`` is a number,
``true`` a boolean), except for keys that hold text in a job file (``mini_batch_size``,
paths, names, arguments), which stay strings. Relative ``path`` and ``code`` values resolve
against the current directory, like any path typed on a command line.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import yaml

from dask_parallel.errors import JobValidationError

TEXT_KEYS = frozenset(
    {
        "mini_batch_size",
        "name",
        "display_name",
        "description",
        "path",
        "code",
        "entry_script",
        "program_arguments",
        "append_row_to",
        "input_data",
        "environment",
        "compute",
        "logging_level",
        "experiment_name",
    }
)
PATH_KEYS = frozenset({"path", "code"})


def parse_override(text: str) -> tuple[list[str], Any]:
    """Split ``"a.b=value"`` into ``(["a", "b"], value)``.

    Examples
    --------
    >>> parse_override("retry_settings.max_retries=5")
    (['retry_settings', 'max_retries'], 5)
    >>> parse_override("mini_batch_size=10")
    (['mini_batch_size'], '10')
    """
    key, sep, raw = text.partition("=")
    keys = key.strip().split(".")
    if not sep or not all(keys):
        raise JobValidationError(
            f"--set {text!r}: expected KEY=VALUE with a dotted key, such as "
            "--set mini_batch_size=1mb or --set inputs.data.path=./other."
        )
    if keys[-1] in TEXT_KEYS:
        value: Any = raw
    else:
        try:
            value = yaml.safe_load(raw) if raw.strip() else raw
        except yaml.YAMLError:
            value = raw
        if isinstance(value, (dict, list)):
            value = raw
    if keys[-1] in PATH_KEYS and isinstance(value, str):
        value = _command_line_path(value)
    return keys, value


def _command_line_path(value: str) -> str:
    if "://" in value or value.startswith(("azureml:", "${{")) or os.path.isabs(value):
        return value
    return os.path.abspath(value)


def apply_overrides(document: dict, overrides: Iterable[str], source: str) -> dict:
    """Set each ``KEY=VALUE`` of ``overrides`` in ``document`` (changed in place) and return it.

    The line of an overridden key is forgotten, so an error about it does not point at the
    file's old value.
    """
    for text in overrides:
        keys, value = parse_override(text)
        mapping: Any = document
        for depth, key in enumerate(keys[:-1]):
            child: Any = mapping.get(key) if isinstance(mapping, dict) else None
            if child is None:
                child = type(document)()
                if hasattr(document, "lines"):
                    child.lines = {}
                mapping[key] = child
            elif not isinstance(child, dict):
                where = ".".join(keys[: depth + 1])
                raise JobValidationError(
                    f"--set {text!r}: {where} in {source} is {child!r}, not a mapping, so it has no "
                    f"key {keys[depth + 1]!r}. Set {where} itself instead."
                )
            mapping = child
        mapping[keys[-1]] = value
        lines = getattr(mapping, "lines", None)
        if isinstance(lines, dict):
            lines.pop(keys[-1], None)
    return document
