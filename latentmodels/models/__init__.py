"""Model families, one file each; all honour the contract in :mod:`.base`."""

from .autoencoder import Autoencoder, DenoisingAutoencoder
from .base import LatentModel, load
from .debiasing import DebiasingVAE
from .vae import VAE, ConditionalVAE

__all__ = [
    "Autoencoder",
    "ConditionalVAE",
    "DebiasingVAE",
    "DenoisingAutoencoder",
    "LatentModel",
    "VAE",
    "load",
]
