"""Pipelines: ``@pipeline``, command and parallel steps, bindings, and running them on Dask."""

from dask_parallel.pipelines.dsl import pipeline
from dask_parallel.pipelines.job import PipelineJob, PipelineSettings
from dask_parallel.pipelines.result import PipelineResult
from dask_parallel.pipelines.runner import run_pipeline, validate_pipeline

__all__ = [
    "PipelineJob",
    "PipelineResult",
    "PipelineSettings",
    "pipeline",
    "run_pipeline",
    "validate_pipeline",
]
