"""A deep-model run (autoencoders, VAEs): split the data, fit, score the held-out part
(ELBO and IWAE NLL for VAEs, reconstruction error otherwise), save, report."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from ..plots import is_conditional
from ..report import write_report
from ..rundir import MODEL_FILE, run_header, write_run
from ._arrays import data_record, split_arrays
from .defaults import DEFAULT_TEST_FRACTION, IWAE_SAMPLES, SPLIT_SEED

__all__ = ["DEFAULT_TEST_FRACTION", "IWAE_SAMPLES", "SPLIT_SEED", "evaluate_held_out",
           "fit_deep_run"]


def evaluate_held_out(model: Any, X_test: np.ndarray, y_test: np.ndarray | None, iwae: int,
                      verbose: int = 0) -> dict:
    """Held-out metrics: ELBO and IWAE NLL for VAEs, reconstruction error otherwise.

    Parameters
    ----------
    model : LatentModel
        A fitted deep model.
    X_test : numpy.ndarray
        Held-out data; empty gives no metrics.
    y_test : numpy.ndarray or None
        Held-out labels, passed to conditional models.
    iwae : int
        Importance samples of the IWAE bound; 0 skips it.
    verbose : int, default=0
        1 shows a progress bar while the IWAE bound is computed.

    Returns
    -------
    dict
        ``test_elbo`` (and ``test_nll_iwae``, ``iwae_samples``) for models with
        ``log_likelihood``, else ``test_reconstruction_error``.

    Examples
    --------
    >>> from latentmodels import VAE, datasets
    >>> X, y = datasets.load_mnist()
    >>> vae = VAE(latent_dim=2, epochs=1, verbose=0, random_state=0).fit(X[:64])
    >>> sorted(evaluate_held_out(vae, X[64:96], y[64:96], iwae=2))
    ['iwae_samples', 'test_elbo', 'test_nll_iwae']
    """
    if len(X_test) == 0:
        return {}
    labels = y_test if is_conditional(model) else None
    extra = {} if labels is None else {"y": labels}
    if callable(getattr(model, "log_likelihood", None)):
        metrics = {"test_elbo": float(np.mean(model.score_samples(X_test, **extra)))}
        if iwae > 0:
            shown = {"verbose": verbose} if verbose else {}
            log_px = model.log_likelihood(X_test, **extra, n_importance=iwae, **shown)
            metrics["test_nll_iwae"] = float(-np.mean(log_px))
            metrics["iwae_samples"] = iwae
        return metrics
    return {"test_reconstruction_error": float(-np.mean(model.score_samples(X_test, **extra)))}


def fit_deep_run(
    model: Any,
    X: np.ndarray,
    y: np.ndarray | None,
    *,
    out: Path,
    source: str,
    limit: int | None,
    test_fraction: float,
    command: list[str],
    resume: bool,
    iwae: int,
    report: bool,
) -> dict[str, Any]:
    """Split, fit, evaluate, save ``model.lm`` and ``run.json`` into ``out``, write the report.

    Parameters
    ----------
    model : LatentModel
        An unfitted deep model (VAE, autoencoder, ...).
    X, y : numpy.ndarray
        All the data and labels (``y`` may be None).
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
    resume : bool
        Continue from the checkpoints in ``out``.
    iwae : int
        Importance samples of the held-out IWAE bound (0 skips it).
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
    >>> from latentmodels import VAE, datasets
    >>> X, y = datasets.load_mnist()
    >>> out = Path(tempfile.mkdtemp())
    >>> info = fit_deep_run(VAE(latent_dim=2, epochs=1, verbose=0, random_state=0),
    ...                     X[:200], y[:200], out=out, source="mnist", limit=200,
    ...                     test_fraction=0.2, command=[], resume=False, iwae=0, report=False)
    >>> sorted(info["metrics"])[:2], sorted(p.name for p in out.iterdir())
    (['best_epoch', 'epochs_run'], ['model.lm', 'run.json'])
    """
    X_train, X_test, y_train, y_test = split_arrays(X, y, test_fraction)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    model.fit(X_train, y_train, resume=resume)
    seconds = time.perf_counter() - started
    history = getattr(model, "history_", [])
    metrics: dict[str, Any] = {}
    if history:
        metrics["train_loss"] = float(history[-1]["loss"])
        best = int(getattr(model, "best_epoch_", len(history) - 1))
        if "val_loss" in history[best]:
            metrics["val_loss"] = float(history[best]["val_loss"])
        metrics["best_epoch"] = best + 1
        metrics["epochs_run"] = len(history)
    metrics.update(evaluate_held_out(model, X_test, y_test, iwae,
                                     verbose=int(getattr(model, "verbose", 0) or 0)))
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


