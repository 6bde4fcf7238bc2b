"""Declared hyper-parameter rules, checked the scikit-learn way with the library's messages.

Estimators declare ``_parameter_constraints`` (scikit-learn's ``Interval``, ``StrOptions``,
...); :func:`validate_declared` runs scikit-learn's inherited ``_validate_params`` and, when a
value fails, restates the error as one line, ``"<name> must be ..., got ..."``. The error is
still scikit-learn's ``InvalidParameterError`` (a ``ValueError`` and a ``TypeError``).
"""

from __future__ import annotations

import math
import numbers
import os
from typing import Any

import numpy as np
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    Options,
    StrOptions,
    _Booleans,
    _InstancesOf,
    _NoneConstraint,
    make_constraint,
)

__all__ = ["plain_parameter_error", "validate_declared"]

# How a type reads in a message (torch.device is named by its class name).
_TYPE_WORDS = {
    str: "a string",
    os.PathLike: "a path",
        tuple: "a tuple",
    list: "a list",
    np.random.RandomState: "a numpy RandomState",
    np.random.Generator: "a numpy Generator",
}


def plain_parameter_error(name: str, value: Any, constraints: list[Any]) -> str:
    """The library's one-line message for a value that meets none of ``constraints``:
    ``"<name> must be ..., got <value>"``, naming the bound or the choices it missed.

    Examples
    --------
    >>> from sklearn.utils._param_validation import StrOptions
    >>> plain_parameter_error("loss", "l3", [StrOptions({"l1", "l2"})])
    "loss must be one of 'l1', 'l2'; got 'l3'"
    >>> from numbers import Integral
    >>> from sklearn.utils._param_validation import Interval, Options
    >>> plain_parameter_error("n_jobs", 0, [Interval(Integral, 1, None, closed="left"),
    ...                                     Options(Integral, {-1}), None])
    'n_jobs must be >= 1 or -1, got 0'
    """
    visible = [c for c in map(make_constraint, constraints) if not c.hidden]
    none_ok = any(isinstance(c, _NoneConstraint) for c in visible)
    or_none = " or None" if none_ok else ""
    for c in visible:
        if isinstance(c, StrOptions) and isinstance(value, str):
            choices = ", ".join(map(repr, sorted(c.options)))
            return f"{name} must be one of {choices}{or_none}; got {value!r}"
    # Single values allowed beside a range (n_jobs: -1 beside >= 1) are named with the bound.
    also = "".join(f" or {option!r}" for c in visible
                   if isinstance(c, Options) and not isinstance(c, StrOptions)
                   for option in sorted(c.options))
    for c in visible:
        if isinstance(c, Interval):
            right_type = isinstance(value, c.type) and not isinstance(value, bool)
            if right_type and isinstance(value, float) and not math.isfinite(value):
                return f"{name} must be finite, got {value!r}"
            if right_type:
                if c.left is not None and (
                    value < c.left or (value == c.left and c.closed in ("right", "neither"))
                ):
                    op = ">=" if c.closed in ("left", "both") else ">"
                    return f"{name} must be {op} {c.left}{also}, got {value!r}"
                op = "<=" if c.closed in ("right", "both") else "<"
                return f"{name} must be {op} {c.right}{also}, got {value!r}"
    if any(isinstance(c, _Booleans) for c in visible):
        allowed = "True, False or None" if none_ok else "True or False"
        return f"{name} must be {allowed}, got {value!r}"
    described = []
    for c in visible:
        if isinstance(c, Interval):
            described.append("an integer" if c.type is numbers.Integral else "a number")
        elif isinstance(c, StrOptions):
            described.append("one of " + ", ".join(map(repr, sorted(c.options))))
        elif isinstance(c, _InstancesOf) and c.type in _TYPE_WORDS:
            described.append(_TYPE_WORDS[c.type])
        elif isinstance(c, Options) and any(isinstance(d, Interval) for d in visible):
            continue  # its values are of the interval's type, already named
        elif not isinstance(c, _NoneConstraint):
            described.append(str(c))
    return f"{name} must be {' or '.join(described) or 'None'}{or_none}, got {value!r}"


def validate_declared(estimator: Any) -> None:
    """Check ``estimator``'s hyper-parameters against its ``_parameter_constraints``.

    Also refuses what scikit-learn's intervals let through and this library never accepted:
    ``True`` for an integer (a bool is an ``Integral``) and an infinite number.

    Examples
    --------
    >>> from latentmodels import VAE
    >>> try:
    ...     validate_declared(VAE(latent_dim=0))
    ... except ValueError as error:
    ...     print(error)
    latent_dim must be >= 1, got 0
    """
    try:
        estimator._validate_params()
    except InvalidParameterError as error:
        params = estimator.get_params(deep=False)
        for name, constraints in estimator._parameter_constraints.items():
            if constraints == "no_validation":
                continue
            value = params[name]
            if not any(make_constraint(c).is_satisfied_by(value) for c in constraints):
                raise InvalidParameterError(
                    plain_parameter_error(name, value, constraints)) from error
        raise
    for name, constraints in estimator._parameter_constraints.items():
        if constraints == "no_validation" or "boolean" in constraints:
            continue
        value = getattr(estimator, name)
        intervals = [c for c in constraints if isinstance(c, Interval)]
        if isinstance(value, bool) and intervals:
            kind = "an integer" if intervals[0].type is numbers.Integral else "a number"
            raise InvalidParameterError(f"{name} must be {kind}, got {value!r}")
        if isinstance(value, float) and intervals and not math.isfinite(value):
            raise InvalidParameterError(f"{name} must be finite, got {value}")
