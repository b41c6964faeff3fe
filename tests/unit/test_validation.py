"""parallel_run_function and JobSpec validation: each user-facing message is checked."""

from __future__ import annotations

import pytest

import dask_parallel as dp
from dask_parallel.errors import EntryScriptError, InputError, JobValidationError
from dask_parallel.spec.job_spec import build_job_spec


def job(**overrides):
    settings = dict(
        name="score",
        inputs={"data": dp.Input(type="uri_folder")},
        outputs={"out": dp.Output(type="uri_file")},
        input_data="${{inputs.data}}",
        task=dp.RunFunction(code="src", entry_script="score.py", append_row_to="${{outputs.out}}"),
    )
    settings.update(overrides)
    return dp.parallel_run_function(**settings)


def test_public_surface():
    for name in dp.__all__:
        assert hasattr(dp, name), name
    assert {"parallel_run_function", "RunFunction", "RetrySettings", "Input", "Output", "AssetTypes"} <= set(
        dp.__all__
    )
    assert {"InputOutputModes", "run", "JobResult"} <= set(dp.__all__)
    assert dp.AssetTypes.MLTABLE == "mltable" and dp.InputOutputModes.DIRECT == "direct"


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"mini_batch_size": "10 kb"}, r"mini_batch_size must follow regex rule"),
        ({"mini_batch_size": 10}, r"mini_batch_size must be a string .*quote the value"),
        ({"logging_level": "debug"}, r"Value 'debug' passed is not in set \['DEBUG', 'INFO', 'WARNING'\]"),
        ({"logging_level": "TRACE"}, r"Value 'TRACE' passed is not in set"),
        ({"input_data": "data"}, r"input_data must be a binding to one declared input"),
        ({"input_data": "${{inputs.other}}"}, r"input_data refers to inputs.other, which is not declared"),
        ({"max_concurrency_per_instance": 0}, r"max_concurrency_per_instance must be an integer >= 1"),
        ({"max_concurrency_per_instance": "2"}, r"max_concurrency_per_instance must be an integer"),
        ({"error_threshold": -2}, r"error_threshold must be an integer >= -1"),
        ({"mini_batch_error_threshold": 1.5}, r"mini_batch_error_threshold must be an integer"),
        ({"retry_settings": {"timeout": 0}}, r"retry_settings.timeout must be an integer >= 1"),
        ({"retry_settings": {"timeout": 259201}}, r"\(0, 259200\]"),
        ({"retry_settings": {"max_retries": 0}}, r"retry_settings.max_retries must be an integer >= 1"),
        ({"retry_settings": {"retries": 2}}, r"unknown key 'retries'"),
        ({"name": "Score-Job"}, r"Component name should only contain lower letter"),
        ({"partition_keys": "Store"}, r"partition_keys must be a list"),
        ({"instance_count": 2, "resources": {"instance_count": 2}}, r"mutually exclusive"),
        ({"not_an_argument": 1}, r"unexpected argument 'not_an_argument'"),
        ({"environment_variables": {"A": None}}, r"environment_variables.A must be a string"),
    ],
)
def test_invalid_arguments(overrides, message):
    with pytest.raises(JobValidationError, match=message):
        job(**overrides)


def test_append_row_to_must_bind_a_declared_output():
    with pytest.raises(JobValidationError, match=r"append_row_to refers to outputs.nope"):
        job(task=dp.RunFunction(code="src", entry_script="score.py", append_row_to="${{outputs.nope}}"))
    with pytest.raises(JobValidationError, match=r"append_row_to must be a binding"):
        job(task=dp.RunFunction(code="src", entry_script="score.py", append_row_to="out.txt"))


def test_azure_only_settings_are_accepted():
    node = job(compute="cpu-cluster", instance_type="Standard_D2", environment="azureml:env@latest")
    assert node.azure_only["compute"] == "cpu-cluster"


def test_bad_input_type_and_mode():
    with pytest.raises(JobValidationError, match=r"Input: type 'folder' is not allowed"):
        dp.Input(type="folder")
    with pytest.raises(JobValidationError, match=r"Output: mode 'download' is not allowed"):
        dp.Output(mode="download")


def test_calling_binds_inputs_and_copies():
    node = job()
    bound = node(data=dp.Input(type="uri_folder", path="./x"))
    assert bound.inputs["data"].path == "./x"
    assert node.inputs["data"].path is None
    with pytest.raises(JobValidationError, match=r"unknown input 'other'; declared inputs are: data"):
        node(other=1)


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "score.py").write_text("def init():\n    pass\n\ndef run(mb):\n    return mb\n")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.txt").write_text("a")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def spec_of(node, project):
    return build_job_spec(node, base_dir=str(project), run_dir=str(project / "run"))


def test_relative_paths_resolve_against_base_dir(project):
    spec = spec_of(job()(data=dp.Input(path="data")), project)
    assert spec.major_input.uri == str(project / "data")
    assert spec.code_dir == str(project / "src")
    assert spec.outputs["out"].uri == str(project / "run" / "outputs" / "out.txt")
    assert spec.append_row_uri == spec.outputs["out"].uri
    assert (spec.max_attempts, spec.timeout, spec.error_threshold) == (2, 60, -1)


def test_missing_input_path(project):
    with pytest.raises(InputError, match=r"inputs.data: path '.*nowhere' does not exist"):
        spec_of(job()(data=dp.Input(path="nowhere")), project)


def test_unbound_major_input(project):
    with pytest.raises(InputError, match=r"inputs.data \(the input_data\) has no path"):
        spec_of(job(), project)


def test_missing_entry_script(project):
    node = job(task=dp.RunFunction(code="src", entry_script="missing.py"))(data=dp.Input(path="data"))
    with pytest.raises(EntryScriptError, match=r"'missing.py' was not found in the code folder"):
        spec_of(node, project)


def test_entry_script_without_run(project):
    (project / "src" / "norun.py").write_text("def init():\n    pass\n")
    node = job(task=dp.RunFunction(code="src", entry_script="norun.py"))(data=dp.Input(path="data"))
    with pytest.raises(EntryScriptError, match=r"defines no run\(mini_batch\) function \(found: init\)"):
        spec_of(node, project)


def test_entry_script_syntax_error(project):
    (project / "src" / "broken.py").write_text("def run(mb)\n    return mb\n")
    node = job(task=dp.RunFunction(code="src", entry_script="broken.py"))(data=dp.Input(path="data"))
    with pytest.raises(EntryScriptError, match=r"broken.py, line 1: syntax error"):
        spec_of(node, project)


def test_missing_code_folder(project):
    node = job(task=dp.RunFunction(code="nope", entry_script="score.py"))(data=dp.Input(path="data"))
    with pytest.raises(EntryScriptError, match=r"task.code: folder .*nope' does not exist"):
        spec_of(node, project)


def test_program_arguments_bindings(project):
    node = job(
        inputs={
            "data": dp.Input(type="uri_folder"),
            "model": dp.Input(type="uri_folder"),
            "k": dp.Input(type="integer"),
        },
        task=dp.RunFunction(
            code="src",
            entry_script="score.py",
            program_arguments="--model ${{inputs.model}} --k ${{inputs.k}} --out ${{outputs.out}} "
            "$[[--optional ${{inputs.missing}}]] --allowed_failed_percent 30",
            append_row_to="${{outputs.out}}",
        ),
        outputs={"out": dp.Output(type="uri_file")},
    )
    node.inputs["missing"] = dp.Input(type="string", optional=True)
    spec = spec_of(node(data=dp.Input(path="data"), model=dp.Input(path="src"), k=3), project)
    assert spec.program_arguments == (
        "--model",
        str(project / "src"),
        "--k",
        "3",
        "--out",
        str(project / "run" / "outputs" / "out.txt"),
        "--allowed_failed_percent",
        "30",
    )
    assert spec.driver.allowed_failed_percent == 30


def test_program_arguments_unknown_binding(project):
    node = job(
        task=dp.RunFunction(code="src", entry_script="score.py", program_arguments="--m ${{inputs.model}}")
    )
    with pytest.raises(JobValidationError, match=r"uses \$\{\{inputs.model\}\}, which is not declared"):
        spec_of(node(data=dp.Input(path="data")), project)


def test_standalone_job_rejects_pipeline_bindings(project):
    node = job(mini_batch_size="${{parent.inputs.mbs}}")(data=dp.Input(path="data"))
    with pytest.raises(JobValidationError, match=r"mini_batch_size is the binding"):
        spec_of(node, project)


def test_v1_style_driver_options_fill_unset_settings(project):
    node = job(
        task=dp.RunFunction(
            code="src",
            entry_script="score.py",
            program_arguments="--error_threshold 5 --run_invocation_timeout 7 --run_max_try 4",
        )
    )(data=dp.Input(path="data"))
    spec = spec_of(node, project)
    assert (spec.error_threshold, spec.timeout, spec.max_attempts) == (5, 7, 4)
