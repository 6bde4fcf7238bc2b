"""HMMs on the real datasets in ../shared/data (skipped when the folder is absent)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from latentmodels.hmm import CategoricalHMM, GaussianHMM, select_n_states

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    pytest.mark.skipif(not DATA.is_dir(), reason=f"real datasets not found at {DATA}"),
]


def _read(name: str) -> dict[str, list[str]]:
    path = DATA / name
    if not path.is_file():
        pytest.skip(f"{path} is missing")
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {key: [row[key] for row in rows] for key in rows[0]}


def test_geyser_em_log_likelihood_never_decreases_and_finds_short_long_states():
    cols = _read("old_faithful_geyser.csv")
    X = np.column_stack([np.asarray(cols["waiting"], float), np.asarray(cols["duration"], float)])
    for ctype in ("diag", "full"):
        model = GaussianHMM(3, covariance_type=ctype, n_iter=60, tol=-np.inf, random_state=0)
        model.fit(X)
        history = np.array(model.monitor_.history)
        assert np.all(np.diff(history) >= -1e-8 * np.abs(history[1:])), ctype
        assert np.all(np.linalg.eigvalsh(model.covars_) > 0)
    durations = np.sort(model.means_[:, 1])
    assert durations[0] < 2.5 < durations[-1]  # short and long eruptions are separate states


def test_stock_returns_regimes_chosen_by_bic():
    cols = _read("eu_stock_markets.csv")
    prices = np.column_stack([np.asarray(cols[k], float) for k in ("DAX", "SMI", "CAC", "FTSE")])
    returns = 100 * np.diff(np.log(prices), axis=0)
    best, scores = select_n_states(
        GaussianHMM(covariance_type="full", n_iter=50, random_state=0), returns,
        n_states=[1, 2, 3],
    )
    assert scores[1] > min(scores[2], scores[3])  # more than one volatility regime
    vol = np.sqrt(np.linalg.eigvalsh(best.covars_)[:, -1])
    assert vol.max() > 1.3 * vol.min()  # calm and turbulent regimes differ in volatility
    np.testing.assert_allclose(best.transmat_.sum(axis=1), 1.0)
    assert np.mean(np.diag(best.transmat_)) > 0.7  # regimes persist for days


def test_seattle_weather_categorical_hmm_beats_independent_days():
    cols = _read("seattle_weather.csv")
    labels = np.asarray(cols["weather"])
    symbols = np.unique(labels, return_inverse=True)[1].reshape(-1, 1)
    model = CategoricalHMM(3, n_iter=100, random_state=0).fit(symbols)
    freq = np.bincount(symbols[:, 0]) / len(symbols)
    iid = np.sum(np.log(freq[symbols[:, 0]]))
    assert model.score(symbols) > iid + 20
    np.testing.assert_allclose(model.emissionprob_.sum(axis=1), 1.0)
