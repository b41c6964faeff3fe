"""``JobResult``: what a finished job reports, for people and for programs."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import json
import os
import statistics
from typing import Any


@dataclasses.dataclass(frozen=True)
class JobResult:
    """The outcome of a parallel job.

    ``status`` is ``"Completed"``, ``"Failed"`` or ``"Canceled"``; ``error`` says why a job
    did not complete; ``outputs`` maps each output name to its local path or URL.
    """

    status: str
    run_dir: str
    outputs: dict[str, str]
    error: str | None
    mini_batches_total: int
    mini_batches_succeeded: int
    mini_batches_failed: int
    items_total: int
    items_succeeded: int
    items_failed: int
    attempts: int = 0
    started: float = 0.0
    finished: float = 0.0
    dashboard_link: str | None = None
    reused: bool = False
    reused_from: str | None = None
    name: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status == "Completed"

    @property
    def duration(self) -> float:
        return max(0.0, self.finished - self.started)

    @property
    def mini_batches_unprocessed(self) -> int:
        return self.mini_batches_total - self.mini_batches_succeeded - self.mini_batches_failed

    @property
    def logs_dir(self) -> str:
        return f"{self.run_dir}/logs"

    @property
    def job_name(self) -> str | None:
        """The job's name: given, else the one recorded in the run directory's job.json."""
        if self.name:
            return self.name
        try:
            with open(os.path.join(self.run_dir, "job.json"), encoding="utf-8") as handle:
                return (json.load(handle).get("spec") or {}).get("name")
        except (OSError, ValueError, AttributeError):
            return None

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["duration"] = round(self.duration, 3)
        data["logs_dir"] = self.logs_dir
        return data

    def to_json(self, command: str = "python") -> dict[str, Any]:
        """The documented JSON summary (``dask_parallel/schema/cli-output.schema.json``),
        the same document ``dask-parallel run --json`` prints."""
        from dask_parallel.schema import from_result

        return from_result(self, command)

    def mini_batch_durations(self) -> list[float]:
        """Seconds each succeeded mini-batch attempt spent after ``init()``, from the run's report.

        The first attempt on each worker process also ran ``init()`` (loading a model, for
        instance); that time is left out so the numbers compare mini-batches with each other.
        """
        from dask_parallel.rundir.status import read_attempts

        return [a.work_time for a in read_attempts(self.run_dir) if a.result == "succeeded"]

    def _rows(self) -> list[tuple[str, str]]:
        rows = [("status", self.status)]
        if self.error:
            rows.append(("reason", self.error))
        if self.reused:
            earlier = f" from {self.reused_from}" if self.reused_from else ""
            rows.append(("reused", f"yes: the output of the identical earlier run{earlier}"))
        if self.mini_batches_total or not self.items_total:
            rows.append(
                (
                    "mini-batches",
                    f"{self.mini_batches_succeeded} succeeded, {self.mini_batches_failed} failed, "
                    f"{self.mini_batches_unprocessed} not processed, of {self.mini_batches_total}",
                )
            )
        if self.attempts:
            retried = max(0, self.attempts - self.mini_batches_succeeded - self.mini_batches_failed)
            rows.append(("attempts", f"{self.attempts} ({retried} beyond the first of each mini-batch)"))
        rows.append(
            ("items", f"{self.items_succeeded} succeeded, {self.items_failed} failed, of {self.items_total}")
        )
        when = ""
        if self.started:
            when = f" (from {_clock(self.started)} to {_clock(self.finished)})"
        rows.append(("duration", _duration(self.duration) + when))
        durations = sorted(self.mini_batch_durations()) if self.mini_batches_total else []
        if durations:
            rows.append(
                (
                    "per mini-batch",
                    f"median {_duration(statistics.median(durations))}, "
                    f"fastest {_duration(durations[0])}, slowest {_duration(durations[-1])}",
                )
            )
        rows += [(f"output {name}", uri) for name, uri in self.outputs.items()]
        rows.append(("run directory", self.run_dir))
        rows.append(("logs", self.logs_dir))
        if self.dashboard_link:
            rows.append(("dashboard", self.dashboard_link))
        return rows

    def __str__(self) -> str:
        rows = self._rows()
        width = max(len(k) for k, _ in rows)
        return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)

    def _repr_html_(self) -> str:
        color = {"Completed": "#1a7f37", "Failed": "#cf222e"}.get(self.status, "#9a6700")
        cells = []
        for key, value in self._rows()[1:]:
            shown = html.escape(value)
            if key == "dashboard":
                shown = f'<a href="{shown}" target="_blank" rel="noopener">{shown}</a>'
            elif key == "logs" or key.startswith("output "):
                shown = f"<code>{shown}</code>"
            cells.append(
                f"<tr><th style='text-align:left;padding-right:1em'>{html.escape(key)}</th>"
                f"<td style='text-align:left'>{shown}</td></tr>"
            )
        return (
            "<div><p style='margin:0 0 .3em 0'><strong>JobResult: "
            f"<span style='color:{color}'>{html.escape(self.status)}</span></strong></p>"
            f"<table>{''.join(cells)}</table></div>"
        )

    def plot(self, save: bool = True) -> Any:
        """Draw the job's timeline and mini-batch durations (a matplotlib ``Figure``).

        Each mini-batch attempt is a bar on its worker process's row, coloured by how it
        ended; retries are hatched. The picture is also written to
        ``<run_dir>/logs/job_timeline.png`` unless ``save=False``. Works for any run
        directory, also one of an earlier session: see :func:`dask_parallel.rundir.timeline`.

        Examples
        --------
        >>> result = dask_parallel.run(job)  # doctest: +SKIP
        >>> result.plot()  # doctest: +SKIP
        """
        from dask_parallel.rundir.timeline import save_timeline, timeline_figure

        figure = timeline_figure(self.run_dir)
        if save:
            save_timeline(self.run_dir, figure=figure)
        return figure


def _clock(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M:%S")


def _duration(seconds: float) -> str:
    """``0.25 s``, ``12.3 s``, ``0:03:20``: precise for short times, plain for long ones."""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms" if seconds < 0.1 else f"{seconds:.2f} s"
    if seconds < 60:
        return f"{seconds:.1f} s"
    return str(dt.timedelta(seconds=round(seconds)))


def load_result(run_dir: str | os.PathLike) -> JobResult:
    """The :class:`JobResult` of the job in ``run_dir``, read from the folder alone.

    Works for a finished run of an earlier session (``status`` is then "Completed",
    "Failed" or "Canceled") and for one still running ("Running" or "CancelRequested",
    with the counts so far). Raises ``NotARunDirectory`` for a folder without job.json.

    Examples
    --------
    >>> result = dask_parallel.load_result("dask-parallel-runs/file_scoring_...")  # doctest: +SKIP
    >>> result.plot()  # doctest: +SKIP
    """
    from dask_parallel.rundir.status import read_status

    status = read_status(os.fspath(run_dir))
    return JobResult(
        status=status.status,
        run_dir=status.run_dir,
        outputs=dict(status.outputs),
        error=status.reason,
        mini_batches_total=status.mini_batches_total,
        mini_batches_succeeded=status.mini_batches_succeeded,
        mini_batches_failed=status.mini_batches_failed,
        items_total=status.items_succeeded + status.items_failed,
        items_succeeded=status.items_succeeded,
        items_failed=status.items_failed,
        attempts=status.attempts,
        started=status.started or 0.0,
        finished=status.finished or 0.0,
        reused=status.reused_from is not None,
        reused_from=status.reused_from,
        name=status.name,
    )
