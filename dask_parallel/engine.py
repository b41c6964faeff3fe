"""``run(job)``: validate, divide, execute on Dask, assemble, report."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import shutil
import socket
import sys
import threading
import time
import uuid
from collections.abc import Iterable
from typing import Any

from distributed import Client

from dask_parallel import config
from dask_parallel.batching import MiniBatch
from dask_parallel.datastores import resolve_job_locations
from dask_parallel.errors import JobCanceledError, JobValidationError, ResumeError
from dask_parallel.execution.cancel_file import watch_cancel_requests
from dask_parallel.execution.closing import closing_quietly
from dask_parallel.execution.cluster import check_scheduler_address, connect, dashboard_link, worker_count
from dask_parallel.execution.driver import Driver
from dask_parallel.execution.failures import failure_reason, is_environment_failure
from dask_parallel.execution.interrupts import held_note, hold_interrupts
from dask_parallel.execution.main_guard import check_main_guard
from dask_parallel.execution.placement import detect_shared_filesystem
from dask_parallel.execution.progress import Progress, announce_run_dir
from dask_parallel.execution.shipping import without_shared_disk
from dask_parallel.execution.sizing import AdaptiveDivider
from dask_parallel.execution.state import Final, JobState, JobStatus, Policy
from dask_parallel.execution.versions import check_versions
from dask_parallel.execution.worker_resources import check_resources
from dask_parallel.inputs.modes import apply_input_modes
from dask_parallel.inputs.planning import InputPlan, list_input, plan_input, plan_listed
from dask_parallel.inputs.streaming import STREAM_AFTER_FILES, StreamedPlan, stream_input
from dask_parallel.jobs.azure_only import unused_note
from dask_parallel.jobs.parallel import Parallel
from dask_parallel.outputs.append_row import assemble, load_to_csv_settings, upload_folder
from dask_parallel.outputs.placement import check_output_folders
from dask_parallel.paths import is_remote
from dask_parallel.redact import redact_document, redact_text
from dask_parallel.rundir import reuse
from dask_parallel.rundir.claim import RunLock, check_not_busy, check_not_inside, check_run_dir
from dask_parallel.rundir.environment import environment_record
from dask_parallel.rundir.fingerprint import (
    listing_in_progress,
    listing_in_progress_identity,
    resume_identity,
)
from dask_parallel.rundir.layout import RunLayout, new_run_dir
from dask_parallel.rundir.ledger import Journal, read_ledger
from dask_parallel.rundir.plan_store import (
    ListingProgress,
    ListingSummary,
    StoredMiniBatches,
    compare_listings,
    listing_table,
    read_listing,
    read_listing_progress,
    replace_folder,
)
from dask_parallel.rundir.result import JobResult
from dask_parallel.rundir.resume import (
    describe_changes,
    finished_mini_batches,
    listing_changed,
    read_job_file,
    restore_secrets,
    restored_checksums,
    running_holder,
)
from dask_parallel.spec.job_spec import JobSpec, build_job_spec, spec_from_dict
from dask_parallel.spec.sizes import DEFAULT_FILES_PER_MINI_BATCH
from dask_parallel.storage_access import storage_access
from dask_parallel.worker.runtime_spec import RuntimeSpec

logger = logging.getLogger("dask_parallel")
# Mini-batches submitted ahead per worker when tasks carry their input files (no shared disk).
SHIPPING_WINDOW_PER_WORKER = 32


def run(
    job: Parallel,
    *,
    client: Client | str | None = None,
    run_dir: str | os.PathLike | None = None,
    show_progress: bool | None = None,
    base_dir: str | os.PathLike | None = None,
    force_rerun: bool | None = None,
) -> JobResult:
    """Run a parallel job on Dask and wait for it to finish.

    Parameters
    ----------
    job
        A job from :func:`parallel_run_function` (or ``dask_parallel.load_job("job.yml")``)
        whose inputs carry paths.
    client
        A ``distributed.Client`` to use as it is, or a scheduler address. By default a
        LocalCluster with ``instance_count * max_concurrency_per_instance`` single-threaded
        worker processes is started on 127.0.0.1 and closed at the end.
    run_dir
        Where logs, the ledger and outputs without a path go; a new folder under
        ``dask-parallel-runs/`` by default.
    show_progress
        Show a progress bar (terminal or notebook widget); the ``dask-parallel.progress``
        setting by default.
    base_dir
        Folder that relative paths resolve against; the current directory by default.
    force_rerun
        Run even when an identical earlier run could be reused (``is_deterministic``);
        the ``dask-parallel.force-rerun`` setting (false) by default.

    Returns
    -------
    JobResult
        ``status`` is "Completed" or "Failed"; a failed job does not raise.

    Raises
    ------
    JobValidationError
        When the job definition or its inputs are invalid; nothing has run then.
    """
    if not isinstance(job, Parallel):  # pipelines and command steps
        from dask_parallel.pipelines.runner import run_other_job

        check_main_guard(client)

        return run_other_job(
            job,
            run_parallel=run,
            client=client,
            run_dir=run_dir,
            show_progress=show_progress,
            base_dir=base_dir,
        )
    check_main_guard(client)  # an unguarded top-level run() would restart in every worker
    if base_dir is None:
        base_dir = getattr(job, "source_dir", None) or os.getcwd()
    base = os.path.abspath(os.fspath(base_dir))
    target = (
        os.path.abspath(os.fspath(run_dir))
        if run_dir is not None
        else new_run_dir(job.name or "parallel_job")
    )
    if os.path.exists(RunLayout(target).job_file):
        raise JobValidationError(
            f"run directory {target!r} already holds a run; choose a new run_dir, or leave it "
            "out to get a fresh one."
        )
    check_run_dir(target)
    check_scheduler_address(client)
    check_not_busy(target)  # planning writes the run directory's plan/ before the lock is taken
    note = unused_note(job)
    if note:
        logger.info(note)
    job = resolve_job_locations(job, run_dir=target)
    # Validate the whole job before any side effect: a typo is reported before inputs download.
    spec = build_job_spec(job, base_dir=base, run_dir=target)
    _check_run_dir_placement(spec, target)
    staged = apply_input_modes(job, base_dir=base, run_dir=target)
    if staged is not job:  # inputs were downloaded: the same job, reading the local copies
        spec = build_job_spec(staged, base_dir=base, run_dir=target)
    if force_rerun is None:
        force_rerun = bool(config.get("force-rerun", False))
    store = RunLayout(target).plan_dir
    with _slow_listing_warning(spec.driver.first_task_creation_timeout), _major_input_access(spec):
        stream = None
        # A run that could be reused must be planned whole first: its reuse key needs every file.
        if not spec.is_deterministic or force_rerun or not reuse.completed_before(spec, run_dir=target):
            stream = stream_input(spec, store)
        if stream is not None:
            stream.wait_listed(int(config.get("stream-planning-after", STREAM_AFTER_FILES)))
        streaming = stream is not None and not stream.done
        if not streaming:
            plan = stream.finish() if stream is not None else plan_input(spec, store=store)
            _check_beyond_azure(spec, plan)
            identity = _identity(spec, plan)
            reuse_key = reuse.key(spec, identity, run_dir=target) if spec.is_deterministic else None
    if streaming:  # a large input: the job starts while the rest is listed
        assert stream is not None
        return execute(spec, stream, client=client, run_dir=target, show_progress=show_progress)
    if reuse_key is not None and not force_rerun:
        earlier = reuse.lookup(reuse_key)
        if earlier is not None:
            return reuse.record_reuse(earlier, target, spec)
    return execute(
        spec,
        plan,
        client=client,
        run_dir=target,
        show_progress=show_progress,
        identity=identity,
        reuse_key=reuse_key,
    )


@contextlib.contextmanager
def _slow_listing_warning(seconds: int):
    """Azure's --first_task_creation_timeout: say so when creating mini-batches is slow.

    Listing and dividing the input cannot be stopped half way without losing it, so the
    job goes on; the warning tells a waiting user why nothing has started yet.
    """

    def warn() -> None:
        message = (
            f"First task creation is taking longer than {seconds} seconds. This is usually caused "
            "by slow data source initialization. Please cancel the job manually if you do not "
            "want to wait any longer."
        )
        logger.warning(message)
        print(f"warning: {message}", file=sys.stderr)

    timer = threading.Timer(seconds, warn)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def _runtime_spec(spec: JobSpec, plan: InputPlan, run_dir: str, job_id: str) -> RuntimeSpec:
    # EntryScript().output_dir: the append_row output's folder, else the first output's.
    output_dir = RunLayout(run_dir).output_dir("entry_script")
    if spec.append_row_output is not None:
        output_dir = spec.outputs[spec.append_row_output].local_folder
    elif spec.outputs:
        output_dir = next(iter(spec.outputs.values())).local_folder
    return RuntimeSpec(
        job_id=job_id,
        code_dir=spec.code_dir,
        entry_script=spec.entry_script,
        module_name=spec.module_name,
        argv=spec.program_arguments,
        environment_variables=spec.environment_variables,
        logging_level=spec.logging_level,
        run_dir=run_dir,
        output_dir=output_dir,
        timeout=spec.timeout,
        task_overhead_timeout=spec.driver.task_overhead_timeout,
        append_row=spec.append_row_output is not None,
        dataframe_header=spec.driver.append_row_dataframe_header,
        to_csv=load_to_csv_settings(spec.code_dir),
        reader=plan.reader,
        concurrency=spec.max_concurrency_per_instance,
        resource_monitor_interval=spec.driver.resource_monitor_interval,
        client_process=f"{socket.gethostname()}:{os.getpid()}",
    )


def _prepare_outputs(spec: JobSpec) -> None:
    for output in spec.outputs.values():
        os.makedirs(output.local_folder, exist_ok=True)


def execute(
    spec: JobSpec,
    plan: InputPlan | StreamedPlan,
    *,
    client: Client | str | None,
    run_dir: str,
    show_progress: bool | None = None,
    identity: dict[str, Any] | None = None,
    restored: dict[str, dict[str, Any]] | None = None,
    reuse_key: str | None = None,
) -> JobResult:
    """Run an already validated and divided job (used by :func:`run` and :func:`resume`).

    ``restored`` maps mini-batch ids to their final ledger records from an earlier run of
    this run directory: those are not run again.
    """
    if show_progress is None:
        show_progress = bool(config.get("progress", True))
    check_run_dir(run_dir)
    lock = RunLock(run_dir).acquire()
    try:
        return _execute(spec, plan, client, run_dir, show_progress, identity, restored or {}, reuse_key)
    finally:
        lock.release()


def _major_input_access(spec: JobSpec) -> contextlib.AbstractContextManager[None]:
    """Listing the major input: a storage refusal is an error naming ``inputs.<name>``."""
    return storage_access(f"inputs.{spec.major_input.name}", spec.major_input.uri)


def _check_run_dir_placement(spec: JobSpec, run_dir: str) -> None:
    """The run directory must not lie inside a local input folder (its files would become input)."""
    folders = {spec.major_input.name: spec.major_input.uri, **spec.side_inputs}
    local = {name: str(path) for name, path in folders.items() if os.path.isabs(str(path))}
    check_not_inside(run_dir, {name: path for name, path in local.items() if os.path.isdir(path)})
    check_output_folders((name, out.local_folder, out.is_remote) for name, out in spec.outputs.items())


def _execute(
    spec: JobSpec,
    plan: InputPlan | StreamedPlan,
    client: Client | str | None,
    run_dir: str,
    show_progress: bool,
    identity: dict[str, Any] | None,
    restored: dict[str, dict[str, Any]],
    reuse_key: str | None,
) -> JobResult:
    journal = Journal(run_dir)
    job_id = uuid.uuid4().hex
    stream = plan if isinstance(plan, StreamedPlan) else None
    job_started = time.time()
    environment = environment_record(spec.code_dir, spec.entry_script)

    def write_job(identity: dict[str, Any], mini_batches: int | None) -> None:
        journal.write_job(
            {
                "job_id": job_id,
                "spec": dataclasses.asdict(spec),
                "input_kind": plan.kind,
                "mini_batches": mini_batches,  # None while a streamed input is being listed
                "identity": identity,
                "reuse_key": reuse_key,
                "started": job_started,
                "environment": environment,
            }
        )

    if stream is not None:
        write_job(listing_in_progress_identity(spec), None)
    else:
        if identity is None:
            identity = _identity(spec, plan)
        write_job(identity, len(plan.mini_batches))
    announce_run_dir(spec.name, run_dir, enabled=show_progress)
    uri = redact_text(spec.major_input.uri)
    journal.log(
        f"job {spec.name}: {len(plan.mini_batches)} mini batches of {plan.kind} input {uri}"
        + (f"; {len(restored)} finished in an earlier run and are reused" if restored else "")
        if stream is None
        else f"job {spec.name}: mini batches of files input {uri}, cut as it is listed "
        f"({stream.files_listed} files listed so far); the job starts meanwhile"
    )

    def listed(whole: InputPlan) -> None:
        """The streamed input is listed: job.json gets its identity, the run its reuse key."""
        nonlocal plan, reuse_key
        plan = whole
        whole_identity = _identity(spec, whole)
        if spec.is_deterministic:
            reuse_key = reuse.key(spec, whole_identity, run_dir=run_dir)
        write_job(whole_identity, len(whole.mini_batches))
        count = whole.listing.count if whole.listing is not None else 0
        journal.log(f"the input is listed: {count} files in {len(whole.mini_batches)} mini batches")

    runtime = _runtime_spec(spec, plan, run_dir, job_id)
    policy = Policy(
        max_attempts=spec.max_attempts,
        error_threshold=spec.error_threshold,
        mini_batch_error_threshold=spec.mini_batch_error_threshold,
        allowed_failed_percent=spec.driver.allowed_failed_percent,
        max_init_failures=2 * spec.total_processes,
        progress_update_timeout=spec.progress_update_timeout,
        **_policy_beyond_azure(spec),
    )
    state = JobState(plan.ids() if stream is None else (), policy)
    for mb_id, record in restored.items():
        state.restore(
            mb_id,
            record["status"],
            record.get("total_items"),
            record.get("succeeded_items") or 0,
            record["attempt"],
        )
    journal.checksums.update(restored_checksums(restored))
    # Read from the plan folder as the driver asks for more, not all at once.
    pending: Iterable[MiniBatch] | StreamedPlan
    divider = None
    if stream is not None:
        pending = stream
        state.growing = True  # until the listing has ended
    else:
        pending = (mb for mb in plan.mini_batches if mb.id not in restored)
        divider = _divider(spec, plan, run_dir)
        if divider is not None:
            state.growing = not divider.done
    started = time.time()
    link = None
    driver: Driver | None = None
    step = _Step("creating the output folders")
    try:
        _prepare_outputs(spec)
        step.now = "connecting to the Dask cluster"

        def notify(message: str) -> None:
            journal.log(message)
            print(f"note: {message}", file=sys.stderr)

        with closing_quietly(connect(client, spec.total_processes, notify)) as connected:
            check_versions(connected)
            check_resources(connected, spec.dask_resources)
            shared, why = detect_shared_filesystem(
                connected, run_dir, os.path.join(spec.code_dir, spec.entry_script)
            )
            journal.log(f"workers {'share' if shared else 'do not share'} this disk: {why}")
            shipment = None
            if not shared:
                pending = list(pending)  # every input file is needed: a streamed input is listed first
                if stream is not None:
                    for mb in pending:
                        state.grow(mb.id)
                    listed(stream.finish())
                    state.stop_growing()
                runtime, shipment = without_shared_disk(spec, runtime, pending, run_dir)
            step.now = "preparing the workers"
            link = dashboard_link(connected)
            if link:
                journal.log(f"Dask dashboard: {link}")
            per_worker = int(config.get("submit-window-per-worker", 128))
            if shipment is not None:  # each task carries its input files: fewer in flight
                per_worker = min(per_worker, SHIPPING_WINDOW_PER_WORKER)
            window = max(2, worker_count(connected)) * per_worker
            with (
                Progress(state, enabled=show_progress, name=spec.name, dashboard=link) as progress,
                watch_cancel_requests(run_dir, state, journal.log),
            ):
                driver = Driver(
                    connected,
                    runtime,
                    state,
                    journal,
                    step_name=spec.name,
                    window=window,
                    on_result=progress.update,
                    shipment=shipment,
                    resources=spec.dask_resources,
                )
                driver.on_listed = listed
                driver.winning_parts.update(
                    {k: tuple(v["part"]) if v.get("part") else None for k, v in restored.items()}
                )
                _restore_split(driver, restored)
                if divider is not None:
                    divider.workers = max(1, worker_count(connected))
                    driver.divider = divider
                step.now = "running the mini-batches"
                driver.run(pending)
            step.now = "closing the Dask cluster"
        if client is None and getattr(connected, "cluster", None) is not None:
            link = None  # the dashboard closed with the cluster started for this job
    except KeyboardInterrupt:
        if state.status is JobStatus.COMPLETED:  # the stop came as the cluster closed: too late
            journal.log("a stop signal arrived after every mini-batch had finished; the job completes")
            print(
                "note: a stop signal arrived after the job had finished; its result stands.", file=sys.stderr
            )
        else:
            state.cancel()
            _finish(spec, _cut_plan(_settled(plan), divider), state, journal, driver, started, link)
            raise JobCanceledError(
                f"{state.reason} The run directory {run_dir} keeps what finished; "
                f"dask_parallel.resume({run_dir!r}) (or dask-parallel resume) continues it."
            ) from None
    except Exception as exc:
        failed = _finish_after_error(
            exc, step.now, spec, _cut_plan(_settled(plan), divider), state, journal, driver, started, link
        )
        if not is_environment_failure(exc):
            raise  # the user's definition (exit code 2) or a bug (exit code 3)
        return failed
    result = _finish(spec, _cut_plan(_settled(plan), divider), state, journal, driver, started, link)
    if reuse_key is not None and result.status == "Completed":
        reuse.remember(reuse_key, result)
    return result


def _settled(plan: InputPlan | StreamedPlan) -> InputPlan:
    """The plan of a job that ended: a listing still under way stops, keeping what it cut."""
    return plan.stop() if isinstance(plan, StreamedPlan) else plan


@dataclasses.dataclass
class _Step:
    """What the job was doing, for the reason of a job stopped by an exception."""

    now: str


def _finish_after_error(
    exc: Exception,
    during: str,
    spec: JobSpec,
    plan: InputPlan,
    state: JobState,
    journal: Journal,
    driver: Driver | None,
    started: float,
    link: str | None,
) -> JobResult:
    """Record the status of a job stopped by ``exc``: the status, job_result.txt, the ledger's end."""
    reason = failure_reason(exc, during)
    state.abort(reason)
    try:
        return _finish(spec, plan, state, journal, driver, started, link)
    except Exception as second:  # noqa: BLE001 - the first exception is the one to report
        logger.warning("recording the failed job's status failed too: %s: %s", type(second).__name__, second)
        return JobResult(
            status=state.status.value,
            run_dir=journal.run_dir,
            outputs={},
            error=reason,
            mini_batches_total=state.total,
            mini_batches_succeeded=state.succeeded,
            mini_batches_failed=state.failed,
            items_total=state.items_processed,
            items_succeeded=state.items_succeeded,
            items_failed=state.items_failed,
        )


def _finish(
    spec: JobSpec,
    plan: InputPlan,
    state: JobState,
    journal: Journal,
    driver: Driver | None,
    started: float,
    link: str | None,
) -> JobResult:
    """Write the outputs and the record of a job whose status is decided (stop signals held)."""
    with hold_interrupts() as received:
        result = _record_finished(spec, plan, state, journal, driver, started, link)
    note = held_note(received, "the outputs and the job's result were written")
    if note:
        logger.warning(note)
        print(f"note: {note}", file=sys.stderr)
    return result


def _record_finished(
    spec: JobSpec,
    plan: InputPlan,
    state: JobState,
    journal: Journal,
    driver: Driver | None,
    started: float,
    link: str | None,
) -> JobResult:
    state.end()
    if state.status is JobStatus.COMPLETED:
        try:
            _write_outputs(spec, state, driver, journal.checksums)
        except Exception as exc:  # noqa: BLE001 - report, do not present a partial output
            state.outputs_failed(f"{type(exc).__name__}: {exc}")
    summary = (
        f"There are {state.total} mini batches. Processed {state.succeeded + state.failed} mini "
        f"batches containing {state.items_processed} items, {state.items_succeeded} succeeded, "
        f"{state.items_failed} failed. The error threshold is {spec.error_threshold}."
    ) + _split_summary(driver)
    if state.status is not JobStatus.COMPLETED:
        summary += _earlier_output_note(spec, started)
    if driver is not None and driver.speculative_attempts:
        summary += (
            f"\nSpeculation started {driver.speculative_attempts} copy(ies) of straggling attempts on idle "
            "workers (see logs/sys/master_role.txt)."
        )
    journal.write_result(state.status, state.reason, summary, driver.errors if driver else [])
    journal.write_failed_items(_failed_items(plan, state, driver))
    journal.log(f"job {state.status}: {state.reason or summary}")
    journal.ledger("job", status=state.status, reason=state.reason)
    journal.close()
    shutil.rmtree(journal.layout.markers_dir, ignore_errors=True)
    return JobResult(
        status=state.status.value,
        run_dir=journal.run_dir,
        # A job that did not complete wrote no output; a file at an output's path is older.
        outputs={name: out.uri for name, out in spec.outputs.items()}
        if state.status is JobStatus.COMPLETED
        else {},
        error=state.reason,
        mini_batches_total=state.total,
        mini_batches_succeeded=state.succeeded,
        mini_batches_failed=state.failed,
        items_total=state.items_processed,
        items_succeeded=state.items_succeeded,
        items_failed=state.items_failed,
        attempts=state.attempts,
        started=started,
        finished=time.time(),
        dashboard_link=link,
    )


def _earlier_output_note(spec: JobSpec, started: float) -> str:
    """Say that an append_row file left at the output's path is not this run's output."""
    uri = spec.append_row_uri
    if uri is None or is_remote(uri) or not os.path.isfile(uri):
        return ""
    modified = os.path.getmtime(uri)
    if modified >= started:
        return ""
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(modified))
    return (
        f"\nNo output was written. The file {uri} is not this run's output: an earlier run wrote "
        f"it ({when}), and it does not hold this run's rows."
    )


def _failed_items(
    plan: InputPlan, state: JobState, driver: Driver | None = None
) -> list[tuple[str, int, str, str]]:
    """Which inputs failed and why: every item of a failed mini-batch, and short returns.

    A mini-batch that was split (split_on_failure) names only the items that failed on
    their own, each with its error.
    """
    split = driver.split_failures if driver is not None else {}
    if not split and state.failed == 0 and state.items_failed == 0:
        return []  # nothing failed: the plan (perhaps a million files on disk) need not be read
    rows = []
    for mb in plan.mini_batches:
        record = state.mini_batches.get(mb.id)
        if record is None:  # cut by a listing after the job had stopped
            continue
        if mb.id in split:
            rows.extend((mb.id, mb.index, item, reason) for item, reason in split[mb.id])
        elif record.final is Final.FAILED:
            reason = record.last_error or "failed"
            for item in mb.files or (mb.describe(),):
                rows.append((mb.id, mb.index, item, reason))
        elif record.final is Final.SUCCEEDED and (record.total_items or 0) > record.succeeded_items:
            reason = (
                f"run() returned {record.succeeded_items} of {record.total_items} items; which ones "
                "failed is known only to the entry script"
            )
            rows.append((mb.id, mb.index, mb.describe(), reason))
    return rows


SUMMARY_ITEMS_SHOWN = 10


def _split_summary(driver: Driver | None) -> str:
    """The items that failed on their own in split mini-batches (split_on_failure), by name."""
    failures = [item for items in (driver.split_failures.values() if driver else ()) for item in items]
    if not failures:
        return ""
    shown = "; ".join(f"{item}: {reason}" for item, reason in failures[:SUMMARY_ITEMS_SHOWN])
    more = len(failures) - SUMMARY_ITEMS_SHOWN
    return (
        f"\nSplitting failed mini batches isolated {len(failures)} failed item(s): {shown}"
        + (f"; and {more} more" if more > 0 else "")
        + ". All are listed in logs/sys/job_report/failed_items.csv."
    )


def _cut_records(run_dir: str) -> list[dict[str, Any]]:
    """The mini-batches sized by time that earlier runs of ``run_dir`` cut (the last word per index)."""
    cuts = {r["index"]: r for r in read_ledger(run_dir) if r.get("event") == "cut"}
    return [cuts[index] for index in sorted(cuts)]


def _divider(spec: JobSpec, plan: InputPlan, run_dir: str) -> AdaptiveDivider | None:
    """Mini-batches sized by time: a divider that continues after the cuts already in ``plan``."""
    if spec.target_duration is None:
        return None
    divider = AdaptiveDivider(plan.files, spec.target_duration, workers=spec.total_processes)
    if plan.mini_batches:
        replayed = divider.replay(_cut_records(run_dir))
        if [mb.id for mb in replayed] != [mb.id for mb in plan.mini_batches]:
            raise ResumeError(
                f"the mini-batches sized by time in {run_dir!r} could not be cut again the same way: "
                "its ledger.jsonl no longer matches the input. Start a new run, or force a fresh "
                "run in this directory (force=True, or dask-parallel resume --force)."
            )
    return divider


def _cut_plan(plan: InputPlan, divider: AdaptiveDivider | None) -> InputPlan:
    """The plan with every mini-batch cut during the run (for reports)."""
    if divider is None:
        return plan
    return dataclasses.replace(plan, mini_batches=tuple(divider.batches.values()))


def _check_beyond_azure(spec: JobSpec, plan: InputPlan) -> None:
    """Settings beyond Azure that this input cannot honour."""
    if spec.split_on_failure and plan.kind == "tabular":
        raise JobValidationError(
            "retry_settings.split_on_failure applies to inputs divided into files (uri_folder, "
            "uri_file, or an MLTable of paths); this job's input is divided into table blocks. "
            "Remove split_on_failure, or lower mini_batch_size to isolate bad rows."
        )


def _policy_beyond_azure(spec: JobSpec) -> dict[str, Any]:
    """The Policy fields of retry by error type, backoff, bisection and speculation."""
    return {
        "split_on_failure": spec.split_on_failure,
        "retry_on": spec.retry_on,
        "no_retry_on": spec.no_retry_on,
        "backoff_initial": spec.backoff_initial,
        "backoff_max": spec.backoff_max,
        "speculation": spec.speculation,
        "speculation_multiplier": spec.speculation_multiplier,
        "speculation_min_seconds": spec.speculation_min_seconds,
    }


def _restore_split(driver: Driver, restored: dict[str, dict[str, Any]]) -> None:
    """Split mini-batches reused from an earlier run keep their halves' rows and failures."""
    for mb_id, record in restored.items():
        if record.get("parts") is not None:
            driver.split_parts[mb_id] = [tuple(part) if part else None for part in record["parts"]]
            driver.split_failures[mb_id] = [tuple(item) for item in record.get("failed_items") or []]


def _write_outputs(
    spec: JobSpec, state: JobState, driver: Driver | None, checksums: dict[tuple[str, int, int], int]
) -> None:
    if spec.append_row_uri is not None and driver is not None:
        # state.mini_batches keeps the plan's order, so rows come out in mini-batch order;
        # a split mini-batch contributes its halves' rows, in input order.
        parts = [part for mb_id in state.mini_batches for part in driver.parts_of(mb_id)]
        assemble(
            parts,
            spec.append_row_uri,
            has_header=spec.driver.append_row_dataframe_header,
            checksums=checksums,
        )
    for output in spec.outputs.values():
        if output.type == "mltable":  # describe the folder so that the next step can load it
            from dask_parallel.outputs.mltable_output import write_output_mltable

            appended = spec.driver.append_row_file_name if spec.append_row_output == output.name else None
            write_output_mltable(output.local_path, appended, spec.driver.append_row_dataframe_header)
    for output in spec.outputs.values():
        if output.is_remote and os.path.exists(output.local_path) and any(os.scandir(output.local_path)):
            upload_folder(output.local_path, output.uri)


def resume(
    run_dir: str | os.PathLike,
    *,
    client: Client | str | None = None,
    job: Parallel | None = None,
    force: bool = False,
    show_progress: bool | None = None,
) -> JobResult:
    """Continue the job of ``run_dir``: only failed and unprocessed mini-batches run.

    Finished mini-batches are reused and the final output is rebuilt, holding every row
    exactly once. The entry script's code may have changed (that is the point of fixing a
    bug and resuming); a changed input, division or entry-script setting refuses with the
    list of changes, unless ``force=True``, which starts afresh in the same run directory.
    Pass ``job`` to resume with an edited definition (for instance a longer timeout).
    """
    folder = os.path.abspath(os.fspath(run_dir))
    path = RunLayout(folder).job_file
    if not os.path.exists(path):
        raise ResumeError(
            f"cannot resume {folder!r}: it holds no job.json, so it is not a dask_parallel run "
            "directory (or the run never started). Check the path printed when the job ran."
        )
    check_scheduler_address(client)
    holder = running_holder(folder)
    if holder is not None:
        raise ResumeError(f"cannot resume {folder!r}: the job is still running in {holder.describe()}.")
    stored = read_job_file(folder)
    if job is not None:
        base = getattr(job, "source_dir", None) or os.getcwd()
        job = resolve_job_locations(job, run_dir=folder)
        spec = build_job_spec(job, base_dir=base, run_dir=folder)
    else:
        secrets_back = restore_secrets(stored["spec"], folder)
        try:
            spec = spec_from_dict(secrets_back)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ResumeError(
                f"cannot resume {folder!r}: the job settings in its job.json are incomplete "
                f"({type(exc).__name__}: {exc}). Give the job again: dask-parallel resume RUN_DIR "
                "--job job.yml (dask_parallel.resume(run_dir, job=...))."
            ) from None
    _check_run_dir_placement(spec, folder)
    layout = RunLayout(folder)
    staging = layout.plan_dir + ".next"  # the old plan stays until the new one is accepted
    shutil.rmtree(staging, ignore_errors=True)
    # job.json keeps identities without secret values: compare like with like.
    before = stored.get("identity", {})
    # A run stopped while its input was still being listed (planning that streams) left the
    # digest of the files it had listed: those are checked, the rest cannot be.
    stopped_listing = listing_in_progress(before) and not force
    checked = read_listing_progress(layout.plan_dir) if stopped_listing else None
    files = None
    with _major_input_access(spec):
        listing = list_input(spec, staging, digest_at=checked.count if checked else None)
    if listing is not None:  # compare the listings before dividing: a changed input is refused sooner
        if stopped_listing:
            _check_listed_prefix(folder, staging, checked, listing)
        elif not force:
            listed = redact_document(resume_identity(spec, None, listing.count, listing.digest))
            files = _file_changes(before, listed, folder, staging)
            if files is not None and any(files):
                _refuse_resume(folder, staging, describe_changes(before, listed, files))
        plan = plan_listed(spec, staging, listing)
    else:
        with _major_input_access(spec):
            plan = plan_input(spec, store=staging)
    _check_beyond_azure(spec, plan)
    identity = _identity(spec, plan)
    if not force:
        after = redact_document(identity)
        if listing is None and not stopped_listing:
            files = _file_changes(before, after, folder, staging)
        changes = describe_changes(before, after, files)
        if changes:
            _refuse_resume(folder, staging, changes)
    replace_folder(staging, layout.plan_dir)
    if isinstance(plan.mini_batches, StoredMiniBatches):
        plan = dataclasses.replace(plan, mini_batches=plan.mini_batches.moved_to(layout.plan_dir))
    if spec.target_duration is not None and not force:
        # Mini-batches sized by time: the cuts the earlier runs made, again, then the remainder.
        replay = AdaptiveDivider(plan.files, spec.target_duration).replay(_cut_records(folder))
        plan = dataclasses.replace(plan, mini_batches=tuple(replay))
    wanted = set(plan.ids())
    if stopped_listing:
        wanted = _within_checked(plan, spec, checked)
    restored = {} if force else finished_mini_batches(folder, wanted)
    return execute(
        spec,
        plan,
        client=client,
        run_dir=folder,
        show_progress=show_progress,
        identity=identity,
        restored=restored,
    )


def _identity(spec: JobSpec, plan: InputPlan) -> dict[str, Any]:
    if plan.listing is None:
        raise ValueError("the plan has no listing: make it with plan_input(spec, store=<run dir>/plan)")
    return resume_identity(spec, plan.ids(), plan.listing.count, plan.listing.digest)


def _file_changes(
    before: dict[str, Any], after: dict[str, Any], run_dir: str, new_plan: str
) -> tuple[list[str], list[str], list[str]] | None:
    """The files added, removed and modified since the run of ``run_dir``; None when its listing matches."""
    if not listing_changed(before, after):
        return None
    old_files = before.get("files")
    if isinstance(old_files, dict) and "digest" not in old_files:  # a run made before the plan folder
        old = listing_table(old_files)
    else:
        old_plan = RunLayout(run_dir).plan_dir
        try:
            old = read_listing(old_plan)
        except (OSError, ValueError) as exc:
            raise ResumeError(
                f"cannot resume {run_dir!r}: the listing of the input it read ({old_plan}) cannot be "
                f"read ({type(exc).__name__}: {exc}), so whether the input changed cannot be told. "
                "Start a new run, or force a fresh run in this directory (force=True, or "
                "dask-parallel resume --force)."
            ) from None
    return compare_listings(old, read_listing(new_plan))


def _check_listed_prefix(
    run_dir: str, new_plan: str, checked: ListingProgress | None, listing: ListingSummary
) -> None:
    """Refuse the resume when the files the stopped listing had covered changed since."""
    if checked is None or listing.prefix_digest == checked.digest:
        return
    _refuse_resume(
        run_dir,
        new_plan,
        [
            f"the first {checked.count} input file(s) that the earlier run listed changed (files were "
            "added, removed or modified among them; that run was stopped while its input was still "
            "being listed, so which ones cannot be told)"
        ],
    )


def _within_checked(plan: InputPlan, spec: JobSpec, checked: ListingProgress | None) -> set[str]:
    """The mini-batches whose files all lie among those the stopped listing had covered (and checked)."""
    if checked is None:
        return set()
    ids = plan.ids()
    if checked.complete:
        return set(ids)
    size = spec.mini_batch_size or DEFAULT_FILES_PER_MINI_BATCH
    return set(ids[: checked.count // size])


def _refuse_resume(run_dir: str, new_plan: str, changes: list[str]) -> None:
    shutil.rmtree(new_plan, ignore_errors=True)
    raise ResumeError(
        f"cannot resume {run_dir!r} because " + "; ".join(changes) + ". Its finished mini-batches "
        "no longer answer the same job. Restore the input and settings, start a new run, or "
        "force a fresh run in this directory (force=True, or dask-parallel resume --force)."
    )
