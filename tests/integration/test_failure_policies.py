"""Beyond Azure on real runs: bisection of failing mini-batches, retry by error type, backoff."""

from __future__ import annotations

import csv
import json
import os

import pytest

import dask_parallel as dp
from tests.conftest import file_job

pytestmark = pytest.mark.slow

# Files named in POISON always make run() raise; files named in FLAKY raise a ConnectionError
# on their first attempt only; files named in BROKEN raise a ValueError every time.
SCRIPT = """
import os

def run(mini_batch):
    poison = set(filter(None, os.environ.get("POISON", "").split(",")))
    flaky = set(filter(None, os.environ.get("FLAKY", "").split(",")))
    broken = set(filter(None, os.environ.get("BROKEN", "").split(",")))
    out = []
    for path in mini_batch:
        name = os.path.basename(path)
        if name in poison:
            raise ValueError(f"poisoned input {name}")
        if name in broken:
            raise ValueError(f"cannot parse {name}")
        if name in flaky:
            marker = os.path.join(os.environ["STATE_DIR"], name)
            if not os.path.exists(marker):
                open(marker, "w").close()
                raise ConnectionResetError(f"connection reset while fetching {name}")
        out.append(name)
    return out
"""

POISONED = ["item_041.txt", "item_044.txt", "item_048.txt"]  # all in mini-batch 4 of 10


def _run(tmp_path, client, env, **settings):
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    job = file_job(
        tmp_path,
        SCRIPT,
        files=100,
        mini_batch_size="10",
        environment_variables={"STATE_DIR": str(state), **env},
        **settings,
    )
    return dp.run(job, client=client, run_dir=tmp_path / "run")


def _rows(tmp_path):
    return (tmp_path / "out" / "result.txt").read_text().split()


def _failed_items(result):
    with open(os.path.join(result.run_dir, "logs", "sys", "job_report", "failed_items.csv")) as handle:
        return list(csv.DictReader(handle))


def _attempts(result):
    with open(os.path.join(result.run_dir, "ledger.jsonl")) as handle:
        records = [json.loads(line) for line in handle]
    return [r for r in records if r["event"] == "attempt"]


def test_without_split_a_poisoned_file_fails_its_whole_mini_batch(tmp_path, client):
    result = _run(tmp_path, client, {"POISON": ",".join(POISONED)})
    assert result.status == "Completed"
    assert (result.items_succeeded, result.items_failed) == (90, 10)
    assert len(_rows(tmp_path)) == 90
    assert len(_failed_items(result)) == 10


def test_split_on_failure_isolates_exactly_the_poisoned_files(tmp_path, client):
    result = _run(tmp_path, client, {"POISON": ",".join(POISONED)}, retry_settings={"split_on_failure": True})
    assert result.status == "Completed"
    assert (result.items_succeeded, result.items_failed) == (97, 3)
    expected = [f"item_{i:03d}.txt" for i in range(100) if f"item_{i:03d}.txt" not in POISONED]
    assert _rows(tmp_path) == expected  # input order, every good row exactly once
    failed = _failed_items(result)
    assert [row["item"].rsplit("/", 1)[-1] for row in failed] == POISONED
    assert all("poisoned input" in row["reason"] for row in failed)
    summary = (tmp_path / "run" / "logs" / "job_result.txt").read_text()
    assert "97 succeeded, 3 failed" in summary
    assert all(name in summary for name in POISONED)
    assert result.mini_batches_failed == 0  # the mini-batch itself succeeded for its 7 good files


def test_split_mini_batch_is_reused_on_resume(tmp_path, client, monkeypatch):
    result = _run(tmp_path, client, {"POISON": ",".join(POISONED)}, retry_settings={"split_on_failure": True})
    rows = _rows(tmp_path)
    os.remove(tmp_path / "out" / "result.txt")
    # job.json keeps no environment_variables values: resume takes them from the environment.
    monkeypatch.setenv("STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("POISON", ",".join(POISONED))
    again = dp.resume(result.run_dir, client=client)
    assert again.status == "Completed"
    assert again.attempts == 0  # nothing ran again: every mini-batch, split or not, was final
    assert _rows(tmp_path) == rows
    assert [row["item"].rsplit("/", 1)[-1] for row in _failed_items(again)] == POISONED


def test_transient_error_is_retried_after_backoff_and_deterministic_one_is_not(tmp_path, client):
    result = _run(
        tmp_path,
        client,
        {"FLAKY": "item_015.txt", "BROKEN": "item_072.txt"},
        retry_settings={
            "max_retries": 4,
            "retry_on": ["ConnectionError", "TimeoutError"],
            "backoff": {"initial": 1, "max": 4},
        },
    )
    assert result.status == "Completed"
    assert (result.items_succeeded, result.items_failed) == (90, 10)
    attempts = _attempts(result)
    flaky = [a for a in attempts if a["index"] == 1]
    broken = [a for a in attempts if a["index"] == 7]
    assert [(a["attempt"], a["outcome"]) for a in flaky] == [(1, "run_error"), (2, "succeeded")]
    assert flaky[0]["error_names"][:2] == ["ConnectionResetError", "ConnectionError"]
    # the second attempt waited at least half the initial backoff after the first ended
    first_end = flaky[0]["start_time"] + flaky[0]["elapsed"]
    assert flaky[1]["start_time"] - first_end >= 0.5
    assert [(a["attempt"], a["outcome"]) for a in broken] == [(1, "run_error")]  # not retried
    log = (tmp_path / "run" / "logs" / "sys" / "master_role.txt").read_text()
    assert "(backoff)" in log


def test_split_on_failure_is_refused_for_table_blocks(tmp_path, client):
    data = tmp_path / "table.csv"
    data.write_text("a\n1\n2\n")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "score.py").write_text("def run(df):\n    return df\n")
    (tmp_path / "MLTable").write_text(
        "paths:\n  - file: ./table.csv\ntransformations:\n  - read_delimited: {}\n"
    )
    job = dp.parallel_run_function(
        name="tab",
        inputs={"data": dp.Input(type="mltable", path=str(tmp_path))},
        input_data="${{inputs.data}}",
        task=dp.RunFunction(code=str(tmp_path / "src"), entry_script="score.py"),
        retry_settings={"split_on_failure": True},
    )
    with pytest.raises(dp.JobValidationError, match="split_on_failure applies to inputs divided into files"):
        dp.run(job, client=client, run_dir=tmp_path.parent / f"{tmp_path.name}_run")  # outside the input
