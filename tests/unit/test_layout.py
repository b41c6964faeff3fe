"""RunLayout names every path of a run directory; atomic writes leave whole files only."""

import json
import os

import pytest

from dask_parallel.rundir.atomic import atomic_open, write_json_atomic
from dask_parallel.rundir.layout import RunLayout, new_run_dir
from dask_parallel.rundir.ledger import Journal, read_ledger


def test_the_journal_writes_where_the_layout_says(tmp_path):
    layout = RunLayout(str(tmp_path))
    journal = Journal(str(tmp_path))
    journal.write_job({"job_id": "x"})
    journal.ledger("job", status="Completed")
    journal.write_result("Completed", None, "summary", [])
    journal.close()
    for path in (layout.job_file, layout.ledger, layout.readme, layout.report, layout.master_role):
        assert os.path.isfile(path), path
    for folder in (layout.parts_dir, layout.markers_dir, layout.user_error_dir):
        assert os.path.isdir(folder), folder
    assert os.path.isfile(layout.job_result)
    assert layout.report.endswith(os.path.join("logs", "sys", "job_report", "processed_mini-batches.csv"))
    assert [r["event"] for r in read_ledger(str(tmp_path))] == ["job"]


def test_read_ledger_skips_a_torn_last_line_and_a_missing_ledger(tmp_path):
    assert read_ledger(str(tmp_path)) == []
    with open(RunLayout(str(tmp_path)).ledger, "w", encoding="utf-8") as handle:
        handle.write('{"event": "final", "mb": "a"}\n{"event": "fin')
    assert read_ledger(str(tmp_path)) == [{"event": "final", "mb": "a"}]


def test_new_run_dir_is_fresh_under_the_root(tmp_path):
    first, second = new_run_dir("job", str(tmp_path)), new_run_dir("job", str(tmp_path))
    assert first != second
    assert os.path.dirname(first) == str(tmp_path)
    assert os.path.basename(first).startswith("job_")


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    target = str(tmp_path / "sub" / "doc.json")
    write_json_atomic(target, {"a": 1})
    with pytest.raises(RuntimeError), atomic_open(target) as handle:
        handle.write('{"a": 2')
        raise RuntimeError("stopped half way")
    with open(target, encoding="utf-8") as handle:
        assert json.load(handle) == {"a": 1}
    assert os.listdir(tmp_path / "sub") == ["doc.json"]  # no temporary left behind


def test_atomic_open_refuses_appending(tmp_path):
    with pytest.raises(ValueError, match="whole files"), atomic_open(str(tmp_path / "x"), "a"):
        pass
