"""Model families, one file each; all honour the contract in :mod:`.base`."""

from .autoencoder import Autoencoder, DenoisingAutoencoder
from .base import LatentModel, load
from .debiasing import DebiasingVAE
from .gan import GAN, ConditionalGAN
from .vae import VAE, ConditionalVAE

__all__ = [
    "Autoencoder",
    "ConditionalGAN",
    "ConditionalVAE",
    "DebiasingVAE",
    "DenoisingAutoencoder",
    "GAN",
    "LatentModel",
    "VAE",
    "load",
]
