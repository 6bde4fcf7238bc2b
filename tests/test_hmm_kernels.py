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
