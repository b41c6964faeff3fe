"""Input folders are listed with os.scandir in the order, and with the versions, that fsspec gave."""

from __future__ import annotations

import os

import fsspec
import pytest

from dask_parallel.errors import InputError
from dask_parallel.inputs.listing import list_folder
from dask_parallel.rundir.fingerprint import version_of

# Names whose order differs between a per-folder sort and a sort of whole paths
# ("a" the folder against "a.txt" and "a b"), hidden names and non-ASCII names.
NAMES = ["a", "a.txt", "a b", "a-b", "ab", ".hidden", "_x", "Z", "z", "a0", "é"]


def fsspec_listing(root: str) -> list[tuple[str, int | None, str | None]]:
    """What planning listed before: sorted(fs.find(detail=True)) and version_of of each entry."""
    details = fsspec.filesystem("file").find(root, detail=True)
    return [
        (name, *version_of(info)) for name, info in sorted(details.items()) if info.get("type") != "directory"
    ]


def flat(root: str) -> list[tuple[str, int | None, str | None]]:
    return [row for chunk in list_folder(root, "inputs.data") for row in zip(*chunk)]


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "data"
    for folder in ("a", "a b", ".hidden"):
        (root / folder).mkdir(parents=True)
        for name in NAMES:
            if name != "a":
                (root / folder / name).write_text("x" * len(name))
        (root / folder / "a").mkdir()
        (root / folder / "a" / "deep.txt").write_text("deep")
    for name in NAMES:
        if not (root / name).exists():
            (root / name).write_text(name)
    (root / "empty").mkdir()
    (root / "real").mkdir()
    (root / "real" / "f").write_text("hello")
    os.symlink(root / "real", root / "link_to_folder")  # a file to fsspec: never followed
    os.symlink(root / "a.txt", root / "link_to_file")  # the target's size, the link's mtime
    os.symlink(tmp_path / "missing", root / "broken_link")  # size 0
    return root


def test_order_sizes_and_versions_are_those_of_fsspec(tree):
    expected = fsspec_listing(str(tree))
    assert len(expected) > 40
    assert flat(str(tree)) == expected


def test_a_file_removed_while_listing_is_left_out_and_the_others_kept(tmp_path):
    root = tmp_path / "data"
    (root / "a").mkdir(parents=True)
    (root / "a" / "1.txt").write_text("1")
    for name in ("b.txt", "c.txt", "d.txt"):
        (root / name).write_text(name)
    chunks = list_folder(str(root), "inputs.data")
    assert next(chunks)[0] == [str(root / "a" / "1.txt")]  # the root was read, its files not yet stat'ed
    (root / "c.txt").unlink()
    assert [path for paths, _, _ in chunks for path in paths] == [str(root / "b.txt"), str(root / "d.txt")]


def test_nested_folders_keep_whole_path_order(tmp_path):
    root = tmp_path / "data"
    (root / "a").mkdir(parents=True)
    (root / "a" / "z").write_text("")
    (root / "a.b").write_text("")
    (root / "a-").write_text("")
    # "/" sorts after "-" and ".", so a/z comes after both files.
    assert [os.path.basename(p) for p, _, _ in flat(str(root))] == ["a-", "a.b", "z"]
    assert flat(str(root)) == fsspec_listing(str(root))


def test_remote_stores_are_listed_from_one_find(tmp_path):
    fs = fsspec.filesystem("memory")
    for name in ("b/2.txt", "b/1.txt", "a.txt", "c/d/e.txt"):
        fs.pipe(f"/listing-test/{name}", b"data")
    try:
        listed = flat("memory://listing-test")
        assert [path for path, _, _ in listed] == [
            "memory:///listing-test/a.txt",
            "memory:///listing-test/b/1.txt",
            "memory:///listing-test/b/2.txt",
            "memory:///listing-test/c/d/e.txt",
        ]
        assert all(size == 4 for _, size, _ in listed)
    finally:
        fs.rm("/listing-test", recursive=True)


def test_a_missing_folder_or_a_file_is_refused_before_listing(tmp_path):
    with pytest.raises(InputError, match=r"inputs.data: folder .* does not exist"):
        list_folder(str(tmp_path / "nowhere"), "inputs.data")
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(InputError, match=r"is a file, but the input type is uri_folder"):
        list_folder(str(tmp_path / "file.txt"), "inputs.data")
