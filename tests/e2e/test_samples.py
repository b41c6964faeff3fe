"""Each sample of samples/ runs from its own YAML file or script, as a user would run it."""

from __future__ import annotations

import csv
import json
import subprocess

import pytest

from tests.conftest import PYTHON, REPO

pytestmark = pytest.mark.slow

SAMPLES = REPO / "samples"


@pytest.fixture
def sample_env(python_env, tmp_path):
    env = dict(python_env)
    env["DASK_DASK_PARALLEL__RUN_ROOT"] = str(tmp_path / "runs")
    env["DASK_DASK_PARALLEL__PROGRESS"] = "false"
    env["DASK_DASK_PARALLEL__REUSE_CACHE"] = str(tmp_path / "reuse")
    return env


def run_cli(*args, env, cwd):
    done = subprocess.run(
        [PYTHON, "-m", "dask_parallel", *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def run_script(name, *, env, cwd):
    done = subprocess.run([PYTHON, name], capture_output=True, text=True, env=env, cwd=cwd, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_iris_pipeline_yaml_scores_every_row_into_the_default_datastore(tmp_path, sample_env):
    folder = SAMPLES / "iris_batch_prediction"
    run_cli("validate", "pipeline.yml", env=sample_env, cwd=folder)
    done = run_cli(
        "run", "pipeline.yml", "--run-dir", str(tmp_path / "run"), "--json", env=sample_env, cwd=folder
    )
    summary = json.loads(done.stdout)
    assert summary["status"] == "Completed"
    assert done.stderr.count("note: not used on Dask") == 1  # compute, environment: named once
    assert "jobs.batch_prediction.task.environment (name prs-env" in done.stderr
    # azureml://datastores/${{default_datastore}}/paths/${{name}}/aggregated_returns.csv
    scores = tmp_path / "run" / "batch_prediction" / "outputs" / "batch_prediction" / "aggregated_returns.csv"
    rows = [line.split() for line in scores.read_text().splitlines()]
    truth = list(csv.DictReader((folder / "neural-iris-mltable" / "iris.csv").open()))
    assert len(rows) == len(truth) == 150
    correct = sum(row[-1] == expected["variety"] for row, expected in zip(rows, truth))
    assert correct / len(truth) > 0.9


def test_iris_sdk_script_runs_with_only_imports_and_submit_changed(sample_env):
    done = run_script("iris_batch_prediction.py", env=sample_env, cwd=SAMPLES / "iris_batch_prediction")
    assert "step parallel_train  Completed" in done.stdout
    assert not list((SAMPLES / "iris_batch_prediction").glob("dask-parallel-runs"))  # runs go to run-root


def test_mnist_pipeline_prepares_images_then_identifies_them(tmp_path, sample_env):
    folder = SAMPLES / "mnist_batch_identification"
    run_cli("run", "pipeline.yml", "--run-dir", str(tmp_path / "run"), env=sample_env, cwd=folder)
    step = tmp_path / "run" / "predict_digits_mnist"
    lines = (step / "outputs" / "predict_digits_mnist" / "aggregated_returns.csv").read_text().splitlines()
    assert len(lines) == 40
    # prepare_data names each image <index>_<label>.png
    correct = sum(
        name.split("_")[1].split(".")[0] == digit.strip() for name, digit in (x.split(":") for x in lines)
    )
    assert correct / len(lines) >= 0.8


def test_pipeline_with_parallel_nodes_script(sample_env):
    done = run_script(
        "pipeline_with_parallel_nodes.py", env=sample_env, cwd=SAMPLES / "pipeline_with_parallel_nodes"
    )
    for step in (
        "prepare_file_tabular_data",
        "batch_inference_with_file_data",
        "batch_inference_with_tabular_data",
    ):
        assert f"step {step}" in done.stdout
    assert "status                                  Completed" in done.stdout


def test_oj_sales_partition_keys_train_one_model_per_store_and_brand(tmp_path, sample_env):
    folder = SAMPLES / "oj_sales_prediction"
    run_cli(
        "run",
        "pipeline.yml",
        "--run-dir",
        str(tmp_path / "run"),
        "--set",
        "jobs.parallel_train.resources.instance_count=1",
        env=sample_env,
        cwd=folder,
    )
    outputs = tmp_path / "run" / "parallel_train" / "outputs"
    models = sorted(p.relative_to(outputs / "model_folder").parts[:2] for p in outputs.rglob("model.json"))
    stores, brands = ("1001", "1002", "1003"), ("dominicks", "minute_maid", "tropicana")
    assert models == [(s, b) for s in stores for b in brands]
    mape = (outputs / "parallel_train" / "mape.csv").read_text().splitlines()
    assert len(mape) == 9
    assert all(0 < float(line.split()[-1]) < 50 for line in mape)


def test_v1_parallel_run_step_with_a_dataset_pipeline_parameter(sample_env):
    folder = SAMPLES / "v1_parallel_run_step"
    done = run_script("file_dataset_image_inference_mnist.py", env=sample_env, cwd=folder)
    assert "Prediction has  20  rows" in done.stdout
    assert "Second run prediction has  1  rows" in done.stdout  # mnist_param overridden by one image
    assert done.stdout.count("PipelineRun Status: Finished") == 2


def test_oj_sales_sdk_script_trains_one_model_per_partition(sample_env, tmp_path):
    done = run_script("oj_sales_prediction.py", env=sample_env, cwd=SAMPLES / "oj_sales_prediction")
    assert "step parallel_train  Completed" in done.stdout
    # azureml://datastores/workspaceblobstore/paths/${name}/my_append_output.csv: the default datastore
    (perf,) = (tmp_path / "runs").rglob("my_append_output.csv")
    assert perf.parent.name == "parallel_train"
    assert len(perf.read_text().splitlines()) == 9
