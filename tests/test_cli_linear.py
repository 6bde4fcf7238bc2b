"""``latentmodels train pca|ppca|fa``: a run directory with a loadable model, the report with
the explained variance, and a rerun that repeats the metrics."""

from __future__ import annotations

import json

import numpy as np
import pytest

from latentmodels import PCA, datasets
from latentmodels.rundir import load_model, load_run_data, read_run
from tests.cli_helpers import assert_bad_input, invoke

FAMILIES = {"pca": "PCA", "ppca": "ProbabilisticPCA", "fa": "FactorAnalysis"}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_train_writes_a_loadable_model_and_rerun_repeats_it(tmp_path, family):
    out = tmp_path / "run"
    result = invoke("train", family, "--data", "digits", "--limit", 300, "--components", 6,
                    "--threads", 1, "--out", out)
    assert result.exit_code == 0, result.output
    info = read_run(out)
    assert info["model"]["class"] == FAMILIES[family]
    metrics = info["metrics"]
    assert (metrics["n_train"], metrics["n_test"]) == (240, 60)
    # Six of 64 axes keep a real but partial share of the digits' variance.
    assert 0.3 < metrics["test_explained_variance"] < 0.95
    assert np.isfinite(metrics["test_log_likelihood"])
    model = load_model(out / "model.lm")
    X_test, _ = load_run_data(info)
    rows = X_test.reshape(len(X_test), -1)
    mse = np.mean((rows - model.reconstruct(X_test).reshape(rows.shape)) ** 2)
    assert mse == pytest.approx(metrics["test_reconstruction_mse"], rel=1e-5)
    assert np.mean(model.score_samples(X_test)) == pytest.approx(
        metrics["test_log_likelihood"], rel=1e-5)
    page = (out / "report.html").read_text()
    for section in ("reconstructions", "samples", "interpolations", "latent-map"):
        assert f'id="{section}"' in page, section
    # Factor analysis has no principal axes to rank, so no explained-variance plot.
    assert ('id="explained-variance"' in page) == (family != "fa")

    again = tmp_path / "again"
    result = invoke("rerun", out, "--out", again)
    assert result.exit_code == 0, result.output
    assert "Same metrics" in result.stdout and "Warning" not in result.output
    second = read_run(again)["metrics"]
    for name, value in metrics.items():
        if name != "train_seconds":
            assert second[name] == value, name


def test_pca_run_matches_the_library_model_and_records_every_option(tmp_path):
    out = tmp_path / "pca"
    result = invoke("train", "pca", "--data", "digits", "--limit", 200, "--components", 3,
                    "--out", out, "--no-report")
    assert result.exit_code == 0, result.output
    assert not (out / "report.html").exists()
    command = json.loads((out / "run.json").read_text())["command"]
    for option in ("--components 3", "--no-whiten", "--seed 0", "--test-fraction 0.2",
                   "--no-report", "--limit 200"):
        assert option in command, option
    assert "--threads " in command
    X, _ = datasets.load_digits()
    saved = load_model(out / "model.lm")
    from latentmodels.rundir import held_out_split

    train, _ = held_out_split(200, 0.2, 0)
    direct = PCA(n_components=3, random_state=0).fit(X[:200][train])
    np.testing.assert_allclose(np.abs(saved.transform(X[:5])), np.abs(direct.transform(X[:5])),
                               rtol=1e-6, atol=1e-8)
    ratio = read_run(out)["metrics"]["train_explained_variance"]
    assert ratio == pytest.approx(float(direct.estimator_.explained_variance_ratio_.sum()))


def test_train_linear_refuses_bad_input_in_one_line(tmp_path):
    assert_bad_input(invoke("train", "pca", "--data", "digits", "--components", 0,
                            "--out", tmp_path / "a"), "--components must be >= 1")
    assert_bad_input(invoke("train", "fa", "--data", "digits", "--limit", 50,
                            "--components", 100, "--out", tmp_path / "b"), "--components 100")
    assert_bad_input(invoke("train", "ppca", "--data", "digits", "--test-fraction", 1.5,
                            "--out", tmp_path / "c"), "--test-fraction")
    assert_bad_input(invoke("train", "pca", "--data", "no-such-set", "--out", tmp_path / "d"),
                     "--data no-such-set")


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_linear_help_fits_80_columns_and_shows_only_its_own_options(family):
    from tests.test_cli_runs import help_at, option_names

    text = help_at(80, "train", family)
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "--report / --no-report" in text
    names = option_names(text)
    assert {"--data", "--out", "--components", "--seed", "--threads", "--test-fraction"} <= names
    assert ("--whiten" in names) == (family == "pca")
    assert ("--max-iter" in names) == (family == "fa")
    assert "--epochs" not in names and "--limit" not in names  # --limit is hidden
