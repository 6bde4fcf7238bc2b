"""Deprecated alias of :mod:`latentmodels.deep.corruption` (moved there; kept for one release)."""

from ._internal.aliases import alias_module

alias_module(__name__, "latentmodels.deep.corruption")
