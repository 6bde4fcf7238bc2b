"""Debiasing VAE (Amini et al. 2019, "Uncovering and Mitigating Algorithmic Bias through
Learned Latent Structure"): a classifier whose encoder is also a VAE's encoder.

Before every epoch the model encodes the training samples of the class it debiases, builds
one histogram per latent dimension, and gives each of those samples a sampling weight
inversely proportional to how crowded its latent neighbourhood is. The epoch then draws
its samples by those weights, so rare kinds of the class (rare poses, stroke styles,
lighting) are seen more often, without anyone labelling what the rare kinds are.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .._internal.validation import check_data
from . import _file, training
from ._base import hyperparameters, non_negative, positive, positive_int
from .vae import VARIATIONAL_CONSTRAINTS, VariationalModel


def latent_sampling_weights(codes: np.ndarray, n_bins: int = 10, alpha: float = 1e-3) -> np.ndarray:
    """Sampling weights that favour samples in sparse regions of a latent space.

    For each latent dimension, a histogram of ``codes[:, d]`` (``n_bins`` bins, normalised
    to a probability) gives each sample the weight ``1 / (p_d(bin) + alpha)``; a sample's
    weight is its largest weight over the dimensions (it is rare if it is rare along any
    axis).

    Parameters
    ----------
    codes : array-like of shape (n_samples, latent_dim)
        Latent codes (e.g. posterior means).
    n_bins : int
        Histogram bins per dimension.
    alpha : float
        Smoothing: large alpha tends to uniform weights.

    Returns
    -------
    weights : ndarray of shape (n_samples,)
        Weights that sum to one.

    Examples
    --------
    >>> import numpy as np
    >>> from latentmodels.deep.debiasing import latent_sampling_weights
    >>> codes = np.r_[np.zeros(99), [5.0]][:, None]  # one sample far from the rest
    >>> w = latent_sampling_weights(codes, n_bins=5)
    >>> bool(w[-1] > 50 * w[0])
    True
    """
    codes = np.asarray(codes, dtype=np.float64)
    weights = np.zeros(len(codes))
    for column in codes.T:
        counts, edges = np.histogram(column, bins=n_bins)
        density = counts / counts.sum()
        bins = np.clip(np.searchsorted(edges, column, side="right") - 1, 0, n_bins - 1)
        weights = np.maximum(weights, 1.0 / (density[bins] + alpha))
    return weights / weights.sum()


@hyperparameters
class DebiasingVAE(VariationalModel):
    """A classifier trained jointly with a VAE that re-weights rare latent regions (DB-VAE).

    ``fit(X, y)`` trains the encoder to classify ``y`` and, on the samples of
    ``debias_class`` (default: the last class, the "positive" one), to be a VAE encoder.
    With ``debias=True`` each epoch resamples the training set: samples of
    ``debias_class`` are drawn in proportion to ``latent_sampling_weights`` of their
    latent means (``n_bins``, ``alpha``), the other classes uniformly, keeping the class
    shares of the data. ``debias=False`` trains the same network without resampling, the
    baseline to compare against.

    The loss per batch is ``cross-entropy + vae_weight * (reconstruction + beta * KL) /
    n_features`` (the VAE term counted only on ``debias_class`` samples, per feature so
    both terms share a scale). The VAE part is :class:`latentmodels.VAE`'s: ``transform``,
    ``inverse_transform``, ``sample`` and ``score_samples`` (the ELBO) are the same code.

    Parameters
    ----------
    latent_dim : int
        Size of the latent code.
    debias : bool
        Resample each epoch by latent rarity (True) or train the plain baseline (False).
    debias_class : label or None
        The class whose rare kinds are up-weighted; None: the last of the sorted classes.
    n_bins : int
        Histogram bins per latent dimension for ``latent_sampling_weights`` (>= 2).
    alpha : float
        Smoothing of the weights (> 0); large values tend to uniform sampling.
    vae_weight : float
        Weight of the per-feature VAE term next to the cross-entropy.
    architecture, hidden_dims, likelihood, beta
        The network and the ELBO, as for :class:`latentmodels.VAE`.
    epochs, batch_size, learning_rate, weight_decay, optimizer, lr_schedule, grad_clip, \
validation_fraction, patience, random_state, device, checkpoint_dir, checkpoint_every, verbose
        Training settings, as for :class:`latentmodels.VAE` (``learning_rate`` defaults
        to 1e-3 here).

    Attributes
    ----------
    classes_ : ndarray
        The sorted class labels seen in ``fit``.
    sampling_weights_ : ndarray
        The sampling probabilities of the last epoch's training samples (``debias=True``).
    module_, input_shape_, history_, best_epoch_, n_epochs_, stopped_early_, seed_
        As for :class:`latentmodels.VAE`.

    Examples
    --------
    >>> import numpy as np
    >>> from latentmodels import DebiasingVAE, datasets
    >>> X, y = datasets.load_mnist()
    >>> is_seven = (y[:600] == 7).astype(int)
    >>> model = DebiasingVAE(latent_dim=4, epochs=1, verbose=0, random_state=0)
    >>> model = model.fit(X[:600], is_seven)
    >>> model.predict(X[:3]).shape, model.sampling_weights_.shape
    ((3,), (540,))
    """

    debias: bool = True
    debias_class: Any = None
    n_bins: int = 10
    alpha: float = 1e-3
    vae_weight: float = 1.0

    _parameter_constraints = {
        **VARIATIONAL_CONSTRAINTS,
        "debias": ["boolean"],
        "debias_class": "no_validation",
        "n_bins": [positive_int(2)],
        "alpha": [positive()],
        "vae_weight": [non_negative()],
    }

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True  # fit needs the class labels
        return tags

    # -- hooks --------------------------------------------------------------------------
    @property
    def _extra_outputs(self) -> int:
        return len(self.classes_)  # the encoder also emits class logits

    def _loss(self, module, batch, *, epoch, generator, training):
        x, labels = batch
        reconstruction, kl, logits = self._elbo_terms(module, x, generator)
        classification = F.cross_entropy(logits, labels)
        mask = (labels == self._debias_index).to(x.dtype)
        per_sample = (reconstruction + self.beta * kl.sum(1)) / math.prod(x.shape[1:])
        vae_term = (mask * per_sample).sum() / mask.sum().clamp(min=1.0)
        loss = classification + self.vae_weight * vae_term
        return loss, {"classification": classification.detach(), "vae": vae_term.detach()}

    def _training_callbacks(self, train: Any) -> list[training.TrainingCallback]:
        return [_LatentReweighting(self, train)] if self.debias else []

    def _weights_for(self, net: nn.Module, X: torch.Tensor, labels: torch.Tensor) -> np.ndarray:
        """Per-sample sampling probabilities that keep class shares and re-weight
        ``debias_class`` samples by the sparsity of their latent neighbourhood."""
        labels_np = labels.cpu().numpy()
        target = labels_np == self._debias_index
        weights = np.full(len(labels_np), 1.0 / len(labels_np))
        if target.any():
            codes = []
            with torch.no_grad():
                for start in range(0, len(X), 1024):
                    codes.append(net.encode(X[start : start + 1024])[0].cpu().numpy())
            codes_np = np.concatenate(codes)[target]
            share = target.mean()
            weights[target] = share * latent_sampling_weights(codes_np, self.n_bins, self.alpha)
        return weights / weights.sum()

    # -- contract -----------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None, *, resume: bool = False) -> DebiasingVAE:
        """Train on images ``X`` with class labels ``y`` (required)."""
        X = check_data(X, "X")
        if y is None:
            raise ValueError("y: DebiasingVAE.fit requires y to be passed, but the target y "
                             "is None (it needs the class labels)")
        labels = np.asarray(y)
        if labels.ndim != 1 or len(labels) != len(X):
            raise ValueError(
                f"y must be 1-D with one label per sample of X ({len(X)}), got {labels.shape}"
            )
        self.classes_, encoded = np.unique(labels, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                f"y must hold at least two classes, got 1 class ({self.classes_[0]!r})"
            )
        debias_class = self.classes_[-1] if self.debias_class is None else self.debias_class
        if debias_class not in self.classes_:
            raise ValueError(f"debias_class {debias_class!r} is not one of the classes in y")
        self._debias_index = int(np.searchsorted(self.classes_, debias_class))
        return self._fit(X, encoded.astype(np.int64), resume=resume)

    def _logits(self, X: np.ndarray) -> np.ndarray:
        return self._map_batches(lambda x: self.module_.encode_all(x)[2], X)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``."""
        X = self._check_X(X)
        return torch.softmax(torch.from_numpy(self._logits(X)), dim=1).numpy()

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each sample."""
        probabilities = self.predict_proba(X)  # checks that the model is fitted
        return self.classes_[np.argmax(probabilities, axis=1)]

    def sampling_weights(self, X: Any, y: Any) -> np.ndarray:
        """The sampling probabilities the model would give ``(X, y)`` now (sum to one)."""
        X = self._check_X(X)
        labels = np.searchsorted(self.classes_, np.asarray(y))
        return self._weights_for(
            self.module_, torch.as_tensor(X).to(self._device), torch.as_tensor(labels)
        )

    def score(self, X: Any, y: Any = None) -> float:
        """Accuracy when ``y`` is given (a classifier's score), else the mean ELBO."""
        if y is None:
            return float(np.mean(self.score_samples(X)))
        return float(np.mean(self.predict(X) == np.asarray(y)))

    # -- persistence --------------------------------------------------------------------
    def _extra_state(self):
        tensors = {}
        if hasattr(self, "sampling_weights_"):
            tensors["sampling_weights"] = torch.from_numpy(self.sampling_weights_)
        return tensors, {"classes_": self.classes_.tolist(), "debias_index": self._debias_index}

    def _set_extra_state(self, tensors, attributes) -> None:
        self.classes_ = _file.check_classes(self, attributes.get("classes_"), at_least=2)
        index = attributes.get("debias_index")
        if not isinstance(index, int) or isinstance(index, bool) or not (
            0 <= index < len(self.classes_)
        ):
            raise _file.fail(self, "debias_index", f"must index classes_ (0 to "
                                                   f"{len(self.classes_) - 1}), got {index!r}")
        self._debias_index = index
        if "sampling_weights" in tensors:
            weights = _file.extra_array(self, tensors, "sampling_weights", (None,))
            if (weights < 0).any():
                raise _file.fail(self, "extra.sampling_weights", "holds negative weights")
            self.sampling_weights_ = weights


class _LatentReweighting(training.TrainingCallback):
    """Before each epoch, draw the training samples by the rarity of their latent codes.

    It sets the training batches' sampling weights from the model being trained
    (:meth:`DebiasingVAE._weights_for`); as the weights depend only on the network's
    current state, a resumed run recomputes them exactly and no state is checkpointed.
    The last weights become the model's ``sampling_weights_``.
    """

    def __init__(self, model: DebiasingVAE, batches: training.TensorBatches) -> None:
        self.model = model
        self.batches = batches
        self.weights: np.ndarray | None = None

    def on_epoch_begin(self, epoch: int, module: nn.Module) -> None:
        X_train, labels = self.batches.tensors
        self.weights = self.model._weights_for(module, X_train, labels)
        self.batches.weights = torch.from_numpy(self.weights)

    def on_train_end(self, module: nn.Module, result: training.TrainingResult) -> None:
        if self.weights is not None:
            self.model.sampling_weights_ = self.weights
