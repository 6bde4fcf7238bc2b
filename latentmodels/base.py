"""The contract every latentmodels model honours.

``fit`` learns, ``transform`` maps data to the latent space, ``inverse_transform`` maps
latent codes back to data space, ``sample`` draws new data, ``score_samples`` gives a
per-sample log-likelihood (or bound; higher means more typical), and ``save``/``load``
persist through safetensors + JSON. Models are scikit-learn estimators: hyper-parameters
are exactly the ``__init__`` arguments, learned state ends in ``_``.
"""

from __future__ import annotations

import importlib
import os
from abc import ABC, abstractmethod
from typing import Any, ClassVar, TypeVar

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ._internal import io
from ._internal.geometry import interpolate as interpolate_path

M = TypeVar("M", bound="LatentModel")

_REGISTRY: dict[str, type[LatentModel]] = {}
# Families whose modules load lazily (numba): where to find a class named in a file.
_LAZY_MODULES = {
    "LDA": "latentmodels.lda.model",
    "GaussianHMM": "latentmodels.hmm",
    "GMMHMM": "latentmodels.hmm",
    "CategoricalHMM": "latentmodels.hmm",
    "PoissonHMM": "latentmodels.hmm",
}


class LatentModel(TransformerMixin, BaseEstimator, ABC):
    """Base class of all latent variable models.

    Subclasses implement ``fit``, ``transform``, ``inverse_transform``, ``sample`` and
    ``score_samples``, plus two persistence hooks: ``_get_state`` returns the learned
    state as ``(tensors, attributes)`` and ``_set_state`` restores it.
    """

    #: Attributes restored from JSON that must become tuples again (JSON has only lists).
    _tuple_params: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _REGISTRY[cls.__name__] = cls

    # -- the contract ------------------------------------------------------------------
    @abstractmethod
    def fit(self: M, X: Any, y: Any = None) -> M:
        """Learn the model from ``X``; returns ``self``."""

    @abstractmethod
    def transform(self, X: Any) -> np.ndarray:
        """Map data to latent representations."""

    @abstractmethod
    def inverse_transform(self, Z: Any) -> np.ndarray:
        """Map latent representations back to data space."""

    @abstractmethod
    def sample(self, n_samples: int = 1, *, random_state: Any = None) -> Any:
        """Draw new data from the fitted model."""

    @abstractmethod
    def score_samples(self, X: Any) -> np.ndarray:
        """Per-sample log-likelihood or bound; higher means more typical."""

    def score(self, X: Any, y: Any = None) -> float:
        """Mean of :meth:`score_samples` (higher is better), for model selection.

        Hidden Markov models keep hmmlearn's meaning instead: the total log-likelihood
        of all sequences.
        """
        return float(np.mean(self.score_samples(X)))

    # -- conveniences built only on the contract ---------------------------------------
    def reconstruct(self, X: Any) -> np.ndarray:
        """Encode then decode ``X``: ``inverse_transform(transform(X))``."""
        return self.inverse_transform(self.transform(X))

    def interpolate(
        self, start: Any, end: Any, steps: int = 10, *, method: str = "linear"
    ) -> np.ndarray:
        """Decode ``steps`` points on the latent path between two inputs.

        ``method`` is ``"linear"`` or ``"spherical"`` (slerp). Returns an array of
        ``steps`` decoded samples, the first close to ``start`` and the last to ``end``.
        """
        return interpolate_path(self, start, end, steps=steps, method=method)

    # -- persistence -------------------------------------------------------------------
    def _get_state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        raise NotImplementedError(f"{type(self).__name__} does not implement saving")

    def _set_state(self, tensors: dict[str, torch.Tensor], attributes: dict[str, Any]) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not implement loading")

    def save(self, path: str | os.PathLike) -> str:
        """Save the fitted model to ``path`` (safetensors + JSON, written atomically).

        Returns the path written. Load it back with ``type(model).load(path)`` or
        :func:`latentmodels.load`.
        """
        check_is_fitted(self)
        tensors, attributes = self._get_state()
        document = {
            "class": type(self).__name__,
            "params": jsonable_params(self.get_params(deep=False)),
            "attributes": attributes,
        }
        return os.fspath(io.write_tensor_file(path, tensors, document))

    @classmethod
    def load(cls: type[M], path: str | os.PathLike) -> M:
        """Load a model saved with :meth:`save`; never executes code from the file."""
        document, tensors = io.read_tensor_file(path)
        class_name = document.get("class")
        if class_name not in _REGISTRY and class_name in _LAZY_MODULES:
            importlib.import_module(_LAZY_MODULES[class_name])
        target = _REGISTRY.get(class_name)
        if target is None:
            raise io.ModelFileError(f"{path} holds an unknown model class {class_name!r}")
        if not issubclass(target, cls):
            raise io.ModelFileError(
                f"{path} holds a {class_name}, not a {cls.__name__}; "
                f"load it with {class_name}.load or latentmodels.load"
            )
        params = dict(document.get("params", {}))
        for name in target._tuple_params:
            if isinstance(params.get(name), list):
                params[name] = tuple(params[name])
        model = target(**params)
        model._set_state(tensors, document.get("attributes", {}))
        return model


def jsonable_params(params: dict[str, Any]) -> dict[str, Any]:
    """Hyper-parameters as JSON; a numpy random generator (not serialisable) becomes None."""
    return {
        name: None if isinstance(value, (np.random.Generator, np.random.RandomState)) else value
        for name, value in params.items()
    }


def load(path: str | os.PathLike) -> LatentModel:
    """Load any latentmodels model from ``path``.

    Example:
        >>> import latentmodels  # doctest: +SKIP
        >>> model = latentmodels.load("vae.lm")  # doctest: +SKIP
    """
    return LatentModel.load(path)


def check_fitted(model: BaseEstimator) -> None:
    """Raise sklearn's ``NotFittedError`` with a clear message if ``model`` is not fitted."""
    check_is_fitted(model)
