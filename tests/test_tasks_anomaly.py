"""Anomaly detection: a model trained on digits 1-9 finds the zeros odd, the detector speaks
scikit-learn's outlier API, and bad input fails with an error naming the argument."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.decomposition import PCA

from latentmodels import VAE, Autoencoder
from latentmodels.metrics import auroc
from latentmodels.tasks.anomaly import AnomalyDetector, ranking_scores


@pytest.fixture(scope="module")
def split(mnist):
    X, y = mnist
    X = X.reshape(len(X), -1)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(X))
    train = order[:2000]
    test = order[2000:2600]
    return X[train][y[train] != 0], X[test], y[test]


@pytest.fixture(scope="module")
def ae(split):
    X_normal, _, _ = split
    model = Autoencoder(latent_dim=16, hidden_dims=(64,), epochs=5, verbose=0, random_state=0)
    return model.fit(X_normal[:1000])


def test_ae_trained_without_zeros_scores_zeros_lower(ae, split):
    X_normal, X_test, y_test = split
    detector = AnomalyDetector(ae, contamination=0.1).fit(X_normal)
    scores = detector.score_samples(X_test)
    assert scores[y_test == 0].mean() < scores[y_test != 0].mean()
    result = detector.evaluate(X_test, y_test == 0)
    assert result["auroc"] > 0.6, result
    assert result["auroc"] == pytest.approx(auroc(y_test == 0, scores))
    assert result["auprc"] > (y_test == 0).mean()  # better than chance


def test_predict_flags_the_contamination_share_of_training_data(ae, split):
    X_normal, X_test, _ = split
    # A score without neighbours: predicting the training data repeats its own scores.
    detector = AnomalyDetector(ae, contamination=0.05, score="reconstruction").fit(X_normal)
    labels = detector.predict(X_normal)
    assert set(np.unique(labels)) == {-1, 1}
    assert (labels == -1).mean() == pytest.approx(0.05, abs=0.01)
    decision = detector.decision_function(X_test)
    np.testing.assert_array_equal(detector.predict(X_test), np.where(decision >= 0, 1, -1))
    assert detector.offset_ == detector.threshold_


def test_fixed_threshold_is_used_as_is(ae, split):
    X_normal, X_test, _ = split
    detector = AnomalyDetector(ae, threshold=-1e9).fit(X_normal)
    assert detector.threshold_ == -1e9
    assert (detector.predict(X_test) == 1).all()


def test_unfitted_model_is_cloned_and_trained(split):
    X_normal, X_test, _ = split
    template = Autoencoder(latent_dim=4, hidden_dims=(16,), epochs=1, verbose=0, random_state=0)
    detector = AnomalyDetector(template).fit(X_normal[:300])
    assert hasattr(detector.model_, "module_") and not hasattr(template, "module_")
    assert detector.score_samples(X_test[:5]).shape == (5,)


def test_vae_elbo_and_iwae_scores_and_pca_reconstruction(split):
    X_normal, X_test, y_test = split
    vae = VAE(latent_dim=4, hidden_dims=(32,), epochs=2, verbose=0, random_state=0)
    vae.fit(X_normal[:800])
    elbo = AnomalyDetector(vae, score="likelihood").fit(X_normal[:200]).score_samples(X_test[:50])
    iwae = AnomalyDetector(vae, score="iwae", n_importance=10).fit(X_normal[:200])
    bound = iwae.score_samples(X_test[:50])
    assert bound.mean() >= elbo.mean()  # IWAE is the tighter bound
    pca = AnomalyDetector(PCA(16), score="reconstruction").fit(X_normal)
    assert pca.evaluate(X_test, y_test == 0)["auroc"] > 0.6


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_hmm_scores_one_value_per_sequence():
    from latentmodels import GaussianHMM, datasets

    X, _ = datasets.load_geyser()
    lengths = [100, 100, 99]
    hmm = GaussianHMM(2, n_iter=5, random_state=0)
    detector = AnomalyDetector(hmm, contamination=0.34).fit(X, lengths=lengths)
    assert detector.score_ == "likelihood"  # "auto" keeps an HMM's own per-sequence score
    assert detector.score_samples(X, lengths=lengths).shape == (3,)
    assert (detector.predict(X, lengths=lengths) == -1).sum() == 1


@pytest.mark.parametrize("contamination", [0.0, 0.6, -0.1])
def test_contamination_outside_0_to_half_is_refused(ae, split, contamination):
    with pytest.raises(ValueError, match="contamination"):
        AnomalyDetector(ae, contamination=contamination).fit(split[0])


def test_model_without_score_method_is_refused(split):
    with pytest.raises(TypeError, match="log_likelihood"):
        AnomalyDetector(PCA(4), score="iwae").fit(split[0])
    with pytest.raises(TypeError, match="score_samples"):
        AnomalyDetector(object()).fit(split[0])


def test_mismatched_shapes_are_refused(ae, split):
    detector = AnomalyDetector(ae).fit(split[0][:200])
    with pytest.raises(ValueError, match="shape"):
        detector.score_samples(np.zeros((3, 100), np.float32))


def test_evaluate_needs_one_flag_per_sample(ae, split):
    X_normal, X_test, y_test = split
    detector = AnomalyDetector(ae).fit(X_normal[:200])
    with pytest.raises(ValueError, match="is_anomaly"):
        detector.evaluate(X_test, (y_test == 0)[:-1])


# -- the default score and the named scores, on tiny synthetic images ---------------------------

def _bars(n, rng, vertical=False):
    """8x8 images in [0, 1] with one bright bar (horizontal for the normal data) and noise."""
    images = rng.random((n, 8, 8)) * 0.1
    for image, position in zip(images, rng.integers(1, 7, size=n), strict=True):
        if vertical:
            image[:, position] = 0.9
        else:
            image[position] = 0.9
    return images.reshape(n, 64).astype(np.float32)


@pytest.fixture(scope="module")
def bars():
    rng = np.random.default_rng(0)
    normal = _bars(300, rng)
    test = np.r_[_bars(60, rng), _bars(12, rng, vertical=True)]
    return normal, test, np.arange(len(test)) >= 60


@pytest.fixture(scope="module")
def tiny_vae(bars):
    model = VAE(latent_dim=4, hidden_dims=(32,), epochs=5, verbose=0, random_state=0)
    return model.fit(bars[0])


def test_default_score_ranks_planted_outliers_above_inliers(bars):
    normal, test, is_anomaly = bars
    detector = AnomalyDetector(PCA(6)).fit(normal)
    assert detector.score_ == "auto"
    assert detector.parts_ == ("latent_knn", "likelihood_ratio")
    result = detector.evaluate(test, is_anomaly)
    assert result["auroc"] > 0.95, result
    assert result["recall"] > 0.9, result


def test_auto_combines_standardised_parts(bars):
    normal, test, _ = bars
    auto = AnomalyDetector(PCA(6)).fit(normal)
    parts = [AnomalyDetector(PCA(6), score=name).fit(normal) for name in auto.parts_]
    expected = np.mean([(p.score_samples(test) - np.median(p.train_scores_))
                        / np.std(p.train_scores_) for p in parts], axis=0)
    np.testing.assert_allclose(auto.score_samples(test), expected, rtol=1e-6, atol=1e-9)


def _expected_scores(model, normal, test, score):
    """Each named score computed from its definition, outside the detector."""
    from latentmodels.tasks.anomaly import LocalPixelModel, reconstruction_scores

    if score == "likelihood":
        return model.score_samples(test)
    if score == "iwae":
        return model.log_likelihood(test, n_importance=5)
    if score == "reconstruction":
        return reconstruction_scores(model, test)
    if score == "latent_knn":
        train_codes, codes = model.transform(normal), model.transform(test)
        distances = np.sqrt(((codes[:, None, :] - train_codes[None]) ** 2).sum(-1))
        return -np.sort(distances, axis=1)[:, :5].mean(1)
    rebuilt = np.clip(model.inverse_transform(model.transform(test)).reshape(len(test), -1),
                      1e-4, 1 - 1e-4)
    fit = (test * np.log(rebuilt) + (1 - test) * np.log(1 - rebuilt)).sum(1)
    return fit - LocalPixelModel((64,)).fit(normal).log_likelihood(test)


@pytest.mark.parametrize("score", ["likelihood", "iwae", "reconstruction", "latent_knn",
                                   "likelihood_ratio"])
def test_each_named_score_is_selectable(tiny_vae, bars, score):
    normal, test, _ = bars
    detector = AnomalyDetector(tiny_vae, score=score, n_importance=5).fit(normal)
    assert detector.score_ == score and detector.parts_ == (score,)
    np.testing.assert_allclose(detector.score_samples(test),
                               _expected_scores(tiny_vae, normal, test, score),
                               rtol=1e-4, atol=1e-3)
    assert (detector.train_scores_ < detector.threshold_).mean() == pytest.approx(0.1, abs=0.01)


def test_named_scores_differ_from_each_other(tiny_vae, bars):
    normal, test, _ = bars
    scores = {name: AnomalyDetector(tiny_vae, score=name).fit(normal).score_samples(test)
              for name in ("likelihood", "reconstruction", "latent_knn", "likelihood_ratio")}
    ratio = scores["likelihood_ratio"]
    assert not np.allclose(ratio, scores["likelihood"])
    assert not np.allclose(scores["latent_knn"], scores["reconstruction"])


def test_old_default_name_warns_and_means_likelihood(tiny_vae, bars):
    normal, test, _ = bars
    with pytest.warns(FutureWarning, match="likelihood"):
        old = AnomalyDetector(tiny_vae, score="default").fit(normal)
    assert old.score_ == "likelihood"
    np.testing.assert_array_equal(old.score_samples(test), tiny_vae.score_samples(test))


@pytest.mark.parametrize("bad", ["elbo", "Auto", "", "knn"])
def test_unknown_score_name_is_refused_naming_the_argument(tiny_vae, bars, bad):
    with pytest.raises(ValueError, match="score") as error:
        AnomalyDetector(tiny_vae, score=bad).fit(bars[0])
    assert "likelihood_ratio" in str(error.value)  # the message lists the choices


def test_likelihood_ratio_needs_unit_range_and_auto_falls_back(bars):
    normal = bars[0] * 4.0 - 1.0
    with pytest.raises(ValueError, match=r"X: .*\[0, 1\]"):
        AnomalyDetector(PCA(6), score="likelihood_ratio").fit(normal)
    detector = AnomalyDetector(PCA(6)).fit(normal)
    assert detector.parts_ == ("latent_knn", "reconstruction")


def test_fit_predict_leaves_each_training_sample_out_of_its_neighbours(bars):
    normal = bars[0]
    detector = AnomalyDetector(PCA(6), score="latent_knn", contamination=0.05)
    labels = detector.fit_predict(normal)
    assert (labels == -1).sum() == 15  # 5 % of 300
    # predict() on the same samples lets each be its own nearest neighbour: fewer flags.
    assert (detector.predict(normal) == -1).sum() < 15


def test_local_pixel_model_prefers_the_strokes_it_was_fitted_on(bars):
    from latentmodels.tasks.anomaly import LocalPixelModel

    normal, test, is_anomaly = bars
    background = LocalPixelModel((8, 8)).fit(normal)
    values = background.log_likelihood(test)
    assert values.shape == (len(test),) and (values < 0).all()
    assert values[~is_anomaly].mean() > values[is_anomaly].mean()
    blank = np.zeros((1, 64))
    assert background.log_likelihood(blank)[0] > values.max()  # simple images score high


def test_likelihood_ratio_refuses_new_data_outside_unit_range(bars):
    normal, test, _ = bars
    detector = AnomalyDetector(PCA(6)).fit(normal)
    with pytest.raises(ValueError, match=r"X: .*\[0, 1\]"):
        detector.score_samples(test * 3.0)


def test_ranking_scores_fall_back_to_the_models_score_and_say_why():
    X = np.random.default_rng(0).random((80, 6))
    pca = PCA(2).fit(X[:60])
    own = pca.score_samples(X[60:])
    # one training sample: the latent kNN part cannot be built
    scores, source = ranking_scores(pca, X[60:], X[:1])
    np.testing.assert_allclose(scores, own)
    assert source.startswith("the model's score_samples (the default detector could not")
    assert "at least 2 training samples" in source
    scores, source = ranking_scores(pca, X[60:], X[:60])
    np.testing.assert_allclose(scores, AnomalyDetector(pca).fit(X[:60]).score_samples(X[60:]))
    assert source.startswith("AnomalyDetector(model) default score")
