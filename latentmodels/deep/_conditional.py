"""Class-label plumbing shared by the class-conditional deep models (ConditionalVAE,
ConditionalGAN): labels encoded at fit, one-hot conditions for the networks, label checks at
inference, and ``classes_`` saved with the model."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.utils.validation import check_is_fitted

from .._internal import io
from .._internal.validation import check_data
from . import _file


class ClassConditional:
    """Mixin placed before the model class: ``class ConditionalVAE(ClassConditional, VAE)``.

    The model's networks take a one-hot condition of ``len(classes_)`` columns; batches carry
    the encoded label (0..n_classes-1) as their second tensor.

    Attributes
    ----------
    classes_ : ndarray
        The sorted class labels seen in ``fit``.
    class_prior_ : ndarray
        Each class's share of the training samples.

    Examples
    --------
    >>> from latentmodels import ConditionalVAE
    >>> from latentmodels.deep._conditional import ClassConditional
    >>> issubclass(ConditionalVAE, ClassConditional)
    True
    """

    classes_: np.ndarray

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()  # type: ignore[misc]
        tags.target_tags.required = True  # fit needs the class labels
        return tags

    @property
    def _condition_dim(self) -> int:
        return len(self.classes_)

    def _condition(self, batch: list[torch.Tensor]) -> torch.Tensor | None:
        return F.one_hot(batch[1], len(self.classes_)).to(batch[0].dtype)

    def _encode_fit_labels(self, X: Any, y: Any) -> np.ndarray:
        """Check the labels given to ``fit``, set ``classes_``; returns them as 0..C-1."""
        n = len(check_data(X, "X"))
        if y is None:
            raise ValueError(f"y: {type(self).__name__}.fit requires y to be passed, but the "
                             "target y is None (it needs the class labels)")
        labels = np.asarray(y)
        if labels.ndim != 1 or len(labels) != n:
            raise ValueError(
                f"y must be 1-D with one label per sample of X ({n}), got shape {labels.shape}"
            )
        self.classes_, encoded, counts = np.unique(labels, return_inverse=True,
                                                   return_counts=True)
        self.class_prior_ = counts / counts.sum()
        return encoded.astype(np.int64)

    def _class_conditions(self, n: int) -> list[np.ndarray]:
        """For each class in ``classes_``, its one-hot condition repeated for ``n`` rows."""
        eye = np.eye(len(self.classes_), dtype=np.float32)
        return [np.repeat(eye[k : k + 1], n, axis=0) for k in range(len(self.classes_))]

    def _log_class_prior(self) -> np.ndarray:
        # Files saved before class_prior_ existed: a uniform prior.
        prior = getattr(self, "class_prior_", None)
        if prior is None:
            prior = np.full(len(self.classes_), 1.0 / len(self.classes_))
        return np.log(np.asarray(prior, dtype=np.float64))

    def _one_hot(self, y: Any, n: int, name: str = "y") -> np.ndarray:
        """One-hot rows for ``y``: one known label for all ``n`` rows, or one per row."""
        check_is_fitted(self)
        if y is None:
            raise ValueError(f"{name}: a {type(self).__name__} needs the class labels y here")
        labels = np.asarray(y)
        if labels.ndim == 0:
            labels = np.full(n, labels.item())
        if labels.shape != (n,):
            raise ValueError(
                f"{name} must hold {n} labels (one per sample), got shape {labels.shape}"
            )
        unknown = ~np.isin(labels, self.classes_)
        if unknown.any():
            unseen = sorted(set(labels[unknown].tolist()))[:5]
            raise ValueError(
                f"{name} holds classes not seen in fit: {unseen}; "
                f"known classes are {self.classes_.tolist()}"
            )
        index = np.searchsorted(self.classes_, labels)
        return np.eye(len(self.classes_), dtype=np.float32)[index]

    def _cycled_labels(self, n: int) -> np.ndarray:
        """``n`` labels cycling through ``classes_`` in order (sampling with ``y=None``)."""
        return self.classes_[np.arange(n) % len(self.classes_)]

    def _extra_state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        tensors, attributes = super()._extra_state()  # type: ignore[misc]
        attributes = {**attributes, "classes_": self.classes_.tolist()}
        if hasattr(self, "class_prior_"):
            attributes["class_prior_"] = self.class_prior_.tolist()
        return tensors, attributes

    def _set_extra_state(self, tensors: dict[str, torch.Tensor], attributes: dict) -> None:
        super()._set_extra_state(tensors, attributes)  # type: ignore[misc]
        self.classes_ = _file.check_classes(self, attributes.get("classes_"))  # type: ignore[arg-type]
        if "class_prior_" in attributes:
            prior = np.asarray(attributes["class_prior_"], dtype=np.float64)
            if (prior.shape != self.classes_.shape or not np.isfinite(prior).all()
                    or (prior < 0).any()):
                raise io.ModelFileError(f"class_prior_ must hold {len(self.classes_)} "
                                        "non-negative finite numbers, one per class")
            self.class_prior_ = prior
