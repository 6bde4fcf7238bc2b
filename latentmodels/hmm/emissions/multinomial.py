"""Multinomial emissions: :class:`MultinomialEmission` and the estimator :class:`MultinomialHMM`.

Each step observes counts over ``n_features`` outcomes from ``n_trials`` draws (hmmlearn 0.3's
``MultinomialHMM``; with ``n_trials=1`` a row is a one-hot symbol and the model is a
:class:`~latentmodels.hmm.CategoricalHMM`).
"""

from __future__ import annotations

import os
from numbers import Integral
from typing import Any

import numpy as np
from scipy.special import gammaln
from scipy.stats import binom
from sklearn.utils._param_validation import Interval

from ..._internal.io import ModelFileError
from ..base import PRIOR_CONSTRAINT, BaseHMM
from ._base import Emission, FeaturesMixin, Param, check_counts, kmeans
from ._registry import register_emission

__all__ = ["MultinomialEmission", "MultinomialHMM"]


class MultinomialEmission(Emission):
    """Multinomial counts per state: outcome probabilities ``emissionprob_`` (K, D).

    The log-likelihood of a row uses its own total, so rows with different numbers of
    trials (``n_trials`` an array, or None) are scored exactly.

    Examples
    --------
    >>> import numpy as np
    >>> from latentmodels.hmm import MultinomialHMM
    >>> hmm = MultinomialHMM(2, n_trials=2)
    >>> hmm.emissionprob_ = np.array([[0.5, 0.5], [0.9, 0.1]])
    >>> np.exp(MultinomialEmission(hmm).log_likelihood(np.array([[1, 1]]))).round(2).tolist()
    [[0.5, 0.18]]
    """

    parameters = (Param("e", "emissionprob_", "simplex"),)
    data = "counts"
    nonfinite_hint = "check that every row of X holds counts"

    def check_X(self, X, name):
        return check_counts(X, name, single_column=False)

    def _check_trials(self, X: np.ndarray) -> np.ndarray:
        """Each row's number of trials, checked against ``n_trials`` when that is given."""
        totals = X.sum(axis=1)
        n_trials = self.model.n_trials
        if n_trials is None:
            return totals
        expected = np.asarray(n_trials)
        if expected.ndim == 0:
            expected = np.full(len(X), expected)
        elif expected.shape != (len(X),):
            raise ValueError(f"n_trials must be an integer or one count per row of X "
                             f"({len(X)}), got shape {expected.shape}")
        wrong = np.flatnonzero(totals != expected)
        if len(wrong):
            row = int(wrong[0])
            raise ValueError(f"X: row {row} sums to {totals[row]} but n_trials says "
                             f"{expected[row]}")
        return totals

    def set_n_features(self, X):
        m = self.model
        totals = self._check_trials(X)
        if hasattr(m, "emissionprob_") and "e" not in m.init_params:
            m.n_features_ = int(np.shape(m.emissionprob_)[-1])
        else:
            m.n_features_ = int(X.shape[1])
        # what fit saw; sampling falls back on it when n_trials is None
        m.n_trials_ = int(totals[0]) if np.all(totals == totals[0]) else None

    def saved_attributes(self):
        return {"n_trials_": getattr(self.model, "n_trials_", None)}

    def load_attributes(self, attributes):
        value = attributes.get("n_trials_")
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value < 1):
            raise ModelFileError(f"the saved n_trials_ must be None or an integer >= 1, got "
                                 f"{value!r}")
        self.model.n_trials_ = value

    def check_against_model(self, X):
        super().check_against_model(X)
        if np.ndim(self.model.n_trials) == 0:
            self._check_trials(X)

    def initialize(self, X, offsets, rng):
        K = self.n_components
        totals = np.maximum(X.sum(axis=1, keepdims=True), 1)
        _, labels = kmeans(X / totals, K, rng)
        if self.needs_init("emissionprob_"):
            counts = np.zeros((K, X.shape[1]))
            np.add.at(counts, labels, X)
            counts += 1.0
            self.model.emissionprob_ = counts / counts.sum(axis=1, keepdims=True)
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
        if not np.all(np.isfinite(e)) or np.any(e < 0):
            raise ValueError("emissionprob_ must hold finite non-negative probabilities")
        sums = e.sum(axis=1)
        if not np.allclose(sums, 1.0, rtol=0, atol=1e-6):
            raise ValueError(f"emissionprob_ rows must sum to 1 (rows sum: {sums})")
        m.emissionprob_ = e

    def log_likelihood(self, X):
        Xf = X.astype(np.float64)
        with np.errstate(divide="ignore"):
            log_p = np.log(self.model.emissionprob_)
        # 0 * log 0 counts as 0: an outcome never seen costs nothing where its probability is 0
        weighted = np.where(Xf[:, None, :] > 0, Xf[:, None, :] * log_p[None], 0.0).sum(axis=2)
        log_coef = gammaln(Xf.sum(axis=1) + 1.0) - gammaln(Xf + 1.0).sum(axis=1)
        return weighted + log_coef[:, None]

    def new_stats(self):
        return {"obs": np.zeros((self.n_components, self.n_features()))}

    def accumulate(self, stats, X, posteriors, aux=None):
        if self.updates("e"):
            stats["obs"] += posteriors.T @ X.astype(np.float64)

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

    def _trials_for_sampling(self) -> int:
        m = self.model
        n_trials = m.n_trials if m.n_trials is not None else getattr(m, "n_trials_", None)
        if n_trials is None or np.ndim(n_trials) != 0:
            raise ValueError("n_trials must be one integer to sample from a MultinomialHMM "
                             f"(got {m.n_trials!r}); set n_trials")
        return int(n_trials)

    def sample(self, states, rng):
        n = self._trials_for_sampling()
        return rng.multinomial(n, self.model.emissionprob_[states]).astype(np.int64)

    def marginal_density(self, values, feature=0):
        n = self._trials_for_sampling()
        return binom.pmf(np.asarray(values)[:, None], n, self.model.emissionprob_[:, feature])

    def means(self):
        m = self.model
        n = m.n_trials if m.n_trials is not None else getattr(m, "n_trials_", None)
        n = 1.0 if n is None or np.ndim(n) != 0 else float(n)
        return n * np.asarray(m.emissionprob_)


@register_emission("multinomial")
class MultinomialHMM(FeaturesMixin, BaseHMM):
    """Hidden Markov model with multinomial emissions (hmmlearn 0.3's ``MultinomialHMM``).

    ``X`` holds counts, shape (n_samples, n_features): row ``t`` says how often each of the
    ``n_features`` outcomes came up in ``n_trials`` draws made in the state of step ``t``.

    Parameters
    ----------
    n_components : int, default 1
        Number of hidden states.
    n_trials : int, array-like of int or None, default None
        Draws per step: one number, one per row of the training ``X``, or None to take each
        row's total. When given, ``fit`` (and scoring, for one number) checks the rows
        against it. Sampling needs one number (or a fit whose rows all had the same total,
        recorded in ``n_trials_``).
    startprob_prior, transmat_prior : float or array-like, default 1.0
        Dirichlet concentrations of the chain (see :class:`~latentmodels.hmm.BaseHMM`).
    emissionprob_prior : float or array-like, default 1.0
        Dirichlet concentration on each state's outcome probabilities (keyword-only).
    algorithm, random_state, n_iter, tol, verbose, implementation, n_init
        As in :class:`~latentmodels.hmm.BaseHMM`.
    checkpoint_dir, checkpoint_every
        Checkpoints of ``fit`` and where they go, as in :class:`~latentmodels.hmm.BaseHMM`
        (keyword-only).
    params, init_params : str, default "ste"
        Letters ``s`` ``t`` ``e`` (outcome probabilities).

    Attributes
    ----------
    emissionprob_ : numpy.ndarray of shape (n_components, n_features)
    n_trials_ : int or None
        The rows' common total in the last fit (None when they differed).
    startprob_, transmat_, n_features, monitor_
        As in :class:`~latentmodels.hmm.BaseHMM`.

    Examples
    --------
    >>> import numpy as np
    >>> from latentmodels.hmm import MultinomialHMM
    >>> rng = np.random.default_rng(0)
    >>> X = np.r_[rng.multinomial(5, [0.8, 0.1, 0.1], 40), rng.multinomial(5, [0.1, 0.1, 0.8], 40)]
    >>> hmm = MultinomialHMM(2, n_trials=5, n_iter=20, random_state=0).fit(X)
    >>> sorted(hmm.emissionprob_.argmax(axis=1).tolist())
    [0, 2]
    >>> hmm.sample(3, random_state=0)[0].sum(axis=1).tolist()
    [5, 5, 5]
    """

    _emission_class = MultinomialEmission
    _parameter_constraints = {
        **BaseHMM._parameter_constraints,
        "emissionprob_prior": PRIOR_CONSTRAINT,
        "n_trials": [None, Interval(Integral, 1, None, closed="left"), "array-like"],
    }

    def __init__(
        self,
        n_components: int = 1,
        n_trials: int | np.ndarray | None = None,
        startprob_prior: float | np.ndarray = 1.0,
        transmat_prior: float | np.ndarray = 1.0,
        *,
        emissionprob_prior: float | np.ndarray = 1.0,
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
        self.n_trials = n_trials
        self.emissionprob_prior = emissionprob_prior
