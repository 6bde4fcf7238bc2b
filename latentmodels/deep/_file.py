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

    Parameters
    ----------
    model : DeepLatentModel
        The model being loaded (its class names the file's kind).
    field : str
        The field of the file that is wrong.
    message : str
        What is wrong with it.

    Returns
    -------
    latentmodels._internal.io.ModelFileError

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

    Parameters
    ----------
    model : DeepLatentModel
        The model made from the file's hyper-parameters.

    Examples
    --------
    >>> from latentmodels import VAE
    >>> check_hyperparameters(VAE(2))
    >>> try:
    ...     check_hyperparameters(VAE(2, likelihood="poisson"))
    ... except io.ModelFileError as error:
    ...     print(str(error)[:48])
    VAE file field 'params': likelihood must be one
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
    """The learned attributes every deep model records, checked; returns them.

    Parameters
    ----------
    model : DeepLatentModel
        The model being loaded.
    attributes : object
        The file's ``attributes`` document.

    Returns
    -------
    dict

    Examples
    --------
    >>> from latentmodels import VAE
    >>> record = {"input_shape_": [4], "history_": [{"loss": 1.0}], "best_epoch_": 0,
    ...           "n_epochs_": 1, "stopped_early_": False, "seed_": 0}
    >>> check_attributes(VAE(2), record)["input_shape_"]
    [4]
    >>> try:
    ...     check_attributes(VAE(2), {**record, "input_shape_": [50000, 50000]})
    ... except io.ModelFileError as error:
    ...     print(str(error)[:56])
    VAE file field 'input_shape_': [50000, 50000] means 2500
    """
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
    """Every tensor of the file is a network weight (``module.``) or model state (``extra.``).

    Parameters
    ----------
    model : DeepLatentModel
        The model being loaded.
    tensors : mapping of str to torch.Tensor
        The file's tensors.

    Examples
    --------
    >>> from latentmodels import VAE
    >>> check_tensor_names(VAE(2), {"module.w": torch.zeros(1)})
    >>> try:
    ...     check_tensor_names(VAE(2), {"hook": torch.zeros(1)})
    ... except io.ModelFileError as error:
    ...     print(error)
    VAE file field 'tensors': unknown tensors ['hook']
    """
    stray = sorted(k for k in tensors if not k.startswith(("module.", "extra.")))
    if stray:
        raise fail(model, "tensors", f"unknown tensors {stray[:5]}")


def check_weights(model: DeepLatentModel, weights: Mapping[str, torch.Tensor]) -> None:
    """The file's network weights match, name for name, the shapes and dtypes of the
    network these settings build (a skeleton on the ``meta`` device: nothing allocated),
    and are finite.

    Parameters
    ----------
    model : DeepLatentModel
        The model being loaded, its ``input_shape_`` (and class labels) already set.
    weights : mapping of str to torch.Tensor
        The file's network weights, without their ``module.`` prefix.

    Examples
    --------
    >>> from latentmodels import Autoencoder
    >>> model = Autoencoder(2, hidden_dims=(4,))
    >>> model._set_input_shape((3,))
    >>> weights = model._build_module().state_dict()
    >>> check_weights(model, weights)
    >>> model._set_input_shape((5000, 5000))
    >>> try:
    ...     check_weights(model, weights)
    ... except io.ModelFileError as error:
    ...     print("refused:", "25000000" in str(error))
    refused: True
    """
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
    axis), finite; returned as a NumPy array.

    Parameters
    ----------
    model : DeepLatentModel
        The model being loaded.
    tensors : mapping of str to torch.Tensor
        The file's model-state tensors, without their ``extra.`` prefix.
    name : str
        The one to check.
    shape : tuple of int or None
        Its expected shape.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> from latentmodels import Autoencoder
    >>> extra_array(Autoencoder(2), {"code_mean": torch.zeros(2)}, "code_mean", (2,)).shape
    (2,)
    """
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
    """Class labels recorded in a file: a sorted list of distinct numbers or strings.

    Parameters
    ----------
    model : DeepLatentModel
        The model being loaded.
    classes : object
        The file's ``classes_``.
    at_least : int, default=1
        The fewest classes the model can have.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> from latentmodels import ConditionalVAE
    >>> check_classes(ConditionalVAE(2), [0, 1, 2]).tolist()
    [0, 1, 2]
    >>> try:
    ...     check_classes(ConditionalVAE(2), [2, 1])
    ... except io.ModelFileError as error:
    ...     print(error)
    ConditionalVAE file field 'classes_': must be sorted and distinct
    """
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
