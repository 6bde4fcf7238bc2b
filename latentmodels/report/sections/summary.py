"""Sections every run has: what was trained on what and how well, the hyper-parameters, and
the training curves of models that train by epochs."""

from __future__ import annotations

from typing import Any

from ... import __version__, plots
from ..context import (
    METRIC_LABELS,
    ReportContext,
    ReportFigure,
    Section,
    flag_html,
    has_methods,
    html_table,
    look_for_html,
)

__all__ = ["parameters_section", "summary_section", "training_section"]

def summary_section(ctx: ReportContext) -> Section:
    """What was trained, on what, and how well.

    Parameters
    ----------
    ctx : ReportContext
        The model, held-out data and run record.

    Returns
    -------
    Section or None
        A table of facts (model, data, command, version) and one of the recorded metrics.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from latentmodels import VAE, datasets
    >>> from latentmodels.report.context import ReportContext
    >>> X, y = datasets.load_mnist()
    >>> vae = VAE(latent_dim=2, epochs=1, verbose=0, random_state=0).fit(X[:64])
    >>> ctx = ReportContext(Path(tempfile.mkdtemp()), vae, X[64:128], y[64:128], {}, {})
    >>> ctx.metrics["test_elbo"] = -180.0
    >>> section = summary_section(ctx)
    >>> section.id, "test ELBO" in section.html
    ('summary', True)
    """
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
    text = html_table(facts)
    metrics = {METRIC_LABELS.get(k, k): v for k, v in ctx.metrics.items()}
    if metrics:
        text += "<h3>Metrics</h3>" + html_table(metrics, ("metric", "value"))
    else:
        text += "<p class='note'>No metrics were recorded for this run.</p>"
    return Section("summary", "Summary", text)


def parameters_section(ctx: ReportContext) -> Section | None:
    """The model's hyper-parameters, as ``get_params`` reports them.

    Parameters
    ----------
    ctx : ReportContext
        The model, held-out data and run record.

    Returns
    -------
    Section or None
        A table of hyper-parameters; None for a model without ``get_params``.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from latentmodels import VAE, datasets
    >>> from latentmodels.report.context import ReportContext
    >>> X, y = datasets.load_mnist()
    >>> vae = VAE(latent_dim=2, epochs=1, verbose=0, random_state=0).fit(X[:64])
    >>> ctx = ReportContext(Path(tempfile.mkdtemp()), vae, X[64:128], y[64:128], {}, {})
    >>> "latent_dim" in parameters_section(ctx).html
    True
    """
    if not has_methods(ctx.model, "get_params"):
        return None
    params = ctx.model.get_params(deep=False)
    return Section("parameters", "Hyper-parameters", html_table(params, ("parameter", "value")))


def training_section(ctx: ReportContext) -> Section | None:
    """Loss curves from the model's per-epoch history.

    Parameters
    ----------
    ctx : ReportContext
        The model, held-out data and run record.

    Returns
    -------
    Section or None
        One figure of training curves; None for a model without ``history_``.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from latentmodels import VAE, datasets
    >>> from latentmodels.report.context import ReportContext
    >>> X, y = datasets.load_mnist()
    >>> vae = VAE(latent_dim=2, epochs=1, verbose=0, random_state=0).fit(X[:64])
    >>> ctx = ReportContext(Path(tempfile.mkdtemp()), vae, X[64:128], y[64:128], {}, {})
    >>> section = training_section(ctx)
    >>> section.id, [f.filename for f in section.figures]
    ('training', ['training_curves.png'])
    """
    history = getattr(ctx.model, "history_", None)
    if not history:
        return None
    fig = plots.plot_training_curves(history)
    caption = "Per-epoch training and validation loss; the dotted line marks the kept weights."
    text = look_for_html(
        "both curves should fall and level off; a validation curve that turns up while the "
        "training curve keeps falling is overfitting (the weights kept are those of the best "
        "validation epoch).")
    text += "".join(flag_html(f) for f in _training_flags(history))
    return Section("training", "Training curves", text, figures=[
        ReportFigure("training_curves.png", fig, caption)])


def _training_flags(history: Any) -> list[str]:
    """What is off in a history of per-epoch records: too few epochs, still improving."""
    try:
        records = plots.history_records(history, "val_loss")
    except (TypeError, ValueError, KeyError):
        return []
    values = [float(r["val_loss"]) for r in records if r.get("val_loss") is not None]
    if not values:
        return []
    flags = []
    best = min(range(len(values)), key=values.__getitem__)
    if len(values) >= 3 and best == len(values) - 1:
        flags.append(f"the validation loss was still falling at the last of {len(values)} "
                     "epochs: more epochs would likely give a better model.")
    return flags
