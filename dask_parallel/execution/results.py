"""Finished attempts and their results, fetched in batches on the client's event loop.

What ``distributed.as_completed`` plus a gathering thread did, with fewer messages: one
hand-over to the event loop per submitted chunk (not one per future), one wait per
future without locks or conditions, and one gather per batch of finished futures.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Iterable
from typing import Any

from distributed import Client, Future
from distributed.client import FutureCancelledError

# A finished future waits for others to share its gather: until ``batch`` have finished,
# every watched future has, or LINGER seconds have passed. Each gather is a request the
# workers answer with CPU taken from running mini-batches.
LINGER = 0.25
MOST_PER_GATHER = 256
STOP_TIMEOUT = 30.0


class ResultStream:
    """Futures in, ``(future, result or exception)`` out, in the order they finish.

    Results of futures that errored are their exception; of cancelled ones a
    ``FutureCancelledError``; when the gather itself fails (the cluster went away), the
    exception it raised.
    """

    def __init__(self, client: Client, linger: float = LINGER, batch: int = 16) -> None:
        self.client = client
        loop = client.loop
        if loop is None:
            raise RuntimeError("the Dask client is closed: it has no event loop to fetch results on")
        self.loop = loop
        self.linger = linger
        self.batch = max(1, min(batch, MOST_PER_GATHER))
        self._unfinished = 0  # watched futures not finished yet (on the event loop)
        self.results: queue.SimpleQueue[tuple[Future, Any]] = queue.SimpleQueue()
        # Touched on the event loop only.
        self._finished: list[Future] = []
        self._watching: set[asyncio.Future[None]] = set()
        self._wakeup: asyncio.Event | None = None
        self._stopping = False
        self._stopped = threading.Event()
        self._started = False

    def start(self) -> None:
        self.loop.add_callback(self._run)
        self._started = True

    def track(self, futures: Iterable[Future]) -> None:
        """Report these futures once they finish (callable from any thread)."""
        self.loop.add_callback(self._watch_all, list(futures))

    def stop(self) -> None:
        """Report what has finished already, then stop; waits for that at most 30 seconds."""
        if not self._started:
            return
        self.loop.add_callback(self._stop)
        self._stopped.wait(STOP_TIMEOUT)

    # -- on the event loop ----------------------------------------------------------------
    def _watch_all(self, futures: list[Future]) -> None:
        self._unfinished += len(futures)
        for future in futures:
            task = asyncio.ensure_future(self._watch(future))
            self._watching.add(task)  # a task nobody holds may be collected before it ends
            task.add_done_callback(self._watching.discard)

    async def _watch(self, future: Future) -> None:
        state = future._state
        if state is not None:  # None once the future is released: nothing to wait for
            try:
                await state.wait()
            except asyncio.CancelledError:
                pass
        self._unfinished -= 1
        self._finished.append(future)
        if self._wakeup is not None:
            self._wakeup.set()

    def _stop(self) -> None:
        self._stopping = True
        if self._wakeup is not None:
            self._wakeup.set()

    async def _run(self) -> None:
        self._wakeup = asyncio.Event()
        try:
            while True:
                if not self._finished and not self._stopping:
                    await self._wakeup.wait()
                self._wakeup.clear()
                await self._linger()
                batch = self._finished[:MOST_PER_GATHER]
                del self._finished[:MOST_PER_GATHER]
                if batch:
                    await self._fetch(batch)
                if self._stopping and not self._finished:
                    return
        finally:
            self._stopped.set()

    async def _linger(self) -> None:
        """Wait for a batch's worth of finished futures, all of them, or the linger time."""
        assert self._wakeup is not None
        clock = asyncio.get_running_loop()
        deadline = clock.time() + self.linger
        while not self._stopping and self._unfinished > 0 and len(self._finished) < self.batch:
            remaining = deadline - clock.time()
            if remaining <= 0:
                return
            self._wakeup.clear()
            try:
                await asyncio.wait_for(self._wakeup.wait(), remaining)
            except asyncio.TimeoutError:
                return

    async def _fetch(self, batch: list[Future]) -> None:
        ready = [future for future in batch if future.status == "finished"]
        values: dict[Any, Any] = {}
        if ready:
            try:
                gathered = await self.client._gather(ready, errors="skip")
                values = dict(zip([future.key for future in ready], gathered))
            except Exception as exc:  # noqa: BLE001 - the cluster went away: report each as lost
                values = {future.key: exc for future in ready}
        for future in batch:
            if future.key in values:
                value = values[future.key]
            elif future.status == "error":
                try:
                    value = await future._exception()
                except Exception as exc:  # noqa: BLE001
                    value = exc
            else:
                value = FutureCancelledError(future.key, "cancelled")
            self.results.put((future, value))
