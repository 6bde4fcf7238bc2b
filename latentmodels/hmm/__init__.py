"""Hidden Markov models: Gaussian, Gaussian-mixture, categorical and Poisson emissions.

Fast (compiled, parallel forward-backward), numerically guarded, and hmmlearn-compatible:
``from latentmodels.hmm import GaussianHMM`` replaces ``from hmmlearn.hmm import GaussianHMM``.
"""

from .base import BaseHMM, ConvergenceMonitor
from .models import GMMHMM, CategoricalHMM, GaussianHMM, PoissonHMM
from .selection import select_n_states

__all__ = [
    "BaseHMM",
    "ConvergenceMonitor",
    "GaussianHMM",
    "GMMHMM",
    "CategoricalHMM",
    "PoissonHMM",
    "select_n_states",
]
