"""The training loop under torchrun: two CPU processes (gloo) train one model with no
change to user code; the loss falls and both ranks end with identical weights."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file


def torchrun_command() -> list[str]:
    """torchrun next to this Python, or its module form."""
    torchrun = Path(sys.executable).with_name("torchrun")
    return [str(torchrun)] if torchrun.exists() else [sys.executable, "-m",
                                                      "torch.distributed.run"]


SCRIPT = textwrap.dedent(
    """
    import os, sys
    import numpy as np
    import torch
    torch.set_num_threads(1)
    from safetensors.numpy import save_file
    from latentmodels import VAE

    X = np.load(sys.argv[1])
    model = VAE(latent_dim=4, hidden_dims=(64,), epochs=4, batch_size=32, verbose=0,
                random_state=0, device="cpu").fit(X)
    import torch.distributed as dist
    rank = dist.get_rank()
    weights = {k: v.numpy() for k, v in model.module_.state_dict().items()}
    weights["losses"] = np.array([h["loss"] for h in model.history_])
    weights["world"] = np.array([dist.get_world_size()])
    save_file(weights, os.path.join(sys.argv[2], f"rank{rank}.safetensors"))
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="torchrun with gloo on Linux/macOS")
def test_two_process_ddp_training_matches_across_ranks(tmp_path, mnist_small):
    np.save(tmp_path / "X.npy", mnist_small[0][:512])
    (tmp_path / "train.py").write_text(SCRIPT)
    command = torchrun_command()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [
            *command,
            "--standalone",
            "--nproc_per_node=2",
            str(tmp_path / "train.py"),
            str(tmp_path / "X.npy"),
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    ranks = [load_file(tmp_path / f"rank{r}.safetensors") for r in (0, 1)]
    assert ranks[0]["world"][0] == 2
    losses = ranks[0]["losses"]
    assert losses[-1] < losses[0] - 10.0, losses
    # Both ranks report the all-reduced epoch loss and hold the same weights.
    np.testing.assert_array_equal(ranks[0]["losses"], ranks[1]["losses"])
    for key in ranks[0]:
        np.testing.assert_array_equal(ranks[0][key], ranks[1][key], err_msg=key)


GAN_SCRIPT = textwrap.dedent(
    """
    import os, sys
    import numpy as np
    import torch
    torch.set_num_threads(1)
    from safetensors.numpy import save_file
    from latentmodels import GAN

    angles = np.random.default_rng(0).integers(0, 8, 1024) * (np.pi / 4)
    points = np.stack([2 * np.cos(angles), 2 * np.sin(angles)], axis=1)
    X = (points + 0.1 * np.random.default_rng(1).normal(size=points.shape)).astype(np.float32)
    model = GAN(latent_dim=2, data_range=None, hidden_dims=(32, 32), epochs=3, batch_size=64,
                verbose=0, random_state=0, device="cpu").fit(X)
    import torch.distributed as dist
    rank = dist.get_rank()
    weights = {k: v.numpy() for k, v in model.module_.state_dict().items()}
    weights["d_loss"] = np.array([h["d_loss"] for h in model.history_])
    weights["samples"] = model.sample(64, random_state=0)
    save_file(weights, os.path.join(sys.argv[1], f"rank{rank}.safetensors"))
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="torchrun with gloo on Linux/macOS")
def test_two_process_gan_training_keeps_both_players_identical_across_ranks(tmp_path):
    """Several optimisers under torchrun: gradients are averaged inside each update, so the
    generator, the discriminator and the EMA copy stay equal on every rank."""
    (tmp_path / "train.py").write_text(GAN_SCRIPT)
    command = torchrun_command()
    result = subprocess.run(
        [*command, "--standalone", "--nproc_per_node=2", str(tmp_path / "train.py"),
         str(tmp_path)],
        capture_output=True, text=True, timeout=240, env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    ranks = [load_file(tmp_path / f"rank{r}.safetensors") for r in (0, 1)]
    assert np.isfinite(ranks[0]["d_loss"]).all() and len(ranks[0]["d_loss"]) == 3
    for key in ranks[0]:
        np.testing.assert_array_equal(ranks[0][key], ranks[1][key], err_msg=key)
    assert any(key.startswith("ema.") for key in ranks[0])


DIVERGE_SCRIPT = textwrap.dedent(
    """
    import os, sys
    import numpy as np
    import torch
    torch.set_num_threads(1)
    from latentmodels import Autoencoder
    from latentmodels.deep.training import TrainingDivergedError

    rank = int(os.environ["RANK"])
    X = np.random.default_rng(0).normal(size=(256, 8)).astype(np.float32)
    if rank == 1:
        X *= 1e20  # only this rank's data makes the loss overflow to inf
    try:
        Autoencoder(latent_dim=2, hidden_dims=(16,), epochs=3, batch_size=32, verbose=0,
                    reconstruction_loss="mse", validation_fraction=0.0, random_state=0,
                    device="cpu").fit(X)
        outcome = "finished"
    except TrainingDivergedError as error:
        outcome = f"TrainingDivergedError: {error}"
    with open(os.path.join(sys.argv[1], f"rank{rank}.txt"), "w") as handle:
        handle.write(outcome)
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="torchrun with gloo on Linux/macOS")
def test_a_loss_diverging_on_one_rank_stops_every_rank_with_the_same_error(tmp_path):
    """Rank 1 alone sees exploding data; without agreement rank 0 would wait forever in the
    gradient all-reduce. Both must stop with TrainingDivergedError at the same step."""
    (tmp_path / "train.py").write_text(DIVERGE_SCRIPT)
    command = torchrun_command()
    process = subprocess.Popen(
        [*command, "--standalone", "--nproc_per_node=2", str(tmp_path / "train.py"),
         str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    try:
        _, stderr = process.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # torchrun and both workers
        process.communicate()
        pytest.fail("a rank hung after the loss diverged on rank 1")
    assert process.returncode == 0, stderr[-3000:]
    outcomes = [(tmp_path / f"rank{r}.txt").read_text() for r in (0, 1)]
    for outcome in outcomes:
        assert outcome.startswith("TrainingDivergedError: training diverged at epoch "), outcomes
    assert "rank 1 diverged; every rank stopped" in outcomes[0]
    assert "every rank stopped" not in outcomes[1]
    # Both name the same epoch and step, and the same cause.
    assert outcomes[0].split(":")[1] == outcomes[1].split(":")[1]
