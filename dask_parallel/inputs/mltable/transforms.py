"""Row and column transformations applied to each block's DataFrame, in file order."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from dask_parallel.errors import MLTableError
from dask_parallel.inputs.blocks import Block
from dask_parallel.inputs.mltable.columns import convert, select
from dask_parallel.inputs.mltable.expressions import apply_filter
from dask_parallel.inputs.mltable.partition_format import PartitionFormat
from dask_parallel.inputs.mltable.steps import Step

TRAITS_MESSAGE = "Columns in traits must be kept and cannot be dropped"


def sample_mask(frame: pd.DataFrame, seed: int, lower: float, upper: float, path: str) -> np.ndarray:
    """A reproducible Bernoulli sample: a row's draw depends on the seed, its file and its values.

    The same row is kept or dropped whatever the mini-batch size, the worker or the run.
    """
    if frame.empty:
        return np.zeros(0, dtype=bool)
    hashed = pd.util.hash_pandas_object(frame, index=False, hash_key=_hash_key(seed)).to_numpy()
    salt = np.uint64(int(pd.util.hash_array(np.array([path], dtype=object))[0]))
    uniform = ((hashed ^ salt) >> np.uint64(11)).astype(np.float64) / float(1 << 53)
    return (uniform >= lower) & (uniform < upper)


def _hash_key(seed: int) -> str:
    return f"{seed:016d}"[-16:]


def apply_step(
    frame: pd.DataFrame, step: Step, block: Block, where: str, traits: dict[str, Any]
) -> pd.DataFrame:
    """One transformation on one block's rows."""
    name = step.name
    label = f"{where}: transformations[{step.index}].{name}"
    if name in ("take", "skip"):
        bounds = block.slice_for(step.index)
        if bounds is None:
            return frame
        return frame.iloc[bounds[0] : bounds[1]]
    if name == "take_random_sample":
        mask = sample_mask(frame, step["seed"], 0.0, step["probability"], block.path)
        return frame[mask]
    if name == "sample":
        mask = sample_mask(
            frame, step["seed"], step["probability_lower_bound"], step["probability"], block.path
        )
        return frame[mask]
    if name in ("drop_columns", "keep_columns"):
        chosen = select(step["columns"], list(frame.columns), label)
        if name == "drop_columns":
            protected = sorted(set(chosen) & _trait_columns(traits))
            if protected:
                raise MLTableError(f"{label}: {TRAITS_MESSAGE} (trait columns {protected}).")
            return frame.drop(columns=chosen)
        missing_traits = sorted(c for c in _trait_columns(traits) if c in frame.columns and c not in chosen)
        if missing_traits:
            raise MLTableError(f"{label}: {TRAITS_MESSAGE} (trait columns {missing_traits}).")
        return frame[chosen]
    if name == "convert_column_types":
        return convert(frame, step["conversions"], f"{label} ({block.path})")
    if name == "filter":
        try:
            return apply_filter(frame, step["expression"])
        except MLTableError as exc:
            raise MLTableError(f"{label} ({block.path}): {exc}") from None
        except TypeError as exc:
            raise MLTableError(
                f"{label}: expression {step['expression']!r} compares values of different types "
                f"in {block.path}: {exc}. Convert the column first (convert_column_types)."
            ) from None
    if name == "extract_columns_from_partition_format":
        return add_partition_columns(frame, PartitionFormat.parse(step["partition_format"]), block.path)
    if name == "select_partitions":
        return frame  # applied to the list of blocks when planning
    raise MLTableError(f"{label}: cannot be applied here.")  # pragma: no cover - validated earlier


def add_partition_columns(frame: pd.DataFrame, fmt: PartitionFormat, path: str) -> pd.DataFrame:
    """The format's columns appended: text columns first, then datetime columns (official order).

    The values come from the file's path whether or not the read step includes the path
    column (the official reader leaves them null without it: a deliberate difference).
    """
    values = fmt.values(path)
    frame = frame.copy()
    ordered = [c for c in fmt.columns if c[1] is None] + [c for c in fmt.columns if c[1] is not None]
    for name, date_format in ordered:
        value = values.get(name)
        dtype = "str" if date_format is None else "datetime64[ns]"
        frame[name] = pd.Series([value] * len(frame), index=frame.index, dtype=dtype)
    return frame


def _trait_columns(traits: dict[str, Any]) -> set[str]:
    columns = set(traits.get("index_columns") or [])
    if traits.get("timestamp_column"):
        columns.add(traits["timestamp_column"])
    return columns


def apply_steps(
    frame: pd.DataFrame,
    steps: tuple[Step, ...],
    block: Block,
    where: str,
    traits: dict[str, Any],
    until: int | None = None,
) -> pd.DataFrame:
    """Every non-read step (those before position ``until`` when given) on one block."""
    for step in steps:
        if step.is_read:
            continue
        if until is not None and step.index >= until:
            break
        frame = apply_step(frame, step, block, where, traits)
    return frame.reset_index(drop=True)
