"""Sections of the linear baselines: how much variance each principal axis explains."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.figure import Figure

from ..context import ReportContext, ReportFigure, Section, html_table, look_for_html

__all__ = ["explained_variance_section"]


def _variance_ratios(model: Any) -> np.ndarray | None:
    """Share of the training variance on each axis, for models that record it (PCA, PPCA)."""
    ratios = getattr(getattr(model, "estimator_", None), "explained_variance_ratio_", None)
    if ratios is None:
        return None
    ratios = np.asarray(ratios, dtype=np.float64).ravel()
    return ratios if len(ratios) and np.isfinite(ratios).all() else None


def explained_variance_section(ctx: ReportContext) -> Section | None:
    """Variance explained per principal axis and in total (PCA and probabilistic PCA).

    Parameters
    ----------
    ctx : ReportContext
        The model, held-out data and run record.

    Returns
    -------
    Section or None
        One figure and a table; None for a model without explained variance ratios.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from latentmodels import PCA, datasets
    >>> from latentmodels.report.context import ReportContext
    >>> X, y = datasets.load_mnist()
    >>> pca = PCA(n_components=5).fit(X[:200])
    >>> ctx = ReportContext(Path(tempfile.mkdtemp()), pca, X[200:260], y[200:260], {}, {})
    >>> section = explained_variance_section(ctx)
    >>> section.id, len(section.figures)
    ('explained-variance', 1)
    """
    ratios = _variance_ratios(ctx.model)
    if ratios is None:
        return None
    cumulative = np.cumsum(ratios)
    axes = np.arange(1, len(ratios) + 1)
    fig = Figure(figsize=(6.4, 3.4), layout="constrained")
    ax = fig.subplots()
    ax.bar(axes, 100 * ratios, color="#7a9cc6", label="per axis")
    ax.plot(axes, 100 * cumulative, "o-", color="#1f3a5f", markersize=3, label="cumulative")
    ax.set_xlabel("principal axis")
    ax.set_ylabel("training variance explained (%)")
    ax.set_ylim(0, 100)
    ax.legend(loc="center right", fontsize=8)
    rows: dict[str, Any] = {"axes kept": len(ratios),
                            "first axis": f"{100 * ratios[0]:.1f} %",
                            "all kept axes": f"{100 * cumulative[-1]:.1f} %"}
    held_out = ctx.metrics.get("test_explained_variance")
    if isinstance(held_out, float):
        rows["all kept axes, held-out data"] = f"{100 * held_out:.1f} %"
    text = (html_table(rows, ("variance explained", "share"))
            + look_for_html("a curve that is still climbing at the last axis means more "
                            "components would keep noticeably more of the data; a flat tail "
                            "means the extra axes mostly model noise."))
    return Section("explained-variance", "Explained variance", text, figures=[ReportFigure(
        "explained_variance.png", fig,
        "Bars: share of the training variance along each principal axis. Line: cumulative.")])
