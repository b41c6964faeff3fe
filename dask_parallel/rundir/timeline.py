"""A picture of a run: every mini-batch attempt on its worker process, and their durations.

Reads only the run directory (``logs/sys/job_report/processed_mini-batches.csv`` and the
ledger), so it works for a running job, a finished one, or one from last week. matplotlib
is imported here, when a picture is asked for, never by the engine.
"""

from __future__ import annotations

import math
import os
from typing import Any

from dask_parallel.rundir.layout import RunLayout
from dask_parallel.rundir.status import Attempt, read_attempts, read_status

COLORS = {
    "succeeded": "#2da44e",
    "timeout": "#d4a72c",
    "process_died": "#8250df",
    "not_started": "#8c959f",
}
FAILED_COLOR = "#cf222e"
LABEL_LIMIT = 60  # mini-batch numbers are written in the bars up to this many attempts


def _color(result: str) -> str:
    return COLORS.get(result, FAILED_COLOR)


def _legend_label(result: str) -> str:
    return "succeeded" if result == "succeeded" else result.replace("_", " ")


def _show_figures_inline() -> None:
    """Let Jupyter draw a bare ``Figure`` (one made without pyplot) as a PNG."""
    from dask_parallel.execution.progress import in_notebook

    if not in_notebook():
        return
    from IPython import get_ipython
    from IPython.core.pylabtools import print_figure
    from matplotlib.figure import Figure

    formatter = get_ipython().display_formatter.formatters["image/png"]
    if Figure in formatter.type_printers:
        return
    formatter.for_type(Figure, lambda figure: print_figure(figure, "png", bbox_inches="tight"))


def timeline_figure(run_dir: str, title: str | None = None) -> Any:
    """A matplotlib ``Figure`` of the run in ``run_dir``.

    Top: one row per worker process, one bar per mini-batch attempt from its start to its
    end, green when it succeeded and red (or another colour by cause) when it failed;
    retries (attempt 2 and later) are hatched. Bottom: each attempt's duration by
    mini-batch number, with the median.
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    _show_figures_inline()
    status = read_status(run_dir)  # raises NotARunDirectory for a folder that is not a run
    attempts = read_attempts(run_dir)
    figure = Figure(figsize=(11, 7), layout="constrained")
    top, bottom = figure.subplots(2, 1, height_ratios=(3, 2))
    figure.suptitle(
        f"{title or status.name}: {status.status}, {status.done} of {status.mini_batches_total} "
        f"mini-batches done, {len(attempts)} attempts"
    )
    if not attempts:
        for axes in (top, bottom):
            axes.text(0.5, 0.5, "no mini-batch attempt recorded yet", ha="center", va="center")
            axes.set_axis_off()
        return figure
    _draw_timeline(top, attempts)
    _draw_durations(bottom, attempts)
    results = sorted({a.result for a in attempts}, key=lambda r: (r != "succeeded", r))
    handles = [Patch(facecolor=_color(r), label=_legend_label(r)) for r in results]
    if any(a.attempt > 1 for a in attempts):
        handles.append(Patch(facecolor="white", edgecolor="black", hatch="///", label="retry (attempt 2+)"))
    top.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return figure


def _draw_timeline(axes: Any, attempts: list[Attempt]) -> None:
    placed = [a for a in attempts if not math.isnan(a.start)]
    origin = min((a.start for a in placed), default=0.0)
    workers = sorted({a.worker for a in placed})
    row = {worker: i for i, worker in enumerate(workers)}
    for attempt in placed:
        left = attempt.start - origin
        width = max(attempt.elapsed, 0.002)
        y = row[attempt.worker]
        axes.barh(
            y,
            width,
            left=left,
            height=0.7,
            color=_color(attempt.result),
            edgecolor="black",
            linewidth=0.4,
            hatch="///" if attempt.attempt > 1 else None,
        )
        if attempt.result != "succeeded":
            axes.plot(left + width, y, marker="x", color="black", markersize=6)
    if len(placed) <= LABEL_LIMIT:
        end = max(a.start - origin + a.elapsed for a in placed) if placed else 1.0
        for attempt in placed:
            if attempt.elapsed > end / 40:
                axes.text(
                    attempt.start - origin + attempt.elapsed / 2,
                    row[attempt.worker],
                    str(attempt.index),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white",
                )
    axes.set_yticks(range(len(workers)), labels=workers)
    axes.invert_yaxis()
    axes.set_xlabel("seconds since the first attempt started")
    axes.set_title("Attempts per worker process (number = mini-batch; x = failed attempt)", fontsize=10)
    axes.grid(axis="x", alpha=0.3)


def _draw_durations(axes: Any, attempts: list[Attempt]) -> None:
    from matplotlib.ticker import MaxNLocator

    for result in sorted({a.result for a in attempts}):
        chosen = [a for a in attempts if a.result == result]
        axes.scatter(
            [a.index for a in chosen],
            [a.elapsed for a in chosen],
            s=[28 if a.attempt == 1 else 60 for a in chosen],
            c=_color(result),
            marker="o",
            edgecolors=["none" if a.attempt == 1 else "black" for a in chosen],
            label=_legend_label(result),
        )
    durations = sorted(a.elapsed for a in attempts if a.result == "succeeded")
    if durations:
        median = durations[len(durations) // 2]
        axes.axhline(median, color="black", linestyle="--", linewidth=0.8)
        axes.annotate(
            f"median {median:.3g} s",
            xy=(1.0, median),
            xycoords=("axes fraction", "data"),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
    axes.set_xlabel("mini-batch")
    axes.set_ylabel("duration (s)")
    axes.set_title("Duration of each attempt (larger outlined dots: retries)", fontsize=10)
    axes.grid(alpha=0.3)
    top = max(a.elapsed for a in attempts)
    axes.set_ylim(0, top * 1.15 if top > 0 else 1.0)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))


def save_timeline(run_dir: str, path: str | None = None, figure: Any = None) -> str:
    """Write the run's picture as a PNG (``logs/job_timeline.png`` by default); return its path."""
    target = path or RunLayout(run_dir).timeline
    os.makedirs(os.path.dirname(os.path.abspath(target)), exist_ok=True)
    (figure or timeline_figure(run_dir)).savefig(target, dpi=100)
    return target
