"""`dask-parallel --help` is instant: it imports neither Dask, distributed nor pandas."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = """
import sys
from dask_parallel.cli import main
try:
    main({argv!r})
except SystemExit:
    pass
heavy = sorted(m for m in ("dask", "distributed", "pandas", "numpy", "tqdm") if m in sys.modules)
print("HEAVY:", ",".join(heavy))
"""


@pytest.mark.parametrize("argv", [["--help"], ["run", "--help"], ["status", "--help"], []])
def test_help_imports_no_heavy_modules(argv, python_env):
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(argv=argv)],
        env=python_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "HEAVY: \n" in done.stdout, done.stdout
    assert "dask-parallel" in done.stdout


def test_help_lists_commands_and_exit_codes(python_env):
    done = subprocess.run(
        [sys.executable, "-m", "dask_parallel", "--help"],
        env=python_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    for name in ("run", "validate", "status", "logs"):
        assert f"    {name} " in done.stdout or f"{{{name}" in done.stdout or f" {name} " in text
    assert (
        "0 completed, 1 failed, 2 invalid job file, arguments or cluster setting, 3 internal error "
        "(please report it), 130 canceled" in text
    )
