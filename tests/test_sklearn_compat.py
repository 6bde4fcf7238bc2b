"""Models are scikit-learn estimators: clone, get/set_params, Pipeline and GridSearchCV
work, and parameters are stored exactly as given."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

from latentmodels import VAE, Autoencoder, ConditionalVAE, DebiasingVAE, DenoisingAutoencoder

ESTIMATORS = [VAE(), Autoencoder(), DenoisingAutoencoder(), ConditionalVAE(), DebiasingVAE()]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_sklearn_parameter_checks(estimator):
    name = type(estimator).__name__
    check_no_attributes_set_in_init(name, estimator)
    check_parameters_default_constructible(name, estimator)
    check_get_params_invariance(name, estimator)
    check_set_params(name, estimator)


def test_clone_keeps_params_and_drops_learned_state(mnist_small):
    model = VAE(latent_dim=3, hidden_dims=(16,), epochs=1, verbose=0, random_state=0)
    model.fit(mnist_small[0][:64])
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    assert not hasattr(copy, "module_")


def test_pipeline_feeds_latent_codes_to_a_classifier(mnist_small):
    X, y = mnist_small
    X = X.reshape(len(X), -1)
    pipe = make_pipeline(
        VAE(latent_dim=8, hidden_dims=(128,), epochs=6, batch_size=32, verbose=0, random_state=0),
        LogisticRegression(max_iter=500),
    )
    pipe.fit(X[:800], y[:800])
    accuracy = pipe.score(X[800:], y[800:])
    assert accuracy > 0.6  # chance is 0.1


def test_grid_search_selects_by_the_model_score(mnist_small):
    X = mnist_small[0][:300]
    search = GridSearchCV(
        VAE(latent_dim=4, hidden_dims=(64,), batch_size=32, verbose=0, random_state=0),
        {"epochs": [1, 8]},
        cv=2,
    )
    search.fit(X)
    scores = search.cv_results_["mean_test_score"]
    assert np.isfinite(scores).all()
    # Eight epochs reach a far higher held-out ELBO than one; the search must see that.
    assert search.best_params_ == {"epochs": 8}
    assert scores[1] > scores[0] + 10.0
