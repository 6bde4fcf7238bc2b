"""Variational autoencoders: VAE (Bernoulli or Gaussian likelihood, beta, KL warm-up,
free bits) and ConditionalVAE (generate a chosen class).

``transform`` returns posterior means, ``score_samples`` the ELBO per sample, and
``log_likelihood`` a batched importance-weighted (IWAE) estimate of log p(x) in nats.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted
from torch import nn

from .._internal.geometry import interpolate as interpolate_path
from .._internal.validation import check_data, check_positive_int
from .._internal.validation import check_random_state as _seed
from ._base import (
    TRAINING_CONSTRAINTS,
    LossTrainedModel,
    hyperparameters,
    non_negative,
    positive_int,
)
from ._conditional import ClassConditional
from .nn.blocks import Decoder, Encoder

LIKELIHOODS = ("bernoulli", "gaussian")
_LOG_2PI = math.log(2 * math.pi)
# Floor for the learned Gaussian log-scale: without it, constant pixels drive the scale to
# zero and the likelihood to infinity.
_MIN_LOG_SCALE = math.log(1e-3)


def check_likelihood_range(X: np.ndarray, likelihood: str) -> None:
    """Raise a ``ValueError`` naming ``X`` when a Bernoulli likelihood meets data outside
    [0, 1] (the only data it is defined for).

    Parameters
    ----------
    X : ndarray
        The training data.
    likelihood : {"bernoulli", "gaussian"}
        The model's likelihood; "gaussian" accepts any data.

    Examples
    --------
    >>> import numpy as np
    >>> from latentmodels.deep.vae import check_likelihood_range
    >>> check_likelihood_range(np.array([[0.0, 1.0]]), "bernoulli")
    >>> check_likelihood_range(np.array([[0.0, 255.0]]), "bernoulli")
    Traceback (most recent call last):
    ...
    ValueError: X: the Bernoulli likelihood needs values in [0, 1], got [0, 255]. ...
    """
    if likelihood == "bernoulli" and (X.min() < 0 or X.max() > 1):
        raise ValueError(
            f"X: the Bernoulli likelihood needs values in [0, 1], got [{X.min():.3g}, "
            f"{X.max():.3g}]. Scale X (e.g. images / 255) or use likelihood='gaussian'"
        )


class _VAENetwork(nn.Module):
    """Encoder to (mean, log-variance), reparameterised sample, decoder, and the loss terms."""

    def __init__(
        self,
        architecture: str,
        input_shape: tuple[int, ...],
        hidden_dims: tuple[int, ...],
        latent_dim: int,
        likelihood: str,
        condition_dim: int = 0,
        extra_outputs: int = 0,
    ) -> None:
        super().__init__()
        self.likelihood = likelihood
        self.latent_dim = latent_dim
        # extra_outputs: encoder outputs after the mean and log-variance (class logits).
        self.encoder = Encoder(
            architecture, input_shape, hidden_dims, 2 * latent_dim + extra_outputs, condition_dim
        )
        self.decoder = Decoder(architecture, latent_dim, hidden_dims, input_shape, condition_dim)
        self.log_scale = nn.Parameter(torch.zeros(())) if likelihood == "gaussian" else None

    def encode_all(
        self, x: torch.Tensor, condition: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Posterior mean, log-variance and the encoder's extra outputs (maybe empty)."""
        out = self.encoder(x, condition)
        d = self.latent_dim
        # exp() of an unbounded log-variance overflows long before training notices.
        return out[:, :d], out[:, d : 2 * d].clamp(-30.0, 20.0), out[:, 2 * d :]

    def encode(
        self, x: torch.Tensor, condition: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        mean, log_var, _ = self.encode_all(x, condition)
        return mean, log_var

    def decode_mean(self, z: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
        out = self.decoder(z, condition)
        return torch.sigmoid(out) if self.likelihood == "bernoulli" else out

    def reconstruction_nll(self, decoded: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """-log p(x | z) per sample, summed over features."""
        dims = tuple(range(1, x.ndim))
        if self.likelihood == "bernoulli":
            return F.binary_cross_entropy_with_logits(decoded, x, reduction="none").sum(dims)
        log_scale = self.log_scale.clamp(min=_MIN_LOG_SCALE)
        z = (x - decoded) * torch.exp(-log_scale)
        n_features = math.prod(x.shape[1:])
        return 0.5 * z.pow(2).sum(dims) + n_features * (log_scale + 0.5 * _LOG_2PI)

    def forward(
        self, x: torch.Tensor, noise: torch.Tensor, condition: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per-sample reconstruction NLL, per-sample per-dimension KL, and the encoder's
        extra outputs (e.g. class logits; empty for a plain VAE)."""
        mean, log_var, extra = self.encode_all(x, condition)
        z = mean + noise * torch.exp(0.5 * log_var)
        decoded = self.decoder(z, condition)
        kl = 0.5 * (mean.pow(2) + log_var.exp() - 1.0 - log_var)
        return self.reconstruction_nll(decoded, x), kl, extra


#: Constraints of the hyper-parameters every VAE-like model has.
VARIATIONAL_CONSTRAINTS = {
    **TRAINING_CONSTRAINTS,
    "likelihood": [StrOptions(set(LIKELIHOODS))],
    "beta": [non_negative()],
}


@hyperparameters
class VariationalModel(LossTrainedModel):
    """What every VAE-like model shares: the network, the ELBO, encoding, decoding and
    sampling from the prior; :class:`VAE` and :class:`~latentmodels.DebiasingVAE` build
    on it.

    A subclass declares the hyper-parameters it adds and writes its ``_loss`` from
    :meth:`_elbo_terms`. ``_extra_outputs`` asks the encoder for more outputs after the
    mean and log-variance (the DebiasingVAE's class logits).

    Parameters
    ----------
    likelihood : {"bernoulli", "gaussian"}
        p(x|z). Bernoulli needs data in [0, 1]; Gaussian learns one shared scale.
    beta : float
        Weight of the KL term.
    latent_dim, architecture, hidden_dims, epochs, batch_size, learning_rate, \
weight_decay, optimizer, lr_schedule, grad_clip, validation_fraction, patience, \
random_state, device, checkpoint_dir, checkpoint_every, verbose
        As for :class:`~latentmodels.deep._base.LossTrainedModel`.

    Examples
    --------
    >>> from latentmodels import DebiasingVAE, VAE
    >>> from latentmodels.deep.vae import VariationalModel
    >>> issubclass(VAE, VariationalModel), issubclass(DebiasingVAE, VariationalModel)
    (True, True)
    """

    likelihood: str = "bernoulli"
    beta: float = 1.0

    _parameter_constraints = VARIATIONAL_CONSTRAINTS
    _condition_dim = 0

    @property
    def _extra_outputs(self) -> int:
        return 0

    def _check_fit_data(self, X: np.ndarray) -> None:
        check_likelihood_range(X, self.likelihood)

    def _build_module(self) -> nn.Module:
        return _VAENetwork(
            self.architecture,
            self.input_shape_,
            self._hidden,
            self.latent_dim,
            self.likelihood,
            self._condition_dim,
            self._extra_outputs,
        )

    def _condition(self, batch: list[torch.Tensor]) -> torch.Tensor | None:
        return None

    def _elbo_terms(
        self, module: nn.Module, x: torch.Tensor, generator: torch.Generator,
        condition: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One reparameterised pass: per-sample reconstruction NLL, per-dimension KL and
        the encoder's extra outputs, with the noise drawn from ``generator``."""
        noise = torch.randn(
            (len(x), self.latent_dim), generator=generator, device=x.device, dtype=x.dtype
        )
        return module(x, noise, condition)

    def _encode(self, X: np.ndarray, C: np.ndarray | None) -> np.ndarray:
        net = self.module_
        if C is None:
            return self._map_batches(lambda x: net.encode(x)[0], X)
        return self._map_batches(lambda x, c: net.encode(x, c)[0], X, C)

    def _decode(self, Z: np.ndarray, C: np.ndarray | None) -> np.ndarray:
        net = self.module_
        if C is None:
            return self._map_batches(net.decode_mean, Z)
        return self._map_batches(net.decode_mean, Z, C)

    def _elbo(self, X: np.ndarray, C: np.ndarray | None, seed: int) -> np.ndarray:
        # One noise draw shared by all samples (common random numbers): each estimate stays
        # unbiased, and a sample's score no longer depends on its position in X or on the
        # other samples passed with it.
        noise = torch.randn((1, self.latent_dim), generator=torch.Generator().manual_seed(seed))
        noise = noise.to(self._device)

        def elbo(x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
            reconstruction, kl, _ = self.module_(x, noise.expand(len(x), -1), c)
            return -(reconstruction + kl.sum(1))

        return self._map_batches(elbo, X) if C is None else self._map_batches(elbo, X, C)

    def transform(self, X: Any) -> np.ndarray:
        """Posterior means E[z | x], shape (n_samples, latent_dim)."""
        return self._encode(self._check_X(X), None)

    def inverse_transform(self, Z: Any) -> np.ndarray:
        """Decoder means for latent codes ``Z``, shaped like the training samples."""
        return self._decode(self._check_Z(Z), None)

    def sample(self, n_samples: int = 1, *, random_state: Any = None) -> np.ndarray:
        """Decode ``n_samples`` codes drawn from the N(0, I) prior (decoder means)."""
        check_is_fitted(self)
        self._check_n_samples(n_samples)
        rng = np.random.default_rng(_seed(random_state))
        Z = rng.standard_normal((n_samples, self.latent_dim)).astype(np.float32)
        return self.inverse_transform(Z)

    def score_samples(self, X: Any, *, random_state: int = 0) -> np.ndarray:
        """ELBO per sample in nats, from one seeded posterior draw shared by all samples:
        repeat calls agree, and a sample's score does not depend on the others."""
        return self._elbo(self._check_X(X), None, _seed(random_state))


@hyperparameters
class VAE(VariationalModel):
    """Variational autoencoder (Kingma & Welling 2014) with beta, KL warm-up and free bits.

    Parameters
    ----------
    latent_dim : int
        Size of the latent code.
    architecture : {"mlp", "conv"}
        Fully connected layers, or stride-2 convolutions for images (n, H, W)/(n, C, H, W).
    hidden_dims : tuple of int or None
        Hidden layer widths (MLP) or channel counts (conv); None picks (512,) for the MLP
        and (32, 64) for conv. The decoder mirrors the encoder.
    likelihood : {"bernoulli", "gaussian"}
        p(x|z). Bernoulli needs data in [0, 1]; Gaussian learns one shared scale.
    beta : float
        Weight of the KL term (beta-VAE when > 1).
    kl_warmup_epochs : int
        Linearly raise the KL weight from 0 to ``beta`` over this many epochs.
    free_bits : float
        Minimum KL (nats) per latent dimension, averaged over a batch, before it is penalised.
    epochs, batch_size, learning_rate, weight_decay, optimizer, lr_schedule, grad_clip
        Training loop settings (see :mod:`latentmodels.deep.training`). The defaults (one
        512-unit layer, Adam at 2e-3, batch 128) gave the best test NLL per second of
        training on MNIST among the settings tried (BENCHMARKS.md).
    validation_fraction : float
        Share of the data held out for early stopping (0 disables it).
    patience : int or None
        Epochs without validation improvement before stopping; the best weights are kept.
    random_state : int or None
        Seed for initialisation, shuffling and noise: equal seeds give identical runs on CPU
        at a fixed thread count (``torch.set_num_threads(1)`` or ``--threads``; the automatic
        thread policy may change the count during a fit, see the README).
    device : str
        "auto" (CUDA when present), "cpu", "cuda", "cuda:1", ...
    checkpoint_dir : str or None
        Where to write checkpoints; ``fit(X, resume=True)`` continues from there.
    checkpoint_every : int
        Checkpoint every this many epochs (and at the end).
    verbose : int
        0 silent, 1 progress bar, 2 also a line per epoch.
    n_jobs : int or None
        CPU threads torch trains with: None follows the thread policy (the cores free,
        whichever of 1 and torch's count steps faster), a positive count is used as given,
        -1 uses every core.

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained network (encoder, decoder and, for a Gaussian likelihood, the scale).
    input_shape_ : tuple of int
        Shape of one training sample; ``n_features_in_`` is its size.
    history_ : list of dict
        One record per epoch: losses, validation losses, learning rate, seconds.
    best_epoch_ : int
        The epoch whose weights were kept (best validation loss).
    n_epochs_ : int
        Epochs run; ``stopped_early_`` says whether early stopping or a time limit ended it.
    seed_ : int
        The seed the run used.

    Examples
    --------
    >>> from latentmodels import VAE, datasets
    >>> X, y = datasets.load_mnist()
    >>> vae = VAE(latent_dim=8, epochs=1, verbose=0, random_state=0).fit(X[:512])
    >>> vae.transform(X[:3]).shape
    (3, 8)
    >>> vae.sample(2).shape
    (2, 28, 28)
    """

    kl_warmup_epochs: int = 0
    free_bits: float = 0.0
    learning_rate: float = 2e-3  # the shared declaration, with the VAE's default

    _parameter_constraints = {
        **VARIATIONAL_CONSTRAINTS,
        "kl_warmup_epochs": [positive_int(0)],
        "free_bits": [non_negative()],
    }

    # -- hooks --------------------------------------------------------------------------
    def _kl_weight(self, epoch: int, training: bool) -> float:
        """Weight of the KL term at ``epoch``: ``beta``, ramped up during warm-up."""
        if training and self.kl_warmup_epochs > 0:
            return self.beta * min(1.0, (epoch + 1) / self.kl_warmup_epochs)
        return self.beta

    def _kl_penalty(self, kl_per_dim: torch.Tensor) -> torch.Tensor:
        """The penalised KL from the batch-mean KL per dimension (free bits applied)."""
        if self.free_bits > 0:
            return kl_per_dim.clamp(min=self.free_bits).sum()
        return kl_per_dim.sum()

    def _loss(self, module, batch, *, epoch, generator, training):
        reconstruction, kl, _ = self._elbo_terms(
            module, batch[0], generator, self._condition(batch)
        )
        reconstruction = reconstruction.mean()
        kl_per_dim = kl.mean(0)
        loss = reconstruction + self._kl_weight(epoch, training) * self._kl_penalty(kl_per_dim)
        return loss, {"reconstruction": reconstruction.detach(), "kl": kl_per_dim.sum().detach()}

    # -- contract -----------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None, *, resume: bool = False) -> VAE:
        """Train on ``X`` (array, tensor or DataLoader); ``resume=True`` continues from
        the last checkpoint in ``checkpoint_dir``. ``y`` is ignored."""
        return self._fit(X, None, resume=resume)

    def _iwae(self, X: np.ndarray, C: np.ndarray | None, n_importance: int, seed: int,
              verbose: int = 0):
        net = self.module_
        generator = torch.Generator(device=self._device).manual_seed(seed)
        k = n_importance

        def log_px(x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
            mean, log_var = net.encode(x, c)
            std = torch.exp(0.5 * log_var)
            noise = torch.randn((k, *mean.shape), generator=generator, device=x.device)
            z = mean + noise * std  # (k, b, d)
            log_q = (-0.5 * noise.pow(2) - 0.5 * log_var - 0.5 * _LOG_2PI).sum(-1)
            log_prior = (-0.5 * z.pow(2) - 0.5 * _LOG_2PI).sum(-1)
            flat_z = z.reshape(k * len(x), -1)
            flat_c = None if c is None else c.repeat(k, 1)
            decoded = net.decoder(flat_z, flat_c)
            x_rep = x.unsqueeze(0).expand(k, *x.shape).reshape(k * len(x), *x.shape[1:])
            log_lik = -net.reconstruction_nll(decoded, x_rep).reshape(k, len(x))
            log_w = log_lik + log_prior - log_q
            return torch.logsumexp(log_w, dim=0) - math.log(k)

        batch = max(1, 16384 // k)
        with _batch_progress(f"IWAE bound, {k} samples", -(-len(X) // batch), verbose) as step:

            def counted(*tensors: torch.Tensor) -> torch.Tensor:
                result = log_px(*tensors)
                step()
                return result

            if C is None:
                return self._map_batches(counted, X, batch_size=batch)
            return self._map_batches(counted, X, C, batch_size=batch)

    def log_likelihood(
        self, X: Any, *, n_importance: int = 100, random_state: int = 0, verbose: int = 0
    ) -> np.ndarray:
        """Importance-weighted estimate of log p(x) per sample, in nats (Burda et al.).

        A tighter bound than the ELBO that approaches log p(x) as ``n_importance`` grows;
        the negative mean is the usual "test NLL". Computed in batches of whole samples;
        ``verbose=1`` shows a progress bar over them on stderr.
        """
        check_positive_int(n_importance, "n_importance")
        return self._iwae(self._check_X(X), None, n_importance, _seed(random_state), verbose)


class ConditionalVAE(ClassConditional, VAE):
    """A VAE whose encoder and decoder also see the class label, to generate a chosen class.

    ``fit(X, y)`` needs labels. ``transform``, ``score_samples``, ``log_likelihood`` and
    ``interpolate`` take ``y`` when it is known; without it they marginalise the label
    out with the model's own class posterior ``p(y | x) ∝ p(y) exp(ELBO(x, y))``, so the
    model works as a plain transformer in a ``Pipeline``. ``inverse_transform`` and
    ``sample(n, y=label)`` decode for chosen classes.

    Parameters
    ----------
    latent_dim, architecture, hidden_dims, likelihood, beta, kl_warmup_epochs, free_bits, \
epochs, batch_size, learning_rate, weight_decay, optimizer, lr_schedule, grad_clip, \
validation_fraction, patience, random_state, device, checkpoint_dir, checkpoint_every, \
verbose
        As for :class:`VAE`.

    Attributes
    ----------
    classes_ : ndarray
        The sorted class labels seen in ``fit``.
    class_prior_ : ndarray
        Each class's share of the training samples, the prior ``p(y)``.
    module_, input_shape_, history_, best_epoch_, n_epochs_, stopped_early_, seed_
        As for :class:`VAE`.

    Examples
    --------
    >>> from latentmodels import ConditionalVAE, datasets
    >>> X, y = datasets.load_mnist()
    >>> cvae = ConditionalVAE(latent_dim=4, epochs=1, verbose=0, random_state=0)
    >>> cvae = cvae.fit(X[:512], y[:512])
    >>> cvae.sample(3, y=7).shape
    (3, 28, 28)
    >>> cvae.transform(X[:2], y[:2]).shape, cvae.transform(X[:2]).shape  # with, without y
    ((2, 4), (2, 4))
    """

    def fit(self, X: Any, y: Any = None, *, resume: bool = False) -> ConditionalVAE:
        """Train on images ``X`` with class labels ``y`` (required)."""
        return self._fit(X, self._encode_fit_labels(X, y), resume=resume)

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> np.ndarray:
        """Fit on ``(X, y)``, then return ``transform(X)`` without the labels.

        The codes are those :meth:`transform` gives new data in a pipeline, where labels
        are unknown, so training and prediction see features made the same way; call
        ``transform(X, y)`` for the codes given the labels.
        """
        return self.fit(X, y, **fit_params).transform(X)

    def _class_elbos(self, X: np.ndarray, seed: int) -> np.ndarray:
        """ELBO of each sample under each class, shape (n_samples, n_classes)."""
        return np.stack([self._elbo(X, C, seed) for C in self._class_conditions(len(X))], 1)

    def _class_posterior(self, X: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """``log p(x)`` bounds and ``p(y | x)`` (rows), from the per-class ELBOs."""
        joint = self._class_elbos(X, seed).astype(np.float64) + self._log_class_prior()
        log_px = np.logaddexp.reduce(joint, axis=1)
        return log_px, np.exp(joint - log_px[:, None])

    def transform(self, X: Any, y: Any = None) -> np.ndarray:
        """Posterior means E[z | x, y]; without ``y``, E[z | x] with the label marginalised
        out: the means under each class weighted by the class posterior
        ``p(y | x) ∝ p(y) exp(ELBO(x, y))`` (``p(y)``: ``class_prior_``)."""
        X = self._check_X(X)
        if y is not None:
            return self._encode(X, self._one_hot(y, len(X)))
        means = np.stack([self._encode(X, C) for C in self._class_conditions(len(X))], 1)
        weights = self._class_posterior(X, 0)[1].astype(np.float32)
        return np.einsum("nk,nkd->nd", weights, means)

    def inverse_transform(self, Z: Any, y: Any = None) -> np.ndarray:
        """Decoder means for codes ``Z`` of classes ``y`` (a label or one per row)."""
        Z = self._check_Z(Z)
        return self._decode(Z, self._one_hot(y, len(Z)))

    def sample(self, n_samples: int = 1, *, y: Any = None, random_state: Any = None) -> np.ndarray:
        """Generate ``n_samples`` images of class ``y`` (a label, or one per sample);
        with ``y=None`` the classes cycle through ``classes_`` in order."""
        check_is_fitted(self)
        self._check_n_samples(n_samples)
        if y is None:
            y = self._cycled_labels(n_samples)
        rng = np.random.default_rng(_seed(random_state))
        Z = rng.standard_normal((n_samples, self.latent_dim)).astype(np.float32)
        return self.inverse_transform(Z, y)

    def score_samples(self, X: Any, y: Any = None, *, random_state: int = 0) -> np.ndarray:
        """ELBO per sample given its label; without ``y``, the bound
        ``log sum_y p(y) exp(ELBO(x, y)) <= log p(x)``."""
        X = self._check_X(X)
        if y is None:
            return self._class_posterior(X, _seed(random_state))[0].astype(np.float32)
        return self._elbo(X, self._one_hot(y, len(X)), _seed(random_state))

    def score(self, X: Any, y: Any = None) -> float:
        """Mean of :meth:`score_samples` (given ``y`` when passed)."""
        return float(np.mean(self.score_samples(X, y)))

    def log_likelihood(
        self, X: Any, y: Any = None, *, n_importance: int = 100, random_state: int = 0,
        verbose: int = 0,
    ) -> np.ndarray:
        """IWAE estimate of log p(x | y) per sample, in nats (``y`` required)."""
        check_positive_int(n_importance, "n_importance")
        X = self._check_X(X)
        return self._iwae(X, self._one_hot(y, len(X)), n_importance, _seed(random_state),
                          verbose)

    def interpolate(
        self, start: Any, end: Any, steps: int = 10, *, y: Any = None, method: str = "linear"
    ) -> np.ndarray:
        """Decode ``steps`` points on the latent path between two inputs, for class ``y``.

        Parameters
        ----------
        start, end : array-like
            Two single samples (no batch axis).
        steps : int, default=10
            Number of decoded points, at least 2.
        y : label or None, default=None
            The class both ends are encoded with and the path is decoded with; None takes
            the class most probable for ``start`` under the model (see :meth:`transform`).
        method : {"linear", "spherical"}, default="linear"
            Straight line or slerp between the two codes.

        Returns
        -------
        numpy.ndarray of shape (steps, ...)

        Examples
        --------
        >>> from latentmodels import ConditionalVAE, datasets
        >>> X, y = datasets.load_mnist()
        >>> cvae = ConditionalVAE(latent_dim=2, epochs=1, verbose=0, random_state=0)
        >>> cvae.fit(X[:256], y[:256]).interpolate(X[0], X[1], steps=4, y=3).shape
        (4, 28, 28)
        """
        check_is_fitted(self)
        if y is None:
            first = check_data(start, "start", min_ndim=1)[None]
            y = self.classes_[int(np.argmax(self._class_posterior(first, 0)[1][0]))]
        elif np.ndim(y) != 0:
            raise ValueError(f"y: interpolation needs one class label, got {y!r}")
        return interpolate_path(_FixedLabel(self, y), start, end, steps=steps, method=method)


class _FixedLabel:
    """A conditional model seen through one class label: the contract's ``transform`` and
    ``inverse_transform`` without ``y``, for the generic latent-path code."""

    def __init__(self, model: ConditionalVAE, label: Any) -> None:
        self.model, self.label = model, label

    def transform(self, X: Any) -> np.ndarray:
        return self.model.transform(X, self.label)

    def inverse_transform(self, Z: Any) -> np.ndarray:
        return self.model.inverse_transform(Z, self.label)


@contextlib.contextmanager
def _batch_progress(description: str, total: int, verbose: int) -> Iterator[Callable[[], None]]:
    """A progress bar over ``total`` batches on stderr when ``verbose``; yields ``step()``."""
    if not verbose or total < 2:
        yield lambda: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from .training import time_left_column

    with Progress(TextColumn(description), BarColumn(), MofNCompleteColumn(),
                  time_left_column(), console=Console(stderr=True)) as bar:
        task = bar.add_task(description, total=total)
        yield lambda: bar.advance(task)
