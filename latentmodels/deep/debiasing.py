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
from sklearn.utils.validation import check_is_fitted
from torch import nn

from .._internal.validation import check_data, check_number, check_positive_int
from .._internal.validation import check_random_state as _seed
from ._base import DeepLatentModel
from .vae import _VAENetwork, check_likelihood_range


class _DebiasingNetwork(_VAENetwork):
    """A VAE network whose encoder also emits class logits."""

    def __init__(
        self, architecture, input_shape, hidden_dims, latent_dim, likelihood, n_classes: int
    ) -> None:
        super().__init__(
            architecture, input_shape, hidden_dims, latent_dim, likelihood, extra_outputs=n_classes
        )

    def encode_all(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        out = self.encoder(x)
        d = self.latent_dim
        return out[:, :d], out[:, d : 2 * d].clamp(-30.0, 20.0), out[:, 2 * d :]

    def encode(self, x: torch.Tensor, condition: torch.Tensor | None = None):
        mean, log_var, _ = self.encode_all(x)
        return mean, log_var

    def forward(self, x: torch.Tensor, noise: torch.Tensor, condition: torch.Tensor | None = None):
        """Class logits, per-sample reconstruction NLL and per-dimension KL."""
        mean, log_var, logits = self.encode_all(x)
        std = torch.exp(0.5 * log_var)
        decoded = self.decoder(mean + noise * std)
        kl = 0.5 * (mean.pow(2) + std.pow(2) - 1.0 - log_var)
        return logits, self.reconstruction_nll(decoded, x), kl


def latent_sampling_weights(codes: np.ndarray, n_bins: int = 10, alpha: float = 1e-3) -> np.ndarray:
    """Sampling weights that favour samples in sparse regions of a latent space.

    For each latent dimension, a histogram of ``codes[:, d]`` (``n_bins`` bins, normalised
    to a probability) gives each sample the weight ``1 / (p_d(bin) + alpha)``; a sample's
    weight is its largest weight over the dimensions (it is rare if it is rare along any
    axis). ``alpha`` smooths: large alpha tends to uniform weights. Returns weights that
    sum to one.

    Example:
        >>> import numpy as np
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


class DebiasingVAE(DeepLatentModel):
    """A classifier trained jointly with a VAE that re-weights rare latent regions (DB-VAE).

    ``fit(X, y)`` trains the encoder to classify ``y`` and, on the samples of
    ``debias_class`` (default: the last class, the "positive" one), to be a VAE encoder.
    With ``debias=True`` each epoch resamples the training set: samples of
    ``debias_class`` are drawn in proportion to :func:`latent_sampling_weights` of their
    latent means (``n_bins``, ``alpha``), the other classes uniformly, keeping the class
    shares of the data. ``debias=False`` trains the same network without resampling, the
    baseline to compare against.

    The loss per batch is ``cross-entropy + vae_weight * (reconstruction + beta * KL) /
    n_features`` (the VAE term counted only on ``debias_class`` samples, per feature so
    both terms share a scale). Other parameters as :class:`latentmodels.VAE`.

    Example:
        >>> import numpy as np
        >>> from latentmodels import DebiasingVAE, datasets
        >>> X, y = datasets.load_mnist()
        >>> is_seven = (y[:600] == 7).astype(int)
        >>> model = DebiasingVAE(latent_dim=4, epochs=1, verbose=0, random_state=0)
        >>> model = model.fit(X[:600], is_seven)
        >>> model.predict(X[:3]).shape, model.sampling_weights_.shape
        ((3,), (540,))
    """

    def __init__(
        self,
        latent_dim: int = 16,
        *,
        debias: bool = True,
        debias_class: Any = None,
        n_bins: int = 10,
        alpha: float = 1e-3,
        vae_weight: float = 1.0,
        architecture: str = "mlp",
        hidden_dims: tuple[int, ...] | None = None,
        likelihood: str = "bernoulli",
        beta: float = 1.0,
        epochs: int = 30,
        batch_size: int = 128,
        learning_rate: float = 1e-3,
        weight_decay: float = 0.0,
        optimizer: str = "adam",
        lr_schedule: str = "constant",
        grad_clip: float | None = None,
        validation_fraction: float = 0.1,
        patience: int | None = 10,
        random_state: int | None = None,
        device: str = "auto",
        checkpoint_dir: str | None = None,
        checkpoint_every: int = 1,
        verbose: int = 1,
    ) -> None:
        self.latent_dim = latent_dim
        self.debias = debias
        self.debias_class = debias_class
        self.n_bins = n_bins
        self.alpha = alpha
        self.vae_weight = vae_weight
        self.architecture = architecture
        self.hidden_dims = hidden_dims
        self.likelihood = likelihood
        self.beta = beta
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.optimizer = optimizer
        self.lr_schedule = lr_schedule
        self.grad_clip = grad_clip
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.random_state = random_state
        self.device = device
        self.checkpoint_dir = checkpoint_dir
        self.checkpoint_every = checkpoint_every
        self.verbose = verbose

    # -- hooks --------------------------------------------------------------------------
    def _validate_params(self) -> None:
        super()._validate_params()
        check_positive_int(self.n_bins, "n_bins", minimum=2)
        check_number(self.alpha, "alpha", low=0, low_inclusive=False)
        check_number(self.vae_weight, "vae_weight", low=0)
        check_number(self.beta, "beta", low=0)

    def _check_fit_data(self, X: np.ndarray) -> None:
        check_likelihood_range(X, self.likelihood)

    def _build_module(self) -> nn.Module:
        return _DebiasingNetwork(
            self.architecture,
            self.input_shape_,
            self._hidden,
            self.latent_dim,
            self.likelihood,
            len(self.classes_),
        )

    def _loss(self, module, batch, *, epoch, generator, training):
        x, labels = batch
        noise = torch.randn((len(x), self.latent_dim), generator=generator, device=x.device)
        logits, reconstruction, kl = module(x, noise)
        classification = F.cross_entropy(logits, labels)
        mask = (labels == self._debias_index).to(x.dtype)
        per_sample = (reconstruction + self.beta * kl.sum(1)) / math.prod(x.shape[1:])
        vae_term = (mask * per_sample).sum() / mask.sum().clamp(min=1.0)
        loss = classification + self.vae_weight * vae_term
        return loss, {"classification": classification.detach(), "vae": vae_term.detach()}

    def _on_epoch_start(self, epoch: int, module: nn.Module) -> None:
        if not self.debias:
            return
        batches = self._train_batches
        X_train, labels = batches.tensors
        weights = self._weights_for(module, X_train, labels)
        batches.weights = torch.from_numpy(weights)
        self.sampling_weights_ = weights

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
        if y is None:
            raise ValueError("y: DebiasingVAE.fit needs class labels y")
        X = check_data(X, "X")
        labels = np.asarray(y)
        if labels.ndim != 1 or len(labels) != len(X):
            raise ValueError(
                f"y must be 1-D with one label per sample of X ({len(X)}), got {labels.shape}"
            )
        self.classes_, encoded = np.unique(labels, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError("y must hold at least two classes")
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
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def sampling_weights(self, X: Any, y: Any) -> np.ndarray:
        """The sampling probabilities the model would give ``(X, y)`` now (sum to one)."""
        X = self._check_X(X)
        labels = np.searchsorted(self.classes_, np.asarray(y))
        return self._weights_for(
            self.module_, torch.as_tensor(X).to(self._device), torch.as_tensor(labels)
        )

    def transform(self, X: Any) -> np.ndarray:
        """Posterior means E[z | x]."""
        X = self._check_X(X)
        return self._map_batches(lambda x: self.module_.encode(x)[0], X)

    def inverse_transform(self, Z: Any) -> np.ndarray:
        """Decoder means for latent codes ``Z``."""
        Z = self._check_Z(Z)
        return self._map_batches(self.module_.decode_mean, Z)

    def sample(self, n_samples: int = 1, *, random_state: Any = None) -> np.ndarray:
        """Decode draws from the N(0, I) prior: images like the debiased class."""
        check_is_fitted(self)
        check_positive_int(n_samples, "n_samples")
        rng = np.random.default_rng(_seed(random_state))
        return self.inverse_transform(
            rng.standard_normal((n_samples, self.latent_dim)).astype(np.float32)
        )

    def score_samples(self, X: Any, *, random_state: int = 0) -> np.ndarray:
        """ELBO per sample under the VAE part (in nats)."""
        X = self._check_X(X)
        generator = torch.Generator(device=self._device).manual_seed(_seed(random_state))

        def elbo(x: torch.Tensor) -> torch.Tensor:
            noise = torch.randn((len(x), self.latent_dim), generator=generator, device=x.device)
            _, reconstruction, kl = self.module_(x, noise)
            return -(reconstruction + kl.sum(1))

        return self._map_batches(elbo, X)

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
        self.classes_ = np.asarray(attributes["classes_"])
        self._debias_index = int(attributes["debias_index"])
        if "sampling_weights" in tensors:
            self.sampling_weights_ = tensors["sampling_weights"].numpy()
