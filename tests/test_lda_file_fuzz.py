"""An LDA file is never trusted: every mutation of a saved file gives a clean error or the
very same model — never a crash, a hang, an out-of-bounds read or a different answer."""

from __future__ import annotations

import copy
import json
import signal
import struct
from contextlib import contextmanager

import numpy as np
import pytest

from latentmodels._internal.io import ModelFileError
from latentmodels.lda import _file
from latentmodels.lda.model import LDA
from latentmodels.lda.text import TextCorpus
from tests.model_files import forge_digest

TEXTS = [
    "apples pears plums apples", "cars trucks wheels cars", "pears plums cherries",
    "wheels engines trucks", "apples cherries plums", "engines cars roads",
] * 3
N_CASES = 400


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    corpus = TextCorpus.from_texts(TEXTS, stop_words=None)
    model = LDA(2, max_iter=20, random_state=0, n_jobs=1).fit(corpus)
    path = tmp_path_factory.mktemp("fuzz") / "lda.lm"
    model.save(path)
    return model, path.read_bytes()


def split(data: bytes) -> tuple[dict, dict, bytes]:
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    return header, json.loads(header["__metadata__"]["latentmodels"]), data[8 + n :]


def join(header: dict, document: dict, body: bytes) -> bytes:
    header = dict(header)
    header["__metadata__"] = {"latentmodels": json.dumps(document)}
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + body


def resign(document: dict, header: dict, body: bytes) -> None:
    """Recompute the digest as a forger would, so the structural checks must do the work."""
    import torch
    from safetensors.torch import load

    try:
        tensors = load(join(header, document, body))
    except Exception:
        return
    attributes = document.get("attributes")
    params = document.get("params")
    if isinstance(attributes, dict) and isinstance(params, dict) and "digest" in attributes:
        try:
            full = LDA(**params).get_params()
            attributes["digest"] = _file.digest(
                {k: torch.as_tensor(v) for k, v in tensors.items()}, attributes, full
            )
        except Exception:
            pass
    forge_digest(header, document, body)  # and the digest every model file records


ODD_VALUES = [
    -1, 0, 1, 2, 3, 7, 10**18, 2**64, -(10**18), 0.5, 1e308, -1e-300, float("nan"),
    float("inf"), None, True, "", "x", "(a+)+$", "(\\w+\\s?)*$", [], [0], [1.0, -1.0], {},
    {"words": []}, ["a", "a"], [""], list(range(5)), "asymmetric", "vb", "gibbs",
]


def leaves(node, path=()):
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


def mutate_document(document: dict, rng: np.random.Generator) -> None:
    paths = [p for p, _ in leaves(document) if p]
    path = paths[int(rng.integers(len(paths)))]
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    key = path[-1]
    action = rng.integers(4)
    if action == 0 and isinstance(parent, dict):
        del parent[key]
    elif action == 1 and isinstance(parent, dict):
        parent[f"extra_{int(rng.integers(100))}"] = ODD_VALUES[int(rng.integers(len(ODD_VALUES)))]
    elif action == 2 and type(parent[key]) in (int, float):
        parent[key] = parent[key] + int(rng.choice([-1, 1, 1000]))
    else:
        parent[key] = copy.deepcopy(ODD_VALUES[int(rng.integers(len(ODD_VALUES)))])


def mutate_tensor_header(header: dict, rng: np.random.Generator) -> None:
    name = str(rng.choice(["components", "doc_topic_prior"]))
    entry = header[name]
    action = rng.integers(5)
    if action == 0:
        entry["dtype"] = str(rng.choice(["F32", "F16", "I64", "I32", "U8", "BOOL", "F64", "X"]))
    elif action == 1:
        entry["shape"] = entry["shape"][::-1]
    elif action == 2:
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


def mutated_file(data: bytes, rng: np.random.Generator) -> tuple[bytes, bool]:
    """A mutation of ``data`` and whether the digest was forged to match it."""
    kind = rng.integers(9)  # 4: the document edited; 5-8: edited and the digest forged
    if kind == 0:  # truncation
        return data[: int(rng.integers(len(data)))], False
    if kind == 1:  # random bytes flipped anywhere
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
    mutate_document(document, rng)
    forged = kind >= 5
    if forged:
        if rng.integers(2):
            mutate_tensor_header(header, rng)
        resign(document, header, body)
    return join(header, document, body), forged


@contextmanager
def deadline(seconds: int):
    def fail(*_):
        raise AssertionError(f"loading or using the file took more than {seconds} s (a hang)")

    previous = signal.signal(signal.SIGALRM, fail)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def same_model(a: LDA, b: LDA) -> bool:
    return (
        a.get_params() == b.get_params()
        and np.array_equal(a.components_, b.components_)
        and np.array_equal(a.doc_topic_prior_, b.doc_topic_prior_)
        and a.topic_word_prior_ == b.topic_word_prior_
        and a.n_features_in_ == b.n_features_in_
        and a.bound_ == b.bound_
        and a.vocabulary_ == b.vocabulary_
        and (a.n_iter_, a.n_batch_iter_, a.mean_doc_length_)
        == (b.n_iter_, b.n_batch_iter_, b.mean_doc_length_)
    )


def test_a_file_recording_more_words_than_its_topics_is_refused(saved, tmp_path):
    model, data = saved
    header, document, body = split(data)
    document["attributes"]["n_features_in"] += 5
    document["attributes"]["vocabulary"]["words"] += [f"w{i}" for i in range(5)]
    resign(document, header, body)
    path = tmp_path / "wide.lm"
    path.write_bytes(join(header, document, body))
    with pytest.raises(ModelFileError, match="n_features_in"):
        LDA.load(path)


def test_a_backtracking_token_pattern_is_refused(saved, tmp_path):
    _, data = saved
    header, document, body = split(data)
    document["attributes"]["vocabulary"]["token_pattern"] = "(a+)+$"
    resign(document, header, body)
    path = tmp_path / "regex.lm"
    path.write_bytes(join(header, document, body))
    with deadline(5), pytest.raises(ModelFileError, match="token_pattern"):
        LDA.load(path)


def test_an_edited_value_is_refused_by_the_digest(saved, tmp_path):
    _, data = saved
    header, document, body = split(data)
    document["attributes"]["topic_word_prior"] *= 2
    path = tmp_path / "edited.lm"
    path.write_bytes(join(header, document, body))
    with pytest.raises(ModelFileError, match="digest"):
        LDA.load(path)


@pytest.mark.slow
def test_fuzzed_files_load_identically_or_fail_cleanly(saved, tmp_path):
    original, data = saved
    rng = np.random.default_rng(20261201)
    probe = original.vocabulary_.words[:3]
    outcomes = {"refused": 0, "identical": 0, "forged-valid": 0}
    for case in range(N_CASES):
        blob, forged = mutated_file(data, rng)
        path = tmp_path / f"case{case}.lm"
        path.write_bytes(blob)
        with deadline(10):
            try:
                loaded = LDA.load(path)
            except (ModelFileError, ValueError) as exc:
                assert str(exc), f"case {case}: an error without a message"
                outcomes["refused"] += 1
                continue
            if same_model(loaded, original):
                outcomes["identical"] += 1
                np.testing.assert_array_equal(
                    loaded.transform([" ".join(probe)]), original.transform([" ".join(probe)])
                )
                continue
            # only a forger (who recomputes the digest) gets a different model through,
            # and then it is a consistent one that the kernels handle safely
            assert forged, f"case {case}: a damaged file loaded as a different model"
            outcomes["forged-valid"] += 1
            k, v = loaded.components_.shape
            assert v == loaded.n_features_in_ and k == loaded.n_components
            theta = loaded.transform(np.ones((2, v)))
            assert theta.shape == (2, k) and np.isfinite(theta).all()
    assert outcomes["refused"] > N_CASES // 2, outcomes
