"""Bad input to LDA, the text pipeline and the topic metrics: one clear error each."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest
import scipy.sparse as sp

from latentmodels.lda.model import LDA
from latentmodels.lda.text import TextCorpus
from latentmodels.metrics.topics import coherence, document_completion_perplexity


@pytest.fixture(scope="module")
def small_model():
    rng = np.random.default_rng(0)
    return LDA(2, max_iter=3, random_state=0).fit(rng.poisson(1.0, (20, 12)))


def test_negative_counts_are_refused():
    X = np.ones((3, 4))
    X[1, 2] = -1
    with pytest.raises(ValueError, match=r"^X contains negative counts"):
        LDA(2).fit(X)


def test_non_integer_counts_are_refused_by_gibbs_only():
    X = sp.csr_matrix(np.full((3, 4), 0.5))
    with pytest.raises(ValueError, match=r"^X must hold integer word counts; found 0.5"):
        LDA(2, method="gibbs").fit(X)
    # variational Bayes takes weights (tf-idf): its topics share out exactly the weight
    # of each word (lambda - eta summed over topics is the word's total weight)
    weights = X.toarray() * np.array([1.0, 2.0, 3.0, 0.25])
    vb = LDA(2, method="vb", max_iter=5, random_state=0).fit(weights)
    shared = (vb.components_ - vb.topic_word_prior_).sum(axis=0)
    np.testing.assert_allclose(shared, weights.sum(axis=0), rtol=1e-6)


def test_nan_counts_are_refused():
    X = np.ones((3, 4))
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match=r"X contains 1 NaN"):
        LDA(2).fit(X)


def test_empty_corpus_is_refused():
    with pytest.raises(ValueError, match=r"^X is empty \(0 documents\)"):
        LDA(2).fit(np.zeros((0, 5)))


def test_corpus_of_empty_documents_is_refused():
    with pytest.raises(ValueError, match=r"^X has no tokens"):
        LDA(2).fit(np.zeros((4, 5)))


def test_empty_text_corpus_is_refused():
    with pytest.raises(ValueError, match=r"^texts: no word is left"):
        TextCorpus.from_texts(["", "   ", "!!"])


def test_vocabulary_mismatch_with_a_saved_model_is_refused(small_model, tmp_path):
    loaded = LDA.load(small_model.save(tmp_path / "m.lm"))
    with pytest.raises(ValueError, match=r"^X has 13 features, but LDA is expecting 12 features"):
        loaded.transform(np.ones((2, 13)))


def test_raw_text_without_a_vocabulary_is_refused(small_model):
    with pytest.raises(TypeError, match=r"^X is raw text, but .* no vocabulary"):
        small_model.transform(["some words"])


@pytest.mark.parametrize("value", [0, -3])
def test_n_components_below_one_is_refused(value):
    with pytest.raises(ValueError, match=r"^n_components must be >= 1"):
        LDA(value).fit(np.ones((3, 4)))


def test_non_integer_n_components_is_refused():
    with pytest.raises(TypeError, match=r"^n_components must be an integer"):
        LDA(2.5).fit(np.ones((3, 4)))


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match=r"^method must be one of 'vb', 'gibbs'"):
        LDA(2, method="em").fit(np.ones((3, 4)))


def test_non_positive_priors_are_refused():
    with pytest.raises(ValueError, match=r"^doc_topic_prior must be > 0"):
        LDA(2, doc_topic_prior=0.0).fit(np.ones((3, 4)))
    with pytest.raises(ValueError, match=r"^topic_word_prior must be > 0"):
        LDA(2, topic_word_prior=-1.0).fit(np.ones((3, 4)))
    with pytest.raises(ValueError, match=r"^doc_topic_prior must have n_components=2 entries"):
        LDA(2, doc_topic_prior=[0.1, 0.2, 0.3]).fit(np.ones((3, 4)))


def test_learning_decay_out_of_range_is_refused():
    with pytest.raises(ValueError, match=r"^learning_decay must be > 0.5"):
        LDA(2, learning_decay=0.4).fit(np.ones((3, 4)))


def test_partial_fit_with_gibbs_is_refused():
    """partial_fit does not exist for Gibbs (scikit-learn's available_if), and the error
    carries the reason."""
    assert not hasattr(LDA(2, method="gibbs"), "partial_fit")
    assert hasattr(LDA(2, method="vb"), "partial_fit")
    with pytest.raises(AttributeError) as info:
        LDA(2, method="gibbs").partial_fit(np.ones((3, 4)))
    assert "partial_fit needs method='vb'" in str(info.value.__cause__)


def test_inverse_transform_with_wrong_width_is_refused(small_model):
    with pytest.raises(ValueError, match=r"^Z must have shape \(n, n_components=2\)"):
        small_model.inverse_transform(np.ones((1, 3)))


def test_sample_as_text_without_vocabulary_is_refused(small_model):
    with pytest.raises(ValueError, match=r"^as_text=True needs a vocabulary"):
        small_model.sample(2, as_text=True)


def test_missing_json_text_field_is_refused(tmp_path):
    path = tmp_path / "docs.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write(json.dumps({"text": "hello world"}) + "\n")
        handle.write(json.dumps({"body": "no text here"}) + "\n")
    with pytest.raises(ValueError, match=r"^text_field 'text' is missing from line 2 of .*'body'"):
        TextCorpus.from_jsonl(path)


def test_non_utf8_file_names_the_encoding_option(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes("caf\u00e9 cr\u00e8me br\u00fbl\u00e9e\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"is not valid utf-8 .* pass encoding='latin-1'"):
        TextCorpus.from_file(path)
    corpus = TextCorpus.from_file(path, encoding="latin-1")
    assert "café" in corpus.vocabulary


def test_missing_file_is_reported():
    with pytest.raises(FileNotFoundError, match=r"^path: no such file"):
        TextCorpus.from_file("/nonexistent/docs.txt")


def test_min_df_fraction_out_of_range_is_refused():
    with pytest.raises(ValueError, match=r"^min_df as a fraction must lie in \[0, 1\]"):
        TextCorpus.from_texts(["a b c"], min_df=1.5)


def test_single_string_instead_of_texts_is_refused():
    with pytest.raises(TypeError, match=r"^texts must be a list of strings"):
        TextCorpus.from_texts("just one string")


def test_metric_with_wrong_width_is_refused():
    with pytest.raises(ValueError, match=r"^X has 3 word columns but topic_word has 4 words"):
        document_completion_perplexity(np.ones((2, 4)), 0.1, np.ones((2, 3)))


def test_coherence_with_unknown_measure_is_refused():
    corpus = TextCorpus.from_texts(["apple pear", "cat dog"])
    with pytest.raises(ValueError, match=r"^measure must be one of 'umass', 'npmi'"):
        coherence([["apple", "pear"]], corpus, measure="cv")
