"""dask_parallel's defaults, registered with Dask's configuration system.

Override them like any Dask setting: ``~/.config/dask/dask-parallel.yaml``,
``DASK_DASK_PARALLEL__RUN_ROOT=...`` or ``dask.config.set({"dask-parallel.progress": False})``.
"""

from __future__ import annotations

import os
from typing import Any

import dask.config
import yaml

_DEFAULTS = os.path.join(os.path.dirname(__file__), "dask_parallel.yaml")

with open(_DEFAULTS, encoding="utf-8") as _handle:
    defaults = yaml.safe_load(_handle)

dask.config.update_defaults(defaults)


def get(key: str, default: Any = None) -> Any:
    return dask.config.get(f"dask-parallel.{key}", default=default)
