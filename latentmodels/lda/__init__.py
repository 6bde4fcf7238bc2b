"""Latent Dirichlet allocation: the estimator (:mod:`.model`), text handling (:mod:`.text`),
input checks (:mod:`._data`) and the compiled kernels (:mod:`._kernels`, ``_vb``/Gibbs).

``from latentmodels.lda import LDA`` works; the numba kernels load on first use of ``LDA``,
so reading text with :mod:`.text` stays quick.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {"LDA": ".model", "TextCorpus": ".text", "Vocabulary": ".text"}

__all__ = ["LDA", "TextCorpus", "Vocabulary"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
