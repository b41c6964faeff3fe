"""Resume a failed run without redoing finished work; reuse identical completed runs."""

from __future__ import annotations

import csv
import json
import os
import shutil
from collections import Counter

import dask.config
import pytest

import dask_parallel as dp
from dask_parallel.errors import ResumeError
from dask_parallel.rundir.ledger import read_ledger
from tests.conftest import file_job

pytestmark = pytest.mark.slow

# Fails the files named in BROKEN (read from a file, so a "fix" is an edit of that file)
# and records every item run() saw.
SCRIPT = """
import os

def run(mini_batch):
    state = os.environ["STATE_DIR"]
    broken = open(os.path.join(state, "broken")).read().split()
    with open(os.path.join(state, "seen"), "a") as f:
        f.write("".join(os.path.basename(p) + "\\n" for p in mini_batch))
    for path in mini_batch:
        if os.path.basename(path) in broken:
            raise ValueError(f"bad file {os.path.basename(path)}")
    return [os.path.basename(p) for p in mini_batch]
"""


@pytest.fixture
def scenario(tmp_path, monkeypatch):
    # job.json keeps no environment_variables values: resume takes them from the environment.
    state = tmp_path / "state"
    state.mkdir()
    monkeypatch.setenv("STATE_DIR", str(state))
    (state / "broken").write_text("item_004.txt item_011.txt")
    job = file_job(
        tmp_path,
        SCRIPT,
        files=16,
        mini_batch_size="2",
        environment_variables={"STATE_DIR": str(state)},
        retry_settings={"max_retries": 1},
        mini_batch_error_threshold=5,
        is_deterministic=False,
    )
    return tmp_path, state, job


def seen(state):
    return Counter((state / "seen").read_text().split())


def test_resume_runs_only_failed_mini_batches(scenario, client):
    tmp_path, state, job = scenario
    first = dp.run(job, client=client, run_dir=tmp_path / "run")
    assert first.status == "Completed"  # threshold 5: two failed mini-batches are allowed
    assert first.mini_batches_failed == 2
    assert len((tmp_path / "out" / "result.txt").read_text().splitlines()) == 12
    # The ledger names each winning part relative to the run directory, with its CRC-32.
    stored = [r for r in read_ledger(str(tmp_path / "run")) if r.get("event") == "final" and r.get("part")]
    assert stored
    assert all(r["part"][0].startswith("parts/") and isinstance(r["part_crc"], int) for r in stored)

    (state / "broken").write_text("")  # the bug is fixed
    (state / "seen").write_text("")
    second = dp.resume(tmp_path / "run", client=client)
    assert second.status == "Completed", second.error
    assert (second.mini_batches_succeeded, second.mini_batches_failed) == (8, 0)
    # Only the two failed mini-batches ran again.
    assert seen(state) == Counter(
        {"item_004.txt": 1, "item_005.txt": 1, "item_010.txt": 1, "item_011.txt": 1}
    )
    # The final file is rebuilt: every row exactly once, in order.
    assert (tmp_path / "out" / "result.txt").read_text().split() == [f"item_{i:03d}.txt" for i in range(16)]
    with open(tmp_path / "run" / "logs" / "sys" / "job_report" / "processed_mini-batches.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 8 + 2  # the first run's attempts and the resumed ones


def test_resume_after_a_failed_job(scenario, client):
    tmp_path, state, job = scenario
    job.mini_batch_error_threshold = 0
    first = dp.run(job, client=client, run_dir=tmp_path / "run")
    assert first.status == "Failed"
    assert not (tmp_path / "out" / "result.txt").exists()
    (state / "broken").write_text("")
    second = dp.resume(tmp_path / "run", client=client)
    assert second.status == "Completed"
    assert (tmp_path / "out" / "result.txt").read_text().split() == [f"item_{i:03d}.txt" for i in range(16)]
    assert "Completed" in (tmp_path / "run" / "logs" / "job_result.txt").read_text()


def test_resume_refuses_a_changed_input(scenario, client):
    tmp_path, _state, job = scenario
    dp.run(job, client=client, run_dir=tmp_path / "run")
    (tmp_path / "data" / "item_099.txt").write_text("new")
    (tmp_path / "data" / "item_000.txt").write_text("changed content")
    with pytest.raises(ResumeError) as info:
        dp.resume(tmp_path / "run", client=client)
    message = str(info.value)
    assert "1 input file(s) were added" in message and "item_099.txt" in message
    assert "1 input file(s) were modified" in message
    assert "force" in message


def test_resume_refuses_changed_settings_but_force_starts_afresh(scenario, client):
    tmp_path, state, job = scenario
    dp.run(job, client=client, run_dir=tmp_path / "run")
    changed = job(data=dp.Input(type="uri_folder", path=str(tmp_path / "data")))
    changed.mini_batch_size = "4"
    with pytest.raises(ResumeError, match=r"mini_batch_size changed from 2 to 4"):
        dp.resume(tmp_path / "run", client=client, job=changed)
    (state / "broken").write_text("")
    (state / "seen").write_text("")
    fresh = dp.resume(tmp_path / "run", client=client, job=changed, force=True)
    assert fresh.status == "Completed" and fresh.mini_batches_total == 4
    assert sum(seen(state).values()) == 16


def test_resume_with_an_edited_entry_script(scenario, client):
    tmp_path, _state, job = scenario
    dp.run(job, client=client, run_dir=tmp_path / "run")
    script = (
        (tmp_path / "src" / "score.py").read_text().replace('raise ValueError(f"bad file', 'print(f"was bad')
    )
    (tmp_path / "src" / "score.py").write_text(script)  # code may change between runs
    second = dp.resume(tmp_path / "run", client=client)
    assert second.status == "Completed"
    assert second.mini_batches_failed == 0


def test_resume_errors(tmp_path):
    with pytest.raises(ResumeError, match=r"holds no job.json"):
        dp.resume(tmp_path)


def test_run_dir_in_use_is_refused(scenario, client):
    tmp_path, _, job = scenario
    dp.run(job, client=client, run_dir=tmp_path / "run")
    with pytest.raises(dp.JobValidationError, match=r"already holds a run"):
        dp.run(job, client=client, run_dir=tmp_path / "run")


def test_identical_run_is_reused(tmp_path, client, capsys):
    state = tmp_path / "state"
    state.mkdir()
    (state / "broken").write_text("")
    job = file_job(
        tmp_path, SCRIPT, files=6, mini_batch_size="3", environment_variables={"STATE_DIR": str(state)}
    )
    first = dp.run(job, client=client)
    assert first.status == "Completed" and not first.reused
    runs = seen(state)
    capsys.readouterr()
    again = dp.run(job, client=client, run_dir=tmp_path / "again")
    assert again.reused and again.status == "Completed"
    assert seen(state) == runs  # nothing ran
    # Announced on stderr (never stdout), and recorded in a run directory of its own.
    captured = capsys.readouterr()
    assert captured.out == "" and f"identical earlier run {first.run_dir}" in captured.err
    assert again.run_dir == str(tmp_path / "again") and again.reused_from == first.run_dir
    assert again.outputs == first.outputs
    assert dp.load_result(again.run_dir).reused_from == first.run_dir
    # force_rerun runs it anyway.
    forced = dp.run(job, client=client, force_rerun=True)
    assert not forced.reused and seen(state) != runs
    # A change to the code, or is_deterministic=False, recomputes.
    (tmp_path / "src" / "score.py").write_text(SCRIPT + "\n# tweak\n")
    changed = dp.run(job, client=client)
    assert not changed.reused
    job.is_deterministic = False
    assert not dp.run(job, client=client).reused


def test_reuse_not_when_the_output_was_touched(tmp_path, client):
    state = tmp_path / "state"
    state.mkdir()
    (state / "broken").write_text("")
    job = file_job(tmp_path, SCRIPT, files=2, environment_variables={"STATE_DIR": str(state)})
    with dask.config.set({"dask-parallel.run-root": str(tmp_path / "runs")}):
        assert not dp.run(job, client=client).reused
        (tmp_path / "out" / "result.txt").write_text("edited by hand\n")
        again = dp.run(job, client=client)
    assert not again.reused
    assert (tmp_path / "out" / "result.txt").read_text() == "item_000.txt\nitem_001.txt\n"


def test_job_json_names_no_input_file(scenario, client):
    tmp_path, _state, job = scenario
    dp.run(job, client=client, run_dir=tmp_path / "run")
    text = (tmp_path / "run" / "job.json").read_text()
    assert "item_000.txt" not in text  # the files are in plan/listing.arrow
    identity = json.loads(text)["identity"]
    assert identity["files"]["count"] == 16 and len(identity["files"]["digest"]) == 64
    assert identity["division"]["count"] == 8
    assert (tmp_path / "run" / "plan" / "listing.arrow").exists()


def test_resume_refuses_a_removed_input_file(scenario, client):
    tmp_path, _state, job = scenario
    dp.run(job, client=client, run_dir=tmp_path / "run")
    for index in (3, 7, 8, 12):
        (tmp_path / "data" / f"item_{index:03d}.txt").unlink()
    with pytest.raises(ResumeError) as info:
        dp.resume(tmp_path / "run", client=client)
    message = str(info.value)
    assert "4 input file(s) were removed" in message
    assert "item_003.txt" in message and "item_008.txt" in message and "and 1 more" in message
    assert not (tmp_path / "run" / "plan.next").exists()  # the refused plan is not kept
    assert (tmp_path / "run" / "plan" / "listing.arrow").exists()


def as_before_the_plan_folder(run_dir):
    """Rewrite job.json as runs made before plan/ wrote it: every file and every mini-batch id."""
    from dask_parallel.rundir.plan_store import StoredMiniBatches, read_listing

    listing = read_listing(str(run_dir / "plan")).to_pylist()
    document = json.loads((run_dir / "job.json").read_text())
    ids = StoredMiniBatches(str(run_dir / "plan"), ()).windows()
    document["identity"]["files"] = {row["path"]: [row["size"], row["version"]] for row in listing}
    document["identity"]["division"] = [mb.id for window in ids for mb in window]
    (run_dir / "job.json").write_text(json.dumps(document))
    shutil.rmtree(run_dir / "plan")


def test_runs_made_before_the_plan_folder_refuse_a_change_or_resume(scenario, client):
    tmp_path, state, job = scenario
    dp.run(job, client=client, run_dir=tmp_path / "run")
    as_before_the_plan_folder(tmp_path / "run")
    touched = tmp_path / "data" / "item_001.txt"
    original = os.stat(touched)
    os.utime(touched, ns=(original.st_atime_ns, original.st_mtime_ns + 5_000_000_000))
    with pytest.raises(ResumeError, match=r"1 input file\(s\) were modified \(.*item_001.txt\)"):
        dp.resume(tmp_path / "run", client=client)

    os.utime(touched, ns=(original.st_atime_ns, original.st_mtime_ns))  # the input is as it was
    (state / "broken").write_text("")
    (state / "seen").write_text("")
    resumed = dp.resume(tmp_path / "run", client=client)
    assert resumed.status == "Completed", resumed.error
    assert seen(state) == Counter(
        {"item_004.txt": 1, "item_005.txt": 1, "item_010.txt": 1, "item_011.txt": 1}
    )
    assert (tmp_path / "run" / "plan" / "listing.arrow").exists()


def test_a_lost_listing_refuses_a_changed_input_unless_forced(scenario, client):
    tmp_path, state, job = scenario
    dp.run(job, client=client, run_dir=tmp_path / "run")
    (tmp_path / "run" / "plan" / "listing.arrow").unlink()
    dp.resume(tmp_path / "run", client=client)  # an unchanged input needs no listing to compare
    (tmp_path / "run" / "plan" / "listing.arrow").unlink()
    (tmp_path / "data" / "item_099.txt").write_text("new")
    with pytest.raises(ResumeError, match=r"listing of the input it read .* cannot be read"):
        dp.resume(tmp_path / "run", client=client)
    (state / "broken").write_text("")
    fresh = dp.resume(tmp_path / "run", client=client, force=True)
    assert fresh.status == "Completed" and fresh.mini_batches_total == 9
