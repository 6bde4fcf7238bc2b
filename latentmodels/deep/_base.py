"""Shared machinery of the deep models: hyper-parameter declarations and checks, data
intake, the trainer, batched inference, state.

A deep model subclasses :class:`DeepLatentModel`, declares its hyper-parameters with
:func:`hyperparameters` (annotated class attributes, checked against the
scikit-learn constraints in ``_parameter_constraints``) and fills in three hooks:
``_build_module`` (the network), ``_loss`` (the training objective for one batch) and the
contract's inference methods, which use ``_map_batches`` to run the network batch by batch.
Per-epoch behaviour plugs into the trainer through ``_training_callbacks``.

:func:`parameter_choices` and :func:`parameter_default` read a model's declarations, so
that a command line or a form offers exactly what the model accepts.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import numbers
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    Options,
    StrOptions,
)
from sklearn.utils.validation import check_is_fitted
from torch import nn
from torch.utils.data import DataLoader

from .._internal import io
from .._internal.params import validate_declared
from .._internal.validation import (
    check_affordable,
    check_data,
    check_random_state,
    check_size_sequence,
)
from ..base import LatentModel
from . import _file, training
from .nn.blocks import ARCHITECTURES

DEFAULT_HIDDEN = {"mlp": (512,), "conv": (32, 64)}

# Hyper-parameters that may change between a killed run and its resume.
_RESUMABLE_CHANGES = {"epochs", "verbose", "checkpoint_dir", "checkpoint_every", "device",
                      "n_jobs"}
# Hyper-parameters that stay positional in a generated ``__init__`` (``VAE(8)``).
_POSITIONAL = ("latent_dim",)

C = TypeVar("C", bound=type)


# -- declaring hyper-parameters ---------------------------------------------------------------
def hyperparameters(cls: C) -> C:
    """Class decorator: the annotated class attributes of ``cls`` become its hyper-parameters.

    It writes the explicit ``__init__`` scikit-learn expects (one keyword argument per
    hyper-parameter, ``latent_dim`` also positional, each stored unchanged, nothing else
    done), built by :mod:`dataclasses`. Declarations are inherited: a subclass decorated
    in turn lists only what it adds or re-defaults, so ``get_params``, ``set_params`` and
    ``clone`` see every hyper-parameter of the whole hierarchy. The class must declare a
    constraint for each hyper-parameter in ``_parameter_constraints`` (scikit-learn's
    format); a missing or stray entry is an error at class creation.

    Parameters
    ----------
    cls : type
        A :class:`DeepLatentModel` subclass whose body annotates its new hyper-parameters
        with their defaults (e.g. ``kl_floor: float = 0.5``).

    Returns
    -------
    cls : type
        The same class, with the generated ``__init__``.

    Examples
    --------
    >>> from numbers import Real
    >>> from sklearn.utils._param_validation import Interval
    >>> from latentmodels import VAE
    >>> from latentmodels.deep._base import hyperparameters
    >>> @hyperparameters
    ... class HeavierKL(VAE):
    ...     kl_scale: float = 2.0
    ...     _parameter_constraints = {
    ...         **VAE._parameter_constraints, "kl_scale": [Interval(Real, 0, None, closed="left")]}
    >>> HeavierKL(4, kl_scale=3.0).get_params()["kl_scale"]
    3.0
    """
    own = cls.__dict__.get("__annotations__", {})
    for name in own:
        value = cls.__dict__.get(name, dataclasses.MISSING)
        if name in _POSITIONAL and not isinstance(value, dataclasses.Field):
            setattr(cls, name, dataclasses.field(default=value, kw_only=False))
    cls = dataclasses.dataclass(init=True, repr=False, eq=False, kw_only=True)(cls)
    declared = set(getattr(cls, "_parameter_constraints", {}))
    params = {f.name for f in dataclasses.fields(cls)}
    if declared != params:
        raise TypeError(
            f"{cls.__name__}._parameter_constraints must cover exactly its hyper-parameters; "
            f"missing {sorted(params - declared)}, not hyper-parameters {sorted(declared - params)}"
        )
    return cls


# scikit-learn's make_constraint accepts only its own constraint classes; these structural
# checks extend HasMethods (duck typing), the one whose meaning they share.
class _SequenceConstraint(HasMethods):
    """A list, tuple or other sequence that is not a string (contents checked elsewhere)."""

    def __init__(self, what: str = "a sequence of ints") -> None:
        super().__init__(["__len__", "__getitem__"])
        self.what = what

    def is_satisfied_by(self, val: Any) -> bool:
        return isinstance(val, Sequence) and not isinstance(val, (str, bytes))

    def __str__(self) -> str:
        return self.what


class _PairConstraint(HasMethods):
    """A pair of real numbers ``(a, b)`` (their order and range are checked elsewhere)."""

    def __init__(self) -> None:
        super().__init__(["__len__", "__getitem__"])

    def is_satisfied_by(self, val: Any) -> bool:
        return (
            isinstance(val, Sequence)
            and not isinstance(val, (str, bytes))
            and len(val) == 2
            and all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in val)
        )

    def __str__(self) -> str:
        return "a pair of numbers (a, b)"


def positive_int(low: int = 1) -> Interval:
    """Constraint for ``_parameter_constraints``: an integer >= ``low``.

    Parameters
    ----------
    low : int
        The smallest value allowed.

    Returns
    -------
    constraint : sklearn.utils._param_validation.Interval

    Examples
    --------
    >>> from latentmodels.deep._base import positive_int
    >>> positive_int(2).is_satisfied_by(2), positive_int(2).is_satisfied_by(1)
    (True, False)
    """
    return Interval(numbers.Integral, low, None, closed="left")


def non_negative() -> Interval:
    """Constraint for ``_parameter_constraints``: a real number >= 0.

    Returns
    -------
    constraint : sklearn.utils._param_validation.Interval

    Examples
    --------
    >>> from latentmodels.deep._base import non_negative
    >>> non_negative().is_satisfied_by(0.0), non_negative().is_satisfied_by(-1.0)
    (True, False)
    """
    return Interval(numbers.Real, 0, None, closed="left")


def positive() -> Interval:
    """Constraint for ``_parameter_constraints``: a real number > 0.

    Returns
    -------
    constraint : sklearn.utils._param_validation.Interval

    Examples
    --------
    >>> from latentmodels.deep._base import positive
    >>> positive().is_satisfied_by(1e-3), positive().is_satisfied_by(0.0)
    (True, False)
    """
    return Interval(numbers.Real, 0, None, closed="neither")


#: Constraints of the settings every deep model shares.
COMMON_CONSTRAINTS: dict[str, list[Any]] = {
    "latent_dim": [positive_int()],
    "hidden_dims": [_SequenceConstraint("a sequence of layer sizes"), None],
    "epochs": [positive_int()],
    "batch_size": [positive_int()],
    "random_state": [
        Interval(numbers.Integral, 0, None, closed="left"),
        np.random.RandomState,
        np.random.Generator,
        None,
    ],
    "device": [str, torch.device],
    "checkpoint_dir": [str, os.PathLike, None],
    "checkpoint_every": [positive_int()],
    "verbose": ["verbose"],
    "n_jobs": [Interval(numbers.Integral, 1, None, closed="left"), Options(numbers.Integral, {-1}),
               None],
}

#: Constraints of the settings of the models trained on one loss with one optimiser.
TRAINING_CONSTRAINTS: dict[str, list[Any]] = {
    **COMMON_CONSTRAINTS,
    "architecture": [StrOptions(set(ARCHITECTURES))],
    "learning_rate": [positive()],
    "weight_decay": [non_negative()],
    "optimizer": [StrOptions(set(training.OPTIMIZERS))],
    "lr_schedule": [StrOptions(set(training.LR_SCHEDULES))],
    "grad_clip": [positive(), None],
    "validation_fraction": [Interval(numbers.Real, 0, 1, closed="left")],
    "patience": [positive_int(), None],
}






def parameter_choices(cls: type, name: str) -> tuple[str, ...]:
    """The string values a model class accepts for hyper-parameter ``name``, sorted.

    Read from the ``StrOptions`` in the class's ``_parameter_constraints``, so a command
    line offers exactly the choices the model validates against.

    Parameters
    ----------
    cls : type
        A deep model class (or instance), e.g. :class:`latentmodels.VAE`.
    name : str
        A hyper-parameter with a fixed set of string values.

    Returns
    -------
    choices : tuple of str

    Examples
    --------
    >>> from latentmodels import VAE, GAN
    >>> from latentmodels.deep._base import parameter_choices
    >>> parameter_choices(VAE, "likelihood")
    ('bernoulli', 'gaussian')
    >>> parameter_choices(GAN, "loss")
    ('hinge', 'ns', 'wgan-gp')
    """
    constraints = getattr(cls, "_parameter_constraints", {})
    if name not in constraints:
        raise ValueError(f"name: {getattr(cls, '__name__', cls)!r} has no hyper-parameter {name!r}")
    options = [c for c in constraints[name] if isinstance(c, StrOptions)]
    if not options:
        raise ValueError(f"name: {name!r} is not a choice among strings")
    return tuple(sorted(set().union(*(c.options for c in options))))


def parameter_default(cls: type, name: str) -> Any:
    """The default value of hyper-parameter ``name`` in ``cls.__init__``.

    Parameters
    ----------
    cls : type
        A model class (or instance), e.g. :class:`latentmodels.VAE`.
    name : str
        One of its hyper-parameters.

    Returns
    -------
    default : object

    Examples
    --------
    >>> from latentmodels import Autoencoder, VAE
    >>> from latentmodels.deep._base import parameter_default
    >>> parameter_default(VAE, "learning_rate"), parameter_default(Autoencoder, "learning_rate")
    (0.002, 0.001)
    """
    target = cls if isinstance(cls, type) else type(cls)
    parameters = inspect.signature(target.__init__).parameters
    if name not in parameters or name == "self":
        raise ValueError(f"name: {target.__name__} has no hyper-parameter {name!r}")
    return parameters[name].default


@dataclasses.dataclass
class _PickledWeights:
    """A fitted network's ``state_dict`` inside a pickled model (see ``__getstate__``)."""

    tensors: dict[str, torch.Tensor]


class DeepLatentModel(LatentModel):
    """Base of the torch models: fitting through the shared trainer, checks, state.

    Subclasses declare their hyper-parameters with :func:`hyperparameters` and their
    constraints in ``_parameter_constraints``; see :class:`latentmodels.VAE` for the
    parameters most of them share.

    Examples
    --------
    >>> from latentmodels import VAE
    >>> from latentmodels.deep._base import DeepLatentModel
    >>> issubclass(VAE, DeepLatentModel)
    True
    """

    _tuple_params = ("hidden_dims",)
    _parameter_constraints: dict = {}

    # -- hooks --------------------------------------------------------------------------
    def _build_module(self) -> nn.Module:
        raise NotImplementedError

    def _loss(
        self,
        module: nn.Module,
        batch: list[torch.Tensor],
        *,
        epoch: int,
        generator: torch.Generator,
        training: bool,
    ) -> training.LossOutput:
        raise NotImplementedError

    def _check_fit_data(self, X: np.ndarray) -> None:
        """Model-specific checks on the training data (e.g. range for Bernoulli)."""

    def _extra_state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        return {}, {}

    def _set_extra_state(self, tensors: dict[str, torch.Tensor], attributes: dict) -> None:
        """Restore what :meth:`_extra_state` saved."""

    def _training_callbacks(self, train: Any) -> list[training.TrainingCallback]:
        """Callbacks for this fit's trainer; ``train`` is the training batches."""
        return []

    def _after_fit(self, X: torch.Tensor | None, y: torch.Tensor | None) -> None:
        """Called once training ends, with the full training data when it is in memory."""

    # -- parameters ---------------------------------------------------------------------
    @property
    def _hidden(self) -> tuple[int, ...]:
        if self.hidden_dims is None:
            return DEFAULT_HIDDEN[self.architecture]
        return tuple(int(h) for h in self.hidden_dims)

    def _check_hyperparameters(self) -> None:
        """All checks on the hyper-parameters, run at the start of ``fit``: the declared
        ``_parameter_constraints`` (:func:`~latentmodels._internal.params.validate_declared`),
        then :meth:`_check_parameter_combinations` for what one constraint cannot say."""
        validate_declared(self)
        self._check_parameter_combinations()

    def _check_parameter_combinations(self) -> None:
        """Checks beyond single-parameter constraints: contents of sequences, the device."""
        if self.hidden_dims is not None:
            check_size_sequence(self.hidden_dims, "hidden_dims")
        training.resolve_device(self.device)
        # Each latent unit costs weights to and from the widest layer (encoder heads, decoder
        # input), each held four times (value, gradient, two optimiser moments), plus a
        # batch of activations: refuse a latent_dim that cannot fit before torch allocates.
        batch = self.batch_size if isinstance(self.batch_size, int) else 256
        if self.hidden_dims is not None:
            widest = max((int(h) for h in self.hidden_dims), default=1)
        else:  # the defaults of every architecture (a GAN's "auto" picks one at fit)
            widest = max(max(dims, default=1) for dims in DEFAULT_HIDDEN.values())
        per_unit = 4 * 4 * (3 * widest + batch)
        check_affordable(self.latent_dim, per_unit, "latent_dim")

    def _training_config(self, seed: int, n_samples: int) -> training.TrainingConfig:
        params = self.get_params(deep=False)
        signature = {k: v for k, v in params.items() if k not in _RESUMABLE_CHANGES}
        signature["random_state"] = seed
        signature["n_samples"] = n_samples
        signature["input_shape"] = list(self.input_shape_)
        return training.TrainingConfig(
            epochs=self.epochs,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            weight_decay=self.weight_decay,
            optimizer=self.optimizer,
            lr_schedule=self.lr_schedule,
            grad_clip=self.grad_clip,
            validation_fraction=self.validation_fraction,
            patience=self.patience,
            seed=seed,
            device=self.device,
            checkpoint_dir=None if self.checkpoint_dir is None else str(self.checkpoint_dir),
            checkpoint_every=self.checkpoint_every,
            verbose=int(self.verbose),
            n_jobs=self.n_jobs,
            signature=signature,
        )

    # -- fitting ------------------------------------------------------------------------
    def _seed_for_fit(self, resume: bool) -> int:
        if self.random_state is None and resume and self.checkpoint_dir is not None:
            path = Path(self.checkpoint_dir) / training.CHECKPOINT_NAME
            if path.exists():
                document, _ = io.read_tensor_file(path)
                return int(document["signature"]["random_state"])
        return check_random_state(self.random_state)

    def _fit(self, X: Any, y: Any = None, *, resume: bool = False) -> DeepLatentModel:
        try:
            return self._fit_unguarded(X, y, resume=resume)
        except BaseException:
            # A failed fit must not leave a half-fitted model that passes check_is_fitted.
            for name in [k for k in vars(self) if k.endswith("_") and not k.startswith("_")]:
                delattr(self, name)
            raise

    def _fit_unguarded(self, X: Any, y: Any, *, resume: bool) -> DeepLatentModel:
        self._check_hyperparameters()
        seed = self._seed_for_fit(resume)
        device = training.resolve_device(self.device)
        if isinstance(X, DataLoader):
            try:
                first = next(iter(X))
            except StopIteration:
                raise ValueError("X: the DataLoader yields no batches (is its dataset "
                                 "empty?)") from None
            if not isinstance(first, (torch.Tensor, list, tuple)) or len(first) == 0:
                raise TypeError(f"X: the DataLoader must yield tensors or tuples of tensors, "
                                f"its first batch is a {type(first).__name__}")
            first_x = first if isinstance(first, torch.Tensor) else first[0]
            self._set_input_shape(check_data(first_x, "X (batch 0 of the DataLoader)").shape[1:])
            n_samples = len(X.dataset) if hasattr(X.dataset, "__len__") else -1
            train_batches: Any = training.LoaderBatches(X, device, check=self._check_batch)
            val_batches = None
            tensors = None
        else:
            array = check_data(X, "X")
            self._check_fit_data(array)
            self._set_input_shape(array.shape[1:])
            n_samples = len(array)
            tensors = [torch.from_numpy(np.ascontiguousarray(array))]
            if y is not None:
                tensors.append(torch.as_tensor(y))
            train_part, val_part = training.split_validation(
                tensors, self.validation_fraction, seed
            )
            train_part = [t.to(device) for t in train_part]
            train_batches = training.TensorBatches(train_part, self.batch_size)
            val_batches = None
            if val_part is not None:
                val_part = [t.to(device) for t in val_part]
                val_batches = training.TensorBatches(val_part, self.batch_size, shuffle=False)
        config = self._training_config(seed, n_samples)
        with training.seeded_init(seed):
            module = self._build_module()
        trainer = training.Trainer(config, callbacks=self._training_callbacks(train_batches))
        result = trainer.fit(module, self._loss, train_batches, val_batches, resume=resume)
        self.module_ = module
        self.history_ = result.history
        self.best_epoch_ = result.best_epoch
        self.n_epochs_ = len(result.history)
        self.stopped_early_ = result.stopped_early
        self.seed_ = seed
        if tensors is not None:
            self._after_fit(tensors[0], tensors[1] if len(tensors) > 1 else None)
        return self

    def _check_batch(self, x: Any, where: str) -> torch.Tensor:
        """One batch of a DataLoader given to ``fit``, checked as an array would be."""
        name = f"X ({where})"
        array = check_data(x, name)
        if array.shape[1:] != self.input_shape_:
            raise ValueError(f"{name} holds samples of shape {array.shape[1:]}, but the first "
                             f"batch's were {self.input_shape_}; all samples need one shape")
        try:
            self._check_fit_data(array)
        except ValueError as exc:
            raise ValueError(f"{exc} (in {where})") from None
        return torch.from_numpy(array)

    def _set_input_shape(self, shape: Sequence[int]) -> None:
        self.input_shape_ = tuple(int(s) for s in shape)
        self.n_features_in_ = int(math.prod(self.input_shape_))

    # -- inference ----------------------------------------------------------------------
    @property
    def _device(self) -> torch.device:
        return next(self.module_.parameters()).device

    def _check_n_samples(self, n_samples: Any) -> int:
        """``n_samples`` as a positive integer whose samples fit in memory (checked before
        anything is allocated: ``sample(10**12)`` is refused at once)."""
        shape = getattr(self, "input_shape_", ())  # a hand-assembled model may lack it
        per_sample = 4 * (int(np.prod(shape)) + int(self.latent_dim))
        return check_affordable(n_samples, per_sample, "n_samples")

    def _check_X(self, X: Any, name: str = "X") -> np.ndarray:
        """Validate data for an inference method against the fitted input shape."""
        check_is_fitted(self)
        array = check_data(X, name)
        if array.shape[1:] != self.input_shape_:
            if math.prod(array.shape[1:]) != self.n_features_in_:
                # scikit-learn's wording, which its estimator checks look for
                raise ValueError(
                    f"{name} has {math.prod(array.shape[1:])} features, but "
                    f"{type(self).__name__} is expecting {self.n_features_in_} features as "
                    f"input (samples of shape {self.input_shape_}; got {array.shape[1:]})"
                )
            array = array.reshape(len(array), *self.input_shape_)
        return array

    def _check_Z(self, Z: Any, name: str = "Z") -> np.ndarray:
        check_is_fitted(self)
        array = check_data(Z, name)
        if array.ndim != 2 or array.shape[1] != self.latent_dim:
            raise ValueError(
                f"{name} must have shape (n_samples, latent_dim={self.latent_dim}), "
                f"got {array.shape}"
            )
        return array

    def _map_batches(
        self, fn: Callable[..., torch.Tensor], *arrays: np.ndarray, batch_size: int | None = None
    ) -> np.ndarray:
        """Run ``fn`` on aligned batches of ``arrays`` without gradients; concatenate."""
        self.module_.eval()
        size = batch_size or max(self.batch_size, 256)
        outputs = []
        with torch.no_grad():
            for start in range(0, len(arrays[0]), size):
                batch = [torch.as_tensor(a[start : start + size]).to(self._device) for a in arrays]
                outputs.append(fn(*batch).cpu().numpy())
        return np.concatenate(outputs, axis=0)

    # -- scikit-learn ---------------------------------------------------------------------
    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        # The networks compute in float32: float32 in, float32 out (float64 is cast down).
        tags.transformer_tags.preserves_dtype = ["float32"]
        tags.non_deterministic = self.random_state is None
        return tags

    def __getstate__(self) -> dict[str, Any]:
        # pickle/copy.deepcopy (joblib, GridSearchCV): the network travels as its weights,
        # since some modules (spectral norm) cannot be pickled whole.
        state = dict(super().__getstate__())  # a copy: the model itself keeps its network
        module = state.get("module_")
        if isinstance(module, nn.Module):
            state["module_"] = _PickledWeights(module.state_dict())
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        weights = state.get("module_")
        super().__setstate__(state)
        if isinstance(weights, _PickledWeights):
            module = self._build_module()
            module.load_state_dict(weights.tensors)
            module.to(next(iter(weights.tensors.values())).device if weights.tensors else "cpu")
            module.eval()
            self.module_ = module

    # -- persistence --------------------------------------------------------------------
    def _get_state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        tensors = {f"module.{k}": v for k, v in self.module_.state_dict().items()}
        extra_tensors, extra_attributes = self._extra_state()
        tensors.update({f"extra.{k}": v for k, v in extra_tensors.items()})
        attributes = {
            "input_shape_": list(self.input_shape_),
            "history_": self.history_,
            "best_epoch_": self.best_epoch_,
            "n_epochs_": self.n_epochs_,
            "stopped_early_": self.stopped_early_,
            "seed_": self.seed_,
            **extra_attributes,
        }
        return tensors, attributes

    def _set_state(self, tensors: dict[str, torch.Tensor], attributes: dict[str, Any]) -> None:
        # Nothing from the file is trusted: see latentmodels.deep._file.
        _file.check_hyperparameters(self)
        attributes = _file.check_attributes(self, attributes)
        _file.check_tensor_names(self, tensors)
        self._set_input_shape(attributes["input_shape_"])
        self.history_ = attributes["history_"]
        self.best_epoch_ = attributes["best_epoch_"]
        self.n_epochs_ = attributes["n_epochs_"]
        self.stopped_early_ = attributes["stopped_early_"]
        self.seed_ = attributes["seed_"]
        self._set_extra_state(
            {k[len("extra.") :]: v for k, v in tensors.items() if k.startswith("extra.")},
            attributes,
        )
        state = {k[len("module.") :]: v for k, v in tensors.items() if k.startswith("module.")}
        _file.check_weights(self, state)
        module = self._build_module()
        module.load_state_dict(state)
        module.to(training.resolve_device(self.device))
        module.eval()
        self.module_ = module


@hyperparameters
class LossTrainedModel(DeepLatentModel):
    """Base of the deep models trained on one loss with one optimiser (all but the GANs):
    it declares the hyper-parameters they share, so a model lists only its own.

    Parameters
    ----------
    latent_dim : int
        Size of the latent code.
    architecture : {"mlp", "conv"}
        Fully connected layers, or stride-2 convolutions for images (n, H, W)/(n, C, H, W).
    hidden_dims : tuple of int or None
        Hidden layer widths (MLP) or channel counts (conv); None picks (512,) for the MLP
        and (32, 64) for conv. The decoder mirrors the encoder.
    epochs, batch_size, learning_rate, weight_decay : int, int, float, float
        Passes over the data, samples per batch, Adam's step size and weight decay.
    optimizer : {"adam", "adamw"}
        Adam, or AdamW (decoupled weight decay).
    lr_schedule : {"constant", "cosine", "plateau"}
        Learning-rate schedule over the epochs.
    grad_clip : float or None
        Clip the gradient norm to this value.
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
        CPU threads torch trains with. None follows the thread policy (start from the cores
        that are free, keep whichever of one thread and torch's count steps faster); a
        positive count is used as given; -1 uses every core. See the README's "Threads and
        busy machines".

    Examples
    --------
    >>> from latentmodels import VAE, Autoencoder
    >>> from latentmodels.deep._base import LossTrainedModel
    >>> issubclass(VAE, LossTrainedModel), issubclass(Autoencoder, LossTrainedModel)
    (True, True)
    """

    latent_dim: int = 16
    architecture: str = "mlp"
    hidden_dims: tuple[int, ...] | None = None
    epochs: int = 30
    batch_size: int = 128
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    optimizer: str = "adam"
    lr_schedule: str = "constant"
    grad_clip: float | None = None
    validation_fraction: float = 0.1
    patience: int | None = 10
    random_state: int | None = None
    device: str = "auto"
    checkpoint_dir: str | None = None
    checkpoint_every: int = 1
    verbose: int = 1
    n_jobs: int | None = None

    _parameter_constraints = TRAINING_CONSTRAINTS
