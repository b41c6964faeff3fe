"""``azure.ai.ml.entities`` names: ``from dask_parallel.entities import Environment, ...``.

``Environment``, ``BuildContext`` and the non-``instance_count`` parts of
``ResourceConfiguration`` describe Azure compute; they are accepted and not used on Dask.
"""

from dask_parallel.jobs.command import Command
from dask_parallel.jobs.entities import Input, Output, RetrySettings
from dask_parallel.jobs.environment import BuildContext, Environment
from dask_parallel.jobs.parallel import Parallel
from dask_parallel.jobs.resources import JobResourceConfiguration, ResourceConfiguration
from dask_parallel.pipelines.job import PipelineJob, PipelineSettings

ParallelComponent = Parallel
CommandComponent = Command
PipelineJobSettings = PipelineSettings

__all__ = [
    "BuildContext",
    "Command",
    "CommandComponent",
    "Environment",
    "Input",
    "JobResourceConfiguration",
    "Output",
    "Parallel",
    "ParallelComponent",
    "PipelineJob",
    "PipelineJobSettings",
    "ResourceConfiguration",
    "RetrySettings",
]
