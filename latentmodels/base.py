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
# Where to find a class named in a file: public classes import on first use, so a fresh
# ``latentmodels.load`` may meet a class not yet registered (tests check this covers them all).
_LAZY_MODULES = {
    "Autoencoder": "latentmodels.deep.autoencoder",
    "DenoisingAutoencoder": "latentmodels.deep.autoencoder",
    "VAE": "latentmodels.deep.vae",
    "ConditionalVAE": "latentmodels.deep.vae",
    "DebiasingVAE": "latentmodels.deep.debiasing",
    "GAN": "latentmodels.deep.gan",
    "ConditionalGAN": "latentmodels.deep.gan",
    "PCA": "latentmodels.linear.models",
    "ProbabilisticPCA": "latentmodels.linear.models",
    "FactorAnalysis": "latentmodels.linear.models",
    "LDA": "latentmodels.lda.model",
    "GaussianHMM": "latentmodels.hmm",
    "GMMHMM": "latentmodels.hmm",
    "CategoricalHMM": "latentmodels.hmm",
    "PoissonHMM": "latentmodels.hmm",
    "MultinomialHMM": "latentmodels.hmm",
}
# Plug-in modules to import before loading a class this library does not define (the
# variable the HMM emission registry reads too).
_PLUGINS_ENV = "LATENTMODELS_HMM_EMISSIONS"


class LatentModel(TransformerMixin, BaseEstimator, ABC):
    """Base class of all latent variable models.

    ``fit`` learns, ``transform`` maps data to the latent space, ``inverse_transform`` maps
    latent codes back to data space, ``sample`` draws new data and ``score_samples`` gives a
    per-sample log-likelihood (or bound). Subclasses implement those five, plus two
    persistence hooks: ``_get_state`` returns the learned state as ``(tensors, attributes)``
    and ``_set_state`` restores it. Hyper-parameters are exactly the ``__init__`` arguments;
    learned state ends in ``_``.

    Examples
    --------
    >>> from latentmodels import VAE, datasets
    >>> X, _ = datasets.load_mnist()
    >>> vae = VAE(latent_dim=2, epochs=1, verbose=0, random_state=0).fit(X[:64])
    >>> isinstance(vae, LatentModel)
    True
    >>> vae.transform(X[:5]).shape, vae.inverse_transform(vae.transform(X[:5])).shape
    ((5, 2), (5, 28, 28))
    """

    #: Attributes restored from JSON that must become tuples again (JSON has only lists).
    _tuple_params: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _REGISTRY[cls.__name__] = cls

    # -- the contract ------------------------------------------------------------------
    @abstractmethod
    def fit(self: M, X: Any, y: Any = None) -> M:
        """Learn the model from ``X``.

        Parameters
        ----------
        X : array-like
            Training data, samples along the first axis.
        y : None or array-like
            Ignored by unsupervised models; labels for conditional ones.

        Returns
        -------
        self
            The fitted model.

        Examples
        --------
        >>> from latentmodels import VAE, datasets
        >>> X, _ = datasets.load_mnist()
        >>> vae = VAE(latent_dim=2, epochs=1, verbose=0, random_state=0).fit(X[:64])
        >>> vae.latent_dim
        2
        """

    @abstractmethod
    def transform(self, X: Any) -> np.ndarray:
        """Map data to latent representations.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Data shaped like the training data.

        Returns
        -------
        numpy.ndarray of shape (n_samples, n_components)
            The latent codes.

        Examples
        --------
        >>> from latentmodels import VAE, datasets
        >>> X, _ = datasets.load_mnist()
        >>> vae = VAE(latent_dim=2, epochs=1, verbose=0, random_state=0).fit(X[:64])
        >>> vae.transform(X[:3]).shape
        (3, 2)
        """

    @abstractmethod
    def inverse_transform(self, Z: Any) -> np.ndarray:
        """Map latent representations back to data space.

        Parameters
        ----------
        Z : array-like of shape (n_samples, n_components)
            Latent codes.

        Returns
        -------
        numpy.ndarray of shape (n_samples, ...)
            Decoded data.

        Examples
        --------
        >>> from latentmodels import VAE, datasets
        >>> X, _ = datasets.load_mnist()
        >>> vae = VAE(latent_dim=2, epochs=1, verbose=0, random_state=0).fit(X[:64])
        >>> vae.inverse_transform(np.zeros((3, 2), dtype=np.float32)).shape
        (3, 28, 28)
        """

    @abstractmethod
    def sample(self, n_samples: int = 1, *, random_state: Any = None) -> Any:
        """Draw new data from the fitted model.

        Parameters
        ----------
        n_samples : int, default=1
            How many samples.
        random_state : None, int or numpy.random.Generator
            Seed of the draw.

        Returns
        -------
        numpy.ndarray or tuple
            The samples (some families also return the latent states).

        Examples
        --------
        >>> from latentmodels import VAE, datasets
        >>> X, _ = datasets.load_mnist()
        >>> vae = VAE(latent_dim=2, epochs=1, verbose=0, random_state=0).fit(X[:64])
        >>> vae.sample(4, random_state=0).shape
        (4, 28, 28)
        """

    @abstractmethod
    def score_samples(self, X: Any) -> np.ndarray:
        """Per-sample log-likelihood or bound; higher means more typical.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Data shaped like the training data.

        Returns
        -------
        numpy.ndarray of shape (n_samples,)
            One score per sample.

        Examples
        --------
        >>> from latentmodels import VAE, datasets
        >>> X, _ = datasets.load_mnist()
        >>> vae = VAE(latent_dim=2, epochs=1, verbose=0, random_state=0).fit(X[:64])
        >>> vae.score_samples(X[:3]).shape
        (3,)
        """

    def score(self, X: Any, y: Any = None) -> float:
        """Mean of :meth:`score_samples` (higher is better), for model selection.

        Hidden Markov models keep hmmlearn's meaning instead: the total log-likelihood
        of all sequences.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Data shaped like the training data.
        y : None
            Ignored.

        Returns
        -------
        float
            The mean score.

        Examples
        --------
        >>> from latentmodels import VAE, datasets
        >>> X, _ = datasets.load_mnist()
        >>> vae = VAE(latent_dim=2, epochs=1, verbose=0, random_state=0).fit(X[:64])
        >>> isinstance(vae.score(X[:8]), float)
        True
        """
        return float(np.mean(self.score_samples(X)))

    # -- conveniences built only on the contract ---------------------------------------
    def reconstruct(self, X: Any) -> np.ndarray:
        """Encode then decode ``X``: ``inverse_transform(transform(X))``.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Data shaped like the training data.

        Returns
        -------
        numpy.ndarray
            The reconstructions, shaped like ``X``.

        Examples
        --------
        >>> from latentmodels import VAE, datasets
        >>> X, _ = datasets.load_mnist()
        >>> vae = VAE(latent_dim=2, epochs=1, verbose=0, random_state=0).fit(X[:64])
        >>> vae.reconstruct(X[:3]).shape
        (3, 28, 28)
        """
        return self.inverse_transform(self.transform(X))

    def interpolate(
        self, start: Any, end: Any, steps: int = 10, *, method: str = "linear"
    ) -> np.ndarray:
        """Decode ``steps`` points on the latent path between two inputs.

        Parameters
        ----------
        start, end : array-like
            Two single samples (no batch axis).
        steps : int, default=10
            Number of decoded points, at least 2.
        method : {"linear", "spherical"}, default="linear"
            Straight line or slerp between the two codes.

        Returns
        -------
        numpy.ndarray of shape (steps, ...)
            Decoded samples, the first close to ``start`` and the last to ``end``.

        Examples
        --------
        >>> from latentmodels import VAE, datasets
        >>> X, _ = datasets.load_mnist()
        >>> vae = VAE(latent_dim=2, epochs=1, verbose=0, random_state=0).fit(X[:64])
        >>> vae.interpolate(X[0], X[1], steps=5, method="spherical").shape
        (5, 28, 28)
        """
        return interpolate_path(self, start, end, steps=steps, method=method)

    # -- persistence -------------------------------------------------------------------
    def _get_state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        raise NotImplementedError(f"{type(self).__name__} does not implement saving")

    def _set_state(self, tensors: dict[str, torch.Tensor], attributes: dict[str, Any]) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not implement loading")

    def save(self, path: str | os.PathLike) -> str:
        """Save the fitted model to ``path`` (safetensors + JSON, written atomically).

        Load it back with ``type(model).load(path)`` or :func:`latentmodels.load`.

        Parameters
        ----------
        path : str or os.PathLike
            The file to write.

        Returns
        -------
        str
            The path written.

        Examples
        --------
        >>> import os, tempfile
        >>> from latentmodels import VAE, datasets
        >>> X, _ = datasets.load_mnist()
        >>> vae = VAE(latent_dim=2, epochs=1, verbose=0, random_state=0).fit(X[:64])
        >>> path = vae.save(os.path.join(tempfile.mkdtemp(), "vae.lm"))
        >>> np.allclose(VAE.load(path).transform(X[:2]), vae.transform(X[:2]))
        True
        """
        check_is_fitted(self)
        tensors, attributes = self._get_state()
        document = {
            "class": type(self).__name__,
            # Which module defines the class: a fresh process loading a plug-in's model
            # is told what to import (it is never imported from the file).
            "module": type(self).__module__,
            "params": jsonable_params(self.get_params(deep=False)),
            "attributes": attributes,
        }
        return os.fspath(io.write_tensor_file(path, tensors, document))

    @classmethod
    def load(cls: type[M], path: str | os.PathLike) -> M:
        """Load a model saved with :meth:`save`; never executes code from the file.

        Called on a subclass, the file must hold that class (or a subclass of it).

        Parameters
        ----------
        path : str or os.PathLike
            A file written by :meth:`save`.

        Returns
        -------
        LatentModel
            The model, of the class recorded in the file.

        Raises
        ------
        latentmodels._internal.io.ModelFileError
            For a foreign, corrupt or too new file, or one holding another class.

        Examples
        --------
        >>> import os, tempfile
        >>> from latentmodels import VAE, datasets
        >>> X, _ = datasets.load_mnist()
        >>> vae = VAE(latent_dim=2, epochs=1, verbose=0, random_state=0).fit(X[:64])
        >>> path = vae.save(os.path.join(tempfile.mkdtemp(), "vae.lm"))
        >>> type(LatentModel.load(path)).__name__
        'VAE'
        """
        document, tensors = io.read_tensor_file(path)
        class_name = document.get("class")
        if not isinstance(class_name, str):
            raise io.ModelFileError(f"{path} names no model class (class: {class_name!r})")
        if class_name not in _REGISTRY and class_name in _LAZY_MODULES:
            importlib.import_module(_LAZY_MODULES[class_name])
        if class_name not in _REGISTRY and os.environ.get(_PLUGINS_ENV):
            # Modules the user named in the environment (never a name from the file).
            for module in filter(None, os.environ[_PLUGINS_ENV].replace(" ", "").split(",")):
                importlib.import_module(module)
        target = _REGISTRY.get(class_name) if isinstance(class_name, str) else None
        if target is None:
            raise io.ModelFileError(_unknown_class_message(path, class_name,
                                                           document.get("module")))
        if not issubclass(target, cls):
            raise io.ModelFileError(
                f"{path} holds a {class_name}, not a {cls.__name__}; "
                f"load it with {class_name}.load or latentmodels.load"
            )
        params = document.get("params", {})
        if not isinstance(params, dict):
            raise io.ModelFileError(f"{path}: field 'params' must be a JSON object")
        params = dict(params)
        for name in target._tuple_params:
            if isinstance(params.get(name), list):
                params[name] = tuple(params[name])
        try:
            model = target(**params)
        except TypeError as exc:  # a hyper-parameter the class does not have
            raise io.ModelFileError(f"{path}: field 'params': {exc}") from exc
        model._set_state(tensors, document.get("attributes", {}))
        return model


def _unknown_class_message(path: Any, class_name: Any, module: Any) -> str:
    """Why a file's class cannot be loaded, and what to import when a plug-in defines it."""
    message = f"{path} holds an unknown model class {class_name!r}"
    if isinstance(module, str) and module.replace(".", "").replace("_", "").isalnum():
        if not module.startswith("latentmodels."):
            return (f"{message}, defined in the module {module!r}: import {module} before "
                    f"loading (in Python: `import {module}`; on the command line, for an HMM "
                    f"emission: {_PLUGINS_ENV}={module})")
        return f"{message} (from {module}, which this version of latentmodels does not have)"
    return message


def jsonable_params(params: dict[str, Any]) -> dict[str, Any]:
    """Hyper-parameters as JSON; a numpy random generator (not serialisable) becomes None.

    Examples
    --------
    >>> jsonable_params({"latent_dim": 8, "random_state": np.random.default_rng(0)})
    {'latent_dim': 8, 'random_state': None}
    """
    return {
        name: None if isinstance(value, (np.random.Generator, np.random.RandomState)) else value
        for name, value in params.items()
    }


def load(path: str | os.PathLike) -> LatentModel:
    """Load any latentmodels model from ``path``.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by :meth:`LatentModel.save`.

    Returns
    -------
    LatentModel
        The model, of the class recorded in the file.

    Examples
    --------
    >>> import os, tempfile
    >>> from latentmodels import VAE, datasets
    >>> X, _ = datasets.load_mnist()
    >>> vae = VAE(latent_dim=2, epochs=1, verbose=0, random_state=0).fit(X[:64])
    >>> path = vae.save(os.path.join(tempfile.mkdtemp(), "vae.lm"))
    >>> load(path).transform(X[:2]).shape
    (2, 2)
    """
    return LatentModel.load(path)


def check_fitted(model: BaseEstimator) -> None:
    """Raise sklearn's ``NotFittedError`` with a clear message if ``model`` is not fitted.

    Parameters
    ----------
    model : sklearn.base.BaseEstimator
        The model to check.

    Examples
    --------
    >>> from latentmodels import VAE
    >>> check_fitted(VAE())
    Traceback (most recent call last):
    ...
    sklearn.exceptions.NotFittedError: This VAE instance is not fitted yet...
    """
    check_is_fitted(model)
