"""
VAE on MNIST: samples, interpolation and a traversal
=====================================================

Fit a variational autoencoder on 2,000 of the bundled digits, then decode samples from the
prior, a path between two digits and a traversal of each latent dimension. Three epochs keep
this to seconds; the default ``epochs=30`` with early stopping gives crisp digits.
"""

from latentmodels import VAE, datasets
from latentmodels.plots import plot_interpolations, plot_samples, plot_traversal

X, y = datasets.load_mnist()
vae = VAE(latent_dim=8, epochs=3, verbose=0, random_state=0).fit(X[:2000])
print("ELBO per digit on held-out digits:", round(vae.score(X[2000:2500]), 1))

# %%
# New digits from the prior N(0, I):
samples = plot_samples(vae, n=32, ncols=8)

# %%
# A straight line in latent space between two digits, decoded:
path = plot_interpolations(vae, X[2000:2010], pairs=[(0, 1), (2, 3)], steps=8)

# %%
# One latent dimension at a time around one digit's code:
traversal = plot_traversal(vae, X[2000], dims=[0, 1, 2, 3])
