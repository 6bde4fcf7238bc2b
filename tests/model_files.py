"""Helpers shared by the model-file tests: take a saved file apart, edit it, put it back
together, and forge its digest as a deliberate editor would (so that the structural checks,
not the digest, must catch the edit)."""

from __future__ import annotations

import json
import struct
from collections.abc import Callable

from latentmodels._internal import io


def split(data: bytes) -> tuple[dict, dict, bytes]:
    """``(safetensors header, latentmodels document, tensor bytes)`` of a file's bytes."""
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    return header, json.loads(header["__metadata__"]["latentmodels"]), data[8 + n :]


def join(header: dict, document: dict, body: bytes) -> bytes:
    """The bytes of a file made of these parts (the inverse of :func:`split`)."""
    header = dict(header)
    header["__metadata__"] = {"latentmodels": json.dumps(document)}
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw + body


def forge_digest(header: dict, document: dict, body: bytes) -> None:
    """Recompute ``document``'s digest for the tensors the parts describe (when they still
    parse), as someone editing the file on purpose would."""
    from safetensors.torch import load

    if "digest" not in document:
        return
    try:
        tensors = load(join(header, document, body))
    except Exception:
        return
    document["digest"] = io.content_digest(tensors, document)


def edit_document(path, edit: Callable[[dict], None], *, forge: bool = True) -> None:
    """Rewrite the JSON document of the model file at ``path`` with ``edit(document)``;
    the digest is forged to match unless ``forge`` is False."""
    header, document, body = split(path.read_bytes())
    edit(document)
    if forge:
        forge_digest(header, document, body)
    path.write_bytes(join(header, document, body))
