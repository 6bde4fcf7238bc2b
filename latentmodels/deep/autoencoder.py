"""Deterministic autoencoders: plain and denoising.

``transform`` gives the code, ``inverse_transform`` decodes, ``score_samples`` is the
negative reconstruction error per sample, and ``sample`` decodes codes drawn from a
Gaussian fitted to the training codes (an autoencoder has no prior of its own).
"""

from __future__ import annotations

from numbers import Real
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from torch import nn

from .._internal.validation import check_number
from .._internal.validation import check_random_state as _seed
from . import _file
from ._base import TRAINING_CONSTRAINTS, LossTrainedModel, hyperparameters
from .corruption import CORRUPTIONS, corrupt_tensor
from .nn.blocks import Decoder, Encoder

RECONSTRUCTION_LOSSES = ("mse", "bce")


class _AENetwork(nn.Module):
    def __init__(self, architecture, input_shape, hidden_dims, latent_dim, loss: str) -> None:
        super().__init__()
        self.loss = loss
        self.encoder = Encoder(architecture, input_shape, hidden_dims, latent_dim)
        self.decoder = Decoder(architecture, latent_dim, hidden_dims, input_shape)

    def decode_mean(self, z: torch.Tensor) -> torch.Tensor:
        out = self.decoder(z)
        return torch.sigmoid(out) if self.loss == "bce" else out

    def reconstruction_error(self, decoded: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Per-sample error summed over features."""
        dims = tuple(range(1, target.ndim))
        if self.loss == "bce":
            return F.binary_cross_entropy_with_logits(decoded, target, reduction="none").sum(dims)
        return (decoded - target).pow(2).sum(dims)

    def forward(self, x_in: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.reconstruction_error(self.decoder(self.encoder(x_in)), target)


@hyperparameters
class Autoencoder(LossTrainedModel):
    """Autoencoder with an MLP or convolutional encoder/decoder.

    Parameters
    ----------
    latent_dim : int
        Size of the code.
    reconstruction_loss : {"mse", "bce"}
        Squared error, or binary cross-entropy on sigmoid outputs (for data in [0, 1]).
    architecture, hidden_dims
        The network, as for :class:`latentmodels.VAE`.
    epochs, batch_size, learning_rate, weight_decay, optimizer, lr_schedule, grad_clip, \
validation_fraction, patience, random_state, device, checkpoint_dir, checkpoint_every, verbose
        Training settings, as for :class:`latentmodels.VAE` (``learning_rate`` defaults
        to 1e-3 here).

    Attributes
    ----------
    code_mean_, code_covariance_ : ndarray
        The Gaussian fitted to the training codes, which :meth:`sample` draws from (absent
        after fitting from a DataLoader until :meth:`fit_code_density`).
    module_, input_shape_, history_, best_epoch_, n_epochs_, stopped_early_, seed_
        As for :class:`latentmodels.VAE`.

    Examples
    --------
    >>> from latentmodels import Autoencoder, datasets
    >>> X, _ = datasets.load_mnist()
    >>> ae = Autoencoder(latent_dim=8, epochs=1, verbose=0, random_state=0).fit(X[:512])
    >>> ae.transform(X[:2]).shape
    (2, 8)
    """

    latent_dim: int = 32  # the shared declaration, with the autoencoder's default
    reconstruction_loss: str = "mse"

    _parameter_constraints = {
        **TRAINING_CONSTRAINTS,
        "reconstruction_loss": [StrOptions(set(RECONSTRUCTION_LOSSES))],
    }

    def _check_fit_data(self, X: np.ndarray) -> None:
        if self.reconstruction_loss == "bce" and (X.min() < 0 or X.max() > 1):
            raise ValueError(
                "X: reconstruction_loss='bce' needs values in [0, 1]; scale X or use 'mse'"
            )

    def _build_module(self) -> nn.Module:
        return _AENetwork(
            self.architecture,
            self.input_shape_,
            self._hidden,
            self.latent_dim,
            self.reconstruction_loss,
        )

    def _corrupt(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return x

    def _loss(self, module, batch, *, epoch, generator, training):
        x = batch[0]
        x_in = self._corrupt(x, generator) if training else x
        return module(x_in, x).mean()

    def _after_fit(self, X: torch.Tensor | None, y: torch.Tensor | None) -> None:
        # A Gaussian over the training codes stands in for the prior when sampling.
        codes = self.transform(X.cpu().numpy()).astype(np.float64)
        self.code_mean_ = codes.mean(0)
        if len(codes) > 1:
            covariance = np.atleast_2d(np.cov(codes, rowvar=False))
        else:  # one sample has no spread: sample around its code with unit variance
            covariance = np.eye(self.latent_dim)
        self.code_covariance_ = covariance + 1e-6 * np.eye(self.latent_dim)

    # -- contract -----------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None, *, resume: bool = False) -> Autoencoder:
        """Train on ``X`` (array, tensor or DataLoader); ``y`` is ignored."""
        return self._fit(X, None, resume=resume)

    def transform(self, X: Any) -> np.ndarray:
        """The code of each sample, shape (n_samples, latent_dim)."""
        X = self._check_X(X)
        return self._map_batches(self.module_.encoder, X)

    def inverse_transform(self, Z: Any) -> np.ndarray:
        """Decode codes back to data space."""
        Z = self._check_Z(Z)
        return self._map_batches(self.module_.decode_mean, Z)

    def score_samples(self, X: Any) -> np.ndarray:
        """Negative reconstruction error per sample (higher = better reconstructed)."""
        X = self._check_X(X)
        return -self._map_batches(lambda x: self.module_(x, x), X)

    def sample(self, n_samples: int = 1, *, random_state: Any = None) -> np.ndarray:
        """Decode codes drawn from the Gaussian fitted to the training codes."""
        check_is_fitted(self)
        self._check_n_samples(n_samples)
        if not hasattr(self, "code_mean_"):
            raise ValueError(
                "sample: this model was fitted from a DataLoader, so it has no "
                "code density; call fit_code_density(X) first"
            )
        rng = np.random.default_rng(_seed(random_state))
        Z = rng.multivariate_normal(self.code_mean_, self.code_covariance_, size=n_samples)
        return self.inverse_transform(Z.astype(np.float32))

    def fit_code_density(self, X: Any) -> Autoencoder:
        """Fit the Gaussian used by :meth:`sample` to the codes of ``X``."""
        self._after_fit(torch.as_tensor(self._check_X(X)), None)
        return self

    def _extra_state(self):
        if not hasattr(self, "code_mean_"):
            return {}, {}
        return {
            "code_mean": torch.from_numpy(self.code_mean_),
            "code_covariance": torch.from_numpy(self.code_covariance_),
        }, {}

    def _set_extra_state(self, tensors, attributes) -> None:
        if "code_mean" in tensors or "code_covariance" in tensors:
            d = self.latent_dim
            mean = _file.extra_array(self, tensors, "code_mean", (d,))
            covariance = _file.extra_array(self, tensors, "code_covariance", (d, d))
            if not np.allclose(covariance, covariance.T) or np.linalg.eigvalsh(covariance)[0] < 0:
                raise _file.fail(self, "extra.code_covariance",
                                 "is not a covariance matrix (symmetric, positive semi-definite)")
            self.code_mean_, self.code_covariance_ = mean, covariance


@hyperparameters
class DenoisingAutoencoder(Autoencoder):
    """Autoencoder trained to undo a corruption of its input.

    ``corruption`` is ``"gaussian"`` (additive noise with std ``noise_level``),
    ``"masking"`` (a ``noise_level`` fraction of entries set to 0) or ``"salt_and_pepper"``
    (a ``noise_level`` fraction set to 0 or 1). ``noise_level=(low, high)`` draws each
    training sample's level uniformly from that range ("blind" denoising), for one model
    that serves a range of noise levels.

    Parameters
    ----------
    corruption : {"gaussian", "masking", "salt_and_pepper"}
        The corruption the model learns to undo.
    noise_level : float or (float, float)
        Its strength (at most 1 except for "gaussian"), or a range to draw from.
    latent_dim, reconstruction_loss, architecture, hidden_dims, epochs, batch_size, \
learning_rate, weight_decay, optimizer, lr_schedule, grad_clip, validation_fraction, \
patience, random_state, device, checkpoint_dir, checkpoint_every, verbose
        As for :class:`Autoencoder`.

    Attributes
    ----------
    code_mean_, code_covariance_, module_, input_shape_, history_, best_epoch_, \
n_epochs_, stopped_early_, seed_
        As for :class:`Autoencoder`.

    Examples
    --------
    >>> from latentmodels import DenoisingAutoencoder, datasets
    >>> X, _ = datasets.load_mnist()
    >>> dae = DenoisingAutoencoder(corruption="masking", noise_level=0.25, epochs=1,
    ...                            verbose=0, random_state=0).fit(X[:512])
    >>> dae.reconstruct(X[:2]).shape
    (2, 28, 28)
    """

    _tuple_params = (*Autoencoder._tuple_params, "noise_level")

    corruption: str = "gaussian"
    noise_level: float | tuple[float, float] = 0.3

    _parameter_constraints = {
        **Autoencoder._parameter_constraints,
        "corruption": [StrOptions(set(CORRUPTIONS))],
        # A number or a (low, high) pair; the pair's contents depend on the corruption and
        # are checked in _check_parameter_combinations.
        "noise_level": [Interval(Real, 0, None, closed="left"), tuple, list],
    }

    def _check_parameter_combinations(self) -> None:
        super()._check_parameter_combinations()
        high = None if self.corruption == "gaussian" else 1.0
        if isinstance(self.noise_level, (tuple, list)):
            if len(self.noise_level) != 2:
                raise ValueError(
                    f"noise_level must be a number or a (low, high) pair, got {self.noise_level!r}"
                )
            low = check_number(self.noise_level[0], "noise_level[0]", low=0, high=high)
            check_number(self.noise_level[1], "noise_level[1]", low=low, high=high)
        else:
            check_number(self.noise_level, "noise_level", low=0, high=high)

    def _corrupt(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        level: float | torch.Tensor = self.noise_level
        if isinstance(self.noise_level, (tuple, list)):
            low, high = self.noise_level
            # One level per sample, broadcast over the sample's entries.
            shape = (x.shape[0],) + (1,) * (x.dim() - 1)
            draws = torch.rand(shape, generator=generator, device=x.device, dtype=x.dtype)
            level = low + (high - low) * draws
        return corrupt_tensor(x, self.corruption, level, generator)
