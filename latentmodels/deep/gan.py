"""Generative adversarial networks: GAN and ConditionalGAN (generate a chosen class).

A generator maps N(0, I) codes to data; a discriminator learns to tell real from
generated data, and the two are trained in alternation through the shared trainer (a
:class:`~latentmodels.deep.training.StepFunction` with one Adam optimiser per player). An
exponential moving average (EMA) of the generator's weights is kept and used for
generation by default: it gives visibly steadier samples than the last raw weights.

In the contract: ``inverse_transform`` is the generator, ``sample`` draws from the prior,
``transform`` inverts the generator by optimisation (approximate), and ``score_samples``
is the discriminator's score (higher = more real; not a likelihood).
"""

from __future__ import annotations

import copy
import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from torch import nn

from .._internal.geometry import latent_path
from .._internal.validation import check_choice, check_data, check_number, check_positive_int
from .._internal.validation import check_random_state as _seed
from . import _file, training
from ._base import (
    COMMON_CONSTRAINTS,
    DeepLatentModel,
    _PairConstraint,
    _SequenceConstraint,
    hyperparameters,
    non_negative,
    positive,
    positive_int,
)
from ._conditional import ClassConditional
from .nn.gan_blocks import Discriminator, Generator, conv_geometry, default_hidden

LOSSES = ("hinge", "ns", "wgan-gp")
ARCHITECTURES = ("auto", "mlp", "conv")
INTERPOLATION_METHODS = ("linear", "slerp", "spherical")
# What ``None`` means for the loss-dependent settings. WGAN-GP wants an unconstrained
# critic (the gradient penalty already bounds it; spectral norm on top over-constrains
# it), several critic steps per generator step and beta1 = 0 (Gulrajani et al. 2017).
_LOSS_DEFAULTS: dict[str, dict[str, Any]] = {
    "hinge": {"spectral_norm": True, "n_critic": 1, "betas": (0.5, 0.999)},
    "ns": {"spectral_norm": True, "n_critic": 1, "betas": (0.5, 0.999)},
    "wgan-gp": {"spectral_norm": False, "n_critic": 5, "betas": (0.0, 0.9)},
}
# Keeps a WGAN critic's scores near zero so they cannot drift off (Karras et al. 2018).
_DRIFT_WEIGHT = 1e-3
# Weight of the N(0, I) prior term in latent inversion: keeps codes where the generator
# was trained without pulling them away from a good reconstruction.
_INVERSION_PRIOR = 1e-3
# Prior draws tried per sample before the gradient steps of latent inversion.
_INVERSION_STARTS = 16
# Samples of fixed codes recorded during training (progress_samples_): how many codes, at
# about how many epochs, and the seed of the codes.
_PROGRESS_SAMPLES = 8
_PROGRESS_SNAPSHOTS = 8
_PROGRESS_SEED = 20_240
# Conv channels of the first level in GAN files that record no network (saved before the
# default became default_hidden's).
_OLD_FIRST_CHANNELS = 64
# Hyper-parameters that may change between a killed run and its resume.
_RESUMABLE_CHANGES = {
    "epochs",
    "max_time",
    "verbose",
    "checkpoint_dir",
    "checkpoint_every",
    "device",
    "n_jobs",
    "use_ema",
}


class _GANNetwork(nn.Module):
    """Generator, discriminator, the generator's EMA copy and the step counters."""

    def __init__(
        self,
        generator: Generator,
        discriminator: Discriminator,
        ema: bool,
    ) -> None:
        super().__init__()
        self.generator = generator
        self.discriminator = discriminator
        self.ema = copy.deepcopy(generator).requires_grad_(False) if ema else None
        # Counters live in buffers so that checkpoints (and so resume) include them.
        self.register_buffer("d_steps", torch.zeros((), dtype=torch.long))
        self.register_buffer("g_steps", torch.zeros((), dtype=torch.long))

    @torch.no_grad()
    def update_ema(self, decay: float) -> None:
        """Move the EMA weights towards the generator's.

        The decay ramps up as (1 + t) / (10 + t) over the first generator steps, so a
        short run's EMA is not stuck near the random initial weights.
        """
        if self.ema is None:
            return
        t = float(self.g_steps)
        rate = 1.0 - min(decay, (1.0 + t) / (10.0 + t))
        for averaged, current in zip(
            self.ema.parameters(), self.generator.parameters(), strict=True
        ):
            averaged.lerp_(current, rate)
        for averaged, current in zip(self.ema.buffers(), self.generator.buffers(), strict=True):
            averaged.copy_(current)


def _discriminator_loss(loss: str, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    if loss == "ns":
        return F.softplus(-real).mean() + F.softplus(fake).mean()
    if loss == "hinge":
        return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()
    return fake.mean() - real.mean()


def _generator_loss(loss: str, fake: torch.Tensor) -> torch.Tensor:
    if loss == "ns":
        return F.softplus(-fake).mean()
    return -fake.mean()


def _gradient_penalty(
    discriminator: nn.Module,
    real: torch.Tensor,
    fake: torch.Tensor,
    condition: torch.Tensor | None,
    generator: torch.Generator,
) -> torch.Tensor:
    """Mean of (||grad D(x_hat)|| - 1)^2 at random points between real and fake."""
    shape = (len(real),) + (1,) * (real.ndim - 1)
    mix = torch.rand(shape, generator=generator, device=real.device, dtype=real.dtype)
    between = (mix * real + (1 - mix) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(
        discriminator(between, condition).sum(), between, create_graph=True
    )
    # sqrt has an infinite derivative at 0: the epsilon is what keeps WGAN-GP from NaN
    # when a gradient vanishes.
    norm = (grad.flatten(1).pow(2).sum(1) + 1e-12).sqrt()
    return (norm - 1.0).pow(2).mean()


class _GANStep(training.StepFunction):
    """One batch: a discriminator update, and a generator update every n_critic batches."""

    def __init__(self, model: GAN) -> None:
        self.model = model
        self.loss = model.loss
        self.n_critic = model._setting("n_critic")
        self.betas = tuple(model._setting("betas"))

    def optimizers(self, module: nn.Module) -> dict[str, training.OptimizerSpec]:
        return {
            "discriminator": training.OptimizerSpec(
                module.discriminator.parameters(), lr=self.model.lr_d, betas=self.betas
            ),
            "generator": training.OptimizerSpec(
                module.generator.parameters(), lr=self.model.lr_g, betas=self.betas
            ),
        }

    def __call__(self, module, batch, *, updaters, epoch, generator):
        model = self.model
        real = batch[0]
        condition = model._condition(batch)
        n = len(real)

        def codes() -> torch.Tensor:
            return torch.randn(
                (n, model.latent_dim), generator=generator, device=real.device, dtype=real.dtype
            )

        with torch.no_grad():
            fake = module.generator(codes(), condition)
        both = None if condition is None else torch.cat([condition, condition])
        # One discriminator pass over real and fake together: half the calls, and one
        # spectral-norm power iteration per update.
        scores = module.discriminator(torch.cat([real, fake]), both)
        real_score, fake_score = scores[:n], scores[n:]
        d_loss = _discriminator_loss(self.loss, real_score, fake_score)
        total = d_loss
        metrics: dict[str, torch.Tensor] = {
            "d_loss": d_loss.detach(),
            "g_loss": _generator_loss(self.loss, fake_score).detach(),
            "d_real": real_score.detach().mean(),
            "d_fake": fake_score.detach().mean(),
        }
        if self.loss == "wgan-gp":
            penalty = _gradient_penalty(module.discriminator, real, fake, condition, generator)
            total = total + model.gp_weight * penalty + _DRIFT_WEIGHT * real_score.pow(2).mean()
            metrics["gradient_penalty"] = penalty.detach()
        updaters["discriminator"].step(total)
        module.d_steps += 1

        if int(module.d_steps) % self.n_critic == 0:
            g_loss = _generator_loss(
                self.loss, module.discriminator(module.generator(codes(), condition), condition)
            )
            updaters["generator"].step(g_loss)
            module.g_steps += 1
            if model.ema_decay is not None:
                module.update_ema(model.ema_decay)
        return d_loss.detach(), metrics


@hyperparameters
class GAN(DeepLatentModel):
    """Generative adversarial network (Goodfellow et al. 2014) with stable defaults.

    Defaults: hinge loss, a spectrally normalised discriminator, Adam(2e-4, betas (0.5,
    0.999)) for both players, batch 64 and an EMA of the generator with decay 0.999; for
    images DCGAN-style conv networks with 32 channels at full resolution, doubling per
    level, also for flat rows that are square images (``image_shape="auto"``).
    BENCHMARKS.md compares these defaults with the default :class:`~latentmodels.VAE` and
    with the PyTorch DCGAN example on MNIST.

    Parameters
    ----------
    latent_dim : int
        Size of the N(0, I) latent code.
    architecture : {"auto", "mlp", "conv"}
        "conv": DCGAN-style networks for square images (n, H, W) or (n, C, H, W) whose
        side halves to 3..7 pixels (28, 32, 64, ...); "mlp": fully connected, for any
        data (flattened); "auto": conv when the data are such images (as ``image_shape``
        sees them), else mlp.
    image_shape : "auto", tuple of int or None
        How flat rows ``(n, d)`` are seen by the conv networks. "auto": rows whose length
        is a perfect square ``s * s`` and whose values are bounded (``data_range`` not
        None: pixels) are 1-channel ``s x s`` images, so 784-long MNIST rows train the
        same conv GAN as ``(n, 28, 28)`` images; samples keep the rows' shape. A shape
        ``(H, W)`` or ``(C, H, W)`` reads every row as such an image; None never reshapes
        (rows go to the MLP). Image-shaped data are always used as they are.
    hidden_dims : tuple of int or None
        MLP hidden widths, or conv channels per resolution level, highest resolution
        first (as many as the image has levels: 2 for 28x28, 4 for 64x64). None picks
        (256, 256) for the MLP and 32, 64, ... channels for conv.
    loss : {"hinge", "ns", "wgan-gp"}
        Hinge loss, the non-saturating loss, or Wasserstein loss with gradient penalty.
    spectral_norm : bool or None
        Spectrally normalise the discriminator. None: yes, except for "wgan-gp".
    n_critic : int or None
        Discriminator updates per generator update. None: 1, or 5 for "wgan-gp".
    gp_weight : float
        Weight of the gradient penalty ("wgan-gp" only).
    ema_decay : float or None
        Decay of the generator's weight average; None keeps no average.
    use_ema : bool
        Generate with the averaged weights (when kept); methods can override it.
    data_range : (float, float) or None
        Range of the data: the generator's output is squashed into it, and ``fit``
        rejects data outside it. None: unbounded real data (e.g. points in the plane).
    lr_g, lr_d : float
        Adam learning rates of the generator and the discriminator.
    betas : (float, float) or None
        Adam betas of both. None: (0.5, 0.999), or (0.0, 0.9) for "wgan-gp".
    epochs, batch_size : int
        Passes over the data (one discriminator update per batch) and batch size.
    max_time : float or None
        Stop training once this many seconds have passed (checked after every batch), even
        if fewer than ``epochs`` passes were made: a compute budget.
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
        Generator, discriminator, the generator's EMA copy and the step counters.
    image_shape_ : tuple of int or None
        The image shape the conv networks see each sample as; None for the MLP.
    hidden_dims_ : tuple of int
        The widths or channels the networks were built with (``hidden_dims`` resolved).
    progress_samples_ : ndarray
        Generated samples of 8 fixed codes, recorded about 8 times during training and at
        the end: shape ``(n_snapshots, 8, *sample_shape)``.
    progress_epochs_ : ndarray of int
        The epoch before which each snapshot was taken (the last: epochs run).
    input_shape_, history_, n_epochs_, stopped_early_, seed_
        As for :class:`latentmodels.VAE`.

    Examples
    --------
    >>> import numpy as np
    >>> from latentmodels import GAN
    >>> X = np.random.default_rng(0).normal(size=(256, 2)).astype("float32")
    >>> gan = GAN(latent_dim=2, data_range=None, hidden_dims=(32, 32), epochs=2,
    ...           verbose=0, random_state=0).fit(X)
    >>> gan.sample(5, random_state=0).shape
    (5, 2)
    >>> gan.score_samples(X[:3]).shape
    (3,)
    """

    _tuple_params = ("hidden_dims", "betas", "data_range", "image_shape")
    # A GAN's losses say nothing about held-out fit, so there is no validation split.
    validation_fraction = 0.0

    latent_dim: int = 64
    architecture: str = "auto"
    image_shape: str | tuple[int, ...] | None = "auto"
    hidden_dims: tuple[int, ...] | None = None
    loss: str = "hinge"
    spectral_norm: bool | None = None
    n_critic: int | None = None
    gp_weight: float = 10.0
    ema_decay: float | None = 0.999
    use_ema: bool = True
    data_range: tuple[float, float] | None = (0.0, 1.0)
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple[float, float] | None = None
    epochs: int = 30
    batch_size: int = 64
    max_time: float | None = None
    random_state: int | None = None
    device: str = "auto"
    checkpoint_dir: str | None = None
    checkpoint_every: int = 1
    verbose: int = 1
    n_jobs: int | None = None

    _parameter_constraints = {
        **COMMON_CONSTRAINTS,
        "architecture": [StrOptions(set(ARCHITECTURES))],
        "image_shape": [StrOptions({"auto"}), _SequenceConstraint("an image shape"), None],
        "loss": [StrOptions(set(LOSSES))],
        "spectral_norm": ["boolean", None],
        "n_critic": [positive_int(), None],
        "gp_weight": [non_negative()],
        "ema_decay": [Interval(numbers.Real, 0, 1, closed="left"), None],
        "use_ema": ["boolean"],
        "data_range": [_PairConstraint(), None],
        "lr_g": [positive()],
        "lr_d": [positive()],
        "betas": [_PairConstraint(), None],
        "max_time": [positive(), None],
    }

    # -- settings -----------------------------------------------------------------------
    def _setting(self, name: str) -> Any:
        """A loss-dependent setting: the given value, or the loss's default for None."""
        value = getattr(self, name)
        return _LOSS_DEFAULTS[self.loss][name] if value is None else value

    def _image_shape_for(self, shape: Sequence[int]) -> tuple[int, ...] | None:
        """The image shape the conv networks would see samples of ``shape`` as, or None.

        Images ``(H, W)`` / ``(C, H, W)`` are themselves; flat rows become ``image_shape``
        when it is a shape, or with "auto" a square ``(s, s)`` when their length is a
        perfect square and the data are bounded (pixel values in ``data_range``).
        """
        shape = tuple(int(s) for s in shape)
        size = math.prod(shape)
        if self.image_shape is not None and not isinstance(self.image_shape, str):
            image = tuple(int(s) for s in self.image_shape)
            if len(image) not in (2, 3) or math.prod(image) != size:
                raise ValueError(
                    f"image_shape must be (H, W) or (C, H, W) holding the {size} values of "
                    f"a sample of shape {shape}, got {tuple(self.image_shape)}"
                )
            return image
        if len(shape) in (2, 3):
            return shape
        side = math.isqrt(size)
        if (self.image_shape == "auto" and len(shape) == 1 and side * side == size
                and self.data_range is not None):
            return (side, side)
        return None

    def _network_plan(self, shape: Sequence[int]) -> tuple[tuple[int, ...] | None,
                                                          tuple[int, ...]]:
        """``(image_shape, hidden_dims)`` of the networks for samples of ``shape``: the
        image shape of the conv networks (None: MLP) and the resolved widths."""
        image = self._image_shape_for(shape)
        if self.architecture == "mlp":
            image = None
        elif self.architecture == "conv":
            conv_geometry(shape if image is None else image)  # raises, naming X
            image = tuple(int(s) for s in shape) if image is None else image
        elif image is not None:
            try:
                conv_geometry(image)
            except ValueError:
                image = None
        if self.hidden_dims is not None:
            return image, tuple(int(h) for h in self.hidden_dims)
        if image is None:
            return None, default_hidden("mlp", shape)
        return image, default_hidden("conv", image)

    def _check_parameter_combinations(self) -> None:
        super()._check_parameter_combinations()
        if self.data_range is not None:
            low, high = self.data_range
            check_number(low, "data_range")
            check_number(high, "data_range")
            if not low < high:
                raise ValueError(f"data_range must be (low, high) with low < high, got {low, high}")
        if self.betas is not None:
            for beta in self.betas:
                check_number(beta, "betas", low=0, high=1, high_inclusive=False)

    def _check_fit_data(self, X: np.ndarray) -> None:
        self._network_plan(X.shape[1:])
        if self.data_range is not None:
            low, high = self.data_range
            if X.min() < low or X.max() > high:
                raise ValueError(
                    f"X: values must lie in data_range={tuple(self.data_range)}, got "
                    f"[{X.min():.3g}, {X.max():.3g}]. Scale X (e.g. images / 255) or set "
                    "data_range to the data's range (None for unbounded data)"
                )

    def _training_config(self, seed: int, n_samples: int) -> training.TrainingConfig:
        params = self.get_params(deep=False)
        signature = {k: v for k, v in params.items() if k not in _RESUMABLE_CHANGES}
        signature.update(
            random_state=seed, n_samples=n_samples, input_shape=list(self.input_shape_)
        )
        return training.TrainingConfig(
            epochs=self.epochs,
            batch_size=self.batch_size,
            learning_rate=self.lr_g,
            validation_fraction=0.0,
            patience=None,
            seed=seed,
            device=self.device,
            checkpoint_dir=None if self.checkpoint_dir is None else str(self.checkpoint_dir),
            checkpoint_every=self.checkpoint_every,
            verbose=int(self.verbose),
            n_jobs=self.n_jobs,
            max_time=self.max_time,
            signature=signature,
        )

    # -- hooks --------------------------------------------------------------------------
    _condition_dim = 0
    # ``transform`` inverts the generator by optimisation: reports skip the sections that
    # encode many held-out samples.
    transform_is_approximate = True

    def _progress_codes(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The fixed codes (and conditions) whose samples are recorded during training."""
        noise = torch.Generator().manual_seed(_PROGRESS_SEED)
        codes = torch.randn((_PROGRESS_SAMPLES, self.latent_dim), generator=noise)
        return codes, None

    def _training_callbacks(self, train: Any) -> list[training.TrainingCallback]:
        return [_ProgressSnapshots(self)]

    def _extra_state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        tensors = {
            "progress_samples": torch.from_numpy(np.ascontiguousarray(self.progress_samples_))
        }
        network = {"image_shape": None if self.image_shape_ is None else list(self.image_shape_),
                   "hidden_dims": list(self.hidden_dims_)}
        return tensors, {"progress_epochs": self.progress_epochs_.tolist(), "network": network}

    def _set_extra_state(self, tensors: Mapping[str, torch.Tensor], attributes: dict) -> None:
        samples = _file.extra_array(self, tensors, "progress_samples",
                                    (None, None, *self.input_shape_))
        epochs = attributes.get("progress_epochs")
        if not isinstance(epochs, list) or len(epochs) != len(samples) or not all(
            isinstance(e, int) and not isinstance(e, bool) and 0 <= e <= self.n_epochs_
            for e in epochs
        ):
            raise _file.fail(self, "progress_epochs", f"must list the epoch (0 to "
                                                      f"{self.n_epochs_}) of each of the "
                                                      f"{len(samples)} snapshots")
        self.progress_samples_ = samples
        self.progress_epochs_ = np.asarray(epochs, dtype=np.int64)
        self._file_plan = self._recorded_plan(attributes.get("network"))

    def _recorded_plan(self, network: Any) -> tuple[tuple[int, ...] | None, tuple[int, ...]]:
        """The networks a file records (checked), or, for a file from before they were
        recorded, the networks its settings built then: no reshaping of flat rows and
        64 channels on the first conv level."""
        if network is None:
            self.image_shape = None
            shape = self.input_shape_
            image, hidden = self._network_plan(shape)
            if self.hidden_dims is None and image is not None:
                hidden = default_hidden("conv", image, first_channels=_OLD_FIRST_CHANNELS)
            return image, hidden

        def ints(value: Any, low: int, high: int) -> bool:
            return isinstance(value, list) and low <= len(value) <= high and all(
                isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value)

        if not isinstance(network, dict) or set(network) != {"image_shape", "hidden_dims"}:
            raise _file.fail(self, "network", "must be an object with image_shape and "
                                              "hidden_dims")
        image = network["image_shape"]
        if image is not None and not (ints(image, 2, 3)
                                      and math.prod(image) == math.prod(self.input_shape_)):
            raise _file.fail(self, "network.image_shape", f"must be null or 2 to 3 positive "
                                                          f"integers holding the "
                                                          f"{math.prod(self.input_shape_)} "
                                                          f"values of a sample, got {image!r}")
        if not ints(network["hidden_dims"], 1, 64):
            raise _file.fail(self, "network.hidden_dims", "must list 1 to 64 positive integers")
        return (None if image is None else tuple(image)), tuple(network["hidden_dims"])

    def _set_input_shape(self, shape: Sequence[int]) -> None:
        super()._set_input_shape(shape)
        # A file's networks replace the planned ones (_set_extra_state) after this.
        self._file_plan: tuple[tuple[int, ...] | None, tuple[int, ...]] | None = None

    def _build_module(self) -> nn.Module:
        shape = self.input_shape_
        plan = getattr(self, "_file_plan", None)
        self.image_shape_, self.hidden_dims_ = plan or self._network_plan(shape)
        architecture = "mlp" if self.image_shape_ is None else "conv"
        generator = Generator(
            architecture,
            self.latent_dim,
            self.hidden_dims_,
            shape,
            self._condition_dim,
            None if self.data_range is None else tuple(self.data_range),
            image_shape=self.image_shape_,
        )
        discriminator = Discriminator(
            architecture, shape, self.hidden_dims_, self._condition_dim,
            self._setting("spectral_norm"), image_shape=self.image_shape_,
        )
        return _GANNetwork(generator, discriminator, ema=self.ema_decay is not None)

    def _condition(self, batch: list[torch.Tensor]) -> torch.Tensor | None:
        return None

    @property
    def _loss(self) -> training.StepFunction:  # type: ignore[override]
        # The trainer takes a loss function or a StepFunction; two players with their own
        # optimisers and alternating updates need the latter.
        return _GANStep(self)

    # -- contract -----------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None, *, resume: bool = False) -> GAN:
        """Train on ``X`` (array, tensor or DataLoader); ``resume=True`` continues from
        the last checkpoint in ``checkpoint_dir``. ``y`` is ignored."""
        return self._fit(X, None, resume=resume)

    def _network(self, use_ema: bool | None) -> nn.Module:
        """The generator to generate with: the EMA copy unless told otherwise."""
        check_is_fitted(self)
        if use_ema is not None and not isinstance(use_ema, bool):
            raise TypeError(f"use_ema must be True, False or None, got {use_ema!r}")
        wanted = self.use_ema if use_ema is None else use_ema
        net = self.module_
        return net.ema if wanted and net.ema is not None else net.generator

    def _generate(self, Z: np.ndarray, C: np.ndarray | None, use_ema: bool | None) -> np.ndarray:
        generator = self._network(use_ema)
        if C is None:
            return self._map_batches(generator, Z)
        return self._map_batches(generator, Z, C)

    def _invert(
        self,
        X: np.ndarray,
        C: np.ndarray | None,
        n_steps: int,
        learning_rate: float,
        seed: int,
        use_ema: bool | None,
    ) -> np.ndarray:
        check_positive_int(n_steps, "n_steps", minimum=0)
        check_number(learning_rate, "learning_rate", low=0, low_inclusive=False)
        generator = self._network(use_ema)
        self.module_.eval()
        device = self._device
        starts = torch.Generator().manual_seed(seed)
        noise = torch.randn((_INVERSION_STARTS, 1, self.latent_dim), generator=starts).to(device)
        codes = []
        size = max(self.batch_size, 256)
        for start in range(0, len(X), size):
            x = torch.as_tensor(X[start : start + size]).to(device)
            c = None if C is None else torch.as_tensor(C[start : start + size]).to(device)
            z = self._best_start(generator, x, c, noise)
            z.requires_grad_(True)
            # Samples are independent and Adam scales each coordinate on its own, so one
            # batched optimisation equals one optimisation per sample.
            optimizer = torch.optim.Adam([z], lr=learning_rate)
            with torch.enable_grad():
                for _ in range(n_steps):
                    error = (generator(z, c) - x).pow(2).flatten(1).mean(1)
                    prior = _INVERSION_PRIOR * z.pow(2).mean(1)
                    optimizer.zero_grad(set_to_none=True)
                    (error + prior).sum().backward(inputs=[z])
                    optimizer.step()
            codes.append(z.detach().cpu().numpy())
        return np.concatenate(codes, axis=0)

    def _best_start(self, generator: nn.Module, x: torch.Tensor, c: torch.Tensor | None,
                    noise: torch.Tensor) -> torch.Tensor:
        """For each sample, the best of ``_INVERSION_STARTS`` prior draws: gradient steps
        rarely cross from one mode of the generator to another, so the start decides which
        mode the code ends in."""
        n, device = len(x), x.device
        # The same starts for every sample (drawn once per call, see _invert): a sample's
        # code does not depend on its position in X or on the other samples.
        candidates = noise.expand(_INVERSION_STARTS, n, self.latent_dim)
        with torch.no_grad():
            errors = torch.stack([(generator(z, c) - x).pow(2).flatten(1).mean(1)
                                  for z in candidates])
        best = errors.argmin(0)
        return candidates[best, torch.arange(n, device=device)].clone()

    def transform(
        self,
        X: Any,
        *,
        n_steps: int = 300,
        learning_rate: float = 0.05,
        random_state: int = 0,
        use_ema: bool | None = None,
    ) -> np.ndarray:
        """Latent codes whose generated samples best match ``X`` (approximate).

        A GAN has no encoder, so each code is found by ``n_steps`` Adam steps on the mean
        squared error between ``G(z)`` and ``x``, with a weak prior term, starting from the
        best of 16 seeded N(0, I) draws (the same 16 for every sample). It finds a good
        local optimum, not necessarily the best code, and costs about ``n_steps``
        generator passes per sample.
        """
        return self._invert(
            self._check_X(X), None, n_steps, learning_rate, _seed(random_state), use_ema
        )

    def inverse_transform(self, Z: Any, *, use_ema: bool | None = None) -> np.ndarray:
        """Generator outputs for latent codes ``Z``, shaped like the training samples."""
        return self._generate(self._check_Z(Z), None, use_ema)

    def sample(
        self, n_samples: int = 1, *, random_state: Any = None, use_ema: bool | None = None
    ) -> np.ndarray:
        """Generate ``n_samples`` samples from N(0, I) codes (deterministic for a seed)."""
        check_is_fitted(self)
        self._check_n_samples(n_samples)
        rng = np.random.default_rng(_seed(random_state))
        Z = rng.standard_normal((n_samples, self.latent_dim)).astype(np.float32)
        return self.inverse_transform(Z, use_ema=use_ema)

    def score_samples(self, X: Any) -> np.ndarray:
        """Discriminator score per sample: higher looks more real. Not a log-likelihood,
        and only comparable within one fitted model."""
        check_is_fitted(self)
        return self._map_batches(self.module_.discriminator, self._check_X(X))

    def interpolate(
        self,
        start: Any,
        end: Any,
        steps: int = 10,
        *,
        method: str = "linear",
        space: str = "data",
        use_ema: bool | None = None,
    ) -> np.ndarray:
        """Generate ``steps`` samples along the latent path between two end points.

        ``space="data"``: ``start`` and ``end`` are samples, inverted with
        :meth:`transform`; ``space="latent"``: they are latent codes. ``method`` is
        ``"linear"`` or ``"slerp"`` (``"spherical"``), which keeps Gaussian codes at a
        typical norm along the way.
        """
        codes = self._path_ends(start, end, space, None, use_ema)
        return self.inverse_transform(self._path(codes, steps, method), use_ema=use_ema)

    def _path_ends(
        self, start: Any, end: Any, space: str, y: Any, use_ema: bool | None
    ) -> np.ndarray:
        check_is_fitted(self)
        check_choice(space, "space", ("data", "latent"))
        pair = np.stack(
            [check_data(start, "start", min_ndim=1), check_data(end, "end", min_ndim=1)]
        )
        if space == "latent":
            return self._check_Z(pair.reshape(2, -1), "start and end")
        if y is None:
            return self.transform(pair, use_ema=use_ema)
        return self.transform(pair, y, use_ema=use_ema)

    @staticmethod
    def _path(codes: np.ndarray, steps: int, method: str) -> np.ndarray:
        check_choice(method, "method", INTERPOLATION_METHODS)
        kind = "linear" if method == "linear" else "spherical"
        return latent_path(codes[0], codes[1], steps, kind).astype(np.float32)


class ConditionalGAN(ClassConditional, GAN):
    """A GAN whose generator and discriminator also see the class label.

    The generator reads a one-hot label next to its code; the discriminator reads it by
    projection. ``fit(X, y)`` needs labels; ``sample(n, y=label)`` generates that class,
    and ``inverse_transform``, ``transform``, ``score_samples`` and ``interpolate`` take
    ``y`` too.

    Parameters
    ----------
    latent_dim, architecture, image_shape, hidden_dims, loss, spectral_norm, n_critic, \
gp_weight, ema_decay, use_ema, data_range, lr_g, lr_d, betas, epochs, batch_size, max_time, \
random_state, device, checkpoint_dir, checkpoint_every, verbose
        As for :class:`GAN`.

    Attributes
    ----------
    classes_ : ndarray
        The sorted class labels seen in ``fit``.
    module_, image_shape_, hidden_dims_, progress_samples_, progress_epochs_, input_shape_, \
history_, n_epochs_, stopped_early_, seed_
        As for :class:`GAN` (the progress snapshots cycle through the classes).

    Examples
    --------
    >>> import numpy as np
    >>> from latentmodels import ConditionalGAN
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 256)
    >>> X = (rng.normal(size=(256, 2)) + 4 * y[:, None]).astype("float32")
    >>> cgan = ConditionalGAN(latent_dim=2, data_range=None, hidden_dims=(32, 32),
    ...                       epochs=2, verbose=0, random_state=0).fit(X, y)
    >>> cgan.sample(3, y=1, random_state=0).shape
    (3, 2)
    """

    def fit(self, X: Any, y: Any = None, *, resume: bool = False) -> ConditionalGAN:
        """Train on ``X`` with class labels ``y`` (required)."""
        return self._fit(X, self._encode_fit_labels(X, y), resume=resume)

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> np.ndarray:
        """Fit on ``(X, y)``, then return ``transform(X)`` without the labels, the codes
        :meth:`transform` gives new data in a pipeline (``transform(X, y)`` uses them)."""
        return self.fit(X, y, **fit_params).transform(X)

    def transform(  # type: ignore[override]
        self,
        X: Any,
        y: Any = None,
        *,
        n_steps: int = 300,
        learning_rate: float = 0.05,
        random_state: int = 0,
        use_ema: bool | None = None,
    ) -> np.ndarray:
        """Latent codes whose samples of class ``y`` best match ``X`` (approximate).

        Without ``y``, each sample is inverted under every class and keeps the code of
        the class whose generated sample matches it best (costs one inversion per class).
        """
        X = self._check_X(X)
        seed = _seed(random_state)
        if y is not None:
            C = self._one_hot(y, len(X))
            return self._invert(X, C, n_steps, learning_rate, seed, use_ema)
        best_codes = best_errors = None
        for C in self._class_conditions(len(X)):
            codes = self._invert(X, C, n_steps, learning_rate, seed, use_ema)
            generated = self._generate(codes, C, use_ema).reshape(len(X), -1)
            errors = ((generated - X.reshape(len(X), -1)) ** 2).mean(1)
            if best_codes is None:
                best_codes, best_errors = codes, errors
            else:
                better = errors < best_errors
                best_codes[better], best_errors[better] = codes[better], errors[better]
        return best_codes

    def inverse_transform(  # type: ignore[override]
        self, Z: Any, y: Any = None, *, use_ema: bool | None = None
    ) -> np.ndarray:
        """Generator outputs for codes ``Z`` of classes ``y`` (a label or one per row)."""
        Z = self._check_Z(Z)
        return self._generate(Z, self._one_hot(y, len(Z)), use_ema)

    def sample(  # type: ignore[override]
        self,
        n_samples: int = 1,
        *,
        y: Any = None,
        random_state: Any = None,
        use_ema: bool | None = None,
    ) -> np.ndarray:
        """Generate ``n_samples`` samples of class ``y`` (a label, or one per sample);
        with ``y=None`` the classes cycle through ``classes_`` in order."""
        check_is_fitted(self)
        self._check_n_samples(n_samples)
        if y is None:
            y = self._cycled_labels(n_samples)
        rng = np.random.default_rng(_seed(random_state))
        Z = rng.standard_normal((n_samples, self.latent_dim)).astype(np.float32)
        return self.inverse_transform(Z, y, use_ema=use_ema)

    def score_samples(self, X: Any, y: Any = None) -> np.ndarray:  # type: ignore[override]
        """Discriminator score of each sample as a member of its class ``y``; without
        ``y``, its best score over the classes."""
        check_is_fitted(self)
        X = self._check_X(X)
        if y is None:
            return np.max([self._map_batches(self.module_.discriminator, X, C)
                           for C in self._class_conditions(len(X))], axis=0)
        return self._map_batches(self.module_.discriminator, X, self._one_hot(y, len(X)))

    def score(self, X: Any, y: Any = None) -> float:
        return float(np.mean(self.score_samples(X, y)))

    def interpolate(  # type: ignore[override]
        self,
        start: Any,
        end: Any,
        steps: int = 10,
        *,
        y: Any = None,
        method: str = "linear",
        space: str = "data",
        use_ema: bool | None = None,
    ) -> np.ndarray:
        """Samples of class ``y`` (one label) along the latent path between two ends."""
        if y is None or np.ndim(y) != 0:
            raise ValueError(f"y: interpolation needs one class label, got {y!r}")
        codes = self._path_ends(start, end, space, [y, y], use_ema)
        return self.inverse_transform(self._path(codes, steps, method), y, use_ema=use_ema)

    def _progress_codes(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        codes, _ = super()._progress_codes()
        classes = torch.arange(len(codes)) % len(self.classes_)
        return codes, F.one_hot(classes, len(self.classes_)).to(codes.dtype)



class _ProgressSnapshots(training.TrainingCallback):
    """Records the generator's samples of fixed codes every few epochs and at the end.

    A snapshot is taken before epoch 0, 1 + k, ... (about ``_PROGRESS_SNAPSHOTS`` in all)
    with the weights the model generates with (the EMA copy by default), and once more when
    training ends; they become the model's ``progress_samples_`` and
    ``progress_epochs_``. The snapshots so far are checkpointed, so a resumed run ends
    with the same ones as a straight run.
    """

    def __init__(self, model: GAN) -> None:
        self.model = model
        self.snapshots: list[tuple[int, np.ndarray]] = []

    def _record(self, epoch: int, module: nn.Module) -> None:
        codes, condition = self.model._progress_codes()
        net = module.ema if module.ema is not None and self.model.use_ema else module.generator
        device = next(module.parameters()).device
        with torch.no_grad():
            images = net(codes.to(device), None if condition is None else condition.to(device))
        self.snapshots.append((epoch, images.cpu().numpy()))

    def on_epoch_begin(self, epoch: int, module: nn.Module) -> None:
        if epoch % max(1, math.ceil(self.model.epochs / _PROGRESS_SNAPSHOTS)) == 0:
            self._record(epoch, module)

    def on_train_end(self, module: nn.Module, result: training.TrainingResult) -> None:
        self._record(len(result.history), module)
        self.model.progress_epochs_ = np.asarray([e for e, _ in self.snapshots], dtype=np.int64)
        self.model.progress_samples_ = np.stack([images for _, images in self.snapshots])

    def state_dict(self) -> dict[str, Any]:
        if not self.snapshots:
            return {"epochs": []}
        return {
            "epochs": [e for e, _ in self.snapshots],
            "samples": torch.from_numpy(np.stack([images for _, images in self.snapshots])),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        epochs = list(state.get("epochs", []))
        samples = state["samples"].numpy() if epochs else []
        self.snapshots = [(int(e), np.array(samples[i])) for i, e in enumerate(epochs)]
