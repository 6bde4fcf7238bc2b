"""Paths through latent space: interpolation between two inputs and latent traversals.

Works with any model that honours the contract (``transform`` and ``inverse_transform``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._internal.geometry import METHODS, interpolate, latent_path
from .._internal.validation import check_data

__all__ = ["METHODS", "interpolate", "latent_path", "traverse"]







def traverse(
    model: Any, x: Any, dims: Any = None, values: Any = None, *, y: Any = None
) -> np.ndarray:
    """Latent traversal: vary one latent dimension at a time around the code of ``x``.

    Parameters
    ----------
    model : object
        A fitted model with ``transform`` and ``inverse_transform``.
    x : array-like
        One sample (no batch axis).
    dims : int or sequence of int, optional
        The latent dimensions to vary; every dimension by default.
    values : array-like, optional
        Offsets added to the code; 7 offsets in [-3, 3] by default.
    y : label, optional
        For class-conditional models (ConditionalVAE, ConditionalGAN): the class ``x`` is
        encoded with and the traversal decoded with.

    Returns
    -------
    numpy.ndarray of shape ``(len(dims), len(values), *sample_shape)``
        The decoded traversals.

    Examples
    --------
    >>> from sklearn.decomposition import PCA
    >>> X = np.random.default_rng(0).normal(size=(50, 4))
    >>> traverse(PCA(2).fit(X), X[0]).shape
    (2, 7, 4)
    >>> traverse(PCA(2).fit(X), X[0], dims=1, values=[-1.0, 1.0]).shape
    (1, 2, 4)
    """
    labelled = {} if y is None else {"y": y}
    code = model.transform(check_data(x, "x", min_ndim=1)[None], **labelled)[0]
    dims = list(range(len(code))) if dims is None else [int(d) for d in np.atleast_1d(dims)]
    for d in dims:
        if not 0 <= d < len(code):
            raise ValueError(f"dims: {d} is outside the latent space (size {len(code)})")
    offsets = np.linspace(-3, 3, 7) if values is None else np.asarray(values, dtype=np.float64)
    grid = np.repeat(code[None, None, :], len(dims), axis=0).repeat(len(offsets), axis=1)
    for row, d in enumerate(dims):
        grid[row, :, d] = code[d] + offsets
    decoded = model.inverse_transform(grid.reshape(-1, len(code)).astype(np.float32), **labelled)
    return decoded.reshape(len(dims), len(offsets), *decoded.shape[1:])
