"""Latent maps and nearest neighbours: right shapes, a PNG, neighbours that share the query's
class, clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from latentmodels import VAE, Autoencoder
from latentmodels.tasks.maps import latent_map, nearest_neighbors, plot_neighbors


@pytest.fixture(scope="module")
def ae(mnist_small):
    X, _ = mnist_small
    model = Autoencoder(latent_dim=16, hidden_dims=(128,), epochs=15, learning_rate=3e-3,
                        verbose=0, random_state=0)
    return model.fit(X)


def test_latent_map_pca_and_tsne_give_one_point_per_sample(ae, mnist_small, tmp_path):
    X, y = mnist_small
    points = latent_map(ae, X[:200], y[:200], path=tmp_path / "map.png")
    assert points.shape == (200, 2) and np.isfinite(points).all()
    with Image.open(tmp_path / "map.png") as image:
        assert np.asarray(image.convert("L")).var() > 0
    assert latent_map(ae, X[:60], method="tsne").shape == (60, 2)


def test_umap_map_keeps_classes_apart_when_umap_learn_is_installed(ae, mnist_small):
    pytest.importorskip("umap", reason="umap-learn is an optional extra (latentmodels[umap])")
    from sklearn.model_selection import cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    X, y = mnist_small
    points = latent_map(ae, X[:400], y[:400], method="umap")
    assert points.shape == (400, 2) and np.isfinite(points).all()
    # neighbours on the 2-D map mostly share their digit (chance is about 0.1)
    accuracy = cross_val_score(KNeighborsClassifier(5), points, y[:400], cv=3).mean()
    assert accuracy > 0.4, accuracy


def test_latent_map_of_a_2d_space_is_the_codes(mnist_small):
    X, _ = mnist_small
    vae = VAE(latent_dim=2, hidden_dims=(16,), epochs=1, verbose=0, random_state=0).fit(X[:200])
    np.testing.assert_allclose(latent_map(vae, X[:20]), vae.transform(X[:20]), rtol=1e-6)


def test_nearest_neighbours_share_the_class_of_the_query(ae, mnist_small):
    X, y = mnist_small
    distances, indices = nearest_neighbors(ae, X[:100], X[100:], k=5)
    assert distances.shape == indices.shape == (100, 5)
    assert (np.diff(distances, axis=1) >= 0).all()
    agreement = (y[100:][indices] == y[:100, None]).mean()
    assert agreement > 0.6, agreement  # chance is about 0.1
    d_self, i_self = nearest_neighbors(ae, X[:3], X[:50], k=1)
    np.testing.assert_array_equal(i_self[:, 0], [0, 1, 2])
    assert np.allclose(d_self, 0, atol=1e-5)


def test_plot_neighbors_writes_a_grid(ae, mnist_small, tmp_path):
    X, _ = mnist_small
    plot_neighbors(ae, X[:3], X[100:400], k=4, path=tmp_path / "nn.png")
    assert (tmp_path / "nn.png").is_file()


def test_bad_input_is_refused(ae, mnist_small):
    X, y = mnist_small
    with pytest.raises(ValueError, match="y must hold one label per sample"):
        latent_map(ae, X[:50], y[:49])
    with pytest.raises(ValueError, match="method"):
        latent_map(ae, X[:50], method="mds")
    with pytest.raises(ValueError, match="X_query has samples of shape"):
        nearest_neighbors(ae, np.zeros((2, 10)), X[:50])
    with pytest.raises(ValueError, match="k: 60"):
        nearest_neighbors(ae, X[:2], X[:50], k=60)
    with pytest.raises(TypeError, match="transform"):
        nearest_neighbors(object(), X[:2], X[:50])


def test_neighbours_within_one_set_leave_each_query_out(ae, mnist_small):
    X, _ = mnist_small
    distances, indices = nearest_neighbors(ae, X[:60], k=3)
    assert indices.shape == (60, 3)
    assert not (indices == np.arange(60)[:, None]).any()
    assert (distances > 0).all()
    # the same neighbours as the second to fourth of a search that keeps the query itself
    d_all, i_all = nearest_neighbors(ae, X[:60], X[:60].copy(), k=4)
    np.testing.assert_array_equal(i_all[:, 0], np.arange(60))
    np.testing.assert_array_equal(indices, i_all[:, 1:])
    np.testing.assert_allclose(distances, d_all[:, 1:])
    # the very same array passed twice is the same set
    data = X[:60]
    _, same = nearest_neighbors(ae, data, data, k=3)
    np.testing.assert_array_equal(same, indices)
    with pytest.raises(ValueError, match="besides each query itself"):
        nearest_neighbors(ae, X[:5], k=5)
    with pytest.raises(ValueError, match="exclude_self"):
        nearest_neighbors(ae, X[:5], X[:9], k=2, exclude_self=True)


def test_duplicate_samples_still_leave_the_query_out(ae, mnist_small):
    X, _ = mnist_small
    data = np.concatenate([X[:10], X[:10]])
    distances, indices = nearest_neighbors(ae, data, data, k=1)
    np.testing.assert_array_equal(indices[:, 0], np.r_[np.arange(10, 20), np.arange(10)])
    np.testing.assert_allclose(distances, 0, atol=1e-6)


def test_tsne_map_embeds_once_and_shows_progress(ae, mnist_small, tmp_path, monkeypatch,
                                                 capsys):
    from sklearn.manifold import TSNE

    X, y = mnist_small
    sizes = []
    original = TSNE.fit_transform

    def counted(self, data, *args, **kwargs):
        sizes.append(len(data))
        return original(self, data, *args, **kwargs)

    monkeypatch.setattr(TSNE, "fit_transform", counted)
    points = latent_map(ae, X[:80], y[:80], method="tsne", path=tmp_path / "map.png",
                        max_points=50, verbose=1)
    assert sizes == [80]  # all codes once; the drawn 50 are a subset, not embedded again
    assert points.shape == (80, 2) and (tmp_path / "map.png").is_file()
    assert "t-SNE of 80 codes" in capsys.readouterr().err
