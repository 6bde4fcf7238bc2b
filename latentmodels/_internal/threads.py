"""Thread policy: how many CPU threads torch, numba and BLAS use, and how they wait.

Two threads beat one on a quiet 2-core machine, while on a machine whose cores are taken
by other processes one thread wins by far: a parallel region waits for its slowest worker,
and a worker that spins while its sibling is descheduled burns the core it needs. So:

* worker threads sleep when idle (``OMP_WAIT_POLICY=PASSIVE``, ``KMP_BLOCKTIME=0``), set by
  :func:`prefer_passive_waiting` when ``latentmodels`` is imported, before torch and numba
  start their OpenMP runtime (a value the user set is kept);
* ``n_jobs=None`` (automatic) starts from the cores actually free (:func:`free_cores`:
  idle time in ``/proc/stat`` over a short window) and, during a long fit,
  :class:`ThreadSwitcher` times the steps at two thread counts and keeps the faster,
  re-trying the other every few seconds since the load changes;
* an explicit ``n_jobs`` (or the CLI's ``--threads``) is used as given;
* :func:`thread_limit` sets torch, numba and BLAS together and always puts back what the
  user had, also after an exception.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import numbers
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence

#: Environment settings that make idle OpenMP workers sleep instead of spin (GNU, LLVM and
#: Intel runtimes). Measured on 2 cores with 2 busy loops beside: a VAE fit at 2 threads
#: took 130 s with spinning workers, 6.5 s with sleeping ones (BENCHMARKS.md).
PASSIVE_WAITING = {"OMP_WAIT_POLICY": "PASSIVE", "KMP_BLOCKTIME": "0"}

# A probing step this much slower than the best count's (as well as hopeless_factor times)
# ends the probe at once; below it, a single slow step is as likely a hiccup.
_HOPELESS_EXTRA_S = 0.010
# The wait between probes doubles per lost probe, up to 2**this times reprobe_seconds.
_MAX_REPROBE_DOUBLINGS = 3

# The thread count an enclosing block asked for (the CLI's --threads): None = automatic.
_REQUESTED: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "latentmodels_threads", default=None)


def prefer_passive_waiting(environ: dict | None = None) -> bool:
    """Ask OpenMP workers to sleep when idle, unless the user chose otherwise.

    Takes effect only for runtimes not loaded yet, hence called on ``import latentmodels``.
    Returns whether the OpenMP runtimes will see it (torch and numba not imported before).

    Examples
    --------
    >>> env = {"OMP_WAIT_POLICY": "ACTIVE"}
    >>> _ = prefer_passive_waiting(env)
    >>> env["OMP_WAIT_POLICY"], env["KMP_BLOCKTIME"]
    ('ACTIVE', '0')
    """
    environ = os.environ if environ is None else environ
    for name, value in PASSIVE_WAITING.items():
        environ.setdefault(name, value)
    return "torch" not in sys.modules and "numba" not in sys.modules


def available_cores() -> int:
    """Cores this process may run on (its affinity mask; the machine's count elsewhere).

    Examples
    --------
    >>> available_cores() >= 1
    True
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def _cpu_times() -> tuple[float, float] | None:
    """(idle, total) jiffies of all cores from /proc/stat, or None where there is none."""
    try:
        with open("/proc/stat", encoding="ascii") as handle:
            fields = handle.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu":
        return None
    values = [float(v) for v in fields[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0.0)  # idle + iowait
    return idle, sum(values[:8])  # guest time is already counted in user


# (monotonic time, free cores) of the last measurement: fits in a loop (a grid search, the
# test suite) measure once a second at most, not 50 ms per fit
_LAST_MEASURED: list[tuple[float, float | None]] = []
_REMEASURE_AFTER_S = 1.0


def free_cores(window: float = 0.05,
               sample: Callable[[], tuple[float, float] | None] = _cpu_times) -> float | None:
    """How many cores stood idle over ``window`` seconds (this process sleeps meanwhile).

    Falls back to the cores minus the 1-minute load average where ``/proc/stat`` is
    missing; None when neither can be read. With the default ``sample``, a measurement
    less than a second old is reused.

    Examples
    --------
    Two readings of (idle, total) time, 50 of 200 idle:

    >>> readings = iter([(100.0, 1000.0), (150.0, 1200.0)])
    >>> free_cores(0.0, lambda: next(readings)) == 0.25 * os.cpu_count()
    True
    """
    cached = sample is _cpu_times
    if cached and _LAST_MEASURED and \
            time.monotonic() - _LAST_MEASURED[0][0] < _REMEASURE_AFTER_S:
        return _LAST_MEASURED[0][1]
    free = _measure_free_cores(window, sample)
    if cached:
        _LAST_MEASURED[:] = [(time.monotonic(), free)]
    return free


def _measure_free_cores(window: float,
                        sample: Callable[[], tuple[float, float] | None]) -> float | None:
    before = sample()
    if before is not None:
        time.sleep(window)
        after = sample()
        if after is not None and after[1] > before[1]:
            idle_share = (after[0] - before[0]) / (after[1] - before[1])
            return max(0.0, min(1.0, idle_share)) * (os.cpu_count() or 1)
    try:
        return max(0.0, (os.cpu_count() or 1) - os.getloadavg()[0])
    except (OSError, AttributeError):
        return None


def check_n_jobs(n_jobs: object, name: str = "n_jobs") -> int | None:
    """``n_jobs`` as an int (None, a positive count, or -1 for every core), else ValueError.

    Examples
    --------
    >>> check_n_jobs(None), check_n_jobs(3)
    (None, 3)
    >>> check_n_jobs(0)
    Traceback (most recent call last):
    ...
    ValueError: n_jobs must be a positive number of threads, -1 or None, got 0
    """
    if n_jobs is None:
        return None
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral):
        raise TypeError(f"{name} must be an int or None, got {type(n_jobs).__name__}")
    if n_jobs == -1:
        return available_cores()
    if n_jobs < 1:
        raise ValueError(f"{name} must be a positive number of threads, -1 or None, "
                         f"got {n_jobs}")
    return int(n_jobs)


def choose_threads(n_jobs: int | None = None, *, free: float | None = None,
                   available: int | None = None) -> int:
    """Thread count for a fit: ``n_jobs`` when given, else one per core that is free.

    Parameters
    ----------
    n_jobs : int or None
        An explicit count (-1: every core) is returned as is. None: automatic, which uses
        the count an enclosing :func:`requested_threads` block set (the CLI's ``--threads``)
        or, without one, the free cores.
    free : float or None
        Idle cores; measured with :func:`free_cores` when None.
    available : int or None
        Cores this process may use; :func:`available_cores` when None.

    Returns
    -------
    int
        At least 1, and at most ``available`` in the automatic case.

    Examples
    --------
    >>> choose_threads(None, free=0.3, available=2), choose_threads(None, free=1.9, available=2)
    (1, 2)
    >>> choose_threads(3, free=0.0, available=2)
    3
    """
    explicit = check_n_jobs(n_jobs)
    if explicit is None:
        explicit = _REQUESTED.get()
    if explicit is not None:
        return explicit
    available = available_cores() if available is None else available
    free = free_cores() if free is None else free
    if free is None:
        return available
    # a core counts as free when it is idle most of the time; always keep one thread
    return max(1, min(available, math.floor(free + 0.3)))


@contextlib.contextmanager
def requested_threads(threads: int | None) -> Iterator[None]:
    """Within the block, automatic thread choices use ``threads`` (the CLI's ``--threads``).

    Examples
    --------
    >>> with requested_threads(1):
    ...     choose_threads(None, free=2.0, available=2)
    1
    """
    token = _REQUESTED.set(check_n_jobs(threads, "threads"))
    try:
        yield
    finally:
        _REQUESTED.reset(token)


def explicit_threads(n_jobs: int | None = None) -> int | None:
    """``n_jobs``, else the count of an enclosing :func:`requested_threads`; None = automatic.

    Examples
    --------
    >>> explicit_threads(None) is None, explicit_threads(2)
    (True, 2)
    >>> with requested_threads(1):
    ...     explicit_threads(None)
    1
    """
    explicit = check_n_jobs(n_jobs)
    return _REQUESTED.get() if explicit is None else explicit


def set_torch_threads(n: int) -> None:
    """Use ``n`` torch threads, if torch is imported.

    Examples
    --------
    >>> import torch
    >>> with restored_threads():
    ...     set_torch_threads(1)
    ...     torch.get_num_threads()
    1
    """
    torch = sys.modules.get("torch")
    if torch is not None and torch.get_num_threads() != n:
        torch.set_num_threads(n)


def set_numba_threads(n: int) -> None:
    """Use ``n`` numba threads (at most numba's pool size), if numba is imported.

    Examples
    --------
    >>> import numba
    >>> with restored_threads():
    ...     set_numba_threads(1)
    ...     numba.get_num_threads()
    1
    """
    numba = sys.modules.get("numba")
    if numba is not None:
        n = max(1, min(n, numba.config.NUMBA_NUM_THREADS))
        if numba.get_num_threads() != n:
            numba.set_num_threads(n)


def set_threads(n: int) -> None:
    """Use ``n`` threads in torch and numba from now on (whichever are imported).

    Examples
    --------
    >>> import torch
    >>> with restored_threads():
    ...     set_threads(1)
    ...     torch.get_num_threads()
    1
    """
    set_torch_threads(n)
    set_numba_threads(n)


@contextlib.contextmanager
def restored_threads() -> Iterator[None]:
    """Put back torch's and numba's thread counts, as they were, when the block ends.

    Examples
    --------
    >>> import torch
    >>> before = torch.get_num_threads()
    >>> with restored_threads():
    ...     torch.set_num_threads(1)
    >>> torch.get_num_threads() == before
    True
    """
    torch = sys.modules.get("torch")
    numba = sys.modules.get("numba")
    saved_torch = torch.get_num_threads() if torch is not None else None
    saved_numba = numba.get_num_threads() if numba is not None else None
    try:
        yield
    finally:
        if saved_torch is not None and torch.get_num_threads() != saved_torch:
            torch.set_num_threads(saved_torch)
        if saved_numba is not None and numba.get_num_threads() != saved_numba:
            numba.set_num_threads(saved_numba)


@contextlib.contextmanager
def thread_limit(n: int, *, blas: bool = True) -> Iterator[int]:
    """Run the block with ``n`` threads in torch, numba and (with threadpoolctl) BLAS.

    The counts in force before are restored when the block ends, however it ends.

    Examples
    --------
    >>> import torch
    >>> before = torch.get_num_threads()
    >>> with thread_limit(1):
    ...     torch.get_num_threads()
    1
    >>> torch.get_num_threads() == before
    True
    """
    with contextlib.ExitStack() as stack:
        stack.enter_context(restored_threads())
        if blas:
            with contextlib.suppress(ImportError):
                from threadpoolctl import threadpool_limits

                stack.enter_context(threadpool_limits(limits=n, user_api="blas"))
        set_threads(n)
        yield n


class ThreadSwitcher:
    """Times the steps of a fit at two thread counts and keeps the faster.

    Steps run in windows (at least ``window_steps`` steps and ``window_seconds`` seconds).
    The first window at each count is spent probing; then the faster count runs, and every
    ``reprobe_seconds`` one window re-times the other, since other processes come and go.
    The first step, and ``settle_steps`` steps after every change, are not timed (compiled
    code loads, new worker threads start). A probe at a count that runs at less than half
    the speed of another ends after 3 steps, and at once when a single step (a settling one
    too) takes ``hopeless_factor`` times the other's step and 10 ms more: with OpenMP workers
    that spin on taken cores one such step can cost 30 steps of the other count. Each probe
    that loses doubles the wait before the next (up to 8 ``reprobe_seconds``); one that wins
    resets it.

    Parameters
    ----------
    counts : sequence of int
        The thread counts to choose between, the first one used first.
    apply : callable
        Called with a count to put it in force (default: :func:`set_threads`).
    clock : callable
        Seconds, monotonic (default: :func:`time.perf_counter`); tests pass a fake one.
    window_steps, window_seconds, reprobe_seconds, settle_steps, hopeless_factor : int, \
float, float, int, float
        See above.

    Examples
    --------
    A fake step that takes 3 s at 1 thread and 1 s at 2 threads:

    >>> now = [0.0]
    >>> switcher = ThreadSwitcher((1, 2), apply=lambda n: None, clock=lambda: now[0],
    ...                           window_steps=2, window_seconds=0, reprobe_seconds=100)
    >>> for _ in range(20):
    ...     with switcher.step():
    ...         now[0] += {1: 3.0, 2: 1.0}[switcher.current]
    >>> switcher.best, switcher.current
    (2, 2)
    """

    def __init__(self, counts: Sequence[int], *, apply: Callable[[int], None] = set_threads,
                 clock: Callable[[], float] = time.perf_counter, window_steps: int = 20,
                 window_seconds: float = 0.25, reprobe_seconds: float = 5.0,
                 settle_steps: int = 1, hopeless_factor: float = 8.0) -> None:
        self.counts = list(dict.fromkeys(int(c) for c in counts))
        if not self.counts or min(self.counts) < 1:
            raise ValueError(f"counts must be positive thread counts, got {list(counts)}")
        self.apply = apply
        self.clock = clock
        self.window_steps = window_steps
        self.window_seconds = window_seconds
        self.reprobe_seconds = reprobe_seconds
        self.settle_steps = settle_steps
        self.hopeless_factor = hopeless_factor
        self.seconds_per_step: dict[int, float] = {}
        self.lost_probes = 0  # probes lost in a row: each doubles the wait before the next
        self._probing = False
        self.current = self.counts[0]
        self.switches = 0
        self._skip = 1  # the first step also pays for warming up
        self._window_steps = 0
        self._window_time = 0.0
        self._last_probe = clock()
        self.apply(self.current)

    @property
    def active(self) -> bool:
        """Whether there is anything to choose between.

        Examples
        --------
        >>> ThreadSwitcher([1], apply=print).active
        1
        False
        """
        return len(self.counts) > 1

    @property
    def best(self) -> int:
        """The count with the fastest step timed so far (the current one before any).

        Examples
        --------
        >>> ThreadSwitcher([2, 1], apply=lambda n: None).best
        2
        """
        if not self.seconds_per_step:
            return self.current
        return min(self.seconds_per_step, key=self.seconds_per_step.__getitem__)

    @contextlib.contextmanager
    def step(self) -> Iterator[None]:
        """Time one step of the fit; between steps, the thread count may change.

        Examples
        --------
        >>> switcher = ThreadSwitcher([2, 1], apply=lambda n: None, window_steps=1,
        ...                           window_seconds=0.0)
        >>> for _ in range(2):
        ...     with switcher.step():
        ...         pass
        >>> switcher.current  # the first step warms up, the second is timed: now try one
        1
        """
        started = self.clock()
        yield
        self.record(self.clock() - started)

    def record(self, seconds: float) -> None:
        """Count one step that took ``seconds`` at the current thread count.

        Examples
        --------
        >>> switcher = ThreadSwitcher([2, 1], apply=lambda n: None, window_steps=1,
        ...                           window_seconds=0.0, settle_steps=0)
        >>> for seconds in (9.0, 1.0, 3.0, 1.0):  # warm-up, then 2 threads: 1 s, 1: 3 s
        ...     switcher.record(seconds)
        >>> switcher.seconds_per_step, switcher.current
        ({2: 1.0, 1: 3.0}, 2)
        """
        if not self.active:
            return
        # the best step time of the other counts: what this count is judged against
        other = min((t for c, t in self.seconds_per_step.items() if c != self.current),
                    default=None)
        probing = other is not None and self.seconds_per_step.get(self.current, math.inf) >= other
        if probing and seconds > self.hopeless_factor * other and \
                seconds - other > _HOPELESS_EXTRA_S:
            # one step says enough: do not pay for the settling step and a window more
            self._skip = 0
            self._window_steps, self._window_time = 1, seconds
            self._close_window()
            return
        if self._skip > 0:
            self._skip -= 1
            return
        self._window_steps += 1
        self._window_time += seconds
        full = self._window_steps >= self.window_steps and self._window_time >= self.window_seconds
        # a probe that is plainly losing (twice the best time per step, a few steps in)
        # ends early: with spinning workers a bad count can cost 10x per step
        losing = other is not None and self._window_steps >= 3 and \
            self._window_time / self._window_steps > 2.0 * other
        if full or losing:
            self._close_window()

    def reprobe_wait(self) -> float:
        """Seconds at the best count before the other is timed again (grows as probes lose).

        Examples
        --------
        >>> switcher = ThreadSwitcher([2, 1], apply=lambda n: None, reprobe_seconds=5.0)
        >>> switcher.lost_probes = 2
        >>> switcher.reprobe_wait()
        20.0
        """
        return self.reprobe_seconds * 2.0 ** min(self.lost_probes, _MAX_REPROBE_DOUBLINGS)

    def _close_window(self) -> None:
        self.seconds_per_step[self.current] = self._window_time / self._window_steps
        self._window_steps = 0
        self._window_time = 0.0
        if self._probing:  # this window timed another count than the best one
            self._probing = False
            self.lost_probes = self.lost_probes + 1 if self.current != self.best else 0
        unmeasured = [c for c in self.counts if c not in self.seconds_per_step]
        if unmeasured:
            self._probe(unmeasured[0])
        elif self.current != self.best:  # a probe found the other count slower: go back
            self._switch(self.best)
            self._last_probe = self.clock()  # the period runs at the best count
        elif self.clock() - self._last_probe >= self.reprobe_wait():
            # the count timed longest ago: the order of the list, after the current one
            at = self.counts.index(self.current)
            self._probe(self.counts[(at + 1) % len(self.counts)])

    def _probe(self, count: int) -> None:
        self._probing = True
        self._switch(count)

    def _switch(self, count: int) -> None:
        if count != self.current:
            self.current = count
            self.switches += 1
            self._skip = self.settle_steps
            self.apply(count)


def fit_switcher(n_jobs: int | None = None, *, ceiling: int | None = None,
                 free: float | None = None, available: int | None = None,
                 **options) -> ThreadSwitcher:
    """The switcher for one fit: a fixed count when ``n_jobs`` (or ``--threads``) is set,
    else the free-core count first and the other of {1, ``ceiling``} as the alternative.

    ``ceiling`` (default: the cores available) is the most threads the automatic mode
    tries; deep models pass torch's current count, so ``torch.set_num_threads(1)`` pins one.

    Examples
    --------
    >>> fit_switcher(None, free=0.2, available=2, apply=lambda n: None).counts
    [1, 2]
    >>> fit_switcher(None, free=2.0, available=2, apply=lambda n: None).counts
    [2, 1]
    >>> fit_switcher(2, apply=lambda n: None).counts
    [2]
    >>> fit_switcher(None, ceiling=1, apply=lambda n: None).counts
    [1]
    """
    explicit = explicit_threads(n_jobs)
    if explicit is not None:
        return ThreadSwitcher([explicit], **options)
    available = available_cores() if available is None else available
    ceiling = available if ceiling is None else max(1, ceiling)
    if ceiling == 1:
        return ThreadSwitcher([1], **options)
    first = min(ceiling, choose_threads(None, free=free, available=available))
    other = 1 if first > 1 else ceiling
    return ThreadSwitcher([first, other], **options)
