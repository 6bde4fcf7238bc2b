"""DebiasingVAE: latent-density sampling weights favour rare samples, the model learns to
classify, and on a biased digit set the rare sub-group gets the higher weights."""

from __future__ import annotations

import numpy as np
import pytest

from latentmodels import DebiasingVAE, load
from latentmodels.deep.debiasing import latent_sampling_weights
from latentmodels.tasks.debias import (
    biased_subset,
    debias_experiment,
    group_report,
    ink_mass,
    slant,
)


def test_sampling_weights_favour_sparse_regions():
    rng = np.random.default_rng(0)
    crowd = rng.normal(0, 1, size=(950, 3))
    outliers = rng.normal(6, 0.3, size=(50, 3))
    weights = latent_sampling_weights(np.r_[crowd, outliers], n_bins=10, alpha=1e-3)
    assert weights.sum() == pytest.approx(1.0)
    assert weights[950:].mean() > 3 * weights[:950].mean()
    # A large alpha flattens the weights towards uniform.
    flat = latent_sampling_weights(np.r_[crowd, outliers], n_bins=10, alpha=1e3)
    assert flat.max() / flat.min() < 1.01


def test_slant_and_ink_follow_the_drawing():
    upright = np.zeros((1, 9, 9))
    upright[0, :, 4] = 1
    right = np.zeros((1, 9, 9))
    right[0, np.arange(9), 8 - np.arange(9)] = 1
    left = right[:, :, ::-1]
    assert abs(slant(upright)[0]) < 1e-9
    assert slant(right)[0] > 0.5 and slant(left)[0] < -0.5
    assert ink_mass(np.ones((2, 3, 3)))[0] == 9


@pytest.fixture(scope="module")
def biased_sevens(mnist):
    X, y = mnist
    X, y = X[:3000], y[:3000]
    tilt = slant(X)
    rare = tilt > np.median(tilt[y == 7])
    keep = biased_subset(y, rare, positive=7, keep_fraction=0.05)
    return X[keep], (y[keep] == 7).astype(int), rare[keep]


def test_rare_group_gets_higher_sampling_weights(mnist):
    # Sevens, 5 % of them turned on their side: a sub-group the labels do not name,
    # which the latent space must discover to up-weight it.
    X, y = mnist
    sevens = X[y == 7][:300].copy()
    sevens[:15] = np.rot90(sevens[:15], axes=(1, 2))
    others = X[y != 7][:600]
    X_train = np.concatenate([sevens, others])
    is_seven = np.r_[np.ones(300, int), np.zeros(600, int)]
    rare = np.zeros(900, bool)
    rare[:15] = True
    model = DebiasingVAE(
        latent_dim=8,
        epochs=8,
        batch_size=64,
        verbose=0,
        random_state=0,
        patience=None,
        validation_fraction=0.0,
    ).fit(X_train, is_seven)
    weights = model.sampling_weights(X_train, is_seven)
    positive = is_seven == 1
    assert weights[rare].mean() > 1.5 * weights[positive & ~rare].mean()
    # Class shares are kept: the sevens' total weight equals their share of the data.
    assert weights[positive].sum() == pytest.approx(positive.mean())
    # The weights the last epoch sampled with were stored on the model.
    assert model.sampling_weights_.shape == (900,)
    assert model.score(X_train, is_seven) > 0.95


def test_without_debiasing_sampling_is_uniform(biased_sevens):
    X, is_seven, _ = biased_sevens
    model = DebiasingVAE(latent_dim=4, debias=False, epochs=1, verbose=0, random_state=0)
    model.fit(X[:400], is_seven[:400])
    assert not hasattr(model, "sampling_weights_")
    assert model.predict_proba(X[:5]).shape == (5, 2)
    np.testing.assert_allclose(model.predict_proba(X[:5]).sum(1), 1.0, rtol=1e-5)


def test_save_load_round_trip(tmp_path, biased_sevens):
    X, is_seven, _ = biased_sevens
    model = DebiasingVAE(latent_dim=4, epochs=1, verbose=0, random_state=0)
    model.fit(X[:400], is_seven[:400])
    loaded = load(model.save(tmp_path / "db.lm"))
    np.testing.assert_array_equal(loaded.predict_proba(X[:50]), model.predict_proba(X[:50]))
    np.testing.assert_array_equal(loaded.sampling_weights_, model.sampling_weights_)
    np.testing.assert_array_equal(loaded.transform(X[:5]), model.transform(X[:5]))


def test_bad_labels(biased_sevens):
    X, is_seven, _ = biased_sevens
    with pytest.raises(ValueError, match="y: DebiasingVAE.fit requires y to be passed"):
        DebiasingVAE(epochs=1, verbose=0).fit(X[:50])
    with pytest.raises(ValueError, match="y must hold at least two classes"):
        DebiasingVAE(epochs=1, verbose=0).fit(X[:50], np.zeros(50))
    with pytest.raises(ValueError, match="debias_class 3 is not one of the classes"):
        DebiasingVAE(epochs=1, verbose=0, debias_class=3).fit(X[:50], is_seven[:50])
    with pytest.raises(ValueError, match="y must be 1-D with one label per sample"):
        DebiasingVAE(epochs=1, verbose=0).fit(X[:50], is_seven[:40])


def test_group_report_measures_the_gap():
    report = group_report([1, 1, 0, 0], [1, 1, 1, 1], {"a": [1, 1, 0, 0], "b": [0, 0, 1, 1]})
    assert report == {"overall": 0.5, "a": 1.0, "b": 0.0, "gap": 1.0}
    with pytest.raises(ValueError, match="differ in shape"):
        group_report([1], [1, 2], {})


def test_the_vae_part_is_the_vae_code():
    from latentmodels import VAE

    for name in ("transform", "inverse_transform", "sample", "score_samples", "_elbo",
                 "_elbo_terms", "_build_module", "_check_fit_data"):
        assert getattr(DebiasingVAE, name) is getattr(VAE, name), name
    shared = {"likelihood", "beta", "latent_dim", "architecture", "hidden_dims", "epochs"}
    assert shared <= set(DebiasingVAE().get_params())


def test_biased_subset_with_nothing_to_cut_says_so():
    labels = np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match="no sample is both of class 1 and in the rare group"):
        biased_subset(labels, np.array([True, False, True, False]), positive=1)


def test_player_losses_plot_needs_no_total_loss():
    from latentmodels.plots.gan import plot_player_losses

    fig = plot_player_losses([{"d_loss": 1.0, "g_loss": 0.5}, {"d_loss": 0.9, "g_loss": 0.6}])
    assert len(fig.axes) >= 1


def test_debias_experiment_returns_a_held_out_split_disjoint_from_training(mnist):
    X, y = mnist[0][:400], mnist[1][:400]
    result = debias_experiment(X, y, 7, rule="ink", epochs=1, latent_dim=2,
                               hidden_dims=(16,), verbose=0)
    train, test = result["train_index"], result["test_index"]
    assert len(test) == 100 and not set(train) & set(test)
    assert set(train) | set(test) <= set(range(400))
    # The flags follow the rule: ink above the median 7 of the whole set.
    ink = ink_mass(X)
    thick = ink > np.median(ink[y == 7])
    np.testing.assert_array_equal(result["test_rare"], thick[test])
    np.testing.assert_array_equal(result["train_rare"], thick[train])
    # Only the thick 7s of the training part were thinned out, to 5 %; the test part keeps all.
    thick_sevens_test = ((y[test] == 7) & thick[test]).sum()
    thick_sevens_train_before = ((y == 7) & thick).sum() - thick_sevens_test
    assert thick_sevens_test > 0
    assert ((y[train] == 7) & thick[train]).sum() == max(1, round(0.05 * thick_sevens_train_before))
    assert len(train) == 300 - thick_sevens_train_before + max(
        1, round(0.05 * thick_sevens_train_before))
