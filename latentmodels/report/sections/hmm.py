"""The hidden Markov model section: decoded states over the series, transitions, emissions,
the EM curve, and the state-count selection when the run chose it by BIC."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from ...hmm.emissions import emission_of
from ...plots import hmm as plots_hmm
from ...rundir import MODEL_FILE, load_model, load_run_series, read_run
from ..context import (
    ReportContext,
    ReportFigure,
    Section,
    format_value,
    html_table,
    is_hmm,
    look_for_html,
)

__all__ = ["hmm_section"]

# More steps than this make a zigzag too dense to read; the table and scatter cover them all.
_HMM_WINDOW_STEPS = 60

# Axis labels with units for the bundled series (a CSV of the user's has only column names).
_SERIES_AXES = {
    "geyser": ("eruption (in time order, 1-15 Aug 1985)",
               {"waiting": "waiting time (min)", "duration": "eruption duration (min)"}),
}


_HMM_MAX_FEATURES_SHOWN = 4


def _axis_labels(source: Any, names: list[str]) -> tuple[str, list[str]]:
    """The time axis' label and each feature's label, with units for the bundled series."""
    time_label, units = _SERIES_AXES.get(str(source), ("step (row of the data, in order)", {}))
    return time_label, [units.get(name, name) for name in names]


def _hmm_figures(model: Any, X: np.ndarray, lengths: Any, names: list[str],
                 categories: list[str] | None, prefix: str, source: Any = None
                 ) -> tuple[list[ReportFigure], Any]:

    states = model.predict(X, lengths)
    figures: list[ReportFigure] = []
    n_show = min(len(X), _HMM_WINDOW_STEPS)
    n_feat = min(X.shape[1], _HMM_MAX_FEATURES_SHOWN)
    time_label, labels = _axis_labels(source, names)
    fig = Figure(figsize=(10, 0.6 + 2.4 * n_feat), layout="constrained")
    axes = fig.subplots(n_feat, 1, squeeze=False, sharex=True)[:, 0]
    series = X[:n_show].astype(np.float64)
    steps = np.arange(1, n_show + 1)  # counted from 1, as the rows of the data
    for f, ax in enumerate(axes):
        plots_hmm.plot_states(series, states[:n_show], feature=f, ax=ax, x=steps)
        ax.set_ylabel(labels[f] if f < len(labels) else f"feature {f}")
        if categories is not None:
            ax.set_yticks(range(len(categories)), categories)
        ax.grid(axis="y", color="0.92")
        if f:
            ax.get_legend().remove()
        ax.set_xlabel("")
    axes[0].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small", markerscale=2)
    axes[-1].set_xlabel(time_label)
    axes[-1].set_xlim(0.5, n_show + 0.5)
    shown = "" if n_show == len(X) else f" (the first {n_show:,} of {len(X):,} steps)"
    figures.append(ReportFigure(f"{prefix}states.png", fig,
                                f"The series coloured by its Viterbi-decoded state{shown}."))
    if categories is None and X.shape[1] >= 2:
        fig = plots_hmm.plot_state_scatter(X, states, names=labels)
        figures.append(ReportFigure(
            f"{prefix}state_scatter.png", fig,
            f"{labels[0]} against {labels[1]} at every step, coloured by decoded state."))
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
            ax.set_xlabel(labels[f] if f < len(labels) else f"feature {f}")
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
    # Every emission type gives its state means; only Gaussian ones have covariances.
    state_means = np.asarray(emission_of(model).means())
    has_sd = hasattr(model, "covars_")
    diag = np.clip(np.diag(np.asarray(model.transmat_)), 0.0, 1.0)
    head = ["state", "share of steps", "mean stay (steps)"]
    if categories is not None:
        head += ["most likely label", "its probability"]
    else:
        head += [f"mean {n}" for n in names[:_HMM_MAX_FEATURES_SHOWN]]
        if has_sd:
            head += [f"sd {n}" for n in names[:_HMM_MAX_FEATURES_SHOWN]]
    rows = []
    for k in range(K):
        stay = math.inf if diag[k] >= 1.0 else 1.0 / (1.0 - diag[k])
        cells = [str(k), f"{counts[k] / max(len(states), 1):.1%}", format_value(float(stay))]
        if categories is not None:
            probs = np.asarray(model.emissionprob_)[k]
            top = int(np.argmax(probs))
            label = categories[top] if top < len(categories) else str(top)
            cells += [label, f"{probs[top]:.2f}"]
        else:
            means = state_means[k]
            n = min(len(names), _HMM_MAX_FEATURES_SHOWN)
            cells += [format_value(float(v)) for v in means[:n]]
            if has_sd:
                sds = np.sqrt(np.diagonal(np.asarray(model.covars_)[k]))
                cells += [format_value(float(v)) for v in sds[:n]]
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
    figures, states = _hmm_figures(model, X, lengths, names, categories, prefix,
                                   data.get("source"))
    n_seq = 1 if lengths is None else len(lengths)
    what = ", ".join(names)
    text = look_for_html(
        "each state should stand for a recognisable regime (its means in the States table "
        "differ from the others'), and the transition matrix says how regimes follow one "
        "another: a large diagonal means a regime lasts, a small one that states alternate.")
    text += (f"<p>A {model.n_components}-state {html.escape(type(model).__name__)} fitted by "
            f"Baum-Welch EM to {len(X):,} steps of <b>{html.escape(what)}</b> "
            f"({n_seq} sequence{'s' if n_seq != 1 else ''}"
            f"{', source ' + html.escape(str(data['source'])) if data.get('source') else ''}). "
            "States are numbered as the model learned them; the pictures below colour each "
            "state the same way.</p>")
    facts = {label: metrics[key] for key, label in _HMM_METRICS.items() if key in metrics}
    if not facts:
        facts = {"hidden states": model.n_components}
    text += "<h3>Fit</h3>" + html_table(facts, ("metric", "value"))
    selection = run_info.get("selection")
    if isinstance(selection, Mapping) and selection.get("scores"):
        scores = {f"{k} state{'s' if str(k) != '1' else ''}"
                  + (" (chosen)" if int(k) == model.n_components else ""): float(v)
                  for k, v in selection["scores"].items()}
        criterion = str(selection.get("criterion", "bic")).upper()
        text += (f"<h3>Number of states by {html.escape(criterion)}</h3>"
                 + html_table(scores, ("states", f"{criterion} (lower is better)")))
    text += "<h3>States</h3>" + _hmm_state_table(model, X, states, names, categories)
    return Section(section_id, title, text, figures)


def hmm_section(ctx: ReportContext) -> Section | None:
    """An HMM run's states, transitions and emissions.

    Also the HMM part of a run whose ``run.json`` names a sub-run in ``hmm_run`` (the demo's
    Old Faithful model); a sub-run that cannot be read gives a note instead of figures.

    Parameters
    ----------
    ctx : ReportContext
        The model, held-out series (``options["lengths"]`` for several sequences) and run
        record.

    Returns
    -------
    Section or None
        The HMM section; None for a model that is not an HMM in a run without ``hmm_run``.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from latentmodels import VAE, datasets
    >>> from latentmodels.report.context import ReportContext
    >>> X, y = datasets.load_mnist()
    >>> vae = VAE(latent_dim=2, epochs=1, verbose=0, random_state=0).fit(X[:64])
    >>> ctx = ReportContext(Path(tempfile.mkdtemp()), vae, X[64:128], y[64:128], {}, {})
    >>> hmm_section(ctx) is None  # a VAE run
    True
    >>> ctx.run_info["hmm_run"] = "geyser"  # a sub-run that is not there
    >>> "could not be read" in hmm_section(ctx).html
    True
    """
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
