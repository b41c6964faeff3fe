import pytest

from dask_parallel.errors import JobValidationError
from dask_parallel.spec.driver_options import DriverOptions, parse_driver_options


def test_defaults():
    assert parse_driver_options([]) == DriverOptions()


def test_reads_driver_options_and_leaves_the_rest():
    options = parse_driver_options(
        [
            "--model",
            "m",
            "--allowed_failed_percent",
            "30",
            "--task_overhead_timeout",
            "1200",
            "--progress_update_timeout",
            "600",
            "--first_task_creation_timeout",
            "600",
            "--resource_monitor_interval",
            "20",
            "--other",
            "x",
        ]
    )
    assert options.allowed_failed_percent == 30
    assert options.task_overhead_timeout == 1200
    assert options.progress_update_timeout == 600
    assert options.resource_monitor_interval == 20


@pytest.mark.parametrize("value, expected", [("3", 3), ("'4'", 4), ("2.2", 3), ("junk", -1), ("-7", -1)])
def test_error_threshold_parsing_follows_the_driver(value, expected):
    assert parse_driver_options(["--error_threshold", value]).error_threshold == expected


@pytest.mark.parametrize(
    "args, message",
    [
        (["--allowed_failed_percent", "120"], "not between 0 and 100"),
        (["--allowed_failed_percent", "x"], "not an int or float"),
        (["--task_overhead_timeout", "0"], r"\(0, 259200\]"),
        (["--append_row_file_name", "a/b.txt"], "valid UNIX file name"),
    ],
)
def test_bad_values_are_clear(args, message):
    with pytest.raises(JobValidationError, match=message):
        parse_driver_options(args)


def test_no_abbreviations():
    # A typo such as --resource_monitor_interva must not be taken for a driver option.
    assert parse_driver_options(["--resource_monitor_interva", "20"]) == DriverOptions()


def test_append_row_file_name_is_lower_cased():
    assert parse_driver_options(["--append_row_file_name", "Out.TXT"]).append_row_file_name == "out.txt"
