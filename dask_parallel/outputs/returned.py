"""What workers without the client's disk send back, written into the client's run directory.

Rows go to one rows file per worker process in ``parts/``, exactly as workers on a shared
disk write them, so the exactly-once assembly reads the same (file, offset, length)
ranges; log files grow under ``logs/`` as they do on the workers; output files land in the
job's output folders (uploaded at the end when the output is a URL).
"""

from __future__ import annotations

import os
import threading
import zlib
from typing import Any

from dask_parallel.execution.events import AttemptResult


class ReturnedFiles:
    """Writes rows, log deltas and output files from attempt results into ``run_dir``."""

    def __init__(self, run_dir: str, job_id: str, output_folders: list[str]) -> None:
        self.run_dir = run_dir
        self.logs_dir = os.path.join(run_dir, "logs")
        self.parts_dir = os.path.join(run_dir, "parts")
        self.job_id = job_id
        self.output_folders = [os.path.abspath(folder) for folder in output_folders]
        self._rows: dict[str, Any] = {}
        self._logs: dict[str, Any] = {}
        self._lock = threading.Lock()

    def take(self, result: AttemptResult) -> None:
        """Write what ``result`` carries; its rows become a part of the client's rows file."""
        with self._lock:
            if result.rows is not None:
                self._write_rows(result)
            if result.logs:
                self.write_logs(result.logs)
            if result.outputs:
                self.write_outputs(result.outputs)
        result.rows = result.logs = result.outputs = None

    def _write_rows(self, result: AttemptResult) -> None:
        name = f"{result.node_id}-{result.process_name}-{result.pid}-{self.job_id[:8]}.rows"
        handle = self._rows.get(name)
        if handle is None:
            os.makedirs(self.parts_dir, exist_ok=True)
            handle = self._rows[name] = open(os.path.join(self.parts_dir, name), "ab")  # noqa: SIM115
        rows = result.rows or b""
        handle.seek(0, os.SEEK_END)
        result.part, result.part_offset, result.part_length = handle.name, handle.tell(), len(rows)
        result.part_crc = zlib.crc32(rows)
        handle.write(rows)
        handle.flush()

    def write_logs(self, logs: dict[str, bytes]) -> None:
        for relative, data in logs.items():
            handle = self._logs.get(relative)
            if handle is None:
                target = self._inside(self.logs_dir, os.path.join(self.logs_dir, relative))
                os.makedirs(os.path.dirname(target), exist_ok=True)
                handle = self._logs[relative] = open(target, "ab")  # noqa: SIM115 - closed in close()
            handle.write(data)
            handle.flush()

    def write_outputs(self, outputs: dict[str, bytes]) -> None:
        for path, data in outputs.items():
            target = os.path.abspath(path)
            if not any(target.startswith(folder + os.sep) for folder in self.output_folders):
                raise ValueError(f"a worker sent back {path}, which is outside the job's output folders")
            os.makedirs(os.path.dirname(target), exist_ok=True)
            temporary = f"{target}.part-{threading.get_ident()}"
            with open(temporary, "wb") as handle:
                handle.write(data)
            os.replace(temporary, target)

    @staticmethod
    def _inside(folder: str, path: str) -> str:
        target = os.path.abspath(path)
        if not target.startswith(os.path.abspath(folder) + os.sep):
            raise ValueError(f"a worker sent back {path}, which is outside {folder}")
        return target

    def close(self) -> None:
        with self._lock:
            for handle in [*self._rows.values(), *self._logs.values()]:
                handle.close()
            self._rows.clear()
            self._logs.clear()
