"""The value syntax shared by job objects, the spec and pipelines.

One place for every ``${{...}}`` pattern, for substituting ``${{inputs.x}}`` /
``${{outputs.y}}`` references (with the optional ``$[[ ... ]]`` blocks of Azure ML), and for
mini-batch and byte sizes such as ``"10mb"``. Pure functions over strings: no Dask, no pandas.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from dask_parallel.errors import JobValidationError

# A whole value that is a data-binding expression, e.g. "${{parent.inputs.mbs}}".
BINDING_PATTERN = re.compile(r"^\s*\$\{\{.*\}\}\s*$")
# A reference to the job's own inputs or outputs inside a command line or argument string.
IO_REFERENCE = re.compile(r"\$\{\{\s*(inputs|outputs)\.([A-Za-z_]\w*)\s*\}\}")
# A whole value that names one input (input_data) or one output (append_row_to).
INPUT_BINDING = re.compile(r"^\$\{\{\s*inputs\.([A-Za-z_][\w]*)\s*\}\}$")
OUTPUT_BINDING = re.compile(r"^\$\{\{\s*outputs\.([A-Za-z_][\w]*)\s*\}\}$")
# Pipeline bindings: a node value taken from the pipeline's inputs, another node's outputs,
# or the pipeline's own outputs.
PARENT_INPUT = re.compile(r"^\$\{\{\s*parent\.inputs\.([A-Za-z_]\w*)\s*\}\}$")
PARENT_JOB_OUTPUT = re.compile(r"^\$\{\{\s*parent\.jobs\.([A-Za-z_][\w-]*)\.outputs\.([A-Za-z_]\w*)\s*\}\}$")
PARENT_OUTPUT = re.compile(r"^\$\{\{\s*parent\.outputs\.([A-Za-z_]\w*)\s*\}\}$")
# Azure ML's optional block: dropped when a reference inside it has no value.
# Input and output names, as Azure ML accepts them (and as ${{inputs.<name>}} can refer to them).
IO_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_io_names(kind: str, names: Any) -> None:
    """Refuse an input or output name that is not an identifier (``"../x"`` would escape folders)."""
    for name in names:
        if not isinstance(name, str) or not IO_NAME.match(name):
            raise JobValidationError(
                f"{kind}.{name}: {kind[:-1]} names must be identifiers (letters, digits and "
                f"underscores, not starting with a digit), as in Azure ML; got {name!r}. Rename it, "
                "for example to 'scored_data'."
            )


OPTIONAL_BLOCK = re.compile(r"\$\[\[(.*?)\]\]", re.S)

MINI_BATCH_SIZE_PATTERN = re.compile(r"^\d+([kKmMgG][bB])*$")
UNITS = {"kb": 1024, "mb": 1024**2, "gb": 1024**3}

Values = Mapping[str, Mapping[str, Any]]  # Any: a value, or None when it is unset
"""``{"inputs": {name: value or None}, "outputs": {name: value or None}}``."""


def is_binding(value: Any) -> bool:
    """True for a data-binding expression such as ``${{parent.inputs.mbs}}``."""
    return isinstance(value, str) and bool(BINDING_PATTERN.match(value))


def references(text: str) -> list[tuple[str, str]]:
    """The ``(kind, name)`` pairs of the ``${{inputs.x}}``/``${{outputs.y}}`` in ``text``."""
    return IO_REFERENCE.findall(text)


def drop_empty_optional_blocks(text: str, values: Values) -> str:
    """Keep the content of each ``$[[ ... ]]`` whose references all have a value; drop the others.

    >>> drop_empty_optional_blocks("a $[[--x ${{inputs.x}}]] b", {"inputs": {"x": None}})
    'a   b'
    """

    def keep_block(match: re.Match) -> str:
        inner = match.group(1)
        if any(values[kind].get(name) is None for kind, name in IO_REFERENCE.findall(inner)):
            return " "
        return inner

    return OPTIONAL_BLOCK.sub(keep_block, text)


def substitute_references(text: str, lookup: Callable[[str, str], str]) -> str:
    """Replace every ``${{inputs.x}}``/``${{outputs.y}}`` by ``lookup(kind, name)``.

    ``lookup`` raises the caller's own error for a reference that is undeclared or unset.

    >>> substitute_references("--in ${{inputs.data}}", lambda kind, name: f"<{kind}:{name}>")
    '--in <inputs:data>'
    """
    return IO_REFERENCE.sub(lambda match: lookup(match.group(1), match.group(2)), text)


def parse_mini_batch_size(value: str | int, where: str = "mini_batch_size") -> int:
    """Parse a mini-batch size the way Azure ML does (binary kb/mb/gb units).

    A plain number is a file count for file inputs and a byte count for tabular inputs.
    ``0`` means unset (the default applies).

    >>> parse_mini_batch_size("10"), parse_mini_batch_size("10kb"), parse_mini_batch_size("1MB")
    (10, 10240, 1048576)
    """
    text = str(value)
    if not MINI_BATCH_SIZE_PATTERN.match(text):
        raise JobValidationError(
            f'{where} must follow regex rule ^\\d+([kKmMgG][bB])*$, such as "10" (files) or '
            f'"100kb" (bytes), with no space or decimal point (got {text!r}).'
        )
    try:
        return int(text)
    except ValueError:
        pass
    number, unit = text[:-2], text[-2:].lower()
    if not number.isdigit():
        raise JobValidationError(
            f"{where} must be a number followed by at most one unit kb, mb or gb (got {text!r})."
        )
    return int(number) * UNITS[unit]


def parse_byte_size(value: str | int, where: str) -> int:
    """Parse a byte size such as ``"10mb"`` or ``1048576`` (used by MLTable partition sizes)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value <= 0:
            raise JobValidationError(f"{where} must be a positive number of bytes (got {value}).")
        return value
    size = parse_mini_batch_size(str(value).replace(" ", ""), where)
    if size <= 0:
        raise JobValidationError(f"{where} must be a positive number of bytes (got {value!r}).")
    return size


AUTO_SIZE = "auto"  # mini_batch_size: auto sizes mini-batches by time (see target_duration)
DEFAULT_TARGET_DURATION = 30.0  # seconds
DURATION_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def is_auto_size(value: Any) -> bool:
    """``mini_batch_size: auto``: the size adapts so that a mini-batch takes the target time."""
    return isinstance(value, str) and value.strip().lower() == AUTO_SIZE


def parse_duration(value: str | int | float, where: str = "target_duration") -> float:
    """Seconds from ``30``, ``"30s"``, ``"2m"``, ``"1h"`` or ``"500ms"``; must be positive.

    >>> parse_duration("30s"), parse_duration("2m"), parse_duration(1.5)
    (30.0, 120.0, 1.5)
    """
    if isinstance(value, bool):
        match = None
    elif isinstance(value, (int, float)):
        match = DURATION_PATTERN.match(repr(float(value)) if value >= 0 else "-")
    else:
        match = DURATION_PATTERN.match(str(value))
    seconds = float(match.group(1)) * DURATION_UNITS[match.group(2)] if match else 0.0
    if seconds <= 0:
        raise JobValidationError(
            f"{where} must be a positive duration such as 30s, 2m or 1h, or a number of seconds "
            f"(got {value!r})."
        )
    return seconds
