"""Deprecated: the deep models moved to :mod:`latentmodels.deep`, the contract to
:mod:`latentmodels.base`, LDA to :mod:`latentmodels.lda` (kept for one release)."""

import warnings

from ..base import LatentModel, load
from ..deep import (
    GAN,
    VAE,
    Autoencoder,
    ConditionalGAN,
    ConditionalVAE,
    DebiasingVAE,
    DenoisingAutoencoder,
)

warnings.warn(
    "latentmodels.models moved to latentmodels.deep (and latentmodels.base); "
    "the old path goes away in the next release",
    DeprecationWarning,
    stacklevel=2,
)

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
