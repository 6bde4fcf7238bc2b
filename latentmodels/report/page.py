"""The HTML report of a run: one self-contained page built from section builders.

The report is a list of section builders (:data:`SECTIONS`). Each takes a
:class:`~latentmodels.report.context.ReportContext` and returns a
:class:`~latentmodels.report.context.Section`, or ``None`` when it does not apply; every
figure is embedded as a base64 data URI, so the page can be mailed or archived. A model
family adds its own pictures by adding a builder:

Examples
--------
>>> from latentmodels import report
>>> def note(ctx):
...     return report.Section("note", "A note", "<p>Hello.</p>")
>>> sections = [*report.SECTIONS, note]
>>> # report.write_report("runs/demo", sections=sections)
"""

from __future__ import annotations

import datetime as _dt
import html
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__, plots
from .._internal.io import atomic_write_bytes, atomic_write_text
from ..rundir import (
    MODEL_FILE,
    REPORT_FILE,
    RUN_FILE,
    load_model,
    load_run_data,
    load_run_series,
    read_run,
)
from .context import ReportContext, Section, SectionBuilder, figure_html, html_table
from .sections.deep import (
    interpolations_section,
    latent_map_section,
    manifold_section,
    reconstructions_section,
    samples_section,
    traversal_section,
)
from .sections.factors import factor_control_section
from .sections.gan import GAN_SECTIONS
from .sections.hmm import hmm_section
from .sections.lda import LDA_SECTIONS, is_lda, prepare_inputs
from .sections.linear import explained_variance_section
from .sections.summary import parameters_section, summary_section, training_section
from .sections.tasks import TASK_SECTIONS

__all__ = ["SECTIONS", "IndexEntry", "write_index", "write_report"]

#: The report, in order: what every run has, then each family's pictures, then the
#: latent-space tasks. Pass ``sections=`` to :func:`write_report` to choose others.
SECTIONS: list[SectionBuilder] = [
    summary_section,
    parameters_section,
    training_section,
    explained_variance_section,
    reconstructions_section,
    samples_section,
    *GAN_SECTIONS,
    interpolations_section,
    latent_map_section,
    traversal_section,
    manifold_section,
    hmm_section,
    *LDA_SECTIONS,
    *TASK_SECTIONS,
    factor_control_section,
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
.look { background: #eef5ee; border-left: 4px solid #4a8a4a; padding: .4em .8em; }
.flag { background: #fff4e0; border-left: 4px solid #d08a00; padding: .4em .8em; }
footer { color: #888; font-size: .85em; text-align: center; padding: 1em; }
"""




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
    X_train: Any = None,
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

    Parameters
    ----------
    run_dir : str or os.PathLike
        The run directory; the report and its figures are written there.
    model : object, optional
        The fitted model; read from ``model.lm`` by default.
    X, y : array-like, optional
        Held-out data and labels (a TextCorpus and labels for topic models, the series for
        HMMs); read again from the source ``run.json`` records by default.
    metrics : mapping, optional
        Metrics to show; those of ``run.json`` by default.
    sections : list of callables, optional
        Section builders replacing :data:`SECTIONS`.
    tsne : bool, default=True
        Include the t-SNE latent map (the slowest figure).
    lengths : array-like, optional
        Sequence lengths of an HMM's series.
    X_train : array-like, optional
        The model's training data (a bounded part is enough), on which the anomaly section
        calibrates the default :class:`~latentmodels.tasks.anomaly.AnomalyDetector`; read
        again from the training split ``run.json`` records by default.

    Returns
    -------
    pathlib.Path
        The report's path.

    Examples
    --------
    >>> import tempfile
    >>> from latentmodels import VAE, datasets
    >>> X, y = datasets.load_mnist()
    >>> vae = VAE(latent_dim=2, epochs=1, verbose=0, random_state=0).fit(X[:64])
    >>> path = write_report(tempfile.mkdtemp(), vae, X[64:128], y[64:128], tsne=False)
    >>> path.name, path.stat().st_size > 0
    ('report.html', True)
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
    options: dict[str, Any] = {"tsne": tsne, "lengths": lengths, "X_train": X_train}
    if is_lda(model):
        # Documents are not arrays: the topic sections read them from the options.
        options["corpus"], options["labels"] = prepare_inputs(model, X, y, run_info)
        X = y = None
    elif X is None and (run_info.get("data") or {}).get("kind") == "sequences":
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
            parts.append(figure_html(item.filename, png, item.caption))
        rendered.append((section, "".join(parts)))

    name = type(model).__name__
    source = (run_info.get("data") or {}).get("source")
    title = f"{name} on {source}" if source else f"{name} report"
    stamp = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    subtitle = f"latentmodels run report: {run_dir} (written {stamp})"
    return atomic_write_text(run_dir / REPORT_FILE, _page(title, subtitle, rendered))


@dataclass
class IndexEntry:
    """One run listed on an index page (see :func:`write_index`).

    Attributes
    ----------
    title : str
        The heading, also the link text.
    report : str
        The run's report, relative to the index page (``"vae/report.html"``).
    summary : str
        One or two sentences: what was fitted on what.
    look_for : str
        What to look at first in that report.
    metrics : dict
        A few headline figures (label -> value).

    Examples
    --------
    >>> IndexEntry("VAE", "vae/report.html", "A VAE on digits.", "Samples.").metrics
    {}
    """

    title: str
    report: str
    summary: str
    look_for: str
    metrics: dict[str, Any] = field(default_factory=dict)


def write_index(
    out_dir: str | os.PathLike, title: str, intro: str, entries: Sequence[IndexEntry]
) -> Path:
    """Write ``report.html`` in ``out_dir``: a page that links one report per run.

    Parameters
    ----------
    out_dir : str or os.PathLike
        The folder holding the runs (each entry's report is relative to it).
    title : str
        The page's heading.
    intro : str
        A sentence under the heading.
    entries : sequence of IndexEntry
        The runs, in order.

    Returns
    -------
    pathlib.Path
        The index page's path.

    Examples
    --------
    >>> import tempfile
    >>> entry = IndexEntry("VAE on digits", "vae/report.html", "A VAE.", "The samples.",
    ...                    {"test ELBO": -100.5})
    >>> path = write_index(tempfile.mkdtemp(), "Demo", "Three models.", [entry])
    >>> 'href="vae/report.html"' in path.read_text()
    True
    """
    out_dir = Path(out_dir)
    if not entries:
        raise ValueError("entries must list at least one run")
    sections = []
    for number, entry in enumerate(entries, start=1):
        link = html.escape(entry.report)
        body = (f'<p>{html.escape(entry.summary)} <a href="{link}">Open the report</a> '
                f"({link}).</p>"
                f'<p class="look"><b>Look first at:</b> {html.escape(entry.look_for)}</p>')
        if entry.metrics:
            body += html_table(entry.metrics, ("metric", "value"))
        heading = f'<a href="{link}">{html.escape(entry.title)}</a>'
        sections.append(f'<section id="run-{number}"><h2>{heading}</h2>{body}</section>')
    nav = "".join(f'<a href="{html.escape(e.report)}">{html.escape(e.title)}</a>'
                  for e in entries)
    stamp = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    page = (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<header><h1>{html.escape(title)}</h1><p>{html.escape(intro)} "
        f"(written {stamp})</p></header>"
        f"<nav>{nav}</nav><main>{''.join(sections)}</main>"
        f"<footer>latentmodels {html.escape(__version__)}</footer></body></html>\n"
    )
    return atomic_write_text(out_dir / REPORT_FILE, page)
