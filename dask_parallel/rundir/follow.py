"""``dask-parallel logs --follow``: print the driver's log as it grows, until the job ends."""

from __future__ import annotations

import os
import time
from typing import IO

from dask_parallel.rundir.status import NotARunDirectory, read_status

DRIVER_LOG = os.path.join("logs", "sys", "master_role.txt")


def follow_driver_log(run_dir: str, stream: IO[str], interval: float = 1.0) -> None:
    """Copy ``logs/sys/master_role.txt`` to ``stream`` line by line while the job runs.

    Returns once the job has ended (its final lines included). A run that stopped
    without a result (its driver killed) keeps reading as running: stop with Ctrl-C.
    """
    path = os.path.join(os.path.abspath(run_dir), DRIVER_LOG)
    position = 0
    partial = ""
    while True:
        try:
            ended = not read_status(run_dir).running
        except NotARunDirectory:  # run --detach: the driver has not written job.json yet
            ended = False
        try:
            with open(path, encoding="utf-8") as handle:
                handle.seek(position)
                chunk = handle.read()
                position = handle.tell()
        except FileNotFoundError:
            chunk = ""
        if chunk:
            lines = (partial + chunk).split("\n")
            partial = lines.pop()
            for line in lines:
                print(line, file=stream, flush=True)
        if ended:
            if partial:
                print(partial, file=stream, flush=True)
            return
        time.sleep(interval)
