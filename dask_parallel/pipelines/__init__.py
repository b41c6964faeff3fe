"""Pipelines: ``@pipeline``, command and parallel steps, bindings, and running them on Dask.

``run_pipeline`` and ``validate_pipeline`` load the runner (and distributed) on first use,
so defining a pipeline stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

from dask_parallel.pipelines.dsl import pipeline
from dask_parallel.pipelines.job import PipelineJob, PipelineSettings
from dask_parallel.pipelines.result import PipelineResult

__all__ = [
    "PipelineJob",
    "PipelineResult",
    "PipelineSettings",
    "pipeline",
    "run_pipeline",
    "validate_pipeline",
]

_RUNNER_NAMES = ("run_pipeline", "validate_pipeline")


def __getattr__(name: str) -> Any:
    if name in _RUNNER_NAMES:
        value = getattr(importlib.import_module("dask_parallel.pipelines.runner"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'dask_parallel.pipelines' has no attribute {name!r}")
