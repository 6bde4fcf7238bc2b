"""The parallel block kernels (dynamic scheduling, shared workspace) agree with the serial
ones, and EM's thread tuner gives the same fit either way."""

from __future__ import annotations

import numpy as np
import pytest

from latentmodels.hmm import CategoricalHMM, GaussianHMM, _kernels

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _data(kind):
    rng = np.random.default_rng(0)
    lengths = rng.integers(5, 120, size=23)  # uneven: blocks with padded lanes
    if kind == "categorical":
        model = CategoricalHMM(3)
        model.emissionprob_ = rng.dirichlet(np.ones(6), size=3)
    else:
        model = GaussianHMM(3)
        model.means_ = rng.normal(0, 3, (3, 2))
        model.covars_ = rng.uniform(0.5, 1.5, (3, 2))
    model.startprob_ = np.full(3, 1 / 3)
    model.transmat_ = np.full((3, 3), 0.1) + np.eye(3) * 0.7
    X = np.concatenate([model.sample(int(n), random_state=i)[0] for i, n in enumerate(lengths)])
    return model, X, lengths


@pytest.mark.parametrize("kind", ["diag", "categorical"])
def test_parallel_and_serial_kernels_agree(kind, monkeypatch):
    model, X, lengths = _data(kind)
    with _kernels.serial_only():
        serial = (model.score_sequences(X, lengths), model.predict_proba(X, lengths),
                  model.predict(X, lengths))
    monkeypatch.setattr(_kernels, "SERIAL_WORK", 0)  # parallel kernels even on tiny data
    parallel = (model.score_sequences(X, lengths), model.predict_proba(X, lengths),
                model.predict(X, lengths))
    np.testing.assert_allclose(parallel[0], serial[0], rtol=1e-12)
    np.testing.assert_allclose(parallel[1], serial[1], atol=1e-12)
    np.testing.assert_array_equal(parallel[2], serial[2])
    fits = []
    for force in (True, False):
        template = (CategoricalHMM(3, n_iter=12, tol=-np.inf, random_state=0) if
                    kind == "categorical" else GaussianHMM(3, n_iter=12, tol=-np.inf,
                                                           random_state=0))
        with _kernels.serial_only(force):
            fits.append(template.fit(X, lengths).monitor_.history)
    np.testing.assert_allclose(fits[0], fits[1], rtol=1e-10)


def _reference(log_frame, offsets, startprob, transmat):
    """Log-space forward-backward (the underflow-proof kernel): loglik, gamma, xi sum."""
    n_seq = len(offsets) - 1
    K = len(startprob)
    gamma = np.empty_like(log_frame)
    xi = np.empty((n_seq, K, K))
    loglik = np.empty(n_seq)
    with np.errstate(divide="ignore"):
        _kernels.forward_backward_log(log_frame, offsets, np.log(startprob), np.log(transmat),
                                      gamma, xi, loglik, True)
    return loglik, gamma, xi.sum(axis=0)


def _block_kernel(kind, X, log_frame, offsets, startprob, transmat, table=None):
    from latentmodels.hmm.base import _schedule

    K = len(startprob)
    plan = _schedule(offsets)
    steps = int(plan[3][-1])
    width = _kernels.padded(K) * _kernels.LANES
    work = (np.empty(steps * _kernels.LANES), np.empty(steps * width),
            np.empty(steps * 2 * _kernels.LANES))
    gamma = np.full(log_frame.shape, np.nan)
    xi = np.empty((len(plan[1]) - 1, K, K))
    loglik = np.empty(len(offsets) - 1)
    if kind == "symbols":
        kernel = _kernels.choose(_kernels.forward_backward_symbols, 0)
        kernel(X, table, offsets, *plan, *work, startprob, transmat, gamma, xi, loglik)
    else:
        rowmax = log_frame.max(axis=1)
        rowmax[~np.isfinite(rowmax)] = 0.0  # as shift_rows: an impossible step stays 0
        frame = np.exp(log_frame - rowmax[:, None])
        kernel = _kernels.choose(_kernels.forward_backward_scaled, 0)
        kernel(frame, offsets, *plan, *work, startprob, transmat, gamma, xi, loglik)
        loglik += np.add.reduceat(rowmax, offsets[:-1])
    return loglik, gamma, transmat * xi.sum(axis=0)


@pytest.mark.parametrize("K", [1, 3, 8, 11])
@pytest.mark.parametrize("kind", ["frame", "symbols"])
def test_simd_block_kernel_matches_log_space(K, kind):
    """The SIMD block kernels (transposing loads, padded states and lanes, fused posteriors
    and transition counts) agree with the plain log-space recursion, for state counts below,
    at and above one SIMD chunk and for uneven sequence lengths (padded lanes)."""
    rng = np.random.default_rng(K)
    lengths = rng.integers(1, 60, size=19)
    offsets = np.r_[0, np.cumsum(lengths)].astype(np.int64)
    n = int(offsets[-1])
    startprob = rng.dirichlet(np.ones(K))
    transmat = rng.dirichlet(np.ones(K), size=K)
    table = None
    if kind == "symbols":
        M = 7
        table = np.ascontiguousarray(rng.dirichlet(np.ones(M), size=K).T)  # (M, K)
        X = rng.integers(0, M, size=n)
        log_frame = np.log(table[X])
    else:
        X = None
        log_frame = rng.normal(-3.0, 2.0, size=(n, K))
    ref = _reference(log_frame, offsets, startprob, transmat)
    got = _block_kernel(kind, X, log_frame, offsets, startprob, transmat, table)
    np.testing.assert_allclose(got[0], ref[0], rtol=1e-12)
    np.testing.assert_allclose(got[1], ref[1], atol=1e-12)
    np.testing.assert_allclose(got[2], ref[2], rtol=1e-10, atol=1e-12)


def test_simd_block_kernel_flags_impossible_sequences():
    """A sequence with an impossible step gets a NaN log-likelihood, adds nothing to the
    transition counts and leaves the other lanes of its block untouched."""
    rng = np.random.default_rng(5)
    K = 4
    lengths = np.array([30, 25, 40, 12, 33])
    offsets = np.r_[0, np.cumsum(lengths)].astype(np.int64)
    startprob = rng.dirichlet(np.ones(K))
    transmat = rng.dirichlet(np.ones(K), size=K)
    log_frame = rng.normal(-2.0, 1.0, size=(int(offsets[-1]), K))
    ok = [0, 1, 3, 4]
    ref_rows = np.concatenate([np.arange(offsets[s], offsets[s + 1]) for s in ok])
    ref = _reference(log_frame[ref_rows], np.r_[0, np.cumsum(lengths[ok])].astype(np.int64),
                     startprob, transmat)
    bad = log_frame.copy()
    bad[offsets[2] + 7] = -np.inf  # no state can emit this step
    got = _block_kernel("frame", None, bad, offsets, startprob, transmat)
    assert np.isnan(got[0][2]) and np.all(np.isfinite(got[0][ok]))
    np.testing.assert_allclose(got[0][ok], ref[0], rtol=1e-12)
    np.testing.assert_allclose(got[1][ref_rows], ref[1], atol=1e-12)
    np.testing.assert_allclose(got[2], ref[2], rtol=1e-10, atol=1e-12)


def _viterbi_kernels(kind, X, log_frame, offsets, log_start, log_trans, log_table=None,
                     simd_from=0):
    """(path, logprob) from the block Viterbi kernel, parallel and serial twin, and from the
    scalar reference kernel; ``simd_from=0``: every block in SIMD lanes, a huge value: every
    block lane by lane."""
    from latentmodels.hmm.base import _schedule

    n, K = log_frame.shape
    plan = _schedule(offsets)
    steps = int(plan[3][-1])
    out = {}
    for name in ("parallel", "serial", "reference"):
        path = np.full(n, -1, dtype=np.int64)
        logprob = np.full(len(offsets) - 1, np.nan)
        if name == "reference":
            _kernels.viterbi_reference(log_frame, offsets, *plan[:3], log_start, log_trans,
                                       path, logprob, np.empty((n, K), dtype=np.int32))
        else:
            work = (np.empty(steps * _kernels.LANES),
                    np.empty(steps * _kernels.padded(K) * _kernels.LANES, dtype=np.int16))
            simd = _kernels.viterbi_symbols if kind == "symbols" else _kernels.viterbi
            kernel = simd if name == "parallel" else _kernels.choose(simd, 0)
            data = (X, log_table) if kind == "symbols" else (log_frame,)
            kernel(*data, offsets, *plan, *work, log_start, log_trans, path, logprob,
                   simd_from)
        out[name] = (path, logprob)
    return out


LANE_MODES = {"simd": 0, "lane-by-lane": 10**9}


@pytest.mark.parametrize("mode", LANE_MODES)
@pytest.mark.parametrize("K", [1, 3, 8, 11])
@pytest.mark.parametrize("kind", ["frame", "symbols"])
def test_simd_viterbi_equals_scalar_reference(K, kind, mode):
    """The block Viterbi (SIMD lanes, or lane by lane for sparse blocks) returns exactly the
    scalar kernel's paths and log-probabilities (same additions, same comparisons), for
    state counts below, at and above one SIMD chunk, uneven lengths (padded lanes) and zero
    transitions (-inf)."""
    rng = np.random.default_rng(100 + K)
    lengths = rng.integers(1, 70, size=21)
    offsets = np.r_[0, np.cumsum(lengths)].astype(np.int64)
    n = int(offsets[-1])
    with np.errstate(divide="ignore"):
        log_start = np.log(rng.dirichlet(np.ones(K)))
        transmat = rng.dirichlet(np.ones(K), size=K)
        if K > 2:
            transmat[0, 1] = 0.0  # an impossible transition
        log_trans = np.log(transmat / transmat.sum(axis=1, keepdims=True))
    X = log_table = None
    if kind == "symbols":
        log_table = np.log(rng.dirichlet(np.ones(7), size=K).T.copy())  # (M, K)
        X = rng.integers(0, 7, size=n)
        log_frame = log_table[X]
    else:
        log_frame = rng.normal(-3.0, 2.0, size=(n, K))
    got = _viterbi_kernels(kind, X, log_frame, offsets, log_start, log_trans, log_table,
                           LANE_MODES[mode])
    ref_path, ref_logprob = got["reference"]
    assert np.all(np.isfinite(ref_logprob))
    for name in ("parallel", "serial"):
        np.testing.assert_array_equal(got[name][0], ref_path)
        np.testing.assert_array_equal(got[name][1], ref_logprob)


def _brute_force_viterbi(log_frame, log_start, log_trans):
    """Best score over all K^T paths, and among the paths that reach it the one whose last
    state is lowest, then the state before it, and so on (the documented tie-break)."""
    T, K = log_frame.shape
    paths = np.array(np.meshgrid(*[np.arange(K)] * T, indexing="ij")).reshape(T, -1).T
    score = log_start[paths[:, 0]] + log_frame[0, paths[:, 0]]
    for t in range(1, T):
        score = score + log_trans[paths[:, t - 1], paths[:, t]] + log_frame[t, paths[:, t]]
    best = score.max()
    tied = paths[score == best]
    order = np.lexsort(tied.T)  # the last column is the primary key
    return best, tied[order[0]], len(tied)


@pytest.mark.parametrize("mode", LANE_MODES)
@pytest.mark.parametrize("K,max_len", [(3, 7), (9, 4)])
def test_viterbi_tie_break_is_lowest_state_from_the_end(K, max_len, mode):
    """With integer log-probabilities every sum is exact and many paths tie: each kernel
    returns the best score, and among tied paths the lowest last state, then the lowest
    predecessor of it, back to the start, as brute-force enumeration says."""
    rng = np.random.default_rng(K)
    lengths = rng.integers(1, max_len + 1, size=13)
    offsets = np.r_[0, np.cumsum(lengths)].astype(np.int64)
    log_frame = -rng.integers(1, 3, size=(int(offsets[-1]), K)).astype(float)
    log_start = -rng.integers(1, 3, size=K).astype(float)
    log_trans = -rng.integers(1, 3, size=(K, K)).astype(float)
    got = _viterbi_kernels("frame", None, log_frame, offsets, log_start, log_trans,
                           simd_from=LANE_MODES[mode])
    n_tied = 0
    for s, (lo, hi) in enumerate(zip(offsets[:-1], offsets[1:], strict=True)):
        best, path, tied = _brute_force_viterbi(log_frame[lo:hi], log_start, log_trans)
        n_tied += tied > 1
        for name, (paths, logprobs) in got.items():
            assert logprobs[s] == best, name
            np.testing.assert_array_equal(paths[lo:hi], path, err_msg=name)
    assert n_tied >= 8  # the data does exercise ties


@pytest.mark.parametrize("mode", LANE_MODES)
def test_viterbi_of_an_impossible_sequence_matches_the_reference(mode):
    """A step no state can emit gives log-probability -inf; the path is then the
    reference kernel's (all ties, lowest states), and the other lanes are untouched."""
    rng = np.random.default_rng(3)
    K = 4
    lengths = np.array([20, 9, 31, 15])
    offsets = np.r_[0, np.cumsum(lengths)].astype(np.int64)
    log_frame = rng.normal(-2.0, 1.0, size=(int(offsets[-1]), K))
    log_frame[offsets[1] + 4] = -np.inf
    log_start = np.log(rng.dirichlet(np.ones(K)))
    log_trans = np.log(rng.dirichlet(np.ones(K), size=K))
    got = _viterbi_kernels("frame", None, log_frame, offsets, log_start, log_trans,
                           simd_from=LANE_MODES[mode])
    assert got["reference"][1][1] == -np.inf
    assert np.all(np.isfinite(got["reference"][1][[0, 2, 3]]))
    for name in ("parallel", "serial"):
        np.testing.assert_array_equal(got[name][0], got["reference"][0])
        np.testing.assert_array_equal(got[name][1], got["reference"][1])


def test_decode_with_all_paths_tied_returns_state_zero():
    """Identical states and a uniform chain make every path equally likely: the tie-break
    picks state 0 throughout, for Gaussian and categorical emissions."""
    gauss = GaussianHMM(3)
    gauss.startprob_, gauss.transmat_ = np.full(3, 1 / 3), np.full((3, 3), 1 / 3)
    gauss.means_, gauss.covars_ = np.zeros((3, 2)), np.ones((3, 2))
    cat = CategoricalHMM(3)
    cat.startprob_, cat.transmat_ = np.full(3, 1 / 3), np.full((3, 3), 1 / 3)
    cat.emissionprob_ = np.full((3, 4), 0.25)
    rng = np.random.default_rng(0)
    for model, X in ((gauss, rng.normal(size=(40, 2))), (cat, rng.integers(0, 4, (40, 1)))):
        logprob, path = model.decode(X, [25, 15])
        np.testing.assert_array_equal(path, np.zeros(40, dtype=int))
        assert np.isfinite(logprob)


@pytest.mark.parametrize("kind", ["diag", "categorical"])
def test_viterbi_matches_hmmlearn_on_random_models(kind):
    """Paths and log-probabilities equal hmmlearn's on random 10-state models (over one
    SIMD chunk of states) and several sequences."""
    hmm = pytest.importorskip("hmmlearn.hmm")
    rng = np.random.default_rng(11)
    K = 10
    start = rng.dirichlet(np.ones(K))
    trans = rng.dirichlet(np.ones(K), size=K)
    if kind == "categorical":
        ours, ref = CategoricalHMM(K), hmm.CategoricalHMM(K)
        ours.emissionprob_ = ref.emissionprob_ = rng.dirichlet(np.ones(12), size=K)
    else:
        ours, ref = GaussianHMM(K), hmm.GaussianHMM(K)
        ours.means_ = ref.means_ = rng.normal(0, 2, (K, 3))
        ours.covars_ = ref.covars_ = rng.uniform(0.5, 2.0, (K, 3))
    ours.startprob_ = ref.startprob_ = start
    ours.transmat_ = ref.transmat_ = trans
    lengths = [150, 80, 3, 121, 60, 99, 1, 45, 200, 33]
    X, _ = ours.sample(sum(lengths), random_state=5)
    logprob, path = ours.decode(X, lengths)
    ref_logprob, ref_path = ref.decode(X, lengths)
    assert logprob == pytest.approx(ref_logprob, rel=1e-12)
    np.testing.assert_array_equal(path, ref_path)



def test_fit_plans_its_blocks_once_and_predict_reuses_one_blas_controller(monkeypatch):
    """The per-call fixed costs that load multiplies: EM makes the block schedule once per
    fit (not once per iteration), and calls share one threadpoolctl controller (building
    one scans the loaded libraries, 1.5 ms)."""
    from latentmodels.hmm import base

    model, X, lengths = _data("diag")
    calls = {"schedule": 0, "controller": 0}
    schedule, controller = base._schedule, base.ThreadpoolController

    def counted_schedule(offsets):
        calls["schedule"] += 1
        return schedule(offsets)

    def counted_controller():
        calls["controller"] += 1
        return controller()

    monkeypatch.setattr(base, "_schedule", counted_schedule)
    monkeypatch.setattr(base, "ThreadpoolController", counted_controller)
    monkeypatch.setattr(base, "_BLAS_CONTROLLER", [])
    fitted = GaussianHMM(3, n_iter=6, tol=-np.inf, random_state=0).fit(X, lengths)
    assert fitted.monitor_.iter == 6 and calls["schedule"] == 1
    for _ in range(3):
        fitted.predict(X, lengths)
    assert calls["schedule"] == 4 and calls["controller"] == 1
