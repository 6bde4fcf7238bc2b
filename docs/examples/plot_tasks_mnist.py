"""
Tasks on one model: latent maps, anomaly detection, denoising, features
=======================================================================

Train a denoising autoencoder on digits other than zero, then use it four ways: a map of
the codes, zeros flagged as anomalies, masked digits restored, and its codes as features
for a linear classifier.
"""

import numpy as np

from latentmodels import AnomalyDetector, DenoisingAutoencoder, datasets
from latentmodels.deep.corruption import corrupt
from latentmodels.plots import plot_latent_map
from latentmodels.tasks.anomaly import plot_score_histogram
from latentmodels.tasks.denoise import denoise, evaluate_denoising, plot_denoising
from latentmodels.tasks.features import format_probe_table, linear_probe

X, y = datasets.load_mnist()
X, y = X[:3000], y[:3000]
normal = X[:2000][y[:2000] != 0]
model = DenoisingAutoencoder(latent_dim=8, corruption="masking", epochs=3, verbose=0,
                             random_state=0).fit(normal)

# %%
# Latent map: the codes of 1,000 held-out digits projected by PCA, coloured by digit.
latent = plot_latent_map(model, X[2000:], y[2000:], method="pca")

# %%
# The same codes through t-SNE (500 of them, to keep it quick), which keeps neighbours
# together and so separates the digits more clearly; distances between clusters mean little.
latent_tsne = plot_latent_map(model, X[2000:], y[2000:], method="tsne", max_points=500)

# %%
# Anomaly detection: the detector learns the codes, a background pixel model and the score
# threshold from digits without zeros; held-out zeros should score lower than the others.
detector = AnomalyDetector(model, contamination=0.05).fit(normal)
is_zero = y[2000:] == 0
evaluation = detector.evaluate(X[2000:], is_zero)
print({key: round(value, 3) if isinstance(value, float) else value
       for key, value in evaluation.items()})
scores = plot_score_histogram(detector.score_samples(X[2000:]),
                              np.where(is_zero, "zero", "other digit"))

# %%
# Denoising: half the pixels masked, then reconstructed.
noisy = corrupt(X[2000:2016], "masking", 0.5, clip=True)
print(evaluate_denoising(model, X[2000:2500], kind="masking", level=0.5))
restored = plot_denoising(X[2000:2016], noisy, denoise(model, noisy), n=8)

# %%
# Features: a logistic regression on the codes against PCA and raw pixels.
print(format_probe_table(linear_probe(model, X[:1000], y[:1000])))
