"""The run directory's writer and its one ledger reader: the ledger that makes resume
possible, and the logs users read (``logs/`` follows Azure ML's parallel job, spec 6.10).

Every path comes from :class:`~dask_parallel.rundir.layout.RunLayout`, whose docstring
shows the whole layout.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import logging
import os
import time
from collections.abc import Iterator
from typing import Any

from dask_parallel.execution.events import AttemptResult
from dask_parallel.redact import redact_document
from dask_parallel.rundir import parts
from dask_parallel.rundir.atomic import atomic_open, write_json_atomic
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
    """Append-only records of one run, safe against the client process dying at any point.

    Ledger lines and report rows are written with one ``os.write`` per file and per batch
    (see :meth:`batch`): a record is in the operating system's hands, and so survives the
    client being killed, before the batch's mini-batches are reported done. No ``fsync``:
    a crash of the whole machine may lose the last batches, which resume runs again.
    """

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
        _end_torn_line(layout.ledger, self._ledger)
        # The report is the ledger's attempts as a table: rebuilt from the ledger when an
        # earlier run left one, so that every earlier attempt is in it exactly once.
        _rebuild_report(layout.report, read_ledger(run_dir))
        self._report = os.open(layout.report, os.O_WRONLY | os.O_APPEND)
        self._master = open(layout.master_role, "a", encoding="utf-8", buffering=1)  # noqa: SIM115
        self._ledger_lines: list[str] = []
        self._report_rows = io.StringIO()
        self._report_writer = csv.writer(self._report_rows)
        self._batching = 0
        # CRC-32 of every winning part recorded (or restored), checked again at assembly.
        self.checksums: dict[tuple[str, int, int], int] = {}

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Hold the records made inside, then write them with one write per file."""
        self._batching += 1
        try:
            yield
        finally:
            self._batching -= 1
            if not self._batching:
                self.flush()

    def flush(self) -> None:
        """Hand every held record to the operating system: the ledger first, then the report.

        The report is rebuilt from the ledger on resume, so a crash between the two writes
        loses nothing.
        """
        if self._ledger_lines:
            data = "".join(self._ledger_lines).encode()
            self._ledger_lines.clear()
            _write_all(self._ledger, data)
        rows = self._report_rows.getvalue()
        if rows:
            self._report_rows.seek(0)
            self._report_rows.truncate()
            _write_all(self._report, rows.encode())

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
        self._ledger_lines.append(
            json.dumps({"event": event, "time": time.time(), **fields}, default=str) + "\n"
        )
        if not self._batching:
            self.flush()

    def _final_parts(self, fields: dict[str, Any]) -> dict[str, Any]:
        """A final record's parts relative to the run directory, each with its CRC-32."""
        fields = dict(fields)
        if fields.get("part") is not None:
            fields["part"], fields["part_crc"] = self._stored(fields["part"], fields.get("part_crc"))
        if fields.get("parts") is not None:
            stored = [self._stored(part) for part in fields["parts"]]
            fields["parts"] = [part for part, _ in stored]
            fields["parts_crc"] = [crc for _, crc in stored]
        return fields

    def _stored(self, part: Any, crc: int | None = None) -> tuple[list[Any] | None, int | None]:
        stored, crc = parts.to_record(self.run_dir, part, crc)
        if part is not None and crc is not None:
            self.checksums[(str(part[0]), int(part[1]), int(part[2]))] = crc
        return stored, crc

    def attempt(self, result: AttemptResult, action: str) -> None:
        record = dict(vars(result))  # flat fields: cheaper than dataclasses.asdict
        record["outcome"] = result.outcome.value
        record.pop("traceback", None)
        self._report_writer.writerow(_report_row(record))
        self.ledger("attempt", action=action, **record)

    def log(self, message: str) -> None:
        self._master.write(f"{_stamp()}|driver|{message}\n")
        driver_logger.info("%s: %s", os.path.basename(self.run_dir), message)

    def overview(self, done: int, total: int, failed: int, elapsed: float) -> None:
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
        self.flush()
        os.close(self._ledger)
        os.close(self._report)
        self._master.close()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _end_torn_line(path: str, fd: int) -> None:
    """End a line torn by a crash, so that the next record starts a line of its own."""
    with open(path, "rb") as handle:
        if handle.seek(0, os.SEEK_END) == 0:
            return
        handle.seek(-1, os.SEEK_END)
        last = handle.read(1)
    if last != b"\n":
        os.write(fd, b"\n")


def _report_row(record: dict[str, Any]) -> tuple[Any, ...]:
    """One row of processed_mini-batches.csv from an attempt's ledger record."""
    total = record.get("total_items")
    succeeded = record.get("succeeded_items") or 0
    start = record.get("start_time")
    return (
        record.get("mini_batch_id"),
        record.get("index"),
        record.get("attempt"),
        record.get("outcome"),
        record.get("node_id") or "",
        record.get("process_name") or "",
        record.get("pid") or "",
        "" if total is None else total,
        succeeded,
        "" if total is None else total - succeeded,
        _stamp(start) if start else "",
        f"{float(record.get('elapsed') or 0.0):.3f}",
        record.get("error") or "",
    )


def _rebuild_report(path: str, records: list[dict[str, Any]]) -> None:
    """processed_mini-batches.csv holding exactly the attempts the ledger records, in order."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(REPORT_COLUMNS)
    for record in records:
        if record.get("event") == "attempt":
            writer.writerow(_report_row(record))
    with atomic_open(path) as handle:
        handle.write(text.getvalue())


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
