"""Reading a deep model's file without trusting it.

Before a network is built from a file, everything the file records is checked against the
tensors and against each other: the hyper-parameters against the model's declared
constraints (``likelihood`` one of its values, sizes positive, ...), the learned attributes
(``input_shape_``, the training history and its counters), and every weight's name, shape
and dtype against a skeleton of the network built on PyTorch's ``meta`` device, which
allocates nothing (a small file claiming ``input_shape_ = [5000, 5000]`` is refused at once,
not after allocating gigabytes). Weights must be finite. A problem raises
:class:`~latentmodels._internal.io.ModelFileError` naming the field.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from .._internal import io
from . import training

if TYPE_CHECKING:
    from ._base import DeepLatentModel

#: The most dimensions a deep model's samples have: (C, H, W) images.
MAX_INPUT_DIMS = 3
#: The most values in one sample (a 4096 x 4096 RGB image is 50 million).
MAX_SAMPLE_SIZE = 2**26


def fail(model: Any, field: str, message: str) -> io.ModelFileError:
    """The error for a bad field of ``model``'s file.

    Examples
    --------
    >>> from latentmodels import VAE
    >>> str(fail(VAE(), "input_shape_", "must be a list"))
    "VAE file field 'input_shape_': must be a list"
    """
    return io.ModelFileError(f"{type(model).__name__} file field {field!r}: {message}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_hyperparameters(model: DeepLatentModel) -> None:
    """The hyper-parameters read from a file, checked as ``fit`` checks them.

    A model saved on a GPU (``device="cuda"``) is moved to the CPU, with a warning, where
    there is none: weights do not depend on the device.
    """
    device = model.device
    try:
        training.resolve_device(device)
    except ValueError:
        try:
            named = torch.device(device)
        except (RuntimeError, TypeError) as exc:
            raise fail(model, "params.device", f"{device!r} is not a device name") from exc
        warnings.warn(f"{type(model).__name__} was saved with device={device!r}, which is not "
                      f"available here ({named.type}); it is loaded on the CPU (device='cpu')",
                      UserWarning, stacklevel=4)
        model.device = "cpu"
    try:
        model._check_hyperparameters()
    except (ValueError, TypeError) as exc:
        raise fail(model, "params", str(exc)) from exc


def check_attributes(model: DeepLatentModel, attributes: Any) -> dict[str, Any]:
    """The learned attributes every deep model records, checked; returns them."""
    if not isinstance(attributes, dict):
        raise fail(model, "attributes", f"must be a JSON object, got {type(attributes).__name__}")
    for name in ("input_shape_", "history_", "best_epoch_", "n_epochs_", "stopped_early_",
                 "seed_"):
        if name not in attributes:
            raise fail(model, name, "is missing")
    shape = attributes["input_shape_"]
    if (
        not isinstance(shape, list)
        or not 1 <= len(shape) <= MAX_INPUT_DIMS
        or not all(_is_int(s) and s >= 1 for s in shape)
    ):
        raise fail(model, "input_shape_", f"must be a list of 1 to {MAX_INPUT_DIMS} positive "
                                          f"integers, got {shape!r}")
    if math.prod(shape) > MAX_SAMPLE_SIZE:
        raise fail(model, "input_shape_", f"{shape} means {math.prod(shape)} values per "
                                          f"sample, more than any model holds ({MAX_SAMPLE_SIZE})")
    history = attributes["history_"]
    if not isinstance(history, list) or not all(
        isinstance(record, dict) and all(_is_number(v) for v in record.values())
        for record in history
    ):
        raise fail(model, "history_", "must be a list of {name: number} records")
    n_epochs = attributes["n_epochs_"]
    if not _is_int(n_epochs) or n_epochs != len(history):
        raise fail(model, "n_epochs_", f"is {n_epochs!r} but the history has {len(history)} "
                                       "epochs")
    best = attributes["best_epoch_"]
    if not _is_int(best) or not -1 <= best < max(len(history), 0):
        raise fail(model, "best_epoch_", f"must be an epoch of the history (0 to "
                                         f"{len(history) - 1}), got {best!r}")
    if not isinstance(attributes["stopped_early_"], bool):
        raise fail(model, "stopped_early_", "must be true or false")
    seed = attributes["seed_"]
    if not _is_int(seed) or seed < 0:
        raise fail(model, "seed_", f"must be an integer >= 0, got {seed!r}")
    return attributes


def check_tensor_names(model: DeepLatentModel, tensors: Mapping[str, torch.Tensor]) -> None:
    """Every tensor of the file is a network weight (``module.``) or model state (``extra.``)."""
    stray = sorted(k for k in tensors if not k.startswith(("module.", "extra.")))
    if stray:
        raise fail(model, "tensors", f"unknown tensors {stray[:5]}")


def check_weights(model: DeepLatentModel, weights: Mapping[str, torch.Tensor]) -> None:
    """The file's network weights match, name for name, the shapes and dtypes of the
    network these settings build (a skeleton on the ``meta`` device: nothing allocated),
    and are finite."""
    try:
        with torch.device("meta"):
            skeleton = model._build_module()
    except (ValueError, TypeError, RuntimeError) as exc:
        raise fail(model, "params", f"these settings build no network: {exc}") from exc
    expected = skeleton.state_dict()
    missing = sorted(set(expected) - set(weights))
    unexpected = sorted(set(weights) - set(expected))
    if missing or unexpected:
        raise fail(model, "tensors", f"the weights do not fit a {type(model).__name__} with "
                                     f"these settings (missing {missing[:3]}, unexpected "
                                     f"{unexpected[:3]})")
    for name, like in expected.items():
        tensor = weights[name]
        if tuple(tensor.shape) != tuple(like.shape) or tensor.dtype != like.dtype:
            raise fail(model, f"module.{name}", f"has shape {tuple(tensor.shape)} and dtype "
                                                f"{tensor.dtype}; these settings need "
                                                f"{tuple(like.shape)} and {like.dtype}")
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise fail(model, f"module.{name}", "holds NaN or infinite values")


def extra_array(
    model: DeepLatentModel,
    tensors: Mapping[str, torch.Tensor],
    name: str,
    shape: tuple[int | None, ...],
) -> np.ndarray:
    """A model-state tensor ``extra.<name>``: float, of ``shape`` (None: any size on that
    axis), finite; returned as a NumPy array."""
    tensor = tensors.get(name)
    if tensor is None:
        raise fail(model, f"extra.{name}", "is missing")
    if tensor.dtype not in (torch.float32, torch.float64):
        raise fail(model, f"extra.{name}", f"must be float32 or float64, got {tensor.dtype}")
    if tensor.dim() != len(shape) or any(
        want is not None and got != want for got, want in zip(tensor.shape, shape, strict=False)
    ):
        raise fail(model, f"extra.{name}", f"has shape {tuple(tensor.shape)}, expected "
                                           f"{tuple('any' if s is None else s for s in shape)}")
    array = tensor.numpy()
    if not np.isfinite(array).all():
        raise fail(model, f"extra.{name}", "holds NaN or infinite values")
    return array


def check_classes(model: DeepLatentModel, classes: Any, *, at_least: int = 1) -> np.ndarray:
    """Class labels recorded in a file: a sorted list of distinct numbers or strings."""
    if (
        not isinstance(classes, list)
        or len(classes) < at_least
        or not (
            all(isinstance(c, str) for c in classes)
            or all(_is_number(c) and math.isfinite(c) for c in classes)
        )
    ):
        raise fail(model, "classes_", f"must be a list of at least {at_least} numbers or "
                                      "strings")
    array = np.asarray(classes)
    if len(np.unique(array)) != len(array) or not np.array_equal(np.unique(array), array):
        raise fail(model, "classes_", "must be sorted and distinct")
    return array
