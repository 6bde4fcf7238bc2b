"""Denoising: a denoising autoencoder raises PSNR and SSIM of noisy digits; models that
cannot decode, and data of the wrong shape, are refused clearly."""

from __future__ import annotations

import numpy as np
import pytest

from latentmodels import DenoisingAutoencoder
from latentmodels.deep.corruption import corrupt
from latentmodels.metrics import psnr
from latentmodels.tasks.denoise import denoise, evaluate_denoising


@pytest.fixture(scope="module")
def dae(mnist_small):
    X, _ = mnist_small
    model = DenoisingAutoencoder(latent_dim=32, hidden_dims=(128,), corruption="gaussian",
                                 noise_level=0.4, epochs=15, learning_rate=3e-3, verbose=0,
                                 random_state=0)
    return model.fit(X[:800])


def test_denoising_raises_psnr(dae, mnist_small):
    X, _ = mnist_small
    clean = X[800:]
    noisy = np.clip(corrupt(clean, "gaussian", 0.4, random_state=1), 0, 1)
    cleaned = denoise(dae, noisy, clip=(0, 1))
    assert cleaned.shape == clean.shape
    assert psnr(clean, cleaned) > psnr(clean, noisy) + 2.0


def test_evaluate_denoising_reports_before_and_after(dae, mnist_small):
    X, _ = mnist_small
    result = evaluate_denoising(dae, X[800:900], kind="salt_and_pepper", level=0.2)
    assert set(result) == {"psnr_noisy", "psnr_denoised", "ssim_noisy", "ssim_denoised"}
    assert result["psnr_denoised"] > result["psnr_noisy"]


def test_denoise_works_with_flat_input_and_pca(mnist_small):
    from sklearn.decomposition import PCA

    X, _ = mnist_small
    flat = X.reshape(len(X), -1)
    pca = PCA(32).fit(flat[:800])
    noisy = np.clip(corrupt(flat[800:], "gaussian", 0.3, random_state=0), 0, 1)
    assert psnr(flat[800:], denoise(pca, noisy)) > psnr(flat[800:], noisy)


def test_model_without_inverse_transform_is_refused_in_one_line(mnist_small):
    from sklearn.preprocessing import StandardScaler

    class EncoderOnly:
        def transform(self, X):
            return X

    X, _ = mnist_small
    with pytest.raises(TypeError, match=r"denoise needs a model with inverse_transform\(\)"):
        denoise(EncoderOnly(), X[:2])
    with pytest.raises(TypeError, match="transform"):
        denoise(object(), X[:2])
    denoise(StandardScaler().fit(X[:10].reshape(10, -1)), X[:2].reshape(2, -1))  # has both


def test_mismatched_shapes_are_refused(dae):
    with pytest.raises(ValueError, match="features"):
        denoise(dae, np.zeros((2, 10, 10), np.float32))
