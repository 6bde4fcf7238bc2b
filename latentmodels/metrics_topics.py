"""Deprecated alias of :mod:`latentmodels.metrics.topics` (moved there; kept for one release)."""

from ._internal.aliases import alias_module

alias_module(__name__, "latentmodels.metrics.topics")
