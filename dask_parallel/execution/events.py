"""What one attempt of one mini-batch reports to the driver: facts, never data.

Made on the worker, read by the driver, the state machine and the ledger; pure Python so
that every stage can import it without Dask."""

from __future__ import annotations

import dataclasses

from dask_parallel.execution.state import Outcome


@dataclasses.dataclass
class AttemptResult:
    """What one attempt reports back to the driver: facts, never data."""

    mini_batch_id: str
    index: int
    attempt: int
    outcome: Outcome
    total_items: int | None = None
    succeeded_items: int = 0
    error: str | None = None
    traceback: str | None = None
    node_id: str = ""
    process_name: str = ""
    pid: int = 0
    worker: str = ""
    start_time: float = 0.0
    elapsed: float = 0.0
    run_time: float = 0.0
    init_time: float = 0.0  # seconds of init() this attempt waited for (first one on a process)
    part: str | None = None  # the process's rows file holding this attempt's rows
    part_offset: int = 0
    part_length: int = 0
    part_crc: int | None = None  # CRC-32 of the rows, taken as they were written
    error_names: tuple[str, ...] = ()  # class names of the exception run() or the reader raised
    # From workers that cannot see the client's disk: the rows themselves, what the log
    # files gained (path relative to logs/ -> bytes) and output files written (client path
    # -> content); the driver writes them into the run directory.
    rows: bytes | None = None
    logs: dict[str, bytes] | None = None
    outputs: dict[str, bytes] | None = None
