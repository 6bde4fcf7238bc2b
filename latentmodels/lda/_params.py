"""LDA's hyper-parameter rules, declared once as scikit-learn constraints.

:data:`PARAMETER_CONSTRAINTS` is ``LDA._parameter_constraints``; scikit-learn's inherited
``_validate_params`` checks it. :func:`explain` turns a violated constraint into this
library's one-line message (``"n_components must be >= 1, got 0"``), read off the same
declared constraint, so the rules live in one place.
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
    StrOptions,
    make_constraint,
)

#: Choices in the order error messages list them (``StrOptions`` keeps a set).
CHOICES: dict[str, tuple[str, ...]] = {
    "method": ("vb", "gibbs"),
    "learning_method": ("batch", "online"),
    "doc_topic_prior": ("asymmetric",),
}

_positive_int = Interval(numbers.Integral, 1, None, closed="left")
_non_negative = Interval(numbers.Real, 0, None, closed="left")
_positive = Interval(numbers.Real, 0, None, closed="neither")

PARAMETER_CONSTRAINTS: dict[str, list[Any]] = {
    "n_components": [_positive_int],
    "method": [StrOptions(set(CHOICES["method"]))],
    "doc_topic_prior": [None, _positive, StrOptions(set(CHOICES["doc_topic_prior"])), "array-like"],
    "topic_word_prior": [None, _positive],
    "learning_method": [StrOptions(set(CHOICES["learning_method"]))],
    "learning_decay": [Interval(numbers.Real, 0.5, 1.0, closed="right")],
    "learning_offset": [_non_negative],
    "max_iter": [None, _positive_int],
    "batch_size": [_positive_int],
    "total_samples": [_positive_int],
    "tol": [_non_negative],
    "max_doc_update_iter": [_positive_int],
    "mean_change_tol": [_non_negative],
    "optimize_priors": ["boolean"],
    "n_jobs": [None, _positive_int],
    "random_state": ["random_state", np.random.Generator],
    "verbose": ["verbose"],
    "checkpoint_dir": [None, str, os.PathLike],
    "checkpoint_every": [None, _positive_int],
}


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def explain(name: str, value: Any, constraints: list[Any]) -> str:
    """One line saying which rule ``value`` of parameter ``name`` breaks.

    Examples
    --------
    >>> explain("n_components", 0, PARAMETER_CONSTRAINTS["n_components"])
    'n_components must be >= 1, got 0'
    >>> explain("method", "em", PARAMETER_CONSTRAINTS["method"])
    "method must be one of 'vb', 'gibbs'; got 'em'"
    """
    options = [c for c in constraints if isinstance(c, StrOptions)]
    intervals = [c for c in constraints if isinstance(c, Interval)]
    if isinstance(value, str) and options:
        listed = CHOICES.get(name) or tuple(sorted(options[0].options))
        return f"{name} must be one of {', '.join(map(repr, listed))}; got {value!r}"
    if intervals and not isinstance(value, str) and np.ndim(value) == 0:
        interval = intervals[0]
        integral = interval.type is numbers.Integral
        if isinstance(value, bool) or not isinstance(value, interval.type):
            kind = "an integer" if integral else "a number"
            return f"{name} must be {kind}, got {value!r}"
        if not math.isfinite(float(value)):
            return f"{name} must be finite, got {value}"
        left, right = interval.left, interval.right
        if left is not None and (
            value < left or (value == left and interval.closed in ("right", "neither"))
        ):
            op = ">=" if interval.closed in ("left", "both") else ">"
            return f"{name} must be {op} {_number(left)}, got {_number(value)}"
        if right is not None and (
            value > right or (value == right and interval.closed in ("left", "neither"))
        ):
            op = "<=" if interval.closed in ("right", "both") else "<"
            return f"{name} must be {op} {_number(right)}, got {_number(value)}"
    allowed = " or ".join(str(make_constraint(c)) for c in constraints)
    return f"{name} must be {allowed}; got {value!r}"


def validate(estimator: Any) -> None:
    """Run the estimator's inherited ``_validate_params`` and reword its error.

    The error stays scikit-learn's ``InvalidParameterError`` (a ``ValueError`` and a
    ``TypeError``), with a message that starts with the parameter's name.
    """
    try:
        estimator._validate_params()
    except InvalidParameterError as exc:
        params = estimator.get_params(deep=False)
        for name, constraints in estimator._parameter_constraints.items():
            value = params.get(name)
            if not any(make_constraint(c).is_satisfied_by(value) for c in constraints):
                raise InvalidParameterError(explain(name, value, constraints)) from exc
        raise
