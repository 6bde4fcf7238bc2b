"""Verbose HMM fits that last more than about a second draw a rich progress bar."""

from __future__ import annotations

import numpy as np
import pytest

from latentmodels._internal import progress
from latentmodels.hmm import CategoricalHMM, GaussianHMM

X = np.random.default_rng(0).normal(size=(120, 2))
SYMBOLS = np.random.default_rng(0).integers(0, 3, (120, 1))


@pytest.mark.parametrize(
    "model, data, bar",
    [(GaussianHMM(2, n_iter=4, tol=-np.inf, verbose=True, random_state=0), X,
      "EM iterations"),
     (CategoricalHMM(2, n_iter=3, n_init=2, tol=-np.inf, verbose=True, random_state=0), SYMBOLS,
      "EM iterations (2 inits)")],
)
def test_a_long_verbose_fit_shows_a_progress_bar(model, data, bar, monkeypatch, capsys):
    monkeypatch.setattr(progress, "SHOW_AFTER_S", 0.0)  # as if every iteration were slow
    model.fit(data, [60, 60])
    err = capsys.readouterr().err
    total = model.n_iter * model.n_init
    assert f"{type(model).__name__} {bar}" in err and f"{total}/{total}" in err
    assert "objective" in err
    # hmmlearn's per-iteration monitor lines stay (iteration, objective, gain)
    assert len([line for line in err.splitlines() if line.strip().startswith("1 ")]) == \
        model.n_init


def test_fit_batches_shows_the_bar_too(monkeypatch, capsys):
    monkeypatch.setattr(progress, "SHOW_AFTER_S", 0.0)
    GaussianHMM(2, n_iter=3, tol=-np.inf, verbose=True, random_state=0).fit_batches(
        [X[:60], X[60:]])
    assert "GaussianHMM EM iterations" in capsys.readouterr().err


def test_a_quick_or_quiet_fit_draws_no_bar(monkeypatch, capsys):
    monkeypatch.setattr(progress, "SHOW_AFTER_S", 0.0)
    GaussianHMM(2, n_iter=3, random_state=0).fit(X)  # verbose=False: silent
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(progress, "SHOW_AFTER_S", 60.0)  # (a cold numba cache is slow)
    GaussianHMM(2, n_iter=3, verbose=True, random_state=0).fit(X)
    assert "EM iterations" not in capsys.readouterr().err  # done before the threshold


def test_a_resumed_fit_starts_its_bar_where_the_checkpoint_left_off(monkeypatch, capsys,
                                                                   tmp_path):
    settings = dict(n_iter=6, tol=-np.inf, random_state=0, checkpoint_dir=tmp_path)
    GaussianHMM(2, **settings, checkpoint_every=2).fit(X)
    monkeypatch.setattr(progress, "SHOW_AFTER_S", 0.0)
    seen = []
    update = progress.FitProgress.update
    monkeypatch.setattr(progress.FitProgress, "update",
                        lambda self, done, note=None: seen.append(done) or update(self, done, note))
    GaussianHMM(2, **settings, verbose=True).fit(X, resume=True)
    assert seen == [6, 6] and "6/6" in capsys.readouterr().err  # nothing left to run
