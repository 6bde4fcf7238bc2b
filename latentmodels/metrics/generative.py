"""Sample quality of generative models, measured in the feature space of a small classifier.

**This is not Inception FID.** Published FID / precision / recall figures use an ImageNet
Inception-v3 network; these use :class:`FeatureClassifier`, a small CNN that the library
trains on the training images (digits, clothes) and saves. Its figures are comparable only
with each other: the same classifier file, the same real reference set and the same number
of samples. Within those bounds they rank the samples of any generative model (VAE, CVAE,
GAN) side by side.

Definitions (``phi`` is the classifier's penultimate layer, real set ``R``, generated ``G``):

* Frechet distance (Dowson & Landau 1982; Heusel et al. 2017), the squared 2-Wasserstein
  distance between Gaussians fitted to ``phi(R)`` and ``phi(G)``::

      d^2 = ||mu_R - mu_G||^2 + Tr(C_R) + Tr(C_G) - 2 Tr((C_R^1/2 C_G C_R^1/2)^1/2)

* precision and recall, the k-nearest-neighbour manifold estimate of Kynkaanniemi et al.
  (2019): every real feature vector gets a ball reaching to its k-th nearest real neighbour;
  precision is the share of generated vectors inside at least one real ball (are samples
  realistic?), recall the share of real vectors inside at least one generated ball, built
  the same way from the generated set (is the data's variety covered?).

* mode coverage: the histogram of the classes the classifier predicts for the samples, the
  number of classes that get at least ``min_share`` of the uniform share ``1 / K``, and
  ``KL(histogram || uniform) = sum_c p_c log(K p_c)`` in nats (0 = perfectly balanced,
  ``log K`` = a single class).

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> a, b = rng.normal(size=(2000, 2)), rng.normal(size=(2000, 2)) + [3.0, 0.0]
>>> round(frechet_distance(a, b))  # 3^2 from the mean shift, plus sampling noise
9
>>> p, r = precision_recall(a, a[::-1])
>>> p, r
(1.0, 1.0)
"""

from __future__ import annotations

import hashlib
import math
import os
import warnings
from collections.abc import Sequence
from numbers import Integral, Real
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted
from torch import nn

from .._internal import io
from .._internal.params import validate_declared
from .._internal.validation import (
    check_data,
    check_number,
    check_positive_int,
    check_random_state,
    check_size_sequence,
)
from ..deep import training

__all__ = [
    "FeatureClassifier",
    "feature_statistics",
    "frechet_distance",
    "frechet_distance_from_stats",
    "mode_coverage",
    "precision_recall",
    "sample_quality",
]

# Pairwise-distance blocks hold at most this many float64 entries (64 MiB).
_BLOCK_ENTRIES = 8 * 2**20
# Relative slack on the ball test, so that a point on its own ball's centre counts as inside
# despite rounding in ||a||^2 - 2ab + ||b||^2.
_BALL_RTOL = 1e-9


# -- Frechet distance -----------------------------------------------------------------------
def _check_features(features: Any, name: str, *, min_samples: int = 2) -> np.ndarray:
    array = check_data(features, name, min_ndim=2, dtype=np.float64)
    if array.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (n_samples, n_features), got {array.shape}")
    if len(array) < min_samples:
        raise ValueError(f"{name} needs at least {min_samples} samples, got {len(array)}")
    return array


def _check_same_width(a: np.ndarray, b: np.ndarray, names: tuple[str, str]) -> None:
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"{names[0]} has {a.shape[1]} features but {names[1]} has {b.shape[1]}; "
            "both must come from the same feature space"
        )


def _warn_if_singular(array: np.ndarray, name: str) -> None:
    if len(array) <= array.shape[1]:
        warnings.warn(
            f"{name}: {len(array)} samples for {array.shape[1]} dimensions give a singular "
            "covariance; the Frechet distance is then biased upward (use many more samples)",
            RuntimeWarning,
            stacklevel=3,
        )


def _mean_cov(array: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return array.mean(axis=0), np.atleast_2d(np.cov(array, rowvar=False, ddof=1))


def feature_statistics(features: Any) -> tuple[np.ndarray, np.ndarray]:
    """Mean and unbiased covariance (``ddof=1``) of ``features`` ``(n, d)``, in float64.

    Store these for a real reference set and pass them to
    :func:`frechet_distance_from_stats` to avoid recomputing them for every model.

    Parameters
    ----------
    features : array-like of shape (n_samples, n_features)
        Feature vectors, at least 2.

    Returns
    -------
    mu : numpy.ndarray of shape (n_features,)
        The mean.
    cov : numpy.ndarray of shape (n_features, n_features)
        The covariance (unbiased).

    Examples
    --------
    >>> mu, cov = feature_statistics([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])
    >>> mu.tolist(), cov.tolist()
    ([2.0, 3.0], [[4.0, 4.0], [4.0, 4.0]])
    """
    array = _check_features(features, "features")
    _warn_if_singular(array, "features")
    return _mean_cov(array)


def _check_stats(mu: Any, cov: Any, names: tuple[str, str]) -> tuple[np.ndarray, np.ndarray]:
    mean = check_data(mu, names[0], min_ndim=1, dtype=np.float64)
    if mean.ndim != 1:
        raise ValueError(f"{names[0]} must be a 1-D mean vector, got shape {mean.shape}")
    covariance = check_data(cov, names[1], min_ndim=2, dtype=np.float64)
    d = len(mean)
    if covariance.shape != (d, d):
        raise ValueError(
            f"{names[1]} must be a ({d}, {d}) matrix to match {names[0]}, "
            f"got shape {covariance.shape}"
        )
    scale = max(float(np.abs(covariance).max()), np.finfo(np.float64).tiny)
    if not np.allclose(covariance, covariance.T, rtol=0, atol=1e-8 * scale):
        raise ValueError(f"{names[1]} must be symmetric")
    return mean, (covariance + covariance.T) / 2


def _psd_sqrt(matrix: np.ndarray, name: str) -> np.ndarray:
    """Symmetric square root of a positive semi-definite matrix by eigendecomposition."""
    values, vectors = np.linalg.eigh(matrix)
    # Eigenvalues of a PSD matrix computed in floating point can be slightly negative.
    if values.min() < -1e-8 * max(values.max(), 1.0):
        raise ValueError(
            f"{name} is not positive semi-definite (smallest eigenvalue {values.min():.3g})"
        )
    return (vectors * np.sqrt(_drop_rounding(values))) @ vectors.T


def _drop_rounding(eigenvalues: np.ndarray) -> np.ndarray:
    """Set eigenvalues indistinguishable from 0 (rounding noise) to exactly 0.

    A singular covariance has eigenvalues that come out as +-1e-16 relative to the largest;
    their square roots (1e-8) would otherwise add visible error to the trace.
    """
    tolerance = len(eigenvalues) * np.finfo(np.float64).eps * max(eigenvalues.max(), 0.0)
    return np.where(eigenvalues > tolerance, eigenvalues, 0.0)


def frechet_distance_from_stats(mu1: Any, cov1: Any, mu2: Any, cov2: Any) -> float:
    """Squared Frechet (2-Wasserstein) distance between N(mu1, cov1) and N(mu2, cov2).

    ``d^2 = ||mu1 - mu2||^2 + Tr(cov1) + Tr(cov2) - 2 Tr((cov1^1/2 cov2 cov1^1/2)^1/2)``.
    The matrix inside the last trace is symmetric PSD and has the eigenvalues of
    ``cov1 cov2``, so both square roots come from symmetric eigendecompositions in float64:
    no complex parts to discard, and singular covariances are fine. Tiny negative results
    from rounding are returned as 0.

    Parameters
    ----------
    mu1, cov1 : array-like
        Mean ``(d,)`` and covariance ``(d, d)`` of the first set.
    mu2, cov2 : array-like
        Mean and covariance of the second set.

    Returns
    -------
    float
        The squared Frechet distance, >= 0.

    Examples
    --------
    >>> import numpy as np
    >>> frechet_distance_from_stats([0.0, 0.0], np.eye(2), [3.0, 4.0], 4 * np.eye(2))
    27.0
    """
    m1, c1 = _check_stats(mu1, cov1, ("mu1", "cov1"))
    m2, c2 = _check_stats(mu2, cov2, ("mu2", "cov2"))
    if len(m1) != len(m2):
        raise ValueError(f"mu1 has {len(m1)} dimensions but mu2 has {len(m2)}")
    root1 = _psd_sqrt(c1, "cov1")
    _psd_sqrt(c2, "cov2")  # the same PSD check for cov2, with its own name
    middle = root1 @ c2 @ root1
    cross = np.sqrt(_drop_rounding(np.linalg.eigvalsh((middle + middle.T) / 2))).sum()
    diff = m1 - m2
    value = float(diff @ diff + np.trace(c1) + np.trace(c2) - 2.0 * cross)
    return max(value, 0.0)


def frechet_distance(features_a: Any, features_b: Any) -> float:
    """Squared Frechet distance between Gaussians fitted to two feature sets ``(n, d)``.

    Each set needs at least 2 samples, and many more than ``d`` for a trustworthy figure
    (a warning says when it has ``d`` or fewer). The estimate is biased upward by roughly
    ``O(d / n)``: compare models at the same sample size. In this library's classifier
    feature space the result is *not* Inception FID (see the module docstring).

    Parameters
    ----------
    features_a, features_b : array-like of shape (n_samples, n_features)
        The two sets of feature vectors (same width).

    Returns
    -------
    float
        The squared Frechet distance, >= 0.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(500, 3))
    >>> round(frechet_distance(x, x), 10)
    0.0
    """
    a = _check_features(features_a, "features_a")
    b = _check_features(features_b, "features_b")
    _check_same_width(a, b, ("features_a", "features_b"))
    _warn_if_singular(a, "features_a")
    _warn_if_singular(b, "features_b")
    return frechet_distance_from_stats(*_mean_cov(a), *_mean_cov(b))


# -- precision and recall -------------------------------------------------------------------
def _kth_neighbour_radii(features: np.ndarray, k: int) -> np.ndarray:
    """Distance from each point to its k-th nearest other point of the same set."""
    from sklearn.neighbors import NearestNeighbors

    # k + 1 neighbours: the point itself (or an exact duplicate) comes first at distance 0.
    distances, _ = NearestNeighbors(n_neighbors=k + 1).fit(features).kneighbors(features)
    return distances[:, k]


def _inside_any_ball(queries: np.ndarray, centres: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """For each query, whether some centre ``c`` has ``||query - c|| <= radius_c``.

    Distances are computed in blocks of queries so memory stays near ``_BLOCK_ENTRIES``
    floats whatever the set sizes.
    """
    centre_norms = np.einsum("ij,ij->i", centres, centres)
    limit = radii**2 * (1 + _BALL_RTOL) + _BALL_RTOL * centre_norms
    block = max(1, _BLOCK_ENTRIES // max(len(centres), 1))
    inside = np.empty(len(queries), dtype=bool)
    for start in range(0, len(queries), block):
        chunk = queries[start : start + block]
        squared = (
            np.einsum("ij,ij->i", chunk, chunk)[:, None]
            - 2.0 * chunk @ centres.T
            + centre_norms[None, :]
        )
        inside[start : start + block] = (squared <= limit[None, :]).any(axis=1)
    return inside


def precision_recall(real_features: Any, fake_features: Any, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall (Kynkaanniemi et al. 2019) of generated features.

    Each real vector gets a ball of radius = distance to its ``k``-th nearest real neighbour;
    ``precision`` is the share of fake vectors inside the union of those balls. ``recall``
    swaps the roles: the share of real vectors inside the union of the fake vectors' k-NN
    balls. Both lie in [0, 1]; a model that drops modes keeps a high precision and loses
    recall, one that makes implausible samples loses precision. Both sets need more than
    ``k`` samples; use equal, fixed sizes when comparing models (the balls depend on n).

    Parameters
    ----------
    real_features, fake_features : array-like of shape (n_samples, n_features)
        Real and generated feature vectors, each more than ``k``.
    k : int, default=3
        The neighbour that sets each ball's radius.

    Returns
    -------
    precision, recall : float
        Both in [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> real = rng.normal(size=(1000, 2))
    >>> p, r = precision_recall(real, real[real[:, 0] > 0])  # only half of the data
    >>> p > 0.95, r < 0.7
    (True, True)
    """
    k = check_positive_int(k, "k")
    real = _check_features(real_features, "real_features", min_samples=k + 1)
    fake = _check_features(fake_features, "fake_features", min_samples=k + 1)
    _check_same_width(real, fake, ("real_features", "fake_features"))
    precision = _inside_any_ball(fake, real, _kth_neighbour_radii(real, k)).mean()
    recall = _inside_any_ball(real, fake, _kth_neighbour_radii(fake, k)).mean()
    return float(precision), float(recall)


# -- mode coverage --------------------------------------------------------------------------
def _as_class_indices(labels: Any, n_classes: int) -> np.ndarray:
    if isinstance(labels, torch.Tensor):
        labels = labels.detach().cpu().numpy()
    array = check_data(labels, "labels", min_ndim=1, dtype=np.float64)
    if array.ndim == 2:
        if array.shape[1] != n_classes:
            raise ValueError(
                f"labels: probabilities must have n_classes={n_classes} columns, "
                f"got shape {array.shape}"
            )
        if (array < 0).any():
            raise ValueError("labels: class probabilities must be non-negative")
        return array.argmax(axis=1)
    if array.ndim != 1:
        raise ValueError(
            f"labels must be 1-D class indices or 2-D probabilities, got shape {array.shape}"
        )
    if not np.all(array == np.round(array)):
        raise ValueError("labels: class indices must be whole numbers")
    if array.min() < 0 or array.max() >= n_classes:
        raise ValueError(
            f"labels must lie in 0..{n_classes - 1} (n_classes={n_classes}), "
            f"got values from {int(array.min())} to {int(array.max())}"
        )
    return array.astype(np.int64)


def mode_coverage(labels: Any, n_classes: int, *, min_share: float = 0.1) -> dict[str, Any]:
    """Class histogram of generated samples, the classes covered, and KL to uniform.

    ``labels`` holds one predicted class index per sample ``(n,)``, or class probabilities
    ``(n, n_classes)`` (each sample then counts for its most probable class). A class is
    *covered* when it gets at least one sample and its share reaches ``min_share / n_classes``:
    with the default 0.1, at least 10 % of what a perfectly balanced generator would give it.

    Returns a dict: ``counts`` (int array), ``histogram`` (shares summing to 1), ``covered``
    (bool array), ``classes_covered``, ``n_classes``, ``kl_uniform``
    ``= sum_c p_c log(n_classes p_c)`` in nats (0 when balanced, ``log n_classes`` when all
    samples fall in one class) and ``n_samples``.

    Parameters
    ----------
    labels : array-like of shape (n_samples,) or (n_samples, n_classes)
        Predicted class indices, or class probabilities.
    n_classes : int
        Number of classes.
    min_share : float, default=0.1
        A class is covered from ``min_share / n_classes`` of the samples on.

    Returns
    -------
    dict
        ``counts``, ``histogram``, ``covered``, ``classes_covered``, ``n_classes``,
        ``kl_uniform`` and ``n_samples``.

    Examples
    --------
    >>> r = mode_coverage([0, 0, 1, 1], n_classes=4)
    >>> r["classes_covered"], round(r["kl_uniform"], 4)
    (2, 0.6931)
    """
    n_classes = check_positive_int(n_classes, "n_classes")
    min_share = check_number(min_share, "min_share", low=0, high=1)
    indices = _as_class_indices(labels, n_classes)
    counts = np.bincount(indices, minlength=n_classes)
    shares = counts / counts.sum()
    present = shares > 0  # 0 log 0 = 0
    kl = float(np.sum(shares[present] * np.log(shares[present] * n_classes)))
    covered = (counts > 0) & (shares >= min_share / n_classes)
    return {
        "counts": counts,
        "histogram": shares,
        "covered": covered,
        "classes_covered": int(covered.sum()),
        "n_classes": n_classes,
        "kl_uniform": max(kl, 0.0),
        "n_samples": len(indices),
    }


# -- the feature classifier -----------------------------------------------------------------
class _ClassifierNet(nn.Module):
    """Two 3x3 conv + max-pool stages, a fully connected feature layer, a linear head."""

    def __init__(
        self, image_shape: tuple[int, int], channels: Sequence[int], feature_dim: int,
        n_classes: int,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width, (height, breadth) = 1, image_shape
        for size in channels:
            layers += [nn.Conv2d(width, size, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
            width, height, breadth = size, height // 2, breadth // 2
        layers += [nn.Flatten(), nn.Linear(width * height * breadth, feature_dim), nn.ReLU()]
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(feature_dim, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def _random_shift(images: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Move each image by its own random whole-pixel offset in [-max_shift, max_shift]^2."""
    n, _, height, width = images.shape
    padded = F.pad(images[:, 0], (max_shift, max_shift, max_shift, max_shift))
    offsets = torch.randint(
        0, 2 * max_shift + 1, (n, 2), generator=generator, device=generator.device
    ).to(images.device)
    rows = offsets[:, :1] + torch.arange(height, device=images.device)
    cols = offsets[:, 1:] + torch.arange(width, device=images.device)
    batch = torch.arange(n, device=images.device)[:, None, None]
    return padded[batch, rows[:, :, None], cols[:, None, :]][:, None]


def _fingerprint(X: np.ndarray, y: np.ndarray) -> str:
    """SHA-256 of the training images and labels, to tell whether a saved file fits them."""
    digest = hashlib.sha256()
    digest.update(str(X.shape).encode())
    digest.update(np.ascontiguousarray(X, dtype=np.float32).tobytes())
    digest.update(np.asarray(y).astype(str).tobytes())
    return digest.hexdigest()


class FeatureClassifier(ClassifierMixin, BaseEstimator):
    """A small CNN for grey images whose penultimate layer is the metrics' feature space.

    Two 3x3 convolution + max-pool stages (``channels``), a ReLU layer of ``feature_dim``
    units (:meth:`features`) and a linear class head, trained with the library's
    :class:`~latentmodels.deep.training.Trainer`: cross-entropy, Adam with a cosine schedule,
    random whole-pixel shifts of up to ``max_shift`` as augmentation, early stopping on a
    ``validation_fraction`` hold-out (the best weights are kept). Images are ``(n, H, W)``,
    ``(n, 1, H, W)`` or flat ``(n, H*W)`` with square ``H = W``, grey levels in [0, 1].

    With the defaults it trains on the 8,000 embedded MNIST digits in about half a minute on
    one CPU thread (BENCHMARKS.md / module tests give the held-out accuracy). Equal
    ``random_state`` give identical weights on the same device.

    Parameters
    ----------
    feature_dim : int, default=128
        Width of the feature layer.
    channels : tuple of int, default=(16, 32)
        Output channels of the two (or more) convolution stages.
    epochs : int, default=12
        Training epochs.
    batch_size : int, default=64
        Images per step.
    learning_rate : float, default=0.002
        Adam's learning rate.
    max_shift : int, default=2
        Largest random shift in pixels (0 turns augmentation off).
    validation_fraction : float, default=0.1
        Share of the images held out for early stopping.
    patience : int or None, default=4
        Epochs without improvement before stopping (None trains every epoch).
    random_state : int or None, default=0
        Seed for initialisation, shuffling and augmentation.
    device : str, default="auto"
        ``"auto"`` (CUDA when present), ``"cpu"``, ``"cuda"``, ...
    verbose : int, default=0
        0 silent, 1 progress bar.

    Attributes
    ----------
    classes_ : numpy.ndarray
        The class labels seen in :meth:`fit`.

    Examples
    --------
    >>> from latentmodels import datasets
    >>> X, y = datasets.load_mnist()
    >>> clf = FeatureClassifier(epochs=1, verbose=0).fit(X[:200], y[:200])
    >>> clf.features(X[:3]).shape, clf.predict_proba(X[:3]).shape
    ((3, 128), (3, 10))
    """

    def __init__(
        self,
        feature_dim: int = 128,
        *,
        channels: tuple[int, ...] = (16, 32),
        epochs: int = 12,
        batch_size: int = 64,
        learning_rate: float = 2e-3,
        max_shift: int = 2,
        validation_fraction: float = 0.1,
        patience: int | None = 4,
        random_state: int | None = 0,
        device: str = "auto",
        verbose: int = 0,
    ) -> None:
        self.feature_dim = feature_dim
        self.channels = channels
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.max_shift = max_shift
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    # -- checks ---------------------------------------------------------------------------
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "feature_dim": [Interval(Integral, 1, None, closed="left")],
        "channels": "no_validation",  # a sequence of stage sizes: checked below
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "max_shift": [Interval(Integral, 0, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "patience": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": [Interval(Integral, 0, None, closed="left"), None],
        "device": [str, torch.device],
        "verbose": ["verbose"],
    }

    def _check_parameter_combinations(self) -> None:
        """What one constraint cannot say: the stage sizes, and that the device exists."""
        check_size_sequence(self.channels, "channels", what="convolution stage")
        training.resolve_device(self.device)

    def _check_images(self, X: Any, name: str = "X") -> np.ndarray:
        """``X`` as float32 ``(n, 1, H, W)`` in [0, 1], against the fitted shape if fitted."""
        array = check_data(X, name, min_ndim=2)
        fitted = getattr(self, "image_shape_", None)
        if array.ndim == 4 and array.shape[1] == 1:
            array = array[:, 0]
        if array.ndim == 2:
            side = math.isqrt(array.shape[1])
            if fitted is not None and array.shape[1] == fitted[0] * fitted[1]:
                array = array.reshape(len(array), *fitted)
            elif fitted is None and side * side == array.shape[1]:
                array = array.reshape(len(array), side, side)
            else:
                expected = "H*W" if fitted is None else f"{fitted[0] * fitted[1]}"
                raise ValueError(
                    f"{name}: flat images need {expected} pixels per row, got {array.shape[1]}"
                )
        if array.ndim != 3:
            raise ValueError(
                f"{name} must hold grey images (n, H, W), (n, 1, H, W) or flat (n, H*W), "
                f"got shape {array.shape}"
            )
        if fitted is not None and array.shape[1:] != fitted:
            raise ValueError(
                f"{name} has images of shape {array.shape[1:]}, but the classifier was "
                f"trained on {fitted}"
            )
        if min(array.shape[1:]) < 2 ** len(self.channels):
            raise ValueError(
                f"{name}: images of shape {array.shape[1:]} are too small for "
                f"{len(self.channels)} pooling stages"
            )
        low, high = float(array.min()), float(array.max())
        if low < -1e-3 or high > 1 + 1e-3:
            raise ValueError(
                f"{name} must hold grey levels in [0, 1], got values from {low:.3g} to "
                f"{high:.3g}; rescale first (x / 255 for 8-bit images, (x + 1) / 2 for tanh "
                "outputs)"
            )
        return np.clip(array, 0.0, 1.0)[:, None]

    # -- training -------------------------------------------------------------------------
    def _loss(
        self, module: nn.Module, batch: list[torch.Tensor], *, generator: torch.Generator,
        training: bool, **_: Any,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        images, targets = batch
        if training and self.max_shift > 0:
            images = _random_shift(images, self.max_shift, generator)
        logits = module(images)
        accuracy = (logits.argmax(dim=1) == targets).float().mean().detach()
        return F.cross_entropy(logits, targets), {"accuracy": accuracy}

    def fit(self, X: Any, y: Any) -> FeatureClassifier:
        """Train on images ``X`` with class labels ``y`` (at least two classes).

        Parameters
        ----------
        X : array-like of shape (n_samples, H, W), (n_samples, 1, H, W) or (n_samples, H*W)
            Grey images in [0, 1].
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        self
            The fitted classifier.

        Examples
        --------
        >>> from latentmodels import datasets
        >>> X, y = datasets.load_mnist()
        >>> clf = FeatureClassifier(feature_dim=8, channels=(4, 8), epochs=1).fit(X[:200], y[:200])
        >>> clf.classes_.tolist()
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
        """
        validate_declared(self)
        self._check_parameter_combinations()
        for name in [k for k in vars(self) if k.endswith("_") and not k.startswith("_")]:
            delattr(self, name)  # a refit starts from nothing
        images = self._check_images(X)
        labels = np.asarray(y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else y)
        if labels.ndim != 1 or len(labels) != len(images):
            raise ValueError(
                f"y must hold one label per image ({len(images)}), got shape {labels.shape}"
            )
        classes, targets = np.unique(labels, return_inverse=True)
        if len(classes) < 2:
            raise ValueError("y must contain at least two classes")
        seed = check_random_state(self.random_state)
        device = training.resolve_device(self.device)
        tensors = [torch.from_numpy(np.ascontiguousarray(images)), torch.from_numpy(targets)]
        train_part, val_part = training.split_validation(tensors, self.validation_fraction, seed)
        train_batches = training.TensorBatches([t.to(device) for t in train_part], self.batch_size)
        val_batches = None
        if val_part is not None:
            val_batches = training.TensorBatches(
                [t.to(device) for t in val_part], 512, shuffle=False
            )
        config = training.TrainingConfig(
            epochs=self.epochs,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            lr_schedule="cosine",
            validation_fraction=self.validation_fraction,
            patience=self.patience,
            seed=seed,
            device=str(device),
            verbose=int(self.verbose),
        )
        image_shape = (int(images.shape[2]), int(images.shape[3]))
        with training.seeded_init(seed):
            module = _ClassifierNet(image_shape, self.channels, self.feature_dim, len(classes))
        result = training.Trainer(config).fit(module, self._loss, train_batches, val_batches)
        module.eval()
        self.module_ = module
        self.image_shape_ = image_shape
        self.classes_ = classes
        self.n_features_in_ = image_shape[0] * image_shape[1]
        self.history_ = result.history
        self.best_epoch_ = result.best_epoch
        self.seed_ = seed
        self.validation_accuracy_ = None
        if val_part is not None:
            # Accuracy of the kept (best) weights on the held-out share, for reports.
            with torch.no_grad():
                predicted = torch.cat(
                    [module(batch[0]).argmax(dim=1) for batch in val_batches.epoch(None)]
                )
            self.validation_accuracy_ = float(
                (predicted.cpu() == val_part[1]).float().mean()
            )
        self.data_fingerprint_ = _fingerprint(images, labels)
        return self

    # -- inference ------------------------------------------------------------------------
    def _outputs(self, X: Any, name: str = "X") -> tuple[np.ndarray, np.ndarray]:
        """Features and class logits of ``X``, batch by batch, without gradients."""
        check_is_fitted(self)
        images = self._check_images(X, name)
        device = next(self.module_.parameters()).device
        features, logits = [], []
        self.module_.eval()
        with torch.no_grad():
            for start in range(0, len(images), 1024):
                batch = torch.from_numpy(images[start : start + 1024]).to(device)
                h = self.module_.features(batch)
                features.append(h.cpu().numpy())
                logits.append(self.module_.head(h).cpu().numpy())
        return np.concatenate(features), np.concatenate(logits)

    def features(self, X: Any) -> np.ndarray:
        """Penultimate-layer activations: the metrics' feature space.

        Parameters
        ----------
        X : array-like
            Images shaped as for :meth:`fit`.

        Returns
        -------
        numpy.ndarray of shape (n_samples, feature_dim)
            The features.

        Examples
        --------
        >>> from latentmodels import datasets
        >>> X, y = datasets.load_mnist()
        >>> clf = FeatureClassifier(feature_dim=8, channels=(4, 8), epochs=1).fit(X[:200], y[:200])
        >>> clf.features(X[:3]).shape
        (3, 8)
        """
        return self._outputs(X)[0]

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``.

        Parameters
        ----------
        X : array-like
            Images shaped as for :meth:`fit`.

        Returns
        -------
        numpy.ndarray of shape (n_samples, n_classes)
            Rows sum to 1.

        Examples
        --------
        >>> from latentmodels import datasets
        >>> X, y = datasets.load_mnist()
        >>> clf = FeatureClassifier(feature_dim=8, channels=(4, 8), epochs=1).fit(X[:200], y[:200])
        >>> proba = clf.predict_proba(X[:3])
        >>> proba.shape, bool(np.allclose(proba.sum(axis=1), 1))
        ((3, 10), True)
        """
        return _softmax(self._outputs(X)[1])

    def predict(self, X: Any) -> np.ndarray:
        """Most probable class label of each image.

        Parameters
        ----------
        X : array-like
            Images shaped as for :meth:`fit`.

        Returns
        -------
        numpy.ndarray of shape (n_samples,)
            Labels from ``classes_``.

        Examples
        --------
        >>> from latentmodels import datasets
        >>> X, y = datasets.load_mnist()
        >>> clf = FeatureClassifier(feature_dim=8, channels=(4, 8), epochs=1).fit(X[:200], y[:200])
        >>> clf.predict(X[:3]).shape
        (3,)
        """
        return self.classes_[self._outputs(X)[1].argmax(axis=1)]

    # -- persistence ----------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> str:
        """Save to ``path`` (safetensors weights + JSON header, written atomically).

        Parameters
        ----------
        path : str or os.PathLike
            The file to write.

        Returns
        -------
        str
            The path written.

        Examples
        --------
        >>> import os, tempfile
        >>> from latentmodels import datasets
        >>> X, y = datasets.load_mnist()
        >>> clf = FeatureClassifier(feature_dim=8, channels=(4, 8), epochs=1).fit(X[:200], y[:200])
        >>> path = clf.save(os.path.join(tempfile.mkdtemp(), "digits.clf"))
        >>> np.allclose(FeatureClassifier.load(path).features(X[:2]), clf.features(X[:2]))
        True
        """
        check_is_fitted(self)
        tensors = {f"module.{k}": v for k, v in self.module_.state_dict().items()}
        document = {
            "class": type(self).__name__,
            "params": self.get_params(deep=False),
            "attributes": {
                "image_shape_": list(self.image_shape_),
                "classes_": self.classes_.tolist(),
                "history_": self.history_,
                "best_epoch_": self.best_epoch_,
                "seed_": self.seed_,
                "validation_accuracy_": self.validation_accuracy_,
                "data_fingerprint_": self.data_fingerprint_,
            },
        }
        return os.fspath(io.write_tensor_file(path, tensors, document))

    @classmethod
    def load(cls, path: str | os.PathLike) -> FeatureClassifier:
        """Load a classifier written by :meth:`save`; never executes code from the file.

        Parameters
        ----------
        path : str or os.PathLike
            A file written by :meth:`save`.

        Returns
        -------
        FeatureClassifier
            The fitted classifier.

        Examples
        --------
        >>> import os, tempfile
        >>> from latentmodels import datasets
        >>> X, y = datasets.load_mnist()
        >>> clf = FeatureClassifier(feature_dim=8, channels=(4, 8), epochs=1).fit(X[:200], y[:200])
        >>> path = clf.save(os.path.join(tempfile.mkdtemp(), "digits.clf"))
        >>> FeatureClassifier.load(path).feature_dim
        8
        """
        document, tensors = io.read_tensor_file(path)
        if document.get("class") != cls.__name__:
            raise io.ModelFileError(
                f"{path} holds a {document.get('class')!r}, not a {cls.__name__}"
            )
        params = dict(document.get("params", {}))
        if isinstance(params.get("channels"), list):
            params["channels"] = tuple(params["channels"])
        attributes = document["attributes"]
        model = cls(**params)
        model.image_shape_ = tuple(int(s) for s in attributes["image_shape_"])
        model.classes_ = np.asarray(attributes["classes_"])
        model.n_features_in_ = model.image_shape_[0] * model.image_shape_[1]
        for name in ("history_", "best_epoch_", "seed_", "validation_accuracy_",
                     "data_fingerprint_"):
            setattr(model, name, attributes.get(name))
        module = _ClassifierNet(
            model.image_shape_, model.channels, model.feature_dim, len(model.classes_)
        )
        state = {k[len("module.") :]: v for k, v in tensors.items() if k.startswith("module.")}
        try:
            module.load_state_dict(state)
        except RuntimeError as exc:
            raise io.ModelFileError(f"{path}: the saved weights do not fit: {exc}") from exc
        module.to(training.resolve_device(model.device)).eval()
        model.module_ = module
        return model

    @classmethod
    def load_or_fit(
        cls, path: str | os.PathLike, X: Any, y: Any, **params: Any
    ) -> FeatureClassifier:
        """Load the classifier saved at ``path``, or fit and save one if it does not match.

        The saved classifier is used if it was trained on exactly ``(X, y)`` with these
        ``params``; otherwise a new one is fitted and saved there.

        Lets a report or benchmark train the reference classifier once and reuse it.

        Parameters
        ----------
        path : str or os.PathLike
            Where the classifier is (or will be) saved.
        X, y : array-like
            Training images and labels, as for :meth:`fit`.
        **params
            Hyper-parameters of the classifier.

        Returns
        -------
        FeatureClassifier
            The loaded or newly fitted classifier.

        Examples
        --------
        >>> import os, tempfile
        >>> from latentmodels import datasets
        >>> X, y = datasets.load_mnist()
        >>> path = os.path.join(tempfile.mkdtemp(), "digits.clf")
        >>> params = dict(feature_dim=8, channels=(4, 8), epochs=1)
        >>> first = FeatureClassifier.load_or_fit(path, X[:200], y[:200], **params)  # fits, saves
        >>> again = FeatureClassifier.load_or_fit(path, X[:200], y[:200], **params)  # loads
        >>> np.allclose(first.features(X[:2]), again.features(X[:2]))
        True
        """
        wanted = cls(**params)
        if Path(path).is_file():
            try:
                saved = cls.load(path)
            except (io.ModelFileError, KeyError, TypeError, ValueError):
                saved = None
            if saved is not None and saved.get_params() == wanted.get_params():
                images = wanted._check_images(X)
                labels = np.asarray(y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else y)
                if saved.data_fingerprint_ == _fingerprint(images, labels):
                    return saved
        wanted.fit(X, y)
        wanted.save(path)
        return wanted


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


# -- one call for any model's samples -------------------------------------------------------
def sample_quality(
    samples: Any,
    real: Any,
    classifier: FeatureClassifier,
    *,
    k: int = 3,
    min_share: float = 0.1,
) -> dict[str, Any]:
    """Frechet distance, precision, recall and mode coverage of generated images.

    ``samples`` (generated) and ``real`` (held-out real images) are grey images in [0, 1]
    shaped as ``classifier`` expects; ``classifier`` is a fitted :class:`FeatureClassifier`.
    Works the same for the samples of every model (VAE, CVAE, GAN, ...), so the figures rank
    models side by side. **Not Inception FID**: comparable only between runs that use the same
    classifier, the same real set and the same number of samples (the module docstring has
    the formulas).

    Returns a dict: ``frechet`` (squared Frechet distance of the penultimate-layer features;
    lower is better), ``precision`` and ``recall`` (k-NN manifold estimate; higher is
    better), ``classes_covered``, ``n_classes``, ``kl_uniform`` (nats; lower is more
    balanced), ``histogram`` (share of samples per class, in the order of
    ``classifier.classes_``), ``counts``, ``n_samples``, ``n_real`` and ``k``.

    Parameters
    ----------
    samples : array-like
        Generated grey images in [0, 1], shaped as ``classifier`` expects.
    real : array-like
        Held-out real images, same shape.
    classifier : FeatureClassifier
        A fitted classifier; its features and predictions are measured.
    k : int, default=3
        Neighbour of :func:`precision_recall`.
    min_share : float, default=0.1
        Coverage threshold of :func:`mode_coverage`.

    Returns
    -------
    dict
        ``frechet``, ``precision``, ``recall``, ``classes_covered``, ``n_classes``,
        ``kl_uniform``, ``histogram``, ``counts``, ``n_samples``, ``n_real`` and ``k``.

    Examples
    --------
    >>> from latentmodels import datasets
    >>> X, y = datasets.load_mnist()
    >>> clf = FeatureClassifier(feature_dim=8, channels=(4, 8), epochs=1).fit(X[:200], y[:200])
    >>> fake = np.clip(X[200:300] + 0.3, 0, 1)  # stand-in for a model's samples
    >>> quality = sample_quality(fake, X[300:400], clf)
    >>> quality["n_samples"], quality["n_real"], quality["frechet"] > 0
    (100, 100, True)
    """
    if not (hasattr(classifier, "_outputs") and hasattr(classifier, "classes_")):
        raise TypeError(
            f"classifier must be a fitted FeatureClassifier, got {type(classifier).__name__}"
        )
    k = check_positive_int(k, "k")
    fake_features, fake_logits = classifier._outputs(samples, "samples")
    real_features, _ = classifier._outputs(real, "real")
    for array, name in ((fake_features, "samples"), (real_features, "real")):
        if len(array) <= k:
            raise ValueError(f"{name} needs more than k={k} images, got {len(array)}")
    precision, recall = precision_recall(real_features, fake_features, k=k)
    coverage = mode_coverage(
        fake_logits.argmax(axis=1), len(classifier.classes_), min_share=min_share
    )
    return {
        "frechet": frechet_distance(real_features, fake_features),
        "precision": precision,
        "recall": recall,
        "classes_covered": coverage["classes_covered"],
        "n_classes": coverage["n_classes"],
        "kl_uniform": coverage["kl_uniform"],
        "histogram": coverage["histogram"],
        "counts": coverage["counts"],
        "n_samples": len(fake_features),
        "n_real": len(real_features),
        "k": k,
    }
