"""Poisson emissions: :class:`PoissonEmission` and the estimator :class:`PoissonHMM`."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from scipy.special import gammaln

from ..base import PRIOR_CONSTRAINT, BaseHMM
from ._base import Emission, FeaturesMixin, Param, check_counts, kmeans
from ._registry import register_emission

__all__ = ["PoissonEmission", "PoissonHMM"]


class PoissonEmission(Emission):
    """Independent Poisson counts per feature, rates ``lambdas_`` (K, D), Gamma prior.

    Examples
    --------
    >>> import numpy as np
    >>> from latentmodels.hmm import PoissonHMM
    >>> hmm = PoissonHMM(2)
    >>> hmm.lambdas_ = np.array([[1.0], [9.0]])
    >>> PoissonEmission(hmm).means().ravel().tolist()
    [1.0, 9.0]
    """

    parameters = (Param("l", "lambdas_"),)
    data = "counts"
    rate_floor = 1e-10

    def check_X(self, X, name):
        return check_counts(X, name, single_column=False)

    def initialize(self, X, offsets, rng):
        K = self.n_components
        centers, labels = kmeans(X.astype(np.float64), K, rng)
        if len(centers) < K:
            centers = np.concatenate([centers, X[rng.choice(len(X), K - len(centers))]])
        if self.needs_init("lambdas_"):
            self.model.lambdas_ = np.maximum(centers, 1e-3 + 1e-2 * X.mean(axis=0))
        return labels

    def check(self):
        m = self.model
        if not hasattr(m, "lambdas_"):
            raise ValueError("lambdas_ is not set: fit the model or assign it")
        lam = np.atleast_2d(np.asarray(m.lambdas_, dtype=np.float64))
        if lam.ndim != 2 or lam.shape[0] != self.n_components:
            raise ValueError("lambdas_ must have shape (n_components, n_features)")
        if not np.all(np.isfinite(lam)) or np.any(lam < 0):
            raise ValueError("lambdas_ must be finite and non-negative")
        m.lambdas_ = lam

    def _rates(self) -> np.ndarray:
        return np.maximum(self.model.lambdas_, self.rate_floor)

    def log_likelihood(self, X):
        lam = self._rates()
        Xf = X.astype(np.float64)
        return Xf @ np.log(lam).T - lam.sum(axis=1) - gammaln(Xf + 1.0).sum(axis=1)[:, None]

    def new_stats(self):
        K, D = np.shape(self.model.lambdas_)
        return {"post": np.zeros(K), "obs": np.zeros((K, D))}

    def accumulate(self, stats, X, posteriors, aux=None):
        if self.updates("l"):
            stats["post"] += posteriors.sum(axis=0)
            stats["obs"] += posteriors.T @ X.astype(np.float64)

    def prior_rules(self):
        return {"lambdas_prior": "nonnegative", "lambdas_weight": "nonnegative"}

    def prior_shapes(self):
        shape = (self.n_components, self.n_features())
        return {"lambdas_prior": shape, "lambdas_weight": shape}

    def _gamma_prior(self) -> tuple[np.ndarray, np.ndarray]:
        m, shape = self.model, np.shape(self.model.lambdas_)
        return (np.broadcast_to(np.asarray(m.lambdas_prior, dtype=np.float64), shape),
                np.broadcast_to(np.asarray(m.lambdas_weight, dtype=np.float64), shape))

    def m_step(self, stats):
        if not self.updates("l"):
            return
        a, b = self._gamma_prior()
        den = b + stats["post"][:, None]
        ok = (stats["post"] >= 1e-6)[:, None] & (den > 0)
        lam = self.model.lambdas_.copy()
        lam[ok] = np.maximum((a + stats["obs"])[ok] / den[ok], self.rate_floor)
        self.model.lambdas_ = lam

    def log_prior(self):
        if not self.updates("l"):
            return 0.0
        a, b = self._gamma_prior()
        lam = self._rates()
        return float(np.sum(a * np.log(lam) - b * lam))

    def sample(self, states, rng):
        return rng.poisson(self.model.lambdas_[states]).astype(np.int64)

    def marginal_density(self, values, feature=0):
        x = np.asarray(values, dtype=np.float64)[:, None]
        lam = self._rates()[:, feature]
        return np.exp(x * np.log(lam) - lam - gammaln(x + 1.0))

    def means(self):
        return np.asarray(self.model.lambdas_)


@register_emission("poisson")
class PoissonHMM(FeaturesMixin, BaseHMM):
    """Hidden Markov model with independent Poisson counts per feature.

    Parameters
    ----------
    n_components : int, default 1
        Number of hidden states.
    startprob_prior, transmat_prior : float or array-like, default 1.0
        Dirichlet concentrations of the chain (see :class:`~latentmodels.hmm.BaseHMM`).
    lambdas_prior, lambdas_weight : float or array-like, default 0.0
        Gamma prior on the rates: the M-step is ``(lambdas_prior + sum gamma x) /
        (lambdas_weight + sum gamma)``.
    algorithm, random_state, n_iter, tol, verbose, implementation, n_init
        As in :class:`~latentmodels.hmm.BaseHMM`.
    checkpoint_dir, checkpoint_every
        Checkpoints of ``fit`` and where they go, as in :class:`~latentmodels.hmm.BaseHMM`
        (keyword-only).
    params, init_params : str, default "stl"
        Letters ``s`` ``t`` ``l`` (rates).

    Attributes
    ----------
    lambdas_ : numpy.ndarray of shape (n_components, n_features)
        The rates.
    startprob_, transmat_, n_features, monitor_
        As in :class:`GaussianHMM`.

    Examples
    --------
    >>> import numpy as np
    >>> from latentmodels.hmm import PoissonHMM
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.poisson(2, (50, 1)), rng.poisson(30, (50, 1))])
    >>> hmm = PoissonHMM(n_components=2, n_iter=20, random_state=0).fit(X)
    >>> sorted(np.round(hmm.lambdas_[:, 0], -1).tolist())
    [0.0, 30.0]
    """

    _emission_class = PoissonEmission
    _parameter_constraints = {
        **BaseHMM._parameter_constraints,
        **dict.fromkeys(("lambdas_prior", "lambdas_weight"), PRIOR_CONSTRAINT),
    }

    def __init__(
        self,
        n_components: int = 1,
        startprob_prior: float | np.ndarray = 1.0,
        transmat_prior: float | np.ndarray = 1.0,
        lambdas_prior: float | np.ndarray = 0.0,
        lambdas_weight: float | np.ndarray = 0.0,
        algorithm: str = "viterbi",
        random_state: Any = None,
        n_iter: int = 10,
        tol: float = 1e-2,
        verbose: bool = False,
        params: str = "stl",
        init_params: str = "stl",
        implementation: str = "scaling",
        n_init: int = 1,
        *,
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
        self.lambdas_prior = lambdas_prior
        self.lambdas_weight = lambdas_weight
