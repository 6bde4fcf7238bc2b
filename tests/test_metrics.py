"""Detection and image-quality metrics: known values, the direction of scores, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from latentmodels.metrics import anomaly_scores_report, auprc, auroc, psnr, ssim


def test_auroc_reads_higher_scores_as_more_normal():
    labels = np.array([0, 0, 0, 1, 1])
    scores = np.array([-1.0, -2.0, -3.0, -10.0, -20.0])
    assert auroc(labels, scores) == 1.0
    assert auroc(labels, -scores) == 0.0
    assert auprc(labels, scores) == 1.0


def test_auroc_of_random_scores_is_near_chance():
    rng = np.random.default_rng(0)
    labels = rng.random(4000) < 0.2
    scores = rng.normal(size=4000)
    assert auroc(labels, scores) == pytest.approx(0.5, abs=0.03)
    assert auprc(labels, scores) == pytest.approx(labels.mean(), abs=0.03)


def test_anomaly_scores_report_counts_and_means():
    report = anomaly_scores_report([-1.0, -2.0, -3.0], [-2.5, -9.0])
    assert report["n_normal"] == 3 and report["n_anomaly"] == 2
    assert report["auroc"] == pytest.approx(5 / 6)
    assert report["mean_score_anomaly"] == pytest.approx(-5.75)


def test_detection_metrics_refuse_bad_labels():
    with pytest.raises(ValueError, match="same length"):
        auroc([0, 1, 1], [0.1, 0.2])
    with pytest.raises(ValueError, match="both"):
        auroc([0, 0], [0.1, 0.2])
    with pytest.raises(ValueError, match="0/1"):
        auroc([0, 2], [0.1, 0.2])


def test_psnr_matches_its_definition():
    clean = np.zeros((2, 8, 8))
    noisy = clean + 0.1
    assert psnr(clean, noisy) == pytest.approx(20.0)
    assert psnr(clean * 255, noisy * 255, data_range=255) == pytest.approx(20.0)
    assert psnr(clean[0], clean[0] + 0.01) == pytest.approx(40.0)


def test_ssim_is_one_for_identical_images_and_drops_with_noise(mnist):
    X, _ = mnist
    clean = X[:20].astype(np.float64)
    rng = np.random.default_rng(0)
    assert ssim(clean, clean) == pytest.approx(1.0)
    mild = np.clip(clean + rng.normal(0, 0.1, clean.shape), 0, 1)
    strong = np.clip(clean + rng.normal(0, 0.4, clean.shape), 0, 1)
    assert 1.0 > ssim(clean, mild) > ssim(clean, strong) > 0.0
    # flat (n, 784) images give the same value as (n, 28, 28)
    assert ssim(clean.reshape(20, -1), mild.reshape(20, -1)) == pytest.approx(ssim(clean, mild))


def test_ssim_of_a_constant_offset_follows_the_luminance_term():
    clean = np.full((1, 32, 32), 0.5)
    shifted = clean + 0.1
    c1 = (0.01) ** 2
    expected = (2 * 0.5 * 0.6 + c1) / (0.5**2 + 0.6**2 + c1)
    assert ssim(clean, shifted) == pytest.approx(expected, rel=1e-6)


def test_image_metrics_refuse_mismatched_shapes():
    with pytest.raises(ValueError, match="same shape"):
        psnr(np.zeros((2, 4, 4)), np.zeros((2, 5, 5)))
    with pytest.raises(ValueError, match="data_range"):
        psnr(np.zeros((1, 4)), np.ones((1, 4)), data_range=0)


def test_ssim_matches_scikit_image_on_a_pinned_pair():
    # Reference value from skimage.metrics.structural_similarity(a, b, data_range=1,
    # gaussian_weights=True, sigma=1.5, use_sample_covariance=False), averaged over images
    # (scikit-image 0.26, installed outside the project only to pin this number).
    clean = np.random.default_rng(0).random((5, 32, 40))
    noisy = np.clip(clean + np.random.default_rng(1).normal(0, 0.2, clean.shape), 0, 1)
    assert ssim(clean, noisy) == pytest.approx(0.8232668065809179, abs=1e-9)
