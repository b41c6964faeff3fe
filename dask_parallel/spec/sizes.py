"""Mini-batch sizes as the spec uses them: the defaults, and the parsing of ``mini_batch_size``.

The parsing itself is the shared value syntax of :mod:`dask_parallel.jobs.syntax`.
"""

from __future__ import annotations

from dask_parallel.jobs.syntax import (
    AUTO_SIZE,
    BINDING_PATTERN,
    DEFAULT_TARGET_DURATION,
    MINI_BATCH_SIZE_PATTERN,
    UNITS,
    is_auto_size,
    is_binding,
    parse_byte_size,
    parse_duration,
    parse_mini_batch_size,
)

DEFAULT_FILES_PER_MINI_BATCH = 10
DEFAULT_BYTES_PER_MINI_BATCH = 1024 * 1024

__all__ = [
    "AUTO_SIZE",
    "BINDING_PATTERN",
    "DEFAULT_BYTES_PER_MINI_BATCH",
    "DEFAULT_FILES_PER_MINI_BATCH",
    "DEFAULT_TARGET_DURATION",
    "MINI_BATCH_SIZE_PATTERN",
    "UNITS",
    "is_auto_size",
    "is_binding",
    "parse_byte_size",
    "parse_duration",
    "parse_mini_batch_size",
]
