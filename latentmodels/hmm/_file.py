"""Reading a hidden Markov model's file without trusting it.

The file's hyper-parameters are checked as ``fit`` checks them; its tensors must be
exactly the learned arrays the emission declares (``startprob_``, ``transmat_`` and each
:class:`~latentmodels.hmm.emissions.Param`), as float arrays; then the engine's and the
emission's own parameter checks run (shapes against ``n_components`` and each other,
probabilities that are probabilities, positive definite covariances, symbol counts), and
the recorded ``n_features_`` and history must agree with them. Because the emission's
declarations and ``check`` do the work, an emission registered later is covered too.
A problem raises :class:`~latentmodels._internal.io.ModelFileError` naming the field.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from .._internal import io

if TYPE_CHECKING:
    from .base import BaseHMM

#: The most dimensions a learned HMM array has ((K, M, D, D) mixture covariances).
MAX_ARRAY_DIMS = 4


def fail(model: Any, field: str, message: str) -> io.ModelFileError:
    """The error for a bad field of ``model``'s file.

    Examples
    --------
    >>> from latentmodels.hmm import PoissonHMM
    >>> str(fail(PoissonHMM(), "transmat_", "rows must sum to 1"))
    "PoissonHMM file field 'transmat_': rows must sum to 1"
    """
    return io.ModelFileError(f"{type(model).__name__} file field {field!r}: {message}")


def restore(model: BaseHMM, tensors: dict[str, torch.Tensor], attributes: Any) -> None:
    """Set ``model``'s learned arrays from a file's tensors, each checked; see the module
    doc. Only then does ``model`` hold them: on error it is left unfitted."""
    try:
        model._validate_params()
    except (ValueError, TypeError) as exc:
        raise fail(model, "params", str(exc)) from exc
    expected = ("startprob_", "transmat_", *model._emission_names())
    if not isinstance(tensors, dict) or set(tensors) != set(expected):
        found = sorted(tensors) if isinstance(tensors, dict) else tensors
        raise fail(model, "tensors", f"expected exactly {sorted(expected)}, got {found}")
    if not isinstance(attributes, dict):
        raise fail(model, "attributes", f"must be a JSON object, got {type(attributes).__name__}")
    arrays = {}
    for name in expected:
        tensor = tensors[name]
        if tensor.dtype not in (torch.float32, torch.float64):
            raise fail(model, name, f"must hold float32 or float64 values, got {tensor.dtype}")
        if not 1 <= tensor.dim() <= MAX_ARRAY_DIMS or tensor.numel() == 0:
            raise fail(model, name, f"has shape {tuple(tensor.shape)}, not a learned array")
        arrays[name] = tensor.numpy().astype(np.float64)
    for name, value in arrays.items():
        setattr(model, name, value)
    try:
        model._check_parameters()  # the engine's checks, then the emission's own
        n_features = attributes.get("n_features_", 0)
        if isinstance(n_features, bool) or not isinstance(n_features, int) or n_features < 0:
            raise fail(model, "n_features_", f"must be an integer >= 0, got {n_features!r}")
        emission = model._emission
        if n_features and emission.data != "symbols" and n_features != emission.n_features():
            raise fail(model, "n_features_", f"is {n_features} but the learned arrays have "
                                             f"{emission.n_features()} features")
        history = attributes.get("history", [])
        if not isinstance(history, list) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
            for v in history
        ):
            raise fail(model, "history", "must be a list of finite log-likelihoods")
    except (ValueError, TypeError, IndexError) as exc:
        for name in expected:
            model.__dict__.pop(name, None)
        if isinstance(exc, io.ModelFileError):
            raise
        raise fail(model, _field_named(str(exc), expected), str(exc)) from exc


def _field_named(message: str, names: tuple[str, ...]) -> str:
    """The learned array an emission's error message names, else "parameters"."""
    publics = {name: name.strip("_") + "_" for name in names}
    for name, public in publics.items():
        if message.startswith((name, public)):
            return public
    return "parameters"
