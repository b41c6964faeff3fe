"""dask_parallel: run Azure ML parallel jobs (ParallelRunStep / parallel_run_function) on Dask."""

from __future__ import annotations

from . import config as _config  # noqa: F401 - registers the defaults with dask.config
from .api import run
from .entities import AssetTypes, Input, InputOutputModes, Output, RetrySettings, RunFunction
from .errors import (
    DaskParallelError,
    EntryScriptError,
    InputError,
    JobCanceledError,
    JobValidationError,
    MLTableError,
    ResumeError,
)
from .job_yaml import load_job
from .parallel import Parallel, parallel_run_function
from .result import JobResult

__version__ = "0.1.0"

__all__ = [
    "AssetTypes",
    "DaskParallelError",
    "EntryScriptError",
    "Input",
    "InputError",
    "InputOutputModes",
    "JobCanceledError",
    "JobResult",
    "JobValidationError",
    "MLTableError",
    "Output",
    "Parallel",
    "ResumeError",
    "RetrySettings",
    "RunFunction",
    "load_job",
    "parallel_run_function",
    "run",
]
