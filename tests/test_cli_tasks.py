"""CLI verbs map, traverse, anomaly, denoise and probe: each writes its files from a saved
model (using the run's held-out split by default), and bad input ends in one red line."""

from __future__ import annotations

import csv
import json

import pytest
import typer

from latentmodels import VAE, datasets
from latentmodels.cli.tasks import register
from latentmodels.rundir import write_run
from tests.cli_helpers import assert_bad_input
from tests.cli_helpers import invoke as cli_invoke

VERBS = ("map", "traverse", "anomaly", "denoise", "probe", "debias")


@pytest.fixture(scope="module")
def app():
    from latentmodels.cli import app as main_app

    names = {command.name for command in main_app.registered_commands}
    assert set(VERBS) <= names, names
    return main_app


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A run directory: a small VAE trained on 400 digits, 200 held out."""
    out = tmp_path_factory.mktemp("runs") / "vae"
    out.mkdir()
    X, _ = datasets.load_mnist()
    model = VAE(latent_dim=4, hidden_dims=(64,), epochs=3, verbose=0, random_state=0)
    model.fit(X[:200])
    model.save(out / "model.lm")
    write_run(out, {"data": {"source": "mnist", "limit": 400, "test_fraction": 0.5,
                             "split_seed": 0}, "model": {"class": "VAE"}, "metrics": {}})
    return out


def invoke(app, *args):
    return cli_invoke(*args, app=app)


def test_register_adds_the_six_verbs():
    app = typer.Typer()
    register(app)
    assert sorted(c.name for c in app.registered_commands) == sorted(VERBS)


def test_map_writes_the_map_and_the_neighbour_grid(app, run_dir, tmp_path):
    result = invoke(app, "map", run_dir, "--out", tmp_path / "map.png",
                    "--neighbors-out", tmp_path / "nn.png", "-k", 4)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "map.png").is_file() and (tmp_path / "nn.png").is_file()
    assert "200 samples" in result.output


def test_traverse_writes_a_png(app, run_dir, tmp_path):
    result = invoke(app, "traverse", run_dir / "model.lm", "--data", "mnist", "--limit", 100,
                    "--out", tmp_path / "t.png", "--index", 3)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "t.png").is_file()


def test_anomaly_writes_scores_and_reports_auroc(app, run_dir, tmp_path):
    out = tmp_path / "anomaly"
    result = invoke(app, "anomaly", run_dir, "--out", out, "--anomaly-class", 1,
                    "--contamination", 0.1)
    assert result.exit_code == 0, result.output
    assert "AUROC" in result.output
    with open(out / "anomaly_scores.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 200
    assert sum(int(r["anomaly"]) for r in rows) == 20
    for name in ("anomaly_scores.png", "anomaly_extremes.png"):
        assert (out / name).is_file()


def test_denoise_prints_psnr_and_writes_the_grid(app, run_dir, tmp_path):
    result = invoke(app, "denoise", run_dir, "--out", tmp_path / "d.png",
                    "--corruption", "masking", "--level", 0.4)
    assert result.exit_code == 0, result.output
    assert "PSNR" in result.output and "SSIM" in result.output
    assert (tmp_path / "d.png").is_file()


def test_probe_prints_a_table_and_writes_json(app, run_dir, tmp_path):
    result = invoke(app, "probe", run_dir, "--labels", "50,all", "--out", tmp_path / "p.json")
    assert result.exit_code == 0, result.output
    assert "| labels |" in result.output
    document = json.loads((tmp_path / "p.json").read_text())
    assert {r["features"] for r in document["rows"]} == {"latent", "pca", "pixels"}


def test_bad_input_ends_in_one_red_line(app, run_dir, tmp_path):
    assert_bad_input(invoke(app, "anomaly", run_dir, "--out", tmp_path / "a",
                            "--contamination", 0.7), "contamination")
    assert_bad_input(invoke(app, "denoise", run_dir, "--out", tmp_path / "d.jpg"), "--out")
    assert_bad_input(invoke(app, "probe", run_dir, "--labels", "ten"), "--labels")
    assert_bad_input(invoke(app, "traverse", run_dir, "--out", tmp_path / "t.png",
                            "--index", 999), "--index")
    model_only = tmp_path / "alone"
    model_only.mkdir()
    (model_only / "model.lm").write_bytes((run_dir / "model.lm").read_bytes())
    assert_bad_input(invoke(app, "map", model_only / "model.lm", "--out", tmp_path / "m.png"),
                     "--data is needed")
    assert_bad_input(invoke(app, "map", run_dir, "--out", tmp_path / "m.png", "--data",
                            "fashion-mnist", "--limit", 10), "--data")


def test_debias_verb_trains_both_models_and_reports_groups(app, tmp_path):
    out = tmp_path / "debias"
    result = invoke(app, "debias", "--out", out, "--limit", 1200, "--epochs", 2, "--latent-dim", 4,
                    "--positive", 7, "--rule", "ink", "--keep-fraction", 0.2, "--quiet")
    assert result.exit_code == 0, result.output
    info = json.loads((out / "run.json").read_text())
    debias = info["debias"]
    assert debias["groups"] == ["thin", "thick"] and debias["n_test"] == 300
    for key in ("plain", "debiased"):
        r = debias[key]
        assert 0.5 < r["overall"] <= 1 and r["gap"] == pytest.approx(abs(r["thin"] - r["thick"]))
    # The rare group is cut to 20 %: its share among training 7s is about 0.2 / 1.2.
    assert 0.1 < debias["rare_share_train"] < 0.25
    text = (out / "report.html").read_text(encoding="utf-8")
    assert '<section id="debias">' in text and "DB-VAE" in text
    assert text.split('<section id="debias">')[1].count("data:image/png;base64") == 2
    assert (out / "model.lm").is_file()


def test_debias_verb_bad_input(app, tmp_path):
    out = tmp_path / "d"
    assert_bad_input(invoke(app, "debias", "--out", out, "--rule", "colour"), "--rule")
    assert_bad_input(invoke(app, "debias", "--out", out, "--keep-fraction", 0),
                     "--keep-fraction")
    assert_bad_input(invoke(app, "debias", "--out", out, "--positive", 12), "--positive")
