"""Run a :class:`PipelineJob`: steps in dependency order on one Dask cluster.

Every step gets a folder ``<run_dir>/<step>``; parallel steps run through the
``run_parallel`` function the caller passes (:func:`dask_parallel.engine.run`, which
dispatches pipelines here: the runner never imports the engine), command steps as a
process on a Dask worker. Steps whose
inputs are ready run side by side (each parallel step's entry script sees its own argv,
environment and working directory on the shared workers). A
failed step stops its dependents (and, unless ``settings.continue_on_step_failure``, any
step not yet started). The pipeline status is
kept in ``<run_dir>/pipeline.json``.
"""

from __future__ import annotations

import concurrent.futures
import copy
import os
import time
from collections.abc import Callable
from typing import Any

from distributed import Client

from dask_parallel import config
from dask_parallel.datastores import resolve_job_locations
from dask_parallel.errors import DaskParallelError, JobCanceledError, JobValidationError
from dask_parallel.execution import cancel_flag
from dask_parallel.execution.closing import closing_quietly
from dask_parallel.execution.cluster import connect
from dask_parallel.inputs.modes import apply_input_modes
from dask_parallel.jobs.command import Command, execute_command, render_command
from dask_parallel.jobs.entities import Input, Output
from dask_parallel.jobs.parallel import Parallel
from dask_parallel.paths import is_remote, normalize_path
from dask_parallel.pipelines.graph import (
    Produced,
    code_dir,
    dependencies,
    dependents,
    order,
    output_type,
    resolve_node,
)
from dask_parallel.pipelines.job import PipelineJob
from dask_parallel.pipelines.result import PipelineResult
from dask_parallel.pipelines.reuse import step_key
from dask_parallel.pipelines.saved import save_definition
from dask_parallel.rundir import reuse
from dask_parallel.rundir.atomic import write_json_atomic
from dask_parallel.rundir.layout import new_run_dir
from dask_parallel.rundir.result import JobResult
from dask_parallel.spec.job_spec import check_entry_script

STATUS_FILE = "pipeline.json"


def _propagate_outputs(job: PipelineJob) -> PipelineJob:
    """Pipeline-output settings (type, path, mode) win over the step outputs they bind."""
    job = copy.deepcopy(job)
    for key, (step, name) in job.output_bindings.items():
        wanted = job.outputs.get(key)
        node = job.jobs[step]
        current = node.outputs.get(name)
        current = current if isinstance(current, Output) else Output()
        if isinstance(wanted, Output):
            node.outputs[name] = Output(
                type=wanted.type, path=wanted.path or current.path, mode=wanted.mode or current.mode
            )
    return job


def _preflight(job: PipelineJob, base_dir: str, run_dir: str | None = None) -> None:
    for step, node in job.jobs.items():
        folder = code_dir(node, base_dir)
        try:
            # datastores of azureml:// paths must be configured before anything runs
            resolve_job_locations(node, run_dir=os.path.join(run_dir or base_dir, step), name=step)
            if isinstance(node, Parallel):
                if node.task is None or not node.task.entry_script:
                    raise JobValidationError("task.entry_script is required, e.g. entry_script='score.py'.")
                check_entry_script(folder, node.task.entry_script)
            elif not os.path.isdir(folder):
                raise JobValidationError(f"code: folder {folder!r} does not exist.")
        except DaskParallelError as exc:
            raise type(exc)(f"jobs.{step}: {exc}") from None


def _workers_needed(job: PipelineJob) -> int:
    needed = 1
    for node in job.jobs.values():
        if isinstance(node, Parallel):
            count = node.instance_count if isinstance(node.instance_count, int) else 1
            per = node.max_concurrency_per_instance
            per = per if isinstance(per, int) else (os.cpu_count() or 1)
            needed = max(needed, count * per)
    return needed


ParallelRunner = Callable[..., JobResult]
"""Runs one parallel job: ``run_parallel(job, client=, run_dir=, show_progress=, base_dir=)``."""
ParallelResumer = Callable[..., JobResult]
"""Continues one parallel step's run directory: ``resume_parallel(run_dir, client=, show_progress=)``."""


class _StepRunner:
    def __init__(
        self,
        job: PipelineJob,
        client: Client,
        run_dir: str,
        base_dir: str,
        show_progress: bool,
        run_parallel: ParallelRunner,
        resume_steps: set[str] | frozenset[str] = frozenset(),
        resume_parallel: ParallelResumer | None = None,
    ):
        self.resume_steps = set(resume_steps)
        self.resume_parallel = resume_parallel
        self.job = job
        self.run_parallel = run_parallel
        self.client = client
        self.run_dir = run_dir
        self.base_dir = base_dir
        self.show_progress = show_progress

    def run(self, step: str, node: Any) -> JobResult:
        step_dir = os.path.join(self.run_dir, step)
        started = time.time()
        try:
            node = resolve_job_locations(node, run_dir=step_dir, name=step)  # ${{name}}: the step
            if (
                isinstance(node, Parallel)
                and step in self.resume_steps
                and self.resume_parallel is not None
                and os.path.exists(os.path.join(step_dir, "job.json"))
            ):
                # the saved definition carries the values job.json leaves out (secrets)
                return self.resume_parallel(
                    step_dir, client=self.client, show_progress=self.show_progress, job=node
                )
            if isinstance(node, Parallel):
                if self.job.settings.force_rerun:
                    node.is_deterministic = False  # engine.run reuses deterministic jobs
                return self.run_parallel(
                    node,
                    client=self.client,
                    run_dir=step_dir,
                    show_progress=self.show_progress,
                    base_dir=self.base_dir,
                )
            return self._reuse_or_run_command(node, step_dir, started)
        except JobCanceledError:  # the step stopped on the pipeline's cancel request
            return _failed(step_dir, "canceled by the user", started, status="Canceled")
        except DaskParallelError as exc:
            return _failed(step_dir, f"{type(exc).__name__}: {exc}", started)
        except KeyboardInterrupt:  # the pipeline's cancel request reached this step
            return _failed(step_dir, "canceled by the user", started, status="Canceled")

    def _reuse_or_run_command(self, node: Command, step_dir: str, started: float) -> JobResult:
        staged = {k for k, v in node.outputs.items() if not isinstance(v, Output) or v.path is None}
        key = step_key(node, code_dir(node, self.base_dir), staged) if node.is_deterministic else None
        earlier = None
        if key is not None and not self.job.settings.force_rerun:
            earlier = reuse.lookup(key)
        if earlier is not None:
            os.makedirs(step_dir, exist_ok=True)
            with open(os.path.join(step_dir, "reused_from.txt"), "w", encoding="utf-8") as handle:
                handle.write(f"{earlier.reused_from}\n")
            outputs = dict(earlier.outputs)
            return step_result(step_dir, "Completed", outputs, None, started, True, earlier.reused_from)
        result = self._run_command(node, step_dir, started)
        if result.status == "Completed" and key is not None:
            reuse.remember(key, result)
        return result

    def _run_command(self, node: Command, step_dir: str, started: float) -> JobResult:
        node = resolve_job_locations(node, run_dir=step_dir)
        node = apply_input_modes(node, base_dir=self.base_dir, run_dir=step_dir)
        inputs: dict[str, str | None] = {}
        for key, value in node.inputs.items():
            if isinstance(value, Input):
                if value.is_data:
                    inputs[key] = normalize_path(value.path, self.base_dir) if value.path else None
                else:
                    inputs[key] = None if value.default is None else str(value.default)
            else:
                inputs[key] = None if value is None else str(value)
        outputs: dict[str, str] = {}
        local: dict[str, str] = {}
        for key, value in node.outputs.items():
            value = value if isinstance(value, Output) else Output(path=value)
            staging = os.path.join(step_dir, "outputs", key)
            uri = normalize_path(value.path, self.base_dir) if value.path else staging
            outputs[key] = uri
            local[key] = staging if is_remote(uri) else uri
            folder = local[key] if value.type != "uri_file" else os.path.dirname(local[key])
            os.makedirs(folder, exist_ok=True)
        line = render_command(node.command, inputs, local)
        log_path = os.path.join(step_dir, "logs", "user", "std_log.txt")
        cwd = code_dir(node, self.base_dir)
        future = self.client.submit(
            execute_command, line, cwd, node.environment_variables, log_path, pure=False
        )
        code = _wait_for_command(self.client, future)
        if code != 0:
            return _failed(step_dir, f"the command exited with code {code}; see {log_path}", started)
        from dask_parallel.outputs.append_row import upload_folder

        for key, uri in outputs.items():
            if is_remote(uri):
                upload_folder(local[key], uri)
        return _completed(step_dir, outputs, started)


def _wait_for_command(client: Client, future: Any) -> int:
    """The command's exit code; raises KeyboardInterrupt when the pipeline is canceled."""
    while True:
        try:
            return future.result(timeout=1)
        except TimeoutError:
            if cancel_flag.requested():
                client.cancel(future)
                raise KeyboardInterrupt from None


def _completed(step_dir: str, outputs: dict[str, str], started: float, reused: bool = False) -> JobResult:
    return step_result(step_dir, "Completed", outputs, None, started, reused)


def _failed(step_dir: str, reason: str, started: float, status: str = "Failed") -> JobResult:
    return step_result(step_dir, status, {}, reason, started)


def step_result(
    step_dir: str,
    status: str,
    outputs: dict[str, str],
    error: str | None,
    started: float,
    reused: bool = False,
    reused_from: str | None = None,
) -> JobResult:
    """The result of a step that processed no mini-batches (a command, or one never run)."""
    return JobResult(
        status=status,
        run_dir=step_dir,
        outputs=outputs,
        error=error,
        mini_batches_total=0,
        mini_batches_succeeded=0,
        mini_batches_failed=0,
        items_total=0,
        items_succeeded=0,
        items_failed=0,
        started=started,
        finished=time.time(),
        reused=reused,
        reused_from=reused_from,
    )


def _write_status(
    run_dir: str, job: PipelineJob, status: str, results: dict[str, JobResult], outputs
) -> None:
    document = {
        "name": job.name,
        "status": status,
        "steps": {
            step: {
                "status": r.status,
                "reused": r.reused,
                "error": r.error,
                "run_dir": r.run_dir,
                "outputs": r.outputs,
            }
            for step, r in results.items()
        },
        "outputs": outputs,
    }
    write_json_atomic(os.path.join(run_dir, STATUS_FILE), document, indent=2, default=str)


def validate_pipeline(job: PipelineJob, base_dir: str | None = None) -> list[str]:
    """Check a pipeline without running it; return the steps in the order they would run."""
    base = os.path.abspath(base_dir or job.source_dir or os.getcwd())
    job = _propagate_outputs(job)
    steps = order(dependencies(job))
    _preflight(job, base, None)
    return steps


def run_pipeline(
    job: PipelineJob,
    *,
    run_parallel: ParallelRunner,
    client: Client | str | None = None,
    run_dir: str | os.PathLike | None = None,
    show_progress: bool | None = None,
    base_dir: str | os.PathLike | None = None,
) -> PipelineResult:
    """Run every step of ``job``; see :func:`dask_parallel.run`.

    ``run_parallel`` runs each parallel step (``dask_parallel.run`` passes its own parallel path).
    """
    base = os.path.abspath(os.fspath(base_dir or job.source_dir or os.getcwd()))
    target = (
        os.path.abspath(os.fspath(run_dir)) if run_dir is not None else new_run_dir(job.name or "pipeline")
    )
    if os.path.exists(os.path.join(target, STATUS_FILE)):
        raise JobValidationError(
            f"run directory {target!r} already holds a pipeline run; choose a new run_dir, or leave it "
            "out to get a fresh one (dask-parallel resume continues it)."
        )
    job = _propagate_outputs(job)
    _preflight(job, base, target)
    os.makedirs(target, exist_ok=True)
    save_definition(target, job, base)
    return execute_pipeline(
        job, target, base, client=client, show_progress=show_progress, run_parallel=run_parallel
    )


def execute_pipeline(
    job: PipelineJob,
    target: str,
    base: str,
    *,
    client: Client | str | None,
    show_progress: bool | None,
    run_parallel: ParallelRunner,
    resume_parallel: ParallelResumer | None = None,
    done: dict[str, JobResult] | None = None,
    resume_steps: set[str] | None = None,
) -> PipelineResult:
    """Run the steps of ``job`` not in ``done`` (earlier results kept, for resume).

    Steps in ``resume_steps`` continue their own run directory (finished mini-batches kept).
    """
    needs = dependencies(job)
    steps = order(needs)
    if show_progress is None:
        show_progress = bool(config.get("progress", True))
    results: dict[str, JobResult] = dict(done or {})
    produced: dict[str, dict[str, Any]] = {
        step: {
            name: Produced(uri=uri, type=output_type(job.jobs[step], name)) for name, uri in r.outputs.items()
        }
        for step, r in results.items()
    }
    started = time.time()
    _write_status(target, job, "Running", results, {})
    cancel_flag.clear()
    canceled = False
    try:
        with closing_quietly(connect(client, _workers_needed(job))) as connected:
            runner = _StepRunner(
                job,
                connected,
                target,
                base,
                show_progress,
                run_parallel,
                resume_steps or set(),
                resume_parallel,
            )
            _run_steps(job, [s for s in steps if s not in results], needs, runner, results, produced)
    except KeyboardInterrupt:
        canceled = True
    finally:
        cancel_flag.clear()
    for step in steps:
        if step not in results:
            why = [s for s in needs[step] if s in results and results[s].status != "Completed"]
            if canceled:
                reason = "not run: the pipeline was canceled"
            elif why:
                reason = f"not run: step {why[0]!r}, which it depends on, did not complete"
            else:
                reason = "not run: the pipeline stopped after a step failed (continue_on_step_failure is off)"
            results[step] = _failed(os.path.join(target, step), reason, time.time(), status="NotStarted")
    failed = [s for s in steps if results[s].status != "Completed"]
    status = "Completed" if not failed else ("Canceled" if canceled else "Failed")
    error = None
    if canceled:
        error = "The pipeline was canceled by the user; `dask-parallel resume` continues it."
    elif failed:
        first = next(s for s in steps if results[s].status in ("Failed", "Canceled"))
        error = f"step {first!r} failed: {results[first].error}"
    outputs = {
        key: results[step].outputs[name]
        for key, (step, name) in job.output_bindings.items()
        if results[step].status == "Completed" and name in results[step].outputs
    }
    _write_status(target, job, status, results, outputs)
    if canceled:
        raise KeyboardInterrupt
    parallel = [r for r in results.values() if not r.reused]
    return PipelineResult(
        status=status,
        run_dir=target,
        outputs=outputs,
        error=error,
        mini_batches_total=sum(r.mini_batches_total for r in parallel),
        mini_batches_succeeded=sum(r.mini_batches_succeeded for r in parallel),
        mini_batches_failed=sum(r.mini_batches_failed for r in parallel),
        items_total=sum(r.items_total for r in parallel),
        items_succeeded=sum(r.items_succeeded for r in parallel),
        items_failed=sum(r.items_failed for r in parallel),
        attempts=sum(r.attempts for r in parallel),
        started=started,
        finished=time.time(),
        reused=bool(results) and all(r.reused for r in results.values()),
        steps={step: results[step] for step in steps},
    )


def _run_steps(
    job: PipelineJob,
    pending: list[str],
    needs: dict[str, set[str]],
    runner: _StepRunner,
    results: dict[str, JobResult],
    produced: dict[str, dict[str, Any]],
) -> None:
    """Start each step once its inputs are produced, at most ``pipeline-max-parallel-steps`` at a
    time. On Ctrl-C or SIGTERM the running steps are asked to stop, their (Canceled) results
    are collected, and KeyboardInterrupt is raised again."""
    target = runner.run_dir
    max_parallel = int(config.get("pipeline-max-parallel-steps", 4) or 1)
    pending = list(pending)
    blocked: set[str] = set()
    stop = False
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max_parallel)
    running: dict[concurrent.futures.Future, str] = {}
    try:
        while pending or running:
            for step in list(pending):
                if stop or step in blocked:
                    pending.remove(step)
                    continue
                if len(running) >= max_parallel or not needs[step] <= set(produced):
                    continue
                pending.remove(step)
                try:
                    node = resolve_node(job, step, produced, runner.base_dir)
                except DaskParallelError as exc:
                    results[step] = _failed(os.path.join(target, step), str(exc), time.time())
                    blocked |= dependents(needs, step)
                    stop = stop or not job.settings.continue_on_step_failure
                    continue
                running[pool.submit(runner.run, step, node)] = step
            if not running:
                continue
            done, _ = concurrent.futures.wait(running, return_when=concurrent.futures.FIRST_COMPLETED)
            for future in done:
                step = running.pop(future)
                result = future.result()
                results[step] = result
                if result.status == "Completed":
                    produced[step] = {
                        name: Produced(uri=uri, type=output_type(job.jobs[step], name))
                        for name, uri in result.outputs.items()
                    }
                else:
                    blocked |= dependents(needs, step)
                    stop = stop or not job.settings.continue_on_step_failure
            _write_status(target, job, "Running", results, {})
    except KeyboardInterrupt:
        cancel_flag.request()
        for future, step in running.items():
            try:
                results[step] = future.result()
            except BaseException:  # noqa: BLE001 - the step stopped on the cancel request
                results[step] = _failed(
                    os.path.join(target, step), "canceled by the user", time.time(), status="Canceled"
                )
        raise
    finally:
        pool.shutdown(wait=True)


def run_other_job(job: Any, *, run_parallel: ParallelRunner, **kwargs: Any) -> PipelineResult:
    """:func:`dask_parallel.run` for what is not a parallel job: a pipeline, or a command
    (run as a one-step pipeline)."""
    if isinstance(job, Command):
        name = job.name or "command"
        job = PipelineJob(name=name, jobs={name: job}, source_dir=job.source_dir)
    if not isinstance(job, PipelineJob):
        raise JobValidationError(
            "run() needs a parallel job (parallel_run_function), a command (command) or a pipeline "
            f"(@pipeline or a type: pipeline file) (got {type(job).__name__})."
        )
    return run_pipeline(job, run_parallel=run_parallel, **kwargs)
