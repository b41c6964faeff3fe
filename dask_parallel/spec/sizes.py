"""Parsing of ``mini_batch_size`` and of ``${{...}}`` binding strings."""

from __future__ import annotations

import re
from typing import Any

from dask_parallel.errors import JobValidationError

MINI_BATCH_SIZE_PATTERN = re.compile(r"^\d+([kKmMgG][bB])*$")
BINDING_PATTERN = re.compile(r"^\s*\$\{\{.*\}\}\s*$")
UNITS = {"kb": 1024, "mb": 1024**2, "gb": 1024**3}

DEFAULT_FILES_PER_MINI_BATCH = 10
DEFAULT_BYTES_PER_MINI_BATCH = 1024 * 1024


def is_binding(value: Any) -> bool:
    """True for a data-binding expression such as ``${{parent.inputs.mbs}}``."""
    return isinstance(value, str) and bool(BINDING_PATTERN.match(value))


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
