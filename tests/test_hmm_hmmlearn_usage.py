"""hmmlearn's tutorial usage runs unchanged after swapping the import."""

from __future__ import annotations

import numpy as np
import pytest

from latentmodels import hmm
from latentmodels import hmm as lm_hmm_pkg  # noqa: F401  (the package imports)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def test_tutorial_sampling_and_refitting():
    # "Building HMM and generating samples" (hmmlearn tutorial), import swapped only
    model = hmm.GaussianHMM(n_components=3, covariance_type="full")
    model.startprob_ = np.array([0.6, 0.3, 0.1])
    model.transmat_ = np.array([[0.7, 0.2, 0.1], [0.3, 0.5, 0.2], [0.3, 0.3, 0.4]])
    model.means_ = np.array([[0.0, 0.0], [3.0, -3.0], [5.0, 10.0]])
    model.covars_ = np.tile(np.identity(2), (3, 1, 1))
    X, Z = model.sample(100)
    assert X.shape == (100, 2) and Z.shape == (100,)

    remodel = hmm.GaussianHMM(n_components=3, covariance_type="full", n_iter=100)
    remodel.fit(X)
    Z2 = remodel.predict(X)
    assert Z2.shape == (100,)
    assert remodel.monitor_.converged
    logprob, states = remodel.decode(X)
    assert np.isfinite(logprob) and states.shape == (100,)


def test_tutorial_multiple_sequences_and_best_of_several_seeds():
    X1 = [[0.5], [1.0], [-1.0], [0.42], [0.24]]
    X2 = [[2.4], [4.2], [0.5], [-0.24]]
    X = np.concatenate([X1, X2])
    lengths = [len(X1), len(X2)]
    hmm.GaussianHMM(n_components=3).fit(X, lengths)

    rng = np.random.default_rng(0)
    data = np.concatenate([rng.normal(0, 1, (100, 1)), rng.normal(5, 1, (100, 1))])
    best_score, best_model = None, None
    for idx in range(5):
        model = hmm.GaussianHMM(n_components=2, random_state=idx, n_iter=10)
        model.fit(data[:150])
        score = model.score(data[150:])
        if best_score is None or score > best_score:
            best_model, best_score = model, score
    assert best_model.predict(data).shape == (200,)


def test_tutorial_fixing_parameters_and_categorical_decoding():
    # train only part of the parameters: set the rest by hand and drop them from init_params
    model = hmm.GaussianHMM(n_components=2, covariance_type="diag", init_params="cm", params="cmt")
    model.startprob_ = np.array([1.0, 0.0])
    model.transmat_ = np.array([[0.5, 0.5], [0.0, 1.0]])  # left-right: zeros stay zero
    rng = np.random.default_rng(1)
    model.fit(np.r_[rng.normal(0, 1, (50, 1)), rng.normal(4, 1, (50, 1))])
    assert model.transmat_[1, 0] == 0.0
    np.testing.assert_allclose(model.startprob_, [1.0, 0.0])

    # "Decoding" with the weather example (CategoricalHMM)
    weather = hmm.CategoricalHMM(n_components=2)
    weather.startprob_ = np.array([0.6, 0.4])
    weather.transmat_ = np.array([[0.7, 0.3], [0.4, 0.6]])
    weather.emissionprob_ = np.array([[0.1, 0.4, 0.5], [0.6, 0.3, 0.1]])
    observations = np.array([[0, 2, 1, 1, 2, 0]]).T
    logprob, hidden = weather.decode(observations, algorithm="viterbi")
    np.testing.assert_allclose(weather.predict_proba(observations).sum(axis=1), 1.0)
    reference = pytest.importorskip("hmmlearn.hmm").CategoricalHMM(n_components=2)
    reference.startprob_ = weather.startprob_
    reference.transmat_ = weather.transmat_
    reference.emissionprob_ = weather.emissionprob_
    ref_logprob, ref_hidden = reference.decode(observations, algorithm="viterbi")
    assert hidden.tolist() == ref_hidden.tolist()
    assert logprob == pytest.approx(ref_logprob, rel=1e-12)
    assert weather.score(observations) == pytest.approx(reference.score(observations), rel=1e-12)
