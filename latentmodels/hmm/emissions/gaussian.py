"""Gaussian emissions: :class:`GaussianEmission` and the estimator :class:`GaussianHMM`."""

from __future__ import annotations

import os
from numbers import Real
from typing import Any

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ..._internal.validation import check_choice
from .. import _gaussian
from ..base import PRIOR_CONSTRAINT, BaseHMM
from ._base import Emission, FeaturesMixin, Param, kmeans
from ._registry import register_emission

__all__ = ["GaussianEmission", "GaussianHMM"]


def design_for(model: BaseHMM, X: np.ndarray) -> _gaussian.Design:
    """The design matrix of ``X``, reused across the EM iterations of one fit.

    Parameters
    ----------
    model : BaseHMM
        An estimator with a ``covariance_type``; the design is kept on it while it fits.
    X : numpy.ndarray
        Validated observations.

    Returns
    -------
    latentmodels.hmm._gaussian.Design

    Examples
    --------
    >>> import numpy as np
    >>> from latentmodels.hmm import GaussianHMM
    >>> design_for(GaussianHMM(2), np.zeros((4, 3))).X.shape
    (4, 3)
    """
    full = model.covariance_type in ("full", "tied")
    cache = getattr(model, "_fit_cache", None)
    if cache is not None and cache.X is X and cache.full == full:
        return cache
    design = _gaussian.Design(X, model.covariance_type)
    if getattr(model, "_caching", False):
        model._fit_cache = design
    return design


class GaussianEmission(Emission):
    """One multivariate normal per state: ``means_`` (K, D) and compact ``_covars_``.

    The E-step uses the design-matrix products of :mod:`latentmodels.hmm._gaussian`, built
    once per fit, for both the densities and the statistics.

    Examples
    --------
    >>> import numpy as np
    >>> from latentmodels.hmm import GaussianHMM
    >>> hmm = GaussianHMM(2)
    >>> hmm.means_ = np.array([[0.0], [5.0]]); hmm.covars_ = np.array([[1.0], [1.0]])
    >>> emission = GaussianEmission(hmm)
    >>> emission.log_likelihood(np.array([[0.1], [4.8]])).argmax(axis=1).tolist()
    [0, 1]
    """

    parameters = (Param("m", "means_"), Param("c", "_covars_", "covariance"))
    data = "real"
    nonfinite_hint = "the data may need rescaling or a larger min_covar"

    def initialize(self, X, offsets, rng):
        model, K = self.model, self.n_components
        centers, labels = kmeans(X, K, rng)
        if len(centers) < K:  # fewer distinct points than states
            centers = np.concatenate([centers, X[rng.choice(len(X), K - len(centers))]])
        if self.needs_init("means_"):
            model.means_ = centers
        if self.needs_init("_covars_"):
            model._covars_ = _gaussian.init_from_labels(
                X, labels, model.means_, model.covariance_type, model.min_covar
            )
        return labels

    def check(self):
        model, K = self.model, self.n_components
        for name in ("means_", "_covars_"):
            if not hasattr(model, name):
                raise ValueError(f"{name.strip('_')}_ is not set: fit the model or assign it")
        means = np.asarray(model.means_, dtype=np.float64)
        if means.ndim != 2 or means.shape[0] != K:
            raise ValueError(f"means_ must have shape (n_components={K}, n_features)")
        if not np.all(np.isfinite(means)):
            raise ValueError("means_ must be finite")
        model.means_ = means
        D = means.shape[1]
        cov = model._covars_
        shape = {"spherical": (K,), "diag": (K, D), "full": (K, D, D),
                 "tied": (1, D, D)}[model.covariance_type]
        if cov.shape != shape:
            raise ValueError(f"covars_ does not match covariance_type={model.covariance_type!r} "
                             f"and means_ (expected compact shape {shape}, got {cov.shape})")
        if not np.all(np.isfinite(cov)):
            raise ValueError("covars_ must be finite")
        if model.covariance_type in ("spherical", "diag"):
            if np.any(cov <= 0):
                raise ValueError("covars_ must be positive")
        else:
            if not np.allclose(cov, np.swapaxes(cov, -1, -2)):
                raise ValueError("covars_ must be symmetric")
            if np.any(np.linalg.eigvalsh(cov)[..., 0] <= 0):
                raise ValueError("covars_ must be positive definite")

    def prior_rules(self):
        matrices = self.model.covariance_type in ("full", "tied")
        return {"means_prior": "real", "means_weight": "nonnegative",
                "covars_prior": "nonnegative_diagonal" if matrices else "nonnegative",
                "covars_weight": "nonnegative"}

    def prior_shapes(self):
        m, K, D = self.model, self.n_components, self.n_features()
        per_value = {"spherical": (K, D), "diag": (K, D), "full": (K, D, D),
                     "tied": (D, D)}[m.covariance_type]
        return {"means_prior": (K, D), "means_weight": (K,), "covars_prior": per_value}

    def log_likelihood(self, X):
        m = self.model
        return _gaussian.log_density(X, m.means_, m._covars_, m.covariance_type)

    def log_likelihood_for_stats(self, X):
        m = self.model
        design = design_for(m, X)
        out = design.log_density(m.means_, m._covars_, m.covariance_type)
        if out is None:
            out = self.log_likelihood(X)
        return out, design

    def new_stats(self):
        return _gaussian.new_stats(self.n_components, self.n_features(),
                                   self.model.covariance_type)

    def accumulate(self, stats, X, posteriors, aux=None):
        if self.updates("m") or self.updates("c"):
            design = aux if aux is not None else design_for(self.model, X)
            design.accumulate(stats, posteriors, self.model.means_.mean(axis=0),
                              self.updates("c"))

    def m_step(self, stats):
        m = self.model
        m.means_, m._covars_ = _gaussian.m_step(
            stats, m.means_, m._covars_, m.covariance_type,
            update_means=self.updates("m"), update_covars=self.updates("c"),
            means_prior=m.means_prior, means_weight=m.means_weight,
            covars_prior=m.covars_prior, covars_weight=m.covars_weight,
            min_covar=m.min_covar,
        )

    def log_prior(self):
        m = self.model
        return _gaussian.log_prior(
            m.means_, m._covars_, m.covariance_type, means_prior=m.means_prior,
            means_weight=m.means_weight, covars_prior=m.covars_prior,
            covars_weight=m.covars_weight, include_means=self.updates("m"),
            include_covars=self.updates("c"),
        )

    def sample(self, states, rng):
        m, D = self.model, self.n_features()
        out = np.empty((len(states), D))
        chol = np.linalg.cholesky(m.covars_)
        for k in range(self.n_components):
            idx = np.flatnonzero(states == k)
            out[idx] = m.means_[k] + rng.standard_normal((len(idx), D)) @ chol[k].T
        return out

    def marginal_density(self, values, feature=0):
        m = self.model
        sd = np.sqrt(m.covars_[:, feature, feature])
        z = (np.asarray(values, dtype=np.float64)[:, None] - m.means_[:, feature]) / sd
        return np.exp(-0.5 * z**2) / (sd * np.sqrt(2 * np.pi))

    def means(self):
        return np.asarray(self.model.means_)


@register_emission("gaussian")
class GaussianHMM(FeaturesMixin, BaseHMM):
    """Hidden Markov model with Gaussian emissions.

    Names, defaults and attributes follow hmmlearn. Initialisation (``init_params``):
    k-means for the means, per-cluster covariances, and start/transition probabilities
    counted from the k-means label sequence.

    Parameters
    ----------
    n_components : int, default 1
        Number of hidden states.
    covariance_type : {"diag", "full", "spherical", "tied"}, default "diag"
        Form of the covariance matrices.
    min_covar : float, default 1e-3
        Floor on variances (eigenvalues for full/tied); keeps covariances positive definite.
    startprob_prior, transmat_prior : float or array-like, default 1.0
        Dirichlet concentrations of the chain (see :class:`~latentmodels.hmm.BaseHMM`).
    means_prior, means_weight : float or array-like, default 0
        Normal prior on the means: prior mean and its weight in pseudo-observations.
    covars_prior, covars_weight : float or array-like, default 1e-2 and 1
        Inverse-gamma (diag/spherical) or inverse-Wishart (full/tied) prior on the
        covariances; a scalar ``covars_prior`` is added to each variance, i.e. it means
        ``covars_prior * I`` for full/tied.
    algorithm, random_state, n_iter, tol, verbose, implementation, n_init
        As in :class:`~latentmodels.hmm.BaseHMM`.
    checkpoint_dir, checkpoint_every
        Checkpoints of ``fit`` and where they go, as in :class:`~latentmodels.hmm.BaseHMM`
        (keyword-only).
    params, init_params : str, default "stmc"
        Letters of what EM updates / initialisation sets: ``s`` ``t`` ``m`` (means) ``c``
        (covariances).

    Attributes
    ----------
    startprob_ : numpy.ndarray of shape (n_components,)
    transmat_ : numpy.ndarray of shape (n_components, n_components)
    means_ : numpy.ndarray of shape (n_components, n_features)
    covars_ : numpy.ndarray of shape (n_components, n_features, n_features)
        Full matrices; assign it in the compact shape of the covariance type: spherical
        (K,), diag (K, D), full (K, D, D), tied (D, D).
    n_features : int
    monitor_ : ConvergenceMonitor
        The EM history.

    Examples
    --------
    >>> import numpy as np
    >>> from latentmodels.hmm import GaussianHMM
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(m, 0.5, (40, 1)) for m in (0, 5, 0, 5)])
    >>> hmm = GaussianHMM(n_components=2, n_iter=50, random_state=0).fit(X)
    >>> states = hmm.predict(X)
    >>> bool(states[0] != states[50])
    True
    """

    _emission_class = GaussianEmission
    _parameter_constraints = {
        **BaseHMM._parameter_constraints,
        "covariance_type": [StrOptions(set(_gaussian.COVARIANCE_TYPES))],
        "min_covar": [Interval(Real, 0, None, closed="left")],
        **dict.fromkeys(("means_prior", "means_weight", "covars_prior", "covars_weight"),
                        PRIOR_CONSTRAINT),
    }

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
        self.covariance_type = covariance_type
        self.min_covar = min_covar
        self.means_prior = means_prior
        self.means_weight = means_weight
        self.covars_prior = covars_prior
        self.covars_weight = covars_weight

    # covars_ is compact inside, full matrices outside (hmmlearn's convention)
    @property
    def covars_(self) -> np.ndarray:
        """Covariance matrices, shape (n_components, n_features, n_features).

        Examples
        --------
        >>> import numpy as np
        >>> from latentmodels.hmm import GaussianHMM
        >>> hmm = GaussianHMM(2, covariance_type="spherical")
        >>> hmm.means_ = np.zeros((2, 2)); hmm.covars_ = np.array([1.0, 2.0])
        >>> hmm.covars_[1].tolist()
        [[2.0, 0.0], [0.0, 2.0]]
        """
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
        if ctype == "spherical" and arr.ndim > 1 and arr.shape[0] == K and arr.size == K:
            arr = arr.reshape(K)  # one variance per state, in any shape hmmlearn accepts: (K, 1)
        if arr.ndim != expected_ndim or (ctype != "tied" and arr.shape[0] != K):
            shape = {"spherical": "(n_components,) or (n_components, 1)",
                     "diag": "(n_components, n_features)",
                     "full": "(n_components, n_features, n_features)",
                     "tied": "(n_features, n_features)"}[ctype]
            raise ValueError(
                f"covars_ for covariance_type={ctype!r} must have shape {shape}, got {arr.shape}"
            )
        self._covars_ = arr[None] if ctype == "tied" else arr

    def _dim(self) -> int:
        return self._emission.n_features()
