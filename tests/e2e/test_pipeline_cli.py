"""The migration article's pipeline from YAML through ``dask-parallel`` in a subprocess; upgrade."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
import yaml

from tests.conftest import PYTHON, REPO, make_files, write_script

pytestmark = pytest.mark.slow


def cli(*args, env, cwd):
    return subprocess.run(
        [PYTHON, "-m", "dask_parallel", *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=240
    )


def test_pipeline_yaml_runs_through_the_cli(tmp_path, python_env):
    folder = tmp_path / "example"
    shutil.copytree(
        REPO / "conf" / "examples" / "pipeline", folder, ignore=shutil.ignore_patterns("dask-parallel-*")
    )
    checked = cli("validate", "pipeline.yml", env=python_env, cwd=folder)
    assert checked.returncode == 0, checked.stderr
    assert "steps in order: prepare_file_tabular_data, batch_inference_with_file_data" in checked.stdout
    done = cli(
        "run", "pipeline.yml", "--run-dir", str(tmp_path / "run"), "--json", env=python_env, cwd=folder
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["status"] == "Completed"
    assert set(summary["steps"]) == {
        "prepare_file_tabular_data",
        "batch_inference_with_file_data",
        "batch_inference_with_tabular_data",
    }
    scored = (tmp_path / "run" / "batch_inference_with_tabular_data" / "outputs").rglob("*.txt")
    assert sum(len(p.read_text().splitlines()) for p in scored) == 40


def test_bad_pipeline_file_exits_2_with_the_line(tmp_path, python_env):
    (tmp_path / "p.yml").write_text(
        "type: pipeline\njobs:\n  a:\n    type: command\n    command: echo\n    foo: 1\n"
    )
    done = cli("run", "p.yml", env=python_env, cwd=tmp_path)
    assert done.returncode == 2
    assert "p.yml, line 6: unknown key jobs.a.'foo'" in " ".join(done.stderr.split())


def test_upgrade_writes_a_runnable_v2_job(tmp_path, python_env):
    from dask_parallel.v1 import Environment, ParallelRunConfig

    write_script(tmp_path / "src", "def run(mb):\n    return [1] * len(mb)\n")
    make_files(tmp_path / "data", 5)
    ParallelRunConfig(
        environment=Environment("env"),
        entry_script="score.py",
        error_threshold=-1,
        output_action="append_row",
        compute_target="cpu",
        node_count=1,
        process_count_per_node=1,
        mini_batch_size="2",
        source_directory="src",
        allowed_failed_count=3,
    ).save_to_yaml(tmp_path / "prs.yml")
    done = cli(
        "upgrade",
        "prs.yml",
        "--input-data",
        "data",
        "--output",
        "out",
        "-o",
        "job.yml",
        env=python_env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    job = yaml.safe_load((tmp_path / "job.yml").read_text())
    assert job["mini_batch_error_threshold"] == 3 and job["task"]["append_row_to"] == "${{outputs.output}}"
    ran = cli("run", "job.yml", "--run-dir", str(tmp_path / "run"), env=python_env, cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert (tmp_path / "out" / "parallel_run_step.txt").read_text() == "1\n" * 5
