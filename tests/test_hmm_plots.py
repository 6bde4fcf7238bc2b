"""The HMM plots draw without error for every emission type."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from latentmodels.hmm import GMMHMM, CategoricalHMM, GaussianHMM, PoissonHMM  # noqa: E402
from latentmodels.plots.hmm import plot_emission_densities, plot_states, plot_transmat

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.mark.parametrize("model,X", [
    (GaussianHMM(2, covariance_type="full", n_iter=3, random_state=0),
     np.random.default_rng(0).normal(size=(60, 2))),
    (GMMHMM(2, n_mix=2, covariance_type="tied", n_iter=3, random_state=0),
     np.random.default_rng(1).normal(size=(60, 2))),
    (CategoricalHMM(2, n_iter=3, random_state=0), np.random.default_rng(2).integers(0, 4, (60, 1))),
    (PoissonHMM(2, n_iter=3, random_state=0), np.random.default_rng(3).poisson(3, (60, 2))),
], ids=["gaussian", "gmm", "categorical", "poisson"])
def test_plots_draw_for_every_emission(model, X, tmp_path):
    import matplotlib.pyplot as plt

    model.fit(X)
    figs = [plot_states(X, model.predict(X)), plot_transmat(model), plot_emission_densities(model)]
    for i, fig in enumerate(figs):
        fig.savefig(tmp_path / f"{i}.png")
        plt.close(fig)
    assert len(list(tmp_path.glob("*.png"))) == 3


def test_plot_states_checks_its_arguments():
    with pytest.raises(ValueError, match="states must have shape"):
        plot_states(np.zeros((5, 1)), np.zeros(4, dtype=int))
    with pytest.raises(ValueError, match="feature must be in"):
        plot_states(np.zeros((5, 1)), np.zeros(5, dtype=int), feature=3)
