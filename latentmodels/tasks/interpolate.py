"""Paths through latent space: interpolation between two inputs and latent traversals.

Works with any model that honours the contract (``transform`` and ``inverse_transform``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._internal.validation import check_choice, check_data, check_positive_int

METHODS = ("linear", "spherical")


def latent_path(z_start: Any, z_end: Any, steps: int = 10, method: str = "linear") -> np.ndarray:
    """Points from ``z_start`` to ``z_end`` (both included), linear or spherical (slerp).

    Spherical interpolation keeps the norm of Gaussian codes typical, so mid-path points
    stay where the prior puts its mass.

    Example:
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

    Example:
        >>> from latentmodels import VAE, datasets  # doctest: +SKIP
        >>> X, _ = datasets.load_mnist()  # doctest: +SKIP
        >>> vae = VAE(epochs=1).fit(X)  # doctest: +SKIP
        >>> interpolate(vae, X[0], X[1], steps=8).shape  # doctest: +SKIP
        (8, 28, 28)
    """
    for name in ("transform", "inverse_transform"):
        if not callable(getattr(model, name, None)):
            raise TypeError(
                f"model: interpolation needs a model with {name}(); {type(model).__name__} has none"
            )
    pair = np.stack([check_data(start, "start", min_ndim=1), check_data(end, "end", min_ndim=1)])
    codes = model.transform(pair)
    path = latent_path(codes[0], codes[1], steps, method).astype(np.float32)
    return model.inverse_transform(path)


def traverse(model: Any, x: Any, dims: Any = None, values: Any = None) -> np.ndarray:
    """Latent traversal: vary one latent dimension at a time around the code of ``x``.

    Returns an array of shape ``(len(dims), len(values), *sample_shape)``; ``dims``
    defaults to every dimension and ``values`` to 7 offsets in [-3, 3].
    """
    code = model.transform(check_data(x, "x", min_ndim=1)[None])[0]
    dims = list(range(len(code))) if dims is None else [int(d) for d in np.atleast_1d(dims)]
    for d in dims:
        if not 0 <= d < len(code):
            raise ValueError(f"dims: {d} is outside the latent space (size {len(code)})")
    offsets = np.linspace(-3, 3, 7) if values is None else np.asarray(values, dtype=np.float64)
    grid = np.repeat(code[None, None, :], len(dims), axis=0).repeat(len(offsets), axis=1)
    for row, d in enumerate(dims):
        grid[row, :, d] = code[d] + offsets
    decoded = model.inverse_transform(grid.reshape(-1, len(code)).astype(np.float32))
    return decoded.reshape(len(dims), len(offsets), *decoded.shape[1:])
