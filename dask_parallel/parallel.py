"""``azure.ai.ml.parallel`` names.

``from azure.ai.ml.parallel import parallel_run_function, RunFunction`` becomes
``from dask_parallel.parallel import parallel_run_function, RunFunction``.
"""

from dask_parallel.jobs.entities import RetrySettings, RunFunction
from dask_parallel.jobs.parallel import Parallel, parallel_run_function

ParallelJob = Parallel

__all__ = ["Parallel", "ParallelJob", "RetrySettings", "RunFunction", "parallel_run_function"]
