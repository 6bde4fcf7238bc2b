"""A new emission type in one short file: exponential waiting times.

The block between the two ``toy emission`` markers is everything a new emission needs (the
emission, its estimator and the registration); a test below keeps it under 60 lines. It is
importable as ``test_hmm_exponential`` (pytest puts ``tests/`` on ``sys.path``), so the
command line can reach it by name once this module is imported, e.g. with
``LATENTMODELS_HMM_EMISSIONS=test_hmm_exponential``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone

from latentmodels.hmm import BaseHMM
from latentmodels.hmm.emissions import (
    Emission,
    FeaturesMixin,
    Param,
    available,
    check_real,
    kmeans,
    register_emission,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


# --- toy emission start
class ExponentialEmission(Emission):
    """Independent exponential waiting times per feature, rates ``rates_`` (K, D)."""

    parameters = (Param("r", "rates_"),)

    def check_X(self, X, name):
        X = check_real(X, name)
        if np.any(X < 0):
            raise ValueError(f"{name} must hold non-negative waiting times")
        return X

    def initialize(self, X, offsets, rng):
        centers, labels = kmeans(X, self.n_components, rng)
        if self.needs_init("rates_"):
            self.model.rates_ = 1.0 / np.maximum(centers, 1e-6)
        return labels

    def log_likelihood(self, X):
        rates = self.model.rates_
        return np.log(rates).sum(axis=1) - X @ rates.T

    def new_stats(self):
        return {"post": np.zeros(self.n_components), "obs": np.zeros(self.model.rates_.shape)}

    def accumulate(self, stats, X, posteriors, aux=None):
        stats["post"] += posteriors.sum(axis=0)
        stats["obs"] += posteriors.T @ X

    def m_step(self, stats):
        if self.updates("r"):
            seen, rates = stats["post"] > 1e-9, self.model.rates_.copy()
            rates[seen] = stats["post"][seen, None] / np.maximum(stats["obs"][seen], 1e-12)
            self.model.rates_ = rates

    def sample(self, states, rng):
        return rng.exponential(1.0 / self.model.rates_[states])

    def means(self):
        return 1.0 / self.model.rates_


@register_emission("exponential")
class ExponentialHMM(FeaturesMixin, BaseHMM):
    """Hidden Markov model with exponential emissions (``params`` letters ``s t r``)."""

    _emission_class = ExponentialEmission

    def __init__(self, n_components=1, startprob_prior=1.0, transmat_prior=1.0,
                 algorithm="viterbi", random_state=None, n_iter=10, tol=1e-2, verbose=False,
                 params="str", init_params="str", implementation="scaling", n_init=1):
        super().__init__(n_components, startprob_prior, transmat_prior, algorithm,
                         random_state, n_iter, tol, verbose, params, init_params,
                         implementation, n_init)
# --- toy emission end


RATES = np.array([[0.5, 4.0], [5.0, 0.25]])


def _planted(n_steps=4000, n_seq=4, seed=0):
    truth = ExponentialHMM(2)
    truth.startprob_ = np.array([0.5, 0.5])
    truth.transmat_ = np.array([[0.95, 0.05], [0.1, 0.9]])
    truth.rates_ = RATES.copy()
    parts = [truth.sample(n_steps // n_seq, random_state=seed + i) for i in range(n_seq)]
    return truth, np.concatenate([X for X, _ in parts]), [n_steps // n_seq] * n_seq


def test_toy_emission_fits_in_sixty_lines():
    text = Path(__file__).read_text().split("# --- toy emission start\n")[1]
    block = text.split("# --- toy emission end")[0].rstrip("\n").splitlines()
    assert len(block) <= 60, len(block)


def test_exponential_recovers_planted_rates_and_em_never_decreases():
    truth, X, lengths = _planted()
    model = ExponentialHMM(2, n_iter=200, tol=1e-6, random_state=0).fit(X, lengths)
    history = np.asarray(model.monitor_.history)
    assert np.all(np.diff(history) >= -1e-7 * np.abs(history[1:])), np.diff(history).min()
    order = np.argsort(model.rates_[:, 0])
    np.testing.assert_allclose(model.rates_[order], RATES, rtol=0.1)
    np.testing.assert_allclose(model.transmat_[order][:, order], truth.transmat_, atol=0.03)
    # decoding and inference come from the engine, unchanged
    states = model.predict(X, lengths)
    assert states.shape == (len(X),) and model.predict_proba(X, lengths).shape == (len(X), 2)
    assert model.score(X, lengths) > truth.score(X, lengths) - 5.0
    assert model.n_features == 2
    np.testing.assert_allclose(model.inverse_transform(np.array([0, 1])), 1 / model.rates_)


def test_exponential_generic_parts_persistence_size_validation(tmp_path):
    _, X, lengths = _planted(n_steps=800, n_seq=2)
    model = ExponentialHMM(2, n_iter=20, random_state=0).fit(X, lengths)
    loaded = ExponentialHMM.load(model.save(tmp_path / "exp.lm"))
    np.testing.assert_array_equal(loaded.rates_, model.rates_)
    assert loaded.score(X, lengths) == pytest.approx(model.score(X, lengths))
    K, D = 2, 2
    assert model._n_parameters() == (K - 1) + K * (K - 1) + K * D
    assert clone(model).get_params()["params"] == "str"
    batches = ExponentialHMM(2, n_iter=3, tol=-np.inf, random_state=0).fit_batches([X[:400]])
    assert len(batches.monitor_.history) == 3
    with pytest.raises(ValueError, match="params contains unknown letters 'x'"):
        ExponentialHMM(2, params="stx").fit(X)
    with pytest.raises(TypeError, match="n_components must be an integer"):
        ExponentialHMM(1.5).fit(X)
    with pytest.raises(ValueError, match="X must hold non-negative waiting times"):
        model.score(-X)
    model.rates_ = np.full((3, 2), 1.0)
    with pytest.raises(ValueError, match="rates_ must have n_components=2 rows"):
        model.score(X)


def test_exponential_is_registered_for_the_command_line():
    spec = available()["exponential"]
    assert spec.estimator is ExponentialHMM
    assert (spec.data, spec.letters, spec.hyperparameters) == ("real", "r", {})
    assert spec.description.startswith("Hidden Markov model with exponential emissions")


def test_plugin_module_is_listed_in_a_fresh_process():
    code = ("from latentmodels.hmm.emissions import available; "
            "print(available()['exponential'].estimator.__name__)")
    env = dict(os.environ, LATENTMODELS_HMM_EMISSIONS="test_hmm_exponential",
               PYTHONPATH=os.pathsep.join(filter(None, [str(Path(__file__).parent),
                                                        os.environ.get("PYTHONPATH")])))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=300, check=True)
    assert out.stdout.strip() == "ExponentialHMM"
