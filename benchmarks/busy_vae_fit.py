"""A default VAE fit and its IWAE scoring, quiet and with one CPU-bound process per core beside.

The case of issue 16: ``VAE(epochs=10)`` fitted on 7,000 embedded digits, then
``log_likelihood`` (IWAE, 100 importance samples) of 1,000 held-out digits, all settings at
their defaults. Rounds alternate quiet and busy in one process, so that load from elsewhere
hits both alike; the slow-down is busy time over quiet time, per round and as the median.
``latentmodels`` is imported before torch, as in a script that starts with it.

    python benchmarks/busy_vae_fit.py --rounds 2
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

# isort: off
from latentmodels import VAE, datasets  # first: its thread policy applies to torch's runtime
import torch  # after latentmodels on purpose
from _contention import busy_cores, load_average
# isort: on


def fit_and_score(X_train, X_test, epochs: int) -> tuple[float, float, float]:
    started = time.perf_counter()
    model = VAE(epochs=epochs, verbose=0, random_state=0, device="cpu").fit(X_train)
    fitted = time.perf_counter()
    nll = -float(model.log_likelihood(X_test, n_importance=100).mean())
    return fitted - started, time.perf_counter() - fitted, nll


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    X, _ = datasets.load_mnist(flatten=True)
    X_train, X_test = X[:7000], X[7000:]
    fit_and_score(X_train[:512], X_test[:50], 1)  # warm-up
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads at start, "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')}, "
          f"load average {load_average()}")
    totals = {"quiet": [], "busy": []}
    for round_ in range(args.rounds):
        for mode in ("quiet", "busy"):
            if mode == "busy":
                with busy_cores():
                    fit_s, score_s, nll = fit_and_score(X_train, X_test, args.epochs)
            else:
                fit_s, score_s, nll = fit_and_score(X_train, X_test, args.epochs)
            totals[mode].append(fit_s + score_s)
            print(f"round {round_} {mode:5s}: fit {fit_s:6.2f} s, IWAE-100 scoring "
                  f"{score_s:5.2f} s, total {fit_s + score_s:6.2f} s (NLL {nll:.1f}), "
                  f"load average {load_average()}", flush=True)
    quiet, busy = statistics.median(totals["quiet"]), statistics.median(totals["busy"])
    print(f"median total: quiet {quiet:.2f} s, busy {busy:.2f} s, slow-down {busy / quiet:.2f}x")


if __name__ == "__main__":
    main()
