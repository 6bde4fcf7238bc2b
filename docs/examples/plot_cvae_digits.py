"""
Conditional VAE: asking for a digit
===================================

A conditional VAE is told each training digit's label, so its decoder takes the label as an
input and its latent code is free to hold the rest: thickness, slant, width. Sampling with
``y=k`` then draws a chosen digit. Six epochs on 3,000 digits keep this to seconds; the
default ``epochs=30`` with early stopping on all 8,000 bundled digits gives clean shapes.
"""

import numpy as np

from latentmodels import ConditionalVAE, datasets
from latentmodels.plots import plot_samples

X, y = datasets.load_mnist()
cvae = ConditionalVAE(latent_dim=8, epochs=6, verbose=0,
                      random_state=0).fit(X[:3000], y[:3000])
print("ELBO per digit on held-out digits:", round(cvae.score(X[4000:4500], y[4000:4500]), 1))

# %%
# One row per digit: eight draws with ``y`` fixed to 0, then 1, ..., 9.
per_digit = plot_samples(cvae, n=80, y=np.repeat(np.arange(10), 8), ncols=8)
