"""Pictures of a fitted topic model: each topic's top words as bars, the topic proportions of
documents as a heatmap (and averaged per label), and the coherence of each topic.

Every function returns a matplotlib ``Figure`` built without pyplot and, given ``path``, also
writes it as a PNG atomically.

Examples
--------
>>> from latentmodels import LDA, TextCorpus
>>> corpus = TextCorpus.from_texts(["apple pear fig", "pear apple", "cat dog",
...                                 "dog cat mouse"] * 3)
>>> lda = LDA(2, random_state=0).fit(corpus)
>>> len(plot_top_words(lda, n_words=3).axes)
2
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from .._internal.validation import check_positive_int
from ._common import finish_figure

__all__ = ["plot_doc_topics", "plot_label_topics", "plot_topic_coherence", "plot_top_words"]


def _topic_words(model: Any) -> tuple[np.ndarray, list[str] | None]:
    """The normalised topic-word matrix ``(K, V)`` and the words (None without vocabulary)."""
    topic_word = getattr(model, "topic_word_", None)
    if topic_word is None:
        raise TypeError(f"model must be a fitted topic model (with topic_word_), got "
                        f"{type(model).__name__}")
    vocabulary = getattr(model, "vocabulary_", None)
    return np.asarray(topic_word), None if vocabulary is None else list(vocabulary.words)


def _topic_label(k: int, words: Sequence[str], n: int = 3) -> str:
    return f"{k}: " + " ".join(words[:n])


def plot_top_words(
    model: Any,
    *,
    n_words: int = 8,
    topics: Sequence[int] | None = None,
    ncols: int = 5,
    path: str | os.PathLike | None = None,
    dpi: int = 100,
) -> Figure:
    """One small bar chart per topic: its ``n_words`` most probable words and p(word | topic).

    Parameters
    ----------
    model : LDA
        A fitted topic model (``top_words`` and ``topic_word_``).
    n_words : int, default=8
        Words per topic.
    topics : sequence of int, optional
        The topics drawn; all by default.
    ncols : int, default=5
        Charts per row.
    path : str or os.PathLike, optional
        Also write the figure there as a PNG.
    dpi : int, default=100
        Resolution of the PNG.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per topic.

    Examples
    --------
    >>> import numpy as np
    >>> from latentmodels import LDA
    >>> X = np.random.default_rng(0).poisson(1.0, size=(30, 12))
    >>> fig = plot_top_words(LDA(3, random_state=0).fit(X), n_words=4)
    >>> len(fig.axes)
    3
    """
    topic_word, words = _topic_words(model)
    n_words = check_positive_int(n_words, "n_words")
    ncols = check_positive_int(ncols, "ncols")
    n_topics = topic_word.shape[0]
    chosen = list(range(n_topics)) if topics is None else [int(k) for k in topics]
    if not chosen or any(not 0 <= k < n_topics for k in chosen):
        raise ValueError(f"topics must be topic numbers in 0..{n_topics - 1}, got {topics!r}")
    ncols = min(ncols, len(chosen))
    nrows = math.ceil(len(chosen) / ncols)
    fig = Figure(figsize=(2.6 * ncols, 0.22 * n_words * nrows + 0.55 * nrows + 0.3),
                 layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for ax, k in zip(axes, chosen, strict=False):
        order = np.argsort(-topic_word[k], kind="stable")[:n_words]
        labels = [words[i] if words is not None else str(i) for i in order]
        ax.barh(np.arange(len(order)), topic_word[k, order], color=f"C{k % 10}")
        ax.set_yticks(np.arange(len(order)), labels, fontsize=8)
        ax.invert_yaxis()
        ax.set_title(f"topic {k}", fontsize=9)
        ax.tick_params(axis="x", labelsize=7)
    for ax in axes[len(chosen):]:
        ax.set_visible(False)
    fig.supxlabel("p(word | topic)", fontsize=9)
    return finish_figure(fig, path, dpi)


def _theta(doc_topic: Any) -> np.ndarray:
    theta = np.asarray(doc_topic, dtype=np.float64)
    if theta.ndim != 2 or theta.shape[0] == 0 or theta.shape[1] == 0:
        raise ValueError(f"doc_topic must be a non-empty 2-D array (documents x topics), got "
                         f"shape {theta.shape}")
    if not np.isfinite(theta).all() or (theta < 0).any():
        raise ValueError("doc_topic must hold finite non-negative proportions")
    return theta


def plot_doc_topics(
    doc_topic: Any,
    *,
    max_docs: int = 200,
    topic_labels: Sequence[str] | None = None,
    path: str | os.PathLike | None = None,
    dpi: int = 100,
) -> Figure:
    """Heatmap of documents' topic proportions (rows: documents; columns: topics).

    Documents are sorted by their dominant topic, then by its weight. At most ``max_docs``
    documents are shown, taken evenly through the input.

    Parameters
    ----------
    doc_topic : array-like of shape (n_documents, n_topics)
        Topic proportions of each document (``model.transform(corpus)``).
    max_docs : int, default=200
        Most documents drawn.
    topic_labels : sequence of str, optional
        Column labels; the topic numbers by default.
    path : str or os.PathLike, optional
        Also write the figure there as a PNG.
    dpi : int, default=100
        Resolution of the PNG.

    Returns
    -------
    matplotlib.figure.Figure
        The heatmap (and its colour bar).

    Examples
    --------
    >>> import numpy as np
    >>> theta = np.random.default_rng(0).dirichlet(np.ones(4) * 0.3, size=50)
    >>> plot_doc_topics(theta).axes[0].get_xlabel()
    'topic'
    """
    theta = _theta(doc_topic)
    max_docs = check_positive_int(max_docs, "max_docs")
    if len(theta) > max_docs:
        theta = theta[np.linspace(0, len(theta) - 1, max_docs).astype(int)]
    dominant = theta.argmax(axis=1)
    order = np.lexsort((-theta[np.arange(len(theta)), dominant], dominant))
    n_topics = theta.shape[1]
    fig = Figure(figsize=(max(5.0, 0.32 * n_topics + 2.5), 5.5), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(theta[order], aspect="auto", cmap="viridis", vmin=0.0,
                      vmax=max(float(theta.max()), 1e-12), interpolation="nearest")
    ax.set_xlabel("topic")
    ax.set_ylabel(f"document ({len(theta)}, sorted by dominant topic)")
    ax.set_xticks(np.arange(n_topics),
                  topic_labels if topic_labels is not None else [str(k) for k in range(n_topics)],
                  rotation=90 if topic_labels is not None else 0, fontsize=7)
    ax.set_yticks([])
    fig.colorbar(image, ax=ax, label="topic proportion", shrink=0.8)
    return finish_figure(fig, path, dpi)


def plot_label_topics(
    doc_topic: Any,
    labels: Sequence[Any],
    *,
    topic_labels: Sequence[str] | None = None,
    path: str | os.PathLike | None = None,
    dpi: int = 100,
) -> Figure:
    """Mean topic proportions of the documents of each label (rows: labels; columns: topics).

    Shows how the topics line up with known groups such as newsgroups.

    Parameters
    ----------
    doc_topic : array-like of shape (n_documents, n_topics)
        Topic proportions of each document.
    labels : sequence
        One label per document.
    topic_labels : sequence of str, optional
        Column labels; the topic numbers by default.
    path : str or os.PathLike, optional
        Also write the figure there as a PNG.
    dpi : int, default=100
        Resolution of the PNG.

    Returns
    -------
    matplotlib.figure.Figure
        The heatmap (and its colour bar).

    Examples
    --------
    >>> import numpy as np
    >>> theta = np.random.default_rng(0).dirichlet(np.ones(3), size=6)
    >>> fig = plot_label_topics(theta, ["a", "b"] * 3)
    """
    theta = _theta(doc_topic)
    labels = np.asarray([str(v) for v in labels])
    if len(labels) != len(theta):
        raise ValueError(f"labels has {len(labels)} entries but doc_topic has {len(theta)} "
                         "documents")
    names = sorted(set(labels.tolist()))
    means = np.stack([theta[labels == name].mean(axis=0) for name in names])
    n_topics = theta.shape[1]
    fig = Figure(figsize=(max(5.0, 0.32 * n_topics + 3.5), 0.28 * len(names) + 2.2),
                 layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(means, aspect="auto", cmap="magma_r", vmin=0.0, interpolation="nearest")
    ax.set_yticks(np.arange(len(names)), names, fontsize=8)
    ax.set_xticks(np.arange(n_topics),
                  topic_labels if topic_labels is not None else [str(k) for k in range(n_topics)],
                  rotation=90 if topic_labels is not None else 0, fontsize=7)
    ax.set_xlabel("topic")
    fig.colorbar(image, ax=ax, label="mean topic proportion", shrink=0.8)
    return finish_figure(fig, path, dpi)


def plot_topic_coherence(
    values: Any,
    top_words: Sequence[Sequence[str]] | None = None,
    *,
    measure: str = "NPMI",
    path: str | os.PathLike | None = None,
    dpi: int = 100,
) -> Figure:
    """Horizontal bars of each topic's coherence, best first, labelled with its top words.

    The dashed line is the mean.

    Parameters
    ----------
    values : array-like of shape (n_topics,)
        Each topic's coherence (e.g. from :func:`~latentmodels.metrics.topics.coherence`).
    top_words : sequence of sequences of str, optional
        Each topic's top words, used as bar labels.
    measure : str, default="NPMI"
        Name of the measure, for the axis label.
    path : str or os.PathLike, optional
        Also write the figure there as a PNG.
    dpi : int, default=100
        Resolution of the PNG.

    Returns
    -------
    matplotlib.figure.Figure
        One axes of bars.

    Examples
    --------
    >>> fig = plot_topic_coherence([0.2, -0.1, 0.05], [["a", "b"], ["c"], ["d"]])
    >>> fig.axes[0].get_xlabel()
    'NPMI coherence'
    """
    scores = np.asarray(values, dtype=np.float64).ravel()
    if scores.size == 0 or not np.isfinite(scores).all():
        raise ValueError("values must be a non-empty sequence of finite coherence scores")
    if top_words is not None and len(top_words) != scores.size:
        raise ValueError(f"top_words has {len(top_words)} topics but values has {scores.size}")
    order = np.argsort(-scores, kind="stable")
    labels = [_topic_label(int(k), top_words[k]) if top_words is not None else f"topic {k}"
              for k in order]
    fig = Figure(figsize=(7.0, 0.26 * scores.size + 1.2), layout="constrained")
    ax = fig.subplots()
    colours = ["C2" if s >= 0 else "C3" for s in scores[order]]
    ax.barh(np.arange(scores.size), scores[order], color=colours)
    ax.axvline(float(scores.mean()), color="0.3", linestyle="--", linewidth=1)
    ax.set_yticks(np.arange(scores.size), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(f"{measure} coherence")
    return finish_figure(fig, path, dpi)
