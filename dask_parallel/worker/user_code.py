"""How the user's run() is called and what it returned."""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any


@dataclasses.dataclass(frozen=True)
class MiniBatchContext:
    """The optional second argument of ``run(mini_batch, mini_batch_context)``."""

    minibatch_index: int
    mini_batch_id: str
    partition_key_value: dict[str, Any] | None = None
    dataset: Any = None


def result_length(value: Any) -> int | None:
    if isinstance(value, (list, tuple)):
        return len(value)
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a dependency
        return None
    if isinstance(value, pd.DataFrame):
        return len(value)
    return None


def accepts_context(function: Any) -> bool:
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    variadic = any(p.kind is p.VAR_POSITIONAL for p in parameters)
    return len(positional) >= 2 or variadic
