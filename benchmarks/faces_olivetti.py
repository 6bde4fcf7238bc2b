"""Faces: a conv VAE on the Olivetti faces, traversals, a lighting edit, identity kept.

The 400 Olivetti photos (40 people x 10, 64x64 grey; AT&T Laboratories Cambridge) are split
per person: 8 photos to fit, 2 held out. A conv VAE and PCA (same latent dimension) are
fitted without labels. The lighting direction is found from the training codes against the
left-right brightness asymmetry (:func:`latentmodels.tasks.factors.lighting`), and each
held-out face is edited along it. We report:

- the per-face rank correlation of edit amount against the measured lighting;
- identity kept: the share of edited faces whose nearest training photo (in pixels,
  centred and scaled, 1-NN) is still of the same person, per amount, with the unedited
  reconstruction as the reference;
- pictures: ``faces_edit.png`` (rows = faces, columns = amounts), ``faces_traverse.png``
  (the VAE's first latent axes).

    python benchmarks/faces_olivetti.py                      # ~5 minutes on 2 cores
    python benchmarks/faces_olivetti.py --epochs 20          # quick
"""

from __future__ import annotations

import argparse
import os
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.neighbors import KNeighborsClassifier

from latentmodels import PCA, VAE, datasets
from latentmodels.tasks.factors import attribute_direction, edit_effect, lighting
from latentmodels.tasks.interpolate import traverse

AMOUNTS = [-2.0, -1.0, 0.0, 1.0, 2.0]


def load_faces() -> tuple[np.ndarray, np.ndarray]:
    path = datasets.find_shared_data("olivetti_faces.npz")
    if path is None:
        raise SystemExit("olivetti_faces.npz not found in the shared data folder")
    with np.load(path, allow_pickle=False) as archive:
        return archive["images"].astype(np.float32) / 255.0, archive["labels"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latent-dim", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=150)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default="runs/faces")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    X, person = load_faces()
    held = np.tile(np.arange(10) >= 8, 40)
    train, test = ~held, held

    models = {
        "VAE": VAE(latent_dim=args.latent_dim, architecture="conv", likelihood="gaussian",
                   epochs=args.epochs, batch_size=32, patience=args.epochs, verbose=0,
                   random_state=0),
        "PCA": PCA(n_components=args.latent_dim),
    }
    identity = KNeighborsClassifier(n_neighbors=1).fit(X[train].reshape(train.sum(), -1),
                                                       person[train])
    print(f"1-NN identity on unedited held-out photos: "
          f"{identity.score(X[test].reshape(test.sum(), -1), person[test]):.3f}")
    print("| model | lighting rank corr. | identity kept per amount "
          f"{AMOUNTS} | fit s |")
    print("|---|---|---|---|")
    for name, model in models.items():
        started = time.perf_counter()
        model.fit(X[train])
        seconds = time.perf_counter() - started
        codes = model.transform(X[train])
        direction = attribute_direction(codes, lighting(X[train]))
        result = edit_effect(model, X[test], direction, AMOUNTS, lighting,
                             keep=person[test], classifier=identity, codes=codes)
        print(f"| {name} | {result['rank_correlation']:.3f} | "
              f"{', '.join(f'{k:.2f}' for k in result['kept'])} | {seconds:.0f} |", flush=True)
        if name == "VAE":
            from latentmodels.tasks.factors import edit

            strip = edit(model, X[test][:6], direction, AMOUNTS, codes=codes)
            figure, axes = plt.subplots(6, len(AMOUNTS), figsize=(len(AMOUNTS) * 1.3, 8))
            for row in range(6):
                for column, amount in enumerate(AMOUNTS):
                    axes[row, column].imshow(np.clip(strip[row, column], 0, 1), cmap="gray",
                                             vmin=0, vmax=1)
                    axes[row, column].axis("off")
                    if row == 0:
                        axes[row, column].set_title(f"{amount:+g} sd")
            figure.suptitle("VAE: lighting edit (light from the right grows to the right)")
            figure.savefig(os.path.join(args.out, "faces_edit.png"), dpi=90,
                           bbox_inches="tight")
            plt.close(figure)
            grid = traverse(model, X[test][0], dims=[0, 1, 2, 3], values=np.linspace(-2, 2, 7))
            figure, axes = plt.subplots(grid.shape[0], grid.shape[1],
                                        figsize=(grid.shape[1] * 1.2, grid.shape[0] * 1.2))
            for (row, column), axis in np.ndenumerate(axes):
                axis.imshow(np.clip(grid[row, column], 0, 1), cmap="gray", vmin=0, vmax=1)
                axis.axis("off")
            figure.savefig(os.path.join(args.out, "faces_traverse.png"), dpi=90,
                           bbox_inches="tight")
            plt.close(figure)
    print(f"pictures in {args.out}/")


if __name__ == "__main__":
    main()
