"""``azure.ai.ml.dsl`` names: ``from dask_parallel.dsl import pipeline``."""

from dask_parallel.pipelines.dsl import pipeline

__all__ = ["pipeline"]
