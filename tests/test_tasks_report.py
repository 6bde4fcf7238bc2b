"""Report sections of the latent-space tasks: each renders on held-out digits, and sections
that do not apply (no labels, an HMM) are left out."""

from __future__ import annotations

import numpy as np
import pytest

from latentmodels import Autoencoder
from latentmodels.report import write_report
from latentmodels.report.sections.tasks import TASK_SECTIONS, anomaly_section, probe_section
from latentmodels.tasks.anomaly import AnomalyDetector


@pytest.fixture(scope="module")
def ae(mnist_small):
    X, _ = mnist_small
    model = Autoencoder(latent_dim=8, hidden_dims=(64,), epochs=3, verbose=0, random_state=0)
    return model.fit(X[:600])


def test_task_sections_render_into_the_report(ae, mnist_small, tmp_path):
    X, y = mnist_small
    path = write_report(tmp_path, ae, X[600:900], y[600:900], metrics={}, sections=TASK_SECTIONS)
    page = path.read_text()
    for anchor in ("neighbors", "anomaly", "denoise", "probe"):
        assert f'id="{anchor}"' in page, anchor
    for name in ("neighbors.png", "anomaly_scores.png", "anomaly_extremes.png",
                 "denoise_gaussian.png", "denoise_masking.png"):
        assert (tmp_path / name).is_file(), name
    assert "AUROC vs rest" in page and "PSNR denoised" in page


def test_sections_that_do_not_apply_are_left_out(ae, mnist_small, tmp_path):
    X, _ = mnist_small
    path = write_report(tmp_path, ae, X[600:700], None, metrics={}, sections=[probe_section])
    assert 'id="probe"' not in path.read_text()


def _captured_anomaly_scores(monkeypatch):
    """The scores the anomaly section ranks its extremes by (what plot_anomalies gets)."""
    import latentmodels.tasks.anomaly as anomaly

    captured = {}
    original = anomaly.plot_anomalies

    def capture(X, scores, **kwargs):
        captured["scores"] = np.asarray(scores)
        return original(X, scores, **kwargs)

    monkeypatch.setattr(anomaly, "plot_anomalies", capture)
    return captured


def test_anomaly_section_ranks_by_the_default_detector_calibrated_on_training_data(
        ae, mnist_small, tmp_path, monkeypatch):
    X, y = mnist_small
    captured = _captured_anomaly_scores(monkeypatch)
    items, train = X[600:700], X[:600]
    page = write_report(tmp_path, ae, items, y[600:700], metrics={}, X_train=train,
                        sections=[anomaly_section]).read_text()
    expected = AnomalyDetector(ae).fit(train).score_samples(items)
    np.testing.assert_allclose(captured["scores"], expected, rtol=1e-6)
    assert np.array_equal(np.argsort(captured["scores"], kind="stable"),
                          np.argsort(expected, kind="stable"))
    # the default score is not the model's own: the order differs from score_samples'
    own = ae.score_samples(items)
    assert not np.array_equal(np.argsort(own), np.argsort(expected))
    assert "AnomalyDetector(model) default score" in page and "600 training samples" in page


def test_anomaly_section_reloads_the_training_split_of_a_run(tmp_path, monkeypatch):
    from explore_runs import vae_run

    from latentmodels.rundir import load_model, load_run_data, read_run

    run = vae_run(tmp_path / "run")
    captured = _captured_anomaly_scores(monkeypatch)
    page = write_report(run, sections=[anomaly_section]).read_text()
    info = read_run(run)
    items, _ = load_run_data(info)
    train, _ = load_run_data(info, part="train")
    expected = AnomalyDetector(load_model(run / "model.lm")).fit(train).score_samples(items)
    assert np.array_equal(np.argsort(captured["scores"], kind="stable"),
                          np.argsort(expected, kind="stable"))
    assert f"{len(train):,} training samples" in page


def test_anomaly_section_without_training_data_says_it_uses_score_samples(
        ae, mnist_small, tmp_path, monkeypatch):
    X, _ = mnist_small
    captured = _captured_anomaly_scores(monkeypatch)
    page = write_report(tmp_path, ae, X[600:700], None, metrics={},
                        sections=[anomaly_section]).read_text()
    np.testing.assert_allclose(captured["scores"], ae.score_samples(X[600:700]), rtol=1e-6)
    assert "score_samples (no training data" in page
