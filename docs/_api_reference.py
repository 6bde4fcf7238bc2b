"""Write the API reference index: every name in ``latentmodels._PUBLIC`` and every public
name of the user-facing sub-packages, grouped, each an autosummary entry (one page per name).

Generated rather than hand-written so that a name added to the library appears here without
anyone remembering to list it; ``tests/test_docs.py`` checks the count against the package.
"""

from __future__ import annotations

import importlib
import inspect
import os
from pathlib import Path

import latentmodels

# section title -> (module, intro); the top-level names come first.
MODULES = {
    "Data sets": ("latentmodels.datasets", "Bundled data and file loaders."),
    "Tasks: anomaly detection": ("latentmodels.tasks.anomaly", ""),
    "Tasks: interpolation and traversals": ("latentmodels.tasks.interpolate", ""),
    "Tasks: latent maps and neighbours": ("latentmodels.tasks.maps", ""),
    "Tasks: denoising": ("latentmodels.tasks.denoise", ""),
    "Tasks: features for a classifier": ("latentmodels.tasks.features", ""),
    "Tasks: factor control and concept erasure": ("latentmodels.tasks.factors", ""),
    "Tasks: debiasing": ("latentmodels.tasks.debias", ""),
    "Metrics": ("latentmodels.metrics", "Anomaly detection, image quality, sample quality."),
    "Metrics: topic models": ("latentmodels.metrics.topics", ""),
    "Plots": ("latentmodels.plots", "Pictures shared by every family."),
    "Plots: HMMs": ("latentmodels.plots.hmm", ""),
    "Plots: LDA": ("latentmodels.plots.lda", ""),
    "Plots: GANs": ("latentmodels.plots.gan", ""),
    "Deep models: training": ("latentmodels.deep.training", "The one training loop."),
    "HMMs: extending": ("latentmodels.hmm", "Monitors and new emission types."),
    "Corruption": ("latentmodels.deep.corruption", "Noise for denoising models and tasks."),
}


def public_names(module_name: str) -> list[str]:
    """``__all__`` when the module has one, else the functions and classes it defines."""
    module = importlib.import_module(module_name)
    names = getattr(module, "__all__", None)
    if names is None:
        names = [name for name, obj in vars(module).items()
                 if not name.startswith("_") and (inspect.isfunction(obj) or inspect.isclass(obj))
                 and obj.__module__ == module_name]
    return sorted(names)


def top_level_names() -> list[str]:
    return sorted(latentmodels._PUBLIC)


def all_entries() -> list[str]:
    """Every documented name, dotted, as the reference lists it."""
    entries = [f"latentmodels.{name}" for name in top_level_names()]
    seen = {getattr(latentmodels, name) for name in top_level_names()}
    for module_name, _intro in MODULES.values():
        module = importlib.import_module(module_name)
        for name in public_names(module_name):
            obj = getattr(module, name)
            if (inspect.isclass(obj) or inspect.isfunction(obj)) and obj in seen:
                continue  # already listed under its top-level name
            entries.append(f"{module_name}.{name}")
    return entries


def _is_listed_callable(obj, seen) -> bool:
    return (inspect.isclass(obj) or inspect.isfunction(obj)) and obj in seen


def _block(title: str, intro: str, names: list[str], current_module: str) -> list[str]:
    lines = [title, "-" * len(title), ""]
    if intro:
        lines += [intro, ""]
    # a module target, so that :mod:`latentmodels.metrics` in a docstring links here
    lines += [f".. module:: {current_module}", "", ".. autosummary::", "   :toctree: .", ""]
    lines += [f"   {name}" for name in names]
    return lines + [""]


def write_api_reference(target: Path) -> None:
    lines = ["API reference", "=============", "",
             "Every public name, generated from the numpy-style docstrings. Each page has an "
             "``Examples`` section that the test suite runs.", ""]
    lines += _block("Models and the contract", "Importable from ``latentmodels`` directly.",
                    top_level_names(), "latentmodels")
    seen = {getattr(latentmodels, name) for name in top_level_names()}
    for title, (module_name, intro) in MODULES.items():
        module = importlib.import_module(module_name)
        names = [n for n in public_names(module_name)
                 if not _is_listed_callable(getattr(module, n), seen)]
        if names:
            lines += _block(title, intro, names, module_name)
    text = "\n".join(lines)
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        tmp = target.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)
