"""Compiled inner loops of LDA: the variational E-step, the collapsed Gibbs sweep, fold-in.

Everything that loops over tokens lives here, compiled by numba and cached on disk. Work is
split into *shards* (contiguous ranges of documents); each shard writes only its own slice
of the output statistics, so shards run in parallel (``prange``) without locks and the
caller sums the slices. Topic-word arrays are stored word-major, ``(V, K)``, so that the
inner loop over topics reads contiguous memory.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

# reassociation lets LLVM vectorise the loops over topics; no nnan/ninf (zeros are tested)
_FAST = {"reassoc", "contract", "nsz", "arcp"}
_TINY = 1e-100


@njit(cache=True, inline="always")
def _digamma(x):
    # recurrence up to x >= 6, then the asymptotic series (error < 1e-12)
    result = 0.0
    while x < 6.0:
        result -= 1.0 / x
        x += 1.0
    inv = 1.0 / x
    inv2 = inv * inv
    result += (
        math.log(x)
        - 0.5 * inv
        - inv2 * (1.0 / 12 - inv2 * (1.0 / 120 - inv2 * (1.0 / 252 - inv2 * (1.0 / 240))))
    )
    return result


@njit(cache=True, fastmath=_FAST)
def _exp_elog_theta(gamma, out):
    total = 0.0
    for k in range(gamma.shape[0]):
        total += gamma[k]
    psi_total = _digamma(total)
    for k in range(gamma.shape[0]):
        out[k] = math.exp(_digamma(gamma[k]) - psi_total)


@njit(cache=True, fastmath=_FAST)
def _doc_bound(g, alpha, indices, counts, start, n, exp_elog_beta, etheta, norm, prior_const):
    # phi-optimal bound of one document for Dirichlet gamma ``g``; fills etheta and norm
    n_topics = alpha.shape[0]
    _exp_elog_theta(g, etheta)
    loglik = 0.0
    for j in range(n):
        row = exp_elog_beta[indices[start + j]]
        acc = _TINY
        for k in range(n_topics):
            acc += etheta[k] * row[k]
        norm[j] = acc
        loglik += counts[start + j] * math.log(acc)
    g_sum = 0.0
    for k in range(n_topics):
        g_sum += g[k]
    psi_sum = _digamma(g_sum)
    dirichlet = 0.0
    for k in range(n_topics):
        dirichlet += (alpha[k] - g[k]) * (_digamma(g[k]) - psi_sum) + math.lgamma(g[k])
    return loglik + dirichlet - math.lgamma(g_sum) + prior_const


@njit(parallel=True, cache=True, fastmath=_FAST)
def vb_estep(
    indptr, indices, counts, exp_elog_beta, alpha, gamma, shard_ptr, max_iter, tol, sstats,
    keep_better,
):
    """Fit each document's variational Dirichlet ``gamma`` (in place), return per-doc bounds.

    ``exp_elog_beta`` is ``exp(E[log beta])`` word-major ``(V, K)``. ``keep_better``: 0
    starts every document from ``alpha + n_d / K``; 1 does the same but keeps the incoming
    ``gamma`` when its bound is higher (so batch VB's bound never decreases, while fresh
    starts still let documents leave poor early assignments; warm starts alone get stuck);
    2 starts from the incoming ``gamma``. When ``sstats`` has shape
    ``(n_shards, V, K)`` each shard adds ``sum_d n_dw phi_dwk / exp(E[log beta_kw])`` into
    its slice (Hoffman's trick: the caller multiplies by ``exp_elog_beta`` once); pass a
    ``(0, 0, 0)`` array to skip the statistics. The returned bound of document d is
    ``sum_w n_dw log sum_k exp(E log theta_dk + E log beta_kw)`` plus the Dirichlet terms
    ``E[log p(theta|alpha) - log q(theta|gamma)]``.
    """
    n_docs = indptr.shape[0] - 1
    n_topics = alpha.shape[0]
    n_shards = shard_ptr.shape[0] - 1
    want_stats = sstats.shape[0] > 0
    bounds = np.zeros(n_docs)
    alpha_sum = 0.0
    lg_alpha = 0.0
    for k in range(n_topics):
        alpha_sum += alpha[k]
        lg_alpha += math.lgamma(alpha[k])
    prior_const = math.lgamma(alpha_sum) - lg_alpha
    max_len = 0
    for d in range(n_docs):
        max_len = max(max_len, indptr[d + 1] - indptr[d])
    for s in prange(n_shards):
        etheta = np.empty(n_topics)
        new_gamma = np.empty(n_topics)
        old_gamma = np.empty(n_topics)
        norm = np.empty(max_len)
        for d in range(shard_ptr[s], shard_ptr[s + 1]):
            start = indptr[d]
            n = indptr[d + 1] - start
            g = gamma[d]
            if n == 0:
                for k in range(n_topics):
                    g[k] = alpha[k]
                bounds[d] = 0.0
                continue
            old_bound = -np.inf
            n_tokens = 0.0
            for j in range(n):
                n_tokens += counts[start + j]
            if keep_better == 1:
                old_bound = _doc_bound(
                    g, alpha, indices, counts, start, n, exp_elog_beta, etheta, norm, prior_const
                )
                for k in range(n_topics):
                    old_gamma[k] = g[k]
            # tolerance relative to the mean topic count: long documents are not held to a
            # stricter standard than short ones
            scaled_tol = tol * max(1.0, n_tokens / n_topics) * n_topics
            if keep_better != 2:
                for k in range(n_topics):
                    g[k] = alpha[k] + n_tokens / n_topics
            for _ in range(max_iter):
                _exp_elog_theta(g, etheta)
                for k in range(n_topics):
                    new_gamma[k] = 0.0
                for j in range(n):
                    row = exp_elog_beta[indices[start + j]]
                    acc = _TINY
                    for k in range(n_topics):
                        acc += etheta[k] * row[k]
                    ratio = counts[start + j] / acc
                    for k in range(n_topics):
                        new_gamma[k] += ratio * row[k]
                change = 0.0
                for k in range(n_topics):
                    value = alpha[k] + etheta[k] * new_gamma[k]
                    change += abs(value - g[k])
                    g[k] = value
                if change < scaled_tol:
                    break
            # phi from the final gamma: the statistics and the bound agree with it
            bound = _doc_bound(
                g, alpha, indices, counts, start, n, exp_elog_beta, etheta, norm, prior_const
            )
            if bound < old_bound:
                for k in range(n_topics):
                    g[k] = old_gamma[k]
                bound = _doc_bound(
                    g, alpha, indices, counts, start, n, exp_elog_beta, etheta, norm, prior_const
                )
            bounds[d] = bound
            if want_stats:
                for j in range(n):
                    out = sstats[s, indices[start + j]]
                    ratio = counts[start + j] / norm[j]
                    for k in range(n_topics):
                        out[k] += ratio * etheta[k]
    return bounds


@njit(cache=True, inline="always")
def _next_uniform(state):
    # xorshift64*: small, fast, and one independent stream per shard
    state ^= state >> np.uint64(12)
    state ^= state << np.uint64(25)
    state ^= state >> np.uint64(27)
    out = state * np.uint64(2685821657736338717)
    return state, float(out >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(parallel=True, cache=True, fastmath=_FAST)
def gibbs_sweep(
    words, doc_ptr, z, ndk, nwk_local, nk_local, alpha, eta, shard_ptr, rng_state, fixed_nwk
):
    """One collapsed Gibbs sweep over every token, shards in parallel (AD-LDA).

    Each shard samples against its own copy of the word-topic counts ``nwk_local[s]``
    ``(V, K)`` and topic totals ``nk_local[s]``; the caller merges the copies after the
    sweep. The conditional of token i (word w, document d) is
    ``p(z_i = k) ∝ (n_dk + alpha_k) (n_wk + eta) / (n_k + V eta)`` with i's own count
    removed. With ``fixed_nwk`` the word-topic counts are read but never changed (fold-in
    of new documents against fixed topics).
    """
    n_topics = alpha.shape[0]
    n_shards = shard_ptr.shape[0] - 1
    v_eta = nwk_local.shape[1] * eta
    for s in prange(n_shards):
        nwk = nwk_local[s]
        nk = nk_local[s]
        cumulative = np.empty(n_topics)
        inv = np.empty(n_topics)
        # doc_side[k] = (n_dk + alpha_k) / (n_k + V eta): only two entries change per token
        doc_side = np.empty(n_topics)
        for k in range(n_topics):
            inv[k] = 1.0 / (nk[k] + v_eta)
        state = rng_state[s]
        for d in range(shard_ptr[s], shard_ptr[s + 1]):
            nd = ndk[d]
            for k in range(n_topics):
                doc_side[k] = (nd[k] + alpha[k]) * inv[k]
            for i in range(doc_ptr[d], doc_ptr[d + 1]):
                w = words[i]
                old = z[i]
                row = nwk[w]
                nd[old] -= 1
                if not fixed_nwk:
                    row[old] -= 1
                    nk[old] -= 1
                    inv[old] = 1.0 / (nk[old] + v_eta)
                doc_side[old] = (nd[old] + alpha[old]) * inv[old]
                total = 0.0
                for k in range(n_topics):
                    total += doc_side[k] * (row[k] + eta)
                    cumulative[k] = total
                state, u = _next_uniform(state)
                u *= total
                new = 0
                while new < n_topics - 1 and cumulative[new] < u:
                    new += 1
                z[i] = new
                nd[new] += 1
                if not fixed_nwk:
                    row[new] += 1
                    nk[new] += 1
                    inv[new] = 1.0 / (nk[new] + v_eta)
                doc_side[new] = (nd[new] + alpha[new]) * inv[new]
        rng_state[s] = state


@njit(parallel=True, cache=True, fastmath=_FAST)
def fold_in(indptr, indices, counts, phi, alpha, max_iter, tol):
    """Topic proportions of each document under fixed topics ``phi`` (``(V, K)``, rows of
    the topic-word distributions stored word-major).

    Fixed point ``theta_k ∝ alpha_k + sum_w n_dw theta_k phi_kw / sum_l theta_l phi_lw``
    (the posterior-mean update of the collapsed model with topics held fixed), started from
    the prior mean. An empty document keeps the prior mean.
    """
    n_docs = indptr.shape[0] - 1
    n_topics = alpha.shape[0]
    theta = np.empty((n_docs, n_topics))
    alpha_sum = 0.0
    for k in range(n_topics):
        alpha_sum += alpha[k]
    for d in prange(n_docs):
        start = indptr[d]
        n = indptr[d + 1] - start
        t = theta[d]
        acc_k = np.empty(n_topics)
        n_tokens = 0.0
        for j in range(n):
            n_tokens += counts[start + j]
        for k in range(n_topics):
            t[k] = alpha[k] / alpha_sum
        for _ in range(max_iter if n > 0 else 0):
            for k in range(n_topics):
                acc_k[k] = 0.0
            for j in range(n):
                row = phi[indices[start + j]]
                acc = _TINY
                for k in range(n_topics):
                    acc += t[k] * row[k]
                ratio = counts[start + j] / acc
                for k in range(n_topics):
                    acc_k[k] += ratio * row[k]
            change = 0.0
            scale = 1.0 / (alpha_sum + n_tokens)
            for k in range(n_topics):
                value = (alpha[k] + t[k] * acc_k[k]) * scale
                change += abs(value - t[k])
                t[k] = value
            if change < tol:
                break
    return theta


@njit(parallel=True, cache=True, fastmath=_FAST)
def doc_loglik(indptr, indices, counts, phi, theta):
    """``sum_w n_dw log sum_k theta_dk phi_kw`` for each document (``phi`` word-major)."""
    n_docs = indptr.shape[0] - 1
    out = np.zeros(n_docs)
    n_topics = theta.shape[1]
    for d in prange(n_docs):
        total = 0.0
        for j in range(indptr[d], indptr[d + 1]):
            row = phi[indices[j]]
            acc = 0.0
            for k in range(n_topics):
                acc += theta[d, k] * row[k]
            total += counts[j] * math.log(max(acc, 1e-300))
        out[d] = total
    return out


@njit(cache=True)
def window_cooccurrence(tokens, doc_ptr, slot, n_slots, window):
    """Count windows containing each top word and each pair of top words.

    ``slot[w]`` maps a vocabulary id to its index among the words of interest (-1 for the
    rest). Each document contributes its windows of ``window`` consecutive tokens (a
    shorter document is one window); ``window <= 0`` means whole documents. Returns
    ``(single (n_slots,), pair (n_slots, n_slots), n_windows)``.
    """
    single = np.zeros(n_slots, dtype=np.int64)
    pair = np.zeros((n_slots, n_slots), dtype=np.int64)
    present = np.zeros(n_slots, dtype=np.int64)
    in_window = np.empty(n_slots, dtype=np.int64)
    n_windows = 0
    for d in range(doc_ptr.shape[0] - 1):
        start = doc_ptr[d]
        n = doc_ptr[d + 1] - start
        if n == 0:
            continue
        size = n if (window <= 0 or n <= window) else window
        n_win = n - size + 1
        for first in range(n_win):
            n_windows += 1
            m = 0
            for i in range(start + first, start + first + size):
                s = slot[tokens[i]]
                if s >= 0 and present[s] != n_windows:
                    present[s] = n_windows
                    in_window[m] = s
                    m += 1
            for a in range(m):
                single[in_window[a]] += 1
                for b in range(m):
                    if a != b:
                        pair[in_window[a], in_window[b]] += 1
    return single, pair, n_windows
