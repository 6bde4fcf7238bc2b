"""Deprecated alias of :mod:`latentmodels._internal.io` (moved there; kept for one release)."""

from ._internal.aliases import alias_module

alias_module(__name__, "latentmodels._internal.io")
