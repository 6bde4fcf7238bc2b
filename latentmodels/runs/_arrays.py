"""What the array runs (deep models, GANs, linear baselines) share: the held-out split of
labelled arrays and the ``data`` record of ``run.json``."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ..rundir import data_checksum, held_out_split, recorded_source
from .defaults import SPLIT_SEED


class HeldOutSplit(NamedTuple):
    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray | None
    y_test: np.ndarray | None


def split_arrays(X: np.ndarray, y: np.ndarray | None, test_fraction: float) -> HeldOutSplit:
    """The run's seeded train/test split of ``X`` (and ``y``), refusing a fraction outside
    [0, 1) or fewer than two training samples."""
    if not 0 <= test_fraction < 1:
        raise ValueError(f"--test-fraction must be in [0, 1), got {test_fraction}")
    train, test = held_out_split(len(X), test_fraction, SPLIT_SEED)
    if len(train) < 2:
        raise ValueError(f"--data has {len(X)} samples; too few to train on")
    if y is None:
        return HeldOutSplit(X[train], X[test], None, None)
    return HeldOutSplit(X[train], X[test], y[train], y[test])


def data_record(
    X: np.ndarray, y: np.ndarray | None, *, source: str, limit: int | None, test_fraction: float
) -> dict[str, Any]:
    """The ``data`` entry of ``run.json``: enough to load the same arrays and split again."""
    return {
        "source": recorded_source(source),
        "limit": limit,
        "n_samples": len(X),
        "sample_shape": list(X.shape[1:]),
        "labelled": y is not None,
        "test_fraction": test_fraction,
        "split_seed": SPLIT_SEED,
        "checksum": data_checksum(X, y),
    }
