"""The run directory: one fitted model and everything needed to look at it again.

A run directory holds ``model.lm`` (the saved model), ``run.json`` (the command, the data
source and split, the metrics) and, once written, ``report.html`` with its PNG figures. This
module reads and writes that format and reloads a run's held-out data; the orchestrators that
make runs live in :mod:`latentmodels.runs`, the page in :mod:`latentmodels.report`.

Examples
--------
>>> train, test = held_out_split(10, 0.2)
>>> len(train), len(test)
(8, 2)
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import importlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from ._internal.io import ModelFileError, atomic_write_text, to_jsonable
from .base import load
from .datasets import DATASET_NAMES, load_dataset
from .datasets.series import SeriesData, is_series_run, load_run_series
from .datasets.texts import is_text_run, load_texts
from .lda.text import TextCorpus

__all__ = [
    "MODEL_FILE",
    "REPORT_FILE",
    "RUN_FILE",
    "RUN_FORMAT_VERSION",
    "SeriesData",
    "held_out_split",
    "is_series_run",
    "data_checksum",
    "is_text_run",
    "load_model",
    "load_run_corpora",
    "load_run_data",
    "load_run_series",
    "read_run",
    "recorded_source",
    "run_header",
    "write_run",
]

MODEL_FILE = "model.lm"


RUN_FILE = "run.json"


REPORT_FILE = "report.html"


RUN_FORMAT_VERSION = 1


def held_out_split(
    n_samples: int, test_fraction: float, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a seeded random train/test split; equal arguments give equal splits.

    Parameters
    ----------
    n_samples : int
        Number of samples to split.
    test_fraction : float
        Share of samples held out, in [0, 1). A positive fraction holds out at least one
        sample and keeps at least one for training.
    seed : int, default=0
        Seed of the permutation.

    Returns
    -------
    train, test : numpy.ndarray
        Sorted indices of each part.

    Examples
    --------
    >>> train, test = held_out_split(10, 0.2)
    >>> len(train), len(test)
    (8, 2)
    """
    if not 0 <= test_fraction < 1:
        raise ValueError(f"test_fraction must be in [0, 1), got {test_fraction}")
    n_test = int(round(n_samples * test_fraction))
    if test_fraction > 0 and n_samples > 1:
        n_test = min(max(n_test, 1), n_samples - 1)
    order = np.random.default_rng(seed).permutation(n_samples)
    return np.sort(order[n_test:]), np.sort(order[:n_test])


def run_header(command: list[str] | str, model: Any) -> dict[str, Any]:
    """The first entries of every ``run.json``.

    Parameters
    ----------
    command : list of str or str
        The command that repeats the run (a list is shell-quoted and joined).
    model : estimator or None
        The fitted model; its class and hyper-parameters are recorded.

    Returns
    -------
    dict
        ``created`` (timestamp), ``latentmodels_version``, ``command`` and ``model``.

    Examples
    --------
    >>> sorted(run_header(["latentmodels", "demo"], None))
    ['command', 'created', 'latentmodels_version', 'model']
    >>> run_header(["latentmodels", "fit", "my data"], None)["command"]
    "latentmodels fit 'my data'"
    """
    import shlex

    return {
        "created": _dt.datetime.now().isoformat(timespec="seconds"),
        "latentmodels_version": __version__,
        "command": command if isinstance(command, str) else shlex.join(command),
        "model": None if model is None else {
            "class": type(model).__name__, "params": model.get_params(deep=False)},
    }


def write_run(run_dir: str | os.PathLike, info: Mapping[str, Any]) -> Path:
    """Write ``run.json`` into ``run_dir`` (atomically).

    Parameters
    ----------
    run_dir : str or os.PathLike
        The run directory; created if missing.
    info : mapping
        The run's record; made JSON-able, with ``format_version`` added first.

    Returns
    -------
    pathlib.Path
        The path of ``run.json``.

    Examples
    --------
    >>> import tempfile
    >>> path = write_run(tempfile.mkdtemp(), {"data": {"source": "mnist"}, "metrics": {}})
    >>> path.name
    'run.json'
    """
    document = {"format_version": RUN_FORMAT_VERSION, **to_jsonable(dict(info))}
    text = json.dumps(document, indent=2, sort_keys=False, allow_nan=True) + "\n"
    return atomic_write_text(Path(run_dir) / RUN_FILE, text)


def read_run(run_dir: str | os.PathLike) -> dict[str, Any]:
    """Read ``run.json`` of a run directory; clear errors for a missing or broken file.

    Parameters
    ----------
    run_dir : str or os.PathLike
        The run directory.

    Returns
    -------
    dict
        The run's record.

    Raises
    ------
    FileNotFoundError
        If ``run_dir`` or its ``run.json`` is missing.
    ValueError
        If ``run.json`` is not a JSON object or comes from a newer format version.

    Examples
    --------
    >>> import tempfile
    >>> run_dir = tempfile.mkdtemp()
    >>> _ = write_run(run_dir, {"metrics": {"elbo": -90.5}})
    >>> read_run(run_dir)["metrics"]
    {'elbo': -90.5}
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(f"run_dir: no such run directory: {run_dir}")
    path = run_dir / RUN_FILE
    if not path.is_file():
        raise FileNotFoundError(f"run_dir: {run_dir} has no {RUN_FILE}; is it a training run?")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise ValueError(f"{path} must hold a JSON object")
    version = document.get("format_version", 1)
    if not isinstance(version, int) or version > RUN_FORMAT_VERSION:
        raise ValueError(f"{path} has format version {version!r}; upgrade latentmodels to read it")
    return document


def load_run_data(
    run_info: Mapping[str, Any], part: str = "test"
) -> tuple[np.ndarray, np.ndarray | None]:
    """Reload the held-out (or the training) data of a run from what ``run.json`` recorded.

    Uses ``data.source`` (a dataset name or path), ``data.limit`` (first N samples) and
    ``data.test_fraction``/``data.split_seed``.

    Parameters
    ----------
    run_info : mapping
        The run's record, as from :func:`read_run`.
    part : {"test", "train"}, default="test"
        Which side of the run's split to return.

    Returns
    -------
    X : numpy.ndarray
        That part of the data (all of it if the run had no split).
    y : numpy.ndarray or None
        Its labels, if the dataset has any.

    Examples
    --------
    >>> info = {"data": {"source": "mnist", "limit": 100, "test_fraction": 0.2}}
    >>> X_test, y_test = load_run_data(info)
    >>> X_test.shape, y_test.shape
    ((20, 28, 28), (20,))
    >>> load_run_data(info, part="train")[0].shape
    (80, 28, 28)
    """
    if part not in ("test", "train"):
        raise ValueError(f"part must be 'test' or 'train', got {part!r}")
    data = run_info.get("data")
    if not isinstance(data, Mapping) or not data.get("source"):
        raise ValueError("run.json records no data source (data.source); pass X to write_report")
    X, y = load_dataset(data["source"])
    limit = data.get("limit")
    if limit:
        X, y = X[:limit], (None if y is None else y[:limit])
    fraction = float(data.get("test_fraction") or 0.0)
    if fraction > 0:
        train, test = held_out_split(len(X), fraction, int(data.get("split_seed", 0)))
        chosen = test if part == "test" else train
        X, y = X[chosen], (None if y is None else y[chosen])
    return X, y


def load_model(path: str | os.PathLike) -> Any:
    """Load any saved latentmodels model, HMMs included (their module is imported on demand).

    Parameters
    ----------
    path : str or os.PathLike
        A file written by a model's ``save``.

    Returns
    -------
    LatentModel
        The model.

    Examples
    --------
    >>> import os, tempfile
    >>> from latentmodels import VAE, datasets
    >>> X, _ = datasets.load_mnist()
    >>> vae = VAE(latent_dim=2, epochs=1, verbose=0, random_state=0).fit(X[:64])
    >>> path = vae.save(os.path.join(tempfile.mkdtemp(), MODEL_FILE))
    >>> type(load_model(path)).__name__
    'VAE'
    """
    try:
        return load(path)
    except ModelFileError as exc:
        if "unknown model class" not in str(exc):
            raise
        importlib.import_module(".hmm", __package__)  # registers the HMM classes
        return load(path)


def _split(n_docs: int, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    return held_out_split(n_docs, test_fraction, seed)


def _pick(values: list[str], index: np.ndarray) -> list[str]:
    return [values[i] for i in index]


def load_run_corpora(
    run_info: Mapping[str, Any], vocabulary: Any
) -> tuple[TextCorpus, TextCorpus, list[str] | None]:
    """The training and held-out documents of a text run, tokenised with the model's vocabulary.

    The source, limit and split come from what ``run.json`` records.

    Parameters
    ----------
    run_info : mapping
        The run's record; ``data.kind`` must be ``"text"``.
    vocabulary : Vocabulary
        The model's vocabulary (``lda.vocabulary_``).

    Returns
    -------
    train, held_out : TextCorpus
        The two parts of the corpus.
    held_out_labels : list of str or None
        The labels of the held-out documents, if the run recorded a label field.

    Examples
    --------
    >>> info = {"data": {"kind": "text", "source": "newsgroups", "limit": 20,
    ...                  "test_fraction": 0.25}}
    >>> vocabulary = TextCorpus.from_texts(["a few words"]).vocabulary
    >>> train, test, labels = load_run_corpora(info, vocabulary)
    >>> len(train), len(test), len(labels)
    (15, 5, 5)
    """
    data = run_info.get("data") or {}
    if data.get("kind") != "text":
        raise ValueError("run.json does not describe a text run (data.kind is not 'text')")
    texts = load_texts(str(data["source"]), text_field=data.get("text_field", "text"),
                       label_field=data.get("label_field"), limit=data.get("limit"))
    train, test = _split(len(texts.texts), float(data.get("test_fraction", 0.0)),
                         int(data.get("split_seed", 0)))
    labels = None if texts.labels is None else _pick(texts.labels, test)
    return (TextCorpus.from_texts(_pick(texts.texts, train), vocabulary=vocabulary),
            TextCorpus.from_texts(_pick(texts.texts, test), vocabulary=vocabulary), labels)


def recorded_source(source: str) -> str:
    """How ``run.json`` records a data source, so the run can reload its data from anywhere.

    Parameters
    ----------
    source : str
        A dataset name or a path.

    Returns
    -------
    str
        A dataset name unchanged, or the path made absolute.

    Examples
    --------
    >>> recorded_source("mnist")
    'mnist'
    >>> os.path.isabs(recorded_source("data/my.npz"))
    True
    """
    key = source.strip().lower().replace("_", "-")
    if key in DATASET_NAMES or key == "fashionmnist":
        return source
    return str(Path(source).expanduser().resolve())


def data_checksum(*parts: Any) -> str:
    """A SHA-256 of a run's data as loaded (arrays, or lists of texts), recorded in run.json.

    Two runs with equal checksums saw the same numbers in the same order; ``rerun`` compares
    them to tell whether the data changed since the run was recorded. None parts are skipped.

    Parameters
    ----------
    *parts : numpy.ndarray, list of str or None
        The data and labels (or texts and labels, or observations and lengths).

    Returns
    -------
    str
        ``"sha256:"`` and 64 hex digits.

    Examples
    --------
    >>> a = data_checksum(np.zeros((2, 3), np.float32), None)
    >>> a == data_checksum(np.zeros((2, 3), np.float32)), a == data_checksum(np.ones((2, 3)))
    (True, False)
    >>> data_checksum(["a text"])[:7]
    'sha256:'
    """
    digest = hashlib.sha256()
    for part in parts:
        if part is None:
            continue
        if isinstance(part, np.ndarray):
            array = np.ascontiguousarray(part)
            digest.update(f"{array.dtype.str}{array.shape}".encode())
            digest.update(array.tobytes())
        else:
            items = [str(item) for item in part]
            digest.update(f"texts{len(items)}".encode())
            for item in items:
                encoded = item.encode("utf-8", "surrogatepass")
                digest.update(len(encoded).to_bytes(8, "little"))
                digest.update(encoded)
    return "sha256:" + digest.hexdigest()
