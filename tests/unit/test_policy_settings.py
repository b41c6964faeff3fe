"""Settings beyond Azure: retry_settings.{split_on_failure,retry_on,no_retry_on,backoff}, speculation."""

from __future__ import annotations

import dataclasses
import json
import textwrap

import pytest

import dask_parallel as dp
from dask_parallel.errors import JobValidationError
from dask_parallel.jobs.entities import RetrySettings, SpeculationSettings
from dask_parallel.spec.job_spec import build_job_spec, spec_from_dict
from tests.unit.test_job_yaml import GOOD


def job(tmp_path, **settings):
    (tmp_path / "src").mkdir(exist_ok=True)
    (tmp_path / "src" / "score.py").write_text("def run(mb):\n    return mb\n")
    (tmp_path / "data").mkdir(exist_ok=True)
    return dp.parallel_run_function(
        name="j",
        inputs={"data": dp.Input(type="uri_folder", path=str(tmp_path / "data"))},
        input_data="${{inputs.data}}",
        task=dp.RunFunction(code=str(tmp_path / "src"), entry_script="score.py"),
        **settings,
    )


def test_everything_is_off_by_default(tmp_path):
    spec = build_job_spec(job(tmp_path), base_dir=str(tmp_path), run_dir=str(tmp_path / "run"))
    assert (spec.split_on_failure, spec.retry_on, spec.no_retry_on, spec.backoff_initial) == (
        False,
        (),
        (),
        0.0,
    )
    assert spec.speculation is False


def test_settings_reach_the_spec_and_survive_job_json(tmp_path):
    spec = build_job_spec(
        job(
            tmp_path,
            retry_settings={
                "max_retries": 4,
                "split_on_failure": True,
                "retry_on": ["ConnectionError", "mypkg.errors.Transient"],
                "no_retry_on": "ValueError",
                "backoff": {"initial": 0.5, "max": 30},
            },
            speculation={"multiplier": 4, "min_seconds": 2},
        ),
        base_dir=str(tmp_path),
        run_dir=str(tmp_path / "run"),
    )
    assert spec.split_on_failure is True and spec.max_attempts == 4
    assert spec.retry_on == ("ConnectionError", "mypkg.errors.Transient")
    assert spec.no_retry_on == ("ValueError",)
    assert (spec.backoff_initial, spec.backoff_max) == (0.5, 30.0)
    assert (spec.speculation, spec.speculation_multiplier, spec.speculation_min_seconds) == (True, 4.0, 2.0)
    stored = json.loads(json.dumps(dataclasses.asdict(spec)))
    assert spec_from_dict(stored) == spec


def test_an_older_job_json_without_the_new_fields_still_loads(tmp_path):
    spec = build_job_spec(job(tmp_path), base_dir=str(tmp_path), run_dir=str(tmp_path / "run"))
    stored = dataclasses.asdict(spec)
    for key in (
        "split_on_failure",
        "retry_on",
        "no_retry_on",
        "backoff_initial",
        "backoff_max",
        "speculation",
    ):
        stored.pop(key)
    assert spec_from_dict(stored) == spec


def test_speculation_true_uses_the_defaults():
    assert SpeculationSettings.coerce(True) == SpeculationSettings(
        enabled=True, multiplier=3.0, min_seconds=10.0
    )
    assert SpeculationSettings.coerce(None).enabled is False


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"split_on_failure": "yes"}, "split_on_failure must be true or false"),
        ({"retry_on": [1]}, "retry_on must be a list of exception class names"),
        ({"no_retry_on": ["not a name"]}, "'not a name' is not an exception class name"),
        (
            {"retry_on": ["OSError"], "no_retry_on": ["OSError"]},
            "'OSError' is in both retry_on and no_retry_on",
        ),
        ({"backoff": 5}, "backoff must be a mapping such as"),
        ({"backoff": {"initial": 1, "cap": 3}}, "unknown key 'cap'"),
        ({"backoff": {"initial": -1}}, r"backoff.initial must be a positive number"),
        ({"backoff": {"max": 10}}, r"backoff.initial is required"),
        ({"backoff": {"initial": 10, "max": 1}}, r"backoff.max \(1\) must not be less than initial"),
        (
            {"retry_after": 3},
            "unknown key 'retry_after'; allowed keys are max_retries, timeout, split_on_failure",
        ),
    ],
)
def test_retry_settings_errors_say_what_and_how(tmp_path, settings, message):
    with pytest.raises(JobValidationError, match=message):
        job(tmp_path, retry_settings=settings)


@pytest.mark.parametrize(
    "value, message",
    [
        ("on", "speculation must be true, false or a mapping"),
        ({"factor": 2}, "unknown key 'factor'"),
        ({"multiplier": 0.5}, "multiplier must be a number >= 1"),
        ({"min_seconds": -1}, "min_seconds must be a number of seconds >= 0"),
    ],
)
def test_speculation_errors(tmp_path, value, message):
    with pytest.raises(JobValidationError, match=message):
        job(tmp_path, speculation=value)


def test_retry_settings_object_validates_too():
    with pytest.raises(JobValidationError, match=r"backoff\.initial is required"):
        RetrySettings(backoff={})


def test_yaml_job_file_reads_the_new_settings(tmp_path):
    text = GOOD.replace(
        "retry_settings: {max_retries: 2, timeout: 60}",
        textwrap.dedent(
            """\
            retry_settings:
              max_retries: 3
              split_on_failure: true
              retry_on: [ConnectionError, TimeoutError]
              backoff: {initial: 1, max: 60}
            speculation: {multiplier: 3, min_seconds: 30}"""
        ),
    )
    path = tmp_path / "job.yml"
    path.write_text(text)
    loaded = dp.load_job(path)
    assert loaded.retry_settings.split_on_failure is True
    assert loaded.retry_settings.retry_on == ["ConnectionError", "TimeoutError"]
    assert loaded.retry_settings.backoff == {"initial": 1, "max": 60}
    assert loaded.speculation == SpeculationSettings(multiplier=3, min_seconds=30)


def test_yaml_errors_point_at_the_line(tmp_path):
    text = GOOD.replace(
        "retry_settings: {max_retries: 2, timeout: 60}", "retry_settings: {backoff: {initial: 0}}"
    )
    path = tmp_path / "job.yml"
    path.write_text(text)
    with pytest.raises(JobValidationError, match=r"job.yml, line 14: retry_settings.backoff.initial must be"):
        dp.load_job(path)


def _auto_job_file(tmp_path, size_line):
    (tmp_path / "src").mkdir(exist_ok=True)
    (tmp_path / "src" / "score.py").write_text("def run(mb):\n    return mb\n")
    (tmp_path / "data").mkdir(exist_ok=True)
    for i in range(7):
        (tmp_path / "data" / f"f{i}.txt").write_text("x")
    path = tmp_path / "job.yml"
    path.write_text(
        textwrap.dedent(
            f"""\
            type: parallel
            inputs:
              data: {{type: uri_folder, path: ./data}}
            input_data: ${{{{inputs.data}}}}
            {size_line}
            task: {{type: run_function, code: ./src, entry_script: score.py}}
            """
        )
    )
    return path


@pytest.mark.parametrize(
    "size_line, seconds",
    [("mini_batch_size: auto", 30.0), ("target_duration: 2m", 120.0), ("target_duration: 1.5", 1.5)],
)
def test_sizing_by_time_settings(tmp_path, size_line, seconds):
    loaded = dp.load_job(_auto_job_file(tmp_path, size_line))
    spec = build_job_spec(loaded, base_dir=str(tmp_path), run_dir=str(tmp_path / "run"))
    assert (spec.target_duration, spec.mini_batch_size) == (seconds, None)


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"target_duration": "soon"}, "target_duration must be a positive duration such as 30s"),
        ({"target_duration": 0}, "target_duration must be a positive duration"),
        ({"target_duration": "30s", "mini_batch_size": "10"}, "cannot be combined with mini_batch_size '10'"),
    ],
)
def test_sizing_by_time_errors(tmp_path, settings, message):
    with pytest.raises(JobValidationError, match=message):
        job(tmp_path, **settings)


def test_validate_and_mini_batches_explain_a_division_made_at_run_time(tmp_path, capsys):
    from dask_parallel.cli import main

    path = _auto_job_file(tmp_path, "target_duration: 45s")
    assert main(["validate", str(path)]) == 0
    assert "valid. 7 files in mini-batches of about 45 s each" in capsys.readouterr().out
    with pytest.raises(JobValidationError, match="divides the input while the job runs"):
        dp.mini_batches(dp.load_job(path))
