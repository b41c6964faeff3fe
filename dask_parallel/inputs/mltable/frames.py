"""Arrow tables to the pandas DataFrames ``run()`` receives: same dtypes for every block, writable.

Integer and boolean columns become pandas' nullable ``Int64`` and ``boolean`` (so a block with
a null has the same dtypes as one without), floats ``float64``/``float32`` with NaN for null,
text pandas' ``str``. The numeric columns are converted here rather than by
``Table.to_pandas``: pandas' own ``Int64`` conversion copies each column and builds its mask
from the validity bitmap, and ``to_pandas``'s zero-copy floats are read-only, so an entry script
that assigns into its mini-batch (``df.loc[mask, "x"] = 0``) would fail. Here a column whose
Arrow buffer belongs to this table alone becomes the DataFrame's (writable) storage without a
copy; any other is copied once.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_TO_INT64 = frozenset({pa.int8(), pa.int16(), pa.int32(), pa.int64(), pa.uint8(), pa.uint16(), pa.uint32()})
_FLOATS = {pa.float32(): np.float32, pa.float64(): np.float64}
_NUMERIC = _TO_INT64 | set(_FLOATS) | {pa.bool_()}


def to_pandas(table: pa.Table, *, consume: bool = False):
    """``table`` as a DataFrame of the dtypes above.

    With ``consume`` the table is the caller's to give away: its buffers may become the
    DataFrame's storage, and pyarrow may release the other columns as it converts them (the
    caller must not touch ``table`` afterwards).
    """
    import pandas as pd

    names, rows = table.column_names, table.num_rows
    chosen = [n for n, kind in zip(names, table.schema.types) if kind in _NUMERIC]
    if len(set(names)) != len(names):  # repeated names: pyarrow keeps them apart (and copies)
        return _arrow_to_pandas(table, consume=False)
    if not chosen:
        return _arrow_to_pandas(table, consume)
    numeric = {name: _numeric(table.column(name), owned=consume) for name in chosen}
    others = table.drop_columns(chosen)
    del table
    rest: Any = _arrow_to_pandas(others, consume) if others.num_columns else {}
    columns = {name: numeric[name] if name in numeric else rest[name] for name in names}
    return pd.DataFrame(columns, index=pd.RangeIndex(rows), copy=False)


def _numeric(column: pa.ChunkedArray, *, owned: bool) -> Any:
    import pandas as pd

    kind = column.type
    if column.num_chunks == 1:
        array = column.chunk(0)
    else:
        array, owned = column.combine_chunks(), True  # a new buffer: ours
    if kind in _TO_INT64 and kind != pa.int64():
        array, owned = pc.cast(array, pa.int64()), True
    nulls = array.null_count
    if kind == pa.bool_():
        mask = _null_mask(array)
        values = (pc.fill_null(array, False) if nulls else array).to_numpy(zero_copy_only=False)
        return pd.arrays.BooleanArray(_writable(values), mask)
    if kind in _FLOATS:
        if nulls:  # NaN where null, in a new array
            return _writable(array.to_numpy(zero_copy_only=False))
        return _values(array, _FLOATS[kind], owned)
    return pd.arrays.IntegerArray(_values(array, np.int64, owned), _null_mask(array))


def _values(array: pa.Array, dtype: type, owned: bool) -> np.ndarray:
    """The array's data buffer as numpy: itself when it is ours (and writable), else a copy.
    Slots under nulls hold whatever the buffer holds; the mask hides them."""
    buffer = array.buffers()[1]
    if buffer is None:  # an empty array may have no data buffer
        return np.zeros(len(array), dtype=dtype)
    values = np.frombuffer(
        buffer, dtype=dtype, count=len(array), offset=array.offset * np.dtype(dtype).itemsize
    )
    if owned and values.flags.writeable:
        return values
    return values.copy()


def _writable(values: np.ndarray) -> np.ndarray:
    return values if values.flags.writeable else values.copy()


def _null_mask(array: pa.Array) -> np.ndarray:
    if not array.null_count:
        return np.zeros(len(array), dtype=bool)
    return np.asarray(array.is_null().to_numpy(zero_copy_only=False), dtype=bool)


def _arrow_to_pandas(table: pa.Table, consume: bool):
    """pyarrow's conversion, for the columns converted above when names repeat, and the others."""
    import pandas as pd

    text = pd.StringDtype(na_value=np.nan)  # pandas' default "str" dtype
    mapping = {
        pa.string(): text,
        pa.large_string(): text,
        **dict.fromkeys(_TO_INT64, pd.Int64Dtype()),
        pa.bool_(): pd.BooleanDtype(),
    }
    # The retry below needs the table whole, so a table with timestamps is never consumed.
    consume = consume and not any(pa.types.is_timestamp(f.type) for f in table.schema)
    options = {"split_blocks": True, "self_destruct": True} if consume else {}
    try:
        return table.to_pandas(types_mapper=mapping.get, coerce_temporal_nanoseconds=True, **options)
    except pa.ArrowInvalid:
        # Timestamps outside 1677-2262 do not fit nanoseconds: keep the file's unit for them.
        return table.to_pandas(types_mapper=mapping.get)
