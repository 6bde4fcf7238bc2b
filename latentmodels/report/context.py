"""What every report section works with: the context it reads (model, held-out data, run
record) and the section it returns, plus the small HTML helpers sections share."""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from .. import plots

__all__ = [
    "MAX_REFERENCE",
    "METRIC_LABELS",
    "ReportContext",
    "ReportFigure",
    "Section",
    "SectionBuilder",
    "encodes",
    "figure_html",
    "flag_html",
    "format_value",
    "has_methods",
    "html_table",
    "is_hmm",
    "look_for_html",
]

MAX_REFERENCE = 1000


@dataclass
class ReportFigure:
    """One picture in a section: written as ``filename`` beside the report and embedded.

    Attributes
    ----------
    filename : str
        Name of the PNG file written beside the report.
    figure : matplotlib.figure.Figure
        The picture.
    caption : str, default=""
        Text shown under it.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ReportFigure("empty.png", Figure()).caption
    ''
    """

    filename: str
    figure: Figure
    caption: str = ""


@dataclass
class Section:
    """A part of the report: an anchor id, a heading, HTML text and figures.

    Attributes
    ----------
    id : str
        The HTML anchor of the section.
    title : str
        Its heading.
    html : str, default=""
        Its text, as HTML.
    figures : list of ReportFigure
        Its pictures.

    Examples
    --------
    >>> section = Section("notes", "Notes", "<p>hello</p>")
    >>> section.id, section.figures
    ('notes', [])
    """

    id: str
    title: str
    html: str = ""
    figures: list[ReportFigure] = field(default_factory=list)


@dataclass
class ReportContext:
    """Everything a section builder may use.

    Attributes
    ----------
    run_dir : pathlib.Path
        The run directory the report is written into.
    model : object
        The fitted model (may be None).
    X, y : numpy.ndarray or None
        Held-out data and labels (may be None).
    metrics : dict
        The run's recorded metrics.
    run_info : dict
        The run's ``run.json`` record.
    options : dict
        Extra inputs of some sections (``lengths`` of HMM series, ``corpus`` of LDA runs, ...).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from latentmodels import VAE, datasets
    >>> from latentmodels.report.context import ReportContext
    >>> X, y = datasets.load_mnist()
    >>> vae = VAE(latent_dim=2, epochs=1, verbose=0, random_state=0).fit(X[:64])
    >>> ctx = ReportContext(Path(tempfile.mkdtemp()), vae, X[64:128], y[64:128], {}, {})
    >>> ctx.conditional, ctx.is_image_data, ctx.reference()[0].shape
    (False, True, (64, 28, 28))
    """

    run_dir: Path
    model: Any
    X: np.ndarray | None
    y: np.ndarray | None
    metrics: dict[str, Any]
    run_info: dict[str, Any]
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def conditional(self) -> bool:
        """True for models that take labels (their ``transform`` has a ``y`` argument).

        Examples
        --------
        >>> import tempfile
        >>> from pathlib import Path
        >>> from latentmodels import VAE, datasets
        >>> from latentmodels.report.context import ReportContext
        >>> X, y = datasets.load_mnist()
        >>> vae = VAE(latent_dim=2, epochs=1, verbose=0, random_state=0).fit(X[:64])
        >>> ctx = ReportContext(Path(tempfile.mkdtemp()), vae, X[64:128], y[64:128], {}, {})
        >>> ctx.conditional
        False
        """
        return self.model is not None and plots.is_conditional(self.model)

    @property
    def is_image_data(self) -> bool:
        """True when samples can be drawn as pictures.

        Examples
        --------
        >>> import tempfile
        >>> from pathlib import Path
        >>> from latentmodels import VAE, datasets
        >>> from latentmodels.report.context import ReportContext
        >>> X, y = datasets.load_mnist()
        >>> vae = VAE(latent_dim=2, epochs=1, verbose=0, random_state=0).fit(X[:64])
        >>> ctx = ReportContext(Path(tempfile.mkdtemp()), vae, X[64:128], y[64:128], {}, {})
        >>> ctx.is_image_data
        True
        """
        if self.X is None or is_hmm(self.model):
            return False
        try:
            plots.as_images(self.X[:1])
        except ValueError:
            return False
        return True

    def reference(self) -> tuple[np.ndarray, np.ndarray | None]:
        """A bounded slice of the held-out data (at most ``MAX_REFERENCE`` samples).

        Used for statistics over codes.

        Returns
        -------
        X : numpy.ndarray
            The first samples of ``X``.
        y : numpy.ndarray or None
            Their labels.

        Examples
        --------
        >>> import tempfile
        >>> from pathlib import Path
        >>> from latentmodels import VAE, datasets
        >>> from latentmodels.report.context import ReportContext
        >>> X, y = datasets.load_mnist()
        >>> vae = VAE(latent_dim=2, epochs=1, verbose=0, random_state=0).fit(X[:64])
        >>> ctx = ReportContext(Path(tempfile.mkdtemp()), vae, X[64:128], y[64:128], {}, {})
        >>> X_ref, y_ref = ctx.reference()
        >>> X_ref.shape, y_ref.shape
        ((64, 28, 28), (64,))
        """
        assert self.X is not None
        n = min(len(self.X), MAX_REFERENCE)
        return self.X[:n], None if self.y is None else self.y[:n]


SectionBuilder = Callable[[ReportContext], "Section | None"]


def has_methods(model: Any, *methods: str) -> bool:
    """True when ``model`` is not None and has every named method.

    Parameters
    ----------
    model : object or None
        The model.
    *methods : str
        Method names.

    Returns
    -------
    bool

    Examples
    --------
    >>> has_methods([], "append", "pop")
    True
    """
    return model is not None and all(callable(getattr(model, m, None)) for m in methods)


def encodes(model: Any) -> bool:
    """True when ``model.transform`` is a direct encoder.

    A GAN's ``transform`` inverts its generator by optimisation
    (``transform_is_approximate``): too slow and too rough for the sections built on codes
    of held-out data.

    Parameters
    ----------
    model : object or None
        The model.

    Returns
    -------
    bool

    Examples
    --------
    >>> from sklearn.decomposition import PCA
    >>> encodes(None), encodes(PCA())
    (False, True)
    """
    return has_methods(model, "transform") and not getattr(model, "transform_is_approximate", False)


def format_value(value: Any) -> str:
    """A metric or parameter as report text: 4 significant digits, thousands separators.

    Parameters
    ----------
    value : object
        A number, a list or tuple of them, or anything else (shown with ``str``).

    Returns
    -------
    str

    Examples
    --------
    >>> format_value(0.123456), format_value([1.0, 2.5])
    ('0.1235', '1, 2.5')
    """
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return f"{value:.4g}" if abs(value) < 1e4 else f"{value:,.1f}"
    if isinstance(value, (list, tuple)):
        return ", ".join(format_value(v) for v in value)
    return str(value)


def html_table(rows: Mapping[str, Any], headers: tuple[str, str] | None = None) -> str:
    """A two-column HTML table of ``rows`` (name -> value), escaped.

    Parameters
    ----------
    rows : mapping
        Names and values; values are shown with :func:`format_value`.
    headers : tuple of str, optional
        The two column headings; no heading row by default.

    Returns
    -------
    str
        The HTML table.

    Examples
    --------
    >>> html_table({"a": 1})
    '<table><tbody><tr><th>a</th><td>1</td></tr></tbody></table>'
    """
    body = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(format_value(v))}</td></tr>"
        for k, v in rows.items()
    )
    if headers is None:
        return f"<table><tbody>{body}</tbody></table>"
    head = f"<tr><th>{html.escape(headers[0])}</th><th>{html.escape(headers[1])}</th></tr>"
    return f"<table><thead>{head}</thead><tbody>{body}</tbody></table>"


METRIC_LABELS = {
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


def is_hmm(model: Any) -> bool:
    """True for hidden Markov models (they have start and transition probabilities).

    Parameters
    ----------
    model : object or None
        The model.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_hmm(None)
    False
    """
    return model is not None and hasattr(model, "transmat_") and hasattr(model, "startprob_")


def figure_html(filename: str, png: bytes, caption: str) -> str:
    r"""A ``<figure>`` with the PNG embedded as a data URI (the page stays one file).

    Parameters
    ----------
    filename : str
        The PNG's file name, recorded in ``data-file``.
    png : bytes
        The PNG data.
    caption : str
        The caption (also the image's alt text); may be empty.

    Returns
    -------
    str
        The HTML, escaped.

    Examples
    --------
    >>> print(figure_html("a.png", b"\x89PNG", "A & B"))
    <figure><img src="data:image/png;base64,iVBORw==" alt="A &amp; B"
    data-file="a.png"><figcaption>A &amp; B</figcaption></figure>
    """
    data = base64.b64encode(png).decode("ascii")
    alt = html.escape(caption or filename)
    cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{alt}" '
            f'data-file="{html.escape(filename)}">{cap}</figure>')


def look_for_html(text: str) -> str:
    """The sentence at the top of a section that says what to look for in it.

    Parameters
    ----------
    text : str
        Plain text (escaped here).

    Returns
    -------
    str
        A ``<p class="look">`` paragraph.

    Examples
    --------
    >>> look_for_html("Sharp digits.")
    '<p class="look"><b>What to look for:</b> Sharp digits.</p>'
    """
    return f'<p class="look"><b>What to look for:</b> {html.escape(text)}</p>'


def flag_html(text: str) -> str:
    """A warning about something off in a section (the page styles it so it stands out).

    Parameters
    ----------
    text : str
        Plain text (escaped here).

    Returns
    -------
    str
        A ``<p class="flag">`` paragraph.

    Examples
    --------
    >>> flag_html("Worse than the input.")
    '<p class="flag"><b>Note:</b> Worse than the input.</p>'
    """
    return f'<p class="flag"><b>Note:</b> {html.escape(text)}</p>'
