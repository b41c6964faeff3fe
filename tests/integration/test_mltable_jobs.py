"""MLTable inputs end to end: partition keys reach run() through mini_batch_context."""

from __future__ import annotations

import pytest

import dask_parallel as dp
from dask_parallel.errors import MLTableError
from tests.conftest import write_script

pytestmark = pytest.mark.slow

SCRIPT = """
import os

def run(mini_batch, context):
    key = context.partition_key_value
    return [f"{key['user']}/{key['season']} {os.path.basename(p)}" for p in mini_batch]
"""


def audio_table(tmp_path):
    folder = tmp_path / "audio"
    for user, season, n in [
        ("ann", "summer", 1),
        ("ann", "winter", 2),
        ("ann", "winter", 3),
        ("bob", "winter", 4),
    ]:
        (folder / user / season).mkdir(parents=True, exist_ok=True)
        (folder / user / season / f"{n}.wav").write_text("x")
    (folder / "MLTable").write_text(
        "paths: [{pattern: ./**/*.wav}]\ntransformations:\n"
        "  - extract_columns_from_partition_format: {partition_format: '{user}/{season}/{n}.wav'}\n"
    )
    return folder


def job(tmp_path, keys):
    write_script(tmp_path / "src", SCRIPT)
    return dp.parallel_run_function(
        name="keyed",
        inputs={"audio": dp.Input(type="mltable", path=str(audio_table(tmp_path)))},
        outputs={"out": dp.Output(type="uri_file", path=str(tmp_path / "out.txt"))},
        input_data="${{inputs.audio}}",
        mini_batch_size="1",
        partition_keys=keys,
        task=dp.RunFunction(
            code=str(tmp_path / "src"), entry_script="score.py", append_row_to="${{outputs.out}}"
        ),
    )


def test_file_partitions_one_mini_batch_per_key_combination(tmp_path, client):
    result = dp.run(job(tmp_path, ["user", "season"]), client=client, run_dir=tmp_path / "run")
    assert result.status == "Completed", result.error
    assert result.mini_batches_total == 3  # mini_batch_size is overridden by partition_keys
    assert (tmp_path / "out.txt").read_text().splitlines() == [
        "ann/summer 1.wav",
        "ann/winter 2.wav",
        "ann/winter 3.wav",
        "bob/winter 4.wav",
    ]


def test_invalid_partition_key_is_rejected_before_running(tmp_path, client):
    with pytest.raises(MLTableError, match=r"inputs\.audio: .*\['genre'\] are invalid partition keys"):
        dp.run(job(tmp_path, ["genre"]), client=client, run_dir=tmp_path / "run")
