"""Corruption processes for denoising: additive Gaussian noise, masking, salt-and-pepper.

The torch functions are what :class:`~latentmodels.DenoisingAutoencoder` trains with; the
numpy wrapper :func:`corrupt` makes noisy test data the same way.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .._internal.validation import check_choice, check_data, check_number, check_random_state

CORRUPTIONS = ("gaussian", "masking", "salt_and_pepper")


def corrupt_tensor(
    x: torch.Tensor,
    kind: str,
    level: float | torch.Tensor,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Corrupt a batch of tensors.

    Parameters
    ----------
    x : torch.Tensor
        The clean batch.
    kind : {"gaussian", "masking", "salt_and_pepper"}
        ``gaussian`` adds N(0, level^2) noise; ``masking`` zeroes a ``level`` fraction of
        entries; ``salt_and_pepper`` sets a ``level`` fraction to 0 or 1.
    level : float or torch.Tensor
        Strength; a tensor that broadcasts against ``x`` gives a level per sample.
    generator : torch.Generator or None
        Source of the noise.

    Returns
    -------
    corrupted : torch.Tensor

    Examples
    --------
    >>> import torch
    >>> from latentmodels.deep.corruption import corrupt_tensor
    >>> out = corrupt_tensor(torch.ones(2, 100), "masking", 0.5, torch.Generator().manual_seed(0))
    >>> 0.3 < float((out == 0).float().mean()) < 0.7
    True
    """
    if kind == "gaussian":
        noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        return x + level * noise
    draws = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    if kind == "masking":
        return x.masked_fill(draws < level, 0.0)
    if kind == "salt_and_pepper":
        hit = draws < level
        # Reuse the draw: below level/2 is pepper (0), between level/2 and level is salt (1).
        salt = (draws >= level / 2).to(x.dtype)
        return torch.where(hit, salt, x)
    raise ValueError(f"kind must be one of {CORRUPTIONS}, got {kind!r}")


def corrupt(
    X: Any,
    kind: str = "gaussian",
    level: float = 0.3,
    *,
    random_state: Any = None,
    clip: bool = False,
) -> np.ndarray:
    """Return a corrupted copy of ``X`` (numpy in, numpy out).

    Parameters
    ----------
    X : array-like
        The clean data.
    kind : {"gaussian", "masking", "salt_and_pepper"}
        The corruption, as in :func:`corrupt_tensor`.
    level : float
        Its strength (at most 1 except for "gaussian").
    random_state : int, numpy Generator or None
        Seed of the noise.
    clip : bool
        Clip the result to [0, 1], for images.

    Returns
    -------
    corrupted : ndarray of float32

    Examples
    --------
    >>> import numpy as np
    >>> from latentmodels.deep.corruption import corrupt
    >>> noisy = corrupt(np.zeros((2, 4)), "salt_and_pepper", 0.5, random_state=0)
    >>> noisy.shape
    (2, 4)
    """
    array = check_data(X, "X", min_ndim=1)
    check_choice(kind, "kind", CORRUPTIONS)
    check_number(level, "level", low=0, high=None if kind == "gaussian" else 1)
    generator = torch.Generator().manual_seed(check_random_state(random_state))
    out = corrupt_tensor(torch.from_numpy(array.copy()), kind, level, generator).numpy()
    return np.clip(out, 0.0, 1.0) if clip else out
