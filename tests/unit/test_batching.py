from hypothesis import given
from hypothesis import strategies as st

from dask_parallel.batching import block_mini_batches, file_mini_batches
from dask_parallel.inputs.blocks import Block


def test_groups_consecutive_files():
    files = [f"/d/f{i:02d}" for i in range(23)]
    batches = file_mini_batches(files, 5)
    assert [len(b.files) for b in batches] == [5, 5, 5, 5, 3]
    assert [f for b in batches for f in b.files] == files
    assert [b.index for b in batches] == list(range(5))


def test_ids_depend_on_content_only():
    files = [f"/d/f{i}" for i in range(10)]
    assert [b.id for b in file_mini_batches(files, 3)] == [b.id for b in file_mini_batches(list(files), 3)]
    assert file_mini_batches(files, 3)[0].id != file_mini_batches(files, 4)[0].id
    assert len({b.id for b in file_mini_batches(files, 1)}) == 10


def test_block_batches():
    blocks = [Block(path="/a.csv", start=0, end=10), Block(path="/a.csv", start=10, end=20)]
    batches = block_mini_batches(blocks)
    assert [b.block for b in batches] == blocks
    assert batches[0].known_items is None
    assert batches[0].is_tabular


@given(st.integers(min_value=0, max_value=200), st.integers(min_value=1, max_value=50))
def test_every_file_exactly_once(count, size):
    files = [f"f{i}" for i in range(count)]
    batches = file_mini_batches(files, size)
    assert [f for b in batches for f in b.files] == files
    assert all(1 <= len(b.files) <= size for b in batches)
    assert len(batches) == -(-count // size)
