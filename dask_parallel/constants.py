"""``azure.ai.ml.constants`` names: ``from dask_parallel.constants import AssetTypes, InputOutputModes``."""

from dask_parallel.jobs.entities import AssetTypes, InputOutputModes

__all__ = ["AssetTypes", "InputOutputModes"]
