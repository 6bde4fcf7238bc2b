"""Compiled time recursions of the HMM: forward-backward, Viterbi and state sampling.

Everything that loops over time lives here, compiled by numba and cached on disk. The
per-frame emission likelihoods are computed beforehand as one vectorised numpy operation;
these kernels only run the recursions, in parallel over sequences (``prange``).

Scaled kernels take ``frame`` = exp(log-likelihood - row max) and return the log of the
normalisers; a sequence whose normaliser underflows is reported with a NaN log-likelihood
so that the caller can redo it with the log-space kernel.
"""

from __future__ import annotations

import contextlib
import threading

import numpy as np
from numba import njit, prange

# Sequences advanced together per block; a compile-time constant, so the loops over lanes
# become fixed-width SIMD instructions.
LANES = 8

# reassociation lets LLVM vectorise the small reductions; no "nnan"/"ninf", because the
# kernels test for zeros and non-finite values on purpose
_FAST = {"reassoc", "contract", "nsz", "arcp"}


@njit(cache=True, error_model="numpy")
def _block_lanes(offsets, seq_order, lo, hi):
    n_lanes = hi - lo
    starts = np.empty(n_lanes, dtype=np.int64)
    lens = np.empty(n_lanes, dtype=np.int64)
    maxlen = 0
    for lane in range(n_lanes):
        s = seq_order[lo + lane]
        starts[lane] = offsets[s]
        lens[lane] = offsets[s + 1] - offsets[s]
        if lens[lane] > maxlen:
            maxlen = lens[lane]
    return starts, lens, maxlen


# The recursions are latency-bound for one sequence (each step waits for the last), so
# every worker advances a block of up to 8 sequences ("lanes") together, one time step at a
# time, in a time-major local layout [t, state, lane] whose innermost loop over lanes
# vectorises (SIMD). Steps past a lane's end are padded with likelihood 1 and ignored.
# Workers get balanced sets of blocks.


@njit(cache=True, error_model="numpy")
def _workspace(work, step_ptr, b, maxlen, width):
    """Block ``b``'s slice of a flat workspace, viewed as (maxlen, width, LANES): one
    allocation per call (or per fit) instead of fresh pages for every block."""
    lo = step_ptr[b] * width * LANES
    return work[lo : lo + maxlen * width * LANES].reshape((maxlen, width, LANES))


@njit(cache=True, error_model="numpy")
def _gather(frame, starts, lens, F):
    """Copy a block's rows to F[t, state, lane]; padding (short or absent lanes) is 1."""
    maxlen, n_states, _ = F.shape
    n_lanes = starts.shape[0]
    for t in range(maxlen):  # time outer: each step's K x LANES tile is written in one go
        for lane in range(LANES):
            if lane < n_lanes and t < lens[lane]:
                r = starts[lane] + t
                for j in range(n_states):
                    F[t, j, lane] = frame[r, j]
            else:
                for j in range(n_states):
                    F[t, j, lane] = 1.0


@njit(cache=True, error_model="numpy", fastmath=_FAST)
def _forward_block(F, startprob, transmat, A, S):
    """Scaled forward pass of one block: A[t, j, lane] alphas, S[t, lane] normalisers."""
    maxlen, n_states, _ = F.shape
    norm = np.zeros(LANES)
    for j in range(n_states):
        for lane in range(LANES):
            A[0, j, lane] = startprob[j] * F[0, j, lane]
            norm[lane] += A[0, j, lane]
    for lane in range(LANES):
        S[0, lane] = norm[lane]
    for j in range(n_states):
        for lane in range(LANES):
            A[0, j, lane] /= norm[lane]
    for t in range(1, maxlen):
        for lane in range(LANES):
            norm[lane] = 0.0
        for j in range(n_states):
            for lane in range(LANES):
                A[t, j, lane] = 0.0
            for i in range(n_states):
                a_ij = transmat[i, j]
                for lane in range(LANES):
                    A[t, j, lane] += A[t - 1, i, lane] * a_ij
            for lane in range(LANES):
                A[t, j, lane] *= F[t, j, lane]
                norm[lane] += A[t, j, lane]
        for lane in range(LANES):
            S[t, lane] = norm[lane]
            norm[lane] = 1.0 / norm[lane]
        for j in range(n_states):
            for lane in range(LANES):
                A[t, j, lane] *= norm[lane]


@njit(cache=True, error_model="numpy")
def _lane_loglik(S, lens, lane):
    total = 0.0
    prod = 1.0
    ok = True
    for t in range(lens[lane]):
        v = S[t, lane]
        if not (v > 0.0 and np.isfinite(v)):
            ok = False
            break
        prod *= v
        if prod < 1e-250 or prod > 1e250:  # one log per many steps, not one per step
            total += np.log(prod)
            prod = 1.0
    total += np.log(prod)
    if ok and np.isfinite(total):
        return total
    return np.nan


@njit(cache=True, error_model="numpy", parallel=True)
def forward_scaled(frame, offsets, seq_order, block_ptr, worker_ptr, step_ptr, work_F,
                   work_A, work_S, startprob, transmat, loglik):
    """Per-sequence log of the product of forward normalisers (no lattice kept).

    ``work_F``/``work_A`` (``step_ptr[-1] * K * LANES``) and ``work_S`` (``step_ptr[-1] *
    LANES``) are workspace; ``step_ptr`` gives each block's offset in steps."""
    n_states = startprob.shape[0]
    for worker in prange(worker_ptr.shape[0] - 1):
        for b in range(worker_ptr[worker], worker_ptr[worker + 1]):
            lo, hi = block_ptr[b], block_ptr[b + 1]
            starts, lens, maxlen = _block_lanes(offsets, seq_order, lo, hi)
            F = _workspace(work_F, step_ptr, b, maxlen, n_states)
            A = _workspace(work_A, step_ptr, b, maxlen, n_states)
            S = _workspace(work_S, step_ptr, b, maxlen, 1)[:, 0, :]
            _gather(frame, starts, lens, F)
            _forward_block(F, startprob, transmat, A, S)
            for lane in range(hi - lo):
                loglik[seq_order[lo + lane]] = _lane_loglik(S, lens, lane)


@njit(cache=True, error_model="numpy", fastmath=_FAST)
def _backward_block(F, A, S, lens, transmat, starts, frame, alpha, gamma, ok):
    """Backward pass of one block; writes alphas, posteriors and w_t to the global arrays."""
    maxlen, n_states, _ = F.shape
    n_lanes = lens.shape[0]
    beta = np.ones((n_states, LANES))
    w = np.empty((n_states, LANES))
    norm = np.empty(LANES)
    inv = np.empty(LANES)
    for t in range(maxlen - 1, -1, -1):
        # posteriors at t from alpha_t and beta_t
        for lane in range(LANES):
            norm[lane] = 0.0
        for j in range(n_states):
            for lane in range(LANES):
                norm[lane] += A[t, j, lane] * beta[j, lane]
        for lane in range(n_lanes):
            if not (norm[lane] > 0.0 and np.isfinite(norm[lane])):
                ok[lane] = False
            if t < lens[lane] and ok[lane]:
                r = starts[lane] + t
                scl = 1.0 / norm[lane]
                for j in range(n_states):
                    gamma[r, j] = A[t, j, lane] * beta[j, lane] * scl
                    alpha[r, j] = A[t, j, lane]
        if t == 0:
            break
        # w_t = F_t * beta_t / S_t, then beta_{t-1} = transmat @ w_t
        for lane in range(LANES):
            inv[lane] = 1.0 / S[t, lane]
        for j in range(n_states):
            for lane in range(LANES):
                w[j, lane] = F[t, j, lane] * beta[j, lane] * inv[lane]
        for lane in range(n_lanes):
            if t < lens[lane]:
                r = starts[lane] + t
                for j in range(n_states):
                    frame[r, j] = w[j, lane]
        for i in range(n_states):
            for lane in range(LANES):
                beta[i, lane] = 0.0
            for j in range(n_states):
                a_ij = transmat[i, j]
                for lane in range(LANES):
                    beta[i, lane] += a_ij * w[j, lane]
        for lane in range(n_lanes):
            if t - 1 >= lens[lane] - 1:  # not yet inside this lane: beta stays 1
                for i in range(n_states):
                    beta[i, lane] = 1.0


@njit(cache=True, error_model="numpy")
def _gather_symbols(symbols, table, starts, lens, F):
    """Like :func:`_gather`, reading ``table[symbol, state]`` (categorical emissions):
    the likelihoods come straight from the emission table, with no log or exp."""
    maxlen, n_states, _ = F.shape
    n_lanes = starts.shape[0]
    for t in range(maxlen):
        for lane in range(LANES):
            if lane < n_lanes and t < lens[lane]:
                row = table[symbols[starts[lane] + t]]
                for j in range(n_states):
                    F[t, j, lane] = row[j]
            else:
                for j in range(n_states):
                    F[t, j, lane] = 1.0


@njit(cache=True, error_model="numpy")
def _fb_block(F, A, S, starts, lens, lo, hi, seq_order, startprob, transmat, w_out, alpha,
              gamma, loglik):
    """Forward-backward of one gathered block (see :func:`forward_backward_scaled`)."""
    n_states = startprob.shape[0]
    n_lanes = hi - lo
    _forward_block(F, startprob, transmat, A, S)
    ok = np.ones(n_lanes, dtype=np.bool_)
    for lane in range(n_lanes):
        loglik[seq_order[lo + lane]] = _lane_loglik(S, lens, lane)
        if np.isnan(loglik[seq_order[lo + lane]]):
            ok[lane] = False
    _backward_block(F, A, S, lens, transmat, starts, w_out, alpha, gamma, ok)
    for lane in range(n_lanes):
        s = seq_order[lo + lane]
        first = starts[lane]
        for j in range(n_states):
            w_out[first, j] = 0.0
        if not ok[lane]:
            loglik[s] = np.nan
            for r in range(first, first + lens[lane]):
                for j in range(n_states):
                    w_out[r, j] = 0.0
                    alpha[r, j] = 0.0


@njit(cache=True, error_model="numpy", parallel=True)
def forward_backward_scaled(frame, offsets, seq_order, block_ptr, worker_ptr, step_ptr,
                            work_F, work_A, work_S, startprob, transmat, alpha, gamma, loglik):
    """Scaled forward-backward.

    Writes the scaled forward variables into ``alpha`` and the state posteriors into
    ``gamma`` (both n_samples x K), and overwrites ``frame`` with
    ``w_t = frame_t * beta_t / scale_t`` (zero on each sequence's first step and on failed
    sequences), so that the expected transition counts are one matrix product:
    ``transmat * (alpha[:-1].T @ frame[1:])``. Workspace as in :func:`forward_scaled`.
    """
    n_states = startprob.shape[0]
    for worker in prange(worker_ptr.shape[0] - 1):
        for b in range(worker_ptr[worker], worker_ptr[worker + 1]):
            lo, hi = block_ptr[b], block_ptr[b + 1]
            starts, lens, maxlen = _block_lanes(offsets, seq_order, lo, hi)
            F = _workspace(work_F, step_ptr, b, maxlen, n_states)
            A = _workspace(work_A, step_ptr, b, maxlen, n_states)
            S = _workspace(work_S, step_ptr, b, maxlen, 1)[:, 0, :]
            _gather(frame, starts, lens, F)
            _fb_block(F, A, S, starts, lens, lo, hi, seq_order, startprob, transmat, frame,
                      alpha, gamma, loglik)


@njit(cache=True, error_model="numpy", parallel=True)
def forward_backward_symbols(symbols, table, offsets, seq_order, block_ptr, worker_ptr,
                             step_ptr, work_F, work_A, work_S, startprob, transmat, w, alpha,
                             gamma, loglik):
    """:func:`forward_backward_scaled` for categorical emissions: the likelihood of step t in
    state j is ``table[symbols[t], j]`` (no frame is built); ``w`` receives what ``frame``
    would (every row is written)."""
    n_states = startprob.shape[0]
    for worker in prange(worker_ptr.shape[0] - 1):
        for b in range(worker_ptr[worker], worker_ptr[worker + 1]):
            lo, hi = block_ptr[b], block_ptr[b + 1]
            starts, lens, maxlen = _block_lanes(offsets, seq_order, lo, hi)
            F = _workspace(work_F, step_ptr, b, maxlen, n_states)
            A = _workspace(work_A, step_ptr, b, maxlen, n_states)
            S = _workspace(work_S, step_ptr, b, maxlen, 1)[:, 0, :]
            _gather_symbols(symbols, table, starts, lens, F)
            _fb_block(F, A, S, starts, lens, lo, hi, seq_order, startprob, transmat, w,
                      alpha, gamma, loglik)


@njit(cache=True, error_model="numpy")
def _logsumexp(v):
    m = -np.inf
    for x in v:
        if x > m:
            m = x
    if m == -np.inf:
        return m
    acc = 0.0
    for x in v:
        acc += np.exp(x - m)
    return m + np.log(acc)


@njit(cache=True, error_model="numpy", parallel=True)
def forward_backward_log(log_frame, offsets, log_startprob, log_transmat, gamma, xi, loglik,
                         want_posteriors):
    """Log-space forward-backward; slower, but immune to underflow (the fallback)."""
    n_seq = offsets.shape[0] - 1
    n_states = log_startprob.shape[0]
    for s in prange(n_seq):
        start, stop = offsets[s], offsets[s + 1]
        length = stop - start
        la = np.empty((length, n_states))
        tmp = np.empty(n_states)
        for j in range(n_states):
            la[0, j] = log_startprob[j] + log_frame[start, j]
        for t in range(1, length):
            for j in range(n_states):
                for i in range(n_states):
                    tmp[i] = la[t - 1, i] + log_transmat[i, j]
                la[t, j] = _logsumexp(tmp) + log_frame[start + t, j]
        total = _logsumexp(la[length - 1])
        loglik[s] = total
        if not want_posteriors:
            continue
        xis = xi[s]
        for i in range(n_states):
            for j in range(n_states):
                xis[i, j] = 0.0
        if total == -np.inf:
            # the sequence is impossible under the model: no posterior exists
            for t in range(start, stop):
                for j in range(n_states):
                    gamma[t, j] = 0.0
            continue
        lb = np.zeros(n_states)
        nb = np.empty(n_states)
        for j in range(n_states):
            gamma[stop - 1, j] = np.exp(la[length - 1, j] - total)
        for t in range(length - 2, -1, -1):
            for i in range(n_states):
                for j in range(n_states):
                    v = log_transmat[i, j] + log_frame[start + t + 1, j] + lb[j]
                    tmp[j] = v
                    xis[i, j] += np.exp(la[t, i] + v - total)
                nb[i] = _logsumexp(tmp)
            norm = 0.0
            for i in range(n_states):
                lb[i] = nb[i]
                gamma[start + t, i] = np.exp(la[t, i] + lb[i] - total)
                norm += gamma[start + t, i]
            if norm > 0.0:
                for i in range(n_states):
                    gamma[start + t, i] /= norm


@njit(cache=True, error_model="numpy", parallel=True, fastmath=_FAST)
def viterbi(log_frame, offsets, seq_order, block_ptr, worker_ptr, log_startprob, log_transmat,
            path, logprob, back):
    """Most likely state path per sequence (max-product in log space); ``back``
    (n_samples, K) int32 is workspace for the back-pointers."""
    n_states = log_startprob.shape[0]
    log_t_cols = np.ascontiguousarray(log_transmat.T)
    for worker in prange(worker_ptr.shape[0] - 1):
        for b in range(worker_ptr[worker], worker_ptr[worker + 1]):
            lo, hi = block_ptr[b], block_ptr[b + 1]
            starts, lens, maxlen = _block_lanes(offsets, seq_order, lo, hi)
            n_lanes = hi - lo
            delta = np.empty((n_lanes, n_states))
            nxt = np.empty(n_states)
            for lane in range(n_lanes):
                for j in range(n_states):
                    delta[lane, j] = log_startprob[j] + log_frame[starts[lane], j]
            for t in range(1, maxlen):
                for lane in range(n_lanes):
                    if t >= lens[lane]:
                        continue
                    r = starts[lane] + t
                    for j in range(n_states):
                        best = -np.inf
                        arg = 0
                        for i in range(n_states):
                            v = delta[lane, i] + log_t_cols[j, i]
                            if v > best:
                                best = v
                                arg = i
                        nxt[j] = best + log_frame[r, j]
                        back[r, j] = arg
                    for j in range(n_states):
                        delta[lane, j] = nxt[j]
            for lane in range(n_lanes):
                s = seq_order[lo + lane]
                best = -np.inf
                arg = 0
                for j in range(n_states):
                    if delta[lane, j] > best:
                        best = delta[lane, j]
                        arg = j
                logprob[s] = best
                first = starts[lane]
                last = first + lens[lane] - 1
                path[last] = arg
                for r in range(last, first, -1):
                    arg = back[r, arg]
                    path[r - 1] = arg


@njit(cache=True, error_model="numpy")
def sample_states(start_cdf, trans_cdf, uniforms):
    """Markov chain path from cumulative start/transition probabilities and uniforms."""
    n = uniforms.shape[0]
    n_states = start_cdf.shape[0]
    states = np.empty(n, dtype=np.int64)
    state = 0
    u = uniforms[0]
    while state < n_states - 1 and start_cdf[state] <= u:
        state += 1
    states[0] = state
    for t in range(1, n):
        row = trans_cdf[state]
        u = uniforms[t]
        state = 0
        while state < n_states - 1 and row[state] <= u:
            state += 1
        states[t] = state
    return states


@njit(cache=True, error_model="numpy")
def categorical_counts(symbols, gamma, counts):
    """counts[k, m] += sum of gamma[t, k] over t with symbols[t] == m."""
    n_states = gamma.shape[1]
    by_symbol = np.zeros((counts.shape[1], n_states))  # rows of K: contiguous adds
    for t in range(symbols.shape[0]):
        row = by_symbol[symbols[t]]
        for k in range(n_states):
            row[k] += gamma[t, k]
    for m in range(counts.shape[1]):
        for k in range(n_states):
            counts[k, m] += by_symbol[m, k]


@njit(cache=True, error_model="numpy", parallel=True)
def shift_rows(log_frame, rowmax):
    """rowmax[t] = max_k log_frame[t, k] (0 when all are -inf); subtract it in place."""
    n, n_states = log_frame.shape
    for t in prange(n):
        m = -np.inf
        for k in range(n_states):
            if log_frame[t, k] > m:
                m = log_frame[t, k]
        if not np.isfinite(m):
            m = 0.0
        rowmax[t] = m
        for k in range(n_states):
            log_frame[t, k] -= m


@njit(cache=True, error_model="numpy", parallel=True)
def diag_log_density(X, means, precisions, log_norm, out):
    """out[t, c] = log_norm[c] - 0.5 * sum_d (x_td - mean_cd)^2 * precision_cd."""
    n, n_dim = X.shape
    n_comp = means.shape[0]
    for t in prange(n):
        for c in range(n_comp):
            acc = 0.0
            for d in range(n_dim):
                diff = X[t, d] - means[c, d]
                acc += diff * diff * precisions[c, d]
            out[t, c] = log_norm[c] - 0.5 * acc


@njit(cache=True, error_model="numpy", parallel=True)
def full_log_density(X, means, prec_chol, log_norm, out):
    """out[t, c] = log_norm[c] - 0.5 * |P_c (x_t - mean_c)|^2 with P_c lower-triangular."""
    n, n_dim = X.shape
    n_comp = means.shape[0]
    for t in prange(n):
        diff = np.empty(n_dim)
        for c in range(n_comp):
            for d in range(n_dim):
                diff[d] = X[t, d] - means[c, d]
            acc = 0.0
            for i in range(n_dim):
                y = 0.0
                for j in range(i + 1):
                    y += prec_chol[c, i, j] * diff[j]
                acc += y * y
            out[t, c] = log_norm[c] - 0.5 * acc


@njit(cache=True, error_model="numpy", parallel=True)
def weighted_moments(X, W, ref, mode, n_chunks):
    """Per-component sums of weights, weighted (x - ref) and, by ``mode``, weighted
    squares (1) or outer products (2). Returns (post, first, second)."""
    n, n_dim = X.shape
    n_comp = W.shape[1]
    size = (n + n_chunks - 1) // n_chunks
    post_p = np.zeros((n_chunks, n_comp))
    first_p = np.zeros((n_chunks, n_comp, n_dim))
    if mode == 2:
        second_p = np.zeros((n_chunks, n_comp, n_dim, n_dim))
    else:
        second_p = np.zeros((n_chunks, n_comp, n_dim, 1))
    for ch in prange(n_chunks):
        x = np.empty(n_dim)
        for t in range(ch * size, min(n, (ch + 1) * size)):
            for d in range(n_dim):
                x[d] = X[t, d] - ref[d]
            for c in range(n_comp):
                w = W[t, c]
                post_p[ch, c] += w
                for d in range(n_dim):
                    first_p[ch, c, d] += w * x[d]
                if mode == 1:
                    for d in range(n_dim):
                        second_p[ch, c, d, 0] += w * x[d] * x[d]
                elif mode == 2:
                    for i in range(n_dim):
                        wx = w * x[i]
                        for j in range(i + 1):
                            second_p[ch, c, i, j] += wx * x[j]
    post = post_p.sum(axis=0)
    first = first_p.sum(axis=0)
    second = second_p.sum(axis=0)
    if mode == 2:
        for c in range(n_comp):
            for i in range(n_dim):
                for j in range(i):
                    second[c, j, i] = second[c, i, j]
    return post, first, second


# -- serial twins ------------------------------------------------------------------------------
# Waking the worker threads of a parallel region costs microseconds on a quiet machine, but a
# whole scheduler time slice (~10 ms, measured) when the other cores are busy: a region then
# waits for its slowest thread to be scheduled. Small problems therefore run a serial copy of
# each kernel (same code, ``prange`` read as ``range``), compiled and cached under its own name.
#: Below this much work (about steps x states^2 scalar operations) kernels run serially.
SERIAL_WORK = 400_000
_SERIAL: dict[int, object] = {}


def _serial_twin(kernel):
    import types

    func = kernel.py_func
    twin = types.FunctionType(func.__code__, func.__globals__, func.__name__ + "_serial",
                              func.__defaults__, func.__closure__)
    twin.__qualname__ = func.__qualname__ + "_serial"
    twin.__doc__ = func.__doc__
    options = {k: v for k, v in kernel.targetoptions.items() if k not in ("parallel", "nopython")}
    return njit(cache=True, **options)(twin)


class _Mode(threading.local):
    serial = False


_MODE = _Mode()


@contextlib.contextmanager
def serial_only(on: bool = True):
    """Within this block (and thread), :func:`choose` returns serial kernels when ``on``.

    >>> with serial_only():
    ...     choose(shift_rows, 10**9) is choose(shift_rows, 0)
    True
    """
    previous = _MODE.serial
    _MODE.serial = bool(on)
    try:
        yield
    finally:
        _MODE.serial = previous


def choose(kernel, work: float):
    """``kernel``, or its serial twin when ``work`` is too small to pay for parallel threads
    (or when numba runs one thread).

    >>> choose(shift_rows, 10) is choose(shift_rows, 10)
    True
    """
    import numba

    if work >= SERIAL_WORK and numba.get_num_threads() > 1 and not _MODE.serial:
        return kernel
    twin = _SERIAL.get(id(kernel))
    if twin is None:
        twin = _SERIAL[id(kernel)] = _serial_twin(kernel)
    return twin
