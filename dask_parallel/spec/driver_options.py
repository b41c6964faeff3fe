"""The Azure ML parallel driver options users pass inside ``program_arguments`` (spec 6.11)."""

from __future__ import annotations

import argparse
import dataclasses
import math
from collections.abc import Callable
from typing import NoReturn

from dask_parallel.errors import JobValidationError

MAX_SECONDS = 259200
TRUE_STRINGS = ("true", "yes", "1")


@dataclasses.dataclass(frozen=True)
class DriverOptions:
    """Driver settings read from the command line; ``None`` means "not given"."""

    allowed_failed_percent: float = 100.0
    task_overhead_timeout: int = 30
    progress_update_timeout: int | None = None
    first_task_creation_timeout: int = 600
    resource_monitor_interval: int = 600
    append_row_file_name: str = "parallel_run_step.txt"
    append_row_dataframe_header: bool = False
    error_threshold: int | None = None
    allowed_failed_count: int | None = None
    run_invocation_timeout: int | None = None
    run_max_try: int | None = None
    process_count_per_node: int | None = None
    logging_level: str | None = None
    copy_logs_to_parent: bool = False


def _seconds(name: str) -> Callable[[str], int]:
    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"--{name} must be a whole number of seconds") from None
        if not 0 < value <= MAX_SECONDS:
            raise argparse.ArgumentTypeError(f"--{name} must be in (0, {MAX_SECONDS}] seconds")
        return value

    return convert


def _percent(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("--allowed_failed_percent is not an int or float") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError("--allowed_failed_percent is not between 0 and 100")
    return value


def _threshold(text: str) -> int:
    # The Azure driver strips quotes, accepts ints, rounds floats up, and maps junk to -1.
    text = text.strip().strip("'\"")
    try:
        value = int(text)
    except ValueError:
        try:
            value = math.ceil(float(text))
        except ValueError:
            value = -1
    return max(value, -1)


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("must be an integer") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be >= 0")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("must be an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be an integer greater than 0")
    return value


def _boolean(text: str) -> bool:
    return text.strip().lower() in TRUE_STRINGS


def _file_name(text: str) -> str:
    if any(ch in text for ch in '~"#%&*:<>?/\\{|}') or not text.strip():
        raise argparse.ArgumentTypeError("Parameter append_row_file_name must be a valid UNIX file name.")
    return text.lower()


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse would print usage and exit
        raise JobValidationError(f"program_arguments: {message}.")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(add_help=False, allow_abbrev=False)
    add = parser.add_argument
    add("--allowed_failed_percent", type=_percent)
    add("--task_overhead_timeout", type=_seconds("task_overhead_timeout"))
    add("--progress_update_timeout", type=_seconds("progress_update_timeout"))
    add("--first_task_creation_timeout", type=_seconds("first_task_creation_timeout"))
    add("--resource_monitor_interval", type=_non_negative_int)
    add("--append_row_file_name", type=_file_name)
    add("--append_row_dataframe_header", type=_boolean)
    add("--error_threshold", type=_threshold)
    add("--allowed_failed_count", type=_threshold)
    add("--run_invocation_timeout", "--score_run_timeout", type=_seconds("run_invocation_timeout"))
    add("--run_max_try", type=_positive_int)
    add("--process_count_per_node", type=_positive_int)
    add("--logging_level", choices=("DEBUG", "INFO", "WARNING"))
    add("--copy_logs_to_parent", type=_boolean)
    # Accepted and not used: metrics and profiling belong to Azure's own services.
    for name in ("--metrics_name_prefix", "--push_metrics_to_parent", "--profiling_module", "--nice"):
        add(name)
    return parser


def parse_driver_options(tokens: list[str]) -> DriverOptions:
    """Read the driver's options from the program arguments; other tokens are the script's.

    >>> parse_driver_options(["--model", "m", "--allowed_failed_percent", "30"]).allowed_failed_percent
    30.0
    """
    known, _rest = _parser().parse_known_args(tokens)
    given = {k: v for k, v in vars(known).items() if v is not None and k in _FIELDS}
    return DriverOptions(**given)


_FIELDS = {f.name for f in dataclasses.fields(DriverOptions)}
