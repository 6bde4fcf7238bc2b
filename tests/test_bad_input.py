"""Every public entry point rejects bad input with a ValueError/TypeError naming the
argument and the problem; one test per case."""

from __future__ import annotations

import numpy as np
import pytest

from latentmodels import VAE, Autoencoder, datasets

FAST = dict(hidden_dims=(16,), epochs=1, verbose=0, random_state=0)


@pytest.fixture(scope="module")
def fitted(mnist_small):
    return VAE(latent_dim=2, **FAST).fit(mnist_small[0][:128])


def test_nan_in_X(mnist_small):
    X = mnist_small[0][:32].copy()
    X[3, 4, 5] = np.nan
    with pytest.raises(ValueError, match="X contains 1 NaN or infinite"):
        VAE(**FAST).fit(X)


def test_inf_in_X_at_transform(fitted, mnist_small):
    X = mnist_small[0][:4].copy()
    X[0, 0, 0] = np.inf
    with pytest.raises(ValueError, match="X contains 1 NaN or infinite"):
        fitted.transform(X)


def test_empty_X():
    with pytest.raises(ValueError, match="X is empty"):
        VAE(**FAST).fit(np.zeros((0, 784), dtype=np.float32))


def test_one_dimensional_X():
    with pytest.raises(ValueError, match="X must have at least 2 dimensions"):
        VAE(**FAST).fit(np.zeros(784, dtype=np.float32))


def test_non_numeric_X():
    with pytest.raises(TypeError, match="X must hold numbers"):
        VAE(**FAST).fit(np.array([["a", "b"], ["c", "d"]]))


def test_wrong_number_of_features_at_transform(fitted):
    with pytest.raises(ValueError, match="X has 100 features, but VAE is expecting 784 features"):
        fitted.transform(np.zeros((3, 100), dtype=np.float32))


def test_flattened_input_with_matching_size_is_accepted(fitted, mnist_small):
    flat = mnist_small[0][:3].reshape(3, -1)
    np.testing.assert_array_equal(fitted.transform(flat), fitted.transform(mnist_small[0][:3]))


def test_wrong_latent_size_at_inverse_transform(fitted):
    with pytest.raises(ValueError, match=r"Z must have shape \(n_samples, latent_dim=2\)"):
        fitted.inverse_transform(np.zeros((3, 5), dtype=np.float32))


def test_values_outside_unit_range_for_bernoulli(mnist_small):
    with pytest.raises(ValueError, match="Bernoulli likelihood needs values in .*gaussian"):
        VAE(**FAST).fit(mnist_small[0][:32] * 255)


@pytest.mark.parametrize("latent_dim", [0, -3])
def test_latent_dim_not_positive(mnist_small, latent_dim):
    with pytest.raises(ValueError, match="latent_dim must be >= 1"):
        VAE(latent_dim=latent_dim, **FAST).fit(mnist_small[0][:32])


def test_latent_dim_not_an_integer(mnist_small):
    with pytest.raises(TypeError, match="latent_dim must be an integer"):
        VAE(latent_dim=2.5, **FAST).fit(mnist_small[0][:32])


@pytest.mark.parametrize(
    "param,value,message",
    [
        ("likelihood", "poisson", "likelihood must be one of"),
        ("architecture", "transformer", "architecture must be one of"),
        ("learning_rate", 0.0, "learning_rate must be > 0"),
        ("validation_fraction", 1.0, "validation_fraction must be < 1"),
        ("beta", -1.0, "beta must be >= 0"),
        ("optimizer", "sgd", "optimizer must be one of"),
        ("device", "tpu", "device: cannot use"),
    ],
)
def test_bad_hyper_parameters(mnist_small, param, value, message):
    with pytest.raises(ValueError, match=message):
        VAE(**{**FAST, param: value}).fit(mnist_small[0][:32])


def test_conv_architecture_needs_images():
    with pytest.raises(ValueError, match="'conv' architecture needs images"):
        VAE(architecture="conv", **FAST).fit(np.zeros((8, 2, 3, 4, 5), dtype=np.float32))


def test_bce_autoencoder_needs_unit_range(mnist_small):
    with pytest.raises(ValueError, match="reconstruction_loss='bce' needs values in"):
        Autoencoder(reconstruction_loss="bce", **FAST).fit(mnist_small[0][:8] - 0.5)


def test_unknown_dataset_name():
    with pytest.raises(ValueError, match="name_or_path.*mnist"):
        datasets.load_dataset("imagenet-22k")


def test_missing_data_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="absent.npz"):
        datasets.load_dataset(tmp_path / "absent.npz")


def test_sample_count_must_be_positive(fitted):
    with pytest.raises(ValueError, match="n_samples must be >= 1"):
        fitted.sample(0)


# -- from the reliability issue: inputs that were accepted silently.
def _silent_cases():
    X = np.random.default_rng(0).random((40, 4))
    return {
        "complex": (X + 1j * X, ValueError, "Complex data not supported"),
        "no features": (np.ones((40, 0)), ValueError, "no features"),
        "overflows float32": (X * 1e39, ValueError, "too large for float32"),
    }


_MAKERS = {
    "VAE": lambda: __import__("latentmodels").VAE(latent_dim=2, epochs=1, verbose=0),
    "Autoencoder": lambda: __import__("latentmodels").Autoencoder(latent_dim=2, epochs=1,
                                                                  verbose=0),
    "GaussianHMM": lambda: __import__("latentmodels").GaussianHMM(2, n_iter=2),
}
# HMMs compute in float64, where 1e39 is an ordinary number: no overflow case for them.
_SILENT = [(model, case) for model in _MAKERS for case in sorted(_silent_cases())
           if not (model == "GaussianHMM" and case == "overflows float32")]


@pytest.mark.parametrize(("model", "case"), _SILENT)
def test_inputs_once_accepted_silently_get_a_clear_error(model, case):
    X, error, message = _silent_cases()[case]
    with pytest.raises(error, match=message):
        _MAKERS[model]().fit(X)


def test_unfitted_gan_and_detector_say_not_fitted():
    from sklearn.exceptions import NotFittedError

    from latentmodels import GAN, VAE, AnomalyDetector

    X = np.random.default_rng(0).random((8, 4)).astype(np.float32)
    with pytest.raises(NotFittedError):
        GAN(latent_dim=2).score_samples(X)
    with pytest.raises(NotFittedError):
        AnomalyDetector(VAE()).predict(X)


def test_an_autoencoder_fitted_on_one_sample_still_samples():
    from latentmodels import Autoencoder

    X = np.random.default_rng(0).random((1, 4)).astype(np.float32)
    model = Autoencoder(latent_dim=2, hidden_dims=(8,), epochs=1, verbose=0,
                        validation_fraction=0).fit(X)
    assert np.isfinite(model.code_covariance_).all()
    assert np.isfinite(model.sample(3, random_state=0)).all()


@pytest.mark.parametrize("family", ["VAE", "GAN", "GaussianHMM"])
def test_a_sample_too_large_for_memory_is_refused_at_once(family):
    import latentmodels

    X = np.random.default_rng(0).random((64, 4)).astype(np.float32)
    if family == "GaussianHMM":
        model = latentmodels.GaussianHMM(2, n_iter=2, random_state=0).fit(X)
    else:
        model = getattr(latentmodels, family)(latent_dim=2, epochs=1, verbose=0,
                                              random_state=0).fit(X)
    with pytest.raises(ValueError, match=r"n_samples=1000000000000: the result needs"):
        model.sample(10**12)
    assert len(model.sample(3)[0] if family == "GaussianHMM" else model.sample(3)) == 3
