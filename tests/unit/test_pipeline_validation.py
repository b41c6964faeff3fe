"""Pipeline mistakes are reported before any step runs, naming the step and the key."""

from __future__ import annotations

import textwrap

import pytest

import dask_parallel as dp
from dask_parallel.pipelines import validate_pipeline
from dask_parallel.pipelines.loader import load_pipeline
from tests.conftest import write_script


@pytest.fixture
def parts(tmp_path):
    write_script(tmp_path / "src", "def run(mb):\n    return mb\n")
    (tmp_path / "src" / "prep.py").write_text("print('prep')\n")
    prep = dp.command(
        name="prep",
        inputs={"raw": dp.Input(type="uri_folder")},
        outputs={"table": dp.Output(type="uri_file")},
        code=str(tmp_path / "src"),
        command="python prep.py ${{inputs.raw}} ${{outputs.table}}",
    )
    score = dp.parallel_run_function(
        name="score",
        inputs={"data": dp.Input(type="uri_folder")},
        outputs={"out": dp.Output(type="uri_file")},
        input_data="${{inputs.data}}",
        task=dp.RunFunction(
            code=str(tmp_path / "src"), entry_script="score.py", append_row_to="${{outputs.out}}"
        ),
    )
    return prep, score


def test_type_mismatch_names_step_and_key(parts):
    prep, score = parts

    @dp.pipeline()
    def bad(raw):
        made = prep(raw=raw)
        scored = score(data=made.outputs.table)
        return {"out": scored.outputs.out}

    job = bad(raw=dp.Input(type="uri_folder", path="."))
    with pytest.raises(
        dp.JobValidationError,
        match=r"jobs\.scored\.inputs\.data is declared 'uri_folder', but "
        r"jobs\.made\.outputs\.table is 'uri_file'",
    ):
        validate_pipeline(job)


def test_output_type_changed_after_the_call_fixes_the_mismatch(parts):
    prep, score = parts

    @dp.pipeline()
    def good(raw):
        made = prep(raw=raw)
        made.outputs.table.type = dp.AssetTypes.URI_FOLDER
        scored = score(data=made.outputs.table)
        scored.inputs.data.mode = dp.InputOutputModes.RO_MOUNT
        return {"out": scored.outputs.out}

    job = good(raw=dp.Input(type="uri_folder", path="."))
    assert validate_pipeline(job) == ["made", "scored"]
    assert job.jobs["scored"].inputs["data"].mode == "ro_mount"
    assert job.jobs["scored"].inputs["data"].path == "${{parent.jobs.made.outputs.table}}"
    assert job.jobs["made"].inputs["raw"].path == "${{parent.inputs.raw}}"


def _yaml(tmp_path, body: str):
    path = tmp_path / "pipe.yml"
    path.write_text(textwrap.dedent(body))
    return path


STEPS = """
  a:
    type: command
    code: ./src
    command: python prep.py ${{inputs.x}} ${{outputs.o}}
    inputs:
      x: %s
    outputs:
      o: {type: uri_folder}
  b:
    type: command
    code: ./src
    command: python prep.py ${{inputs.x}} ${{outputs.o}}
    inputs:
      x: %s
    outputs:
      o: {type: uri_folder}
"""


def test_cycle_is_reported(tmp_path, parts):
    body = "type: pipeline\njobs:" + STEPS % ("${{parent.jobs.b.outputs.o}}", "${{parent.jobs.a.outputs.o}}")
    job = load_pipeline(_yaml(tmp_path, body))
    with pytest.raises(dp.JobValidationError, match=r"jobs form a cycle: a -> b -> a"):
        validate_pipeline(job)


def test_missing_step_output(tmp_path, parts):
    body = "type: pipeline\njobs:" + STEPS % ("./data", "${{parent.jobs.a.outputs.nope}}")
    job = load_pipeline(_yaml(tmp_path, body))
    with pytest.raises(
        dp.JobValidationError,
        match=r"jobs\.b\.inputs\.x binds jobs\.a\.outputs\.nope, which step 'a' does not declare; "
        r"its outputs are: o",
    ):
        validate_pipeline(job)


def test_missing_step(tmp_path, parts):
    body = "type: pipeline\njobs:" + STEPS % ("./data", "${{parent.jobs.zz.outputs.o}}")
    job = load_pipeline(_yaml(tmp_path, body))
    with pytest.raises(dp.JobValidationError, match=r"jobs\.b\.inputs\.x binds the output of step 'zz'"):
        validate_pipeline(job)


def test_undeclared_pipeline_input(tmp_path, parts):
    body = "type: pipeline\njobs:" + STEPS % ("${{parent.inputs.raw}}", "./data")
    job = load_pipeline(_yaml(tmp_path, body))
    with pytest.raises(
        dp.JobValidationError, match=r"jobs\.a\.inputs\.x binds \$\{\{parent\.inputs\.raw\}\}, which"
    ):
        validate_pipeline(job)


def test_unknown_pipeline_key_has_file_and_line(tmp_path):
    path = _yaml(tmp_path, "type: pipeline\nsetings: {}\njobs: {}\n")
    with pytest.raises(
        dp.JobValidationError, match=r"pipe\.yml, line 2: unknown key 'setings'; allowed keys are"
    ):
        load_pipeline(path)


def test_unknown_step_type(tmp_path):
    path = _yaml(tmp_path, "type: pipeline\njobs:\n  s:\n    type: sweep\n")
    with pytest.raises(dp.JobValidationError, match=r"line 4: jobs\.s\.type 'sweep' is not supported"):
        load_pipeline(path)


def test_unknown_key_in_a_command_step(tmp_path):
    path = _yaml(tmp_path, "type: pipeline\njobs:\n  s:\n    type: command\n    comand: echo\n")
    with pytest.raises(dp.JobValidationError, match=r"line 5: unknown key jobs\.s\.'comand'"):
        load_pipeline(path)


def test_setting_bound_to_missing_pipeline_input(parts):
    _, score = parts

    @dp.pipeline()
    def p(data):
        s = score(data=data)
        s.mini_batch_size = "${{parent.inputs.mbs}}"

    with pytest.raises(
        dp.JobValidationError, match=r"jobs\.s\.mini_batch_size binds \$\{\{parent\.inputs\.mbs\}\}"
    ):
        validate_pipeline(p(data=dp.Input(type="uri_folder", path=".")))


def test_pipeline_decorator_rejects_unknown_argument():
    with pytest.raises(dp.JobValidationError, match="pipeline got an unexpected argument 'computee'"):
        dp.pipeline(computee="x")


def test_command_rejects_undeclared_binding():
    with pytest.raises(
        dp.JobValidationError, match=r"command uses \$\{\{outputs\.o\}\}, which is not declared"
    ):
        dp.command(command="echo ${{outputs.o}}")
