"""A job's mini-batches as a Dask collection: a bag of file lists, or a dataframe.

The engine runs each mini-batch as its own task (so it can time out, retry and resume one
mini-batch at a time); this module shows the very same division as the Dask collection a
Dask user would build, with one partition per mini-batch, to inspect or compute directly.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

from dask_parallel.jobs.parallel import Parallel


def mini_batches(job: Parallel, *, base_dir: str | os.PathLike | None = None) -> Any:
    """The mini-batches of ``job`` as a Dask collection, one partition per mini-batch.

    File inputs give a ``dask.bag.Bag`` whose partition *i* is the list of files of
    mini-batch *i* (as URLs or local paths: remote files are downloaded only when the job
    runs); tabular MLTables give a ``dask.dataframe.DataFrame`` whose partition *i* is the
    DataFrame ``run()`` receives for mini-batch *i*.

    Examples
    --------
    >>> bag = dask_parallel.mini_batches(job)          # doctest: +SKIP
    >>> bag.npartitions, bag.map_partitions(len).compute()  # doctest: +SKIP
    """

    from dask_parallel.inputs.mltable.dask_frame import from_blocks
    from dask_parallel.inputs.planning import plan_input
    from dask_parallel.spec.job_spec import build_job_spec

    if base_dir is None:
        base_dir = getattr(job, "source_dir", None) or os.getcwd()
    # Nothing is written: the run directory only names outputs that have no path.
    spec = build_job_spec(job, base_dir=os.path.abspath(os.fspath(base_dir)), run_dir=tempfile.gettempdir())
    plan = plan_input(spec)
    if plan.files and not plan.mini_batches:
        from dask_parallel.errors import JobValidationError

        raise JobValidationError(
            "mini_batch_size: auto (target_duration) divides the input while the job runs, from "
            "measured times, so there is no division to return yet; set a mini_batch_size such "
            'as "10" to get the mini-batches as a collection.'
        )
    if plan.kind == "files":
        return file_bag([list(mb.files) for mb in plan.mini_batches])
    blocks = [mb.block for mb in plan.mini_batches]
    meta = plan.reader.read(blocks[0]).iloc[:0]
    return from_blocks(plan.reader.read, blocks, meta)


def file_bag(groups: list[list[str]]) -> Any:
    """A bag whose partition *i* is ``groups[i]``, built as one graph layer of literal lists.

    ``from_sequence`` cuts a flat list into equal parts, which is the division whenever every
    group but the last has the same size (mini-batches by count); groups of other sizes
    (mini-batches by partition key) get the same single layer, written out directly.
    """
    import dask.bag as db
    from dask.highlevelgraph import HighLevelGraph
    from dask.tokenize import tokenize

    sizes = [len(group) for group in groups]
    if groups and all(size == sizes[0] for size in sizes[:-1]) and 0 < sizes[-1] <= sizes[0]:
        flat = [path for group in groups for path in group]
        return db.from_sequence(flat, partition_size=sizes[0])
    name = "mini-batch-files-" + tokenize(groups)
    layer = {(name, number): list(group) for number, group in enumerate(groups)}
    return db.Bag(HighLevelGraph.from_collections(name, layer), name, len(groups))
