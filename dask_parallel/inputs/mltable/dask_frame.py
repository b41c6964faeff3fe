"""A Dask DataFrame whose partitions are exactly the DataFrames the reader gives, value for value."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any


def from_blocks(read: Callable[[Any], Any], blocks: Sequence[Any], meta: Any) -> Any:
    """One partition per block, each ``read(block)``, with object columns left as they are.

    Dask's ``dataframe.convert-string`` option (on by default) would turn every object column
    into text: lists, dicts, ``Decimal`` and ``bytes`` values would reach ``run()`` as their
    ``str()`` form, and bytes that are not UTF-8 would fail to decode. The option is read when
    the collection is built, so it is switched off for exactly that moment.
    """
    import dask
    import dask.dataframe as dd

    with dask.config.set({"dataframe.convert-string": False}):
        return dd.from_map(read, list(blocks), meta=meta, enforce_metadata=False)


def from_frame(frame: Any) -> Any:
    """A one-partition Dask DataFrame holding ``frame`` unchanged."""
    import dask
    import dask.dataframe as dd

    with dask.config.set({"dataframe.convert-string": False}):
        return dd.from_pandas(frame, npartitions=1)
