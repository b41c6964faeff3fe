""":class:`TableReader`: how every block of one tabular MLTable is read, on any worker."""

from __future__ import annotations

import dataclasses
from typing import Any

import pyarrow as pa

from dask_parallel.inputs.blocks import Block, BlockGroup
from dask_parallel.inputs.mltable.frames import to_pandas
from dask_parallel.inputs.mltable.steps import Step
from dask_parallel.inputs.mltable.transforms import apply_steps


@dataclasses.dataclass(frozen=True)
class TableReader:
    """Everything needed to turn a :class:`Block` into the DataFrame ``run()`` receives.

    It is small and picklable: the read step, the other steps, the unified schema and the
    traits, fixed once on the client so that every block comes out with the same columns
    and dtypes.
    """

    where: str
    read_step: Step
    steps: tuple[Step, ...]
    schema: pa.Schema
    traits: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def format(self) -> str:
        return self.read_step.name

    def read_raw(self, block: Block):
        """The block's rows after the read transformation only."""
        from dask_parallel.inputs.mltable import delimited, delta, jsonl, parquet

        module = {
            "read_delimited": delimited,
            "read_parquet": parquet,
            "read_json_lines": jsonl,
            "read_delta_lake": delta,
        }[self.read_step.name]
        table = module.read(block, self.read_step, self.schema, self.where)
        frame = table if not isinstance(table, pa.Table) else to_pandas(table, consume=True)
        del table
        overrides = (self.read_step.options.get("infer_column_types") or {}).get("column_type_overrides")
        if overrides:
            from dask_parallel.inputs.mltable.columns import convert

            frame = convert(frame, overrides, f"{self.where}: infer_column_types.column_type_overrides")
        if self.read_step["include_path_column"]:
            frame.insert(0, self.read_step["path_column"], block.path) if self.read_step[
                "path_column"
            ] not in frame.columns else frame.__setitem__(self.read_step["path_column"], block.path)
            frame[self.read_step["path_column"]] = frame[self.read_step["path_column"]].astype("str")
        return frame

    def read_until(self, block: Block, step_index: int | None):
        frame = self.read_raw(block)
        return apply_steps(frame, self.steps, block, self.where, self.traits, until=step_index)

    def read(self, block: Block | BlockGroup):
        """Read one block (or a group of blocks) into a pandas DataFrame (runs on a worker)."""
        import pandas as pd

        parts = [self.read_until(b, None) for b in block.blocks]
        if len(parts) == 1:
            return parts[0]
        return pd.concat(parts, ignore_index=True)
