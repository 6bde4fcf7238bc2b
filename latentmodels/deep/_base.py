"""Shared machinery of the deep models: data intake, the trainer, batched inference, state.

A deep model subclasses :class:`DeepLatentModel` and fills in three hooks:
``_build_module`` (the network), ``_loss`` (the training objective for one batch) and the
contract's inference methods, which use ``_map_batches`` to run the network batch by batch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted
from torch import nn
from torch.utils.data import DataLoader

from .._internal import io
from .._internal.validation import (
    check_choice,
    check_data,
    check_number,
    check_positive_int,
    check_random_state,
    check_size_sequence,
)
from ..base import LatentModel
from . import training
from .nn.blocks import ARCHITECTURES

DEFAULT_HIDDEN = {"mlp": (512,), "conv": (32, 64)}

# Hyper-parameters that may change between a killed run and its resume.
_RESUMABLE_CHANGES = {"epochs", "verbose", "checkpoint_dir", "checkpoint_every", "device"}


class DeepLatentModel(LatentModel):
    """Base of the torch models; see :class:`latentmodels.VAE` for the parameters."""

    _tuple_params = ("hidden_dims",)

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

    # Called before each training epoch with the network being trained; None = no hook.
    _on_epoch_start: Any = None

    def _after_fit(self, X: torch.Tensor | None, y: torch.Tensor | None) -> None:
        """Called once training ends, with the full training data when it is in memory."""

    # -- parameters ---------------------------------------------------------------------
    @property
    def _hidden(self) -> tuple[int, ...]:
        if self.hidden_dims is None:
            return DEFAULT_HIDDEN[self.architecture]
        return tuple(int(h) for h in self.hidden_dims)

    def _validate_params(self) -> None:
        check_positive_int(self.latent_dim, "latent_dim")
        check_choice(self.architecture, "architecture", ARCHITECTURES)
        if self.hidden_dims is not None:
            check_size_sequence(self.hidden_dims, "hidden_dims")
        check_positive_int(self.epochs, "epochs")
        check_positive_int(self.batch_size, "batch_size")
        check_number(self.learning_rate, "learning_rate", low=0, low_inclusive=False)
        check_number(self.weight_decay, "weight_decay", low=0)
        check_choice(self.optimizer, "optimizer", training.OPTIMIZERS)
        check_choice(self.lr_schedule, "lr_schedule", training.LR_SCHEDULES)
        if self.grad_clip is not None:
            check_number(self.grad_clip, "grad_clip", low=0, low_inclusive=False)
        check_number(
            self.validation_fraction, "validation_fraction", low=0, high=1, high_inclusive=False
        )
        if self.patience is not None:
            check_positive_int(self.patience, "patience")
        check_positive_int(self.checkpoint_every, "checkpoint_every")
        training.resolve_device(self.device)

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
        self._validate_params()
        seed = self._seed_for_fit(resume)
        device = training.resolve_device(self.device)
        if isinstance(X, DataLoader):
            first = next(iter(X))
            first_x = first if isinstance(first, torch.Tensor) else first[0]
            self._set_input_shape(tuple(first_x.shape[1:]))
            n_samples = len(X.dataset) if hasattr(X.dataset, "__len__") else -1
            train_batches: Any = training.LoaderBatches(X, device)
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
        trainer = training.Trainer(config)
        self._train_batches = train_batches
        try:
            result = trainer.fit(
                module, self._loss, train_batches, val_batches, resume=resume,
                on_epoch_start=self._on_epoch_start,
            )
        finally:
            del self._train_batches
        self.module_ = module
        self.history_ = result.history
        self.best_epoch_ = result.best_epoch
        self.n_epochs_ = len(result.history)
        self.stopped_early_ = result.stopped_early
        self.seed_ = seed
        if tensors is not None:
            self._after_fit(tensors[0], tensors[1] if len(tensors) > 1 else None)
        return self

    def _set_input_shape(self, shape: Sequence[int]) -> None:
        self.input_shape_ = tuple(int(s) for s in shape)
        self.n_features_in_ = int(math.prod(self.input_shape_))

    # -- inference ----------------------------------------------------------------------
    @property
    def _device(self) -> torch.device:
        return next(self.module_.parameters()).device

    def _check_X(self, X: Any, name: str = "X") -> np.ndarray:
        """Validate data for an inference method against the fitted input shape."""
        check_is_fitted(self)
        array = check_data(X, name)
        if array.shape[1:] != self.input_shape_:
            if math.prod(array.shape[1:]) != self.n_features_in_:
                raise ValueError(
                    f"{name} has {math.prod(array.shape[1:])} features per sample "
                    f"(shape {array.shape[1:]}), but the model was fitted on "
                    f"{self.n_features_in_} (shape {self.input_shape_})"
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
        module = self._build_module()
        state = {k[len("module.") :]: v for k, v in tensors.items() if k.startswith("module.")}
        try:
            module.load_state_dict(state)
        except RuntimeError as exc:
            raise io.ModelFileError(
                f"the saved weights do not fit a {type(self).__name__} with these settings: {exc}"
            ) from exc
        module.to(training.resolve_device(self.device))
        module.eval()
        self.module_ = module
