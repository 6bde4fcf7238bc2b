"""What each AnomalyDetector score costs on the 8,000 MNIST digits, side by side in one run.

A default-architecture VAE is trained briefly (the cost of scoring does not depend on how
long it trained); then, for each score, ``AnomalyDetector(vae, score=...).fit(X)`` (calibration
on a fitted model: codes, background model, threshold) and ``score_samples(X)`` are timed on
all 8,000 digits. Reported: the median of ``--repeats`` runs and the ratio to the old default
(``"likelihood"``, the ELBO, unless ``--scores`` puts another first).

    python benchmarks/anomaly_cost.py --repeats 3
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

from latentmodels import VAE, datasets
from latentmodels.tasks.anomaly import AnomalyDetector

SCORES = ("likelihood", "reconstruction", "latent_knn", "likelihood_ratio", "auto", "iwae")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--scores", default=",".join(SCORES),
                        help="comma-separated; the first is the reference of the ratios")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    X, _ = datasets.load_npz(datasets.find_shared_data("mnist_8k.npz"))
    vae = VAE(epochs=2, verbose=0, random_state=0).fit(X)
    print(f"{len(X)} digits, torch threads={args.threads}, load average "
          f"{os.getloadavg()[0]:.2f}")
    scores = args.scores.split(",")
    timings: dict[str, list[float]] = {name: [] for name in scores}
    for _ in range(args.repeats):
        for name in scores:  # interleaved, so load changes hit every score alike
            started = time.perf_counter()
            AnomalyDetector(vae, score=name).fit(X).score_samples(X)
            timings[name].append(time.perf_counter() - started)
    base = float(np.median(timings[scores[0]]))
    print(f"\n| score | fit + score_samples, seconds (median) | ratio to {scores[0]} |")
    print("| --- | ---: | ---: |")
    for name in scores:
        median = float(np.median(timings[name]))
        print(f"| {name} | {median:.2f} | {median / base:.1f}x |")
    print(f"\nload average at the end {os.getloadavg()[0]:.2f} (1 min)")


if __name__ == "__main__":
    main()
