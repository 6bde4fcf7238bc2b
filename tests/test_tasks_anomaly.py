"""Anomaly detection: a model trained on digits 1-9 finds the zeros odd, the detector speaks
scikit-learn's outlier API, and bad input fails with an error naming the argument."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.decomposition import PCA

from latentmodels import VAE, Autoencoder
from latentmodels.metrics import auroc
from latentmodels.tasks.anomaly import AnomalyDetector


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
    detector = AnomalyDetector(ae, contamination=0.05).fit(X_normal)
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
    elbo = AnomalyDetector(vae).fit(X_normal[:200]).score_samples(X_test[:50])
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
