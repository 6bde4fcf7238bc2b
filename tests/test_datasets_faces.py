"""The Olivetti faces loader: where it looks, what it returns, and how it says the photos
are missing (the download itself needs a network; its conversion is tested on a fake
fetcher)."""

from __future__ import annotations

import numpy as np
import pytest

from latentmodels import datasets


def _write_faces(path, n=4):
    images = (np.arange(n * 64 * 64) % 256).astype(np.uint8).reshape(n, 64, 64)
    np.savez(path, images=images, labels=np.arange(n) // 2)
    return images


def test_loads_from_latentmodels_data_first(tmp_path, monkeypatch):
    images = _write_faces(tmp_path / "olivetti_faces.npz")
    monkeypatch.setenv("LATENTMODELS_DATA", str(tmp_path))
    X, y = datasets.load_dataset("faces")
    np.testing.assert_allclose(X, images / 255.0, atol=1e-7)
    assert y.tolist() == [0, 0, 1, 1]
    X, _ = datasets.load_dataset("olivetti", flatten=True, as_float=False)
    assert X.shape == (4, 4096) and X.dtype == np.uint8


def test_missing_photos_name_every_place_searched(tmp_path, monkeypatch):
    monkeypatch.setenv("LATENTMODELS_DATA", str(tmp_path / "none"))
    monkeypatch.setenv("LATENTMODELS_SHARED_DATA", str(tmp_path / "none"))
    monkeypatch.setattr(datasets, "find_shared_data", lambda name: None)
    with pytest.raises(FileNotFoundError, match=r"searched: .*\$LATENTMODELS_DATA.*cache.*"
                                                r"load_olivetti_faces\(download=True\)"):
        datasets.load_olivetti_faces(cache_dir=tmp_path / "cache")


def test_download_keeps_a_uint8_copy_in_the_cache(tmp_path, monkeypatch):
    """The fetcher's float photos in [0, 1] are kept as uint8 and loaded from the cache."""
    import sklearn.datasets
    from sklearn.utils import Bunch

    rng = np.random.default_rng(0)
    photos = rng.integers(0, 256, (6, 64, 64)) / 255.0
    calls = []

    def fake_fetch(data_home=None):
        calls.append(data_home)
        return Bunch(images=photos.astype(np.float32), target=np.array([0, 0, 1, 1, 2, 2]))

    monkeypatch.setattr(sklearn.datasets, "fetch_olivetti_faces", fake_fetch)
    monkeypatch.delenv("LATENTMODELS_DATA", raising=False)
    monkeypatch.setattr(datasets, "find_shared_data", lambda name: None)
    X, y = datasets.load_olivetti_faces(download=True, cache_dir=tmp_path)
    assert (tmp_path / "olivetti_faces.npz").is_file() and len(calls) == 1
    np.testing.assert_allclose(X, photos, atol=1e-6)
    assert y.tolist() == [0, 0, 1, 1, 2, 2]
    # a second call reads the cached copy without fetching
    X2, _ = datasets.load_olivetti_faces(download=True, cache_dir=tmp_path)
    assert len(calls) == 1 and np.array_equal(X, X2)


def test_shared_copy_is_the_real_photos():
    path = datasets.find_shared_data("olivetti_faces.npz")
    if path is None:
        pytest.skip("the shared data folder (../shared/data) is absent in this clone")
    X, y = datasets.load_dataset("faces")
    assert X.shape == (400, 64, 64) and np.bincount(y).tolist() == [10] * 40
