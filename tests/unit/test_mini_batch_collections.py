"""The job's mini-batches as a Dask bag: one graph layer, the same partitions as one task each."""

import dask
import dask.bag as db
import pytest

from dask_parallel.inputs.collections import file_bag


def _one_task_each(groups):
    return db.from_delayed([dask.delayed(list)(group) for group in groups])


@pytest.mark.parametrize(
    "groups",
    [
        [["a", "b", "c"], ["d", "e", "f"], ["g"]],  # by count: equal parts, a shorter last one
        [["a", "b"], ["c", "d"]],
        [["a"], ["b", "c", "d"], ["e", "f"]],  # by partition key: any sizes
        [["a", "b"], ["c", "d", "e"]],  # the last one longer
        [["only"]],
    ],
)
def test_file_bag_is_one_layer_with_the_same_partitions(groups):
    bag = file_bag(groups)
    assert len(bag.dask.layers) == 1
    assert bag.npartitions == len(groups)
    as_lists = bag.map_partitions(lambda files: [list(files)])
    before = _one_task_each(groups).map_partitions(lambda files: [list(files)])
    assert as_lists.compute(scheduler="sync") == before.compute(scheduler="sync") == groups
