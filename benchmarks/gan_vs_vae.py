"""Default ``GAN()`` against default ``VAE()`` on MNIST digits, as flat rows and as images.

The 8,000 digits of ``../shared/data/mnist_8k.npz`` are split 6,400 train / 1,600 held
out (seed 0). Each model is fitted with all its defaults (only ``random_state`` and
``verbose`` set) on (a) flat rows ``(n, 784)`` and (b) images ``(n, 28, 28)``; every fit is
timed, and 2,000 samples are judged twice:

* **outside judge**: a scikit-learn ``MLPClassifier`` (one hidden layer of 256 ReLU units)
  trained here on the training split, knowing nothing of the library; Frechet distance in
  its hidden layer between the samples and the 1,600 held-out digits, and the classes it
  sees among the samples (a class counts when it gets at least 10 % of its uniform share);
* **library judge**: :class:`latentmodels.metrics.FeatureClassifier` trained on the same
  split, through :func:`latentmodels.metrics.sample_quality`.

"real" rows score 2,000 training digits in place of samples: the floor of each distance.
Torch threads follow the library's automatic policy unless ``--threads`` is given.

    .venv/bin/python benchmarks/gan_vs_vae.py                  # the full comparison
    .venv/bin/python benchmarks/gan_vs_vae.py --quick          # 1,600 training digits
    .venv/bin/python benchmarks/gan_vs_vae.py --models GAN --shapes images \
        --gan-params '{"epochs": 5}'                           # exploring one setting
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "mnist_8k.npz"
N_SAMPLES = 2000
N_TRAIN = 6400
MIN_SHARE = 0.1


def load(quick: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    with np.load(DATA, allow_pickle=False) as data:
        X = (data["images"] / 255.0).astype(np.float32)
        y = data["labels"].astype(np.int64)
    order = np.random.default_rng(0).permutation(len(X))
    train, test = order[:N_TRAIN], order[N_TRAIN:]
    if quick:
        train = train[: N_TRAIN // 4]
    return X[train], y[train], X[test], y[test]


class OutsideJudge:
    """An MLP classifier from scikit-learn; its hidden layer is the feature space."""

    def __init__(self, X: np.ndarray, y: np.ndarray) -> None:
        self.net = MLPClassifier(hidden_layer_sizes=(256,), max_iter=30, random_state=0)
        with warnings.catch_warnings():  # 30 epochs are enough for a judge; not converged
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.net.fit(X.reshape(len(X), -1), y)

    def features(self, X: np.ndarray) -> np.ndarray:
        flat = X.reshape(len(X), -1).astype(np.float64)
        return np.maximum(flat @ self.net.coefs_[0] + self.net.intercepts_[0], 0.0)

    def judge(self, samples: np.ndarray, real: np.ndarray) -> dict:
        a, b = self.features(samples), self.features(real)
        mu_a, mu_b = a.mean(0), b.mean(0)
        cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
        # Tr((C_a C_b)^1/2) from the symmetric C_a^1/2 C_b C_a^1/2: dead ReLU units make the
        # covariances singular, where a general matrix square root is inaccurate.
        values, vectors = np.linalg.eigh(cov_a)
        half = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
        cross = np.sqrt(np.clip(np.linalg.eigvalsh(half @ cov_b @ half), 0, None)).sum()
        frechet = float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b)
                        - 2 * cross)
        counts = np.bincount(self.net.predict(samples.reshape(len(samples), -1)), minlength=10)
        covered = int((counts >= MIN_SHARE * len(samples) / 10).sum())
        return {"frechet": frechet, "classes": covered}


def fit_and_sample(name: str, X: np.ndarray, params: dict, seed: int) -> tuple[np.ndarray, dict]:
    from latentmodels import GAN, VAE

    cls = {"GAN": GAN, "VAE": VAE}[name]
    model = cls(**{"random_state": seed, "verbose": 0, **params})
    started, cpu_started = time.perf_counter(), time.process_time()
    model.fit(X)
    seconds = time.perf_counter() - started
    # CPU seconds of this process: on a busy machine, near what one thread needs alone.
    cpu = time.process_time() - cpu_started
    samples = np.asarray(model.sample(N_SAMPLES, random_state=10_000 + seed), np.float32)
    info = {"seconds": seconds, "cpu_seconds": cpu, "epochs": int(model.n_epochs_),
            "per_epoch": seconds / max(1, model.n_epochs_)}
    return np.clip(samples.reshape(N_SAMPLES, 28, 28), 0.0, 1.0), info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="train on a quarter of the training split (1,600 digits)")
    parser.add_argument("--models", nargs="+", default=["GAN", "VAE"], choices=["GAN", "VAE"])
    parser.add_argument("--shapes", nargs="+", default=["flat", "images"],
                        choices=["flat", "images"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (default: the library's automatic policy)")
    parser.add_argument("--gan-params", type=json.loads, default={},
                        help="JSON of GAN hyper-parameters to override (exploring only)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "gan_vae")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    from latentmodels import plots
    from latentmodels.metrics import FeatureClassifier, sample_quality

    args.out.mkdir(parents=True, exist_ok=True)
    print(f"uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
    print(f"torch {torch.__version__}; threads: "
          f"{args.threads if args.threads is not None else 'automatic'}; {os.cpu_count()} CPUs")
    X_train, y_train, X_test, y_test = load(args.quick)
    started = time.perf_counter()
    outside = OutsideJudge(X_train, y_train)
    outside_accuracy = float(np.mean(outside.net.predict(X_test.reshape(len(X_test), -1))
                                     == y_test))
    library = FeatureClassifier(random_state=0).fit(X_train, y_train)
    library_accuracy = float(np.mean(library.predict(X_test) == y_test))
    print(f"judges trained in {time.perf_counter() - started:.0f} s; held-out accuracy: "
          f"outside MLP {outside_accuracy:.4f}, library FeatureClassifier {library_accuracy:.4f}")

    def scores(samples: np.ndarray) -> dict:
        mine = sample_quality(samples, X_test, library, min_share=MIN_SHARE)
        other = outside.judge(samples, X_test)
        return {"outside_frechet": other["frechet"], "outside_classes": other["classes"],
                "library_frechet": mine["frechet"], "library_classes": mine["classes_covered"]}

    rows = []
    real = np.resize(X_train, (N_SAMPLES, 28, 28))
    rows.append({"shape": "-", "model": "real (training digits)", "seconds": 0.0,
                 "cpu_seconds": 0.0, "epochs": 0, "per_epoch": 0.0, **scores(real)})
    for shape in args.shapes:
        X = X_train.reshape(len(X_train), -1) if shape == "flat" else X_train
        for name in args.models:
            params = args.gan_params if name == "GAN" else {}
            samples, info = fit_and_sample(name, X, params, args.seed)
            rows.append({"shape": shape, "model": f"{name}()", **info, **scores(samples)})
            r = rows[-1]
            print(f"  {shape} {name}: {r['seconds']:.0f} s ({r['cpu_seconds']:.0f} CPU s), "
                  f"{r['epochs']} epochs, Frechet "
                  f"outside {r['outside_frechet']:.1f} ({r['outside_classes']}/10), library "
                  f"{r['library_frechet']:.1f} ({r['library_classes']}/10)", flush=True)
            plots.plot_image_grid(samples[:64], ncols=8, title=f"{name}() on {shape} rows",
                                  path=args.out / f"{shape}_{name}_samples.png")
    print()
    print(f"uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
    print("| input | model | fit s | CPU s | epochs | s/epoch | Frechet, outside MLP | classes | "
          "Frechet, library judge | classes |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['shape']} | {r['model']} | {r['seconds']:.0f} | {r['cpu_seconds']:.0f} | "
              f"{r['epochs']} | "
              f"{r['per_epoch']:.1f} | {r['outside_frechet']:.1f} | {r['outside_classes']}/10 | "
              f"{r['library_frechet']:.1f} | {r['library_classes']}/10 |")
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
