"""The HTML report of a training run, and the run directory it lives in.

A run directory holds ``model.lm`` (the saved model), ``run.json`` (what was trained on, how,
and the metrics) and, once written, ``report.html`` with its PNG figures beside it. The page is
self-contained: every figure is embedded as a base64 data URI, so it can be mailed or archived.

The report is a list of section builders (:data:`SECTIONS`). Each takes a
:class:`ReportContext` and returns a :class:`Section` or ``None`` when it does not apply, so a
model family adds its own pictures by appending a builder:

>>> from latentmodels import report  # doctest: +SKIP
>>> def topics(ctx):  # doctest: +SKIP
...     if not hasattr(ctx.model, "components_"):
...         return None
...     return report.Section("topics", "Topics", "<p>...</p>")
>>> report.SECTIONS.append(topics)  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import json
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from .. import __version__, plots
from .._internal.io import atomic_write_bytes, atomic_write_text, to_jsonable

__all__ = [
    "MODEL_FILE",
    "REPORT_FILE",
    "RUN_FILE",
    "SECTIONS",
    "ReportContext",
    "encodes",
    "Section",
    "held_out_split",
    "hmm_section",
    "is_hmm",
    "load_model",
    "load_run_data",
    "read_run",
    "run_header",
    "write_report",
    "write_run",
]

MODEL_FILE = "model.lm"
RUN_FILE = "run.json"
REPORT_FILE = "report.html"
RUN_FORMAT_VERSION = 1
# Bounds on what a report draws, so it stays quick on a laptop whatever the data size.
_MAX_MAP_POINTS = 2000
_MAX_REFERENCE = 1000
_MAX_TSNE_POINTS = 1000


# -- run directories -------------------------------------------------------------------------
def held_out_split(
    n_samples: int, test_fraction: float, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(train, test)`` of a seeded random split; equal arguments give equal splits.

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
    """The first entries of every ``run.json``: when, which version, the command that
    repeats the run, and the model's class and hyper-parameters.

    >>> sorted(run_header(["latentmodels", "demo"], None))
    ['command', 'created', 'latentmodels_version', 'model']
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
    """Write ``run.json`` into ``run_dir`` (atomically) and return its path.

    >>> write_run("runs/x", {"data": {"source": "mnist"}, "metrics": {}})  # doctest: +SKIP
    """
    document = {"format_version": RUN_FORMAT_VERSION, **to_jsonable(dict(info))}
    text = json.dumps(document, indent=2, sort_keys=False, allow_nan=True) + "\n"
    return atomic_write_text(Path(run_dir) / RUN_FILE, text)


def read_run(run_dir: str | os.PathLike) -> dict[str, Any]:
    """Read ``run.json`` of a run directory; clear errors for a missing or broken file.

    >>> read_run("runs/demo")["metrics"]  # doctest: +SKIP
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


def load_run_data(run_info: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray | None]:
    """Reload the held-out data of a run from what ``run.json`` recorded.

    Uses ``data.source`` (a dataset name or path), ``data.limit`` (first N samples) and
    ``data.test_fraction``/``data.split_seed``; returns the test part (all data if no split).

    >>> X_test, y_test = load_run_data(read_run("runs/demo"))  # doctest: +SKIP
    """
    from ..datasets import load_dataset

    data = run_info.get("data")
    if not isinstance(data, Mapping) or not data.get("source"):
        raise ValueError("run.json records no data source (data.source); pass X to write_report")
    X, y = load_dataset(data["source"])
    limit = data.get("limit")
    if limit:
        X, y = X[:limit], (None if y is None else y[:limit])
    fraction = float(data.get("test_fraction") or 0.0)
    if fraction > 0:
        _, test = held_out_split(len(X), fraction, int(data.get("split_seed", 0)))
        X, y = X[test], (None if y is None else y[test])
    return X, y


# -- sections ----------------------------------------------------------------------------------
@dataclass
class ReportFigure:
    """One picture in a section: written as ``filename`` beside the report and embedded."""

    filename: str
    figure: Figure
    caption: str = ""


@dataclass
class Section:
    """A part of the report: an anchor id, a heading, HTML text and figures."""

    id: str
    title: str
    html: str = ""
    figures: list[ReportFigure] = field(default_factory=list)


@dataclass
class ReportContext:
    """Everything a section builder may use. ``X``/``y`` are held-out data (may be None)."""

    run_dir: Path
    model: Any
    X: np.ndarray | None
    y: np.ndarray | None
    metrics: dict[str, Any]
    run_info: dict[str, Any]
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def conditional(self) -> bool:
        """True for models that take labels (their ``transform`` has a ``y`` argument)."""
        return self.model is not None and plots.is_conditional(self.model)

    @property
    def is_image_data(self) -> bool:
        """True when samples can be drawn as pictures."""
        if self.X is None or is_hmm(self.model):
            return False
        try:
            plots.as_images(self.X[:1])
        except ValueError:
            return False
        return True

    def reference(self) -> tuple[np.ndarray, np.ndarray | None]:
        """A bounded slice of the held-out data, for statistics over codes."""
        assert self.X is not None
        n = min(len(self.X), _MAX_REFERENCE)
        return self.X[:n], None if self.y is None else self.y[:n]


SectionBuilder = Callable[[ReportContext], "Section | None"]


def _has(model: Any, *methods: str) -> bool:
    return model is not None and all(callable(getattr(model, m, None)) for m in methods)


def encodes(model: Any) -> bool:
    """True when ``model.transform`` is a direct encoder. A GAN's ``transform`` inverts its
    generator by optimisation (``transform_is_approximate``): too slow and too rough for the
    sections built on codes of held-out data.

    >>> encodes(None)
    False
    """
    return _has(model, "transform") and not getattr(model, "transform_is_approximate", False)


def _format_value(value: Any) -> str:
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return f"{value:.4g}" if abs(value) < 1e4 else f"{value:,.1f}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_format_value(v) for v in value)
    return str(value)


def _table(rows: Mapping[str, Any], headers: tuple[str, str] | None = None) -> str:
    body = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(_format_value(v))}</td></tr>"
        for k, v in rows.items()
    )
    if headers is None:
        return f"<table><tbody>{body}</tbody></table>"
    head = f"<tr><th>{html.escape(headers[0])}</th><th>{html.escape(headers[1])}</th></tr>"
    return f"<table><thead>{head}</thead><tbody>{body}</tbody></table>"


_METRIC_LABELS = {
    "test_nll_iwae": "test NLL, IWAE (nats, lower is better)",
    "test_elbo": "test ELBO (nats, higher is better)",
    "test_reconstruction_error": "test reconstruction error (lower is better)",
    "train_loss": "final training loss",
    "val_loss": "best validation loss",
    "iwae_samples": "IWAE importance samples",
    "best_epoch": "best epoch (kept weights)",
    "epochs_run": "epochs run",
    "train_seconds": "training time (s)",
    "n_train": "training samples",
    "n_test": "held-out test samples",
    "n_states": "hidden states",
    "log_likelihood_per_step": "log-likelihood per step (nats, training data)",
    "log_likelihood": "log-likelihood (nats, training data)",
    "bic": "BIC (lower is better)",
    "aic": "AIC (lower is better)",
    "em_iterations": "EM iterations",
    "n_observations": "observations (steps)",
    "n_sequences": "sequences",
    "perplexity": "held-out perplexity, document completion (lower is better)",
    "nats_per_token": "held-out nats per token (lower is better)",
    "mean_npmi": "mean NPMI coherence, top 10 words (higher is better)",
    "mean_umass": "mean UMass coherence, top 10 words (higher is better)",
    "topic_diversity": "topic diversity, top 25 words",
    "n_topics": "topics",
    "iterations": "passes (VB) or sweeps (Gibbs)",
    "n_train_docs": "training documents",
    "n_test_docs": "held-out documents",
    "vocabulary_size": "vocabulary size",
    "train_tokens": "training tokens",
}


def summary_section(ctx: ReportContext) -> Section:
    """What was trained, on what, and how well."""
    info = ctx.run_info
    data = info.get("data") or {}
    facts: dict[str, Any] = {}
    if ctx.model is not None:
        facts["model"] = type(ctx.model).__name__
    if data.get("source"):
        facts["data"] = data["source"]
    if info.get("command"):
        facts["command"] = info["command"]
    if info.get("created"):
        facts["created"] = info["created"]
    facts["latentmodels"] = info.get("latentmodels_version", __version__)
    text = _table(facts)
    metrics = {_METRIC_LABELS.get(k, k): v for k, v in ctx.metrics.items()}
    if metrics:
        text += "<h3>Metrics</h3>" + _table(metrics, ("metric", "value"))
    else:
        text += "<p class='note'>No metrics were recorded for this run.</p>"
    return Section("summary", "Summary", text)


def parameters_section(ctx: ReportContext) -> Section | None:
    """The model's hyper-parameters, as ``get_params`` reports them."""
    if not _has(ctx.model, "get_params"):
        return None
    params = ctx.model.get_params(deep=False)
    return Section("parameters", "Hyper-parameters", _table(params, ("parameter", "value")))


def training_section(ctx: ReportContext) -> Section | None:
    """Loss curves from the model's per-epoch history."""
    history = getattr(ctx.model, "history_", None)
    if not history:
        return None
    fig = plots.plot_training_curves(history)
    caption = "Per-epoch training and validation loss; the dotted line marks the kept weights."
    return Section("training", "Training curves", figures=[
        ReportFigure("training_curves.png", fig, caption)])


def reconstructions_section(ctx: ReportContext) -> Section | None:
    """Held-out samples against their reconstructions."""
    if not (ctx.is_image_data and encodes(ctx.model) and _has(ctx.model, "inverse_transform")):
        return None
    fig = plots.plot_reconstructions(ctx.model, ctx.X[:16], None if ctx.y is None else ctx.y[:16],
                                     n=16)
    return Section("reconstructions", "Reconstructions", figures=[ReportFigure(
        "reconstructions.png", fig, "Top: held-out samples. Bottom: decode(encode(x)).")])


def samples_section(ctx: ReportContext) -> Section | None:
    """New samples drawn from the model."""
    if not (ctx.is_image_data and _has(ctx.model, "sample")):
        return None
    classes = getattr(ctx.model, "classes_", None) if ctx.conditional else None
    if classes is not None:
        ncols = len(classes)
        n = ncols * max(1, min(8, 80 // ncols))
        fig = plots.plot_samples(ctx.model, n, ncols=ncols, random_state=0)
        caption = "Column k is generated for class " + ", ".join(map(str, classes)) + " in order."
    else:
        fig = plots.plot_samples(ctx.model, 64, random_state=0)
        caption = "64 new samples: prior draws decoded (decoder means)."
    return Section("samples", "Samples", figures=[ReportFigure("samples.png", fig, caption)])


def _interpolation_pairs(y: np.ndarray | None, n: int, conditional: bool) -> list[tuple[int, int]]:
    """Up to four pairs: different classes (or the same class for conditional models)."""
    if y is None:
        return [(2 * k, 2 * k + 1) for k in range(min(4, n // 2))]
    pairs: list[tuple[int, int]] = []
    classes = list(dict.fromkeys(np.asarray(y).tolist()))
    for k, cls in enumerate(classes):
        first = int(np.flatnonzero(y == cls)[0])
        if conditional:
            same = np.flatnonzero(y == cls)
            if len(same) > 1:
                pairs.append((first, int(same[1])))
        elif k + 1 < len(classes):
            pairs.append((first, int(np.flatnonzero(y == classes[k + 1])[0])))
        if len(pairs) == 4:
            break
    return pairs


def interpolations_section(ctx: ReportContext) -> Section | None:
    """Decoded paths through latent space between pairs of held-out samples."""
    if not (ctx.is_image_data and encodes(ctx.model) and _has(ctx.model, "inverse_transform")):
        return None
    X, y = ctx.reference()
    pairs = _interpolation_pairs(y, len(X), ctx.conditional)
    if not pairs:
        return None
    figures = [
        ReportFigure("interpolations.png", plots.plot_interpolations(ctx.model, X, pairs, y),
                     "Linear paths between held-out samples (row label: their indices)."),
        ReportFigure("interpolations_spherical.png",
                     plots.plot_interpolations(ctx.model, X, pairs, y, method="spherical"),
                     "The same pairs along spherical (slerp) paths."),
    ]
    return Section("interpolations", "Interpolations", figures=figures)


def latent_map_section(ctx: ReportContext) -> Section | None:
    """Held-out codes in 2-D, coloured by label."""
    if ctx.X is None or not encodes(ctx.model) or is_hmm(ctx.model):
        return None
    if ctx.conditional and ctx.y is None:
        return None
    fig = plots.plot_latent_map(ctx.model, ctx.X, ctx.y, max_points=_MAX_MAP_POINTS)
    caption = "Codes (posterior means for VAEs) of held-out samples, projected to 2-D with PCA."
    figures = [ReportFigure("latent_map.png", fig, caption)]
    latent_dim = getattr(ctx.model, "latent_dim", None)
    if ctx.options.get("tsne", True) and len(ctx.X) >= 10 and latent_dim != 2:
        # t-SNE shows the cluster structure PCA squashes; 1,000 points keep it to seconds.
        fig = plots.plot_latent_map(ctx.model, ctx.X, ctx.y, method="tsne",
                                    max_points=_MAX_TSNE_POINTS)
        figures.append(ReportFigure(
            "latent_map_tsne.png", fig,
            f"The same codes embedded with t-SNE (at most {_MAX_TSNE_POINTS:,} samples)."))
    return Section("latent-map", "Latent map", figures=figures)


def traversal_section(ctx: ReportContext) -> Section | None:
    """Vary one latent dimension at a time; the dimensions the model uses most are shown."""
    if not (ctx.is_image_data and encodes(ctx.model) and _has(ctx.model, "inverse_transform")):
        return None
    X, y = ctx.reference()
    label = None if y is None else y[0]
    if ctx.conditional and label is None:
        return None
    reference_y = y if ctx.conditional else None
    fig = plots.plot_traversal(ctx.model, X[0], label=label, reference=X, reference_y=reference_y)
    caption = ("Rows: the latent dimensions that vary most over held-out codes. Columns: the "
               "first held-out sample's code shifted by multiples of that dimension's spread.")
    return Section("traversal", "Latent traversal", figures=[
        ReportFigure("traversal.png", fig, caption)])


def manifold_section(ctx: ReportContext) -> Section | None:
    """For 2-D latent spaces: the decoded grid."""
    if not (ctx.is_image_data and _has(ctx.model, "inverse_transform")):
        return None
    if getattr(ctx.model, "latent_dim", None) != 2:
        return None
    X, y = ctx.reference()
    label = None
    if ctx.conditional:
        if y is None:
            return None
        label = y[0]
    # A VAE's codes follow its N(0, I) prior; other models are gridded over their own codes.
    from_prior = callable(getattr(ctx.model, "log_likelihood", None))
    fig = plots.plot_manifold(ctx.model, y=label, reference=None if from_prior else X,
                              reference_y=y if ctx.conditional else None)
    return Section("manifold", "Decoded latent manifold", figures=[
        ReportFigure("manifold.png", fig, "An evenly spaced grid over the 2-D latent space.")])


# -- hidden Markov models ----------------------------------------------------------------------
_HMM_MAX_STEPS_SHOWN = 3000
_HMM_MAX_FEATURES_SHOWN = 4


def is_hmm(model: Any) -> bool:
    """True for hidden Markov models (they have start and transition probabilities).

    >>> is_hmm(None)
    False
    """
    return model is not None and hasattr(model, "transmat_") and hasattr(model, "startprob_")


def _hmm_figures(model: Any, X: np.ndarray, lengths: Any, names: list[str],
                 categories: list[str] | None, prefix: str) -> tuple[list[ReportFigure], Any]:
    from matplotlib.figure import Figure

    from ..plots import hmm as plots_hmm

    states = model.predict(X, lengths)
    figures: list[ReportFigure] = []
    n_show = min(len(X), _HMM_MAX_STEPS_SHOWN)
    n_feat = min(X.shape[1], _HMM_MAX_FEATURES_SHOWN)
    fig = Figure(figsize=(10, 0.4 + 2.3 * n_feat), layout="constrained")
    axes = fig.subplots(n_feat, 1, squeeze=False, sharex=True)[:, 0]
    series = X[:n_show].astype(np.float64)
    for f, ax in enumerate(axes):
        plots_hmm.plot_states(series, states[:n_show], feature=f, ax=ax)
        ax.set_ylabel(names[f] if f < len(names) else f"feature {f}")
        if categories is not None:
            ax.set_yticks(range(len(categories)), categories)
        if f:
            ax.get_legend().remove()
        ax.set_xlabel("")
    axes[-1].set_xlabel("step")
    shown = "" if n_show == len(X) else f" (the first {n_show:,} of {len(X):,} steps)"
    figures.append(ReportFigure(f"{prefix}states.png", fig,
                                f"The series coloured by its Viterbi-decoded state{shown}."))
    if categories is None and X.shape[1] >= 2:
        fig = plots_hmm.plot_state_scatter(X, states, names=names)
        figures.append(ReportFigure(f"{prefix}state_scatter.png", fig,
                                    f"{names[0]} against {names[1]}, coloured by decoded state."))
    fig = plots_hmm.plot_transmat(model)
    figures.append(ReportFigure(
        f"{prefix}transmat.png", fig,
        "Transition matrix: row i gives P(next state | state i); the diagonal is persistence."))
    if categories is not None:
        fig = plots_hmm.plot_emission_densities(model)
        ax = fig.axes[0]
        K = model.n_components
        ax.set_xticks(np.arange(len(categories)) + 0.4 - 0.4 / K, categories)
        caption = "Emission probabilities: how likely each state emits each label."
    else:
        fig = Figure(figsize=(5.2 * min(n_feat, 2), 3.4 * ((n_feat + 1) // 2)),
                     layout="constrained")
        axes = fig.subplots((n_feat + 1) // 2, min(n_feat, 2), squeeze=False).ravel()
        for f in range(n_feat):
            ax = axes[f]
            ax.hist(X[:, f], bins=40, density=True, color="0.85", label="data")
            plots_hmm.plot_emission_densities(model, feature=f, ax=ax)
            ax.set_xlabel(names[f] if f < len(names) else f"feature {f}")
            ax.set_title("")
        for ax in axes[n_feat:]:
            ax.set_visible(False)
        caption = ("Per-state emission densities of each feature (each integrates to one, "
                   "whatever the state's share of time); grey: histogram of the data.")
    figures.append(ReportFigure(f"{prefix}emissions.png", fig, caption))
    history = list(getattr(getattr(model, "monitor_", None), "history", []) or [])
    if len(history) >= 2:
        fig = Figure(figsize=(5, 3), layout="constrained")
        ax = fig.subplots()
        ax.plot(np.arange(1, len(history) + 1), history, marker="o", markersize=3)
        ax.set_xlabel("EM iteration")
        ax.set_ylabel("log-likelihood")
        figures.append(ReportFigure(f"{prefix}em_history.png", fig,
                                    "Baum-Welch EM: the training log-likelihood never falls."))
    return figures, states


def _hmm_state_table(model: Any, X: np.ndarray, states: np.ndarray, names: list[str],
                     categories: list[str] | None) -> str:
    K = model.n_components
    counts = np.bincount(states, minlength=K)
    diag = np.clip(np.diag(np.asarray(model.transmat_)), 0.0, 1.0)
    head = ["state", "share of steps", "mean stay (steps)"]
    if categories is not None:
        head += ["most likely label", "its probability"]
    else:
        head += [f"mean {n}" for n in names[:_HMM_MAX_FEATURES_SHOWN]]
        head += [f"sd {n}" for n in names[:_HMM_MAX_FEATURES_SHOWN]]
    rows = []
    for k in range(K):
        stay = math.inf if diag[k] >= 1.0 else 1.0 / (1.0 - diag[k])
        cells = [str(k), f"{counts[k] / max(len(states), 1):.1%}", _format_value(float(stay))]
        if categories is not None:
            probs = np.asarray(model.emissionprob_)[k]
            top = int(np.argmax(probs))
            label = categories[top] if top < len(categories) else str(top)
            cells += [label, f"{probs[top]:.2f}"]
        else:
            means = np.asarray(model.means_)[k]
            sds = np.sqrt(np.diagonal(np.asarray(model.covars_)[k]))
            n = min(len(names), _HMM_MAX_FEATURES_SHOWN)
            cells += [_format_value(float(v)) for v in means[:n]]
            cells += [_format_value(float(v)) for v in sds[:n]]
        rows.append(cells)
    thead = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    tbody = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>"
                    for r in rows)
    return f"<table><thead><tr>{thead}</tr></thead><tbody>{tbody}</tbody></table>"


_HMM_METRICS = {
    "n_states": "hidden states",
    "log_likelihood_per_step": "log-likelihood per step (nats)",
    "bic": "BIC (lower is better)",
    "aic": "AIC (lower is better)",
    "em_iterations": "EM iterations",
    "converged": "EM converged",
    "n_observations": "observations",
    "n_sequences": "sequences",
}


def _hmm_section_for(model: Any, X: np.ndarray, lengths: Any, metrics: Mapping[str, Any],
                     run_info: Mapping[str, Any], *, section_id: str, title: str,
                     prefix: str) -> Section:
    data = run_info.get("data") or {}
    names = list(data.get("columns") or [f"feature {f}" for f in range(X.shape[1])])
    if data.get("log_returns"):
        names = [f"{n} log return (%)" for n in names]
    categories = data.get("categories")
    figures, states = _hmm_figures(model, X, lengths, names, categories, prefix)
    n_seq = 1 if lengths is None else len(lengths)
    what = ", ".join(names)
    text = (f"<p>A {model.n_components}-state {html.escape(type(model).__name__)} fitted by "
            f"Baum-Welch EM to {len(X):,} steps of <b>{html.escape(what)}</b> "
            f"({n_seq} sequence{'s' if n_seq != 1 else ''}"
            f"{', source ' + html.escape(str(data['source'])) if data.get('source') else ''}). "
            "States are numbered as the model learned them; the pictures below colour each "
            "state the same way.</p>")
    facts = {label: metrics[key] for key, label in _HMM_METRICS.items() if key in metrics}
    if not facts:
        facts = {"hidden states": model.n_components}
    text += "<h3>Fit</h3>" + _table(facts, ("metric", "value"))
    selection = run_info.get("selection")
    if isinstance(selection, Mapping) and selection.get("scores"):
        scores = {f"{k} state{'s' if str(k) != '1' else ''}"
                  + (" (chosen)" if int(k) == model.n_components else ""): float(v)
                  for k, v in selection["scores"].items()}
        criterion = str(selection.get("criterion", "bic")).upper()
        text += (f"<h3>Number of states by {html.escape(criterion)}</h3>"
                 + _table(scores, ("states", f"{criterion} (lower is better)")))
    text += "<h3>States</h3>" + _hmm_state_table(model, X, states, names, categories)
    return Section(section_id, title, text, figures)


def hmm_section(ctx: ReportContext) -> Section | None:
    """An HMM run's states, transitions and emissions; also the HMM part of a run whose
    ``run.json`` names a sub-run in ``hmm_run`` (the demo's Old Faithful model)."""
    if is_hmm(ctx.model):
        if ctx.X is None:
            return None
        X = np.asarray(ctx.X)
        if X.ndim == 1:
            X = X.reshape(-1, 1)
        return _hmm_section_for(ctx.model, X, ctx.options.get("lengths"), ctx.metrics,
                                ctx.run_info, section_id="hmm", title="Hidden Markov model",
                                prefix="")
    sub = ctx.run_info.get("hmm_run")
    if not sub:
        return None
    from ..runs.hmm import load_run_series

    sub_dir = ctx.run_dir / str(sub)
    title = str(ctx.run_info.get("hmm_title") or "Hidden Markov model")
    try:
        info = read_run(sub_dir)
        model = load_model(sub_dir / MODEL_FILE)
        series = load_run_series(info)
    except (FileNotFoundError, ValueError) as exc:
        return Section("hmm", title, f"<p class='note'>The HMM run {html.escape(str(sub_dir))} "
                                     f"could not be read: {html.escape(str(exc))}</p>")
    section = _hmm_section_for(model, series.X, series.lengths, info.get("metrics") or {}, info,
                               section_id="hmm", title=title, prefix="hmm_")
    command = info.get("command")
    if command:
        section.html += (f"<p class='note'>Model and run: {html.escape(str(sub_dir))} "
                         f"(same as <code>{html.escape(command)}</code>).</p>")
    return section


def load_model(path: str | os.PathLike) -> Any:
    """Load any saved latentmodels model, HMMs included (their module is imported on demand).

    >>> model = load_model("runs/demo/model.lm")  # doctest: +SKIP
    """
    from .._internal.io import ModelFileError
    from ..base import load

    try:
        return load(path)
    except ModelFileError as exc:
        if "unknown model class" not in str(exc):
            raise
        import importlib

        importlib.import_module(".hmm", __package__)  # registers the HMM classes
        return load(path)


#: The report, in order. Model families append (or insert) their own builders.
SECTIONS: list[SectionBuilder] = [
    summary_section,
    parameters_section,
    training_section,
    reconstructions_section,
    samples_section,
    interpolations_section,
    latent_map_section,
    traversal_section,
    manifold_section,
    hmm_section,
]


# -- the page ----------------------------------------------------------------------------------
_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #222;
       background: #fafafa; line-height: 1.45; }
header { background: #1f3a5f; color: white; padding: 1.2em 2em; }
header h1 { margin: 0 0 .2em 0; font-size: 1.6em; }
header p { margin: 0; opacity: .85; }
nav { padding: .6em 2em; background: #e8edf3; font-size: .95em; }
nav a { margin-right: 1em; color: #1f3a5f; }
main { max-width: 1100px; margin: 0 auto; padding: 1em 2em 3em 2em; }
section { background: white; border: 1px solid #ddd; border-radius: 6px; padding: .5em 1.5em 1em;
          margin: 1.2em 0; }
h2 { color: #1f3a5f; border-bottom: 1px solid #eee; padding-bottom: .2em; }
table { border-collapse: collapse; margin: .5em 0; font-size: .92em; }
th, td { border: 1px solid #ddd; padding: .3em .8em; text-align: left; vertical-align: top; }
thead th { background: #f0f3f7; }
tbody th { font-weight: 600; background: #fbfbfb; }
figure { margin: 1em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: .9em; }
.note { color: #777; font-style: italic; }
footer { color: #888; font-size: .85em; text-align: center; padding: 1em; }
"""


def _figure_html(filename: str, png: bytes, caption: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    alt = html.escape(caption or filename)
    cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{alt}" '
            f'data-file="{html.escape(filename)}">{cap}</figure>')


def _page(title: str, subtitle: str, sections: list[tuple[Section, str]]) -> str:
    nav = "".join(f'<a href="#{html.escape(s.id)}">{html.escape(s.title)}</a>'
                  for s, _ in sections)
    body = "".join(
        f'<section id="{html.escape(s.id)}"><h2>{html.escape(s.title)}</h2>{content}</section>'
        for s, content in sections
    )
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<header><h1>{html.escape(title)}</h1><p>{html.escape(subtitle)}</p></header>"
        f"<nav>{nav}</nav><main>{body}</main>"
        f"<footer>latentmodels {html.escape(__version__)}</footer></body></html>\n"
    )


def write_report(
    run_dir: str | os.PathLike,
    model: Any = None,
    X: Any = None,
    y: Any = None,
    metrics: Mapping[str, Any] | None = None,
    *,
    sections: list[SectionBuilder] | None = None,
    tsne: bool = True,
    lengths: Any = None,
) -> Path:
    """Write ``report.html`` (self-contained) and its PNG figures into ``run_dir``.

    Anything not given is read from the run directory: the model from ``model.lm``, the data
    (the held-out split) and the metrics from ``run.json``. ``sections`` replaces
    :data:`SECTIONS`; ``tsne=False`` leaves out the t-SNE latent map (the slowest figure).
    For an HMM, ``X`` is the series (all of it) and ``lengths`` its sequence lengths; when
    not given they are read again from the CSV columns ``run.json`` records. For a topic
    model, ``X`` is a :class:`~latentmodels.lda.text.TextCorpus` of held-out documents and ``y``
    their labels; when not given they are read again from the text source of the run.
    Returns the report's path.

    >>> from latentmodels import VAE, datasets  # doctest: +SKIP
    >>> X, y = datasets.load_mnist()  # doctest: +SKIP
    >>> vae = VAE(epochs=5).fit(X[:6400])  # doctest: +SKIP
    >>> write_report("runs/mine", vae, X[6400:], y[6400:])  # doctest: +SKIP
    PosixPath('runs/mine/report.html')
    """
    run_dir = Path(run_dir)
    run_info: dict[str, Any] = {}
    if (run_dir / RUN_FILE).exists():
        run_info = read_run(run_dir)
    if model is None:
        model_path = run_dir / MODEL_FILE
        if not model_path.is_file():
            raise FileNotFoundError(f"run_dir: {run_dir} has no {MODEL_FILE}; pass model=")
        model = load_model(model_path)
    from .sections.lda import is_lda, prepare_inputs

    options: dict[str, Any] = {"tsne": tsne, "lengths": lengths}
    if is_lda(model):
        # Documents are not arrays: the topic sections read them from the options.
        options["corpus"], options["labels"] = prepare_inputs(model, X, y, run_info)
        X = y = None
    elif X is None and (run_info.get("data") or {}).get("kind") == "sequences":
        from ..runs.hmm import load_run_series

        series = load_run_series(run_info)
        X, lengths = series.X, series.lengths
    elif X is None and run_info.get("data") and not is_lda(model):
        X, y = load_run_data(run_info)
    if X is not None:
        X = np.asarray(X)
        if y is not None:
            y = np.asarray(y)
            if len(y) != len(X):
                raise ValueError(f"y has {len(y)} labels but X has {len(X)} samples")
    if metrics is None:
        metrics = run_info.get("metrics") or {}
    ctx = ReportContext(run_dir, model, X, y, dict(metrics), run_info, options)

    rendered: list[tuple[Section, str]] = []
    for builder in SECTIONS if sections is None else sections:
        section = builder(ctx)
        if section is None:
            continue
        parts = [section.html]
        for item in section.figures:
            png = plots.figure_to_png(item.figure)
            atomic_write_bytes(run_dir / item.filename, png)
            parts.append(_figure_html(item.filename, png, item.caption))
        rendered.append((section, "".join(parts)))

    name = type(model).__name__
    source = (run_info.get("data") or {}).get("source")
    title = f"{name} on {source}" if source else f"{name} report"
    stamp = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    subtitle = f"latentmodels run report: {run_dir} (written {stamp})"
    return atomic_write_text(run_dir / REPORT_FILE, _page(title, subtitle, rendered))


# Sections of the latent-space tasks (neighbours, anomaly scores, denoising, probe), of topic
# models and of GANs.
from .sections.gan import GAN_SECTIONS  # noqa: E402
from .sections.lda import LDA_SECTIONS  # noqa: E402
from .sections.tasks import TASK_SECTIONS  # noqa: E402

SECTIONS.extend(TASK_SECTIONS)
# Topics sit beside the other model families' sections, before the image tasks.
SECTIONS[SECTIONS.index(hmm_section) + 1 : SECTIONS.index(hmm_section) + 1] = LDA_SECTIONS
SECTIONS[SECTIONS.index(samples_section) + 1 : SECTIONS.index(samples_section) + 1] = GAN_SECTIONS
