"""Misspelled and repeated driver options in program_arguments are reported."""

from __future__ import annotations

from dask_parallel.spec.driver_option_checks import driver_option_warnings


def test_a_driver_option_one_typo_away_is_named_with_the_fix():
    (message,) = driver_option_warnings(["--model", "./m", "--resource_monitor_interva", "20"])
    assert "'--resource_monitor_interva' is not a driver option" in message
    assert "did you mean '--resource_monitor_interval'?" in message


def test_a_repeated_driver_option_says_the_last_value_wins():
    (message,) = driver_option_warnings(["--error_threshold", "5", "--error_threshold=6"])
    assert message.startswith(
        "program_arguments: --error_threshold is given 2 times; the driver uses the last"
    )


def test_the_entry_scripts_own_options_are_not_reported():
    tokens = [
        "--model",
        "m",
        "--drop_cols",
        "a,b",
        "--job_output_path",
        "/o",
        "--allowed_failed_percent",
        "30",
    ]
    assert driver_option_warnings(tokens) == []
