"""LDA declares its hyper-parameter rules (scikit-learn constraints) and its input tags."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import (
    InvalidParameterError,
    generate_invalid_param_val,
    make_constraint,
)

from latentmodels.lda.model import LDA

X = np.random.default_rng(0).poisson(1.0, (12, 8))


def test_rules_are_declared_and_checked_by_the_inherited_validator():
    assert set(LDA._parameter_constraints) == set(LDA().get_params())
    assert LDA._validate_params is BaseEstimator._validate_params
    for hook in ("_check_params", "_validate_hyperparameters"):
        assert not hasattr(LDA, hook)


@pytest.mark.parametrize("name", sorted(LDA._parameter_constraints))
@pytest.mark.parametrize("entry", ["fit", "partial_fit"])
def test_each_declared_rule_is_enforced_with_a_message_naming_the_argument(name, entry):
    constraints = [make_constraint(c) for c in LDA._parameter_constraints[name]]
    for constraint in constraints:
        try:
            bad = generate_invalid_param_val(constraint)
        except NotImplementedError:
            continue
        if any(c.is_satisfied_by(bad) for c in constraints):
            continue
        model = LDA(2, method="vb", max_iter=1).set_params(**{name: bad})
        with pytest.raises(InvalidParameterError, match=rf"^{name} must be"):
            getattr(model, entry)(X)
    # a value of no accepted type at all
    model = LDA(2, method="vb", max_iter=1).set_params(**{name: object()})
    with pytest.raises((TypeError, ValueError), match=rf"^{name} must be"):
        getattr(model, entry)(X)


def test_cross_parameter_rules_live_in_their_own_method():
    with pytest.raises(ValueError, match=r"^doc_topic_prior must have n_components=2 entries"):
        LDA(2, doc_topic_prior=[1.0, 2.0, 3.0])._check_parameter_combinations()
    with pytest.raises(ValueError, match=r"^checkpoint_every needs checkpoint_dir"):
        LDA(2, checkpoint_every=3).fit(X)


def test_tags_declare_non_negative_sparse_input():
    tags = LDA().__sklearn_tags__()
    assert tags.input_tags.positive_only
    assert tags.input_tags.sparse


@pytest.mark.parametrize("method", ["gibbs", "vb"])
@pytest.mark.parametrize(
    "kind", [sp.csr_matrix, sp.csc_matrix, sp.coo_matrix, sp.csr_array, sp.lil_matrix]
)
def test_sparse_matrices_fit_and_transform_like_dense(kind, method):
    dense = LDA(3, method=method, max_iter=5, random_state=0, n_jobs=1).fit(X)
    sparse = LDA(3, method=method, max_iter=5, random_state=0, n_jobs=1).fit(kind(X))
    np.testing.assert_array_equal(dense.components_, sparse.components_)
    np.testing.assert_array_equal(dense.transform(X), sparse.transform(kind(X)))
