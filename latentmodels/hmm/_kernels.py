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
from llvmlite import ir
from numba import njit, prange, types
from numba.extending import intrinsic, models, register_model

# Sequences advanced together per block ("lanes"): one 8 x float64 SIMD vector (a zmm
# register, or two ymm) holds one state of every lane.
LANES = 8
# States are processed in chunks of this many (8 vector accumulators in registers); the
# block workspaces are padded to a multiple of it.
CHUNK = 8

# reassociation lets LLVM vectorise the small reductions; no "nnan"/"ninf", because the
# kernels test for zeros and non-finite values on purpose
_FAST = {"reassoc", "contract", "nsz", "arcp"}


@njit(cache=True)
def padded(n_states):
    """Number of states rounded up to a multiple of :data:`CHUNK` (block workspace rows)."""
    return -(-n_states // CHUNK) * CHUNK


# -- explicit SIMD ------------------------------------------------------------------------------
# numba leaves LLVM's SLP vectoriser off (miscompilations), and LLVM fully unrolls the 8-trip
# loops over lanes before its loop vectoriser runs, so "for lane in range(8)" compiles to
# scalar instructions. These intrinsics instead give numba a value type that *is* an LLVM
# <8 x double> vector: loads, stores and arithmetic on it are single vector instructions and
# its variables live in vector registers. Each operation is elementwise (lane by lane, in
# IEEE double precision, fma rounded once), so results do not depend on the vector width.


class _LanesType(types.Type):
    def __init__(self):
        super().__init__(name=f"Lanes{LANES}xf64")


_LANES_T = _LanesType()
_VEC = ir.VectorType(ir.DoubleType(), LANES)


@register_model(_LanesType)
class _LanesModel(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):
        super().__init__(dmm, fe_type, _VEC)


def _as_vec(context, builder, value, ty):
    """A lanes value, or a scalar broadcast to every lane."""
    if ty is _LANES_T:
        return value
    x = context.cast(builder, value, ty, types.float64)
    v = builder.insert_element(ir.Constant(_VEC, ir.Undefined), x, ir.Constant(ir.IntType(32), 0))
    mask = ir.Constant(ir.VectorType(ir.IntType(32), LANES), [0] * LANES)
    return builder.shuffle_vector(v, ir.Constant(_VEC, ir.Undefined), mask)


def _elementwise(args, emit):
    """Typing and lowering of an elementwise operation on lanes values and scalars."""
    if not all(a is _LANES_T or isinstance(a, (types.Float, types.Integer)) for a in args):
        return None

    def codegen(context, builder, sig, llargs):
        vs = [_as_vec(context, builder, v, t) for v, t in zip(llargs, sig.args, strict=True)]
        return emit(builder, *vs)

    return _LANES_T(*args), codegen


@intrinsic
def _vsplat(typingctx, x):
    """Every lane set to the scalar ``x``."""
    if isinstance(x, (types.Float, types.Integer)):
        return _elementwise((x,), lambda b, v: v)


@intrinsic
def _vadd(typingctx, x, y):
    return _elementwise((x, y), lambda b, u, v: b.fadd(u, v))


@intrinsic
def _vmul(typingctx, x, y):
    return _elementwise((x, y), lambda b, u, v: b.fmul(u, v))


@intrinsic
def _vdiv(typingctx, x, y):
    return _elementwise((x, y), lambda b, u, v: b.fdiv(u, v))


def _emit_fma(builder, x, y, z):
    name = f"llvm.fma.v{LANES}f64"
    fn = builder.module.globals.get(name)
    if fn is None:
        fn = ir.Function(builder.module, ir.FunctionType(_VEC, [_VEC] * 3), name=name)
    return builder.call(fn, [x, y, z])


@intrinsic
def _vfma(typingctx, x, y, z):
    """x * y + z, rounded once."""
    return _elementwise((x, y, z), _emit_fma)


@intrinsic
def _vless(typingctx, x, y):
    """1.0 in lanes where x < y, else 0.0."""
    def emit(b, u, v):
        return b.select(b.fcmp_ordered("<", u, v), ir.Constant(_VEC, [1.0] * LANES),
                        ir.Constant(_VEC, [0.0] * LANES))
    return _elementwise((x, y), emit)


@intrinsic
def _vwhere(typingctx, m, x, y):
    """x in lanes where m != 0, else y."""
    def emit(b, mask, u, v):
        return b.select(b.fcmp_unordered("!=", mask, ir.Constant(_VEC, [0.0] * LANES)), u, v)
    return _elementwise((m, x, y), emit)


def _lane_ptr(context, builder, arrty, arr, idx, idxty):
    ary = context.make_array(arrty)(context, builder, arr)
    i = context.cast(builder, idx, idxty, types.intp)
    return builder.bitcast(builder.gep(ary.data, [i], inbounds=True), _VEC.as_pointer())


def _flat(a):
    return (isinstance(a, types.Array) and a.ndim == 1 and a.dtype == types.float64
            and a.layout == "C")


@intrinsic
def _vload(typingctx, arr, idx):
    """``arr[idx : idx + LANES]`` of a contiguous 1-D float64 array (no bounds check)."""
    if _flat(arr) and isinstance(idx, types.Integer):
        def codegen(context, builder, sig, args):
            ptr = _lane_ptr(context, builder, sig.args[0], args[0], args[1], sig.args[1])
            return builder.load(ptr, align=8)
        return _LANES_T(arr, idx), codegen


@intrinsic
def _vstore(typingctx, arr, idx, v):
    """``arr[idx : idx + LANES] = v`` (no bounds check)."""
    if _flat(arr) and isinstance(idx, types.Integer) and v is _LANES_T:
        def codegen(context, builder, sig, args):
            ptr = _lane_ptr(context, builder, sig.args[0], args[0], args[1], sig.args[1])
            builder.store(args[2], ptr, align=8)
            return context.get_dummy_value()
        return types.none(arr, idx, v), codegen


@intrinsic
def _vstore_i16(typingctx, arr, idx, v):
    """``arr[idx : idx + LANES] = v`` converted to int16 (truncated; no bounds check): small
    integers such as state indices, at a quarter of the float64 memory traffic."""
    if (isinstance(arr, types.Array) and arr.ndim == 1 and arr.dtype == types.int16
            and arr.layout == "C" and isinstance(idx, types.Integer) and v is _LANES_T):
        def codegen(context, builder, sig, args):
            ary = context.make_array(sig.args[0])(context, builder, args[0])
            i = context.cast(builder, args[1], sig.args[1], types.intp)
            vec_t = ir.VectorType(ir.IntType(16), LANES)
            ptr = builder.bitcast(builder.gep(ary.data, [i], inbounds=True), vec_t.as_pointer())
            builder.store(builder.fptosi(args[2], vec_t), ptr, align=2)
            return context.get_dummy_value()
        return types.none(arr, idx, v), codegen


@intrinsic
def _vlane(typingctx, v, m):
    """Lane ``m`` (a constant) of ``v`` broadcast to every lane: ``_vlane(_vload(a, i), m)``
    compiles to one broadcast load of ``a[i + m]``, with no index arithmetic."""
    if v is _LANES_T and isinstance(m, types.IntegerLiteral):
        lane = m.literal_value

        def codegen(context, builder, sig, args):
            mask = ir.Constant(ir.VectorType(ir.IntType(32), LANES), [lane] * LANES)
            return builder.shuffle_vector(args[0], ir.Constant(_VEC, ir.Undefined), mask)
        return _LANES_T(v, m), codegen


_I64V = ir.VectorType(ir.IntType(64), LANES)


def _declare(builder, name, ret, args):
    fn = builder.module.globals.get(name)
    if fn is None:
        fn = ir.Function(builder.module, ir.FunctionType(ret, args), name=name)
    return fn


def _transpose(builder, rows):
    """8 x 8 transpose of a list of LANES vectors (three rounds of two-input shuffles that
    swap one bit of the row and column index each)."""
    rows = list(rows)
    s = 1
    while s < LANES:
        out = list(rows)
        lo = [k if not k & s else LANES + k - s for k in range(LANES)]
        hi = [k + s if not k & s else LANES + k for k in range(LANES)]
        for i in range(LANES):
            if i & s:
                continue
            a, c = rows[i], rows[i + s]
            i32 = ir.VectorType(ir.IntType(32), LANES)
            out[i] = builder.shuffle_vector(a, c, ir.Constant(i32, lo))
            out[i + s] = builder.shuffle_vector(a, c, ir.Constant(i32, hi))
        rows = out
        s *= 2
    return rows


def _row_masks(builder, idx, state0, n_states):
    """Per lane: (element offset of states state0.., mask of states < n_states in a lane
    whose ``idx >= 0``)."""
    i64 = ir.IntType(64)
    iota = ir.Constant(_I64V, list(range(LANES)))
    first = builder.insert_element(ir.Constant(_I64V, ir.Undefined), state0,
                                   ir.Constant(ir.IntType(32), 0))
    first = builder.shuffle_vector(first, ir.Constant(_I64V, ir.Undefined),
                                   ir.Constant(ir.VectorType(ir.IntType(32), LANES), [0] * LANES))
    count = builder.insert_element(ir.Constant(_I64V, ir.Undefined), n_states,
                                   ir.Constant(ir.IntType(32), 0))
    count = builder.shuffle_vector(count, ir.Constant(_I64V, ir.Undefined),
                                   ir.Constant(ir.VectorType(ir.IntType(32), LANES), [0] * LANES))
    in_range = builder.icmp_signed("<", builder.add(first, iota), count)
    no = ir.Constant(ir.VectorType(ir.IntType(1), LANES), [0] * LANES)
    out = []
    for lane in range(LANES):
        x = builder.extract_element(idx, ir.Constant(ir.IntType(32), lane))
        live = builder.fcmp_ordered(">=", x, ir.Constant(ir.DoubleType(), 0.0))
        offset = builder.add(builder.fptosi(x, i64), state0)
        out.append((offset, live, builder.select(live, in_range, no)))
    return out


def _int_args(context, builder, sig, args, which):
    return [context.cast(builder, args[k], sig.args[k], types.int64) for k in which]


@intrinsic
def _vload_rows(typingctx, src, idx, state0, n_states, dst, dst_off):
    """Transposing load: lane l's states ``state0 .. state0 + LANES - 1`` are
    ``src[idx[l] + state0 + m]``; state ``state0 + m`` of all lanes is stored as one vector at
    ``dst[dst_off + m * LANES]``. Lanes with ``idx < 0`` read 1.0 (padding steps), states
    ``>= n_states`` read 0.0; masked-off elements are not accessed."""
    ints = (state0, n_states, dst_off)
    if (_flat(src) and _flat(dst) and idx is _LANES_T
            and all(isinstance(a, types.Integer) for a in ints)):
        def codegen(context, builder, sig, args):
            state0_, n_, off = _int_args(context, builder, sig, args, (2, 3, 5))
            base = context.make_array(sig.args[0])(context, builder, args[0]).data
            ptr_t = ir.DoubleType().as_pointer()
            mask_t = ir.VectorType(ir.IntType(1), LANES)
            fn = _declare(builder, f"llvm.masked.load.v{LANES}f64.p0", _VEC,
                          [ptr_t, ir.IntType(32), mask_t, _VEC])
            one, zero = ir.Constant(_VEC, [1.0] * LANES), ir.Constant(_VEC, [0.0] * LANES)
            rows = []
            for offset, live, mask in _row_masks(builder, args[1], state0_, n_):
                ptr = builder.gep(base, [offset])
                passthru = builder.select(live, zero, one)
                rows.append(builder.call(fn, [ptr, ir.Constant(ir.IntType(32), 8), mask,
                                              passthru]))
            out = context.make_array(sig.args[4])(context, builder, args[4]).data
            for m, col in enumerate(_transpose(builder, rows)):
                at = builder.add(off, ir.Constant(ir.IntType(64), m * LANES))
                builder.store(col, builder.bitcast(builder.gep(out, [at]), _VEC.as_pointer()),
                              align=8)
            return context.get_dummy_value()
        return types.none(src, idx, state0, n_states, dst, dst_off), codegen


@intrinsic
def _vstore_rows(typingctx, src, src_off, scale, dst, idx, state0, n_states):
    """Transposing store, the inverse of :func:`_vload_rows`: the vectors
    ``src[src_off + m * LANES]`` (state ``state0 + m`` of all lanes) times ``scale`` are
    written to ``dst[idx[l] + state0 + m]`` for lanes with ``idx >= 0`` and states
    ``< n_states``."""
    ints = (src_off, state0, n_states)
    if (_flat(src) and _flat(dst) and idx is _LANES_T and scale is _LANES_T
            and all(isinstance(a, types.Integer) for a in ints)):
        def codegen(context, builder, sig, args):
            off, state0_, n_ = _int_args(context, builder, sig, args, (1, 5, 6))
            base = context.make_array(sig.args[0])(context, builder, args[0]).data
            cols = []
            for m in range(LANES):
                at = builder.add(off, ir.Constant(ir.IntType(64), m * LANES))
                v = builder.load(builder.bitcast(builder.gep(base, [at]), _VEC.as_pointer()),
                                 align=8)
                cols.append(builder.fmul(v, args[2]))
            ptr_t = ir.DoubleType().as_pointer()
            mask_t = ir.VectorType(ir.IntType(1), LANES)
            fn = _declare(builder, f"llvm.masked.store.v{LANES}f64.p0", ir.VoidType(),
                          [_VEC, ptr_t, ir.IntType(32), mask_t])
            out = context.make_array(sig.args[3])(context, builder, args[3]).data
            rows = _transpose(builder, cols)
            for row, (offset, _, mask) in zip(rows, _row_masks(builder, args[4], state0_, n_),
                                              strict=True):
                builder.call(fn, [row, builder.gep(out, [offset]),
                                  ir.Constant(ir.IntType(32), 8), mask])
            return context.get_dummy_value()
        return types.none(src, src_off, scale, dst, idx, state0, n_states), codegen


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
# time, in a time-major local layout [t, state, lane]: one state of all lanes is one SIMD
# vector. Each step's likelihoods are read straight from the (n_samples x K) rows with a
# transposing load (8 masked row loads + an 8 x 8 shuffle transpose), and the posteriors
# written back with the inverse transposing store, so no transposed copy of the data is
# made. Steps past a lane's end are padded with likelihood 1 and ignored; states are
# padded to a multiple of CHUNK with likelihood 0. Workers get balanced sets of blocks.


@njit(cache=True, error_model="numpy")
def _workspace(work, step_ptr, b, maxlen, width):
    """Block ``b``'s slice of a flat workspace of ``width`` vectors per step: one allocation
    per call (or per fit) instead of fresh pages for every block."""
    lo = step_ptr[b] * width * LANES
    return work[lo : lo + maxlen * width * LANES]


@njit(cache=True, error_model="numpy")
def _chunked(M, n_padded):
    """``out[(c * n + i) * CHUNK + m] = M[c * CHUNK + m, i]`` (zero for padded rows): the
    coefficients of CHUNK output rows at input ``i`` lie side by side."""
    n_rows, n = M.shape
    out = np.zeros(n_padded * n)
    for r in range(n_rows):
        c, m = divmod(r, CHUNK)
        for i in range(n):
            out[(c * n + i) * CHUNK + m] = M[r, i]
    return out


@njit(cache=True, error_model="numpy")
def _index_rows(n_states, starts, lens, IDX):
    """IDX[t * LANES + lane] = offset of the block's row (step t of the lane) in the flat
    (n_samples x K) likelihoods, -1 on padding steps (short or absent lanes)."""
    n_lanes = starts.shape[0]
    maxlen = IDX.shape[0] // LANES
    for t in range(maxlen):
        for lane in range(LANES):
            if lane < n_lanes and t < lens[lane]:
                IDX[t * LANES + lane] = (starts[lane] + t) * n_states
            else:
                IDX[t * LANES + lane] = -1.0


@njit(cache=True, error_model="numpy")
def _index_symbols(symbols, n_states, starts, lens, IDX):
    """Like :func:`_index_rows` for categorical emissions: the offset of the emission table
    row ``table[symbol]`` (likelihoods straight from the table, with no log or exp)."""
    n_lanes = starts.shape[0]
    maxlen = IDX.shape[0] // LANES
    for t in range(maxlen):
        for lane in range(LANES):
            if lane < n_lanes and t < lens[lane]:
                IDX[t * LANES + lane] = symbols[starts[lane] + t] * n_states
            else:
                IDX[t * LANES + lane] = -1.0


@njit(cache=True, error_model="numpy")
def _forward_steps(src, IDX, n_states, startprob, tt_chunks, U, n_rows, SR):
    """Scaled forward recursion of one block.

    The likelihoods F[t] of step t are read from the flat row-major ``src`` at the row
    offsets ``IDX[t]`` (:func:`_index_rows`), transposed to [state, lane] on the fly.
    ``U[t]`` = (transmat.T @ alpha_{t-1}) * F[t] is the forward variable before
    normalisation (alpha_t = U[t] / S[t]), a [state, lane] row of ``padded(K) * LANES``
    values kept in row ``t % n_rows`` of the flat buffer ``U`` (``n_rows`` = 2: a rolling
    buffer). ``SR[t]`` receives S[t] (the normaliser, whose log sums to the log-likelihood)
    then 1 / S[t]. Dividing lazily (scaling U[t] by 1/S[t-1] after the sum over states)
    keeps the division off the step-to-step dependency chain. ``tt_chunks`` is
    ``_chunked(transmat.T)``.

    (Keeping only every 32nd U[t] and recomputing the others segment by segment in the
    backward pass was measured 15-20 % slower here: the recursion costs more than the
    memory traffic it saves.)
    """
    K = n_states
    Kp = padded(K)
    width = Kp * LANES
    maxlen = IDX.shape[0] // LANES
    F = np.empty(width)  # F[t]
    for c in range(0, Kp, CHUNK):
        _vload_rows(src, _vload(IDX, 0), c, K, F, c * LANES)
    nrm = _vsplat(0.0)
    for j in range(K):
        u = _vmul(_vload(F, j * LANES), startprob[j])
        _vstore(U, j * LANES, u)
        nrm = _vadd(nrm, u)
    for j in range(K, Kp):
        _vstore(U, j * LANES, _vsplat(0.0))
    r = _vdiv(1.0, nrm)
    _vstore(SR, 0, nrm)
    _vstore(SR, LANES, r)
    for t in range(1, maxlen):
        prev = ((t - 1) % n_rows) * width
        base = (t % n_rows) * width
        for c in range(0, Kp, CHUNK):
            _vload_rows(src, _vload(IDX, t * LANES), c, K, F, c * LANES)
        nrm = _vsplat(0.0)
        for c in range(0, Kp, CHUNK):
            # 8 independent accumulators (output states c..c+7): the FMA chains interleave
            a0 = _vsplat(0.0)
            a1 = _vsplat(0.0)
            a2 = _vsplat(0.0)
            a3 = _vsplat(0.0)
            a4 = _vsplat(0.0)
            a5 = _vsplat(0.0)
            a6 = _vsplat(0.0)
            a7 = _vsplat(0.0)
            co = c * K
            for i in range(K):
                x = _vload(U, prev + i * LANES)
                cf = _vload(tt_chunks, co + i * CHUNK)
                a0 = _vfma(x, _vlane(cf, 0), a0)
                a1 = _vfma(x, _vlane(cf, 1), a1)
                a2 = _vfma(x, _vlane(cf, 2), a2)
                a3 = _vfma(x, _vlane(cf, 3), a3)
                a4 = _vfma(x, _vlane(cf, 4), a4)
                a5 = _vfma(x, _vlane(cf, 5), a5)
                a6 = _vfma(x, _vlane(cf, 6), a6)
                a7 = _vfma(x, _vlane(cf, 7), a7)
            p = base + c * LANES
            f = c * LANES
            a0 = _vmul(_vmul(a0, _vload(F, f)), r)
            a1 = _vmul(_vmul(a1, _vload(F, f + LANES)), r)
            a2 = _vmul(_vmul(a2, _vload(F, f + 2 * LANES)), r)
            a3 = _vmul(_vmul(a3, _vload(F, f + 3 * LANES)), r)
            a4 = _vmul(_vmul(a4, _vload(F, f + 4 * LANES)), r)
            a5 = _vmul(_vmul(a5, _vload(F, f + 5 * LANES)), r)
            a6 = _vmul(_vmul(a6, _vload(F, f + 6 * LANES)), r)
            a7 = _vmul(_vmul(a7, _vload(F, f + 7 * LANES)), r)
            _vstore(U, p, a0)
            _vstore(U, p + LANES, a1)
            _vstore(U, p + 2 * LANES, a2)
            _vstore(U, p + 3 * LANES, a3)
            _vstore(U, p + 4 * LANES, a4)
            _vstore(U, p + 5 * LANES, a5)
            _vstore(U, p + 6 * LANES, a6)
            _vstore(U, p + 7 * LANES, a7)
            nrm = _vadd(nrm, _vadd(_vadd(_vadd(a0, a1), _vadd(a2, a3)),
                                   _vadd(_vadd(a4, a5), _vadd(a6, a7))))
        r = _vdiv(1.0, nrm)
        _vstore(SR, 2 * LANES * t, nrm)
        _vstore(SR, 2 * LANES * t + LANES, r)


@njit(cache=True, error_model="numpy")
def _lane_loglik(SR, lens, lane):
    total = 0.0
    prod = 1.0
    ok = True
    for t in range(lens[lane]):
        v = SR[2 * LANES * t + lane]
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

    ``work_F`` (``step_ptr[-1] * LANES``), ``work_A`` (``step_ptr[-1] * padded(K) * LANES``)
    and ``work_S`` (``step_ptr[-1] * 2 * LANES``) are workspace; ``step_ptr`` gives each
    block's offset in steps."""
    n_states = startprob.shape[0]
    Kp = padded(n_states)
    tt_chunks = _chunked(np.ascontiguousarray(transmat.T), Kp)
    for worker in prange(worker_ptr.shape[0] - 1):
        for b in range(worker_ptr[worker], worker_ptr[worker + 1]):
            lo, hi = block_ptr[b], block_ptr[b + 1]
            starts, lens, maxlen = _block_lanes(offsets, seq_order, lo, hi)
            IDX = _workspace(work_F, step_ptr, b, maxlen, 1)
            SR = _workspace(work_S, step_ptr, b, maxlen, 2)
            _index_rows(n_states, starts, lens, IDX)
            _forward_steps(frame.reshape(frame.size), IDX, n_states, startprob, tt_chunks,
                           np.empty(2 * Kp * LANES), 2, SR)
            for lane in range(hi - lo):
                loglik[seq_order[lo + lane]] = _lane_loglik(SR, lens, lane)


@njit(cache=True, error_model="numpy")
def _backward_block(src, IDX, U, SR, n_states, t_chunks, starts, lens, gamma, ok, XI):
    """Backward pass of one block, fused with the posteriors and the transition counts.

    ``U`` and ``SR`` are the block's forward variables and normalisers
    (:func:`_forward_steps`).

    Writes the state posteriors of live steps of healthy lanes to ``gamma`` (global rows)
    and adds ``alpha_{t-1}[i] * w_t[j]`` with ``w_t = F_t * beta_t / S_t`` to
    ``XI[((c * K + j) * CHUNK + m) * LANES + lane]`` (i = c * CHUNK + m), per lane; the
    expected transition counts are ``transmat * XI`` summed over lanes and steps. Lanes
    whose posterior normaliser is zero or not finite are marked in ``ok``.
    ``t_chunks`` is ``_chunked(transmat)``."""
    K = n_states
    Kp = padded(K)
    width = Kp * LANES
    maxlen = IDX.shape[0] // LANES
    n_lanes = lens.shape[0]
    B = np.ones(Kp * LANES)  # beta_t
    W = np.empty(K * LANES)  # w_t
    G = np.zeros(Kp * LANES)  # alpha_t * beta_t, unnormalised
    F = np.empty(width)  # F[t]
    lanes = np.zeros(3 * LANES)  # per lane: length, first row, healthy (1.0 / 0.0)
    for lane in range(n_lanes):
        lanes[lane] = lens[lane]
        lanes[LANES + lane] = starts[lane]
        lanes[2 * LANES + lane] = 1.0 if ok[lane] else 0.0
    lenv = _vload(lanes, 0)
    first = _vload(lanes, LANES)
    okv = _vload(lanes, 2 * LANES)
    flat = gamma.reshape(gamma.size)
    for t in range(maxlen - 1, -1, -1):
        base = t * width
        nrm = _vsplat(0.0)
        for j in range(K):
            g = _vmul(_vload(U, base + j * LANES), _vload(B, j * LANES))
            _vstore(G, j * LANES, g)
            nrm = _vadd(nrm, g)
        live = _vless(float(t), lenv)  # step t lies inside the lane
        # a lane fails where a posterior normaliser is 0, inf or NaN
        okv = _vwhere(live, _vmul(okv, _vmul(_vless(0.0, nrm), _vless(nrm, np.inf))), okv)
        put = _vmul(live, okv)
        scl = _vdiv(1.0, nrm)
        row = _vwhere(put, _vmul(_vadd(first, float(t)), float(K)), -1.0)
        for c in range(0, Kp, CHUNK):
            _vstore_rows(G, c * LANES, scl, flat, row, c, K)
        if t == 0:
            break
        for c in range(0, Kp, CHUNK):
            _vload_rows(src, _vload(IDX, t * LANES), c, K, F, c * LANES)
        r_t = _vload(SR, 2 * LANES * t + LANES)
        # alpha_{t-1} = U[t-1] / S[t-1]; steps past a lane's end add nothing
        pf = _vmul(_vload(SR, 2 * LANES * (t - 1) + LANES), live)
        for j in range(K):
            _vstore(W, j * LANES, _vmul(_vmul(_vload(F, j * LANES),
                                              _vload(B, j * LANES)), r_t))
        prev = base - width
        for c in range(0, Kp, CHUNK):
            p = prev + c * LANES
            p0 = _vmul(_vload(U, p), pf)
            p1 = _vmul(_vload(U, p + LANES), pf)
            p2 = _vmul(_vload(U, p + 2 * LANES), pf)
            p3 = _vmul(_vload(U, p + 3 * LANES), pf)
            p4 = _vmul(_vload(U, p + 4 * LANES), pf)
            p5 = _vmul(_vload(U, p + 5 * LANES), pf)
            p6 = _vmul(_vload(U, p + 6 * LANES), pf)
            p7 = _vmul(_vload(U, p + 7 * LANES), pf)
            b0 = _vsplat(0.0)
            b1 = _vsplat(0.0)
            b2 = _vsplat(0.0)
            b3 = _vsplat(0.0)
            b4 = _vsplat(0.0)
            b5 = _vsplat(0.0)
            b6 = _vsplat(0.0)
            b7 = _vsplat(0.0)
            co = c * K
            for j in range(K):
                w = _vload(W, j * LANES)
                o = co + j * CHUNK
                cf = _vload(t_chunks, o)
                b0 = _vfma(w, _vlane(cf, 0), b0)
                b1 = _vfma(w, _vlane(cf, 1), b1)
                b2 = _vfma(w, _vlane(cf, 2), b2)
                b3 = _vfma(w, _vlane(cf, 3), b3)
                b4 = _vfma(w, _vlane(cf, 4), b4)
                b5 = _vfma(w, _vlane(cf, 5), b5)
                b6 = _vfma(w, _vlane(cf, 6), b6)
                b7 = _vfma(w, _vlane(cf, 7), b7)
                x = o * LANES
                _vstore(XI, x, _vfma(p0, w, _vload(XI, x)))
                _vstore(XI, x + LANES, _vfma(p1, w, _vload(XI, x + LANES)))
                _vstore(XI, x + 2 * LANES, _vfma(p2, w, _vload(XI, x + 2 * LANES)))
                _vstore(XI, x + 3 * LANES, _vfma(p3, w, _vload(XI, x + 3 * LANES)))
                _vstore(XI, x + 4 * LANES, _vfma(p4, w, _vload(XI, x + 4 * LANES)))
                _vstore(XI, x + 5 * LANES, _vfma(p5, w, _vload(XI, x + 5 * LANES)))
                _vstore(XI, x + 6 * LANES, _vfma(p6, w, _vload(XI, x + 6 * LANES)))
                _vstore(XI, x + 7 * LANES, _vfma(p7, w, _vload(XI, x + 7 * LANES)))
            # beta_{t-1} = transmat @ w_t inside a lane, 1 at and past its last step
            q = c * LANES
            _vstore(B, q, _vwhere(live, b0, 1.0))
            _vstore(B, q + LANES, _vwhere(live, b1, 1.0))
            _vstore(B, q + 2 * LANES, _vwhere(live, b2, 1.0))
            _vstore(B, q + 3 * LANES, _vwhere(live, b3, 1.0))
            _vstore(B, q + 4 * LANES, _vwhere(live, b4, 1.0))
            _vstore(B, q + 5 * LANES, _vwhere(live, b5, 1.0))
            _vstore(B, q + 6 * LANES, _vwhere(live, b6, 1.0))
            _vstore(B, q + 7 * LANES, _vwhere(live, b7, 1.0))
    _vstore(lanes, 2 * LANES, okv)
    for lane in range(n_lanes):
        ok[lane] = lanes[2 * LANES + lane] != 0.0


@njit(cache=True, error_model="numpy")
def _fb_block(src, IDX, U, SR, starts, lens, lo, hi, seq_order, startprob, tt_chunks,
              t_chunks, gamma, xi, loglik):
    """Forward-backward of one block (see :func:`forward_backward_scaled`);
    adds the block's transition counts (before the factor transmat) to ``xi``."""
    n_states = startprob.shape[0]
    n_lanes = hi - lo
    _forward_steps(src, IDX, n_states, startprob, tt_chunks, U, IDX.shape[0] // LANES, SR)
    ok = np.ones(n_lanes, dtype=np.bool_)
    for lane in range(n_lanes):
        loglik[seq_order[lo + lane]] = _lane_loglik(SR, lens, lane)
        if np.isnan(loglik[seq_order[lo + lane]]):
            ok[lane] = False
    XI = np.zeros(padded(n_states) * n_states * LANES)
    _backward_block(src, IDX, U, SR, n_states, t_chunks, starts, lens, gamma, ok, XI)
    for lane in range(n_lanes):
        if not ok[lane]:
            loglik[seq_order[lo + lane]] = np.nan
            continue
        for i in range(n_states):
            c, m = divmod(i, CHUNK)
            for j in range(n_states):
                xi[i, j] += XI[((c * n_states + j) * CHUNK + m) * LANES + lane]


@njit(cache=True, error_model="numpy", parallel=True)
def forward_backward_scaled(frame, offsets, seq_order, block_ptr, worker_ptr, step_ptr,
                            work_F, work_A, work_S, startprob, transmat, gamma, xi, loglik):
    """Scaled forward-backward.

    Writes the state posteriors into ``gamma`` (n_samples x K) and each block's summed
    ``alpha_{t-1}[i] * w_t[j]`` into ``xi[block]`` (n_blocks x K x K, zeroed here), with
    ``w_t = frame_t * beta_t / scale_t``, so that the expected transition counts are
    ``transmat * xi.sum(0)``. Sequences that fail (underflow) get a NaN log-likelihood and
    add nothing to ``xi``. Workspace as in :func:`forward_scaled`.
    """
    n_states = startprob.shape[0]
    Kp = padded(n_states)
    tt_chunks = _chunked(np.ascontiguousarray(transmat.T), Kp)
    t_chunks = _chunked(transmat, Kp)
    for worker in prange(worker_ptr.shape[0] - 1):
        for b in range(worker_ptr[worker], worker_ptr[worker + 1]):
            lo, hi = block_ptr[b], block_ptr[b + 1]
            starts, lens, maxlen = _block_lanes(offsets, seq_order, lo, hi)
            IDX = _workspace(work_F, step_ptr, b, maxlen, 1)
            U = _workspace(work_A, step_ptr, b, maxlen, Kp)
            SR = _workspace(work_S, step_ptr, b, maxlen, 2)
            _index_rows(n_states, starts, lens, IDX)
            xi[b] = 0.0
            _fb_block(frame.reshape(frame.size), IDX, U, SR, starts, lens, lo, hi, seq_order,
                      startprob, tt_chunks, t_chunks, gamma, xi[b], loglik)


@njit(cache=True, error_model="numpy", parallel=True)
def forward_backward_symbols(symbols, table, offsets, seq_order, block_ptr, worker_ptr,
                             step_ptr, work_F, work_A, work_S, startprob, transmat, gamma, xi,
                             loglik):
    """:func:`forward_backward_scaled` for categorical emissions: the likelihood of step t in
    state j is ``table[symbols[t], j]`` (no frame is built)."""
    n_states = startprob.shape[0]
    Kp = padded(n_states)
    tt_chunks = _chunked(np.ascontiguousarray(transmat.T), Kp)
    t_chunks = _chunked(transmat, Kp)
    for worker in prange(worker_ptr.shape[0] - 1):
        for b in range(worker_ptr[worker], worker_ptr[worker + 1]):
            lo, hi = block_ptr[b], block_ptr[b + 1]
            starts, lens, maxlen = _block_lanes(offsets, seq_order, lo, hi)
            IDX = _workspace(work_F, step_ptr, b, maxlen, 1)
            U = _workspace(work_A, step_ptr, b, maxlen, Kp)
            SR = _workspace(work_S, step_ptr, b, maxlen, 2)
            _index_symbols(symbols, n_states, starts, lens, IDX)
            xi[b] = 0.0
            _fb_block(table.reshape(table.size), IDX, U, SR, starts, lens, lo, hi, seq_order,
                      startprob, tt_chunks, t_chunks, gamma, xi[b], loglik)

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


@njit(cache=True, error_model="numpy")
def _max_step(best, arg, value, index):
    """Running max-product step of every lane: where ``value > best`` (strictly, so the
    lowest index wins a tie) take ``value`` and ``index``."""
    better = _vless(best, value)
    return _vwhere(better, value, best), _vwhere(better, index, arg)


#: A block of n lanes runs the SIMD Viterbi when n >= 2 and n * K reaches this; below it the
#: lanes run one by one in scalar code (measured per step: with one lane, the 8-lane vector
#: code costs 1.7x (K=16) to 4.6x (K=2) the scalar loop; with 8 lanes it is 2-5x faster).
SIMD_VITERBI_FROM = 16


@njit(cache=True, error_model="numpy")
def _viterbi_lane(src, IDX, lane, length, BPL, n_states, log_startprob, log_t_cols, path,
                  first):
    """Scalar Viterbi of one lane (the same additions and comparisons as
    :func:`viterbi_reference`); ``BPL`` holds its ``length * K`` back-pointers. Returns the
    log-probability."""
    K = n_states
    delta = np.empty(K)
    nxt = np.empty(K)
    row = int(IDX[lane])
    for j in range(K):
        delta[j] = log_startprob[j] + src[row + j]
    for t in range(1, length):
        row = int(IDX[t * LANES + lane])
        for j in range(K):
            best = -np.inf
            arg = 0
            for i in range(K):
                v = delta[i] + log_t_cols[j, i]
                if v > best:
                    best = v
                    arg = i
            nxt[j] = best + src[row + j]
            BPL[t * K + j] = arg
        for j in range(K):
            delta[j] = nxt[j]
    best = -np.inf
    arg = 0
    for j in range(K):
        if delta[j] > best:
            best = delta[j]
            arg = j
    path[first + length - 1] = arg
    for t in range(length - 1, 0, -1):
        arg = BPL[t * K + arg]
        path[first + t - 1] = arg
    return best


@njit(cache=True, error_model="numpy")
def _viterbi_block(src, IDX, BP, n_states, log_startprob, ltt_chunks, log_t_cols, starts,
                   lens, lo, seq_order, path, logprob, simd_from):
    """Viterbi recursion and backtracking of one block of lanes.

    ``src`` holds log-likelihood rows read through ``IDX`` (as in :func:`_forward_steps`);
    ``ltt_chunks`` is ``_chunked(log(transmat).T)``. ``delta_t[j] = max_i (delta_{t-1}[i] +
    log A[i, j]) + log F_t[j]`` is computed for all lanes at once, 8 output states at a time,
    and the maximising ``i`` of step t is kept in ``BP[t]`` ([state, lane] rows of int16).
    Ties go to the lowest predecessor, and at the end to the lowest final state, so the
    path is the one :func:`viterbi_reference` returns. A lane past its end keeps its delta.
    A block with few lanes (see :data:`SIMD_VITERBI_FROM`) runs them one by one instead.
    """
    K = n_states
    Kp = padded(K)
    width = Kp * LANES
    maxlen = IDX.shape[0] // LANES
    n_lanes = lens.shape[0]
    if n_lanes < 2 or n_lanes * K < simd_from:
        for lane in range(n_lanes):
            BPL = BP[lane * maxlen * K : (lane + 1) * maxlen * K]
            logprob[seq_order[lo + lane]] = _viterbi_lane(
                src, IDX, lane, lens[lane], BPL, K, log_startprob, log_t_cols, path,
                starts[lane])
        return
    F = np.empty(width)
    D = np.empty(2 * width)  # delta_{t-1} and delta_t, rolling
    lanes = np.zeros(LANES)
    for lane in range(n_lanes):
        lanes[lane] = lens[lane]
    lenv = _vload(lanes, 0)
    for c in range(0, Kp, CHUNK):
        _vload_rows(src, _vload(IDX, 0), c, K, F, c * LANES)
    for j in range(K):
        _vstore(D, j * LANES, _vadd(_vload(F, j * LANES), log_startprob[j]))
    for j in range(K, Kp):
        _vstore(D, j * LANES, _vsplat(-np.inf))
    for t in range(1, maxlen):
        prev = ((t - 1) % 2) * width
        cur = (t % 2) * width
        for c in range(0, Kp, CHUNK):
            _vload_rows(src, _vload(IDX, t * LANES), c, K, F, c * LANES)
        live = _vless(float(t), lenv)  # step t lies inside the lane
        for c in range(0, Kp, CHUNK):
            # 8 independent (max, argmax) chains, output states c..c+7
            b0 = b1 = b2 = b3 = b4 = b5 = b6 = b7 = _vsplat(-np.inf)
            a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = _vsplat(0.0)
            co = c * K
            for i in range(K):
                x = _vload(D, prev + i * LANES)
                cf = _vload(ltt_chunks, co + i * CHUNK)
                fi = float(i)
                b0, a0 = _max_step(b0, a0, _vadd(x, _vlane(cf, 0)), fi)
                b1, a1 = _max_step(b1, a1, _vadd(x, _vlane(cf, 1)), fi)
                b2, a2 = _max_step(b2, a2, _vadd(x, _vlane(cf, 2)), fi)
                b3, a3 = _max_step(b3, a3, _vadd(x, _vlane(cf, 3)), fi)
                b4, a4 = _max_step(b4, a4, _vadd(x, _vlane(cf, 4)), fi)
                b5, a5 = _max_step(b5, a5, _vadd(x, _vlane(cf, 5)), fi)
                b6, a6 = _max_step(b6, a6, _vadd(x, _vlane(cf, 6)), fi)
                b7, a7 = _max_step(b7, a7, _vadd(x, _vlane(cf, 7)), fi)
            q = c * LANES
            bp = t * width + q
            _vstore_i16(BP, bp, a0)
            _vstore_i16(BP, bp + LANES, a1)
            _vstore_i16(BP, bp + 2 * LANES, a2)
            _vstore_i16(BP, bp + 3 * LANES, a3)
            _vstore_i16(BP, bp + 4 * LANES, a4)
            _vstore_i16(BP, bp + 5 * LANES, a5)
            _vstore_i16(BP, bp + 6 * LANES, a6)
            _vstore_i16(BP, bp + 7 * LANES, a7)
            _vstore(D, cur + q, _vwhere(live, _vadd(b0, _vload(F, q)), _vload(D, prev + q)))
            for m, b in ((1, b1), (2, b2), (3, b3), (4, b4), (5, b5), (6, b6), (7, b7)):
                r = q + m * LANES
                _vstore(D, cur + r, _vwhere(live, _vadd(b, _vload(F, r)), _vload(D, prev + r)))
    last = ((maxlen - 1) % 2) * width
    args = np.zeros(LANES, dtype=np.int64)
    for lane in range(n_lanes):
        best = -np.inf
        for j in range(K):
            v = D[last + j * LANES + lane]
            if v > best:
                best = v
                args[lane] = j
        logprob[seq_order[lo + lane]] = best
        path[starts[lane] + lens[lane] - 1] = args[lane]
    # all lanes backtrack together, one step row at a time (a backward stream through BP;
    # lane by lane it was a stride-width walk per lane, 8 passes over the workspace)
    for t in range(maxlen - 1, 0, -1):
        row = t * width
        for lane in range(n_lanes):
            if t < lens[lane]:
                a = BP[row + args[lane] * LANES + lane]
                args[lane] = a
                path[starts[lane] + t - 1] = a


@njit(cache=True, error_model="numpy", parallel=True)
def viterbi(log_frame, offsets, seq_order, block_ptr, worker_ptr, step_ptr, work_F, work_B,
            log_startprob, log_transmat, path, logprob, simd_from):
    """Most likely state path and its log-probability per sequence (max-product in log
    space), 8 sequences per block in SIMD lanes (:func:`_viterbi_block`).

    ``log_frame`` (n_samples x K, C order) holds the emission log-likelihoods. ``work_F``
    (float64, ``step_ptr[-1] * LANES``) and ``work_B`` (int16, ``step_ptr[-1] * padded(K) *
    LANES``; so K < 32768) are workspace, ``step_ptr`` giving each block's offset in steps.
    Blocks of fewer than 2 lanes, or with lanes x K below ``simd_from`` (the library passes
    :data:`SIMD_VITERBI_FROM`), run lane by lane in scalar code.
    """
    n_states = log_startprob.shape[0]
    Kp = padded(n_states)
    log_t_cols = np.ascontiguousarray(log_transmat.T)
    ltt_chunks = _chunked(log_t_cols, Kp)
    for worker in prange(worker_ptr.shape[0] - 1):
        for b in range(worker_ptr[worker], worker_ptr[worker + 1]):
            lo, hi = block_ptr[b], block_ptr[b + 1]
            starts, lens, maxlen = _block_lanes(offsets, seq_order, lo, hi)
            IDX = _workspace(work_F, step_ptr, b, maxlen, 1)
            BP = _workspace(work_B, step_ptr, b, maxlen, Kp)
            _index_rows(n_states, starts, lens, IDX)
            _viterbi_block(log_frame.reshape(log_frame.size), IDX, BP, n_states,
                           log_startprob, ltt_chunks, log_t_cols, starts, lens, lo, seq_order,
                           path, logprob, simd_from)


@njit(cache=True, error_model="numpy", parallel=True)
def viterbi_symbols(symbols, log_table, offsets, seq_order, block_ptr, worker_ptr, step_ptr,
                    work_F, work_B, log_startprob, log_transmat, path, logprob, simd_from):
    """:func:`viterbi` for categorical emissions: the log-likelihood of step t in state j is
    ``log_table[symbols[t], j]`` (no n_samples x K array is built)."""
    n_states = log_startprob.shape[0]
    Kp = padded(n_states)
    log_t_cols = np.ascontiguousarray(log_transmat.T)
    ltt_chunks = _chunked(log_t_cols, Kp)
    for worker in prange(worker_ptr.shape[0] - 1):
        for b in range(worker_ptr[worker], worker_ptr[worker + 1]):
            lo, hi = block_ptr[b], block_ptr[b + 1]
            starts, lens, maxlen = _block_lanes(offsets, seq_order, lo, hi)
            IDX = _workspace(work_F, step_ptr, b, maxlen, 1)
            BP = _workspace(work_B, step_ptr, b, maxlen, Kp)
            _index_symbols(symbols, n_states, starts, lens, IDX)
            _viterbi_block(log_table.reshape(log_table.size), IDX, BP, n_states,
                           log_startprob, ltt_chunks, log_t_cols, starts, lens, lo, seq_order,
                           path, logprob, simd_from)


@njit(cache=True, error_model="numpy", parallel=True, fastmath=_FAST)
def viterbi_reference(log_frame, offsets, seq_order, block_ptr, worker_ptr, log_startprob,
                      log_transmat, path, logprob, back):
    """Most likely state path per sequence, one sequence at a time with scalar code.

    The reference for :func:`viterbi` in the tests (same tie-break); ``back``
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
