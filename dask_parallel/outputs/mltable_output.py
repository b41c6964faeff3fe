"""The ``MLTable`` file written into an ``Output(type="mltable")`` folder after a job."""

from __future__ import annotations

import os
from typing import Any

import yaml

from dask_parallel.rundir.atomic import atomic_open

MLTABLE = "MLTable"
READERS: dict[str, dict[str, Any]] = {
    ".parquet": {"read_parquet": None},
    ".csv": {"read_delimited": {"delimiter": ",", "header": "all_files_same_headers"}},
    ".tsv": {"read_delimited": {"delimiter": "\t", "header": "all_files_same_headers"}},
    ".jsonl": {"read_json_lines": None},
}


def describe_folder(folder: str, appended: str | None = None, has_header: bool = False) -> dict:
    """The MLTable document for what is in ``folder`` (plus ``appended``, the append_row file).

    The append_row file (space-separated, header only with ``--append_row_dataframe_header``)
    becomes a ``read_delimited`` table; otherwise files of one known type (parquet, csv,
    tsv, jsonl) get their read transformation, and anything else is a list of files.
    """
    files = sorted(
        os.path.relpath(os.path.join(root, name), folder).replace(os.sep, "/")
        for root, _dirs, names in os.walk(folder)
        for name in names
        if not (root == folder and name == MLTABLE)
    )
    if appended is not None:
        return {
            "type": "mltable",
            "paths": [{"file": f"./{appended}"}],
            "transformations": [
                {
                    "read_delimited": {
                        "delimiter": " ",
                        "header": "all_files_same_headers" if has_header else "no_header",
                        "encoding": "utf8",
                    }
                }
            ],
        }
    document: dict = {
        "type": "mltable",
        "paths": [{"file": f"./{name}"} for name in files] or [{"folder": "./"}],
    }
    suffixes = {os.path.splitext(name)[1].lower() for name in files}
    if len(suffixes) == 1 and next(iter(suffixes)) in READERS:
        step = READERS[next(iter(suffixes))]
        name, args = next(iter(step.items()))
        document["transformations"] = [name if args is None else step]
    return document


def write_output_mltable(folder: str, appended: str | None = None, has_header: bool = False) -> str:
    """Write ``<folder>/MLTable`` describing the folder, unless the entry script wrote one."""
    target = os.path.join(folder, MLTABLE)
    if os.path.exists(target):
        return target
    document = describe_folder(folder, appended, has_header)
    with atomic_open(target) as handle:
        yaml.safe_dump(document, handle, sort_keys=False)
    return target
