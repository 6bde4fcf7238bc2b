"""Deprecated alias of :mod:`latentmodels.metrics.generative` (kept for one release)."""

from ._internal.aliases import alias_module

alias_module(__name__, "latentmodels.metrics.generative")
