"""Warnings about driver options in ``program_arguments`` that look wrong.

``program_arguments`` mixes the driver's options (``--allowed_failed_percent 30``) with the
entry script's own (``--model ./m``), so an unknown option is not an error. But an option
one typo away from a driver option (``--resource_monitor_interva 20``) almost certainly
meant the driver's, and silently leaving the driver at its default is worse than a word;
an option given twice keeps only its last value. Azure warns about both; so does this.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Sequence

from dask_parallel.spec.driver_options import _parser

DRIVER_OPTIONS: tuple[str, ...] = tuple(
    sorted(option for option in _parser()._option_string_actions if option.startswith("--"))
)


def driver_option_warnings(tokens: Sequence[str]) -> list[str]:
    """One message per misspelled or repeated driver option.

    >>> driver_option_warnings(["--model", "m", "--resource_monitor_interva", "20"])[0][:60]
    "program_arguments: '--resource_monitor_interva' is not a dri"
    """
    messages = []
    counts: Counter[str] = Counter()
    for token in tokens:
        if not token.startswith("--"):
            continue
        name = token.split("=", 1)[0]
        if name in DRIVER_OPTIONS:
            counts[name] += 1
            continue
        close = difflib.get_close_matches(name, DRIVER_OPTIONS, n=1, cutoff=0.85)
        if close:
            messages.append(
                f"program_arguments: {name!r} is not a driver option; did you mean {close[0]!r}? As "
                "written it is passed to the entry script only, and the driver keeps its default."
            )
    for name, count in counts.items():
        if count > 1:
            messages.append(
                f"program_arguments: {name} is given {count} times; the driver uses the last value. "
                "Remove the others."
            )
    return messages


__all__ = ["DRIVER_OPTIONS", "driver_option_warnings"]
