"""The one training loop for every deep model.

:class:`Trainer` runs minibatch gradient descent with Adam/AdamW, a validation split
with early stopping, an optional LR schedule and gradient clipping, atomic checkpoints
with exact resume, a rich progress bar, and DistributedDataParallel when launched under
``torchrun`` (gloo on CPU, nccl on GPU) with no change to user code.

A model hands the trainer an ``nn.Module`` whose ``forward`` does the whole training
pass, and a loss function ``loss_fn(module, batch, *, epoch, generator, training)``
returning the mean loss over the batch (optionally with a dict of extra metrics).

Models that need several optimisers and alternating updates (GANs) hand it a
:class:`StepFunction` instead: it names its parameter groups (one optimiser each, with
their own learning rate and betas) and runs its own updates through :class:`Updater`
objects. Checkpoints hold every optimiser, so resume stays exact.

Per-epoch behaviour (re-weighting the training samples, recording progress snapshots, ...)
plugs into the loop through :class:`TrainingCallback` objects handed to the
:class:`Trainer` as a list; a callback with state checkpoints it through
:meth:`TrainingCallback.state_dict` and :meth:`TrainingCallback.load_state_dict`.
"""

from __future__ import annotations

import json
import math
import os
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader

from .._internal import io, threads
from .._internal.distributed import distributed_info, ensure_process_group

LossOutput = torch.Tensor | tuple[torch.Tensor, Mapping[str, torch.Tensor]]
LossFn = Callable[..., LossOutput]

OPTIMIZERS = ("adam", "adamw")
LR_SCHEDULES = ("constant", "cosine", "plateau")
CHECKPOINT_NAME = "checkpoint.safetensors"


#: Training has diverged when a loss exceeds its starting scale (the first loss, at least 1)
#: this many times over: no run that learns goes from 1e3 to 1e9.
DIVERGENCE_FACTOR = 1e6


class TrainingDivergedError(FloatingPointError):
    """The loss became NaN or infinite, or exploded (more than ``DIVERGENCE_FACTOR``, 1e6,
    times its starting scale); the model is left unfitted.

    The message names the epoch and step, the learning rate(s) and what to try.

    Examples
    --------
    >>> import numpy as np
    >>> from latentmodels import VAE
    >>> from latentmodels.deep.training import TrainingDivergedError
    >>> X = np.random.default_rng(0).random((64, 4), dtype=np.float32)
    >>> try:
    ...     VAE(2, learning_rate=1e9, epochs=2, verbose=0, random_state=0).fit(X)
    ... except TrainingDivergedError as error:
    ...     print(str(error)[:26])
    training diverged at epoch
    """


# -- callbacks ------------------------------------------------------------------------------
class TrainingCallback:
    """Per-epoch behaviour plugged into the one training loop; every hook is optional.

    A :class:`Trainer` built with ``callbacks=[...]`` calls, in list order:

    - ``on_train_begin(module, start_epoch)`` once, after a resumed run's checkpoint has
      been restored (``start_epoch`` is 0 for a fresh run);
    - ``on_epoch_begin(epoch, module)`` before each training epoch, with the module in
      eval mode and gradients off (e.g. to re-weight the samples from the current model);
    - ``on_step_end(epoch, step, loss)`` after each training batch (only for callbacks
      that override it, so the others cost nothing per batch);
    - ``on_epoch_end(epoch, module, record)`` after each epoch's history ``record`` is
      complete and before the epoch's checkpoint is written;
    - ``on_train_end(module, result)`` once training ends, with the kept weights loaded.

    Hooks run on every process under ``torchrun``. A callback that keeps state across
    epochs returns it from :meth:`state_dict` (tensors and JSON-able values) and takes it
    back in :meth:`load_state_dict`: the trainer writes it into every checkpoint and
    restores it on resume, so a killed and resumed run ends exactly like a straight one.
    A callback that only reads the module (as the re-weighting does) needs neither.

    Attributes
    ----------
    name : str
        Key of the callback's state in checkpoints; the class name unless set. Two
        callbacks of one trainer need different names when both keep state.

    Examples
    --------
    >>> import torch
    >>> from latentmodels.deep.training import (
    ...     TensorBatches, Trainer, TrainingCallback, TrainingConfig)
    >>> class CountSteps(TrainingCallback):
    ...     def __init__(self):
    ...         self.steps = 0
    ...     def on_step_end(self, epoch, step, loss):
    ...         self.steps += 1
    ...     def state_dict(self):
    ...         return {"steps": self.steps}
    ...     def load_state_dict(self, state):
    ...         self.steps = state["steps"]
    >>> counter = CountSteps()
    >>> cfg = TrainingConfig(epochs=3, batch_size=16, verbose=0, validation_fraction=0)
    >>> def loss_fn(module, batch, **_):
    ...     return module(batch[0]).pow(2).mean()
    >>> _ = Trainer(cfg, callbacks=[counter]).fit(
    ...     torch.nn.Linear(2, 1), loss_fn, TensorBatches([torch.randn(64, 2)], 16))
    >>> counter.steps
    12
    """

    @property
    def name(self) -> str:
        return type(self).__name__

    def on_train_begin(self, module: nn.Module, start_epoch: int) -> None:
        """Called once before the first epoch that will run (after a resume's restore)."""

    def on_epoch_begin(self, epoch: int, module: nn.Module) -> None:
        """Called before each training epoch (module in eval mode, no gradients)."""

    def on_step_end(self, epoch: int, step: int, loss: float) -> None:
        """Called after each training batch with the batch's loss."""

    def on_epoch_end(self, epoch: int, module: nn.Module, record: dict[str, float]) -> None:
        """Called after each epoch with its history record (before the checkpoint)."""

    def on_train_end(self, module: nn.Module, result: TrainingResult) -> None:
        """Called once training has ended, with the weights the run keeps."""

    def state_dict(self) -> dict[str, Any]:
        """State to checkpoint: tensors and JSON-able values; empty when stateless."""
        return {}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (called on resume)."""


# -- several optimisers ---------------------------------------------------------------------
@dataclass
class OptimizerSpec:
    """One named optimiser of a :class:`StepFunction`: its parameters and settings.

    The optimiser's kind (Adam/AdamW) and weight decay come from the
    :class:`TrainingConfig` unless ``weight_decay`` is given here.

    Parameters
    ----------
    params : iterable of torch.nn.Parameter
        The parameters this optimiser updates.
    lr : float
        Its learning rate.
    betas : (float, float)
        Adam's betas.
    weight_decay : float or None
        Its weight decay; None takes the config's.

    Examples
    --------
    >>> import torch
    >>> from latentmodels.deep.training import OptimizerSpec
    >>> spec = OptimizerSpec(torch.nn.Linear(2, 1).parameters(), lr=1e-3, betas=(0.5, 0.9))
    >>> spec.lr, spec.betas
    (0.001, (0.5, 0.9))
    """

    params: Iterable[nn.Parameter]
    lr: float
    betas: tuple[float, float] = (0.9, 0.999)
    weight_decay: float | None = None


class Updater:
    """Applies one optimiser's update: ``updater.step(loss)``.

    ``step`` clears this group's gradients, back-propagates ``loss`` into this group's
    parameters only (other groups' gradients are neither computed nor touched), averages
    the gradients over processes under ``torchrun``, clips them if the config says so, and
    steps the optimiser. The trainer makes one per :class:`OptimizerSpec` of a
    :class:`StepFunction`.

    Parameters
    ----------
    name : str
        The optimiser's name.
    optimizer : torch.optim.Optimizer
        The underlying optimiser.
    params : list of torch.nn.Parameter
        The parameters it updates.
    grad_clip : float or None
        Clip their gradient norm to this value.
    world_size : int
        Processes whose gradients are averaged.

    Examples
    --------
    >>> import torch
    >>> from latentmodels.deep.training import Updater
    >>> net = torch.nn.Linear(2, 1)
    >>> params = list(net.parameters())
    >>> updater = Updater("net", torch.optim.SGD(params, lr=0.1), params)
    >>> before = net.weight.detach().clone()
    >>> updater.step(net(torch.ones(4, 2)).sum())
    >>> bool((net.weight != before).all())
    True
    """

    def __init__(
        self,
        name: str,
        optimizer: torch.optim.Optimizer,
        params: list[nn.Parameter],
        *,
        grad_clip: float | None = None,
        world_size: int = 1,
    ) -> None:
        self.name = name
        self.optimizer = optimizer
        self.params = params
        self.grad_clip = grad_clip
        self.world_size = world_size

    def step(self, loss: torch.Tensor) -> None:
        """Back-propagate ``loss`` into this group's parameters and update them."""
        for p in self.params:
            p.grad = None
        loss.backward(inputs=self.params)
        with_grad = [p for p in self.params if p.grad is not None]
        if self.world_size > 1 and with_grad:
            # One flat all-reduce instead of one per tensor. Every rank runs the same code
            # path, so the same parameters have gradients everywhere.
            flat = torch.cat([p.grad.reshape(-1) for p in with_grad])
            dist.all_reduce(flat)
            flat /= self.world_size
            offset = 0
            for p in with_grad:
                size = p.grad.numel()
                p.grad.copy_(flat[offset : offset + size].view_as(p.grad))
                offset += size
        if self.grad_clip is not None:
            nn.utils.clip_grad_norm_(with_grad, self.grad_clip)
        self.optimizer.step()


StepOutput = tuple[torch.Tensor | float, Mapping[str, torch.Tensor | float]]


class StepFunction(ABC):
    """A training step that runs its own updates with several named optimisers.

    Subclasses say which optimisers they need (:meth:`optimizers`) and do one training
    step per batch (``__call__``), calling ``updaters[name].step(loss)`` as often as they
    like; they return ``(loss, metrics)``. The trainer checks every returned number for
    NaN, averages them per epoch, checkpoints every optimiser and, under ``torchrun``,
    averages gradients inside :meth:`Updater.step` (the module is not wrapped in DDP, as
    a step may call its parts in any order). Any state a step keeps between batches must
    live in the module (buffers) or in a :class:`TrainingCallback` with a ``state_dict``
    so that checkpoints capture it.

    Examples
    --------
    >>> import torch
    >>> from latentmodels.deep.training import (
    ...     OptimizerSpec, StepFunction, TensorBatches, Trainer, TrainingConfig)
    >>> class TwoHeads(StepFunction):
    ...     def optimizers(self, module):
    ...         return {"a": OptimizerSpec(module[0].parameters(), lr=1e-2),
    ...                 "b": OptimizerSpec(module[1].parameters(), lr=1e-3, betas=(0.5, 0.9))}
    ...     def __call__(self, module, batch, *, updaters, epoch, generator):
    ...         loss_a = (module[0](batch[0]) - 1).pow(2).mean()
    ...         updaters["a"].step(loss_a)
    ...         loss_b = (module[1](batch[0]) + 1).pow(2).mean()
    ...         updaters["b"].step(loss_b)
    ...         return loss_a + loss_b, {"a": loss_a.detach(), "b": loss_b.detach()}
    >>> net = torch.nn.ModuleList([torch.nn.Linear(2, 1), torch.nn.Linear(2, 1)])
    >>> cfg = TrainingConfig(epochs=2, batch_size=8, verbose=0, validation_fraction=0)
    >>> result = Trainer(cfg).fit(net, TwoHeads(), TensorBatches([torch.randn(32, 2)], 8))
    >>> sorted(result.history[0])[:4]
    ['a', 'b', 'epoch', 'loss']
    """

    @abstractmethod
    def optimizers(self, module: nn.Module) -> Mapping[str, OptimizerSpec]:
        """Named parameter groups of ``module``, one optimiser each (names are identifiers)."""

    @abstractmethod
    def __call__(
        self,
        module: nn.Module,
        batch: list[torch.Tensor],
        *,
        updaters: Mapping[str, Updater],
        epoch: int,
        generator: torch.Generator,
    ) -> StepOutput:
        """Run one training step on ``batch``; return ``(loss, metrics)``."""

    def evaluate(
        self,
        module: nn.Module,
        batch: list[torch.Tensor],
        *,
        epoch: int,
        generator: torch.Generator,
    ) -> StepOutput:
        """Validation loss of one batch; needed only when training with a validation set."""
        raise NotImplementedError(
            f"{type(self).__name__} has no validation loss; train without a validation set"
        )


@dataclass(frozen=True)
class TrainingConfig:
    """Everything the training loop needs to know, taken from a model's hyper-parameters.

    Parameters
    ----------
    epochs, batch_size, learning_rate, weight_decay, optimizer, lr_schedule, grad_clip, \
validation_fraction, patience, device, checkpoint_dir, checkpoint_every, verbose, n_jobs
        As the hyper-parameters of the same names of :class:`latentmodels.VAE`.
    seed : int
        Seed of the shuffling and noise generators.
    max_time : float or None
        Stop after the batch during which this many seconds have passed.
    signature : mapping
        The settings a checkpoint must have been made with to be resumed.

    Examples
    --------
    >>> from latentmodels.deep.training import TrainingConfig
    >>> TrainingConfig(epochs=5, verbose=0).batch_size
    128
    """

    epochs: int = 30
    batch_size: int = 128
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    optimizer: str = "adam"
    lr_schedule: str = "constant"
    grad_clip: float | None = None
    validation_fraction: float = 0.1
    patience: int | None = 10
    seed: int = 0
    device: str = "auto"
    checkpoint_dir: str | None = None
    checkpoint_every: int = 1
    verbose: int = 1
    n_jobs: int | None = None
    # Stop after the batch during which this many seconds have passed (None: no limit).
    max_time: float | None = None
    signature: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class TrainingResult:
    """What a finished run leaves behind.

    Parameters
    ----------
    history : list of dict
        One record per epoch (losses, metrics, learning rate, seconds).
    best_epoch : int
        The epoch of the lowest monitored loss.
    stopped_early : bool
        Whether early stopping or the time limit ended the run.

    Examples
    --------
    >>> from latentmodels.deep.training import TrainingResult
    >>> TrainingResult(history=[{"epoch": 0.0, "loss": 1.0}], best_epoch=0,
    ...                stopped_early=False).best_epoch
    0
    """

    history: list[dict[str, float]]
    best_epoch: int
    stopped_early: bool


# -- devices and processes --------------------------------------------------------------
def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """The torch device to train on.

    Parameters
    ----------
    device : str or torch.device
        ``"auto"`` picks CUDA when present (the local rank's GPU under torchrun), else
        CPU; otherwise any torch device name.

    Returns
    -------
    device : torch.device

    Examples
    --------
    >>> from latentmodels.deep.training import resolve_device
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        return torch.device("cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError as exc:
        raise ValueError(f"device: cannot use {device!r}: {exc}") from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device: {device!r} was asked for but CUDA is not available")
    return resolved


# -- data ---------------------------------------------------------------------------------
class TensorBatches:
    """Shuffled minibatches of in-memory tensors: one gather per batch, no collation.

    Under a distributed run every rank draws the same permutation and takes its own
    slice, so all ranks see disjoint data and the same number of batches.

    Parameters
    ----------
    tensors : sequence of torch.Tensor
        Aligned tensors (data, labels, ...), one row per sample.
    batch_size : int
        Samples per batch.
    shuffle : bool
        Draw a new permutation each epoch (else keep the order).

    Attributes
    ----------
    weights : torch.Tensor or None
        Per-sample sampling weights; when set, each epoch draws ``n_samples`` indices with
        replacement in proportion to them.

    Examples
    --------
    >>> import torch
    >>> from latentmodels.deep.training import TensorBatches
    >>> batches = TensorBatches([torch.arange(10.0)], batch_size=4)
    >>> [len(b[0]) for b in batches.epoch(torch.Generator().manual_seed(0))]
    [4, 4, 2]
    """

    def __init__(
        self, tensors: Sequence[torch.Tensor], batch_size: int, *, shuffle: bool = True
    ) -> None:
        self.tensors = list(tensors)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.n_samples = len(self.tensors[0])
        self.weights: torch.Tensor | None = None

    def __len__(self) -> int:
        _, world = distributed_info()
        return math.ceil((self.n_samples // world) / self.batch_size)

    def epoch(self, generator: torch.Generator | None) -> Iterator[list[torch.Tensor]]:
        rank, world = distributed_info()
        if self.weights is not None:
            order = torch.multinomial(
                self.weights.double().cpu(), self.n_samples, replacement=True, generator=generator
            )
        elif self.shuffle:
            order = torch.randperm(self.n_samples, generator=generator)
        else:
            order = torch.arange(self.n_samples)
        if world > 1:
            per_rank = self.n_samples // world
            order = order[rank * per_rank : (rank + 1) * per_rank]
        order = order.to(self.tensors[0].device)
        for start in range(0, len(order), self.batch_size):
            index = order[start : start + self.batch_size]
            yield [t.index_select(0, index) for t in self.tensors]


class LoaderBatches:
    """Minibatches from a user's ``DataLoader``; batches are checked and moved to the
    training device.

    Each batch's data goes through ``check`` (the model's checks on arrays: dtype, finite
    values, the fitted shape, a likelihood's value range), so a loader is held to the same
    standard as an array. Under ``torchrun`` the loader is rebuilt with a
    ``DistributedSampler`` so that each process trains on its own share (see
    :func:`shard_loader`).

    Parameters
    ----------
    loader : torch.utils.data.DataLoader
        Yields tensors or tuples of tensors.
    device : torch.device
        The training device.
    check : callable, optional
        ``check(x, where)`` returns the batch's data tensor, checked (raising
        ``ValueError``/``TypeError`` otherwise); ``where`` names the batch in messages.

    Examples
    --------
    >>> import torch
    >>> from torch.utils.data import DataLoader, TensorDataset
    >>> from latentmodels.deep.training import LoaderBatches
    >>> loader = DataLoader(TensorDataset(torch.zeros(6, 2)), batch_size=4)
    >>> [b[0].shape[0] for b in LoaderBatches(loader, torch.device("cpu")).epoch(None)]
    [4, 2]
    """

    def __init__(
        self,
        loader: DataLoader,
        device: torch.device,
        check: Callable[[torch.Tensor, str], torch.Tensor] | None = None,
    ) -> None:
        self.loader = loader
        self.device = device
        self.check = check
        self._epochs = 0
        self._sharded: DataLoader | None = None

    def __len__(self) -> int:
        return len(self._sharded if self._sharded is not None else self.loader)

    def epoch(self, generator: torch.Generator | None) -> Iterator[list[torch.Tensor]]:
        loader = self.loader
        rank, world = distributed_info()
        if world > 1:
            if self._sharded is None:
                self._sharded = shard_loader(self.loader, rank, world)
            loader = self._sharded
            sampler = loader.sampler
            if hasattr(sampler, "set_epoch"):
                sampler.set_epoch(self._epochs)  # a new shuffle each epoch, equal on all ranks
        self._epochs += 1
        for index, batch in enumerate(loader):
            if isinstance(batch, torch.Tensor):
                batch = [batch]
            elif not isinstance(batch, (list, tuple)) or not batch:
                raise TypeError(f"X: the DataLoader must yield tensors or tuples of tensors, "
                                f"batch {index} is a {type(batch).__name__}")
            batch = list(batch)
            if self.check is not None:
                batch[0] = self.check(batch[0], f"batch {index} of the DataLoader")
            yield [torch.as_tensor(t).to(self.device, non_blocking=True) for t in batch]


def shard_loader(loader: DataLoader, rank: int, world_size: int) -> DataLoader:
    """``loader`` rebuilt so that process ``rank`` of ``world_size`` reads its own share
    (a ``DistributedSampler``; shuffled when the loader was).

    A loader already sharded by a ``DistributedSampler`` is returned as it is. One whose
    samples cannot be shared out this way (an ``IterableDataset``, a custom batch sampler)
    is refused: the user must shard it.

    Parameters
    ----------
    loader : torch.utils.data.DataLoader
        The user's loader.
    rank, world_size : int
        This process and the number of processes.

    Returns
    -------
    torch.utils.data.DataLoader

    Raises
    ------
    ValueError
        A loader that cannot be re-wrapped.

    Examples
    --------
    >>> import torch
    >>> from torch.utils.data import DataLoader, TensorDataset
    >>> loader = DataLoader(TensorDataset(torch.arange(6.0)), batch_size=2)
    >>> [float(b[0].sum()) for b in shard_loader(loader, 1, 2)]
    [4.0, 5.0]
    """
    from torch.utils.data import (
        BatchSampler,
        DistributedSampler,
        IterableDataset,
        RandomSampler,
        SequentialSampler,
    )

    if isinstance(loader.sampler, DistributedSampler):
        return loader
    how = ("give each process its own share (a DistributedSampler, or a dataset that reads "
           "only this process's part: torch.distributed.get_rank())")
    if isinstance(loader.dataset, IterableDataset):
        raise ValueError(f"X: a DataLoader over an IterableDataset cannot be sharded across "
                         f"the {world_size} processes of this run; {how}")
    if loader.batch_size is None or type(loader.batch_sampler) is not BatchSampler or not (
        isinstance(loader.sampler, (RandomSampler, SequentialSampler))
    ):
        raise ValueError(f"X: a DataLoader with a custom sampler or batch sampler cannot be "
                         f"sharded across the {world_size} processes of this run; {how}")
    sampler = DistributedSampler(
        loader.dataset, num_replicas=world_size, rank=rank,
        shuffle=isinstance(loader.sampler, RandomSampler), drop_last=loader.drop_last,
    )
    return DataLoader(
        loader.dataset, batch_size=loader.batch_size, sampler=sampler,
        num_workers=loader.num_workers, collate_fn=loader.collate_fn,
        pin_memory=loader.pin_memory, drop_last=loader.drop_last,
        worker_init_fn=loader.worker_init_fn, timeout=loader.timeout,
    )


def split_validation(
    tensors: Sequence[torch.Tensor], fraction: float, seed: int
) -> tuple[list[torch.Tensor], list[torch.Tensor] | None]:
    """Hold out a seeded random ``fraction`` of the samples for validation.

    Parameters
    ----------
    tensors : sequence of torch.Tensor
        Aligned tensors, one row per sample.
    fraction : float
        Share to hold out; no split when it rounds to no sample (or to all of them).
    seed : int
        Seed of the split.

    Returns
    -------
    train : list of torch.Tensor
    validation : list of torch.Tensor or None

    Examples
    --------
    >>> import torch
    >>> from latentmodels.deep.training import split_validation
    >>> train, val = split_validation([torch.arange(10)], 0.2, seed=0)
    >>> len(train[0]), len(val[0])
    (8, 2)
    """
    n = len(tensors[0])
    n_val = int(round(n * fraction))
    if fraction <= 0 or n_val < 1 or n - n_val < 1:
        return list(tensors), None
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    val_idx, train_idx = order[:n_val], order[n_val:]
    return [t[train_idx] for t in tensors], [t[val_idx] for t in tensors]


# -- the loop -----------------------------------------------------------------------------
def _make_optimizer(
    params: list[nn.Parameter],
    config: TrainingConfig,
    *,
    lr: float | None = None,
    betas: tuple[float, float] | None = None,
    weight_decay: float | None = None,
) -> torch.optim.Optimizer:
    cls = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
    kwargs: dict[str, Any] = {
        "lr": config.learning_rate if lr is None else lr,
        "weight_decay": config.weight_decay if weight_decay is None else weight_decay,
    }
    if betas is not None:
        kwargs["betas"] = tuple(betas)
    try:
        # The fused kernel does Adam's update in one pass: a large share of a small
        # model's step time.
        return cls(params, fused=True, **kwargs)
    except (RuntimeError, TypeError, ValueError):
        return cls(params, **kwargs)


def _make_scheduler(optimizer: torch.optim.Optimizer, config: TrainingConfig) -> Any:
    if config.lr_schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs)
    if config.lr_schedule == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=2)
    return None


# The single optimiser of a plain loss-function run; it keeps the original checkpoint keys.
_SINGLE = ""


def _optimizer_prefix(name: str) -> str:
    return "optimizer." if name == _SINGLE else f"optimizer.{name}."


def _broadcast_module(module: nn.Module) -> None:
    """Give every rank rank 0's parameters and buffers (what DDP does when it wraps)."""
    with torch.no_grad():
        for tensor in list(module.parameters()) + list(module.buffers()):
            dist.broadcast(tensor.data, src=0)


class Trainer:
    """Runs the training loop described by a :class:`TrainingConfig`.

    Parameters
    ----------
    config : TrainingConfig
        The loop's settings.
    callbacks : sequence of TrainingCallback or None
        Per-epoch behaviour, called in order at each hook (see :class:`TrainingCallback`).

    Examples
    --------
    >>> import torch
    >>> from latentmodels.deep.training import Trainer, TrainingConfig, TensorBatches
    >>> net = torch.nn.Linear(3, 1)
    >>> X = torch.randn(64, 3); y = X.sum(1, keepdim=True)
    >>> def loss_fn(module, batch, **_):
    ...     return ((module(batch[0]) - batch[1]) ** 2).mean()
    >>> cfg = TrainingConfig(epochs=5, batch_size=16, verbose=0, seed=0)
    >>> result = Trainer(cfg).fit(net, loss_fn, TensorBatches([X, y], 16))
    >>> len(result.history)
    5
    """

    def __init__(
        self, config: TrainingConfig, callbacks: Sequence[TrainingCallback] | None = None
    ) -> None:
        self.config = config
        self.callbacks = list(callbacks or ())
        names = [c.name for c in self.callbacks]
        if len(set(names)) != len(names):
            raise ValueError(f"callbacks: names must differ (checkpoint keys), got {names}")
        ensure_process_group(config.device)
        self.device = resolve_device(config.device)
        self.rank, self.world_size = distributed_info()
        self._rates: dict[str, float] | None = None
        self._switcher: threads.ThreadSwitcher | None = None
        # The first training loss (its magnitude, at least 1): the scale an exploding loss
        # is measured against.
        self._loss_scale: float | None = None

    # -- checkpoints --------------------------------------------------------------------
    @property
    def checkpoint_path(self) -> Path | None:
        if self.config.checkpoint_dir is None:
            return None
        return Path(self.config.checkpoint_dir) / CHECKPOINT_NAME

    def _save_checkpoint(self, state: dict[str, Any]) -> None:
        path = self.checkpoint_path
        if path is None or self.rank != 0:
            return
        module: nn.Module = state["module"]
        tensors: dict[str, torch.Tensor] = {
            f"module.{k}": v for k, v in module.state_dict().items()
        }
        if state["best_state"] is not None:
            tensors.update({f"best.{k}": v for k, v in state["best_state"].items()})
        document: dict[str, Any] = {"kind": "checkpoint"}
        named: dict[str, Any] = {}
        for name, optimizer in state["optimizers"].items():
            optim_state = optimizer.state_dict()
            prefix = _optimizer_prefix(name)
            for index, slots in optim_state["state"].items():
                for key, value in slots.items():
                    tensors[f"{prefix}{index}.{key}"] = torch.as_tensor(value)
            scheduler = state["schedulers"][name]
            entry = {
                "param_groups": optim_state["param_groups"],
                "scheduler": scheduler.state_dict() if scheduler is not None else None,
            }
            if name == _SINGLE:
                document.update(entry)
            else:
                named[name] = entry
        if named:
            document["optimizers"] = named
        callback_documents = {}
        for callback in self.callbacks:
            values = {}
            for key, value in callback.state_dict().items():
                if isinstance(value, torch.Tensor):
                    tensors[f"callback.{callback.name}.{key}"] = value.detach().cpu().contiguous()
                else:
                    values[key] = value
            callback_documents[callback.name] = values
        if callback_documents:
            document["callbacks"] = callback_documents
        tensors["rng.shuffle"] = state["shuffle_generator"].get_state()
        tensors["rng.noise"] = state["noise_generator"].get_state()
        document.update(
            {
                "epoch": state["epoch"],
                "history": state["history"],
                "best_loss": state["best_loss"],
                "best_epoch": state["best_epoch"],
                "bad_epochs": state["bad_epochs"],
                "signature": dict(self.config.signature),
            }
        )
        io.write_tensor_file(path, tensors, document)

    def _load_checkpoint(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]] | None:
        path = self.checkpoint_path
        if path is None or not path.exists():
            return None
        document, tensors = io.read_tensor_file(path)
        saved = document.get("signature", {})
        current = json.loads(json.dumps(io.to_jsonable(dict(self.config.signature))))
        changed = sorted(k for k in set(saved) | set(current) if saved.get(k) != current.get(k))
        if changed:
            raise ValueError(
                f"resume: the checkpoint in {path.parent} was made with different settings "
                f"({', '.join(changed)}); use another checkpoint_dir or the same settings"
            )
        return document, tensors

    @staticmethod
    def _restore_optimizers(
        document: Mapping[str, Any],
        tensors: Mapping[str, torch.Tensor],
        optimizers: Mapping[str, torch.optim.Optimizer],
        schedulers: Mapping[str, Any],
    ) -> None:
        for name, optimizer in optimizers.items():
            entry = document if name == _SINGLE else document.get("optimizers", {}).get(name)
            if entry is None or "param_groups" not in entry:
                raise io.ModelFileError(f"resume: the checkpoint holds no optimiser {name!r}")
            prefix = _optimizer_prefix(name)
            slots: dict[int, dict[str, torch.Tensor]] = {}
            for key, value in tensors.items():
                rest = key[len(prefix) :]
                # Named optimisers' keys never start with a digit, so in a single-optimiser
                # checkpoint only "optimizer.<index>.<slot>" keys match here.
                if key.startswith(prefix) and rest.split(".", 1)[0].isdigit():
                    index, slot = rest.split(".", 1)
                    slots.setdefault(int(index), {})[slot] = value
            optimizer.load_state_dict({"state": slots, "param_groups": entry["param_groups"]})
            scheduler = schedulers[name]
            if scheduler is not None and entry.get("scheduler") is not None:
                scheduler.load_state_dict(entry["scheduler"])

    def _make_updaters(self, module: nn.Module, step_fn: StepFunction) -> dict[str, Updater]:
        specs = dict(step_fn.optimizers(module))
        if not specs:
            raise ValueError(f"{type(step_fn).__name__}.optimizers returned no optimisers")
        updaters = {}
        for name, spec in specs.items():
            if not name.isidentifier():
                raise ValueError(f"optimizer names must be identifiers, got {name!r}")
            params = [p for p in spec.params if p.requires_grad]
            optimizer = _make_optimizer(
                params, self.config, lr=spec.lr, betas=spec.betas, weight_decay=spec.weight_decay
            )
            updaters[name] = Updater(
                name,
                optimizer,
                params,
                grad_clip=self.config.grad_clip,
                world_size=self.world_size,
            )
        return updaters

    # -- the loop -----------------------------------------------------------------------
    def fit(
        self,
        module: nn.Module,
        loss_fn: LossFn | StepFunction,
        train: TensorBatches | LoaderBatches,
        val: TensorBatches | LoaderBatches | None = None,
        *,
        resume: bool = False,
    ) -> TrainingResult:
        """Train ``module`` in place; returns the history and where the best epoch was.

        ``loss_fn`` is either a loss function (one optimiser over all trainable
        parameters, stepped by the trainer) or a :class:`StepFunction` (several named
        optimisers, stepped by the step function itself).

        The trainer's callbacks (:class:`TrainingCallback`) run at the points their hooks
        name; their state is checkpointed with the rest and restored on resume.

        On CPU the thread count follows the thread policy (``_internal.threads``): the
        config's ``n_jobs`` or the count set by ``--threads`` if any, else switching between
        one thread and torch's current count, whichever trains faster (torch's count is put
        back afterwards).
        """
        with threads.restored_threads():
            self._switcher = None
            if self.device.type == "cpu":
                self._switcher = threads.fit_switcher(
                    self.config.n_jobs, ceiling=torch.get_num_threads())
            try:
                return self._fit(module, loss_fn, train, val, resume=resume)
            finally:
                self._switcher = None

    def _fit(
        self,
        module: nn.Module,
        loss_fn: LossFn | StepFunction,
        train: TensorBatches | LoaderBatches,
        val: TensorBatches | LoaderBatches | None,
        *,
        resume: bool,
    ) -> TrainingResult:
        config = self.config
        module.to(self.device)
        updaters: dict[str, Updater] | None = None
        if isinstance(loss_fn, StepFunction):
            updaters = self._make_updaters(module, loss_fn)
            optimizers = {name: u.optimizer for name, u in updaters.items()}
            self._rates = {name: u.optimizer.param_groups[0]["lr"] for name, u in updaters.items()}
        else:
            trainable = [p for p in module.parameters() if p.requires_grad]
            optimizers = {_SINGLE: _make_optimizer(trainable, config)}
        schedulers = {name: _make_scheduler(opt, config) for name, opt in optimizers.items()}
        shuffle_generator = torch.Generator().manual_seed(config.seed)
        noise_generator = torch.Generator(device=self.device).manual_seed(
            config.seed + 7919 * (self.rank + 1)
        )
        history: list[dict[str, float]] = []
        best_loss, best_epoch, bad_epochs = math.inf, -1, 0
        best_state: dict[str, torch.Tensor] | None = None
        start_epoch = 0

        if resume:
            if self.checkpoint_path is None:
                raise ValueError("resume: resume=True needs checkpoint_dir to be set")
            loaded = self._load_checkpoint()
            if loaded is not None:
                document, tensors = loaded
                module.load_state_dict(
                    {k[len("module.") :]: v for k, v in tensors.items() if k.startswith("module.")}
                )
                best = {k[len("best.") :]: v for k, v in tensors.items() if k.startswith("best.")}
                best_state = best or None
                self._restore_optimizers(document, tensors, optimizers, schedulers)
                shuffle_generator.set_state(tensors["rng.shuffle"])
                noise_generator.set_state(tensors["rng.noise"])
                history = list(document["history"])
                if history and math.isfinite(history[0].get("loss", math.nan)):
                    self._loss_scale = max(abs(history[0]["loss"]), 1.0)
                best_loss = document["best_loss"]
                best_epoch = document["best_epoch"]
                bad_epochs = document["bad_epochs"]
                start_epoch = document["epoch"] + 1
                self._restore_callbacks(document, tensors)

        trained = module
        if self.world_size > 1:
            if updaters is not None:
                # Step functions average gradients in Updater.step; start all ranks equal.
                _broadcast_module(module)
            else:
                device_ids = [self.device.index] if self.device.type == "cuda" else None
                trained = nn.parallel.DistributedDataParallel(module, device_ids=device_ids)

        stopped_early = False
        deadline = None if config.max_time is None else time.perf_counter() + config.max_time
        progress = _Progress(config.verbose if self.rank == 0 else 0, config.epochs, len(train),
                             deadline=deadline)
        callbacks = self.callbacks
        step_callbacks = [
            c for c in callbacks if type(c).on_step_end is not TrainingCallback.on_step_end
        ]
        for callback in callbacks:
            callback.on_train_begin(module, start_epoch)
        with progress:
            progress.skip_epochs(start_epoch)
            for epoch in range(start_epoch, config.epochs):
                started = time.perf_counter()
                if callbacks:
                    module.eval()
                    with torch.no_grad():
                        for callback in callbacks:
                            callback.on_epoch_begin(epoch, module)
                module.train()
                sums = self._run_epoch(
                    trained,
                    loss_fn,
                    train,
                    epoch,
                    optimizers,
                    updaters,
                    shuffle_generator,
                    noise_generator,
                    progress,
                    deadline=deadline,
                    step_callbacks=step_callbacks,
                )
                record = {"epoch": float(epoch), **sums}
                if val is not None:
                    module.eval()
                    with torch.no_grad():
                        val_sums = self._run_epoch(
                            module, loss_fn, val, epoch, None, None, None, noise_generator, None
                        )
                    record.update({f"val_{k}": v for k, v in val_sums.items()})
                record["lr"] = next(iter(optimizers.values())).param_groups[0]["lr"]
                if updaters is not None:
                    for name, optimizer in optimizers.items():
                        record[f"lr_{name}"] = optimizer.param_groups[0]["lr"]
                record["seconds"] = time.perf_counter() - started
                history.append(record)
                monitored = record.get("val_loss", record["loss"])
                if not math.isfinite(monitored):
                    raise TrainingDivergedError(self._divergence_message(epoch, None))
                for scheduler in schedulers.values():
                    if scheduler is None:
                        continue
                    if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                        scheduler.step(monitored)
                    else:
                        scheduler.step()
                if not math.isfinite(best_loss) or monitored < best_loss - 1e-6 * abs(best_loss):
                    best_loss, best_epoch, bad_epochs = monitored, epoch, 0
                    if val is not None:
                        best_state = {k: v.detach().clone() for k, v in module.state_dict().items()}
                else:
                    bad_epochs += 1
                patience_over = (
                    val is not None
                    and config.patience is not None
                    and bad_epochs >= config.patience
                )
                out_of_time = deadline is not None and self._past(deadline)
                last = epoch == config.epochs - 1 or patience_over or out_of_time
                for callback in callbacks:
                    callback.on_epoch_end(epoch, module, record)
                if (epoch + 1) % config.checkpoint_every == 0 or last:
                    self._save_checkpoint(
                        {
                            "module": module,
                            "optimizers": optimizers,
                            "schedulers": schedulers,
                            "epoch": epoch,
                            "history": history,
                            "best_loss": best_loss,
                            "best_epoch": best_epoch,
                            "bad_epochs": bad_epochs,
                            "best_state": best_state,
                            "shuffle_generator": shuffle_generator,
                            "noise_generator": noise_generator,
                        }
                    )
                    if self.world_size > 1:
                        dist.barrier()
                progress.end_epoch(record)
                if patience_over or out_of_time:
                    stopped_early = True
                    break

        if best_state is not None:
            # Keep the weights that did best on held-out data, not the last ones.
            module.load_state_dict(best_state)
        module.eval()
        result = TrainingResult(history=history, best_epoch=best_epoch, stopped_early=stopped_early)
        for callback in callbacks:
            callback.on_train_end(module, result)
        return result

    def _restore_callbacks(
        self, document: Mapping[str, Any], tensors: Mapping[str, torch.Tensor]
    ) -> None:
        saved = document.get("callbacks", {})
        for callback in self.callbacks:
            if callback.name not in saved:
                continue  # a checkpoint written without this callback: nothing to restore
            prefix = f"callback.{callback.name}."
            state = dict(saved[callback.name])
            state.update({k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)})
            callback.load_state_dict(state)

    def _run_epoch(
        self,
        module: nn.Module,
        loss_fn: LossFn | StepFunction,
        batches: TensorBatches | LoaderBatches,
        epoch: int,
        optimizers: Mapping[str, torch.optim.Optimizer] | None,
        updaters: Mapping[str, Updater] | None,
        shuffle_generator: torch.Generator | None,
        noise_generator: torch.Generator,
        progress: _Progress | None,
        *,
        deadline: float | None = None,
        step_callbacks: Sequence[TrainingCallback] = (),
    ) -> dict[str, float]:
        training = optimizers is not None
        step_mode = isinstance(loss_fn, StepFunction)
        clip = self.config.grad_clip
        totals: dict[str, float] = {}
        count = 0
        switcher = self._switcher if training else None
        step_started = time.perf_counter()
        for step, batch in enumerate(batches.epoch(shuffle_generator)):
            if step_mode and training:
                loss, metrics = loss_fn(
                    module, batch, updaters=updaters, epoch=epoch, generator=noise_generator
                )
            elif step_mode:
                loss, metrics = loss_fn.evaluate(
                    module, batch, epoch=epoch, generator=noise_generator
                )
            else:
                output = loss_fn(
                    module, batch, epoch=epoch, generator=noise_generator, training=training
                )
                loss, metrics = output if isinstance(output, tuple) else (output, {})
            loss_value = float(loss.detach() if isinstance(loss, torch.Tensor) else loss)
            metric_values = {name: float(value) for name, value in metrics.items()}
            finite = math.isfinite(loss_value)
            if step_mode:
                # A step function has already updated; any NaN it reports means trouble.
                finite = finite and all(math.isfinite(v) for v in metric_values.values())
            # (code, loss, scale): code 1 a non-finite loss, 2 an exploded one.
            diverged = (1.0, math.nan, math.nan) if not finite else None
            if training and finite:
                if self._loss_scale is None:
                    self._loss_scale = max(abs(loss_value), 1.0)
                elif abs(loss_value) > DIVERGENCE_FACTOR * self._loss_scale:
                    diverged = (2.0, loss_value, self._loss_scale)
            if self.world_size == 1:
                if diverged is not None:
                    raise TrainingDivergedError(self._divergence_message(
                        epoch, step, exploded=loss_value if diverged[0] == 2.0 else None))
            elif training:
                self._stop_together(diverged, epoch, step)
            # (Under torchrun, evaluation has no per-step all-reduce: a NaN reaches every
            # rank through the epoch's sums and stops them all at the epoch's end.)
            if training and not step_mode:
                optimizer = optimizers[_SINGLE]
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if clip is not None:
                    nn.utils.clip_grad_norm_(module.parameters(), clip)
                optimizer.step()
            size = len(batch[0])
            count += size
            totals["loss"] = totals.get("loss", 0.0) + loss_value * size
            for name, value in metric_values.items():
                totals[name] = totals.get(name, 0.0) + value * size
            if progress is not None:
                progress.advance(loss_value)
            for callback in step_callbacks:
                callback.on_step_end(epoch, step, loss_value)
            if switcher is not None:
                now = time.perf_counter()
                switcher.record(now - step_started)  # may change the thread count
                step_started = now
            # Processes must agree on when to stop, so under torchrun only whole epochs count.
            if deadline is not None and self.world_size == 1 and time.perf_counter() >= deadline:
                break
        names = sorted(totals)
        packed = torch.tensor([totals[n] for n in names] + [count], dtype=torch.float64)
        if self.world_size > 1:
            reduce_device = self.device if self.device.type == "cuda" else torch.device("cpu")
            packed = packed.to(reduce_device)
            dist.all_reduce(packed)
            packed = packed.cpu()
        values = packed.tolist()
        total_count = max(values[-1], 1.0)
        return {name: values[i] / total_count for i, name in enumerate(names)}

    def _stop_together(
        self, diverged: tuple[float, float, float] | None, epoch: int, step: int
    ) -> None:
        """Raise :class:`TrainingDivergedError` on every process when any one diverged.

        A rank that stopped alone would leave the others waiting forever in the next
        gradient all-reduce, so the ranks agree on it first (one tiny all-reduce a step).
        """
        rank = dist.get_rank()
        table = torch.zeros(self.world_size, 3, dtype=torch.float64)
        if diverged is not None:
            table[rank] = torch.tensor(diverged, dtype=torch.float64)
        reduce_device = self.device if self.device.type == "cuda" else torch.device("cpu")
        table = table.to(reduce_device)
        dist.all_reduce(table)
        table = table.cpu()
        stopped = [r for r in range(self.world_size) if table[r, 0] != 0]
        if not stopped:
            return
        first = rank if rank in stopped else stopped[0]
        code, loss, scale = table[first].tolist()
        message = _divergence_message(
            epoch, step, self.config, self._rates,
            exploded=loss if code == 2.0 else None, scale=scale,
        )
        if first != rank:
            message = f"{message} (rank {first} diverged; every rank stopped)"
        raise TrainingDivergedError(message)

    def _past(self, deadline: float) -> bool:
        """Whether the time limit is reached: on any process, for all of them."""
        past = time.perf_counter() >= deadline
        if self.world_size > 1:
            flag = torch.tensor([float(past)])
            dist.all_reduce(flag, op=dist.ReduceOp.MAX)
            past = bool(flag.item())
        return past

    def _divergence_message(
        self, epoch: int, step: int | None, exploded: float | None = None
    ) -> str:
        return _divergence_message(epoch, step, self.config, self._rates,
                                   exploded=exploded, scale=self._loss_scale)


def _divergence_message(
    epoch: int,
    step: int | None,
    config: TrainingConfig,
    rates: Mapping[str, float] | None = None,
    *,
    exploded: float | None = None,
    scale: float | None = None,
) -> str:
    where = f"epoch {epoch}" + (f", step {step}" if step is not None else "")
    what = "is NaN or infinite"
    if exploded is not None:
        what = (f"reached {exploded:.3g}, more than {DIVERGENCE_FACTOR:.0e} times its "
                f"starting scale ({scale:.3g})")
    if rates:
        listed = ", ".join(f"{name}={lr}" for name, lr in rates.items())
        return (
            f"training diverged at {where}: a loss {what}. Likely causes: the "
            f"learning rates ({listed}) are too high, or X has extreme values. "
            "Try smaller learning rates or scaling X."
        )
    return (
        f"training diverged at {where}: the loss {what}. Likely causes: "
        f"learning_rate={config.learning_rate} is too high, or X has extreme values. "
        "Try a smaller learning_rate, grad_clip=1.0, or scaling X."
    )


class _Progress:
    """A rich progress bar with the live loss; silent when ``verbose`` is 0."""

    def __init__(self, verbose: int, epochs: int, batches_per_epoch: int,
                 deadline: float | None = None) -> None:
        self.verbose = verbose
        self.deadline = deadline
        self.total = epochs * batches_per_epoch
        self.batches_per_epoch = batches_per_epoch
        self._bar = None
        self._steps = 0
        self._loss = float("nan")

    def __enter__(self) -> _Progress:
        if self.verbose > 0:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self._bar = Progress(
                TextColumn("[bold]epoch {task.fields[epoch]}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("loss {task.fields[loss]}"),
                TimeElapsedColumn(),
                time_left_column(self.deadline),
                console=Console(stderr=True),
                transient=False,
            )
            self._bar.__enter__()
            self._task = self._bar.add_task("train", total=self.total, epoch=0, loss="-")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)

    def skip_epochs(self, epochs: int) -> None:
        if self._bar is not None and epochs:
            self._bar.update(self._task, advance=epochs * self.batches_per_epoch, epoch=epochs)

    def advance(self, loss: float) -> None:
        if self._bar is None:
            return
        self._steps += 1
        self._loss = loss
        if self._steps % 10 == 0:
            self._bar.update(self._task, advance=10, loss=f"{loss:.4g}")

    def end_epoch(self, record: Mapping[str, float]) -> None:
        if self._bar is None:
            return
        done = int(record["epoch"]) + 1
        shown = f"{record['loss']:.4g}"
        if "val_loss" in record:
            shown += f" (val {record['val_loss']:.4g})"
        self._bar.update(
            self._task, completed=done * self.batches_per_epoch, epoch=done, loss=shown
        )
        if self.verbose > 1:
            self._bar.console.log(
                " ".join(f"{k}={v:.5g}" for k, v in record.items() if k != "epoch"),
                f"(epoch {done})",
            )
        self._steps = 0


def time_left_column(deadline: float | None = None) -> Any:
    """A rich progress column with the time left, never beyond ``deadline`` (``max_time``).

    The estimate from the steps' pace is capped by the deadline (a ``time.perf_counter()``
    value), so a run stopped by ``max_time=30`` does not announce minutes to go.

    Parameters
    ----------
    deadline : float, optional
        When training stops whatever the progress.

    Returns
    -------
    rich.progress.ProgressColumn

    Examples
    --------
    >>> import time, types
    >>> column = time_left_column(time.perf_counter() + 30.4)  # 30 s left, give or take
    >>> task = types.SimpleNamespace(finished=False, time_remaining=600.0)
    >>> str(column.render(task))
    '-0:00:30 (max-time)'
    >>> str(time_left_column().render(task))
    '-0:10:00'
    """
    from rich.progress import ProgressColumn
    from rich.text import Text

    class TimeLeftColumn(ProgressColumn):
        def render(self, task: Any) -> Text:
            if task.finished:
                return Text("-0:00:00", style="progress.remaining")
            left = task.time_remaining
            capped = False
            if deadline is not None:
                until_deadline = max(deadline - time.perf_counter(), 0.0)
                if left is None or left > until_deadline:
                    left, capped = until_deadline, True
            if left is None:
                return Text("-:--:--", style="progress.remaining")
            minutes, seconds = divmod(int(math.ceil(left - 0.5)), 60)
            hours, minutes = divmod(minutes, 60)
            suffix = " (max-time)" if capped else ""
            return Text(f"-{hours}:{minutes:02d}:{seconds:02d}{suffix}",
                        style="progress.remaining")

    return TimeLeftColumn()


@contextmanager
def seeded_init(seed: int) -> Iterator[None]:
    """Seed torch's global RNG for weight initialisation, then restore the caller's state.

    Parameters
    ----------
    seed : int
        The seed inside the ``with`` block.

    Examples
    --------
    >>> import torch
    >>> from latentmodels.deep.training import seeded_init
    >>> with seeded_init(0):
    ...     a = torch.nn.Linear(2, 2).weight
    >>> with seeded_init(0):
    ...     b = torch.nn.Linear(2, 2).weight
    >>> bool((a == b).all())
    True
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield
