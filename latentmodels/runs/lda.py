"""Text corpora for the command line and the report: where the documents came from, how they
were tokenised and split, a topic-model run from text to report, and how to read the held-out
documents again from what ``run.json`` recorded."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import datasets
from ..lda.text import TextCorpus, _read_lines

__all__ = [
    "BUNDLED_TEXTS",
    "TextData",
    "fit_lda_run",
    "is_text_run",
    "load_run_corpora",
    "load_texts",
    "resolve_text_source",
]

#: Data source names that mean a corpus shipped inside the package: 2,000 posts of the
#: 20 Newsgroups "bydate" training split, 100 per group (see scripts/make_newsgroups_sample.py).
BUNDLED_TEXTS = {"newsgroups": "newsgroups_2k.jsonl.gz"}
#: Names of the full corpora in the project's shared data folder (present in CI, not in clones).
SHARED_TEXTS = {"20newsgroups": "20newsgroups_train.jsonl.gz"}
#: The label field of the named corpora (documents are coloured by it in the report).
_NAMED_LABEL_FIELD = "newsgroup"
_JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")
_LINES_SUFFIXES = (".txt", ".txt.gz")
#: Tokenisation defaults of ``train lda`` (words in fewer than 5 documents or in more than
#: half of them carry little topic information).
DEFAULT_CORPUS_OPTIONS = {"min_df": 5, "max_df": 0.5, "max_features": None,
                          "stop_words": "english"}


@dataclass
class TextData:
    """Raw documents with optional labels (e.g. the newsgroup of each post)."""

    texts: list[str]
    labels: list[str] | None
    source: str
    text_field: str = "text"
    label_field: str | None = None


def _key(source: str) -> str:
    return str(source).strip().lower().replace("-", "").replace("_", "")


def resolve_text_source(source: str) -> str:
    """A corpus name (``newsgroups``, ``20newsgroups``) stays a name; a path becomes absolute.

    >>> resolve_text_source("newsgroups")
    'newsgroups'
    """
    key = _key(source)
    if key in BUNDLED_TEXTS or key in SHARED_TEXTS:
        return key
    return str(Path(source).expanduser().resolve())


def _open_text_source(source: str) -> Path:
    key = _key(source)
    if key in BUNDLED_TEXTS:
        from importlib import resources

        return Path(str(resources.files("latentmodels").joinpath("data", BUNDLED_TEXTS[key])))
    if key in SHARED_TEXTS:
        path = datasets.find_shared_data(SHARED_TEXTS[key])
        if path is None:
            raise FileNotFoundError(
                f"data: {source} means ../shared/data/{SHARED_TEXTS[key]}, which is not here "
                "(set LATENTMODELS_SHARED_DATA, or use 'newsgroups', the 2,000-post sample "
                "shipped with the package)"
            )
        return path
    return Path(source).expanduser()


def load_texts(
    source: str,
    *,
    text_field: str = "text",
    label_field: str | None = None,
    limit: int | None = None,
) -> TextData:
    """Read documents: JSON lines (``.jsonl``, ``.gz`` too) with the text in ``text_field``, a
    text file with one document per line (``.txt``), or a corpus name (``newsgroups``: the
    bundled sample; ``20newsgroups``: the full shared file). ``label_field`` names a JSON
    field holding each document's label (the named corpora use ``newsgroup``).

    >>> data = load_texts("newsgroups", limit=3)
    >>> len(data.texts), data.labels[0]
    (3, 'alt.atheism')
    """
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be >= 1, got {limit}")
    key = _key(source)
    named = key in BUNDLED_TEXTS or key in SHARED_TEXTS
    if named and label_field is None:
        label_field = _NAMED_LABEL_FIELD
    path = _open_text_source(source)
    if not path.exists():
        raise FileNotFoundError(f"data: {source}: no such file")
    name = path.name.lower()
    if not named and not name.endswith(_JSONL_SUFFIXES + _LINES_SUFFIXES):
        raise ValueError(
            f"data: {source}: expected JSON lines (.jsonl, .jsonl.gz) or one document per line "
            "(.txt, .txt.gz), or a corpus name (newsgroups, 20newsgroups)"
        )
    texts: list[str] = []
    labels: list[str] | None = [] if label_field is not None else None
    if name.endswith(_LINES_SUFFIXES):
        if label_field is not None:
            raise ValueError("label_field needs JSON lines; a .txt file holds only text")
        texts = [line.rstrip("\r\n") for line in _read_lines(path, "utf-8")]
        texts = texts[:limit] if limit is not None else texts
        return TextData(texts, None, resolve_text_source(source), text_field, None)
    for number, line in enumerate(_read_lines(path, "utf-8"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"data: line {number} of {source} is not JSON ({exc})") from None
        if not isinstance(record, dict) or text_field not in record:
            fields = sorted(record) if isinstance(record, dict) else type(record).__name__
            raise ValueError(f"text_field {text_field!r} is missing from line {number} of "
                             f"{source}; that line has fields {fields}")
        texts.append("" if record[text_field] is None else str(record[text_field]))
        if labels is not None:
            if label_field not in record:
                raise ValueError(f"label_field {label_field!r} is missing from line {number} "
                                 f"of {source}")
            labels.append(str(record[label_field]))
        if limit is not None and len(texts) >= limit:
            break
    if not texts:
        raise ValueError(f"data: {source} holds no documents")
    return TextData(texts, labels, resolve_text_source(source), text_field, label_field)


def is_text_run(run_info: Mapping[str, Any]) -> bool:
    """True when ``run.json`` describes a model fitted on text."""
    return (run_info.get("data") or {}).get("kind") == "text"


def _split(n_docs: int, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from ..report.page import held_out_split

    return held_out_split(n_docs, test_fraction, seed)


def _pick(values: list[str], index: np.ndarray) -> list[str]:
    return [values[i] for i in index]


def load_run_corpora(
    run_info: Mapping[str, Any], vocabulary: Any
) -> tuple[TextCorpus, TextCorpus, list[str] | None]:
    """``(train, held_out, held_out_labels)`` of a text run, tokenised with ``vocabulary``
    (the model's), from the source, limit and split that ``run.json`` records.

    >>> from latentmodels.report.page import read_run  # doctest: +SKIP
    >>> train, test, labels = load_run_corpora(read_run("runs/lda"), lda.vocabulary_)
    ... # doctest: +SKIP
    """
    data = run_info.get("data") or {}
    if data.get("kind") != "text":
        raise ValueError("run.json does not describe a text run (data.kind is not 'text')")
    texts = load_texts(str(data["source"]), text_field=data.get("text_field", "text"),
                       label_field=data.get("label_field"), limit=data.get("limit"))
    train, test = _split(len(texts.texts), float(data.get("test_fraction", 0.0)),
                         int(data.get("split_seed", 0)))
    labels = None if texts.labels is None else _pick(texts.labels, test)
    return (TextCorpus.from_texts(_pick(texts.texts, train), vocabulary=vocabulary),
            TextCorpus.from_texts(_pick(texts.texts, test), vocabulary=vocabulary), labels)


def topic_summary(model: Any, corpus: TextCorpus, n_words: int = 10) -> dict[str, Any]:
    """Each topic's top words, share of the corpus' tokens and NPMI coherence (document
    co-occurrence over ``corpus``), plus the mean NPMI and the topic diversity (top 25)."""
    from ..metrics.topics import coherence, topic_diversity

    top = model.top_words(n_words)
    npmi = coherence(top, corpus, measure="npmi")
    umass = coherence(top, corpus, measure="umass")
    theta = model.transform(corpus)
    weights = theta * np.asarray(corpus.counts.sum(axis=1)).reshape(-1, 1)
    share = weights.sum(axis=0) / max(float(weights.sum()), 1e-300)
    return {
        "top_words": top,
        "share": [float(s) for s in share],
        "npmi": [float(v) for v in npmi],
        "mean_npmi": float(np.mean(npmi)),
        "mean_umass": float(np.mean(umass)),
        "diversity": float(topic_diversity(model.top_words(25))),
    }


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
) -> dict[str, Any]:
    """Tokenise, split, fit ``model`` (an :class:`~latentmodels.LDA`), score it, save
    ``model.lm`` and ``run.json`` into ``out`` and write the report; returns run.json.

    Metrics: held-out perplexity by document completion (the vocabulary is built on the
    training documents only), NPMI and UMass coherence of each topic's top 10 words over the
    training documents, topic diversity, and the sizes involved.

    Example:
        >>> from latentmodels import LDA
        >>> info = fit_lda_run(load_texts("newsgroups"), LDA(20, random_state=0),
        ...                    out=Path("runs/lda"), command=[])  # doctest: +SKIP
        >>> round(info["metrics"]["perplexity"])  # doctest: +SKIP
        2100
    """
    from ..metrics.topics import document_completion_perplexity
    from ..report.page import MODEL_FILE, run_header, write_report, write_run

    options = {**DEFAULT_CORPUS_OPTIONS, **dict(corpus_options or {})}
    if not 0 <= test_fraction < 1:
        raise ValueError(f"test_fraction must be in [0, 1), got {test_fraction}")
    train_idx, test_idx = _split(len(data.texts), test_fraction, seed)
    if len(train_idx) < 2:
        raise ValueError(f"data has {len(data.texts)} documents; too few to fit topics on")
    train = TextCorpus.from_texts(_pick(data.texts, train_idx), **options)
    test = TextCorpus.from_texts(_pick(data.texts, test_idx), vocabulary=train.vocabulary)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    model.fit(train)
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
        },
        "metrics": metrics,
        "topics": summary,
    }
    write_run(out, info)
    if report:
        labels = None if data.labels is None else _pick(data.labels, test_idx)
        write_report(out, model, test, labels, metrics=metrics)
    return info

