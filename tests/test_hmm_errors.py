"""Bad input to the HMMs raises a clear error that names the argument."""

from __future__ import annotations

import numpy as np
import pytest

from latentmodels.hmm import CategoricalHMM, GaussianHMM, PoissonHMM

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _gaussian():
    model = GaussianHMM(2)
    model.startprob_ = np.array([0.5, 0.5])
    model.transmat_ = np.array([[0.9, 0.1], [0.2, 0.8]])
    model.means_ = np.zeros((2, 2))
    model.covars_ = np.ones((2, 2))
    return model


def _categorical():
    model = CategoricalHMM(2)
    model.startprob_ = np.array([0.5, 0.5])
    model.transmat_ = np.array([[0.9, 0.1], [0.2, 0.8]])
    model.emissionprob_ = np.array([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]])
    return model


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_or_inf_in_X(bad):
    X = np.zeros((10, 2))
    X[3, 1] = bad
    with pytest.raises(ValueError, match="X contains 1 NaN or infinite"):
        GaussianHMM(2).fit(X)


def test_wrong_dimensionality_of_X():
    with pytest.raises(ValueError, match="X must have at least 2 dimensions"):
        GaussianHMM(2).fit(np.zeros(10))
    with pytest.raises(ValueError, match="X must be 2-D"):
        GaussianHMM(2).fit(np.zeros((4, 3, 2)))
    with pytest.raises(ValueError, match="X has 3 features but the model has 2"):
        _gaussian().score(np.zeros((5, 3)))


def test_lengths_not_summing_to_rows():
    with pytest.raises(ValueError, match="lengths must sum to the number of rows of X"):
        GaussianHMM(2).fit(np.zeros((10, 2)), lengths=[4, 4])


def test_lengths_containing_zero():
    with pytest.raises(ValueError, match="lengths must be positive"):
        _gaussian().score(np.zeros((10, 2)), lengths=[5, 0, 5])


def test_lengths_with_list_of_sequences():
    with pytest.raises(ValueError, match="lengths must be None when X is a list"):
        _gaussian().score([np.zeros((3, 2)), np.zeros((2, 2))], lengths=[3, 2])


def test_symbols_outside_fitted_alphabet():
    with pytest.raises(ValueError, match="X contains symbol 5 outside the fitted alphabet"):
        _categorical().score(np.array([[0], [1], [5]]))


def test_negative_symbols_and_counts():
    with pytest.raises(ValueError, match="X contains negative symbols"):
        CategoricalHMM(2).fit(np.array([[0], [-1], [1]]))
    with pytest.raises(ValueError, match="X contains negative counts"):
        PoissonHMM(2).fit(np.array([[0, 1], [3, -2], [1, 1]]))


def test_non_integer_symbols():
    with pytest.raises(ValueError, match="X must hold integers"):
        CategoricalHMM(2).fit(np.array([[0.5], [1.0]]))


def test_more_states_than_observations():
    with pytest.raises(ValueError, match="n_components=5 is larger than the number of obs"):
        GaussianHMM(5).fit(np.zeros((3, 1)))


@pytest.mark.parametrize("name,value", [
    ("startprob_", np.array([0.6, 0.6])),
    ("transmat_", np.array([[0.9, 0.2], [0.2, 0.8]])),
])
def test_hand_set_probabilities_not_summing_to_one(name, value):
    model = _gaussian()
    setattr(model, name, value)
    with pytest.raises(ValueError, match=f"{name} must sum to 1"):
        model.score(np.zeros((4, 2)))


def test_hand_set_emission_probabilities_not_summing_to_one():
    model = _categorical()
    model.emissionprob_ = np.array([[0.5, 0.6, 0.0], [0.2, 0.3, 0.5]])
    with pytest.raises(ValueError, match="emissionprob_ rows must sum to 1"):
        model.predict(np.array([[0], [1]]))


def test_hand_set_covariance_not_positive_definite():
    model = GaussianHMM(2, covariance_type="full")
    model.startprob_ = np.array([0.5, 0.5])
    model.transmat_ = np.array([[0.9, 0.1], [0.2, 0.8]])
    model.means_ = np.zeros((2, 2))
    model.covars_ = np.array([np.eye(2), [[1.0, 2.0], [2.0, 1.0]]])
    with pytest.raises(ValueError, match="covars_ must be positive definite"):
        model.score(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="covars_ for covariance_type='full' must have shape"):
        model.covars_ = np.ones((2, 2))


def test_bad_hyperparameters_are_named():
    X = np.zeros((10, 1))
    with pytest.raises(ValueError, match="covariance_type must be one of"):
        GaussianHMM(2, covariance_type="banana").fit(X)
    with pytest.raises(ValueError, match="params contains unknown letters 'x'"):
        GaussianHMM(2, params="stx").fit(X)
    with pytest.raises(TypeError, match="n_components must be an integer"):
        GaussianHMM(2.5).fit(X)
    with pytest.raises(ValueError, match="algorithm must be one of"):
        GaussianHMM(2, algorithm="best").fit(X)
    with pytest.raises(ValueError, match="transmat_prior must be"):
        GaussianHMM(2, transmat_prior=-1.0).fit(X)


def test_unfitted_model_raises_not_fitted():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        GaussianHMM(2).predict(np.zeros((3, 1)))


# -- lengths that overflow: they must never reach the compiled kernels.
@pytest.mark.parametrize(
    "lengths",
    [
        np.array([2**64 - 1, 11], dtype=np.uint64),  # sums to 10 modulo 2**64
        np.array([2**62, 2**62, 2**62, 2**62, 10], dtype=np.int64),  # likewise, in int64
        np.array([1e20, 10.0]),
        np.array([np.inf, 10.0]),
    ],
)
@pytest.mark.parametrize("method", ["fit", "predict", "score_samples", "score_sequences"])
def test_lengths_that_overflow_are_refused(lengths, method):
    X = np.random.default_rng(0).normal(size=(10, 1))
    model = GaussianHMM(2, n_iter=2, random_state=0)
    if method != "fit":
        model.fit(X)
    with pytest.raises((ValueError, TypeError), match="lengths"):
        getattr(model, method)(X, lengths)
