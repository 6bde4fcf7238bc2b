"""Emission types of the hidden Markov models, one module each, and their registry.

Each module defines an :class:`Emission` (how a state emits: parameters, log-likelihood,
initialisation, sufficient statistics, M-step, sampling) and the estimator that uses it,
registered under a short name:

========================  =========================================  ============
name                      estimator                                  data
========================  =========================================  ============
``"gaussian"``            :class:`~latentmodels.hmm.GaussianHMM`     real
``"gmm"``                 :class:`~latentmodels.hmm.GMMHMM`          real
``"categorical"``         :class:`~latentmodels.hmm.CategoricalHMM`  symbols
``"poisson"``             :class:`~latentmodels.hmm.PoissonHMM`      counts
``"multinomial"``         :class:`~latentmodels.hmm.MultinomialHMM`  counts
========================  =========================================  ============

A new emission type is an :class:`Emission` subclass, a :class:`~latentmodels.hmm.BaseHMM`
subclass naming it in ``_emission_class`` and one call of :func:`register_emission`;
:func:`available` then lists it for the command line.

Examples
--------
>>> from latentmodels.hmm.emissions import available
>>> spec = available()["gaussian"]
>>> spec.estimator.__name__, spec.data, spec.hyperparameters["covariance_type"]
('GaussianHMM', 'real', 'diag')
"""

from ._base import (
    DATA_KINDS,
    Emission,
    FeaturesMixin,
    Param,
    check_counts,
    check_real,
    kmeans,
)
from ._registry import (
    EmissionSpec,
    available,
    emission_of,
    get_emission,
    register_emission,
    spec_for,
)
from .categorical import CategoricalEmission, CategoricalHMM
from .gaussian import GaussianEmission, GaussianHMM
from .gmm import GMMHMM, GMMEmission
from .multinomial import MultinomialEmission, MultinomialHMM
from .poisson import PoissonEmission, PoissonHMM

__all__ = [
    "DATA_KINDS",
    "Emission",
    "EmissionSpec",
    "FeaturesMixin",
    "Param",
    "available",
    "emission_of",
    "check_counts",
    "check_real",
    "get_emission",
    "kmeans",
    "register_emission",
    "spec_for",
    "GaussianEmission",
    "GMMEmission",
    "CategoricalEmission",
    "PoissonEmission",
    "MultinomialEmission",
    "GaussianHMM",
    "GMMHMM",
    "CategoricalHMM",
    "PoissonHMM",
    "MultinomialHMM",
]
