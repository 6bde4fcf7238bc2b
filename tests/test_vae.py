"""Behaviour of the VAE family on real digits: the bound improves, IWAE is tighter than the
ELBO, posterior means are deterministic, a conditional VAE generates the class it is asked."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from latentmodels import VAE, ConditionalVAE

FAST = dict(hidden_dims=(128,), batch_size=32, verbose=0, random_state=0, patience=None)


@pytest.fixture(scope="module")
def split(mnist_small):
    X, y = mnist_small
    return X[:800], y[:800], X[800:], y[800:]


@pytest.fixture(scope="module")
def trained_vae(split):
    X_train, _, _, _ = split
    return VAE(latent_dim=8, epochs=10, **{**FAST, "hidden_dims": (256,)}).fit(X_train)


def test_elbo_improves_with_training_on_held_out_digits(split, trained_vae):
    X_train, _, X_test, _ = split
    one_epoch = VAE(latent_dim=8, epochs=1, **FAST).fit(X_train)
    before = one_epoch.score(X_test)
    after = trained_vae.score(X_test)
    assert after > before + 20.0, (before, after)
    history = trained_vae.history_
    assert history[-1]["loss"] < history[0]["loss"] - 20.0


def test_iwae_bound_is_tighter_than_elbo(split, trained_vae):
    _, _, X_test, _ = split
    elbo = trained_vae.score_samples(X_test[:100])
    iwae = trained_vae.log_likelihood(X_test[:100], n_importance=50)
    assert iwae.shape == (100,)
    assert np.isfinite(iwae).all()
    # log p(x) >= IWAE_k >= ELBO in expectation; averaged over 100 digits it is clear-cut.
    assert iwae.mean() > elbo.mean() + 0.5
    # More importance samples can only tighten the bound (again in expectation).
    assert trained_vae.log_likelihood(X_test[:100], n_importance=200).mean() >= iwae.mean() - 0.3


def test_transform_returns_posterior_means(split, trained_vae):
    _, _, X_test, _ = split
    first = trained_vae.transform(X_test[:20])
    second = trained_vae.transform(X_test[:20])
    np.testing.assert_array_equal(first, second)
    with torch.no_grad():
        mean, _ = trained_vae.module_.encode(torch.from_numpy(X_test[:20]))
    np.testing.assert_allclose(first, mean.numpy(), rtol=1e-6, atol=1e-6)


def test_score_samples_is_repeatable_and_seeded(split, trained_vae):
    _, _, X_test, _ = split
    a = trained_vae.score_samples(X_test[:10])
    np.testing.assert_array_equal(a, trained_vae.score_samples(X_test[:10]))
    assert not np.array_equal(a, trained_vae.score_samples(X_test[:10], random_state=1))


def test_samples_and_reconstructions_are_images_in_unit_range(trained_vae, split):
    samples = trained_vae.sample(16, random_state=0)
    assert samples.shape == (16, 28, 28)
    assert samples.min() >= 0.0 and samples.max() <= 1.0
    np.testing.assert_array_equal(samples, trained_vae.sample(16, random_state=0))
    X_test = split[2][:50]
    recon = trained_vae.reconstruct(X_test)
    # Reconstructions are much closer to their own inputs than to other digits.
    own = ((recon - X_test) ** 2).mean()
    other = ((recon - np.roll(X_test, 1, axis=0)) ** 2).mean()
    assert own < 0.6 * other


def test_interpolation_endpoints_match_reconstructions(trained_vae, split):
    X_test = split[2]
    path = trained_vae.interpolate(X_test[0], X_test[1], steps=6)
    assert path.shape == (6, 28, 28)
    np.testing.assert_allclose(path[0], trained_vae.reconstruct(X_test[:1])[0], atol=1e-5)
    np.testing.assert_allclose(path[-1], trained_vae.reconstruct(X_test[1:2])[0], atol=1e-5)


def test_gaussian_likelihood_learns_scale_and_accepts_unbounded_data(split):
    X_train = split[0][:400]
    standardized = (X_train - X_train.mean()) / X_train.std()
    vae = VAE(latent_dim=4, likelihood="gaussian", epochs=3, **FAST).fit(standardized)
    assert vae.module_.log_scale.item() < 0  # the scale shrinks below its initial 1
    assert np.isfinite(vae.score_samples(standardized[:10])).all()


def test_beta_weights_the_kl_term(split):
    X_train = split[0][:400]
    kl = {}
    for beta in (0.1, 4.0):
        model = VAE(latent_dim=8, beta=beta, epochs=4, **FAST).fit(X_train)
        kl[beta] = model.history_[-1]["kl"]
    assert kl[4.0] < kl[0.1]


def test_kl_warmup_and_free_bits_change_the_objective(split):
    X_train = split[0][:400]
    warm = VAE(latent_dim=8, kl_warmup_epochs=4, epochs=2, **FAST).fit(X_train)
    plain = VAE(latent_dim=8, epochs=2, **FAST).fit(X_train)
    # During warm-up the KL weight is below 1, so the posterior uses more nats.
    assert warm.history_[0]["kl"] > plain.history_[0]["kl"]
    free = VAE(latent_dim=8, free_bits=0.5, epochs=2, **FAST).fit(X_train)
    assert free.history_[-1]["kl"] > plain.history_[-1]["kl"]


@pytest.mark.parametrize("shape", [(28, 28), (1, 28, 28), (3, 17, 23), (8, 8)])
def test_conv_architecture_round_trips_image_shapes(shape):
    rng = np.random.default_rng(0)
    X = rng.random((64, *shape), dtype=np.float32)
    vae = VAE(
        latent_dim=3,
        architecture="conv",
        hidden_dims=(8, 16),
        epochs=1,
        verbose=0,
        random_state=0,
        validation_fraction=0,
    ).fit(X)
    assert vae.reconstruct(X[:5]).shape == (5, *shape)
    assert vae.sample(2).shape == (2, *shape)


def test_conditional_vae_generates_the_requested_class(mnist):
    X, y = mnist
    X_train, y_train, X_test, y_test = X[:2000], y[:2000], X[-100:], y[-100:]
    classifier = LogisticRegression(max_iter=300).fit(X_train.reshape(2000, -1), y_train)
    cvae = ConditionalVAE(latent_dim=4, epochs=8, **{**FAST, "hidden_dims": (256,)})
    cvae.fit(X_train, y_train)
    hits = []
    for digit in range(10):
        generated = cvae.sample(20, y=digit, random_state=digit)
        hits.append((classifier.predict(generated.reshape(20, -1)) == digit).mean())
    # Chance is 0.1; a working conditional decoder is far above it for most classes.
    assert np.mean(hits) > 0.6, hits
    assert cvae.transform(X_test[:5], y_test[:5]).shape == (5, 4)
    codes = ConditionalVAE(latent_dim=2, epochs=1, **FAST).fit_transform(X_test, y_test)
    assert codes.shape == (100, 2)
    assert cvae.score_samples(X_test[:5], y_test[:5]).shape == (5,)


def test_conditional_vae_requires_known_labels(split):
    X_train, y_train, X_test, _ = split
    cvae = ConditionalVAE(latent_dim=2, epochs=1, **FAST).fit(X_train[:200], y_train[:200])
    with pytest.raises(ValueError, match="y: a ConditionalVAE needs"):
        cvae.inverse_transform(np.zeros((3, 2), np.float32))
    with pytest.raises(ValueError, match="not seen in fit"):
        cvae.sample(2, y=42)
    with pytest.raises(ValueError, match="y: ConditionalVAE.fit requires y to be passed"):
        ConditionalVAE(epochs=1, **FAST).fit(X_train)


# -- ConditionalVAE without labels (pipelines) and with them (paths) ----------------------
@pytest.fixture(scope="module")
def toy_cvae():
    rng = np.random.default_rng(0)
    y = np.arange(80) % 2
    X = (rng.normal(size=(80, 4)) + 2.0 * y[:, None]).astype(np.float32)
    model = ConditionalVAE(latent_dim=2, hidden_dims=(16,), likelihood="gaussian", epochs=5,
                           batch_size=16, verbose=0, random_state=0)
    return model.fit(X, y), X, y


def test_conditional_vae_transform_without_labels_mixes_the_class_codes(toy_cvae):
    model, X, _ = toy_cvae
    mixed, by_zero, by_one = model.transform(X), model.transform(X, 0), model.transform(X, 1)
    # each row lies on the segment between its two class-conditional codes
    direction = by_zero - by_one
    weight = ((mixed - by_one) * direction).sum(1) / (direction**2).sum(1)
    np.testing.assert_allclose(by_one + weight[:, None] * direction, mixed, atol=1e-5)
    assert ((weight > -1e-5) & (weight < 1 + 1e-5)).all()
    # without y the score is log sum_y p(y) exp(ELBO(x, y)): above each class's term
    joint = np.stack([model.score_samples(X, np.full(len(X), c)) for c in (0, 1)], 1)
    joint = joint + np.log(model.class_prior_)
    np.testing.assert_allclose(model.score_samples(X), np.logaddexp(*joint.T), rtol=1e-5)


def test_conditional_vae_paths_take_the_label(toy_cvae):
    from latentmodels.tasks.interpolate import traverse

    model, X, _ = toy_cvae
    path = model.interpolate(X[0], X[1], steps=4, y=1)
    ends = model.inverse_transform(model.transform(X[:2], 1), 1)
    np.testing.assert_allclose(path[[0, -1]], ends, atol=1e-5)
    assert not np.allclose(path, model.interpolate(X[0], X[1], steps=4, y=0))
    grid = traverse(model, X[0], dims=0, values=[-1.0, 0.0, 1.0], y=1)
    np.testing.assert_allclose(grid[0, 1], ends[0], atol=1e-5)  # offset 0: the code itself
    with pytest.raises(ValueError, match="y: a ConditionalVAE needs the class labels"):
        traverse(model, X[0])
