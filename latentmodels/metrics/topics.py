"""Quality metrics for topic models, each defined once (formula in the docstring).

* :func:`document_completion_perplexity`: held-out perplexity by document completion, the
  one figure used to compare LDA methods and other libraries (it needs only topic-word
  distributions and a document-topic prior, which every library exposes).
* :func:`coherence`: UMass and NPMI topic coherence, over documents or sliding windows.
* :func:`topic_diversity`: the share of distinct words among all topics' top words.
* :func:`block_concentration`: how much of a topic rests on a few documents that hold its top
  words together (a signature or footer repeated in every post of one author).

Examples
--------
>>> import numpy as np, scipy.sparse as sp
>>> phi = np.array([[0.5, 0.5, 0.0, 0.0], [0.0, 0.0, 0.5, 0.5]])
>>> X = sp.csr_matrix(np.array([[2, 2, 0, 0], [0, 0, 3, 1]]))
>>> round(document_completion_perplexity(phi, 0.1, X, random_state=0)["perplexity"], 2)
2.1
>>> topic_diversity([["a", "b"], ["b", "c"]])
0.75
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from .._internal.validation import check_choice, check_positive_int, check_random_state
from ..lda.scoring import as_counts, document_log_likelihood, fold_in, window_cooccurrence
from ..lda.text import TextCorpus


def _topic_word(topic_word: Any) -> np.ndarray:
    phi = np.asarray(topic_word, dtype=np.float64)
    if phi.ndim != 2 or phi.shape[0] < 1 or phi.shape[1] < 1:
        raise ValueError(f"topic_word must be a (K, V) matrix, got shape {phi.shape}")
    if not np.isfinite(phi).all() or (phi < 0).any():
        raise ValueError("topic_word must hold finite, non-negative values")
    sums = phi.sum(axis=1, keepdims=True)
    if (sums <= 0).any():
        raise ValueError("topic_word has a topic (row) with zero total weight")
    return phi / sums


def split_documents(
    X: Any, fraction: float = 0.5, random_state: Any = 0
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Split each document's tokens at random into an observed and an evaluated part.

    Each document's tokens are shuffled; the first ``floor(fraction * n_d)`` form the
    observed part, the rest the evaluated part.

    Parameters
    ----------
    X : sparse matrix or array-like of shape (n_documents, n_words)
        Word counts.
    fraction : float, default=0.5
        Share of each document's tokens in the observed part, strictly between 0 and 1.
    random_state : None, int or numpy.random.Generator, default=0
        Seed of the shuffle.

    Returns
    -------
    observed, evaluated : scipy.sparse.csr_matrix
        Two count matrices (float) shaped like ``X`` that add up to it.

    Examples
    --------
    >>> X = np.array([[4, 0, 2], [1, 3, 0]])
    >>> observed, evaluated = split_documents(X, 0.5, random_state=0)
    >>> observed.sum(axis=1).A.ravel().tolist(), (observed + evaluated).toarray().tolist()
    ([3.0, 2.0], [[4.0, 0.0, 2.0], [1.0, 3.0, 0.0]])
    """
    counts = as_counts(X, "X")
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must lie strictly between 0 and 1, got {fraction}")
    rng = np.random.default_rng(check_random_state(random_state))
    reps = counts.data.astype(np.int64)
    rows = np.repeat(np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr)), reps)
    cols = np.repeat(counts.indices, reps)
    order = np.lexsort((rng.random(len(rows)), rows))
    rows, cols = rows[order], cols[order]
    lengths = np.bincount(rows, minlength=counts.shape[0])
    starts = np.concatenate([[0], np.cumsum(lengths)])[:-1]
    rank = np.arange(len(rows)) - starts[rows]
    first = rank < np.floor(fraction * lengths[rows])
    shape = counts.shape
    ones = np.ones(len(rows))
    observed = sp.csr_matrix((ones[first], (rows[first], cols[first])), shape=shape)
    evaluated = sp.csr_matrix((ones[~first], (rows[~first], cols[~first])), shape=shape)
    observed.sum_duplicates()
    evaluated.sum_duplicates()
    return observed, evaluated


def document_completion_perplexity(
    topic_word: Any,
    doc_topic_prior: Any,
    X: Any,
    *,
    fraction: float = 0.5,
    max_iter: int = 200,
    tol: float = 1e-6,
    random_state: Any = 0,
) -> dict[str, float]:
    """Held-out perplexity by document completion.

    Each held-out document d's tokens are split at random (:func:`split_documents`) into an
    observed half ``o_d`` and an evaluated half ``e_d``. Topic proportions are inferred from
    the observed half with the topics held fixed, by the fixed point::

        theta_dk = (alpha_k + sum_{w in o_d} n_dw theta_dk phi_kw / sum_l theta_dl phi_lw)
                   / (sum_k alpha_k + |o_d|),

    and the evaluated half is scored with them::

        log-likelihood = sum_d sum_{w in e_d} n_dw log sum_k theta_dk phi_kw,
        nats per token = -log-likelihood / sum_d |e_d|,
        perplexity = exp(nats per token).

    ``topic_word`` (K, V) rows are normalised first, so pseudo-counts (e.g. scikit-learn's
    ``components_``) may be passed. Documents with fewer than 2 tokens are skipped. The
    split depends only on ``X`` and ``random_state``, so every method and library is scored
    on exactly the same tokens.

    Parameters
    ----------
    topic_word : array-like of shape (n_topics, n_words)
        Topic-word distributions or pseudo-counts.
    doc_topic_prior : float or array-like of shape (n_topics,)
        The Dirichlet prior ``alpha`` on document-topic proportions.
    X : sparse matrix or array-like of shape (n_documents, n_words)
        Held-out word counts.
    fraction : float, default=0.5
        Share of each document's tokens that is observed.
    max_iter : int, default=200
        Most fixed-point iterations.
    tol : float, default=1e-6
        Convergence tolerance of the fixed point.
    random_state : None, int or numpy.random.Generator, default=0
        Seed of the token split.

    Returns
    -------
    dict
        ``perplexity``, ``nats_per_token``, ``log_likelihood``, ``n_tokens`` (evaluated
        tokens) and ``n_documents`` (documents scored).

    Examples
    --------
    >>> phi = np.array([[0.5, 0.5, 0.0, 0.0], [0.0, 0.0, 0.5, 0.5]])
    >>> X = sp.csr_matrix(np.array([[2, 2, 0, 0], [0, 0, 3, 1]]))
    >>> result = document_completion_perplexity(phi, 0.1, X, random_state=0)
    >>> round(result["perplexity"], 2), result["n_documents"]
    (2.1, 2)
    """
    phi = _topic_word(topic_word)
    k, v = phi.shape
    alpha = np.asarray(doc_topic_prior, dtype=np.float64)
    alpha = np.full(k, float(alpha)) if alpha.ndim == 0 else alpha.ravel()
    if alpha.shape != (k,) or not (np.isfinite(alpha).all() and (alpha > 0).all()):
        raise ValueError(f"doc_topic_prior must be a positive number or {k} positive numbers")
    counts = as_counts(X, "X")
    if counts.shape[1] != v:
        raise ValueError(f"X has {counts.shape[1]} word columns but topic_word has {v} words")
    max_iter = check_positive_int(max_iter, "max_iter")
    lengths = np.asarray(counts.sum(axis=1)).ravel()
    counts = counts[lengths >= 2]
    if counts.shape[0] == 0:
        raise ValueError("X has no document with at least 2 tokens")
    observed, evaluated = split_documents(counts, fraction, random_state)
    theta = fold_in(observed, phi, alpha, max_iter, float(tol))
    loglik = document_log_likelihood(evaluated, phi, theta).sum()
    n_tokens = float(evaluated.sum())
    nats = -loglik / n_tokens
    return {
        "perplexity": float(math.exp(nats)),
        "nats_per_token": float(nats),
        "log_likelihood": float(loglik),
        "n_tokens": n_tokens,
        "n_documents": int(counts.shape[0]),
    }


def _top_ids(top_words: Any, vocabulary: Any) -> list[list[int]]:
    rows = []
    for topic in top_words:
        ids = []
        for w in topic:
            if isinstance(w, (int, np.integer)):
                ids.append(int(w))
            elif vocabulary is None:
                raise ValueError("top_words holds words, so a TextCorpus (vocabulary) is needed")
            elif w in vocabulary.index:
                ids.append(vocabulary.index[w])
            else:
                raise ValueError(f"top_words: {w!r} is not in the corpus vocabulary")
        rows.append(ids)
    return rows


def coherence(
    top_words: Sequence[Sequence[Any]],
    corpus: TextCorpus | Any,
    *,
    measure: str = "npmi",
    window: int | None = None,
    epsilon: float = 1e-12,
) -> np.ndarray:
    """Coherence of each topic from co-occurrence of its top words in a reference corpus.

    Co-occurrence is counted over *units*: whole documents (``window=None``) or every
    sliding window of ``window`` consecutive tokens (a document shorter than the window is
    one unit; needs a :class:`~latentmodels.TextCorpus`, which keeps token order). With ``N`` units,
    ``D(w)`` units containing w and ``D(w, v)`` units containing both, for a topic's top
    words ``w_1..w_n`` (most probable first):

    * ``"umass"``: mean over i > j of ``log((D(w_i, w_j) + 1) / D(w_j))`` (Mimno et al.
      2011; document units are the usual choice);
    * ``"npmi"``: mean over pairs of ``log(p(w_i, w_j) / (p(w_i) p(w_j))) / -log p(w_i, w_j)``
      with ``p(.) = D(.) / N``; a pair that never co-occurs scores -1 (Bouma 2009).

    ``top_words`` holds words (needs a TextCorpus) or integer word ids; ``corpus`` is a
    TextCorpus or a document-term count matrix (document units only).

    Parameters
    ----------
    top_words : sequence of sequences
        Each topic's top words (needs a TextCorpus) or integer word ids, most probable first.
    corpus : TextCorpus or sparse matrix
        The reference documents; a count matrix allows document units only.
    measure : {"npmi", "umass"}, default="npmi"
        The coherence measure.
    window : int or None, default=None
        Sliding-window length in tokens; None counts whole documents.
    epsilon : float, default=1e-12
        Guard against log(0).

    Returns
    -------
    numpy.ndarray of shape (n_topics,)
        One value per topic, higher is more coherent (NPMI lies in [-1, 1]).

    Examples
    --------
    >>> corpus = TextCorpus.from_texts(["apple pear", "apple pear", "cat dog"])
    >>> coherence([["apple", "pear"], ["apple", "dog"]], corpus).round(2).tolist()
    [1.0, -1.0]
    """
    check_choice(measure, "measure", ("umass", "npmi"))
    if isinstance(corpus, TextCorpus):
        vocabulary, tokens, doc_ptr = corpus.vocabulary, corpus.tokens, corpus.doc_ptr
        n_words = len(vocabulary)
    else:
        if window is not None:
            raise ValueError("window needs a TextCorpus (token order); got a count matrix")
        counts = as_counts(corpus, "corpus")
        vocabulary, n_words = None, counts.shape[1]
        # whole-document units only need which words occur, in any order
        tokens, doc_ptr = counts.indices.astype(np.int64), counts.indptr.astype(np.int64)
    if window is not None:
        window = check_positive_int(window, "window", minimum=2)
    ids = _top_ids(top_words, vocabulary)
    union = sorted({i for row in ids for i in row})
    if any(i < 0 or i >= n_words for i in union):
        raise ValueError(f"top_words holds a word id outside 0..{n_words - 1}")
    slot = np.full(n_words, -1, dtype=np.int64)
    slot[union] = np.arange(len(union))
    single, pair, n_units = window_cooccurrence(
        tokens, doc_ptr, slot, len(union), 0 if window is None else window
    )
    if n_units == 0:
        raise ValueError("corpus has no tokens")
    scores = np.empty(len(ids))
    for t, row in enumerate(ids):
        values = []
        for i in range(1, len(row)):
            for j in range(i):
                a, b = slot[row[i]], slot[row[j]]
                if measure == "umass":
                    values.append(math.log((pair[a, b] + 1.0) / max(single[b], 1)))
                    continue
                joint = pair[a, b] / n_units
                if joint <= 0:
                    values.append(-1.0)
                    continue
                pmi = math.log(joint / ((single[a] / n_units) * (single[b] / n_units)))
                denominator = -math.log(joint)
                values.append(pmi / denominator if denominator > epsilon else 1.0)
        scores[t] = float(np.mean(values)) if values else float("nan")
    return scores


def block_concentration(
    top_words: Sequence[Sequence[Any]], corpus: TextCorpus | Any
) -> dict[str, list[Any]]:
    """How much of each topic's top-word mass sits in documents holding most of them at once.

    A *block document* of a topic holds at least half of its top words. ``share`` is the
    fraction of all occurrences of the topic's top words that fall in block documents. A
    theme spreads its words over many documents, each using a few of them (share well
    below 0.5); a block of text repeated verbatim (an e-mail signature, a footer) puts
    most of them into the few documents that carry it (share near 1), and its coherence
    is high for that reason alone.

    Parameters
    ----------
    top_words : sequence of sequences
        Each topic's top words (needs a TextCorpus) or integer word ids.
    corpus : TextCorpus or sparse matrix
        The reference documents.

    Returns
    -------
    dict
        ``share`` (float per topic, in [0, 1]) and ``documents`` (int per topic: the number
        of block documents).

    Examples
    --------
    >>> corpus = TextCorpus.from_texts(["sig name tag", "sig name tag", "cat food",
    ...                                 "cat toy", "dog food", "dog toy", "bird seed"])
    >>> result = block_concentration([["sig", "name", "tag"], ["cat", "dog", "bird"]], corpus)
    >>> result["share"], result["documents"]
    ([1.0, 0.0], [2, 0])
    """
    if isinstance(corpus, TextCorpus):
        vocabulary, counts = corpus.vocabulary, sp.csr_matrix(corpus.counts)
    else:
        vocabulary, counts = None, as_counts(corpus, "corpus")
    ids = _top_ids(top_words, vocabulary)
    if any(i < 0 or i >= counts.shape[1] for row in ids for i in row):
        raise ValueError(f"top_words holds a word id outside 0..{counts.shape[1] - 1}")
    shares: list[float] = []
    documents: list[int] = []
    for row in ids:
        sub = counts[:, row]
        present = np.asarray((sub > 0).sum(axis=1)).ravel()
        per_document = np.asarray(sub.sum(axis=1), dtype=np.float64).ravel()
        block = present >= max(2, math.ceil(len(row) / 2))
        total = float(per_document.sum())
        shares.append(float(per_document[block].sum() / total) if total > 0 else 0.0)
        documents.append(int(block.sum()))
    return {"share": shares, "documents": documents}


def topic_diversity(top_words: Sequence[Sequence[Any]]) -> float:
    """Share of distinct words among all topics' top words (Dieng et al. 2020).

    ``len(set of all top words) / (K * n)``: 1 means no two topics share a top word.

    Parameters
    ----------
    top_words : sequence of sequences
        Each topic's top words.

    Returns
    -------
    float
        The share of distinct words, in (0, 1].

    Examples
    --------
    >>> topic_diversity([["a", "b"], ["b", "c"]])
    0.75
    """
    rows = [list(r) for r in top_words]
    total = sum(len(r) for r in rows)
    if total == 0:
        raise ValueError("top_words is empty")
    return len({w for r in rows for w in r}) / total


def topic_summary(model: Any, corpus: Any, n_words: int = 10) -> dict[str, Any]:
    """Each topic's top words, share of the corpus' tokens and coherence.

    Coherence is measured by document co-occurrence over ``corpus``; the topic diversity
    is over each topic's top 25 words.

    Parameters
    ----------
    model : LDA
        A fitted topic model (``top_words`` and ``transform``).
    corpus : TextCorpus
        The documents to measure coherence and shares on.
    n_words : int, default=10
        Top words per topic.

    Returns
    -------
    dict
        ``top_words``, ``share``, ``npmi``, ``block_share`` and ``block_documents`` (one
        entry per topic, see :func:`block_concentration`), ``n_documents``, ``mean_npmi``,
        ``mean_umass`` and ``diversity``.

    Examples
    --------
    >>> from latentmodels import LDA
    >>> corpus = TextCorpus.from_texts(["apple pear fig", "pear apple", "cat dog",
    ...                                 "dog cat mouse"] * 3)
    >>> lda = LDA(2, random_state=0).fit(corpus)
    >>> summary = topic_summary(lda, corpus, n_words=2)
    >>> len(summary["top_words"]), round(sum(summary["share"]), 6)
    (2, 1.0)
    """
    top = model.top_words(n_words)
    npmi = coherence(top, corpus, measure="npmi")
    umass = coherence(top, corpus, measure="umass")
    blocks = block_concentration(top, corpus)
    theta = model.transform(corpus)
    weights = theta * np.asarray(corpus.counts.sum(axis=1)).reshape(-1, 1)
    share = weights.sum(axis=0) / max(float(weights.sum()), 1e-300)
    return {
        "top_words": top,
        "share": [float(s) for s in share],
        "npmi": [float(v) for v in npmi],
        "block_share": blocks["share"],
        "block_documents": blocks["documents"],
        "n_documents": len(corpus),
        "mean_npmi": float(np.mean(npmi)),
        "mean_umass": float(np.mean(umass)),
        "diversity": float(topic_diversity(model.top_words(25))),
    }
