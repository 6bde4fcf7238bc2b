"""GAN and ConditionalGAN: mode coverage on a ring of 8 Gaussians, EMA, exact save/load,
latent inversion, interpolation, the three losses, resume, conv shapes and bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

import latentmodels
from latentmodels import GAN, ConditionalGAN, TrainingDivergedError
from latentmodels.deep import training as training_module

SIGMA = 0.1
RADIUS = 2.0
CENTRES = RADIUS * np.stack(
    [np.cos(2 * np.pi * np.arange(8) / 8), np.sin(2 * np.pi * np.arange(8) / 8)], axis=1
)
# The ring's modes are 0.1 wide: a spectrally normalised discriminator (slope <= 1) can
# hardly tell points that close apart, so the toy runs without it, and with a higher
# learning rate than the image defaults to converge in about 2,000 steps.
TOY = dict(
    latent_dim=2,
    data_range=None,
    hidden_dims=(64, 64),
    spectral_norm=False,
    lr_g=2e-3,
    lr_d=2e-3,
    batch_size=64,
    verbose=0,
    random_state=0,
)


def ring(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    modes = rng.integers(0, 8, n)
    points = CENTRES[modes] + SIGMA * rng.standard_normal((n, 2))
    return points.astype(np.float32), modes


def nearest_mode(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    distances = np.linalg.norm(points[:, None, :] - CENTRES[None], axis=2)
    return distances.argmin(1), distances.min(1)


def mode_shares(points: np.ndarray) -> tuple[float, np.ndarray]:
    """Share of points within 3 sigma of a mode, and each mode's share of all points."""
    mode, distance = nearest_mode(points)
    near = distance < 3 * SIGMA
    return near.mean(), np.bincount(mode[near], minlength=8) / len(points)


def _state(model) -> dict[str, np.ndarray]:
    return {k: v.detach().cpu().numpy().copy() for k, v in model.module_.state_dict().items()}


@pytest.fixture(scope="module")
def data():
    return ring(2048, 0)


@pytest.fixture(scope="module")
def gan(data):
    return GAN(epochs=60, **TOY).fit(data[0])


@pytest.fixture(scope="module")
def cgan(data):
    return ConditionalGAN(epochs=15, **TOY).fit(*data)


# -- what it learns ----------------------------------------------------------------------
def test_covers_all_eight_modes(gan):
    near, shares = mode_shares(gan.sample(4000, random_state=1))
    assert near > 0.7, near  # most samples sit on a mode
    assert shares.min() > 0.05, shares  # and every mode gets its share (uniform: 0.125)


def test_ema_generator_differs_from_raw_weights_and_samples_well(gan):
    ema = gan.sample(2000, random_state=2)
    raw = gan.sample(2000, random_state=2, use_ema=False)
    assert np.abs(ema - raw).mean() > 1e-3
    for samples in (ema, raw):
        near, shares = mode_shares(samples)
        assert near > 0.6 and shares.min() > 0.03, (near, shares)
    # The knob on the estimator and the one on the method agree.
    raw_again = clone(gan).set_params(use_ema=False)
    raw_again.module_ = gan.module_
    np.testing.assert_array_equal(raw_again.sample(2000, random_state=2), raw)


def test_sampling_is_deterministic_for_a_seed(gan):
    a = gan.sample(50, random_state=7)
    np.testing.assert_array_equal(a, gan.sample(50, random_state=7))
    assert not np.allclose(a, gan.sample(50, random_state=8))
    assert a.dtype == np.float32 and a.shape == (50, 2)


def test_save_and_load_reproduce_samples_exactly(gan, tmp_path):
    path = gan.save(tmp_path / "gan.lm")
    loaded = latentmodels.load(path)
    assert type(loaded) is GAN and loaded.get_params() == gan.get_params()
    for use_ema in (True, False):
        np.testing.assert_array_equal(
            loaded.sample(64, random_state=3, use_ema=use_ema),
            gan.sample(64, random_state=3, use_ema=use_ema),
        )
    X = ring(32, 5)[0]
    np.testing.assert_array_equal(loaded.score_samples(X), gan.score_samples(X))
    # The EMA weights travel in the file too.
    assert any(k.startswith("ema.") for k in _state(loaded))


def test_latent_inversion_beats_random_codes(gan):
    X = ring(64, 9)[0]
    random_codes = np.random.default_rng(0).standard_normal((64, 2)).astype(np.float32)
    start = gan.transform(X, n_steps=0)  # the best of the seeded prior draws
    codes = gan.transform(X)
    assert codes.shape == (64, 2)
    before = np.mean((gan.inverse_transform(random_codes) - X) ** 2)
    best_draw = np.mean((gan.inverse_transform(start) - X) ** 2)
    after = np.mean((gan.inverse_transform(codes) - X) ** 2)
    assert after < best_draw < before
    assert after < 0.2 * before, (before, after)
    np.testing.assert_array_equal(codes, gan.transform(X))  # seeded: repeatable


def test_interpolation_in_latent_and_data_space(gan):
    z0, z1 = np.array([2.0, 0.0], np.float32), np.array([0.0, 2.0], np.float32)
    path = gan.interpolate(z0, z1, steps=5, space="latent")
    ends = gan.inverse_transform(np.stack([z0, z1]))
    np.testing.assert_allclose(path[[0, -1]], ends, atol=1e-6)
    slerp = gan.interpolate(z0, z1, steps=5, space="latent", method="slerp")
    assert not np.allclose(slerp[2], path[2])  # the mid-points of the two paths differ
    np.testing.assert_allclose(
        slerp[2], gan.inverse_transform(np.array([[2**0.5, 2**0.5]], np.float32))[0], atol=1e-5
    )
    x0, x1 = CENTRES[0].astype(np.float32), CENTRES[2].astype(np.float32)
    through_data = gan.interpolate(x0, x1, steps=4)
    assert through_data.shape == (4, 2)
    assert np.linalg.norm(through_data[0] - x0) < 0.5
    assert np.linalg.norm(through_data[-1] - x1) < 0.5


def test_discriminator_scores_real_points_above_off_ring_points(gan):
    real = ring(500, 11)[0]
    rng = np.random.default_rng(0)
    off = (rng.standard_normal((500, 2)) * 0.3).astype(np.float32)  # near the centre
    assert gan.score_samples(real).mean() > gan.score_samples(off).mean() + 0.5


# -- losses, stability, training loop -----------------------------------------------------
@pytest.mark.parametrize("loss", ["hinge", "ns", "wgan-gp"])
def test_each_loss_trains_without_nan(loss):
    X = ring(512, 3)[0]
    model = GAN(loss=loss, epochs=3, **{**TOY, "spectral_norm": None}).fit(X)
    history = model.history_
    assert len(history) == 3
    assert all(np.isfinite(v) for h in history for v in h.values())
    assert np.isfinite(model.sample(100, random_state=0)).all()
    net = model.module_
    n_critic = 5 if loss == "wgan-gp" else 1
    assert int(net.g_steps) == int(net.d_steps) // n_critic == 3 * 8 // n_critic
    assert ("gradient_penalty" in history[0]) == (loss == "wgan-gp")
    # wgan-gp turns spectral norm off by default; the others turn it on.
    has_sn = any("parametrizations" in k for k in net.state_dict())
    assert has_sn == (loss != "wgan-gp")


def test_nan_loss_stops_training_naming_the_step():
    X = ring(256, 0)[0] * np.float32(1e38)  # discriminator scores overflow to inf
    model = GAN(epochs=2, **TOY)
    with pytest.raises(TrainingDivergedError, match=r"epoch 0, step 0.*discriminator=0.002"):
        model.fit(X)
    assert not hasattr(model, "module_")


def test_interrupted_run_resumes_to_the_same_weights(tmp_path, monkeypatch):
    X = ring(256, 4)[0]
    settings = dict(TOY, epochs=3, ema_decay=0.9, checkpoint_dir=str(tmp_path / "a"))
    straight = GAN(**settings).fit(X)

    original = training_module.Trainer._save_checkpoint

    def save_then_crash(self, state):
        original(self, state)
        if state["epoch"] == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(training_module.Trainer, "_save_checkpoint", save_then_crash)
    settings["checkpoint_dir"] = str(tmp_path / "b")
    with pytest.raises(KeyboardInterrupt):
        GAN(**settings).fit(X)
    monkeypatch.setattr(training_module.Trainer, "_save_checkpoint", original)
    resumed = GAN(**settings).fit(X, resume=True)
    a, b = _state(straight), _state(resumed)
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    assert [h["d_loss"] for h in straight.history_] == [h["d_loss"] for h in resumed.history_]


def test_progress_snapshots_survive_an_interrupted_run(tmp_path, monkeypatch):
    X = ring(256, 4)[0]
    settings = dict(TOY, epochs=4, checkpoint_dir=str(tmp_path / "a"))
    straight = GAN(**settings).fit(X)
    original = training_module.Trainer._save_checkpoint

    def save_then_crash(self, state):
        original(self, state)
        if state["epoch"] == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(training_module.Trainer, "_save_checkpoint", save_then_crash)
    settings["checkpoint_dir"] = str(tmp_path / "b")
    with pytest.raises(KeyboardInterrupt):
        GAN(**settings).fit(X)
    monkeypatch.setattr(training_module.Trainer, "_save_checkpoint", original)
    resumed = GAN(**settings).fit(X, resume=True)
    assert straight.progress_epochs_.tolist() == [0, 1, 2, 3, 4]
    np.testing.assert_array_equal(resumed.progress_epochs_, straight.progress_epochs_)
    np.testing.assert_array_equal(resumed.progress_samples_, straight.progress_samples_)


def test_checkpoint_holds_both_optimisers(tmp_path):
    GAN(epochs=1, checkpoint_dir=str(tmp_path), **TOY).fit(ring(128, 0)[0])
    checkpoint = tmp_path / "checkpoint.safetensors"
    document, tensors = latentmodels._internal.io.read_tensor_file(checkpoint)
    assert set(document["optimizers"]) == {"discriminator", "generator"}
    assert document["optimizers"]["generator"]["param_groups"][0]["betas"] == [0.5, 0.999]
    assert any(k.startswith("optimizer.generator.") for k in tensors)
    assert any(k.startswith("optimizer.discriminator.") for k in tensors)


# -- conditional --------------------------------------------------------------------------
def test_conditional_samples_land_on_their_class_mode(cgan):
    for c in range(8):
        mode, distance = nearest_mode(cgan.sample(200, y=c, random_state=c))
        assert (mode == c).mean() > 0.9, (c, np.bincount(mode, minlength=8))
        assert (distance < 3 * SIGMA).mean() > 0.5, c
    cycled = cgan.sample(16, random_state=0)  # y=None cycles through the classes
    assert (nearest_mode(cycled)[0] == np.arange(16) % 8).mean() > 0.8


def test_conditional_save_load_and_inversion(cgan, tmp_path):
    loaded = ConditionalGAN.load(cgan.save(tmp_path / "cgan.lm"))
    np.testing.assert_array_equal(loaded.classes_, cgan.classes_)
    np.testing.assert_array_equal(
        loaded.sample(20, y=3, random_state=1), cgan.sample(20, y=3, random_state=1)
    )
    X, y = ring(40, 6)
    random_codes = np.random.default_rng(0).standard_normal((40, 2)).astype(np.float32)
    codes = cgan.transform(X, y)
    before = np.mean((cgan.inverse_transform(random_codes, y) - X) ** 2)
    after = np.mean((cgan.inverse_transform(codes, y) - X) ** 2)
    assert after < 0.5 * before, (before, after)
    assert cgan.score_samples(X, y).shape == (40,)
    path = cgan.interpolate(np.zeros(2), np.ones(2), steps=3, y=5, space="latent")
    assert (nearest_mode(path)[0] == 5).all()


# -- images -------------------------------------------------------------------------------
def test_conv_gan_on_28x28_and_64x64_rgb_images(mnist_small):
    X = mnist_small[0][:64]
    tiny = dict(latent_dim=4, epochs=1, batch_size=32, verbose=0, random_state=0)
    model = GAN(hidden_dims=(4, 8), **tiny).fit(X)  # architecture="auto" picks conv here
    assert any(isinstance(m, torch.nn.ConvTranspose2d) for m in model.module_.modules())
    samples = model.sample(3, random_state=0)
    assert samples.shape == (3, 28, 28) and samples.min() >= 0 and samples.max() <= 1
    rgb = np.random.default_rng(0).random((8, 3, 64, 64), dtype=np.float32)
    model = GAN(architecture="conv", hidden_dims=(2, 2, 2, 2), **tiny).fit(rgb)
    assert model.sample(2, random_state=0).shape == (2, 3, 64, 64)
    assert model.score_samples(rgb[:5]).shape == (5,)
    flat = GAN(hidden_dims=(8,), image_shape=None, **tiny).fit(X.reshape(64, -1))
    assert not any(isinstance(m, torch.nn.Conv2d) for m in flat.module_.modules())
    assert flat.image_shape_ is None and flat.hidden_dims_ == (8,)


def test_square_rows_train_the_same_conv_gan_as_the_images(mnist_small):
    X = mnist_small[0][:64]
    tiny = dict(latent_dim=4, epochs=1, batch_size=32, verbose=0, random_state=0)
    images = GAN(**tiny).fit(X)
    rows = GAN(**tiny).fit(X.reshape(64, 784))
    assert rows.image_shape_ == (28, 28) and rows.hidden_dims_ == images.hidden_dims_ == (32, 64)
    flat_samples = rows.sample(5, random_state=1)
    assert flat_samples.shape == (5, 784)
    np.testing.assert_allclose(flat_samples.reshape(5, 28, 28),
                               images.sample(5, random_state=1), atol=1e-6)
    explicit = GAN(image_shape=(1, 28, 28), **tiny).fit(X.reshape(64, 784))
    assert explicit.image_shape_ == (1, 28, 28)
    # Unbounded data are not pixels: their square rows stay rows.
    unbounded = GAN(data_range=None, **tiny).fit(X.reshape(64, 784) - 0.5)
    assert unbounded.image_shape_ is None and unbounded.hidden_dims_ == (256, 256)
    with pytest.raises(ValueError, match=r"image_shape must be \(H, W\) or \(C, H, W\) "
                                         r"holding the 784 values .* got \(3, 28, 28\)"):
        GAN(image_shape=(3, 28, 28), **tiny).fit(X.reshape(64, 784))


@pytest.mark.parametrize("shape", [(28, 28), (784,)], ids=["images", "rows"])
def test_files_from_before_the_recorded_network_load_with_their_old_networks(
        mnist_small, tmp_path, shape):
    """Older files record neither ``image_shape`` nor the networks: their flat rows were
    MLP rows and their conv levels started at 64 channels."""
    X = mnist_small[0][:32].reshape(32, *shape)
    tiny = dict(latent_dim=4, epochs=1, batch_size=16, verbose=0, random_state=0)
    old_hidden = (64, 128) if len(shape) == 2 else (256, 256)
    old = GAN(hidden_dims=old_hidden, image_shape=None, **tiny).fit(X)
    document, tensors = latentmodels._internal.io.read_tensor_file(old.save(tmp_path / "a.lm"))
    assert document["attributes"].pop("network") == {
        "image_shape": [28, 28] if len(shape) == 2 else None, "hidden_dims": list(old_hidden)}
    del document["params"]["image_shape"]
    document["params"]["hidden_dims"] = None
    for key in ("format", "format_version"):
        del document[key]
    path = latentmodels._internal.io.write_tensor_file(tmp_path / "old.lm", tensors, document)
    loaded = GAN.load(path)
    assert loaded.hidden_dims_ == old_hidden and loaded.image_shape is None
    np.testing.assert_array_equal(loaded.sample(4, random_state=2), old.sample(4, random_state=2))
    document["attributes"]["network"] = {"image_shape": [5, 5], "hidden_dims": [4]}
    bad = latentmodels._internal.io.write_tensor_file(tmp_path / "bad.lm", tensors, document)
    with pytest.raises(latentmodels._internal.io.ModelFileError, match="network.image_shape"):
        GAN.load(bad)


# -- estimator conventions ----------------------------------------------------------------
@pytest.mark.parametrize("estimator", [GAN(), ConditionalGAN()], ids=lambda e: type(e).__name__)
def test_sklearn_parameter_conventions(estimator):
    name = type(estimator).__name__
    check_no_attributes_set_in_init(name, estimator)
    check_parameters_default_constructible(name, estimator)
    check_get_params_invariance(name, estimator)
    check_set_params(name, estimator)
    assert clone(estimator).get_params() == estimator.get_params()


# -- bad input ----------------------------------------------------------------------------
POINTS = ring(64, 1)[0]


@pytest.mark.parametrize(
    "params,error,message",
    [
        ({"latent_dim": 0}, ValueError, "latent_dim must be >= 1"),
        ({"latent_dim": 2.5}, TypeError, "latent_dim must be an integer"),
        ({"loss": "wgan"}, ValueError, "loss must be one of 'hinge', 'ns', 'wgan-gp'"),
        ({"architecture": "cnn"}, ValueError, "architecture must be one of"),
        ({"hidden_dims": ()}, ValueError, "hidden_dims must hold at least one"),
        ({"hidden_dims": "64"}, TypeError, "hidden_dims must be a sequence"),
        ({"spectral_norm": "yes"}, TypeError, "spectral_norm must be True, False or None"),
        ({"n_critic": 0}, ValueError, "n_critic must be >= 1"),
        ({"gp_weight": -1.0}, ValueError, "gp_weight must be >= 0"),
        ({"ema_decay": 1.0}, ValueError, "ema_decay must be < 1"),
        ({"use_ema": 1}, TypeError, "use_ema must be True or False"),
        ({"data_range": (1.0, 0.0)}, ValueError, "data_range must be .* low < high"),
        ({"data_range": (0.0,)}, TypeError, "data_range must be a pair"),
        ({"lr_g": 0.0}, ValueError, "lr_g must be > 0"),
        ({"lr_d": -1e-3}, ValueError, "lr_d must be > 0"),
        ({"betas": (0.5, 1.0)}, ValueError, "betas must be < 1"),
        ({"betas": 0.5}, TypeError, "betas must be a pair"),
        ({"epochs": 0}, ValueError, "epochs must be >= 1"),
        ({"batch_size": 0}, ValueError, "batch_size must be >= 1"),
        ({"device": "tpu"}, ValueError, "device: cannot use 'tpu'"),
    ],
)
def test_bad_hyper_parameters_name_the_argument(params, error, message):
    settings = {**TOY, "epochs": 1, **params}
    with pytest.raises(error, match=message):
        GAN(**settings).fit(POINTS)


def test_data_outside_the_declared_range(mnist_small):
    with pytest.raises(ValueError, match=r"X: values must lie in data_range=\(0.0, 1.0\)"):
        GAN(epochs=1, verbose=0).fit(mnist_small[0][:16] * 255)
    with pytest.raises(ValueError, match="X: values must lie in data_range"):
        GAN(epochs=1, verbose=0).fit(POINTS)


@pytest.mark.parametrize(
    "shape,message",
    [
        ((16, 2), r"needs square images of shape .* got per-sample shape \(2,\)"),
        ((4, 28, 20), r"needs square images of shape .* got per-sample shape \(28, 20\)"),
        ((4, 30, 30), "needs square images whose side halves .* got 30x30"),
    ],
)
def test_conv_rejects_unsuitable_shapes(shape, message):
    with pytest.raises(ValueError, match="X: the 'conv' GAN " + message):
        GAN(architecture="conv", epochs=1, verbose=0).fit(np.zeros(shape, np.float32))


def test_conv_hidden_dims_must_match_the_levels():
    with pytest.raises(ValueError, match="hidden_dims: .* 2 resolution levels.* got 3"):
        GAN(architecture="conv", hidden_dims=(4, 8, 16), epochs=1, verbose=0).fit(
            np.zeros((4, 28, 28), np.float32)
        )


def test_bad_input_at_inference(gan, cgan):
    with pytest.raises(ValueError, match=r"Z must have shape \(n_samples, latent_dim=2\)"):
        gan.inverse_transform(np.zeros((3, 5), np.float32))
    with pytest.raises(ValueError, match="X has 3 features, but GAN is expecting 2 features"):
        gan.transform(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="X contains 1 NaN"):
        gan.score_samples(np.array([[0.0, np.nan]]))
    with pytest.raises(ValueError, match="n_samples must be >= 1"):
        gan.sample(0)
    with pytest.raises(TypeError, match="use_ema must be True, False or None"):
        gan.sample(2, use_ema="yes")
    with pytest.raises(ValueError, match="n_steps must be >= 0"):
        gan.transform(POINTS, n_steps=-1)
    with pytest.raises(ValueError, match="method must be one of 'linear', 'slerp'"):
        gan.interpolate(POINTS[0], POINTS[1], method="cubic")
    with pytest.raises(ValueError, match="space must be one of 'data', 'latent'"):
        gan.interpolate(POINTS[0], POINTS[1], space="code")
    with pytest.raises(ValueError, match="y: ConditionalGAN.fit requires y to be passed"):
        ConditionalGAN(**TOY).fit(POINTS)
    with pytest.raises(ValueError, match="y must be 1-D with one label per sample"):
        ConditionalGAN(**TOY).fit(POINTS, np.zeros(3))
    with pytest.raises(ValueError, match=r"y holds classes not seen in fit: \[9\]"):
        cgan.sample(2, y=9)
    with pytest.raises(ValueError, match="y: a ConditionalGAN needs the class labels"):
        cgan.inverse_transform(np.zeros((2, cgan.latent_dim), np.float32))
    with pytest.raises(ValueError, match="y: interpolation needs one class label"):
        cgan.interpolate(POINTS[0], POINTS[1])
