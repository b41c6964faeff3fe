"""dask_parallel: run Azure ML parallel jobs (ParallelRunStep / parallel_run_function) on Dask.

The public names are imported on first use, so ``import dask_parallel`` and
``dask-parallel --help`` stay instant; Dask, distributed and pandas load when a job is
built or run. To add a public name, add it to ``_EXPORTS`` (name -> module).
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "AssetTypes": "jobs.entities",
    "BuildContext": "jobs.environment",
    "Environment": "jobs.environment",
    "Command": "jobs.command",
    "DaskParallelError": "errors",
    "EntryScriptError": "errors",
    "Input": "jobs.entities",
    "InputError": "errors",
    "InputOutputModes": "jobs.entities",
    "JobCanceledError": "errors",
    "JobResult": "rundir.result",
    "JobValidationError": "errors",
    "MLTableError": "errors",
    "Output": "jobs.entities",
    "Parallel": "jobs.parallel",
    "PipelineJob": "pipelines",
    "PipelineResult": "pipelines",
    "ResourceConfiguration": "jobs.resources",
    "ResumeError": "errors",
    "RetrySettings": "jobs.entities",
    "RunFunction": "jobs.entities",
    "command": "jobs.command",
    "load_component": "pipelines.loader",
    "load_job": "pipelines.loader",
    "load_result": "rundir.result",
    "mini_batches": "inputs.collections",
    "parallel_run_function": "jobs.parallel",
    "pipeline": "pipelines",
    "resume": "engine",
    "run": "engine",
    "submit": "submit",
    "JobHandle": "submit",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'dask_parallel' has no attribute {name!r}")
    importlib.import_module(".config", __name__)  # registers the defaults with dask.config
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
