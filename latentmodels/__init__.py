"""latentmodels: fit latent variable models, look inside the latent space, put it to work.

Every public name is listed once, in ``_PUBLIC``, and imported on first use, so
``import latentmodels`` stays quick and torch, numba and matplotlib load only when a model
that needs them is touched.

Examples
--------
>>> from latentmodels import VAE, datasets
>>> X, y = datasets.load_mnist()
>>> vae = VAE(latent_dim=8, epochs=1, verbose=0, random_state=0).fit(X[:256])
>>> vae.transform(X[:4]).shape
(4, 8)
"""

from __future__ import annotations

import importlib
from typing import Any

from ._internal.threads import prefer_passive_waiting as _prefer_passive_waiting

# Idle OpenMP workers (torch, numba) must sleep rather than spin on cores other processes
# need; the runtimes read this once, when torch or numba is first imported.
_prefer_passive_waiting()

__version__ = "0.1.0"

# public name -> module that defines it (relative to this package)
_PUBLIC = {
    "LatentModel": ".base",
    "load": ".base",
    "Autoencoder": ".deep.autoencoder",
    "DenoisingAutoencoder": ".deep.autoencoder",
    "VAE": ".deep.vae",
    "ConditionalVAE": ".deep.vae",
    "DebiasingVAE": ".deep.debiasing",
    "GAN": ".deep.gan",
    "ConditionalGAN": ".deep.gan",
    "TrainingDivergedError": ".deep.training",
    "GaussianHMM": ".hmm",
    "GMMHMM": ".hmm",
    "CategoricalHMM": ".hmm",
    "PoissonHMM": ".hmm",
    "MultinomialHMM": ".hmm",
    "select_n_states": ".hmm",
    "PCA": ".linear.models",
    "ProbabilisticPCA": ".linear.models",
    "FactorAnalysis": ".linear.models",
    "LDA": ".lda.model",
    "TextCorpus": ".lda.text",
    "Vocabulary": ".lda.text",
    "AnomalyDetector": ".tasks.anomaly",
}
# subpackages reachable as attributes (``latentmodels.datasets.load_mnist()``)
_SUBMODULES = ("datasets", "deep", "hmm", "lda", "linear", "metrics", "plots", "tasks")

__all__ = sorted(_PUBLIC) + ["datasets"]


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        value = getattr(importlib.import_module(_PUBLIC[name], __name__), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module 'latentmodels' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC) | set(_SUBMODULES))
