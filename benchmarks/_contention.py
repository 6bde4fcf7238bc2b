"""Contention mode for the benchmarks: one CPU-bound process per core, running beside the work.

``with busy_cores():`` starts the spinners and always stops them: on a normal exit, on an
exception, on Ctrl-C, and (through ``atexit`` and a SIGTERM handler) when the benchmark
itself is killed politely. Each spinner also watches its parent and exits when the parent
is gone, so not even ``kill -9`` of the benchmark leaves a busy loop behind.

    python benchmarks/_contention.py 5     # spin on every core for 5 s, then stop
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

# A busy loop that checks, every few million steps, whether its parent still exists.
_SPINNER = """
import os, sys
parent = int(sys.argv[1])
while True:
    for _ in range(2_000_000):
        pass
    if os.getppid() != parent:
        break
"""


def core_count() -> int:
    """Cores this process may run on (its affinity mask, else the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return multiprocessing.cpu_count()


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.kill()
    for process in processes:
        with contextlib.suppress(Exception):
            process.wait(timeout=5)


@contextlib.contextmanager
def busy_cores(count: int | None = None) -> Iterator[list[subprocess.Popen]]:
    """Run ``count`` CPU-bound processes (default: one per core) while the block runs.

    Yields the processes; they are killed when the block ends, however it ends.
    """
    count = core_count() if count is None else count
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    processes: list[subprocess.Popen] = []
    stop = lambda: _stop(processes)  # noqa: E731 - one closure for atexit and the handler
    atexit.register(stop)
    previous_term = signal.getsignal(signal.SIGTERM)

    def on_term(signum, frame):  # turn SIGTERM into an exception, so `finally` runs
        raise KeyboardInterrupt(f"signal {signum}")

    if previous_term in (signal.SIG_DFL, None):
        signal.signal(signal.SIGTERM, on_term)
    try:
        for _ in range(count):
            processes.append(subprocess.Popen(
                [sys.executable, "-c", _SPINNER, str(os.getpid())],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL))
        time.sleep(0.5)  # let the scheduler see them before timing starts
        yield processes
    finally:
        stop()
        atexit.unregister(stop)
        if previous_term in (signal.SIG_DFL, None):
            signal.signal(signal.SIGTERM, signal.SIG_DFL)


def maybe_busy(busy: bool) -> contextlib.AbstractContextManager:
    """:func:`busy_cores` when ``busy``, else a block that changes nothing."""
    return busy_cores() if busy else contextlib.nullcontext([])


def load_average() -> str:
    """The 1-minute load average, for the record beside each figure."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "n/a"


if __name__ == "__main__":
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
    with busy_cores() as spinners:
        print(f"{len(spinners)} spinners for {seconds:.0f} s (load {load_average()})")
        time.sleep(seconds)
    print("stopped;", sum(p.poll() is None for p in spinners), "still running")
