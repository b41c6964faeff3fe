"""The stage layering (docs/architecture.md): light stages stay light, and imports form no cycle.

The import-linter contracts in pyproject.toml (``make lint``) forbid imports between stages;
these tests check what they cannot: the modules loaded at import time, and module cycles.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import grimp
import pytest

HEAVY = ("distributed", "pandas", "pyarrow")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

LIGHT_MODULES = [
    "dask_parallel.spec.job_spec",
    "dask_parallel.spec.job_file",
    "dask_parallel.execution.state",
    "dask_parallel.execution.events",
    "dask_parallel.jobs.parallel",
    "dask_parallel.jobs.command",
    "dask_parallel.batching",
    "dask_parallel.rundir.layout",
    "dask_parallel.rundir.ledger",
    "dask_parallel.rundir.status",
    "dask_parallel.pipelines",
]


def _loaded_after_import(module: str) -> list[str]:
    code = (
        "import importlib, json, sys\n"
        f"importlib.import_module({module!r})\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_spec_and_state_load_neither_distributed_nor_pandas():
    code = (
        "import sys\n"
        "import dask_parallel.spec.job_spec, dask_parallel.execution.state\n"
        "print(' '.join(m for m in ('distributed', 'pandas') if m in sys.modules))\n"
    )
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO, check=True
    )
    assert done.stdout.strip() == ""


@pytest.mark.parametrize("module", LIGHT_MODULES)
def test_light_modules_load_no_heavy_library(module):
    assert _loaded_after_import(module) == []


def test_the_check_sees_a_heavy_import():
    # The probe itself must notice a heavy library, or the tests above prove nothing.
    assert "distributed" in _loaded_after_import("dask_parallel.execution.driver")


def _cycles(graph: grimp.ImportGraph, package: str) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    modules = sorted(m for m in graph.modules if m == package or m.startswith(package + "."))
    inside = set(modules)
    edges = {m: sorted(set(graph.find_modules_directly_imported_by(m)) & inside) for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in modules:
        if root in index:
            continue
        work = [(root, iter(edges[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycles_between_modules():
    # Lazy (function-level) imports count too: a cycle through them is still a cycle.
    graph = grimp.build_graph("dask_parallel", exclude_type_checking_imports=True)
    assert _cycles(graph, "dask_parallel") == []


def test_cycle_finder_finds_a_cycle():
    graph = grimp.ImportGraph()
    for module in ("p", "p.a", "p.b", "p.c"):
        graph.add_module(module)
    graph.add_import(importer="p.a", imported="p.b")
    graph.add_import(importer="p.b", imported="p.a")
    graph.add_import(importer="p.b", imported="p.c")
    assert _cycles(graph, "p") == [["p.a", "p.b"]]
