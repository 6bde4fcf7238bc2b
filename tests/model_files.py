"""Helpers shared by the model-file tests: take a saved file apart, edit it, put it back
together, and forge its digest as a deliberate editor would (so that the structural checks,
not the digest, must catch the edit)."""

from __future__ import annotations

import copy
import json
import signal
import struct
from collections.abc import Callable
from contextlib import contextmanager

import numpy as np

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


def leaves(node, path=()):
    """Every path into a JSON ``node`` (dicts, the first six items of lists) with its leaf
    value, or None for an inner node."""
    if isinstance(node, dict):
        yield path, None
        for key, value in node.items():
            yield from leaves(value, (*path, key))
    elif isinstance(node, list):
        yield path, None
        for i, value in enumerate(node[:6]):
            yield from leaves(value, (*path, i))
    else:
        yield path, node


def mutate_document(document: dict, rng: np.random.Generator, odd_values: list) -> None:
    """Delete, add, nudge or replace one field of ``document`` (never its digest: a wrong
    digest only tests the digest check)."""
    paths = [p for p, _ in leaves(document) if p and p[0] != "digest"]
    path = paths[int(rng.integers(len(paths)))]
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    key = path[-1]
    action = rng.integers(4)
    if action == 0 and isinstance(parent, dict):
        del parent[key]
    elif action == 1 and isinstance(parent, dict):
        parent[f"extra_{int(rng.integers(100))}"] = odd_values[int(rng.integers(len(odd_values)))]
    elif action == 2 and type(parent[key]) in (int, float):
        parent[key] = parent[key] + int(rng.choice([-1, 1, 1000]))
    else:
        parent[key] = copy.deepcopy(odd_values[int(rng.integers(len(odd_values)))])


def mutate_tensor_header(header: dict, rng: np.random.Generator) -> None:
    """Change one tensor's dtype, shape or byte offsets in the safetensors header."""
    names = sorted(k for k in header if k != "__metadata__")
    entry = header[names[int(rng.integers(len(names)))]]
    action = rng.integers(5)
    if action == 0:
        entry["dtype"] = str(rng.choice(["F32", "F16", "I64", "I32", "U8", "BOOL", "F64", "X"]))
    elif action == 1:
        entry["shape"] = entry["shape"][::-1]
    elif action == 2 and entry["shape"]:
        shape = list(entry["shape"])
        i = int(rng.integers(len(shape)))
        shape[i] = int(shape[i] + rng.choice([-1, 1, 2**40]))
        entry["shape"] = shape
    elif action == 3:
        size = int(np.prod(entry["shape"]))
        entry["shape"] = [size] if len(entry["shape"]) > 1 else [1, size]
    else:
        start, stop = entry["data_offsets"]
        entry["data_offsets"] = [int(start + rng.integers(-8, 9)), int(stop + rng.integers(-8, 9))]


Forger = Callable[[dict, dict, bytes], None]


def mutated_file(
    data: bytes, rng: np.random.Generator, odd_values: list, forge: Forger = forge_digest
) -> tuple[bytes, bool]:
    """A random mutation of the file ``data`` and whether its digest was forged to match:
    a truncation, flipped bytes, an edited tensor header, changed tensor values, or an
    edited document (half of those forged with ``forge(header, document, body)``)."""
    kind = rng.integers(9)  # 4: the document edited; 5-8: edited and the digest forged
    if kind == 0:
        return data[: int(rng.integers(len(data)))], False
    if kind == 1:
        raw = bytearray(data)
        for _ in range(int(rng.integers(1, 4))):
            raw[int(rng.integers(len(raw)))] ^= int(rng.integers(1, 256))
        return bytes(raw), False
    header, document, body = split(data)
    if kind == 2:
        mutate_tensor_header(header, rng)
        return join(header, document, body), False
    if kind == 3:  # tensor bytes changed in place (values, not structure)
        raw = bytearray(body)
        raw[int(rng.integers(len(raw)))] ^= int(rng.integers(1, 256))
        return join(header, document, bytes(raw)), False
    mutate_document(document, rng, odd_values)
    forged = kind >= 5
    if forged:
        if rng.integers(2):
            mutate_tensor_header(header, rng)
        forge(header, document, body)
    return join(header, document, body), forged


@contextmanager
def deadline(seconds: int):
    """Fail the test when the block takes longer than ``seconds`` (a hang)."""

    def fail(*_):
        raise AssertionError(f"loading or using the file took more than {seconds} s (a hang)")

    previous = signal.signal(signal.SIGALRM, fail)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
