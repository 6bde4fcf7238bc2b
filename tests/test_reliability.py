"""Reliability: training that explodes stops and says so, DataLoaders are checked like
arrays and sharded under torchrun, killed saves leave no litter behind, and a biased
subset with keep_fraction=0 keeps none."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, IterableDataset, TensorDataset

from latentmodels import VAE, Autoencoder
from latentmodels._internal import io
from latentmodels.deep.training import TrainingDivergedError, shard_loader
from latentmodels.tasks.debias import biased_subset

FAST = dict(latent_dim=2, hidden_dims=(16,), epochs=2, batch_size=32, verbose=0,
            random_state=0)


@pytest.fixture(scope="module")
def images(mnist_small):
    return mnist_small[0][:256]


# -- divergence ---------------------------------------------------------------------------
@pytest.mark.parametrize("learning_rate", [1e7, 1e3, 10.0])
def test_a_learning_rate_far_too_high_stops_training_with_a_clear_error(images, learning_rate):
    model = VAE(**{**FAST, "epochs": 5}, learning_rate=learning_rate)
    started = time.perf_counter()
    with pytest.raises(TrainingDivergedError, match="training diverged at epoch 0") as error:
        model.fit(images)
    assert f"learning_rate={learning_rate}" in str(error.value)
    assert "NaN or infinite" in str(error.value) or "starting scale" in str(error.value)
    assert not hasattr(model, "module_")  # left unfitted
    assert time.perf_counter() - started < 30


def test_an_exploding_but_finite_loss_is_named_with_its_size(images):
    with pytest.raises(TrainingDivergedError, match=r"reached \d.*e\+\d+, more than 1e\+06"):
        VAE(**FAST, learning_rate=10.0).fit(images)


def test_an_ordinary_run_is_not_mistaken_for_a_divergence(images):
    model = Autoencoder(**{**FAST, "epochs": 4}, learning_rate=1e-2).fit(images)
    losses = [record["loss"] for record in model.history_]
    assert len(losses) == 4 and losses[-1] < losses[0]


# -- DataLoader input -----------------------------------------------------------------------
def _loader(X, batch_size=32, **kwargs):
    return DataLoader(TensorDataset(torch.as_tensor(X)), batch_size=batch_size, **kwargs)


def test_a_bernoulli_vae_refuses_a_loader_of_0_to_255_pixels(images):
    pixels = torch.as_tensor(np.round(images * 255)).to(torch.uint8)
    with pytest.raises(ValueError, match=r"Bernoulli likelihood needs values in \[0, 1\].*255"):
        VAE(**FAST).fit(_loader(pixels))


def test_a_nan_in_a_later_batch_of_a_loader_is_refused_naming_the_batch(images):
    X = images.copy()
    X[200, 3, 3] = np.nan  # batch 6 of 32-sample batches
    with pytest.raises(ValueError, match=r"batch 6 of the DataLoader.*(NaN|finite)"):
        VAE(**FAST).fit(_loader(X))


def test_a_loader_whose_samples_change_shape_is_refused():
    class Ragged(torch.utils.data.Dataset):
        def __len__(self):
            return 64

        def __getitem__(self, i):
            return torch.rand(6 if i < 32 else 7)

    with pytest.raises(ValueError, match=r"batch 1 of the DataLoader.*shape \(7,\).*\(6,\)"):
        Autoencoder(**FAST).fit(DataLoader(Ragged(), batch_size=32))


def test_an_empty_loader_and_a_dict_batch_are_refused_clearly():
    with pytest.raises(ValueError, match="yields no batches"):
        VAE(**FAST).fit(_loader(np.zeros((0, 4), np.float32)))

    class Dicts(torch.utils.data.Dataset):
        def __len__(self):
            return 8

        def __getitem__(self, i):
            return {"x": torch.rand(4)}

    with pytest.raises((TypeError, ValueError), match="X"):
        VAE(**FAST).fit(DataLoader(Dicts(), batch_size=4))


def test_a_loader_trains_like_the_array_it_holds(images):
    from_array = Autoencoder(**FAST, validation_fraction=0.0).fit(images)
    from_loader = Autoencoder(**FAST, validation_fraction=0.0).fit(
        _loader(images, batch_size=32))
    assert from_loader.input_shape_ == from_array.input_shape_
    assert np.isfinite(from_loader.history_[-1]["loss"])
    assert abs(from_loader.history_[-1]["loss"] - from_array.history_[-1]["loss"]) < (
        0.5 * from_array.history_[-1]["loss"])


def test_shard_loader_splits_the_samples_between_processes_without_overlap():
    loader = _loader(torch.arange(10.0), batch_size=3, shuffle=True)
    shards = [[int(v) for b in shard_loader(loader, rank, 2) for v in b[0]] for rank in (0, 1)]
    assert len(shards[0]) == len(shards[1]) == 5
    assert sorted(shards[0] + shards[1]) == list(range(10))
    sequential = shard_loader(_loader(torch.arange(4.0), batch_size=2), 0, 2)
    assert [b[0].tolist() for b in sequential] == [[0.0, 2.0]]


def test_a_loader_that_cannot_be_sharded_is_refused_with_what_to_do():
    class Stream(IterableDataset):
        def __iter__(self):
            return iter(torch.zeros(4, 2))

    with pytest.raises(ValueError, match="IterableDataset cannot be sharded.*DistributedSampler"):
        shard_loader(DataLoader(Stream(), batch_size=2), 0, 2)
    custom = DataLoader(TensorDataset(torch.zeros(4, 2)), batch_sampler=[[0, 1], [2, 3]])
    with pytest.raises(ValueError, match="custom sampler"):
        shard_loader(custom, 1, 2)


# -- temporary files ------------------------------------------------------------------------
def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_failed_write_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "m.lm"
    with pytest.raises(TypeError):
        io.atomic_write_bytes(target, object())  # type: ignore[arg-type]
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_the_next_save_removes_temporaries_of_killed_saves_only(tmp_path):
    target = tmp_path / "m.lm"
    dead = tmp_path / f".m.lm.{_dead_pid()}.abc123.tmp"
    live = tmp_path / f".m.lm.{os.getppid()}.def456.tmp"  # our parent is alive
    old_unowned = tmp_path / ".m.lm.zz9x_k.tmp"  # the name saves used before writer ids
    new_unowned = tmp_path / ".m.lm.qq1y_j.tmp"
    other_file = tmp_path / f".m.lm.1.{_dead_pid()}.ghi789.tmp"  # a temporary of "m.lm.1"
    for path in (dead, live, old_unowned, new_unowned, other_file):
        path.write_bytes(b"half a model")
    hour_ago = time.time() - 3600
    os.utime(old_unowned, (hour_ago, hour_ago))
    io.atomic_write_bytes(target, b"whole")
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted(["m.lm", live.name, new_unowned.name, other_file.name])
    assert target.read_bytes() == b"whole"


def test_a_killed_save_is_cleaned_up_by_the_next_save(tmp_path):
    target = tmp_path / "big.lm"
    writer = subprocess.Popen([
        sys.executable, "-c",
        "import os, sys, tempfile\n"
        f"fd, _ = tempfile.mkstemp(prefix='.big.lm.' + str(os.getpid()) + '.', suffix='.tmp',"
        f" dir={str(tmp_path)!r})\n"
        "os.write(fd, b'x' * 1000); print('ready', flush=True); sys.stdin.read()\n",
    ], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert writer.stdout.readline().strip() == "ready"
    io.atomic_write_bytes(target, b"one")  # the writer lives: its file stays
    assert len(list(tmp_path.glob(".big.lm.*.tmp"))) == 1
    writer.kill()
    writer.wait()
    io.atomic_write_bytes(target, b"two")
    assert list(tmp_path.glob(".big.lm.*.tmp")) == []
    assert target.read_bytes() == b"two"


# -- tasks ----------------------------------------------------------------------------------
def test_biased_subset_with_keep_fraction_zero_keeps_none_of_the_rare_positives():
    labels = np.array([1, 1, 1, 1, 0, 0, 1])
    rare = np.array([True, True, True, False, True, False, True])
    kept = biased_subset(labels, rare, positive=1, keep_fraction=0)
    assert kept.tolist() == [3, 4, 5]
    assert len(biased_subset(labels, rare, positive=1, keep_fraction=0.01)) == 4
    assert len(biased_subset(labels, rare, positive=1, keep_fraction=1)) == 7


SHARDED_LOADER_SCRIPT = """
import json, os, sys
import torch
torch.set_num_threads(1)
import torch.distributed as dist
from torch.utils.data import DataLoader, Dataset
from latentmodels import Autoencoder

class Recorded(Dataset):
    def __init__(self):
        self.seen = []
        self.X = torch.rand(64, 6, generator=torch.Generator().manual_seed(0))
    def __len__(self):
        return 64
    def __getitem__(self, i):
        self.seen.append(int(i))
        return self.X[i]

data = Recorded()
model = Autoencoder(latent_dim=2, hidden_dims=(8,), epochs=1, batch_size=8, verbose=0,
                    random_state=0, device="cpu", validation_fraction=0.0)
model.fit(DataLoader(data, batch_size=8))
weights = [round(float(p.sum()), 6) for p in model.module_.parameters()]
with open(os.path.join(sys.argv[1], f"rank{dist.get_rank()}.json"), "w") as handle:
    json.dump({"seen": data.seen, "weights": weights}, handle)
"""


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="torchrun with gloo on Linux/macOS")
def test_under_torchrun_each_process_trains_on_its_own_share_of_a_loader(tmp_path):
    import json
    from pathlib import Path

    (tmp_path / "train.py").write_text(SHARDED_LOADER_SCRIPT)
    torchrun = Path(sys.executable).with_name("torchrun")
    command = [str(torchrun)] if torchrun.exists() else [sys.executable, "-m",
                                                          "torch.distributed.run"]
    result = subprocess.run(
        [*command, "--standalone", "--nproc_per_node=2", str(tmp_path / "train.py"),
         str(tmp_path)],
        capture_output=True, text=True, timeout=240, env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    for rank, record in enumerate(ranks):
        first_batch, trained_on = record["seen"][:8], record["seen"][8:]
        assert first_batch == list(range(8))  # read once to learn the input shape
        assert sorted(trained_on) == list(range(rank, 64, 2))
    assert ranks[0]["weights"] == ranks[1]["weights"]


def test_interpolating_a_billion_steps_is_refused_before_anything_is_allocated(images):
    model = Autoencoder(**FAST).fit(images[:64])
    started = time.perf_counter()
    with pytest.raises(ValueError, match=r"steps=1000000000: .*GiB"):
        model.interpolate(images[0], images[1], steps=10**9)
    assert time.perf_counter() - started < 5
    assert model.interpolate(images[0], images[1], steps=3).shape == (3, 28, 28)
