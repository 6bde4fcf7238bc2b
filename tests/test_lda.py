"""LDA: both fitting methods recover planted topics, and the whole contract holds."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone

from latentmodels._internal.io import ModelFileError
from latentmodels.base import load
from latentmodels.lda.model import LDA
from latentmodels.lda.text import TextCorpus


def planted_corpus(k=5, v=120, n_docs=300, length=60, alpha=0.1, eta=0.02, seed=0):
    """Documents drawn from a known LDA; returns counts and the true topic-word matrix."""
    rng = np.random.default_rng(seed)
    beta = rng.dirichlet(np.full(v, eta), size=k)
    theta = rng.dirichlet(np.full(k, alpha), size=n_docs)
    lengths = rng.poisson(length, size=n_docs)
    rows = [rng.multinomial(n, theta[d] @ beta) for d, n in enumerate(lengths)]
    return sp.csr_matrix(np.asarray(rows, dtype=np.float64)), beta


def best_match_cosine(estimate, truth):
    """Mean over true topics of the best cosine similarity with an estimated topic."""
    a = estimate / np.linalg.norm(estimate, axis=1, keepdims=True)
    b = truth / np.linalg.norm(truth, axis=1, keepdims=True)
    return float((b @ a.T).max(axis=1).mean())


@pytest.fixture(scope="module")
def planted():
    return planted_corpus()


@pytest.fixture(scope="module")
def fitted_vb(planted):
    X, _ = planted
    return LDA(n_components=5, random_state=0, n_jobs=2).fit(X)


@pytest.fixture(scope="module")
def fitted_gibbs(planted):
    X, _ = planted
    return LDA(n_components=5, method="gibbs", max_iter=150, random_state=0, n_jobs=2).fit(X)


TEXTS = [
    "the cat sat on the mat with another cat",
    "cats and kittens purr; a kitten sleeps",
    "stock markets fell as investors sold shares",
    "the market rallied and shares rose for investors",
    "a dog chased the cat around the garden",
    "bonds and stocks: investors watch the market",
] * 5


# -- quality -------------------------------------------------------------------------
def test_vb_recovers_planted_topics(planted, fitted_vb):
    _, beta = planted
    assert best_match_cosine(fitted_vb.topic_word_, beta) > 0.9


def test_gibbs_recovers_planted_topics(planted, fitted_gibbs):
    _, beta = planted
    assert best_match_cosine(fitted_gibbs.topic_word_, beta) > 0.9


def test_online_vb_recovers_planted_topics(planted):
    X, beta = planted
    model = LDA(5, learning_method="online", batch_size=50, max_iter=20, random_state=0)
    assert best_match_cosine(model.fit(X).topic_word_, beta) > 0.9


def test_batch_vb_bound_never_decreases(planted):
    X, _ = planted
    model = LDA(5, method="vb", max_iter=25, tol=0.0, random_state=1).fit(X)
    bound = np.asarray(model.bound_)
    assert len(bound) == 25
    steps = np.diff(bound)
    assert (steps >= -1e-9 * np.abs(bound[1:])).all(), steps.min()


def test_batch_vb_bound_never_decreases_with_prior_optimisation(planted):
    X, _ = planted
    model = LDA(5, method="vb", max_iter=15, tol=0.0, optimize_priors=True, random_state=2).fit(X)
    bound = np.asarray(model.bound_)
    assert (np.diff(bound) >= -1e-9 * np.abs(bound[1:])).all()


def test_partial_fit_streams_minibatches(planted):
    X, beta = planted
    model = LDA(5, method="vb", total_samples=X.shape[0], learning_offset=1.0, random_state=0)
    for _ in range(10):
        for start in range(0, X.shape[0], 100):
            model.partial_fit(X[start : start + 100])
    assert model.n_batch_iter_ == 30
    assert best_match_cosine(model.topic_word_, beta) > 0.85


def test_optimize_priors_learns_a_sparse_doc_topic_prior(planted):
    X, _ = planted  # drawn with alpha = 0.1 from a start of 1.0
    model = LDA(5, doc_topic_prior=1.0, optimize_priors=True, random_state=0).fit(X)
    assert model.doc_topic_prior_.shape == (5,)
    assert np.ptp(model.doc_topic_prior_) == 0  # a number stays symmetric
    assert 0.02 < model.doc_topic_prior_[0] < 0.5


def test_gibbs_optimize_priors_keeps_asymmetric_prior_asymmetric(planted):
    X, _ = planted
    model = LDA(5, method="gibbs", max_iter=40, doc_topic_prior="asymmetric",
                optimize_priors=True, random_state=0).fit(X)
    assert np.ptp(model.doc_topic_prior_) > 0


def test_same_seed_gives_same_topics(planted):
    X, _ = planted
    a = LDA(5, method="gibbs", max_iter=20, random_state=3, n_jobs=2).fit(X)
    b = LDA(5, method="gibbs", max_iter=20, random_state=3, n_jobs=2).fit(X)
    np.testing.assert_array_equal(a.components_, b.components_)


# -- the contract --------------------------------------------------------------------
@pytest.mark.parametrize("which", ["fitted_vb", "fitted_gibbs"])
def test_transform_gives_proportions(which, planted, request):
    model = request.getfixturevalue(which)
    X, _ = planted
    theta = model.transform(X[:20])
    assert theta.shape == (20, 5)
    np.testing.assert_allclose(theta.sum(axis=1), 1.0)
    assert (theta > 0).all()


def test_empty_document_gets_the_prior_proportions(fitted_vb):
    X = sp.csr_matrix(([4.0], ([1], [3])), shape=(2, fitted_vb.n_features_in_))
    theta = fitted_vb.transform(X)
    prior = fitted_vb.doc_topic_prior_ / fitted_vb.doc_topic_prior_.sum()
    np.testing.assert_allclose(theta[0], prior)
    assert fitted_vb.score_samples(X)[0] == 0.0


def test_dense_sparse_and_torch_inputs_agree(fitted_vb, planted):
    import torch

    X, _ = planted
    dense = X[:5].toarray()
    expected = fitted_vb.transform(X[:5])
    np.testing.assert_allclose(fitted_vb.transform(dense.astype(np.int64)), expected)
    np.testing.assert_allclose(fitted_vb.transform(torch.from_numpy(dense)), expected)


def test_inverse_transform_mixes_topics(fitted_vb):
    words = fitted_vb.inverse_transform(np.eye(5)[:2] * 3)
    np.testing.assert_allclose(words, fitted_vb.topic_word_[:2])
    np.testing.assert_allclose(words.sum(axis=1), 1.0)


def test_sample_generates_documents(fitted_vb):
    docs = fitted_vb.sample(50, random_state=0)
    assert sp.issparse(docs) and docs.shape == (50, fitted_vb.n_features_in_)
    assert abs(docs.sum(axis=1).mean() - fitted_vb.mean_doc_length_) < 6
    again = fitted_vb.sample(50, random_state=0)
    assert (docs != again).nnz == 0


def test_score_samples_prefers_documents_from_the_model(fitted_vb, planted):
    X, _ = planted
    typical = fitted_vb.score_samples(X[:50]) / np.asarray(X[:50].sum(axis=1)).ravel()
    rng = np.random.default_rng(0)
    noise = sp.csr_matrix(rng.multinomial(60, np.full(X.shape[1], 1 / X.shape[1]), size=50))
    odd = fitted_vb.score_samples(noise) / 60.0
    assert typical.mean() > odd.mean() + 1.0


def test_perplexity_is_exp_of_minus_bound_per_token(fitted_vb, planted):
    X, _ = planted
    expected = np.exp(-fitted_vb.score_samples(X).sum() / X.sum())
    assert fitted_vb.perplexity(X) == pytest.approx(expected)
    assert 1.0 < fitted_vb.perplexity(X) < X.shape[1]


def test_fit_on_text_corpus_transforms_raw_text_and_counts_unknown_words():
    corpus = TextCorpus.from_texts(TEXTS)
    model = LDA(2, random_state=0).fit(corpus)
    theta = model.transform(["investors sold stocks", "zebra unicorn"])
    assert theta.shape == (2, 2)
    assert model.n_unknown_tokens_ == 2
    prior = model.doc_topic_prior_ / model.doc_topic_prior_.sum()
    np.testing.assert_allclose(theta[1], prior)
    top = model.top_words(3)
    assert len(top) == 2 and all(isinstance(w, str) for w in top[0])
    texts = model.sample(2, doc_length=5, as_text=True, random_state=0)
    assert all(len(t.split()) == 5 for t in texts)


def test_corpus_with_other_vocabulary_is_matched_by_word():
    corpus = TextCorpus.from_texts(TEXTS)
    model = LDA(2, random_state=0).fit(corpus)
    other = TextCorpus.from_texts(["markets and zebras", "cat"], stop_words=None)
    direct = model.transform(["markets and zebras", "cat"])
    np.testing.assert_allclose(model.transform(other), direct)
    assert model.n_unknown_tokens_ == 2  # "and" (a stop word for the model) and "zebras"


def test_print_topics_is_readable(fitted_vb, capsys):
    text = fitted_vb.print_topics(4)
    assert text.count("\n") == 4 and text.startswith("topic   0")
    assert capsys.readouterr().out.strip() == text


@pytest.mark.parametrize("which", ["fitted_vb", "fitted_gibbs"])
def test_save_load_transforms_identically(which, planted, tmp_path, request):
    model = request.getfixturevalue(which)
    X, _ = planted
    path = model.save(tmp_path / "lda.lm")
    loaded = LDA.load(path)
    np.testing.assert_array_equal(loaded.transform(X), model.transform(X))
    np.testing.assert_array_equal(loaded.components_, model.components_)
    assert loaded.get_params() == model.get_params()
    assert type(load(path)) is LDA


def test_save_load_keeps_the_vocabulary(tmp_path):
    corpus = TextCorpus.from_texts(TEXTS)
    model = LDA(2, random_state=0, doc_topic_prior=[0.2, 0.3]).fit(corpus)
    loaded = LDA.load(model.save(tmp_path / "m.lm"))
    assert loaded.vocabulary_ == model.vocabulary_
    assert loaded.top_words(5) == model.top_words(5)
    new = ["the market fell", "the cat purrs"]
    np.testing.assert_array_equal(loaded.transform(new), model.transform(new))


def test_load_refuses_a_truncated_file(fitted_vb, tmp_path):
    path = tmp_path / "m.lm"
    data = open(fitted_vb.save(path), "rb").read()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError):
        LDA.load(path)


def test_clone_and_params_follow_scikit_learn():
    model = LDA(7, method="gibbs", doc_topic_prior=0.3, random_state=1)
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    assert copy.n_components == 7 and copy.method == "gibbs"


def test_countvectorizer_output_is_accepted():
    from sklearn.feature_extraction.text import CountVectorizer

    vectorizer = CountVectorizer()
    X = vectorizer.fit_transform(TEXTS)
    model = LDA(2, random_state=0).fit(X)
    assert model.transform(X).shape == (len(TEXTS), 2)
    named = LDA(2, random_state=0).fit(TextCorpus.from_sklearn(X, vectorizer))
    assert "market" in sum(named.top_words(10), [])


# -- the sparse Gibbs kernel ---------------------------------------------------------
def _tiny_gibbs_state(seed=0):
    """Two documents over 5 words and 6 topics, plus word-topic counts from elsewhere (other
    shards), with zeros, so that lists of nonzero topics grow and shrink during a sweep."""
    rng = np.random.default_rng(seed)
    k, v = 6, 5
    words = np.array([0, 1, 0, 2, 3, 0, 4, 1, 0, 0, 2, 1, 3, 0], dtype=np.int32)
    doc_ptr = np.array([0, 8, len(words)], dtype=np.int64)
    z = rng.integers(0, k, size=len(words)).astype(np.int32)
    ndk = np.zeros((2, k), dtype=np.int32)
    np.add.at(ndk, (np.repeat([0, 1], np.diff(doc_ptr)), z), 1)
    elsewhere = rng.poisson(0.7, size=(v, k)).astype(np.int32)
    nwk = elsewhere.copy()
    np.add.at(nwk, (words, z), 1)
    return words, doc_ptr, z, ndk, nwk, elsewhere


def _exact_conditional(words, doc_ptr, z, nwk, i, alpha, eta):
    """Dense ``p(z_i = k | z_-i)`` of the last token ``i`` of the last document."""
    d = len(doc_ptr) - 2
    nd = np.bincount(z[doc_ptr[d] : doc_ptr[d + 1]], minlength=len(alpha)).astype(float)
    nd[z[i]] -= 1
    nw = nwk[words[i]].astype(float)
    nw[z[i]] -= 1
    nk = nwk.sum(axis=0).astype(float)
    nk[z[i]] -= 1
    p = (nd + alpha) * (nw + eta) / (nk + nwk.shape[0] * eta)
    return p / p.sum()


@pytest.mark.parametrize("scale, eta", [(1.0, 0.01), (3.0, 2.0)])
def test_sparse_gibbs_draws_from_the_exact_conditional(scale, eta):
    # The last token of a one-shard sweep is drawn after every other token has moved, from
    # the dense conditional given their final topics: over many seeded sweeps its observed
    # topic counts must match the sum of those conditionals. A bucket with a wrong
    # formula, or the token's own count left in n_wk, moves some topic by 8 sd or more here.
    from latentmodels.lda import _kernels

    words, doc_ptr, z0, ndk0, nwk0, elsewhere = _tiny_gibbs_state()
    # asymmetric; the large priors put much of the mass in the smoothing and document buckets
    alpha = scale * np.array([0.1, 0.3, 0.2, 0.6, 0.05, 0.4])
    k, last = len(alpha), len(words) - 1
    seeds = np.random.default_rng(1).integers(1, 2**63 - 1, size=30000, dtype=np.int64)
    observed, expected, variance = np.zeros(k), np.zeros(k), np.zeros(k)
    for seed in seeds.view(np.uint64):
        z, ndk, nwk = z0.copy(), ndk0.copy(), nwk0.copy()
        nk = nwk.sum(axis=0).astype(np.int32)
        # one shard's sweep, the body of gibbs_sweep (calling that 30000 times would mostly
        # time the waking of its thread pool)
        _kernels._sparse_shard_packed(words, doc_ptr, z, ndk, nwk, nk, alpha, eta, 0, 2, seed)
        p = _exact_conditional(words, doc_ptr, z, nwk, last, alpha, eta)
        observed[z[last]] += 1
        expected += p
        variance += p * (1 - p)
    # the counts the sweep leaves behind agree with its topics
    recount = elsewhere.copy()
    np.add.at(recount, (words, z), 1)
    np.testing.assert_array_equal(nwk, recount)
    np.testing.assert_array_equal(nk, recount.sum(axis=0))
    np.testing.assert_array_equal(ndk.sum(axis=0), np.bincount(z, minlength=k))
    standardised = (observed - expected) / np.sqrt(variance)
    assert np.abs(standardised).max() < 4.5, (observed, expected.round(1))


def test_sparse_gibbs_sweep_is_reproducible_and_moves_tokens():
    from latentmodels.lda import _kernels

    words, doc_ptr, z0, ndk0, nwk0, _ = _tiny_gibbs_state(seed=3)
    alpha = np.full(6, 0.1)
    shards = np.array([0, 1, 2], dtype=np.int64)  # two shards, each with its own copy
    runs = []
    for _ in range(2):
        z, ndk = z0.copy(), ndk0.copy()
        nwk_local = np.repeat(nwk0[None], 2, axis=0)
        nk_local = nwk_local.sum(axis=1).astype(np.int32)
        state = np.array([11, 12], dtype=np.uint64)
        for _ in range(5):
            _kernels.gibbs_sweep(words, doc_ptr, z, ndk, nwk_local, nk_local, alpha, 0.05,
                                 shards, state, False)
        runs.append(z)
    np.testing.assert_array_equal(runs[0], runs[1])
    assert (runs[0] != z0).any()


@pytest.mark.parametrize("learning_method", ["batch", "online"])
def test_vb_gives_the_same_bits_on_one_thread_and_two(learning_method):
    """Statistics are summed over a fixed set of shards, so the thread count (which a busy
    machine or a resumed run may change) does not move the result by a rounding error."""
    X, _ = planted_corpus(n_docs=200)
    fits = [LDA(5, method="vb", learning_method=learning_method, max_iter=4, batch_size=64,
                n_jobs=n_jobs, random_state=0).fit(X) for n_jobs in (1, 2)]
    np.testing.assert_array_equal(fits[0].components_, fits[1].components_)
    assert fits[0].bound_ == fits[1].bound_
