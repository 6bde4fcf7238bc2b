"""Old module paths kept for one release: each alias module is the new module itself."""

from __future__ import annotations

import importlib
import sys
import warnings


def alias_module(old_name: str, new_name: str) -> None:
    """Make ``import old_name`` give the module ``new_name``, with a deprecation warning."""
    warnings.warn(
        f"{old_name} moved to {new_name}; the old path goes away in the next release",
        DeprecationWarning,
        stacklevel=3,
    )
    sys.modules[old_name] = importlib.import_module(new_name)
