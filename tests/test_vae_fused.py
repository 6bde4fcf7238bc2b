"""The fused pass of a fully connected Bernoulli VAE (deep/nn/fused.py) computes what the
layer-by-layer pass computes: the same ELBO terms, bit for bit, and the same gradients for
every weight, the input and the noise; models it cannot run take the layer path."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from latentmodels import VAE, ConditionalVAE
from latentmodels.deep.vae import _VAENetwork


def _terms_and_grads(net: _VAENetwork, fused: bool, x: torch.Tensor, noise: torch.Tensor,
                     kl_weights: torch.Tensor):
    saved = net._fused
    if not fused:
        net._fused = None
    try:
        net.zero_grad(set_to_none=True)
        x = x.clone().requires_grad_(True)
        noise = noise.clone().requires_grad_(True)
        reconstruction, kl, _ = net(x, noise)
        (reconstruction.mean() + (kl.mean(0) * kl_weights).sum()).backward()
        grads = {name: p.grad.clone() for name, p in net.named_parameters()}
        return reconstruction.detach(), kl.detach(), grads, x.grad, noise.grad
    finally:
        net._fused = saved


@pytest.mark.parametrize("hidden", [(64,), (48, 24), ()])
def test_fused_pass_equals_the_layer_pass_in_values_and_gradients(hidden):
    torch.manual_seed(0)
    net = _VAENetwork("mlp", (12, 12), hidden, 5, "bernoulli")
    assert net._fused is not None
    x = torch.rand(32, 12, 12)
    noise = torch.randn(32, 5)
    # push some log-variances past the clamp so its gradient mask is exercised
    with torch.no_grad():
        net.encoder.head[-1].bias[5:7] = torch.tensor([40.0, -45.0])
    kl_weights = torch.rand(5)
    fused = _terms_and_grads(net, True, x, noise, kl_weights)
    layers = _terms_and_grads(net, False, x, noise, kl_weights)
    assert torch.equal(fused[0], layers[0])
    assert torch.equal(fused[1], layers[1])
    for name, grad in layers[2].items():
        scale = grad.abs().max().item() + 1e-12
        assert (fused[2][name] - grad).abs().max().item() <= 1e-5 * scale, name
    assert torch.allclose(fused[3], layers[3], rtol=1e-5, atol=1e-7)
    assert torch.allclose(fused[4], layers[4], rtol=1e-5, atol=1e-7)
    # the clamped dimensions get no gradient through the log-variance
    last_bias = fused[2][f"encoder.head.{len(hidden) * 2}.bias"]
    assert float(last_bias[5:7].abs().max()) == pytest.approx(0.0, abs=1e-12)


def test_models_the_fused_pass_cannot_run_take_the_layer_path():
    assert _VAENetwork("mlp", (6,), (4,), 2, "gaussian")._fused is None
    assert _VAENetwork("conv", (8, 8), (4,), 2, "bernoulli")._fused is None
    assert _VAENetwork("mlp", (6,), (4,), 2, "bernoulli", condition_dim=3)._fused is None
    assert _VAENetwork("mlp", (6,), (4,), 2, "bernoulli", extra_outputs=2)._fused is None


def test_a_fit_with_the_fused_pass_matches_one_without(mnist_small, monkeypatch):
    X = mnist_small[0][:192]
    settings = dict(latent_dim=4, hidden_dims=(32,), epochs=2, batch_size=64,
                    validation_fraction=0.0, patience=None, random_state=0, verbose=0)
    fused = VAE(**settings).fit(X)
    original = _VAENetwork.__init__

    def layer_path(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self._fused = None

    monkeypatch.setattr(_VAENetwork, "__init__", layer_path)
    layers = VAE(**settings).fit(X)
    assert layers.module_._fused is None and fused.module_._fused is not None
    # the same run up to float rounding in the gradients' summation order
    for a, b in zip(fused.history_, layers.history_, strict=True):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-4)
    np.testing.assert_allclose(fused.score_samples(X[:50]), layers.score_samples(X[:50]),
                               rtol=1e-3)


def test_conditional_vae_still_trains_through_the_layer_path(mnist_small):
    X, y = mnist_small
    model = ConditionalVAE(latent_dim=2, hidden_dims=(16,), epochs=1, verbose=0,
                           random_state=0).fit(X[:128], y[:128])
    assert model.module_._fused is None
    assert np.isfinite(model.history_[0]["loss"])
