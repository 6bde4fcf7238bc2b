"""PCA, probabilistic PCA and factor analysis under the contract: exact Gaussian densities,
decoding, sampling from the fitted covariance, persistence and clear errors."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scipy.stats import multivariate_normal
from sklearn import decomposition

import latentmodels
from latentmodels import PCA, FactorAnalysis, ProbabilisticPCA
from latentmodels._internal.io import ModelFileError
from latentmodels.base import _LAZY_MODULES, LatentModel
from tests.model_files import forge_digest, join, split

FACTORIES = {
    "PCA": lambda: PCA(n_components=3),
    "PCA-whiten": lambda: PCA(n_components=3, whiten=True),
    "PPCA": lambda: ProbabilisticPCA(n_components=3),
    "FA": lambda: FactorAnalysis(n_components=3, svd_method="lapack"),
}


@pytest.fixture(scope="module")
def planted():
    """Rows from a known 3-factor Gaussian in 8 dimensions."""
    rng = np.random.default_rng(0)
    loadings = rng.normal(size=(3, 8))
    noise = rng.uniform(0.05, 0.3, size=8)
    X = rng.normal(size=(2000, 3)) @ loadings + rng.normal(size=(2000, 8)) * np.sqrt(noise) + 1.0
    return X, loadings, noise


def model_covariance(model):
    """The model's Gaussian covariance, built from its parts as the papers write it."""
    estimator = model.estimator_
    if isinstance(model, FactorAnalysis):  # W'W + diag(psi)
        return estimator.components_.T @ estimator.components_ + np.diag(estimator.noise_variance_)
    # (P)PCA: U (L - s2) U' + s2 I with principal axes U and eigenvalues L
    axes, eigenvalues = estimator.components_.T, estimator.explained_variance_
    sigma2 = estimator.noise_variance_
    return axes @ np.diag(eigenvalues - sigma2) @ axes.T + sigma2 * np.eye(len(axes))


@pytest.mark.parametrize("name", FACTORIES)
def test_score_samples_is_the_exact_gaussian_log_density(planted, name):
    X = planted[0]
    model = FACTORIES[name]().fit(X)
    expected = multivariate_normal(model.estimator_.mean_, model_covariance(model)).logpdf(X[:50])
    np.testing.assert_allclose(model.score_samples(X[:50]), expected, rtol=1e-8)


@pytest.mark.parametrize("name", FACTORIES)
def test_samples_follow_the_fitted_covariance(planted, name):
    model = FACTORIES[name]().fit(planted[0])
    draws = model.sample(40_000, random_state=1)
    covariance = model_covariance(model)
    scale = np.abs(covariance).max()
    np.testing.assert_allclose(np.cov(draws.T), covariance, atol=0.05 * scale)
    np.testing.assert_allclose(draws.mean(axis=0), model.estimator_.mean_, atol=0.05 * scale)
    np.testing.assert_array_equal(model.sample(5, random_state=2), model.sample(5, random_state=2))


def test_fa_recovers_the_planted_noise_and_covariance(planted):
    X, loadings, noise = planted
    model = FactorAnalysis(n_components=3, svd_method="lapack").fit(X)
    np.testing.assert_allclose(model._noise_variance(), noise, rtol=0.25)
    np.testing.assert_allclose(model_covariance(model), loadings.T @ loadings + np.diag(noise),
                               atol=0.15 * np.abs(loadings.T @ loadings).max())


def test_ppca_codes_are_posterior_means(planted):
    X = planted[0]
    model = ProbabilisticPCA(n_components=3).fit(X)
    W = model._loading_matrix().T  # (features, components)
    sigma2 = float(model.estimator_.noise_variance_)
    posterior_mean = np.linalg.inv(W.T @ W + sigma2 * np.eye(3)) @ W.T @ (X[:10] - X.mean(0)).T
    np.testing.assert_allclose(model.transform(X[:10]), posterior_mean.T, rtol=1e-8, atol=1e-10)
    # Decoding a posterior mean shrinks towards the mean, so it is not a projection.
    residual = np.linalg.norm(model.reconstruct(X[:100]) - X[:100])
    assert residual > np.linalg.norm(PCA(n_components=3).fit(X).reconstruct(X[:100]) - X[:100])


def test_pca_matches_scikit_learn_and_full_rank_reconstructs_exactly(planted):
    X = planted[0]
    ours = PCA(n_components=3).fit(X)
    theirs = decomposition.PCA(3).fit(X)
    np.testing.assert_allclose(ours.transform(X[:20]), theirs.transform(X[:20]))
    np.testing.assert_allclose(ours.score_samples(X[:20]), theirs.score_samples(X[:20]))
    full = PCA(n_components=8).fit(X)
    np.testing.assert_allclose(full.reconstruct(X[:20]), X[:20], atol=1e-9)
    whitened = PCA(n_components=8, whiten=True).fit(X)
    np.testing.assert_allclose(whitened.reconstruct(X[:20]), X[:20], atol=1e-9)
    np.testing.assert_allclose(whitened.transform(X).std(axis=0, ddof=1), 1.0, rtol=1e-6)


def test_images_stay_images_and_more_components_fit_better(mnist_small):
    X = mnist_small[0][:400]
    small, large = PCA(n_components=4).fit(X), PCA(n_components=32).fit(X)
    assert small.reconstruct(X[:3]).shape == (3, 28, 28)
    assert small.sample(2, random_state=0).shape == (2, 28, 28)
    error = [np.mean((m.reconstruct(X) - X) ** 2) for m in (small, large)]
    assert error[1] < 0.6 * error[0]
    assert large.score(X) > small.score(X)


@pytest.mark.parametrize("name", FACTORIES)
def test_reloaded_model_gives_identical_outputs(tmp_path, mnist_small, name):
    X = mnist_small[0][:300]
    model = FACTORIES[name]().fit(X)
    path = model.save(tmp_path / "linear.lm")
    loaded = latentmodels.load(path)
    assert type(loaded) is type(model) and loaded.get_params() == model.get_params()
    for method in ("transform", "score_samples", "reconstruct"):
        expected = getattr(model, method)(X[:20])
        np.testing.assert_array_equal(getattr(loaded, method)(X[:20]), expected)
    np.testing.assert_array_equal(loaded.sample(4, random_state=3), model.sample(4, random_state=3))


def _rewrite_header(path, edit):
    """Edit a saved file's header and document, re-forging the digest as a deliberate editor
    would, so that the structural checks (not the digest) must catch the edit."""
    header, document, body = split(path.read_bytes())
    edit(header, document)
    forge_digest(header, document, body)
    path.write_bytes(join(header, document, body))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda h, d: d["attributes"].update(input_shape_=[5000, 5000]), "n_features_in_"),
        (lambda h, d: d["attributes"].update(n_features_in_=10**6), "n_features_in_"),
        (lambda h, d: d["attributes"].update(n_components_=5), "components_ has shape"),
        (lambda h, d: d["attributes"].update(input_shape_="x"), "input_shape_"),
        (lambda h, d: h.update(renamed=h.pop("mean_")), "no mean_"),
    ],
)
def test_inconsistent_files_are_refused_naming_the_field(tmp_path, planted, edit, message):
    FactorAnalysis(n_components=3, random_state=0).fit(planted[0][:200]).save(tmp_path / "fa.lm")
    _rewrite_header(tmp_path / "fa.lm", edit)
    with pytest.raises(ModelFileError, match=message):
        latentmodels.load(tmp_path / "fa.lm")


def test_bad_input_gets_clear_errors(mnist_small, planted):
    X = mnist_small[0][:200]
    model = PCA(n_components=2).fit(X)
    with pytest.raises(ValueError, match="shape"):
        model.transform(X[:, :14, :])
    with pytest.raises(ValueError, match="3 columns"):
        model.inverse_transform(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="NaN"):
        PCA(n_components=2).fit(np.full((5, 3), np.nan))
    with pytest.raises(ValueError, match="n_components"):
        PCA(n_components=0).fit(planted[0])
    with pytest.raises(ValueError, match="n_samples"):
        model.sample(10**13)


def test_every_public_model_loads_in_a_fresh_process(tmp_path, planted):
    public_models = [name for name in latentmodels._PUBLIC
                     if isinstance(getattr(latentmodels, name), type)
                     and issubclass(getattr(latentmodels, name), LatentModel)
                     and getattr(latentmodels, name) is not LatentModel]
    assert set(public_models) <= set(_LAZY_MODULES), "add the class to base._LAZY_MODULES"
    path = PCA(n_components=2).fit(planted[0]).save(tmp_path / "pca.lm")
    code = f"import latentmodels; print(type(latentmodels.load({str(path)!r})).__name__)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "PCA"
