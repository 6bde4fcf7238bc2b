"""The shared training loop: seeds, early stopping, divergence, schedules, data sources,
and exact resume after a killed run."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from latentmodels import VAE, Autoencoder, TrainingDivergedError
from latentmodels.deep.training import (
    TensorBatches,
    Trainer,
    TrainingCallback,
    TrainingConfig,
    split_validation,
)

FAST = dict(hidden_dims=(64,), batch_size=64, verbose=0)


def _weights(model) -> dict[str, np.ndarray]:
    return {k: v.detach().cpu().numpy().copy() for k, v in model.module_.state_dict().items()}


def _assert_same_weights(a, b) -> None:
    wa, wb = _weights(a), _weights(b)
    assert wa.keys() == wb.keys()
    for key in wa:
        np.testing.assert_array_equal(wa[key], wb[key], err_msg=key)


def test_same_seed_gives_bit_identical_runs(mnist_small):
    X = mnist_small[0][:300]
    a = VAE(latent_dim=4, epochs=2, random_state=3, **FAST).fit(X)
    b = VAE(latent_dim=4, epochs=2, random_state=3, **FAST).fit(X)
    _assert_same_weights(a, b)
    assert a.history_ == [
        {**h, "seconds": a.history_[i]["seconds"]} for i, h in enumerate(b.history_)
    ]
    c = VAE(latent_dim=4, epochs=2, random_state=4, **FAST).fit(X)
    assert not np.array_equal(
        _weights(a)["encoder.head.0.weight"], _weights(c)["encoder.head.0.weight"]
    )


def test_fit_does_not_disturb_the_global_torch_rng(mnist_small):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    VAE(latent_dim=2, epochs=1, random_state=0, **FAST).fit(mnist_small[0][:128])
    np.testing.assert_array_equal(torch.rand(3).numpy(), expected.numpy())


def test_early_stopping_keeps_the_best_validation_epoch(mnist_small):
    X = mnist_small[0][:200]
    # A large model on 200 digits overfits quickly, so validation loss turns up.
    model = Autoencoder(
        latent_dim=64,
        hidden_dims=(512,),
        epochs=200,
        patience=3,
        validation_fraction=0.3,
        batch_size=16,
        random_state=0,
        verbose=0,
        learning_rate=3e-3,
    )
    model.fit(X)
    val = [h["val_loss"] for h in model.history_]
    assert model.stopped_early_
    assert len(val) < 200
    assert model.best_epoch_ == int(np.argmin(val))
    assert len(val) == model.best_epoch_ + 1 + 3


def test_divergence_stops_with_the_epoch_and_leaves_model_unfitted(mnist_small):
    X = mnist_small[0][:256] * 1e20  # squared errors overflow float32
    model = Autoencoder(latent_dim=2, epochs=3, learning_rate=100.0, random_state=0, **FAST)
    with pytest.raises(TrainingDivergedError, match=r"epoch 0, step \d+.*learning_rate=100.0"):
        model.fit(X)
    assert not hasattr(model, "module_")
    with pytest.raises(Exception, match="not fitted"):
        model.transform(X[:2])


@pytest.mark.parametrize("schedule", ["cosine", "plateau"])
def test_lr_schedules_change_the_learning_rate(mnist_small, schedule):
    model = VAE(latent_dim=2, epochs=6, lr_schedule=schedule, random_state=0, **FAST)
    model.fit(mnist_small[0][:256])
    rates = [h["lr"] for h in model.history_]
    if schedule == "cosine":
        assert rates[0] == pytest.approx(2e-3) and rates[-1] < rates[1] < rates[0]
    else:
        assert all(r <= 2e-3 for r in rates)


def test_gradient_clipping_bounds_the_update():
    torch.manual_seed(0)
    net = torch.nn.Linear(4, 1)
    X = torch.randn(32, 4) * 100
    y = torch.randn(32, 1) * 100
    before = net.weight.detach().clone()

    def loss_fn(module, batch, **_):
        return ((module(batch[0]) - batch[1]) ** 2).mean()

    config = TrainingConfig(
        epochs=1, batch_size=32, learning_rate=0.1, grad_clip=1e-3, verbose=0, optimizer="adamw"
    )
    Trainer(config).fit(net, loss_fn, TensorBatches([X, y], 32))
    # Adam's first step moves each weight by about lr regardless; what clipping changes is
    # that the step stays finite and sign-correct. Check it moved by no more than lr.
    assert (net.weight.detach() - before).abs().max() <= 0.1 + 1e-6


def test_dataloader_and_tensor_inputs_train_like_arrays(mnist_small):
    X = mnist_small[0][:256]
    loader = DataLoader(TensorDataset(torch.from_numpy(X)), batch_size=64, shuffle=True)
    from_loader = VAE(latent_dim=3, epochs=2, random_state=0, **FAST).fit(loader)
    assert from_loader.input_shape_ == (28, 28)
    assert from_loader.transform(X[:5]).shape == (5, 3)
    from_tensor = VAE(latent_dim=3, epochs=1, random_state=0, **FAST).fit(torch.from_numpy(X))
    from_array = VAE(latent_dim=3, epochs=1, random_state=0, **FAST).fit(X)
    _assert_same_weights(from_tensor, from_array)


def test_split_validation_is_seeded_and_disjoint():
    data = torch.arange(100)
    (train,), (val,) = split_validation([data], 0.2, seed=1)
    assert len(val) == 20 and len(train) == 80
    assert set(train.tolist()).isdisjoint(val.tolist())
    (train2,), (val2,) = split_validation([data], 0.2, seed=1)
    assert torch.equal(val, val2)


RESUME_SCRIPT = textwrap.dedent(
    """
    import os, sys
    import numpy as np
    import torch
    torch.set_num_threads(1)
    from latentmodels import VAE
    from latentmodels.deep import training

    X = np.load(sys.argv[1])
    kill_after = int(sys.argv[3])
    if kill_after >= 0:
        original = training.Trainer._save_checkpoint
        def save_then_die(self, state):
            original(self, state)
            if state["epoch"] == kill_after:
                os._exit(17)  # a hard kill: no cleanup, no exception handlers
        training.Trainer._save_checkpoint = save_then_die
    model = VAE(latent_dim=4, hidden_dims=(64,), epochs=5, batch_size=64, verbose=0,
                random_state=11, lr_schedule="cosine", checkpoint_dir=sys.argv[2])
    model.fit(X, resume=kill_after < 0)
    model.save(os.path.join(sys.argv[2], "final.lm"))
    """
)


def test_killed_run_resumes_to_the_same_parameters(tmp_path, mnist_small):
    data = tmp_path / "X.npy"
    np.save(data, mnist_small[0][:300])
    script = tmp_path / "run.py"
    script.write_text(RESUME_SCRIPT)

    def run(directory, kill_after):
        return subprocess.run(
            [sys.executable, str(script), str(data), str(directory), str(kill_after)],
            capture_output=True,
            text=True,
            timeout=300,
        )

    straight = run(tmp_path / "straight", -1)
    assert straight.returncode == 0, straight.stderr
    killed = run(tmp_path / "killed", 2)
    assert killed.returncode == 17, killed.stderr
    assert not (tmp_path / "killed" / "final.lm").exists()
    resumed = run(tmp_path / "killed", -1)
    assert resumed.returncode == 0, resumed.stderr

    a = VAE.load(tmp_path / "straight" / "final.lm")
    b = VAE.load(tmp_path / "killed" / "final.lm")
    _assert_same_weights(a, b)
    assert [h["loss"] for h in a.history_] == [h["loss"] for h in b.history_]


def test_resume_refuses_a_checkpoint_from_other_settings(tmp_path, mnist_small):
    X = mnist_small[0][:128]
    VAE(latent_dim=2, epochs=1, random_state=0, checkpoint_dir=tmp_path, **FAST).fit(X)
    other = VAE(latent_dim=3, epochs=2, random_state=0, checkpoint_dir=tmp_path, **FAST)
    with pytest.raises(ValueError, match="resume: .*latent_dim"):
        other.fit(X, resume=True)
    with pytest.raises(ValueError, match="resume: resume=True needs checkpoint_dir"):
        VAE(latent_dim=2, epochs=1, **FAST).fit(X, resume=True)


def test_checkpoints_are_written_atomically(tmp_path, mnist_small):
    VAE(latent_dim=2, epochs=2, random_state=0, checkpoint_dir=tmp_path, **FAST).fit(
        mnist_small[0][:128]
    )
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.safetensors"]


def test_max_time_stops_after_the_batch_that_crosses_it():
    import time as _time

    class Slow(torch.nn.Linear):
        def forward(self, x):
            _time.sleep(0.02)
            return super().forward(x)

    X = torch.randn(400, 3)
    y = X.sum(1, keepdim=True)

    def loss_fn(module, batch, **_):
        return ((module(batch[0]) - batch[1]) ** 2).mean()

    config = TrainingConfig(epochs=50, batch_size=10, verbose=0, seed=0,
                            validation_fraction=0.0, max_time=0.1)
    started = _time.perf_counter()
    result = Trainer(config).fit(Slow(3, 1), loss_fn, TensorBatches([X, y], 10))
    assert _time.perf_counter() - started < 2.0  # 50 epochs x 40 batches would take 40 s
    assert len(result.history) == 1 and result.stopped_early


GAN_RESUME_SCRIPT = textwrap.dedent(
    """
    import os, sys
    import numpy as np
    import torch
    torch.set_num_threads(1)
    from latentmodels import GAN
    from latentmodels.deep import training

    X = np.random.default_rng(0).normal(size=(256, 2)).astype(np.float32)
    kill_after = int(sys.argv[2])
    if kill_after >= 0:
        original = training.Trainer._save_checkpoint
        def save_then_die(self, state):
            original(self, state)
            if state["epoch"] == kill_after:
                os._exit(17)
        training.Trainer._save_checkpoint = save_then_die
    model = GAN(latent_dim=2, data_range=None, hidden_dims=(16, 16), loss="wgan-gp",
                epochs=4, batch_size=32, verbose=0, random_state=5, checkpoint_dir=sys.argv[1])
    model.fit(X, resume=kill_after < 0)
    model.save(os.path.join(sys.argv[1], "final.lm"))
    """
)


def test_killed_gan_run_resumes_with_both_optimisers_and_ema(tmp_path):
    from latentmodels import GAN

    script = tmp_path / "run.py"
    script.write_text(GAN_RESUME_SCRIPT)

    def run(directory, kill_after):
        return subprocess.run(
            [sys.executable, str(script), str(directory), str(kill_after)],
            capture_output=True,
            text=True,
            timeout=300,
        )

    assert run(tmp_path / "straight", -1).returncode == 0
    assert run(tmp_path / "killed", 1).returncode == 17
    resumed = run(tmp_path / "killed", -1)
    assert resumed.returncode == 0, resumed.stderr
    a = GAN.load(tmp_path / "straight" / "final.lm")
    b = GAN.load(tmp_path / "killed" / "final.lm")
    _assert_same_weights(a, b)  # generator, discriminator, EMA copy and step counters
    assert [h["d_loss"] for h in a.history_] == [h["d_loss"] for h in b.history_]
    np.testing.assert_array_equal(a.sample(16, random_state=0), b.sample(16, random_state=0))


# -- callbacks ----------------------------------------------------------------------------
class _Recorder(TrainingCallback):
    """Logs every hook call, and keeps a running sum of losses as checkpointed state."""

    def __init__(self):
        self.calls = []
        self.loss_sum = torch.zeros(())
        self.steps = 0

    def on_train_begin(self, module, start_epoch):
        self.calls.append(("train_begin", start_epoch))

    def on_epoch_begin(self, epoch, module):
        assert not module.training and not torch.is_grad_enabled()
        self.calls.append(("epoch_begin", epoch))

    def on_step_end(self, epoch, step, loss):
        self.loss_sum += loss
        self.steps += 1

    def on_epoch_end(self, epoch, module, record):
        self.calls.append(("epoch_end", epoch, "loss" in record))

    def on_train_end(self, module, result):
        self.calls.append(("train_end", len(result.history)))

    def state_dict(self):
        return {"loss_sum": self.loss_sum.clone(), "steps": self.steps}

    def load_state_dict(self, state):
        self.loss_sum = state["loss_sum"].clone()
        self.steps = state["steps"]


def _linear_problem():
    X = torch.randn(64, 3, generator=torch.Generator().manual_seed(0))
    return TensorBatches([X, X.sum(1, keepdim=True)], 16)


def _squared_error(module, batch, **_):
    return ((module(batch[0]) - batch[1]) ** 2).mean()


def test_callback_hooks_run_in_order_around_each_epoch():
    recorder = _Recorder()
    config = TrainingConfig(epochs=2, batch_size=16, verbose=0, seed=0, validation_fraction=0)
    torch.manual_seed(0)
    Trainer(config, callbacks=[recorder]).fit(torch.nn.Linear(3, 1), _squared_error,
                                              _linear_problem())
    assert recorder.calls == [
        ("train_begin", 0),
        ("epoch_begin", 0), ("epoch_end", 0, True),
        ("epoch_begin", 1), ("epoch_end", 1, True),
        ("train_end", 2),
    ]
    assert recorder.steps == 8


def test_callback_state_is_checkpointed_and_restored_on_resume(tmp_path, monkeypatch):
    def train(directory, resume, recorder):
        config = TrainingConfig(epochs=4, batch_size=16, verbose=0, seed=3,
                                validation_fraction=0, checkpoint_dir=str(directory))
        with torch.random.fork_rng():
            torch.manual_seed(0)
            net = torch.nn.Linear(3, 1)
        Trainer(config, callbacks=[recorder]).fit(net, _squared_error, _linear_problem(),
                                                  resume=resume)
        return net

    straight = _Recorder()
    net_a = train(tmp_path / "a", False, straight)
    original = Trainer._save_checkpoint

    def save_then_crash(self, state):
        original(self, state)
        if state["epoch"] == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(Trainer, "_save_checkpoint", save_then_crash)
    with pytest.raises(KeyboardInterrupt):
        train(tmp_path / "b", False, _Recorder())
    monkeypatch.setattr(Trainer, "_save_checkpoint", original)
    resumed = _Recorder()
    net_b = train(tmp_path / "b", True, resumed)
    assert resumed.calls[0] == ("train_begin", 2)
    assert resumed.steps == straight.steps == 16
    assert float(resumed.loss_sum) == float(straight.loss_sum)
    torch.testing.assert_close(net_a.weight, net_b.weight, rtol=0, atol=0)


def test_callbacks_with_the_same_name_are_refused():
    with pytest.raises(ValueError, match="callbacks: names must differ"):
        Trainer(TrainingConfig(verbose=0), callbacks=[_Recorder(), _Recorder()])
