"""Atomic fit checkpoints any family can use, so that ``fit(..., resume=True)`` continues exactly.

A checkpoint is one safetensors file: float/int arrays as tensors, and in its JSON header the
kind of checkpoint, the iteration it was written after, the fit's state that is not an array
(``extra``) and a *signature*: the settings (hyper-parameters, seed, data digest, ...) a resume
must match exactly. Files go through :func:`latentmodels._internal.io.write_tensor_file` (a
temporary file and a rename), so a fit killed while writing leaves the previous checkpoint
intact; reading never unpickles and every field is checked before use.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from . import io

__all__ = ["Checkpointer", "array_digest", "expect", "expect_count", "expect_floats"]


def array_digest(*arrays: np.ndarray) -> str:
    """SHA-256 of arrays' dtypes, shapes and contents (the data a checkpoint belongs to).

    Examples
    --------
    >>> a = array_digest(np.arange(3.0), np.array([0, 3]))
    >>> a == array_digest(np.arange(3.0), np.array([0, 3])), a == array_digest(np.arange(3.0))
    (True, False)
    """
    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape};".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


class Checkpointer:
    """Writes and reads one checkpoint file, ``<directory>/<stem>.safetensors``.

    Parameters
    ----------
    directory : str or os.PathLike
        The folder (created on first write).
    every : int
        Write after every this many iterations (and after the last).
    signature : dict
        JSON-able settings a resume must match exactly.
    kind : str
        What the file holds (``"hmm-checkpoint"``); a file of another kind is refused.
    stem : str
        The file name without its suffix.
    writer : bool, default=True
        Whether this process writes (under ``torch.distributed`` only rank 0 does).

    Examples
    --------
    >>> import tempfile
    >>> ck = Checkpointer(tempfile.mkdtemp(), 2, {"seed": 1}, kind="demo", stem="demo")
    >>> ck.save(1, {"x": np.arange(3.0)}, {"history": [1.0]})
    >>> iteration, arrays, extra = ck.load()
    >>> iteration, arrays["x"].tolist(), extra["history"]
    (1, [0.0, 1.0, 2.0], [1.0])
    """

    def __init__(
        self, directory: str | os.PathLike, every: int, signature: dict[str, Any], *,
        kind: str, stem: str, writer: bool = True,
    ) -> None:
        self.directory = Path(directory)
        self.every = int(every)
        self.signature = json.loads(json.dumps(io.to_jsonable(signature)))
        self.kind = kind
        self.writer = bool(writer)
        self.path = self.directory / f"{stem}.safetensors"

    def due(self, iteration: int, last: bool) -> bool:
        """Whether to write after (0-based) ``iteration``.

        Examples
        --------
        >>> ck = Checkpointer(".", 3, {}, kind="demo", stem="demo")
        >>> [ck.due(i, False) for i in range(4)], ck.due(0, True)
        ([False, False, True, False], True)
        """
        return last or (iteration + 1) % self.every == 0

    def save(self, iteration: int, arrays: dict[str, np.ndarray], extra: dict[str, Any]) -> None:
        """Write the state after ``iteration`` atomically (nothing when not the writer).

        Examples
        --------
        >>> import tempfile
        >>> folder = tempfile.mkdtemp()
        >>> Checkpointer(folder, 1, {}, kind="demo", stem="a", writer=False).save(0, {}, {})
        >>> Checkpointer(folder, 1, {}, kind="demo", stem="b").save(0, {}, {})
        >>> sorted(p.name for p in Path(folder).iterdir())
        ['b.safetensors']
        """
        if not self.writer:
            return
        tensors = {
            name: torch.from_numpy(np.ascontiguousarray(value)) for name, value in arrays.items()
        }
        document = {
            "kind": self.kind,
            "iteration": int(iteration),
            "signature": self.signature,
            "extra": extra,
        }
        io.write_tensor_file(self.path, tensors, document)

    def _read(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        document, tensors = io.read_tensor_file(self.path)
        if not isinstance(document, dict) or document.get("kind") != self.kind:
            raise io.ModelFileError(f"resume: {self.path} is not a {self.kind} file")
        if not isinstance(document.get("signature"), dict):
            raise io.ModelFileError(f"resume: {self.path} has no signature")
        return document, tensors

    def stored_seed(self) -> int | None:
        """The seed recorded in an existing checkpoint (None without one).

        Examples
        --------
        >>> import tempfile
        >>> ck = Checkpointer(tempfile.mkdtemp(), 1, {"seed": 5}, kind="demo", stem="demo")
        >>> ck.stored_seed() is None
        True
        >>> ck.save(0, {}, {}); ck.stored_seed()
        5
        """
        if not self.path.exists():
            return None
        seed = self._read()[0]["signature"].get("seed")
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise io.ModelFileError(f"resume: {self.path} records no valid seed")
        return seed

    def load(self) -> tuple[int, dict[str, np.ndarray], dict[str, Any]] | None:
        """``(iteration, arrays, extra)`` of the checkpoint, or None if there is none.

        Raises ``ValueError`` naming what differs if it was made with other settings or
        data, and :class:`~latentmodels._internal.io.ModelFileError` if it is not a
        checkpoint of this kind.

        Examples
        --------
        >>> import tempfile
        >>> folder = tempfile.mkdtemp()
        >>> Checkpointer(folder, 1, {"n": 2}, kind="demo", stem="demo").save(0, {}, {})
        >>> Checkpointer(folder, 1, {"n": 3}, kind="demo", stem="demo").load()
        Traceback (most recent call last):
        ...
        ValueError: resume: the checkpoint in ... was made with different settings or data (n); ...
        """
        if not self.path.exists():
            return None
        document, tensors = self._read()
        saved = document["signature"]
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
    """``arrays[name]``, checked to have ``shape`` and ``dtype`` (finite if floating).

    Examples
    --------
    >>> expect({"w": np.zeros(2)}, "w", (2,), np.float64).tolist()
    [0.0, 0.0]
    >>> expect({"w": np.zeros(2)}, "w", (3,), np.float64)
    Traceback (most recent call last):
    ...
    latentmodels._internal.io.ModelFileError: resume: checkpoint field 'w' has shape (2,) ...
    """
    value = arrays.get(name)
    if value is None:
        raise io.ModelFileError(f"resume: the checkpoint lacks {name!r}")
    if value.shape != tuple(shape) or value.dtype != np.dtype(dtype):
        raise io.ModelFileError(
            f"resume: checkpoint field {name!r} has shape {value.shape} and dtype {value.dtype}, "
            f"expected {tuple(shape)} and {np.dtype(dtype)}"
        )
    if value.dtype.kind == "f" and not np.isfinite(value).all():
        raise io.ModelFileError(f"resume: checkpoint field {name!r} holds non-finite values")
    return value.copy()


def expect_floats(extra: dict[str, Any], name: str) -> list[float]:
    """A list of finite floats stored in the checkpoint's JSON part.

    Examples
    --------
    >>> expect_floats({"history": [1, 2.5]}, "history")
    [1.0, 2.5]
    """
    value = extra.get(name)
    if not isinstance(value, list) or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v) for v in value
    ):
        raise io.ModelFileError(f"resume: checkpoint field {name!r} is not a list of numbers")
    return [float(v) for v in value]


def expect_count(extra: dict[str, Any], name: str, upper: int) -> int:
    """An integer in ``[0, upper]`` stored in the checkpoint's JSON part.

    Examples
    --------
    >>> expect_count({"run": 1}, "run", 3)
    1
    """
    value = extra.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= upper:
        raise io.ModelFileError(
            f"resume: checkpoint field {name!r} must be an integer in [0, {upper}], got {value!r}"
        )
    return value
