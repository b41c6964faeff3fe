"""A job on in-process workers (``Client(processes=False)``) inside a Jupyter kernel.

The kernel's ``sys.stdout``/``sys.stderr`` are its own stream objects; after the job they are
the same objects and a later cell's prints still reach the notebook, while the job's prints
went to its log files.
"""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import make_files, write_script

pytestmark = pytest.mark.slow

SCRIPT = """
import os, sys, time

def run(mini_batch):
    for path in mini_batch:
        print("scoring", os.path.basename(path))
        print("complaint about", os.path.basename(path), file=sys.stderr)
    time.sleep(0.05)  # attempts on the worker threads overlap
    return [os.path.basename(p) for p in mini_batch]
"""

CELLS = [
    """
import sys
import dask_parallel as dp
from distributed import Client, LocalCluster
before = (sys.stdout, sys.stderr)
job = dp.parallel_run_function(
    name="in_kernel",
    inputs={"data": dp.Input(type="uri_folder", path=DATA)},
    outputs={"result": dp.Output(type="uri_file", path=OUT)},
    input_data="${{inputs.data}}",
    mini_batch_size="1",
    task=dp.RunFunction(code=SRC, entry_script="score.py", append_row_to="${{outputs.result}}"),
)
""",
    """
with LocalCluster(processes=False, n_workers=2, threads_per_worker=2, dashboard_address=":0") as cluster:
    with Client(cluster) as client:
        result = dp.run(job, client=client, run_dir=RUN, show_progress=False)
""",
    """print("after the job:", sys.stdout is before[0], sys.stderr is before[1], result.status)""",
    """print("to stderr too", file=sys.stderr)""",
]


def test_a_kernel_keeps_its_streams_after_a_job_on_in_process_workers(tmp_path):
    make_files(tmp_path / "data", 10)
    write_script(tmp_path / "src", SCRIPT)
    values = {"DATA": tmp_path / "data", "OUT": tmp_path / "out" / "result.txt", "SRC": tmp_path / "src"}
    values["RUN"] = tmp_path / "run"
    setup = "\n".join(f"{name} = {str(value)!r}" for name, value in values.items())
    book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(setup + c) for c in CELLS[:1]])
    book.cells += [nbformat.v4.new_code_cell(c) for c in CELLS[1:]]
    NotebookClient(book, timeout=120, kernel_name="python3").execute()
    streams = {
        output["name"]: output["text"]
        for cell in book.cells[2:]
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream"
    }
    assert streams.get("stdout") == "after the job: True True Completed\n"
    assert streams.get("stderr") == "to stderr too\n"
    stdout = "".join(p.read_text() for p in (tmp_path / "run" / "logs" / "user" / "stdout").rglob("*.txt"))
    stderr = "".join(p.read_text() for p in (tmp_path / "run" / "logs" / "user" / "stderr").rglob("*.txt"))
    assert sorted(line for line in stdout.splitlines() if line.startswith("scoring")) == sorted(
        f"scoring item_{i:03d}.txt" for i in range(10)
    )
    assert stderr.count("complaint about") == 10
    assert "after the job" not in stdout
