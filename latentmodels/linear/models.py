"""Linear-Gaussian latent models under the latentmodels contract.

``PCA``, ``ProbabilisticPCA`` and ``FactorAnalysis`` are the baselines every nonlinear model
should beat. Fitting is scikit-learn's (``sklearn.decomposition``); this module adds what the
contract asks beyond it: input of any shape (images stay images), ``inverse_transform`` for
every model, ``sample`` from the fitted Gaussian, and safe ``save``/``load``.

All three describe the data as ``x = W z + mean + noise`` with ``z ~ N(0, I)`` (PCA with
``z``'s variance on its axes), so ``score_samples`` is the exact Gaussian log-density of each
row (in nats, for the flattened row).
"""

from __future__ import annotations

import copy
import numbers
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn import decomposition
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted, validate_data

from .._internal import io
from .._internal.validation import (
    check_affordable,
    check_data,
    check_number,
    check_positive_int,
    check_squares_finite,
)
from ..base import LatentModel

# Learned arrays copied from the scikit-learn estimator into a file, per estimator class.
_SAVED_ARRAYS: dict[str, tuple[str, ...]] = {
    "PCA": ("components_", "explained_variance_", "explained_variance_ratio_",
            "singular_values_", "mean_"),
    "FactorAnalysis": ("components_", "noise_variance_", "mean_", "loglike_"),
}


class _LinearGaussianModel(LatentModel):
    """A scikit-learn decomposition fitted on the rows of ``X``, under the contract."""

    _estimator_class: ClassVar[type]

    # -- hooks -------------------------------------------------------------------------
    def _make_estimator(self) -> Any:
        raise NotImplementedError

    def _loading_matrix(self) -> np.ndarray:
        """``W`` of shape (n_components, n_features): a code decodes to ``z @ W + mean``."""
        return self.estimator_.components_

    def _noise_variance(self) -> np.ndarray:
        """Per-feature variance of the noise added when sampling."""
        return np.broadcast_to(np.asarray(self.estimator_.noise_variance_, dtype=np.float64),
                               (self.n_features_in_,))

    def _code_scale(self) -> np.ndarray:
        """Standard deviation of the prior on each code axis."""
        return np.ones(self.n_components_)

    # -- input -------------------------------------------------------------------------
    def _rows(self, X: Any, *, reset: bool) -> np.ndarray:
        """Validate ``X`` (any number of axes) and flatten each sample to a row."""
        check_data(X, "X", dtype=np.float64)  # our messages, naming X, for every refusal
        array = check_array(X, allow_nd=True, dtype=[np.float64, np.float32], input_name="X")
        if reset:
            self.input_shape_ = tuple(int(s) for s in array.shape[1:])
        elif array.ndim > 2 and tuple(array.shape[1:]) != self.input_shape_:
            raise ValueError(f"X has samples of shape {tuple(array.shape[1:])}, but "
                             f"{type(self).__name__} was fitted on shape {self.input_shape_}")
        rows = array.reshape(len(array), -1)
        rows = validate_data(self, rows, reset=reset, dtype=[np.float64, np.float32])
        return check_squares_finite(rows, "X")  # log-likelihoods square the data

    def _as_samples(self, rows: np.ndarray) -> np.ndarray:
        return rows.reshape((len(rows), *self.input_shape_))

    # -- the contract --------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None) -> _LinearGaussianModel:
        """Fit the scikit-learn decomposition to the rows of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Training data; images and other multi-axis samples are flattened to rows.
        y : None
            Ignored.

        Returns
        -------
        self
            The fitted model.

        Examples
        --------
        >>> from latentmodels import PCA, datasets
        >>> X, _ = datasets.load_mnist()
        >>> PCA(n_components=3).fit(X[:200]).n_components_
        3
        """
        rows = self._rows(X, reset=True)
        size = self.n_components
        if isinstance(size, numbers.Integral) and not isinstance(size, bool) and size > 0:
            # components x features and samples x components, a few copies each
            check_affordable(size, 8 * 4 * (sum(rows.shape) + 1), "n_components")
        estimator = self._make_estimator().fit(rows)
        # C order, as a reloaded model has it: BLAS sums in an order that follows the layout.
        for name in _SAVED_ARRAYS[type(estimator).__name__]:
            setattr(estimator, name, np.ascontiguousarray(getattr(estimator, name)))
        self.estimator_ = estimator
        self.n_components_ = int(self.estimator_.components_.shape[0])
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Latent codes of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Data shaped like the training data.

        Returns
        -------
        numpy.ndarray of shape ``(n_samples, n_components_)``
            The codes.

        Examples
        --------
        >>> from latentmodels import FactorAnalysis, datasets
        >>> X, _ = datasets.load_mnist()
        >>> FactorAnalysis(n_components=2, random_state=0).fit(X[:200]).transform(X[:4]).shape
        (4, 2)
        """
        check_is_fitted(self)
        return self.estimator_.transform(self._rows(X, reset=False))

    def inverse_transform(self, Z: Any) -> np.ndarray:
        """Decode latent codes: ``Z @ W + mean``, shaped like the training samples.

        Parameters
        ----------
        Z : array-like of shape ``(n_samples, n_components_)``
            Latent codes.

        Returns
        -------
        numpy.ndarray of shape (n_samples, ...)
            The decoded samples.

        Examples
        --------
        >>> from latentmodels import ProbabilisticPCA, datasets
        >>> X, _ = datasets.load_mnist()
        >>> ppca = ProbabilisticPCA(n_components=2).fit(X[:200])
        >>> ppca.inverse_transform(np.zeros((3, 2))).shape
        (3, 28, 28)
        """
        check_is_fitted(self)
        if check_data(Z, "Z", dtype=np.float64).ndim != 2:
            raise ValueError(f"Z must have shape (n_samples, {self.n_components_}), got "
                             f"shape {np.shape(Z)}")
        codes = check_array(Z, dtype=[np.float64, np.float32], input_name="Z")
        if codes.shape[1] != self.n_components_:
            raise ValueError(f"Z has {codes.shape[1]} columns, but {type(self).__name__} has "
                             f"{self.n_components_} latent components")
        return self._as_samples(codes @ self._loading_matrix() + self.estimator_.mean_)

    def sample(self, n_samples: int = 1, *, random_state: Any = None) -> np.ndarray:
        """Draw data from the fitted Gaussian: a prior code, decoded, plus the model's noise.

        Parameters
        ----------
        n_samples : int, default=1
            How many samples.
        random_state : None, int or numpy.random.Generator
            Seed of the draw.

        Returns
        -------
        numpy.ndarray of shape (n_samples, ...)
            The samples, shaped like the training samples.

        Examples
        --------
        >>> from latentmodels import PCA, datasets
        >>> X, _ = datasets.load_mnist()
        >>> PCA(n_components=4).fit(X[:200]).sample(5, random_state=0).shape
        (5, 28, 28)
        """
        check_is_fitted(self)
        n_samples = check_affordable(n_samples, 8 * self.n_features_in_, "n_samples")
        rng = np.random.default_rng(random_state)
        codes = rng.standard_normal((n_samples, self.n_components_)) * self._code_scale()
        noise = rng.standard_normal((n_samples, self.n_features_in_))
        noise = self._shape_noise(noise * np.sqrt(self._noise_variance()))
        return self._as_samples(codes @ self._loading_matrix() + self.estimator_.mean_ + noise)

    def _shape_noise(self, noise: np.ndarray) -> np.ndarray:
        """Hook: the noise drawn for ``sample``, given independent per-feature noise."""
        return noise

    def score_samples(self, X: Any) -> np.ndarray:
        """Gaussian log-density of each sample under the fitted model (nats).

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Data shaped like the training data.

        Returns
        -------
        numpy.ndarray of shape (n_samples,)
            One log-density per sample; higher means more typical.

        Examples
        --------
        >>> from latentmodels import FactorAnalysis, datasets
        >>> X, _ = datasets.load_mnist()
        >>> fa = FactorAnalysis(n_components=2, random_state=0).fit(X[:200])
        >>> fa.score_samples(X[:3]).shape
        (3,)
        """
        check_is_fitted(self)
        return self.estimator_.score_samples(self._rows(X, reset=False))

    # -- persistence -------------------------------------------------------------------
    def _get_state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        estimator = self.estimator_
        kind = type(estimator).__name__
        # Arrays keep scikit-learn's dtype (float32 data gives float32 axes), so a reloaded
        # model computes bit for bit what the saved one did.
        tensors = {name: torch.from_numpy(np.array(getattr(estimator, name), copy=True))
                   for name in _SAVED_ARRAYS[kind] + ("noise_variance_",)}
        tensors["noise_variance_"] = tensors["noise_variance_"].reshape(-1)
        attributes = {"input_shape_": list(self.input_shape_),
                      "n_features_in_": int(self.n_features_in_),
                      "n_components_": int(self.n_components_),
                      "n_samples_": int(getattr(estimator, "n_samples_", 0)),
                      "n_iter_": int(getattr(estimator, "n_iter_", 0))}
        return tensors, attributes

    def _set_state(self, tensors: dict[str, torch.Tensor], attributes: dict[str, Any]) -> None:
        name = type(self).__name__
        shape = attributes.get("input_shape_")
        n_features = attributes.get("n_features_in_")
        n_components = attributes.get("n_components_")
        if (not isinstance(shape, list) or not shape
                or not all(isinstance(s, int) and 0 < s < 2**31 for s in shape)):
            raise io.ModelFileError(f"the {name} file records an invalid input_shape_ {shape!r}")
        if not isinstance(n_features, int) or n_features != int(np.prod(shape)):
            raise io.ModelFileError(f"the {name} file's n_features_in_ ({n_features!r}) does not "
                                    f"match its input_shape_ {shape}")
        if not isinstance(n_components, int) or n_components < 1:
            raise io.ModelFileError(f"the {name} file records an invalid n_components_ "
                                    f"{n_components!r}")
        estimator = self._make_estimator()
        kind = type(estimator).__name__
        expected = {"components_": (n_components, n_features), "mean_": (n_features,),
                    "explained_variance_": (n_components,),
                    "explained_variance_ratio_": (n_components,),
                    "singular_values_": (n_components,), "loglike_": None,
                    "noise_variance_": (1,) if kind == "PCA" else (n_features,)}
        for field in _SAVED_ARRAYS[kind] + ("noise_variance_",):
            tensor = tensors.get(field)
            if tensor is None:
                raise io.ModelFileError(f"the {name} file has no {field} array")
            array = tensor.numpy()
            if array.dtype not in (np.float32, np.float64):
                raise io.ModelFileError(f"the {name} file's {field} has dtype {array.dtype}, "
                                        "expected float32 or float64")
            if expected[field] is not None and array.shape != expected[field]:
                raise io.ModelFileError(f"the {name} file's {field} has shape {array.shape}, "
                                        f"expected {expected[field]}")
            if not np.isfinite(array).all():
                raise io.ModelFileError(f"the {name} file's {field} holds NaN or infinite values")
            if field == "noise_variance_" and (array < 0).any():
                raise io.ModelFileError(f"the {name} file's noise_variance_ is negative")
            setattr(estimator, field, array)
        if kind == "PCA":
            estimator.noise_variance_ = estimator.noise_variance_[0]
            estimator.n_components_ = n_components
            estimator.n_samples_ = attributes.get("n_samples_", 0)
        else:
            estimator.loglike_ = estimator.loglike_.tolist()
            estimator.n_iter_ = attributes.get("n_iter_", 0)
            self.n_iter_ = estimator.n_iter_
        estimator.n_features_in_ = n_features
        self.estimator_ = estimator
        self.input_shape_ = tuple(shape)
        self.n_features_in_ = n_features
        self.n_components_ = n_components


class PCA(_LinearGaussianModel):
    """Principal component analysis under the latentmodels contract.

    The codes are projections on the principal axes (scikit-learn's ``PCA``).
    ``score_samples`` is the probabilistic-PCA log-density (Tipping & Bishop, 1999) that
    scikit-learn's ``PCA.score_samples`` computes, and ``sample`` draws codes with the
    variance explained on each axis, decodes them and adds the residual noise in the
    discarded directions, so samples follow the same Gaussian that ``score_samples`` scores.

    Parameters
    ----------
    n_components : int, default=16
        Number of principal axes kept.
    whiten : bool, default=False
        Scale the codes to unit variance.
    svd_solver : {"auto", "full", "covariance_eigh", "arpack", "randomized"}, default="auto"
        scikit-learn's solver choice.
    random_state : None or int, default=None
        Seed for the randomized solver.

    Attributes
    ----------
    estimator_ : sklearn.decomposition.PCA
        The fitted scikit-learn model.
    n_components_ : int
        Latent dimension.
    input_shape_ : tuple of int
        Shape of one training sample.

    Examples
    --------
    >>> from latentmodels import PCA, datasets
    >>> X, _ = datasets.load_mnist()
    >>> pca = PCA(n_components=8).fit(X[:500])
    >>> pca.transform(X[:2]).shape, pca.reconstruct(X[:2]).shape
    ((2, 8), (2, 28, 28))
    """

    def __init__(self, n_components: int = 16, *, whiten: bool = False,
                 svd_solver: str = "auto", random_state: Any = None) -> None:
        self.n_components = n_components
        self.whiten = whiten
        self.svd_solver = svd_solver
        self.random_state = random_state

    def _make_estimator(self) -> decomposition.PCA:
        check_positive_int(self.n_components, "n_components")
        return decomposition.PCA(self.n_components, whiten=self.whiten,
                                 svd_solver=self.svd_solver, random_state=self.random_state)

    def _loading_matrix(self) -> np.ndarray:
        estimator = self.estimator_
        if not self.whiten:
            return estimator.components_
        # Whitened codes have unit variance: undo the scaling on the way back.
        return estimator.components_ * np.sqrt(estimator.explained_variance_)[:, None]

    def _code_scale(self) -> np.ndarray:
        if self.whiten:
            return np.ones(self.n_components_)
        return np.sqrt(self.estimator_.explained_variance_)

    def _noise_variance(self) -> np.ndarray:
        return np.full(self.n_features_in_, float(self.estimator_.noise_variance_))

    def score_samples(self, X: Any) -> np.ndarray:
        """Probabilistic-PCA log-density of each sample (nats); ``whiten`` does not change it.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Data shaped like the training data.

        Returns
        -------
        numpy.ndarray of shape (n_samples,)
            One log-density per sample; higher means more typical.

        Examples
        --------
        >>> from latentmodels import PCA, datasets
        >>> X, _ = datasets.load_mnist()
        >>> a = PCA(n_components=4).fit(X[:300]).score_samples(X[:3])
        >>> b = PCA(n_components=4, whiten=True).fit(X[:300]).score_samples(X[:3])
        >>> bool(np.allclose(a, b, rtol=1e-3))
        True
        """
        check_is_fitted(self)
        # scikit-learn folds the whitening scale into the covariance a second time, which
        # would make the density depend on how the codes are scaled; score unwhitened.
        scorer = copy.copy(self.estimator_)
        scorer.whiten = False
        return scorer.score_samples(self._rows(X, reset=False))

    def _shape_noise(self, noise: np.ndarray) -> np.ndarray:
        # The codes already carry all the variance along the kept axes: the residual noise
        # lives in the discarded directions only, which gives exactly the covariance that
        # score_samples uses (W'(L - s2)W + s2 I).
        axes = self.estimator_.components_
        return noise - (noise @ axes.T) @ axes


class ProbabilisticPCA(_LinearGaussianModel):
    """Probabilistic PCA (Tipping & Bishop, 1999): ``x = W z + mean + N(0, sigma^2 I)``.

    The maximum-likelihood fit has a closed form given by PCA (scikit-learn's ``PCA``):
    ``W = U (L - sigma^2 I)^(1/2)`` with the top eigenvectors ``U`` and eigenvalues ``L``,
    and ``sigma^2`` the mean discarded eigenvalue. Codes are posterior means
    ``E[z | x] = (W'W + sigma^2 I)^-1 W' (x - mean)``; ``score_samples`` is the exact
    log-density and ``sample`` draws from the model.

    Parameters
    ----------
    n_components : int, default=16
        Latent dimension.
    random_state : None or int, default=None
        Seed for scikit-learn's randomized solver, where it is chosen.

    Attributes
    ----------
    estimator_ : sklearn.decomposition.PCA
        The fitted scikit-learn model.
    n_components_ : int
        Latent dimension.
    input_shape_ : tuple of int
        Shape of one training sample.

    Examples
    --------
    >>> from latentmodels import ProbabilisticPCA, datasets
    >>> X, _ = datasets.load_mnist()
    >>> ppca = ProbabilisticPCA(n_components=8).fit(X[:500])
    >>> bool(ppca.score_samples(X[:500]).mean() > ppca.score_samples(X[500:510] * 0 + 0.5).mean())
    True
    """

    def __init__(self, n_components: int = 16, *, random_state: Any = None) -> None:
        self.n_components = n_components
        self.random_state = random_state

    def _make_estimator(self) -> decomposition.PCA:
        check_positive_int(self.n_components, "n_components")
        return decomposition.PCA(self.n_components, random_state=self.random_state)

    def _loading_matrix(self) -> np.ndarray:
        estimator = self.estimator_
        scale = np.sqrt(np.maximum(estimator.explained_variance_ - estimator.noise_variance_, 0))
        return estimator.components_ * scale[:, None]

    def transform(self, X: Any) -> np.ndarray:
        """Posterior mean of the code of each sample, ``E[z | x]``.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Data shaped like the training data.

        Returns
        -------
        numpy.ndarray of shape ``(n_samples, n_components_)``
            The codes.

        Examples
        --------
        >>> from latentmodels import ProbabilisticPCA, datasets
        >>> X, _ = datasets.load_mnist()
        >>> ProbabilisticPCA(n_components=3).fit(X[:200]).transform(X[:4]).shape
        (4, 3)
        """
        check_is_fitted(self)
        rows = self._rows(X, reset=False)
        loadings = self._loading_matrix()
        noise = float(self.estimator_.noise_variance_)
        precision = loadings @ loadings.T + noise * np.eye(self.n_components_)
        return np.linalg.solve(precision, loadings @ (rows - self.estimator_.mean_).T).T

    def _noise_variance(self) -> np.ndarray:
        return np.full(self.n_features_in_, float(self.estimator_.noise_variance_))


class FactorAnalysis(_LinearGaussianModel):
    """Factor analysis: ``x = W z + mean + N(0, diag(psi))``, per-feature noise.

    Fitted by scikit-learn's ``FactorAnalysis``; codes are posterior means ``E[z | x]``,
    ``inverse_transform`` is ``z W + mean`` and ``score_samples`` the exact log-density.

    Parameters
    ----------
    n_components : int, default=16
        Number of factors.
    tol : float, default=1e-2
        Stopping tolerance of scikit-learn's fit (log-likelihood gain).
    max_iter : int, default=1000
        Most iterations of the fit.
    svd_method : {"randomized", "lapack"}, default="randomized"
        scikit-learn's SVD in each iteration: randomized is fast on many features, lapack
        exact and quicker on few.
    rotation : {None, "varimax", "quartimax"}, default=None
        Rotation of the factors after fitting.
    noise_floor : float, default=1e-3
        Smallest noise variance of a feature, as a fraction of the mean feature variance.
        A feature constant in training (an image's border) otherwise gets a variance near
        zero, and any new sample that differs there scores minus billions.
    random_state : None or int, default=0
        Seed of the randomized SVD used by the fit.

    Attributes
    ----------
    estimator_ : sklearn.decomposition.FactorAnalysis
        The fitted scikit-learn model.
    n_components_ : int
        Number of factors.
    n_iter_ : int
        Iterations the fit ran.
    input_shape_ : tuple of int
        Shape of one training sample.

    Examples
    --------
    >>> from latentmodels import FactorAnalysis, datasets
    >>> X, _ = datasets.load_mnist()
    >>> fa = FactorAnalysis(n_components=4, random_state=0).fit(X[:300])
    >>> fa.sample(2, random_state=0).shape
    (2, 28, 28)
    """

    def __init__(self, n_components: int = 16, *, tol: float = 1e-2, max_iter: int = 1000,
                 svd_method: str = "randomized", rotation: str | None = None,
                 noise_floor: float = 1e-3, random_state: Any = 0) -> None:
        self.n_components = n_components
        self.tol = tol
        self.max_iter = max_iter
        self.svd_method = svd_method
        self.noise_floor = noise_floor
        self.rotation = rotation
        self.random_state = random_state

    def fit(self, X: Any, y: Any = None) -> FactorAnalysis:
        """Fit scikit-learn's factor analysis, then apply the noise floor.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Training data; images and other multi-axis samples are flattened to rows.
        y : None
            Ignored.

        Returns
        -------
        self
            The fitted model.

        Examples
        --------
        >>> from latentmodels import FactorAnalysis, datasets
        >>> X, _ = datasets.load_mnist()
        >>> fa = FactorAnalysis(n_components=4, random_state=0).fit(X[:300])
        >>> bool(fa.score_samples(X[300:310]).min() > -1e4)  # border pixels don't explode
        True
        """
        check_number(self.noise_floor, "noise_floor", low=0.0, high=1.0)
        super().fit(X)
        rows = self._rows(X, reset=False)
        floor = self.noise_floor * float(rows.var(axis=0).mean())
        estimator = self.estimator_
        estimator.noise_variance_ = np.maximum(estimator.noise_variance_, floor).astype(
            estimator.noise_variance_.dtype)
        self.n_iter_ = int(estimator.n_iter_)
        return self

    def _make_estimator(self) -> decomposition.FactorAnalysis:
        check_positive_int(self.n_components, "n_components")
        return decomposition.FactorAnalysis(self.n_components, tol=self.tol,
                                            max_iter=self.max_iter, svd_method=self.svd_method,
                                            rotation=self.rotation,
                                            random_state=self.random_state)
