"""VAE on MNIST: latentmodels.VAE against the classic PyTorch example loop, in one run.

Part 1 (same model): 784-400-20-400-784, Bernoulli likelihood on grayscale targets,
Adam 1e-3, batch 128, 10 epochs on a fixed 6,400 / 1,600 split of the 8,000 embedded
digits. The reference is written here as the PyTorch example writes it (DataLoader over a
TensorDataset, separate mean/log-variance layers, sigmoid + binary_cross_entropy). Runs
alternate (reference, ours, reference, ours, ...) so drift on a shared machine hits both.
Reports training samples/s and test NLL (IWAE, k=100), both models scored by the same
importance-sampling code written here.

Part 2 (same wall clock): the library's recommended default ``VAE()`` trained for as
many epochs as fit in the reference's 10-epoch training time; test NLL compared.

    python benchmarks/vae_mnist.py                 # full run, ~3-4 minutes on 2 cores
    python benchmarks/vae_mnist.py --repeats 1 --epochs 2   # a quick smoke run
    python benchmarks/vae_mnist.py --busy --part1-only     # one CPU-bound process per core beside
    python benchmarks/vae_mnist.py --part1-only --matmul-precision bf16   # both on bf16 products
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F
from _contention import load_average, maybe_busy  # benchmarks/ is on sys.path
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from latentmodels import VAE, datasets
from latentmodels._internal import threads


# -- the reference: the classic PyTorch example VAE ------------------------------------------
class ReferenceVAE(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, 20)
        self.fc22 = nn.Linear(400, 20)
        self.fc3 = nn.Linear(20, 400)
        self.fc4 = nn.Linear(400, 784)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def decode(self, z):
        return torch.sigmoid(self.fc4(F.relu(self.fc3(z))))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 784))
        std = torch.exp(0.5 * logvar)
        z = mu + torch.randn_like(std) * std
        return self.decode(z), mu, logvar


def reference_loss(recon_x, x, mu, logvar):
    bce = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


def train_reference(X_train: torch.Tensor, epochs: int, seed: int) -> tuple[nn.Module, float]:
    torch.manual_seed(seed)
    model = ReferenceVAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader(TensorDataset(X_train), batch_size=128, shuffle=True)
    started = time.perf_counter()
    model.train()
    for _ in range(epochs):
        for (data,) in loader:
            optimizer.zero_grad()
            recon, mu, logvar = model(data)
            loss = reference_loss(recon, data, mu, logvar)
            loss.backward()
            optimizer.step()
    return model, time.perf_counter() - started


# -- one IWAE estimator for both models ------------------------------------------------------
@torch.no_grad()
def iwae_nll(encode, decode_logits, X: torch.Tensor, k: int = 100, seed: int = 0) -> float:
    """Mean -log p(x) by importance sampling with the encoder as proposal, in nats."""
    generator = torch.Generator().manual_seed(seed)
    log_2pi = math.log(2 * math.pi)
    total = 0.0
    for start in range(0, len(X), 100):
        x = X[start : start + 100]
        mu, logvar = encode(x)
        std = torch.exp(0.5 * logvar)
        eps = torch.randn((k, *mu.shape), generator=generator)
        z = mu + eps * std
        log_q = (-0.5 * eps.pow(2) - 0.5 * logvar - 0.5 * log_2pi).sum(-1)
        log_p_z = (-0.5 * z.pow(2) - 0.5 * log_2pi).sum(-1)
        logits = decode_logits(z.reshape(-1, mu.shape[1])).reshape(k, len(x), -1)
        target = x.reshape(1, len(x), -1).expand_as(logits)
        log_p_x = -F.binary_cross_entropy_with_logits(logits, target, reduction="none").sum(-1)
        log_w = log_p_x + log_p_z - log_q
        total += (torch.logsumexp(log_w, 0) - math.log(k)).sum().item()
    return -total / len(X)


def reference_nll(model: ReferenceVAE, X_test: torch.Tensor) -> float:
    model.eval()
    return iwae_nll(model.encode, lambda z: model.fc4(F.relu(model.fc3(z))), X_test)


def library_nll(model: VAE, X_test: torch.Tensor) -> float:
    net = model.module_.cpu().eval()
    return iwae_nll(lambda x: net.encode(x), lambda z: net.decoder(z).reshape(len(z), -1), X_test)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=str, default=None, help="also write results here")
    parser.add_argument("--busy", action="store_true",
                        help="run with one CPU-bound process per core beside (contention mode)")
    parser.add_argument("--part1-only", action="store_true", help="skip the same-wall-clock part")
    parser.add_argument("--pin-threads", action="store_true",
                        help="fit latentmodels at exactly --threads (as the CLI's --threads "
                             "does), not under the automatic thread switcher")
    parser.add_argument("--matmul-precision", choices=("ieee", "bf16"), default="ieee",
                        help="float32 matrix products for both loops: ieee (exact float32) or "
                             "bf16 (oneDNN rounds the inputs to bfloat16: AMX/AVX-512 units)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.backends.mkldnn.matmul.fp32_precision = args.matmul_precision
    with maybe_busy(args.busy):
        run(args)


def run(args: argparse.Namespace) -> None:

    X, _ = datasets.load_mnist(flatten=True)
    order = np.random.default_rng(0).permutation(len(X))
    X_train = torch.from_numpy(X[order[:6400]])
    X_test = torch.from_numpy(X[order[6400:]])
    n_train = len(X_train)

    print(f"torch {torch.__version__}, {args.threads} threads, {platform.processor() or 'cpu'}, "
          f"{'busy: one spinning process per core beside' if args.busy else 'no spinners'}, "
          f"load average {load_average()}, OMP_WAIT_POLICY="
          f"{os.environ.get('OMP_WAIT_POLICY', 'unset')}, latentmodels threads "
          f"{'pinned' if args.pin_threads else 'automatic (switcher)'}, float32 matrix "
          f"products: {torch.backends.mkldnn.matmul.fp32_precision}")
    print(f"part 1: same model, {args.epochs} epochs, batch 128, {args.repeats} alternating runs")
    ref_times, lib_times, ref_nlls, lib_nlls = [], [], [], []
    for repeat in range(args.repeats):
        ref_model, ref_time = train_reference(X_train, args.epochs, seed=repeat)
        lib = VAE(latent_dim=20, hidden_dims=(400,), epochs=args.epochs, batch_size=128,
                  learning_rate=1e-3, validation_fraction=0.0, patience=None,
                  random_state=repeat, verbose=0, device="cpu")
        pinned = threads.requested_threads(args.threads if args.pin_threads else None)
        started = time.perf_counter()
        with pinned:
            lib.fit(X_train)
        lib_time = time.perf_counter() - started
        ref_times.append(ref_time)
        lib_times.append(lib_time)
        ref_nlls.append(reference_nll(ref_model, X_test))
        lib_nlls.append(library_nll(lib, X_test))
        print(f"  run {repeat}: reference {n_train * args.epochs / ref_time:8.0f} samples/s "
              f"NLL {ref_nlls[-1]:.2f} | latentmodels {n_train * args.epochs / lib_time:8.0f} "
              f"samples/s NLL {lib_nlls[-1]:.2f} | speed-up {ref_time / lib_time:.2f}x")
    ratios = [r / t for r, t in zip(ref_times, lib_times, strict=True)]
    part1 = {
        "reference_samples_per_s": n_train * args.epochs / statistics.median(ref_times),
        "library_samples_per_s": n_train * args.epochs / statistics.median(lib_times),
        "speedup_median": statistics.median(ratios),
        "reference_nll": statistics.mean(ref_nlls),
        "library_nll": statistics.mean(lib_nlls),
    }
    print(f"  median speed-up {part1['speedup_median']:.2f}x; mean test NLL reference "
          f"{part1['reference_nll']:.2f}, latentmodels {part1['library_nll']:.2f} nats; median "
          f"seconds reference {statistics.median(ref_times):.2f}, latentmodels "
          f"{statistics.median(lib_times):.2f}; load average {load_average()}")
    if args.part1_only:
        if args.json:
            with open(args.json, "w", encoding="utf-8") as handle:
                json.dump({"part1": part1, "args": vars(args)}, handle, indent=2)
        return

    budget = statistics.median(ref_times)
    probe = VAE(epochs=1, verbose=0, random_state=0, device="cpu")
    started = time.perf_counter()
    probe.fit(X_train)
    per_epoch = time.perf_counter() - started
    epochs = max(1, int(budget / per_epoch))
    default = VAE(epochs=epochs, verbose=0, random_state=0, device="cpu")
    started = time.perf_counter()
    default.fit(X_train)
    default_time = time.perf_counter() - started
    part2 = {
        "budget_s": budget,
        "default_epochs": epochs,
        "default_time_s": default_time,
        "default_nll": library_nll(default, X_test),
    }
    print(f"part 2: same wall clock ({budget:.2f} s): default VAE() ran {epochs} epochs in "
          f"{default_time:.2f} s, test NLL {part2['default_nll']:.2f} vs reference "
          f"{part1['reference_nll']:.2f} ({part1['reference_nll'] - part2['default_nll']:+.2f} "
          "nats better)")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"part1": part1, "part2": part2, "args": vars(args)}, handle, indent=2)


if __name__ == "__main__":
    main()
