"""Linear-Gaussian baselines under the contract: PCA, probabilistic PCA, factor analysis.

Examples
--------
>>> from latentmodels.linear import PCA
>>> from latentmodels import datasets
>>> X, _ = datasets.load_mnist()
>>> PCA(n_components=2).fit(X[:100]).transform(X[:3]).shape
(3, 2)
"""

from .models import PCA, FactorAnalysis, ProbabilisticPCA

__all__ = ["PCA", "FactorAnalysis", "ProbabilisticPCA"]
