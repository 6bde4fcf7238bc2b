"""The HMM estimators, gathered from :mod:`latentmodels.hmm.emissions` (one module per
emission type); kept so that ``from latentmodels.hmm.models import GaussianHMM`` still works.

Examples
--------
>>> from latentmodels.hmm.models import GaussianHMM
>>> GaussianHMM(3).n_components
3
"""

from .emissions import GMMHMM, CategoricalHMM, GaussianHMM, MultinomialHMM, PoissonHMM

__all__ = ["GaussianHMM", "GMMHMM", "CategoricalHMM", "PoissonHMM", "MultinomialHMM"]
