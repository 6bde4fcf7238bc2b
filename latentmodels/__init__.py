"""latentmodels: fit latent variable models, look inside the latent space, put it to work.

Example:
    >>> from latentmodels import VAE, datasets
    >>> X, y = datasets.load_mnist()
    >>> vae = VAE(latent_dim=8, epochs=1, verbose=0, random_state=0).fit(X[:256])
    >>> vae.transform(X[:4]).shape
    (4, 8)
"""

from . import datasets
from .models import (
    GAN,
    VAE,
    Autoencoder,
    ConditionalGAN,
    ConditionalVAE,
    DebiasingVAE,
    DenoisingAutoencoder,
    LatentModel,
    load,
)
from .tasks.anomaly import AnomalyDetector
from .training import TrainingDivergedError

__version__ = "0.1.0"

# numba-compiled families import lazily: `import latentmodels` stays quick.
_LAZY = {
    "GaussianHMM": "hmm",
    "GMMHMM": "hmm",
    "CategoricalHMM": "hmm",
    "PoissonHMM": "hmm",
    "select_n_states": "hmm",
    "LDA": "models.lda",
    "TextCorpus": "text",
    "Vocabulary": "text",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'latentmodels' has no attribute {name!r}")


__all__ = [
    "AnomalyDetector",
    "CategoricalHMM",
    "GMMHMM",
    "GaussianHMM",
    "LDA",
    "PoissonHMM",
    "TextCorpus",
    "VAE",
    "Autoencoder",
    "ConditionalGAN",
    "ConditionalVAE",
    "DebiasingVAE",
    "DenoisingAutoencoder",
    "GAN",
    "LatentModel",
    "TrainingDivergedError",
    "Vocabulary",
    "datasets",
    "load",
    "select_n_states",
]
