"""Input checks shared by every public entry point.

Errors name the argument and what was wrong, so a user never meets a traceback from
deep inside torch or a silent NaN.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.utils import check_array

#: The largest count or symbol accepted: every integer up to it is exact in float64.
MAX_EXACT_INTEGER = 2**53


def check_data(
    X: Any,
    name: str = "X",
    *,
    min_ndim: int = 2,
    dtype: type = np.float32,
    allow_empty: bool = False,
) -> np.ndarray:
    """Return ``X`` as a finite numpy array of ``dtype`` with at least ``min_ndim`` axes.

    Accepts numpy arrays (object arrays of numbers too), torch tensors and nested
    sequences. The conversion is scikit-learn's ``check_array`` (sparse matrices are
    refused with its message); the messages follow scikit-learn's wording, prefixed with
    the argument's name, and two refusals are added: values too large for ``dtype`` and
    zero-size sample axes of image-shaped data.

    Parameters
    ----------
    X : array-like or torch.Tensor
        The input.
    name : str, default="X"
        The argument's name, used in error messages.
    min_ndim : int, default=2
        Fewest axes accepted (2 for ``(n_samples, n_features)``).
    dtype : type, default=numpy.float32
        The returned array's dtype.
    allow_empty : bool, default=False
        Accept zero samples.

    Returns
    -------
    numpy.ndarray
        ``X`` as an array of ``dtype``.

    Raises
    ------
    TypeError
        For non-numeric or sparse input.
    ValueError
        For complex values, empty input, too few axes, NaN or inf, or values too large
        for ``dtype``.

    Examples
    --------
    >>> check_data([[1, 2], [3, 4]]).dtype
    dtype('float32')
    >>> check_data([1.0, float("nan")], "scores", min_ndim=1)
    Traceback (most recent call last):
    ...
    ValueError: scores contains 1 NaN or infinite values
    >>> check_data(np.ones((12, 0)))
    Traceback (most recent call last):
    ...
    ValueError: X has no features: found array with 0 feature(s) (shape=(12, 0)) while a ...
    """
    if isinstance(X, torch.Tensor):
        X = X.detach().cpu().numpy()
    elif isinstance(X, (str, bytes)) or X is None:
        raise TypeError(f"{name} must be an array of numbers, got {type(X).__name__}")
    if not sp.issparse(X):
        try:
            X = np.asarray(X)
        except (ValueError, TypeError) as exc:
            raise TypeError(f"{name} must be an array of numbers: {exc}") from exc
        if np.iscomplexobj(X):
            raise ValueError(f"Complex data not supported: {name} holds complex values "
                             f"(dtype {X.dtype}); pass the real part or the modulus explicitly")
        if X.dtype != object and not (np.issubdtype(X.dtype, np.number) or X.dtype == np.bool_):
            raise TypeError(f"{name} must hold numbers, got dtype {X.dtype}")
        if X.ndim < min_ndim:
            hint = (" Reshape your data either using X.reshape(-1, 1) if it has a single "
                    "feature or X.reshape(1, -1) if it holds a single sample."
                    if min_ndim == 2 else "")
            raise ValueError(f"{name} must have at least {min_ndim} dimensions (n_samples, "
                             f"...), got shape {X.shape}.{hint}")
    try:
        # scikit-learn's conversion: refuses sparse input, turns object arrays of numbers
        # into float64; the checks below keep our wording and extra refusals.
        array = check_array(X, accept_sparse=False, dtype="numeric", ensure_2d=False,
                            allow_nd=True, ensure_all_finite=False, ensure_min_samples=0,
                            ensure_min_features=0, input_name=name)
    except TypeError as exc:
        raise TypeError(f"{name} must hold numbers: {exc}") from exc
    except ValueError as exc:
        if X.dtype != object:
            raise
        # an object array with a string in it: numpy's message names no argument
        raise TypeError(f"{name} must hold numbers: {exc}") from exc
    if array.shape[0] == 0 and not allow_empty:
        raise ValueError(f"{name} is empty: found array with 0 sample(s) (shape={array.shape}) "
                         "while a minimum of 1 is required.")
    if array.ndim > 1 and math.prod(array.shape[1:]) == 0:
        raise ValueError(f"{name} has no features: found array with 0 feature(s) (shape="
                         f"{array.shape}) while a minimum of 1 is required.")
    if np.issubdtype(array.dtype, np.floating) and not np.isfinite(array).all():
        bad = int(np.size(array) - np.isfinite(array).sum())
        raise ValueError(f"{name} contains {bad} NaN or infinite values")
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported below
        converted = array.astype(dtype, copy=False)
    # Only a cast to a narrower float can overflow; the finite check above covers the rest.
    narrowed = (np.issubdtype(converted.dtype, np.floating)
                and converted.dtype.itemsize < array.dtype.itemsize)
    if narrowed and not np.isfinite(converted).all():
        largest = float(np.abs(array).max())
        raise ValueError(f"{name} holds values up to {largest:.3g}, too large for {dtype.__name__} "
                         f"(at most {np.finfo(dtype).max:.3g}); rescale it")
    return converted


def check_positive_int(value: Any, name: str, *, minimum: int = 1) -> int:
    """Check that ``value`` is an integer >= ``minimum``.

    Parameters
    ----------
    value : object
        The value to check (``bool`` is refused).
    name : str
        The argument's name, used in error messages.
    minimum : int, default=1
        Smallest value accepted.

    Returns
    -------
    int
        ``value`` as a Python int.

    Examples
    --------
    >>> check_positive_int(np.int64(3), "epochs")
    3
    >>> check_positive_int(0, "epochs")
    Traceback (most recent call last):
    ...
    ValueError: epochs must be >= 1, got 0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_size_sequence(value: Any, name: str, *, what: str = "layer size") -> tuple[int, ...]:
    """Check that ``value`` is a non-empty sequence of positive integers (layer widths).

    Parameters
    ----------
    value : sequence of int
        The sizes.
    name : str
        The argument's name, used in error messages.
    what : str, default="layer size"
        What one entry is, used in error messages.

    Returns
    -------
    tuple of int
        The sizes.

    Examples
    --------
    >>> check_size_sequence([256, 128], "hidden_dims")
    (256, 128)
    """
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise TypeError(f"{name} must be a sequence of ints, got {value!r}")
    if len(value) == 0:
        raise ValueError(f"{name} must hold at least one {what}")
    return tuple(check_positive_int(size, name) for size in value)


def check_number(
    value: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> float:
    """Check that ``value`` is a finite real number inside the given bounds.

    Parameters
    ----------
    value : object
        The value to check (``bool`` is refused).
    name : str
        The argument's name, used in error messages.
    low, high : float, optional
        Bounds; None means unbounded.
    low_inclusive, high_inclusive : bool, default=True
        Whether each bound itself is accepted.

    Returns
    -------
    float
        ``value`` as a float.

    Examples
    --------
    >>> check_number(1, "lr", low=0, low_inclusive=False)
    1.0
    >>> check_number(0, "lr", low=0, low_inclusive=False)
    Traceback (most recent call last):
    ...
    ValueError: lr must be > 0, got 0.0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if low is not None and (value < low or (value == low and not low_inclusive)):
        op = ">=" if low_inclusive else ">"
        raise ValueError(f"{name} must be {op} {low}, got {value}")
    if high is not None and (value > high or (value == high and not high_inclusive)):
        op = "<=" if high_inclusive else "<"
        raise ValueError(f"{name} must be {op} {high}, got {value}")
    return value


def check_choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    """Check that ``value`` is one of ``choices``.

    Parameters
    ----------
    value : object
        The value to check.
    name : str
        The argument's name, used in error messages.
    choices : tuple of str
        The accepted values.

    Returns
    -------
    str
        ``value``.

    Examples
    --------
    >>> check_choice("linear", "method", ("linear", "spherical"))
    'linear'
    """
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")
    return value


def check_random_state(seed: Any, name: str = "random_state") -> int:
    """Turn ``None``/int/``np.random.Generator`` into a concrete integer seed.

    Parameters
    ----------
    seed : None, int, numpy.random.Generator or numpy.random.RandomState
        None draws a fresh seed; a generator gives one draw.
    name : str, default="random_state"
        The argument's name, used in error messages.

    Returns
    -------
    int
        A non-negative seed.

    Examples
    --------
    >>> check_random_state(7)
    7
    >>> check_random_state(np.random.default_rng(0)) == check_random_state(np.random.default_rng(0))
    True
    """
    if seed is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(0, 2**31 - 1))
    if isinstance(seed, np.random.RandomState):
        return int(seed.randint(0, 2**31 - 1))
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"{name} must be None, an int or a numpy Generator, got {seed!r}")
    if seed < 0:
        raise ValueError(f"{name} must be non-negative, got {seed}")
    return int(seed)


def check_affordable(count: Any, bytes_each: int, name: str) -> int:
    """Check that ``count`` items of ``bytes_each`` bytes fit in memory, before allocating.

    A request for more than half of this machine's memory is refused at once with a clear
    message, instead of a ``MemoryError`` (or the system killing the process) later.

    Parameters
    ----------
    count : int
        How many items were asked for (checked as a positive integer).
    bytes_each : int
        The memory one item needs.
    name : str
        The argument's name, used in error messages.

    Returns
    -------
    int
        ``count``.

    Examples
    --------
    >>> check_affordable(64, 784 * 4, "n_samples")
    64
    >>> try:
    ...     check_affordable(10**12, 784 * 4, "n_samples")
    ... except ValueError as error:
    ...     print(str(error).split(":")[0])
    n_samples=1000000000000
    """
    count = check_positive_int(count, name)
    needed = count * max(int(bytes_each), 1)
    try:
        memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # not POSIX: no limit known
        return count
    if needed > memory // 2:
        raise ValueError(
            f"{name}={count}: the result needs {needed / 2**30:,.1f} GiB, more than half of "
            f"this machine's memory ({memory / 2**30:,.1f} GiB); ask for fewer"
        )
    return count


def check_squares_finite(array: np.ndarray, name: str) -> np.ndarray:
    """Refuse float values so large that squaring them (summed over a sample) overflows.

    Likelihoods of Gaussian-type models square the data; a finite value such as ``1e300``
    would make them ``-inf`` or end EM in non-finite parameters, so it is refused here with
    a message naming the argument. The limit keeps a factor of 10**6 of headroom for the
    divisions by small variances that follow.

    Parameters
    ----------
    array : numpy.ndarray
        Validated, finite data (integer arrays pass unchecked).
    name : str
        The argument's name, used in error messages.

    Returns
    -------
    numpy.ndarray
        ``array``.

    Examples
    --------
    >>> check_squares_finite(np.array([[1.0, 2.0]]), "X").shape
    (1, 2)
    >>> check_squares_finite(np.array([[1e300, 2.0]]), "X")
    Traceback (most recent call last):
    ...
    ValueError: X holds values up to 1e+300, too large to square in float64 (at most ...
    """
    if not np.issubdtype(array.dtype, np.floating) or array.size == 0:
        return array
    per_sample = max(math.prod(array.shape[1:]), 1)
    limit = math.sqrt(float(np.finfo(array.dtype).max) / per_sample) * 1e-6
    largest = float(np.abs(array).max())
    if largest > limit:
        raise ValueError(f"{name} holds values up to {largest:.3g}, too large to square in "
                         f"{array.dtype} (at most {limit:.3g} with {per_sample} values per "
                         "sample); rescale it")
    return array
