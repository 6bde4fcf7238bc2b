"""The parallel block kernels (dynamic scheduling, shared workspace) agree with the serial
ones, and EM's thread tuner gives the same fit either way."""

from __future__ import annotations

import numpy as np
import pytest

from latentmodels.hmm import CategoricalHMM, GaussianHMM, _kernels

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _data(kind):
    rng = np.random.default_rng(0)
    lengths = rng.integers(5, 120, size=23)  # uneven: blocks with padded lanes
    if kind == "categorical":
        model = CategoricalHMM(3)
        model.emissionprob_ = rng.dirichlet(np.ones(6), size=3)
    else:
        model = GaussianHMM(3)
        model.means_ = rng.normal(0, 3, (3, 2))
        model.covars_ = rng.uniform(0.5, 1.5, (3, 2))
    model.startprob_ = np.full(3, 1 / 3)
    model.transmat_ = np.full((3, 3), 0.1) + np.eye(3) * 0.7
    X = np.concatenate([model.sample(int(n), random_state=i)[0] for i, n in enumerate(lengths)])
    return model, X, lengths


@pytest.mark.parametrize("kind", ["diag", "categorical"])
def test_parallel_and_serial_kernels_agree(kind, monkeypatch):
    model, X, lengths = _data(kind)
    with _kernels.serial_only():
        serial = (model.score_samples(X, lengths), model.predict_proba(X, lengths),
                  model.predict(X, lengths))
    monkeypatch.setattr(_kernels, "SERIAL_WORK", 0)  # parallel kernels even on tiny data
    parallel = (model.score_samples(X, lengths), model.predict_proba(X, lengths),
                model.predict(X, lengths))
    np.testing.assert_allclose(parallel[0], serial[0], rtol=1e-12)
    np.testing.assert_allclose(parallel[1], serial[1], atol=1e-12)
    np.testing.assert_array_equal(parallel[2], serial[2])
    fits = []
    for force in (True, False):
        template = (CategoricalHMM(3, n_iter=12, tol=-np.inf, random_state=0) if
                    kind == "categorical" else GaussianHMM(3, n_iter=12, tol=-np.inf,
                                                           random_state=0))
        with _kernels.serial_only(force):
            fits.append(template.fit(X, lengths).monitor_.history)
    np.testing.assert_allclose(fits[0], fits[1], rtol=1e-10)
