"""Latent codes as features with few labels: a linear probe on MNIST / Fashion-MNIST.

A fixed stratified 80/20 split. The models (latentmodels VAE and Autoencoder, 16-D latent)
and latentmodels.PCA with the same number of components are fitted on the training images WITHOUT
labels; a logistic regression is then trained on 100, 1,000 or all training labels (a
class-stratified draw, repeated over ``--repeats`` seeds and averaged) and tested on the test
split. Raw pixels are the third feature set. Runs :func:`latentmodels.tasks.features.linear_probe`.

    python benchmarks/probe_mnist.py                  # MNIST, ~2 minutes on 2 cores
    python benchmarks/probe_mnist.py --data fashion
    python benchmarks/probe_mnist.py --data fashion --architecture conv
    python benchmarks/probe_mnist.py --epochs 3 --repeats 1   # quick
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import torch
from sklearn.model_selection import train_test_split

from latentmodels import PCA, VAE, Autoencoder, datasets
from latentmodels.tasks.features import linear_probe


def load(name: str) -> tuple[np.ndarray, np.ndarray]:
    filename = {"mnist": "mnist_8k.npz", "fashion": "fashion_mnist_10k.npz"}[name]
    path = datasets.find_shared_data(filename)
    if path is None:
        if name != "mnist":
            raise SystemExit(f"{filename} not found in the shared data folder")
        return datasets.load_mnist()
    return datasets.load_npz(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=["mnist", "fashion"], default="mnist")
    parser.add_argument("--latent-dim", type=int, default=16)
    parser.add_argument("--architecture", choices=["mlp", "conv"], default="mlp",
                        help="encoder/decoder of the VAE and the autoencoder")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=5, help="label draws per count")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    started = time.perf_counter()

    X, y = load(args.data)
    if args.limit:
        X, y = X[: args.limit], y[: args.limit]
    train, test = train_test_split(np.arange(len(X)), test_size=0.2, stratify=y,
                                   random_state=args.seed)
    common = {"latent_dim": args.latent_dim, "architecture": args.architecture,
              "epochs": args.epochs, "verbose": 0, "random_state": args.seed}
    models = {"VAE": VAE(**common), "AE": Autoencoder(**common),
              # The linear baseline, fitted and probed through the same contract.
              "PCA": PCA(args.latent_dim, random_state=args.seed)}
    for model in models.values():
        model.fit(X[train])
    print(f"{args.data}: {len(train)} train / {len(test)} test; {args.architecture} models "
          f"trained in "
          f"{time.perf_counter() - started:.0f} s; load average {os.getloadavg()[0]:.2f}",
          flush=True)

    counts = (100, 1000, None)
    table: dict[tuple[str, int], list[float]] = {}
    for repeat in range(args.repeats):
        for model_name, model in models.items():
            sets = ("latent", "pixels") if model_name == "VAE" else ("latent",)
            result = linear_probe(model, X[train], y[train], X_test=X[test], y_test=y[test],
                                  n_labels=counts, feature_sets=sets,
                                  random_state=args.seed + repeat)
            for row in result["rows"]:
                name = f"{model_name} latent" if row["features"] == "latent" else row["features"]
                table.setdefault((name, row["n_labels"]), []).append(row["accuracy"])
        if counts[-1] is None and repeat == 0:
            chance = result["chance"]
    names = list(dict.fromkeys(name for name, _ in table))
    labels = list(dict.fromkeys(n for _, n in table))
    dims = {"VAE latent": args.latent_dim, "AE latent": args.latent_dim,
            "PCA latent": args.latent_dim, "pixels": int(np.prod(X.shape[1:]))}
    print(f"\nTest accuracy of logistic regression ({args.data}; mean ± std over "
          f"{args.repeats} label draws; chance {100 * chance:.1f} %)\n")
    print("| labels | " + " | ".join(f"{n} ({dims[n]}-D)" for n in names) + " |")
    print("| ---: | " + " | ".join("---:" for _ in names) + " |")
    for count in labels:
        cells = []
        values = {n: table[(n, count)] for n in names}
        best = max(names, key=lambda n: np.mean(values[n]))
        for n in names:
            text = f"{100 * np.mean(values[n]):.1f} ± {100 * np.std(values[n]):.1f}"
            cells.append(f"**{text}**" if n == best else text)
        print(f"| {count:,} | " + " | ".join(cells) + " |")
    print(f"\ntotal {time.perf_counter() - started:.0f} s; load average at the end "
          f"{os.getloadavg()[0]:.2f} (1 min); python {platform.python_version()}, "
          f"torch {torch.__version__}, torch threads {args.threads}")


if __name__ == "__main__":
    main()
