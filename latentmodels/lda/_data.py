"""Turning what users pass (matrices, corpora, raw strings) into checked CSR counts."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.utils import check_array

from .._internal.validation import MAX_EXACT_INTEGER, check_data
from .text import TextCorpus, Vocabulary


def check_counts(
    X: Any, name: str = "X", *, allow_empty: bool = False, integer: bool = True
) -> sp.csr_matrix:
    """Return ``X`` as a float64 CSR matrix of non-negative (integer) counts.

    Parameters
    ----------
    X : sparse matrix or array, ndarray, torch.Tensor or nested lists
        Shape ``(n_documents, n_words)``; any scipy sparse format (e.g. ``CountVectorizer``
        output).
    name : str, default="X"
        The argument's name in error messages.
    allow_empty : bool, default=False
        Accept zero documents.
    integer : bool, default=True
        Refuse fractional values. Variational Bayes works with any non-negative weights
        (e.g. tf-idf); Gibbs sampling gives each token a topic, so it needs integers.

    Returns
    -------
    scipy.sparse.csr_matrix
        Summed duplicates, sorted indices, explicit zeros removed.

    Raises
    ------
    ValueError
        Negative, NaN or infinite values, fractional ones when ``integer``, or a wrong
        shape.
    TypeError
        Non-numeric input.

    Examples
    --------
    >>> import numpy as np
    >>> check_counts(np.array([[0, 2], [1, 0]])).toarray().tolist()
    [[0.0, 2.0], [1.0, 0.0]]
    >>> check_counts(np.array([[0.5, 2.0]]), integer=False).toarray().tolist()
    [[0.5, 2.0]]
    """
    if sp.issparse(X):
        if X.ndim != 2:
            raise ValueError(f"{name} must be 2-D (n_documents, n_words), got shape {X.shape}")
        if not (np.issubdtype(X.dtype, np.number) or X.dtype == np.bool_):
            raise TypeError(f"{name} must hold numbers, got dtype {X.dtype}")
        # scikit-learn's conversion (it refuses complex values); the checks below follow.
        matrix = sp.csr_matrix(check_array(
            X, accept_sparse=True, dtype=np.float64, copy=True, ensure_all_finite=False,
            ensure_min_samples=0, ensure_min_features=0, input_name=name,
        ))
    else:
        if isinstance(X, torch.Tensor):
            X = X.detach().cpu().numpy()
        array = check_data(X, name, min_ndim=2, dtype=np.float64, allow_empty=True)
        if array.ndim != 2:
            raise ValueError(
                f"{name} must be 2-D (n_documents, n_words), got shape {array.shape}"
            )
        matrix = sp.csr_matrix(array)
    if matrix.shape[0] == 0 and not allow_empty:
        raise ValueError(f"{name} is empty (0 documents): found array with 0 sample(s) (shape="
                         f"{matrix.shape}) while a minimum of 1 is required.")
    if matrix.shape[1] == 0:
        raise ValueError(f"{name} has no columns (an empty vocabulary): found array with 0 "
                         f"feature(s) (shape={matrix.shape}) while a minimum of 1 is required.")
    matrix.sum_duplicates()
    data = matrix.data
    if data.size:
        if not np.isfinite(data).all():
            raise ValueError(f"{name} contains NaN or infinite counts")
        if (data < 0).any():
            raise ValueError(
                f"{name} contains negative counts (smallest {data.min():g}); counts must be "
                ">= 0 (Negative values in data are not counts)"
            )
        if data.max() > MAX_EXACT_INTEGER:  # sums of such counts lose their integers
            raise ValueError(f"{name} contains counts up to {data.max():.3g}; at most "
                             f"{MAX_EXACT_INTEGER} (2**53) is accepted")
        fractional = data != np.rint(data) if integer else None
        if fractional is not None and fractional.any():
            raise ValueError(
                f"{name} must hold integer word counts; found {data[fractional][0]:g} "
                "(Gibbs sampling gives each token a topic; method='vb' accepts fractional "
                "weights such as tf-idf)"
            )
    matrix.eliminate_zeros()
    matrix.sort_indices()
    return matrix


def to_counts(
    X: Any, vocabulary: Vocabulary | None, n_features: int | None, name: str = "X",
    *, integer: bool = True,
) -> tuple[sp.csr_matrix, int]:
    """Counts aligned with a fitted model's words, and the number of unknown tokens dropped.

    Parameters
    ----------
    X : TextCorpus, list of str or count matrix
        A :class:`~latentmodels.TextCorpus` (its words are matched to ``vocabulary`` by name), raw
        strings (tokenised with ``vocabulary``'s rules) or counts whose columns must be the
        model's words.
    vocabulary : Vocabulary or None
        The model's vocabulary.
    n_features : int or None
        The model's number of words (None before fitting).
    name : str, default="X"
        The argument's name in error messages.
    integer : bool, default=True
        Refuse fractional counts (see :func:`check_counts`).

    Returns
    -------
    counts : scipy.sparse.csr_matrix
    unknown : int

    Examples
    --------
    >>> from latentmodels.lda.text import Vocabulary
    >>> counts, unknown = to_counts(["cat hat cat"], Vocabulary(["cat"]), 1)
    >>> counts.toarray().tolist(), unknown
    ([[2.0]], 1)
    """
    if isinstance(X, TextCorpus):
        if vocabulary is None or X.vocabulary.words == vocabulary.words:
            counts = check_counts(X.counts, name)
            unknown = 0
        else:
            # same words by name: reorder columns, drop (and count) the unknown ones
            target = np.asarray(
                [vocabulary.index.get(w, -1) for w in X.vocabulary.words], dtype=np.int64
            )
            source = check_counts(X.counts, name).tocoo()
            cols = target[source.col]
            keep = cols >= 0
            unknown = int(source.data[~keep].sum())
            counts = sp.csr_matrix(
                (source.data[keep], (source.row[keep], cols[keep])),
                shape=(source.shape[0], len(vocabulary)),
            )
            counts.sum_duplicates()
            counts.sort_indices()
        return _check_width(counts, n_features, vocabulary, name), unknown
    if isinstance(X, (list, tuple)) and X and all(isinstance(x, str) for x in X):
        if vocabulary is None:
            raise TypeError(
                f"{name} is raw text, but this model was fitted on a count matrix and has no "
                "vocabulary; fit it on a TextCorpus to transform raw text"
            )
        corpus = TextCorpus.from_texts(list(X), vocabulary=vocabulary)
        return check_counts(corpus.counts, name), corpus.n_unknown
    if isinstance(X, str):
        raise TypeError(f"{name} must be a list of documents, not a single string")
    counts = check_counts(X, name, integer=integer)
    return _check_width(counts, n_features, vocabulary, name), 0


def _check_width(
    counts: sp.csr_matrix, n_features: int | None, vocabulary: Vocabulary | None, name: str
) -> sp.csr_matrix:
    if n_features is not None and counts.shape[1] != n_features:
        raise ValueError(
            f"{name} has {counts.shape[1]} features, but LDA is expecting {n_features} "
            "features as input: one word column for each word of the model (vocabulary "
            "mismatch); build the counts with the model's vocabulary, e.g. "
            "TextCorpus.from_texts(texts, vocabulary=model.vocabulary_)"
        )
    return counts


def shard_bounds(weights: np.ndarray, n_shards: int) -> np.ndarray:
    """Split items with ``weights`` into ``n_shards`` contiguous runs of similar weight.

    Parameters
    ----------
    weights : ndarray of shape (n,)
    n_shards : int

    Returns
    -------
    ndarray of int64
        Run boundaries, from 0 to ``n`` (at most ``n_shards + 1`` entries).

    Examples
    --------
    >>> import numpy as np
    >>> shard_bounds(np.ones(6), 3).tolist()
    [0, 2, 4, 6]
    """
    n = len(weights)
    n_shards = max(1, min(n_shards, n)) if n else 1
    cumulative = np.concatenate([[0.0], np.cumsum(weights, dtype=np.float64)])
    targets = np.linspace(0.0, cumulative[-1], n_shards + 1)
    bounds = np.searchsorted(cumulative, targets, side="left").astype(np.int64)
    bounds[0], bounds[-1] = 0, n
    return np.maximum.accumulate(bounds)
