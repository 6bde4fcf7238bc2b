"""Autoencoders on real digits: reconstruction improves, codes carry class information,
a denoising autoencoder removes the noise it was trained on."""

from __future__ import annotations

import numpy as np
import pytest

from latentmodels import Autoencoder, DenoisingAutoencoder
from latentmodels.corruption import corrupt

FAST = dict(hidden_dims=(128,), batch_size=32, verbose=0, random_state=0, patience=None)


def test_reconstruction_error_falls_and_score_is_its_negative(mnist_small):
    X = mnist_small[0][:800]
    short = Autoencoder(latent_dim=16, epochs=1, **FAST).fit(X)
    long = Autoencoder(latent_dim=16, epochs=8, **FAST).fit(X)
    assert long.score(X) > short.score(X) + 3.0
    recon = long.reconstruct(X[:10])
    expected = -((recon - X[:10]) ** 2).sum(axis=(1, 2))
    np.testing.assert_allclose(long.score_samples(X[:10]), expected, rtol=1e-4, atol=1e-3)


def test_samples_come_from_the_fitted_code_density(mnist_small):
    X = mnist_small[0][:600]
    ae = Autoencoder(latent_dim=6, epochs=3, **FAST).fit(X)
    codes = ae.transform(X)
    np.testing.assert_allclose(ae.code_mean_, codes.mean(0), rtol=1e-4, atol=1e-4)
    samples = ae.sample(500, random_state=0)
    assert samples.shape == (500, 28, 28)
    resampled = ae.transform(samples)
    # Decoding then re-encoding keeps samples in the region the training codes occupy.
    spread = codes.std(0).mean()
    assert np.abs(resampled.mean(0) - codes.mean(0)).max() < 2 * spread


@pytest.mark.parametrize(
    "kind,level", [("gaussian", 0.4), ("masking", 0.4), ("salt_and_pepper", 0.2)]
)
def test_denoising_autoencoder_removes_its_corruption(mnist_small, kind, level):
    X = mnist_small[0]
    train, test = X[:800], X[800:]
    dae = DenoisingAutoencoder(
        latent_dim=32,
        corruption=kind,
        noise_level=level,
        epochs=10,
        **{**FAST, "hidden_dims": (256,)},
    ).fit(train)
    noisy = corrupt(test, kind, level, random_state=1, clip=True)
    noisy_error = ((noisy - test) ** 2).mean()
    denoised_error = ((dae.reconstruct(noisy) - test) ** 2).mean()
    assert denoised_error < 0.75 * noisy_error, (kind, noisy_error, denoised_error)


def test_corrupt_hits_the_requested_fraction():
    X = np.full((200, 50), 0.5, dtype=np.float32)
    masked = corrupt(X, "masking", 0.3, random_state=0)
    assert abs((masked == 0).mean() - 0.3) < 0.02
    salted = corrupt(X, "salt_and_pepper", 0.2, random_state=0)
    assert abs((salted == 1).mean() - 0.1) < 0.02 and abs((salted == 0).mean() - 0.1) < 0.02
    noisy = corrupt(X, "gaussian", 0.1, random_state=0)
    assert abs((noisy - X).std() - 0.1) < 0.005
    with pytest.raises(ValueError, match="kind"):
        corrupt(X, "blur", 0.1)
