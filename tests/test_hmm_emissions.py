"""The emission interface and registry: built-in emission types are listed with what a command
line needs, registration is checked, and the EM engine names no particular emission."""

from __future__ import annotations

import ast
import inspect

import numpy as np
import pytest

import latentmodels.hmm.base as hmm_base
from latentmodels.hmm import GMMHMM, BaseHMM, CategoricalHMM, GaussianHMM, PoissonHMM
from latentmodels.hmm.emissions import (
    Emission,
    Param,
    available,
    emission_of,
    get_emission,
    register_emission,
    spec_for,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

BUILTIN = {
    "gaussian": (GaussianHMM, "real", "mc",
                 {"covariance_type", "min_covar", "means_prior", "means_weight",
                  "covars_prior", "covars_weight"}),
    "gmm": (GMMHMM, "real", "mcw",
            {"n_mix", "covariance_type", "min_covar", "weights_prior", "means_prior",
             "means_weight", "covars_prior", "covars_weight"}),
    "categorical": (CategoricalHMM, "symbols", "e", {"emissionprob_prior", "n_features"}),
    "poisson": (PoissonHMM, "counts", "l", {"lambdas_prior", "lambdas_weight"}),
}


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_builtin_emissions_are_listed_for_the_command_line(name):
    estimator, data, letters, hyper = BUILTIN[name]
    spec = available()[name]
    assert spec.estimator is estimator and get_emission(name) is spec
    assert (spec.data, spec.letters, set(spec.hyperparameters)) == (data, letters, hyper)
    assert spec_for(estimator()) is spec and spec_for(estimator) is spec
    assert issubclass(spec.emission, Emission) and spec.description
    # what a command line does: a template from the defaults plus the shared settings
    template = spec.estimator(n_iter=3, tol=1e-3, random_state=0, **spec.hyperparameters)
    assert template.get_params()["n_iter"] == 3


def test_unknown_emission_names_the_choices():
    with pytest.raises(ValueError, match="unknown emission 'banana'; available: .*gaussian"):
        get_emission("banana")


def test_register_emission_checks_its_arguments():
    with pytest.raises(TypeError, match="BaseHMM subclass"):
        register_emission("thing", dict)
    with pytest.raises(ValueError, match="lower-case identifier"):
        register_emission("Not A Name", GaussianHMM)

    class NoEmission(BaseHMM):
        pass

    with pytest.raises(TypeError, match="_emission_class must be an Emission subclass"):
        register_emission("noemission", NoEmission)

    class OtherGaussian(GaussianHMM):
        pass

    with pytest.raises(ValueError, match="'gaussian' is already registered for GaussianHMM"):
        register_emission("gaussian", OtherGaussian)
    assert register_emission("gaussian", GaussianHMM) is GaussianHMM  # idempotent
    assert available()["gaussian"].estimator is GaussianHMM


def _code_names(module) -> set[str]:
    """Identifiers and string constants of a module's code, docstrings left out."""
    tree = ast.parse(inspect.getsource(module))
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and isinstance(
            getattr(body[0], "value", None), ast.Constant
        ):
            body.pop(0)
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names.add(node.value)
    return names


def test_the_engine_names_no_particular_emission():
    text = " ".join(_code_names(hmm_base)).lower()
    for word in ("gaussian", "gmm", "categorical", "poisson", "means_", "covar", "lambdas",
                 "emissionprob", "min_covar", "n_mix"):
        assert word not in text, word


@pytest.mark.parametrize("ctype", ["spherical", "diag", "full", "tied"])
def test_parameter_count_comes_from_declared_parameters(ctype):
    K, M, D = 3, 2, 4
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, D))
    g = GaussianHMM(K, covariance_type=ctype, n_iter=1).fit(X)
    cov = {"spherical": K, "diag": K * D, "full": K * D * (D + 1) // 2,
           "tied": D * (D + 1) // 2}[ctype]
    assert g._n_parameters() == (K - 1) + K * (K - 1) + K * D + cov
    m = GMMHMM(K, n_mix=M, covariance_type=ctype, n_iter=1).fit(X)
    cov = {"spherical": K * M, "diag": K * M * D, "full": K * M * D * (D + 1) // 2,
           "tied": K * D * (D + 1) // 2}[ctype]
    assert m._n_parameters() == (K - 1) + K * (K - 1) + K * (M - 1) + K * M * D + cov
    g.set_params(params="st")
    assert g._n_parameters() == (K - 1) + K * (K - 1)


def test_param_counts_free_values():
    assert Param("e", "emissionprob_", "simplex").n_free(np.ones((3, 5)) / 5, None) == 12
    assert Param("c", "_covars_", "covariance").n_free(np.ones((1, 3, 3)), "tied") == 6
    assert Param("c", "_covars_", "covariance").n_free(np.ones((2, 3)), "diag") == 6
    assert Param("m", "means_").public == "means_" and Param("c", "_covars_").public == "covars_"
    with pytest.raises(ValueError, match="one character other than s and t"):
        Param("s", "scale_")
    with pytest.raises(ValueError, match="kind must be free, simplex or covariance"):
        Param("r", "rates_", "positive")


def test_models_module_still_exports_the_estimators():
    from latentmodels.hmm import models

    assert models.GaussianHMM is GaussianHMM and models.PoissonHMM is PoissonHMM


def test_emissions_are_bound_to_their_estimator():
    model = PoissonHMM(2)
    emission = model._emission
    assert emission.model is model and emission.n_components == 2
    model.lambdas_ = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert emission.n_features() == 2 and model.n_features == 2
    assert emission.needs_init("lambdas_")
    model.set_params(init_params="st")
    assert not emission.needs_init("lambdas_")


def _one_feature_models():
    g = GaussianHMM(2)
    g.means_, g.covars_ = np.array([[0.0], [3.0]]), np.array([[1.0], [0.25]])
    m = GMMHMM(2, n_mix=2)
    m.weights_ = np.array([[0.3, 0.7], [0.5, 0.5]])
    m.means_ = np.array([[[0.0], [2.0]], [[4.0], [5.0]]])
    m.covars_ = np.array([[[1.0], [0.5]], [[2.0], [0.3]]])
    p = PoissonHMM(2)
    p.lambdas_ = np.array([[1.5], [7.0]])
    c = CategoricalHMM(2)
    c.emissionprob_ = np.array([[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]])
    return [(g, np.linspace(-3, 6, 7)[:, None]), (m, np.linspace(-2, 7, 9)[:, None]),
            (p, np.arange(12)[:, None]), (c, np.array([[0], [2], [1]]))]


@pytest.mark.parametrize("index", range(4))
def test_marginal_density_matches_the_likelihood_of_one_feature(index):
    model, X = _one_feature_models()[index]
    emission = model._emission
    np.testing.assert_allclose(emission.marginal_density(X[:, 0]),
                               np.exp(emission.log_likelihood(X)), rtol=1e-10)


def test_make_builds_a_checked_template_from_command_line_options():
    gmm = get_emission("gmm").make(["n_mix=3", "covariance_type=tied", "covars_prior=0.5"],
                                   n_components=2, n_iter=7)
    assert (gmm.n_mix, gmm.covariance_type, gmm.covars_prior, gmm.n_iter) == (3, "tied", 0.5, 7)
    cat = get_emission("categorical").make({"n_features": "5", "emissionprob_prior": "2"})
    assert cat.n_features == 5 and isinstance(cat.n_features, int)
    assert cat.emissionprob_prior == 2.0
    with pytest.raises(ValueError, match="unknown option 'n_mix' for the poisson emission; "
                                         "options: lambdas_prior, lambdas_weight"):
        get_emission("poisson").make({"n_mix": 2})
    with pytest.raises(ValueError, match="option min_covar must be a number, got 'big'"):
        get_emission("gaussian").make(["min_covar=big"])
    with pytest.raises(ValueError, match="covariance_type must be one of"):
        get_emission("gaussian").make(["covariance_type=banana"])
    with pytest.raises(ValueError, match="must read key=value"):
        get_emission("gaussian").make(["covariance_type"])


def test_hyperparameters_are_checked_again_after_any_change():
    X = np.random.default_rng(0).normal(size=(40, 1))
    model = GaussianHMM(2, n_iter=2).fit(X)
    model.accumulate(X)  # checked values are not checked again...
    model.set_params(covariance_type="banana")  # ...but a new value is
    with pytest.raises(ValueError, match="covariance_type must be one of"):
        model.accumulate(X)
    model.set_params(covariance_type="diag", transmat_prior=np.ones((2, 2)))
    model.fit(X)
    model.transmat_prior[0, 0] = -1.0  # changed in place
    with pytest.raises(ValueError, match="transmat_prior must be finite and non-negative"):
        model.fit(X)
    with pytest.raises(TypeError, match="n_iter must be an integer"):
        model.set_params(transmat_prior=1.0, n_iter=2.5).partial_fit(X)


def test_emission_of_gives_the_bound_emission():
    model = CategoricalHMM(2)
    model.emissionprob_ = np.array([[0.5, 0.5], [0.1, 0.9]])
    emission = emission_of(model)
    assert emission.model is model and emission.data == "symbols"
    np.testing.assert_allclose(emission.means(), model.emissionprob_)
    with pytest.raises(TypeError, match="model must be an HMM estimator"):
        emission_of(object())
