"""What a worker needs to host one job's entry script: settings only, no Dask."""

from __future__ import annotations

import dataclasses
from typing import Any

from dask_parallel.inputs.mltable.reader import TableReader
from dask_parallel.rundir.layout import RunLayout


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

    @property
    def logs_dir(self) -> str:
        return RunLayout(self.run_dir).logs_dir

    @property
    def parts_dir(self) -> str:
        return RunLayout(self.run_dir).parts_dir

    @property
    def markers_dir(self) -> str:
        return RunLayout(self.run_dir).markers_dir
