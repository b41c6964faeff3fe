"""Content-addressed code archives and the worker's path mapping (no cluster needed)."""

from __future__ import annotations

import os
import types

import pytest

from dask_parallel.worker.code_archive import COMPLETE, ArchiveTooLarge, folders_root, pack, unpack
from dask_parallel.worker.mirror import WorkerMirror
from dask_parallel.worker.runtime_spec import RuntimeSpec, ShippedPath


def _code(folder):
    (folder / "pkg").mkdir(parents=True)
    (folder / "score.py").write_text("def run(mb):\n    return mb\n")
    (folder / "pkg" / "helper.py").write_text("X = 1\n")
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "score.cpython-311.pyc").write_bytes(b"compiled")
    os.chmod(folder / "score.py", 0o750)


def test_the_same_content_gives_the_same_digest_and_an_edit_a_new_one(tmp_path):
    _code(tmp_path / "a")
    _code(tmp_path / "b")
    first, second = pack(str(tmp_path / "a")), pack(str(tmp_path / "b"))
    assert first.digest == second.digest
    (tmp_path / "b" / "__pycache__" / "other.pyc").write_bytes(b"ignored")
    assert pack(str(tmp_path / "b")).digest == first.digest
    (tmp_path / "b" / "pkg" / "helper.py").write_text("X = 2\n")
    assert pack(str(tmp_path / "b")).digest != first.digest


def test_an_archive_is_unpacked_once_per_worker_and_reused(tmp_path):
    _code(tmp_path / "src")
    archive = pack(str(tmp_path / "src"))
    root = folders_root(str(tmp_path / "worker"))
    path = unpack(archive, root)
    assert sorted(os.listdir(path)) == sorted([COMPLETE, "pkg", "score.py"])
    assert (os.stat(os.path.join(path, "score.py")).st_mode & 0o777) == 0o750
    marker = os.path.join(path, COMPLETE)
    stamp = os.stat(marker).st_mtime_ns
    assert unpack(archive, root) == path
    assert os.stat(marker).st_mtime_ns == stamp
    assert os.listdir(root) == [archive.digest]


def test_a_folder_too_large_to_send_says_what_to_do(tmp_path):
    _code(tmp_path / "src")
    (tmp_path / "src" / "model.bin").write_bytes(b"0" * 2048)
    with pytest.raises(ArchiveTooLarge, match=r"object storage"):
        pack(str(tmp_path / "src"), max_bytes=1024)


def test_client_paths_are_rewritten_to_the_workers_copies_at_path_boundaries(tmp_path):
    _code(tmp_path / "client" / "src")
    (tmp_path / "client" / "model").mkdir()
    (tmp_path / "client" / "model" / "weights.txt").write_text("1")
    code, model = pack(str(tmp_path / "client" / "src")), pack(str(tmp_path / "client" / "model"))
    local = tmp_path / "worker"
    for archive in (code, model):
        unpack(archive, folders_root(str(local)))
    client = str(tmp_path / "client")
    spec = RuntimeSpec(
        job_id="j" * 32, code_dir=f"{client}/src", entry_script="score.py", module_name="score",
        argv=(), environment_variables={}, logging_level="INFO", run_dir=f"{client}/run",
        output_dir=f"{client}/out", timeout=60, task_overhead_timeout=60, append_row=True,
        dataframe_header=False, to_csv={}, reader=None, concurrency=1, shared_filesystem=False,
        shipped=(
            ShippedPath(f"{client}/src", "code", code.digest),
            ShippedPath(f"{client}/model", "input", model.digest),
            ShippedPath(f"{client}/out", "output"),
        ),
    )  # fmt: skip
    mirror = WorkerMirror(spec, types.SimpleNamespace(local_directory=str(local), plugins={}))
    mapped = mirror.rewrite(f"--model={client}/model --other {client}/models --out {client}/out/x.txt")
    worker_model = folders_root(str(local)) + f"/{model.digest}"
    assert mapped.startswith(f"--model={worker_model} --other {client}/models --out {mirror.base}/outputs/")
    assert mapped.endswith("/x.txt")
    assert mirror.path(f"{client}/src") == folders_root(str(local)) + f"/{code.digest}"
    # What the script writes into the mapped output folder comes back under the client's path.
    written = mirror.path(f"{client}/out/scores/a.txt")
    os.makedirs(os.path.dirname(written))
    with open(written, "w") as handle:
        handle.write("a 1\n")
    assert mirror.changed_outputs() == {f"{client}/out/scores/a.txt": b"a 1\n"}
    assert mirror.changed_outputs() == {}
