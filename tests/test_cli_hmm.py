"""`latentmodels train hmm`, `latentmodels decode`, the report's HMM section and the demo's HMM
part: files of the right shape, numbers that make sense, and one red line for bad input."""

from __future__ import annotations

import base64
import csv
import json
import re

import numpy as np
import pytest

from latentmodels import datasets, report
from latentmodels.cli.demo import DEMO_HMM_TITLE, _demo_hmm
from tests.cli_helpers import assert_bad_input, invoke

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def assert_unknown_option(result, flag):
    """An option of another model family is a usage error naming the flag (each family's
    `train` sub-command has only its own options)."""
    assert result.exit_code == 2, result.output
    assert "No such option" in result.stderr and flag in result.stderr
    assert "Traceback" not in result.output


def read_states(path):
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], np.array(rows[1:], dtype=object)


def embedded_pngs(text):
    return re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)


@pytest.fixture(scope="module")
def geyser_csv(tmp_path_factory):
    """The bundled geyser data written out as a user's CSV file (with its index column)."""
    X, columns = datasets.load_geyser()
    path = tmp_path_factory.mktemp("data") / "geyser.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["eruption", *columns])
        writer.writerows([[i + 1, *row] for i, row in enumerate(X.tolist())])
    return path


@pytest.fixture(scope="module")
def geyser_run(geyser_csv, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "geyser"
    result = invoke("train", "hmm", "--data", geyser_csv, "--columns", "waiting,duration",
                    "--states", "auto", "--seed", 0, "--out", out)
    assert result.exit_code == 0, result.output
    return out


def test_load_geyser_is_the_bundled_series():
    X, columns = datasets.load_geyser()
    assert X.shape == (299, 2) and X.dtype == np.float64
    assert columns == ["waiting", "duration"]
    assert 40 <= X[:, 0].min() and X[:, 0].max() <= 110  # minutes between eruptions
    assert 0.5 <= X[:, 1].min() and X[:, 1].max() <= 6  # minutes of eruption


def test_train_hmm_auto_writes_model_run_json_and_report(geyser_run):
    for name in ("model.lm", "run.json", "report.html", "states.png", "transmat.png",
                 "emissions.png"):
        assert (geyser_run / name).is_file(), name
    info = json.loads((geyser_run / "run.json").read_text())
    metrics = info["metrics"]
    assert info["model"]["class"] == "GaussianHMM"
    assert info["model"]["params"]["covariance_type"] == "diag"
    assert metrics["n_states"] >= 2  # short and long eruptions at least
    assert metrics["n_observations"] == 299 and metrics["n_sequences"] == 1
    assert -10 < metrics["log_likelihood_per_step"] < 0 and np.isfinite(metrics["bic"])
    scores = info["selection"]["scores"]
    assert sorted(map(int, scores)) == [1, 2, 3, 4, 5, 6]
    assert min(scores, key=scores.get) == str(metrics["n_states"])  # lowest BIC kept
    assert metrics["bic"] == pytest.approx(scores[str(metrics["n_states"])])
    assert info["data"]["columns"] == ["waiting", "duration"]
    assert info["command"].startswith("latentmodels train hmm")


def test_hmm_report_has_the_hmm_section_with_embedded_images(geyser_run):
    text = (geyser_run / "report.html").read_text(encoding="utf-8")
    assert '<section id="hmm">' in text and '<section id="summary">' in text
    hmm_part = text.split('<section id="hmm">')[1].split("</section>")[0]
    images = embedded_pngs(hmm_part)
    assert len(images) >= 3  # states, transition matrix, emission densities
    assert all(base64.b64decode(image)[:4] == b"\x89PNG" for image in images)
    for name in ("states.png", "transmat.png", "emissions.png"):
        assert f'data-file="{name}"' in hmm_part
    assert "Number of states by BIC" in hmm_part and "(chosen)" in hmm_part
    assert "log-likelihood per step" in hmm_part
    for section in ("latent-map", "samples", "reconstructions"):  # image sections stay out
        assert f'<section id="{section}">' not in text


def test_report_command_rebuilds_the_hmm_report(geyser_run):
    (geyser_run / "report.html").unlink()
    result = invoke("report", geyser_run)
    assert result.exit_code == 0, result.output
    text = (geyser_run / "report.html").read_text(encoding="utf-8")
    assert '<section id="hmm">' in text and len(embedded_pngs(text)) >= 3


def test_decode_writes_one_row_per_observation_with_posteriors(geyser_run, geyser_csv, tmp_path):
    n_states = json.loads((geyser_run / "run.json").read_text())["metrics"]["n_states"]
    out = tmp_path / "states.csv"
    result = invoke("decode", geyser_run, "--data", geyser_csv, "--out", out)
    assert result.exit_code == 0, result.output
    header, rows = read_states(out)
    assert header == ["row", "sequence", "state", *(f"p_state_{k}" for k in range(n_states))]
    assert len(rows) == 299
    states = rows[:, 2].astype(int)
    assert states.min() >= 0 and states.max() < n_states
    assert len(np.unique(states)) >= 2
    probs = rows[:, 3:].astype(float)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-4)
    assert rows[:, 0].astype(int).tolist() == list(range(299))
    # the same through the model file, named columns and the per-step MAP states
    out_map = tmp_path / "map.csv"
    result = invoke("decode", geyser_run / "model.lm", "--data", geyser_csv,
                    "--columns", "waiting,duration", "--algorithm", "map", "--out", out_map)
    assert result.exit_code == 0, result.output
    _, map_rows = read_states(out_map)
    np.testing.assert_array_equal(map_rows[:, 2].astype(int), probs.argmax(axis=1))


def _prices_csv(path):
    """Two tickers of prices whose returns switch between a calm and a turbulent regime."""
    rng = np.random.default_rng(0)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ticker", "day", "price"])
        for ticker in ("AAA", "BBB"):
            vol = np.repeat(np.tile([0.5, 3.0], 4), 40)
            price = 100 * np.exp(np.cumsum(rng.normal(0, vol) / 100))
            writer.writerows([ticker, day, f"{p:.4f}"] for day, p in enumerate(price))
    return path


def test_fixed_states_log_returns_and_lengths_column(tmp_path):
    data = _prices_csv(tmp_path / "prices.csv")
    out = tmp_path / "regimes"
    result = invoke("train", "hmm", "--data", data, "--columns", "price", "--states", 2,
                    "--covariance-type", "full", "--log-returns", "--lengths-column", "ticker",
                    "--out", out, "--no-report")
    assert result.exit_code == 0, result.output
    info = json.loads((out / "run.json").read_text())
    assert info["metrics"]["n_states"] == 2 and info["metrics"]["n_sequences"] == 2
    assert info["metrics"]["n_observations"] == 2 * 320 - 2  # one return fewer per ticker
    states_csv = tmp_path / "regimes.csv"
    result = invoke("decode", out, "--data", data, "--out", states_csv)
    assert result.exit_code == 0, result.output
    _, rows = read_states(states_csv)
    assert len(rows) == 638 and set(rows[:, 1]) == {"AAA", "BBB"}
    assert rows[0, 0] == "1"  # the first return ends on the second row
    states = rows[:, 2].astype(int)
    truth = np.tile(np.repeat(np.tile([0, 1], 4), 40), 2)
    truth = np.delete(truth, [0, 320])
    agreement = max(np.mean(states == truth), np.mean(states != truth))
    assert agreement > 0.85  # calm and turbulent days are told apart


def test_categorical_labels_train_and_decode(tmp_path):
    rng = np.random.default_rng(1)
    regime = np.repeat(np.tile([0, 1], 10), 30)
    labels = np.where(regime == 0, rng.choice(["sun", "fog"], 600, p=[0.8, 0.2]),
                      rng.choice(["rain", "drizzle"], 600, p=[0.7, 0.3]))
    data = tmp_path / "weather.csv"
    data.write_text("date,weather\n" + "".join(f"d{i},{w}\n" for i, w in enumerate(labels)))
    out = tmp_path / "weather"
    result = invoke("train", "hmm", "--data", data, "--columns", "weather", "--categorical",
                    "--states", 2, "--out", out)
    assert result.exit_code == 0, result.output
    info = json.loads((out / "run.json").read_text())
    assert info["model"]["class"] == "CategoricalHMM"
    assert info["data"]["categories"] == ["drizzle", "fog", "rain", "sun"]
    assert '<section id="hmm">' in (out / "report.html").read_text(encoding="utf-8")
    # new data with only some of the labels is coded as in training
    new = tmp_path / "new.csv"
    new.write_text("date,weather\n" + "".join(f"d{i},{w}\n" for i, w in
                                              enumerate(["sun"] * 5 + ["rain"] * 5)))
    result = invoke("decode", out, "--data", new, "--out", tmp_path / "s.csv")
    assert result.exit_code == 0, result.output
    _, rows = read_states(tmp_path / "s.csv")
    states = rows[:, 2].astype(int)
    assert len(rows) == 10 and states[0] != states[-1]
    unknown = tmp_path / "hail.csv"
    unknown.write_text("date,weather\nd0,sun\nd1,hail\n")
    assert_bad_input(invoke("decode", out, "--data", unknown, "--out", tmp_path / "x.csv"),
                     "hail")


def test_bad_input_is_one_red_line_and_exit_code_2(geyser_csv, geyser_run, tmp_path):
    out = tmp_path / "x"
    base = ["train", "hmm", "--data", geyser_csv, "--out", out]
    assert_bad_input(invoke(*base, "--columns", "waiting,height"), "height", "duration")
    assert_bad_input(invoke(*base), "--columns", usage_box_ok=True)  # a required option
    assert_bad_input(invoke(*base, "--columns", "waiting", "--states", "many"), "--states")
    assert_bad_input(invoke(*base, "--columns", "waiting", "--states", 0), "--states")
    assert_bad_input(invoke(*base, "--columns", "waiting", "--states", 400), "299")
    assert_unknown_option(invoke(*base, "--columns", "waiting", "--epochs", 3), "--epochs")
    assert_bad_input(invoke("train", "hmm", "--data", tmp_path / "missing.csv", "--columns",
                            "a", "--out", out), "missing.csv")
    text = tmp_path / "text.csv"
    text.write_text("day,weather\n1,sun\n2,rain\n")
    assert_bad_input(invoke("train", "hmm", "--data", text, "--columns", "weather", "--out",
                            out), "weather", "--categorical")
    assert_bad_input(invoke("train", "hmm", "--data", text, "--columns", "day,weather",
                            "--categorical", "--out", out), "one column")
    assert_unknown_option(invoke("train", "vae", "--data", "mnist", "--columns", "a", "--out",
                                 out), "--columns")
    assert not (out / "model.lm").exists()
    assert_bad_input(invoke("decode", geyser_run, "--data", geyser_csv, "--out",
                            tmp_path / "s.txt"), "--out")
    assert_bad_input(invoke("decode", tmp_path / "none.lm", "--data", geyser_csv, "--out",
                            tmp_path / "s.csv"), "none.lm")
    assert_bad_input(invoke("decode", geyser_run, "--data", tmp_path / "nope.csv", "--out",
                            tmp_path / "s.csv"), "nope.csv")
    assert_bad_input(invoke("decode", geyser_run, "--data", geyser_csv, "--columns", "eruption",
                            "--out", tmp_path / "s.csv"), "features")


def test_demo_hmm_part_and_its_report_section(mnist, tmp_path):
    from latentmodels import VAE

    info = _demo_hmm(tmp_path / "hmm")
    assert info["metrics"]["n_states"] >= 2
    assert info["data"]["source"] == "geyser"  # bundled: no network, no ../shared
    vae = VAE(latent_dim=2, hidden_dims=(8,), epochs=1, verbose=0, random_state=0)
    vae.fit(mnist[0][:64])
    report.write_run(tmp_path, {"metrics": {}, "hmm_run": "hmm", "hmm_title": DEMO_HMM_TITLE})
    path = report.write_report(tmp_path, vae, sections=[report.summary_section,
                                                         report.hmm_section])
    text = path.read_text(encoding="utf-8")
    assert '<section id="hmm">' in text and DEMO_HMM_TITLE in text
    hmm_part = text.split('<section id="hmm">')[1]
    assert len(embedded_pngs(hmm_part)) >= 3
    assert (tmp_path / "hmm_states.png").is_file() and (tmp_path / "hmm_transmat.png").is_file()


@pytest.mark.parametrize("command", [["decode"], ["train"]])
def test_hmm_commands_have_help(command):
    result = invoke(*command, "--help")
    assert result.exit_code == 0 and "Usage" in result.output


# -- emission types through the registry: a plug-in trains from the command line unchanged.
def test_train_hmm_reaches_a_registered_plugin_emission(tmp_path):
    # registers the toy "exponential" emission; the module name is the one pytest gives the
    # test file (its folder is on sys.path), so the class is registered once
    import test_hmm_exponential  # noqa: F401

    # waiting times from two planted regimes, means 1 and 20, switching every 100 steps
    rng = np.random.default_rng(0)
    means = np.repeat([1.0, 20.0] * 4, 100)
    data = tmp_path / "waits.csv"
    data.write_text("wait\n" + "\n".join(f"{v:.5f}" for v in rng.exponential(means)) + "\n")
    out = tmp_path / "expo"
    result = invoke("train", "hmm", "--data", data, "--columns", "wait", "--states", 2,
                    "--emission", "exponential", "--out", out)
    assert result.exit_code == 0, result.output
    info = json.loads((out / "run.json").read_text())
    assert info["model"]["class"] == "ExponentialHMM"
    assert "--emission exponential" in info["command"]
    model = report.load_model(out / "model.lm")
    found = np.sort(1.0 / model.rates_[:, 0])
    np.testing.assert_allclose(found, [1.0, 20.0], rtol=0.25)
    assert (out / "report.html").is_file()


def test_train_hmm_emission_options_and_their_errors(tmp_path):
    out = tmp_path / "full"
    result = invoke("train", "hmm", "--data", "geyser", "--columns", "waiting,duration",
                    "--states", 2, "--option", "covariance_type=full", "--out", out,
                    "--no-report")
    assert result.exit_code == 0, result.output
    assert json.loads((out / "run.json").read_text())["model"]["params"][
        "covariance_type"] == "full"
    bad = invoke("train", "hmm", "--data", "geyser", "--columns", "waiting", "--emission",
                 "weibull", "--out", tmp_path / "w")
    assert_bad_input(bad, "--emission", "weibull")
    bad = invoke("train", "hmm", "--data", "geyser", "--columns", "waiting", "--option",
                 "n_mix=2", "--out", tmp_path / "o")
    assert_bad_input(bad, "--option", "n_mix")
