"""Autoencoders on real digits: reconstruction improves, codes carry class information,
a denoising autoencoder removes the noise it was trained on."""

from __future__ import annotations

import numpy as np
import pytest

from latentmodels import Autoencoder, DenoisingAutoencoder
from latentmodels.deep.corruption import corrupt

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


def test_a_noise_level_range_draws_one_level_per_sample_within_it():
    import torch

    dae = DenoisingAutoencoder(corruption="masking", noise_level=(0.1, 0.6))
    x = torch.full((400, 1000), 0.5)
    masked = dae._corrupt(x, torch.Generator().manual_seed(0))
    fractions = (masked == 0).float().mean(dim=1).numpy()
    # Each row is masked at its own level: spread over the range, never outside it.
    assert fractions.min() > 0.1 - 0.05 and fractions.max() < 0.6 + 0.05
    assert fractions.std() > 0.1
    assert abs(fractions.mean() - 0.35) < 0.03


def test_a_dae_trained_on_a_noise_range_denoises_levels_across_it(mnist_small):
    X = mnist_small[0]
    train, test = X[:800], X[800:]
    dae = DenoisingAutoencoder(latent_dim=32, corruption="gaussian", noise_level=(0.0, 0.5),
                               epochs=10, **{**FAST, "hidden_dims": (256,)}).fit(train)
    for level in (0.35, 0.5):
        noisy = corrupt(test, "gaussian", level, random_state=1, clip=True)
        noisy_error = ((noisy - test) ** 2).mean()
        denoised_error = ((dae.reconstruct(noisy) - test) ** 2).mean()
        assert denoised_error < 0.75 * noisy_error, (level, noisy_error, denoised_error)


@pytest.mark.parametrize(
    "noise_level,error,match",
    [
        ((0.5, 0.1), ValueError, r"noise_level\[1\] must be >= 0.5"),
        ((0.1, 0.2, 0.3), ValueError, "a \\(low, high\\) pair"),
        ((-0.1, 0.2), ValueError, r"noise_level\[0\] must be >= 0"),
        ((0.1, "x"), TypeError, r"noise_level\[1\] must be a number"),
    ],
)
def test_bad_noise_level_ranges_are_named(mnist_small, noise_level, error, match):
    with pytest.raises(error, match=match):
        DenoisingAutoencoder(corruption="masking", noise_level=noise_level, **FAST).fit(
            mnist_small[0][:64]
        )
