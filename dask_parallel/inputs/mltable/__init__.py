"""MLTable folders: load them as Azure ML does, and divide them into mini-batches.

Public entry point: :func:`load`. The modules below it each hold one part of the format:
``document`` (the YAML and its schema), ``steps`` (transformations and their options),
``locations`` (``paths``), ``datastores`` (``azureml://`` URIs), one module per read
transformation (``delimited``, ``parquet``, ``jsonl``, ``delta``), ``transforms`` and
``columns`` (row and column steps), ``expressions`` (``filter``) and ``partition_format``.
The MLTable file written next to an mltable output is made in :mod:`dask_parallel.outputs`.

Only descriptors are made on the client (file lists, byte ranges, row groups);
:meth:`TableReader.read` turns one of them into a pandas DataFrame on a worker.
"""

from __future__ import annotations

from dask_parallel.inputs.blocks import Block, BlockGroup
from dask_parallel.inputs.mltable.datastores import resolve_datastore
from dask_parallel.inputs.mltable.reader import TableReader
from dask_parallel.inputs.mltable.table import MLTable, TablePlan, Unit, load

__all__ = [
    "Block",
    "BlockGroup",
    "MLTable",
    "TablePlan",
    "TableReader",
    "Unit",
    "load",
    "resolve_datastore",
]
