"""Reading an LDA file without trusting it.

Everything a saved LDA records is checked against the tensors and against each other
before the model (and so any compiled kernel) sees it: topic width = vocabulary size =
``n_features_in``, ``n_components`` = topic rows, the priors' shapes and signs, finite
positive topic pseudo-counts, counts that are counts, and every vocabulary field. Files
also carry a SHA-256 *digest* of their tensors, attributes and hyper-parameters, so an
edited or corrupted value is refused rather than loaded as a different model. A problem
raises :class:`~latentmodels._internal.io.ModelFileError` naming the field.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

import numpy as np
import torch

from .._internal import io
from ..base import jsonable_params
from .text import Vocabulary

TENSORS = ("components", "doc_topic_prior")
ATTRIBUTES = (
    "topic_word_prior", "n_features_in", "n_iter", "n_batch_iter", "mean_doc_length", "bound",
    "vocabulary", "digest",
)


def _canonical(value: Any) -> str:
    return json.dumps(io.to_jsonable(value), sort_keys=True, allow_nan=True)


def digest(
    tensors: dict[str, torch.Tensor], attributes: dict[str, Any], params: dict[str, Any]
) -> str:
    """SHA-256 over the tensors (name, dtype, shape, bytes), attributes and parameters.

    Examples
    --------
    >>> len(digest({"a": torch.zeros(2)}, {"n": 1}, {"k": 2}))
    64
    """
    h = hashlib.sha256()
    for name in sorted(tensors):
        array = tensors[name].detach().cpu().contiguous().numpy()
        h.update(f"{name}|{array.dtype.str}|{array.shape}|".encode())
        h.update(array.tobytes())
    rest = {k: v for k, v in attributes.items() if k != "digest"}
    h.update(_canonical(rest).encode())
    h.update(_canonical(jsonable_params(params)).encode())
    return h.hexdigest()


def _fail(field: str, message: str) -> io.ModelFileError:
    return io.ModelFileError(f"LDA file field {field!r}: {message}")


def _count(attributes: dict[str, Any], name: str, default: int) -> int:
    value = attributes.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _fail(name, f"must be an integer >= 0, got {value!r}")
    return value


def _real(attributes: dict[str, Any], name: str, default: Any, *, positive: bool) -> float:
    value = attributes.get(name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(name, f"must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        raise _fail(name, f"must be finite and {'>' if positive else '>='} 0, got {value!r}")
    return value


def _matrix(tensors: dict[str, torch.Tensor], name: str, ndim: int) -> np.ndarray:
    tensor = tensors[name]
    if not isinstance(tensor, torch.Tensor) or tensor.dtype not in (torch.float32, torch.float64):
        found = getattr(tensor, "dtype", type(tensor).__name__)
        raise _fail(name, f"must hold float32 or float64 values, got {found}")
    if tensor.dim() != ndim or any(s == 0 for s in tensor.shape):
        raise _fail(name, f"must be a non-empty {ndim}-D array, got shape {tuple(tensor.shape)}")
    array = tensor.numpy().astype(np.float64)
    if not (np.isfinite(array).all() and (array > 0).all()):
        raise _fail(name, "must hold finite values > 0")
    return array


def checked_state(
    tensors: dict[str, torch.Tensor], attributes: dict[str, Any], params: dict[str, Any]
) -> dict[str, Any]:
    """The learned attributes an LDA file describes, each checked; see the module doc.

    ``params`` are the (already validated) hyper-parameters read from the same file.
    Returns ``{attribute_name_: value}``; raises ``ModelFileError`` naming the bad field.
    """
    if not isinstance(tensors, dict) or set(tensors) != set(TENSORS):
        names = sorted(tensors) if isinstance(tensors, dict) else tensors
        raise _fail("tensors", f"expected exactly {list(TENSORS)}, got {names}")
    if not isinstance(attributes, dict):
        raise _fail("attributes", f"must be a JSON object, got {type(attributes).__name__}")
    unknown = sorted(set(attributes) - set(ATTRIBUTES))
    if unknown:
        raise _fail("attributes", f"unknown fields {unknown}")
    for name in ("topic_word_prior", "n_features_in"):
        if name not in attributes:
            raise _fail(name, "is missing")
    recorded = attributes.get("digest")
    if recorded is not None and recorded != digest(tensors, attributes, params):
        raise _fail("digest", "the file's contents do not match the digest it records "
                              "(the file is corrupt or was edited)")
    components = _matrix(tensors, "components", 2)
    alpha = _matrix(tensors, "doc_topic_prior", 1)
    n_topics, width = components.shape
    if n_topics != params["n_components"]:
        raise _fail("components", f"has {n_topics} topic rows but the file's n_components "
                                  f"is {params['n_components']}")
    if alpha.shape != (n_topics,):
        raise _fail("doc_topic_prior", f"has shape {alpha.shape}, expected ({n_topics},)")
    n_features = _count(attributes, "n_features_in", 0)
    if n_features != width:
        raise _fail("n_features_in", f"is {n_features} but the topic matrix has {width} words")
    state: dict[str, Any] = {
        "components_": components,
        "doc_topic_prior_": alpha,
        "n_features_in_": n_features,
        "topic_word_prior_": _real(attributes, "topic_word_prior", None, positive=True),
        "n_iter_": _count(attributes, "n_iter", 0),
        "n_batch_iter_": _count(attributes, "n_batch_iter", 0),
        "mean_doc_length_": _real(attributes, "mean_doc_length", 100.0, positive=False),
    }
    bound = attributes.get("bound", [])
    if not isinstance(bound, list) or not all(
        isinstance(b, (int, float)) and not isinstance(b, bool) and math.isfinite(b)
        for b in bound
    ):
        raise _fail("bound", "must be a list of finite numbers")
    state["bound_"] = [float(b) for b in bound]
    vocab = attributes.get("vocabulary")
    if vocab is None:
        state["vocabulary_"] = None
    else:
        try:
            vocabulary = Vocabulary.from_dict(vocab)
        except (TypeError, ValueError, RecursionError) as exc:
            raise _fail("vocabulary", str(exc)) from exc
        if len(vocabulary) != width:
            raise _fail("vocabulary", f"has {len(vocabulary)} words but the topic matrix has "
                                      f"{width}")
        state["vocabulary_"] = vocabulary
    return state
