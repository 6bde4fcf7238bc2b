"""Topic metrics: document-completion perplexity, UMass/NPMI coherence, diversity."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from latentmodels.lda.model import LDA
from latentmodels.lda.text import TextCorpus
from latentmodels.metrics.topics import (
    coherence,
    document_completion_perplexity,
    split_documents,
    topic_diversity,
)
from tests.test_lda import planted_corpus


def test_split_documents_halves_every_document():
    X = sp.csr_matrix(np.array([[3, 0, 2], [1, 1, 0], [0, 0, 7]]))
    observed, evaluated = split_documents(X, random_state=0)
    np.testing.assert_array_equal((observed + evaluated).toarray(), X.toarray())
    assert np.asarray(observed.sum(axis=1)).ravel().tolist() == [2, 1, 3]


def test_true_topics_score_better_than_fitted_and_random_ones():
    X, beta = planted_corpus(n_docs=400, seed=5)
    train, test = X[:300], X[300:]
    true = document_completion_perplexity(beta, 0.1, test)["perplexity"]
    fitted = LDA(5, random_state=0).fit(train)
    learned = document_completion_perplexity(
        fitted.components_, fitted.doc_topic_prior_, test
    )["perplexity"]
    rng = np.random.default_rng(0)
    noise = document_completion_perplexity(rng.random((5, X.shape[1])), 0.1, test)["perplexity"]
    assert true < learned < 1.15 * true
    assert learned < 0.5 * noise


def test_perplexity_matches_its_formula_on_a_hand_example():
    phi = np.array([[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]])
    X = sp.csr_matrix(np.array([[2, 2, 0]]))
    result = document_completion_perplexity(phi, 0.1, X, random_state=0)
    # observed half: 2 tokens of topic 0; theta = (0.1 + 2, 0.1) / 2.2; each word has p = 0.5
    theta0 = 2.1 / 2.2
    assert result["nats_per_token"] == pytest.approx(-math.log(theta0 * 0.5), rel=1e-6)
    assert result["n_tokens"] == 2 and result["n_documents"] == 1


def test_npmi_and_umass_on_a_hand_example():
    corpus = TextCorpus.from_texts(
        ["apple pear", "apple pear", "apple kiwi", "cat dog"], stop_words=None
    )
    npmi = coherence([["apple", "pear"], ["cat", "pear"]], corpus)
    p_ab, p_a, p_b = 2 / 4, 3 / 4, 2 / 4
    expected = math.log(p_ab / (p_a * p_b)) / -math.log(p_ab)
    assert npmi[0] == pytest.approx(expected)
    assert npmi[1] == -1.0
    umass = coherence([["apple", "pear"]], corpus, measure="umass")
    assert umass[0] == pytest.approx(math.log((2 + 1) / 3))


def test_sliding_window_npmi_counts_windows_not_documents():
    corpus = TextCorpus.from_texts(["apple x1 x2 x3 pear", "apple pear"], stop_words=None)
    whole = coherence([["apple", "pear"]], corpus)[0]
    windowed = coherence([["apple", "pear"]], corpus, window=2)[0]
    assert whole == pytest.approx(1.0)
    assert windowed < whole


def test_coherence_accepts_word_ids_and_count_matrices():
    X = sp.csr_matrix(np.array([[1, 1, 0], [1, 1, 0], [0, 0, 1]]))
    np.testing.assert_allclose(coherence([[0, 1], [0, 2]], X), [1.0, -1.0])


def test_topic_diversity():
    assert topic_diversity([["a", "b"], ["c", "d"]]) == 1.0
    assert topic_diversity([["a", "b"], ["a", "b"]]) == 0.5
