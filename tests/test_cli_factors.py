"""``latentmodels edit`` and ``latentmodels erase`` on tiny runs: the strip, the measured
effect, the saved eraser, the probes, the report section and one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from matplotlib.image import imread

from latentmodels import datasets
from latentmodels.rundir import held_out_split, load_model
from latentmodels.tasks.debias import ink_mass, slant
from latentmodels.tasks.factors import (
    ConceptEraser,
    attribute_direction,
    edit_effect,
    step_length,
)
from tests.cli_helpers import assert_bad_input, invoke

LIMIT = 500


@pytest.fixture(scope="module")
def pca_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("factors") / "pca"
    result = invoke("train", "pca", "--data", "mnist", "--limit", LIMIT, "--components", 8,
                    "--threads", 1, "--out", out, "--no-report")
    assert result.exit_code == 0, result.output
    return out


def _split():
    X, y = datasets.load_mnist()
    X, y = X[:LIMIT], y[:LIMIT]
    train, test = held_out_split(LIMIT, 0.2, 0)
    return X[train], y[train], X[test], y[test]


def _record(run_dir):
    return json.loads((run_dir / "factors.json").read_text())


def test_edit_writes_a_strip_and_its_measured_effect(pca_run, tmp_path):
    strip = tmp_path / "strip.png"
    result = invoke("edit", pca_run, "--factor", "slant", "--amounts", "-2,-1,0,1,2",
                    "--items", 3, "--out", strip)
    assert result.exit_code == 0, result.output
    image = imread(strip)
    assert image.shape[1] > image.shape[0] * 1.2  # 5 columns, 3 rows: wider than tall
    record = _record(pca_run)["edit"]
    assert record["factor"] == "slant" and record["amounts"] == [-2, -1, 0, 1, 2]
    # The slant measured on the decoded edits grows with the amount, item by item.
    assert record["rank_correlation"] > 0.9
    assert np.all(np.diff(record["factor_mean"]) > 0)
    # The same numbers, computed without the command line.
    X_train, _, X_test, _ = _split()
    model = load_model(pca_run / "model.lm")
    direction = attribute_direction(model.transform(X_train), slant(X_train))
    np.testing.assert_allclose(record["direction"], direction, rtol=1e-6, atol=1e-9)
    expected = edit_effect(model, X_test[:200], direction, [-2, -1, 0, 1, 2], slant,
                           codes=model.transform(X_test))
    np.testing.assert_allclose(record["factor_mean"], expected["factor_mean"], rtol=1e-6)
    assert f"{expected['factor_mean'][-1]:.4g}" in result.stdout


def test_edit_along_a_label_raises_its_probability(pca_run, tmp_path):
    result = invoke("edit", pca_run, "--factor", "label", "--positive", 0, "--amounts",
                    "-1,0,1,2", "--out", tmp_path / "zero.png")
    assert result.exit_code == 0, result.output
    record = _record(pca_run)["edit"]
    assert record["positive"] == 0 and "probability of class 0" in record["measured"]
    means = record["factor_mean"]
    assert np.all(np.diff(means) > 0) and means[-1] > 3 * means[1]


def test_erase_saves_an_eraser_that_blinds_the_probe_and_keeps_the_label(pca_run, tmp_path):
    out = tmp_path / "eraser.lm"
    result = invoke("erase", pca_run, "--factor", "ink", "--out", out)
    assert result.exit_code == 0, result.output
    record = _record(pca_run)["erase"]
    probes = {row["probe"]: row for row in record["probes"]}
    ink, label = probes["ink"], probes["label"]
    assert ink["before"] > 0.8  # thickness is plain in PCA codes
    assert ink["after"] < ink["before"] - 0.2 and ink["after"] < ink["chance"] + 0.12
    assert label["after"] > label["chance"] + 0.3  # the digit survives
    assert record["rank"] == 1 and (record["n_train"], record["n_test"]) == (400, 100)
    # The saved eraser leaves no linear trace of the factor in the training codes.
    X_train, _, _, _ = _split()
    model = load_model(pca_run / "model.lm")
    codes = model.transform(X_train)
    thick = (ink_mass(X_train) > np.median(ink_mass(X_train))).astype(float)
    erased = ConceptEraser.load(out).transform(codes)
    covariance = (erased - erased.mean(axis=0)).T @ (thick - thick.mean()) / len(thick)
    assert np.abs(covariance).max() < 1e-6 * np.abs(codes).max()
    assert f"{ink['before']:.3f}" in result.stdout and f"{ink['after']:.3f}" in result.stdout


def test_edit_in_factor_units_moves_the_factor_by_its_standard_deviation(pca_run, tmp_path):
    result = invoke("edit", pca_run, "--factor", "ink", "--amounts", "-1,0,1",
                    "--factor-units", "--items", 2, "--out", tmp_path / "ink.png")
    assert result.exit_code == 0, result.output
    record = _record(pca_run)["edit"]
    assert record["units"] == "factor sd"
    # PCA decodes linearly and ink is a sum of pixels: one step is exactly one sd of ink.
    X_train, _, _, _ = _split()
    means = record["factor_mean"]
    np.testing.assert_allclose(np.diff(means), ink_mass(X_train).std(), rtol=1e-3)
    codes = load_model(pca_run / "model.lm").transform(X_train)
    assert record["step"] == pytest.approx(
        step_length(codes, record["direction"], ink_mass(X_train)), rel=1e-6)
    # The report redraws the strip in the same units and says which.
    assert invoke("report", pca_run).exit_code == 0
    assert "in standard deviations of the ink" in (pca_run / "report.html").read_text()


def test_erase_within_label_keeps_what_the_label_says(pca_run, tmp_path):
    out = tmp_path / "within.lm"
    result = invoke("erase", pca_run, "--factor", "ink", "--within-label", "--out", out)
    assert result.exit_code == 0, result.output
    assert "within each label" in result.stdout
    record = _record(pca_run)["erase"]
    assert record["within_label"] is True
    X_train, y_train, X_test, y_test = _split()
    # The probe's floor is predicting the flag from the digit alone (each digit's majority).
    ink_train, ink_test = ink_mass(X_train), ink_mass(X_test)
    median = np.median(ink_train)
    majority = {d: np.mean(ink_train[y_train == d] > median) > 0.5 for d in np.unique(y_train)}
    label_only = np.mean([majority[d] == t for d, t in zip(y_test, ink_test > median, strict=True)])
    assert record["probes"][0]["label_only"] == pytest.approx(label_only)
    assert f"{label_only:.3f} from the label alone" in result.stdout
    # The report's table shows that floor beside the majority class.
    assert invoke("report", pca_run).exit_code == 0
    page = (pca_run / "report.html").read_text()
    assert "<th>from the label alone</th>" in page and f"<td>{label_only:.3f}</td>" in page
    codes = load_model(pca_run / "model.lm").transform(X_train)
    ink = ink_mass(X_train)
    thick = ink > np.median(ink)
    expected = ConceptEraser().fit(codes, thick, groups=y_train)
    np.testing.assert_allclose(ConceptEraser.load(out).projection_, expected.projection_,
                               rtol=1e-5, atol=1e-7)
    # The thick flag's variation within each digit is gone from the codes...
    erased = expected.transform(codes)
    residual = thick.astype(float)
    for digit in np.unique(y_train):
        residual[y_train == digit] -= residual[y_train == digit].mean()
    covariance = (erased - erased.mean(axis=0)).T @ residual / len(residual)
    assert np.abs(covariance).max() < 1e-6 * np.abs(codes).max()
    # ...while its dependence on the digit stays (thin 1s, thick 0s).
    plain = ConceptEraser().fit(codes, thick).transform(codes)
    digit_means = np.array([erased[y_train == d].mean(axis=0) for d in np.unique(y_train)])
    plain_means = np.array([plain[y_train == d].mean(axis=0) for d in np.unique(y_train)])
    assert np.linalg.norm(digit_means - digit_means.mean(axis=0)) > np.linalg.norm(
        plain_means - plain_means.mean(axis=0))
    assert_bad_input(invoke("erase", pca_run, "--factor", "label", "--within-label",
                            "--out", tmp_path / "x.lm"), "--within-label")


def test_report_shows_the_recorded_edit_and_erasure(pca_run, tmp_path):
    assert invoke("edit", pca_run, "--factor", "ink", "--amounts", "-1,0,1",
                  "--out", tmp_path / "s.png").exit_code == 0
    assert invoke("erase", pca_run, "--factor", "slant", "--out",
                  tmp_path / "e.lm").exit_code == 0
    result = invoke("report", pca_run)
    assert result.exit_code == 0, result.output
    page = (pca_run / "report.html").read_text()
    assert 'id="factor-control"' in page and "factor_edit.png" in page
    probes = _record(pca_run)["erase"]["probes"]
    for row in probes:
        assert f"<td>{row['before']:.3f}</td><td>{row['after']:.3f}</td>" in page
    assert (pca_run / "factor_edit.png").is_file()


def test_edit_and_erase_work_on_a_vae_and_lighting_on_small_images(tmp_path):
    vae = tmp_path / "vae"
    assert invoke("train", "vae", "--data", "digits", "--limit", 300, "--epochs", 2,
                  "--latent-dim", 4, "--quiet", "--no-report", "--iwae-samples", 0,
                  "--out", vae).exit_code == 0
    result = invoke("edit", vae, "--factor", "lighting", "--out", tmp_path / "light.png")
    assert result.exit_code == 0, result.output
    record = _record(vae)["edit"]
    assert record["factor_mean"][-1] > record["factor_mean"][0]
    result = invoke("erase", vae, "--factor", "label", "--positive", 3, "--out",
                    tmp_path / "three.lm")
    assert result.exit_code == 0, result.output
    (row,) = _record(vae)["erase"]["probes"]
    assert row["probe"] == "label (erased)" and row["after"] <= row["chance"] + 0.05


def test_factor_verbs_refuse_bad_input_in_one_line(pca_run, tmp_path):
    png = tmp_path / "s.png"
    assert_bad_input(invoke("edit", pca_run, "--factor", "smile", "--out", png),
                     "--factor must be one of slant, ink, lighting, label")
    assert_bad_input(invoke("edit", pca_run, "--amounts", "a,b", "--out", png), "--amounts")
    assert_bad_input(invoke("edit", pca_run, "--amounts", "1", "--out", png),
                     "at least two")
    assert_bad_input(invoke("edit", pca_run, "--factor", "label", "--out", png),
                     "--positive")
    assert_bad_input(invoke("edit", pca_run, "--out", tmp_path / "s.jpg"), ".png")
    assert_bad_input(invoke("erase", pca_run, "--out", tmp_path / "e.txt"), ".lm")
    assert_bad_input(invoke("erase", tmp_path, "--out", tmp_path / "e.lm"),
                     "not a run directory")
    assert_bad_input(invoke("erase", pca_run, "--factor", "label", "--positive", 42,
                            "--out", tmp_path / "e.lm"), "--positive 42")
    assert not png.exists() and not (tmp_path / "e.lm").exists()
