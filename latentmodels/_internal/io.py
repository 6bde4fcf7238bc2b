"""Safe persistence: safetensors for arrays, JSON for everything else, atomic writes.

A saved model is one safetensors file whose header metadata holds a JSON document
(format version, class name, hyper-parameters, learned scalars). Loading parses the
header ourselves and hands the tensor bytes to safetensors, so nothing is ever unpickled.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import struct
import tempfile
import time
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
_DIGEST_KEY = "digest"
# The middle of a temporary file's name ".<name>.<pid>.<random>.tmp": the writer's id.
_TEMP_WRITER = re.compile(r"^(\d+)\.[^.]+$")
#: Temporary files of dead writers, or older than this (seconds) when their writer is not
#: recorded, are removed by the next save of the same file.
STALE_TEMP_AGE = 600.0


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
    remove_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp",
                               dir=path.parent)
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


def remove_stale_temporaries(path: str | os.PathLike) -> list[Path]:
    """Remove the temporary files that killed saves of ``path`` left beside it.

    A temporary file is stale when the process that wrote it is gone (its id is in the
    name), or, for one whose writer cannot be told, when it is older than
    :data:`STALE_TEMP_AGE` seconds. Files of a live writer are left alone.

    Parameters
    ----------
    path : str or os.PathLike
        The file whose temporary siblings to look for.

    Returns
    -------
    list of pathlib.Path
        The files removed.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / ".m.lm.999999999.abc.tmp").write_bytes(b"half")  # no such process
    >>> [p.name for p in remove_stale_temporaries(folder / "m.lm")]
    ['.m.lm.999999999.abc.tmp']
    """
    path = Path(path)
    removed = []
    try:
        siblings = list(path.parent.glob(f".{glob_escape(path.name)}.*.tmp"))
    except OSError:
        return removed
    now = time.time()
    prefix = f".{path.name}."
    for sibling in siblings:
        middle = sibling.name[len(prefix) : -len(".tmp")]
        match = _TEMP_WRITER.match(middle)
        try:
            if match is not None:
                pid = int(match[1])
                stale = pid != os.getpid() and not _process_alive(pid)
            elif "." not in middle:  # written before temporary names carried the writer's id
                stale = now - sibling.stat().st_mtime > STALE_TEMP_AGE
            else:  # the temporary file of another name that starts like this one
                continue
            if stale:
                sibling.unlink()
                removed.append(sibling)
        except OSError:  # raced with another cleaner, or not ours to remove
            continue
    return removed


def glob_escape(name: str) -> str:
    """``name`` with the glob wildcards ``*?[`` escaped.

    Examples
    --------
    >>> glob_escape("a[1]*.lm")
    'a[[]1][*].lm'
    """
    return re.sub(r"([*?[])", r"[\1]", name)


def _process_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # exists (another user's), or cannot be told: keep its file
    return True


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
    header[_DIGEST_KEY] = content_digest(contiguous, header)
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
    recorded = document.pop(_DIGEST_KEY, None)
    if recorded is not None and recorded != content_digest(tensors, document):
        raise ModelFileError(
            f"{path}: field 'digest': the file's contents do not match the digest it records "
            "(the file is corrupt or was edited); it was not loaded"
        )
    return document, tensors


def content_digest(tensors: Mapping[str, torch.Tensor], document: Mapping[str, Any]) -> str:
    """SHA-256 of a model file's content: each tensor's name, dtype, shape and bytes, and
    the JSON document (without its own digest).

    Files record it, so a flipped byte or an edited value is refused on loading rather
    than read as a different model.

    Parameters
    ----------
    tensors : mapping of str to torch.Tensor
        The file's arrays.
    document : mapping
        The file's JSON document.

    Returns
    -------
    str
        64 hexadecimal digits.

    Examples
    --------
    >>> a = content_digest({"w": torch.zeros(2)}, {"n": 1})
    >>> a == content_digest({"w": torch.zeros(2)}, {"n": 1}), len(a)
    (True, 64)
    >>> a == content_digest({"w": torch.ones(2)}, {"n": 1})
    False
    """
    digest = hashlib.sha256()
    for name in sorted(tensors):
        tensor = tensors[name].detach().cpu().contiguous()
        digest.update(f"{name}|{tensor.dtype}|{list(tensor.shape)}|".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    rest = {k: v for k, v in document.items() if k != _DIGEST_KEY}
    digest.update(json.dumps(to_jsonable(rest), sort_keys=True, allow_nan=True).encode())
    return digest.hexdigest()


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
