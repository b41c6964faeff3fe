"""A picture of a run: every mini-batch attempt on its worker process, and their durations.

Reads only the run directory (``logs/sys/job_report/processed_mini-batches.csv`` and the
ledger), so it works for a running job, a finished one, or one from last week. matplotlib
is imported here, when a picture is asked for, never by the engine.
"""

from __future__ import annotations

import logging
import math
import os
import statistics
from typing import Any

from dask_parallel.rundir.layout import RunLayout
from dask_parallel.rundir.status import Attempt, read_attempts, read_status

logger = logging.getLogger("dask_parallel")

COLORS = {
    "succeeded": "#2da44e",
    "timeout": "#d4a72c",
    "process_died": "#8250df",
    "not_started": "#8c959f",
}
FAILED_COLOR = "#cf222e"
INIT_COLOR = "#0969da"
LABEL_LIMIT = 60  # mini-batch numbers are written in the bars up to this many attempts
EDGE_LIMIT = 2_000  # above this many attempts bars and dots are drawn without outlines
MAX_ATTEMPTS = 200_000  # above this many attempts no picture is drawn (the reason is logged)


class TimelineSkipped(RuntimeError):
    """The run has too many attempts for a useful picture; the report CSV has them all."""


PLOT_EXTRA_MESSAGE = (
    "drawing the timeline needs matplotlib, which the optional [plot] extra installs: "
    "pip install 'dask_parallel[plot]'. The job itself does not need it; every attempt is in "
    "logs/sys/job_report/processed_mini-batches.csv."
)


def require_matplotlib() -> None:
    """Raise an ImportError naming the extra to install when matplotlib is missing."""
    import importlib.util

    if importlib.util.find_spec("matplotlib") is None:
        raise ImportError(PLOT_EXTRA_MESSAGE)


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
    retries (attempt 2 and later) are hatched; the ``init()`` an attempt waited for (the
    first on each process) is its own blue bar before it. Bottom: each attempt's duration
    without ``init()``, by mini-batch number, with the median.

    Bars are drawn as one collection per row and kind, so 20,000 attempts draw in well
    under a second; above ``MAX_ATTEMPTS`` attempts :func:`save_timeline` skips the picture.
    """
    require_matplotlib()
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    _show_figures_inline()
    status = read_status(run_dir)  # raises NotARunDirectory for a folder that is not a run
    attempts = read_attempts(run_dir)
    # Fixed margins: a constrained layout measures every artist, a cost that grows with the run.
    figure = Figure(figsize=(11, 7))
    figure.subplots_adjust(left=0.17, right=0.84, top=0.92, bottom=0.08, hspace=0.38)
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
    if any(a.init_time > 0 for a in attempts):
        handles.append(Patch(facecolor=INIT_COLOR, label="init()"))
    if any(a.attempt > 1 for a in attempts):
        handles.append(Patch(facecolor="white", edgecolor="black", hatch="///", label="retry (attempt 2+)"))
    top.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return figure


def _draw_timeline(axes: Any, attempts: list[Attempt]) -> None:
    placed = [a for a in attempts if not math.isnan(a.start)]
    origin = min((a.start for a in placed), default=0.0)
    workers = sorted({a.worker for a in placed})
    row = {worker: i for i, worker in enumerate(workers)}
    edge = 0.4 if len(placed) <= EDGE_LIMIT else 0.0  # thousands of outlines would hide the colours
    # One collection per (row, colour, retry): a handful of artists whatever the attempt count.
    groups: dict[tuple[int, str, bool], list[tuple[float, float]]] = {}
    failed_x, failed_y = [], []
    for attempt in placed:
        y = row[attempt.worker]
        left = attempt.start - origin
        if attempt.init_time > 0:
            groups.setdefault((y, INIT_COLOR, False), []).append((left, attempt.init_time))
        work_left = left + attempt.init_time
        width = max(attempt.work_time, 0.002)
        groups.setdefault((y, _color(attempt.result), attempt.attempt > 1), []).append((work_left, width))
        if attempt.result != "succeeded":
            failed_x.append(work_left + width)
            failed_y.append(y)
    span = max((a.start - origin + a.elapsed for a in placed), default=1.0)
    for (y, color, retry), ranges in groups.items():
        if len(placed) > EDGE_LIMIT:  # without outlines, touching bars of a colour look as one
            ranges = _merge(ranges, gap=span / 4000)
        axes.add_collection(
            _bars(
                ranges,
                y,
                facecolors=color,
                edgecolors="black",
                linewidths=edge,
                hatch="///" if retry else None,
            )
        )
    if failed_x:
        axes.plot(failed_x, failed_y, linestyle="none", marker="x", color="black", markersize=6)
    end = max(a.start - origin + a.elapsed for a in placed) if placed else 1.0
    if len(placed) <= LABEL_LIMIT:
        for attempt in placed:
            if attempt.work_time > end / 40:
                axes.text(
                    attempt.start - origin + attempt.init_time + attempt.work_time / 2,
                    row[attempt.worker],
                    str(attempt.index),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white",
                )
    axes.set_xlim(0, end * 1.02 if end > 0 else 1.0)
    axes.set_ylim(len(workers) - 0.5, -0.5)  # first worker on top
    axes.set_yticks(range(len(workers)), labels=workers)
    axes.set_xlabel("seconds since the first attempt started")
    axes.set_title(
        "Attempts per worker process (number = mini-batch; x = failed attempt; blue = init())", fontsize=10
    )
    axes.grid(axis="x", alpha=0.3)


def _draw_durations(axes: Any, attempts: list[Attempt]) -> None:
    from matplotlib.ticker import MaxNLocator

    many = len(attempts) > EDGE_LIMIT
    size = 2.5 if many else 5.5
    for result in sorted({a.result for a in attempts}):
        for retry in (False, True):
            chosen = [a for a in attempts if a.result == result and (a.attempt > 1) == retry]
            if not chosen:
                continue
            axes.plot(
                [a.index for a in chosen],
                [a.work_time for a in chosen],
                linestyle="none",
                marker="o",
                markersize=size * (1.5 if retry else 1.0),
                color=_color(result),
                markeredgecolor="black" if retry else "none",
                label=_legend_label(result) if not retry else None,
            )
    durations = [a.work_time for a in attempts if a.result == "succeeded"]
    if durations:
        median = statistics.median(durations)
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
    axes.set_ylabel("duration without init() (s)")
    axes.set_title("Duration of each attempt (larger outlined dots: retries)", fontsize=10)
    axes.grid(alpha=0.3)
    top = max(a.work_time for a in attempts)
    axes.set_ylim(0, top * 1.15 if top > 0 else 1.0)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))


def _merge(ranges: list[tuple[float, float]], gap: float) -> list[tuple[float, float]]:
    """Join ``(left, width)`` spans that touch or are less than ``gap`` (under a pixel) apart."""
    merged: list[list[float]] = []
    for left, width in sorted(ranges):
        if merged and left <= merged[-1][1] + gap:
            merged[-1][1] = max(merged[-1][1], left + width)
        else:
            merged.append([left, left + width])
    return [(left, right - left) for left, right in merged]


def _bars(ranges: list[tuple[float, float]], y: float, **style: Any) -> Any:
    """Rectangles ``(left, width)`` on row ``y`` as one PolyCollection built with numpy."""
    import numpy as np
    from matplotlib.collections import PolyCollection

    spans = np.asarray(ranges, dtype=float)
    left, right = spans[:, 0], spans[:, 0] + spans[:, 1]
    low = np.full(len(spans), y - 0.35)
    high = low + 0.7
    vertices = np.stack(
        [np.column_stack(corner) for corner in ((left, low), (left, high), (right, high), (right, low))],
        axis=1,
    )
    return PolyCollection(vertices, closed=True, **style)  # type: ignore[arg-type]  # an (n, 4, 2) array is accepted


def save_timeline(run_dir: str, path: str | None = None, figure: Any = None) -> str:
    """Write the run's picture as a PNG (``logs/job_timeline.png`` by default); return its path.

    Raises :class:`TimelineSkipped` (and writes why in ``logs/sys/master_role.txt``) for a
    run of more than ``MAX_ATTEMPTS`` attempts, and ``ImportError`` naming the
    ``dask_parallel[plot]`` extra when matplotlib is not installed.
    """
    target = path or RunLayout(run_dir).timeline
    if figure is None:
        require_matplotlib()
        _check_size(run_dir)
        figure = timeline_figure(run_dir)
    os.makedirs(os.path.dirname(os.path.abspath(target)), exist_ok=True)
    figure.savefig(target, dpi=100, pil_kwargs={"compress_level": 1})  # fast; the PNG stays small
    return target


def _check_size(run_dir: str) -> None:
    report = RunLayout(run_dir).report
    try:
        with open(report, "rb") as handle:
            rows = sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b"")) - 1
    except FileNotFoundError:
        return
    if rows > MAX_ATTEMPTS:
        reason = (
            f"no timeline picture: {rows} attempts are more than {MAX_ATTEMPTS} a picture can show "
            f"usefully; every attempt is in {os.path.relpath(report, run_dir)}"
        )
        logger.info(reason)
        master = os.path.join(run_dir, "logs", "sys", "master_role.txt")
        if os.path.exists(master):
            import time

            with open(master, "a", encoding="utf-8") as handle:
                handle.write(f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())}|driver|{reason}\n")
        raise TimelineSkipped(reason)
