"""The emission models: Gaussian, Gaussian mixture, categorical and Poisson HMMs.

Each class only says how one state emits: its log-likelihood, how to initialise it, which
expected statistics EM needs, the M-step and sampling. Names, shapes and defaults follow
hmmlearn so that its users' code runs after changing the import.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import gammaln, logsumexp
from sklearn.cluster import KMeans
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from .._internal.validation import check_choice, check_data, check_number, check_positive_int
from . import _gaussian, _kernels
from .base import BaseHMM

__all__ = ["GaussianHMM", "GMMHMM", "CategoricalHMM", "PoissonHMM"]

_KMEANS_SUBSAMPLE = 20000


def _kmeans(
    X: np.ndarray, n_clusters: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """k-means on a subsample (fast on long data), then labels for every row."""
    n_clusters = min(n_clusters, len(X))
    idx = (
        rng.choice(len(X), _KMEANS_SUBSAMPLE, replace=False)
        if len(X) > _KMEANS_SUBSAMPLE
        else np.arange(len(X))
    )
    km = KMeans(n_clusters=n_clusters, n_init=3, random_state=int(rng.integers(2**31 - 1)))
    # At most 20,000 rows: one thread is quick, and OpenMP threads that wait for a busy core
    # made this 20x slower on a loaded machine.
    with threadpool_limits(limits=1, user_api="openmp"):
        km.fit(X[idx])
        return km.cluster_centers_, km.predict(X)


def _check_real(X: Any, name: str) -> np.ndarray:
    data = check_data(X, name, min_ndim=2, dtype=np.float64)
    if data.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n_features), got shape {data.shape}")
    return data


def _design_for(model: BaseHMM, X: np.ndarray) -> _gaussian.Design:
    """The design matrix of ``X``, reused across EM iterations within one fit."""
    full = model.covariance_type in ("full", "tied")
    cache = getattr(model, "_fit_cache", None)
    if cache is not None and cache.X is X and cache.full == full:
        return cache
    design = _gaussian.Design(X, model.covariance_type)
    if getattr(model, "_caching", False):
        model._fit_cache = design
    return design


class _FeaturesMixin:
    """hmmlearn exposes ``n_features``; here it is derived from the learned arrays."""

    @property
    def n_features(self) -> int:
        if hasattr(self, "n_features_") and self.n_features_:
            return self.n_features_
        check_is_fitted(self, "means_" if hasattr(self, "means_") else "lambdas_")
        return int(np.shape(getattr(self, "means_", getattr(self, "lambdas_", None)))[-1])


class GaussianHMM(_FeaturesMixin, BaseHMM):
    """Hidden Markov model with Gaussian emissions.

    Parameters (hmmlearn's names and defaults; see :class:`BaseHMM` for the shared ones):

    covariance_type : ``"diag"`` (default), ``"full"``, ``"spherical"`` or ``"tied"``.
    min_covar : floor on variances (eigenvalues for full/tied); keeps covariances positive
        definite.
    means_prior, means_weight : Normal prior on the means (prior mean and its weight in
        pseudo-observations).
    covars_prior, covars_weight : inverse-gamma (diag/spherical) or inverse-Wishart
        (full/tied) prior on the covariances; a scalar ``covars_prior`` is added to each
        variance, i.e. it means ``covars_prior * I`` for full/tied.
    params, init_params : any of ``s`` ``t`` ``m`` (means) ``c`` (covariances).

    Attributes: ``startprob_`` (K,), ``transmat_`` (K, K), ``means_`` (K, D) and
    ``covars_`` (K, D, D) as full matrices; assign ``covars_`` in the compact shape of the
    covariance type: spherical (K,), diag (K, D), full (K, D, D), tied (D, D).
    ``monitor_`` holds the EM history.

    Initialisation (``init_params``): k-means for the means, per-cluster covariances, and
    start/transition probabilities counted from the k-means label sequence.

    Example:
        >>> import numpy as np
        >>> from latentmodels.hmm import GaussianHMM
        >>> rng = np.random.default_rng(0)
        >>> X = np.concatenate([rng.normal(m, 0.5, (40, 1)) for m in (0, 5, 0, 5)])
        >>> hmm = GaussianHMM(n_components=2, n_iter=50, random_state=0).fit(X)
        >>> states = hmm.predict(X)
        >>> bool(states[0] != states[50])
        True
    """

    _emission_codes = "mc"
    _emission_attributes = ("means_", "_covars_")

    def __init__(
        self,
        n_components: int = 1,
        covariance_type: str = "diag",
        min_covar: float = 1e-3,
        startprob_prior: float | np.ndarray = 1.0,
        transmat_prior: float | np.ndarray = 1.0,
        means_prior: float | np.ndarray = 0,
        means_weight: float | np.ndarray = 0,
        covars_prior: float | np.ndarray = 1e-2,
        covars_weight: float | np.ndarray = 1,
        algorithm: str = "viterbi",
        random_state: Any = None,
        n_iter: int = 10,
        tol: float = 1e-2,
        verbose: bool = False,
        params: str = "stmc",
        init_params: str = "stmc",
        implementation: str = "scaling",
        n_init: int = 1,
    ) -> None:
        super().__init__(
            n_components=n_components, startprob_prior=startprob_prior,
            transmat_prior=transmat_prior, algorithm=algorithm, random_state=random_state,
            n_iter=n_iter, tol=tol, verbose=verbose, params=params, init_params=init_params,
            implementation=implementation, n_init=n_init,
        )
        self.covariance_type = covariance_type
        self.min_covar = min_covar
        self.means_prior = means_prior
        self.means_weight = means_weight
        self.covars_prior = covars_prior
        self.covars_weight = covars_weight

    # covars_ is compact inside, full matrices outside (hmmlearn's convention)
    @property
    def covars_(self) -> np.ndarray:
        """Covariance matrices, shape (n_components, n_features, n_features)."""
        check_is_fitted(self, "_covars_")
        return _gaussian.full_covariances(
            self._covars_, self.covariance_type, self.n_components, self._dim()
        )

    @covars_.setter
    def covars_(self, value: Any) -> None:
        check_choice(self.covariance_type, "covariance_type", _gaussian.COVARIANCE_TYPES)
        arr = np.array(value, dtype=np.float64, copy=True)
        K = self.n_components
        ctype = self.covariance_type
        expected_ndim = {"spherical": 1, "diag": 2, "full": 3, "tied": 2}[ctype]
        if arr.ndim != expected_ndim or (ctype != "tied" and arr.shape[0] != K):
            shape = {"spherical": "(n_components,)", "diag": "(n_components, n_features)",
                     "full": "(n_components, n_features, n_features)",
                     "tied": "(n_features, n_features)"}[ctype]
            raise ValueError(
                f"covars_ for covariance_type={ctype!r} must have shape {shape}, got {arr.shape}"
            )
        self._covars_ = arr[None] if ctype == "tied" else arr

    def _dim(self) -> int:
        if hasattr(self, "means_"):
            return int(np.shape(self.means_)[-1])
        return int(getattr(self, "n_features_", 0))

    def _validate_hyperparameters(self) -> None:
        super()._validate_hyperparameters()
        check_choice(self.covariance_type, "covariance_type", _gaussian.COVARIANCE_TYPES)
        check_number(self.min_covar, "min_covar", low=0.0)

    def _check_X(self, X: Any, name: str) -> np.ndarray:
        return _check_real(X, name)

    def _check_against_model(self, data: np.ndarray) -> None:
        if data.shape[1] != self._dim():
            raise ValueError(
                f"X has {data.shape[1]} features but the model has {self._dim()}"
            )

    def _init_emissions(self, X, offsets, rng):
        K = self.n_components
        centers, labels = _kmeans(X, K, rng)
        if len(centers) < K:  # fewer distinct points than states
            centers = np.concatenate([centers, X[rng.choice(len(X), K - len(centers))]])
        if self._needs_init("m", "means_"):
            self.means_ = centers
        if self._needs_init("c", "_covars_"):
            self._covars_ = _gaussian.init_from_labels(
                X, labels, self.means_, self.covariance_type, self.min_covar
            )
        return labels

    def _check_emissions(self) -> None:
        K = self.n_components
        for name in ("means_", "_covars_"):
            if not hasattr(self, name):
                raise ValueError(f"{name.strip('_')}_ is not set: fit the model or assign it")
        means = np.asarray(self.means_, dtype=np.float64)
        if means.ndim != 2 or means.shape[0] != K:
            raise ValueError(f"means_ must have shape (n_components={K}, n_features)")
        if not np.all(np.isfinite(means)):
            raise ValueError("means_ must be finite")
        self.means_ = means
        D = means.shape[1]
        cov = self._covars_
        shape = {"spherical": (K,), "diag": (K, D), "full": (K, D, D),
                 "tied": (1, D, D)}[self.covariance_type]
        if cov.shape != shape:
            raise ValueError(f"covars_ does not match covariance_type={self.covariance_type!r} "
                             f"and means_ (expected compact shape {shape}, got {cov.shape})")
        if not np.all(np.isfinite(cov)):
            raise ValueError("covars_ must be finite")
        if self.covariance_type in ("spherical", "diag"):
            if np.any(cov <= 0):
                raise ValueError("covars_ must be positive")
        else:
            if not np.allclose(cov, np.swapaxes(cov, -1, -2)):
                raise ValueError("covars_ must be symmetric")
            if np.any(np.linalg.eigvalsh(cov)[..., 0] <= 0):
                raise ValueError("covars_ must be positive definite")

    def _log_likelihood(self, X):
        return _gaussian.log_density(X, self.means_, self._covars_, self.covariance_type)

    def _log_likelihood_for_stats(self, X):
        design = _design_for(self, X)
        out = design.log_density(self.means_, self._covars_, self.covariance_type)
        if out is None:
            out = self._log_likelihood(X)
        return out, design

    def _new_emission_stats(self):
        return _gaussian.new_stats(self.n_components, self._dim(), self.covariance_type)

    def _accumulate(self, stats, X, gamma, design):
        if "m" in self.params or "c" in self.params:
            design.accumulate(stats, gamma, self.means_.mean(axis=0), "c" in self.params)

    def _m_step_emissions(self, stats):
        self.means_, self._covars_ = _gaussian.m_step(
            stats, self.means_, self._covars_, self.covariance_type,
            update_means="m" in self.params, update_covars="c" in self.params,
            means_prior=self.means_prior, means_weight=self.means_weight,
            covars_prior=self.covars_prior, covars_weight=self.covars_weight,
            min_covar=self.min_covar,
        )

    def _emission_log_prior(self):
        return _gaussian.log_prior(
            self.means_, self._covars_, self.covariance_type, means_prior=self.means_prior,
            means_weight=self.means_weight, covars_prior=self.covars_prior,
            covars_weight=self.covars_weight, include_means="m" in self.params,
            include_covars="c" in self.params,
        )

    def _sample_emissions(self, states, rng):
        D = self._dim()
        out = np.empty((len(states), D))
        chol = np.linalg.cholesky(self.covars_)
        for k in range(self.n_components):
            idx = np.flatnonzero(states == k)
            out[idx] = self.means_[k] + rng.standard_normal((len(idx), D)) @ chol[k].T
        return out

    def _emission_means(self):
        return np.asarray(self.means_)

    def _n_emission_parameters(self):
        K, D = self.n_components, self._dim()
        n = K * D if "m" in self.params else 0
        if "c" in self.params:
            n += {"spherical": K, "diag": K * D, "full": K * D * (D + 1) // 2,
                  "tied": D * (D + 1) // 2}[self.covariance_type]
        return n


class GMMHMM(_FeaturesMixin, BaseHMM):
    """Hidden Markov model whose states emit from Gaussian mixtures.

    Parameters beyond :class:`GaussianHMM`'s: ``n_mix`` components per state and
    ``weights_prior`` (Dirichlet on the mixture weights). ``covars_prior`` /
    ``covars_weight`` default to no prior (``None``), and covariances are floored at
    ``min_covar``. ``params`` letters: ``s t m c w``.

    Attributes (hmmlearn's shapes): ``weights_`` (K, M), ``means_`` (K, M, D), ``covars_``
    spherical (K, M), diag (K, M, D), full (K, M, D, D), tied (K, D, D) — in tied mode the
    mixture components of a state share one matrix.

    Example:
        >>> import numpy as np
        >>> from latentmodels.hmm import GMMHMM
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(200, 2))
        >>> hmm = GMMHMM(n_components=2, n_mix=2, n_iter=5, tol=1.0, random_state=0).fit(X)
        >>> hmm.means_.shape
        (2, 2, 2)
    """

    _emission_codes = "mcw"
    _emission_attributes = ("means_", "covars_", "weights_")

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
    ) -> None:
        super().__init__(
            n_components=n_components, startprob_prior=startprob_prior,
            transmat_prior=transmat_prior, algorithm=algorithm, random_state=random_state,
            n_iter=n_iter, tol=tol, verbose=verbose, params=params, init_params=init_params,
            implementation=implementation, n_init=n_init,
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
        if hasattr(self, "means_"):
            return int(np.shape(self.means_)[-1])
        return int(getattr(self, "n_features_", 0))

    def _validate_hyperparameters(self) -> None:
        super()._validate_hyperparameters()
        check_positive_int(self.n_mix, "n_mix")
        check_choice(self.covariance_type, "covariance_type", _gaussian.COVARIANCE_TYPES)
        check_number(self.min_covar, "min_covar", low=0.0)

    def _check_X(self, X, name):
        return _check_real(X, name)

    def _check_against_model(self, data):
        if data.shape[1] != self._dim():
            raise ValueError(f"X has {data.shape[1]} features but the model has {self._dim()}")

    # component-level views: K*M components, tied matrices shared within a state
    def _flat(self):
        K, M, D = self.n_components, self.n_mix, self._dim()
        means = np.asarray(self.means_).reshape(K * M, D)
        cov = np.asarray(self.covars_)
        if self.covariance_type == "spherical":
            cov = cov.reshape(K * M)
        elif self.covariance_type == "diag":
            cov = cov.reshape(K * M, D)
        elif self.covariance_type == "full":
            cov = cov.reshape(K * M, D, D)
        return means, cov

    def _init_emissions(self, X, offsets, rng):
        K, M, D = self.n_components, self.n_mix, X.shape[1]
        centers, labels = _kmeans(X, K, rng)
        if len(centers) < K:
            centers = np.concatenate([centers, X[rng.choice(len(X), K - len(centers))]])
        means = np.empty((K, M, D))
        comp_labels = np.empty(len(X), dtype=np.int64)
        spread = np.sqrt(np.maximum(X.var(axis=0), self.min_covar))
        for k in range(K):
            rows = np.flatnonzero(labels == k)
            if len(rows) >= 2 * M and M > 1:
                sub_centers, sub_labels = _kmeans(X[rows], M, rng)
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
        if self._needs_init("w", "weights_"):
            self.weights_ = np.full((K, M), 1.0 / M)
        if self._needs_init("m", "means_"):
            self.means_ = means
        if self._needs_init("c", "covars_"):
            groups = np.repeat(np.arange(K), M)
            cov = _gaussian.init_from_labels(
                X, comp_labels, means.reshape(K * M, D), self.covariance_type, self.min_covar,
                groups=groups,
            )
            shape = {"spherical": (K, M), "diag": (K, M, D), "full": (K, M, D, D),
                     "tied": (K, D, D)}[self.covariance_type]
            self.covars_ = cov.reshape(shape)
        return labels

    def _check_emissions(self):
        K, M = self.n_components, self.n_mix
        for name in ("weights_", "means_", "covars_"):
            if not hasattr(self, name):
                raise ValueError(f"{name} is not set: fit the model or assign it")
        self.weights_ = np.asarray(self.weights_, dtype=np.float64)
        self.means_ = np.asarray(self.means_, dtype=np.float64)
        self.covars_ = np.asarray(self.covars_, dtype=np.float64)
        if self.weights_.shape != (K, M):
            raise ValueError(f"weights_ must have shape (n_components, n_mix) = {(K, M)}")
        if np.any(self.weights_ < 0) or not np.allclose(self.weights_.sum(1), 1, atol=1e-6):
            raise ValueError("weights_ rows must be non-negative and sum to 1")
        if self.means_.ndim != 3 or self.means_.shape[:2] != (K, M):
            raise ValueError("means_ must have shape (n_components, n_mix, n_features)")
        D = self.means_.shape[2]
        shape = {"spherical": (K, M), "diag": (K, M, D), "full": (K, M, D, D),
                 "tied": (K, D, D)}[self.covariance_type]
        if self.covars_.shape != shape:
            raise ValueError(f"covars_ must have shape {shape} for covariance_type="
                             f"{self.covariance_type!r}, got {self.covars_.shape}")
        if self.covariance_type in ("spherical", "diag"):
            if np.any(self.covars_ <= 0):
                raise ValueError("covars_ must be positive")
        elif np.any(np.linalg.eigvalsh(self.covars_)[..., 0] <= 0):
            raise ValueError("covars_ must be positive definite")

    def _log_likelihood_for_stats(self, X):
        K, M = self.n_components, self.n_mix
        means, cov = self._flat()
        design = _design_for(self, X)
        comp = design.log_density(means, cov, self.covariance_type)
        if comp is None:
            comp = _gaussian.log_density(X, means, cov, self.covariance_type)
        with np.errstate(divide="ignore"):
            comp += np.log(self.weights_).reshape(K * M)
        comp = comp.reshape(len(X), K, M)
        frame = logsumexp(comp, axis=2)
        finite = np.isfinite(frame)
        resp = np.zeros_like(comp)
        resp[finite] = np.exp(comp[finite] - frame[finite][:, None])
        return frame, (resp, design)

    def _log_likelihood(self, X):
        K, M = self.n_components, self.n_mix
        means, cov = self._flat()
        comp = _gaussian.log_density(X, means, cov, self.covariance_type)
        with np.errstate(divide="ignore"):
            comp += np.log(self.weights_).reshape(K * M)
        return logsumexp(comp.reshape(len(X), K, M), axis=2)

    def _new_emission_stats(self):
        K, M, D = self.n_components, self.n_mix, self._dim()
        return _gaussian.new_stats(K * M, D, self.covariance_type)

    def _accumulate(self, stats, X, gamma, aux):
        resp, design = aux
        K, M = self.n_components, self.n_mix
        weights = (gamma[:, :, None] * resp).reshape(len(X), K * M)
        means, _ = self._flat()
        design.accumulate(stats, weights, means.mean(axis=0), "c" in self.params)

    def _m_step_emissions(self, stats):
        K, M, D = self.n_components, self.n_mix, self._dim()
        post = stats["post"].reshape(K, M)
        if "w" in self.params:
            prior = np.broadcast_to(np.asarray(self.weights_prior, dtype=np.float64), (K, M))
            new = np.maximum(post + prior - 1.0, 0.0)
            rows = new.sum(axis=1)
            ok = rows > 0
            weights = self.weights_.copy()
            weights[ok] = new[ok] / rows[ok, None]
            self.weights_ = weights
        means, cov = self._flat()
        mw = np.broadcast_to(np.asarray(self.means_weight, dtype=np.float64), (K, M))
        mp = np.broadcast_to(np.asarray(self.means_prior, dtype=np.float64), (K, M, D))
        cp = 0.0 if self.covars_prior is None else self.covars_prior
        cw = 0.0 if self.covars_weight is None else self.covars_weight
        new_means, new_cov = _gaussian.m_step(
            stats, means, cov, self.covariance_type,
            update_means="m" in self.params, update_covars="c" in self.params,
            means_prior=mp.reshape(K * M, D), means_weight=mw.reshape(K * M),
            covars_prior=cp, covars_weight=cw, min_covar=self.min_covar,
        )
        self.means_ = new_means.reshape(K, M, D)
        self.covars_ = new_cov.reshape(np.shape(self.covars_))

    def _emission_log_prior(self):
        K, M, D = self.n_components, self.n_mix, self._dim()
        value = 0.0
        if "w" in self.params:
            prior = np.broadcast_to(np.asarray(self.weights_prior, dtype=np.float64), (K, M))
            mask = (prior != 1) & (self.weights_ > 0)
            value += float(np.sum((prior[mask] - 1) * np.log(self.weights_[mask])))
        means, cov = self._flat()
        mw = np.broadcast_to(np.asarray(self.means_weight, dtype=np.float64), (K, M))
        mp = np.broadcast_to(np.asarray(self.means_prior, dtype=np.float64), (K, M, D))
        return value + _gaussian.log_prior(
            means, cov, self.covariance_type, means_prior=mp.reshape(K * M, D),
            means_weight=mw.reshape(K * M),
            covars_prior=0.0 if self.covars_prior is None else self.covars_prior,
            covars_weight=0.0 if self.covars_weight is None else self.covars_weight,
            include_means="m" in self.params, include_covars="c" in self.params,
        )

    def _sample_emissions(self, states, rng):
        K, M, D = self.n_components, self.n_mix, self._dim()
        means, cov = self._flat()
        full = _gaussian.full_covariances(cov, self.covariance_type, K * M, D)
        chol = np.linalg.cholesky(full)
        comps = np.empty(len(states), dtype=np.int64)
        for k in range(K):
            idx = np.flatnonzero(states == k)
            comps[idx] = k * M + rng.choice(M, size=len(idx), p=self.weights_[k])
        out = np.empty((len(states), D))
        for c in np.unique(comps):
            idx = np.flatnonzero(comps == c)
            out[idx] = means[c] + rng.standard_normal((len(idx), D)) @ chol[c].T
        return out

    def _emission_means(self):
        return np.einsum("km,kmd->kd", self.weights_, self.means_)

    def _n_emission_parameters(self):
        K, M, D = self.n_components, self.n_mix, self._dim()
        n = K * (M - 1) if "w" in self.params else 0
        n += K * M * D if "m" in self.params else 0
        if "c" in self.params:
            n += {"spherical": K * M, "diag": K * M * D, "full": K * M * D * (D + 1) // 2,
                  "tied": K * D * (D + 1) // 2}[self.covariance_type]
        return n


def _check_counts(X: Any, name: str, *, single_column: bool) -> np.ndarray:
    """Non-negative integers (any integer or integral float dtype)."""
    data = check_data(X, name, min_ndim=1, dtype=np.float64)
    if single_column:
        if data.ndim == 1:
            data = data[:, None]
        if data.ndim != 2 or data.shape[1] != 1:
            raise ValueError(
                f"{name} must hold one symbol per row, shape (n_samples, 1) or (n_samples,); "
                f"got shape {data.shape}"
            )
    elif data.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n_features), got shape {data.shape}")
    if np.any(data != np.round(data)):
        raise ValueError(f"{name} must hold integers (symbols or counts)")
    if np.any(data < 0):
        what = "symbols" if single_column else "counts"
        raise ValueError(f"{name} contains negative {what} (min {data.min():g})")
    return data.astype(np.int64)


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


class CategoricalHMM(BaseHMM):
    """Hidden Markov model with categorical (discrete symbol) emissions.

    ``X`` holds one integer symbol per step, shape (n_samples, 1) as in hmmlearn (or
    (n_samples,)). ``n_features`` is the alphabet size (inferred as max symbol + 1 when
    None). ``emissionprob_prior`` is a Dirichlet concentration on each state's emission
    row. ``params`` letters: ``s t e``.

    Initialisation: states are first guessed by clustering the symbol frequencies in a
    13-step window around each step (states persist in time, single symbols are ambiguous),
    which gives initial emission, start and transition probabilities.

    Example:
        >>> import numpy as np
        >>> from latentmodels.hmm import CategoricalHMM
        >>> X = np.array([[0], [0], [0], [1], [1], [1], [0], [0], [1], [1]])
        >>> hmm = CategoricalHMM(n_components=2, n_iter=20, random_state=0).fit(X)
        >>> hmm.emissionprob_.shape
        (2, 2)
    """

    _emission_codes = "e"
    _emission_attributes = ("emissionprob_",)
    _window_half_width = 6

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
    ) -> None:
        super().__init__(
            n_components=n_components, startprob_prior=startprob_prior,
            transmat_prior=transmat_prior, algorithm=algorithm, random_state=random_state,
            n_iter=n_iter, tol=tol, verbose=verbose, params=params, init_params=init_params,
            implementation=implementation, n_init=n_init,
        )
        self.emissionprob_prior = emissionprob_prior
        self.n_features = n_features

    def _validate_hyperparameters(self) -> None:
        super()._validate_hyperparameters()
        if self.n_features is not None:
            check_positive_int(self.n_features, "n_features")

    def _check_X(self, X, name):
        return _check_counts(X, name, single_column=True)

    def _n_symbols(self) -> int:
        if hasattr(self, "emissionprob_"):
            return int(np.shape(self.emissionprob_)[1])
        if self.n_features is not None:
            return int(self.n_features)
        return int(getattr(self, "n_features_", 0))

    def _set_n_features(self, X):
        top = int(X.max())
        if self.n_features is not None:
            if top >= self.n_features:
                raise ValueError(
                    f"X contains symbol {top} but n_features={self.n_features} allows only "
                    f"0..{self.n_features - 1}"
                )
            self.n_features_ = int(self.n_features)
        elif hasattr(self, "emissionprob_") and "e" not in self.init_params:
            self.n_features_ = int(np.shape(self.emissionprob_)[1])
        else:
            self.n_features_ = top + 1
        if top >= self.n_features_:
            raise ValueError(
                f"X contains symbol {top} outside the alphabet of {self.n_features_} symbols"
            )

    def _check_against_model(self, data):
        M = self._n_symbols()
        top = int(data.max())
        if top >= M:
            raise ValueError(
                f"X contains symbol {top} outside the fitted alphabet of {M} symbols (0..{M - 1})"
            )

    def _init_emissions(self, X, offsets, rng):
        K, M = self.n_components, self.n_features_
        symbols = X[:, 0]
        labels = None
        if M <= 256:
            hist = _window_histograms(symbols, offsets, M, self._window_half_width)
            _, labels = _kmeans(hist, K, rng)
        if self._needs_init("e", "emissionprob_"):
            if labels is None:
                emission = rng.dirichlet(np.ones(M), size=K) + np.bincount(symbols, minlength=M)
            else:
                emission = np.bincount(labels * M + symbols, minlength=K * M).reshape(K, M)
                emission = emission + 1.0
            self.emissionprob_ = emission / emission.sum(axis=1, keepdims=True)
        return labels

    def _check_emissions(self):
        if not hasattr(self, "emissionprob_"):
            raise ValueError("emissionprob_ is not set: fit the model or assign it")
        e = np.asarray(self.emissionprob_, dtype=np.float64)
        if e.ndim != 2 or e.shape[0] != self.n_components:
            raise ValueError("emissionprob_ must have shape (n_components, n_features)")
        if self.n_features is not None and e.shape[1] != self.n_features:
            raise ValueError(f"emissionprob_ must have n_features={self.n_features} columns")
        if not np.all(np.isfinite(e)) or np.any(e < 0):
            raise ValueError("emissionprob_ must hold finite non-negative probabilities")
        sums = e.sum(axis=1)
        if not np.allclose(sums, 1.0, rtol=0, atol=1e-6):
            raise ValueError(f"emissionprob_ rows must sum to 1 (rows sum: {sums})")
        self.emissionprob_ = e

    def _log_likelihood(self, X):
        with np.errstate(divide="ignore"):
            table = np.log(self.emissionprob_.T)
        return table[X[:, 0]]

    def _symbol_table(self, X):
        return np.ascontiguousarray(X[:, 0]), np.ascontiguousarray(self.emissionprob_.T)

    def _new_emission_stats(self):
        return {"obs": np.zeros((self.n_components, self._n_symbols()))}

    def _accumulate(self, stats, X, gamma, aux):
        if "e" in self.params:
            _kernels.categorical_counts(X[:, 0], gamma, stats["obs"])

    def _m_step_emissions(self, stats):
        if "e" not in self.params:
            return
        K, M = self.emissionprob_.shape
        prior = np.broadcast_to(np.asarray(self.emissionprob_prior, dtype=np.float64), (K, M))
        new = np.maximum(stats["obs"] + prior - 1.0, 0.0)
        rows = new.sum(axis=1)
        ok = rows > 0
        e = self.emissionprob_.copy()
        e[ok] = new[ok] / rows[ok, None]
        self.emissionprob_ = e

    def _emission_log_prior(self):
        if "e" not in self.params:
            return 0.0
        K, M = self.emissionprob_.shape
        prior = np.broadcast_to(np.asarray(self.emissionprob_prior, dtype=np.float64), (K, M))
        mask = (prior != 1) & (self.emissionprob_ > 0)
        return float(np.sum((prior[mask] - 1) * np.log(self.emissionprob_[mask])))

    def _sample_emissions(self, states, rng):
        out = np.empty((len(states), 1), dtype=np.int64)
        M = self._n_symbols()
        for k in range(self.n_components):
            idx = np.flatnonzero(states == k)
            out[idx, 0] = rng.choice(M, size=len(idx), p=self.emissionprob_[k])
        return out

    def _emission_means(self):
        return np.asarray(self.emissionprob_)

    def _n_emission_parameters(self):
        return self.n_components * (self._n_symbols() - 1) if "e" in self.params else 0


class PoissonHMM(_FeaturesMixin, BaseHMM):
    """Hidden Markov model with independent Poisson counts per feature.

    ``lambdas_`` (K, D) are the rates. ``lambdas_prior`` / ``lambdas_weight`` act as a
    Gamma prior: the M-step is ``(lambdas_prior + sum gamma x) / (lambdas_weight + sum
    gamma)``. ``params`` letters: ``s t l``.

    Example:
        >>> import numpy as np
        >>> from latentmodels.hmm import PoissonHMM
        >>> rng = np.random.default_rng(0)
        >>> X = np.concatenate([rng.poisson(2, (50, 1)), rng.poisson(30, (50, 1))])
        >>> hmm = PoissonHMM(n_components=2, n_iter=20, random_state=0).fit(X)
        >>> sorted(np.round(hmm.lambdas_[:, 0], -1).tolist())
        [0.0, 30.0]
    """

    _emission_codes = "l"
    _emission_attributes = ("lambdas_",)
    _rate_floor = 1e-10

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
    ) -> None:
        super().__init__(
            n_components=n_components, startprob_prior=startprob_prior,
            transmat_prior=transmat_prior, algorithm=algorithm, random_state=random_state,
            n_iter=n_iter, tol=tol, verbose=verbose, params=params, init_params=init_params,
            implementation=implementation, n_init=n_init,
        )
        self.lambdas_prior = lambdas_prior
        self.lambdas_weight = lambdas_weight

    def _check_X(self, X, name):
        return _check_counts(X, name, single_column=False)

    def _check_against_model(self, data):
        D = int(np.shape(self.lambdas_)[1])
        if data.shape[1] != D:
            raise ValueError(f"X has {data.shape[1]} features but the model has {D}")

    def _init_emissions(self, X, offsets, rng):
        centers, labels = _kmeans(X.astype(np.float64), self.n_components, rng)
        if len(centers) < self.n_components:
            extra = X[rng.choice(len(X), self.n_components - len(centers))]
            centers = np.concatenate([centers, extra])
        if self._needs_init("l", "lambdas_"):
            self.lambdas_ = np.maximum(centers, 1e-3 + 1e-2 * X.mean(axis=0))
        return labels

    def _check_emissions(self):
        if not hasattr(self, "lambdas_"):
            raise ValueError("lambdas_ is not set: fit the model or assign it")
        lam = np.atleast_2d(np.asarray(self.lambdas_, dtype=np.float64))
        if lam.ndim != 2 or lam.shape[0] != self.n_components:
            raise ValueError("lambdas_ must have shape (n_components, n_features)")
        if not np.all(np.isfinite(lam)) or np.any(lam < 0):
            raise ValueError("lambdas_ must be finite and non-negative")
        self.lambdas_ = lam

    def _log_likelihood(self, X):
        lam = np.maximum(self.lambdas_, self._rate_floor)
        Xf = X.astype(np.float64)
        return Xf @ np.log(lam).T - lam.sum(axis=1) - gammaln(Xf + 1.0).sum(axis=1)[:, None]

    def _new_emission_stats(self):
        K, D = np.shape(self.lambdas_)
        return {"post": np.zeros(K), "obs": np.zeros((K, D))}

    def _accumulate(self, stats, X, gamma, aux):
        if "l" in self.params:
            stats["post"] += gamma.sum(axis=0)
            stats["obs"] += gamma.T @ X.astype(np.float64)

    def _m_step_emissions(self, stats):
        if "l" not in self.params:
            return
        K, D = self.lambdas_.shape
        a = np.broadcast_to(np.asarray(self.lambdas_prior, dtype=np.float64), (K, D))
        b = np.broadcast_to(np.asarray(self.lambdas_weight, dtype=np.float64), (K, D))
        den = b + stats["post"][:, None]
        ok = (stats["post"] >= 1e-6)[:, None] & (den > 0)
        lam = self.lambdas_.copy()
        lam[ok] = np.maximum((a + stats["obs"])[ok] / den[ok], self._rate_floor)
        self.lambdas_ = lam

    def _emission_log_prior(self):
        if "l" not in self.params:
            return 0.0
        K, D = self.lambdas_.shape
        a = np.broadcast_to(np.asarray(self.lambdas_prior, dtype=np.float64), (K, D))
        b = np.broadcast_to(np.asarray(self.lambdas_weight, dtype=np.float64), (K, D))
        lam = np.maximum(self.lambdas_, self._rate_floor)
        return float(np.sum(a * np.log(lam) - b * lam))

    def _sample_emissions(self, states, rng):
        return rng.poisson(self.lambdas_[states]).astype(np.int64)

    def _emission_means(self):
        return np.asarray(self.lambdas_)

    def _n_emission_parameters(self):
        return int(np.size(self.lambdas_)) if "l" in self.params else 0
