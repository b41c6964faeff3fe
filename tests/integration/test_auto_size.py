"""Mini-batches sized by time on a real cluster: convergence to the target, and resume."""

from __future__ import annotations

import json
import os
import statistics

import pytest

import dask_parallel as dp
from tests.conftest import file_job

pytestmark = pytest.mark.slow

# Files before SWITCH take FAST seconds each, the others SLOW seconds; while STATE_DIR holds
# a file named "broken", files from BROKEN_FROM on make run() raise.
SCRIPT = """
import os, time

def run(mini_batch):
    out = []
    for path in mini_batch:
        number = int(os.path.basename(path)[5:8])
        broken = os.path.exists(os.path.join(os.environ["STATE_DIR"], "broken"))
        if broken and number >= int(os.environ.get("BROKEN_FROM", "100000")):
            raise RuntimeError(f"cannot score {number}")
        time.sleep(float(os.environ["FAST"] if number < int(os.environ["SWITCH"]) else os.environ["SLOW"]))
        out.append(os.path.basename(path))
    return out
"""

TARGET = 0.5


def _job(tmp_path, files, env):
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    return file_job(
        tmp_path,
        SCRIPT,
        files=files,
        mini_batch_size="auto",
        target_duration=f"{int(TARGET * 1000)}ms",
        environment_variables={"STATE_DIR": str(state), **env},
    )


def _ledger(run_dir, event):
    with open(os.path.join(run_dir, "ledger.jsonl")) as handle:
        return [r for r in map(json.loads, handle) if r["event"] == event]


def test_size_converges_to_the_target_duration_as_the_time_per_item_changes(tmp_path, client):
    job = _job(tmp_path, 500, {"SWITCH": "200", "FAST": "0.005", "SLOW": "0.05"})
    result = dp.run(job, client=client, run_dir=tmp_path / "run")
    assert result.status == "Completed"
    assert (tmp_path / "out" / "result.txt").read_text().split() == [f"item_{i:03d}.txt" for i in range(500)]
    cuts = _ledger(result.run_dir, "cut")
    assert cuts[0]["stop"] - cuts[0]["start"] == 1  # the first mini-batches are small
    assert [c["start"] for c in cuts[1:]] == [c["stop"] for c in cuts[:-1]]
    assert cuts[-1]["stop"] == 500 and result.mini_batches_total == len(cuts)
    run_time = {a["mini_batch_id"]: a["elapsed"] for a in _ledger(result.run_dir, "attempt")}
    fast = [c for c in cuts if c["stop"] <= 200][4:]  # after the first few, before the switch
    slow = [c for c in cuts if c["start"] >= 200][4:-3]  # after adapting, before the last shares
    assert len(fast) >= 2 and len(slow) >= 5
    assert max(c["stop"] - c["start"] for c in fast) >= 40  # about 100 items would take 0.5 s
    assert max(c["stop"] - c["start"] for c in slow) <= 20  # about 10 items would take 0.5 s
    for group in (fast, slow):
        assert 0.5 * TARGET <= statistics.median(run_time[c["mb"]] for c in group) <= 1.6 * TARGET


def test_resume_repeats_the_recorded_division(tmp_path, client):
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "broken").write_text("")
    job = _job(tmp_path, 120, {"SWITCH": "0", "FAST": "0", "SLOW": "0.01", "BROKEN_FROM": "100"})
    first = dp.run(job, client=client, run_dir=tmp_path / "run")
    assert first.status == "Completed" and first.items_failed > 0
    cuts = _ledger(first.run_dir, "cut")
    os.remove(tmp_path / "state" / "broken")
    again = dp.resume(first.run_dir, client=client, job=job)  # job.json keeps no environment values
    assert again.status == "Completed"
    assert _ledger(first.run_dir, "cut") == cuts  # nothing was cut anew: the division was replayed
    assert again.attempts == first.mini_batches_failed  # only the failed mini-batches ran again
    assert (tmp_path / "out" / "result.txt").read_text().split() == [f"item_{i:03d}.txt" for i in range(120)]
