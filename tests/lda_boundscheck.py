"""pytest plugin: run LDA's compiled kernels with numba bounds checking everywhere.

``NUMBA_BOUNDSCHECK=1`` checks every array access of serial kernels, but numba does not
check accesses inside ``prange`` loops of ``parallel=True`` kernels. This plugin recompiles
those kernels serially with ``boundscheck=True`` (``prange`` runs as ``range``), so an
out-of-bounds index anywhere raises ``IndexError`` instead of reading past an array::

    NUMBA_BOUNDSCHECK=1 NUMBA_CACHE_DIR=/tmp/numba-bc python -m pytest \\
        -p tests.lda_boundscheck tests/test_lda.py tests/test_lda_metrics.py ...
"""

from __future__ import annotations

from numba import njit
from numba.core.registry import CPUDispatcher

from latentmodels.lda import _kernels

CHECKED: list[str] = []

for _name, _obj in list(vars(_kernels).items()):
    if isinstance(_obj, CPUDispatcher) and _obj.targetoptions.get("parallel"):
        options = {k: v for k, v in _obj.targetoptions.items() if k in ("fastmath", "nogil")}
        setattr(_kernels, _name, njit(boundscheck=True, **options)(_obj.py_func))
        CHECKED.append(_name)


def pytest_report_header(config):
    return f"LDA kernels recompiled serially with bounds checks: {', '.join(CHECKED)}"
