"""Report sections of the latent-space tasks: each renders on held-out digits, and sections
that do not apply (no labels, an HMM) are left out."""

from __future__ import annotations

import pytest

from latentmodels import Autoencoder
from latentmodels.report import write_report
from latentmodels.report.sections.tasks import TASK_SECTIONS, probe_section


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
