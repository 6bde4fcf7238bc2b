"""Every public class and function of latentmodels.deep has a numpy-style docstring with
a Parameters section (when it takes any) and an Examples section, and the examples run."""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil

import pytest

import latentmodels.deep

MODULES = sorted(
    name
    for _, name, _ in pkgutil.walk_packages(latentmodels.deep.__path__, "latentmodels.deep.")
)


def _public_objects():
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name, obj in vars(module).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != module_name:
                continue
            if inspect.isclass(obj) or inspect.isfunction(obj):
                yield f"{module_name}.{name}", obj


PUBLIC = dict(_public_objects())


def _takes_parameters(obj) -> bool:
    target = obj
    if inspect.isclass(obj):
        owner = next(k for k in obj.__mro__ if "__init__" in vars(k))
        if not owner.__module__.startswith("latentmodels"):
            return False  # e.g. torch's nn.Module.__init__: nothing of ours to document
        target = obj.__init__
    try:
        parameters = inspect.signature(target).parameters
    except (TypeError, ValueError):
        return False
    return any(name not in ("self", "cls") for name in parameters)


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_numpy_style_docstring(name):
    obj = PUBLIC[name]
    doc = inspect.getdoc(obj) or ""
    assert "Examples\n--------\n>>> " in doc, f"{name} has no Examples section"
    if _takes_parameters(obj):
        assert "Parameters\n----------\n" in doc, f"{name} has no Parameters section"


@pytest.mark.parametrize("module_name", MODULES)
def test_examples_run(module_name):
    module = importlib.import_module(module_name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} failing examples in {module_name}"
