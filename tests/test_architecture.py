"""The package's layout keeps its promises: imports run one way and private names stay home.

The import graph is read from the source (every ``import`` statement, including those inside
functions), so a cycle hidden behind a late import inside a function is still found.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "latentmodels"
# Deprecated aliases of old module paths: they only forward to the new modules.
ALIASES = {
    "latentmodels.corruption",
    "latentmodels.io",
    "latentmodels.metrics_generative",
    "latentmodels.metrics_topics",
    "latentmodels.models",
    "latentmodels.models.hmm",
    "latentmodels.text",
    "latentmodels.training",
}
# Layers, top to bottom: a module may import its own layer or any layer below it.
LAYERS = [
    {"cli", "__main__"},
    {"runs", "explore"},
    {"report"},
    {"plots", "metrics", "tasks"},
    {"rundir"},
    {"deep", "hmm", "lda", "linear"},
    {"datasets", "base"},
    {"_internal"},
]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _imports(name: str) -> Iterator[tuple[str, str, int]]:
    """``(module, imported name or "", line)`` for each import of a latentmodels module."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    # Imports under `if TYPE_CHECKING:` never run: they are annotations, not dependencies.
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for inner in ast.walk(node)
    }
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "latentmodels":
                    yield alias.name, "", node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "latentmodels":
                continue
            for alias in node.names:
                yield target, alias.name, node.lineno


def _edges(name: str) -> set[str]:
    found = set()
    for target, imported, _ in _imports(name):
        submodule = f"{target}.{imported}"
        found.add(submodule if submodule in MODULES else target)
    found.discard(name)
    return {t for t in found if t in MODULES}


GRAPH = {name: _edges(name) for name in MODULES}


def _find_cycle() -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(GRAPH[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(GRAPH):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def _top_level_names(module: str) -> set[str] | None:
    """Names a module defines at its top level; None when it answers any name
    (a module ``__getattr__``)."""
    names: set[str] = set()
    for node in ast.parse(MODULES[module].read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if node.name == "__getattr__":
                return None
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.If, ast.Try)):
            for inner in ast.walk(node):
                if isinstance(inner, (ast.Import, ast.ImportFrom)):
                    names.update((a.asname or a.name).split(".")[0] for a in inner.names)
                elif isinstance(inner, ast.Assign):
                    names.update(n.id for t in inner.targets for n in ast.walk(t)
                                 if isinstance(n, ast.Name))
    return names


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_import_names_something_that_exists(name):
    """A late import inside a function is only checked when it runs: check them all here,
    modules and the names taken from them."""
    missing = []
    for target, imported, line in _imports(name):
        if target not in MODULES:
            missing.append(f"line {line}: module {target}")
            continue
        if not imported or f"{target}.{imported}" in MODULES:
            continue
        defined = _top_level_names(target)
        if defined is not None and imported not in defined:
            missing.append(f"line {line}: {imported} from {target}")
    assert not missing, f"{name} imports what does not exist: {missing}"


def test_the_graph_sees_imports_inside_functions():
    # cli verbs import their run orchestrators inside the command functions (a fast --help):
    # the graph must still hold those edges, or the cycle check below proves nothing.
    assert "latentmodels.runs.deep" in GRAPH["latentmodels.cli.train"]
    assert "latentmodels.report" in GRAPH["latentmodels.runs.deep"]


def test_no_module_takes_part_in_an_import_cycle():
    assert _find_cycle() is None, " -> ".join(_find_cycle() or [])


def test_the_cycle_check_finds_a_planted_cycle():
    GRAPH["latentmodels.base"].add("latentmodels.cli.app")
    try:
        assert _find_cycle() is not None
    finally:
        GRAPH["latentmodels.base"].discard("latentmodels.cli.app")


def _layer(name: str) -> int | None:
    top = name.split(".")[1] if "." in name else None
    for index, layer in enumerate(LAYERS):
        if top in layer:
            return index
    return None


@pytest.mark.parametrize("name", sorted(set(MODULES) - ALIASES - {"latentmodels"}))
def test_imports_run_one_way(name):
    """cli -> runs/explore -> report -> plots/metrics/tasks -> rundir -> families ->
    datasets/base -> _internal: nothing imports a layer above its own."""
    own = _layer(name)
    assert own is not None, f"{name} belongs to no layer; add its package to LAYERS"
    upward = [t for t in GRAPH[name] if t != "latentmodels" and (_layer(t) or 0) < own]
    assert not upward, f"{name} imports from a higher layer: {sorted(upward)}"


def _package_of(name: str) -> str:
    parts = name.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else name


@pytest.mark.parametrize("name", sorted(set(MODULES) - ALIASES))
def test_no_private_name_crosses_a_package(name):
    """A module may use ``_private`` names and modules of its own package only; helpers
    shared across packages are public names (``latentmodels._internal`` is shared by design,
    and the top-level package's lazy table is the public API)."""
    crossing = []
    for target, imported, line in _imports(name):
        if _package_of(target) == _package_of(name) or target == "latentmodels._internal":
            continue
        if target.startswith("latentmodels._internal."):
            private_module = False
        else:
            private_module = any(p.startswith("_") for p in target.split(".")[1:])
        if private_module or (imported.startswith("_") and imported != "__version__"):
            crossing.append(f"line {line}: from {target} import {imported}")
    assert not crossing, f"{name} reaches into another package's private names: {crossing}"
