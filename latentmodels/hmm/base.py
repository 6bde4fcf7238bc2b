"""The hidden Markov model engine: Baum-Welch EM, inference and streaming, once for all emissions.

:class:`BaseHMM` owns the Markov chain (``startprob_``, ``transmat_``), the EM loop with its
:class:`ConvergenceMonitor`, restarts, Dirichlet priors, sequence handling (``lengths`` or a
list of arrays), decoding, sampling, persistence and the all-reduce of E-step statistics over
``torch.distributed``. The emission is an object (:mod:`latentmodels.hmm.emissions`) that
declares its learned parameters and computes the per-state log-likelihood, initialisation,
sufficient statistics, the M-step and sampling; this module never names a particular one.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any, ClassVar

import numba
import numpy as np
import torch
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    StrOptions,
    make_constraint,
)
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import ThreadpoolController

from .._internal import threads
from .._internal.distributed import (
    allreduce_arrays,
    broadcast_arrays,
    distributed_info,
    ensure_process_group,
)
from .._internal.progress import FitProgress
from .._internal.validation import (
    check_affordable,
    check_choice,
    check_data,
    check_positive_int,
    check_random_state,
)
from ..base import LatentModel
from . import _file, _kernels, _resume

if TYPE_CHECKING:
    from .emissions import Emission

__all__ = ["BaseHMM", "ConvergenceMonitor"]

_TINY = np.finfo(np.float64).tiny
_log = logging.getLogger("latentmodels.hmm")
_UNSET = object()


class ConvergenceMonitor:
    """Tracks the EM objective and decides when to stop (hmmlearn's monitor, same names).

    ``history`` holds the objective (log-likelihood plus log-prior of the parameters; the
    plain log-likelihood when priors are flat) computed in each E-step, before the M-step
    that follows it. EM is converged when the gain between two iterations falls below
    ``tol`` (absolute, in nats over the whole training set). Running out of ``n_iter``
    stops EM silently, as in hmmlearn: ``converged`` then stays False and
    ``reached_n_iter`` is True.

    A model's ``monitor_`` may be replaced by another monitor (a subclass with its own
    ``converged``, say): ``fit`` then uses it, with its own ``tol`` and ``n_iter``.

    Examples
    --------
    >>> monitor = ConvergenceMonitor(tol=0.1, n_iter=10, verbose=False)
    >>> monitor.report(-10.0); monitor.report(-9.95)
    >>> monitor.converged, monitor.reached_n_iter
    (True, False)
    """

    def __init__(self, tol: float, n_iter: int, verbose: bool) -> None:
        self.tol = tol
        self.n_iter = n_iter
        self.verbose = verbose
        self.history: list[float] = []
        self.iter = 0

    def __repr__(self) -> str:
        last = self.history[-1] if self.history else None
        return (
            f"ConvergenceMonitor(tol={self.tol}, n_iter={self.n_iter}, iter={self.iter}, "
            f"last={last}, converged={self.converged})"
        )

    def _reset(self) -> None:
        self.iter = 0
        self.history = []

    def report(self, value: float) -> None:
        """Record the objective of one iteration (printed to stderr when ``verbose``)."""
        if self.verbose:
            delta = value - self.history[-1] if self.history else float("nan")
            print(f"{self.iter + 1:>10d} {value:>16.8f} {delta:>+16.8f}", file=sys.stderr)
        self.history.append(float(value))
        self.iter += 1

    @property
    def converged(self) -> bool:
        """True when the last improvement was smaller than ``tol``."""
        return len(self.history) >= 2 and self.history[-1] - self.history[-2] < self.tol

    @property
    def reached_n_iter(self) -> bool:
        """True when EM ran all ``n_iter`` iterations.

        Examples
        --------
        >>> monitor = ConvergenceMonitor(tol=1e-3, n_iter=1, verbose=False)
        >>> monitor.report(-5.0); monitor.reached_n_iter
        True
        """
        return self.iter >= self.n_iter


def _own_monitor(tol: float, n_iter: int, verbose: bool) -> ConvergenceMonitor:
    """The monitor a model makes itself; ``fit`` keeps it in step with the hyper-parameters
    (a monitor the user assigns keeps its own settings)."""
    monitor = ConvergenceMonitor(tol, n_iter, verbose)
    monitor._from_hyperparameters = True
    return monitor


def _as_sequences(X: Any) -> list | None:
    """A list/tuple of arrays or tensors means one sequence per element."""
    if isinstance(X, (list, tuple)) and len(X) > 0:
        if all(isinstance(x, (np.ndarray, torch.Tensor)) for x in X):
            return list(X)
    return None


def _is_target_vector(lengths: Any, n_samples: int) -> bool:
    """Whether ``lengths`` is scikit-learn's per-row target ``y`` rather than sequence
    lengths: one entry per row of ``X`` (``Pipeline``, ``cross_val_score`` and
    ``GridSearchCV`` pass ``y`` where hmmlearn's API has ``lengths``). Such a vector can
    only be valid lengths if every entry is 1; anything else is a label per row, which an
    unsupervised model ignores, as scikit-learn's unsupervised estimators do."""
    if isinstance(lengths, torch.Tensor) or lengths is None:
        return False
    try:
        arr = np.asarray(lengths)
    except (TypeError, ValueError):
        return False
    if arr.ndim not in (1, 2) or arr.shape[0] != n_samples or n_samples == 0:
        return False
    if arr.ndim == 1 and arr.dtype.kind in "iuf" and np.all(arr == 1):
        return False  # n sequences of one step each: valid lengths
    return True


#: Declared constraint of a prior: a number or an array of numbers (checked by _check_prior).
PRIOR_CONSTRAINT = [Real, "array-like"]


def _check_prior(value: Any, name: str, rule: str) -> None:
    """Refuse a prior hyper-parameter that is not finite numbers of the sign ``rule`` asks
    (see ``Emission.prior_rules``); the message names it."""
    kind, _, none = rule.partition("|")
    if value is None and none:
        return
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a number or an array of numbers, got {value!r}") from exc
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if kind == "nonnegative_diagonal" and array.ndim >= 2:
        array = np.diagonal(array, axis1=-2, axis2=-1)  # off-diagonal entries may be < 0
    if kind in ("nonnegative", "nonnegative_diagonal") and np.any(array < 0):
        raise ValueError(f"{name} must be >= 0, got {value!r}")


def _broadcasts(value: Any, shape: tuple[int, ...]) -> bool:
    try:
        np.broadcast_shapes(np.shape(value), shape)
    except ValueError:
        return False
    return np.ndim(value) <= len(shape)


def _check_lengths(lengths: Any, n_samples: int) -> np.ndarray:
    if isinstance(lengths, torch.Tensor):
        lengths = lengths.detach().cpu().numpy()
    try:
        arr = np.asarray(lengths)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"lengths must be a 1-D array of integers: {exc}") from exc
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(
            f"lengths must be a non-empty 1-D array of integers, got shape {arr.shape}"
        )
    if not np.issubdtype(arr.dtype, np.integer):
        if not (np.issubdtype(arr.dtype, np.floating) and np.all(np.isfinite(arr))
                and np.all(arr == np.round(arr))):
            raise TypeError(f"lengths must hold integers, got dtype {arr.dtype}")
    if np.any(arr <= 0):
        raise ValueError(
            f"lengths must be positive: sequence {int(np.argmax(arr <= 0))} has length "
            f"{arr[np.argmax(arr <= 0)]}"
        )
    # Bound every entry (and the count) before summing, so the sum cannot overflow and wrap
    # around to the right total (int64 values near 2**62, uint64 near 2**64).
    if np.any(arr > n_samples):
        first = int(np.argmax(arr > n_samples))
        raise ValueError(f"lengths: sequence {first} has length {arr[first]}, more than the "
                         f"{n_samples} rows of X")
    if arr.size > n_samples:
        raise ValueError(f"lengths has {arr.size} sequences but X has only {n_samples} rows")
    arr = arr.astype(np.int64)
    if int(arr.sum()) != n_samples:
        raise ValueError(
            f"lengths must sum to the number of rows of X ({n_samples}), "
            f"they sum to {int(arr.sum())}"
        )
    return arr.astype(np.int64)


def _schedule(offsets: np.ndarray, max_lanes: int = _kernels.LANES):
    """Group sequences of similar length into blocks of lanes and deal the blocks to the
    numba workers so that each gets about the same number of time steps.

    Returns ``(seq_order, block_ptr, worker_ptr, step_ptr)`` for the kernels; ``step_ptr``
    locates each block's workspace (in time steps: cumulated block lengths).
    """
    lens = np.diff(offsets)
    n = len(lens)
    workers = max(1, numba.get_num_threads())
    order = np.argsort(-lens, kind="stable")
    n_blocks = -(-n // max_lanes)
    n_blocks = min(n, workers * -(-n_blocks // workers))
    bounds = np.round(np.linspace(0, n, n_blocks + 1)).astype(np.int64)
    work = (bounds[1:] - bounds[:-1]) * lens[order[bounds[:-1]]]
    load = np.zeros(workers)
    assigned: list[list[int]] = [[] for _ in range(workers)]
    for b in np.argsort(-work, kind="stable"):  # longest-processing-time-first
        w = int(np.argmin(load))
        assigned[w].append(int(b))
        load[w] += work[b]
    seq_order = np.empty(n, dtype=np.int64)
    block_ptr = [0]
    worker_ptr = [0]
    pos = 0
    if _DYNAMIC:
        # one work item per block, biggest first; handed out at run time (chunk size 1), so
        # a worker whose core is taken by another process delays at most one block
        assigned = [[int(b)] for b in np.argsort(-work, kind="stable")]
    for blocks in assigned:
        for b in blocks:
            size = bounds[b + 1] - bounds[b]
            seq_order[pos : pos + size] = order[bounds[b] : bounds[b + 1]]
            pos += size
            block_ptr.append(pos)
        worker_ptr.append(len(block_ptr) - 1)
    block_ptr = np.asarray(block_ptr, dtype=np.int64)
    block_len = np.maximum.reduceat(lens[seq_order], block_ptr[:-1]) if n else np.zeros(0)
    step_ptr = np.zeros(len(block_ptr), dtype=np.int64)
    np.cumsum(block_len, out=step_ptr[1:])
    return seq_order, block_ptr, np.asarray(worker_ptr, np.int64), step_ptr


_DYNAMIC = os.environ.get("LATENTMODELS_HMM_DYNAMIC", "1") == "1"


def _blocks(kernel, work: float):
    """``kernel`` (one of the block kernels), chosen by :func:`_kernels.choose`, run with
    dynamic scheduling of its blocks."""
    chosen = _kernels.choose(kernel, work)
    if chosen is not kernel or not _DYNAMIC:
        return chosen

    def run(*args):
        with numba.parallel_chunksize(1):
            return kernel(*args)

    return run


class _ThreadTuner:
    """Times E-steps with parallel and with serial kernels and keeps the faster.

    Worker threads pay off on free cores; on a machine whose cores are taken by other
    processes a parallel region waits for its slowest thread to be scheduled, and the serial
    kernels win (measured: 1.4x faster on 2 cores at load average 7). EM probes both ways
    on iterations 3 and 4 (after the first two, which also load the compiled code), then
    uses the faster and re-times the other 8 iterations later, since load changes; each
    probe the other way loses doubles that gap (up to 64 iterations), one that wins resets
    it. (Busy, probing every 8 iterations cost a 20-iteration fit a third of its time.)

    Examples
    --------
    Parallel E-steps take 3 s, serial ones 1 s: after the first four, only the probes run
    in parallel, ever further apart.

    >>> tuner = _ThreadTuner()
    >>> tuner.active, modes = True, []
    >>> for _ in range(60):
    ...     serial = tuner._serial_now()
    ...     modes.append(serial)
    ...     tuner.record(serial, 1.0 if serial else 3.0)
    >>> [i for i, serial in enumerate(modes) if not serial]
    [0, 2, 8, 24, 56]
    """

    PROBE_EVERY = 8
    MAX_PROBE_GAP = 64

    def __init__(self) -> None:
        self.count = 0
        self.seconds = {False: math.inf, True: math.inf}
        self.gap = self.PROBE_EVERY  # iterations from one probe to the next
        self.next_probe = self.PROBE_EVERY
        # an explicit count (--threads) is used as given
        self.active = numba.get_num_threads() > 1 and threads.explicit_threads() is None

    def _best_serial(self) -> bool:
        return self.seconds[True] < self.seconds[False]

    def _serial_now(self) -> bool:
        n = self.count
        if n < 4:
            return n % 2 == 1  # 0, 2: parallel; 1, 3: serial (0 and 1 are warm-up)
        best = self._best_serial()
        return (not best) if n >= self.next_probe else best

    def record(self, serial: bool, seconds: float) -> None:
        """Count one E-step that took ``seconds`` in the given mode."""
        probing = self.count >= self.next_probe
        if self.count >= 2:
            self.seconds[serial] = seconds
        if probing:
            lost = self._best_serial() != serial
            self.gap = min(2 * self.gap, self.MAX_PROBE_GAP) if lost else self.PROBE_EVERY
            self.next_probe = self.count + self.gap
        self.count += 1

    @contextlib.contextmanager
    def iteration(self):
        """Run one E-step in the chosen mode and time it."""
        if not self.active:
            yield
            return
        serial = self._serial_now()
        started = time.perf_counter()
        with _kernels.serial_only(serial):
            yield
        self.record(serial, time.perf_counter() - started)


def _requested_threads(method):
    """Run ``method`` on the thread count the CLI's ``--threads`` asked for, if any (numba's
    count is put back afterwards); without one, :class:`_ThreadTuner` picks per iteration."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        requested = threads.explicit_threads()
        if requested is None:
            return method(self, *args, **kwargs)
        with threads.restored_threads():
            threads.set_numba_threads(requested)
            return method(self, *args, **kwargs)

    return wrapper


_BLAS_STATE = threading.local()
_BLAS_CONTROLLER: list[ThreadpoolController] = []


def _blas_controller() -> ThreadpoolController:
    """One threadpoolctl controller for the process: finding the BLAS libraries takes
    1.5 ms (a scan of the loaded libraries), as long as a whole ``predict`` of 20,000
    steps; numpy's and scipy's BLAS are loaded before the first call."""
    if not _BLAS_CONTROLLER:
        _BLAS_CONTROLLER.append(ThreadpoolController())
    return _BLAS_CONTROLLER[0]


def _serial_blas(method):
    """Run ``method`` with single-threaded BLAS.

    The matrix products here are small, while the compiled recursions use every core;
    BLAS worker threads that keep spinning after a product would steal those cores and
    make the recursions several times slower.
    """

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        if getattr(_BLAS_STATE, "serial", False):  # already inside a limited call
            return method(self, *args, **kwargs)
        _BLAS_STATE.serial = True
        try:
            with _blas_controller().limit(limits=1, user_api="blas"):
                return method(self, *args, **kwargs)
        finally:
            _BLAS_STATE.serial = False

    return wrapper


def _satisfied(value: Any, constraints: list) -> bool:
    return any(make_constraint(c).is_satisfied_by(value) for c in constraints)


def _bool_as_number(value: Any, constraints: list) -> bool:
    """scikit-learn lets ``True`` pass as the integer 1; a count or size must not be a bool."""
    return isinstance(value, (bool, np.bool_)) and not any(
        c in ("boolean", "verbose", bool) for c in constraints
    )


def _describe(constraints: list) -> str:
    """What a constraint list accepts, in words (``an integer >= 1``, ``one of 'a', 'b'``)."""
    words = []
    for c in constraints:
        c = make_constraint(c)
        if isinstance(c, Interval):
            bounds = []
            if c.left is not None:
                bounds.append((">= " if c.closed in ("left", "both") else "> ") + f"{c.left:g}")
            if c.right is not None:
                bounds.append(("<= " if c.closed in ("right", "both") else "< ") + f"{c.right:g}")
            kind = "an integer" if c.type is Integral else "a number (not NaN)"
            words.append(" ".join([kind, " and ".join(bounds)]).strip())
        elif isinstance(c, StrOptions):
            words.append("one of " + ", ".join(repr(o) for o in sorted(c.options)))
        elif type(c).__name__ == "_RandomStates":
            words.append("None, an integer >= 0, a numpy RandomState")
        elif isinstance(getattr(c, "type", None), type):
            words.append(f"a {c.type.__name__}")
        else:
            words.append(str(c))
    return " or ".join(words)


def _seed(random_state: Any, name: str = "random_state") -> int:
    """An integer seed; None draws it from NumPy's global generator (as scikit-learn's
    ``check_random_state(None)`` does), so ``np.random.seed`` makes fits repeatable."""
    if random_state is None:
        return int(np.random.randint(0, 2**31 - 1))  # noqa: NPY002 (the global one, on purpose)
    return check_random_state(random_state, name)


def _dirichlet_log_prior(prob: np.ndarray, prior: np.ndarray) -> float:
    weight = prior - 1.0
    mask = (weight != 0) & (prob > 0)
    return float(np.sum(weight[mask] * np.log(prob[mask])))


class BaseHMM(LatentModel):
    """Hidden Markov model with a pluggable emission distribution.

    The emission is an :class:`~latentmodels.hmm.Emission` named by the class
    attribute ``_emission_class``: it declares its learned parameters and computes the
    per-state log-likelihood, initialisation, sufficient statistics, the M-step and
    sampling. Everything else (EM, restarts, priors, decoding, sampling, streaming,
    persistence, distributed all-reduce) lives here and knows no particular emission.
    A subclass passes the shared hyper-parameters below to ``BaseHMM.__init__`` and adds
    its own; its ``_parameter_constraints`` extend this class's.

    Parameters
    ----------
    n_components : int, default 1
        Number of hidden states.
    startprob_prior, transmat_prior : float or array-like, default 1.0
        Dirichlet concentrations (scalar or array) for the start and transition
        probabilities; 1 means no prior (maximum likelihood).
    algorithm : {"viterbi", "map"}, default "viterbi"
        Best path, or most likely state per step, for :meth:`predict` and :meth:`decode`.
    random_state : None, int or numpy.random.Generator
        Seed for initialisation and sampling.
    n_iter : int, default 10
        EM stops after ``n_iter`` iterations ...
    tol : float, default 1e-2
        ... or when the objective gains less than ``tol`` (``-inf``: never early).
    verbose : bool, default False
        Print each iteration to stderr.
    params, init_params : str, default "st"
        Letters of the parameters that EM updates / that initialisation sets (``s``
        startprob, ``t`` transmat, and the emission's own letters).
    implementation : {"scaling", "log"}, default "scaling"
        Scaled forward-backward (fast; falls back to log space per sequence when needed)
        or log space throughout.
    n_init : int, default 1
        Number of initialisations; the run with the highest objective is kept.
    checkpoint_dir : str, path or None, default None
        Folder for checkpoints of :meth:`fit` (safetensors + JSON, written atomically, by
        rank 0 only under ``torch.distributed``); ``fit(X, lengths, resume=True)``
        continues from the last one (keyword-only).
    checkpoint_every : int or None, default None
        Write a checkpoint every this many EM iterations (``None``: every 10) and after the
        last one of each initialisation; needs ``checkpoint_dir`` (keyword-only).

    Attributes
    ----------
    startprob_ : numpy.ndarray of shape (n_components,)
    transmat_ : numpy.ndarray of shape (n_components, n_components)
    monitor_ : ConvergenceMonitor
        The EM objective per iteration.
    n_iter_ : int
        EM iterations run by the last fit.

    Examples
    --------
    >>> import numpy as np
    >>> from latentmodels.hmm import BaseHMM, PoissonHMM
    >>> issubclass(PoissonHMM, BaseHMM), PoissonHMM._emission_class.__name__
    (True, 'PoissonEmission')
    >>> hmm = PoissonHMM(2, n_iter=5, random_state=0).fit(np.array([[0], [1], [9], [8]]))
    >>> hmm.transmat_.shape
    (2, 2)
    """

    #: The emission type; subclasses set it (see :mod:`latentmodels.hmm.emissions`).
    _emission_class: ClassVar[type[Emission]]
    #: Declarative hyper-parameter checks (scikit-learn's ``_validate_params``); an emission
    #: estimator adds its own: ``{**BaseHMM._parameter_constraints, "n_mix": [...]}``.
    _parameter_constraints: ClassVar[dict[str, list]] = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "algorithm": [StrOptions({"viterbi", "map"})],
        "random_state": ["random_state", np.random.Generator],
        "n_iter": [Interval(Integral, 0, None, closed="left")],
        "tol": [Interval(Real, None, None, closed="both")],
        "verbose": ["verbose"],
        "params": [str],
        "init_params": [str],
        "implementation": [StrOptions({"scaling", "log"})],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "checkpoint_dir": [None, str, os.PathLike],
        "checkpoint_every": [None, Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        n_components: int = 1,
        startprob_prior: float | np.ndarray = 1.0,
        transmat_prior: float | np.ndarray = 1.0,
        algorithm: str = "viterbi",
        random_state: Any = None,
        n_iter: int = 10,
        tol: float = 1e-2,
        verbose: bool = False,
        params: str = "st",
        init_params: str = "st",
        implementation: str = "scaling",
        n_init: int = 1,
        *,
        checkpoint_dir: str | os.PathLike | None = None,
        checkpoint_every: int | None = None,
    ) -> None:
        self.n_components = n_components
        self.startprob_prior = startprob_prior
        self.transmat_prior = transmat_prior
        self.algorithm = algorithm
        self.random_state = random_state
        self.n_iter = n_iter
        self.tol = tol
        self.verbose = verbose
        self.params = params
        self.init_params = init_params
        self.implementation = implementation
        self.n_init = n_init
        self.checkpoint_dir = checkpoint_dir
        self.checkpoint_every = checkpoint_every
        # hmmlearn creates the monitor here, so that users can replace it before fit
        self.monitor_ = _own_monitor(tol, n_iter, verbose)

    def __sklearn_is_fitted__(self) -> bool:
        return self._is_fitted()

    def __sklearn_tags__(self) -> Any:
        """scikit-learn's tags, with the input tags the emission declares."""
        tags = super().__sklearn_tags__()
        emission_class = getattr(type(self), "_emission_class", None)
        if emission_class is not None:
            emission_class.declare_input_tags(tags.input_tags)
        return tags

    # ------------------------------------------------------------------- emission
    @property
    def _emission(self) -> Emission:
        """The emission object bound to this estimator (cheap; made on each access, so that
        it always reads the current hyper-parameters and learned arrays)."""
        emission_class = getattr(type(self), "_emission_class", None)
        if emission_class is None:
            raise TypeError(
                f"{type(self).__name__} names no emission: a BaseHMM subclass sets "
                "_emission_class to an Emission (see latentmodels.hmm.emissions); hmmlearn's "
                "_compute_log_likelihood hook is not used"
            )
        return emission_class(self)

    def _emission_names(self) -> tuple[str, ...]:
        return tuple(p.attribute for p in self._emission_class.parameters)

    # ------------------------------------------------------------------- validation
    def _validate_params(self) -> None:
        """Check the hyper-parameters against ``_parameter_constraints`` (scikit-learn's
        declarative validation), then the checks that depend on several of them.

        Errors name the argument first (``n_components must be an integer >= 1; got 2.5``)
        and are scikit-learn's ``InvalidParameterError``, a ``ValueError`` and a
        ``TypeError`` at once. Checking takes a few hundred microseconds, which streaming
        calls (:meth:`accumulate`, :meth:`partial_fit` on small batches) would pay every
        time, so values already checked (the same immutable objects) are not checked again.
        """
        names = (*self._parameter_constraints, "startprob_prior", "transmat_prior")
        current = tuple(self.__dict__.get(name, _UNSET) for name in names)
        checked = self.__dict__.get("_checked_params")
        if checked is not None and len(checked) == len(current) and all(
            a is b and not isinstance(a, (np.ndarray, list))  # arrays may change in place
            for a, b in zip(checked, current, strict=True)
        ):
            return
        values = self.get_params(deep=False)
        try:
            super()._validate_params()
            bad = next((n for n, c in self._parameter_constraints.items()
                        if n in values and _bool_as_number(values[n], c)), None)
        except InvalidParameterError:
            bad = next(n for n, c in self._parameter_constraints.items()
                       if n in values and not _satisfied(values[n], c))
        if bad is not None:
            raise InvalidParameterError(
                f"{bad} must be {_describe(self._parameter_constraints[bad])}; "
                f"got {values[bad]!r}"
            ) from None
        allowed = "st" + "".join(p.letter for p in self._emission_class.parameters)
        for name in ("params", "init_params"):
            bad_letters = sorted(set(getattr(self, name)) - set(allowed))
            if bad_letters:
                raise ValueError(
                    f"{name} contains unknown letters {''.join(bad_letters)!r}; "
                    f"allowed: {allowed!r}"
                )
        # transmat_ alone needs n_components**2 floats: refuse what cannot fit before numpy tries
        check_affordable(self.n_components, 8 * (self.n_components + 2), "n_components")
        self._prior_array(self.startprob_prior, "startprob_prior", (self.n_components,))
        self._prior_array(
            self.transmat_prior, "transmat_prior", (self.n_components, self.n_components)
        )
        for name, rule in self._emission.prior_rules().items():
            _check_prior(getattr(self, name), name, rule)
        self._checked_params = current

    @staticmethod
    def _prior_array(value: Any, name: str, shape: tuple[int, ...]) -> np.ndarray:
        try:
            arr = np.broadcast_to(np.asarray(value, dtype=np.float64), shape)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} must be a number or an array of shape {shape}") from exc
        if not np.all(np.isfinite(arr)) or np.any(arr < 0):
            raise ValueError(f"{name} must be finite and non-negative")
        return arr

    def _prepare(
        self, X: Any, lengths: Any = None, *, fitting: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """Validate ``X`` (one array with ``lengths``, or a list of arrays) and return the
        stacked observations and the sequence offsets."""
        sequences = _as_sequences(X)
        if sequences is not None:
            if lengths is not None:
                raise ValueError("lengths must be None when X is a list of sequences")
            parts = [self._emission.check_X(seq, f"X[{i}]") for i, seq in enumerate(sequences)]
            widths = {p.shape[1] for p in parts}
            if len(widths) > 1:
                raise ValueError(f"X: sequences have different numbers of features {widths}")
            data = np.concatenate(parts, axis=0)
            lens = np.array([len(p) for p in parts], dtype=np.int64)
        else:
            data = self._emission.check_X(X, "X")
            if _is_target_vector(lengths, len(data)):
                lengths = None  # scikit-learn's y, not sequence lengths: one sequence
            lens = (
                np.array([len(data)], dtype=np.int64)
                if lengths is None
                else _check_lengths(lengths, len(data))
            )
        offsets = np.zeros(len(lens) + 1, dtype=np.int64)
        np.cumsum(lens, out=offsets[1:])
        return data, offsets

    def _check_parameters(self) -> None:
        """Validate the (possibly hand-set) model parameters before use."""
        K = self.n_components
        for name, shape in (("startprob_", (K,)), ("transmat_", (K, K))):
            if not hasattr(self, name):
                raise ValueError(f"{name} is not set: fit the model or assign {name}")
            value = np.asarray(getattr(self, name), dtype=np.float64)
            if value.shape != shape:
                raise ValueError(f"{name} must have shape {shape}, got {value.shape}")
            if not np.all(np.isfinite(value)) or np.any(value < 0):
                raise ValueError(f"{name} must hold finite non-negative probabilities")
            sums = value.sum(axis=-1)
            if not np.allclose(sums, 1.0, rtol=0, atol=1e-6):
                what = "sum" if value.ndim == 1 else "rows sum"
                raise ValueError(f"{name} must sum to 1 along its last axis ({what}: {sums})")
            setattr(self, name, value)
        self._emission.check()
        for name, shape in self._emission.prior_shapes().items():
            value = getattr(self, name)
            if value is not None and not _broadcasts(value, shape):
                raise ValueError(f"{name} must be a number or broadcast to shape {shape}, got "
                                 f"shape {np.shape(value)}")

    def _needs_init(self, code: str, attribute: str) -> bool:
        return code in self.init_params or not hasattr(self, attribute)

    def _is_fitted(self) -> bool:
        names = ("startprob_", "transmat_", *self._emission_names())
        return all(hasattr(self, a) for a in names)

    # ---------------------------------------------------------------------- inference
    def _forward_backward(
        self, log_frame: np.ndarray, offsets: np.ndarray, X: np.ndarray, *, posteriors: bool
    ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """Per-sequence log-likelihoods, and optionally the state posteriors and summed
        expected transition counts. ``log_frame`` is overwritten (scaled likelihoods);
        sequences that underflow are redone in log space from ``X``."""
        n_seq = len(offsets) - 1
        K = self.n_components
        loglik = np.empty(n_seq)
        gamma = self._buffer("gamma", (len(log_frame), K)) if posteriors else None
        xi_sum = np.zeros((K, K)) if posteriors else None
        if self.implementation == "log":
            failed = np.arange(n_seq)
        else:
            work = len(log_frame) * K * K
            rowmax = np.empty(len(log_frame))
            _kernels.choose(_kernels.shift_rows, work)(log_frame, rowmax)
            frame = np.exp(log_frame, out=log_frame)
            plan = self._schedule(offsets)
            if posteriors:
                xi_blocks = np.empty((len(plan[1]) - 1, K, K))
                _blocks(_kernels.forward_backward_scaled, work)(
                    frame, offsets, *plan, *self._workspace(plan), self.startprob_,
                    self.transmat_, gamma, xi_blocks, loglik,
                )
                xi_sum = self.transmat_ * xi_blocks.sum(axis=0)
            else:
                _blocks(_kernels.forward_scaled, work)(
                    frame, offsets, *plan, *self._workspace(plan), self.startprob_,
                    self.transmat_, loglik,
                )
            loglik += np.add.reduceat(rowmax, offsets[:-1])
            failed = np.flatnonzero(~np.isfinite(loglik))
        if len(failed):
            xi_failed = self._forward_backward_log(X, log_frame, offsets, failed, loglik, gamma)
            if posteriors:
                xi_sum = xi_sum + xi_failed
        return loglik, gamma, xi_sum

    def _buffer(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """Workspace reused by every EM iteration of one fit (a fresh array otherwise)."""
        if not getattr(self, "_caching", False):
            return np.empty(shape)
        buffers = getattr(self, "_buffers", None)
        if buffers is None:
            buffers = self._buffers = {}
        buf = buffers.get(name)
        if buf is None or buf.shape != shape:
            buf = buffers[name] = np.empty(shape)
        return buf

    def _schedule(self, offsets: np.ndarray) -> tuple[np.ndarray, ...]:
        """:func:`_schedule` of ``offsets``, made once per fit (the sequences and numba's
        thread count stay; 0.2-0.5 ms of Python per EM iteration otherwise)."""
        if not getattr(self, "_caching", False):
            return _schedule(offsets)
        key = (id(offsets), len(offsets), numba.get_num_threads())
        cached = getattr(self, "_plan", None)
        if cached is None or cached[0] != key or cached[1] is not offsets:
            cached = self._plan = (key, offsets, _schedule(offsets))
        return cached[2]

    def _workspace(self, plan: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
        """The block kernels' workspace for a schedule (see :func:`_schedule`)."""
        steps = int(plan[3][-1])
        width = _kernels.padded(self.n_components) * _kernels.LANES
        return (self._buffer("work_F", (steps * _kernels.LANES,)),
                self._buffer("work_A", (steps * width,)),
                self._buffer("work_S", (steps * 2 * _kernels.LANES,)))

    def _forward_backward_symbols(
        self, symbols: tuple[np.ndarray, np.ndarray], offsets: np.ndarray, X: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Scaled forward-backward for table emissions (see :meth:`_symbol_table`): returns
        per-sequence log-likelihoods, posteriors and summed expected transition counts."""
        codes, table = symbols
        K = self.n_components
        N = len(codes)
        loglik = np.empty(len(offsets) - 1)
        gamma = self._buffer("gamma", (N, K))
        kernel = _blocks(_kernels.forward_backward_symbols, N * K * K)
        plan = self._schedule(offsets)
        xi_blocks = np.empty((len(plan[1]) - 1, K, K))
        kernel(codes, table, offsets, *plan, *self._workspace(plan), self.startprob_,
               self.transmat_, gamma, xi_blocks, loglik)
        xi_sum = self.transmat_ * xi_blocks.sum(axis=0)
        failed = np.flatnonzero(~np.isfinite(loglik))
        if len(failed):
            xi_sum = xi_sum + self._forward_backward_log(X, None, offsets, failed, loglik, gamma)
        return loglik, gamma, xi_sum

    def _forward_backward_log(self, X, log_frame, offsets, which, loglik, gamma):
        """Redo the sequences ``which`` in log space (underflow-proof); returns their
        summed expected transition counts."""
        lens = offsets[which + 1] - offsets[which]
        rows = np.concatenate([np.arange(offsets[s], offsets[s + 1]) for s in which])
        if self.implementation != "log" or log_frame is None:  # the scaled pass overwrote it
            log_frame = np.empty((len(X), self.n_components))
            log_frame[rows] = self._emission.log_likelihood(X[rows])
        sub_offsets = np.zeros(len(which) + 1, dtype=np.int64)
        np.cumsum(lens, out=sub_offsets[1:])
        K = self.n_components
        sub_gamma = np.empty((len(rows), K))
        sub_xi = np.empty((len(which), K, K))
        sub_ll = np.empty(len(which))
        with np.errstate(divide="ignore"):
            log_start = np.log(self.startprob_)
            log_trans = np.log(self.transmat_)
        _kernels.choose(_kernels.forward_backward_log, len(rows) * K * K * 20)(
            np.ascontiguousarray(log_frame[rows]), sub_offsets, log_start, log_trans,
            sub_gamma, sub_xi, sub_ll, gamma is not None,
        )
        loglik[which] = sub_ll
        if gamma is not None:
            gamma[rows] = sub_gamma
        return sub_xi.sum(axis=0)

    def _viterbi(self, X: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Best path and its log-probability per sequence (SIMD block kernel); table
        emissions read their log-likelihoods from the log table."""
        K = self.n_components
        with np.errstate(divide="ignore"):
            log_start = np.log(self.startprob_)
            log_trans = np.log(self.transmat_)
        path = np.empty(len(X), dtype=np.int64)
        logprob = np.empty(len(offsets) - 1)
        plan = _schedule(offsets)
        steps = int(plan[3][-1])
        work_F = np.empty(steps * _kernels.LANES)
        work_B = np.empty(steps * _kernels.padded(K) * _kernels.LANES, dtype=np.int16)
        symbols = self._emission.symbol_table(X)
        if K > np.iinfo(np.int16).max:  # past the SIMD kernel's int16 back-pointers
            _kernels.choose(_kernels.viterbi_reference, len(X) * K * K)(
                np.ascontiguousarray(self._emission.log_likelihood(X), dtype=np.float64),
                offsets, *plan[:3], log_start, log_trans, path, logprob,
                np.empty((len(X), K), dtype=np.int32))
        elif symbols is not None:
            codes, table = symbols
            with np.errstate(divide="ignore"):
                log_table = np.log(table)
            _blocks(_kernels.viterbi_symbols, len(X) * K * K)(
                codes, log_table, offsets, *plan, work_F, work_B, log_start, log_trans, path,
                logprob, _kernels.SIMD_VITERBI_FROM)
        else:
            log_frame = np.ascontiguousarray(self._emission.log_likelihood(X), dtype=np.float64)
            _blocks(_kernels.viterbi, len(X) * K * K)(
                log_frame, offsets, *plan, work_F, work_B, log_start, log_trans, path, logprob,
                _kernels.SIMD_VITERBI_FROM)
        return logprob, path

    def _ready(self, X: Any, lengths: Any) -> tuple[np.ndarray, np.ndarray]:
        if not self._is_fitted():
            check_is_fitted(self, "startprob_")
        self._check_parameters()
        data, offsets = self._prepare(X, lengths)
        self._emission.check_against_model(data)
        return data, offsets

    @_serial_blas
    def score_sequences(self, X: Any, lengths: Any = None) -> np.ndarray:
        """Forward log-likelihood of each sequence, shape (n_sequences,).

        The latentmodels contract's per-sample score (a sample being a sequence): anomaly
        detection, reports and model comparison use it. hmmlearn's name
        :meth:`score_samples` keeps hmmlearn's meaning, ``(log_prob, posteriors)``.

        Parameters
        ----------
        X : array-like or list of array-like
            Observations, sequences back to back (shape (n_samples, n_features)), or a list
            of arrays, one per sequence.
        lengths : array-like of int, optional
            Length of each sequence in ``X``; None means one sequence.

        Returns
        -------
        numpy.ndarray of shape (n_sequences,)

        Examples
        --------
        >>> import numpy as np
        >>> from latentmodels.hmm import GaussianHMM
        >>> X = np.r_[np.zeros((30, 1)), np.ones((30, 1))] + 0.1
        >>> hmm = GaussianHMM(2, random_state=0).fit(X, lengths=[30, 30])
        >>> hmm.score_sequences(X, lengths=[30, 30]).shape
        (2,)
        """
        data, offsets = self._ready(X, lengths)
        loglik, _, _ = self._forward_backward(
            self._emission.log_likelihood(data), offsets, data, posteriors=False
        )
        return loglik

    @_serial_blas
    def score_samples(self, X: Any, lengths: Any = None) -> tuple[float, np.ndarray]:
        """Total log-likelihood and state posteriors, as hmmlearn: ``(log_prob, posteriors)``.

        For one log-likelihood per sequence use :meth:`score_sequences`.

        Parameters
        ----------
        X : array-like or list of array-like
            Observations, sequences back to back (shape (n_samples, n_features)), or a list
            of arrays, one per sequence.
        lengths : array-like of int, optional
            Length of each sequence in ``X``; None means one sequence.

        Returns
        -------
        log_prob : float
            Log-likelihood of all of ``X`` (the sum over sequences).
        posteriors : numpy.ndarray of shape (n_samples, n_components)
            P(state at t | its whole sequence).

        Examples
        --------
        >>> import numpy as np
        >>> from latentmodels.hmm import PoissonHMM
        >>> hmm = PoissonHMM(2)
        >>> hmm.startprob_ = np.array([0.5, 0.5])
        >>> hmm.transmat_ = np.array([[0.9, 0.1], [0.1, 0.9]])
        >>> hmm.lambdas_ = np.array([[1.0], [10.0]])
        >>> log_prob, posteriors = hmm.score_samples(np.array([[0], [1], [12], [9]]))
        >>> round(log_prob, 2), posteriors.argmax(axis=1).tolist()
        (-9.64, [0, 0, 1, 1])
        """
        data, offsets = self._ready(X, lengths)
        loglik, gamma, _ = self._forward_backward(
            self._emission.log_likelihood(data), offsets, data, posteriors=True
        )
        return float(loglik.sum()), gamma

    def score(self, X: Any, lengths: Any = None) -> float:
        """Total forward log-likelihood of ``X`` (summed over sequences, as in hmmlearn).

        Parameters
        ----------
        X : array-like or list of array-like
            Observations, sequences back to back (shape (n_samples, n_features)), or a list
            of arrays, one per sequence.
        lengths : array-like of int, optional
            Length of each sequence in ``X``; None means one sequence.

        Returns
        -------
        float

        Examples
        --------
        >>> import numpy as np
        >>> from latentmodels.hmm import PoissonHMM
        >>> hmm = PoissonHMM(2)
        >>> hmm.startprob_ = np.array([0.5, 0.5])
        >>> hmm.transmat_ = np.array([[0.9, 0.1], [0.1, 0.9]])
        >>> hmm.lambdas_ = np.array([[1.0], [10.0]])
        >>> X = np.array([[0], [1], [12], [9]])
        >>> round(hmm.score(X), 2)
        -9.64
        """
        return float(np.sum(self.score_sequences(X, lengths)))

    @_serial_blas
    def predict_proba(self, X: Any, lengths: Any = None) -> np.ndarray:
        """State posteriors P(state at t | whole sequence).

        Parameters
        ----------
        X : array-like or list of array-like
            Observations, sequences back to back (shape (n_samples, n_features)), or a list
            of arrays, one per sequence.
        lengths : array-like of int, optional
            Length of each sequence in ``X``; None means one sequence.

        Returns
        -------
        numpy.ndarray of shape (n_samples, n_components)

        Examples
        --------
        >>> import numpy as np
        >>> from latentmodels.hmm import PoissonHMM
        >>> hmm = PoissonHMM(2)
        >>> hmm.startprob_ = np.array([0.5, 0.5])
        >>> hmm.transmat_ = np.array([[0.9, 0.1], [0.1, 0.9]])
        >>> hmm.lambdas_ = np.array([[1.0], [10.0]])
        >>> X = np.array([[0], [1], [12], [9]])
        >>> hmm.predict_proba(X).argmax(axis=1).tolist()
        [0, 0, 1, 1]
        """
        data, offsets = self._ready(X, lengths)
        _, gamma, _ = self._forward_backward(
            self._emission.log_likelihood(data), offsets, data, posteriors=True
        )
        return gamma

    def transform(self, X: Any, lengths: Any = None) -> np.ndarray:
        """State posteriors (the latent representation of each time step); see
        :meth:`predict_proba`.

        Examples
        --------
        >>> import numpy as np
        >>> from latentmodels.hmm import PoissonHMM
        >>> hmm = PoissonHMM(2)
        >>> hmm.startprob_ = np.array([0.5, 0.5])
        >>> hmm.transmat_ = np.array([[0.9, 0.1], [0.1, 0.9]])
        >>> hmm.lambdas_ = np.array([[1.0], [10.0]])
        >>> X = np.array([[0], [1], [12], [9]])
        >>> hmm.transform(X).shape
        (4, 2)
        """
        return self.predict_proba(X, lengths)

    def fit_transform(self, X: Any, lengths: Any = None, y: Any = None) -> np.ndarray:
        """Fit, then return the state posteriors of ``X``.

        Examples
        --------
        >>> import numpy as np
        >>> from latentmodels.hmm import PoissonHMM
        >>> X = np.array([[0], [1], [0], [12], [9], [11]])
        >>> PoissonHMM(2, n_iter=5, random_state=0).fit_transform(X).shape
        (6, 2)
        """
        return self.fit(X, lengths).transform(X, lengths)

    @_serial_blas
    def decode(
        self, X: Any, lengths: Any = None, algorithm: str | None = None
    ) -> tuple[float, np.ndarray]:
        """Most likely states: returns ``(log_prob, states)``.

        ``"viterbi"`` gives the best joint path and its log-probability; ``"map"`` the most
        likely state at each step and the sequence log-likelihood. Among equally likely
        Viterbi paths the one with the lowest last state is returned, then the lowest state
        before it, and so on back to the start (so a model whose paths all tie decodes to
        state 0 throughout).

        Parameters
        ----------
        X : array-like or list of array-like
            Observations, sequences back to back (shape (n_samples, n_features)), or a list
            of arrays, one per sequence.
        lengths : array-like of int, optional
            Length of each sequence in ``X``; None means one sequence.
        algorithm : {"viterbi", "map"}, optional
            Overrides the estimator's ``algorithm``.

        Returns
        -------
        log_prob : float
        states : numpy.ndarray of shape (n_samples,)

        Examples
        --------
        >>> import numpy as np
        >>> from latentmodels.hmm import CategoricalHMM
        >>> hmm = CategoricalHMM(2)
        >>> hmm.startprob_ = np.array([0.5, 0.5])
        >>> hmm.transmat_ = np.array([[0.9, 0.1], [0.1, 0.9]])
        >>> hmm.emissionprob_ = np.array([[0.9, 0.1], [0.2, 0.8]])
        >>> logprob, states = hmm.decode(np.array([[0], [0], [1], [1]]))
        >>> states.tolist()
        [0, 0, 1, 1]
        """
        algorithm = self.algorithm if algorithm is None else algorithm
        check_choice(algorithm, "algorithm", ("viterbi", "map"))
        data, offsets = self._ready(X, lengths)
        if algorithm == "viterbi":
            logprob, path = self._viterbi(data, offsets)
            return float(logprob.sum()), path
        loglik, gamma, _ = self._forward_backward(
            self._emission.log_likelihood(data), offsets, data, posteriors=True
        )
        return float(loglik.sum()), gamma.argmax(axis=1)

    def predict(self, X: Any, lengths: Any = None) -> np.ndarray:
        """Most likely state of each step (by ``algorithm``), shape (n_samples,).

        Examples
        --------
        >>> import numpy as np
        >>> from latentmodels.hmm import PoissonHMM
        >>> hmm = PoissonHMM(2)
        >>> hmm.startprob_ = np.array([0.5, 0.5])
        >>> hmm.transmat_ = np.array([[0.9, 0.1], [0.1, 0.9]])
        >>> hmm.lambdas_ = np.array([[1.0], [10.0]])
        >>> X = np.array([[0], [1], [12], [9]])
        >>> hmm.predict(X).tolist()
        [0, 0, 1, 1]
        """
        return self.decode(X, lengths)[1]

    def inverse_transform(self, Z: Any) -> np.ndarray:
        """Map state posteriors (n, n_components) or state ids (n,) to emission means.

        Parameters
        ----------
        Z : array-like or torch.Tensor
            Integer state ids, shape (n,), or posteriors, shape (n, n_components).

        Returns
        -------
        numpy.ndarray of shape (n, n_features)

        Examples
        --------
        >>> import numpy as np
        >>> from latentmodels.hmm import PoissonHMM
        >>> hmm = PoissonHMM(2)
        >>> hmm.startprob_ = np.array([0.5, 0.5])
        >>> hmm.transmat_ = np.array([[0.9, 0.1], [0.1, 0.9]])
        >>> hmm.lambdas_ = np.array([[1.0], [10.0]])
        >>> X = np.array([[0], [1], [12], [9]])
        >>> hmm.inverse_transform(np.array([1, 0])).ravel().tolist()
        [10.0, 1.0]
        >>> hmm.inverse_transform(np.array([[0.5, 0.5]])).ravel().tolist()
        [5.5]
        """
        check_is_fitted(self, "startprob_")
        if isinstance(Z, torch.Tensor):
            Z = Z.detach().cpu().numpy()
        Z = np.asarray(Z)
        means = self._emission.means()
        if Z.ndim == 1:
            if not np.issubdtype(Z.dtype, np.integer):
                raise TypeError("Z: 1-D input must hold integer state ids")
            if Z.size and (Z.min() < 0 or Z.max() >= self.n_components):
                raise ValueError(f"Z: state ids must lie in [0, {self.n_components - 1}]")
            return means[Z]
        if Z.ndim != 2 or Z.shape[1] != self.n_components:
            raise ValueError(
                f"Z must be state ids (n,) or posteriors (n, {self.n_components}), "
                f"got shape {Z.shape}"
            )
        # posteriors: numbers, real and finite, each refusal naming Z
        return check_data(Z, "Z", dtype=np.float64) @ means

    @_serial_blas
    def sample(
        self, n_samples: int = 1, random_state: Any = None, currstate: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Draw one sequence of ``n_samples`` steps; returns ``(X, states)``.

        Parameters
        ----------
        n_samples : int, default 1
            Number of steps.
        random_state : None, int or numpy.random.Generator, optional
            Overrides the estimator's ``random_state``.
        currstate : int, optional
            Fixes the first state instead of drawing it from ``startprob_``.

        Returns
        -------
        X : numpy.ndarray of shape (n_samples, n_features)
        states : numpy.ndarray of shape (n_samples,)

        Examples
        --------
        >>> import numpy as np
        >>> from latentmodels.hmm import PoissonHMM
        >>> hmm = PoissonHMM(2)
        >>> hmm.startprob_ = np.array([1.0, 0.0])
        >>> hmm.transmat_ = np.array([[0.9, 0.1], [0.1, 0.9]])
        >>> hmm.lambdas_ = np.array([[1.0], [20.0]])
        >>> X, states = hmm.sample(5, random_state=0)
        >>> X.shape, int(states[0])
        ((5, 1), 0)
        """
        n_samples = check_positive_int(n_samples, "n_samples")
        if not self._is_fitted():
            check_is_fitted(self, "startprob_")
        self._check_parameters()
        # a state index, a uniform draw and the emitted features (float64) per step
        features = int(getattr(self, "n_features_in_", None) or 1)
        check_affordable(n_samples, 8 * (features + 2), "n_samples")
        seed = _seed(self.random_state if random_state is None else random_state)
        rng = np.random.default_rng(seed)
        start = self.startprob_
        if currstate is not None:
            currstate = check_positive_int(currstate, "currstate", minimum=0)
            if currstate >= self.n_components:
                raise ValueError(f"currstate must be < n_components={self.n_components}")
            start = np.eye(self.n_components)[currstate]
        start_cdf = np.cumsum(start)
        trans_cdf = np.cumsum(self.transmat_, axis=1)
        states = _kernels.sample_states(start_cdf, trans_cdf, rng.random(n_samples))
        return self._emission.sample(states, rng), states

    # ----------------------------------------------------------------- model size
    def _n_parameters(self) -> int:
        K = self.n_components
        n = 0
        if "s" in self.params:
            n += K - 1
        if "t" in self.params:
            n += K * (K - 1)
        return n + self._emission.n_parameters()

    def aic(self, X: Any, lengths: Any = None) -> float:
        """Akaike information criterion, ``-2 log L + 2 p`` (lower is better); ``p`` counts
        the free parameters that EM learns (those named in ``params``).

        Examples
        --------
        >>> import numpy as np
        >>> from latentmodels.hmm import PoissonHMM
        >>> hmm = PoissonHMM(2)
        >>> hmm.startprob_ = np.array([0.5, 0.5])
        >>> hmm.transmat_ = np.array([[0.9, 0.1], [0.1, 0.9]])
        >>> hmm.lambdas_ = np.array([[1.0], [10.0]])
        >>> X = np.array([[0], [1], [12], [9]])
        >>> round(hmm.aic(X), 2)  # p = 1 + 2 + 2
        29.28
        """
        return -2.0 * self.score(X, lengths) + 2.0 * self._n_parameters()

    def bic(self, X: Any, lengths: Any = None) -> float:
        """Bayesian information criterion, ``-2 log L + p log n`` (lower is better), ``n``
        the number of observations.

        Examples
        --------
        >>> import numpy as np
        >>> from latentmodels.hmm import PoissonHMM
        >>> hmm = PoissonHMM(2)
        >>> hmm.startprob_ = np.array([0.5, 0.5])
        >>> hmm.transmat_ = np.array([[0.9, 0.1], [0.1, 0.9]])
        >>> hmm.lambdas_ = np.array([[1.0], [10.0]])
        >>> X = np.array([[0], [1], [12], [9]])
        >>> round(float(hmm.bic(X)), 2)
        26.21
        """
        data, _ = self._prepare(X, lengths)
        return -2.0 * self.score(X, lengths) + self._n_parameters() * np.log(len(data))

    def get_stationary_distribution(self) -> np.ndarray:
        """Stationary distribution of the state chain (left eigenvector of ``transmat_``).

        Examples
        --------
        >>> import numpy as np
        >>> from latentmodels.hmm import PoissonHMM
        >>> hmm = PoissonHMM(2)
        >>> hmm.transmat_ = np.array([[0.9, 0.1], [0.3, 0.7]])
        >>> hmm.get_stationary_distribution().round(2).tolist()
        [0.75, 0.25]
        """
        check_is_fitted(self, "transmat_")
        values, vectors = np.linalg.eig(self.transmat_.T)
        vec = np.real(vectors[:, np.argmin(np.abs(values - 1.0))])
        return vec / vec.sum()

    # ------------------------------------------------------------------------ EM
    def _new_stats(self) -> dict[str, np.ndarray]:
        K = self.n_components
        stats = {"start": np.zeros(K), "trans": np.zeros((K, K)), "loglik": np.zeros(1)}
        stats.update(self._emission.new_stats())
        return stats

    def _e_step(self, X: np.ndarray, offsets: np.ndarray, stats: dict[str, np.ndarray]) -> None:
        """Add this batch's expected sufficient statistics to ``stats``."""
        emission = self._emission
        symbols = emission.symbol_table(X) if self.implementation == "scaling" else None
        if symbols is not None:
            aux = None
            loglik, gamma, xi_sum = self._forward_backward_symbols(symbols, offsets, X)
        else:
            log_frame, aux = emission.log_likelihood_for_stats(X)
            loglik, gamma, xi_sum = self._forward_backward(log_frame, offsets, X,
                                                           posteriors=True)
        if not np.all(np.isfinite(loglik)):
            bad = int(np.flatnonzero(~np.isfinite(loglik))[0])
            raise ValueError(
                f"X: sequence {bad} has zero probability under the current parameters "
                "(a transition or emission it needs has probability 0)"
            )
        stats["loglik"] += loglik.sum()
        stats["start"] += gamma[offsets[:-1]].sum(axis=0)
        stats["trans"] += xi_sum
        emission.accumulate(stats, X, gamma, aux)

    def _m_step(self, stats: dict[str, np.ndarray]) -> None:
        K = self.n_components
        if "s" in self.params:
            prior = self._prior_array(self.startprob_prior, "startprob_prior", (K,))
            new = np.maximum(prior - 1.0 + stats["start"], 0.0)
            new = np.where(self.startprob_ == 0, 0.0, new)  # keep structural zeros
            if new.sum() > 0:
                self.startprob_ = new / new.sum()
        if "t" in self.params:
            prior = self._prior_array(self.transmat_prior, "transmat_prior", (K, K))
            new = np.maximum(prior - 1.0 + stats["trans"], 0.0)
            new = np.where(self.transmat_ == 0, 0.0, new)
            rows = new.sum(axis=1)
            seen = rows > 0
            # a state never left keeps its old row, so every row still sums to one
            transmat = self.transmat_.copy()
            transmat[seen] = new[seen] / rows[seen, None]
            self.transmat_ = transmat
        self._emission.m_step(stats)

    def _log_prior(self) -> float:
        K = self.n_components
        value = 0.0
        if "s" in self.params:
            value += _dirichlet_log_prior(
                self.startprob_, self._prior_array(self.startprob_prior, "startprob_prior", (K,))
            )
        if "t" in self.params:
            value += _dirichlet_log_prior(
                self.transmat_,
                self._prior_array(self.transmat_prior, "transmat_prior", (K, K)),
            )
        return value + self._emission.log_prior()

    def _learned_arrays(self) -> dict[str, np.ndarray]:
        names = ("startprob_", "transmat_", *self._emission_names())
        return {n: np.array(getattr(self, n), dtype=np.float64, copy=True) for n in names}

    def _restore_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        for name, value in arrays.items():
            setattr(self, name, np.array(value, copy=True))

    def _initialize(self, X: np.ndarray, offsets: np.ndarray, rng: np.random.Generator) -> None:
        K = self.n_components
        labels = None
        emission = self._emission
        if any(self._needs_init(p.letter, p.attribute) for p in emission.parameters):
            labels = emission.initialize(X, offsets, rng)
        needs_chain = self._needs_init("s", "startprob_") or self._needs_init("t", "transmat_")
        if labels is None and needs_chain:
            # emissions are given: guess states from them, frame by frame
            labels = self._emission.log_likelihood(X).argmax(axis=1)
        first = offsets[:-1]
        if self._needs_init("s", "startprob_"):
            counts = np.ones(K)
            if labels is not None:
                counts += np.bincount(labels[first], minlength=K)
            self.startprob_ = counts / counts.sum()
        if self._needs_init("t", "transmat_"):
            if labels is not None:
                inside = np.ones(len(X), dtype=bool)
                inside[offsets[1:] - 1] = False  # no transition out of a sequence's last step
                src = labels[:-1][inside[:-1]]
                dst = labels[1:][inside[:-1]]
                counts = np.bincount(src * K + dst, minlength=K * K).reshape(K, K) + 1.0
            else:
                counts = np.full((K, K), 1.0) + np.eye(K) * K
            self.transmat_ = counts / counts.sum(axis=1, keepdims=True)
        arrays = broadcast_arrays(self._learned_arrays())
        self._restore_arrays(arrays)

    @_serial_blas
    @_requested_threads
    def fit(self, X: Any, lengths: Any = None, *, resume: bool = False) -> BaseHMM:
        """Estimate the parameters with Baum-Welch EM; returns ``self``.

        Under ``torch.distributed`` each process passes its own sequences; the E-step
        statistics are summed over processes so that every process learns the same model.
        Hyper-parameters are checked first (``_parameter_constraints``). With
        ``checkpoint_dir`` set, checkpoints are written as EM runs; with ``verbose`` on, a
        fit that lasts more than about a second draws a progress bar on stderr.

        Parameters
        ----------
        X : array-like or list of array-like
            Observations, sequences back to back (shape (n_samples, n_features)), or a list
            of arrays, one per sequence.
        lengths : array-like of int, optional
            Length of each sequence in ``X``; None means one sequence.
        resume : bool, default False
            Continue from the last checkpoint in ``checkpoint_dir`` (start afresh if there
            is none): the parameters and ``monitor_`` end as those of an uninterrupted fit.
            A checkpoint made with other data or settings is refused (``ValueError``).

        Returns
        -------
        BaseHMM
            ``self``, fitted.

        Raises
        ------
        ValueError, TypeError
            A bad hyper-parameter or bad data; the message names it.

        Examples
        --------
        >>> import numpy as np, tempfile
        >>> from latentmodels.hmm import GaussianHMM
        >>> rng = np.random.default_rng(0)
        >>> X = np.r_[rng.normal(0, 1, (50, 2)), rng.normal(6, 1, (50, 2))]
        >>> hmm = GaussianHMM(n_components=2, n_iter=20, random_state=0).fit(X)
        >>> sorted(int(round(m)) for m in hmm.means_[:, 0])
        [0, 6]
        >>> folder = tempfile.mkdtemp()
        >>> a = GaussianHMM(2, n_iter=6, tol=-np.inf, random_state=0, checkpoint_dir=folder,
        ...                 checkpoint_every=2).fit(X)
        >>> b = GaussianHMM(2, n_iter=6, tol=-np.inf, random_state=0,
        ...                 checkpoint_dir=folder).fit(X, resume=True)
        >>> bool((a.means_ == b.means_).all()), b.monitor_.history == a.monitor_.history
        (True, True)
        """
        checkpoint_dir = self._check_checkpoint_options(resume)
        ensure_process_group("cpu")  # under torchrun, every rank joins before its E-step
        data, offsets = self._prepare(X, lengths, fitting=True)
        if self.n_components > len(data):
            raise ValueError(
                f"n_components={self.n_components} is larger than the number of observations "
                f"({len(data)})"
            )
        self._emission.set_n_features(data)
        seed = _seed(self.random_state)
        given = {
            n: getattr(self, n) for n in ("startprob_", "transmat_", *self._emission_names())
            if hasattr(self, n)
        }
        self._log_overwritten(given)
        monitor = self._fit_monitor()
        checkpoints = restored = None
        if checkpoint_dir is not None:
            checkpoints = _resume.FitCheckpoints(self, data, offsets, seed, given, monitor)
            restored = checkpoints.load() if resume else None
            seed = checkpoints.seed
        seeds = np.random.SeedSequence(seed).spawn(self.n_init)
        best: tuple[float, dict[str, np.ndarray], dict[str, Any]] | None = None
        first_run = 0
        if restored is not None:
            first_run = restored.run
            if restored.best is not None:
                objective, arrays, history, iterations = restored.best
                best = (objective, arrays, {**vars(monitor), "history": history,
                                            "iter": iterations})
        with self._fit_progress(first_run * self.n_iter) as progress:
            for run in range(first_run, self.n_init):
                self._restore_arrays(given)
                for name in ("startprob_", "transmat_", *self._emission_names()):
                    if name not in given and hasattr(self, name):
                        delattr(self, name)
                self._initialize(data, offsets, np.random.default_rng(seeds[run]))
                self._check_parameters()
                self._emission.check_against_model(data)
                first, done = 0, False
                if restored is not None and run == restored.run:
                    checkpoints.apply(restored, monitor)
                    if restored.best is not None:  # checked against the model's shapes now
                        best = (best[0], restored.best[1], best[2])
                    first, done = restored.iterations, restored.done
                    progress.update(run * self.n_iter + first)

                def after(iteration: int, last: bool, run: int = run, best=best) -> None:
                    progress.update(run * self.n_iter + iteration + 1,
                                    f"objective {monitor.history[-1]:.6g}")
                    if checkpoints is not None:
                        checkpoints.save(run, iteration, last, monitor, best)

                if not done:
                    self._caching = True  # emissions may keep per-fit precomputations of data
                    try:
                        self._run_em(lambda stats: self._e_step(data, offsets, stats), monitor,
                                     first=first, after=after)
                    finally:
                        self._caching = False
                        self._fit_cache = None
                        self._buffers = None
                        self._plan = None
                progress.update((run + 1) * self.n_iter)
                final = monitor.history[-1] if monitor.history else -np.inf
                if best is None or final > best[0]:
                    best = (final, self._learned_arrays(), dict(vars(monitor)))
        self._restore_arrays(best[1])
        vars(monitor).update(best[2])
        self.n_iter_ = monitor.iter
        return self

    def _check_checkpoint_options(self, resume: Any) -> str | os.PathLike | None:
        """Validate the hyper-parameters and ``resume``; returns ``checkpoint_dir``."""
        if not isinstance(resume, (bool, np.bool_)):
            raise TypeError(f"resume must be True or False, got {resume!r}")
        self._validate_params()
        checkpoint_dir = getattr(self, "checkpoint_dir", None)
        if getattr(self, "checkpoint_every", None) is not None and checkpoint_dir is None:
            raise ValueError("checkpoint_every needs checkpoint_dir (where to write)")
        if resume and checkpoint_dir is None:
            raise ValueError("resume: resume=True needs checkpoint_dir to be set")
        if checkpoint_dir is not None and os.path.exists(checkpoint_dir) \
                and not os.path.isdir(checkpoint_dir):
            raise ValueError(f"checkpoint_dir: {os.fspath(checkpoint_dir)} exists and is not a "
                             "folder; pass a folder (it is created if missing)")
        return checkpoint_dir

    def _fit_progress(self, start: int) -> FitProgress:
        """The progress bar of a fit: ``n_iter`` steps per initialisation, drawn by rank 0
        when ``verbose`` is on and the fit lasts (see :mod:`latentmodels._internal.progress`)."""
        label = "EM iterations" if self.n_init == 1 else f"EM iterations ({self.n_init} inits)"
        return FitProgress(
            bool(self.verbose) and distributed_info()[0] == 0, self.n_init * self.n_iter,
            label, title=type(self).__name__, start=start,
        )

    def _fit_monitor(self) -> ConvergenceMonitor:
        """``monitor_``, made now if missing; the model's own one follows the current
        ``tol``/``n_iter``/``verbose`` (set_params after construction), a user's is kept."""
        monitor = self.__dict__.get("monitor_")
        if monitor is None or getattr(monitor, "_from_hyperparameters", False):
            monitor = self.monitor_ = _own_monitor(self.tol, self.n_iter, self.verbose)
        return monitor

    def _log_overwritten(self, given: dict[str, Any]) -> None:
        """Say (on the ``latentmodels.hmm`` logger, as hmmlearn does) which parameters set
        by hand initialisation will replace because their letter is in ``init_params``."""
        declared = {"startprob_": ("s", "startprob_"), "transmat_": ("t", "transmat_")}
        declared.update({p.attribute: (p.letter, p.public)
                         for p in self._emission_class.parameters})
        replaced = [declared[name][1] for name in given
                    if name in declared and declared[name][0] in self.init_params]
        if replaced:
            _log.warning(
                "%s: %s set before fit will be overwritten by initialisation because "
                "init_params=%r contains their letters; remove those letters to keep them",
                type(self).__name__, ", ".join(replaced), self.init_params,
            )

    def _run_em(
        self, accumulate: Callable[[dict[str, np.ndarray]], None], monitor: ConvergenceMonitor,
        *, first: int = 0, after: Callable[[int, bool], None] | None = None,
    ) -> ConvergenceMonitor:
        """EM until ``monitor`` says converged or ``n_iter`` iterations have run. Running out
        of iterations is silent, as in hmmlearn; the monitor records it (``converged`` False,
        ``reached_n_iter`` True).

        ``first`` iterations are already done (a resumed fit: ``monitor`` holds their
        history); ``after(iteration, last)`` runs after each M-step (checkpoints, progress).
        """
        if first == 0:
            monitor._reset()
        tuner = _ThreadTuner()
        for iteration in range(first, self.n_iter):
            stats = self._new_stats()
            with tuner.iteration():
                accumulate(stats)
            stats = allreduce_arrays(stats)
            monitor.report(float(stats["loglik"][0]) + self._log_prior())
            self._m_step(stats)
            self._check_finite()
            converged = monitor.converged
            if after is not None:
                after(iteration, converged or iteration == self.n_iter - 1)
            if converged:
                break
        return monitor

    def _check_finite(self) -> None:
        for name, value in self._learned_arrays().items():
            if not np.all(np.isfinite(value)):
                raise FloatingPointError(
                    f"{type(self).__name__}: {name} became non-finite during EM; "
                    f"{self._emission.nonfinite_hint}"
                )

    # --------------------------------------------------------------- streaming
    @_serial_blas
    def accumulate(self, X: Any, lengths: Any = None) -> float:
        """E-step on one batch: add its expected statistics to the pending sums.

        The first call initialises the parameters from this batch if the model has none.
        Call :meth:`m_step` after the last batch of a pass.

        Parameters
        ----------
        X : array-like or list of array-like
            Observations, sequences back to back (shape (n_samples, n_features)), or a list
            of arrays, one per sequence.
        lengths : array-like of int, optional
            Length of each sequence in ``X``; None means one sequence.

        Returns
        -------
        float
            The batch's log-likelihood under the current parameters.

        Examples
        --------
        >>> import numpy as np
        >>> from latentmodels.hmm import PoissonHMM
        >>> hmm = PoissonHMM(2)
        >>> hmm.startprob_ = np.array([0.5, 0.5])
        >>> hmm.transmat_ = np.array([[0.9, 0.1], [0.1, 0.9]])
        >>> hmm.lambdas_ = np.array([[1.0], [10.0]])
        >>> X = np.array([[0], [1], [12], [9]])
        >>> round(hmm.accumulate(X), 2)
        -9.64
        >>> round(hmm.m_step(), 2)
        -9.64
        """
        self._validate_params()
        ensure_process_group("cpu")  # under torchrun, every rank joins before its E-step
        data, offsets = self._prepare(X, lengths, fitting=True)
        if not self._is_fitted():
            if self.n_components > len(data):
                raise ValueError(
                    f"n_components={self.n_components} is larger than the number of "
                    f"observations in the first batch ({len(data)})"
                )
            self._emission.set_n_features(data)
            seed = _seed(self.random_state)
            self._initialize(data, offsets, np.random.default_rng(seed))
        self._check_parameters()
        self._emission.check_against_model(data)
        if getattr(self, "_pending_stats", None) is None:
            self._pending_stats = self._new_stats()
        before = float(self._pending_stats["loglik"][0])
        self._e_step(data, offsets, self._pending_stats)
        return float(self._pending_stats["loglik"][0]) - before

    @_serial_blas
    def m_step(self) -> float:
        """M-step from the statistics gathered by :meth:`accumulate` (summed over
        ``torch.distributed`` processes when initialised), then clear the sums.

        Returns
        -------
        float
            The objective of the pass: log-likelihood of all batches plus log-prior.

        Examples
        --------
        >>> import numpy as np
        >>> from latentmodels.hmm import PoissonHMM
        >>> hmm = PoissonHMM(2)
        >>> hmm.startprob_ = np.array([0.5, 0.5])
        >>> hmm.transmat_ = np.array([[0.9, 0.1], [0.1, 0.9]])
        >>> hmm.lambdas_ = np.array([[1.0], [10.0]])
        >>> X = np.array([[0], [1], [12], [9]])
        >>> _ = hmm.accumulate(X[:2]); _ = hmm.accumulate(X[2:])
        >>> objective = hmm.m_step()
        >>> hmm.lambdas_.round(1).ravel().tolist()
        [0.5, 10.5]
        """
        stats = getattr(self, "_pending_stats", None)
        if stats is None:
            raise ValueError("m_step: no statistics gathered; call accumulate(X) first")
        stats = allreduce_arrays(stats)
        objective = float(stats["loglik"][0]) + self._log_prior()
        self._m_step(stats)
        self._check_finite()
        self._pending_stats = None
        if self.__dict__.get("monitor_") is None:
            self.monitor_ = _own_monitor(self.tol, self.n_iter, self.verbose)
        self.monitor_.report(objective)
        return objective

    def partial_fit(self, X: Any, lengths: Any = None) -> BaseHMM:
        """One EM step on this batch (E-step then M-step); initialises on the first call.

        For exact full-data EM over batches that do not fit in memory, use
        :meth:`fit_batches` (or :meth:`accumulate` per batch, then :meth:`m_step`). To
        survive a kill, save after each call and, on restart, load and continue: the model
        ends identical to one never reloaded.

        Parameters
        ----------
        X : array-like or list of array-like
            Observations, sequences back to back (shape (n_samples, n_features)), or a list
            of arrays, one per sequence.
        lengths : array-like of int, optional
            Length of each sequence in ``X``; None means one sequence.

        Returns
        -------
        BaseHMM
            ``self``.

        Examples
        --------
        >>> import numpy as np
        >>> from latentmodels.hmm import PoissonHMM
        >>> hmm = PoissonHMM(2)
        >>> hmm.startprob_ = np.array([0.5, 0.5])
        >>> hmm.transmat_ = np.array([[0.9, 0.1], [0.1, 0.9]])
        >>> hmm.lambdas_ = np.array([[1.0], [10.0]])
        >>> X = np.array([[0], [1], [12], [9]])
        >>> len(hmm.partial_fit(X).partial_fit(X).monitor_.history)
        2
        """
        self.accumulate(X, lengths)
        self.m_step()
        return self

    @_serial_blas
    def fit_batches(
        self, batches: Iterable | Callable[[], Iterable], *, resume: bool = False
    ) -> BaseHMM:
        """Baum-Welch over data streamed in batches: each EM iteration makes one pass.

        Memory holds one batch at a time, yet the result equals :meth:`fit` on all data
        (given the same initial parameters; initialisation uses the first batch). With
        ``checkpoint_dir`` set it checkpoints as :meth:`fit` does; the checkpoint's data
        digest covers the first batch only (the others are not read twice).

        Parameters
        ----------
        batches : iterable or callable
            A re-iterable (a list, or an object whose ``__iter__`` restarts) or a function
            returning a fresh iterator; each item is ``X`` or ``(X, lengths)``.
        resume : bool, default=False
            Continue from the last checkpoint in ``checkpoint_dir`` (start afresh if there
            is none); the result is exactly that of an uninterrupted run.

        Returns
        -------
        BaseHMM
            ``self``, fitted.

        Examples
        --------
        >>> import numpy as np
        >>> from latentmodels.hmm import GaussianHMM
        >>> rng = np.random.default_rng(0)
        >>> chunks = [rng.normal(size=(40, 2)) for _ in range(3)]
        >>> hmm = GaussianHMM(2, n_iter=3, tol=-np.inf, random_state=0)
        >>> hmm = hmm.fit_batches(chunks)
        >>> len(hmm.monitor_.history)
        3
        """
        checkpoint_dir = self._check_checkpoint_options(resume)
        ensure_process_group("cpu")  # under torchrun, every rank joins before its E-step

        def items():
            source = batches() if callable(batches) else batches
            for item in source:
                yield item if isinstance(item, tuple) else (item, None)

        monitor = self._fit_monitor()
        checkpoints = restored = None
        if not self._is_fitted() or self.init_params or checkpoint_dir is not None:
            first_X, first_lengths = next(iter(items()))
            data, offsets = self._prepare(first_X, first_lengths, fitting=True)
            if self.n_components > len(data):
                raise ValueError(
                    f"n_components={self.n_components} is larger than the number of "
                    f"observations in the first batch ({len(data)})"
                )
            self._emission.set_n_features(data)
            seed = _seed(self.random_state)
            if checkpoint_dir is not None:
                given = {
                    n: getattr(self, n)
                    for n in ("startprob_", "transmat_", *self._emission_names())
                    if hasattr(self, n)
                }
                checkpoints = _resume.FitCheckpoints(self, data, offsets, seed, given, monitor)
                restored = checkpoints.load() if resume else None
                seed = checkpoints.seed
            if not self._is_fitted() or self.init_params:
                self._initialize(data, offsets, np.random.default_rng(seed))
        self._check_parameters()
        first, done = 0, False
        if restored is not None:
            checkpoints.apply(restored, monitor)
            first, done = restored.iterations, restored.done

        def accumulate(stats):
            for batch_X, batch_lengths in items():
                data, offsets = self._prepare(batch_X, batch_lengths)
                self._emission.check_against_model(data)
                self._e_step(data, offsets, stats)

        def after(iteration: int, last: bool) -> None:
            progress.update(iteration + 1, f"objective {monitor.history[-1]:.6g}")
            if checkpoints is not None:
                checkpoints.save(0, iteration, last, monitor, None)

        with self._fit_progress(first) as progress:
            if not done:
                self._run_em(accumulate, monitor, first=first, after=after)
        self.n_iter_ = self.monitor_.iter
        return self

    # ------------------------------------------------------------------ persistence
    def _get_state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        tensors = {n: torch.from_numpy(v) for n, v in self._learned_arrays().items()}
        attributes: dict[str, Any] = {
            "n_features_": int(getattr(self, "n_features_", 0)),
            "history": list(getattr(getattr(self, "monitor_", None), "history", [])),
        }
        attributes.update(self._emission.saved_attributes())
        return tensors, attributes

    def _set_state(self, tensors: dict[str, torch.Tensor], attributes: dict[str, Any]) -> None:
        _file.restore(self, tensors, attributes)  # every array and count checked
        self.n_features_ = int(attributes.get("n_features_", 0))
        self._emission.load_attributes(attributes)
        monitor = _own_monitor(self.tol, self.n_iter, self.verbose)
        monitor.history = [float(v) for v in attributes.get("history", [])]
        monitor.iter = len(monitor.history)
        self.monitor_ = monitor
