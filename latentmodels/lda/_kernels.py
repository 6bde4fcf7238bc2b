"""Compiled inner loops of LDA: the variational E-step, the collapsed Gibbs sweep, fold-in.

Everything that loops over tokens lives here, compiled by numba and cached on disk. Work is
split into *shards* (contiguous ranges of documents); each shard writes only its own slice
of the output statistics, so shards run in parallel (``prange``) without locks and the
caller sums the slices. Topic-word arrays are stored word-major, ``(V, K)``, so that the
inner loop over topics reads contiguous memory. The Gibbs sweep is SparseLDA once topics
have formed, the plain O(K) loop before that and for small K (see :func:`gibbs_sweep`).
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


@njit(cache=True, fastmath=_FAST)
def _dense_shard(words, doc_ptr, z, ndk, nwk, nk, alpha, eta, first, stop, state, fixed_nwk):
    # the plain O(K) sampler: for fold-in against fixed, real-valued topics
    n_topics = alpha.shape[0]
    v_eta = nwk.shape[0] * eta
    cumulative = np.empty(n_topics)
    inv = np.empty(n_topics)
    # doc_side[k] = (n_dk + alpha_k) / (n_k + V eta): only two entries change per token
    doc_side = np.empty(n_topics)
    for k in range(n_topics):
        inv[k] = 1.0 / (nk[k] + v_eta)
    for d in range(first, stop):
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
    return state


@njit(cache=True)
def _build_word_lists(nwk, lists, lengths, bits):
    # each word's nonzero counts packed as count << bits | topic, largest count first
    n_topics = nwk.shape[1]
    for w in range(nwk.shape[0]):
        row = nwk[w]
        lst = lists[w]
        m = 0
        for k in range(n_topics):
            # branch-free compaction: most entries are zero and the branch would mispredict
            lst[m] = (row[k] << bits) | k
            m += row[k] > 0
        if m > 64:
            lst[:m] = np.sort(lst[:m])[::-1]
        else:
            for i in range(1, m):
                entry = lst[i]
                j = i
                while j > 0 and lst[j - 1] < entry:
                    lst[j] = lst[j - 1]
                    j -= 1
                lst[j] = entry
        lengths[w] = m


@njit(cache=True)
def _write_word_lists(nwk, lists, lengths, bits):
    mask = (1 << bits) - 1
    for w in range(nwk.shape[0]):
        row = nwk[w]
        row[:] = 0
        lst = lists[w]
        for j in range(lengths[w]):
            row[lst[j] & mask] = lst[j] >> bits


@njit(cache=True, fastmath=_FAST)
def _sparse_shard(words, doc_ptr, z, ndk, nk, alpha, eta, first, stop, state, lists, word_len,
                  bits, n_words):
    # SparseLDA over documents [first, stop); see gibbs_sweep for the decomposition
    n_topics = alpha.shape[0]
    v_eta = n_words * eta
    mask = (1 << bits) - 1
    one = lists.dtype.type(1) << bits  # a count of one, packed
    inv = np.empty(n_topics)  # 1 / (n_k + V eta)
    # 1 / (n_k - 1 + V eta): taking a token out needs no division
    inv_less = np.zeros(n_topics)
    coef = np.empty(n_topics)  # (n_dk + alpha_k) / (n_k + V eta): the word bucket's weights
    doc_topics = np.empty(n_topics, dtype=np.int32)  # topics with n_dk > 0
    doc_pos = np.empty(n_topics, dtype=np.int32)  # where each sits in doc_topics
    q_cum = np.empty(n_topics)
    for k in range(n_topics):
        inv[k] = 1.0 / (nk[k] + v_eta)
        if nk[k] > 0:
            inv_less[k] = 1.0 / (nk[k] - 1 + v_eta)
    for d in range(first, stop):
        nd = ndk[d]
        # s and r without their common factor eta; rebuilt per document, so no drift builds up
        s = 0.0
        r = 0.0
        n_doc = 0
        for k in range(n_topics):
            s += alpha[k] * inv[k]
            coef[k] = (nd[k] + alpha[k]) * inv[k]
            if nd[k] > 0:
                r += nd[k] * inv[k]
                doc_topics[n_doc] = k
                doc_pos[k] = n_doc
                n_doc += 1
        for i in range(doc_ptr[d], doc_ptr[d + 1]):
            w = words[i]
            lst = lists[w]
            n_w = word_len[w]
            old = z[i]
            # -- the buckets with token i taken out. Three times in four the token keeps its
            # topic, so nothing is written until the new topic is known.
            inv_old = inv[old]
            inv_out = inv_less[old]
            nd_out = nd[old] - 1
            coef_old = coef[old]
            coef_out = (nd_out + alpha[old]) * inv_out
            s_out = s + alpha[old] * (inv_out - inv_old)
            r_out = r + nd_out * inv_out - (nd_out + 1) * inv_old
            # word bucket q = sum over the word's topics of coef_k n_wk, with n_wk of the old
            # topic one less
            coef[old] = coef_out
            q = 0.0
            for j in range(n_w):
                entry = lst[j]
                k = entry & mask
                q += coef[k] * ((entry >> bits) - (k == old))
                q_cum[j] = q
            coef[old] = coef_old
            state, u = _next_uniform(state)
            u *= q + eta * (s_out + r_out)
            j = -1
            if u < q:
                j = 0
                while j < n_w - 1 and q_cum[j] < u:
                    j += 1
                new = lst[j] & mask
            else:
                # rare: these scans read the counts, so take the token out of them for now
                nd[old] = nd_out
                inv[old] = inv_out
                u = (u - q) / eta
                if u < r_out:
                    # document bucket: n_dk / (n_k + V eta) over the document's topics (the
                    # old topic may sit there with n_dk = 0, weight 0)
                    j_doc = 0
                    acc = nd[doc_topics[0]] * inv[doc_topics[0]]
                    while j_doc < n_doc - 1 and acc < u:
                        j_doc += 1
                        acc += nd[doc_topics[j_doc]] * inv[doc_topics[j_doc]]
                    new = doc_topics[j_doc]
                else:
                    # smoothing bucket: alpha_k / (n_k + V eta) over all topics
                    u -= r_out
                    new = 0
                    acc = alpha[0] * inv[0]
                    while new < n_topics - 1 and acc < u:
                        new += 1
                        acc += alpha[new] * inv[new]
                nd[old] = nd_out + 1
                inv[old] = inv_old
            if new == old:
                continue
            z[i] = new
            # -- word list: raise the new topic (keeping counts non-increasing), lower the old
            if j < 0 or (lst[j] & mask) != new:
                j = 0
                while j < n_w and (lst[j] & mask) != new:
                    j += 1
                if j == n_w:
                    lst[j] = new  # a count of zero, raised below
                    n_w += 1
            entry = lst[j] + one
            while j > 0 and lst[j - 1] >> bits < entry >> bits:
                lst[j] = lst[j - 1]
                j -= 1
            lst[j] = entry
            j = 0
            while (lst[j] & mask) != old:
                j += 1
            entry = lst[j] - one
            if entry < one:
                # count was 1: every later entry has count 1 too, so the last one may move here
                n_w -= 1
                lst[j] = lst[n_w]
            else:
                while j + 1 < n_w and lst[j + 1] >> bits > entry >> bits:
                    lst[j] = lst[j + 1]
                    j += 1
                lst[j] = entry
            word_len[w] = n_w
            # -- the old topic loses the token, the new one gains it
            nd[old] = nd_out
            nk[old] -= 1
            inv[old] = inv_out
            if nk[old] > 0:
                inv_less[old] = 1.0 / (nk[old] - 1 + v_eta)
            coef[old] = coef_out
            s = s_out
            r = r_out
            if nd_out == 0:
                last = doc_topics[n_doc - 1]
                doc_topics[doc_pos[old]] = last
                doc_pos[last] = doc_pos[old]
                n_doc -= 1
            if nd[new] == 0:
                doc_topics[n_doc] = new
                doc_pos[new] = n_doc
                n_doc += 1
            s -= alpha[new] * inv[new]
            r -= nd[new] * inv[new]
            nd[new] += 1
            nk[new] += 1
            inv_less[new] = inv[new]
            inv[new] = 1.0 / (nk[new] + v_eta)
            s += alpha[new] * inv[new]
            r += nd[new] * inv[new]
            coef[new] = (nd[new] + alpha[new]) * inv[new]
    return state


@njit(cache=True)
def _sparse_shard_packed(words, doc_ptr, z, ndk, nwk, nk, alpha, eta, first, stop, state):
    # pack the shard's word-topic counts into per-word lists, sample, unpack into nwk
    n_words, n_topics = nwk.shape
    bits = 1
    while (1 << bits) < n_topics:
        bits += 1
    # row w holds word w's list (at most K entries), word_len[w] its length
    word_len = np.empty(n_words, dtype=np.int32)
    # a word's count is at most the corpus size: 32-bit entries when it fits, else 64
    if nk.sum() < (1 << (31 - bits)):
        lists32 = np.empty((n_words, n_topics), dtype=np.int32)
        _build_word_lists(nwk, lists32, word_len, bits)
        state = _sparse_shard(words, doc_ptr, z, ndk, nk, alpha, eta, first, stop, state,
                              lists32, word_len, bits, n_words)
        _write_word_lists(nwk, lists32, word_len, bits)
    else:
        lists64 = np.empty((n_words, n_topics), dtype=np.int64)
        _build_word_lists(nwk, lists64, word_len, bits)
        state = _sparse_shard(words, doc_ptr, z, ndk, nk, alpha, eta, first, stop, state,
                              lists64, word_len, bits, n_words)
        _write_word_lists(nwk, lists64, word_len, bits)
    return state


@njit(parallel=True, cache=True)
def _gibbs_sweep_sparse(words, doc_ptr, z, ndk, nwk_local, nk_local, alpha, eta, shard_ptr,
                        rng_state):
    for s in prange(shard_ptr.shape[0] - 1):
        rng_state[s] = _sparse_shard_packed(
            words, doc_ptr, z, ndk, nwk_local[s], nk_local[s], alpha, eta, shard_ptr[s],
            shard_ptr[s + 1], rng_state[s],
        )


@njit(parallel=True, cache=True)
def _gibbs_sweep_dense(words, doc_ptr, z, ndk, nwk_local, nk_local, alpha, eta, shard_ptr,
                       rng_state, fixed_nwk):
    for s in prange(shard_ptr.shape[0] - 1):
        rng_state[s] = _dense_shard(
            words, doc_ptr, z, ndk, nwk_local[s], nk_local[s], alpha, eta, shard_ptr[s],
            shard_ptr[s + 1], rng_state[s], fixed_nwk,
        )


def gibbs_sweep(
    words, doc_ptr, z, ndk, nwk_local, nk_local, alpha, eta, shard_ptr, rng_state, fixed_nwk,
    sparse=True,
):
    """One collapsed Gibbs sweep over every token, shards in parallel (AD-LDA).

    Each shard samples against its own copy of the word-topic counts ``nwk_local[s]``
    ``(V, K)`` and topic totals ``nk_local[s]``; the caller merges the copies after the
    sweep (:func:`shard_delta`). The conditional of token i (word w, document d) is
    ``p(z_i = k) ∝ (n_dk + alpha_k) (n_wk + eta) / (n_k + V eta)`` with i's own count
    removed. ``rng_state[s]`` is shard s's xorshift state: same states, same sweep.

    ``sparse`` (integer counts only) uses SparseLDA (Yao, Mimno & McCallum 2009), which
    samples this conditional exactly at a cost of the nonzero topics of w and d instead
    of K::

        (n_dk + alpha_k)(n_wk + eta) / (n_k + V eta)
            = eta alpha_k / (n_k + V eta)              s: smoothing, all topics
            + eta n_dk / (n_k + V eta)                 r: the document's topics
            + n_wk (n_dk + alpha_k) / (n_k + V eta)    q: the word's topics

    s and r are kept as running sums (two topics change per token) and
    ``(n_dk + alpha_k) / (n_k + V eta)`` is cached per topic, so q costs one multiply-add
    per nonzero n_wk. With eta around 0.01 almost all the mass is in q. Each word's nonzero
    counts sit in a short list, largest first, so q's scan usually stops after a few
    entries. Otherwise the plain O(K) loop runs, which is faster while K is small or the
    word rows are still dense (see :func:`prefer_sparse`). With ``fixed_nwk`` the
    word-topic counts are read but never changed (fold-in of documents against fixed,
    real-valued topics): always the O(K) loop.
    """
    if sparse and not fixed_nwk:
        _gibbs_sweep_sparse(
            words, doc_ptr, z, ndk, nwk_local, nk_local, alpha, eta, shard_ptr, rng_state
        )
    else:
        _gibbs_sweep_dense(
            words, doc_ptr, z, ndk, nwk_local, nk_local, alpha, eta, shard_ptr, rng_state,
            fixed_nwk,
        )


def prefer_sparse(n_topics, mean_row_nonzeros):
    """Whether SparseLDA beats the O(K) loop, from the current word-topic counts.

    ``mean_row_nonzeros`` is the mean over tokens of the nonzero topics of their word's
    row (what :func:`spread_counts` returns). Measured per shard on 20 Newsgroups (K = 20
    to 100, 2 threads): the O(K) loop costs about 35 + 1.7 K, SparseLDA about
    45 + 2.9 n (ms per 670k tokens), plus a few ms of list building and upkeep. So the
    loop wins at K = 20 and in the first sweeps, when rows are dense; SparseLDA wins from
    K of about 30 once the topics have formed (1.6x at K = 50, 2.4x at K = 100).
    """
    return mean_row_nonzeros < 0.6 * n_topics - 6.0


# spread_counts and shard_delta are memory-bound passes of a few milliseconds: serial, since
# waking a thread pool on a busy machine can cost more than that

@njit(cache=True)
def spread_counts(nwk, nwk_local, nk_local):
    """Start of a sweep: every shard's copy ``nwk_local[s]`` and ``nk_local[s]`` from ``nwk``.

    Returns the mean over tokens of the number of nonzero topics of their word's row.
    """
    n_words, n_topics = nwk.shape
    nk = np.zeros(n_topics, dtype=np.int64)
    weighted = 0.0
    for w in range(n_words):
        nonzero = 0
        total = 0
        for k in range(n_topics):
            nk[k] += nwk[w, k]
            nonzero += nwk[w, k] > 0
            total += nwk[w, k]
        weighted += nonzero * total
    for s in range(nwk_local.shape[0]):
        for k in range(n_topics):
            nk_local[s, k] = nk[k]
    for s in range(nwk_local.shape[0]):
        for w in range(n_words):
            for k in range(n_topics):
                nwk_local[s, w, k] = nwk[w, k]
    return weighted / max(nk.sum(), 1)


@njit(cache=True)
def shard_delta(nwk, nwk_local):
    """End of a sweep: ``sum_s (nwk_local[s] - nwk)``, the change the shards made together."""
    n_words, n_topics = nwk.shape
    delta = np.zeros((n_words, n_topics), dtype=np.int64)
    for s in range(nwk_local.shape[0]):
        for w in range(n_words):
            for k in range(n_topics):
                delta[w, k] += nwk_local[s, w, k] - nwk[w, k]
    return delta


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
