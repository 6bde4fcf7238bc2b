"""Saved models: safetensors + JSON, identical outputs after reload, clear errors for
truncated, foreign, newer and mismatched files, atomic writes."""

from __future__ import annotations

import json
import os
import struct

import numpy as np
import pytest

import latentmodels
from latentmodels import VAE, Autoencoder, ConditionalVAE, DenoisingAutoencoder
from latentmodels._internal.io import FORMAT_VERSION, ModelFileError
from tests.model_files import edit_document

FAST = dict(hidden_dims=(32,), batch_size=64, verbose=0, random_state=0, epochs=1)


@pytest.fixture(scope="module")
def data(mnist_small):
    return mnist_small[0][:256], mnist_small[1][:256]


@pytest.mark.parametrize(
    "factory",
    [
        lambda: VAE(latent_dim=3, **FAST),
        lambda: VAE(
            latent_dim=3,
            architecture="conv",
            likelihood="gaussian",
            **{**FAST, "hidden_dims": (4, 8)},
        ),
        lambda: Autoencoder(latent_dim=3, **FAST),
        lambda: DenoisingAutoencoder(latent_dim=3, corruption="masking", **FAST),
        lambda: DenoisingAutoencoder(latent_dim=3, noise_level=(0.1, 0.5), **FAST),
        lambda: ConditionalVAE(latent_dim=3, **FAST),
    ],
)
def test_reloaded_model_gives_identical_outputs(tmp_path, data, factory):
    X, y = data
    model = factory()
    conditional = isinstance(model, ConditionalVAE)
    model.fit(X, y) if conditional else model.fit(X)
    path = model.save(tmp_path / "model.lm")
    loaded = type(model).load(path)
    assert loaded.get_params() == model.get_params()
    args = (X[:20], y[:20]) if conditional else (X[:20],)
    np.testing.assert_array_equal(loaded.transform(*args), model.transform(*args))
    np.testing.assert_array_equal(loaded.score_samples(*args), model.score_samples(*args))
    np.testing.assert_array_equal(loaded.sample(5, random_state=1), model.sample(5, random_state=1))
    assert loaded.history_ == model.history_
    assert isinstance(latentmodels.load(path), type(model))


def test_saved_file_is_safetensors_with_a_json_header(tmp_path, data):
    model = VAE(latent_dim=2, **FAST).fit(data[0])
    raw = (tmp_path / "m.lm").read_bytes() if model.save(tmp_path / "m.lm") else b""
    (header_len,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + header_len])
    document = json.loads(header["__metadata__"]["latentmodels"])
    assert document["class"] == "VAE"
    assert document["format_version"] == FORMAT_VERSION
    assert document["params"]["latent_dim"] == 2
    assert b"pickle" not in raw and b"\x80\x04" not in raw[: 8 + header_len]


def test_truncated_file_gives_a_clear_error(tmp_path, data):
    path = VAE(latent_dim=2, **FAST).fit(data[0]).save(tmp_path / "m.lm")
    raw = open(path, "rb").read()
    for cut in (4, 100, len(raw) - 10):
        (tmp_path / "cut.lm").write_bytes(raw[:cut])
        with pytest.raises(ModelFileError, match="truncated"):
            VAE.load(tmp_path / "cut.lm")


def test_wrong_model_class_is_refused(tmp_path, data):
    path = Autoencoder(latent_dim=2, **FAST).fit(data[0]).save(tmp_path / "ae.lm")
    with pytest.raises(ModelFileError, match="holds a Autoencoder, not a VAE"):
        VAE.load(path)


def _edit_document(path, edit) -> None:
    """Rewrite the JSON document in a model file's header with ``edit(document)``."""
    edit_document(path, edit)


def _with_format_version(path, version) -> None:
    _edit_document(path, lambda document: document.update(format_version=version))


@pytest.mark.parametrize(
    ("version", "message"),
    [(FORMAT_VERSION + 1, "newer"), (-7, "not a version"), (0, "not a version"),
     ("1", "not a version"), (True, "not a version")],
)
def test_format_versions_that_were_never_written_are_refused(tmp_path, version, message):
    import torch

    from latentmodels._internal.io import write_tensor_file

    path = tmp_path / "odd.lm"
    write_tensor_file(path, {"w": torch.zeros(1)}, {"class": "VAE"})
    _with_format_version(path, version)
    with pytest.raises(ModelFileError, match=message):
        VAE.load(path)


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_a_pickle_is_named_as_a_pickle_and_never_loaded(tmp_path, protocol):
    import pickle

    path = tmp_path / "model.lm"
    path.write_bytes(pickle.dumps({"weights": [1.0, 2.0]}, protocol=protocol))
    with pytest.raises(ModelFileError, match="is a Python pickle"):
        VAE.load(path)


def test_foreign_and_missing_files(tmp_path):
    (tmp_path / "x.lm").write_bytes(os.urandom(64))
    with pytest.raises(ModelFileError):
        VAE.load(tmp_path / "x.lm")
    with pytest.raises(FileNotFoundError, match="no such model file"):
        VAE.load(tmp_path / "absent.lm")


def test_failed_write_leaves_the_old_file_intact(tmp_path, data, monkeypatch):
    model = VAE(latent_dim=2, **FAST).fit(data[0])
    path = model.save(tmp_path / "m.lm")
    before = open(path, "rb").read()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert open(path, "rb").read() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.lm"]


def test_saved_files_get_ordinary_permissions(tmp_path, data):
    path = VAE(latent_dim=2, **FAST).fit(data[0]).save(tmp_path / "m.lm")
    mask = os.umask(0)
    os.umask(mask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~mask


def test_unfitted_model_cannot_be_saved(tmp_path):
    with pytest.raises(Exception, match="not fitted"):
        VAE().save(tmp_path / "m.lm")


def test_a_model_saved_on_a_gpu_loads_on_a_cpu(tmp_path, data):
    """The file records device='cuda'; on a machine without CUDA the model loads on the CPU
    (with a warning) and gives the outputs it gave where it was saved."""
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: the fallback is for machines without it")
    X = data[0]
    model = VAE(latent_dim=2, hidden_dims=(16,), epochs=1, verbose=0, random_state=0).fit(X)
    path = tmp_path / "vae.lm"
    model.save(path)
    _edit_document(path, lambda document: document["params"].update(device="cuda"))
    with pytest.warns(UserWarning, match="loaded on the CPU"):
        loaded = VAE.load(path)
    assert loaded.device == "cpu"
    np.testing.assert_array_equal(loaded.transform(X[:5]), model.transform(X[:5]))
