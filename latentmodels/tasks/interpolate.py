"""Paths through latent space: interpolation between two inputs and latent traversals.

Works with any model that honours the contract (``transform`` and ``inverse_transform``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._internal.geometry import METHODS, interpolate, latent_path
from .._internal.validation import check_data

__all__ = ["METHODS", "interpolate", "latent_path", "traverse"]







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
