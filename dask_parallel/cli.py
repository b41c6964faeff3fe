"""``dask-parallel``: run Azure ML parallel job files from scripts and schedulers.

Exit codes (stable, documented in docs/cli.md):

    0    the job completed (``status``/``logs``/``validate``: the command worked)
    1    the job failed, or the cluster could not be reached
    2    the job file, a ``--set`` or another argument is invalid; nothing ran
    130  canceled by Ctrl-C or SIGTERM; the run directory keeps what finished

Errors go to stderr as one paragraph. Heavy modules (Dask, distributed, pandas) are
imported only inside the commands, so ``--help`` is instant.

To add a command, write ``def _name(args) -> int`` and decorate it with
``@command("name", "one-line help", arguments_function)``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import textwrap
from collections.abc import Callable

EXIT_COMPLETED, EXIT_FAILED, EXIT_INVALID, EXIT_CANCELED = 0, 1, 2, 130

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
        epilog="Exit codes: 0 completed, 1 failed, 2 invalid job file or arguments, 130 canceled "
        "(Ctrl-C or SIGTERM). Settings: dask-parallel.* in Dask's configuration (see docs/configuration.md).",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (help, arguments, _) in _COMMANDS.items():
        arguments(commands.add_parser(name, help=help, description=help[:1].upper() + help[1:] + "."))
    return parser


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
    except KeyboardInterrupt:
        say_error("canceled; the run directory keeps what finished.")
        return EXIT_CANCELED
    except Exception as exc:  # noqa: BLE001 - every error ends as one paragraph and an exit code
        return _report(exc, args)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _report(exc: Exception, args: argparse.Namespace) -> int:
    from dask_parallel.errors import DaskParallelError, JobCanceledError
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
        code = EXIT_FAILED
        message = (
            f"unexpected {type(exc).__name__}: {exc}. This is likely a bug in dask_parallel; "
            "run again with DASK_PARALLEL_TRACEBACK=1 to see the traceback and include it in a report."
        )
    if getattr(args, "json", False):
        print(json.dumps({"status": "Invalid" if code == EXIT_INVALID else "Failed", "error": message}))
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
    parser.add_argument("--json", action="store_true", help="print a machine-readable summary on stdout")
    parser.add_argument(
        "--quiet", action="store_true", help="no progress bar, no progress lines, no dashboard link"
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

    from dask_parallel.engine import new_run_dir, run
    from dask_parallel.pipelines.loader import load_any as load_job  # type: parallel or type: pipeline

    job = load_job(args.job_file, overrides=args.set)
    run_dir = os.path.abspath(args.run_dir) if args.run_dir else new_run_dir(job.name or "parallel_job")
    style = _progress_style(args)
    try:
        with dask.config.set({"dask-parallel.progress-style": style or "bar"}):
            result = run(job, client=args.scheduler, run_dir=run_dir, show_progress=style is not None)
    except KeyboardInterrupt:
        if args.json:
            _print_run_dir_json(run_dir)
        raise
    if not hasattr(result, "steps"):  # pipelines keep one run folder per step
        _save_timeline(result.run_dir)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, default=str))
    else:
        print(result)
    if result.status == "Completed":
        return EXIT_COMPLETED
    if result.status == "Canceled":
        return EXIT_CANCELED
    return EXIT_FAILED


def _print_run_dir_json(run_dir: str) -> None:
    from dask_parallel.rundir.status import NotARunDirectory, read_status

    try:
        print(json.dumps(read_status(run_dir).to_dict(), indent=2, default=str))
    except NotARunDirectory:
        print(json.dumps({"status": "Canceled", "run_dir": run_dir, "error": "canceled before it started"}))


def _save_timeline(run_dir: str) -> None:
    """Write logs/job_timeline.png; a job's result never depends on the picture."""
    try:
        from dask_parallel.rundir.timeline import save_timeline

        save_timeline(run_dir)
    except Exception as exc:  # noqa: BLE001 - e.g. matplotlib missing: say so, go on
        print(f"note: no timeline picture ({type(exc).__name__}: {exc})", file=sys.stderr)


# -- validate -------------------------------------------------------------------------
@command("validate", "check a job file and list its mini-batches without running it", _job_arguments)
def _validate(args: argparse.Namespace) -> int:
    from dask_parallel.engine import new_run_dir
    from dask_parallel.inputs.planning import plan_input
    from dask_parallel.pipelines import PipelineJob, validate_pipeline
    from dask_parallel.pipelines.loader import load_any as load_job
    from dask_parallel.spec.job_spec import build_job_spec

    job = load_job(args.job_file, overrides=args.set)
    if isinstance(job, PipelineJob):
        print(f"{args.job_file}: valid pipeline; steps in order: {', '.join(validate_pipeline(job))}.")
        return EXIT_COMPLETED
    # Nothing is written: the run directory is only named, for outputs that have no path.
    spec = build_job_spec(job, base_dir=job.source_dir, run_dir=new_run_dir(job.name or "parallel_job"))
    plan = plan_input(spec)
    output = f"append_row to {spec.append_row_uri}" if spec.append_row_uri else "summary_only"
    print(
        f"{args.job_file}: valid. {len(plan.mini_batches)} mini-batches of {plan.kind} input "
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
    parser.add_argument("--json", action="store_true", help="print a machine-readable summary on stdout")


@command("status", "show the status and progress of a running or finished job", _run_dir_arguments)
def _status(args: argparse.Namespace) -> int:
    from dask_parallel.rundir.status import read_status

    status = read_status(args.run_dir)
    print(json.dumps(status.to_dict(), indent=2, default=str) if args.json else status)
    return EXIT_COMPLETED


def _logs_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", metavar="RUN_DIR", help="the run directory `dask-parallel run` printed")
    parser.add_argument("--errors", type=int, default=10, help="how many failed attempts to list (10)")


@command("logs", "show a job's result, its errors and which log files to read", _logs_arguments)
def _logs(args: argparse.Namespace) -> int:
    from dask_parallel.rundir.status import describe_logs

    print(describe_logs(args.run_dir, max_errors=args.errors))
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
    parser.add_argument("--json", action="store_true", help="print a machine-readable summary on stdout")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


@command("resume", "continue a failed, canceled or interrupted job, keeping finished work", _resume_arguments)
def _resume(args: argparse.Namespace) -> int:
    import dask.config

    from dask_parallel.engine import resume
    from dask_parallel.spec.job_file import load_job

    job = load_job(args.job) if args.job else None
    style = _progress_style(args)
    with dask.config.set({"dask-parallel.progress-style": style or "bar"}):
        result = resume(
            args.run_dir, client=args.scheduler, job=job, force=args.force, show_progress=style is not None
        )
    print(json.dumps(result.to_dict(), indent=2, default=str) if args.json else result)
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
