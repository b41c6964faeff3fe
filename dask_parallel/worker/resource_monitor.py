"""``--resource_monitor_interval``: a worker process's CPU, memory and GPU use over time.

Every ``interval`` seconds (and once at the start) one row is appended to
``logs/sys/perf/<node>/<process>.csv``, as Azure's resource monitor does; ``0`` disables
it. GPU columns are filled when ``nvidia-smi`` is on the PATH, else left empty.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import shutil
import subprocess
import threading

import psutil

COLUMNS = (
    "time",
    "pid",
    "process_cpu_percent",
    "process_memory_mb",
    "node_cpu_percent",
    "node_memory_percent",
    "node_memory_available_mb",
    "gpu_utilization_percent",
    "gpu_memory_used_mb",
)


def gpu_usage() -> tuple[str, str]:
    """(utilization %, memory used MB) summed over the GPUs ``nvidia-smi`` lists, or empty."""
    tool = shutil.which("nvidia-smi")
    if tool is None:
        return "", ""
    try:
        output = subprocess.run(
            [tool, "--query-gpu=utilization.gpu,memory.used", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
        rows = [[float(v) for v in line.split(",")] for line in output.strip().splitlines() if line.strip()]
    except (OSError, subprocess.SubprocessError, ValueError):
        return "", ""
    if not rows:
        return "", ""
    return f"{sum(r[0] for r in rows) / len(rows):.1f}", f"{sum(r[1] for r in rows):.0f}"


class ResourceMonitor:
    """A daemon thread appending one usage row to ``path`` every ``interval`` seconds."""

    def __init__(self, path: str, interval: float) -> None:
        self.path = path
        self.interval = interval
        self._stop = threading.Event()
        self._process = psutil.Process(os.getpid())
        self._process.cpu_percent(None)  # the first reading only starts the measurement
        psutil.cpu_percent(None)
        self._thread = threading.Thread(target=self._loop, name="dask-parallel-resource-monitor", daemon=True)

    def start(self) -> ResourceMonitor:
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        if not os.path.exists(self.path):
            with open(self.path, "w", encoding="utf-8", newline="") as handle:
                csv.writer(handle).writerow(COLUMNS)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def sample(self) -> tuple:
        memory = psutil.virtual_memory()
        gpu_percent, gpu_memory = gpu_usage()
        return (
            dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            self._process.pid,
            f"{self._process.cpu_percent(None):.1f}",
            f"{self._process.memory_info().rss / 2**20:.1f}",
            f"{psutil.cpu_percent(None):.1f}",
            f"{memory.percent:.1f}",
            f"{memory.available / 2**20:.0f}",
            gpu_percent,
            gpu_memory,
        )

    def _loop(self) -> None:
        while True:
            try:
                row = self.sample()
                with open(self.path, "a", encoding="utf-8", newline="") as handle:
                    csv.writer(handle).writerow(row)
            except (OSError, psutil.Error):
                pass  # monitoring never disturbs the job
            if self._stop.wait(self.interval):
                return


__all__ = ["COLUMNS", "ResourceMonitor", "gpu_usage"]
