"""v1 partitioned datasets run with partition_keys: one mini-batch per key value."""

from __future__ import annotations

import pytest

from dask_parallel.v1 import (
    Dataset,
    Environment,
    Experiment,
    OutputFileDatasetConfig,
    ParallelRunConfig,
    ParallelRunStep,
    Pipeline,
)
from tests.conftest import write_script

pytestmark = pytest.mark.slow

SCRIPT = """
def run(mini_batch, mini_batch_context):
    keys = mini_batch_context.partition_key_value
    # one row per input row: the store (from the folder name), the partition's size, the qty
    return [f"{keys['store']} {len(mini_batch)} {qty}" for qty in mini_batch["qty"]]
"""


def test_partition_by_then_partition_keys_gives_one_mini_batch_per_store(tmp_path, client):
    (tmp_path / "sales.csv").write_text("store,qty\n1,3\n2,4\n1,5\n3,1\n")
    write_script(tmp_path / "src", SCRIPT)
    sales = Dataset.Tabular.from_delimited_files(path=str(tmp_path / "sales.csv"))
    parted = sales.partition_by(partition_keys=["store"], target=str(tmp_path / "parted"))
    config = ParallelRunConfig(
        environment=Environment("env"),
        entry_script="score.py",
        source_directory=str(tmp_path / "src"),
        error_threshold=0,
        output_action="append_row",
        compute_target="cpu-cluster",
        node_count=1,
        partition_keys=["store"],
    )
    output = OutputFileDatasetConfig(name="totals", destination=str(tmp_path / "out"))
    step = ParallelRunStep(
        name="per-store", parallel_run_config=config, inputs=[parted.as_named_input("sales")], output=output
    )
    run = Experiment("sales").submit(Pipeline(steps=[step]), client=client, run_dir=tmp_path / "run")
    assert run.wait_for_completion(show_output=False) == "Finished"
    rows = sorted((tmp_path / "out" / "parallel_run_step.txt").read_text().splitlines())
    assert rows == ["1 2 3", "1 2 5", "2 1 4", "3 1 1"]
