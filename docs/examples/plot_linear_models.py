"""
PCA, probabilistic PCA and factor analysis on digits
=====================================================

The three linear baselines share one contract with the deep models: images in, codes out,
``inverse_transform`` back to images, ``sample`` and a per-sample log-likelihood. They
differ in the noise they assume: none for PCA (its ``score_samples`` is still the density
of the fitted low-rank Gaussian), the same variance for every pixel in probabilistic PCA,
a variance per pixel in factor analysis. Fitting takes well under a second, so these are
the first row any nonlinear model has to beat.
"""

from latentmodels import PCA, FactorAnalysis, ProbabilisticPCA, datasets
from latentmodels.plots import as_images, display_range, grid_figure

X, y = datasets.load_mnist()
train, test = X[:2000], X[2000:3000]
models = {"PCA": PCA(n_components=16), "PPCA": ProbabilisticPCA(n_components=16),
          "FA": FactorAnalysis(n_components=16, random_state=0)}
for name, model in models.items():
    model.fit(train)
    error = ((model.inverse_transform(model.transform(test)) - test) ** 2).mean()
    print(f"{name:>4}: held-out log-likelihood {model.score(test):8.1f} per digit, "
          f"reconstruction MSE {error:.4f}")

# %%
# PCA and PPCA find the same subspace, so they reconstruct and score alike. FA's
# likelihood is far higher because its variance per pixel lets it predict the always-blank
# border almost exactly, a reminder to compare likelihoods only between models of the
# same data.

# %%
# The first eight directions of each model, as images (grey is zero):
axes_rows = [(name, as_images(model.estimator_.components_[:8], image_shape=(28, 28)))
             for name, model in models.items()]
bound = max(abs(v) for _, images in axes_rows for v in display_range(images))
directions = grid_figure(axes_rows, 8, -bound, bound, "first eight directions")

# %%
# New digits sampled from each fitted Gaussian. FA's per-pixel noise lets it leave the
# always-blank border quiet; PPCA spreads one noise level over every pixel.
sample_rows = [(name, as_images(model.sample(8, random_state=0))) for name, model in models.items()]
samples = grid_figure(sample_rows, 8, *display_range(*(im for _, im in sample_rows)), "samples")
