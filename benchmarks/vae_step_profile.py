"""Where a same-model VAE training step spends its time: latentmodels against the PyTorch
example loop of ``vae_mnist.py``, phase by phase, with the floor set by the matrix products.

The model is ``vae_mnist.py``'s part 1 (784-400-20-400-784, Bernoulli, Adam 1e-3, batch
128, 6,400 digits). Each round times one epoch of each, interleaved:

* latentmodels: batch gather (``TensorBatches``), forward + loss (the model's ``_loss``),
  backward, optimiser step, each measured around the same calls the trainer makes; and a
  real one-epoch ``VAE.fit`` whose extra time over the phases is the loop's own bookkeeping
  (metrics, divergence checks, thread switcher, fit set-up);
* the reference: DataLoader fetch, forward + loss, backward, optimiser step;
* the floor: the five large matrix products of a step (two forward, three backward) and
  Adam's fused update alone;
* a hand-written step (``vae_handwritten_step.py``: no autograd, buffers allocated once, one
  fused Adam call on flat parameters), its gradients first checked against autograd: how
  close to the floor float32 PyTorch can come on this model at all.

At one thread it reads the thread's CPU time (``time.thread_time``), which other
processes on a shared machine disturb far less than wall time; at more threads, wall time.

    python benchmarks/vae_step_profile.py --threads 1 --rounds 5
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict

import numpy as np
import torch
import vae_mnist as reference  # benchmarks/ is on sys.path
from _contention import load_average
from torch.utils.data import DataLoader, TensorDataset
from vae_handwritten_step import HandwrittenVAEStep, check_gradients

from latentmodels import VAE, datasets
from latentmodels.deep import training

BATCH = 128
#: A training step's phases, in order: what lies between consecutive clock marks.
PHASES = ("gather", "forward + loss", "backward", "optimizer")


def add_phases(phases: dict[str, float], *marks: float) -> None:
    """Add one step's phase durations, read from the clock marks between its phases."""
    for name, start, end in zip(PHASES, marks, marks[1:], strict=False):
        phases[name] += end - start


def same_model(epochs: int = 1) -> VAE:
    return VAE(latent_dim=20, hidden_dims=(400,), epochs=epochs, batch_size=BATCH,
               learning_rate=1e-3, validation_fraction=0.0, patience=None, random_state=0,
               verbose=0, device="cpu")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    clock = time.thread_time if args.threads == 1 else time.perf_counter

    X, _ = datasets.load_mnist(flatten=True)
    order = np.random.default_rng(0).permutation(len(X))
    X_train = torch.from_numpy(X[order[:6400]])
    steps = len(X_train) // BATCH

    model = same_model().fit(X_train[:256])
    module = model.module_
    module.train()
    optimizer = training._make_optimizer(list(module.parameters()), training.TrainingConfig())
    generator = torch.Generator().manual_seed(0)
    batches = training.TensorBatches([X_train], BATCH)

    def library_epoch(phases: dict[str, float]) -> None:
        started = clock()
        for batch in batches.epoch(generator):
            gathered = clock()
            loss, _ = model._loss(module, batch, epoch=0, generator=generator, training=True)
            forward = clock()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            backward = clock()
            optimizer.step()
            stepped = clock()
            add_phases(phases, started, gathered, forward, backward, stepped)
            started = stepped

    torch.manual_seed(0)
    ref_model = reference.ReferenceVAE()
    ref_optimizer = torch.optim.Adam(ref_model.parameters(), lr=1e-3)
    loader = DataLoader(TensorDataset(X_train), batch_size=BATCH, shuffle=True)

    def reference_epoch(phases: dict[str, float]) -> None:
        started = clock()
        for (data,) in loader:
            gathered = clock()
            ref_optimizer.zero_grad()
            recon, mu, logvar = ref_model(data)
            loss = reference.reference_loss(recon, data, mu, logvar)
            forward = clock()
            loss.backward()
            backward = clock()
            ref_optimizer.step()
            stepped = clock()
            add_phases(phases, started, gathered, forward, backward, stepped)
            started = stepped

    x = X_train[:BATCH]
    hidden = torch.randn(BATCH, 400)
    grad_out = torch.randn(BATCH, 784)
    grad_hidden = torch.randn(BATCH, 400)
    w_in, w_out = torch.randn(400, 784), torch.randn(784, 400)

    def floor_epoch(phases: dict[str, float]) -> None:
        for _ in range(steps):
            started = clock()
            torch.mm(x, w_in.t())                # encoder forward
            torch.mm(hidden, w_out.t())          # decoder forward
            grad_out.t().mm(hidden)              # decoder weight gradient
            grad_out.mm(w_out)                   # decoder input gradient
            grad_hidden.t().mm(x)                # encoder weight gradient
            multiplied = clock()
            optimizer.step()                     # fused Adam on the model's parameters
            phases["5 matrix products"] += multiplied - started
            phases["Adam update"] += clock() - multiplied

    torch.manual_seed(0)
    handwritten = HandwrittenVAEStep(reference.ReferenceVAE())
    gradient_error = check_gradients(reference.ReferenceVAE(), x)

    def handwritten_epoch(phases: dict[str, float]) -> None:
        for batch in batches.epoch(generator):
            handwritten.step(batch[0], generator).item()

    results: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    library_epoch(defaultdict(float))  # warm-up
    reference_epoch(defaultdict(float))
    loads = [load_average()]
    for _ in range(args.rounds):
        for name, run in (("reference", reference_epoch), ("latentmodels", library_epoch),
                          ("floor", floor_epoch), ("hand-written step", handwritten_epoch)):
            phases: dict[str, float] = defaultdict(float)
            started = clock()
            run(phases)
            phases["total"] = clock() - started
            for key, value in phases.items():
                results[name][key].append(value)
        fit_model = same_model()
        started = clock()
        fit_model.fit(X_train)
        results["latentmodels"]["VAE.fit epoch"].append(clock() - started)
    loads.append(load_average())

    print(f"torch {torch.__version__}, {args.threads} thread(s), clock {clock.__name__}, "
          f"{args.rounds} rounds, "
          f"load average {loads[0]} -> {loads[1]}; ms per step (median over rounds)")
    for name, phases in results.items():
        cells = ", ".join(f"{key} {statistics.median(values) * 1e3 / steps:.2f}"
                          for key, values in phases.items())
        print(f"  {name}: {cells}")
    lib = results["latentmodels"]
    fit_step = statistics.median(lib["VAE.fit epoch"]) / steps
    bookkeeping = fit_step - statistics.median(lib["total"]) / steps
    ref_step = statistics.median(results["reference"]["total"]) / steps
    floor_step = statistics.median(results["floor"]["total"]) / steps
    handwritten_step = statistics.median(results["hand-written step"]["total"]) / steps
    print(f"  loop bookkeeping and fit set-up (VAE.fit epoch - phases): {bookkeeping * 1e3:.2f}")
    print(f"  hand-written step: gradients within {gradient_error:.1e} (relative) of autograd's")
    print(f"  reference / VAE.fit step: {ref_step / fit_step:.2f}x; reference / hand-written "
          f"step: {ref_step / handwritten_step:.2f}x; reference / floor (matrix products + "
          f"Adam): {ref_step / floor_step:.2f}x")


if __name__ == "__main__":
    main()
