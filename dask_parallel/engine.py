"""``run(job)``: validate, divide, execute on Dask, assemble, report."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import logging
import os
import shutil
import socket
import sys
import threading
import time
import uuid
from typing import Any

from distributed import Client

from dask_parallel import config
from dask_parallel.errors import JobValidationError, ResumeError
from dask_parallel.execution.cluster import connect, dashboard_link, worker_count
from dask_parallel.execution.driver import Driver
from dask_parallel.execution.placement import detect_shared_filesystem
from dask_parallel.execution.progress import Progress
from dask_parallel.execution.shipping import without_shared_disk
from dask_parallel.execution.state import JobState, Policy
from dask_parallel.execution.versions import check_versions
from dask_parallel.execution.worker_resources import check_resources
from dask_parallel.inputs.modes import apply_input_modes
from dask_parallel.inputs.planning import InputPlan, plan_input
from dask_parallel.jobs.parallel import Parallel
from dask_parallel.outputs.append_row import assemble, load_to_csv_settings, upload_folder
from dask_parallel.rundir import reuse
from dask_parallel.rundir.fingerprint import resume_identity
from dask_parallel.rundir.ledger import Journal
from dask_parallel.rundir.result import JobResult
from dask_parallel.rundir.resume import describe_changes, finished_mini_batches, running_pid
from dask_parallel.spec.job_spec import JobSpec, build_job_spec, spec_from_dict
from dask_parallel.worker.runtime_spec import RuntimeSpec

logger = logging.getLogger("dask_parallel")


def new_run_dir(name: str, root: str | None = None) -> str:
    root = root or config.get("run-root", "dask-parallel-runs")
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return os.path.abspath(os.path.join(root, f"{name}_{stamp}_{uuid.uuid4().hex[:6]}"))


def run(
    job: Parallel,
    *,
    client: Client | str | None = None,
    run_dir: str | os.PathLike | None = None,
    show_progress: bool | None = None,
    base_dir: str | os.PathLike | None = None,
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

        return run_other_job(
            job, client=client, run_dir=run_dir, show_progress=show_progress, base_dir=base_dir
        )
    if base_dir is None:
        base_dir = getattr(job, "source_dir", None) or os.getcwd()
    base = os.path.abspath(os.fspath(base_dir))
    target = (
        os.path.abspath(os.fspath(run_dir))
        if run_dir is not None
        else new_run_dir(job.name or "parallel_job")
    )
    if os.path.exists(os.path.join(target, "job.json")):
        raise JobValidationError(
            f"run directory {target!r} already holds a run; choose a new run_dir, or leave it "
            "out to get a fresh one."
        )
    job = apply_input_modes(job, base_dir=base, run_dir=target)
    spec = build_job_spec(job, base_dir=base, run_dir=target)
    with _slow_listing_warning(spec.driver.first_task_creation_timeout):
        plan = plan_input(spec)
        identity = resume_identity(spec, plan.mini_batches, plan.file_versions)
        reuse_key = reuse.key(spec, identity, run_dir=target) if spec.is_deterministic else None
    if reuse_key is not None:
        earlier = reuse.lookup(reuse_key)
        if earlier is not None:
            logger.warning("reusing the result of the identical earlier run in %s", earlier.run_dir)
            print(f"Reusing the identical earlier run {earlier.run_dir} (is_deterministic=True).")
            return earlier
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
    output_dir = os.path.join(run_dir, "outputs", "entry_script")
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
        client_process=f"{socket.gethostname()}:{os.getpid()}",
    )


def _prepare_outputs(spec: JobSpec) -> None:
    for output in spec.outputs.values():
        os.makedirs(output.local_folder, exist_ok=True)


def execute(
    spec: JobSpec,
    plan: InputPlan,
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
    os.makedirs(run_dir, exist_ok=True)
    lock = os.path.join(run_dir, "run.lock")
    with open(lock, "w", encoding="utf-8") as handle:
        handle.write(f"{os.getpid()}\n")
    try:
        return _execute(spec, plan, client, run_dir, show_progress, identity, restored or {}, reuse_key)
    finally:
        with contextlib.suppress(OSError):
            os.remove(lock)


def _execute(
    spec: JobSpec,
    plan: InputPlan,
    client: Client | str | None,
    run_dir: str,
    show_progress: bool,
    identity: dict[str, Any] | None,
    restored: dict[str, dict[str, Any]],
    reuse_key: str | None,
) -> JobResult:
    journal = Journal(run_dir)
    job_id = uuid.uuid4().hex
    if identity is None:
        identity = resume_identity(spec, plan.mini_batches, plan.file_versions)
    journal.write_job(
        {
            "job_id": job_id,
            "spec": dataclasses.asdict(spec),
            "input_kind": plan.kind,
            "mini_batches": len(plan.mini_batches),
            "identity": identity,
            "reuse_key": reuse_key,
        }
    )
    journal.log(
        f"job {spec.name}: {len(plan.mini_batches)} mini batches of {plan.kind} input {spec.major_input.uri}"
        + (f"; {len(restored)} finished in an earlier run and are reused" if restored else "")
    )
    _prepare_outputs(spec)
    runtime = _runtime_spec(spec, plan, run_dir, job_id)
    policy = Policy(
        max_attempts=spec.max_attempts,
        error_threshold=spec.error_threshold,
        mini_batch_error_threshold=spec.mini_batch_error_threshold,
        allowed_failed_percent=spec.driver.allowed_failed_percent,
        max_init_failures=2 * spec.total_processes,
    )
    state = JobState([mb.id for mb in plan.mini_batches], policy)
    for mb_id, record in restored.items():
        state.restore(
            mb_id,
            record["status"],
            record.get("total_items"),
            record.get("succeeded_items") or 0,
            record["attempt"],
        )
    pending = [mb for mb in plan.mini_batches if mb.id not in restored]
    started = time.time()
    link = None
    driver: Driver | None = None
    try:

        def notify(message: str) -> None:
            journal.log(message)
            print(f"note: {message}", file=sys.stderr)

        with connect(client, spec.total_processes, notify) as connected:
            check_versions(connected)
            check_resources(connected, spec.dask_resources)
            shared, why = detect_shared_filesystem(connected, run_dir, spec.entry_script_path)
            journal.log(f"workers {'share' if shared else 'do not share'} this disk: {why}")
            shipment = None
            if not shared:
                runtime, shipment = without_shared_disk(spec, runtime, pending, run_dir)
            link = dashboard_link(connected)
            if link:
                journal.log(f"Dask dashboard: {link}")
            window = max(2, worker_count(connected)) * int(config.get("submit-window-per-worker", 4))
            with Progress(state, enabled=show_progress, name=spec.name, dashboard=link) as progress:
                driver = Driver(
                    connected,
                    runtime,
                    state,
                    journal,
                    step_name=spec.name,
                    window=window,
                    progress_update_timeout=spec.progress_update_timeout,
                    on_result=progress.update,
                    shipment=shipment,
                    resources=spec.dask_resources,
                )
                driver.winning_parts.update(
                    {k: tuple(v["part"]) if v.get("part") else None for k, v in restored.items()}
                )
                driver.run(pending)
        if client is None and getattr(connected, "cluster", None) is not None:
            link = None  # the dashboard closed with the cluster started for this job
    except KeyboardInterrupt:
        state.abort("The job was canceled by the user.", status="Canceled")
        _finish(spec, plan, state, journal, driver, started, link)
        raise
    result = _finish(spec, plan, state, journal, driver, started, link)
    if reuse_key is not None and result.status == "Completed":
        reuse.remember(reuse_key, result, spec)
    return result


def _finish(
    spec: JobSpec,
    plan: InputPlan,
    state: JobState,
    journal: Journal,
    driver: Driver | None,
    started: float,
    link: str | None,
) -> JobResult:
    if state.status is None:
        state.abort("The job ended before every mini batch was processed.")
    if state.status == "Completed":
        try:
            _write_outputs(spec, state, driver)
        except Exception as exc:  # noqa: BLE001 - report, do not present a partial output
            state.status = "Failed"
            state.reason = f"Writing the outputs failed: {type(exc).__name__}: {exc}"
    summary = (
        f"There are {state.total} mini batches. Processed {state.succeeded + state.failed} mini "
        f"batches containing {state.items_processed} items, {state.items_succeeded} succeeded, "
        f"{state.items_failed} failed. The error threshold is {spec.error_threshold}."
    )
    journal.write_result(state.status, state.reason, summary, driver.errors if driver else [])
    journal.write_failed_items(_failed_items(plan, state))
    journal.log(f"job {state.status}: {state.reason or summary}")
    journal.ledger("job", status=state.status, reason=state.reason)
    journal.close()
    shutil.rmtree(os.path.join(journal.run_dir, "attempts"), ignore_errors=True)
    return JobResult(
        status=state.status,
        run_dir=journal.run_dir,
        outputs={name: out.uri for name, out in spec.outputs.items()},
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


def _failed_items(plan: InputPlan, state: JobState) -> list[tuple[str, int, str, str]]:
    """Which inputs failed and why: every item of a failed mini-batch, and short returns."""
    rows = []
    for mb in plan.mini_batches:
        record = state.mini_batches[mb.id]
        if record.final == "failed":
            reason = record.last_error or "failed"
            for item in mb.files or (mb.describe(),):
                rows.append((mb.id, mb.index, item, reason))
        elif record.final == "succeeded" and (record.total_items or 0) > record.succeeded_items:
            reason = (
                f"run() returned {record.succeeded_items} of {record.total_items} items; which ones "
                "failed is known only to the entry script"
            )
            rows.append((mb.id, mb.index, mb.describe(), reason))
    return rows


def _write_outputs(spec: JobSpec, state: JobState, driver: Driver | None) -> None:
    if spec.append_row_uri is not None and driver is not None:
        # state.mini_batches keeps the plan's order, so rows come out in mini-batch order.
        parts = [driver.winning_parts.get(mb_id) for mb_id in state.mini_batches]
        assemble(parts, spec.append_row_uri, has_header=spec.driver.append_row_dataframe_header)
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
    path = os.path.join(folder, "job.json")
    if not os.path.exists(path):
        raise ResumeError(
            f"cannot resume {folder!r}: it holds no job.json, so it is not a dask_parallel run "
            "directory (or the run never started). Check the path printed when the job ran."
        )
    pid = running_pid(folder)
    if pid is not None:
        raise ResumeError(f"cannot resume {folder!r}: the job is still running in process {pid}.")
    with open(path, encoding="utf-8") as handle:
        stored = json.load(handle)
    if job is not None:
        base = getattr(job, "source_dir", None) or os.getcwd()
        spec = build_job_spec(job, base_dir=base, run_dir=folder)
    else:
        spec = spec_from_dict(stored["spec"])
    plan = plan_input(spec)
    identity = resume_identity(spec, plan.mini_batches, plan.file_versions)
    changes = describe_changes(stored.get("identity", {}), identity)
    if changes and not force:
        raise ResumeError(
            f"cannot resume {folder!r} because " + "; ".join(changes) + ". Its finished mini-batches "
            "no longer answer the same job. Restore the input and settings, start a new run, or "
            "force a fresh run in this directory (force=True, or dask-parallel resume --force)."
        )
    restored = {} if force else finished_mini_batches(folder, {mb.id for mb in plan.mini_batches})
    return execute(
        spec,
        plan,
        client=client,
        run_dir=folder,
        show_progress=show_progress,
        identity=identity,
        restored=restored,
    )
