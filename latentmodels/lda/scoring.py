"""The compiled pieces of topic-model evaluation, as a public API for
:mod:`latentmodels.metrics.topics` (and for users scoring topics of their own): count
matrices, fold-in of held-out documents under fixed topics, document log-likelihoods and
word co-occurrence counts."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from . import _kernels
from ._data import check_counts

__all__ = ["as_counts", "document_log_likelihood", "fold_in", "window_cooccurrence"]


def as_counts(X: Any, name: str = "X") -> sp.csr_matrix:
    """``X`` as a float64 CSR matrix of non-negative integer counts ``(documents, words)``.

    Examples
    --------
    >>> as_counts([[1, 0, 2]]).toarray()
    array([[1., 0., 2.]])
    """
    return check_counts(X, name)


def fold_in(counts: sp.csr_matrix, topic_word: np.ndarray, alpha: np.ndarray,
            max_iter: int = 100, tol: float = 1e-6) -> np.ndarray:
    """Topic proportions ``(documents, topics)`` of each row of ``counts`` under fixed
    topics ``topic_word`` ``(topics, words)`` and the document-topic prior ``alpha``.

    Examples
    --------
    >>> phi = np.array([[0.9, 0.1], [0.1, 0.9]])
    >>> int(fold_in(as_counts([[5, 0]]), phi, np.array([0.1, 0.1])).argmax())
    0
    """
    counts = _checked(counts, topic_word)
    return _kernels.fold_in(
        counts.indptr.astype(np.int64), counts.indices.astype(np.int64), counts.data,
        np.ascontiguousarray(np.asarray(topic_word, dtype=np.float64).T),
        np.ascontiguousarray(alpha, dtype=np.float64), int(max_iter), float(tol),
    )


def document_log_likelihood(counts: sp.csr_matrix, topic_word: np.ndarray,
                            theta: np.ndarray) -> np.ndarray:
    """``sum_w n_dw log sum_k theta_dk phi_kw`` for each row of ``counts``.

    Examples
    --------
    >>> phi = np.array([[0.5, 0.5]])
    >>> document_log_likelihood(as_counts([[1, 1]]), phi, np.ones((1, 1))).round(3)
    array([-1.386])
    """
    counts = _checked(counts, topic_word)
    theta = np.ascontiguousarray(theta, dtype=np.float64)
    if theta.shape != (counts.shape[0], np.shape(topic_word)[0]):
        raise ValueError(f"theta must have shape {(counts.shape[0], np.shape(topic_word)[0])}, "
                         f"got {theta.shape}")
    return _kernels.doc_loglik(
        counts.indptr.astype(np.int64), counts.indices.astype(np.int64), counts.data,
        np.ascontiguousarray(np.asarray(topic_word, dtype=np.float64).T), theta,
    )


def window_cooccurrence(tokens: np.ndarray, doc_ptr: np.ndarray, slot: np.ndarray,
                        n_slots: int, window: int = 0) -> tuple[np.ndarray, np.ndarray, int]:
    """Count the windows (``window`` consecutive tokens; ``0``: whole documents) holding
    each word of interest and each pair of them. ``slot[w]`` is word ``w``'s index among
    the words of interest, -1 for the others. Returns ``(single, pair, n_windows)``.

    Examples
    --------
    >>> single, pair, n = window_cooccurrence(np.array([0, 1, 0]), np.array([0, 2, 3]),
    ...                                       np.array([0, 1]), 2)
    >>> single.tolist(), int(pair[0, 1]), n
    ([2, 1], 1, 2)
    """
    tokens = np.ascontiguousarray(tokens, dtype=np.int64)
    doc_ptr = np.ascontiguousarray(doc_ptr, dtype=np.int64)
    slot = np.ascontiguousarray(slot, dtype=np.int64)
    if len(doc_ptr) < 1 or doc_ptr[0] != 0 or doc_ptr[-1] != len(tokens) or (
            np.diff(doc_ptr) < 0).any():
        raise ValueError("doc_ptr must rise from 0 to len(tokens)")
    if len(tokens) and (tokens.min() < 0 or tokens.max() >= len(slot)):
        raise ValueError(f"tokens must be word ids in 0..{len(slot) - 1}")
    if slot.size and (slot.max() >= n_slots or slot.min() < -1):
        raise ValueError(f"slot values must be -1 or in 0..{n_slots - 1}")
    return _kernels.window_cooccurrence(tokens, doc_ptr, slot, int(n_slots), int(window))


def _checked(counts: Any, topic_word: Any) -> sp.csr_matrix:
    counts = check_counts(counts, "counts")
    if counts.shape[1] != np.shape(topic_word)[1]:
        raise ValueError(f"counts has {counts.shape[1]} word columns but topic_word has "
                         f"{np.shape(topic_word)[1]} words")
    return counts
