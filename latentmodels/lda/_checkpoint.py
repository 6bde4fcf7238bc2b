"""Atomic checkpoints of an LDA fit, so that ``fit(..., resume=True)`` continues exactly.

A checkpoint holds the sampler's or the variational state after a whole iteration (token
topics and generator states for Gibbs; topics and document ``gamma`` for VB), the history
so far, and a *signature*: the hyper-parameters, seed, thread count and a digest of the
training data. Resuming with anything else in the signature is refused. Files are written
through :func:`latentmodels._internal.io.write_tensor_file` (a temporary file and a
rename), so a fit killed while writing leaves the previous checkpoint intact. Each
``torch.distributed`` rank keeps its own file (its own documents' state).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch

from .._internal import io

#: Hyper-parameters that may change between a killed fit and its resume.
RESUMABLE_CHANGES = frozenset({"verbose", "checkpoint_dir", "checkpoint_every", "n_jobs"})
#: Checkpoint every this many iterations when ``checkpoint_every`` is None.
DEFAULT_EVERY = 10


def data_digest(counts: sp.csr_matrix) -> str:
    """SHA-256 of a CSR matrix's shape and contents (the data a checkpoint belongs to).

    Examples
    --------
    >>> len(data_digest(sp.csr_matrix(np.eye(2))))
    64
    """
    digest = hashlib.sha256(repr(counts.shape).encode())
    for array in (counts.indptr, counts.indices, counts.data):
        digest.update(np.ascontiguousarray(array, dtype=np.float64).tobytes())
    return digest.hexdigest()


class Checkpointer:
    """Writes and reads one rank's checkpoint file in ``directory``.

    Parameters
    ----------
    directory
        The folder (created on first write).
    every
        Write after every this many iterations (and after the last).
    signature
        JSON-able settings a resume must match exactly.
    rank
        This process's ``torch.distributed`` rank (0 outside a group).

    Examples
    --------
    >>> import tempfile
    >>> ck = Checkpointer(tempfile.mkdtemp(), 2, {"seed": 1})
    >>> ck.save(1, {"x": np.arange(3.0)}, {"bound": [1.0]})
    >>> ck.load()[0], ck.load()[1]["x"].tolist()
    (1, [0.0, 1.0, 2.0])
    """

    def __init__(
        self, directory: str | os.PathLike, every: int, signature: dict[str, Any], rank: int = 0
    ) -> None:
        self.directory = Path(directory)
        self.every = int(every)
        self.signature = json.loads(json.dumps(io.to_jsonable(signature)))
        suffix = "" if rank == 0 else f".rank{rank}"
        self.path = self.directory / f"lda_checkpoint{suffix}.safetensors"

    def due(self, iteration: int, last: bool) -> bool:
        """Whether to write after (0-based) ``iteration``."""
        return last or (iteration + 1) % self.every == 0

    def save(self, iteration: int, arrays: dict[str, np.ndarray], extra: dict[str, Any]) -> None:
        """Write the state after ``iteration`` (atomically: temporary file and rename)."""
        tensors = {
            name: torch.from_numpy(np.ascontiguousarray(value)) for name, value in arrays.items()
        }
        document = {
            "kind": "lda-checkpoint",
            "iteration": int(iteration),
            "signature": self.signature,
            "extra": extra,
        }
        io.write_tensor_file(self.path, tensors, document)

    def stored_seed(self) -> int | None:
        """The seed recorded in an existing checkpoint (None without one)."""
        if not self.path.exists():
            return None
        document, _ = io.read_tensor_file(self.path)
        seed = document.get("signature", {}).get("seed") if isinstance(document, dict) else None
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise io.ModelFileError(f"resume: {self.path} records no valid seed")
        return seed

    def load(self) -> tuple[int, dict[str, np.ndarray], dict[str, Any]] | None:
        """``(iteration, arrays, extra)`` of the checkpoint, or None if there is none.

        Raises ``ValueError`` if it was made with other settings or data, and
        :class:`~latentmodels._internal.io.ModelFileError` if it is not a checkpoint.
        """
        if not self.path.exists():
            return None
        document, tensors = io.read_tensor_file(self.path)
        if not isinstance(document, dict) or document.get("kind") != "lda-checkpoint":
            raise io.ModelFileError(f"resume: {self.path} is not an LDA checkpoint")
        saved = document.get("signature")
        if not isinstance(saved, dict):
            raise io.ModelFileError(f"resume: {self.path} has no signature")
        changed = sorted(
            k for k in set(saved) | set(self.signature) if saved.get(k) != self.signature.get(k)
        )
        if changed:
            raise ValueError(
                f"resume: the checkpoint in {self.directory} was made with different settings "
                f"or data ({', '.join(changed)}); use another checkpoint_dir or the same settings"
            )
        iteration = document.get("iteration")
        extra = document.get("extra")
        if isinstance(iteration, bool) or not isinstance(iteration, int) or iteration < 0:
            raise io.ModelFileError(f"resume: {self.path} has no valid iteration")
        if not isinstance(extra, dict):
            raise io.ModelFileError(f"resume: {self.path} has no state")
        return iteration, {k: v.numpy() for k, v in tensors.items()}, extra


def expect(
    arrays: dict[str, np.ndarray], name: str, shape: tuple[int, ...], dtype: Any
) -> np.ndarray:
    """``arrays[name]``, checked to have ``shape`` and ``dtype`` (finite if floating)."""
    value = arrays.get(name)
    if value is None:
        raise io.ModelFileError(f"resume: the checkpoint lacks {name!r}")
    if value.shape != shape or value.dtype != np.dtype(dtype):
        raise io.ModelFileError(
            f"resume: checkpoint field {name!r} has shape {value.shape} and dtype {value.dtype}, "
            f"expected {shape} and {np.dtype(dtype)}"
        )
    if value.dtype.kind == "f" and not np.isfinite(value).all():
        raise io.ModelFileError(f"resume: checkpoint field {name!r} holds non-finite values")
    return value.copy()


def expect_floats(extra: dict[str, Any], name: str) -> list[float]:
    """A list of finite floats stored in the checkpoint's JSON part."""
    value = extra.get(name)
    if not isinstance(value, list) or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v) for v in value
    ):
        raise io.ModelFileError(f"resume: checkpoint field {name!r} is not a list of numbers")
    return [float(v) for v in value]
