"""Tests for latentmodels.datasets: embedded data, IDX, Fashion-MNIST, image folders, load_dataset.

No test touches the network: downloads go through a ``file://`` URL to a temporary folder.
"""

from __future__ import annotations

import gzip
import hashlib
import struct
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from latentmodels import datasets

MNIST_CLASS_COUNTS = [801, 902, 793, 826, 784, 690, 811, 856, 755, 782]

IDX_CODES = {
    np.dtype(np.uint8): 0x08,
    np.dtype(np.int8): 0x09,
    np.dtype(np.int16): 0x0B,
    np.dtype(np.int32): 0x0C,
    np.dtype(np.float32): 0x0D,
    np.dtype(np.float64): 0x0E,
}


def write_idx(path: Path, array: np.ndarray, *, compress: bool | None = None) -> Path:
    """Write ``array`` in IDX format (big-endian); gzip when ``compress`` or the name ends .gz."""
    array = np.asarray(array)
    header = bytes([0, 0, IDX_CODES[array.dtype], array.ndim])
    header += struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    if compress if compress is not None else path.name.endswith(".gz"):
        payload = gzip.compress(payload)
    path.write_bytes(payload)
    return path


def make_idx_split(folder: Path, prefix: str, n: int, *, seed: int, gz: bool = True):
    """Tiny synthetic Fashion-MNIST-style IDX pair: (n, 28, 28) uint8 images, labels 0-9."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = (np.arange(n) % 10).astype(np.uint8)
    suffix = ".gz" if gz else ""
    folder.mkdir(parents=True, exist_ok=True)
    write_idx(folder / f"{prefix}-images-idx3-ubyte{suffix}", images)
    write_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", labels)
    return images, labels


@pytest.fixture
def isolated_fashion(monkeypatch, tmp_path):
    """No environment variable, no Debian folder, an empty cache: Fashion-MNIST is absent."""
    monkeypatch.delenv("LATENTMODELS_DATA", raising=False)
    monkeypatch.setattr(datasets, "_SYSTEM_FASHION_MNIST_DIRS", (tmp_path / "no-debian",))
    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    return cache


# --- embedded MNIST and scikit-learn digits ---------------------------------------------------


def test_load_mnist_shapes_dtypes_range_and_class_counts():
    X, y = datasets.load_mnist()
    assert X.shape == (8000, 28, 28) and X.dtype == np.float32
    assert y.shape == (8000,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    assert np.bincount(y).tolist() == MNIST_CLASS_COUNTS
    # white digits on black: most pixels are background
    assert 0.1 < X.mean() < 0.2


def test_load_mnist_counts_match_the_embedded_file():
    raw = np.load(Path(datasets.__file__).parents[1] / "data" / "mnist_8k.npz")
    _, y = datasets.load_mnist()
    np.testing.assert_array_equal(y, raw["labels"])


def test_load_mnist_flatten_and_raw_bytes_agree():
    X, _ = datasets.load_mnist()
    flat, _ = datasets.load_mnist(flatten=True)
    raw, _ = datasets.load_mnist(as_float=False)
    assert flat.shape == (8000, 784)
    assert raw.dtype == np.uint8 and raw.shape == (8000, 28, 28) and raw.max() == 255
    np.testing.assert_array_equal(flat, X.reshape(8000, 784))
    np.testing.assert_array_equal(np.round(X * 255).astype(np.uint8), raw)


def test_load_mnist_returns_fresh_arrays():
    X, y = datasets.load_mnist()
    X[:] = -1
    y[:] = -1
    X2, y2 = datasets.load_mnist()
    assert X2.min() == 0.0 and y2.min() == 0


def test_load_digits_scaled_to_unit_interval():
    from sklearn.datasets import load_digits

    X, y = datasets.load_digits()
    bunch = load_digits()
    assert X.shape == (1797, 8, 8) and X.dtype == np.float32
    assert y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    np.testing.assert_allclose(X * 16, bunch.images, atol=1e-5)
    assert np.bincount(y).tolist() == np.bincount(bunch.target).tolist()
    assert datasets.load_digits(flatten=True)[0].shape == (1797, 64)


# --- IDX --------------------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gz"])
@pytest.mark.parametrize("dtype", list(IDX_CODES), ids=lambda d: d.name)
def test_idx_round_trip_for_every_type_code(tmp_path, dtype, gz):
    rng = np.random.default_rng(0)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        array = rng.integers(info.min, info.max, size=(3, 4, 5), endpoint=True).astype(dtype)
    else:
        array = (rng.standard_normal((3, 4, 5)) * 1e3).astype(dtype)
    path = write_idx(tmp_path / ("a.idx" + (".gz" if gz else "")), array)
    back = datasets.load_idx(path)
    assert back.dtype == dtype and back.dtype.isnative
    assert back.shape == (3, 4, 5)
    np.testing.assert_array_equal(back, array)
    back[0, 0, 0] = 0  # writable


def test_idx_compression_detected_from_content_not_name(tmp_path):
    array = np.arange(6, dtype=np.int32).reshape(2, 3)
    path = write_idx(tmp_path / "no-suffix", array, compress=True)
    np.testing.assert_array_equal(datasets.load_idx(path), array)


def test_idx_one_dimensional_labels(tmp_path):
    path = write_idx(tmp_path / "labels-idx1-ubyte", np.array([3, 1, 4], dtype=np.uint8))
    assert datasets.load_idx(path).tolist() == [3, 1, 4]


def test_idx_bad_magic_number(tmp_path):
    path = tmp_path / "bad"
    path.write_bytes(b"\x01\x02\x08\x01" + b"\x00" * 8)
    with pytest.raises(ValueError, match="magic number"):
        datasets.load_idx(path)


def test_idx_unknown_type_code(tmp_path):
    path = tmp_path / "bad"
    path.write_bytes(bytes([0, 0, 0x07, 1, 0, 0, 0, 1, 5]))
    with pytest.raises(ValueError, match="unknown IDX type code 0x07"):
        datasets.load_idx(path)


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gz"])
def test_idx_truncated_data(tmp_path, gz):
    full = tmp_path / "full"
    write_idx(full, np.zeros((10, 28, 28), dtype=np.uint8))
    payload = full.read_bytes()[:-100]
    path = tmp_path / "cut"
    path.write_bytes(gzip.compress(payload) if gz else payload)
    with pytest.raises(ValueError, match=r"truncated.*7840 data bytes.*7740"):
        datasets.load_idx(path)


def test_idx_truncated_gzip_stream(tmp_path):
    path = write_idx(tmp_path / "a.gz", np.arange(1000, dtype=np.int16))
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(ValueError, match="truncated or corrupt gzip"):
        datasets.load_idx(path)


@pytest.mark.parametrize(
    ("payload", "message"),
    [(b"\x00\x00", "too short"), (bytes([0, 0, 8, 3, 0, 0, 0, 2]), "announces 3 dimensions")],
)
def test_idx_truncated_header(tmp_path, payload, message):
    path = tmp_path / "short"
    path.write_bytes(payload)
    with pytest.raises(ValueError, match=message):
        datasets.load_idx(path)


def test_idx_trailing_bytes_rejected(tmp_path):
    path = write_idx(tmp_path / "a", np.arange(4, dtype=np.uint8))
    path.write_bytes(path.read_bytes() + b"\x00\x00")
    with pytest.raises(ValueError, match="2 unexpected bytes"):
        datasets.load_idx(path)


def test_idx_missing_file_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope-idx3-ubyte"):
        datasets.load_idx(tmp_path / "nope-idx3-ubyte")


# --- Fashion-MNIST ----------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gz"])
def test_fashion_mnist_from_a_folder_of_idx_files(tmp_path, gz):
    train_images, train_labels = make_idx_split(tmp_path, "train", 20, seed=1, gz=gz)
    test_images, test_labels = make_idx_split(tmp_path, "t10k", 10, seed=2, gz=gz)

    X, y = datasets.load_fashion_mnist(tmp_path)
    assert X.shape == (20, 28, 28) and X.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_allclose(X * 255, train_images, atol=1e-4)
    np.testing.assert_array_equal(y, train_labels)

    X, y = datasets.load_fashion_mnist(str(tmp_path), split="test", flatten=True, as_float=False)
    assert X.shape == (10, 784) and X.dtype == np.uint8
    np.testing.assert_array_equal(X, test_images.reshape(10, 784))
    np.testing.assert_array_equal(y, test_labels)


def test_fashion_mnist_rejects_unknown_split(tmp_path):
    with pytest.raises(ValueError, match="split"):
        datasets.load_fashion_mnist(tmp_path, split="validation")


def test_fashion_mnist_label_count_mismatch(tmp_path):
    make_idx_split(tmp_path, "train", 20, seed=1)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(19, dtype=np.uint8))
    with pytest.raises(ValueError, match=r"labels have shape \(19,\) but there are 20 samples"):
        datasets.load_fashion_mnist(tmp_path)


def test_fashion_mnist_search_order(tmp_path, monkeypatch, isolated_fashion):
    make_idx_split(tmp_path / "cache-root" / "fashion-mnist", "train", 5, seed=3)
    X, _ = datasets.load_fashion_mnist(cache_dir=tmp_path / "cache-root")
    assert X.shape == (5, 28, 28)

    make_idx_split(tmp_path / "debian", "train", 6, seed=4)
    monkeypatch.setattr(datasets, "_SYSTEM_FASHION_MNIST_DIRS", (tmp_path / "debian",))
    X, _ = datasets.load_fashion_mnist(cache_dir=tmp_path / "cache-root")
    assert X.shape == (6, 28, 28)  # the system copy comes before the cache

    make_idx_split(tmp_path / "env" / "fashion-mnist", "train", 7, seed=5)
    monkeypatch.setenv("LATENTMODELS_DATA", str(tmp_path / "env"))
    X, _ = datasets.load_fashion_mnist(cache_dir=tmp_path / "cache-root")
    assert X.shape == (7, 28, 28)  # the environment variable comes first


def test_fashion_mnist_default_cache_follows_xdg(isolated_fashion):
    make_idx_split(isolated_fashion / "latentmodels" / "fashion-mnist", "t10k", 4, seed=6)
    X, y = datasets.load_fashion_mnist(split="test")
    assert X.shape == (4, 28, 28) and y.tolist() == [0, 1, 2, 3]


def test_fashion_mnist_missing_data_says_where_it_looked(tmp_path, isolated_fashion):
    cache_root = tmp_path / "my-cache"
    with pytest.raises(FileNotFoundError) as info:
        datasets.load_fashion_mnist(cache_dir=cache_root)
    message = str(info.value)
    assert "train-images-idx3-ubyte" in message
    assert str(cache_root / "fashion-mnist") in message
    assert str(tmp_path / "no-debian") in message
    assert "LATENTMODELS_DATA" in message
    assert "apt-get install dataset-fashion-mnist" in message
    assert "download=True" in message


def test_fashion_mnist_explicit_path_is_the_only_place_searched(tmp_path, monkeypatch):
    make_idx_split(tmp_path / "env" / "fashion-mnist", "train", 5, seed=3)
    monkeypatch.setenv("LATENTMODELS_DATA", str(tmp_path / "env"))
    with pytest.raises(FileNotFoundError, match="empty"):
        datasets.load_fashion_mnist(tmp_path / "empty")


def test_fashion_mnist_path_that_is_a_plain_file(tmp_path):
    (tmp_path / "x.txt").write_text("hi")
    with pytest.raises(ValueError, match="folder holding the Fashion-MNIST IDX files"):
        datasets.load_fashion_mnist(tmp_path / "x.txt")


def _serve_from(monkeypatch, server: Path, files: dict[str, Path]) -> None:
    monkeypatch.setattr(datasets, "_FASHION_MNIST_URL", server.as_uri() + "/")
    monkeypatch.setattr(
        datasets,
        "_FASHION_MNIST_MD5",
        {name: hashlib.md5(path.read_bytes()).hexdigest() for name, path in files.items()},
    )


def test_fashion_mnist_download_into_the_cache(tmp_path, monkeypatch, isolated_fashion):
    server = tmp_path / "server"
    images, labels = make_idx_split(server, "train", 12, seed=7)
    _serve_from(monkeypatch, server, {p.name: p for p in server.iterdir()})

    cache_root = tmp_path / "cache-root"
    X, y = datasets.load_fashion_mnist(download=True, cache_dir=cache_root)
    np.testing.assert_allclose(X * 255, images, atol=1e-4)
    np.testing.assert_array_equal(y, labels)
    stored = sorted(p.name for p in (cache_root / "fashion-mnist").iterdir())
    assert stored == ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]  # no temp files

    def no_network(url, destination, **kwargs):
        raise AssertionError(f"downloaded {url} again")

    monkeypatch.setattr(datasets, "_download", no_network)
    X2, _ = datasets.load_fashion_mnist(download=True, cache_dir=cache_root)
    np.testing.assert_array_equal(X2, X)


def test_fashion_mnist_download_into_an_explicit_path(tmp_path, monkeypatch):
    server = tmp_path / "server"
    make_idx_split(server, "t10k", 3, seed=8)
    _serve_from(monkeypatch, server, {p.name: p for p in server.iterdir()})
    X, _ = datasets.load_fashion_mnist(tmp_path / "mine", split="test", download=True)
    assert X.shape == (3, 28, 28)
    assert (tmp_path / "mine" / "t10k-images-idx3-ubyte.gz").is_file()


def test_fashion_mnist_corrupt_download_leaves_nothing(tmp_path, monkeypatch, isolated_fashion):
    server = tmp_path / "server"
    make_idx_split(server, "train", 4, seed=9)
    monkeypatch.setattr(datasets, "_FASHION_MNIST_URL", server.as_uri() + "/")
    # keep the real (official) checksums: the synthetic files cannot match them
    cache_root = tmp_path / "cache-root"
    with pytest.raises(OSError, match="corrupt: MD5"):
        datasets.load_fashion_mnist(download=True, cache_dir=cache_root)
    folder = cache_root / "fashion-mnist"
    assert not folder.exists() or not any(folder.iterdir())


def test_download_reports_an_unreachable_url(tmp_path):
    missing = (tmp_path / "absent.gz").as_uri()
    with pytest.raises(OSError, match="could not download .*absent.gz"):
        datasets._download(missing, tmp_path / "out.gz")
    assert not (tmp_path / "out.gz").exists()


def test_download_copies_bytes_atomically(tmp_path):
    source = tmp_path / "source.bin"
    source.write_bytes(b"abc" * 1000)
    out = datasets._download(source.as_uri(), tmp_path / "sub" / "copy.bin")
    assert out.read_bytes() == b"abc" * 1000
    assert sorted(p.name for p in out.parent.iterdir()) == ["copy.bin"]


def test_fashion_mnist_from_the_shared_npz():
    path = datasets.find_shared_data("fashion_mnist_10k.npz")
    if path is None:
        pytest.skip("shared/data/fashion_mnist_10k.npz is not available in this checkout")
    X, y = datasets.load_fashion_mnist(path)
    assert X.shape == (10000, 28, 28) and X.dtype == np.float32
    assert X.min() == 0.0 and X.max() == 1.0
    assert np.bincount(y).tolist() == [1000] * 10
    flat, _ = datasets.load_fashion_mnist(path, flatten=True)
    assert flat.shape == (10000, 784)


# --- npz, image folders -----------------------------------------------------------------------


def test_load_npz_key_variants(tmp_path):
    images = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3) * 14
    np.savez(tmp_path / "a.npz", images=images, labels=np.array([1, 0], dtype=np.int32))
    X, y = datasets.load_npz(tmp_path / "a.npz")
    assert X.dtype == np.float32 and y.dtype == np.int64 and y.tolist() == [1, 0]
    np.testing.assert_allclose(X, images / 255, atol=1e-6)

    np.savez(tmp_path / "b.npz", X=np.ones((4, 2), dtype=np.float64) * 3.5, y=np.arange(4.0))
    X, y = datasets.load_npz(tmp_path / "b.npz")
    assert X.dtype == np.float32 and float(X.max()) == 3.5  # non-uint8 data are not rescaled
    assert y.tolist() == [0, 1, 2, 3] and y.dtype == np.int64

    np.savez(tmp_path / "c.npz", images=images)
    X, y = datasets.load_npz(tmp_path / "c.npz", as_float=False)
    assert y is None and X.dtype == np.uint8


def test_load_npz_errors(tmp_path):
    np.savez(tmp_path / "nokey.npz", data=np.zeros(3))
    with pytest.raises(ValueError, match=r"no 'images' or 'X' array.*'data'"):
        datasets.load_npz(tmp_path / "nokey.npz")

    np.savez(tmp_path / "pickled.npz", images=np.array([{"a": 1}, None], dtype=object))
    with pytest.raises(ValueError, match="pickled"):
        datasets.load_npz(tmp_path / "pickled.npz")

    np.savez(tmp_path / "mismatch.npz", images=np.zeros((3, 2)), labels=np.zeros(2))
    with pytest.raises(ValueError, match="3 samples"):
        datasets.load_npz(tmp_path / "mismatch.npz")

    (tmp_path / "fake.npz").write_bytes(b"not a zip at all")
    with pytest.raises(ValueError, match="not an .npz file"):
        datasets.load_npz(tmp_path / "fake.npz")

    with pytest.raises(FileNotFoundError, match="missing.npz"):
        datasets.load_npz(tmp_path / "missing.npz")


def _png(path: Path, size_wh: tuple[int, int], colour, mode: str = "RGB") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size_wh, colour).save(path)


@pytest.fixture
def image_tree(tmp_path):
    """bird: 2 red images; cat: 1 white + 1 black; notes and hidden files to skip."""
    root = tmp_path / "pictures"
    _png(root / "cat" / "a.png", (40, 30), (255, 255, 255))
    _png(root / "cat" / "b.jpg", (10, 10), (0, 0, 0))
    _png(root / "bird" / "x.png", (28, 28), (255, 0, 0))
    _png(root / "bird" / "nested" / "y.bmp", (50, 20), (255, 0, 0))
    (root / "cat" / "notes.txt").write_text("not an image")
    _png(root / "cat" / ".hidden.png", (5, 5), (1, 2, 3))
    (root / "empty-class").mkdir()
    return root


def test_image_folder_grayscale(image_tree):
    X, y, names = datasets.load_image_folder(image_tree)
    assert names == ["bird", "cat"]
    assert X.shape == (4, 28, 28) and X.dtype == np.float32 and y.dtype == np.int64
    assert y.tolist() == [0, 0, 1, 1]
    red_gray = round(0.299 * 255) / 255  # ITU-R 601 luma of pure red
    np.testing.assert_allclose(X[0], red_gray, atol=1 / 255)
    np.testing.assert_allclose(X[1], red_gray, atol=1 / 255)
    np.testing.assert_allclose(X[2], 1.0)  # cat/a.png, white
    np.testing.assert_allclose(X[3], 0.0, atol=1 / 255)  # cat/b.jpg, black


def test_image_folder_rgb_is_channels_first(image_tree):
    X, y, _ = datasets.load_image_folder(image_tree, size=(12, 16), grayscale=False)
    assert X.shape == (4, 3, 12, 16)
    np.testing.assert_allclose(X[0, 0], 1.0)
    np.testing.assert_allclose(X[0, 1:], 0.0)
    assert 0.0 <= X.min() and X.max() <= 1.0


def test_image_folder_flat_folder_is_one_class(tmp_path):
    for i in range(3):
        _png(tmp_path / "flat" / f"{i}.png", (8, 8), i * 100, mode="L")
    (tmp_path / "flat" / "readme.md").write_text("skip me")
    X, y, names = datasets.load_image_folder(tmp_path / "flat", size=None)
    assert X.shape == (3, 8, 8) and y.tolist() == [0, 0, 0] and names == ["flat"]
    np.testing.assert_allclose(X[:, 0, 0], [0, 100 / 255, 200 / 255], atol=1e-6)


def test_image_folder_loose_images_beside_classes_warn(image_tree):
    _png(image_tree / "stray.png", (8, 8), (0, 0, 0))
    with pytest.warns(UserWarning, match="ignoring 1 image"):
        X, _, _ = datasets.load_image_folder(image_tree)
    assert X.shape[0] == 4


def test_image_folder_errors(tmp_path, image_tree):
    (tmp_path / "nothing").mkdir()
    (tmp_path / "nothing" / "a.txt").write_text("x")
    with pytest.raises(ValueError, match="no images found"):
        datasets.load_image_folder(tmp_path / "nothing")
    with pytest.raises(FileNotFoundError, match="absent"):
        datasets.load_image_folder(tmp_path / "absent")
    with pytest.raises(ValueError, match="other images"):
        datasets.load_image_folder(image_tree, size=None)
    with pytest.raises(ValueError, match="size"):
        datasets.load_image_folder(image_tree, size=(0, 5))
    (image_tree / "cat" / "broken.png").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="cannot read image .*broken.png"):
        datasets.load_image_folder(image_tree)


# --- load_dataset and find_shared_data --------------------------------------------------------


def test_load_dataset_resolves_names(tmp_path):
    X, y = datasets.load_dataset("mnist", flatten=True)
    assert X.shape == (8000, 784) and y.shape == (8000,)
    assert datasets.load_dataset("MNIST")[0].shape == (8000, 28, 28)
    assert datasets.load_dataset("digits")[0].shape == (1797, 8, 8)
    make_idx_split(tmp_path, "train", 5, seed=10)
    for name in ("fashion-mnist", "fashion_mnist"):
        X, y = datasets.load_dataset(name, path=tmp_path)
        assert X.shape == (5, 28, 28) and y.tolist() == [0, 1, 2, 3, 4]
    assert datasets.DATASET_NAMES == ("mnist", "fashion-mnist", "digits", "faces")


def test_load_dataset_unknown_name_lists_known_names():
    with pytest.raises(ValueError) as info:
        datasets.load_dataset("mnsit")
    message = str(info.value)
    assert "name_or_path" in message and "'mnsit'" in message
    assert all(name in message for name in datasets.DATASET_NAMES)
    assert "Did you mean 'mnist'" in message


def test_load_dataset_missing_file_names_the_path(tmp_path):
    missing = tmp_path / "gone.npz"
    with pytest.raises(FileNotFoundError, match="gone.npz"):
        datasets.load_dataset(missing)
    with pytest.raises(FileNotFoundError, match="gone.npz"):
        datasets.load_dataset(str(missing))


def test_load_dataset_rejects_bad_arguments(tmp_path):
    with pytest.raises(TypeError, match="name_or_path"):
        datasets.load_dataset(42)
    with pytest.raises(TypeError, match="size"):
        datasets.load_dataset("mnist", size=(8, 8))


def test_load_dataset_npz_and_npy(tmp_path):
    images = np.full((3, 4, 4), 51, dtype=np.uint8)
    np.savez(tmp_path / "d.npz", images=images, labels=np.array([2, 2, 1]))
    X, y = datasets.load_dataset(tmp_path / "d.npz", flatten=True)
    assert X.shape == (3, 16) and y.tolist() == [2, 2, 1]
    np.testing.assert_allclose(X, 0.2, atol=1e-6)

    np.save(tmp_path / "d.npy", images)
    X, y = datasets.load_dataset(str(tmp_path / "d.npy"))
    assert y is None and X.shape == (3, 4, 4) and X.dtype == np.float32
    X, _ = datasets.load_dataset(tmp_path / "d.npy", as_float=False)
    assert X.dtype == np.uint8


def test_load_dataset_csv(tmp_path):
    path = tmp_path / "table.csv"
    path.write_text("a,b,label\n0.5,1.5,1\n2.0,3.0,0\n")
    X, y = datasets.load_dataset(path)
    assert y is None and X.shape == (2, 3) and X.dtype == np.float32
    X, y = datasets.load_dataset(path, label_column="label")
    np.testing.assert_allclose(X, [[0.5, 1.5], [2.0, 3.0]])
    assert y.tolist() == [1, 0] and y.dtype == np.int64
    plain = tmp_path / "plain.csv"
    plain.write_text("1,2\n3,4\n5,6\n")
    X, y = datasets.load_dataset(plain, label_column=0)
    assert X.ravel().tolist() == [2, 4, 6] and y.tolist() == [1, 3, 5]
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2\n3,x\n")
    with pytest.raises(ValueError, match="line 2"):
        datasets.load_dataset(bad)


def test_load_dataset_idx_file_finds_its_labels(tmp_path):
    images, labels = make_idx_split(tmp_path, "train", 6, seed=11)
    X, y = datasets.load_dataset(tmp_path / "train-images-idx3-ubyte.gz")
    np.testing.assert_array_equal(y, labels)
    np.testing.assert_allclose(X * 255, images, atol=1e-4)
    X, y = datasets.load_dataset(tmp_path / "train-labels-idx1-ubyte.gz", as_float=False)
    assert y is None and X.tolist() == labels.tolist()


def test_load_dataset_idx_folder_and_image_folder(tmp_path, image_tree):
    make_idx_split(tmp_path / "idx", "t10k", 4, seed=12, gz=False)
    X, y = datasets.load_dataset(tmp_path / "idx")  # only a test split: it is used
    assert X.shape == (4, 28, 28) and y.tolist() == [0, 1, 2, 3]

    with pytest.warns(UserWarning, match="resized 4 of 4"):
        X, y = datasets.load_dataset(image_tree, size=(7, 7), grayscale=True, flatten=True)
    assert X.shape == (4, 49) and y.tolist() == [0, 0, 1, 1]
    with pytest.warns(UserWarning, match="resized"):
        X, _ = datasets.load_dataset(image_tree, size=(7, 7))  # colour images keep colour
    assert X.shape == (4, 3, 7, 7)


def test_load_dataset_keeps_image_size_and_colour(tmp_path):
    # 40x32 colour PNGs used to become 28x28 grey without a word
    for i, colour in enumerate([(255, 0, 0), (0, 0, 255), (0, 255, 0)]):
        _png(tmp_path / "pngs" / f"{i}.png", (32, 40), colour)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no resizing, so no warning
        X, y = datasets.load_dataset(tmp_path / "pngs")
    assert X.shape == (3, 3, 40, 32) and y.tolist() == [0, 0, 0]
    np.testing.assert_allclose(X[1, 2], 1.0)  # blue stays blue
    np.testing.assert_allclose(X[1, :2], 0.0)


def test_load_dataset_grey_images_stay_single_channel(tmp_path):
    for i in range(2):
        _png(tmp_path / "grey" / f"{i}.png", (9, 5), 50 * i, mode="L")
    X, _ = datasets.load_dataset(tmp_path / "grey")
    assert X.shape == (2, 5, 9)
    np.testing.assert_allclose(X[1], 50 / 255, atol=1e-6)


def test_image_folder_two_or_three_values(image_tree):
    with pytest.warns(UserWarning, match="resized 4 of 4"):
        X3, y3, names = datasets.load_image_folder(image_tree, size=(6, 6))
    with pytest.warns(UserWarning, match="resized 4 of 4"):
        X2, y2 = datasets.load_image_folder(image_tree, size=(6, 6), return_class_names=False)
    np.testing.assert_array_equal(X2, X3)
    assert y2.tolist() == y3.tolist() == [0, 0, 1, 1] and names == ["bird", "cat"]


def test_image_folder_mixed_sizes_need_a_size(image_tree):
    with pytest.raises(ValueError, match="--image-size"):
        datasets.load_dataset(image_tree)


def test_load_dataset_unreadable_file(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(ValueError, match="don't know how to read"):
        datasets.load_dataset(path)


def test_find_shared_data(tmp_path, monkeypatch):
    monkeypatch.delenv("LATENTMODELS_SHARED_DATA", raising=False)
    assert datasets.find_shared_data("no_such_dataset_here.npz") is None
    (tmp_path / "mine.csv").write_text("1\n")
    monkeypatch.setenv("LATENTMODELS_SHARED_DATA", str(tmp_path))
    assert datasets.find_shared_data("mine.csv") == tmp_path / "mine.csv"
    found = datasets.find_shared_data("mnist_8k.npz")
    assert found is None or found.name == "mnist_8k.npz"
