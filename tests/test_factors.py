"""Factor control: directions recover planted factors, edits move the measured factor
monotonically, and LEACE erasure leaves a linear probe at chance while keeping the rest."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

from latentmodels import PCA
from latentmodels._internal.io import ModelFileError
from latentmodels.tasks.debias import ink_mass
from latentmodels.tasks.factors import (
    ConceptEraser,
    attribute_direction,
    edit,
    edit_effect,
    lighting,
    step_length,
)


def planted_codes(n, seed):
    """Codes carrying a binary factor along a tilted direction and a 3-class one elsewhere."""
    rng = np.random.default_rng(seed)
    factor = rng.integers(0, 2, n)
    other = rng.integers(0, 3, n)
    codes = rng.normal(size=(n, 6))
    codes += np.outer(factor, [2.0, 1.0, 0, 0, 0, 0])
    codes += np.outer(other == 1, [0, 0, 0, 2.5, 0, 0]) + np.outer(other == 2, [0, 0, 0, 0, 2.5, 0])
    codes[:, 5] += 0.8 * codes[:, 0]  # correlated axes: a plain projection is not enough
    return codes, factor, other


def test_direction_recovers_planted_numeric_and_binary_factors():
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(4000, 5))
    truth = np.array([0.6, 0.0, -0.8, 0.0, 0.0])
    found = attribute_direction(codes, codes @ truth + 0.1 * rng.normal(size=4000))
    assert float(found @ truth) > 0.99
    label = rng.integers(0, 2, 4000)
    shifted = codes + np.outer(label, truth)
    assert float(attribute_direction(shifted, label) @ truth) > 0.98
    assert float(attribute_direction(shifted, np.where(label, "b", "a")) @ truth) > 0.98


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_erasure_leaves_the_probe_at_chance_and_keeps_the_rest(seed):
    codes, factor, other = planted_codes(6000, seed)
    train, test = slice(0, 4000), slice(4000, None)

    def probe(features, target):
        model = LogisticRegression(max_iter=2000).fit(features[train], target[train])
        return model.score(features[test], target[test])

    eraser = ConceptEraser().fit(codes[train], factor[train])
    erased = eraser.transform(codes)
    chance = max(np.mean(factor[test]), 1 - np.mean(factor[test]))
    assert probe(codes, factor) > 0.8
    assert probe(erased, factor) < chance + 0.05
    assert probe(erased, other) > probe(codes, other) - 0.02
    # Zero covariance with the factor on the data it was fitted on, and idempotent.
    centred = erased[train] - erased[train].mean(axis=0)
    np.testing.assert_allclose(centred.T @ (factor[train] - factor[train].mean()), 0, atol=1e-8)
    np.testing.assert_allclose(eraser.transform(erased), erased, atol=1e-10)
    assert eraser.rank_ == 1


def test_erasure_of_a_numeric_factor_and_a_multiclass_label():
    codes, _, other = planted_codes(3000, 3)
    numeric = codes @ np.array([1.0, -1, 0.5, 0, 0, 0])
    erased = ConceptEraser().fit(codes, numeric).transform(codes)
    assert LinearRegression().fit(erased, numeric).score(erased, numeric) < 1e-8
    eraser = ConceptEraser().fit(codes, other)
    assert eraser.rank_ == 2 and list(eraser.classes_) == [0, 1, 2]
    scores = LogisticRegression(max_iter=2000).fit(eraser.transform(codes), other)
    assert scores.score(eraser.transform(codes), other) < np.bincount(other).max() / 3000 + 0.05


def test_least_squares_erasure_moves_codes_less_than_dropping_the_direction():
    codes, factor, _ = planted_codes(4000, 4)
    erased = ConceptEraser().fit(codes, factor).transform(codes)
    direction = attribute_direction(codes, factor)
    dropped = codes - np.outer(codes @ direction, direction)
    assert np.mean((erased - codes) ** 2) < np.mean((dropped - codes) ** 2)


def test_eraser_round_trips_through_a_file(tmp_path):
    codes, factor, _ = planted_codes(500, 5)
    eraser = ConceptEraser().fit(codes, factor)
    loaded = ConceptEraser.load(eraser.save(tmp_path / "eraser.lm"))
    np.testing.assert_array_equal(loaded.transform(codes), eraser.transform(codes))
    PCA(n_components=2).fit(codes).save(tmp_path / "pca.lm")
    with pytest.raises(ModelFileError, match="not a ConceptEraser"):
        ConceptEraser.load(tmp_path / "pca.lm")


def test_edits_change_the_measured_factor_monotonically_and_keep_the_digit(mnist_small):
    X, y = mnist_small
    train, held = slice(0, 800), slice(800, 900)
    pca = PCA(n_components=16).fit(X[train])
    codes = pca.transform(X[train])
    direction = attribute_direction(codes, ink_mass(X[train]))
    classifier = LogisticRegression(max_iter=300).fit(X[train].reshape(800, -1), y[train])
    amounts = [-1.0, -0.5, 0.0, 0.5, 1.0]
    result = edit_effect(pca, X[held], direction, amounts, ink_mass, keep=y[held],
                         classifier=classifier, codes=codes)
    assert result["rank_correlation"] > 0.9
    assert np.all(np.diff(result["factor_mean"]) > 0)
    assert min(result["kept"]) > 0.6
    assert result["unchanged"][2] == 1.0 and min(result["unchanged"]) > 0.6
    strip = edit(pca, X[800:802], direction, amounts, codes=codes)
    assert strip.shape == (2, 5, 28, 28)
    np.testing.assert_allclose(strip[:, 2], pca.reconstruct(X[800:802]), atol=1e-4)


def test_lighting_and_bad_input():
    faces = np.zeros((2, 4, 6))
    faces[0, :, 3:] = 1.0
    faces[1, :, :3] = 1.0
    assert lighting(faces).tolist() == [1.0, -1.0]
    with pytest.raises(ValueError, match="one value per code"):
        attribute_direction(np.zeros((4, 2)), [1, 2])
    with pytest.raises(ValueError, match="single value"):
        attribute_direction(np.ones((4, 2)), [1, 1, 1, 1])
    with pytest.raises(ValueError, match="nothing to erase"):
        ConceptEraser().fit(np.ones((4, 2)), [1, 1, 1, 1])
    with pytest.raises(ValueError, match="features"):
        ConceptEraser().fit(np.eye(3), [0, 1, 1]).transform(np.zeros((1, 2)))


def test_amounts_in_factor_standard_deviations_move_a_linear_factor_by_that_much():
    # Identity-like linear model: decoding is exact, so the factor's change is known.
    # The factor is half explained by the codes (R^2 ~ 0.5): one code spread along the
    # direction then moves it by only ~0.7 of its standard deviation.
    rng = np.random.default_rng(6)
    X = rng.normal(size=(20000, 6)) * [3.0, 1.0, 0.5, 1.0, 1.0, 1.0]
    pca = PCA(n_components=6).fit(X)
    codes = pca.transform(X)
    weights = np.array([0.5, -1.0, 2.0, 0.0, 0.0, 0.0])
    factor = X @ weights + 2.0 * rng.normal(size=20000)

    def measure(rows):
        return rows @ weights

    direction = attribute_direction(codes, factor)
    result = edit_effect(pca, X[:50], direction, [-2, -1, 0, 1, 2], measure, codes=codes,
                         factor=factor)
    change = np.asarray(result["factor_mean"]) - result["factor_mean"][2]
    np.testing.assert_allclose(change / factor.std(), [-2, -1, 0, 1, 2], atol=0.05)
    # In code spreads instead, one step moves the factor by its fitted part, R * sd.
    plain = edit_effect(pca, X[:50], direction, [0, 1], measure, codes=codes)
    fit_r = np.sqrt(LinearRegression().fit(codes, factor).score(codes, factor))
    assert 0.6 < fit_r < 0.8
    one_spread = (plain["factor_mean"][1] - plain["factor_mean"][0]) / factor.std()
    assert abs(one_spread - fit_r) < 0.03
    # step_length is the latent distance of one unit: the edit moves codes exactly that far.
    moved = pca.transform(edit(pca, X[:5], direction, [0, 1], codes=codes, factor=factor)
                          .reshape(-1, 6)).reshape(5, 2, 6)
    np.testing.assert_allclose(np.linalg.norm(moved[:, 1] - moved[:, 0], axis=1),
                               abs(step_length(codes, direction, factor)), rtol=1e-4)
    assert step_length(codes, direction) == pytest.approx(np.std(codes @ direction))
    with pytest.raises(ValueError, match="non-zero vector"):
        step_length(codes, np.zeros(6))
    with pytest.raises(ValueError, match="one value per reference code"):
        edit(pca, X[:2], direction, [1], codes=codes, factor=factor[:10])
    with pytest.raises(ValueError, match="does not change along direction"):
        edit(pca, X[:2], direction, [1], codes=codes, factor=np.ones(20000))


@pytest.mark.parametrize("seed", [0, 1])
def test_erasure_within_groups_keeps_the_group_and_leaves_only_what_the_group_explains(seed):
    # Measured thickness depends on the digit (group) and varies within it; one code axis
    # holds the within-group part, two others the group.
    rng = np.random.default_rng(seed)
    n = 6000
    group = rng.integers(0, 3, n)
    own_thickness = rng.normal(size=n)
    thickness = 1.5 * group + own_thickness
    codes = rng.normal(size=(n, 5)) * 0.5
    codes[:, 0] += own_thickness
    codes[:, 1] += group
    codes[:, 2] += 0.5 * group
    train, test = slice(0, 4000), slice(4000, None)

    def probe(features, target):
        model = LogisticRegression(max_iter=2000).fit(features[train], target[train])
        return model.score(features[test], target[test])

    plain = ConceptEraser().fit(codes[train], thickness[train]).transform(codes)
    within = ConceptEraser().fit(codes[train], thickness[train],
                                 groups=group[train]).transform(codes)
    assert probe(within, group) > probe(plain, group) + 0.05
    assert probe(within, group) > probe(codes, group) - 0.02
    # Thick for its group (above the group's median): at chance after the within erasure.
    medians = np.array([np.median(thickness[train][group[train] == g]) for g in range(3)])
    thick_for_group = thickness > medians[group]
    assert probe(codes, thick_for_group) > 0.75
    assert abs(probe(within, thick_for_group) - 0.5) < 0.05
    # What is left of the factor is its group mean: the within-group residual is gone.
    residual = own_thickness - own_thickness[train].mean()
    fitted = LinearRegression().fit(within[train], residual[train])
    assert fitted.score(within[test], residual[test]) < 0.01
    eraser = ConceptEraser().fit(codes, thickness, groups=group)
    assert eraser.n_groups_ == 3
    with pytest.raises(ValueError, match="groups must hold one label per sample"):
        ConceptEraser().fit(codes, thickness, groups=group[:10])
    with pytest.raises(ValueError, match="constant within every group"):
        ConceptEraser().fit(codes, group, groups=group)
