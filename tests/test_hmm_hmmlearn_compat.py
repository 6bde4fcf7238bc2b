"""hmmlearn's meanings where the names are hmmlearn's: score_samples, monitor_, silence on
n_iter, random_state=None, MultinomialHMM, n_features, spherical covars, the init_params log."""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pytest
from scipy.stats import multinomial

from latentmodels import load
from latentmodels.hmm import (
    CategoricalHMM,
    ConvergenceMonitor,
    GaussianHMM,
    MultinomialHMM,
    PoissonHMM,
)
from latentmodels.hmm.emissions import available


def _poisson():
    hmm = PoissonHMM(2)
    hmm.startprob_ = np.array([0.6, 0.4])
    hmm.transmat_ = np.array([[0.9, 0.1], [0.2, 0.8]])
    hmm.lambdas_ = np.array([[1.0], [8.0]])
    return hmm


def test_score_samples_is_total_log_likelihood_and_posteriors():
    hmm = _poisson()
    X = np.array([[0], [2], [9], [7], [1]])
    log_prob, posteriors = hmm.score_samples(X, lengths=[2, 3])
    per_sequence = hmm.score_sequences(X, lengths=[2, 3])
    assert per_sequence.shape == (2,)
    assert log_prob == pytest.approx(per_sequence.sum(), rel=1e-12)
    assert hmm.score(X, lengths=[2, 3]) == pytest.approx(log_prob, rel=1e-12)
    np.testing.assert_allclose(posteriors.sum(axis=1), 1.0, atol=1e-12)
    assert posteriors.argmax(axis=1).tolist() == [0, 0, 1, 1, 0]


def test_running_out_of_iterations_is_silent_and_recorded():
    X = np.random.default_rng(0).normal(size=(200, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hmm = GaussianHMM(3, n_iter=2, tol=1e-12, random_state=0).fit(X)
    assert hmm.monitor_.iter == 2 == hmm.n_iter_
    assert hmm.monitor_.reached_n_iter and not hmm.monitor_.converged


def test_monitor_exists_before_fit_and_a_users_monitor_is_kept():
    class StopAtOnce(ConvergenceMonitor):
        @property
        def converged(self):
            return len(self.history) >= 1

    hmm = GaussianHMM(2, n_iter=50, random_state=0)
    assert isinstance(hmm.monitor_, ConvergenceMonitor) and hmm.monitor_.n_iter == 50
    mine = StopAtOnce(tol=1.0, n_iter=50, verbose=False)
    hmm.monitor_ = mine
    hmm.fit(np.random.default_rng(0).normal(size=(100, 1)))
    assert hmm.monitor_ is mine and mine.iter == 1 and hmm.n_iter_ == 1


def test_own_monitor_follows_set_params():
    X = np.random.default_rng(0).normal(size=(100, 1))
    hmm = GaussianHMM(2, n_iter=50, tol=-np.inf, random_state=0)
    hmm.set_params(n_iter=3).fit(X)
    assert hmm.monitor_.n_iter == 3 and len(hmm.monitor_.history) == 3


def test_random_state_none_follows_numpys_global_seed():
    X = np.random.default_rng(0).normal(size=(120, 2))
    saved = np.random.get_state()  # noqa: NPY002 (the global generator is the subject)
    try:
        fits = []
        for _ in range(2):
            np.random.seed(11)  # noqa: NPY002
            fits.append(GaussianHMM(3, n_iter=3, tol=-np.inf).fit(X).means_)
        np.random.seed(12)  # noqa: NPY002
        other = GaussianHMM(3, n_iter=3, tol=-np.inf).fit(X).means_
    finally:
        np.random.set_state(saved)  # noqa: NPY002
    np.testing.assert_array_equal(fits[0], fits[1])
    assert not np.array_equal(fits[0], other)


def test_log_message_when_init_params_overwrites_a_set_parameter(caplog):
    hmm = GaussianHMM(2, n_iter=2, random_state=0)
    hmm.startprob_ = np.array([0.5, 0.5])
    with caplog.at_level(logging.WARNING, logger="latentmodels.hmm"):
        hmm.fit(np.random.default_rng(0).normal(size=(50, 1)))
    messages = [r.getMessage() for r in caplog.records]
    assert any("startprob_" in m and "will be overwritten" in m for m in messages)
    caplog.clear()
    kept = GaussianHMM(2, n_iter=2, random_state=0, init_params="mc")
    kept.startprob_ = np.array([0.5, 0.5])
    with caplog.at_level(logging.WARNING, logger="latentmodels.hmm"):
        kept.fit(np.random.default_rng(0).normal(size=(50, 1)))
    assert not caplog.records


def test_spherical_covars_accept_a_column():
    hmm = GaussianHMM(2, covariance_type="spherical")
    hmm.means_ = np.array([[0.0], [5.0]])
    hmm.covars_ = np.array([[4.0], [3.0]])
    assert hmm.covars_[:, 0, 0].tolist() == [4.0, 3.0]
    with pytest.raises(ValueError, match="covars_"):
        hmm.covars_ = np.ones((2, 2))


def test_categorical_n_features_is_filled_by_fit_and_respected():
    X = np.array([[0], [1], [2], [1], [0], [2], [2], [1]])
    fitted = CategoricalHMM(2, n_iter=3, random_state=0).fit(X)
    assert fitted.n_features == 3 and fitted.emissionprob_.shape == (2, 3)
    wider = CategoricalHMM(2, n_features=5, n_iter=3, random_state=0).fit(X)
    assert wider.emissionprob_.shape == (2, 5)
    with pytest.raises(ValueError, match="n_features"):
        CategoricalHMM(2, n_features=2).fit(X)


@pytest.mark.parametrize("implementation", ["scaling", "log"])
def test_multinomial_log_likelihood_matches_scipy(implementation):
    hmm = MultinomialHMM(2, n_trials=4, implementation=implementation)
    hmm.startprob_ = np.array([1.0, 0.0])
    hmm.transmat_ = np.array([[0.0, 1.0], [0.0, 1.0]])
    hmm.emissionprob_ = np.array([[0.5, 0.3, 0.2], [0.1, 0.1, 0.8]])
    X = np.array([[2, 1, 1], [0, 1, 3]])
    # the path is forced: state 0 then state 1
    expected = (multinomial.logpmf(X[0], 4, hmm.emissionprob_[0])
                + multinomial.logpmf(X[1], 4, hmm.emissionprob_[1]))
    assert hmm.score(X) == pytest.approx(expected, rel=1e-12)


def test_multinomial_with_one_trial_equals_categorical():
    start, trans = np.array([0.6, 0.4]), np.array([[0.7, 0.3], [0.4, 0.6]])
    emission = np.array([[0.1, 0.4, 0.5], [0.6, 0.3, 0.1]])
    multi, cat = MultinomialHMM(2, n_trials=1), CategoricalHMM(2)
    for m in (multi, cat):
        m.startprob_, m.transmat_, m.emissionprob_ = start, trans, emission
    symbols = np.array([[0], [1], [2], [2], [0]])
    one_hot = np.eye(3, dtype=int)[symbols[:, 0]]
    assert multi.score(one_hot) == pytest.approx(cat.score(symbols), rel=1e-12)
    np.testing.assert_allclose(multi.predict_proba(one_hot), cat.predict_proba(symbols),
                               atol=1e-12)


def test_multinomial_fit_recovers_outcomes_and_checks_trials(tmp_path):
    rng = np.random.default_rng(0)
    truth = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    states = np.repeat([0, 1, 0, 1], 50)
    X = np.array([rng.multinomial(6, truth[s]) for s in states])
    hmm = MultinomialHMM(2, n_trials=6, n_iter=30, random_state=0).fit(X, lengths=[100, 100])
    order = np.argsort(hmm.emissionprob_[:, 0])[::-1]
    np.testing.assert_allclose(hmm.emissionprob_[order], truth, atol=0.06)
    assert hmm.sample(4, random_state=0)[0].sum(axis=1).tolist() == [6, 6, 6, 6]
    loaded = load(hmm.save(tmp_path / "multinomial.lm"))
    assert loaded.score(X) == pytest.approx(hmm.score(X), rel=1e-12)
    with pytest.raises(ValueError, match="n_trials"):
        MultinomialHMM(2, n_trials=5).fit(X)
    by_hand = MultinomialHMM(2)
    by_hand.startprob_, by_hand.transmat_ = hmm.startprob_, hmm.transmat_
    by_hand.emissionprob_ = hmm.emissionprob_
    with pytest.raises(ValueError, match="n_trials"):  # how many draws per step?
        by_hand.sample(3)
    assert available()["multinomial"].estimator is MultinomialHMM


def test_multinomial_fit_with_varying_trials_increases_likelihood():
    rng = np.random.default_rng(1)
    X = np.array([rng.multinomial(n, [0.2, 0.3, 0.5]) for n in rng.integers(1, 9, 80)])
    hmm = MultinomialHMM(2, n_iter=1, random_state=0, init_params="ste").fit(X)
    hmm.init_params = ""
    scores = []
    for _ in range(6):
        hmm.fit(X)
        scores.append(hmm.score(X))
    assert np.all(np.diff(scores) >= -1e-9) and scores[-1] > scores[0]
    assert hmm.n_trials is None and hmm.n_trials_ is None
