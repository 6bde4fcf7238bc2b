"""Plots: each function draws a real (non-blank) PNG of the promised size, and refuses bad input
with an error that names the problem."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from latentmodels import VAE, Autoencoder, ConditionalVAE, plots


@pytest.fixture(scope="module")
def data(mnist):
    X, y = mnist
    return X[:256], y[:256]


@pytest.fixture(scope="module")
def vae(data):
    X, _ = data
    return VAE(latent_dim=4, hidden_dims=(32,), epochs=2, verbose=0, random_state=0).fit(X)


@pytest.fixture(scope="module")
def vae_2d(data):
    X, _ = data
    return VAE(latent_dim=2, hidden_dims=(32,), epochs=1, verbose=0, random_state=0).fit(X)


@pytest.fixture(scope="module")
def cvae(data):
    X, y = data
    model = ConditionalVAE(latent_dim=3, hidden_dims=(32,), epochs=1, verbose=0, random_state=0)
    return model.fit(X, y)


def _check_png(path, fig, dpi=plots.DEFAULT_DPI):
    assert path.is_file()
    with Image.open(path) as image:
        width, height = fig.get_size_inches() * dpi
        assert image.size == (int(width), int(height))  # matplotlib truncates
        pixels = np.asarray(image.convert("L"), dtype=np.float64)
    assert pixels.var() > 0, "the PNG is blank"
    return pixels


PLOTS = {
    "training_curves": lambda m, X, y, p: plots.plot_training_curves(m, path=p),
    "reconstructions": lambda m, X, y, p: plots.plot_reconstructions(m, X, n=8, path=p),
    "samples": lambda m, X, y, p: plots.plot_samples(m, 16, path=p),
    "interpolations": lambda m, X, y, p: plots.plot_interpolations(
        m, X, [(0, 1), (2, 3)], steps=6, path=p),
    "interpolations_spherical": lambda m, X, y, p: plots.plot_interpolations(
        m, X, [(0, 1)], steps=5, method="spherical", path=p),
    "latent_map": lambda m, X, y, p: plots.plot_latent_map(m, X, y, path=p),
    "latent_map_unlabelled": lambda m, X, y, p: plots.plot_latent_map(m, X, path=p),
    "traversal": lambda m, X, y, p: plots.plot_traversal(m, X[0], reference=X, path=p),
    "traversal_plain": lambda m, X, y, p: plots.plot_traversal(m, X[0], dims=[0, 2],
                                                               values=[-1, 0, 1], path=p),
}


@pytest.mark.parametrize("name", sorted(PLOTS))
def test_each_plot_writes_a_non_blank_png_of_the_figure_size(name, vae, data, tmp_path):
    X, y = data
    path = tmp_path / f"{name}.png"
    fig = PLOTS[name](vae, X, y, path)
    _check_png(path, fig)


def test_manifold_grid_for_a_2d_latent_space(vae_2d, data, tmp_path):
    fig = plots.plot_manifold(vae_2d, n=6, path=tmp_path / "m.png")
    _check_png(tmp_path / "m.png", fig)
    fig = plots.plot_manifold(vae_2d, n=5, reference=data[0], path=tmp_path / "r.png")
    _check_png(tmp_path / "r.png", fig)


def test_latent_map_with_tsne(vae, data, tmp_path):
    X, y = data
    fig = plots.plot_latent_map(vae, X[:60], y[:60], method="tsne", path=tmp_path / "t.png")
    _check_png(tmp_path / "t.png", fig)


def test_plots_accept_flat_images_with_an_image_shape(data, tmp_path):
    X, _ = data
    flat = X.reshape(len(X), -1)[:, :700]  # 700 features: not square, so image_shape is needed
    ae = Autoencoder(latent_dim=3, hidden_dims=(16,), epochs=1, verbose=0, random_state=0)
    ae.fit(flat)
    fig = plots.plot_reconstructions(ae, flat, n=4, image_shape=(25, 28), path=tmp_path / "f.png")
    _check_png(tmp_path / "f.png", fig)
    with pytest.raises(ValueError, match="image_shape"):
        plots.plot_samples(ae, 4)


def test_as_images_handles_every_layout():
    assert plots.as_images(np.zeros((2, 5, 6))).shape == (2, 5, 6)
    assert plots.as_images(np.zeros((2, 1, 5, 6))).shape == (2, 5, 6)
    assert plots.as_images(np.zeros((2, 3, 5, 6))).shape == (2, 5, 6, 3)
    assert plots.as_images(np.zeros((2, 36))).shape == (2, 6, 6)
    assert plots.as_images(np.zeros((2, 30)), (3, 10)).shape == (2, 3, 10)
    with pytest.raises(ValueError, match="1 or 3 channels"):
        plots.as_images(np.zeros((2, 4, 5, 6)))
    with pytest.raises(ValueError, match="do not fit image_shape"):
        plots.as_images(np.zeros((2, 30)), (4, 10))
    with pytest.raises(ValueError, match="NaN"):
        plots.as_images(np.full((2, 4, 4), np.nan))


def test_conditional_models_plot_with_their_labels(cvae, data, tmp_path):
    X, y = data
    for name, draw in {
        "samples": lambda p: plots.plot_samples(cvae, 20, ncols=10, path=p),
        "samples_of_a_class": lambda p: plots.plot_samples(cvae, 8, y=3, path=p),
        "recon": lambda p: plots.plot_reconstructions(cvae, X, y, n=6, path=p),
        "interp": lambda p: plots.plot_interpolations(cvae, X, [(0, 1)], y, steps=4, path=p),
        "map": lambda p: plots.plot_latent_map(cvae, X, y, path=p),
        "trav": lambda p: plots.plot_traversal(cvae, X[0], label=y[0], reference=X,
                                               reference_y=y, path=p),
    }.items():
        _check_png(tmp_path / f"{name}.png", draw(tmp_path / f"{name}.png"))
    with pytest.raises(ValueError, match="conditional"):
        plots.plot_latent_map(cvae, X)
    with pytest.raises(ValueError, match="label"):
        plots.plot_traversal(cvae, X[0])


def test_bad_input_gives_clear_errors(vae, data, tmp_path):
    X, y = data
    with pytest.raises(ValueError, match="method"):
        plots.plot_latent_map(vae, X, method="isomap")
    with pytest.raises(ValueError, match="2-D latent space"):
        plots.plot_manifold(vae)
    with pytest.raises(ValueError, match="history is empty"):
        plots.plot_training_curves([])
    with pytest.raises(TypeError, match="history"):
        plots.plot_training_curves("loss")
    with pytest.raises(ValueError, match="not conditional"):
        plots.plot_samples(vae, 4, y=1)
    with pytest.raises(ValueError, match="outside X"):
        plots.plot_interpolations(vae, X, [(0, 10_000)])
    with pytest.raises(ValueError, match="steps"):
        plots.plot_interpolations(vae, X, [(0, 1)], steps=1)
    with pytest.raises(ValueError, match="y must hold one label per sample"):
        plots.plot_latent_map(vae, X, y[:5])
    with pytest.raises(ValueError, match="n must be"):
        plots.plot_samples(vae, 0)
    with pytest.raises(ValueError, match=r"\.png"):
        plots.plot_samples(vae, 4, path=tmp_path / "samples.jpg")
    with pytest.raises(TypeError, match="transform"):
        plots.plot_latent_map(object(), X)
    with pytest.raises(ValueError, match="features"):
        plots.plot_reconstructions(vae, np.zeros((3, 10, 10), np.float32))


def test_umap_missing_is_a_clear_import_error(vae, data):
    try:
        import umap  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="umap-learn"):
            plots.plot_latent_map(vae, data[0], method="umap")
    else:
        pytest.skip("umap is installed here")


def test_figure_to_png_size_follows_dpi():
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3, 2))
    fig.subplots().plot([0, 1], [1, 0])
    with Image.open(io.BytesIO(plots.figure_to_png(fig, dpi=40))) as image:
        assert image.size == (120, 80)
