"""Paths through a latent space, for any model that honours the contract: the geometry of
a path (linear or spherical) and the decoding of a path between two inputs."""

from __future__ import annotations

from typing import Any

import numpy as np

from .validation import check_affordable, check_choice, check_data, check_positive_int

__all__ = ["METHODS", "interpolate", "latent_path"]

METHODS = ("linear", "spherical")


def latent_path(z_start: Any, z_end: Any, steps: int = 10, method: str = "linear") -> np.ndarray:
    """Points from ``z_start`` to ``z_end`` (both included), linear or spherical (slerp).

    Spherical interpolation keeps the norm of Gaussian codes typical, so mid-path points
    stay where the prior puts its mass.

    Parameters
    ----------
    z_start, z_end : array-like of shape (n_components,)
        The two latent codes.
    steps : int, default=10
        Number of points, at least 2.
    method : {"linear", "spherical"}, default="linear"
        The path's geometry.

    Returns
    -------
    numpy.ndarray of shape (steps, n_components)
        The path, float64.

    Examples
    --------
    >>> latent_path([0.0, 1.0], [1.0, 0.0], steps=3, method="spherical").round(3)
    array([[0.   , 1.   ],
           [0.707, 0.707],
           [1.   , 0.   ]])
    """
    check_positive_int(steps, "steps", minimum=2)
    check_choice(method, "method", METHODS)
    a = np.asarray(z_start, dtype=np.float64).ravel()
    b = np.asarray(z_end, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(f"z_start and z_end differ in size: {a.shape} vs {b.shape}")
    t = np.linspace(0.0, 1.0, steps)[:, None]
    if method == "spherical":
        norms = np.linalg.norm(a) * np.linalg.norm(b)
        cos = np.clip(a @ b / norms, -1.0, 1.0) if norms > 0 else 1.0
        omega = np.arccos(cos)
        if omega > 1e-6:
            s = np.sin(omega)
            return np.sin((1 - t) * omega) / s * a + np.sin(t * omega) / s * b
    return (1 - t) * a + t * b


def interpolate(
    model: Any, start: Any, end: Any, steps: int = 10, *, method: str = "linear"
) -> np.ndarray:
    """Decode the latent path between two inputs ``start`` and ``end`` (single samples).

    Parameters
    ----------
    model : object
        A fitted model with ``transform`` and ``inverse_transform``.
    start, end : array-like
        Two single samples (no batch axis).
    steps : int, default=10
        Number of points on the path, at least 2.
    method : {"linear", "spherical"}, default="linear"
        The path's geometry, see :func:`latent_path`.

    Returns
    -------
    numpy.ndarray of shape ``(steps, *sample_shape)``
        The decoded path.

    Examples
    --------
    >>> from sklearn.decomposition import PCA
    >>> X = np.random.default_rng(0).normal(size=(50, 4))
    >>> interpolate(PCA(2).fit(X), X[0], X[1], steps=5).shape
    (5, 4)
    """
    for name in ("transform", "inverse_transform"):
        if not callable(getattr(model, name, None)):
            raise TypeError(
                f"model: interpolation needs a model with {name}(); {type(model).__name__} has none"
            )
    pair = np.stack([check_data(start, "start", min_ndim=1), check_data(end, "end", min_ndim=1)])
    codes = model.transform(pair)
    # Refused before anything is allocated when the decoded path cannot fit in memory.
    check_affordable(steps, 8 * (pair[0].size + codes.shape[1]), "steps")
    path = latent_path(codes[0], codes[1], steps, method).astype(np.float32)
    return model.inverse_transform(path)
