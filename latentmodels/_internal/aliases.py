"""Old module paths kept for one release: each alias module is the new module itself."""

from __future__ import annotations

import importlib
import sys
import warnings


def alias_module(old_name: str, new_name: str) -> None:
    """Make ``import old_name`` give the module ``new_name``, with a deprecation warning.

    Parameters
    ----------
    old_name : str
        The module path that moved.
    new_name : str
        Where it lives now.

    Examples
    --------
    >>> import sys, warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     alias_module("latentmodels._old_json", "json")
    >>> sys.modules["latentmodels._old_json"] is sys.modules["json"]
    True
    >>> print(caught[0].category.__name__)
    DeprecationWarning
    >>> del sys.modules["latentmodels._old_json"]
    """
    warnings.warn(
        f"{old_name} moved to {new_name}; the old path goes away in the next release",
        DeprecationWarning,
        stacklevel=3,
    )
    sys.modules[old_name] = importlib.import_module(new_name)
