"""MLTable folders: load them as Azure ML does, and divide them into mini-batches.

Public entry point: :func:`load`. The modules below it each hold one part of the format:
``document`` (the YAML and its schema), ``steps`` (transformations and their options),
``locations`` (``paths``), ``datastores`` (``azureml://`` URIs), one module per read
transformation (``delimited``, ``parquet``, ``jsonl``, ``delta``), ``transforms`` and
``columns`` (row and column steps), ``expressions`` (``filter``), ``partition_format``,
and ``output`` (the MLTable file written next to an mltable output).

Only descriptors are made on the client (file lists, byte ranges, row groups);
:meth:`TableReader.read` turns one of them into a pandas DataFrame on a worker.
"""

from __future__ import annotations

from .blocks import Block, BlockGroup
from .datastores import resolve_datastore
from .output import write_output_mltable
from .reader import TableReader
from .table import MLTable, TablePlan, Unit, load

__all__ = [
    "Block",
    "BlockGroup",
    "MLTable",
    "TablePlan",
    "TableReader",
    "Unit",
    "load",
    "resolve_datastore",
    "write_output_mltable",
]
