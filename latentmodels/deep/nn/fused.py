"""One autograd node for the whole pass of a fully connected Bernoulli VAE.

Autograd records some 40 small operations per step of a VAE (layers, slices, clamps, the
KL terms, the reconstruction loss) and plays them back one by one; on a CPU, for a small
network, that bookkeeping costs about as much as the arithmetic outside the matrix products.
:func:`bernoulli_mlp_vae_terms` computes the same numbers as the layer-by-layer pass, with
its backward pass written out: matrix products into the layers' weights, one fused
ReLU-gradient kernel per layer, the reconstruction gradient as ``sigmoid(logits) - x``.
Gradients still reach the parameters through autograd, so optimisers, gradient clipping
and DistributedDataParallel's hooks work as before.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

#: Bounds of the encoder's log-variance (as in the layer-by-layer pass): ``exp`` of an
#: unbounded log-variance overflows long before training notices.
LOG_VAR_BOUNDS = (-30.0, 20.0)


def _relu_grad(grad: torch.Tensor, activation: torch.Tensor) -> torch.Tensor:
    # One pass: the gradient where the ReLU's output is positive, else 0.
    return torch.ops.aten.threshold_backward(grad, activation, 0)


class _BernoulliMLPVAE(torch.autograd.Function):
    """Forward: reconstruction NLL per sample and KL per sample and dimension.
    Backward: gradients for the input, the noise and every weight and bias."""

    @staticmethod
    def forward(ctx, x, noise, n_encoder, latent_dim, *params):  # type: ignore[override]
        encoder = [(params[i], params[i + 1]) for i in range(0, 2 * n_encoder, 2)]
        decoder = [(params[i], params[i + 1]) for i in range(2 * n_encoder, len(params), 2)]
        inputs = [x]  # each layer's input, for the weight gradients
        h = x
        for index, (weight, bias) in enumerate(encoder):
            h = torch.addmm(bias, h, weight.t())
            if index < len(encoder) - 1:
                h = h.relu_()
                inputs.append(h)
        mean = h[:, :latent_dim]
        raw_log_var = h[:, latent_dim : 2 * latent_dim]
        log_var = raw_log_var.clamp(*LOG_VAR_BOUNDS)
        std = torch.exp(0.5 * log_var)
        z = mean + noise * std
        h = z
        inputs.append(z)
        for index, (weight, bias) in enumerate(decoder):
            h = torch.addmm(bias, h, weight.t())
            if index < len(decoder) - 1:
                h = h.relu_()
                inputs.append(h)
        logits = h
        reconstruction = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1)
        variance = log_var.exp()
        kl = 0.5 * (mean.pow(2) + variance - 1.0 - log_var)
        in_bounds = (raw_log_var >= LOG_VAR_BOUNDS[0]) & (raw_log_var <= LOG_VAR_BOUNDS[1])
        ctx.n_encoder, ctx.latent_dim = n_encoder, latent_dim
        ctx.save_for_backward(logits, noise, mean, std, variance, in_bounds, *inputs, *params)
        ctx.n_inputs = len(inputs)
        return reconstruction, kl

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_reconstruction, grad_kl):  # type: ignore[override]
        logits, noise, mean, std, variance, in_bounds, *rest = ctx.saved_tensors
        inputs, params = rest[: ctx.n_inputs], rest[ctx.n_inputs :]
        n_encoder, d = ctx.n_encoder, ctx.latent_dim
        x = inputs[0]
        weights = params[0::2]
        grads: list[torch.Tensor | None] = [None] * len(params)
        if grad_reconstruction is None:
            grad_reconstruction = torch.zeros(len(x), dtype=x.dtype, device=x.device)
        if grad_kl is None:
            grad_kl = torch.zeros_like(mean)
        scale = grad_reconstruction.unsqueeze(1)

        # decoder, last layer first
        grad = torch.sigmoid(logits).sub_(x).mul_(scale)
        for layer in range(len(weights) - 1, n_encoder - 1, -1):
            layer_input = inputs[layer]
            grads[2 * layer] = grad.t().mm(layer_input)
            grads[2 * layer + 1] = grad.sum(0)
            grad = grad.mm(weights[layer])
            if layer > n_encoder:
                grad = _relu_grad(grad, layer_input)
        grad_z = grad
        # reparameterisation and KL: z = mean + noise * std, std = exp(log_var / 2)
        grad_out = torch.empty((len(x), weights[n_encoder - 1].shape[0]), dtype=x.dtype,
                               device=x.device)
        torch.addcmul(grad_z, grad_kl, mean, out=grad_out[:, :d])
        grad_log_var = (grad_z * noise).mul_(std).add_(grad_kl * (variance - 1.0)).mul_(0.5)
        grad_out[:, d : 2 * d] = grad_log_var.mul_(in_bounds)
        grad_out[:, 2 * d :] = 0.0
        # encoder
        grad = grad_out
        for layer in range(n_encoder - 1, -1, -1):
            layer_input = inputs[layer]
            grads[2 * layer] = grad.t().mm(layer_input)
            grads[2 * layer + 1] = grad.sum(0)
            if layer > 0:
                grad = _relu_grad(grad.mm(weights[layer]), layer_input)
        grad_x = None
        if ctx.needs_input_grad[0]:
            # through the encoder, and as the reconstruction's target: d/dx = -logits
            grad_x = grad.mm(weights[0]).sub_(logits * scale)
        grad_noise = grad_z * std if ctx.needs_input_grad[1] else None
        return (grad_x, grad_noise, None, None, *grads)


def mlp_layers(network: nn.Sequential) -> list[nn.Linear] | None:
    """The ``Linear`` layers of an ``Linear, ReLU, ..., Linear`` stack, or None for any
    other stack (which the fused pass cannot run).

    Parameters
    ----------
    network : torch.nn.Sequential

    Returns
    -------
    list of torch.nn.Linear or None

    Examples
    --------
    >>> from torch import nn
    >>> len(mlp_layers(nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))))
    2
    >>> mlp_layers(nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2))) is None
    True
    """
    modules = list(network)
    if len(modules) % 2 != 1:
        return None
    linears = modules[0::2]
    if not all(type(m) is nn.Linear and m.bias is not None for m in linears):
        return None
    if not all(type(m) is nn.ReLU for m in modules[1::2]):
        return None
    return linears  # type: ignore[return-value]


def bernoulli_mlp_vae_terms(
    x: torch.Tensor,
    noise: torch.Tensor,
    encoder: Sequence[nn.Linear],
    decoder: Sequence[nn.Linear],
) -> tuple[torch.Tensor, torch.Tensor]:
    """The two ELBO terms of a fully connected Bernoulli VAE, as one autograd node.

    The encoder (``Linear`` layers with ReLUs between them) maps flattened inputs to the
    posterior mean and log-variance (clamped to ``LOG_VAR_BOUNDS``), a code is drawn as
    ``mean + noise * exp(log_var / 2)``, and the decoder maps it to logits. The values
    equal the layer-by-layer computation's; the backward pass is written out (see the
    module docstring). Encoder outputs beyond the first ``2 * latent_dim`` get no
    gradient, so use it only for an encoder with exactly that many outputs.

    Parameters
    ----------
    x : torch.Tensor of shape (batch, n_features)
        Flattened data in [0, 1] (the Bernoulli targets).
    noise : torch.Tensor of shape (batch, latent_dim)
        Standard normal draws.
    encoder, decoder : sequence of torch.nn.Linear
        The layers, input first; the encoder's last layer has ``2 * latent_dim`` outputs.

    Returns
    -------
    reconstruction : torch.Tensor of shape (batch,)
        -log p(x | z) per sample, summed over features.
    kl : torch.Tensor of shape (batch, latent_dim)
        KL(q(z | x) || N(0, I)) per sample and dimension.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> encoder = [nn.Linear(6, 5), nn.Linear(5, 4)]   # latent_dim 2: mean, log-variance
    >>> decoder = [nn.Linear(2, 5), nn.Linear(5, 6)]
    >>> x, noise = torch.rand(3, 6), torch.randn(3, 2)
    >>> reconstruction, kl = bernoulli_mlp_vae_terms(x, noise, encoder, decoder)
    >>> reconstruction.shape, kl.shape
    (torch.Size([3]), torch.Size([3, 2]))
    >>> (reconstruction.mean() + kl.sum(1).mean()).backward()
    >>> encoder[0].weight.grad.shape
    torch.Size([5, 6])
    """
    latent_dim = noise.shape[1]
    params: list[torch.Tensor] = []
    for layer in (*encoder, *decoder):
        params += [layer.weight, layer.bias]
    return _BernoulliMLPVAE.apply(x, noise, len(encoder), latent_dim, *params)
