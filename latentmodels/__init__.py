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
    VAE,
    Autoencoder,
    ConditionalVAE,
    DenoisingAutoencoder,
    LatentModel,
    load,
)
from .training import TrainingDivergedError

__version__ = "0.1.0"

__all__ = [
    "VAE",
    "Autoencoder",
    "ConditionalVAE",
    "DenoisingAutoencoder",
    "LatentModel",
    "TrainingDivergedError",
    "datasets",
    "load",
]
