"""run() refuses unsafe run directories and output names before anything is written (no cluster)."""

from __future__ import annotations

import os

import pytest

import dask_parallel as dp
from dask_parallel.errors import JobValidationError


@pytest.fixture
def project(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "score.py").write_text("def init():\n    pass\n\ndef run(mb):\n    return mb\n")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.txt").write_text("a\n")
    return tmp_path


def make_job(project, outputs=None):
    return dp.parallel_run_function(
        name="score",
        inputs={"data": dp.Input(type="uri_folder", path=str(project / "data"))},
        outputs=outputs if outputs is not None else {"out": dp.Output(type="uri_file")},
        input_data="${{inputs.data}}",
        task=dp.RunFunction(
            code=str(project / "src"), entry_script="score.py", append_row_to="${{outputs.out}}"
        ),
    )


def test_folder_with_user_data_is_refused_and_left_untouched(project):
    target = project / "mine"
    (target / "attempts").mkdir(parents=True)
    (target / "attempts" / "notes.txt").write_text("keep me")
    (target / "report.pdf").write_text("keep me too")
    with pytest.raises(JobValidationError, match=r"not a dask_parallel run.*report.pdf"):
        dp.run(make_job(project), run_dir=str(target), base_dir=str(project))
    assert sorted(os.listdir(target)) == ["attempts", "report.pdf"]
    assert (target / "attempts" / "notes.txt").read_text() == "keep me"


def test_run_dir_inside_the_input_folder_is_refused(project):
    target = project / "data" / "run"
    with pytest.raises(JobValidationError, match=r"inside inputs.data"):
        dp.run(make_job(project), run_dir=str(target), base_dir=str(project))
    assert not target.exists()


@pytest.mark.parametrize("name", ["../../escaped", "/abs/out", "a/b", "1st", "out-put", "", "sp ace"])
def test_output_names_must_be_identifiers(project, name):
    target = project / "run"
    with pytest.raises(JobValidationError, match=r"names must be identifiers"):
        dp.run(make_job(project, outputs={name: dp.Output(type="uri_folder")}), run_dir=str(target))
    assert not target.exists() and not (project / "escaped").exists()


def test_input_names_must_be_identifiers(project):
    job = make_job(project)
    job.inputs["../x"] = dp.Input(type="uri_folder", path=str(project / "data"))
    with pytest.raises(JobValidationError, match=r"inputs\.\.\./x: input names must be identifiers"):
        dp.run(job, run_dir=str(project / "run"))
