"""Hidden Markov models: Gaussian, Gaussian-mixture, categorical, multinomial and Poisson emissions.

Fast (compiled, parallel forward-backward), numerically guarded, and hmmlearn-compatible:
``from latentmodels.hmm import GaussianHMM`` replaces ``from hmmlearn.hmm import GaussianHMM``.
Emission types live in :mod:`latentmodels.hmm.emissions` (one module each) and are listed by
:func:`available`; :func:`register_emission` adds a new one.
"""

from .base import BaseHMM, ConvergenceMonitor
from .emissions import (
    GMMHMM,
    CategoricalHMM,
    Emission,
    GaussianHMM,
    MultinomialHMM,
    PoissonHMM,
    available,
    register_emission,
)
from .selection import select_n_states

__all__ = [
    "BaseHMM",
    "ConvergenceMonitor",
    "GaussianHMM",
    "GMMHMM",
    "CategoricalHMM",
    "PoissonHMM",
    "MultinomialHMM",
    "select_n_states",
    "Emission",
    "register_emission",
    "available",
]
