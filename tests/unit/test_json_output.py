"""The one --json document of every command, checked against the JSON Schema the package ships."""

from __future__ import annotations

import contextlib
import io
import json
import os
import time
from pathlib import Path

import jsonschema
import pytest

from dask_parallel import cli
from dask_parallel.rundir.result import JobResult, load_result
from dask_parallel.rundir.status import read_status
from dask_parallel.schema import document, from_result, from_status, load_schema, schema_path
from tests.conftest import REPO
from tests.unit.test_rundir import make_run

VALIDATOR = jsonschema.Draft202012Validator(load_schema(), format_checker=jsonschema.FormatChecker())


def valid(data: dict) -> dict:
    VALIDATOR.validate(data)
    return data


def run_cli(*argv: str) -> tuple[int, dict]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(argv))
    return code, json.loads(out.getvalue())


def result(**changes) -> JobResult:
    fields = dict(
        status="Completed",
        run_dir="/runs/a",
        outputs={"scores": "/runs/a/outputs/scores.txt"},
        error=None,
        mini_batches_total=4,
        mini_batches_succeeded=3,
        mini_batches_failed=1,
        items_total=20,
        items_succeeded=15,
        items_failed=5,
        attempts=6,
        started=1_700_000_000.25,
        finished=1_700_000_012.5,
        name="scoring",
    )
    fields.update(changes)
    return JobResult(**fields)


def test_the_schema_ships_inside_the_package():
    assert Path(schema_path()).parent == REPO / "dask_parallel" / "schema"
    assert '"schema/*.json"' in (REPO / "pyproject.toml").read_text()
    jsonschema.Draft202012Validator.check_schema(load_schema())


def test_a_job_result_document():
    data = valid(result().to_json("run"))
    assert data["schema_version"] == 1 and data["command"] == "run" and data["job"] == "scoring"
    assert data["started"] == "2023-11-14T22:13:20.250+00:00"
    assert data["duration_seconds"] == 12.25
    assert data["counts"]["retries"] == 2 and data["counts"]["mini_batches_not_processed"] == 0
    assert data["outputs"] == {"scores": "/runs/a/outputs/scores.txt"}


def test_the_schema_rejects_what_it_does_not_describe():
    data = result().to_json("run")
    for broken in (
        {**data, "started": 1_700_000_000.25},  # epoch floats are not ISO-8601
        {**data, "status": "Invalid-ish"},
        {**data, "extra": 1},  # every field is documented
        {k: v for k, v in data.items() if k != "schema_version"},
        {**data, "counts": {**data["counts"], "items_total": "20"}},
    ):
        with pytest.raises(jsonschema.ValidationError):
            VALIDATOR.validate(broken)


def test_a_pipeline_result_lists_its_steps():
    from dask_parallel.pipelines.result import PipelineResult

    step = result(run_dir="/runs/p/score")
    pipeline = PipelineResult(**{**vars(result(run_dir="/runs/p")), "steps": {"score": step}})
    data = valid(from_result(pipeline, "run"))
    assert data["steps"]["score"]["run_dir"] == "/runs/p/score"


def test_status_logs_list_and_cancel_of_a_finished_run(tmp_path):
    run = str(make_run(tmp_path))
    code, status = run_cli("status", run, "--json")
    assert code == 0 and valid(status)["status"] == "Failed"
    assert status["counts"]["retries"] == 1 and status["error"] == "too many failures"
    code, logs = run_cli("logs", run, "--json")
    assert code == 0 and valid(logs)["logs"]["result_text"].startswith("Failed")
    assert [a["mini_batch_index"] for a in logs["logs"]["failed_attempts"]] == [2, 2]
    code, listed = run_cli("list", str(tmp_path), "--json")
    assert code == 0 and [r["run_dir"] for r in valid(listed)["runs"]] == [run]
    code, cancel = run_cli("cancel", run, "--json")
    assert code == 0 and valid(cancel)["cancel"]["requested"] is False
    assert not os.path.exists(os.path.join(run, "cancel.request"))


def test_cancel_of_a_running_run_leaves_a_request(tmp_path):
    run = str(make_run(tmp_path, finished=None))
    code, data = run_cli("cancel", run, "--json", "--reason", "nightly window over")
    assert code == 0 and valid(data)["status"] == "CancelRequested"
    request = json.loads(Path(run, "cancel.request").read_text())
    assert request["reason"] == "nightly window over" and request["host"]
    assert read_status(run).status == "CancelRequested"


def test_errors_are_documents_too(tmp_path):
    code, data = run_cli("status", str(tmp_path), "--json")
    assert code == 2 and valid(data)["status"] == "Invalid"
    assert "no job.json" in data["error"] and data["command"] == "status"
    (tmp_path / "bad.yml").write_text("type: parallel\nfoo: 1\n")
    code, data = run_cli("run", str(tmp_path / "bad.yml"), "--json")
    assert code == 2 and valid(data)["status"] == "Invalid" and data["run_dir"] is None


def test_validate_json(tmp_path):
    job = REPO / "conf" / "examples" / "file_scoring" / "job.yml"
    code, data = run_cli("validate", str(job), "--json", "--set", "mini_batch_size=10")
    assert code == 0 and valid(data)["status"] == "Valid"
    assert data["counts"]["mini_batches_total"] == 4
    assert data["validation"]["kind"] == "parallel" and data["validation"]["input_kind"] == "files"


def test_load_result_reads_a_run_directory(tmp_path):
    run = make_run(tmp_path)
    loaded = load_result(run)
    assert (loaded.status, loaded.name, loaded.mini_batches_failed, loaded.attempts) == (
        "Failed",
        "scoring",
        1,
        4,
    )
    assert loaded.items_total == 15 and loaded.error == "too many failures"
    valid(loaded.to_json())


def test_document_defaults_are_valid():
    valid(document("list", status="Completed", runs=[]))
    valid(from_status(read_status_stub()))


def read_status_stub():
    from dask_parallel.rundir.status import RunStatus

    return RunStatus(
        run_dir="/r", name="x", status="Running", reason=None, mini_batches_total=3, started=time.time()
    )
