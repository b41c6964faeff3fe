"""The pipeline a run directory ran, saved so that ``resume`` can continue it.

``<run_dir>/pipeline_job.pkl`` holds the validated :class:`PipelineJob` and the folder its
relative paths resolve against. A definition that cannot be pickled (a step built from
objects pickle does not know) is not saved; resuming that run then says so.
"""

from __future__ import annotations

import logging
import os
import pickle
from typing import Any

from dask_parallel.errors import ResumeError

DEFINITION_FILE = "pipeline_job.pkl"
logger = logging.getLogger("dask_parallel")


def save_definition(run_dir: str, job: Any, base_dir: str) -> bool:
    """Write the definition; False (and a log line) when it cannot be pickled."""
    try:
        payload = pickle.dumps({"job": job, "base_dir": base_dir, "version": 1})
    except Exception as exc:  # noqa: BLE001 - resume is a convenience; the run goes on
        logger.warning("this pipeline run cannot be resumed later: its definition does not pickle (%s)", exc)
        return False
    temporary = os.path.join(run_dir, DEFINITION_FILE + ".tmp")
    with open(temporary, "wb") as handle:
        handle.write(payload)
    os.replace(temporary, os.path.join(run_dir, DEFINITION_FILE))
    return True


def load_definition(run_dir: str) -> tuple[Any, str]:
    """The saved ``(job, base_dir)`` of a pipeline run directory."""
    path = os.path.join(run_dir, DEFINITION_FILE)
    if not os.path.exists(path):
        raise ResumeError(
            f"cannot resume the pipeline in {run_dir!r}: it holds no {DEFINITION_FILE} (the run was "
            "made by an older version, or its definition could not be saved). Run the pipeline again."
        )
    with open(path, "rb") as handle:
        saved = pickle.load(handle)
    return saved["job"], saved["base_dir"]


__all__ = ["DEFINITION_FILE", "load_definition", "save_definition"]
