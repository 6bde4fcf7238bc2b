"""`latentmodels train gan|cgan`, sampling from the saved GANs, the report's GAN section and
the compute budget (`--max-time`)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from latentmodels import report
from tests.cli_helpers import assert_bad_input, invoke

TINY = ["--limit", 400, "--epochs", 2, "--latent-dim", 16, "--batch-size", 32, "--quiet",
        "--threads", 1, "--checkpoint-every", 0]


def section(text, name):
    return text.split(f'<section id="{name}">')[1].split("</section>")[0]


@pytest.fixture(scope="module")
def gan_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "gan"
    result = invoke("train", "gan", "--data", "mnist", "--out", out, *TINY)
    assert result.exit_code == 0, result.output
    return out


def test_train_gan_writes_model_run_quality_and_a_gan_report(gan_run):
    info = json.loads((gan_run / "run.json").read_text())
    metrics = info["metrics"]
    assert metrics["epochs_run"] == 2 and metrics["n_train"] + metrics["n_test"] == 400
    quality = info["sample_quality"]
    assert quality["n_samples"] == quality["n_real"] == 80
    assert quality["frechet"] > 0 and 0 <= quality["precision"] <= 1
    assert abs(sum(quality["histogram"]) - 1) < 1e-9
    assert metrics["frechet_distance"] == quality["frechet"]
    text = (gan_run / "report.html").read_text(encoding="utf-8")
    gan = section(text, "gan")
    # losses, progress strips, linear and spherical walks
    assert len(re.findall(r"data:image/png;base64", gan)) == 4
    assert "Frechet distance" in gan and "not Inception FID" in gan
    # Sections that need codes of held-out data skip a GAN (its transform is an optimisation).
    for skipped in ("reconstructions", "interpolations", "latent-map", "probe", "denoise"):
        assert f'<section id="{skipped}">' not in text
    assert '<section id="samples">' in text


def test_saved_gan_samples_and_keeps_its_training_progress(gan_run, tmp_path):
    model = report.load_model(gan_run / "model.lm")
    assert model.progress_samples_.shape[:2] == (len(model.progress_epochs_), 8)
    assert model.progress_epochs_[-1] == 2 and model.progress_epochs_[0] == 0
    # the last snapshot is what the saved generator makes of the fixed codes
    assert not np.allclose(model.progress_samples_[0], model.progress_samples_[-1])
    out = tmp_path / "s.npy"
    result = invoke("sample", gan_run, "-n", 16, "--out", out, "--seed", 3)
    assert result.exit_code == 0, result.output
    np.testing.assert_array_equal(np.load(out), model.sample(16, random_state=3))


def test_train_cgan_generates_the_requested_class(tmp_path):
    out = tmp_path / "cgan"
    result = invoke("train", "cgan", "--data", "mnist", "--out", out, "--no-judge",
                    "--no-report", *TINY)
    assert result.exit_code == 0, result.output
    assert "sample_quality" not in json.loads((out / "run.json").read_text())
    png = tmp_path / "sevens.png"
    assert invoke("sample", out, "-n", 8, "--label", 7, "--out", png).exit_code == 0
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_max_time_stops_training_within_the_budget(tmp_path):
    out = tmp_path / "budget"
    options = [a for a in TINY if a not in ("--epochs", 2)]
    result = invoke("train", "gan", "--data", "mnist", "--out", out, "--epochs", 500,
                    "--max-time", 1.5, "--no-judge", "--no-report", *options)
    assert result.exit_code == 0, result.output
    info = json.loads((out / "run.json").read_text())
    assert info["metrics"]["epochs_run"] < 500
    assert info["metrics"]["train_seconds"] < 60


def test_gan_bad_input(tmp_path):
    out = tmp_path / "x"
    base = ["train", "gan", "--data", "mnist", "--out", out, "--limit", 64]
    assert_bad_input(invoke(*base, "--max-time", 0), "--max-time")
    assert_bad_input(invoke(*base, "--ema-decay", 1.5), "--ema-decay")
    assert_bad_input(invoke(*base, "--latent-dim", 0), "latent_dim")
    assert_bad_input(invoke(*base, "--loss", "wasserstein"), "--loss", usage_box_ok=True)
    assert_bad_input(invoke(*base, "--architecture", "conv", "--data", "digits"), "conv")
    unlabelled = tmp_path / "x.npy"
    np.save(unlabelled, np.random.default_rng(0).random((40, 28, 28)).astype(np.float32))
    assert_bad_input(invoke("train", "cgan", "--data", unlabelled, "--out", out), "labels")
    assert not (out / "model.lm").exists()


@pytest.mark.parametrize("command", [["train", "gan"], ["train", "cgan"]])
def test_gan_commands_have_help(command):
    result = invoke(*command, "--help")
    assert result.exit_code == 0 and "Usage" in result.output


def test_a_second_run_on_the_same_split_loads_the_judge_instead_of_training_it(
        mnist, tmp_path, monkeypatch):
    from latentmodels.metrics import FeatureClassifier
    from latentmodels.runs import gan as gan_runs

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    fits = []
    real_fit = FeatureClassifier.fit
    monkeypatch.setattr(FeatureClassifier, "fit",
                        lambda self, X, y: fits.append(len(X)) or real_fit(self, X, y))
    X, y = mnist[0][:120], mnist[1][:120]
    for run in "abcd":
        (tmp_path / run).mkdir()
    first = gan_runs.load_or_fit_judge(tmp_path / "a", X, y)
    second = gan_runs.load_or_fit_judge(tmp_path / "b", X, y)
    assert fits == [120]  # trained once, then loaded from the cache
    assert (tmp_path / "a" / "judge.lm").read_bytes() == (tmp_path / "b" / "judge.lm").read_bytes()
    np.testing.assert_array_equal(first.features(X[:5]), second.features(X[:5]))
    assert len(list(gan_runs.judge_cache_dir().glob("*.lm"))) == 1

    # other labels: another judge
    gan_runs.load_or_fit_judge(tmp_path / "c", X, (y + 1) % 10)
    assert fits == [120, 120] and len(list(gan_runs.judge_cache_dir().glob("*.lm"))) == 2

    (tmp_path / "not-a-folder").write_text("")  # a cache that cannot be written
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "not-a-folder"))
    gan_runs.load_or_fit_judge(tmp_path / "d", X, y)
    assert fits == [120, 120, 120] and (tmp_path / "d" / "judge.lm").stat().st_size > 0
