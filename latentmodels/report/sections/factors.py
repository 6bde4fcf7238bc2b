"""Factor control in the report: the edit strip and the probe table that ``latentmodels edit``
and ``latentmodels erase`` recorded in the run's ``factors.json``."""

from __future__ import annotations

import html
import json
from typing import Any

import numpy as np

from ... import plots
from ...tasks.factors import edit
from ..context import ReportContext, ReportFigure, Section, encodes, has_methods

__all__ = ["FACTORS_FILE", "factor_control_section"]

#: The record the factor verbs write into a run directory.
FACTORS_FILE = "factors.json"


def _recorded(ctx: ReportContext) -> dict[str, Any]:
    path = ctx.run_dir / FACTORS_FILE
    if not path.is_file():
        return {}
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def _edit_figure(ctx: ReportContext, record: dict[str, Any]) -> ReportFigure | None:
    """The verb's strip again: its direction and amounts, the first held-out items."""
    if ctx.X is None or len(ctx.X) < 2 or not encodes(ctx.model) or not has_methods(
            ctx.model, "inverse_transform"):
        return None
    try:
        direction = np.asarray(record["direction"], dtype=np.float64)
        amounts = np.asarray(record["amounts"], dtype=np.float64)
        items = int(record["items"])
        codes = ctx.model.transform(ctx.X)
        if direction.shape != (codes.shape[1],) or items < 1 or amounts.ndim != 1:
            return None
        in_factor_units = record.get("units") == "factor sd"
        if in_factor_units:
            # Amounts in the factor's sd: redraw with the recorded latent distance per unit.
            unit = direction / np.linalg.norm(direction)
            spread = float(np.std(codes @ unit))
            code_amounts = amounts * float(record["step"]) / spread
        else:
            code_amounts = amounts
        strip = edit(ctx.model, ctx.X[:items], direction, code_amounts, codes=codes)
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None
    images = plots.as_images(strip.reshape(-1, *strip.shape[2:]))
    lo, hi = plots.display_range(images)
    factor = str(record.get("factor", "factor"))
    units = f"standard deviations of the {factor}" if in_factor_units else (
        "standard deviations of the codes")
    fig = plots.grid_figure([("", images)], len(amounts), lo, hi,
                            f"{factor}: {amounts[0]:g} .. {amounts[-1]:g} sd")
    return ReportFigure("factor_edit.png", fig, f"Each row: one held-out item with its {factor} "
                        f"direction added, in {units}, left to right.")


def _edit_html(record: dict[str, Any]) -> str:
    amounts = record.get("amounts") or []
    means = record.get("factor_mean") or []
    cells = "".join(f"<tr><td>{float(a):+g}</td><td>{float(m):.4g}</td></tr>"
                    for a, m in zip(amounts, means, strict=False))
    measured = html.escape(str(record.get("measured", record.get("factor", ""))))
    rho = record.get("rank_correlation")
    rho_text = f" Rank correlation of amount and factor, per item: {float(rho):.3f}." if (
        isinstance(rho, int | float)) else ""
    return (f"<p>Measured {measured} of the edited held-out items.{rho_text}</p>"
            f"<table><thead><tr><th>amount (sd)</th><th>mean {measured}</th></tr></thead>"
            f"<tbody>{cells}</tbody></table>")


def _erase_html(record: dict[str, Any]) -> str:
    probes = [row for row in record.get("probes") or [] if isinstance(row, dict)
              and all(isinstance(row.get(k), int | float) for k in ("before", "after", "chance"))]
    # Erased within each label, the factor's floor is what the label alone predicts of it.
    within = bool(record.get("within_label")) and any(
        isinstance(row.get("label_only"), int | float) for row in probes)

    def floor(row: dict[str, Any]) -> str:
        value = row.get("label_only")
        return f"<td>{float(value):.3f}</td>" if isinstance(value, int | float) else "<td></td>"

    rows = "".join(
        f"<tr><th>{html.escape(str(row.get('probe')))}</th><td>{float(row['before']):.3f}</td>"
        f"<td>{float(row['after']):.3f}</td><td>{float(row['chance']):.3f}</td>"
        f"{floor(row) if within else ''}</tr>" for row in probes)
    factor = html.escape(str(record.get("factor", "")))
    if within:
        goal = ("erased within each label, the probe for the factor should fall to about what "
                "the label alone predicts of it (last column), not to the majority class")
    else:
        goal = "after erasure the probe for the factor should fall to about the majority class"
    return (f"<p>A LEACE eraser for <b>{factor}</b> removed {int(record.get('rank', 0))} "
            f"direction(s) from the codes (fitted on {int(record.get('n_train', 0)):,} training "
            f"codes). Accuracy of linear probes on {int(record.get('n_test', 0)):,} held-out "
            f"codes; {goal}, while the other probes should keep most of their accuracy.</p>"
            "<table><thead><tr><th>probe for</th><th>before</th><th>after</th>"
            "<th>majority class</th>" + ("<th>from the label alone</th>" if within else "")
            + f"</tr></thead><tbody>{rows}</tbody></table>")


def factor_control_section(ctx: ReportContext) -> Section | None:
    """The edit strip and the before/after probe table of ``latentmodels edit``/``erase``.

    Parameters
    ----------
    ctx : ReportContext
        The model, held-out data and run record.

    Returns
    -------
    Section or None
        None unless the run directory holds a ``factors.json`` with an edit or an erasure.

    Examples
    --------
    >>> import json, tempfile
    >>> from pathlib import Path
    >>> from latentmodels import PCA, datasets
    >>> from latentmodels.report.context import ReportContext
    >>> X, _ = datasets.load_mnist()
    >>> pca = PCA(n_components=3).fit(X[:200])
    >>> run_dir = Path(tempfile.mkdtemp())
    >>> edit = {"factor": "ink", "direction": [1.0, 0.0, 0.0], "amounts": [-1, 0, 1],
    ...         "items": 2, "factor_mean": [50.0, 80.0, 110.0], "rank_correlation": 1.0}
    >>> _ = (run_dir / FACTORS_FILE).write_text(json.dumps({"edit": edit}))
    >>> section = factor_control_section(ReportContext(run_dir, pca, X[200:240], None, {}, {}))
    >>> section.id, [f.filename for f in section.figures]
    ('factor-control', ['factor_edit.png'])
    """
    record = _recorded(ctx)
    edited, erased = record.get("edit"), record.get("erase")
    parts, figures = [], []
    if isinstance(edited, dict):
        figure = _edit_figure(ctx, edited)
        if figure is not None:
            figures.append(figure)
        parts.append(_edit_html(edited))
    if isinstance(erased, dict):
        parts.append(_erase_html(erased))
    if not parts:
        return None
    return Section("factor-control", "Factor control", "".join(parts), figures=figures)
