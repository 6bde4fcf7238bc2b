"""Latent maps and neighbours: does a nonlinear latent space group digits better than PCA?

A default ``VAE()`` (16-D) and ``PCA(16)`` are fitted on the training part (80 %,
class-stratified, seed 0) of the 8,000 bundled digits without labels. For each, on the
held-out digits:

- **neighbours**: the share of each held-out digit's 5 nearest *training* codes
  (:func:`latentmodels.tasks.maps.nearest_neighbors`) that show the same digit;
- **maps**: the held-out codes are embedded in 2-D (:func:`latentmodels.tasks.maps.latent_map`,
  ``"pca"`` and ``"tsne"``); we report the 5-NN digit agreement inside the map (leave one
  out) and the map's trustworthiness with respect to the codes (scikit-learn's
  ``trustworthiness``, 5 neighbours: 1 when every map neighbour is a code neighbour).

The raw pixels are the reference row (neighbours in pixel space; the maps of the pixels).

    python benchmarks/maps_mnist.py --threads 1      # ~3 minutes on a busy 2-core box
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch
from sklearn.manifold import trustworthiness
from sklearn.model_selection import train_test_split
from sklearn.neighbors import NearestNeighbors

from latentmodels import PCA, VAE, datasets
from latentmodels.tasks.maps import latent_map, nearest_neighbors


class Pixels:
    """The identity "model": codes are the flattened pixels."""

    def fit(self, X):
        return self

    def transform(self, X):
        return np.asarray(X, dtype=np.float64).reshape(len(X), -1)


def map_agreement(points: np.ndarray, labels: np.ndarray, k: int = 5) -> float:
    """Share of each point's k nearest map neighbours (itself left out) with its label."""
    _, index = NearestNeighbors(n_neighbors=k + 1).fit(points).kneighbors(points)
    return float((labels[index[:, 1:]] == labels[:, None]).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latent-dim", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    X, y = datasets.load_mnist()
    train, test = train_test_split(np.arange(len(X)), test_size=0.2, stratify=y, random_state=0)
    models = {"VAE": VAE(latent_dim=args.latent_dim, epochs=args.epochs, verbose=0,
                         random_state=0),
              "PCA": PCA(n_components=args.latent_dim),
              "pixels": Pixels()}
    print(f"load average {os.getloadavg()[0]:.1f}; latent {args.latent_dim}; "
          f"VAE epochs {args.epochs} (early stopping on); {len(test)} held-out digits")
    print("| codes | 5-NN training neighbours, same digit | 2-D map (PCA): 5-NN same digit, "
          "trustworthiness | 2-D map (t-SNE): 5-NN same digit, trustworthiness | s |")
    print("|" + "---|" * 5)
    for name, model in models.items():
        started = time.perf_counter()
        model.fit(X[train])
        _, index = nearest_neighbors(model, X[test], X[train], k=5)
        neighbours = float((y[train][index] == y[test][:, None]).mean())
        codes = model.transform(X[test])
        cells = []
        for method in ("pca", "tsne"):
            points = latent_map(model, X[test], method=method, random_state=0)
            cells.append(f"{map_agreement(points, y[test]):.3f}, "
                         f"{trustworthiness(codes, points, n_neighbors=5):.3f}")
        print(f"| {name} | {neighbours:.3f} | {cells[0]} | {cells[1]} | "
              f"{time.perf_counter() - started:.0f} |", flush=True)


if __name__ == "__main__":
    main()
