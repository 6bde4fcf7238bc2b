"""A hidden Markov model run: fit on sequences (the number of states by BIC when not
given), record the fit, save, report."""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any

from sklearn.exceptions import ConvergenceWarning

from ..datasets.series import series_spec
from ..hmm import select_n_states
from ..report import write_report
from ..rundir import MODEL_FILE, data_checksum, run_header, write_run
from .defaults import HMM_MAX_STATES, HMM_N_ITER, HMM_TOL

__all__ = ["HMM_MAX_STATES", "HMM_N_ITER", "HMM_TOL", "fit_hmm_run"]


def fit_hmm_run(
    series: Any,
    template: Any,
    n_states: int | None,
    *,
    out: Path,
    command: list[str],
    max_states: int = HMM_MAX_STATES,
    report: bool = True,
    resume: bool = False,
) -> dict[str, Any]:
    """Fit an HMM on ``series``, save ``model.lm`` and ``run.json`` into ``out``, write the report.

    The number of states is chosen by BIC when ``n_states`` is None.

    Parameters
    ----------
    series : SeriesData
        The observations (see :func:`latentmodels.datasets.series.load_series`).
    template : HMM
        An unfitted HMM whose hyper-parameters are used.
    n_states : int or None
        Number of hidden states; None picks it by BIC from 1 to ``max_states``.
    out : pathlib.Path
        The run directory.
    command : list of str
        The command that repeats the run.
    max_states : int, default=6
        Largest number of states tried by BIC.
    report : bool, default=True
        Also write ``report.html``.
    resume : bool, default=False
        Continue from the checkpoints in the template's ``checkpoint_dir``.

    Returns
    -------
    dict
        The contents of ``run.json``.

    Examples
    --------
    >>> import tempfile
    >>> from latentmodels.hmm import GaussianHMM
    >>> from latentmodels.datasets.series import load_series
    >>> info = fit_hmm_run(load_series("geyser", ["waiting", "duration"]),
    ...                    GaussianHMM(n_iter=50, random_state=0), None,
    ...                    out=Path(tempfile.mkdtemp()), command=[], max_states=3,
    ...                    report=False)
    >>> info["metrics"]["n_states"] in (1, 2, 3)
    True
    """
    X, lengths = series.X, series.lengths
    n_obs = len(X)
    selection: dict[str, Any] | None = None
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if n_states is None:
            if max_states < 1:
                raise ValueError(f"--max-states must be >= 1, got {max_states}")
            candidates = range(1, min(max_states, n_obs) + 1)
            model, scores = select_n_states(template, X, lengths, n_states=candidates,
                                            resume=resume)
            selection = {"criterion": "bic", "scores": {str(k): v for k, v in scores.items()}}
        else:
            if n_states > n_obs:
                raise ValueError(f"--states {n_states} is more than the {n_obs} observations")
            model = template.set_params(n_components=n_states).fit(X, lengths, resume=resume)
    seconds = time.perf_counter() - started
    loglik = float(model.score(X, lengths))
    metrics: dict[str, Any] = {
        "n_states": int(model.n_components),
        "log_likelihood_per_step": loglik / n_obs,
        "log_likelihood": loglik,
        "bic": float(model.bic(X, lengths)),
        "aic": float(model.aic(X, lengths)),
        "em_iterations": int(model.n_iter_),
        "converged": bool(model.monitor_.converged),
        "n_observations": n_obs,
        "n_sequences": series.n_sequences,
        "train_seconds": round(seconds, 2),
    }
    model.save(out / MODEL_FILE)
    info: dict[str, Any] = {
        **run_header(command, model),
        "data": {**series_spec(series), "checksum": data_checksum(X, lengths)},
        "metrics": metrics,
    }
    if selection is not None:
        info["selection"] = selection
    write_run(out, info)
    if report:
        write_report(out, model, series.X, metrics=metrics, lengths=series.lengths)
    return info
