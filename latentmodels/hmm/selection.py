"""Choosing the number of hidden states by an information criterion."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import numpy as np
from sklearn.base import clone

from .._internal.validation import check_choice, check_positive_int
from .base import BaseHMM


def select_n_states(
    model: BaseHMM,
    X: Any,
    lengths: Any = None,
    n_states: Iterable[int] = range(1, 7),
    criterion: str = "bic",
    *,
    resume: bool = False,
) -> tuple[BaseHMM, dict[int, float]]:
    """Fit ``model`` (a template, left untouched) for each number of states and keep the
    one with the lowest criterion (``"bic"`` or ``"aic"``).

    Returns ``(best_model, scores)`` where ``scores`` maps each number of states to its
    criterion value. With the template's ``checkpoint_dir`` set, each candidate writes its
    checkpoints into its own sub-folder ``states-<k>``, and ``resume=True`` continues a
    killed selection (finished candidates are read back, the interrupted one continues).

    Example:
        >>> import numpy as np
        >>> from latentmodels.hmm import GaussianHMM, select_n_states
        >>> rng = np.random.default_rng(0)
        >>> X = np.concatenate([rng.normal(m, 0.3, (60, 1)) for m in (0, 4, 8, 0, 4, 8)])
        >>> best, scores = select_n_states(GaussianHMM(n_iter=30, random_state=0), X,
        ...                                n_states=[1, 2, 3, 4])
        >>> best.n_components
        3
    """
    check_choice(criterion, "criterion", ("bic", "aic"))
    if not isinstance(model, BaseHMM):
        raise TypeError(f"model must be an HMM estimator (a template), got {type(model).__name__}")
    candidates = [check_positive_int(k, "n_states") for k in n_states]
    if not candidates:
        raise ValueError("n_states must contain at least one number of states")
    scores: dict[int, float] = {}
    best: BaseHMM | None = None
    folder = model.checkpoint_dir
    for k in candidates:
        candidate = clone(model).set_params(n_components=k)
        if folder is not None:
            candidate.set_params(checkpoint_dir=os.path.join(folder, f"states-{k}"))
        fitted = candidate.fit(X, lengths, resume=resume)
        value = fitted.bic(X, lengths) if criterion == "bic" else fitted.aic(X, lengths)
        scores[k] = float(value)
        if best is None or value < scores[best.n_components] or not np.isfinite(
            scores[best.n_components]
        ):
            best = fitted
    return best, scores
