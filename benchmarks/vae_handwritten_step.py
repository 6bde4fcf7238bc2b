"""The same-model VAE step written by hand: the fastest float32 step we could write in PyTorch.

``vae_step_profile.py`` times it beside the reference loop and ``VAE.fit`` to show how
close to the floor (five matrix products and Adam) a step can come without autograd. It
is the PyTorch example's model (784-400-20-400-784, Bernoulli, Adam 1e-3, batch 128) with
the mean and log-variance layers stacked in one 40-wide layer, every gradient written out
(no autograd graph), every activation and gradient in a buffer allocated once, all
parameters and gradients views into two flat tensors so Adam is one fused call, and the
1/batch factor folded into the output gradient. ``check_gradients`` compares its gradients
with autograd's on the same weights and noise before any figure is trusted.

Not part of the library: it fixes the architecture, the likelihood and the optimiser.

    python benchmarks/vae_handwritten_step.py      # gradient check only
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

BATCH, FEATURES, HIDDEN, LATENT = 128, 784, 400, 20


class HandwrittenVAEStep:
    """Forward, backward and Adam for the reference VAE, with preallocated buffers."""

    def __init__(self, reference: nn.Module, learning_rate: float = 1e-3) -> None:
        b, d, h, k = BATCH, FEATURES, HIDDEN, LATENT
        shapes = [(h, d), (h,), (2 * k, h), (2 * k,), (h, k), (h,), (d, h), (d,)]
        sizes = [math.prod(shape) for shape in shapes]
        self.flat_params = torch.empty(sum(sizes))
        self.flat_grads = torch.zeros(sum(sizes))
        self.params = [part.view(shape) for part, shape in
                       zip(self.flat_params.split(sizes), shapes, strict=True)]
        self.grads = [part.view(shape) for part, shape in
                      zip(self.flat_grads.split(sizes), shapes, strict=True)]
        w_in, b_in, w_head, b_head, w_dec, b_dec, w_out, b_out = self.params
        with torch.no_grad():
            w_in.copy_(reference.fc1.weight)
            b_in.copy_(reference.fc1.bias)
            w_head.copy_(torch.cat([reference.fc21.weight, reference.fc22.weight]))
            b_head.copy_(torch.cat([reference.fc21.bias, reference.fc22.bias]))
            w_dec.copy_(reference.fc3.weight)
            b_dec.copy_(reference.fc3.bias)
            w_out.copy_(reference.fc4.weight)
            b_out.copy_(reference.fc4.bias)
        self.exp_avg = torch.zeros_like(self.flat_params)
        self.exp_avg_sq = torch.zeros_like(self.flat_params)
        self.step_count = torch.zeros(())
        self.learning_rate = learning_rate
        self.hidden_in, self.hidden_out = torch.empty(b, h), torch.empty(b, h)
        self.head, self.std, self.z = torch.empty(b, 2 * k), torch.empty(b, k), torch.empty(b, k)
        self.logits, self.grad_logits = torch.empty(b, d), torch.empty(b, d)
        self.grad_hidden_in, self.grad_hidden_out = torch.empty(b, h), torch.empty(b, h)
        self.grad_z, self.grad_head = torch.empty(b, k), torch.empty(b, 2 * k)

    def forward_backward(self, x: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Fill the gradients of the batch-mean negative ELBO; return that loss."""
        inv_batch, k = 1.0 / len(x), LATENT
        w_in, b_in, w_head, b_head, w_dec, b_dec, w_out, b_out = self.params
        g_w_in, g_b_in, g_w_head, g_b_head, g_w_dec, g_b_dec, g_w_out, g_b_out = self.grads
        h_in, h_out, logits = self.hidden_in, self.hidden_out, self.logits
        torch.addmm(b_in, x, w_in.t(), out=h_in).clamp_min_(0)
        torch.addmm(b_head, h_in, w_head.t(), out=self.head)
        mean, log_var = self.head[:, :k], self.head[:, k:]
        torch.exp(log_var.mul(0.5), out=self.std)
        torch.addcmul(mean, noise, self.std, out=self.z)
        torch.addmm(b_dec, self.z, w_dec.t(), out=h_out).clamp_min_(0)
        torch.addmm(b_out, h_out, w_out.t(), out=logits)
        variance = self.std * self.std
        reconstruction = F.softplus(logits).sum() - torch.dot(x.reshape(-1), logits.reshape(-1))
        kl = 0.5 * (mean.pow(2).sum() + variance.sum() - log_var.sum()) - 0.5 * mean.numel()
        # d(loss)/d(logits) = (sigmoid(logits) - x) / batch; the rest follows the chain rule.
        grad_logits = torch.sigmoid(logits, out=self.grad_logits).sub_(x).mul_(inv_batch)
        torch.mm(grad_logits.t(), h_out, out=g_w_out)
        torch.sum(grad_logits, 0, out=g_b_out)
        grad_h_out = torch.mm(grad_logits, w_out, out=self.grad_hidden_out).mul_(h_out > 0)
        torch.mm(grad_h_out.t(), self.z, out=g_w_dec)
        torch.sum(grad_h_out, 0, out=g_b_dec)
        grad_z = torch.mm(grad_h_out, w_dec, out=self.grad_z)
        torch.add(grad_z, mean, alpha=inv_batch, out=self.grad_head[:, :k])
        # d/d(log_var): grad_z * noise * std / 2 from z, (variance - 1) / (2 batch) from KL.
        grad_log_var = torch.mul(grad_z, noise, out=self.grad_head[:, k:]).mul_(self.std)
        grad_log_var.add_(variance, alpha=inv_batch).sub_(inv_batch).mul_(0.5)
        torch.mm(self.grad_head.t(), h_in, out=g_w_head)
        torch.sum(self.grad_head, 0, out=g_b_head)
        grad_h_in = torch.mm(self.grad_head, w_head, out=self.grad_hidden_in).mul_(h_in > 0)
        torch.mm(grad_h_in.t(), x, out=g_w_in)
        torch.sum(grad_h_in, 0, out=g_b_in)
        return (reconstruction + kl) * inv_batch

    def adam_step(self) -> None:
        """One fused Adam update of all parameters (torch.optim.Adam's defaults)."""
        self.step_count += 1
        torch._fused_adam_(
            [self.flat_params], [self.flat_grads], [self.exp_avg], [self.exp_avg_sq], [],
            [self.step_count], lr=self.learning_rate, beta1=0.9, beta2=0.999,
            weight_decay=0.0, eps=1e-8, amsgrad=False, maximize=False,
        )

    def step(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """One training step on batch ``x``; returns the loss."""
        loss = self.forward_backward(x, torch.randn((len(x), LATENT), generator=generator))
        self.adam_step()
        return loss


#: Largest relative difference to autograd that float32 rounding explains.
GRADIENT_TOLERANCE = 1e-4


def check_gradients(reference: nn.Module, x: torch.Tensor, seed: int = 0) -> float:
    """Largest gradient difference against autograd, relative to each gradient's size;
    raises ``AssertionError`` above ``GRADIENT_TOLERANCE`` (the step would be wrong)."""
    handwritten = HandwrittenVAEStep(reference)
    noise = torch.randn((len(x), LATENT), generator=torch.Generator().manual_seed(seed))
    loss = handwritten.forward_backward(x, noise)
    reference.zero_grad()
    mean, log_var = reference.encode(x)
    z = mean + noise * torch.exp(0.5 * log_var)
    logits = reference.fc4(F.relu(reference.fc3(z)))
    reconstruction = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
    kl = -0.5 * torch.sum(1 + log_var - mean.pow(2) - log_var.exp())
    autograd_loss = (reconstruction + kl) / len(x)
    autograd_loss.backward()
    expected = [
        reference.fc1.weight.grad, reference.fc1.bias.grad,
        torch.cat([reference.fc21.weight.grad, reference.fc22.weight.grad]),
        torch.cat([reference.fc21.bias.grad, reference.fc22.bias.grad]),
        reference.fc3.weight.grad, reference.fc3.bias.grad,
        reference.fc4.weight.grad, reference.fc4.bias.grad,
    ]
    errors = [float((got - want).abs().max() / want.abs().max())
              for got, want in zip(handwritten.grads, expected, strict=True)]
    errors.append(abs(float(loss) - autograd_loss.item()) / abs(autograd_loss.item()))
    if max(errors) > GRADIENT_TOLERANCE:
        raise AssertionError(f"the hand-written step's gradients differ from autograd's by "
                             f"{max(errors):.2e} (relative): fix the step before timing it")
    return max(errors)


if __name__ == "__main__":
    import numpy as np
    import vae_mnist  # benchmarks/ is on sys.path

    from latentmodels import datasets

    digits, _ = datasets.load_mnist(flatten=True)
    torch.manual_seed(0)
    batch = torch.from_numpy(digits[np.random.default_rng(0).permutation(len(digits))[:BATCH]])
    print(f"largest relative difference to autograd: "
          f"{check_gradients(vae_mnist.ReferenceVAE(), batch):.2e}")
