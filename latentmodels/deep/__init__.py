"""Deep latent variable models on PyTorch, one file each, all trained by :mod:`.training`.

- :mod:`.autoencoder`: :class:`Autoencoder`, :class:`DenoisingAutoencoder`;
- :mod:`.vae`: :class:`VAE` (Gaussian/Bernoulli likelihoods, beta-VAE, IWAE scoring) and
  :class:`ConditionalVAE`;
- :mod:`.debiasing`: :class:`DebiasingVAE`;
- :mod:`.gan`: :class:`GAN` and :class:`ConditionalGAN`;
- :mod:`._base`: the estimator machinery they share (hyper-parameter declarations with
  :func:`hyperparameters`, and :func:`parameter_choices`/:func:`parameter_default` to read
  them); :mod:`.nn`: network blocks; :mod:`.corruption`: input noise for denoising;
- :mod:`.training`: the one training loop, extended through :class:`TrainingCallback`.
"""

from ._base import hyperparameters, parameter_choices, parameter_default
from .autoencoder import Autoencoder, DenoisingAutoencoder
from .debiasing import DebiasingVAE
from .gan import GAN, ConditionalGAN
from .training import Trainer, TrainingCallback, TrainingConfig, TrainingDivergedError
from .vae import VAE, ConditionalVAE

__all__ = [
    "Autoencoder",
    "ConditionalGAN",
    "ConditionalVAE",
    "DebiasingVAE",
    "DenoisingAutoencoder",
    "GAN",
    "Trainer",
    "TrainingCallback",
    "TrainingConfig",
    "TrainingDivergedError",
    "VAE",
    "hyperparameters",
    "parameter_choices",
    "parameter_default",
]
