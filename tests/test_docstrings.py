"""Docstrings: every example runs, and every public name has a numpy-style ``Examples`` section.

The modules checked are the library's shared surfaces (base, rundir, _internal, datasets,
metrics, plots, report, runs, tasks); the model families and the CLI keep their own rules.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import tempfile
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

PACKAGE = Path(__file__).resolve().parents[1] / "latentmodels"
PATTERNS = (
    "base.py",
    "rundir.py",
    "_internal/*.py",
    "datasets/*.py",
    "metrics/*.py",
    "plots/*.py",
    "report/**/*.py",
    "runs/*.py",
    "tasks/*.py",
)
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _module_names(public_only: bool) -> list[str]:
    names = set()
    for pattern in PATTERNS:
        for path in PACKAGE.glob(pattern):
            parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            if public_only and any(p.startswith("_") and p != "_internal" for p in parts):
                continue
            names.add(".".join(parts))
    return sorted(names)


def _public_names(module) -> list[str]:
    """Public functions and classes defined in ``module``, and the public methods and
    properties of those classes, as dotted names."""
    names = []
    for name, obj in vars(module).items():
        if name.startswith("_") or not (inspect.isfunction(obj) or inspect.isclass(obj)):
            continue
        if obj.__module__ != module.__name__:
            continue
        names.append(name)
        if inspect.isclass(obj):
            names += [
                f"{name}.{attr}"
                for attr, member in vars(obj).items()
                if not attr.startswith("_")
                and (inspect.isfunction(member) or isinstance(member, (property, classmethod)))
            ]
    return names


def _lookup(module, dotted: str):
    obj = module
    for part in dotted.split("."):
        obj = inspect.getattr_static(obj, part)
    if isinstance(obj, property):
        return obj.fget
    return getattr(obj, "__func__", obj)


def _has_examples(obj) -> bool:
    return "Examples\n--------\n" in inspect.cleandoc(obj.__doc__ or "")


@pytest.mark.parametrize("module_name", _module_names(public_only=False))
def test_examples_run(module_name, monkeypatch, tmp_path):
    import matplotlib.pyplot as plt

    monkeypatch.setattr(plt, "show", lambda *a, **k: None)
    # examples write into tempfile.mkdtemp() folders: keep them under pytest's tmp_path
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    module = importlib.import_module(module_name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    failures = []
    for test in finder.find(module, module_name, globs=vars(module).copy()):
        runner.run(test, out=failures.append)
    plt.close("all")
    assert runner.failures == 0, "".join(failures)


@pytest.mark.parametrize("module_name", _module_names(public_only=True))
def test_public_names_have_examples(module_name):
    module = importlib.import_module(module_name)
    missing = [name for name in _public_names(module) if not _has_examples(_lookup(module, name))]
    assert not missing, f"{module_name}: no numpy 'Examples' section in {missing}"


@pytest.mark.parametrize("module_name", _module_names(public_only=True))
def test_names_exported_from_private_modules_have_examples(module_name):
    # latentmodels.plots re-exports the functions of plots/_common.py: public all the same
    module = importlib.import_module(module_name)
    missing = [
        name
        for name in getattr(module, "__all__", [])
        if (inspect.isfunction(obj := getattr(module, name)) or inspect.isclass(obj))
        and obj.__module__.startswith(module_name + "._")
        and not obj.__module__.startswith(module_name + "._internal")
        and not _has_examples(obj)
    ]
    assert not missing, f"{module_name}: no numpy 'Examples' section in {missing}"


def test_the_check_finds_modules():
    names = _module_names(public_only=True)
    assert "latentmodels.base" in names and "latentmodels.report.sections.hmm" in names
    assert "latentmodels.plots._common" not in names
    base = importlib.import_module("latentmodels.base")
    assert {"LatentModel", "LatentModel.save", "LatentModel.load", "load"} <= set(
        _public_names(base))
