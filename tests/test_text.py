"""Text pipeline: tokenisation, pruning, file formats, vocabulary round trips."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest

from latentmodels.lda.text import TextCorpus, Vocabulary


def test_tokenisation_lowercases_and_drops_stop_words_numbers_and_short_tokens():
    corpus = TextCorpus.from_texts(["The 3 Cats, the DOG and a x-ray!"])
    assert corpus.documents() == [["cats", "dog", "ray"]]


def test_unicode_is_normalised_and_kept():
    corpus = TextCorpus.from_texts(["Ｃａｆé naïve Straße", "ﬁnal café"], stop_words=None)
    assert corpus.vocabulary.words == ["café", "final", "naïve", "straße"]
    assert corpus.counts.toarray().sum(axis=0).tolist() == [2, 1, 1, 1]


def test_custom_stop_words_and_no_lowercasing():
    corpus = TextCorpus.from_texts(["Alpha beta Gamma"], stop_words=["beta"], lowercase=False)
    assert corpus.vocabulary.words == ["Alpha", "Gamma"]


def test_min_df_max_df_and_max_features_prune_the_vocabulary():
    texts = ["apple pear", "apple plum", "apple pear kiwi", "apple fig"]
    assert TextCorpus.from_texts(texts, min_df=2).vocabulary.words == ["apple", "pear"]
    assert TextCorpus.from_texts(texts, max_df=0.5).vocabulary.words == [
        "fig", "kiwi", "pear", "plum"
    ]
    assert TextCorpus.from_texts(texts, max_features=2).vocabulary.words == ["apple", "pear"]
    pruned = TextCorpus.from_texts(texts, min_df=2)
    assert pruned.n_unknown == 3 and pruned.n_tokens == 6


def test_given_vocabulary_ignores_and_counts_unknown_words():
    vocab = Vocabulary(["apple", "pear"])
    corpus = TextCorpus.from_texts(["apple kiwi pear apple", ""], vocabulary=vocab)
    assert corpus.counts.toarray().tolist() == [[2, 1], [0, 0]]
    assert corpus.n_unknown == 1
    assert corpus.tokens.tolist() == [0, 1, 0]


def test_vocabulary_round_trips_through_json():
    vocab = TextCorpus.from_texts(["Élan vital, élan"], stop_words=["vital"]).vocabulary
    again = Vocabulary.from_dict(json.loads(json.dumps(vocab.to_dict())))
    assert again == vocab
    assert again.encode("ÉLAN vital")[0].tolist() == [0]


def test_from_file_reads_one_document_per_line(tmp_path):
    path = tmp_path / "docs.txt"
    path.write_text("first line here\n\nthird line\n", encoding="utf-8")
    corpus = TextCorpus.from_file(path)
    assert len(corpus) == 3
    assert corpus.counts[1].sum() == 0


def test_from_jsonl_reads_gzip_and_the_named_field(tmp_path):
    path = tmp_path / "docs.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        for body in ["space shuttle launch", "hockey game tonight", "shuttle orbit"]:
            handle.write(json.dumps({"id": 1, "body": body}) + "\n")
    corpus = TextCorpus.from_jsonl(path, text_field="body", max_docs=2)
    assert len(corpus) == 2
    assert "shuttle" in corpus.vocabulary and "orbit" not in corpus.vocabulary


def test_from_sklearn_wraps_countvectorizer_output():
    from sklearn.feature_extraction.text import CountVectorizer

    vectorizer = CountVectorizer()
    X = vectorizer.fit_transform(["bb aa aa", "cc"])
    corpus = TextCorpus.from_sklearn(X, vectorizer)
    assert corpus.vocabulary.words == ["aa", "bb", "cc"]
    np.testing.assert_array_equal(corpus.counts.toarray(), X.toarray())
    assert corpus.doc_ptr.tolist() == [0, 3, 4]


def test_subset_keeps_tokens_and_counts_aligned():
    corpus = TextCorpus.from_texts(["red green", "blue", "green green red"], stop_words=None)
    part = corpus.subset([2, 0])
    assert part.documents() == [["green", "green", "red"], ["red", "green"]]
    assert part.counts.toarray().sum() == 5


def test_shared_20newsgroups_file_loads():
    from tests.conftest import shared_file

    path = shared_file("20newsgroups_train.jsonl.gz")
    corpus = TextCorpus.from_jsonl(path, max_docs=200, min_df=2)
    assert len(corpus) == 200 and len(corpus.vocabulary) > 500


def test_duplicate_words_are_refused():
    with pytest.raises(ValueError, match=r"^words must be unique"):
        Vocabulary(["a", "a"])
