"""Topic-model verbs: ``train lda``, ``topics`` and ``transform``.

    latentmodels train lda --data corpus.jsonl.gz --text-field text --topics 20 --out runs/lda
    latentmodels topics runs/lda -n 10
    latentmodels transform runs/lda --data new_posts.jsonl --out theta.npy

``--data`` takes JSON lines (``.jsonl``, ``.jsonl.gz``) with the text in ``--text-field``, a
text file with one document per line (``.txt``, ``.txt.gz``), or a corpus name:
``newsgroups`` (2,000 posts of 20 Newsgroups shipped with the package) or ``20newsgroups``
(the full training split in the shared data folder).
"""

from __future__ import annotations

import math
import time
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from . import _common as cli

__all__ = ["register", "register_train"]

TextDataOption = Annotated[str, typer.Option(
    help="JSON lines (.jsonl, .jsonl.gz), one document per line (.txt), or newsgroups "
         "(bundled sample) / 20newsgroups (shared data folder).")]
TextFieldOption = Annotated[str, typer.Option(help="JSON field holding each document's text.")]
LabelFieldOption = Annotated[str | None, typer.Option(
    help="JSON field holding a label per document (e.g. newsgroup); the report groups by it.")]
ModelArgument = Annotated[Path, typer.Argument(help="A saved topic model (.lm) or its run "
                                                    "directory.")]


class Method(str, Enum):
    vb = "vb"
    gibbs = "gibbs"


class StopWords(str, Enum):
    english = "english"
    none = "none"


def _load_topic_model(path: Path) -> Any:
    model = cli.load_model_argument(path)
    from ..report.sections.lda import is_lda

    if not is_lda(model):
        raise cli.BadInput(f"{path} holds a {type(model).__name__}, not a topic model")
    return model


def _load_texts(data: str, text_field: str, label_field: str | None,
                limit: int | None = None) -> Any:
    from ..runs.lda import load_texts
    try:
        return load_texts(data, text_field=text_field, label_field=label_field, limit=limit)
    except FileNotFoundError as exc:
        raise cli.BadInput(f"--data {exc}".replace("--data data: ", "--data ")) from None
    except (ValueError, UnicodeDecodeError) as exc:
        text = str(exc)
        for prefix, flag in (("data: ", "--data "), ("text_field ", "--text-field "),
                             ("label_field ", "--label-field "), ("limit ", "--limit ")):
            if text.startswith(prefix):
                text = flag + text[len(prefix):]
                break
        raise cli.BadInput(text) from None


def train_lda(
    ctx: typer.Context,
    data: TextDataOption,
    out: Annotated[Path, typer.Option(help="Run directory to write.")],
    topics: Annotated[int, typer.Option(help="Number of topics K.")] = 20,
    text_field: TextFieldOption = "text",
    label_field: LabelFieldOption = None,
    method: Annotated[Method | None, typer.Option(
        help="vb (variational Bayes) or gibbs (collapsed Gibbs sampling). Default: the "
             "model's.")] = None,
    n_iter: Annotated[int | None, typer.Option(
        help="Passes (vb) or sweeps (gibbs). Default: the model's.")] = None,
    min_df: Annotated[str, typer.Option(
        help="Drop words in fewer documents than this (a count, or a fraction below 1); "
             "auto: 1 % of the training documents, from 1 up to 5.")] = "auto",
    max_df: Annotated[float, typer.Option(
        help="Drop words in more documents than this (a fraction up to 1, or a count).")
    ] = 0.5,
    max_features: Annotated[int | None, typer.Option(
        help="Keep only the most frequent words.")] = None,
    stop_words: Annotated[StopWords, typer.Option(help="english or none.")
                          ] = StopWords.english,
    test_fraction: Annotated[float, typer.Option(
        help="Share of the documents held out for perplexity (fixed split).")] = 0.1,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    checkpoint_every: Annotated[int, typer.Option(
        help="Checkpoint into OUT/checkpoints every N passes or sweeps (0: off).")] = 0,
    resume: cli.ResumeOption = False,
    threads: Annotated[int | None, typer.Option(
        help="CPU threads. Default: all (the count is recorded in run.json).")] = None,
    report: Annotated[bool, typer.Option(help="Write report.html.")] = True,
    limit: Annotated[int | None, typer.Option(help="Use only the first N documents.")] = None,
) -> None:
    """Train an LDA topic model on text; write model.lm, run.json and report.html into OUT.

    latentmodels train lda --data corpus.jsonl.gz --text-field text --topics 20 --out runs/lda
    """
    with cli.clean_errors():
        from ..lda.model import LDA
        from ..runs.lda import fit_lda_run

        started = time.perf_counter()
        if topics < 1:
            raise cli.BadInput(f"--topics must be >= 1, got {topics}")
        if threads is None:
            import numba

            threads = int(numba.config.NUMBA_NUM_THREADS)
        if threads < 1:
            raise cli.BadInput(f"--threads must be >= 1, got {threads}")
        if not 0 <= test_fraction < 1:
            raise cli.BadInput(f"--test-fraction must be in [0, 1), got {test_fraction}")
        params: dict[str, Any] = {"n_components": topics, "random_state": seed,
                                  "n_jobs": threads,
                                  **cli.checkpoint_settings(out, checkpoint_every, resume)}
        if method is not None:
            params["method"] = method.value
        if n_iter is not None:
            if n_iter < 1:
                raise cli.BadInput(f"--n-iter must be >= 1, got {n_iter}")
            params["max_iter"] = n_iter
        if not math.isfinite(max_df) or max_df < 0:
            raise cli.BadInput("--max-df must be a finite number >= 0 (a count, or a "
                               f"fraction of the documents), got {max_df}")
        texts = _load_texts(data, text_field, label_field, limit)
        min_df_value = _parse_min_df(min_df, len(texts.texts), test_fraction)
        corpus_options = {
            "min_df": min_df_value,
            "max_df": int(max_df) if max_df > 1 else max_df,
            "max_features": max_features,
            "stop_words": None if stop_words == StopWords.none else stop_words.value,
        }
        effective: dict[str, Any] = {"threads": threads, "min_df": min_df_value,
                                     "label_field": texts.label_field}
        defaults = LDA(**params).get_params()
        if method is None:
            effective["method"] = defaults["method"]
        if n_iter is None and defaults["max_iter"] is not None:
            effective["n_iter"] = defaults["max_iter"]
        command = cli.recorded_command(ctx, effective)
        try:
            with cli.shown_warnings({"min_df=": "--min-df ", "Lower min_df": "Lower --min-df"}):
                info = fit_lda_run(texts, LDA(**params), out=out, command=command,
                                   corpus_options=corpus_options, test_fraction=test_fraction,
                                   seed=seed, limit=limit, report=report, resume=resume)
        except ValueError as exc:
            text = str(exc)
            if text.startswith("texts: no word is left"):
                text = "--data: " + text[len("texts: "):].replace("min_df=", "--min-df ").replace(
                    "max_df=", "--max-df ").replace("lower min_df", "lower --min-df")
            raise cli.BadInput(text) from None
        cli.print_run(out, info, report, time.perf_counter() - started)
        _print_topics(info["topics"]["top_words"], info["topics"]["share"],
                      info["topics"]["npmi"])


def _parse_min_df(text: str, n_documents: int, test_fraction: float) -> int | float:
    """``--min-df``: auto, a count of documents, or a fraction below 1."""
    from ..rundir import held_out_split
    from ..runs.lda import auto_min_df

    if text.strip().lower() == "auto":
        if not 0 <= test_fraction < 1:
            raise cli.BadInput(f"--test-fraction must be in [0, 1), got {test_fraction}")
        return auto_min_df(len(held_out_split(n_documents, test_fraction)[0]))
    try:
        value = float(text)
    except ValueError:
        raise cli.BadInput(f"--min-df must be auto, a count or a fraction, got {text!r}"
                           ) from None
    if not (value > 0 and math.isfinite(value)):
        raise cli.BadInput(f"--min-df must be a finite number > 0, got {text}")
    return int(value) if value >= 1 else value


def _print_topics(top_words: list[list[str]], share: Any, npmi: Any = None) -> None:
    from rich.table import Table

    table = Table(title="Topics")
    table.add_column("topic", justify="right")
    table.add_column("share", justify="right")
    if npmi is not None:
        table.add_column("NPMI", justify="right")
    table.add_column("top words")
    for k, words in enumerate(top_words):
        cells = [str(k), f"{100 * share[k]:.1f}%"]
        if npmi is not None:
            cells.append(f"{npmi[k]:.3f}")
        table.add_row(*cells, " ".join(words))
    cli.stdout().print(table)


def topics(
    model: ModelArgument,
    n: Annotated[int, typer.Option("-n", "--n-words", help="Words per topic.")] = 10,
    out: Annotated[Path | None, typer.Option(
        help="Also write topics.png (top-word bars) or topics.csv (topic, rank, word, "
             "probability).")] = None,
) -> None:
    """Print each topic's share and top words; optionally save them as a figure or CSV."""
    with cli.clean_errors():
        suffix = cli.check_out(out, (".png", ".csv")) if out is not None else None
        if n < 1:
            raise cli.BadInput(f"-n must be >= 1, got {n}")
        estimator = _load_topic_model(model)
        top = estimator.top_words(n)
        weight = estimator.components_.sum(axis=1) - (
            estimator.topic_word_prior_ * estimator.n_features_in_)
        share = weight / max(float(weight.sum()), 1e-300)
        _print_topics(top, share)
        if suffix == ".png":
            from ..plots.lda import plot_top_words

            plot_top_words(estimator, n_words=n, path=out)
        elif suffix == ".csv":
            import csv
            import io as _stdlib_io

            from .._internal.io import atomic_write_bytes

            phi = estimator.topic_word_
            order = np.argsort(-phi, axis=1, kind="stable")[:, :n]
            buffer = _stdlib_io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            writer.writerow(["topic", "rank", "word", "probability"])
            for k, words in enumerate(top):
                for rank, (word, index) in enumerate(zip(words, order[k], strict=True)):
                    writer.writerow([k, rank + 1, word, f"{phi[k, index]:.6g}"])
            atomic_write_bytes(out, buffer.getvalue().encode("utf-8"))
        if out is not None:
            cli.stdout().print(f"Wrote [bold]{out}[/bold]")


def transform(
    model: ModelArgument,
    data: TextDataOption,
    out: Annotated[Path, typer.Option(help="Where to write the topic proportions (.npy, "
                                           ".csv).")],
    text_field: TextFieldOption = "text",
    limit: Annotated[int | None, typer.Option(help="Only the first N documents.")] = None,
) -> None:
    """Topic proportions of documents under a saved topic model (one row per document).

    Words the model's vocabulary lacks are ignored and counted; an empty document gets the
    prior's proportions.
    """
    with cli.clean_errors():
        suffix = cli.check_out(out, (".npy", ".csv"))
        estimator = _load_topic_model(model)
        if estimator.vocabulary_ is None:
            raise cli.BadInput(f"{model} was fitted on a count matrix and has no vocabulary, "
                                "so it cannot read text")
        from ..lda.text import TextCorpus

        texts = _load_texts(data, text_field, None, limit)
        corpus = TextCorpus.from_texts(texts.texts, vocabulary=estimator.vocabulary_)
        theta = estimator.transform(corpus)
        if suffix == ".npy":
            cli.save_npy(out, theta)
        else:
            import csv
            import io as _stdlib_io

            from .._internal.io import atomic_write_bytes

            buffer = _stdlib_io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            writer.writerow(["document", *(f"topic_{k}" for k in range(theta.shape[1]))])
            for d, row in enumerate(theta):
                writer.writerow([d, *(f"{p:.6g}" for p in row)])
            atomic_write_bytes(out, buffer.getvalue().encode("utf-8"))
        total = corpus.n_tokens + corpus.n_unknown
        unknown = f"{corpus.n_unknown:,} of {total:,} tokens" if total else "no tokens"
        cli.stdout().print(f"Wrote topic proportions of {len(corpus):,} documents "
                         f"({theta.shape[1]} topics) to [bold]{out}[/bold]; {unknown} were "
                         "not in the model's vocabulary and were ignored.")


def register_train(train_app: typer.Typer) -> None:
    """Add ``lda`` to the ``train`` sub-commands."""
    train_app.command(name="lda")(train_lda)


def register(app: typer.Typer) -> None:
    """Add ``topics`` and ``transform`` to the main app."""
    app.command(name="topics")(topics)
    app.command(name="transform")(transform)
