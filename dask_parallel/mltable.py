"""MLTable folders, loaded as Azure ML's ``mltable`` package loads them.

``from dask_parallel import mltable; mltable.load("./data").to_pandas_dataframe()``. The
reader lives in :mod:`dask_parallel.inputs.mltable`; this module is its public face.
"""

from dask_parallel.inputs.mltable import MLTable, TablePlan, TableReader, load, resolve_datastore

__all__ = ["MLTable", "TablePlan", "TableReader", "load", "resolve_datastore"]
