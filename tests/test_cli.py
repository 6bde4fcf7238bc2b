"""The ``latentmodels`` command: train writes a complete run, the model commands write files
of the right shape, and bad input ends in one red line with exit code 2."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from PIL import Image

from tests.cli_helpers import assert_bad_input, invoke

TINY = ["--limit", "320", "--epochs", "1", "--hidden-dims", "32", "--latent-dim", "3",
        "--iwae-samples", "5", "--quiet"]
TINY_AE = [word for word in TINY if word not in ("--iwae-samples", "5")]  # VAEs only


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "vae"
    result = invoke("train", "vae", "--data", "mnist", "--out", out, *TINY)
    assert result.exit_code == 0, result.output
    return out


def test_train_writes_model_run_json_with_metrics_and_report(run_dir):
    for name in ("model.lm", "run.json", "report.html", "samples.png", "latent_map.png"):
        assert (run_dir / name).is_file(), name
    info = json.loads((run_dir / "run.json").read_text())
    metrics = info["metrics"]
    for key in ("train_loss", "val_loss", "test_elbo", "test_nll_iwae", "n_train", "n_test"):
        assert key in metrics, key
    assert metrics["n_train"] + metrics["n_test"] == 320 and metrics["n_test"] == 64
    assert np.isfinite(metrics["test_nll_iwae"]) and metrics["test_nll_iwae"] > 0
    assert info["data"]["source"] == "mnist" and info["model"]["class"] == "VAE"
    assert info["command"].startswith("latentmodels train vae")


def test_encode_writes_codes(run_dir, tmp_path):
    out = tmp_path / "codes.npy"
    result = invoke("encode", run_dir / "model.lm", "--data", "mnist", "--limit", 50,
                    "--out", out)
    assert result.exit_code == 0, result.output
    assert np.load(out).shape == (50, 3)


def test_sample_writes_a_grid_or_an_array(run_dir, tmp_path):
    result = invoke("sample", run_dir / "model.lm", "-n", 9, "--out", tmp_path / "s.npy")
    assert result.exit_code == 0, result.output
    assert np.load(tmp_path / "s.npy").shape == (9, 28, 28)
    result = invoke("sample", run_dir, "-n", 16, "--out", tmp_path / "s.png")  # a run dir works
    assert result.exit_code == 0, result.output
    with Image.open(tmp_path / "s.png") as image:
        assert np.asarray(image.convert("L")).var() > 0


def test_reconstruct_and_interpolate_write_files_of_the_right_shape(run_dir, tmp_path):
    model = run_dir / "model.lm"
    result = invoke("reconstruct", model, "--data", "mnist", "-n", 7, "--out", tmp_path / "r.npy")
    assert result.exit_code == 0, result.output
    assert np.load(tmp_path / "r.npy").shape == (7, 28, 28)
    result = invoke("reconstruct", model, "--data", "mnist", "--out", tmp_path / "r.png")
    assert result.exit_code == 0 and (tmp_path / "r.png").stat().st_size > 1000
    result = invoke("interpolate", model, "--data", "mnist", "--start", 3, "--end", 8,
                    "--steps", 6, "--spherical", "--out", tmp_path / "i.npy")
    assert result.exit_code == 0, result.output
    strip = np.load(tmp_path / "i.npy")
    assert strip.shape == (6, 28, 28) and np.isfinite(strip).all()
    result = invoke("interpolate", model, "--data", "mnist", "--out", tmp_path / "i.png")
    assert result.exit_code == 0 and (tmp_path / "i.png").stat().st_size > 1000


def test_report_rebuilds_from_the_run_dir(run_dir):
    (run_dir / "report.html").unlink()
    result = invoke("report", run_dir)
    assert result.exit_code == 0, result.output
    assert "data:image/png;base64," in (run_dir / "report.html").read_text()


def test_unknown_dataset_is_exit_code_2_naming_it(tmp_path):
    result = invoke("train", "vae", "--data", "mnits", "--out", tmp_path / "x", *TINY)
    assert_bad_input(result, "mnits", "mnist")
    assert not (tmp_path / "x" / "model.lm").exists()


def test_missing_and_broken_files_are_exit_code_2(run_dir, tmp_path):
    assert_bad_input(invoke("sample", tmp_path / "nope.lm", "--out", tmp_path / "s.png"),
                     "nope.lm")
    broken = tmp_path / "broken.lm"
    broken.write_bytes(b"definitely not a model")
    assert_bad_input(invoke("sample", broken, "--out", tmp_path / "s.png"), "broken.lm")
    assert_bad_input(invoke("encode", run_dir, "--data", tmp_path / "missing.npz",
                            "--out", tmp_path / "c.npy"), "missing.npz")
    assert_bad_input(invoke("report", tmp_path / "no_run"), "no_run")


def test_options_that_do_not_fit_are_exit_code_2(run_dir, tmp_path):
    assert_bad_input(invoke("sample", run_dir, "--label", 3, "--out", tmp_path / "s.png"),
                     "--label")
    assert_bad_input(invoke("sample", run_dir, "--out", tmp_path / "s.jpg"), "--out")
    assert_bad_input(invoke("interpolate", run_dir, "--data", "mnist", "--end", 10**6,
                            "--out", tmp_path / "i.png"), "--end")
    # --beta is not an option of train ae at all (its help does not list it)
    assert_bad_input(invoke("train", "ae", "--data", "mnist", "--out", tmp_path / "a",
                            "--beta", 2, *TINY_AE), "--beta", usage_box_ok=True)


def test_conditional_vae_generates_a_chosen_class(tmp_path):
    out = tmp_path / "cvae"
    result = invoke("train", "cvae", "--data", "mnist", "--out", out, "--no-report", *TINY)
    assert result.exit_code == 0, result.output
    result = invoke("sample", out, "-n", 4, "--label", 7, "--out", tmp_path / "sevens.npy")
    assert result.exit_code == 0, result.output
    assert np.load(tmp_path / "sevens.npy").shape == (4, 28, 28)


def test_denoising_autoencoder_trains_from_a_file(mnist, tmp_path):
    X, y = mnist
    np.savez(tmp_path / "digits.npz", images=(X[:200] * 255).astype(np.uint8), labels=y[:200])
    out = tmp_path / "dae"
    result = invoke("train", "dae", "--data", tmp_path / "digits.npz", "--out", out,
                    "--corruption", "masking", "--noise-level", 0.3, "--checkpoint-every", 1,
                    *TINY_AE)
    assert result.exit_code == 0, result.output
    info = json.loads((out / "run.json").read_text())
    assert "test_reconstruction_error" in info["metrics"]
    assert info["data"]["source"] == str((tmp_path / "digits.npz").resolve())
    assert (out / "checkpoints").is_dir()


def test_resume_continues_from_the_run_checkpoint(tmp_path):
    out = tmp_path / "resumed"
    first = invoke("train", "vae", "--data", "mnist", "--out", out, "--no-report",
                   "--checkpoint-every", 1, *TINY)
    assert first.exit_code == 0, first.output
    options = [o if o != "1" else "2" for o in TINY]  # --epochs 1 -> 2
    second = invoke("train", "vae", "--data", "mnist", "--out", out, "--no-report", "--resume",
                    *options)
    assert second.exit_code == 0, second.output
    assert json.loads((out / "run.json").read_text())["metrics"]["epochs_run"] == 2


def test_demo_writes_one_report_per_model_and_an_index(tmp_path):
    out = tmp_path / "demo"
    result = invoke("demo", "--out", out, "--epochs", 1, "--limit", 320, "--quiet")
    assert result.exit_code == 0, result.output
    assert str(out / "report.html") in result.stdout.replace("\n", "")
    index = (out / "report.html").read_text(encoding="utf-8")
    links = re.findall(r'<h2><a href="([^"]+)">', index)
    assert links == ["vae/report.html", "hmm/report.html", "lda/report.html"]
    titles = {}
    for link in links:
        page = (out / link).read_text(encoding="utf-8")
        titles[link] = re.search(r"<title>(.*?)</title>", page).group(1)
        # one model per page: no other family's section on it
        assert page.count('<section id="hmm">') + page.count('<section id="topics">') \
            + page.count('<section id="samples">') == 1, link
    assert titles == {"vae/report.html": "VAE on mnist", "hmm/report.html": "GaussianHMM on geyser",
                      "lda/report.html": "LDA on newsgroups"}
    assert (out / "vae" / "samples.png").is_file() and (out / "hmm" / "states.png").is_file()
    vae_page = (out / "vae" / "report.html").read_text(encoding="utf-8")
    assert "was not trained to denoise" in vae_page  # the plain VAE's denoising is flagged


@pytest.mark.parametrize(
    "command", [[], ["train"], ["encode"], ["sample"], ["reconstruct"], ["interpolate"],
                ["report"], ["demo"]])
def test_every_command_has_help(command):
    result = invoke(*command, "--help")
    assert result.exit_code == 0
    assert "Usage" in result.output


# -- regressions from the reliability issue: each bad input is one clear line, never a
# traceback or a hang.
def test_negative_iwae_samples_are_refused(tmp_path):
    result = invoke("train", "vae", "--data", "mnist", "--out", tmp_path / "x", "--limit", "64",
                    "--epochs", "1", "--iwae-samples", "-5", "--quiet")
    assert_bad_input(result, "--iwae-samples must be >= 0")
    assert not (tmp_path / "x" / "model.lm").exists()


def test_out_naming_an_existing_file_is_one_line(tmp_path):
    blocker = tmp_path / "taken"
    blocker.write_text("not a folder")
    result = invoke("train", "vae", "--data", "mnist", "--out", blocker, "--limit", "64",
                    "--epochs", "1", "--quiet", "--no-report")
    assert_bad_input(result, str(blocker), "is a file")


def test_traverse_dims_outside_the_latent_space(run_dir, tmp_path):
    result = invoke("traverse", run_dir, "--dims", "99", "--out", tmp_path / "t.png")
    assert_bad_input(result, "dims: [99] outside the latent space", "0..2")


def test_data_naming_a_fifo_is_refused_at_once(run_dir, tmp_path):
    import os

    fifo = tmp_path / "digits.npy"
    os.mkfifo(fifo)
    result = invoke("encode", run_dir, "--data", fifo, "--out", tmp_path / "codes.npy")
    assert_bad_input(result, "is not a regular file")
