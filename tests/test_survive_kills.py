"""What a user does to survive a kill outside ``fit``: a ``partial_fit`` loop that saves after
each call and, after a restart, loads and continues ends with the very model of a loop never
interrupted; ``fit_batches`` (HMM) and a deep model fitted from a ``DataLoader`` checkpoint and
resume as ``fit`` does."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from latentmodels import VAE
from latentmodels._internal.checkpoints import Checkpointer
from latentmodels.hmm import GaussianHMM
from latentmodels.lda.model import LDA

RNG = np.random.default_rng(0)
COUNTS = RNG.poisson(1.0, (60, 12))
SERIES = np.r_[RNG.normal(0, 1, (60, 2)), RNG.normal(5, 1, (60, 2))]


def partial_fit_loop(model, batches, reload_to=None):
    for batch in batches:
        model.partial_fit(batch)
        if reload_to is not None:  # as a loop that saves each call and was killed after it
            model.save(reload_to)
            model = type(model).load(reload_to)
    return model


def test_lda_partial_fit_loop_saved_and_reloaded_each_call_ends_identical(tmp_path):
    batches = [COUNTS[i : i + 20] for i in range(0, 60, 20)] * 2
    settings = dict(method="vb", learning_method="online", total_samples=60, random_state=0,
                    n_jobs=1)
    kept = partial_fit_loop(LDA(3, **settings), batches)
    reloaded = partial_fit_loop(LDA(3, **settings), batches, tmp_path / "lda.lm")
    np.testing.assert_array_equal(kept.components_, reloaded.components_)
    assert kept.n_batch_iter_ == reloaded.n_batch_iter_ == 6
    np.testing.assert_array_equal(kept.transform(COUNTS), reloaded.transform(COUNTS))


def test_hmm_partial_fit_loop_saved_and_reloaded_each_call_ends_identical(tmp_path):
    batches = [SERIES[i : i + 40] for i in range(0, 120, 40)]
    kept = partial_fit_loop(GaussianHMM(2, random_state=0), batches)
    reloaded = partial_fit_loop(GaussianHMM(2, random_state=0), batches, tmp_path / "h.lm")
    for name in ("startprob_", "transmat_", "means_", "covars_"):
        np.testing.assert_array_equal(getattr(kept, name), getattr(reloaded, name), name)
    assert kept.monitor_.history == reloaded.monitor_.history


class Killed(BaseException):
    """Stands for os._exit: nothing on the way up handles it."""


def test_hmm_fit_batches_killed_after_a_checkpoint_resumes_to_the_same_model(
    tmp_path, monkeypatch
):
    chunks = [SERIES[i : i + 30] for i in range(0, 120, 30)]
    settings = dict(n_iter=8, tol=-np.inf, random_state=0, checkpoint_every=2)
    whole = GaussianHMM(2, checkpoint_dir=tmp_path / "whole", **settings).fit_batches(chunks)

    original = Checkpointer.save

    def save_then_die(self, iteration, arrays, extra):
        original(self, iteration, arrays, extra)
        if iteration == 3:
            raise Killed

    monkeypatch.setattr(Checkpointer, "save", save_then_die)
    with pytest.raises(Killed):
        GaussianHMM(2, checkpoint_dir=tmp_path / "killed", **settings).fit_batches(chunks)
    monkeypatch.undo()
    resumed = GaussianHMM(2, checkpoint_dir=tmp_path / "killed", **settings).fit_batches(
        chunks, resume=True)
    for name in ("startprob_", "transmat_", "means_", "covars_"):
        np.testing.assert_array_equal(getattr(whole, name), getattr(resumed, name), name)
    assert resumed.monitor_.history == whole.monitor_.history and len(whole.monitor_.history) == 8


def test_a_deep_fit_from_a_dataloader_resumes_to_the_uninterrupted_weights(tmp_path):
    images = torch.from_numpy(RNG.random((96, 10)).astype(np.float32))

    def loader():
        return DataLoader(TensorDataset(images), batch_size=32, shuffle=False)

    settings = dict(latent_dim=2, hidden_dims=(8,), verbose=0, random_state=0)
    whole = VAE(epochs=4, **settings).fit(loader())
    VAE(epochs=2, checkpoint_dir=tmp_path, **settings).fit(loader())  # then "killed"
    resumed = VAE(epochs=4, checkpoint_dir=tmp_path, **settings).fit(loader(), resume=True)
    assert (tmp_path / "checkpoint.safetensors").is_file()
    assert [h["loss"] for h in resumed.history_] == [h["loss"] for h in whole.history_]
    for (name, a), b in zip(whole.module_.state_dict().items(),
                            resumed.module_.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
