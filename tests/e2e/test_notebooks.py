"""Every notebook in notebooks/ runs top to bottom, headless, without an error."""

from __future__ import annotations

import json

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import REPO

pytestmark = pytest.mark.slow

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
QUICKSTARTS = {"file_scoring_quickstart.ipynb", "tabular_quickstart.ipynb"}


def test_the_quickstarts_are_there():
    assert {path.name for path in NOTEBOOKS} >= QUICKSTARTS


def outputs(book, kind: str) -> list:
    found = []
    for cell in book.cells:
        for output in cell.get("outputs", []):
            found += [output["data"][kind]] if kind in output.get("data", {}) else []
            if kind == "stream" and output.get("output_type") == "stream":
                found.append(output["text"])
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.name for path in NOTEBOOKS])
def test_notebook_runs(path, tmp_path, monkeypatch):
    # The kernel inherits the environment: its run directories go to a temporary folder, and
    # an earlier execution's result is not reused (the notebook must really run its jobs).
    monkeypatch.setenv("DASK_DASK_PARALLEL__RUN_ROOT", str(tmp_path / "runs"))
    monkeypatch.setenv("DASK_DASK_PARALLEL__REUSE_CACHE", str(tmp_path / "reuse-cache"))
    book = nbformat.read(path, as_version=4)
    client = NotebookClient(
        book, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()  # raises CellExecutionError, with the cell and its traceback, on any error
    if path.name not in QUICKSTARTS:
        return
    html = "\n".join(outputs(book, "text/html"))
    widgets = [json.dumps(w) for w in outputs(book, "application/vnd.jupyter.widget-view+json")]
    assert "JobResult: <span style='color:#1a7f37'>Completed</span>" in html
    assert widgets, "the progress bar was not drawn as a widget"
    text = html + "\n".join(outputs(book, "stream")) + "\n".join(outputs(book, "text/plain"))
    assert "http://127.0.0.1:" in text, "no dashboard link"
    assert outputs(book, "image/png"), "result.plot() drew nothing"

    # Saved as Jupyter saves it, the notebook keeps the progress widget's state (so the bar
    # shows when the file is opened again) and the JobResult table.
    saved = tmp_path / path.name
    nbformat.write(book, saved)
    reopened = nbformat.read(saved, as_version=4)
    state = reopened.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    views = outputs(reopened, "application/vnd.jupyter.widget-view+json")
    assert views and all(view["model_id"] in state for view in views)
    bars = [m for m in state.values() if m["model_name"] == "FloatProgressModel"]
    assert bars and all(m["state"]["value"] == m["state"]["max"] > 0 for m in bars), "bar not full"
    assert "JobResult: <span style='color:#1a7f37'>Completed</span>" in "\n".join(
        outputs(reopened, "text/html")
    )
