"""Pipelines: ``@pipeline``, command and parallel steps, bindings, and running them on Dask."""

from .dsl import pipeline
from .job import PipelineJob, PipelineSettings
from .result import PipelineResult
from .runner import run_pipeline, validate_pipeline

__all__ = [
    "PipelineJob",
    "PipelineResult",
    "PipelineSettings",
    "pipeline",
    "run_pipeline",
    "validate_pipeline",
]
