"""Linear probe: codes of a small autoencoder beat chance by a wide margin; the result is a
tidy table; labels of the wrong length are refused."""

from __future__ import annotations

import numpy as np
import pytest

from latentmodels import Autoencoder
from latentmodels.tasks.features import format_probe_table, linear_probe


@pytest.fixture(scope="module")
def ae(mnist_small):
    X, _ = mnist_small
    model = Autoencoder(latent_dim=16, hidden_dims=(128,), epochs=15, learning_rate=3e-3,
                        verbose=0, random_state=0)
    return model.fit(X)


def test_probe_on_codes_beats_chance_by_a_wide_margin(ae, mnist_small):
    X, y = mnist_small
    result = linear_probe(ae, X, y, n_labels=(100, None), feature_sets=("latent", "pca"),
                          random_state=0)
    rows = {(r["features"], r["n_labels"]): r for r in result["rows"]}
    assert result["chance"] < 0.15
    assert rows[("latent", 100)]["accuracy"] > 0.5  # chance is about 0.1
    assert rows[("latent", result["n_train"])]["accuracy"] > 0.7
    assert rows[("pca", 100)]["dim"] == rows[("latent", 100)]["dim"] == 16
    assert result["n_train"] + result["n_test"] == len(X)


def test_probe_with_a_given_test_set_and_table(ae, mnist_small, mnist):
    X, y = mnist_small
    X_all, y_all = mnist
    result = linear_probe(ae, X, y, X_test=X_all[-300:], y_test=y_all[-300:],
                          n_labels=(50,), feature_sets=("latent", "pixels"))
    assert result["n_test"] == 300 and len(result["rows"]) == 2
    assert result["rows"][1]["dim"] == 784
    table = format_probe_table(result)
    assert table.splitlines()[0] == "| labels | latent (16-D) | pixels (784-D) |"
    assert table.splitlines()[2].startswith("| 50 | ")


def test_labels_of_the_wrong_length_are_refused(ae, mnist_small):
    X, y = mnist_small
    with pytest.raises(ValueError, match="y must hold one label per sample"):
        linear_probe(ae, X, y[:-1])
    with pytest.raises(ValueError, match="y_test"):
        linear_probe(ae, X, y, X_test=X[:10], y_test=y[:9])


def test_too_few_labels_for_the_classes_and_model_without_transform(ae, mnist_small):
    X, y = mnist_small
    with pytest.raises(ValueError, match="n_labels"):
        linear_probe(ae, X, y, n_labels=(5,))
    with pytest.raises(TypeError, match="transform"):
        linear_probe(object(), X, y)
    with pytest.raises(ValueError, match="X_test has samples of shape"):
        linear_probe(ae, X, y, X_test=np.zeros((3, 5, 5)), y_test=y[:3])
