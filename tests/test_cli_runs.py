"""The first hour on the command line: help that fits 80 columns, runs that `rerun` repeats
with the same metrics, and data handling that says what it did."""

from __future__ import annotations

import json
import re
import shlex

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from latentmodels import datasets
from latentmodels.cli import app
from latentmodels.cli.train import _ONLY_FOR
from tests.cli_helpers import assert_bad_input, invoke

TRAIN_COMMANDS = ["ae", "dae", "vae", "cvae", "gan", "cgan", "hmm", "lda"]


def help_at(columns: int, *args: str) -> str:
    result = CliRunner().invoke(app, [*args, "--help"], env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    return result.output


def option_names(help_text: str) -> set[str]:
    return set(re.findall(r"(?<![\w-])--[a-z][a-z-]*[a-z]", help_text))


def recorded_options(run_dir) -> dict[str, str | bool]:
    """The options of the command in run.json: ``--x value``, or True for a flag."""
    words = shlex.split(json.loads((run_dir / "run.json").read_text())["command"])
    options: dict[str, str | bool] = {}
    for i, word in enumerate(words):
        if word.startswith("--"):
            following = words[i + 1] if i + 1 < len(words) else "--"
            options[word] = True if following.startswith("--") else following
    return options


# -- help -----------------------------------------------------------------------------------


@pytest.mark.parametrize("family", TRAIN_COMMANDS)
def test_train_help_fits_80_columns_with_whole_option_names(family):
    text = help_at(80, "train", family)
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "…" not in text and "<bool>" not in text
    assert "--report / --no-report" in text  # flags shown as flags
    names = option_names(text)
    assert {"--data", "--out", "--seed", "--threads"} <= names
    assert all(len(name) > 3 for name in names)


@pytest.mark.parametrize("family", ["ae", "dae", "vae", "cvae"])
def test_each_deep_command_shows_only_its_own_options(family):
    names = option_names(help_at(100, "train", family))
    for name, kinds in _ONLY_FOR.items():
        flag = "--" + name.replace("_", "-")
        assert (flag in names) == (family in kinds), (family, flag)


def test_ae_help_has_no_vae_or_dae_options_and_they_are_refused():
    names = option_names(help_at(80, "train", "ae"))
    assert not {"--beta", "--corruption", "--iwae-samples", "--noise-level"} & names
    result = invoke("train", "ae", "--data", "mnist", "--out", "x", "--beta", "2")
    assert result.exit_code == 2 and "--beta" in result.output


def test_help_shows_each_models_own_defaults():
    ae, vae = help_at(100, "train", "ae"), help_at(100, "train", "vae")
    # latent_dim: 32 for autoencoders, 16 for VAEs; learning rates 1e-3 and 2e-3
    assert re.search(r"--latent-dim.*\n?.*\[default: \(32\)\]", ae)
    assert re.search(r"--latent-dim.*\n?.*\[default: \(16\)\]", vae)
    assert "(0.001)" in ae and "(0.002)" in vae


def test_hmm_help_marks_columns_required_and_a_missing_columns_is_a_usage_error():
    text = help_at(80, "train", "hmm")
    options = text[text.index("Options:"):]
    block = options[options.index("--columns"):options.index("--states")]
    assert "[required]" in block
    result = invoke("train", "hmm", "--data", "geyser", "--out", "x")
    assert result.exit_code == 2 and "--columns" in result.output


def test_cli_import_stays_light():
    import subprocess
    import sys

    code = ("import sys, latentmodels.cli; "
            "print(sorted(m for m in ('torch', 'numba', 'matplotlib', 'sklearn') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


# -- runs that reproduce ------------------------------------------------------------------


def _rerun_same(tmp_path, *train_args):
    out = tmp_path / "run"
    result = invoke("train", *train_args, "--out", out, "--no-report")
    assert result.exit_code == 0, result.output
    again = tmp_path / "again"
    result = invoke("rerun", out, "--out", again)
    assert result.exit_code == 0, result.output
    assert "Same metrics" in result.stdout, result.output
    assert "Warning" not in result.output
    first = json.loads((out / "run.json").read_text())
    second = json.loads((again / "run.json").read_text())
    for name, value in first["metrics"].items():
        if name != "train_seconds":
            assert second["metrics"][name] == value, name
    assert first["data"]["checksum"] == second["data"]["checksum"]
    assert first["data"]["checksum"].startswith("sha256:")
    return first, recorded_options(out)


def test_rerun_repeats_a_vae_run(tmp_path):
    info, options = _rerun_same(tmp_path, "vae", "--data", "mnist", "--limit", 120,
                                "--epochs", 1, "--iwae-samples", 3, "--quiet")
    assert info["metrics"]["test_nll_iwae"] > 0
    # every option that shapes the run, the thread count included, at its effective value
    assert options["--batch-size"] == "128" and options["--architecture"] == "mlp"
    assert options["--latent-dim"] == "16" and options["--learning-rate"] == "0.002"
    assert options["--test-fraction"] == "0.2" and int(options["--threads"]) >= 1
    assert options["--no-resume"] is True and options["--no-report"] is True


def test_rerun_repeats_a_gan_run(tmp_path):
    info, options = _rerun_same(tmp_path, "gan", "--data", "mnist", "--limit", 80, "--epochs",
                                1, "--architecture", "mlp", "--no-judge", "--quiet",
                                "--threads", 1)
    assert np.isfinite(info["metrics"]["final_g_loss"])
    assert options["--threads"] == "1" and options["--ema-decay"] == "0.999"


def test_rerun_repeats_an_hmm_run(tmp_path):
    info, options = _rerun_same(tmp_path, "hmm", "--data", "geyser", "--columns",
                                "waiting,duration", "--states", 2, "--n-iter", 20)
    assert info["metrics"]["n_states"] == 2
    assert options["--n-iter"] == "20" and options["--max-states"] == "6"


def test_rerun_repeats_an_lda_run(tmp_path):
    info, options = _rerun_same(tmp_path, "lda", "--data", "newsgroups", "--limit", 120,
                                "--topics", 3, "--n-iter", 5, "--label-field", "newsgroup")
    assert info["metrics"]["perplexity"] > 1
    assert options["--label-field"] == "newsgroup" and options["--min-df"] == "1"
    assert options["--test-fraction"] == "0.1" and int(options["--threads"]) >= 1


def test_rerun_warns_when_the_data_or_version_changed(tmp_path):
    data = tmp_path / "x.npy"
    rng = np.random.default_rng(0)
    np.save(data, rng.random((60, 8, 8), dtype=np.float32))
    out = tmp_path / "run"
    result = invoke("train", "ae", "--data", data, "--out", out, "--epochs", 1, "--quiet",
                    "--no-report")
    assert result.exit_code == 0, result.output
    np.save(data, rng.random((60, 8, 8), dtype=np.float32))
    record = json.loads((out / "run.json").read_text())
    record["latentmodels_version"] = "0.0.1"
    (out / "run.json").write_text(json.dumps(record))
    result = invoke("rerun", out)
    assert result.exit_code == 0, result.output
    assert "recorded by latentmodels 0.0.1" in result.stderr
    assert "data differ" in result.stderr and "metrics differ" in result.stderr
    assert (tmp_path / "run-rerun" / "model.lm").is_file()


def test_rerun_refuses_what_it_cannot_repeat(tmp_path):
    assert_bad_input(invoke("rerun", tmp_path / "absent"), "no such run directory")
    (tmp_path / "odd").mkdir()
    (tmp_path / "odd" / "run.json").write_text(json.dumps({"command": "latentmodels demo"}))
    assert_bad_input(invoke("rerun", tmp_path / "odd"), "not a `latentmodels train` command")


# -- data handling that tells the truth ---------------------------------------------------


@pytest.fixture
def colour_pngs(tmp_path):
    """50 colour PNGs of 40x32 (height x width) in two classes."""
    rng = np.random.default_rng(1)
    for i in range(50):
        folder = tmp_path / "pngs" / ("a" if i % 2 else "b")
        folder.mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(0, 256, (40, 32, 3), dtype=np.uint8)
        Image.fromarray(pixels, "RGB").save(folder / f"{i}.png")
    return tmp_path / "pngs"


def test_image_folder_keeps_size_and_colour_and_batch_is_reduced(colour_pngs, tmp_path):
    out = tmp_path / "run"
    result = invoke("train", "ae", "--data", colour_pngs, "--out", out, "--epochs", 1,
                    "--quiet", "--no-report")
    assert result.exit_code == 0, result.output
    info = json.loads((out / "run.json").read_text())
    assert info["data"]["sample_shape"] == [3, 40, 32]
    # 50 images: 40 after the test split, 36 after validation; batch 128 becomes 36
    assert "--batch-size 128 is more than the 36 samples" in result.stdout
    assert info["model"]["params"]["batch_size"] == 36


def test_image_size_and_grayscale_resize_with_a_warning(colour_pngs, tmp_path):
    out = tmp_path / "run"
    result = invoke("train", "ae", "--data", colour_pngs, "--out", out, "--epochs", 1,
                    "--image-size", "28x28", "--grayscale", "--quiet", "--no-report")
    assert result.exit_code == 0, result.output
    assert "Warning: " in result.stderr and "resized 50 of 50" in result.stderr
    assert json.loads((out / "run.json").read_text())["data"]["sample_shape"] == [28, 28]
    assert_bad_input(invoke("train", "ae", "--data", "mnist", "--out", out, "--grayscale"),
                     "apply only to a folder of images")
    assert_bad_input(invoke("train", "ae", "--data", colour_pngs, "--out", out,
                            "--image-size", "big"), "--image-size must be HEIGHTxWIDTH")


def test_fashion_mnist_missing_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.delenv("LATENTMODELS_DATA", raising=False)
    monkeypatch.setattr(datasets, "_SYSTEM_FASHION_MNIST_DIRS", (tmp_path / "no-debian",))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    result = invoke("train", "vae", "--data", "fashion-mnist", "--out", tmp_path / "x")
    assert_bad_input(result, "--data fashion-mnist", "apt-get install dataset-fashion-mnist",
                     "--data FOLDER", str(tmp_path / "cache" / "latentmodels"),
                     "load_fashion_mnist(download=True)")


def _short_documents(n: int) -> list[str]:
    themes = [["goal", "match", "team", "player", "score", "league", "coach", "season"],
              ["planet", "orbit", "rocket", "launch", "moon", "star", "telescope", "space"],
              ["bread", "flour", "oven", "butter", "recipe", "sugar", "bake", "dough"]]
    rng = np.random.default_rng(0)
    return [" ".join(rng.choice(themes[i % 3], 5)) + f" note{i} word{i % 7}" for i in range(n)]


def test_lda_small_corpus_adapts_min_df_or_warns(tmp_path):
    corpus = tmp_path / "docs.txt"
    corpus.write_text("\n".join(_short_documents(30)) + "\n")
    out = tmp_path / "auto"
    result = invoke("train", "lda", "--data", corpus, "--topics", 3, "--n-iter", 20,
                    "--threads", 1, "--out", out, "--no-report")
    assert result.exit_code == 0, result.output
    info = json.loads((out / "run.json").read_text())
    assert info["data"]["corpus_options"]["min_df"] == 1
    assert info["metrics"]["vocabulary_size"] >= 24  # every theme word survives
    assert "Warning" not in result.stderr

    result = invoke("train", "lda", "--data", corpus, "--topics", 3, "--n-iter", 20,
                    "--threads", 1, "--min-df", 5, "--out", tmp_path / "cut", "--no-report")
    assert result.exit_code == 0, result.output
    kept = json.loads((tmp_path / "cut" / "run.json").read_text())["metrics"]["vocabulary_size"]
    assert kept < 30
    # the old fixed default of 5 keeps a handful of words: the run says so
    assert f"kept only {kept} of" in result.stderr and "--min-df 5" in result.stderr
    assert json.loads((tmp_path / "cut" / "run.json").read_text())["warnings"]


def test_iwae_scoring_shows_progress_and_gives_the_same_numbers(capsys):
    from latentmodels import VAE

    X, _ = datasets.load_mnist()
    vae = VAE(latent_dim=2, epochs=1, verbose=0, random_state=0).fit(X[:64])
    quiet = vae.log_likelihood(X[:300], n_importance=200)
    capsys.readouterr()
    shown = vae.log_likelihood(X[:300], n_importance=200, verbose=1)
    np.testing.assert_array_equal(quiet, shown)
    err = capsys.readouterr().err
    assert "IWAE bound, 200 samples" in err and "4/4" in err  # batches of 81 samples


def test_time_left_never_exceeds_max_time():
    import time
    import types

    from latentmodels.deep.training import time_left_column

    task = types.SimpleNamespace(finished=False, time_remaining=1800.0)
    capped = str(time_left_column(time.perf_counter() + 30.4).render(task))
    assert capped.startswith("-0:00:30") and "max-time" in capped
    assert str(time_left_column(None).render(task)) == "-0:30:00"
    short = types.SimpleNamespace(finished=False, time_remaining=5.0)
    assert str(time_left_column(time.perf_counter() + 30.4).render(short)) == "-0:00:05"


def _parsed(argv: list[str]):
    """The context the real ``train <family>`` command makes of a recorded command."""
    import typer

    assert argv[:2] == ["latentmodels", "train"]
    group = typer.main.get_command(app).commands["train"]
    command = group.commands[argv[2]]
    return command.make_context(argv[2], list(argv[3:]))


@pytest.mark.parametrize("family", ["hmm", "lda"])
def test_demo_sub_run_commands_name_every_option(tmp_path, family):
    from latentmodels.cli import _common
    from latentmodels.cli.demo import DEMO_THREADS, demo_hmm_command, demo_lda_command

    argv = (demo_hmm_command(tmp_path) if family == "hmm"
            else demo_lda_command(tmp_path, DEMO_THREADS))
    ctx = _parsed(argv)
    complete = {w for w in _common.recorded_command(ctx) if w.startswith("--")}
    written = {w for w in argv if w.startswith("--")}
    assert complete == written
    if family == "lda":
        assert ctx.params["threads"] == DEMO_THREADS and ctx.params["min_df"] == "5"


def test_the_demo_hmm_command_repeats_the_demo_hmm(tmp_path):
    from latentmodels.cli.demo import _demo_hmm

    info = _demo_hmm(tmp_path / "hmm")
    result = invoke("rerun", tmp_path / "hmm", "--out", tmp_path / "again")
    assert result.exit_code == 0, result.output
    again = json.loads((tmp_path / "again" / "run.json").read_text())
    for name in ("n_states", "log_likelihood", "bic", "em_iterations"):
        assert again["metrics"][name] == info["metrics"][name], name


def test_fashion_mnist_from_local_files(tmp_path, monkeypatch):
    from tests.test_datasets import make_idx_split

    make_idx_split(tmp_path / "data" / "fashion-mnist", "train", 30, seed=4)
    monkeypatch.setenv("LATENTMODELS_DATA", str(tmp_path / "data"))
    out = tmp_path / "run"
    result = invoke("train", "ae", "--data", "fashion-mnist", "--out", out, "--epochs", 1,
                    "--quiet", "--no-report")
    assert result.exit_code == 0, result.output
    info = json.loads((out / "run.json").read_text())
    assert info["data"]["n_samples"] == 30 and info["data"]["sample_shape"] == [28, 28]


def test_shown_warnings_prints_user_warnings_once_and_passes_others_on(capsys):
    import warnings

    from latentmodels.cli._common import shown_warnings

    with pytest.warns(RuntimeWarning, match="numeric"):  # passed on, not swallowed
        with shown_warnings({"min_df=": "--min-df "}):
            for _ in range(3):
                warnings.warn("few words (min_df=5)", UserWarning, stacklevel=1)
            warnings.warn("numeric trouble", RuntimeWarning, stacklevel=1)
    err = capsys.readouterr().err
    assert err.count("Warning: few words (--min-df 5)") == 1


def test_python_dash_m_records_the_same_command(tmp_path):
    """``python -m latentmodels`` records ``latentmodels train ...``, so rerun works."""
    import subprocess
    import sys

    out = tmp_path / "run"
    subprocess.run([sys.executable, "-m", "latentmodels", "train", "hmm", "--data", "geyser",
                    "--columns", "waiting,duration", "--states", "2", "--no-report", "--out",
                    str(out)], check=True, capture_output=True)
    command = json.loads((out / "run.json").read_text())["command"]
    assert command.startswith("latentmodels train hmm --data geyser ")
