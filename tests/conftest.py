"""Shared fixtures: small real data, the shared data folder, quiet deterministic torch."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"

# Two shared cores: one torch thread per test process keeps runs stable and fast.
torch.set_num_threads(int(os.environ.get("LATENTMODELS_TEST_THREADS", "1")))


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory) -> Iterator[Path]:
    """A cache folder of the test session's own (``XDG_CACHE_HOME``, inherited by the
    commands tests start), so tests neither read nor fill the user's ~/.cache."""
    folder = tmp_path_factory.mktemp("cache")
    previous = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = previous


def shared_file(name: str) -> Path:
    """Path of a file in ../shared/data, or skip the test with the reason."""
    path = SHARED_DATA / name
    if not path.exists():
        pytest.skip(f"{path} is absent (the shared data folder ships with CI, not with clones)")
    return path


@pytest.fixture(scope="session")
def mnist() -> tuple[np.ndarray, np.ndarray]:
    """The embedded MNIST digits: X float32 (8000, 28, 28) in [0, 1], y int64."""
    with np.load(REPO / "latentmodels" / "data" / "mnist_8k.npz", allow_pickle=False) as data:
        return (data["images"] / 255.0).astype(np.float32), data["labels"].astype(np.int64)


@pytest.fixture(scope="session")
def mnist_small(mnist) -> tuple[np.ndarray, np.ndarray]:
    """A class-balanced 1,000-digit slice, for tests that train."""
    X, y = mnist
    rng = np.random.default_rng(0)
    index = rng.permutation(len(X))[:1000]
    return X[index], y[index]
