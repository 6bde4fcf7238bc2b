"""A GAN run: split, fit, score samples against held-out images in the feature space of a
judge classifier trained on the training split, save, report."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from .._internal.checkpoints import array_digest
from .._internal.files import user_cache_dir
from .._internal.io import atomic_write_bytes
from ..deep.gan import ConditionalGAN
from ..metrics import FeatureClassifier, sample_quality
from ..report import write_report
from ..rundir import MODEL_FILE, run_header, write_run
from ._arrays import data_record, split_arrays
from .defaults import JUDGE_FILE, QUALITY_SAMPLES

__all__ = ["JUDGE_FILE", "QUALITY_SAMPLES", "fit_gan_run", "judge_cache_dir", "load_or_fit_judge"]


def _judgeable(X: np.ndarray, y: np.ndarray | None) -> bool:
    """The judge classifier reads labelled 28x28 grey images."""
    return y is not None and X.ndim == 3 and X.shape[1:] == (28, 28)


def judge_cache_dir() -> Path:
    """Where judges trained by earlier runs are kept: ``$XDG_CACHE_HOME/latentmodels/judges``
    (``~/.cache`` when unset), the folder the datasets cache under.

    Examples
    --------
    >>> judge_cache_dir().parts[-2:]
    ('latentmodels', 'judges')
    """
    return user_cache_dir() / "judges"


def load_or_fit_judge(out: Path, X_train: np.ndarray, y_train: np.ndarray) -> FeatureClassifier:
    """The judge classifier for this training split, saved in the run folder as ``judge.lm``.

    Training it takes some 20 s on the 6,400 embedded digits, and every run on the same data
    would train the same judge, so it is also kept in :func:`judge_cache_dir` under a digest
    of the training images and labels: a later run on the same split loads it (after
    :meth:`FeatureClassifier.load_or_fit` has checked the data's fingerprint and the
    hyper-parameters). An unwritable cache only costs the time.

    Examples
    --------
    >>> import tempfile
    >>> from latentmodels import datasets
    >>> X, y = datasets.load_mnist()
    >>> judge = load_or_fit_judge(Path(tempfile.mkdtemp()), X[:100], y[:100])  # trains
    >>> again = load_or_fit_judge(Path(tempfile.mkdtemp()), X[:100], y[:100])  # loads
    >>> bool((judge.features(X[:3]) == again.features(X[:3])).all())
    True
    """
    cached = judge_cache_dir() / f"{array_digest(X_train, y_train)[:32]}.lm"
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        classifier = FeatureClassifier.load_or_fit(cached, X_train, y_train, random_state=0)
        atomic_write_bytes(out / JUDGE_FILE, cached.read_bytes())
    except OSError:  # a read-only or full cache: train in the run folder alone
        classifier = FeatureClassifier.load_or_fit(out / JUDGE_FILE, X_train, y_train,
                                                   random_state=0)
    return classifier


def fit_gan_run(
    model: Any,
    X: np.ndarray,
    y: np.ndarray | None,
    *,
    out: Path,
    source: str,
    command: list[str],
    test_fraction: float = 0.2,
    limit: int | None = None,
    resume: bool = False,
    judge: bool = True,
    report: bool = True,
) -> dict[str, Any]:
    """Split, fit a GAN, score its samples, save ``model.lm`` and ``run.json``, write the report.

    The samples are scored against held-out images with a judge
    :class:`~latentmodels.metrics.FeatureClassifier` trained on the training split (saved
    as ``judge.lm``; reused from :func:`judge_cache_dir` when an earlier run trained it on
    the same split).

    Parameters
    ----------
    model : GAN or ConditionalGAN
        The unfitted model.
    X, y : numpy.ndarray
        All the images and labels (``y`` may be None).
    out : pathlib.Path
        The run directory.
    source : str
        The data source, as recorded in ``run.json``.
    command : list of str
        The command that repeats the run.
    test_fraction : float, default=0.2
        Share of images held out for scoring.
    limit : int, optional
        The number of samples ``X`` was cut to, recorded.
    resume : bool, default=False
        Continue from the checkpoints in ``out``.
    judge : bool, default=True
        Train the judge classifier and record ``sample_quality``.
    report : bool, default=True
        Also write ``report.html``.

    Returns
    -------
    dict
        The contents of ``run.json``.

    Examples
    --------
    >>> import tempfile
    >>> from latentmodels import GAN, datasets
    >>> X, y = datasets.load_mnist()
    >>> gan = GAN(latent_dim=4, architecture="mlp", hidden_dims=(32,), epochs=1, verbose=0,
    ...           random_state=0)
    >>> info = fit_gan_run(gan, X[:100], y[:100], out=Path(tempfile.mkdtemp()),
    ...                    source="mnist", command=[], judge=False, report=False)
    >>> info["model"]["class"]
    'GAN'
    """
    conditional = isinstance(model, ConditionalGAN)
    X_train, X_test, y_train, y_test = split_arrays(X, y, test_fraction)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    if conditional:
        model.fit(X_train, y_train, resume=resume)
    else:
        model.fit(X_train, resume=resume)
    seconds = time.perf_counter() - started
    history = model.history_
    metrics: dict[str, Any] = {
        "epochs_run": len(history),
        "final_d_loss": float(history[-1]["d_loss"]),
        "final_g_loss": float(history[-1]["g_loss"]),
        "train_seconds": round(seconds, 2),
        "n_train": len(X_train),
        "n_test": len(X_test),
    }
    quality = None
    if judge and len(X_test) and _judgeable(X, y):
        classifier = load_or_fit_judge(out, X_train, y_train)
        n = min(QUALITY_SAMPLES, len(X_test))
        if conditional:
            labels = np.asarray(model.classes_)[np.arange(n) % len(model.classes_)]
            samples = model.sample(n, y=labels, random_state=0)
        else:
            samples = model.sample(n, random_state=0)
        quality = sample_quality(samples, X_test[:n], classifier)
        metrics.update({"frechet_distance": quality["frechet"],
                        "precision": quality["precision"], "recall": quality["recall"],
                        "classes_covered": quality["classes_covered"]})
    model.save(out / MODEL_FILE)
    info: dict[str, Any] = {
        **run_header(command, model),
        "data": data_record(X, y, source=source, limit=limit, test_fraction=test_fraction),
        "metrics": metrics,
    }
    if quality is not None:
        info["sample_quality"] = {k: (v.tolist() if isinstance(v, np.ndarray) else v)
                                  for k, v in quality.items()}
    write_run(out, info)
    if report:
        write_report(out, model, X_test, y_test, metrics)
    return info
