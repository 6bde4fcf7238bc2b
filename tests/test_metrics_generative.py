"""Generative-model metrics: Frechet distance against scipy's closed form, k-NN precision and
recall, mode coverage, the feature classifier, and sample_quality on real, noisy and VAE images.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch
from scipy.ndimage import gaussian_filter
from scipy.spatial.distance import cdist
from scipy.stats import entropy

from latentmodels import VAE, metrics
from latentmodels._internal.io import ModelFileError
from latentmodels.metrics import generative as mg
from latentmodels.metrics.generative import (
    FeatureClassifier,
    feature_statistics,
    frechet_distance,
    frechet_distance_from_stats,
    mode_coverage,
    precision_recall,
    sample_quality,
)


def _spd(rng: np.random.Generator, d: int) -> np.ndarray:
    a = rng.normal(size=(d, d))
    return a @ a.T / d + 0.1 * np.eye(d)


def _scipy_frechet(mu1, cov1, mu2, cov2) -> float:
    """The closed form written independently, with scipy's general matrix square root."""
    root = scipy.linalg.sqrtm(cov1 @ cov2)
    assert np.abs(np.imag(root)).max() < 1e-8
    diff = np.asarray(mu1) - np.asarray(mu2)
    return float(diff @ diff + np.trace(cov1) + np.trace(cov2) - 2 * np.trace(np.real(root)))


# -- Frechet distance -----------------------------------------------------------------------
@pytest.mark.parametrize("d", [1, 3, 8])
def test_frechet_matches_scipy_closed_form(d):
    rng = np.random.default_rng(d)
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    cov1, cov2 = _spd(rng, d), _spd(rng, d)
    expected = _scipy_frechet(mu1, cov1, mu2, cov2)
    assert expected > 0.1
    assert frechet_distance_from_stats(mu1, cov1, mu2, cov2) == pytest.approx(expected, rel=1e-9)


def test_frechet_diagonal_covariances_simple_formula():
    rng = np.random.default_rng(1)
    mu1, mu2 = rng.normal(size=5), rng.normal(size=5)
    var1, var2 = rng.uniform(0.2, 3, 5), rng.uniform(0.2, 3, 5)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(var1) - np.sqrt(var2)) ** 2)
    got = frechet_distance_from_stats(mu1, np.diag(var1), mu2, np.diag(var2))
    assert got == pytest.approx(expected, rel=1e-12)


def test_frechet_of_samples_uses_their_mean_and_covariance():
    rng = np.random.default_rng(2)
    cov = _spd(rng, 4)
    a = rng.multivariate_normal(np.zeros(4), cov, size=20000)
    b = rng.multivariate_normal(np.ones(4), 2 * cov, size=20000)
    empirical = _scipy_frechet(a.mean(0), np.cov(a.T), b.mean(0), np.cov(b.T))
    assert frechet_distance(a, b) == pytest.approx(empirical, rel=1e-9)
    # and near the population value: 4 from the mean shift, (sqrt 2 - 1)^2 Tr(cov) from scale
    population = 4 + (np.sqrt(2) - 1) ** 2 * np.trace(cov)
    assert frechet_distance(a, b) == pytest.approx(population, rel=0.03)


def test_frechet_zero_symmetric_and_growing_with_shift():
    rng = np.random.default_rng(3)
    mu, cov = rng.normal(size=6), _spd(rng, 6)
    assert frechet_distance_from_stats(mu, cov, mu, cov) == pytest.approx(0.0, abs=1e-10)
    x = rng.normal(size=(300, 6))
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-10)
    other = _spd(rng, 6)
    forward = frechet_distance_from_stats(mu, cov, 0 * mu, other)
    assert frechet_distance_from_stats(0 * mu, other, mu, cov) == pytest.approx(forward, rel=1e-9)
    shifts = [0.0, 0.5, 1.0, 2.0, 4.0]
    values = [frechet_distance_from_stats(mu, cov, mu + s, cov) for s in shifts]
    assert np.all(np.diff(values) > 0)
    # equal covariances: only the mean term is left, 6 dimensions shifted by s each
    assert values == pytest.approx([6 * s**2 for s in shifts], abs=1e-8)


def test_frechet_handles_singular_covariances():
    rng = np.random.default_rng(4)
    basis = rng.normal(size=(2, 5))
    cov = basis.T @ basis  # rank 2 in 5 dimensions
    mu = np.zeros(5)
    assert frechet_distance_from_stats(mu, cov, mu, cov) == pytest.approx(0.0, abs=1e-9)
    assert frechet_distance_from_stats(mu, cov, mu + 1, cov) == pytest.approx(5.0, abs=1e-8)
    # zero covariance against cov: the distance is Tr(cov)
    zero = np.zeros((5, 5))
    assert frechet_distance_from_stats(mu, zero, mu, cov) == pytest.approx(np.trace(cov))


def test_feature_statistics_and_few_sample_warning():
    x = np.random.default_rng(5).normal(size=(50, 3))
    mu, cov = feature_statistics(x)
    np.testing.assert_allclose(mu, x.mean(0))
    np.testing.assert_allclose(cov, np.cov(x.T))
    with pytest.warns(RuntimeWarning, match="features_a: 4 samples for 6 dimensions"):
        rng = np.random.default_rng(0)
        frechet_distance(rng.random((4, 6)), rng.random((40, 6)))


def test_frechet_bad_input():
    x = np.random.default_rng(0).random((10, 3))
    with pytest.raises(ValueError, match="features_a has 3 features but features_b has 4"):
        frechet_distance(x, np.random.default_rng(9).random((10, 4)))
    with pytest.raises(ValueError, match="features_b needs at least 2 samples"):
        frechet_distance(x, x[:1])
    with pytest.raises(ValueError, match="features_a must be a 2-D array"):
        frechet_distance(np.zeros((4, 2, 2)), x)
    bad = x.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="features_a contains 1 NaN"):
        frechet_distance(bad, x)
    with pytest.raises(TypeError, match="features_b must be an array"):
        frechet_distance(x, "abc")
    with pytest.raises(ValueError, match="cov1 is not positive semi-definite"):
        frechet_distance_from_stats([0, 0], [[1, 0], [0, -1]], [0, 0], np.eye(2))
    with pytest.raises(ValueError, match="cov2 must be symmetric"):
        frechet_distance_from_stats([0, 0], np.eye(2), [0, 0], [[1, 0.5], [0, 1]])
    with pytest.raises(ValueError, match=r"cov2 must be a \(2, 2\) matrix"):
        frechet_distance_from_stats([0, 0], np.eye(2), [0, 0], np.eye(3))
    with pytest.raises(ValueError, match="mu1 has 2 dimensions but mu2 has 3"):
        frechet_distance_from_stats([0, 0], np.eye(2), [0, 0, 0], np.eye(3))


# -- precision and recall -------------------------------------------------------------------
def _brute_precision_recall(real, fake, k):
    def radii(x):
        return np.sort(cdist(x, x), axis=1)[:, k]

    inside = (cdist(fake, real) <= radii(real)[None]).any(axis=1).mean()
    covered = (cdist(real, fake) <= radii(fake)[None]).any(axis=1).mean()
    return inside, covered


@pytest.mark.parametrize("k", [1, 3, 5])
def test_precision_recall_equals_brute_force(k, monkeypatch):
    rng = np.random.default_rng(k)
    real, fake = rng.normal(size=(300, 4)), rng.normal(0.5, 1.3, size=(250, 4))
    expected = _brute_precision_recall(real, fake, k)
    assert precision_recall(real, fake, k=k) == pytest.approx(expected, abs=1e-12)
    # tiny distance blocks: the chunked loop gives the same answer
    monkeypatch.setattr(mg, "_BLOCK_ENTRIES", 1000)
    assert precision_recall(real, fake, k=k) == pytest.approx(expected, abs=1e-12)


def test_precision_recall_same_disjoint_and_mode_dropping():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2000, 2)), rng.normal(size=(2000, 2))
    precision, recall = precision_recall(a, b)
    assert precision > 0.93 and recall > 0.93
    assert precision_recall(a, a) == (1.0, 1.0)
    assert precision_recall(a, b + 100.0) == (0.0, 0.0)
    # four well separated modes; the generator makes only one of them
    centres = np.array([[0, 0], [10, 0], [0, 10], [10, 10]], dtype=float)
    real = centres[rng.integers(0, 4, 2000)] + rng.normal(size=(2000, 2))
    fake = centres[0] + rng.normal(size=(500, 2))
    precision, recall = precision_recall(real, fake)
    assert precision > 0.9
    assert 0.1 < recall < 0.3


def test_precision_recall_bad_input():
    x = np.random.default_rng(0).random((10, 2))
    with pytest.raises(ValueError, match="fake_features needs at least 4 samples"):
        precision_recall(x, x[:3], k=3)
    with pytest.raises(ValueError, match="k must be >= 1"):
        precision_recall(x, x, k=0)
    with pytest.raises(TypeError, match="k must be an integer"):
        precision_recall(x, x, k=2.5)
    with pytest.raises(ValueError, match="real_features has 2 features but fake_features has 3"):
        precision_recall(x, np.random.default_rng(9).random((10, 3)))


# -- mode coverage --------------------------------------------------------------------------
def test_mode_coverage_counts_share_threshold_and_kl():
    labels = np.r_[np.zeros(50), np.ones(45), np.full(4, 2), np.full(1, 3)].astype(int)
    result = mode_coverage(labels, n_classes=5)
    assert result["counts"].tolist() == [50, 45, 4, 1, 0]
    np.testing.assert_allclose(result["histogram"], [0.5, 0.45, 0.04, 0.01, 0.0])
    # covered: share >= 0.1 * (1/5) = 0.02, so classes 0, 1, 2
    assert result["covered"].tolist() == [True, True, True, False, False]
    assert result["classes_covered"] == 3
    assert result["kl_uniform"] == pytest.approx(entropy(result["histogram"], np.full(5, 0.2)))
    assert mode_coverage(labels, 5, min_share=0.0)["classes_covered"] == 4
    assert mode_coverage(labels, 5, min_share=1.0)["classes_covered"] == 2


def test_mode_coverage_extremes_and_probabilities():
    balanced = mode_coverage(np.arange(100) % 10, 10)
    assert balanced["classes_covered"] == 10 and balanced["kl_uniform"] == pytest.approx(0.0)
    single = mode_coverage(np.full(30, 7), 10)
    assert single["classes_covered"] == 1
    assert single["kl_uniform"] == pytest.approx(np.log(10))
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.2, 0.5, 0.3], [0.6, 0.3, 0.1]])
    assert mode_coverage(probs, 3)["counts"].tolist() == [2, 1, 1]
    assert mode_coverage(torch.tensor([0, 1, 1]), 2)["counts"].tolist() == [1, 2]


def test_mode_coverage_bad_input():
    with pytest.raises(ValueError, match=r"labels must lie in 0..2"):
        mode_coverage([0, 3], 3)
    with pytest.raises(ValueError, match="labels: class indices must be whole numbers"):
        mode_coverage([0.5, 1], 3)
    with pytest.raises(ValueError, match="n_classes=4 columns"):
        mode_coverage(np.ones((2, 3)) / 3, 4)
    with pytest.raises(ValueError, match="min_share must be <= 1"):
        mode_coverage([0, 1], 2, min_share=2)
    with pytest.raises(TypeError, match="n_classes must be an integer"):
        mode_coverage([0, 1], "2")
    with pytest.raises(ValueError, match="labels is empty"):
        mode_coverage([], 2)


# -- the classifier and sample_quality ------------------------------------------------------
@pytest.fixture(scope="module")
def split(mnist):
    X, y = mnist
    order = np.random.default_rng(0).permutation(len(X))
    return X, y, order[:4000], order[4000:5000], order[6000:8000]


@pytest.fixture(scope="module")
def classifier(split):
    X, y, train, _, _ = split
    # A small budget: 4,000 digits, 5 epochs (about 10 s on one thread).
    small = FeatureClassifier(
        epochs=5, batch_size=32, max_shift=1, patience=None, device="cpu", random_state=0
    )
    return small.fit(X[train], y[train])


def test_classifier_accuracy_on_held_out_digits(classifier, split):
    X, y, _, _, test = split
    accuracy = classifier.score(X[test], y[test])
    assert accuracy >= 0.95, accuracy
    assert classifier.validation_accuracy_ >= 0.93
    proba = classifier.predict_proba(X[test[:50]])
    assert proba.shape == (50, 10)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-6)
    assert classifier.features(X[test[:5]]).shape == (5, 128)
    # flat rows and (n, 1, H, W) give the same answer as (n, H, W)
    flat = classifier.features(X[test[:5]].reshape(5, -1))
    np.testing.assert_array_equal(flat, classifier.features(X[test[:5]][:, None]))


def test_classifier_save_load_identical(classifier, split, tmp_path):
    X, _, _, _, test = split
    path = classifier.save(tmp_path / "digits.clf")
    loaded = FeatureClassifier.load(path)
    np.testing.assert_array_equal(loaded.features(X[test]), classifier.features(X[test]))
    np.testing.assert_array_equal(loaded.predict(X[test]), classifier.predict(X[test]))
    assert loaded.get_params() == classifier.get_params()
    assert b"pickle" not in (tmp_path / "digits.clf").read_bytes()[:64]


def test_classifier_deterministic_and_load_or_fit(mnist, tmp_path, monkeypatch):
    X, y = mnist
    params = {"epochs": 1, "channels": (4, 8), "feature_dim": 16, "device": "cpu"}
    first = FeatureClassifier(**params, random_state=3).fit(X[:300], y[:300])
    second = FeatureClassifier(**params, random_state=3).fit(X[:300], y[:300])
    other = FeatureClassifier(**params, random_state=4).fit(X[:300], y[:300])
    np.testing.assert_array_equal(first.features(X[:50]), second.features(X[:50]))
    assert not np.array_equal(first.features(X[:50]), other.features(X[:50]))

    path = tmp_path / "cached.clf"
    made = FeatureClassifier.load_or_fit(path, X[:300], y[:300], **params, random_state=3)
    np.testing.assert_array_equal(made.features(X[:50]), first.features(X[:50]))

    def no_fit(self, X, y):
        raise AssertionError("load_or_fit trained again instead of loading")

    with monkeypatch.context() as patch:
        patch.setattr(FeatureClassifier, "fit", no_fit)
        again = FeatureClassifier.load_or_fit(path, X[:300], y[:300], **params, random_state=3)
        np.testing.assert_array_equal(again.features(X[:50]), first.features(X[:50]))
        with pytest.raises(AssertionError, match="trained again"):  # other data: refit
            FeatureClassifier.load_or_fit(path, X[1:301], y[1:301], **params, random_state=3)


def test_classifier_bad_input(classifier, mnist, tmp_path):
    X, y = mnist
    with pytest.raises(ValueError, match=r"X must hold grey levels in \[0, 1\]"):
        classifier.predict(X[:4] * 255)
    with pytest.raises(ValueError, match=r"images of shape \(14, 14\)"):
        classifier.features(X[:4, :14, :14])
    with pytest.raises(ValueError, match="flat images need 784 pixels"):
        classifier.features(np.zeros((2, 100)))
    with pytest.raises(ValueError, match="y must hold one label per image"):
        FeatureClassifier(epochs=1).fit(X[:10], y[:9])
    with pytest.raises(ValueError, match="y must contain at least two classes"):
        FeatureClassifier(epochs=1).fit(X[:10], np.zeros(10))
    with pytest.raises(TypeError, match="channels must be a sequence"):
        FeatureClassifier(channels=16).fit(X[:10], y[:10])
    with pytest.raises(ValueError, match="max_shift must be >= 0"):
        FeatureClassifier(max_shift=-1).fit(X[:10], y[:10])
    vae_file = tmp_path / "vae.lm"
    VAE(latent_dim=2, epochs=1, verbose=0, random_state=0).fit(X[:64]).save(vae_file)
    with pytest.raises(ModelFileError, match="not a FeatureClassifier"):
        FeatureClassifier.load(vae_file)


def test_sample_quality_ranks_real_above_blur_and_noise(classifier, split):
    X, y, _, real_idx, test = split
    real, reference = X[real_idx], X[test]
    rng = np.random.default_rng(1)
    good = sample_quality(real, reference, classifier)
    blurred = sample_quality(gaussian_filter(real, (0, 1.5, 1.5)), reference, classifier)
    noise = sample_quality(rng.random(real.shape, dtype=np.float32), reference, classifier)
    assert good["frechet"] < 5 and good["frechet"] * 20 < blurred["frechet"] < noise["frechet"]
    assert good["precision"] > 0.85 and good["recall"] > 0.85
    assert blurred["precision"] < 0.75 and blurred["recall"] < 0.2
    # noise features land inside a few wide balls of outlying digits: precision is not ~0
    assert noise["precision"] < 0.5 and noise["recall"] < 0.05
    assert good["classes_covered"] == 10 and good["kl_uniform"] < 0.05
    assert noise["kl_uniform"] > 0.5
    assert good["n_samples"] == 1000 and good["n_real"] == 2000 and good["k"] == 3
    assert good["histogram"].sum() == pytest.approx(1.0)
    # a generator that makes only ones: realistic (high precision), poor recall and coverage
    ones = real[y[real_idx] == 1]
    with pytest.warns(RuntimeWarning, match="samples for 128 dimensions"):
        only_ones = sample_quality(ones, reference, classifier)
    assert only_ones["precision"] > 0.8 and only_ones["recall"] < 0.35
    assert only_ones["classes_covered"] == 1 and only_ones["kl_uniform"] > 2.0


def test_sample_quality_of_a_vae_lies_between_real_and_noise(classifier, split):
    X, _, train, real_idx, test = split
    vae = VAE(latent_dim=16, epochs=4, verbose=0, random_state=0, device="cpu").fit(X[train])
    reference = X[test]
    result = sample_quality(vae.sample(1000, random_state=0), reference, classifier)
    good = sample_quality(X[real_idx], reference, classifier)
    noise_images = np.random.default_rng(2).random((1000, 28, 28), dtype=np.float32)
    noise = sample_quality(noise_images, reference, classifier)
    assert good["frechet"] < result["frechet"] < noise["frechet"]
    assert result["precision"] < good["precision"]
    assert noise["recall"] < result["recall"] < good["recall"]
    assert result["classes_covered"] >= 8


def test_sample_quality_bad_input(classifier, split):
    X, _, _, _, test = split
    with pytest.raises(ValueError, match=r"samples must hold grey levels in \[0, 1\]"):
        sample_quality(X[:10] * 2 - 1, X[test], classifier)
    with pytest.raises(ValueError, match="real needs more than k=3 images"):
        sample_quality(X[:10], X[:3], classifier)
    with pytest.raises(TypeError, match="classifier must be a fitted FeatureClassifier"):
        sample_quality(X[:10], X[:10], object())
    with pytest.raises(TypeError, match="classifier must be a fitted FeatureClassifier"):
        sample_quality(X[:10], X[:10], FeatureClassifier())


def test_reexported_from_metrics():
    for name in mg.__all__:
        assert getattr(metrics, name) is getattr(mg, name)
        assert name in metrics.__all__
