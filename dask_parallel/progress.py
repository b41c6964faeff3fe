"""A progress bar that works in a terminal and as a Jupyter widget (tqdm's auto mode)."""

from __future__ import annotations

from typing import Any

from .state import Action, JobState, Outcome


class Progress:
    """Mini-batches done / failed / retried and items, with rate and ETA."""

    def __init__(self, state: JobState, *, enabled: bool, name: str, dashboard: str | None = None) -> None:
        self.state = state
        self.enabled = enabled
        self.name = name
        self.dashboard = dashboard
        self.retried = 0
        self._bar: Any = None

    def __enter__(self) -> Progress:
        if self.enabled:
            from tqdm.auto import tqdm

            if self.dashboard:
                print(f"Dask dashboard: {self.dashboard}")
            self._bar = tqdm(total=self.state.total, desc=self.name, unit="mini-batch", dynamic_ncols=True)
        return self

    def update(self, result: Any, action: Action) -> None:
        if action is Action.RETRY:
            self.retried += 1
        if self._bar is None:
            return
        if action is Action.DONE:
            self._bar.update(1)
        if action is not Action.IGNORE or result.outcome is Outcome.SUCCEEDED:
            self._bar.set_postfix(
                failed=self.state.failed,
                retried=self.retried,
                items=self.state.items_succeeded,
                refresh=False,
            )

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.close()
