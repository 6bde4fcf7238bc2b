"""pytest plugin: run every compiled kernel (LDA and HMM) with numba bounds checking.

``NUMBA_BOUNDSCHECK=1`` checks every array access of serial kernels, but numba does not
check accesses inside the ``prange`` loops of ``parallel=True`` kernels. So this plugin
makes every kernel run serially: LDA's parallel kernels are recompiled with ``prange`` read
as ``range``, and the HMM engine is told to use the serial twin of each kernel (the copy it
already runs for small problems). An out-of-range index anywhere then raises
``IndexError`` instead of reading past an array. ``make boundscheck`` runs::

    NUMBA_BOUNDSCHECK=1 NUMBA_CACHE_DIR=/tmp/numba-boundscheck python -m pytest \\
        -p tests.numba_boundscheck tests/test_lda*.py tests/test_hmm*.py ...

The plugin refuses to run unless bounds checking is really on (it probes a kernel that reads
past an array), so a run that forgot the environment variable cannot pass silently.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit
from numba.core.registry import CPUDispatcher

from latentmodels.hmm import _kernels as hmm_kernels
from latentmodels.lda import _kernels as lda_kernels

RECOMPILED: list[str] = []


def _probe_bounds_checking() -> None:
    @njit
    def read(values, index):
        return values[index]

    try:
        read(np.zeros(3), 5)
    except IndexError:
        return
    raise RuntimeError("numba bounds checking is off: set NUMBA_BOUNDSCHECK=1 (and a fresh "
                       "NUMBA_CACHE_DIR, so that no kernel compiled without checks is reused)")


_probe_bounds_checking()

for _name, _obj in list(vars(lda_kernels).items()):
    if isinstance(_obj, CPUDispatcher) and _obj.targetoptions.get("parallel"):
        options = {k: v for k, v in _obj.targetoptions.items() if k in ("fastmath", "nogil")}
        setattr(lda_kernels, _name, njit(boundscheck=True, **options)(_obj.py_func))
        RECOMPILED.append(f"lda.{_name}")

# The HMM engine picks a kernel per call with _kernels.choose; serial mode makes it pick the
# serial twin every time (a class attribute, so every thread sees it).
hmm_kernels._Mode.serial = True


def pytest_report_header(config):
    return (f"numba bounds checking on (NUMBA_BOUNDSCHECK={numba.config.BOUNDSCHECK}); "
            f"recompiled serially: {', '.join(RECOMPILED)}; HMM kernels: serial twins")
