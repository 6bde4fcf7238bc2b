"""The HTML report: every section with embedded images, rebuilt from a run directory alone,
and open to sections added by other model families."""

from __future__ import annotations

import base64
import re

import numpy as np
import pytest

from latentmodels import VAE, Autoencoder, ConditionalVAE, report

IMAGE_SECTIONS = ("training", "reconstructions", "samples", "interpolations", "latent-map",
                  "traversal")


@pytest.fixture(scope="module")
def data(mnist):
    X, y = mnist
    return X[:300], y[:300]


@pytest.fixture(scope="module")
def vae(data):
    return VAE(latent_dim=4, hidden_dims=(32,), epochs=2, verbose=0, random_state=0).fit(data[0])


def _embedded_pngs(text):
    return re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)


def test_report_has_every_section_and_embedded_images(vae, data, tmp_path):
    X, y = data
    metrics = {"test_nll_iwae": 123.456, "train_loss": 150.0}
    path = report.write_report(tmp_path, vae, X[:100], y[:100], metrics)
    assert path == tmp_path / "report.html"
    text = path.read_text(encoding="utf-8")
    for section in ("summary", "parameters", *IMAGE_SECTIONS):
        assert f'<section id="{section}">' in text, section
    assert "123.5" in text and "test NLL, IWAE" in text  # the metrics table
    assert "latent_dim" in text and "hidden_dims" in text  # the hyper-parameters
    images = _embedded_pngs(text)
    assert len(images) >= len(IMAGE_SECTIONS)
    assert all(base64.b64decode(image)[:4] == b"\x89PNG" for image in images)
    for name in ("training_curves", "reconstructions", "samples", "interpolations",
                 "latent_map", "latent_map_tsne", "traversal"):
        assert (tmp_path / f"{name}.png").stat().st_size > 1000
    # Self-contained: no scripts and no links out (base64 image data may spell "http").
    body = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", text.split("<body>")[1])
    assert "<script" not in text and "http" not in body


def test_report_is_rebuilt_from_the_run_directory_alone(vae, tmp_path):
    vae.save(tmp_path / report.MODEL_FILE)
    report.write_run(tmp_path, {
        "data": {"source": "mnist", "limit": 400, "test_fraction": 0.25, "split_seed": 0},
        "metrics": {"test_elbo": -150.25},
    })
    path = report.write_report(tmp_path)
    text = path.read_text(encoding="utf-8")
    assert "VAE on mnist" in text and "-150.2" in text
    for section in IMAGE_SECTIONS:
        assert f'<section id="{section}">' in text
    X_test, y_test = report.load_run_data(report.read_run(tmp_path))
    assert X_test.shape == (100, 28, 28) and y_test.shape == (100,)


def test_two_dimensional_latent_space_adds_the_manifold(data, tmp_path):
    model = VAE(latent_dim=2, hidden_dims=(16,), epochs=1, verbose=0, random_state=0)
    model.fit(data[0])
    text = report.write_report(tmp_path, model, *data).read_text(encoding="utf-8")
    assert '<section id="manifold">' in text


def test_conditional_model_report(data, tmp_path):
    X, y = data
    cvae = ConditionalVAE(latent_dim=3, hidden_dims=(16,), epochs=1, verbose=0, random_state=0)
    path = report.write_report(tmp_path, cvae.fit(X, y), X, y, tsne=False)
    text = path.read_text(encoding="utf-8")
    for section in IMAGE_SECTIONS:
        assert f'<section id="{section}">' in text
    assert "Column k is generated for class" in text


def test_non_image_data_skips_picture_sections(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 5)).astype(np.float32)
    ae = Autoencoder(latent_dim=2, hidden_dims=(8,), epochs=1, verbose=0, random_state=0).fit(X)
    text = report.write_report(tmp_path, ae, X, tsne=False).read_text(encoding="utf-8")
    assert '<section id="latent-map">' in text and '<section id="training">' in text
    assert '<section id="samples">' not in text and '<section id="traversal">' not in text


def test_model_families_can_add_sections(vae, data, tmp_path):
    def extra(ctx):
        return report.Section("topics", "Topics", "<p>topic words here</p>")

    builders = [report.summary_section, extra, lambda ctx: None]
    text = report.write_report(tmp_path, vae, *data, sections=builders).read_text()
    assert '<section id="topics"><h2>Topics</h2><p>topic words here</p>' in text
    assert '<section id="samples">' not in text


def test_run_directory_errors_are_clear(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such run directory"):
        report.read_run(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="run.json"):
        report.read_run(tmp_path)
    (tmp_path / "run.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        report.read_run(tmp_path)
    report.write_run(tmp_path, {"metrics": {}})
    with pytest.raises(FileNotFoundError, match="model.lm"):
        report.write_report(tmp_path)


def test_held_out_split_is_fixed_and_disjoint():
    train, test = report.held_out_split(8000, 0.2, seed=0)
    again_train, again_test = report.held_out_split(8000, 0.2, seed=0)
    assert len(train) == 6400 and len(test) == 1600
    assert np.array_equal(test, again_test) and np.array_equal(train, again_train)
    assert not set(train) & set(test)
    with pytest.raises(ValueError, match="test_fraction"):
        report.held_out_split(10, 1.0)
