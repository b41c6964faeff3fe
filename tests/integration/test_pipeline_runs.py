"""Pipelines on a LocalCluster: the migration article's samples, failures, reuse, bindings."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import dask.config
import pytest

import dask_parallel as dp
from tests.conftest import REPO, make_files, write_script

pytestmark = pytest.mark.slow
EXAMPLE = REPO / "conf" / "examples" / "pipeline"


@pytest.fixture
def example(tmp_path, monkeypatch):
    folder = tmp_path / "example"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("dask-parallel-runs", "__pycache__"))
    monkeypatch.chdir(folder)
    with dask.config.set({"dask-parallel.run-root": str(tmp_path / "runs")}):
        yield folder


def test_article_v2_pipeline_sample(example, client, tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("pipeline_job", example / "pipeline_job.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    job = module.pipeline_job
    assert job.settings.default_compute == "cpu-cluster"
    result = dp.run(job, client=client, run_dir=tmp_path / "run")
    assert result.status == "Completed", result.error
    assert set(result.steps) == {
        "prepare_file_tabular_data",
        "batch_inference_with_file_data",
        "batch_inference_with_tabular_data",
    }
    assert sorted(os.listdir(tmp_path / "run")) == sorted(
        [*result.steps, "pipeline.json", "pipeline_job.pkl"]
    )
    written = sorted(os.listdir(result.outputs["pipeline_job_out_file"]))
    # An mltable output also gets an MLTable file describing what was written.
    assert written == ["MLTable", *(f"iris_{k}.csv" for k in range(4))]
    from dask_parallel import mltable

    assert sorted(
        os.path.basename(p) for p in mltable.load(result.outputs["pipeline_job_out_file"]).files()
    ) == [f"iris_{k}.csv" for k in range(4)]
    rows = Path(result.outputs["pipeline_job_out_tabular"]).read_text().splitlines()
    assert len(rows) == 40 and rows[0].endswith("setosa")
    status = json.loads((tmp_path / "run" / "pipeline.json").read_text())
    assert status["status"] == "Completed"
    assert {s["status"] for s in status["steps"].values()} == {"Completed"}


def test_article_v1_sample(tmp_path, client):
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

    make_files(tmp_path / "mnist", 7)
    scripts_folder = str(
        write_script(tmp_path / "scripts", "def run(mb):\n    return [len(mb)] * len(mb)\n").parent
    )
    script_file = "score.py"
    batch_env = Environment("batch")
    compute_target = "cpu-cluster"
    ws = object()
    input_mnist_ds_consumption = (
        Dataset.File.from_files(str(tmp_path / "mnist")).as_named_input("mnist").as_mount()
    )
    output_dir = OutputFileDatasetConfig(name="inferences")

    parallel_run_config = ParallelRunConfig(
        source_directory=scripts_folder,
        entry_script=script_file,
        mini_batch_size=PipelineParameter(name="batch_size_param", default_value="5"),
        error_threshold=10,
        output_action="append_row",
        append_row_file_name="mnist_outputs.txt",
        environment=batch_env,
        compute_target=compute_target,
        process_count_per_node=PipelineParameter(name="process_count_param", default_value=2),
        node_count=2,
    )
    parallelrun_step = ParallelRunStep(
        name="predict-digits-mnist",
        parallel_run_config=parallel_run_config,
        inputs=[input_mnist_ds_consumption],
        output=output_dir,
        allow_reuse=False,
    )
    pipeline = Pipeline(workspace=ws, steps=[parallelrun_step])
    experiment = Experiment(ws, "digit_identification")
    pipeline_run = experiment.submit(
        pipeline, pipeline_parameters={"batch_size_param": "3"}, client=client, run_dir=tmp_path / "run"
    )
    assert pipeline_run.wait_for_completion(show_output=True) == "Finished"
    step_run = pipeline_run.find_step_run("predict-digits-mnist")[0]
    local = step_run.get_output_data("inferences").download(str(tmp_path / "local"))
    # batch_size_param=3 over 7 files: mini-batches of 3, 3 and 1
    assert Path(local, "mnist_outputs.txt").read_text() == "3\n3\n3\n3\n3\n3\n1\n"


FAIL_SCRIPT = "def run(mb):\n    raise RuntimeError('boom')\n"


def _steps(tmp_path, *, fail_first: bool):
    make_files(tmp_path / "data", 4)
    write_script(tmp_path / "src", "def run(mb):\n    return [open(p).read().strip() for p in mb]\n")
    write_script(tmp_path / "src", FAIL_SCRIPT, name="fail.py")
    (tmp_path / "src" / "copy.py").write_text(
        "import shutil, sys\nshutil.copytree(sys.argv[1], sys.argv[2], dirs_exist_ok=True)\n"
        "open(sys.argv[3], 'a').write('ran\\n')\n"
    )
    copy = dp.command(
        name="copy",
        inputs={"src": dp.Input(type="uri_folder"), "log": dp.Input(type="string")},
        outputs={"dst": dp.Output(type="uri_folder")},
        code=str(tmp_path / "src"),
        command="python copy.py ${{inputs.src}} ${{outputs.dst}} ${{inputs.log}}",
    )
    score = dp.parallel_run_function(
        name="score",
        inputs={"data": dp.Input(type="uri_folder")},
        outputs={"out": dp.Output(type="uri_file")},
        input_data="${{inputs.data}}",
        mini_batch_size="1",
        retry_settings={"max_retries": 1},
        task=dp.RunFunction(
            code=str(tmp_path / "src"),
            entry_script="fail.py" if fail_first else "score.py",
            append_row_to="${{outputs.out}}",
        ),
    )
    return copy, score


def test_failed_step_stops_its_dependents(tmp_path, client):
    copy, score = _steps(tmp_path, fail_first=True)

    @dp.pipeline(continue_on_step_failure=True)
    def p(raw, log):
        scored = score(data=raw)
        after = copy(src=scored.outputs.out, log=log)
        after.inputs.src.type = "uri_file"
        independent = copy(src=raw, log=log)
        return {"copied": independent.outputs.dst}

    log = tmp_path / "log.txt"
    job = p(raw=dp.Input(type="uri_folder", path=str(tmp_path / "data")), log=str(log))
    result = dp.run(job, client=client, run_dir=tmp_path / "run")
    assert result.status == "Failed"
    assert result.steps["scored"].status == "Failed"
    assert result.steps["after"].status == "NotStarted"
    assert "step 'scored', which it depends on, did not complete" in result.steps["after"].error
    assert result.steps["independent"].status == "Completed"
    assert result.error.startswith("step 'scored' failed: ")
    assert log.read_text() == "ran\n"
    assert "copied" in result.outputs


def test_unchanged_steps_are_reused_and_force_rerun_runs_them(tmp_path, client):
    copy, score = _steps(tmp_path, fail_first=False)

    @dp.pipeline()
    def p(raw, log, mbs):
        copied = copy(src=raw, log=log)
        scored = score(data=copied.outputs.dst)
        scored.mini_batch_size = mbs
        scored.retry_settings.timeout = "${{parent.inputs.mbs}}"
        return {"scores": scored.outputs.out}

    log = tmp_path / "log.txt"
    raw = dp.Input(type="uri_folder", path=str(tmp_path / "data"))
    first = dp.run(p(raw=raw, log=str(log), mbs=2), client=client, run_dir=tmp_path / "runs" / "one")
    assert first.status == "Completed", first.error
    assert first.steps["scored"].mini_batches_total == 2  # mini_batch_size bound to the pipeline input
    again = dp.run(p(raw=raw, log=str(log), mbs=2), client=client, run_dir=tmp_path / "runs" / "two")
    assert again.status == "Completed" and again.reused
    assert [s.reused for s in again.steps.values()] == [True, True]
    scores = Path(again.outputs["scores"]).read_text()
    assert scores == Path(first.outputs["scores"]).read_text() == "0\n1\n2\n3\n"
    changed = dp.run(p(raw=raw, log=str(log), mbs=1), client=client, run_dir=tmp_path / "runs" / "three")
    assert changed.steps["copied"].reused and not changed.steps["scored"].reused
    assert changed.steps["scored"].mini_batches_total == 4
    job = p(raw=raw, log=str(log), mbs=1)
    job.settings.force_rerun = True
    forced = dp.run(job, client=client, run_dir=tmp_path / "runs" / "four")
    assert not any(s.reused for s in forced.steps.values())
    assert log.read_text() == "ran\nran\n"
    # The copy step's record now points at the forced run; an output edited since runs it again.
    with open(Path(forced.steps["copied"].outputs["dst"]) / "item_000.txt", "a") as handle:
        handle.write("edited by hand\n")
    edited = dp.run(p(raw=raw, log=str(log), mbs=1), client=client, run_dir=tmp_path / "runs" / "five")
    assert edited.status == "Completed" and not edited.steps["copied"].reused
    assert log.read_text() == "ran\nran\nran\n"


def test_tabular_mltable_needs_direct_mode(tmp_path, client):
    table = tmp_path / "table"
    table.mkdir()
    (table / "t.csv").write_text("a,b\n1,2\n")
    (table / "MLTable").write_text(
        "type: mltable\npaths:\n  - file: ./t.csv\n"
        "transformations:\n  - read_delimited:\n      delimiter: ','\n"
    )
    write_script(tmp_path / "src", "def run(df):\n    return df\n")
    job = dp.parallel_run_function(
        inputs={"t": dp.Input(type="mltable", path=str(table), mode="ro_mount")},
        input_data="${{inputs.t}}",
        task=dp.RunFunction(code=str(tmp_path / "src"), entry_script="score.py"),
    )
    with pytest.raises(
        dp.JobValidationError, match="To use mltable tabular data, it is required to use 'direct' mode"
    ):
        dp.run(job, client=client, run_dir=tmp_path / "run")
