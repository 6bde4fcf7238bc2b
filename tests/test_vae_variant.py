"""A VAE variant with one new hyper-parameter is a short class: declare the parameter and
its constraint, override one hook; get_params, clone and save/load come with it."""

from __future__ import annotations

import math
from numbers import Integral

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils._param_validation import Interval

from latentmodels import VAE
from latentmodels.deep import hyperparameters


@hyperparameters
class CyclicalVAE(VAE):
    """A VAE whose KL weight climbs linearly to ``beta`` anew in each of ``kl_cycles``
    cycles of the training epochs (cyclical annealing, Fu et al. 2019)."""

    kl_cycles: int = 2
    _parameter_constraints = {
        **VAE._parameter_constraints,
        "kl_cycles": [Interval(Integral, 1, None, closed="left")],
    }

    def _kl_weight(self, epoch: int, training: bool) -> float:
        if not training:
            return self.beta
        period = math.ceil(self.epochs / self.kl_cycles)
        return self.beta * (epoch % period + 1) / period


def test_a_variant_in_thirty_lines_trains_clones_and_round_trips(mnist_small, tmp_path):
    model = CyclicalVAE(4, kl_cycles=2, hidden_dims=(64,), epochs=4, verbose=0, random_state=0)
    assert model.get_params()["kl_cycles"] == 2 and model.get_params()["learning_rate"] == 2e-3
    assert clone(model).get_params() == model.get_params()
    model.fit(mnist_small[0][:400])
    assert [model._kl_weight(e, True) for e in range(4)] == [0.5, 1.0, 0.5, 1.0]
    assert np.isfinite([h["loss"] for h in model.history_]).all()
    loaded = CyclicalVAE.load(model.save(tmp_path / "cyclical.lm"))
    assert type(loaded) is CyclicalVAE and loaded.get_params() == model.get_params()
    np.testing.assert_array_equal(loaded.transform(mnist_small[0][:5]),
                                  model.transform(mnist_small[0][:5]))
    with pytest.raises(ValueError, match="kl_cycles must be >= 1"):
        CyclicalVAE(kl_cycles=0, epochs=1, verbose=0).fit(mnist_small[0][:32])
