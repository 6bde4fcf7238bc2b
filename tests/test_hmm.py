"""Correctness of the HMM family: exact inference against brute force, EM behaviour,
numerical guards, persistence, streaming and parity with hmmlearn."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from scipy import stats
from scipy.special import logsumexp
from sklearn.base import clone

from latentmodels.hmm import GMMHMM, CategoricalHMM, GaussianHMM, PoissonHMM, select_n_states

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

COVARIANCE_TYPES = ["spherical", "diag", "full", "tied"]


def _chain(K: int, rng: np.random.Generator):
    start = rng.dirichlet(np.ones(K))
    trans = rng.dirichlet(np.ones(K), size=K)
    return start, trans


def _random_cov(D: int, rng: np.random.Generator) -> np.ndarray:
    A = rng.normal(size=(D, D))
    return A @ A.T + 0.5 * np.eye(D)


def _gaussian_model(ctype: str, rng, K=3, D=2) -> tuple[GaussianHMM, np.ndarray]:
    model = GaussianHMM(K, covariance_type=ctype)
    model.startprob_, model.transmat_ = _chain(K, rng)
    model.means_ = rng.normal(0, 2, (K, D))
    full = np.stack([_random_cov(D, rng) for _ in range(K)])
    compact = {"spherical": rng.uniform(0.5, 2.0, K), "diag": rng.uniform(0.5, 2.0, (K, D)),
               "full": full, "tied": full[0]}[ctype]
    model.covars_ = compact
    return model, compact


def _emission_logprob(model, X: np.ndarray) -> np.ndarray:
    """Per-state log-likelihoods computed independently with scipy."""
    K = model.n_components
    if isinstance(model, GaussianHMM):
        return np.column_stack([
            stats.multivariate_normal(model.means_[k], model.covars_[k]).logpdf(X)
            for k in range(K)
        ]).reshape(len(X), K)
    if isinstance(model, GMMHMM):
        out = np.empty((len(X), K))
        for k in range(K):
            comps = []
            for m in range(model.n_mix):
                cov = model.covars_[k, m]
                if model.covariance_type == "diag":
                    cov = np.diag(cov)
                comps.append(
                    np.log(model.weights_[k, m])
                    + stats.multivariate_normal(model.means_[k, m], cov).logpdf(X)
                )
            out[:, k] = logsumexp(np.column_stack(comps), axis=1)
        return out
    if isinstance(model, CategoricalHMM):
        return np.log(model.emissionprob_[:, X[:, 0]].T)
    return np.column_stack([
        stats.poisson(model.lambdas_[k]).logpmf(X).sum(axis=1) for k in range(K)
    ])


def _path_logprob(model, X, path):
    B = _emission_logprob(model, X)
    s = np.log(model.startprob_[path[0]]) + B[0, path[0]]
    s += np.sum(np.log(model.transmat_[path[:-1], path[1:]]) + B[np.arange(1, len(X)), path[1:]])
    return s


def _brute_force(model, X):
    """log p(X) and the best path by enumerating every state path."""
    B = _emission_logprob(model, X)
    logA = np.log(model.transmat_)
    logpi = np.log(model.startprob_)
    scores, paths = [], []
    for path in itertools.product(range(model.n_components), repeat=len(X)):
        s = logpi[path[0]] + B[0, path[0]]
        for t in range(1, len(X)):
            s += logA[path[t - 1], path[t]] + B[t, path[t]]
        scores.append(s)
        paths.append(path)
    scores = np.array(scores)
    best = int(np.argmax(scores))
    return logsumexp(scores), scores[best], np.array(paths[best])


def _tiny_models():
    rng = np.random.default_rng(0)
    for ctype in COVARIANCE_TYPES:
        model, _ = _gaussian_model(ctype, rng)
        yield f"gaussian-{ctype}", model, rng.normal(0, 2, (5, 2))
    for ctype in ("diag", "full"):
        gmm = GMMHMM(2, n_mix=2, covariance_type=ctype)
        gmm.startprob_, gmm.transmat_ = _chain(2, rng)
        gmm.weights_ = rng.dirichlet(np.ones(2), size=2)
        gmm.means_ = rng.normal(0, 2, (2, 2, 2))
        if ctype == "diag":
            gmm.covars_ = rng.uniform(0.5, 2, (2, 2, 2))
        else:
            gmm.covars_ = np.stack([[_random_cov(2, rng) for _ in range(2)] for _ in range(2)])
        yield f"gmm-{ctype}", gmm, rng.normal(0, 2, (5, 2))
    cat = CategoricalHMM(3)
    cat.startprob_, cat.transmat_ = _chain(3, rng)
    cat.emissionprob_ = rng.dirichlet(np.ones(4), size=3)
    yield "categorical", cat, rng.integers(0, 4, (6, 1))
    poi = PoissonHMM(3)
    poi.startprob_, poi.transmat_ = _chain(3, rng)
    poi.lambdas_ = rng.uniform(0.5, 6, (3, 2))
    yield "poisson", poi, rng.poisson(3, (5, 2))


TINY = list(_tiny_models())


@pytest.mark.parametrize("name,model,X", TINY, ids=[t[0] for t in TINY])
@pytest.mark.parametrize("implementation", ["scaling", "log"])
def test_forward_and_viterbi_equal_brute_force_enumeration(name, model, X, implementation):
    model = model.set_params(implementation=implementation)
    log_px, best_score, best_path = _brute_force(model, X)
    assert model.score(X) == pytest.approx(log_px, rel=1e-10, abs=1e-10)
    logprob, path = model.decode(X, algorithm="viterbi")
    assert logprob == pytest.approx(best_score, rel=1e-10, abs=1e-10)
    np.testing.assert_array_equal(path, best_path)


@pytest.mark.parametrize("name,model,X", TINY[:1] + TINY[-2:], ids=["gauss", "cat", "poisson"])
def test_posteriors_equal_brute_force_marginals(name, model, X):
    B = _emission_logprob(model, X)
    K, T = model.n_components, len(X)
    marg = np.full((T, K), -np.inf)
    for path in itertools.product(range(K), repeat=T):
        s = np.log(model.startprob_[path[0]]) + B[0, path[0]]
        for t in range(1, T):
            s += np.log(model.transmat_[path[t - 1], path[t]]) + B[t, path[t]]
        for t, k in enumerate(path):
            marg[t, k] = np.logaddexp(marg[t, k], s)
    expected = np.exp(marg - logsumexp(marg, axis=1, keepdims=True))
    np.testing.assert_allclose(model.predict_proba(X), expected, atol=1e-10)
    np.testing.assert_array_equal(model.decode(X, algorithm="map")[1], expected.argmax(1))


def test_multiple_sequences_lengths_and_list_input_agree():
    rng = np.random.default_rng(1)
    model, _ = _gaussian_model("diag", rng)
    parts = [model.sample(n, random_state=i)[0] for i, n in enumerate((7, 1, 30, 12))]
    X = np.concatenate(parts)
    lengths = [len(p) for p in parts]
    per_seq = model.score_sequences(X, lengths)
    assert per_seq.shape == (4,)
    np.testing.assert_allclose(per_seq, [model.score(p) for p in parts], rtol=1e-12)
    np.testing.assert_allclose(model.score_sequences(parts), per_seq, rtol=1e-12)
    # hmmlearn's score_samples: the total and the posteriors
    total, posteriors = model.score_samples(X, lengths)
    assert total == pytest.approx(per_seq.sum(), rel=1e-12)
    np.testing.assert_allclose(posteriors, model.predict_proba(X, lengths), atol=1e-12)
    np.testing.assert_array_equal(model.predict(parts), model.predict(X, lengths))
    fitted_a = GaussianHMM(3, n_iter=5, random_state=0).fit(X, lengths)
    fitted_b = GaussianHMM(3, n_iter=5, random_state=0).fit(parts)
    np.testing.assert_allclose(fitted_a.means_, fitted_b.means_)


def _sample_gaussian_data(seed=0, n_seq=5, length=200, ctype="diag"):
    rng = np.random.default_rng(seed)
    model, _ = _gaussian_model(ctype, rng, K=3, D=2)
    model.transmat_ = 0.85 * np.eye(3) + 0.05
    parts = [model.sample(length, random_state=seed + i) for i in range(n_seq)]
    X = np.concatenate([p[0] for p in parts])
    Z = np.concatenate([p[1] for p in parts])
    return model, X, Z, [length] * n_seq


@pytest.mark.parametrize("ctype", COVARIANCE_TYPES)
def test_em_objective_never_decreases_and_keeps_valid_parameters(ctype):
    _, X, _, lengths = _sample_gaussian_data(ctype=ctype)
    model = GaussianHMM(4, covariance_type=ctype, n_iter=25, tol=-np.inf, random_state=0)
    model.fit(X, lengths)
    history = np.array(model.monitor_.history)
    assert len(history) == 25
    assert np.all(np.diff(history) >= -1e-8 * np.abs(history[1:]))
    np.testing.assert_allclose(model.transmat_.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(model.startprob_.sum(), 1.0, atol=1e-12)
    assert np.all(np.linalg.eigvalsh(model.covars_) > 0)


@pytest.mark.parametrize("cls,X", [
    (CategoricalHMM, np.random.default_rng(2).integers(0, 5, (600, 1))),
    (PoissonHMM, np.random.default_rng(3).poisson(4, (600, 2))),
    (GMMHMM, np.random.default_rng(4).normal(size=(600, 2))),
])
def test_em_monotone_for_other_emissions(cls, X):
    kw = {"n_mix": 2} if cls is GMMHMM else {}
    model = cls(3, n_iter=20, tol=-np.inf, random_state=0, **kw).fit(X, [300, 300])
    history = np.array(model.monitor_.history)
    assert np.all(np.diff(history) >= -1e-8 * np.abs(history[1:]))
    np.testing.assert_allclose(model.transmat_.sum(axis=1), 1.0, atol=1e-12)


def test_scaling_and_log_implementations_fit_identically():
    _, X, _, lengths = _sample_gaussian_data()
    a = GaussianHMM(3, n_iter=10, random_state=0).fit(X, lengths)
    b = GaussianHMM(3, n_iter=10, random_state=0, implementation="log").fit(X, lengths)
    np.testing.assert_allclose(a.monitor_.history, b.monitor_.history, rtol=1e-10)
    np.testing.assert_allclose(a.means_, b.means_, rtol=1e-8)


def test_fit_recovers_generating_states():
    truth, X, Z, lengths = _sample_gaussian_data(n_seq=4, length=300)
    model = GaussianHMM(3, n_iter=100, random_state=0).fit(X, lengths)
    pred = model.predict(X, lengths)
    agree = max(np.mean(np.array(p)[pred] == Z) for p in itertools.permutations(range(3)))
    assert agree >= np.mean(truth.predict(X, lengths) == Z) - 0.01
    assert model.score(X, lengths) >= truth.score(X, lengths)


@pytest.mark.parametrize("hl_impl", ["log", "scaling"])
def test_parity_with_hmmlearn_given_identical_parameters(hl_impl):
    hmm = pytest.importorskip("hmmlearn.hmm")
    rng = np.random.default_rng(5)
    for ctype in COVARIANCE_TYPES:
        ours, covars = _gaussian_model(ctype, rng, K=4, D=3)
        ref = hmm.GaussianHMM(4, covariance_type=ctype, implementation=hl_impl)
        ref.startprob_, ref.transmat_, ref.means_ = ours.startprob_, ours.transmat_, ours.means_
        ref.covars_ = covars
        X, _ = ours.sample(300, random_state=1)
        assert ours.score(X, [100, 200]) == pytest.approx(ref.score(X, [100, 200]), rel=1e-10)
        np.testing.assert_array_equal(ours.predict(X, [100, 200]), ref.predict(X, [100, 200]))
        np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-9)
    cat = CategoricalHMM(3)
    cat.startprob_, cat.transmat_ = _chain(3, rng)
    cat.emissionprob_ = rng.dirichlet(np.ones(6), size=3)
    ref = hmm.CategoricalHMM(3, implementation=hl_impl)
    ref.startprob_, ref.transmat_, ref.emissionprob_ = (
        cat.startprob_, cat.transmat_, cat.emissionprob_)
    X, _ = cat.sample(400, random_state=2)
    assert cat.score(X) == pytest.approx(ref.score(X), rel=1e-10)
    # discrete emissions make exactly tied best paths common; the best score must agree
    ours_logprob, ours_path = cat.decode(X)
    ref_logprob, ref_path = ref.decode(X)
    assert ours_logprob == pytest.approx(ref_logprob, rel=1e-12)
    assert _path_logprob(cat, X, ours_path) == pytest.approx(ref_logprob, rel=1e-12)
    assert np.mean(ours_path == ref_path) > 0.9
    poi = PoissonHMM(3)
    poi.startprob_, poi.transmat_ = _chain(3, rng)
    poi.lambdas_ = rng.uniform(1, 10, (3, 2))
    ref = hmm.PoissonHMM(3, implementation=hl_impl)
    ref.startprob_, ref.transmat_, ref.lambdas_ = poi.startprob_, poi.transmat_, poi.lambdas_
    X, _ = poi.sample(300, random_state=3)
    assert poi.score(X) == pytest.approx(ref.score(X), rel=1e-10)
    np.testing.assert_array_equal(poi.predict(X), ref.predict(X))


def test_em_matches_hmmlearn_from_the_same_start():
    hmm = pytest.importorskip("hmmlearn.hmm")
    _, X, _, lengths = _sample_gaussian_data(ctype="full")
    init = GaussianHMM(3, covariance_type="full", n_iter=0, random_state=0).fit(X, lengths)
    ours = GaussianHMM(3, covariance_type="full", n_iter=15, tol=-np.inf, init_params="")
    ref = hmm.GaussianHMM(3, covariance_type="full", n_iter=15, tol=-np.inf, init_params="",
                          covars_prior=1e-2 * np.tile(np.eye(2), (3, 1, 1)))
    for m in (ours, ref):
        m.startprob_, m.transmat_ = init.startprob_.copy(), init.transmat_.copy()
        m.means_, m.covars_ = init.means_.copy(), init.covars_.copy()
    ours.fit(X, lengths)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref.fit(X, lengths)
    assert ours.score(X, lengths) == pytest.approx(ref.score(X, lengths), rel=1e-9)
    np.testing.assert_allclose(ours.covars_, ref.covars_, rtol=1e-7)


def test_million_step_sequence_scores_finite():
    model = CategoricalHMM(2)
    model.startprob_ = np.array([0.5, 0.5])
    model.transmat_ = np.array([[0.99, 0.01], [0.02, 0.98]])
    model.emissionprob_ = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])
    X, _ = model.sample(1_000_000, random_state=0)
    value = model.score(X)
    assert np.isfinite(value) and value < -500_000
    assert np.isfinite(model.predict(X[:200_000])).all()


def test_underflowing_sequence_falls_back_to_log_space():
    model = GaussianHMM(2, covariance_type="diag")
    model.startprob_ = np.array([1.0, 0.0])
    model.transmat_ = np.array([[1.0, 0.0], [0.5, 0.5]])  # state 1 unreachable
    model.means_ = np.array([[0.0], [1000.0]])
    model.covars_ = np.array([[1.0], [1.0]])
    X = np.array([[1000.0], [1000.0], [0.0]])  # state 0 must explain 1000: likelihood ~e^-5e5
    expected = stats.norm(0, 1).logpdf(X).sum()
    assert model.score(X) == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(model.predict_proba(X)[:, 0], 1.0)


def test_state_without_responsibility_leaves_no_nan():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(200, 2))
    model = GaussianHMM(3, covariance_type="full", n_iter=5, init_params="", tol=-np.inf)
    model.startprob_ = np.array([0.5, 0.5, 0.0])
    model.transmat_ = np.array([[0.5, 0.5, 0.0], [0.5, 0.5, 0.0], [0.3, 0.3, 0.4]])
    model.means_ = np.array([[0.0, 0.0], [1.0, 1.0], [500.0, 500.0]])
    model.covars_ = np.tile(np.eye(2), (3, 1, 1))
    model.fit(X)
    for value in (model.startprob_, model.transmat_, model.means_, model.covars_):
        assert np.all(np.isfinite(value))
    np.testing.assert_allclose(model.transmat_.sum(axis=1), 1.0)
    np.testing.assert_allclose(model.means_[2], [500.0, 500.0])  # kept, not 0/0


def test_covariances_stay_positive_definite_on_degenerate_data():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(300, 1))
    X = np.hstack([x, 2 * x, np.zeros((300, 1))])  # rank one, a constant column
    for ctype in COVARIANCE_TYPES:
        model = GaussianHMM(2, covariance_type=ctype, n_iter=10, random_state=0).fit(X)
        eig = np.linalg.eigvalsh(model.covars_)
        assert np.all(eig >= model.min_covar * (1 - 1e-9)), ctype
        assert np.isfinite(model.score(X))


def test_dirichlet_transmat_prior_is_map_estimate():
    X = np.array([[0], [0], [0], [1], [1], [1]] * 10)
    model = CategoricalHMM(2, transmat_prior=np.array([[5.0, 1.0], [1.0, 5.0]]), n_iter=1,
                           init_params="", params="t")
    model.startprob_ = np.array([0.5, 0.5])
    model.transmat_ = np.full((2, 2), 0.5)
    model.emissionprob_ = np.array([[1 - 1e-9, 1e-9], [1e-9, 1 - 1e-9]])
    model.fit(X)
    # expected counts: 0->0: 20, 0->1: 10, 1->1: 20, 1->0: 9, plus prior - 1 on the diagonal
    np.testing.assert_allclose(model.transmat_[0], [24 / 34, 10 / 34], atol=1e-6)
    np.testing.assert_allclose(model.transmat_[1], [9 / 33, 24 / 33], atol=1e-6)


def test_save_load_round_trip_gives_identical_scores(tmp_path):
    _, X, _, lengths = _sample_gaussian_data()
    models = [
        GaussianHMM(3, covariance_type="tied", n_iter=3, random_state=0).fit(X, lengths),
        GMMHMM(2, n_mix=2, covariance_type="full", n_iter=3, random_state=0).fit(X, lengths),
        CategoricalHMM(2, n_iter=3, random_state=0).fit((X[:, :1] > 0).astype(int)),
        PoissonHMM(2, n_iter=3, random_state=0).fit(np.abs(X).round().astype(int)),
    ]
    data = [X, X, (X[:, :1] > 0).astype(int), np.abs(X).round().astype(int)]
    for model, Xm in zip(models, data, strict=True):
        path = model.save(tmp_path / f"{type(model).__name__}.lm")
        loaded = type(model).load(path)
        assert loaded.score(Xm) == model.score(Xm)
        np.testing.assert_array_equal(loaded.predict(Xm), model.predict(Xm))
        assert loaded.monitor_.history == model.monitor_.history
        assert loaded.get_params() == model.get_params()


def test_sample_transform_inverse_transform_contract():
    truth, X, Z, lengths = _sample_gaussian_data()
    Xs, states = truth.sample(50, random_state=0)
    assert Xs.shape == (50, 2) and states.shape == (50,)
    Xs2, _ = truth.sample(50, random_state=0)
    np.testing.assert_array_equal(Xs, Xs2)
    _, first = truth.sample(5, currstate=2, random_state=1)
    assert first[0] == 2
    post = truth.transform(X, lengths)
    np.testing.assert_allclose(post.sum(axis=1), 1.0)
    np.testing.assert_allclose(truth.inverse_transform(states), truth.means_[states])
    np.testing.assert_allclose(truth.inverse_transform(post), post @ truth.means_)
    assert truth.fit_transform(X, lengths).shape == (len(X), 3)


def test_streaming_fit_batches_equals_fit_and_partial_fit_runs():
    _, X, _, lengths = _sample_gaussian_data(n_seq=4)
    parts = np.split(X, np.cumsum(lengths)[:-1])
    init = GaussianHMM(3, n_iter=0, random_state=0).fit(X, lengths)

    def fresh():
        m = GaussianHMM(3, n_iter=6, tol=-np.inf, init_params="")
        m.startprob_, m.transmat_ = init.startprob_.copy(), init.transmat_.copy()
        m.means_, m.covars_ = init.means_.copy(), init._covars_.copy()
        return m

    full = fresh().fit(X, lengths)
    streamed = fresh().fit_batches([(np.concatenate(parts[:2]), lengths[:2]), parts[2], parts[3]])
    np.testing.assert_allclose(streamed.monitor_.history, full.monitor_.history, rtol=1e-10)
    np.testing.assert_allclose(streamed.means_, full.means_, rtol=1e-9)
    online = GaussianHMM(3, random_state=0)
    for part in parts:
        online.partial_fit(part)
    assert np.isfinite(online.score(X, lengths))
    assert len(online.monitor_.history) == 4


def test_select_n_states_and_information_criteria():
    rng = np.random.default_rng(8)
    X = np.concatenate([rng.normal(m, 0.3, (80, 1)) for m in (0, 4, 8) * 3])
    best, scores = select_n_states(GaussianHMM(n_iter=40, random_state=0), X, n_states=[1, 3, 5])
    assert best.n_components == 3
    assert scores[3] == pytest.approx(best.bic(X))
    assert scores[3] < scores[1]
    n_params = 2 + 6 + 3 + 3  # start, transitions, means, variances
    assert best.aic(X) == pytest.approx(-2 * best.score(X) + 2 * n_params)


def test_estimator_is_clonable_and_hyperparameters_untouched():
    model = GaussianHMM(3, covariance_type="full", random_state=np.int64(3).item(), n_init=2)
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    _, X, _, lengths = _sample_gaussian_data()
    model.fit(X, lengths)
    assert model.random_state == 3 and model.n_init == 2
    assert model.n_features == 2
