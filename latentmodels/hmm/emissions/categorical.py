"""Categorical emissions: :class:`CategoricalEmission` and the estimator :class:`CategoricalHMM`."""

from __future__ import annotations

import os
from numbers import Integral
from typing import Any

import numpy as np
from sklearn.utils._param_validation import Interval

from ..._internal.validation import check_affordable
from .. import _kernels
from ..base import PRIOR_CONSTRAINT, BaseHMM
from ._base import Emission, Param, check_counts, kmeans
from ._registry import register_emission

__all__ = ["CategoricalEmission", "CategoricalHMM"]


def _window_histograms(symbols: np.ndarray, offsets: np.ndarray, n_symbols: int, half: int):
    """Symbol frequencies in a window around each step, within its own sequence."""
    N = len(symbols)
    cum = np.zeros((N + 1, n_symbols), dtype=np.float32)
    np.add.at(cum[1:], (np.arange(N), symbols), 1.0)
    np.cumsum(cum, axis=0, out=cum)
    seq = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    t = np.arange(N)
    lo = np.maximum(offsets[seq], t - half)
    hi = np.minimum(offsets[seq + 1], t + half + 1)
    hist = cum[hi] - cum[lo]
    return hist / (hi - lo)[:, None]


class CategoricalEmission(Emission):
    """One discrete distribution over ``n_features`` symbols per state: ``emissionprob_``.

    The E-step reads likelihoods straight from the table (:meth:`symbol_table`), and the
    expected counts come from a compiled kernel.

    Examples
    --------
    >>> import numpy as np
    >>> from latentmodels.hmm import CategoricalHMM
    >>> hmm = CategoricalHMM(2)
    >>> hmm.emissionprob_ = np.array([[0.9, 0.1], [0.2, 0.8]])
    >>> emission = CategoricalEmission(hmm)
    >>> np.exp(emission.log_likelihood(np.array([[1]]))).round(2).tolist()
    [[0.1, 0.8]]
    """

    parameters = (Param("e", "emissionprob_", "simplex"),)
    data = "symbols"
    window_half_width = 6

    def check_X(self, X, name):
        return check_counts(X, name, single_column=True)

    def n_features(self) -> int:
        m = self.model
        if hasattr(m, "emissionprob_"):
            return int(np.shape(m.emissionprob_)[1])
        if m.n_features is not None:
            return int(m.n_features)
        return int(getattr(m, "n_features_", 0))

    def set_n_features(self, X):
        m = self.model
        top = int(X.max())
        if m.n_features is not None:
            if top >= m.n_features:
                raise ValueError(
                    f"X contains symbol {top} but n_features={m.n_features} allows only "
                    f"0..{m.n_features - 1}"
                )
            m.n_features_ = int(m.n_features)
        elif hasattr(m, "emissionprob_") and "e" not in m.init_params:
            m.n_features_ = int(np.shape(m.emissionprob_)[1])
        else:
            # the alphabet is as large as the largest symbol: refuse one that cannot fit
            check_affordable(top + 1, 8 * (self.n_components + 1),
                             "the alphabet size (largest symbol in X + 1)")
            m.n_features_ = top + 1
        if top >= m.n_features_:
            raise ValueError(
                f"X contains symbol {top} outside the alphabet of {m.n_features_} symbols"
            )
        if m.n_features is None:
            m.n_features = m.n_features_  # hmmlearn fills it in

    def check_against_model(self, X):
        M = self.n_features()
        top = int(X.max())
        if top >= M:
            raise ValueError(
                f"X contains symbol {top} outside the fitted alphabet of {M} symbols (0..{M - 1})"
            )

    def initialize(self, X, offsets, rng):
        m = self.model
        K, M = self.n_components, m.n_features_
        symbols = X[:, 0]
        labels = None
        if M <= 256:
            hist = _window_histograms(symbols, offsets, M, self.window_half_width)
            _, labels = kmeans(hist, K, rng)
        if self.needs_init("emissionprob_"):
            if labels is None:
                emission = rng.dirichlet(np.ones(M), size=K) + np.bincount(symbols, minlength=M)
            else:
                emission = np.bincount(labels * M + symbols, minlength=K * M).reshape(K, M)
                emission = emission + 1.0
            m.emissionprob_ = emission / emission.sum(axis=1, keepdims=True)
        return labels

    def prior_rules(self):
        return {"emissionprob_prior": "nonnegative"}

    def prior_shapes(self):
        return {"emissionprob_prior": (self.n_components, self.n_features())}

    def check(self):
        m = self.model
        if not hasattr(m, "emissionprob_"):
            raise ValueError("emissionprob_ is not set: fit the model or assign it")
        e = np.asarray(m.emissionprob_, dtype=np.float64)
        if e.ndim != 2 or e.shape[0] != self.n_components:
            raise ValueError("emissionprob_ must have shape (n_components, n_features)")
        if m.n_features is not None and e.shape[1] != m.n_features:
            raise ValueError(f"emissionprob_ must have n_features={m.n_features} columns")
        if not np.all(np.isfinite(e)) or np.any(e < 0):
            raise ValueError("emissionprob_ must hold finite non-negative probabilities")
        sums = e.sum(axis=1)
        if not np.allclose(sums, 1.0, rtol=0, atol=1e-6):
            raise ValueError(f"emissionprob_ rows must sum to 1 (rows sum: {sums})")
        m.emissionprob_ = e

    def log_likelihood(self, X):
        with np.errstate(divide="ignore"):
            table = np.log(self.model.emissionprob_.T)
        return table[X[:, 0]]

    def symbol_table(self, X):
        return np.ascontiguousarray(X[:, 0]), np.ascontiguousarray(self.model.emissionprob_.T)

    def new_stats(self):
        return {"obs": np.zeros((self.n_components, self.n_features()))}

    def accumulate(self, stats, X, posteriors, aux=None):
        if self.updates("e"):
            _kernels.categorical_counts(X[:, 0], posteriors, stats["obs"])

    def _prior(self) -> np.ndarray:
        prob = self.model.emissionprob_
        return np.broadcast_to(np.asarray(self.model.emissionprob_prior, np.float64), prob.shape)

    def m_step(self, stats):
        if not self.updates("e"):
            return
        new = np.maximum(stats["obs"] + self._prior() - 1.0, 0.0)
        rows = new.sum(axis=1)
        ok = rows > 0
        e = self.model.emissionprob_.copy()
        e[ok] = new[ok] / rows[ok, None]
        self.model.emissionprob_ = e

    def log_prior(self):
        if not self.updates("e"):
            return 0.0
        prob, prior = self.model.emissionprob_, self._prior()
        mask = (prior != 1) & (prob > 0)
        return float(np.sum((prior[mask] - 1) * np.log(prob[mask])))

    def sample(self, states, rng):
        out = np.empty((len(states), 1), dtype=np.int64)
        M = self.n_features()
        for k in range(self.n_components):
            idx = np.flatnonzero(states == k)
            out[idx, 0] = rng.choice(M, size=len(idx), p=self.model.emissionprob_[k])
        return out

    def marginal_density(self, values, feature=0):
        return self.model.emissionprob_[:, np.asarray(values, dtype=np.int64)].T

    def means(self):
        return np.asarray(self.model.emissionprob_)


@register_emission("categorical")
class CategoricalHMM(BaseHMM):
    """Hidden Markov model with categorical (discrete symbol) emissions.

    ``X`` holds one integer symbol per step, shape (n_samples, 1) as in hmmlearn (or
    (n_samples,)). Initialisation: states are first guessed by clustering the symbol
    frequencies in a 13-step window around each step (states persist in time, single
    symbols are ambiguous), which gives initial emission, start and transition
    probabilities.

    Parameters
    ----------
    n_components : int, default 1
        Number of hidden states.
    startprob_prior, transmat_prior : float or array-like, default 1.0
        Dirichlet concentrations of the chain (see :class:`~latentmodels.hmm.BaseHMM`).
    emissionprob_prior : float or array-like, default 1.0
        Dirichlet concentration on each state's emission row (keyword-only).
    n_features : int or None, default None
        Alphabet size; None infers max symbol + 1 (keyword-only).
    algorithm, random_state, n_iter, tol, verbose, implementation, n_init
        As in :class:`~latentmodels.hmm.BaseHMM`.
    checkpoint_dir, checkpoint_every
        Checkpoints of ``fit`` and where they go, as in :class:`~latentmodels.hmm.BaseHMM`
        (keyword-only).
    params, init_params : str, default "ste"
        Letters ``s`` ``t`` ``e`` (emission probabilities).

    Attributes
    ----------
    emissionprob_ : numpy.ndarray of shape (n_components, n_features)
    startprob_, transmat_, monitor_
        As in :class:`~latentmodels.hmm.BaseHMM`.

    Examples
    --------
    >>> import numpy as np
    >>> from latentmodels.hmm import CategoricalHMM
    >>> X = np.array([[0], [0], [0], [1], [1], [1], [0], [0], [1], [1]])
    >>> hmm = CategoricalHMM(n_components=2, n_iter=20, random_state=0).fit(X)
    >>> hmm.emissionprob_.shape
    (2, 2)
    """

    _emission_class = CategoricalEmission
    _parameter_constraints = {
        **BaseHMM._parameter_constraints,
        "emissionprob_prior": PRIOR_CONSTRAINT,
        "n_features": [None, Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        n_components: int = 1,
        startprob_prior: float | np.ndarray = 1.0,
        transmat_prior: float | np.ndarray = 1.0,
        *,
        emissionprob_prior: float | np.ndarray = 1.0,
        n_features: int | None = None,
        algorithm: str = "viterbi",
        random_state: Any = None,
        n_iter: int = 10,
        tol: float = 1e-2,
        verbose: bool = False,
        params: str = "ste",
        init_params: str = "ste",
        implementation: str = "scaling",
        n_init: int = 1,
        checkpoint_dir: str | os.PathLike | None = None,
        checkpoint_every: int | None = None,
    ) -> None:
        super().__init__(
            n_components=n_components, startprob_prior=startprob_prior,
            transmat_prior=transmat_prior, algorithm=algorithm, random_state=random_state,
            n_iter=n_iter, tol=tol, verbose=verbose, params=params, init_params=init_params,
            implementation=implementation, n_init=n_init,
            checkpoint_dir=checkpoint_dir, checkpoint_every=checkpoint_every,
        )
        self.emissionprob_prior = emissionprob_prior
        self.n_features = n_features
