"""The topic-model part of the HTML report: a table of topics (share, coherence, top words),
top-word bars, coherence per topic, and the topic proportions of held-out documents (alone
and averaged per label). Used for an LDA run and for the demo's LDA sub-run."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from ...plots import lda as plots_lda
from ...rundir import MODEL_FILE, is_text_run, load_model, load_run_corpora, read_run
from ..context import (
    METRIC_LABELS,
    ReportContext,
    ReportFigure,
    Section,
    flag_html,
    html_table,
    look_for_html,
)

__all__ = ["LDA_SECTIONS", "is_lda", "lda_section"]

_MAX_HEATMAP_DOCS = 200

# A topic whose top words sit mostly in documents that hold half of them at once is a repeated
# block of text (a signature, a footer), not a theme: see metrics.topics.block_concentration.
_BLOCK_SHARE_FLAG = 0.5


def is_lda(model: Any) -> bool:
    """True for a fitted topic model (an object with ``components_`` and ``top_words``).

    Parameters
    ----------
    model : object or None
        The model.

    Returns
    -------
    bool

    Examples
    --------
    >>> from latentmodels import VAE
    >>> is_lda(None), is_lda(VAE())
    (False, False)
    """
    return model is not None and callable(getattr(model, "top_words", None)) and hasattr(
        model, "components_")


def _odd_topics(summary: Mapping[str, Any]) -> tuple[list[int], list[int]]:
    """Topics that look off: repeated boilerplate, and incoherent words (negative NPMI)."""
    blocks = summary.get("block_share")  # absent from runs recorded before it existed
    boilerplate = [k for k in range(len(summary["npmi"]))
                   if blocks is not None and blocks[k] > _BLOCK_SHARE_FLAG]
    junk = [k for k, npmi in enumerate(summary["npmi"]) if npmi < 0 and k not in boilerplate]
    return boilerplate, junk


def _topics_phrase(topics: list[int], singular: str, plural: str) -> str:
    """'topic 5 rests' or 'topics 7, 15 rest'."""
    numbers = ", ".join(map(str, topics))
    return f"topic {numbers} {singular}" if len(topics) == 1 else f"topics {numbers} {plural}"


def _topic_remarks(summary: Mapping[str, Any]) -> dict[int, str]:
    boilerplate, junk = _odd_topics(summary)
    remarks = {k: "negative NPMI: its top words rarely occur together" for k in junk}
    for k in boilerplate:
        remarks[k] = (f"{100 * summary['block_share'][k]:.0f}% of its top words' occurrences "
                      f"are in {summary['block_documents'][k]} documents holding half of them "
                      "at once: a repeated block, not a theme")
    return remarks


def _topics_table(summary: Mapping[str, Any], remarks: Mapping[int, str]) -> str:
    rows = []
    for k, words in enumerate(summary["top_words"]):
        rows.append(
            f"<tr><td>{k}</td><td>{100 * summary['share'][k]:.1f}%</td>"
            f"<td>{summary['npmi'][k]:.3f}</td><td>{html.escape(' '.join(words))}</td>"
            f"<td>{html.escape(remarks.get(k, ''))}</td></tr>"
        )
    head = ("<tr><th>topic</th><th>share of tokens</th><th>NPMI</th>"
            "<th>top words</th><th>remark</th></tr>")
    return f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"


def _section_for(model: Any, corpus: Any, labels: Any, run_info: Mapping[str, Any], *,
                 section_id: str, title: str, prefix: str) -> Section:
    from ...metrics.topics import topic_summary

    summary = run_info.get("topics")
    reference = "the training documents"
    if not summary and corpus is not None and len(corpus):
        summary = topic_summary(model, corpus)
        reference = "the held-out documents"
    figures = [ReportFigure(f"{prefix}topic_words.png", plots_lda.plot_top_words(model),
                                    "The most probable words of each topic.")]
    if not summary:
        # No documents to judge the topics on: show the topics alone.
        text = (f"<p>{model.n_components} topics over {model.n_features_in_:,} words. No "
                "documents were given, so coherence and document proportions are left "
                "out.</p>")
        return Section(section_id, title, text, figures)
    text = look_for_html(
        "each topic's top words should name one subject you could put a title on; NPMI "
        "above about 0.1 is usual for such topics, below 0 means the words rarely meet.")
    remarks = _topic_remarks(summary)
    boilerplate, junk = _odd_topics(summary)
    if boilerplate:
        text += flag_html(
            f"{_topics_phrase(boilerplate, 'rests', 'rest')} on a block of text repeated in "
            "a few documents (an e-mail signature, a footer): their coherence is high "
            "because the same lines repeat, not because they found a subject. "
            "Remove such blocks from the texts or ignore these topics.")
    if junk:
        text += flag_html(
            f"{_topics_phrase(junk, 'has', 'have')} negative NPMI: their top words seldom "
            "appear together, so they are leftovers rather than subjects.")
    text += (f"<p>{model.n_components} topics over {model.n_features_in_:,} words. Coherence is "
             f"NPMI of each topic's top 10 word pairs, co-occurrence counted over {reference} "
             "(from -1 to 1; higher is more coherent).</p>")
    text += _topics_table(summary, remarks)
    labels_of_topics = [plots_lda._topic_label(k, w, 2) for k, w in
                        enumerate(summary["top_words"])]
    figures.append(ReportFigure(
        f"{prefix}topic_coherence.png",
        plots_lda.plot_topic_coherence(summary["npmi"], summary["top_words"]),
        "NPMI coherence per topic, best first; dashed: the mean."))
    if corpus is not None and len(corpus):
        theta = model.transform(corpus)
        figures.append(ReportFigure(
            f"{prefix}doc_topics.png",
            plots_lda.plot_doc_topics(theta, max_docs=_MAX_HEATMAP_DOCS,
                                      topic_labels=labels_of_topics),
            "Topic proportions of held-out documents (transform), sorted by dominant topic."))
        if labels is not None and len(set(labels)) > 1:
            figures.append(ReportFigure(
                f"{prefix}label_topics.png",
                plots_lda.plot_label_topics(theta, labels, topic_labels=labels_of_topics),
                "Mean topic proportions of the held-out documents of each label."))
    return Section(section_id, title, text, figures)


def lda_section(ctx: ReportContext) -> Section | None:
    """An LDA run's topics.

    Also the topic part of a run whose ``run.json`` names a sub-run in ``lda_run`` (the
    demo's 20 Newsgroups model).

    Parameters
    ----------
    ctx : ReportContext
        The model, run record and ``options["corpus"]`` / ``options["labels"]`` (held-out
        documents and their labels, optional).

    Returns
    -------
    Section or None
        The topics section; None for a model that is not a topic model in a run without
        ``lda_run``.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from latentmodels import LDA, TextCorpus
    >>> from latentmodels.report.context import ReportContext
    >>> corpus = TextCorpus.from_texts(["apple pear fig", "pear apple", "cat dog",
    ...                                 "dog cat mouse"] * 3)
    >>> lda = LDA(2, random_state=0).fit(corpus)
    >>> ctx = ReportContext(Path(tempfile.mkdtemp()), lda, None, None, {}, {},
    ...                     options={"corpus": corpus})
    >>> lda_section(ctx).id
    'topics'
    """
    if is_lda(ctx.model):
        return _section_for(ctx.model, ctx.options.get("corpus"), ctx.options.get("labels"),
                            ctx.run_info, section_id="topics", title="Topics", prefix="")
    sub = ctx.run_info.get("lda_run")
    if not sub:
        return None
    sub_dir = ctx.run_dir / str(sub)
    title = str(ctx.run_info.get("lda_title") or "Topic model")
    try:
        info = read_run(sub_dir)
        model = load_model(sub_dir / MODEL_FILE)
        _, corpus, labels = load_run_corpora(info, model.vocabulary_)
    except (FileNotFoundError, ValueError) as exc:
        return Section("topics", title, f"<p class='note'>The topic-model run "
                               f"{html.escape(str(sub_dir))} could not be read: "
                               f"{html.escape(str(exc))}</p>")
    section = _section_for(model, corpus, labels, info, section_id="topics", title=title,
                           prefix="lda_")
    metrics = info.get("metrics") or {}
    shown = {METRIC_LABELS.get(k, k): v for k, v in metrics.items()}
    section.html = html_table(shown, ("metric", "value")) + section.html
    command = info.get("command")
    if command:
        section.html += (f"<p class='note'>Model and run: {html.escape(str(sub_dir))} "
                         f"(same as <code>{html.escape(command)}</code>).</p>")
    return section


def prepare_inputs(model: Any, X: Any, y: Any, run_info: Mapping[str, Any]
                   ) -> tuple[Any, Any]:
    """The held-out corpus and labels an LDA report shows.

    Those given are checked and returned; else those the run recorded, re-tokenised with the
    model's vocabulary.

    Parameters
    ----------
    model : LDA
        The fitted topic model.
    X : TextCorpus or None
        Held-out documents.
    y : sequence or None
        Their labels.
    run_info : mapping
        The run's ``run.json`` record.

    Returns
    -------
    corpus : TextCorpus or None
        The documents to show; None when neither given nor recorded.
    labels : list of str or None
        Their labels.

    Examples
    --------
    >>> from latentmodels.lda.text import TextCorpus
    >>> corpus = TextCorpus.from_texts(["a cat", "a dog"])
    >>> X, labels = prepare_inputs(None, corpus, [1, 2], {})
    >>> len(X), labels
    (2, ['1', '2'])
    >>> prepare_inputs(None, None, None, {})
    (None, None)
    """
    from ...lda.text import TextCorpus

    if X is not None:
        if not isinstance(X, TextCorpus):
            raise TypeError(f"X must be a TextCorpus for a topic model's report, got "
                            f"{type(X).__name__}")
        if y is not None and len(y) != len(X):
            raise ValueError(f"y has {len(y)} labels but X has {len(X)} documents")
        return X, None if y is None else [str(v) for v in y]
    if is_text_run(run_info) and getattr(model, "vocabulary_", None) is not None:
        _, corpus, labels = load_run_corpora(run_info, model.vocabulary_)
        return corpus, labels
    return None, None


#: Appended to the report's sections.
LDA_SECTIONS = [lda_section]
