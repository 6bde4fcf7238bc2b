"""An LDA file is never trusted: every mutation of a saved file gives a clean error or the
very same model — never a crash, a hang, an out-of-bounds read or a different answer."""

from __future__ import annotations

import numpy as np
import pytest

from latentmodels._internal.io import ModelFileError
from latentmodels.lda import _file
from latentmodels.lda.model import LDA
from latentmodels.lda.text import TextCorpus
from tests.model_files import deadline, forge_digest, join, mutated_file, split

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


def resign(header: dict, document: dict, body: bytes) -> None:
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
    resign(header, document, body)
    path = tmp_path / "wide.lm"
    path.write_bytes(join(header, document, body))
    with pytest.raises(ModelFileError, match="n_features_in"):
        LDA.load(path)


def test_a_backtracking_token_pattern_is_refused(saved, tmp_path):
    _, data = saved
    header, document, body = split(data)
    document["attributes"]["vocabulary"]["token_pattern"] = "(a+)+$"
    resign(header, document, body)
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
        blob, forged = mutated_file(data, rng, ODD_VALUES, forge=resign)
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
