"""``dask-parallel``: run Azure ML parallel job files from scripts and schedulers.

Exit codes (stable, documented in docs/cli.md):

    0    the job completed (``status``/``logs``/``validate``/``list``/``cancel``: the
         command worked; ``run --detach``: the job was started)
    1    the job failed (its status is Failed), or a file it needs could not be written
    2    the job file, a ``--set``, another argument or a cluster setting is invalid (or the
         scheduler it names cannot be reached), or RUN_DIR is not a run directory
    3    an internal error: an unexpected exception in dask_parallel itself (please report it)
    130  canceled (Ctrl-C, SIGTERM, or ``dask-parallel cancel``); the run directory keeps
         what finished

With ``--json`` every command prints one JSON document on stdout, described by
``dask_parallel/schema/cli-output.schema.json``; everything else (progress, notes, the
run directory as the job starts, errors) goes to stderr.

Errors go to stderr as one paragraph. Heavy modules (Dask, distributed, pandas) are
imported only inside the commands, so ``--help`` is instant.

To add a command, write ``def _name(args) -> int`` and decorate it with
``@command("name", "one-line help", arguments_function)``.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import textwrap
from collections.abc import Callable

from dask_parallel.errors import JobCanceledError

EXIT_COMPLETED, EXIT_FAILED, EXIT_INVALID, EXIT_INTERNAL, EXIT_CANCELED = 0, 1, 2, 3, 130

Handler = Callable[[argparse.Namespace], int]
_COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Handler]] = {}


def command(name: str, help: str, arguments: Callable[[argparse.ArgumentParser], None]):
    """Register a subcommand: its help line, a function adding its arguments, its handler."""

    def register(handler: Handler) -> Handler:
        _COMMANDS[name] = (help, arguments, handler)
        return handler

    return register


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dask-parallel",
        description=(
            "Run Azure ML parallel jobs (CLI v2 YAML: type: parallel or type: pipeline) on a Dask cluster."
        ),
        epilog="Exit codes: 0 completed, 1 failed, 2 invalid job file, arguments or cluster setting, "
        "3 internal error (please report it), 130 canceled "
        "(Ctrl-C, SIGTERM or dask-parallel cancel). --json prints one documented JSON document "
        "(dask_parallel/schema/cli-output.schema.json). Settings: dask-parallel.* in Dask's "
        "configuration (see docs/configuration.md).",
    )
    parser.add_argument("--version", action="version", version=_version())
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (help, arguments, _) in _COMMANDS.items():
        arguments(commands.add_parser(name, help=help, description=help[:1].upper() + help[1:] + "."))
    return parser


def _version() -> str:
    import platform

    from dask_parallel import __version__

    return f"dask-parallel {__version__} (Python {platform.python_version()})"


def _print_json(data: dict) -> None:
    from dask_parallel.schema import dumps

    print(dumps(data), flush=True)


def say_error(message: str) -> None:
    """Print ``message`` on stderr as one wrapped paragraph."""
    print(
        textwrap.fill(f"error: {message}", width=100, break_long_words=False, break_on_hyphens=False),
        file=sys.stderr,
    )


def _terminate(signum, frame):  # SIGTERM from cron, systemd or Airflow behaves like Ctrl-C
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_INVALID
    _, _, handler = _COMMANDS[args.command]
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return handler(args)
    except (KeyboardInterrupt, JobCanceledError):
        say_error("canceled; the run directory keeps what finished.")
        return EXIT_CANCELED
    except Exception as exc:  # noqa: BLE001 - every error ends as one paragraph and an exit code
        return _report(exc, args)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _report(exc: Exception, args: argparse.Namespace) -> int:
    from dask_parallel.errors import DaskParallelError
    from dask_parallel.rundir.status import NotARunDirectory

    if isinstance(exc, JobCanceledError):
        say_error(str(exc))
        return EXIT_CANCELED
    if isinstance(exc, (DaskParallelError, NotARunDirectory)):
        code, message = EXIT_INVALID, str(exc)
        if getattr(args, "set", None):
            message += f" (--set given: {'; '.join(args.set)})"
    elif isinstance(exc, OSError):
        code, message = EXIT_FAILED, str(exc)
    else:
        if os.environ.get("DASK_PARALLEL_TRACEBACK"):
            raise exc
        code = EXIT_INTERNAL
        message = (
            f"internal error: unexpected {type(exc).__name__}: {exc}. This is likely a bug in dask_parallel; "
            "run again with DASK_PARALLEL_TRACEBACK=1 to see the traceback and include it in a report."
        )
    from dask_parallel.redact import redact_text

    message = redact_text(message)
    if getattr(args, "json", False):
        from dask_parallel.schema import document

        run_dir = getattr(args, "run_dir", None)
        _print_json(
            document(
                args.command,
                status="Invalid" if code == EXIT_INVALID else "Failed",
                run_dir=os.path.abspath(run_dir) if run_dir else None,
                error=message,
            )
        )
    say_error(message)
    return code


# -- run ------------------------------------------------------------------------------
def _job_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "job_file", metavar="JOB.yml", help="an Azure ML CLI v2 job file (type: parallel or type: pipeline)"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="change a setting of the job file before it is validated, e.g. --set mini_batch_size=1mb "
        "--set inputs.data.path=./other (repeatable; relative paths resolve against the current directory)",
    )


def _run_arguments(parser: argparse.ArgumentParser) -> None:
    _job_arguments(parser)
    parser.add_argument(
        "--run-dir",
        help="folder for logs, ledger and unnamed outputs (a new one under the run root by default)",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="address of a running Dask scheduler (tcp://host:8786, tls://... with Dask's security "
        "settings); by default the cluster from dask-parallel.cluster, else a local one",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the documented JSON summary on stdout (progress and notes stay on stderr)",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="no progress bar, no progress lines, no dashboard link"
    )
    parser.add_argument(
        "--no-reuse",
        action="store_true",
        help="run even if an identical earlier run could be reused (is_deterministic; Azure's force_rerun)",
    )
    parser.add_argument(
        "--detach",
        action="store_true",
        help="start the job in a background process and return at once; follow it with "
        "status, logs --follow, cancel",
    )


def _progress_style(args: argparse.Namespace) -> str | None:
    """``None`` for no progress (``--quiet``, or ``dask-parallel.progress: false``); "bar" in a
    terminal; otherwise "log", a line every ``dask-parallel.progress-interval`` seconds."""
    from dask_parallel import config

    if getattr(args, "quiet", False) or not config.get("progress", True):
        return None
    return "bar" if sys.stderr.isatty() else "log"


@command("run", "run a job file and wait for it", _run_arguments)
def _run(args: argparse.Namespace) -> int:
    import dask.config

    from dask_parallel.engine import run
    from dask_parallel.execution.interrupts import held_note, hold_interrupts
    from dask_parallel.jobs.azure_only import unused_note
    from dask_parallel.pipelines.loader import load_any as load_job  # type: parallel or type: pipeline
    from dask_parallel.rundir.layout import new_run_dir

    job = load_job(args.job_file, overrides=args.set)
    run_dir = os.path.abspath(args.run_dir) if args.run_dir else new_run_dir(job.name or "parallel_job")
    if args.detach:
        return _detach(args, job.name, run_dir)
    style = _progress_style(args)
    settings = {"dask-parallel.progress-style": style or "bar"}
    if args.no_reuse:
        settings["dask-parallel.force-rerun"] = True
    try:
        with dask.config.set(settings):
            result = run(job, client=args.scheduler, run_dir=run_dir, show_progress=style is not None)
    except (KeyboardInterrupt, JobCanceledError):
        if args.json:
            _print_canceled_json(run_dir, "run")
        raise
    with hold_interrupts() as received:  # the job has finished: a late stop changes nothing
        note = unused_note(job)  # after the run, so that an invalid job's error stays the only output
        if note:
            print(f"note: {note}", file=sys.stderr)
        if not hasattr(result, "steps") and not result.reused:  # pipelines keep one run folder per step
            _save_timeline(result.run_dir)
        if args.json:
            _print_json(result.to_json("run"))
        else:
            print(result)
    late = held_note(received, "the timeline picture and the summary were written")
    if late:
        print(f"note: {late}", file=sys.stderr)
    if result.status == "Completed":
        return EXIT_COMPLETED
    if result.status == "Canceled":
        return EXIT_CANCELED
    return EXIT_FAILED


def _print_canceled_json(run_dir: str, command: str) -> None:
    """The document of a canceled ``run``/``resume``: the same builder as any other outcome's."""
    from dask_parallel.pipelines.run_dir import is_pipeline_run_dir
    from dask_parallel.rundir.result import load_result
    from dask_parallel.rundir.status import NotARunDirectory
    from dask_parallel.schema import document

    if is_pipeline_run_dir(run_dir):
        _print_run_dir_json(run_dir, command)
        return
    try:
        _print_json(load_result(run_dir).to_json(command))
    except NotARunDirectory:
        _print_json(
            document(
                command,
                status="Canceled",
                run_dir=run_dir,
                error="canceled before it started",
                reused_from=None,
                logs_dir=None,
                dashboard_link=None,
            )
        )


def _print_run_dir_json(run_dir: str, command: str) -> None:
    from dask_parallel.pipelines.run_dir import is_pipeline_run_dir, pipeline_status
    from dask_parallel.rundir.status import NotARunDirectory, read_status
    from dask_parallel.schema import document, from_pipeline_status, from_status

    if is_pipeline_run_dir(run_dir):
        _print_json(from_pipeline_status(pipeline_status(run_dir), command))
        return
    try:
        _print_json(from_status(read_status(run_dir), command))
    except NotARunDirectory:
        _print_json(document(command, status="Canceled", run_dir=run_dir, error="canceled before it started"))


def _detach(args: argparse.Namespace, name: str | None, run_dir: str) -> int:
    """``run --detach``: the same command without --detach, in a new session, output to a file."""
    import subprocess

    from dask_parallel.schema import document

    if os.path.exists(os.path.join(run_dir, "job.json")):
        raise _invalid(f"run directory {run_dir!r} already holds a run; choose a new --run-dir.")
    os.makedirs(os.path.join(run_dir, "logs"), exist_ok=True)
    command = [sys.executable, "-m", "dask_parallel", "run", os.path.abspath(args.job_file)]
    command += ["--run-dir", run_dir, "--quiet"]
    for override in args.set:
        command += ["--set", override]
    if args.scheduler:
        command += ["--scheduler", args.scheduler]
    if args.no_reuse:
        command.append("--no-reuse")
    output = os.path.join(run_dir, "logs", "driver.txt")
    with open(output, "ab") as log:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,  # survives the shell that started it
        )
    print(
        f"{name}: started in the background (process {process.pid}); run directory {run_dir}\n"
        f"  follow it:  dask-parallel status {run_dir}   |   dask-parallel logs --follow {run_dir}\n"
        f"  stop it:    dask-parallel cancel {run_dir}\n"
        f"  its output: {output}",
        file=sys.stderr,
    )
    if args.json:
        _print_json(document("run", status="NotStarted", job=name, run_dir=run_dir, pid=process.pid))
    return EXIT_COMPLETED


def _invalid(message: str) -> Exception:
    from dask_parallel.errors import JobValidationError

    return JobValidationError(message)


def _save_timeline(run_dir: str) -> None:
    """Write logs/job_timeline.png; a job's result never depends on the picture."""
    try:
        from dask_parallel.rundir.timeline import save_timeline

        save_timeline(run_dir)
    except ImportError as exc:  # matplotlib is the optional [plot] extra
        print(f"note: no logs/job_timeline.png: {exc}", file=sys.stderr)
    except Exception as exc:  # noqa: BLE001 - a job's result never depends on the picture
        print(f"note: no timeline picture ({type(exc).__name__}: {exc})", file=sys.stderr)


# -- validate -------------------------------------------------------------------------
def _validate_arguments(parser: argparse.ArgumentParser) -> None:
    _job_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print the documented JSON summary on stdout")


@command("validate", "check a job file and list its mini-batches without running it", _validate_arguments)
def _validate(args: argparse.Namespace) -> int:
    import logging

    from dask_parallel.datastores import resolve_job_locations
    from dask_parallel.inputs.modes import check_input_modes
    from dask_parallel.inputs.planning import plan_input
    from dask_parallel.outputs.placement import check_output_folders
    from dask_parallel.pipelines import PipelineJob, validate_pipeline
    from dask_parallel.pipelines.loader import load_any as load_job
    from dask_parallel.rundir.layout import new_run_dir
    from dask_parallel.spec.driver_option_checks import driver_option_warnings
    from dask_parallel.spec.job_spec import build_job_spec
    from dask_parallel.storage_access import storage_access

    job = load_job(args.job_file, overrides=args.set)
    from dask_parallel.schema import counts, document

    if isinstance(job, PipelineJob):
        steps = validate_pipeline(job)
        if args.json:
            _print_json(
                document(
                    "validate", status="Valid", job=job.name, validation={"kind": "pipeline", "steps": steps}
                )
            )
        else:
            print(f"{args.job_file}: valid pipeline; steps in order: {', '.join(steps)}.")
        return EXIT_COMPLETED
    # Nothing is written: the run directory is only named, for outputs that have no path.
    run_dir = new_run_dir(job.name or "parallel_job")
    job = resolve_job_locations(job, run_dir=run_dir)  # azureml:// datastores and ${{name}}
    check_input_modes(job, base_dir=job.source_dir)  # as run() does, without downloading
    quiet = logging.getLogger("dask_parallel")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # its warnings are printed below, once, with a prefix
    try:
        spec = build_job_spec(job, base_dir=job.source_dir, run_dir=run_dir)
    finally:
        quiet.setLevel(level)
    check_output_folders((name, out.local_folder, out.is_remote) for name, out in spec.outputs.items())
    for message in driver_option_warnings(spec.program_arguments):
        print(f"warning: {message}", file=sys.stderr)
    with storage_access(f"inputs.{spec.major_input.name}", spec.major_input.uri):
        plan = plan_input(spec)
    output = f"append_row to {spec.append_row_uri}" if spec.append_row_uri else "summary_only"
    division = f"{len(plan.mini_batches)} mini-batches"
    if spec.target_duration is not None:  # cut while the job runs
        division = f"{len(plan.files)} files in mini-batches of about {spec.target_duration:g} s each"
    if args.json:
        _print_json(
            document(
                "validate",
                status="Valid",
                job=spec.name,
                count=counts(total=len(plan.mini_batches)),
                outputs={name: out.uri for name, out in spec.outputs.items()},
                validation={
                    "kind": "parallel",
                    "input_kind": plan.kind,
                    "input": spec.major_input.uri,
                    "worker_processes": spec.total_processes,
                    "output": output,
                },
            )
        )
        return EXIT_COMPLETED
    print(
        f"{args.job_file}: valid. {division} of {plan.kind} input "
        f"{spec.major_input.uri}; {spec.total_processes} worker processes; {output}."
    )
    _print_local_cluster_note(spec.total_processes, args)
    return EXIT_COMPLETED


def _print_local_cluster_note(processes: int, args: argparse.Namespace) -> None:
    from dask_parallel.execution.cluster import local_cluster_size, uses_local_cluster

    if uses_local_cluster(getattr(args, "scheduler", None)):
        _, note = local_cluster_size(processes)
        if note:
            print(f"note: {note}")


# -- status and logs --------------------------------------------------------------------
def _run_dir_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", metavar="RUN_DIR", help="the run directory `dask-parallel run` printed")
    parser.add_argument("--json", action="store_true", help="print the documented JSON summary on stdout")


@command("status", "show the status and progress of a running or finished job", _run_dir_arguments)
def _status(args: argparse.Namespace) -> int:
    from dask_parallel.pipelines.run_dir import describe_pipeline_status, is_pipeline_run_dir
    from dask_parallel.rundir.status import read_status

    if is_pipeline_run_dir(args.run_dir):
        if args.json:
            _print_run_dir_json(os.path.abspath(args.run_dir), "status")
        else:
            print(describe_pipeline_status(args.run_dir))
        return EXIT_COMPLETED
    status = read_status(args.run_dir)
    if args.json:
        from dask_parallel.schema import from_status

        _print_json(from_status(status, "status"))
    else:
        print(status)
    return EXIT_COMPLETED


def _logs_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", metavar="RUN_DIR", help="the run directory `dask-parallel run` printed")
    parser.add_argument("--errors", type=int, default=10, help="how many failed attempts to list (10)")
    parser.add_argument(
        "--follow",
        "-f",
        action="store_true",
        help="print the driver's log (logs/sys/master_role.txt) as it grows until the job ends, "
        "then the summary",
    )
    parser.add_argument("--json", action="store_true", help="print the documented JSON summary on stdout")


@command("logs", "show a job's result, its errors and which log files to read", _logs_arguments)
def _logs(args: argparse.Namespace) -> int:
    from dask_parallel.pipelines.run_dir import describe_pipeline_logs, is_pipeline_run_dir
    from dask_parallel.rundir.follow import follow_driver_log
    from dask_parallel.rundir.status import collect_logs, describe_logs, read_status

    if is_pipeline_run_dir(args.run_dir):
        if args.json:
            _print_run_dir_json(os.path.abspath(args.run_dir), "logs")
        else:
            print(describe_pipeline_logs(args.run_dir, max_errors=args.errors))
        return EXIT_COMPLETED
    if args.follow:
        read_status(args.run_dir)  # a folder that is no run directory: exit 2 now
        follow_driver_log(args.run_dir, sys.stderr if args.json else sys.stdout)
    if args.json:
        from dask_parallel.schema import from_status

        logs = collect_logs(args.run_dir, max_errors=args.errors)
        _print_json(from_status(logs.status, "logs", logs=logs.to_dict()))
    else:
        print(describe_logs(args.run_dir, max_errors=args.errors))
    return EXIT_COMPLETED


# -- cancel and list ---------------------------------------------------------------------
def _cancel_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", metavar="RUN_DIR", help="the run directory of the running job")
    parser.add_argument("--reason", help="why, recorded in the job's result and log")
    parser.add_argument(
        "--wait",
        type=float,
        metavar="SECONDS",
        default=None,
        help="wait up to SECONDS for the job to stop, then report its status",
    )
    parser.add_argument("--json", action="store_true", help="print the documented JSON summary on stdout")


@command(
    "cancel",
    "stop a running job from another shell or host (finished mini-batches are kept for resume)",
    _cancel_arguments,
)
def _cancel(args: argparse.Namespace) -> int:
    import time

    from dask_parallel.execution.cancel_file import request_cancel
    from dask_parallel.rundir.status import NotARunDirectory, read_status
    from dask_parallel.schema import document, from_status

    run_dir = os.path.abspath(args.run_dir)
    try:
        status = read_status(run_dir)
    except NotARunDirectory:
        if not os.path.exists(os.path.join(run_dir, "logs", "driver.txt")):
            raise
        status = None  # started with run --detach, still listing its input
    if status is not None and not status.running:
        if args.json:
            _print_json(from_status(status, "cancel", cancel={"requested": False, "request_file": None}))
        else:
            print(f"{run_dir}: nothing to cancel, the job already ended: {status.status}.")
        return EXIT_COMPLETED
    path = request_cancel(run_dir, args.reason)
    print(f"{run_dir}: cancel requested ({path}); the driver stops within a few seconds.", file=sys.stderr)
    if args.wait is not None:
        deadline = time.monotonic() + args.wait
        while time.monotonic() < deadline:
            try:
                status = read_status(run_dir)
            except NotARunDirectory:
                status = None
            if status is not None and not status.running:
                break
            time.sleep(0.5)
    cancel = {"requested": True, "request_file": path}
    if args.json:
        if status is None:
            _print_json(document("cancel", status="NotStarted", run_dir=run_dir, cancel=cancel))
        else:
            _print_json(from_status(read_status(run_dir), "cancel", cancel=cancel))
    elif status is not None and args.wait is not None:
        print(f"{run_dir}: {status.status}")
    return EXIT_COMPLETED


def _list_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "root",
        metavar="ROOT",
        nargs="?",
        help="folder holding run directories (dask-parallel.run-root, dask-parallel-runs/ by default)",
    )
    parser.add_argument("--limit", type=int, default=20, help="show the newest N runs (20; 0 for all)")
    parser.add_argument("--json", action="store_true", help="print the documented JSON summary on stdout")


@command("list", "list the runs under a run root, newest first, with their status", _list_arguments)
def _list(args: argparse.Namespace) -> int:
    from dask_parallel import config
    from dask_parallel.rundir.listing import list_runs
    from dask_parallel.schema import document, run_entry

    root = os.path.abspath(args.root or config.get("run-root", "dask-parallel-runs"))
    runs = list_runs(root)
    shown = runs[: args.limit] if args.limit > 0 else runs
    if args.json:
        _print_json(document("list", status="Completed", run_dir=root, runs=[run_entry(r) for r in shown]))
        return EXIT_COMPLETED
    if not runs:
        print(f"no runs under {root}")
        return EXIT_COMPLETED
    import datetime as dt

    rows = [("STATUS", "STARTED", "MINI-BATCHES", "JOB", "RUN DIRECTORY")]
    for run in shown:
        started = dt.datetime.fromtimestamp(run.started).strftime("%Y-%m-%d %H:%M:%S") if run.started else "-"
        progress = f"{run.done}/{run.mini_batches_total}" if run.mini_batches_total else "-"
        rows.append((run.status, started, progress, run.name, run.run_dir))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row[:4], widths)) + "  " + row[4])
    if len(shown) < len(runs):
        print(f"({len(runs) - len(shown)} older runs not shown; --limit 0 shows all)")
    return EXIT_COMPLETED


# -- resume -----------------------------------------------------------------------------
def _resume_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", metavar="RUN_DIR", help="the run directory of the job to continue")
    parser.add_argument(
        "--job",
        metavar="JOB.yml",
        help="resume with this (edited) job file instead of the settings stored in RUN_DIR",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="run afresh in RUN_DIR even though the input or settings changed",
    )
    parser.add_argument("--scheduler", metavar="ADDRESS", help="address of a running Dask scheduler")
    parser.add_argument("--json", action="store_true", help="print the documented JSON summary on stdout")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


@command("resume", "continue a failed, canceled or interrupted job, keeping finished work", _resume_arguments)
def _resume(args: argparse.Namespace) -> int:
    import dask.config

    from dask_parallel.engine import resume, run
    from dask_parallel.pipelines.run_dir import is_pipeline_run_dir, resume_pipeline
    from dask_parallel.spec.job_file import load_job

    style = _progress_style(args)
    try:
        if is_pipeline_run_dir(args.run_dir):
            if args.job or args.force:
                say_error("--job and --force apply to a parallel job's run directory, not to a pipeline's.")
                return EXIT_INVALID
            with dask.config.set({"dask-parallel.progress-style": style or "bar"}):
                result = resume_pipeline(
                    args.run_dir,
                    run_parallel=run,
                    resume_parallel=resume,
                    client=args.scheduler,
                    show_progress=style is not None,
                )
        else:
            job = load_job(args.job) if args.job else None
            with dask.config.set({"dask-parallel.progress-style": style or "bar"}):
                result = resume(
                    args.run_dir,
                    client=args.scheduler,
                    job=job,
                    force=args.force,
                    show_progress=style is not None,
                )
    except (KeyboardInterrupt, JobCanceledError):
        if args.json:
            _print_canceled_json(os.path.abspath(args.run_dir), "resume")
        raise
    if args.json:
        _print_json(result.to_json("resume"))
    else:
        print(result)
    if result.status == "Completed":
        return EXIT_COMPLETED
    return EXIT_CANCELED if result.status == "Canceled" else EXIT_FAILED


# -- upgrade (SDK v1 -> v2) ---------------------------------------------------------------
def _upgrade_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config_file", metavar="CONFIG.yml", help="a v1 ParallelRunConfig.save_to_yaml file")
    parser.add_argument("--input-data", required=True, help="the data the step splits (files or a folder)")
    parser.add_argument("--tabular", action="store_true", help="the input is delimited files read as a table")
    parser.add_argument("--output", help="output folder of the step (under the run directory by default)")
    parser.add_argument("--name", default="parallel-run-step", help="the v1 step name")
    parser.add_argument("-o", "--write", metavar="JOB.yml", help="write the v2 job here instead of stdout")


@command("upgrade", "turn a v1 ParallelRunConfig YAML into a v2 type: parallel job YAML", _upgrade_arguments)
def _upgrade(args: argparse.Namespace) -> int:
    from dask_parallel.v1.upgrade import upgrade_config_file

    target = os.path.dirname(os.path.abspath(args.write)) if args.write else os.getcwd()
    text = upgrade_config_file(
        args.config_file,
        input_data=args.input_data,
        input_type="tabular" if args.tabular else "files",
        name=args.name,
        output=args.output,
        target_dir=target,
    )
    if args.write:
        with open(args.write, "w", encoding="utf-8") as handle:
            handle.write(text)
        print(f"wrote {args.write}; run it with: dask-parallel run {args.write}")
    else:
        print(text, end="")
    return EXIT_COMPLETED


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
