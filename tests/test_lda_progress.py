"""Verbose LDA fits that last more than about a second draw a rich progress bar."""

from __future__ import annotations

import numpy as np
import pytest

from latentmodels._internal import progress as _progress
from latentmodels.lda.model import LDA

X = np.random.default_rng(0).poisson(1.0, (30, 20))


@pytest.mark.parametrize(
    "settings, label",
    [({"method": "gibbs"}, "Gibbs sweeps"), ({"method": "vb", "tol": 0.0}, "VB passes"),
     ({"method": "vb", "learning_method": "online"}, "online VB passes")],
)
def test_a_long_verbose_fit_shows_a_progress_bar(settings, label, monkeypatch, capsys):
    monkeypatch.setattr(_progress, "SHOW_AFTER_S", 0.0)  # as if every iteration were slow
    LDA(2, max_iter=4, verbose=2, random_state=0, **settings).fit(X)
    err = capsys.readouterr().err
    assert label in err and "4/4" in err
    assert "[LDA]" in err  # the periodic one-line reports stay


def test_a_quick_or_quiet_fit_draws_no_bar(monkeypatch, capsys):
    monkeypatch.setattr(_progress, "SHOW_AFTER_S", 60.0)  # (a cold numba cache is slow)
    LDA(2, max_iter=3, verbose=1, random_state=0).fit(X)
    assert "Gibbs sweeps" not in capsys.readouterr().err  # done before the threshold
    with _progress.FitProgress(False, 3, "quiet", title="LDA") as progress:
        progress.update(3)
    assert capsys.readouterr().err == ""
