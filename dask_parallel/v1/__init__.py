"""The SDK v1 names (``azureml.pipeline.steps`` / ``azureml.core``) running on the v2 engine.

``from dask_parallel.v1 import ParallelRunConfig, ParallelRunStep, ...`` replaces the
azureml imports; everything translates to v2 objects (:meth:`ParallelRunStep.to_v2`).
A ``workspace`` argument is accepted wherever v1 takes one, and not needed.
"""

from dask_parallel.v1.config import Environment, ParallelRunConfig
from dask_parallel.v1.data import (
    Dataset,
    DatasetConsumptionConfig,
    FileDataset,
    OutputFileDatasetConfig,
    PipelineData,
    TabularDataset,
)
from dask_parallel.v1.parameters import PipelineParameter
from dask_parallel.v1.pipeline import ActivityFailedException, Experiment, Pipeline, PipelineRun
from dask_parallel.v1.runconfig import DEFAULT_CPU_IMAGE, DEFAULT_GPU_IMAGE, CondaDependencies
from dask_parallel.v1.step import ParallelRunStep

__all__ = [
    "DEFAULT_CPU_IMAGE",
    "DEFAULT_GPU_IMAGE",
    "ActivityFailedException",
    "CondaDependencies",
    "Dataset",
    "DatasetConsumptionConfig",
    "Environment",
    "Experiment",
    "FileDataset",
    "OutputFileDatasetConfig",
    "ParallelRunConfig",
    "ParallelRunStep",
    "Pipeline",
    "PipelineData",
    "PipelineParameter",
    "PipelineRun",
    "TabularDataset",
]
