"""Deep latent variable models on PyTorch, one file each, all trained by :mod:`.training`.

- :mod:`.autoencoder`: :class:`Autoencoder`, :class:`DenoisingAutoencoder`;
- :mod:`.vae`: :class:`VAE` (Gaussian/Bernoulli likelihoods, beta-VAE, IWAE scoring) and
  :class:`ConditionalVAE`;
- :mod:`.debiasing`: :class:`DebiasingVAE`;
- :mod:`.gan`: :class:`GAN` and :class:`ConditionalGAN`;
- :mod:`._base`: the estimator machinery they share; :mod:`.nn`: network blocks;
  :mod:`.corruption`: input noise for denoising.
"""

from .autoencoder import Autoencoder, DenoisingAutoencoder
from .debiasing import DebiasingVAE
from .gan import GAN, ConditionalGAN
from .training import Trainer, TrainingConfig, TrainingDivergedError
from .vae import VAE, ConditionalVAE

__all__ = [
    "Autoencoder",
    "ConditionalGAN",
    "ConditionalVAE",
    "DebiasingVAE",
    "DenoisingAutoencoder",
    "GAN",
    "Trainer",
    "TrainingConfig",
    "TrainingDivergedError",
    "VAE",
]
