"""File-input jobs on a real LocalCluster with worker processes."""

from __future__ import annotations

import csv
import os
from collections import Counter

import pytest

import dask_parallel as dp
from tests.conftest import file_job

pytestmark = pytest.mark.slow

RECORDING_SCRIPT = """
import os

log = None

def init():
    global log
    log = os.environ["RECORD_DIR"]
    with open(os.path.join(log, "init.txt"), "a") as f:
        f.write(f"{os.getpid()}\\n")

def run(mini_batch):
    out = []
    with open(os.path.join(log, "items.txt"), "a") as f:
        for path in mini_batch:
            f.write(os.path.basename(path) + "\\n")
            out.append(f"{os.path.basename(path)}: {open(path).read().strip()}")
    return out
"""


def test_append_row_file_every_item_exactly_once(tmp_path, client):
    record = tmp_path / "record"
    record.mkdir()
    job = file_job(tmp_path, RECORDING_SCRIPT, files=23, environment_variables={"RECORD_DIR": str(record)})
    result = dp.run(job, client=client, run_dir=tmp_path / "run")

    assert result.status == "Completed", result.error
    assert (result.mini_batches_total, result.mini_batches_succeeded) == (5, 5)
    assert (result.items_total, result.items_succeeded, result.items_failed) == (23, 23, 0)
    # Byte for byte: one str() line per returned element, in mini-batch order.
    expected = "".join(f"item_{i:03d}.txt: {i}\n" for i in range(23))
    assert (tmp_path / "out" / "result.txt").read_text() == expected
    assert result.outputs["result"] == str(tmp_path / "out" / "result.txt")
    # Every input processed exactly once.
    items = Counter((record / "items.txt").read_text().split())
    assert set(items) == {f"item_{i:03d}.txt" for i in range(23)}
    assert set(items.values()) == {1}
    # init() ran once per worker process, and only in worker processes that got work.
    pids = (record / "init.txt").read_text().split()
    assert len(pids) == len(set(pids)) <= 2
    # No temporary file beside the output.
    assert os.listdir(tmp_path / "out") == ["result.txt"]


def test_folder_output_gets_parallel_run_step_txt(tmp_path, client):
    job = file_job(tmp_path, "def run(mb):\n    return [1] * len(mb)\n", files=4, output_type="uri_folder")
    result = dp.run(job, client=client, run_dir=tmp_path / "run")
    assert result.status == "Completed"
    assert (tmp_path / "out" / "folder" / "parallel_run_step.txt").read_text() == "1\n" * 4


def test_append_row_file_name_option(tmp_path, client):
    job = file_job(
        tmp_path,
        "def run(mb):\n    return ['x'] * len(mb)\n",
        files=3,
        output_type="uri_folder",
        program_arguments="--append_row_file_name Results.TXT",
    )
    result = dp.run(job, client=client, run_dir=tmp_path / "run")
    assert result.status == "Completed"
    assert (tmp_path / "out" / "folder" / "results.txt").read_text() == "x\n" * 3


def test_output_without_path_goes_under_the_run_dir(tmp_path, client):
    job = file_job(tmp_path, "def run(mb):\n    return mb\n", files=2)
    job.outputs["result"] = dp.Output(type="uri_file")
    result = dp.run(job, client=client, run_dir=tmp_path / "run")
    assert result.outputs["result"] == str(tmp_path / "run" / "outputs" / "result.txt")
    assert len((tmp_path / "run" / "outputs" / "result.txt").read_text().splitlines()) == 2


def test_summary_only_with_program_arguments_and_context(tmp_path, client):
    script = """
    import argparse, os

    out = None

    def init():
        global out
        parser = argparse.ArgumentParser(allow_abbrev=False)
        parser.add_argument("--job_output_path")
        parser.add_argument("--label")
        args, _ = parser.parse_known_args()
        out = args.job_output_path
        assert args.label == "seven"

    def run(mini_batch, mini_batch_context):
        for path in mini_batch:
            name = os.path.basename(path)
            with open(os.path.join(out, name), "w") as f:
                f.write(f"{mini_batch_context.minibatch_index} {path}")
        return mini_batch
    """
    data = tmp_path / "data"
    job = dp.parallel_run_function(
        name="passthrough",
        inputs={"data": dp.Input(type="uri_folder"), "label": dp.Input(type="string")},
        outputs={"job_output_path": dp.Output(type="uri_folder", path=str(tmp_path / "written"))},
        input_data="${{inputs.data}}",
        mini_batch_size="1",
        mini_batch_error_threshold=1,
        task=dp.RunFunction(
            code=str(tmp_path / "src"),
            entry_script="score.py",
            program_arguments="--job_output_path ${{outputs.job_output_path}} --label ${{inputs.label}}",
        ),
    )
    from tests.conftest import make_files, write_script

    make_files(data, 4)
    write_script(tmp_path / "src", script)
    bound = job(data=dp.Input(type="uri_folder", path=str(data)), label="seven")
    result = dp.run(bound, client=client, run_dir=tmp_path / "run")
    assert result.status == "Completed", result.error
    written = sorted(os.listdir(tmp_path / "written"))
    assert written == [f"item_{i:03d}.txt" for i in range(4)]
    indexes = sorted(int((tmp_path / "written" / n).read_text().split()[0]) for n in written)
    assert indexes == [0, 1, 2, 3]
    assert not (tmp_path / "written" / "parallel_run_step.txt").exists()


def test_uri_file_input(tmp_path, client):
    single = tmp_path / "one.txt"
    single.write_text("hello")
    from tests.conftest import write_script

    write_script(tmp_path / "src", "def run(mb):\n    return [open(p).read() for p in mb]\n")
    job = dp.parallel_run_function(
        inputs={"f": dp.Input(type="uri_file", path=str(single))},
        outputs={"o": dp.Output(type="uri_file", path=str(tmp_path / "o.txt"))},
        input_data="${{inputs.f}}",
        task=dp.RunFunction(
            code=str(tmp_path / "src"), entry_script="score.py", append_row_to="${{outputs.o}}"
        ),
    )
    result = dp.run(job, client=client, run_dir=tmp_path / "run")
    assert result.status == "Completed"
    assert (tmp_path / "o.txt").read_text() == "hello\n"


def test_logs_layout_and_report(tmp_path, client):
    script = """
    import logging
    from azureml_user.parallel_run import EntryScript

    def init():
        EntryScript().logger.info("hello from init")

    def run(mb):
        print("printed", len(mb))
        logging.getLogger("user").info("root logger line")
        EntryScript().logger.info("scored %d", len(mb))
        assert EntryScript().agent_name.startswith("process")
        return mb
    """
    job = file_job(tmp_path, script, files=6, mini_batch_size="2")
    result = dp.run(job, client=client, run_dir=tmp_path / "run")
    assert result.status == "Completed"
    logs = tmp_path / "run" / "logs"
    for name in ("readme.txt", "job_result.txt", "job_error.txt", "sys/master_role.txt"):
        assert (logs / name).is_file(), name
    assert list(logs.glob("job_progress_overview.*.txt"))
    assert (logs / "job_result.txt").read_text().startswith("Completed\n")
    with open(logs / "sys" / "job_report" / "processed_mini-batches.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3
    assert {r["result"] for r in rows} == {"succeeded"}
    assert sorted(int(r["mini_batch_index"]) for r in rows) == [0, 1, 2]
    assert all(r["process_name"].startswith("process") and r["total_items"] == "2" for r in rows)
    stdout = "".join(p.read_text() for p in (logs / "user" / "stdout").rglob("*.stdout.txt"))
    assert stdout.count("printed 2") == 3
    assert "root logger line" in stdout
    entry = "".join(p.read_text() for p in (logs / "user" / "entry_script_log").rglob("*.log.txt"))
    assert "hello from init" in entry and entry.count("scored 2") == 3
    node_logs = list((logs / "sys" / "node").rglob("process*.txt"))
    assert node_logs and "picked" in node_logs[0].read_text()


def test_dataframe_results_from_file_input(tmp_path, client):
    script = """
    import os
    import pandas as pd

    def run(mb):
        return pd.DataFrame({"name": [os.path.basename(p) for p in mb], "n": [len(p) > 0 for p in mb]})
    """
    job = file_job(tmp_path, script, files=3, mini_batch_size="2")
    result = dp.run(job, client=client, run_dir=tmp_path / "run")
    assert result.status == "Completed"
    assert (tmp_path / "out" / "result.txt").read_text() == (
        "item_000.txt True\nitem_001.txt True\nitem_002.txt True\n"
    )


def test_working_directory_is_private_per_process(tmp_path, client):
    script = """
    import os

    def run(mb):
        return [os.getcwd()] * len(mb)
    """
    job = file_job(tmp_path, script, files=6, mini_batch_size="1")
    result = dp.run(job, client=client, run_dir=tmp_path / "run")
    assert result.status == "Completed"
    cwds = set((tmp_path / "out" / "result.txt").read_text().split())
    assert all(c.startswith(str(tmp_path / "run" / "work")) for c in cwds)


def test_two_jobs_side_by_side_on_one_cluster_keep_their_settings(tmp_path, client):
    """Jobs sharing worker processes each see their own argv and environment variables."""
    from concurrent.futures import ThreadPoolExecutor

    script = """
    import argparse, os, time

    def init():
        global label
        parser = argparse.ArgumentParser(allow_abbrev=False)
        parser.add_argument("--label")
        label = parser.parse_known_args()[0].label

    def run(mb):
        time.sleep(0.02)
        parser = argparse.ArgumentParser(allow_abbrev=False)
        parser.add_argument("--label")
        now = parser.parse_known_args()[0].label
        return [f"{label} {now} {os.environ['JOB_LABEL']}" for _ in mb]
    """
    jobs = []
    for name in ("alpha", "beta"):
        folder = tmp_path / name
        job = file_job(
            folder,
            script,
            files=12,
            mini_batch_size="1",
            program_arguments=f"--label {name}",
            environment_variables={"JOB_LABEL": name},
        )
        jobs.append((name, folder, job))
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda item: dp.run(item[2], client=client, run_dir=item[1] / "run"), jobs))
    for (name, folder, _), result in zip(jobs, results):
        assert result.status == "Completed", result.error
        assert (folder / "out" / "result.txt").read_text() == f"{name} {name} {name}\n" * 12


def test_mini_batches_as_a_dask_bag(tmp_path):
    job = file_job(tmp_path, "def run(mb):\n    return mb\n", files=7, mini_batch_size="3")
    bag = dp.mini_batches(job)
    assert bag.npartitions == 3
    assert len(bag.dask.layers) == 1
    partitions = bag.map_partitions(lambda files: [[os.path.basename(f) for f in files]]).compute(
        scheduler="sync"
    )
    assert partitions == [[f"item_{i:03d}.txt" for i in range(s, min(s + 3, 7))] for s in (0, 3, 6)]
