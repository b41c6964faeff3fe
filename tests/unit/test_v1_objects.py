"""SDK v1 objects that the official ParallelRunStep notebooks use."""

from __future__ import annotations

import pytest

from dask_parallel.errors import JobValidationError
from dask_parallel.v1 import (
    DEFAULT_CPU_IMAGE,
    CondaDependencies,
    Dataset,
    DatasetConsumptionConfig,
    Environment,
    OutputFileDatasetConfig,
    ParallelRunConfig,
    ParallelRunStep,
    Pipeline,
    PipelineParameter,
)


def config(**settings):
    values = dict(
        environment=Environment("env"),
        entry_script="score.py",
        error_threshold=10,
        output_action="append_row",
        compute_target="cpu-cluster",
        node_count=1,
        mini_batch_size="2",
        source_directory=".",
    )
    values.update(settings)
    return ParallelRunConfig(**values)


def test_environment_sections_and_conda_dependencies():
    env = Environment(name="batch_environment")
    deps = CondaDependencies.create(python_version="3.10", pip_packages=["pillow"], conda_packages=["pip"])
    env.python.conda_dependencies = deps
    env.docker.base_image = DEFAULT_CPU_IMAGE
    env.spark.packages = []
    assert env.python.conda_dependencies.pip_packages == ["pillow"]
    assert "python=3.10" in deps.serialize_to_string()
    assert "packages pip, pillow" in env.describe() and DEFAULT_CPU_IMAGE in env.describe()


def test_conda_dependencies_read_from_a_file(tmp_path):
    path = tmp_path / "env.yml"
    path.write_text("dependencies:\n  - python=3.9\n  - numpy\n  - pip:\n    - pillow\n")
    deps = CondaDependencies(str(path))
    assert (deps.python_version, deps.conda_packages, deps.pip_packages) == ("3.9", ["numpy"], ["pillow"])


def test_tabular_dataset_to_pandas_and_partition_by(tmp_path):
    (tmp_path / "sales.csv").write_text("store,brand,qty\n1,a,3\n1,b,4\n2,a,5\n")
    ds = Dataset.Tabular.from_delimited_files(path=str(tmp_path / "sales.csv"))
    assert ds.to_pandas_dataframe()["qty"].tolist() == [3, 4, 5]
    parted = ds.partition_by(partition_keys=["store", "brand"], target=str(tmp_path / "parted"))
    assert (tmp_path / "parted" / "1" / "b" / "part.csv").read_text() == "qty\n4\n"
    frame = parted.to_pandas_dataframe().sort_values("qty")
    assert frame[["store", "brand", "qty"]].astype(str).values.tolist() == [
        ["1", "a", "3"],
        ["1", "b", "4"],
        ["2", "a", "5"],
    ]


def test_file_dataset_partition_format_becomes_an_mltable_with_partition_columns(tmp_path):
    for genre in ("disco", "piano"):
        (tmp_path / "audio" / genre).mkdir(parents=True)
        (tmp_path / "audio" / genre / f"{genre}.wav").write_bytes(b"x")
    ds = Dataset.File.from_files(
        path=str(tmp_path / "audio" / "**"), partition_format="/{genre}/{file_name}.wav"
    )
    step_input = ds.to_v2_input("mount")
    assert step_input.type == "mltable"
    from dask_parallel.inputs import mltable

    table = mltable.load(step_input.path)
    assert table.partition_keys == ["genre", "file_name"]
    units = table.plan(partition_keys=["genre"]).units
    assert sorted(u.partition_key_value["genre"] for u in units) == ["disco", "piano"]


def test_dataset_valued_pipeline_parameter_is_bound_and_overridable(tmp_path):
    (tmp_path / "imgs").mkdir()
    for i in range(3):
        (tmp_path / "imgs" / f"{i}.png").write_bytes(b"x")
    default = Dataset.File.from_files(path=str(tmp_path / "imgs"))
    parameter = PipelineParameter(name="mnist_param", default_value=default)
    consumed = DatasetConsumptionConfig("minist_param_config", parameter).as_mount()
    step = ParallelRunStep(
        name="predict-digits",
        parallel_run_config=config(),
        inputs=[consumed],
        output=OutputFileDatasetConfig("out"),
    )
    pipeline = Pipeline(steps=[step])
    job = pipeline.to_v2()
    assert job.inputs["mnist_param"].path == str(tmp_path / "imgs")
    assert job.jobs["predict-digits"].inputs["minist_param_config"].path == "${{parent.inputs.mnist_param}}"
    single = Dataset.File.from_files(path=str(tmp_path / "imgs" / "0.png"))
    overridden = pipeline.to_v2({"mnist_param": single})
    assert overridden.inputs["mnist_param"].type == "uri_file"
    assert overridden.jobs["predict-digits"].inputs["minist_param_config"].type == "uri_file"


def test_a_pipeline_parameter_without_a_dataset_default_is_refused():
    with pytest.raises(JobValidationError, match="must have a dataset as default_value"):
        DatasetConsumptionConfig("c", PipelineParameter(name="p", default_value="not a dataset"))


def test_several_input_datasets_are_read_as_one(tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / f"{name}.txt").write_text(name)
    first = Dataset.File.from_files(path=str(tmp_path / "a")).as_named_input("first")
    second = Dataset.File.from_files(path=str(tmp_path / "b")).as_named_input("second")
    step = ParallelRunStep(
        name="two-inputs",
        parallel_run_config=config(),
        inputs=[first, second],
        output=OutputFileDatasetConfig("o"),
    )
    job = step.to_v2()
    data = job.inputs["first"]
    assert data.type == "mltable"
    from dask_parallel.inputs import mltable

    assert sorted(p.rsplit("/", 1)[-1] for p in mltable.load(data.path).files()) == ["a.txt", "b.txt"]


def test_several_tabular_inputs_must_share_a_format(tmp_path):
    (tmp_path / "a.csv").write_text("x\n1\n")
    (tmp_path / "b.tsv").write_text("x\n2\n")
    comma = Dataset.Tabular.from_delimited_files(path=str(tmp_path / "a.csv")).as_named_input("a")
    tab = Dataset.Tabular.from_delimited_files(path=str(tmp_path / "b.tsv"), separator="\t").as_named_input(
        "b"
    )
    with pytest.raises(JobValidationError, match="differ in separator"):
        ParallelRunStep(
            name="mixed", parallel_run_config=config(), inputs=[comma, tab], output=OutputFileDatasetConfig()
        )


def test_pipeline_run_children_are_its_step_runs():
    from dask_parallel.pipelines.result import PipelineResult
    from dask_parallel.rundir.result import JobResult
    from dask_parallel.v1.pipeline import Experiment, PipelineRun

    def result(cls, **extra):
        return cls(
            status="Completed",
            run_dir="/r",
            outputs={"inferences": "/r/out"},
            error=None,
            mini_batches_total=0,
            mini_batches_succeeded=0,
            mini_batches_failed=0,
            items_total=0,
            items_succeeded=0,
            items_failed=0,
            started=0.0,
            finished=0.0,
            **extra,
        )

    run = PipelineRun(Experiment("e"), result(PipelineResult, steps={"example-iris": result(JobResult)}))
    child = next(run.get_children())
    assert child.name == "example-iris"
    assert child.get_output_data("inferences").path_on_datastore == "/r/out"
