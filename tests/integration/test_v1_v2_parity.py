"""Every row of the v1 -> v2 mapping table: a v1 step and its ``to_v2()`` job give the same result."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import dask_parallel as dp
from dask_parallel.v1 import (
    Dataset,
    Environment,
    Experiment,
    OutputFileDatasetConfig,
    ParallelRunConfig,
    ParallelRunStep,
    Pipeline,
    PipelineParameter,
)
from tests.conftest import make_files, write_script

pytestmark = pytest.mark.slow

SCRIPT = """
import argparse, os

args = None

def init():
    global args
    parser = argparse.ArgumentParser(allow_abbrev=False)
    parser.add_argument("--label", default="none")
    parser.add_argument("--side", default=None)
    args, _ = parser.parse_known_args()

def run(mini_batch):
    if os.environ.get("FAIL_ITEM") and any(os.environ["FAIL_ITEM"] in p for p in mini_batch):
        raise RuntimeError("scripted failure")
    side = "-"
    if args.side:
        side = open(os.path.join(args.side, sorted(os.listdir(args.side))[0])).read().strip()
    extra = os.environ.get("EXTRA", "-")
    return [f"{os.path.basename(p)} {len(mini_batch)} {args.label} {extra} {side}" for p in mini_batch]
"""

# (row of the mapping table, ParallelRunConfig changes, ParallelRunStep changes)
ROWS = [
    ("environment/entry_script/source_directory", {}, {}),
    ("error_threshold", {"error_threshold": 0, "environment_variables": {"FAIL_ITEM": "item_004"}}, {}),
    (
        "allowed_failed_count",
        {"allowed_failed_count": 0, "environment_variables": {"FAIL_ITEM": "item_004"}},
        {},
    ),
    (
        "allowed_failed_percent",
        {
            "allowed_failed_percent": 10,
            "mini_batch_size": "1",
            "environment_variables": {"FAIL_ITEM": "item_004"},
        },
        {},
    ),
    ("output_action", {"output_action": "summary_only"}, {}),
    ("append_row_file_name", {"append_row_file_name": "scores.txt"}, {}),
    ("node_count", {"node_count": 2}, {}),
    ("process_count_per_node", {"process_count_per_node": 1}, {}),
    ("mini_batch_size", {"mini_batch_size": "3"}, {}),
    ("mini_batch_size (PipelineParameter)", {"mini_batch_size": PipelineParameter("mbs", "4")}, {}),
    ("description", {"description": "scores"}, {}),
    ("logging_level", {"logging_level": "DEBUG"}, {}),
    ("run_invocation_timeout", {"run_invocation_timeout": 5}, {}),
    ("run_max_try", {"run_max_try": 1, "environment_variables": {"FAIL_ITEM": "item_001"}}, {}),
    ("environment_variables", {"environment_variables": {"EXTRA": "yes"}}, {}),
    ("name", {}, {"name": "other-name"}),
    ("arguments", {}, {"arguments": ["--label", "seven"]}),
    ("side_inputs", {}, {"side_inputs": "side"}),
    ("allow_reuse", {}, {"allow_reuse": False}),
]


@pytest.mark.parametrize(("row", "config_changes", "step_changes"), ROWS, ids=[r[0] for r in ROWS])
def test_v1_step_and_its_v2_job_agree(tmp_path, client, row, config_changes, step_changes):
    make_files(tmp_path / "data", 6)
    write_script(tmp_path / "src", SCRIPT)
    settings = dict(
        environment=Environment("batch"),
        entry_script="score.py",
        source_directory=str(tmp_path / "src"),
        error_threshold=-1,
        output_action="append_row",
        compute_target="cpu-cluster",
        node_count=1,
        mini_batch_size="2",
        run_max_try=2,
    )
    settings.update(config_changes)
    config = ParallelRunConfig(**settings)
    files = Dataset.File.from_files(str(tmp_path / "data")).as_named_input("files")
    step_settings = dict(name="score-files", inputs=[files], output=OutputFileDatasetConfig(name="scores"))
    step_settings.update(step_changes)
    if step_settings.get("side_inputs") == "side":
        make_files(tmp_path / "side", 1, prefix="side")
        side = Dataset.File.from_files(str(tmp_path / "side")).as_named_input("reference").as_mount()
        step_settings["side_inputs"] = [side]
        step_settings["arguments"] = ["--side", side]
    step = ParallelRunStep(parallel_run_config=config, **step_settings)

    # Both run for real: no reuse of one by the other (regenerate_outputs is v1's force_rerun).
    v1_run = Experiment("parity").submit(
        Pipeline(steps=[step]), regenerate_outputs=True, client=client, run_dir=tmp_path / "v1"
    )
    v1 = v1_run.result.steps[step.name]
    job = step.to_v2()
    job.is_deterministic = False
    v2 = dp.run(job, client=client, run_dir=tmp_path / "v2")
    assert not v1.reused and not v2.reused

    assert v1.status == v2.status
    assert (v1.mini_batches_total, v1.mini_batches_failed) == (v2.mini_batches_total, v2.mini_batches_failed)
    assert (v1.items_succeeded, v1.items_failed) == (v2.items_succeeded, v2.items_failed)
    # A job that did not complete reports no outputs (its files are not a complete result).
    expected = {"scores"} if v1.status == "Completed" else set()
    assert v1.outputs.keys() == v2.outputs.keys() == expected
    if not expected:
        return
    v1_files = sorted(os.listdir(v1.outputs["scores"]))
    assert v1_files == sorted(os.listdir(v2.outputs["scores"]))
    for name in v1_files:
        assert Path(v1.outputs["scores"], name).read_text() == Path(v2.outputs["scores"], name).read_text()
    if config.output_action == "append_row" and v1.status == "Completed":
        assert v1_files == [config.append_row_file_name or "parallel_run_step.txt"]
