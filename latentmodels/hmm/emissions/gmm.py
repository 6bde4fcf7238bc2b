"""Gaussian-mixture emissions: :class:`GMMEmission` and the estimator :class:`GMMHMM`."""

from __future__ import annotations

import os
from numbers import Integral, Real
from typing import Any

import numpy as np
from scipy.special import logsumexp
from sklearn.utils._param_validation import Interval, StrOptions

from ..._internal.validation import check_affordable
from .. import _gaussian
from ..base import PRIOR_CONSTRAINT, BaseHMM
from ._base import Emission, FeaturesMixin, Param, kmeans
from ._registry import register_emission
from .gaussian import design_for

__all__ = ["GMMEmission", "GMMHMM"]


class GMMEmission(Emission):
    """A mixture of ``n_mix`` Gaussians per state: ``weights_``, ``means_``, ``covars_``.

    Internally the K * M mixture components are treated as one flat set of Gaussians (tied
    matrices shared within a state), so the Gaussian design-matrix products apply.

    Examples
    --------
    >>> import numpy as np
    >>> from latentmodels.hmm import GMMHMM
    >>> hmm = GMMHMM(2, n_mix=2)
    >>> hmm.weights_ = np.full((2, 2), 0.5)
    >>> hmm.means_ = np.array([[[0.0], [1.0]], [[5.0], [6.0]]])
    >>> hmm.covars_ = np.ones((2, 2, 1))
    >>> emission = GMMEmission(hmm)
    >>> emission.log_likelihood(np.array([[0.5], [5.5]])).argmax(axis=1).tolist()
    [0, 1]
    """

    parameters = (Param("m", "means_"), Param("c", "covars_", "covariance"),
                  Param("w", "weights_", "simplex"))
    data = "real"
    nonfinite_hint = "the data may need rescaling or a larger min_covar"

    # component-level views: K*M components, tied matrices shared within a state
    def _flat(self):
        m = self.model
        K, M, D = self.n_components, m.n_mix, self.n_features()
        means = np.asarray(m.means_).reshape(K * M, D)
        cov = np.asarray(m.covars_)
        if m.covariance_type == "spherical":
            cov = cov.reshape(K * M)
        elif m.covariance_type == "diag":
            cov = cov.reshape(K * M, D)
        elif m.covariance_type == "full":
            cov = cov.reshape(K * M, D, D)
        return means, cov

    def set_n_features(self, X):
        super().set_n_features(X)
        m = self.model
        # responsibilities and parameters per component: refuse an n_mix that cannot fit
        per_mix = 8 * self.n_components * (len(X) + (X.shape[1] + 2) ** 2)
        check_affordable(m.n_mix, per_mix, "n_mix")

    def prior_rules(self):
        matrices = self.model.covariance_type in ("full", "tied")
        return {"weights_prior": "nonnegative", "means_prior": "real",
                "means_weight": "nonnegative",
                "covars_prior": ("nonnegative_diagonal" if matrices else "nonnegative") + "|none",
                "covars_weight": "nonnegative|none"}

    def prior_shapes(self):
        K, M, D = self.n_components, self.model.n_mix, self.n_features()
        return {"weights_prior": (K, M), "means_prior": (K, M, D), "means_weight": (K, M)}

    def _priors(self):
        m = self.model
        K, M, D = self.n_components, m.n_mix, self.n_features()
        mw = np.broadcast_to(np.asarray(m.means_weight, dtype=np.float64), (K, M))
        mp = np.broadcast_to(np.asarray(m.means_prior, dtype=np.float64), (K, M, D))
        return dict(
            means_prior=mp.reshape(K * M, D), means_weight=mw.reshape(K * M),
            covars_prior=0.0 if m.covars_prior is None else m.covars_prior,
            covars_weight=0.0 if m.covars_weight is None else m.covars_weight,
        )

    def initialize(self, X, offsets, rng):
        m = self.model
        K, M, D = self.n_components, m.n_mix, X.shape[1]
        centers, labels = kmeans(X, K, rng)
        if len(centers) < K:
            centers = np.concatenate([centers, X[rng.choice(len(X), K - len(centers))]])
        means = np.empty((K, M, D))
        comp_labels = np.empty(len(X), dtype=np.int64)
        spread = np.sqrt(np.maximum(X.var(axis=0), m.min_covar))
        for k in range(K):
            rows = np.flatnonzero(labels == k)
            if len(rows) >= 2 * M and M > 1:
                sub_centers, sub_labels = kmeans(X[rows], M, rng)
                if len(sub_centers) < M:
                    sub_centers = np.concatenate(
                        [sub_centers, centers[k] + 0.1 * spread * rng.standard_normal(
                            (M - len(sub_centers), D))]
                    )
                means[k] = sub_centers
                comp_labels[rows] = k * M + sub_labels
            else:
                means[k] = centers[k] + 0.1 * spread * rng.standard_normal((M, D))
                means[k, 0] = centers[k]
                comp_labels[rows] = k * M
        if self.needs_init("weights_"):
            m.weights_ = np.full((K, M), 1.0 / M)
        if self.needs_init("means_"):
            m.means_ = means
        if self.needs_init("covars_"):
            groups = np.repeat(np.arange(K), M)
            cov = _gaussian.init_from_labels(
                X, comp_labels, means.reshape(K * M, D), m.covariance_type, m.min_covar,
                groups=groups,
            )
            shape = {"spherical": (K, M), "diag": (K, M, D), "full": (K, M, D, D),
                     "tied": (K, D, D)}[m.covariance_type]
            m.covars_ = cov.reshape(shape)
        return labels

    def check(self):
        m = self.model
        K, M = self.n_components, m.n_mix
        for name in ("weights_", "means_", "covars_"):
            if not hasattr(m, name):
                raise ValueError(f"{name} is not set: fit the model or assign it")
        m.weights_ = np.asarray(m.weights_, dtype=np.float64)
        m.means_ = np.asarray(m.means_, dtype=np.float64)
        m.covars_ = np.asarray(m.covars_, dtype=np.float64)
        if m.weights_.shape != (K, M):
            raise ValueError(f"weights_ must have shape (n_components, n_mix) = {(K, M)}")
        if np.any(m.weights_ < 0) or not np.allclose(m.weights_.sum(1), 1, atol=1e-6):
            raise ValueError("weights_ rows must be non-negative and sum to 1")
        if m.means_.ndim != 3 or m.means_.shape[:2] != (K, M):
            raise ValueError("means_ must have shape (n_components, n_mix, n_features)")
        D = m.means_.shape[2]
        shape = {"spherical": (K, M), "diag": (K, M, D), "full": (K, M, D, D),
                 "tied": (K, D, D)}[m.covariance_type]
        if m.covars_.shape != shape:
            raise ValueError(f"covars_ must have shape {shape} for covariance_type="
                             f"{m.covariance_type!r}, got {m.covars_.shape}")
        if m.covariance_type in ("spherical", "diag"):
            if np.any(m.covars_ <= 0):
                raise ValueError("covars_ must be positive")
        elif np.any(np.linalg.eigvalsh(m.covars_)[..., 0] <= 0):
            raise ValueError("covars_ must be positive definite")

    def log_likelihood_for_stats(self, X):
        m = self.model
        K, M = self.n_components, m.n_mix
        means, cov = self._flat()
        design = design_for(m, X)
        comp = design.log_density(means, cov, m.covariance_type)
        if comp is None:
            comp = _gaussian.log_density(X, means, cov, m.covariance_type)
        with np.errstate(divide="ignore"):
            comp += np.log(m.weights_).reshape(K * M)
        comp = comp.reshape(len(X), K, M)
        frame = logsumexp(comp, axis=2)
        finite = np.isfinite(frame)
        resp = np.zeros_like(comp)
        resp[finite] = np.exp(comp[finite] - frame[finite][:, None])
        return frame, (resp, design)

    def log_likelihood(self, X):
        m = self.model
        K, M = self.n_components, m.n_mix
        means, cov = self._flat()
        comp = _gaussian.log_density(X, means, cov, m.covariance_type)
        with np.errstate(divide="ignore"):
            comp += np.log(m.weights_).reshape(K * M)
        return logsumexp(comp.reshape(len(X), K, M), axis=2)

    def new_stats(self):
        m = self.model
        return _gaussian.new_stats(self.n_components * m.n_mix, self.n_features(),
                                   m.covariance_type)

    def accumulate(self, stats, X, posteriors, aux=None):
        resp, design = aux if aux is not None else self.log_likelihood_for_stats(X)[1]
        K, M = self.n_components, self.model.n_mix
        weights = (posteriors[:, :, None] * resp).reshape(len(X), K * M)
        means, _ = self._flat()
        design.accumulate(stats, weights, means.mean(axis=0), self.updates("c"))

    def m_step(self, stats):
        m = self.model
        K, M, D = self.n_components, m.n_mix, self.n_features()
        post = stats["post"].reshape(K, M)
        if self.updates("w"):
            prior = np.broadcast_to(np.asarray(m.weights_prior, dtype=np.float64), (K, M))
            new = np.maximum(post + prior - 1.0, 0.0)
            rows = new.sum(axis=1)
            ok = rows > 0
            weights = m.weights_.copy()
            weights[ok] = new[ok] / rows[ok, None]
            m.weights_ = weights
        means, cov = self._flat()
        new_means, new_cov = _gaussian.m_step(
            stats, means, cov, m.covariance_type,
            update_means=self.updates("m"), update_covars=self.updates("c"),
            min_covar=m.min_covar, **self._priors(),
        )
        m.means_ = new_means.reshape(K, M, D)
        m.covars_ = new_cov.reshape(np.shape(m.covars_))

    def log_prior(self):
        m = self.model
        K, M = self.n_components, m.n_mix
        value = 0.0
        if self.updates("w"):
            prior = np.broadcast_to(np.asarray(m.weights_prior, dtype=np.float64), (K, M))
            mask = (prior != 1) & (m.weights_ > 0)
            value += float(np.sum((prior[mask] - 1) * np.log(m.weights_[mask])))
        means, cov = self._flat()
        return value + _gaussian.log_prior(
            means, cov, m.covariance_type, include_means=self.updates("m"),
            include_covars=self.updates("c"), **self._priors(),
        )

    def sample(self, states, rng):
        m = self.model
        K, M, D = self.n_components, m.n_mix, self.n_features()
        means, cov = self._flat()
        full = _gaussian.full_covariances(cov, m.covariance_type, K * M, D)
        chol = np.linalg.cholesky(full)
        comps = np.empty(len(states), dtype=np.int64)
        for k in range(K):
            idx = np.flatnonzero(states == k)
            comps[idx] = k * M + rng.choice(M, size=len(idx), p=m.weights_[k])
        out = np.empty((len(states), D))
        for c in np.unique(comps):
            idx = np.flatnonzero(comps == c)
            out[idx] = means[c] + rng.standard_normal((len(idx), D)) @ chol[c].T
        return out

    def marginal_density(self, values, feature=0):
        m = self.model
        K, M, D = self.n_components, m.n_mix, self.n_features()
        means, cov = self._flat()
        var = _gaussian.full_covariances(cov, m.covariance_type, K * M, D)[:, feature, feature]
        z = (np.asarray(values, dtype=np.float64)[:, None] - means[:, feature]) / np.sqrt(var)
        comp = np.exp(-0.5 * z**2) / np.sqrt(2 * np.pi * var) * m.weights_.reshape(K * M)
        return comp.reshape(len(z), K, M).sum(axis=2)

    def means(self):
        return np.einsum("km,kmd->kd", self.model.weights_, self.model.means_)


@register_emission("gmm")
class GMMHMM(FeaturesMixin, BaseHMM):
    """Hidden Markov model whose states emit from Gaussian mixtures.

    Names, defaults and attribute shapes follow hmmlearn.

    Parameters
    ----------
    n_components : int, default 1
        Number of hidden states.
    n_mix : int, default 1
        Mixture components per state.
    min_covar : float, default 1e-3
        Floor on the covariances.
    startprob_prior, transmat_prior : float or array-like, default 1.0
        Dirichlet concentrations of the chain (see :class:`~latentmodels.hmm.BaseHMM`).
    weights_prior : float or array-like, default 1.0
        Dirichlet concentration on the mixture weights.
    means_prior, means_weight : float or array-like, default 0.0
        Normal prior on the component means.
    covars_prior, covars_weight : float, array-like or None, default None
        Prior on the covariances as in :class:`GaussianHMM`; None means no prior.
    covariance_type : {"diag", "full", "spherical", "tied"}, default "diag"
        In tied mode the mixture components of a state share one matrix.
    algorithm, random_state, n_iter, tol, verbose, implementation, n_init
        As in :class:`~latentmodels.hmm.BaseHMM`.
    checkpoint_dir, checkpoint_every
        Checkpoints of ``fit`` and where they go, as in :class:`~latentmodels.hmm.BaseHMM`
        (keyword-only).
    params, init_params : str, default "stmcw"
        Letters ``s`` ``t`` ``m`` (means) ``c`` (covariances) ``w`` (weights).

    Attributes
    ----------
    weights_ : numpy.ndarray of shape (n_components, n_mix)
    means_ : numpy.ndarray of shape (n_components, n_mix, n_features)
    covars_ : numpy.ndarray
        spherical (K, M), diag (K, M, D), full (K, M, D, D), tied (K, D, D).
    startprob_, transmat_, n_features, monitor_
        As in :class:`GaussianHMM`.

    Examples
    --------
    >>> import numpy as np
    >>> from latentmodels.hmm import GMMHMM
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> hmm = GMMHMM(n_components=2, n_mix=2, n_iter=5, tol=1.0, random_state=0).fit(X)
    >>> hmm.means_.shape
    (2, 2, 2)
    """

    _emission_class = GMMEmission
    _parameter_constraints = {
        **BaseHMM._parameter_constraints,
        "n_mix": [Interval(Integral, 1, None, closed="left")],
        "covariance_type": [StrOptions(set(_gaussian.COVARIANCE_TYPES))],
        "min_covar": [Interval(Real, 0, None, closed="left")],
        **dict.fromkeys(("weights_prior", "means_prior", "means_weight"), PRIOR_CONSTRAINT),
        **dict.fromkeys(("covars_prior", "covars_weight"), [None, *PRIOR_CONSTRAINT]),
    }

    def __init__(
        self,
        n_components: int = 1,
        n_mix: int = 1,
        min_covar: float = 1e-3,
        startprob_prior: float | np.ndarray = 1.0,
        transmat_prior: float | np.ndarray = 1.0,
        weights_prior: float | np.ndarray = 1.0,
        means_prior: float | np.ndarray = 0.0,
        means_weight: float | np.ndarray = 0.0,
        covars_prior: float | np.ndarray | None = None,
        covars_weight: float | np.ndarray | None = None,
        algorithm: str = "viterbi",
        covariance_type: str = "diag",
        random_state: Any = None,
        n_iter: int = 10,
        tol: float = 1e-2,
        verbose: bool = False,
        params: str = "stmcw",
        init_params: str = "stmcw",
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
        self.n_mix = n_mix
        self.min_covar = min_covar
        self.weights_prior = weights_prior
        self.means_prior = means_prior
        self.means_weight = means_weight
        self.covars_prior = covars_prior
        self.covars_weight = covars_weight
        self.covariance_type = covariance_type

    def _dim(self) -> int:
        return self._emission.n_features()
