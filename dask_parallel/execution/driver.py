"""The thin Dask shell around :class:`~dask_parallel.execution.state.JobState`.

Submits mini-batch attempts with a bounded window, turns finished futures into reports
for the state machine, and does what it decides. Results travel back as small
:class:`~dask_parallel.execution.events.AttemptResult` records; rows stay in
the workers' rows files.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import heapq
import itertools
import os
import queue
import threading
import time
from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import Any

from distributed import Client, Future
from distributed.client import FutureCancelledError

from dask_parallel.batching import MiniBatch, split_mini_batch
from dask_parallel.execution import cancel_flag
from dask_parallel.execution.events import AttemptResult
from dask_parallel.execution.results import ResultStream
from dask_parallel.execution.shipping import Shipment
from dask_parallel.execution.sizing import AdaptiveDivider
from dask_parallel.execution.state import Action, Final, JobState, MiniBatchState, Outcome, Report
from dask_parallel.execution.teardown import RESTART_TIMEOUT, unregister_with_deadline
from dask_parallel.inputs.planning import InputPlan
from dask_parallel.inputs.streaming import StreamedPlan
from dask_parallel.outputs.append_row import Part
from dask_parallel.rundir.ledger import Journal
from dask_parallel.rundir.markers import classify_lost_attempt, marker_path, read_timeout_details
from dask_parallel.worker.code_archive import ArchivePlugin
from dask_parallel.worker.plugin import EntryScriptPlugin, finish_job, run_mini_batch
from dask_parallel.worker.runtime_spec import RuntimeSpec

OVERVIEW_INTERVAL = 5.0
MAX_ERRORS_KEPT = 20
REGISTER_ATTEMPTS = 4
STREAM_POLL = 0.02  # seconds between looks at a listing still cutting mini-batches
SPECULATION_INTERVAL = 1.0  # seconds between looks for stragglers once nothing is left to submit


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
        self.on_result = on_result
        self.winning_parts: dict[str, Part | None] = {}
        self.errors: list[str] = []
        # Finished futures are fetched in batches on the client's event loop (one gather per
        # batch, not one round trip per mini-batch); the loop below only reads its queue.
        # A gather per refill's worth of results: the driver tops up the window in those chunks.
        self._stream = ResultStream(client, batch=self.refill)
        self._results = self._stream.results
        self._restarting: set[str] = set()
        self._restart_threads: list[threading.Thread] = []
        self._restart_errors: list[str] = []
        self._inflight: dict[Hashable, tuple[Future, MiniBatch, int]] = {}
        # Beyond Azure: retries waiting out their backoff, halves of split mini-batches,
        # and speculative copies of stragglers.
        self._delayed: list[tuple[float, int, MiniBatch, int]] = []  # (ready at, serial, mb, attempt)
        self.pieces: dict[str, MiniBatch] = {}  # halves of split mini-batches, by id
        self.split_parts: dict[str, list[Part | None]] = {}  # a split mini-batch's rows, in order
        self.split_failures: dict[str, list[tuple[str, str]]] = {}  # its failed items and errors
        self._running_since: dict[str, float] = {}  # attempt key -> first seen on a worker
        self._speculated: set[str] = set()  # keys of stragglers and of their copies
        self._copies: dict[str, set[str]] = {}  # mini-batch id -> keys of its copies in flight
        self.speculative_attempts = 0
        self._later: list[tuple[MiniBatch, int]] = []  # more follow-ups of one result (halves)
        self.divider: AdaptiveDivider | None = None  # set for mini-batches sized by time
        # Planning that streams: called in this thread with the whole plan once it is listed.
        self.on_listed: Callable[[InputPlan], None] | None = None
        self._last_speculation = 0.0
        # Workers without the client's disk: what is sent to them and written from them.
        self.shipment = shipment
        self.resources = resources or None  # Dask worker resources each attempt holds
        self._timed_out: set[str] = set()
        self._started_log: Any = None

    # -- submission -------------------------------------------------------------------
    def _submit(self, batch: list[tuple[MiniBatch, int]], workers: list[str] | None = None) -> list[str]:
        if not batch:
            return []
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
            # A preference, not a restriction: a copy must still run if that worker goes away.
            workers=workers or None,
            allow_other_workers=bool(workers),
            resources=self.resources,
        )
        for token, future, (mb, attempt) in zip(tokens, futures, batch):
            self._inflight[token] = (future, mb, attempt)
        self._stream.track(futures)
        return tokens

    # -- main loop --------------------------------------------------------------------
    def run(self, pending: Iterable[MiniBatch] | StreamedPlan) -> None:
        """Run ``pending``, read a few windows ahead of what is in flight.

        It may be a plan kept on disk, or a :class:`StreamedPlan` still listing the input.
        """
        unread = pending if isinstance(pending, StreamedPlan) else iter(pending)
        todo: collections.deque[tuple[MiniBatch, int]] = collections.deque()
        plan_left = self._read_plan(todo, unread)
        if not todo and not plan_left and self._division_done():
            self.state.mark_all_scheduled()
        last_progress = time.monotonic()
        last_overview = 0.0
        started = time.monotonic()
        plugin = EntryScriptPlugin(self.runtime)
        if self.shipment is not None:
            self._start_shipping()
        self._register(plugin)
        self._stream.start()
        try:
            while not self.state.finished:
                if cancel_flag.requested():  # a pipeline running this job was interrupted
                    raise KeyboardInterrupt
                if plan_left and len(todo) < 2 * self.window:
                    plan_left = self._read_plan(todo, unread)
                if self._delayed and self._release_delayed(todo):
                    last_progress = time.monotonic()  # waiting out a backoff is not a stall
                if self.divider is not None:
                    self._cut_more(todo)
                free = self.window - len(self._inflight)
                # Top up in chunks: one client.map per chunk costs far less than one per task,
                # and the workers still hold three quarters of the window meanwhile.
                if todo and (free >= self.refill or len(self._inflight) < self.refill):
                    self._submit([todo.popleft() for _ in range(min(free, len(todo)))])
                    if not todo and not plan_left and not self.state.all_scheduled and self._division_done():
                        self.state.mark_all_scheduled()
                        self.journal.log("every mini batch has been scheduled")
                if not self._inflight and not self._delayed and not plan_left:
                    break
                if (
                    self.state.policy.speculation
                    and not todo
                    and not plan_left
                    and not self._delayed
                    and self._division_done()
                ):
                    self._speculate()
                wait = 1.0
                if plan_left and len(todo) < self.window:  # the listing is still cutting more
                    wait = STREAM_POLL
                if self._delayed:
                    wait = min(wait, max(0.01, self._delayed[0][0] - time.monotonic()))
                try:
                    finished = [self._results.get(timeout=wait)]
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
                elif self._inflight:  # retries waiting out their backoff are not a stall
                    idle_for = now - last_progress
                    limit = self.state.policy.progress_update_timeout
                    if limit is not None and idle_for > limit:  # diagnostics before the decision
                        self.journal.log(self._describe_inflight())
                        self.state.idle(idle_for, hint=self._where_to_look())
                if now - last_overview > OVERVIEW_INTERVAL:
                    last_overview = now
                    done = self.state.succeeded + self.state.failed
                    self.journal.overview(done, self.state.total, self.state.failed, now - started)
        except KeyboardInterrupt:
            self.state.cancel()
            raise
        finally:
            self._cancel_inflight()
            self._stream.stop()  # once what has finished is fetched
            # A replacement still under way when the job ends would restart a worker of the
            # next job on the same cluster: each is bounded, and waited for here.
            for thread in self._restart_threads:
                thread.join(timeout=RESTART_TIMEOUT + 30)
            for message in self._restart_errors:
                self.journal.log(message)
            done = self.state.succeeded + self.state.failed
            self.journal.overview(done, self.state.total, self.state.failed, time.monotonic() - started)
            if self.shipment is not None:
                self._finish_shipping()  # shutdown() on each worker, their last log lines back
            unregister_with_deadline(self.client, plugin.name, self.runtime.timeout, self.journal.log)
            if self.shipment is not None:
                for archive in self.shipment.archives:
                    with contextlib.suppress(Exception):
                        self.client.unregister_worker_plugin(
                            ArchivePlugin(archive, self.runtime.job_id[:12]).name
                        )

    def _read_plan(
        self, todo: collections.deque[tuple[MiniBatch, int]], unread: Iterator[MiniBatch] | StreamedPlan
    ) -> bool:
        """Append the next few windows of the plan to ``todo``; False once the plan is read."""
        wanted = 4 * max(1, self.window)
        if isinstance(unread, StreamedPlan):
            return self._read_stream(todo, unread, wanted)
        read = 0
        for mb in itertools.islice(unread, wanted):
            todo.append((mb, 1))
            read += 1
        return read == wanted

    def _read_stream(
        self, todo: collections.deque[tuple[MiniBatch, int]], stream: StreamedPlan, wanted: int
    ) -> bool:
        """What the listing has cut so far, joined to the job; False once it ended and all is read."""
        for mb in stream.take(wanted):
            self.state.grow(mb.id)
            todo.append((mb, 1))
        if stream.done and self.on_listed is not None:  # once: job.json gets the input's identity
            listed, self.on_listed = self.on_listed, None
            listed(stream.finish())  # the listing's error, if it failed, is the job's
        if not stream.exhausted:
            return True
        stream.finish()
        self.state.stop_growing()
        return False

    def _register(self, plugin: EntryScriptPlugin) -> None:
        """Install the entry-script host on every worker.

        A worker that is being replaced at that moment (after an init() failure, a timeout,
        or a memory limit) closes its connection mid-broadcast; the registration is
        idempotent, so it is tried again once the replacement is up.
        """
        for attempt in range(REGISTER_ATTEMPTS):
            try:
                self.client.register_plugin(plugin)
                return
            except (OSError, TimeoutError) as exc:  # CommClosedError is an OSError
                if attempt == REGISTER_ATTEMPTS - 1:
                    raise
                self.journal.log(f"registering the entry script on the workers failed ({exc!r}); retrying")
                time.sleep(2.0 * (attempt + 1))

    def _where_to_look(self) -> str:
        try:
            workers = len(self.client.scheduler_info().get("workers", {}))
        except Exception:  # noqa: BLE001 - diagnostics only
            workers = -1
        if workers == 0:
            return (
                "The cluster has no workers: they died or could not start (a worker memory_limit too "
                "small for the entry script kills them; see the cluster's logs, "
                "and logs/sys/node/ for their last lines)."
            )
        return "Check logs/sys/node/ for what the workers were doing."

    def _describe_inflight(self, shown: int = 10) -> str:
        """Where the scheduler holds the unfinished attempts: the first thing to read after a stall."""
        keys = list(self._inflight)[:shown]
        try:
            states = self.client.run_on_scheduler(_task_states, keys=keys)
        except Exception as exc:  # noqa: BLE001 - diagnostics only
            return f"{len(self._inflight)} attempts unfinished; the scheduler could not be asked: {exc!r}"
        lines = [f"{len(self._inflight)} attempts unfinished; in the scheduler:"]
        lines += [f"  {key}: {state}" for key, state in states.items()]
        return "\n".join(lines)

    # -- workers without the client's disk ------------------------------------------------
    def _start_shipping(self) -> None:
        """Archives to every worker (and later ones); attempt events recorded as markers."""
        assert self.shipment is not None
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
        if message.get("initializing"):
            with open(
                os.path.join(self.runtime.markers_dir, "workers.initializing"), "a", encoding="utf-8"
            ) as out:
                out.write(f"{message['initializing']}\n")
        token = message.get("timeout")
        if token:
            self._timed_out.add(token)
            with open(marker_path(self.runtime, token, "timeout"), "w", encoding="utf-8") as out:
                out.write(str(message.get("message", "")))

    def _finish_shipping(self) -> None:
        """shutdown() on every worker, and the last of their log and output files back."""
        assert self.shipment is not None
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
        """Decide on a batch of results; their records are written (one write per file)
        before any of them is shown as done."""
        follow_ups: list[tuple[MiniBatch, int]] = []
        shown: list[tuple[AttemptResult, Action]] = []
        with self.journal.batch():
            for future, value in finished:
                entry = self._inflight.pop(future.key, None)
                self._running_since.pop(str(future.key), None)
                if entry is None:
                    continue
                _, mb, attempt = entry
                if future.status == "finished" and isinstance(value, AttemptResult):
                    result = value
                    if self.shipment is not None:
                        self.shipment.returned.take(result)
                        if future.key in self._timed_out and result.outcome is not Outcome.TIMEOUT:
                            # Dask re-ran, elsewhere, an attempt the watchdog stopped: that is its outcome.
                            result.outcome, result.error = classify_lost_attempt(
                                self.runtime, str(future.key)
                            )
                            result.part = None
                else:
                    result = self._lost(future, value, mb, attempt)
                follow_up = self._apply(result, mb, shown)
                if follow_up is not None:
                    follow_ups.append(follow_up)
                follow_ups.extend(self._later)
                self._later.clear()
                if self.state.finished:
                    break
        if self.on_result is not None:
            for result, action in shown:
                self.on_result(result, action)
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
                self.client.restart_workers([address], timeout=RESTART_TIMEOUT, raise_for_error=False)
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
        result = AttemptResult(
            mini_batch_id=mb.id,
            index=mb.index,
            attempt=attempt,
            outcome=outcome,
            total_items=mb.known_items,
            error=message,
            start_time=time.time(),
        )
        if outcome in (Outcome.TIMEOUT, Outcome.INIT_ERROR):  # the watchdog said where and since when
            details = read_timeout_details(self.runtime, str(future.key))
            result.node_id = str(details.get("node_id", ""))
            result.process_name = str(details.get("process_name", ""))
            result.pid = int(details.get("pid", 0) or 0)
            result.worker = str(details.get("worker", ""))
            result.start_time = float(details.get("start_time", result.start_time))
            result.elapsed = float(details.get("elapsed", 0.0))
        return result

    def _apply(
        self, result: AttemptResult, mb: MiniBatch, shown: list[tuple[AttemptResult, Action]]
    ) -> tuple[MiniBatch, int] | None:
        report = Report(
            mini_batch_id=result.mini_batch_id,
            attempt=result.attempt,
            outcome=result.outcome,
            total_items=result.total_items,
            succeeded_items=result.succeeded_items,
            error=result.error,
            error_names=tuple(result.error_names),
            elapsed=result.elapsed if result.outcome is Outcome.SUCCEEDED else None,
        )
        action = self.state.record(report)
        self.journal.attempt(result, action.value)
        if (
            self.divider is not None
            and action is Action.DONE
            and result.outcome is Outcome.SUCCEEDED
            and mb.id in self.divider.batches
        ):
            self.divider.observe(result.elapsed, result.total_items or len(mb.files))
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
        if action is Action.DONE and mb.id in self.pieces:
            self._piece_done(result, mb)
        elif action is Action.DONE:
            final = self.state.mini_batches[mb.id]
            if final.final is Final.SUCCEEDED:
                self.winning_parts[mb.id] = _part(result)
            self.journal.ledger(
                "final",
                mb=mb.id,
                index=mb.index,
                status=final.final,
                attempt=result.attempt,
                part=_part(result) if final.final is Final.SUCCEEDED else None,
                # Taken by the worker as it wrote the rows: they are not read again here.
                part_crc=result.part_crc if final.final is Final.SUCCEEDED else None,
                total_items=final.total_items,
                succeeded_items=final.succeeded_items,
            )
        if action is Action.DONE:
            self._cancel_copies(mb.id)
        if self.on_result is not None:  # called once the batch's records are written
            seen = result
            if action is Action.DONE and mb.id in self.pieces:  # the progress counts plan mini-batches
                root = self.state.root(mb.id)
                if self.state.mini_batches[root].final is not None:
                    seen = dataclasses.replace(result, mini_batch_id=root)
            shown.append((seen, action))
        if action is Action.SPLIT:
            return self._split(mb)
        if action is Action.RETRY:
            attempt = self._node(mb.id).attempt
            delay = self._node(mb.id).retry_delay
            if delay > 0:
                self.journal.log(
                    f"mini batch {mb.index} ({mb.id}) attempt {attempt} starts in {delay:.1f}s (backoff)"
                )
                heapq.heappush(self._delayed, (time.monotonic() + delay, next(self._serial), mb, attempt))
                return None
            return mb, attempt
        if action is Action.RESUBMIT:
            return mb, result.attempt
        return None

    # -- beyond Azure: backoff, bisection, speculation ----------------------------------
    def _node(self, mb_id: str) -> MiniBatchState:
        return self.state.mini_batches.get(mb_id) or self.state.pieces[mb_id]

    def _release_delayed(self, todo: collections.deque[tuple[MiniBatch, int]]) -> bool:
        """Move retries whose backoff has passed to the front of the queue."""
        now = time.monotonic()
        released = False
        while self._delayed and self._delayed[0][0] <= now:
            _, _, mb, attempt = heapq.heappop(self._delayed)
            todo.appendleft((mb, attempt))
            released = True
        return released

    def _split(self, mb: MiniBatch) -> tuple[MiniBatch, int] | None:
        """Run the halves of a mini-batch whose attempts failed (split_on_failure)."""
        halves = split_mini_batch(mb)
        self.state.split(mb.id, [(half.id, len(half.files)) for half in halves])
        for half in halves:
            self.pieces[half.id] = half
        self.journal.log(
            f"mini batch {mb.index} ({mb.id}) failed with {len(mb.files)} items: running its halves "
            + " and ".join(f"{half.id} ({len(half.files)})" for half in halves)
        )
        self.journal.ledger("split", mb=mb.id, index=mb.index, halves=[half.id for half in halves])
        self._later.extend((half, 1) for half in halves[1:])
        return halves[0], 1

    def _piece_done(self, result: AttemptResult, piece: MiniBatch) -> None:
        node = self.state.pieces[piece.id]
        if node.final is Final.SUCCEEDED:
            self.winning_parts[piece.id] = _part(result)
        self.journal.ledger(
            "piece",
            mb=piece.id,
            root=self.state.root(piece.id),
            index=piece.index,
            status=node.final,
            attempt=result.attempt,
            part=_part(result) if node.final is Final.SUCCEEDED else None,
            files=list(piece.files),
            total_items=node.total_items,
            succeeded_items=node.succeeded_items,
            error=None if node.final is Final.SUCCEEDED else node.last_error,
        )
        root_id = self.state.root(piece.id)
        root = self.state.mini_batches[root_id]
        if root.final is None:
            return
        leaves = self.state.leaves(root_id)
        parts = [self.winning_parts.get(leaf) for leaf in leaves]
        failures = [
            (item, self.state.pieces[leaf].last_error or "failed")
            for leaf in leaves
            if self.state.pieces[leaf].final is Final.FAILED
            for item in self.pieces[leaf].files
        ]
        self.split_parts[root_id] = parts
        self.split_failures[root_id] = failures
        self.journal.ledger(
            "final",
            mb=root_id,
            index=piece.index,
            status=root.final,
            attempt=root.attempt,
            part=None,
            parts=parts,
            failed_items=failures,
            total_items=root.total_items,
            succeeded_items=root.succeeded_items,
        )

    def parts_of(self, mb_id: str) -> list[Part | None]:
        """The rows of one mini-batch of the plan, in input order (several when it was split)."""
        if mb_id in self.split_parts:
            return self.split_parts[mb_id]
        return [self.winning_parts.get(mb_id)]

    def _division_done(self) -> bool:
        return self.divider is None or self.divider.done

    def _cut_more(self, todo: collections.deque[tuple[MiniBatch, int]]) -> None:
        """Cut mini-batches sized by time as workers free up, each at the latest measured size.

        One per worker: a mini-batch cut earlier would miss the measurements that
        arrive meanwhile.
        """
        divider = self.divider
        assert divider is not None
        while not divider.done and len(todo) + len(self._inflight) < divider.workers:
            batch = divider.cut()
            assert batch is not None
            cut = divider.cuts[-1]
            self.state.grow(batch.id)
            self.journal.ledger(
                "cut", index=cut.index, mb=cut.mb, start=cut.start, stop=cut.stop, size=cut.size
            )
            todo.append((batch, 1))
        if divider.done and self.state.growing:
            self.state.stop_growing()

    def _speculate(self) -> None:
        """Start copies of stragglers on idle workers when the state machine asks for them."""
        now = time.monotonic()
        if now - self._last_speculation < SPECULATION_INTERVAL or not self._inflight:
            return
        self._last_speculation = now
        try:
            processing = self.client.processing()
        except Exception:  # noqa: BLE001 - the scheduler is busy or gone; try again later
            return
        running: dict[str, float] = {}
        idle = []
        for address, keys in processing.items():
            keys = [str(key) for key in keys if str(key) in self._inflight]
            if not keys:
                idle.append(address)
            for key in keys:
                running[key] = now - self._running_since.setdefault(key, now)
        chosen = self.state.speculation_candidates(running, len(idle), self._speculated)
        for key, worker in zip(chosen, idle):
            _, mb, attempt = self._inflight[key]
            if self._node(mb.id).final is not None:
                continue
            (copy_key,) = self._submit([(mb, attempt)], workers=[worker])
            self._speculated.update((key, copy_key))
            self._copies.setdefault(mb.id, set()).update((key, copy_key))
            self.speculative_attempts += 1
            self.journal.log(
                f"mini batch {mb.index} ({mb.id}) attempt {attempt} has run {running[key]:.1f}s: "
                f"starting a copy on idle worker {worker}; the first to finish wins"
            )

    def _cancel_copies(self, mb_id: str) -> None:
        """A mini-batch is final: its other copies still running are cancelled."""
        keys = self._copies.pop(mb_id, set())
        losers = [self._inflight.pop(key)[0] for key in keys if key in self._inflight]
        if losers:
            with contextlib.suppress(Exception):
                self.client.cancel(losers)


def _part(result: AttemptResult) -> Part | None:
    return None if result.part is None else (result.part, result.part_offset, result.part_length)


def _is_worker_loss(exc: BaseException) -> bool:
    from asyncio import CancelledError

    from distributed.scheduler import KilledWorker

    return isinstance(exc, (KilledWorker, FutureCancelledError, CancelledError))


def _task_states(dask_scheduler: Any, keys: list[str]) -> dict[str, str]:
    """Runs on the scheduler: each task's state and the worker it is on."""
    found = {}
    for key in keys:
        task = dask_scheduler.tasks.get(key)
        if task is None:
            found[key] = "unknown to the scheduler"
        else:
            where = task.processing_on or (next(iter(task.who_has), None) if task.who_has else None)
            found[key] = task.state + (f" on {where.address}" if where is not None else "")
    return found
