"""validate catches what run would refuse; an unguarded top-level run() fails fast."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

PARTITIONED_FILES = """type: mltable
paths:
  - pattern: ./**/*.txt
transformations:
  - extract_columns_from_partition_format:
      partition_format: "{store}/{file_name}.txt"
"""

JOB = """
type: parallel
inputs:
  data: {{type: mltable, path: ./table, mode: {mode}}}
input_data: ${{{{inputs.data}}}}
partition_keys: [store]
task:
  type: run_function
  code: ./src
  entry_script: score.py
  program_arguments: --model x --resource_monitor_interva 20
"""


def project(tmp_path, mode):
    (tmp_path / "src").mkdir(exist_ok=True)
    (tmp_path / "src" / "score.py").write_text("def run(mini_batch):\n    return mini_batch\n")
    for store in ("a", "b"):
        (tmp_path / "table" / store).mkdir(parents=True, exist_ok=True)
        (tmp_path / "table" / store / "x.txt").write_text(store)
    (tmp_path / "table" / "MLTable").write_text(PARTITIONED_FILES)
    (tmp_path / "job.yml").write_text(JOB.format(mode=mode))


def cli(args, cwd, env):
    return subprocess.run(
        [sys.executable, "-m", "dask_parallel", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_validate_refuses_partition_keys_on_an_eval_mount_mltable(tmp_path, python_env):
    project(tmp_path, "eval_mount")
    done = cli(["validate", "job.yml"], tmp_path, python_env)
    assert done.returncode == 2, done.stdout
    assert "partition_keys require the input in 'direct' mode" in done.stderr


def test_validate_warns_about_a_misspelled_driver_option(tmp_path, python_env):
    project(tmp_path, "direct")
    done = cli(["validate", "job.yml"], tmp_path, python_env)
    assert done.returncode == 0, done.stderr
    assert "valid." in done.stdout
    assert "warning: program_arguments: '--resource_monitor_interva' is not a driver option" in done.stderr


def test_unguarded_top_level_run_fails_fast_naming_the_fix(tmp_path, python_env):
    project(tmp_path, "direct")
    (tmp_path / "driver.py").write_text(
        "import dask_parallel as dp\njob = dp.load_job('job.yml')\nresult = dp.run(job)\n"
    )
    done = subprocess.run(
        [sys.executable, "driver.py"],
        cwd=tmp_path,
        env=python_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert 'driver.py line 3 without if __name__ == "__main__":' in done.stderr
