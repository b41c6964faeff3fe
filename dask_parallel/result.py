"""``JobResult``: what a finished job reports, for people and for programs."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
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

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["duration"] = round(self.duration, 3)
        data["logs_dir"] = self.logs_dir
        return data

    def _rows(self) -> list[tuple[str, str]]:
        rows = [("status", self.status)]
        if self.error:
            rows.append(("reason", self.error))
        if self.reused:
            rows.append(("reused", "yes: an identical earlier run's output was reused"))
        rows += [
            (
                "mini-batches",
                f"{self.mini_batches_succeeded} succeeded, {self.mini_batches_failed} failed, "
                f"{self.mini_batches_unprocessed} not processed, of {self.mini_batches_total}",
            ),
            (
                "items",
                f"{self.items_succeeded} succeeded, {self.items_failed} failed, of {self.items_total}",
            ),
            ("duration", str(dt.timedelta(seconds=round(self.duration)))),
        ]
        rows += [(f"output {name}", uri) for name, uri in self.outputs.items()]
        rows.append(("logs", self.logs_dir))
        return rows

    def __str__(self) -> str:
        width = max(len(k) for k, _ in self._rows())
        return "\n".join(f"{k.ljust(width)}  {v}" for k, v in self._rows())

    def _repr_html_(self) -> str:
        color = {"Completed": "#1a7f37", "Failed": "#cf222e"}.get(self.status, "#9a6700")
        cells = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td style='text-align:left'>{html.escape(v)}</td></tr>"
            for k, v in self._rows()[1:]
        )
        return (
            f"<div><strong>JobResult: <span style='color:{color}'>{html.escape(self.status)}"
            f"</span></strong><table>{cells}</table></div>"
        )
