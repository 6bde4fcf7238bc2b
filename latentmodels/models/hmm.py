"""Hidden Markov models (the HMM family of the contract); the code lives in
:mod:`latentmodels.hmm`."""

from ..hmm import (
    GMMHMM,
    BaseHMM,
    CategoricalHMM,
    ConvergenceMonitor,
    GaussianHMM,
    PoissonHMM,
    select_n_states,
)

__all__ = [
    "BaseHMM",
    "ConvergenceMonitor",
    "GaussianHMM",
    "GMMHMM",
    "CategoricalHMM",
    "PoissonHMM",
    "select_n_states",
]
