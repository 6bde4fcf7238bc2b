"""Measuring and demonstrating bias: image sub-groups defined by documented rules, biased
training sets, and per-group accuracy, for :class:`~latentmodels.DebiasingVAE`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_data, check_number


def slant(images: Any) -> np.ndarray:
    """Shear of each image's ink from its second-order moments: ``mu11 / mu02``.

    Positive for strokes leaning right (top to the right), negative for left-leaning ones,
    about 0 for upright digits. ``images`` has shape ``(n, H, W)``.

    Example:
        >>> import numpy as np
        >>> img = np.zeros((1, 5, 5)); img[0, [0, 1, 2, 3, 4], [4, 3, 2, 1, 0]] = 1
        >>> float(slant(img)[0]) > 0  # "/": its top is to the right
        True
    """
    X = check_data(images, "images", min_ndim=3).astype(np.float64)
    height, width = X.shape[1:3]
    rows, cols = np.mgrid[:height, :width]
    mass = np.maximum(X.sum(axis=(1, 2)), 1e-12)
    col_mean = (X * cols).sum(axis=(1, 2)) / mass
    row_mean = (X * rows).sum(axis=(1, 2)) / mass
    dc = cols[None] - col_mean[:, None, None]
    dr = rows[None] - row_mean[:, None, None]
    mu11 = (X * dc * dr).sum(axis=(1, 2)) / mass
    mu02 = np.maximum((X * dr * dr).sum(axis=(1, 2)) / mass, 1e-12)
    # Image rows grow downwards, so a right-leaning stroke has negative row/col covariance.
    return -mu11 / mu02


def ink_mass(images: Any) -> np.ndarray:
    """Total ink of each image (sum of intensities): thick strokes have more."""
    X = check_data(images, "images", min_ndim=2)
    return X.reshape(len(X), -1).sum(axis=1)


def biased_subset(
    labels: Any, rare: Any, positive: Any, *, keep_fraction: float = 0.05, random_state: int = 0
) -> np.ndarray:
    """Indices of a training set where samples of class ``positive`` in the ``rare`` group
    are cut down to ``keep_fraction`` of their number (all other samples kept)."""
    labels = np.asarray(labels)
    rare = np.asarray(rare, dtype=bool)
    if rare.shape != labels.shape:
        raise ValueError(f"rare must have one flag per label, got {rare.shape} vs {labels.shape}")
    check_number(keep_fraction, "keep_fraction", low=0, high=1)
    cut = np.flatnonzero((labels == positive) & rare)
    rng = np.random.default_rng(random_state)
    kept_rare = rng.choice(cut, size=max(1, int(round(keep_fraction * len(cut)))), replace=False)
    return np.sort(np.r_[np.flatnonzero(~((labels == positive) & rare)), kept_rare])


def group_report(predictions: Any, labels: Any, groups: dict[str, Any]) -> dict[str, float]:
    """Accuracy overall and within each named boolean mask in ``groups``, plus the gap
    between the best and worst group."""
    predictions, labels = np.asarray(predictions), np.asarray(labels)
    if predictions.shape != labels.shape:
        raise ValueError(
            f"predictions and labels differ in shape: {predictions.shape} vs {labels.shape}"
        )
    report = {"overall": float(np.mean(predictions == labels))}
    for name, mask in groups.items():
        mask = np.asarray(mask, dtype=bool)
        report[name] = float(np.mean(predictions[mask] == labels[mask])) if mask.any() else np.nan
    values = [report[name] for name in groups]
    report["gap"] = float(np.nanmax(values) - np.nanmin(values))
    return report
