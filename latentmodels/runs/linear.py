"""A linear-baseline run (PCA, probabilistic PCA, factor analysis): split the data, fit,
score the held-out part (Gaussian log-likelihood, reconstruction error, variance explained),
save, report."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from ..report import write_report
from ..rundir import MODEL_FILE, run_header, write_run
from ._arrays import data_record, split_arrays

__all__ = ["evaluate_linear", "fit_linear_run"]


def evaluate_linear(model: Any, X_test: np.ndarray) -> dict[str, float]:
    """Held-out metrics of a fitted linear model.

    Parameters
    ----------
    model : PCA, ProbabilisticPCA or FactorAnalysis
        A fitted linear model.
    X_test : numpy.ndarray
        Held-out data; empty gives no metrics.

    Returns
    -------
    dict
        ``test_log_likelihood`` (mean Gaussian log-density per sample, nats),
        ``test_reconstruction_mse`` (mean squared error per value of decode(encode(x))) and
        ``test_explained_variance`` (share of the held-out variance the reconstructions keep).

    Examples
    --------
    >>> from latentmodels import PCA, datasets
    >>> X, _ = datasets.load_mnist()
    >>> metrics = evaluate_linear(PCA(n_components=8).fit(X[:300]), X[300:400])
    >>> 0 < metrics["test_explained_variance"] < 1
    True
    """
    if len(X_test) == 0:
        return {}
    rows = np.asarray(X_test, dtype=np.float64).reshape(len(X_test), -1)
    rebuilt = np.asarray(model.reconstruct(X_test), dtype=np.float64).reshape(rows.shape)
    squared_error = float(np.mean((rows - rebuilt) ** 2))
    total = float(np.mean((rows - rows.mean(axis=0)) ** 2))
    return {
        "test_log_likelihood": float(np.mean(model.score_samples(X_test))),
        "test_reconstruction_mse": squared_error,
        "test_explained_variance": 1.0 - squared_error / total if total > 0 else 0.0,
    }


def fit_linear_run(
    model: Any,
    X: np.ndarray,
    y: np.ndarray | None,
    *,
    out: Path,
    source: str,
    limit: int | None,
    test_fraction: float,
    command: list[str],
    report: bool,
) -> dict[str, Any]:
    """Split, fit, evaluate, save ``model.lm`` and ``run.json`` into ``out``, write the report.

    Parameters
    ----------
    model : PCA, ProbabilisticPCA or FactorAnalysis
        An unfitted linear model.
    X, y : numpy.ndarray
        All the data and labels (``y`` may be None; it is only recorded and shown).
    out : pathlib.Path
        The run directory.
    source : str
        The data source, as recorded in ``run.json``.
    limit : int or None
        The number of samples ``X`` was cut to, recorded.
    test_fraction : float
        Share of ``X`` held out for evaluation.
    command : list of str
        The command that repeats the run.
    report : bool
        Also write ``report.html``.

    Returns
    -------
    dict
        The contents of ``run.json``.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from latentmodels import PCA, datasets
    >>> X, y = datasets.load_mnist()
    >>> out = Path(tempfile.mkdtemp())
    >>> info = fit_linear_run(PCA(n_components=4), X[:200], y[:200], out=out, source="mnist",
    ...                       limit=200, test_fraction=0.2, command=[], report=False)
    >>> info["metrics"]["n_test"], sorted(p.name for p in out.iterdir())
    (40, ['model.lm', 'run.json'])
    """
    X_train, X_test, _, y_test = split_arrays(X, y, test_fraction)
    n_features = int(np.prod(X.shape[1:]))
    n_components = getattr(model, "n_components", None)
    if isinstance(n_components, int) and n_components > min(len(X_train), n_features):
        raise ValueError(f"--components {n_components} is more than the {len(X_train)} training "
                         f"samples or {n_features} features allow")
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    model.fit(X_train)
    seconds = time.perf_counter() - started
    metrics: dict[str, Any] = {}
    ratio = getattr(model.estimator_, "explained_variance_ratio_", None)
    if ratio is not None:
        metrics["train_explained_variance"] = float(np.sum(ratio))
    metrics.update(evaluate_linear(model, X_test))
    metrics.update({"train_seconds": round(seconds, 2), "n_train": len(X_train),
                    "n_test": len(X_test)})
    model.save(out / MODEL_FILE)
    info = {
        **run_header(command, model),
        "data": data_record(X, y, source=source, limit=limit, test_fraction=test_fraction),
        "metrics": metrics,
    }
    write_run(out, info)
    if report:
        write_report(out, model, X_test, y_test, metrics)
    return info
