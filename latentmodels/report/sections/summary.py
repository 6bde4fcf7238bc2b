"""Sections every run has: what was trained on what and how well, the hyper-parameters, and
the training curves of models that train by epochs."""

from __future__ import annotations

from typing import Any

from ... import __version__, plots
from ..context import METRIC_LABELS, ReportContext, ReportFigure, Section, has_methods, html_table

__all__ = ["parameters_section", "summary_section", "training_section"]

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
    text = html_table(facts)
    metrics = {METRIC_LABELS.get(k, k): v for k, v in ctx.metrics.items()}
    if metrics:
        text += "<h3>Metrics</h3>" + html_table(metrics, ("metric", "value"))
    else:
        text += "<p class='note'>No metrics were recorded for this run.</p>"
    return Section("summary", "Summary", text)


def parameters_section(ctx: ReportContext) -> Section | None:
    """The model's hyper-parameters, as ``get_params`` reports them."""
    if not has_methods(ctx.model, "get_params"):
        return None
    params = ctx.model.get_params(deep=False)
    return Section("parameters", "Hyper-parameters", html_table(params, ("parameter", "value")))


def training_section(ctx: ReportContext) -> Section | None:
    """Loss curves from the model's per-epoch history."""
    history = getattr(ctx.model, "history_", None)
    if not history:
        return None
    fig = plots.plot_training_curves(history)
    caption = "Per-epoch training and validation loss; the dotted line marks the kept weights."
    return Section("training", "Training curves", figures=[
        ReportFigure("training_curves.png", fig, caption)])
