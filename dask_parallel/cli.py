"""``dask-parallel``: run Azure ML parallel job files from scripts and schedulers.

Exit codes: 0 the job completed, 1 it failed, 2 the job file or arguments are invalid,
130 canceled (Ctrl-C or SIGTERM). Heavy modules are imported only when a command runs,
so ``--help`` is instant.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import textwrap

EXIT_COMPLETED, EXIT_FAILED, EXIT_INVALID, EXIT_CANCELED = 0, 1, 2, 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dask-parallel",
        description="Run Azure ML parallel jobs (CLI v2 YAML, type: parallel) on a Dask cluster.",
        epilog="Exit codes: 0 completed, 1 failed, 2 invalid job file or arguments, 130 canceled.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = commands.add_parser("run", help="run a job file and wait for it")
    run.add_argument("job_file", metavar="JOB.yml")
    run.add_argument("--run-dir", help="folder for logs, ledger and unnamed outputs (new by default)")
    run.add_argument("--scheduler", help="address of an existing Dask scheduler (tcp://host:8786)")
    run.add_argument("--json", action="store_true", help="print a machine-readable summary on stdout")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    validate = commands.add_parser("validate", help="check a job file without running it")
    validate.add_argument("job_file", metavar="JOB.yml")
    return parser


def _say_error(message: str) -> None:
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
    from .errors import JobValidationError

    try:
        if args.command == "validate":
            return _validate(args)
        return _run(args)
    except JobValidationError as exc:
        _say_error(str(exc))
        return EXIT_INVALID
    except KeyboardInterrupt:
        _say_error("canceled; the run directory keeps what finished.")
        return EXIT_CANCELED


def _validate(args) -> int:
    from .api import new_run_dir
    from .inputs import plan_input
    from .job_yaml import load_job
    from .spec import build_job_spec

    job = load_job(args.job_file)
    spec = build_job_spec(job, base_dir=job.source_dir, run_dir=new_run_dir(job.name or "parallel_job"))
    plan = plan_input(spec)
    print(
        f"{args.job_file}: valid. {len(plan.mini_batches)} mini-batches of {plan.kind} input "
        f"{spec.major_input.uri}; {spec.total_processes} worker processes; "
        f"{'append_row to ' + spec.append_row_uri if spec.append_row_uri else 'summary_only'}."
    )
    return EXIT_COMPLETED


def _run(args) -> int:
    from .api import run
    from .job_yaml import load_job

    job = load_job(args.job_file)
    show_progress = not args.quiet and not args.json and sys.stderr.isatty()
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        result = run(
            job,
            client=args.scheduler,
            run_dir=os.path.abspath(args.run_dir) if args.run_dir else None,
            show_progress=show_progress,
        )
    finally:
        signal.signal(signal.SIGTERM, previous)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, default=str))
    else:
        print(result)
    if result.status == "Completed":
        return EXIT_COMPLETED
    if result.status == "Canceled":
        return EXIT_CANCELED
    return EXIT_FAILED


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
