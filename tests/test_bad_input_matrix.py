"""scripts/bad_input_matrix.py classifies each bad call rightly, a sampled run of it finds
no hang, and the breaks it found stay fixed (one regression test each)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from latentmodels import LDA, PCA, VAE, GaussianHMM

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "bad_input_matrix.py"


@pytest.fixture(scope="module")
def matrix():
    spec = importlib.util.spec_from_file_location("bad_input_matrix", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bad_input_matrix"] = module
    spec.loader.exec_module(module)
    return module


def test_the_classifier_tells_clean_unclear_crash_silent_and_hang_apart(matrix):
    case = matrix.Case("VAE", "transform", "nan", ("X",))
    own = "/site-packages/latentmodels/_internal/validation.py"
    deep = "/site-packages/torch/nn/functional.py"

    def verdict(report, case=case):
        return matrix.classify(case, report)[0]

    assert verdict({"outcome": "raised", "type": "ValueError", "where": own,
                    "message": "X contains 1 NaN or infinite values"}) == "clean"
    assert verdict({"outcome": "raised", "type": "ValueError", "where": own,
                    "message": "could not convert string to float"}) == "unclear"
    assert verdict({"outcome": "raised", "type": "ValueError", "where": deep,
                    "message": "X is bad"}) == "crash"
    assert verdict({"outcome": "raised", "type": "IndexError", "where": own,
                    "message": "X index 5"}) == "crash"
    assert verdict({"outcome": "returned", "finite": False, "summary": "ndarray[3]"}) == "silent"
    assert verdict({"outcome": "returned", "finite": True, "summary": "ndarray[3]"}) == "silent"
    assert verdict({"outcome": "hang"}) == "hang"
    lenient = matrix.Case("VAE", "fit", "three_d", ("X",), may_pass=True)
    assert verdict({"outcome": "returned", "finite": True, "summary": "VAE"}, lenient) == "clean"


def test_the_matrix_covers_every_family_method_and_kind(matrix):
    cases = matrix.build_cases()
    assert len(cases) > 1500
    assert {c.estimator for c in cases} == set(matrix.ESTIMATORS)
    kinds = {c.kind for c in cases}
    assert set(matrix.X_KINDS) | {"not_fitted", "n_huge", "lengths_uint64_overflow",
                                  "truncated", "pickle"} <= kinds
    assert {"fit", "transform", "sample", "score_samples", "save", "load"} <= {
        c.method for c in cases}


def test_a_sampled_run_has_no_hang_and_reports_every_case(matrix, capsys):
    counts = matrix.main(["--sample", "24", "--seed", "3", "--timeout", "15"])
    assert sum(counts.values()) == 24 and counts["hang"] == 0
    printed = capsys.readouterr().out
    assert "24 cases in" in printed
    # every case that is not clean is listed with its verdict
    assert len([line for line in printed.splitlines()
                if line.split(" ")[0] in ("unclear", "crash", "silent")]) == (
        counts["unclear"] + counts["crash"] + counts["silent"])


# -- regressions found by the matrix -------------------------------------------------------
def test_an_object_array_holding_a_string_is_a_type_error_naming_the_argument():
    codes = np.zeros((2, 2), dtype=object)
    codes[0, 0] = "x"
    model = VAE(latent_dim=2, hidden_dims=(8,), epochs=1, verbose=0, random_state=0).fit(
        np.random.default_rng(0).random((16, 4)).astype(np.float32))
    with pytest.raises(TypeError, match=r"^Z must hold numbers"):
        model.inverse_transform(codes)


def test_hmm_inverse_transform_refuses_complex_and_text_posteriors():
    X = np.random.default_rng(0).normal(size=(30, 2))
    hmm = GaussianHMM(2, n_iter=3, random_state=0).fit(X)
    with pytest.raises(ValueError, match=r"Z holds complex values"):
        hmm.inverse_transform(np.full((3, 2), 0.5 + 1j))
    with pytest.raises(TypeError, match=r"^Z must hold numbers"):
        hmm.inverse_transform(np.full((3, 2), "a"))
    np.testing.assert_allclose(hmm.inverse_transform(np.array([[1.0, 0.0]])),
                               hmm.means_[:1])


def test_linear_models_name_x_and_z_in_their_refusals():
    X = np.random.default_rng(0).random((20, 5))
    pca = PCA(2).fit(X)
    with pytest.raises(ValueError, match=r"^X is empty"):
        pca.transform(np.zeros((0, 5)))
    with pytest.raises(ValueError, match=r"Complex data not supported: X holds complex"):
        PCA(2).fit(X + 1j)
    with pytest.raises(ValueError, match=r"^Z must have shape \(n_samples, 2\)"):
        pca.inverse_transform(np.zeros((3, 2, 2)))
    with pytest.raises(TypeError, match=r"^X must hold numbers"):
        pca.score_samples(np.full((3, 5), "a"))


def test_lda_inverse_transform_names_z_for_text():
    lda = LDA(2, method="vb", max_iter=2, random_state=0, n_jobs=1).fit(
        np.random.default_rng(0).poisson(1.0, (10, 6)))
    with pytest.raises(TypeError, match=r"^Z must hold numbers"):
        lda.inverse_transform(np.full((2, 2), "a"))


@pytest.mark.parametrize("estimator, prior, value, message", [
    ("GaussianHMM", "covars_prior", -1.0, r"^covars_prior must be >= 0"),
    ("GaussianHMM", "covars_prior", np.nan, r"^covars_prior must be finite"),
    ("GaussianHMM", "covars_weight", -1.0, r"^covars_weight must be >= 0"),
    ("GaussianHMM", "means_weight", np.inf, r"^means_weight must be finite"),
    ("GaussianHMM", "means_prior", np.zeros((3, 2)),
     r"^means_prior must be a number or broadcast to shape \(2, 2\)"),
    ("GMMHMM", "weights_prior", np.nan, r"^weights_prior must be finite"),
    ("GMMHMM", "means_weight", -1.0, r"^means_weight must be >= 0"),
    ("CategoricalHMM", "emissionprob_prior", -1.0, r"^emissionprob_prior must be >= 0"),
    ("MultinomialHMM", "emissionprob_prior", np.inf, r"^emissionprob_prior must be finite"),
    ("PoissonHMM", "lambdas_prior", -1.0, r"^lambdas_prior must be >= 0"),
    ("PoissonHMM", "lambdas_weight", np.nan, r"^lambdas_weight must be finite"),
])
def test_hmm_emission_priors_are_refused_by_name(estimator, prior, value, message):
    import latentmodels

    rng = np.random.default_rng(0)
    X = {"CategoricalHMM": rng.integers(0, 3, (30, 1)), "MultinomialHMM": rng.poisson(2, (30, 4)),
         "PoissonHMM": rng.poisson(2, (30, 4))}.get(estimator, rng.normal(size=(30, 2)))
    model = getattr(latentmodels, estimator)(2, n_iter=2, random_state=0, **{prior: value})
    with pytest.raises(ValueError, match=message):
        model.fit(X)


def test_prior_checks_keep_what_hmmlearn_accepts():
    X = np.random.default_rng(0).normal(size=(40, 2))
    # a negative prior mean, and a full covariance prior with negative off-diagonal entries
    scale = np.array([[1.0, -0.5], [-0.5, 1.0]])
    hmm = GaussianHMM(2, covariance_type="full", means_prior=-1.0, means_weight=0.5,
                      covars_prior=scale, covars_weight=3.0, n_iter=3, random_state=0).fit(X)
    assert np.isfinite(hmm.score(X)) and hmm.covars_.shape == (2, 2, 2)


@pytest.mark.parametrize("make, size", [
    (lambda: GaussianHMM(10**12), "n_components"),
    (lambda: __import__("latentmodels").GMMHMM(2, n_mix=10**12), "n_mix"),
    (lambda: __import__("latentmodels").FactorAnalysis(10**12), "n_components"),
    (lambda: LDA(10**12, method="vb", n_jobs=1), "n_components"),
    (lambda: VAE(latent_dim=10**12, hidden_dims=(8,), epochs=1, verbose=0), "latent_dim"),
])
def test_sizes_that_cannot_fit_are_refused_before_allocating(make, size):
    X = np.random.default_rng(0).poisson(2, (30, 4)).astype(np.float32) / 10
    with pytest.raises(ValueError, match=rf"^{size}=1000000000000: the result needs .* GiB"):
        make().fit(X)


def test_lda_sample_of_a_huge_number_of_documents_is_refused_at_once():
    lda = LDA(2, method="vb", max_iter=2, random_state=0, n_jobs=1).fit(
        np.random.default_rng(0).poisson(1.0, (10, 6)))
    with pytest.raises(ValueError, match=r"^n_samples=1000000000000: the result needs"):
        lda.sample(10**12)
    assert lda.sample(2, doc_length=5, random_state=0).sum() == 10


@pytest.mark.parametrize("value", [1e20, 1e300])
def test_categorical_symbols_beyond_exact_integers_are_refused(value):
    from latentmodels import CategoricalHMM

    symbols = np.random.default_rng(0).integers(0, 3, 30).astype(np.float64)
    hmm = CategoricalHMM(2, n_iter=2, random_state=0).fit(symbols)  # 1-D input stays accepted
    symbols[4] = value
    with pytest.raises(ValueError, match=r"^X contains symbols up to .*at most 9007199254740992"):
        hmm.predict(symbols)
    with pytest.raises(ValueError, match=r"^X contains symbols up to"):
        CategoricalHMM(2, n_iter=2).fit(symbols)


def test_a_symbol_alphabet_too_large_for_memory_is_refused():
    from latentmodels import CategoricalHMM

    symbols = np.array([0, 1, 2, 10**15])
    with pytest.raises(ValueError, match=r"largest symbol in X \+ 1\)=1000000000000001"):
        CategoricalHMM(2, n_iter=2).fit(symbols)


def test_values_whose_squares_overflow_are_refused_naming_x():
    from latentmodels import FactorAnalysis, PoissonHMM

    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2))
    huge = X.copy()
    huge[1, 0] = 1e300
    message = r"^X holds values up to 1e\+300, too large to square in float64"
    for model in (GaussianHMM(2, n_iter=2, random_state=0), PCA(1)):
        fitted = model.fit(X)
        with pytest.raises(ValueError, match=message):
            fitted.score(huge)
        with pytest.raises(ValueError, match=message):
            type(model)(**model.get_params()).fit(huge)
    with pytest.raises(ValueError, match=message):
        FactorAnalysis(1).fit(huge)
    counts = rng.poisson(2, (30, 3)).astype(np.float64)
    counts[2, 1] = 1e20
    with pytest.raises(ValueError, match=r"^X contains counts up to 1e\+20"):
        PoissonHMM(2, n_iter=2).fit(counts)
    with pytest.raises(ValueError, match=r"^X contains counts up to 1e\+20"):
        LDA(2, method="vb", max_iter=2, n_jobs=1).fit(counts)
    # large values whose squares still fit are fine
    assert np.isfinite(PCA(1).fit(X * 1e50).score(X * 1e50))
