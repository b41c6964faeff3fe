"""What a user sees while a job runs: a progress bar, or a line a minute in a log.

Two styles, chosen with the ``dask-parallel.progress-style`` setting:

``bar``
    tqdm's auto mode: a bar in a terminal, a widget in Jupyter. When the stream is
    neither (a log file, a pipe, a job scheduler's capture), ``log`` is used instead, from
    the CLI and from Python alike, so no carriage return ends up in a log file. It counts finished
    mini-batches (rate and time left come from tqdm) and shows failed and retried
    mini-batches and item counts beside it. In Jupyter the Dask dashboard link is shown
    as a clickable link above it.
``log``
    one plain line every ``dask-parallel.progress-interval`` seconds (60 by default) on
    stderr, for cron, systemd or Airflow logs. The CLI picks it when stderr is not a
    terminal.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from typing import IO, Any

from dask_parallel import config
from dask_parallel.execution.metrics import JobMetrics
from dask_parallel.execution.state import Action, JobState

STYLES = ("bar", "log")
logger = logging.getLogger("dask_parallel")


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where tqdm.auto draws a widget)."""
    shell = sys.modules.get("IPython")
    if shell is None or "ipykernel" not in sys.modules:
        return False
    try:
        ipython = shell.get_ipython()
    except Exception:  # noqa: BLE001 - an IPython without get_ipython
        return False
    return ipython is not None and type(ipython).__name__ == "ZMQInteractiveShell"


def show_dashboard_link(link: str, stream: IO[str] | None = None) -> None:
    """Show the Dask dashboard link: clickable in Jupyter, one line on stderr elsewhere."""
    if in_notebook():
        from IPython.display import HTML, display

        display(
            HTML(
                f'<p>Dask dashboard: <a href="{link}" target="_blank" rel="noopener">{link}</a> '
                "(task stream, progress and worker memory)</p>"
            )
        )
    else:
        print(f"Dask dashboard: {link}", file=stream or sys.stderr, flush=True)


def announce_run_dir(name: str, run_dir: str, *, enabled: bool, stream: IO[str] | None = None) -> None:
    """Say where the job's run directory is as it starts (stderr: stdout may carry --json),
    and in the ``dask_parallel`` log, so ``dask-parallel status RUN_DIR`` works right away."""
    logger.info("%s: run directory %s", name, run_dir)
    if enabled:
        print(f"{name}: run directory {run_dir}", file=stream or sys.stderr, flush=True)


def _clock(seconds: float) -> str:
    seconds = int(max(0, seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"


NOTEBOOK_EXTRA_MESSAGE = (
    "note: the progress widget needs ipywidgets, which the optional [notebook] extra installs: "
    "pip install 'dask_parallel[notebook]' (showing a text bar instead)."
)


def _tqdm_class() -> Any:
    """tqdm's widget in Jupyter when ipywidgets is there, else its text bar (with a note)."""
    import importlib.util

    if in_notebook() and importlib.util.find_spec("ipywidgets") is None:
        print(NOTEBOOK_EXTRA_MESSAGE, file=sys.stderr, flush=True)
        from tqdm.std import tqdm as text_bar

        return text_bar
    from tqdm.auto import tqdm

    return tqdm


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # a closed or file-like object without isatty
        return False


class Progress:
    """Counts of a running job: mini-batches done / failed / retried, items, rate and ETA.

    Every count is read from the job's :class:`JobState` (which keeps them incrementally);
    the driver calls :meth:`update` after each event so the display follows.
    """

    def __init__(
        self,
        state: JobState,
        *,
        enabled: bool,
        name: str,
        dashboard: str | None = None,
        style: str | None = None,
        interval: float | None = None,
        stream: IO[str] | None = None,
    ) -> None:
        self.state = state
        self.enabled = enabled
        self.name = name
        self.dashboard = dashboard
        self.style = style or str(config.get("progress-style", "bar"))
        if self.style not in STYLES:
            raise ValueError(
                f"dask-parallel.progress-style must be one of {', '.join(STYLES)} (got {self.style!r}); "
                "set it in ~/.config/dask/dask-parallel.yaml or DASK_DASK_PARALLEL__PROGRESS_STYLE."
            )
        self.interval = float(interval if interval is not None else config.get("progress-interval", 60))
        self.stream = stream
        self.initial = state.done  # finished in an earlier run (resume)
        self._shown = self.initial
        self.started = time.monotonic()
        self._bar: Any = None
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self.metrics = JobMetrics(name)  # Prometheus counters when prometheus_client is installed

    @property
    def total(self) -> int:
        return self.state.total  # grows while mini-batches sized by time are cut

    @property
    def total_text(self) -> str:
        """The total, with a "+" while more mini-batches are being cut (a listing, sizing by time)."""
        return f"{self.total}+" if self.state.growing else str(self.total)

    @property
    def done(self) -> int:
        return self.state.done

    @property
    def succeeded(self) -> int:
        return self.state.succeeded

    @property
    def failed(self) -> int:
        return self.state.failed

    @property
    def retried(self) -> int:
        return self.state.retries

    @property
    def items_succeeded(self) -> int:
        return self.state.items_succeeded

    @property
    def items_failed(self) -> int:
        return self.state.items_failed

    # -- lifecycle ----------------------------------------------------------------------
    def __enter__(self) -> Progress:
        self.metrics.__enter__()
        if not self.enabled:
            return self
        self.started = time.monotonic()
        if self.style == "bar" and not in_notebook() and not _is_terminal(self.stream or sys.stderr):
            # A log file or a pipe: tqdm's carriage returns would pile up on one line there.
            self.style = "log"
        if self.style == "log":
            link = f"; Dask dashboard: {self.dashboard}" if self.dashboard else ""
            self._write(f"{self.name}: {self.total_text} mini-batches to process{link}")
            self._ticker = threading.Thread(target=self._tick, name="dask-parallel-progress", daemon=True)
            self._ticker.start()
            return self
        tqdm = _tqdm_class()
        if self.dashboard:
            show_dashboard_link(self.dashboard, self.stream)
        self._bar = tqdm(
            total=self.total,
            initial=self.initial,
            desc=self.name,
            unit="mini-batch",
            dynamic_ncols=True,
            file=self.stream,
        )
        self._bar.set_postfix_str(self._postfix(), refresh=False)
        return self

    def __exit__(self, *exc: object) -> None:
        self.metrics.__exit__()
        if self._ticker is not None:
            self._stop.set()
            self._ticker.join(timeout=5)
            self._write(self.line(final=True))
        if self._bar is not None:
            self._bar.set_postfix_str(self._postfix(), refresh=False)
            self._bar.close()

    # -- events -------------------------------------------------------------------------
    def update(self, result: Any, action: Action) -> None:
        """Show the state after one finished attempt and what the state machine decided."""
        if self._bar is not None and self._bar.total != self.state.total:
            self._bar.total = self.state.total  # mini-batches sized by time are cut as the job runs
        finished = self.state.done - self._shown
        self._shown = self.state.done
        final = None
        if action is Action.DONE:
            state = self.state.mini_batches.get(result.mini_batch_id)
            if state is not None and state.final is not None:
                final = state
        self.metrics.attempt(result, action is Action.RETRY, final)
        if self._bar is not None and (finished or action is Action.RETRY):
            self._bar.set_postfix_str(self._postfix(), refresh=False)
            self._bar.update(finished)
            if not finished:
                self._bar.refresh()

    # -- text ---------------------------------------------------------------------------
    def _postfix(self) -> str:
        return (
            f"failed {self.failed}, retried {self.retried}, "
            f"items {self.items_succeeded} ok / {self.items_failed} failed"
        )

    def line(self, final: bool = False) -> str:
        """One plain line: counts, rate and time left (or the elapsed time at the end)."""
        elapsed = time.monotonic() - self.started
        new = self.done - self.initial
        percent = 100 * self.done / self.total if self.total else 100.0
        text = (
            f"{self.name}: {self.done}/{self.total_text} mini-batches ({percent:.0f}%), "
            f"{self.failed} failed, {self.retried} retried; items {self.items_succeeded} succeeded, "
            f"{self.items_failed} failed; elapsed {_clock(elapsed)}"
        )
        if final:
            return text
        if self.state.growing:
            text += ", more mini-batches still being cut"
        elif new > 0 and elapsed > 0:
            rate = new / elapsed
            text += f", {rate:.2f} mini-batches/s, about {_clock((self.total - self.done) / rate)} left"
        else:
            text += ", waiting for the first mini-batch to finish"
        return text

    def _tick(self) -> None:
        while not self._stop.wait(self.interval):
            self._write(self.line())

    def _write(self, text: str) -> None:
        print(text, file=self.stream or sys.stderr, flush=True)
