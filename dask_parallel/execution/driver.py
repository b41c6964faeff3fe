"""The thin Dask shell around :class:`~dask_parallel.execution.state.JobState`.

Submits mini-batch attempts with a bounded window, turns finished futures into reports
for the state machine, and does what it decides. Results travel back as small
:class:`~dask_parallel.execution.events.AttemptResult` records; rows stay in
the workers' rows files.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import os
import queue
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from distributed import Client, Future, as_completed
from distributed.client import FutureCancelledError

from dask_parallel.batching import MiniBatch
from dask_parallel.execution.events import AttemptResult
from dask_parallel.execution.shipping import Shipment
from dask_parallel.execution.state import Action, JobState, Outcome, Report
from dask_parallel.outputs.append_row import Part
from dask_parallel.rundir.ledger import Journal
from dask_parallel.rundir.markers import classify_lost_attempt, marker_path
from dask_parallel.worker.code_archive import ArchivePlugin
from dask_parallel.worker.plugin import EntryScriptPlugin, finish_job, run_mini_batch
from dask_parallel.worker.runtime_spec import RuntimeSpec

OVERVIEW_INTERVAL = 5.0
GATHER_LINGER = 0.02  # seconds
GATHER_BATCH = 64
MAX_ERRORS_KEPT = 20


class Driver:
    """Run the pending mini-batches of one job on a Dask client."""

    def __init__(
        self,
        client: Client,
        runtime: RuntimeSpec,
        state: JobState,
        journal: Journal,
        *,
        step_name: str,
        window: int,
        progress_update_timeout: float,
        on_result: Callable[[AttemptResult, Action], None] | None = None,
        shipment: Shipment | None = None,
        resources: dict[str, float] | None = None,
    ) -> None:
        self.client = client
        self.runtime = runtime
        self.state = state
        self.journal = journal
        self.step_name = step_name
        self.window = max(1, window)
        self.refill = max(1, self.window // 4)
        # Task keys must be unique on a shared scheduler: this run's id plus a counter.
        self._session = runtime.job_id[:8]
        self._serial = itertools.count()
        self.progress_update_timeout = progress_update_timeout
        self.on_result = on_result
        self.winning_parts: dict[str, Part | None] = {}
        self.errors: list[str] = []
        # Finished futures are fetched in batches by a background thread (one gather per
        # batch, not one round trip per mini-batch); the loop below only reads its queue.
        self._completed = as_completed(loop=client.loop)
        self._finished = self._completed.queue  # futures, as they finish; None stops the gatherer
        self._results: queue.SimpleQueue[tuple[Future, Any]] = queue.SimpleQueue()
        self._gatherer = threading.Thread(target=self._gather_loop, name="dask-parallel-gather", daemon=True)
        self._restarting: set[str] = set()
        self._restart_threads: list[threading.Thread] = []
        self._restart_errors: list[str] = []
        self._inflight: dict[str, tuple[Future, MiniBatch, int]] = {}
        # Workers without the client's disk: what is sent to them and written from them.
        self.shipment = shipment
        self.resources = resources or None  # Dask worker resources each attempt holds
        self._timed_out: set[str] = set()
        self._started_log: Any = None

    # -- submission -------------------------------------------------------------------
    def _submit(self, batch: list[tuple[MiniBatch, int]]) -> None:
        if not batch:
            return
        # The dashboard groups tasks by the key's leading words ("<step>-mini-batch"); the
        # index and attempt that follow show on hover and in the task's page.
        tokens = [
            f"{self.step_name}-mini-batch-{mb.index:06d}-a{attempt}-{self._session}{next(self._serial)}"
            for mb, attempt in batch
        ]
        delivery = self.shipment.delivery if self.shipment is not None else None
        payloads = [delivery.payload(mb) if delivery is not None else None for mb, _ in batch]
        futures = self.client.map(
            run_mini_batch,
            [self.runtime.job_id] * len(batch),
            [mb for mb, _ in batch],
            [attempt for _, attempt in batch],
            tokens,
            payloads,
            key=tokens,
            pure=False,
            retries=0,
            resources=self.resources,
        )
        for token, future, (mb, attempt) in zip(tokens, futures, batch):
            self._inflight[token] = (future, mb, attempt)
        self._completed.update(futures)

    def _gather_loop(self) -> None:
        while True:
            batch = [self._finished.get()]
            # Linger briefly so one fetch carries several results: every fetch is a request
            # the workers' event loops must answer, taking the CPU from running mini-batches.
            deadline = time.monotonic() + GATHER_LINGER
            while len(batch) < GATHER_BATCH:
                remaining = deadline - time.monotonic()
                try:
                    batch.append(
                        self._finished.get(timeout=remaining)
                        if remaining > 0
                        else self._finished.get_nowait()
                    )
                except queue.Empty:
                    break
            stop = None in batch
            batch = [f for f in batch if f is not None]
            ready = [f for f in batch if f.status == "finished"]
            values: dict[Any, Any] = {}
            if ready:
                try:
                    values = dict(zip([f.key for f in ready], self.client.gather(ready, errors="skip")))
                except Exception as exc:  # noqa: BLE001 - the cluster went away: report each as lost
                    values = {f.key: exc for f in ready}
            for future in batch:
                if future.key in values:
                    value = values[future.key]
                elif future.status == "error":
                    try:
                        value = future.exception(timeout=10)
                    except Exception as exc:  # noqa: BLE001
                        value = exc
                else:
                    value = FutureCancelledError(future.key, "cancelled")
                self._results.put((future, value))
            if stop:
                return

    # -- main loop --------------------------------------------------------------------
    def run(self, pending: Sequence[MiniBatch]) -> None:
        todo: collections.deque[tuple[MiniBatch, int]] = collections.deque((mb, 1) for mb in pending)
        if not todo:
            self.state.mark_all_scheduled()
        last_progress = time.monotonic()
        last_overview = 0.0
        started = time.monotonic()
        plugin = EntryScriptPlugin(self.runtime)
        if self.shipment is not None:
            self._start_shipping()
        self.client.register_plugin(plugin)
        self._gatherer.start()
        try:
            while not self.state.finished:
                free = self.window - len(self._inflight)
                # Top up in chunks: one client.map per chunk costs far less than one per task,
                # and the workers still hold three quarters of the window meanwhile.
                if todo and (free >= self.refill or len(self._inflight) < self.refill):
                    self._submit([todo.popleft() for _ in range(min(free, len(todo)))])
                    if not todo and not self.state.all_scheduled:
                        self.state.mark_all_scheduled()
                        self.journal.log("every mini batch has been scheduled")
                if not self._inflight:
                    break
                try:
                    finished = [self._results.get(timeout=1.0)]
                except queue.Empty:
                    finished = []
                while True:
                    try:
                        finished.append(self._results.get_nowait())
                    except queue.Empty:
                        break
                now = time.monotonic()
                if finished:
                    last_progress = now
                    for follow_up in self._collect(finished):
                        todo.appendleft(follow_up)
                elif now - last_progress > self.progress_update_timeout:
                    self.state.abort(
                        f"No progress update in {int(self.progress_update_timeout)} seconds: no "
                        "mini batch finished in that time (--progress_update_timeout). Check "
                        "logs/sys/node/ for what the workers were doing."
                    )
                if now - last_overview > OVERVIEW_INTERVAL:
                    last_overview = now
                    done = self.state.succeeded + self.state.failed
                    self.journal.overview(done, self.state.total, self.state.failed, now - started)
        except KeyboardInterrupt:
            self.state.abort("The job was canceled by the user.", status="Canceled")
            raise
        finally:
            self._cancel_inflight()
            self._finished.put(None)  # stops the gatherer once it has drained
            self._gatherer.join(timeout=30)
            for thread in self._restart_threads:
                thread.join(timeout=60)
            for message in self._restart_errors:
                self.journal.log(message)
            done = self.state.succeeded + self.state.failed
            self.journal.overview(done, self.state.total, self.state.failed, time.monotonic() - started)
            if self.shipment is not None:
                self._finish_shipping()
            with contextlib.suppress(Exception):
                self.client.unregister_worker_plugin(plugin.name)
            if self.shipment is not None:
                for archive in self.shipment.archives:
                    with contextlib.suppress(Exception):
                        self.client.unregister_worker_plugin(
                            ArchivePlugin(archive, self.runtime.job_id[:12]).name
                        )

    # -- workers without the client's disk ------------------------------------------------
    def _start_shipping(self) -> None:
        """Archives to every worker (and later ones); attempt events recorded as markers."""
        for archive in self.shipment.archives:
            self.client.register_plugin(ArchivePlugin(archive, self.runtime.job_id[:12]))
        os.makedirs(self.runtime.markers_dir, exist_ok=True)
        self._started_log = open(  # noqa: SIM115 - closed in _finish_shipping
            os.path.join(self.runtime.markers_dir, "workers.started"), "a", encoding="utf-8"
        )
        self.client.subscribe_topic(self.runtime.events_topic, self._on_event)

    def _on_event(self, event: tuple[float, Any]) -> None:
        """A worker started an attempt, or its watchdog stopped one (as files do on a shared disk)."""
        _, message = event
        if not isinstance(message, dict):
            return
        if message.get("started") and self._started_log is not None:
            self._started_log.write(f"{message['started']}\n")
            self._started_log.flush()
        token = message.get("timeout")
        if token:
            self._timed_out.add(token)
            with open(marker_path(self.runtime, token, "timeout"), "w", encoding="utf-8") as out:
                out.write(str(message.get("message", "")))

    def _finish_shipping(self) -> None:
        """shutdown() on every worker, and the last of their log and output files back."""
        try:
            finals = self.client.run(finish_job, self.runtime.job_id, on_error="return")
        except Exception as exc:  # noqa: BLE001 - the cluster went away: keep what came already
            finals = {}
            self.journal.log(f"could not collect the workers' last log lines: {exc}")
        for address, files in sorted(finals.items()):
            if not isinstance(files, dict):
                if isinstance(files, BaseException):
                    self.journal.log(f"could not collect the last log lines of {address}: {files!r}")
                continue
            self.shipment.returned.write_logs(files.get("logs") or {})
            self.shipment.returned.write_outputs(files.get("outputs") or {})
        with contextlib.suppress(Exception):
            self.client.unsubscribe_topic(self.runtime.events_topic)
        if self._started_log is not None:
            self._started_log.close()
            self._started_log = None
        self.shipment.returned.close()

    def _cancel_inflight(self) -> None:
        if self._inflight:
            futures = [future for future, _, _ in self._inflight.values()]
            with contextlib.suppress(Exception):
                self.client.cancel(futures)
            self._inflight.clear()

    # -- results ----------------------------------------------------------------------
    def _collect(self, finished: list[tuple[Future, Any]]) -> list[tuple[MiniBatch, int]]:
        follow_ups = []
        for future, value in finished:
            entry = self._inflight.pop(future.key, None)
            if entry is None:
                continue
            _, mb, attempt = entry
            if future.status == "finished" and isinstance(value, AttemptResult):
                result = value
                if self.shipment is not None:
                    self.shipment.returned.take(result)
                    if future.key in self._timed_out and result.outcome is not Outcome.TIMEOUT:
                        # Dask re-ran, elsewhere, an attempt the watchdog stopped: that is its outcome.
                        result.outcome, result.error = classify_lost_attempt(self.runtime, str(future.key))
                        result.part = None
            else:
                result = self._lost(future, value, mb, attempt)
            follow_up = self._apply(result, mb)
            if follow_up is not None:
                follow_ups.append(follow_up)
            if self.state.finished:
                break
        return follow_ups

    def _replace_process(self, address: str) -> None:
        """init() failed there: start a fresh process, as Azure's agent does (exit code 72).

        Done in the background; the mini-batch is already resubmitted elsewhere.
        """
        if address in self._restarting:
            return
        self._restarting.add(address)
        self.journal.log(f"init() failed on {address}: replacing that worker process")

        def restart() -> None:
            try:
                self.client.restart_workers([address], raise_for_error=False)
            except Exception as exc:  # noqa: BLE001 - a worker that is already gone is fine
                self._restart_errors.append(f"could not replace {address}: {exc}")
            finally:
                self._restarting.discard(address)

        thread = threading.Thread(target=restart, name="dask-parallel-replace-worker", daemon=True)
        thread.start()
        self._restart_threads.append(thread)

    def _lost(self, future: Future, value: Any, mb: MiniBatch, attempt: int) -> AttemptResult:
        """An attempt that returned no result: its worker died, or Dask gave up on it."""
        exc = value
        outcome, message = classify_lost_attempt(self.runtime, str(future.key))
        if outcome is Outcome.NOT_STARTED and not _is_worker_loss(exc):
            outcome = Outcome.PROCESS_DIED
            message = f"the attempt failed in Dask: {type(exc).__name__}: {exc}"
        return AttemptResult(
            mini_batch_id=mb.id,
            index=mb.index,
            attempt=attempt,
            outcome=outcome,
            total_items=mb.known_items,
            error=message,
            start_time=time.time(),
        )

    def _apply(self, result: AttemptResult, mb: MiniBatch) -> tuple[MiniBatch, int] | None:
        report = Report(
            mini_batch_id=result.mini_batch_id,
            attempt=result.attempt,
            outcome=result.outcome,
            total_items=result.total_items,
            succeeded_items=result.succeeded_items,
            error=result.error,
        )
        action = self.state.record(report)
        self.journal.attempt(result, action.value)
        if result.error and len(self.errors) < MAX_ERRORS_KEPT:
            where = f"{result.node_id}/{result.process_name}" if result.process_name else "unknown process"
            self.errors.append(
                f"mini batch {mb.index} ({mb.describe()}), attempt {result.attempt}, on {where}: "
                f"{result.error}" + (f"\n{result.traceback}" if result.traceback else "")
            )
        if result.outcome is not Outcome.SUCCEEDED and action is not Action.IGNORE:
            self.journal.log(
                f"mini batch {mb.index} attempt {result.attempt} {result.outcome.value}: {result.error} "
                f"-> {action.value}"
            )
        if result.outcome is Outcome.INIT_ERROR and result.worker:
            self._replace_process(result.worker)
        if action is Action.DONE:
            final = self.state.mini_batches[mb.id]
            if final.final == "succeeded":
                self.winning_parts[mb.id] = _part(result)
            self.journal.ledger(
                "final",
                mb=mb.id,
                index=mb.index,
                status=final.final,
                attempt=result.attempt,
                part=_part(result) if final.final == "succeeded" else None,
                total_items=final.total_items,
                succeeded_items=final.succeeded_items,
            )
        if self.on_result is not None:
            self.on_result(result, action)
        if action is Action.RETRY:
            return mb, self.state.mini_batches[mb.id].attempt
        if action is Action.RESUBMIT:
            return mb, result.attempt
        return None


def _part(result: AttemptResult) -> Part | None:
    return None if result.part is None else (result.part, result.part_offset, result.part_length)


def _is_worker_loss(exc: BaseException) -> bool:
    from asyncio import CancelledError

    from distributed.scheduler import KilledWorker

    return isinstance(exc, (KilledWorker, FutureCancelledError, CancelledError))
