"""A topic-model run: tokenise and split the documents, fit, score (held-out perplexity by
document completion, NPMI/UMass coherence, diversity), save, report."""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..datasets.texts import TextData, load_texts
from ..lda.text import TextCorpus
from ..metrics.topics import document_completion_perplexity, topic_summary
from ..report import write_report
from ..rundir import MODEL_FILE, data_checksum, held_out_split, run_header, write_run

__all__ = ["DEFAULT_CORPUS_OPTIONS", "WORDS_PER_TOPIC_WARNING", "auto_min_df", "fit_lda_run",
           "load_texts", "vocabulary_warning"]

#: Tokenisation defaults of ``train lda`` (words in fewer than 5 documents or in more than
#: half of them carry little topic information).
DEFAULT_CORPUS_OPTIONS = {"min_df": 5, "max_df": 0.5, "max_features": None,
                          "stop_words": "english"}

#: A vocabulary smaller than this many words per topic leaves topics little to tell apart.
WORDS_PER_TOPIC_WARNING = 10


def auto_min_df(n_documents: int) -> int:
    """The ``min_df`` of ``--min-df auto``: 5 documents, fewer for a small corpus.

    A word must appear in about 1 % of the training documents, between 1 and 5: on 30 short
    documents a fixed 5 keeps a few dozen words and the topics mix their themes.

    Parameters
    ----------
    n_documents : int
        Number of training documents.

    Returns
    -------
    int

    Examples
    --------
    >>> auto_min_df(30), auto_min_df(250), auto_min_df(1800)
    (1, 2, 5)
    """
    if n_documents < 0:
        raise ValueError(f"n_documents must be >= 0, got {n_documents}")
    return int(min(5, max(1, n_documents // 100)))


def vocabulary_warning(vocabulary_size: int, n_topics: int, n_distinct: int,
                       min_df: Any) -> str | None:
    """A warning when the vocabulary is too small for the topics asked, else None.

    Parameters
    ----------
    vocabulary_size : int
        Words kept.
    n_topics : int
        Topics asked for.
    n_distinct : int
        Distinct words before the document-frequency cuts.
    min_df : int or float
        The cut that removed them, named in the advice.

    Returns
    -------
    str or None

    Examples
    --------
    >>> vocabulary_warning(21, 5, 640, 5)[:40]
    'the vocabulary kept only 21 of 640 disti'
    >>> vocabulary_warning(5000, 20, 9000, 5) is None
    True
    """
    if vocabulary_size >= WORDS_PER_TOPIC_WARNING * n_topics:
        return None
    return (f"the vocabulary kept only {vocabulary_size} of {n_distinct} distinct words for "
            f"{n_topics} topics (min_df={min_df}); topics will share words and mix themes. "
            "Lower min_df, ask for fewer topics, or add documents.")






















def fit_lda_run(
    data: TextData,
    model: Any,
    *,
    out: Path,
    command: list[str],
    corpus_options: Mapping[str, Any] | None = None,
    test_fraction: float = 0.1,
    seed: int = 0,
    limit: int | None = None,
    report: bool = True,
    resume: bool = False,
) -> dict[str, Any]:
    """Tokenise, split, fit and score an LDA, save ``model.lm`` and ``run.json``, write the report.

    Metrics: held-out perplexity by document completion (the vocabulary is built on the
    training documents only), NPMI and UMass coherence of each topic's top 10 words over the
    training documents, topic diversity, and the sizes involved.

    Parameters
    ----------
    data : TextData
        The documents (see :func:`latentmodels.datasets.texts.load_texts`).
    model : LDA
        The unfitted topic model.
    out : pathlib.Path
        The run directory.
    command : list of str
        The command that repeats the run.
    corpus_options : mapping, optional
        Options of :meth:`TextCorpus.from_texts` (``min_df``, ``stop_words``, ...);
        ``min_df="auto"`` takes :func:`auto_min_df` of the training documents. A vocabulary
        under ``WORDS_PER_TOPIC_WARNING`` words per topic gives a ``UserWarning``, also
        recorded under ``warnings`` in ``run.json``.
    test_fraction : float, default=0.1
        Share of documents held out for perplexity.
    seed : int, default=0
        Seed of the split.
    limit : int, optional
        The number of documents ``data`` was cut to, recorded.
    report : bool, default=True
        Also write ``report.html``.
    resume : bool, default=False
        Continue from the checkpoints in the model's ``checkpoint_dir``.

    Returns
    -------
    dict
        The contents of ``run.json``.

    Examples
    --------
    >>> from latentmodels import LDA
    >>> import tempfile
    >>> info = fit_lda_run(load_texts("newsgroups", limit=100), LDA(5, random_state=0),
    ...                    out=Path(tempfile.mkdtemp()), command=[], report=False)
    >>> info["metrics"]["n_topics"], info["metrics"]["perplexity"] > 1
    (5, True)
    """
    options = {**DEFAULT_CORPUS_OPTIONS, **dict(corpus_options or {})}
    if not 0 <= test_fraction < 1:
        raise ValueError(f"test_fraction must be in [0, 1), got {test_fraction}")
    train_idx, test_idx = held_out_split(len(data.texts), test_fraction, seed)
    if len(train_idx) < 2:
        raise ValueError(f"data has {len(data.texts)} documents; too few to fit topics on")
    if options["min_df"] == "auto":
        options["min_df"] = auto_min_df(len(train_idx))
    train_texts = _pick(data.texts, train_idx)
    train = TextCorpus.from_texts(train_texts, **options)
    warning = None
    if len(train.vocabulary) < WORDS_PER_TOPIC_WARNING * int(model.n_components):
        every_word = TextCorpus.from_texts(train_texts, **{**options, "min_df": 1, "max_df": 1.0})
        warning = vocabulary_warning(len(train.vocabulary), int(model.n_components),
                                     len(every_word.vocabulary), options["min_df"])
        warnings.warn(warning, UserWarning, stacklevel=2)
    test = TextCorpus.from_texts(_pick(data.texts, test_idx), vocabulary=train.vocabulary)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    model.fit(train, resume=resume)
    seconds = time.perf_counter() - started
    summary = topic_summary(model, train)
    metrics: dict[str, Any] = {}
    if len(test) and int((np.asarray(test.counts.sum(axis=1)).ravel() >= 2).sum()):
        held_out = document_completion_perplexity(model.components_, model.doc_topic_prior_,
                                                  test.counts, random_state=0)
        metrics["perplexity"] = held_out["perplexity"]
        metrics["nats_per_token"] = held_out["nats_per_token"]
    metrics.update({
        "mean_npmi": summary["mean_npmi"],
        "mean_umass": summary["mean_umass"],
        "topic_diversity": summary["diversity"],
        "n_topics": int(model.n_components),
        "iterations": int(model.n_iter_),
        "train_seconds": round(seconds, 2),
        "n_train_docs": len(train),
        "n_test_docs": len(test),
        "vocabulary_size": len(train.vocabulary),
        "train_tokens": train.n_tokens,
    })
    model.save(out / MODEL_FILE)
    info: dict[str, Any] = {
        **run_header(command, model),
        "data": {
            "kind": "text",
            "source": data.source,
            "text_field": data.text_field,
            "label_field": data.label_field,
            "limit": limit,
            "n_documents": len(data.texts),
            "test_fraction": test_fraction,
            "split_seed": seed,
            "corpus_options": options,
            "checksum": data_checksum(data.texts, data.labels),
        },
        "metrics": metrics,
        "topics": summary,
    }
    if warning is not None:
        info["warnings"] = [warning]
    write_run(out, info)
    if report:
        labels = None if data.labels is None else _pick(data.labels, test_idx)
        write_report(out, model, test, labels, metrics=metrics)
    return info



def _pick(values: list[str], index: np.ndarray) -> list[str]:
    return [values[i] for i in index]
