"""What a worker needs to host one job's entry script: settings only, no Dask."""

from __future__ import annotations

import dataclasses
from typing import Any

from dask_parallel.inputs.mltable.reader import TableReader
from dask_parallel.rundir.layout import RunLayout


@dataclasses.dataclass(frozen=True)
class ShippedPath:
    """A client path a worker without the client's disk gets its own copy of.

    ``code`` and ``input`` folders (or files) arrive as the archive ``digest``; ``output``
    folders start empty on the worker and what the script writes there comes back.
    """

    client_path: str
    kind: str
    digest: str | None = None
    is_file: bool = False
    name: str = ""


@dataclasses.dataclass(frozen=True)
class RuntimeSpec:
    """What a worker needs to host the entry script of one job."""

    job_id: str
    code_dir: str
    entry_script: str
    module_name: str
    argv: tuple[str, ...]
    environment_variables: dict[str, str]
    logging_level: str
    run_dir: str
    output_dir: str
    timeout: int
    task_overhead_timeout: int
    append_row: bool
    dataframe_header: bool
    to_csv: dict[str, Any]
    reader: TableReader | None
    concurrency: int
    resource_monitor_interval: int = 0  # seconds between usage rows; 0: no monitor
    # False: the workers cannot see the client's disk; they work in their local directory,
    # get code and inputs through Dask and send rows and log files back with each result.
    shared_filesystem: bool = True
    shipped: tuple[ShippedPath, ...] = ()
    # "<host>:<pid>" of the client: a worker in that very process must never exit it.
    client_process: str = ""

    @property
    def events_topic(self) -> str:
        """The Dask event topic on which workers report started and stopped attempts."""
        return f"dask-parallel-{self.job_id}"

    @property
    def logs_dir(self) -> str:
        return RunLayout(self.run_dir).logs_dir

    @property
    def parts_dir(self) -> str:
        return RunLayout(self.run_dir).parts_dir

    @property
    def markers_dir(self) -> str:
        return RunLayout(self.run_dir).markers_dir
