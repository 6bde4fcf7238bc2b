"""Safe persistence: safetensors for arrays, JSON for everything else, atomic writes.

A saved model is one safetensors file whose header metadata holds a JSON document
(format version, class name, hyper-parameters, learned scalars). Loading parses the
header ourselves and hands the tensor bytes to safetensors, so nothing is ever unpickled.
"""

from __future__ import annotations

import json
import os
import struct
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load as _safetensors_load
from safetensors.torch import save as _safetensors_save

FORMAT_NAME = "latentmodels"
FORMAT_VERSION = 1
_METADATA_KEY = "latentmodels"


class ModelFileError(ValueError):
    """A file is not a readable latentmodels file (truncated, foreign, too new, wrong class).

    Subclass of ``ValueError``, so ``except ValueError`` also catches it.

    Examples
    --------
    >>> issubclass(ModelFileError, ValueError)
    True
    """


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    A reader never sees a half-written file, and a crash leaves the old file intact.
    Missing parent folders are created.

    Parameters
    ----------
    path : str or os.PathLike
        File to write.
    data : bytes
        The file's new content.

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import tempfile
    >>> p = atomic_write_bytes(Path(tempfile.mkdtemp()) / "sub" / "a.bin", b"abc")
    >>> p.read_bytes()
    b'abc'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp creates 0600 files; give the result the permissions open() would.
        os.fchmod(fd, 0o666 & ~_current_umask())
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write text atomically (UTF-8).

    Parameters
    ----------
    path : str or os.PathLike
        File to write.
    text : str
        The file's new content.

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import tempfile
    >>> atomic_write_text(Path(tempfile.mkdtemp()) / "a.txt", "hi").read_text()
    'hi'
    """
    return atomic_write_bytes(path, text.encode("utf-8"))


def to_jsonable(value: Any) -> Any:
    """Convert tuples, paths, numpy scalars and arrays (and tensors) into plain JSON types.

    Parameters
    ----------
    value : object
        A value, possibly nested in mappings, lists and tuples.

    Returns
    -------
    object
        The same value made of dicts (with string keys), lists, strings and numbers.

    Examples
    --------
    >>> to_jsonable({"shape": (2, 3), "mean": np.float32(0.5), "w": np.arange(2)})
    {'shape': [2, 3], 'mean': 0.5, 'w': [0, 1]}
    """
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, torch.Tensor):
        return value.tolist()
    return value


def write_tensor_file(
    path: str | os.PathLike, tensors: Mapping[str, torch.Tensor], document: Mapping[str, Any]
) -> Path:
    """Write tensors plus a JSON ``document`` into one safetensors file, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        File to write.
    tensors : mapping of str to torch.Tensor
        The arrays to store.
    document : mapping
        JSON-able metadata (hyper-parameters, class name, ...), stored in the header.

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "m.safetensors"
    >>> _ = write_tensor_file(path, {"w": torch.zeros(2, 3)}, {"class": "Demo"})
    >>> document, tensors = read_tensor_file(path)
    >>> document["class"], tuple(tensors["w"].shape)
    ('Demo', (2, 3))
    """
    header = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, **to_jsonable(document)}
    contiguous = {name: t.detach().cpu().contiguous() for name, t in tensors.items()}
    payload = _safetensors_save(contiguous, metadata={_METADATA_KEY: json.dumps(header)})
    return atomic_write_bytes(path, payload)


def read_tensor_file(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    r"""Read a file written by :func:`write_tensor_file`.

    Nothing is unpickled: the header is parsed here and the tensor bytes go to safetensors.

    Parameters
    ----------
    path : str or os.PathLike
        File to read.

    Returns
    -------
    document : dict
        The JSON document, with ``format`` and ``format_version`` added on writing.
    tensors : dict of str to torch.Tensor
        The stored arrays.

    Raises
    ------
    ModelFileError
        For truncated or foreign files and for files written by a newer format version.
    FileNotFoundError
        For a missing path.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "m.safetensors"
    >>> _ = write_tensor_file(path, {"b": torch.ones(3)}, {"n": 1})
    >>> document, tensors = read_tensor_file(path)
    >>> document["n"], document["format_version"], tensors["b"].tolist()
    (1, 1, [1.0, 1.0, 1.0])
    >>> _ = path.write_bytes(b"\x80\x04 not ours")
    >>> read_tensor_file(path)
    Traceback (most recent call last):
    ...
    latentmodels._internal.io.ModelFileError: ... is a Python pickle ...
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path: no such model file: {path}")
    data = path.read_bytes()
    if len(data) < 8:
        raise ModelFileError(f"{path} is truncated or not a latentmodels file ({len(data)} bytes)")
    (header_len,) = struct.unpack("<Q", data[:8])
    # A file that does not parse as ours may be a well-known other format: say which.
    foreign = _foreign_format(data)
    if foreign and (header_len > len(data) - 8 or data[8:9] != b"{"):
        raise ModelFileError(f"{path} is {foreign}, not a latentmodels file (safetensors + "
                             "JSON); it was not loaded")
    if header_len > len(data) - 8:
        raise ModelFileError(
            f"{path} is truncated: its header announces {header_len} bytes but the file has "
            f"{len(data) - 8}"
        )
    try:
        raw_header = json.loads(data[8 : 8 + header_len].decode("utf-8"))
        document = json.loads(raw_header["__metadata__"][_METADATA_KEY])
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ModelFileError(f"{path} is not a latentmodels file (no latentmodels header)") from exc
    if document.get("format") != FORMAT_NAME:
        raise ModelFileError(f"{path} is not a latentmodels file")
    version = document.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelFileError(f"{path} records format version {version!r}, which is not a "
                             "version this library ever wrote")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path} was written with format version {version}, newer than this library "
            f"reads ({FORMAT_VERSION}); upgrade latentmodels to load it"
        )
    try:
        tensors = _safetensors_load(data)
    except Exception as exc:  # safetensors raises its own error types
        raise ModelFileError(f"{path} is truncated or corrupt: {exc}") from exc
    return document, tensors


def _foreign_format(data: bytes) -> str | None:
    """Name a well-known format that is not ours, from its first bytes (never parsed)."""
    if len(data) >= 2 and data[0] == 0x80 and 2 <= data[1] <= 5:
        return "a Python pickle (pickles can run code when loaded)"
    if data[:4] == b"PK\x03\x04":
        return "a zip archive (torch.save writes these; they hold pickles)"
    if data[:6] == b"\x93NUMPY":
        return "a NumPy .npy array"
    if data[:2] == b"\x1f\x8b":
        return "a gzip archive"
    return None
