"""The run directory's writer and its one ledger reader: the ledger that makes resume
possible, and the logs users read (``logs/`` follows Azure ML's parallel job, spec 6.10).

Every path comes from :class:`~dask_parallel.rundir.layout.RunLayout`, whose docstring
shows the whole layout.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import os
import time
from typing import Any

from dask_parallel.execution.events import AttemptResult
from dask_parallel.redact import redact_document
from dask_parallel.rundir import parts
from dask_parallel.rundir.atomic import write_json_atomic
from dask_parallel.rundir.layout import RunLayout

logger = logging.getLogger("dask_parallel")
# The driver's decisions (what logs/sys/master_role.txt holds) also go to Python logging.
driver_logger = logging.getLogger("dask_parallel.driver")

REPORT_COLUMNS = (
    "mini_batch_id",
    "mini_batch_index",
    "attempt",
    "result",
    "node_id",
    "process_name",
    "pid",
    "total_items",
    "succeeded_items",
    "failed_items",
    "start_time",
    "elapsed_seconds",
    "error",
)

README = """\
Logs of a dask_parallel job (same layout as an Azure ML parallel job).

job_result.txt                      final status and, on failure, the reason and where to look
job_error.txt                       summary of the errors raised by the entry script
job_progress_overview.<time>.txt    progress while the job runs: mini-batches processed, time left
sys/master_role.txt                 the driver's own log: creating, scheduling, retrying, aborting
sys/job_report/processed_mini-batches.csv
                                    one row per mini-batch attempt: result, node, process,
                                    items, elapsed time and error
sys/job_report/failed_items.csv     the inputs that failed and why: every item of a failed
                                    mini-batch, and mini-batches whose run() returned fewer items
sys/node/<node>/<process>.txt       what each worker process did: mini-batches picked and finished
user/stdout/<node>/<process>.stdout.txt   print() and logging output of the entry script
user/stderr/<node>/<process>.stderr.txt   stderr of the entry script
user/error/<node>/<process>.txt     full tracebacks of init() / run() failures and timeouts
user/entry_script_log/<node>/<process>.log.txt   EntryScript().logger output

<node> is the instance number (0, 1, ...) and <process> is processNNN within it.
"""


def _stamp(epoch: float | None = None) -> str:
    moment = dt.datetime.fromtimestamp(epoch if epoch is not None else time.time(), dt.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


class Journal:
    """Append-only records of one run, safe against the client process dying at any point."""

    def __init__(self, run_dir: str) -> None:
        self.run_dir = run_dir
        self.layout = layout = RunLayout(run_dir)
        self.logs = layout.logs_dir
        for folder in (layout.job_report_dir, layout.user_error_dir, layout.parts_dir, layout.markers_dir):
            os.makedirs(folder, exist_ok=True)
        self.started = time.time()
        self.overview_path = layout.progress_overview(self.started)
        with open(layout.readme, "w", encoding="utf-8") as handle:
            handle.write(README)
        self._ledger = os.open(layout.ledger, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        report = layout.report
        new_report = not os.path.exists(report)
        # Buffered: flushed with every progress overview and at the end (the ledger, not this
        # report, is what must survive a crash line by line).
        self._report = open(report, "a", encoding="utf-8", newline="")  # noqa: SIM115
        self._report_writer = csv.writer(self._report)
        if new_report:
            self._report_writer.writerow(REPORT_COLUMNS)
        self._master = open(layout.master_role, "a", encoding="utf-8", buffering=1)  # noqa: SIM115
        # CRC-32 of every winning part recorded (or restored), checked again at assembly.
        self.checksums: dict[tuple[str, int, int], int] = {}

    # -- records ----------------------------------------------------------------------
    def write_job(self, document: dict[str, Any]) -> None:
        """job.json, readable by its owner only and without secret values (see dask_parallel.redact)."""
        secret_free = redact_document(json.loads(json.dumps(document, default=str)))
        write_json_atomic(
            self.layout.job_file, secret_free, permissions=0o600, indent=2, sort_keys=True, default=str
        )

    def ledger(self, event: str, **fields: Any) -> None:
        if event == "final":
            fields = self._final_parts(fields)
        line = json.dumps({"event": event, "time": time.time(), **fields}, default=str) + "\n"
        os.write(self._ledger, line.encode())  # one write per line: a crash leaves whole lines

    def _final_parts(self, fields: dict[str, Any]) -> dict[str, Any]:
        """A final record's parts relative to the run directory, each with its CRC-32."""
        fields = dict(fields)
        if fields.get("part") is not None:
            fields["part"], fields["part_crc"] = self._stored(fields["part"])
        if fields.get("parts") is not None:
            stored = [self._stored(part) for part in fields["parts"]]
            fields["parts"] = [part for part, _ in stored]
            fields["parts_crc"] = [crc for _, crc in stored]
        return fields

    def _stored(self, part: Any) -> tuple[list[Any] | None, int | None]:
        stored, crc = parts.to_record(self.run_dir, part)
        if part is not None and crc is not None:
            self.checksums[(str(part[0]), int(part[1]), int(part[2]))] = crc
        return stored, crc

    def attempt(self, result: AttemptResult, action: str) -> None:
        failed = None
        if result.total_items is not None:
            failed = result.total_items - result.succeeded_items
        self._report_writer.writerow(
            (
                result.mini_batch_id,
                result.index,
                result.attempt,
                result.outcome.value,
                result.node_id,
                result.process_name,
                result.pid or "",
                "" if result.total_items is None else result.total_items,
                result.succeeded_items,
                "" if failed is None else failed,
                _stamp(result.start_time) if result.start_time else "",
                f"{result.elapsed:.3f}",
                result.error or "",
            )
        )
        record = dict(vars(result))  # flat fields: cheaper than dataclasses.asdict
        record["outcome"] = result.outcome.value
        record.pop("traceback", None)
        self.ledger("attempt", action=action, **record)

    def log(self, message: str) -> None:
        self._master.write(f"{_stamp()}|driver|{message}\n")
        driver_logger.info("%s: %s", os.path.basename(self.run_dir), message)

    def overview(self, done: int, total: int, failed: int, elapsed: float) -> None:
        self._report.flush()
        remaining = ""
        if 0 < done < total:
            left = elapsed / done * (total - done)
            remaining = f" Estimated remaining time {dt.timedelta(seconds=int(left))}."
        with open(self.overview_path, "a", encoding="utf-8") as handle:
            handle.write(
                f"{_stamp()} Processed {done} of {total} mini batches in "
                f"{dt.timedelta(seconds=int(elapsed))} ({failed} failed).{remaining}\n"
            )

    def write_result(self, status: str, reason: str | None, summary: str, errors: list[str]) -> None:
        text = io.StringIO()
        text.write(f"{status}\n")
        if reason:
            text.write(f"{reason}\n")
        text.write(f"{summary}\n")
        if status != "Completed":
            text.write(
                "Start with logs/job_error.txt and logs/user/error/ for the entry script's errors, "
                "and logs/sys/job_report/processed_mini-batches.csv for every attempt.\n"
            )
        with open(self.layout.job_result, "w", encoding="utf-8") as handle:
            handle.write(text.getvalue())
        with open(self.layout.job_error, "w", encoding="utf-8") as handle:
            if errors:
                handle.write(f"{len(errors)} error(s) from the entry script (first ones shown):\n\n")
                handle.write("\n\n".join(errors))
                handle.write("\n")
            else:
                handle.write("No error was raised by the entry script.\n")

    def write_failed_items(self, rows: list[tuple[str, int, str, str]]) -> None:
        """``failed_items.csv``: the inputs of failed mini-batches, and short returns."""
        path = self.layout.failed_items
        with open(path, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(("mini_batch_id", "mini_batch_index", "item", "reason"))
            writer.writerows(rows)

    def close(self) -> None:
        os.close(self._ledger)
        self._report.close()
        self._master.close()


def read_ledger(run_dir: str) -> list[dict[str, Any]]:
    """Every whole line of the ledger that is a JSON object.

    A torn last line from a crash is skipped silently; any other line that is not UTF-8 or
    not a JSON object (a damaged or edited ledger) is skipped with a warning naming it.
    """
    records: list[dict[str, Any]] = []
    damaged: list[int] = []
    try:
        with open(RunLayout(run_dir).ledger, "rb") as handle:
            lines = handle.read().split(b"\n")
    except (FileNotFoundError, IsADirectoryError):
        return records
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            record = None
        if isinstance(record, dict):
            records.append(record)
        elif number < len(lines):  # the last piece has no newline yet: a torn or unfinished line
            damaged.append(number)
    if damaged:
        shown = ", ".join(str(n) for n in damaged[:5]) + (" ..." if len(damaged) > 5 else "")
        logger.warning(
            "%s: skipped %d damaged line(s) (not a JSON object in UTF-8): line %s",
            RunLayout(run_dir).ledger,
            len(damaged),
            shown,
        )
    return records
