"""DebiasingVAE on a biased digit set: does re-weighting rare latent regions close the gap?

Task: is this digit a ``d``? Sub-groups of the positive class by a documented rule: the
slant of the ink (``latentmodels.tasks.debias.slant``, second-order image moments), split
at the median slant of the class's digits, "right-leaning" vs "upright or left-leaning".
The training split (6,000 of the 8,000 embedded digits, seeded) keeps only 5 % of the
right-leaning ``d``s; the test split (the other 2,000) is untouched. The same network is
trained with ``debias=False`` (a plain classifier with a VAE head) and ``debias=True``;
recall on each sub-group of test ``d``s, overall accuracy and the gap are reported, and
the training images the DB-VAE up-weights most and least are saved as image grids.

    python benchmarks/debias_mnist.py                   # digits 7 and 4, 2 seeds
    python benchmarks/debias_mnist.py --digits 7 --seeds 0 --epochs 5   # quick
"""

from __future__ import annotations

import argparse
import os
import statistics
from pathlib import Path

import numpy as np
import torch

from latentmodels import DebiasingVAE, datasets
from latentmodels.tasks.debias import biased_subset, group_report, slant


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--digits", type=int, nargs="+", default=[7, 4])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--latent-dim", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/debias"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    X, y = datasets.load_mnist()
    order = np.random.default_rng(0).permutation(len(X))
    X, y = X[order], y[order]
    train, test = np.arange(6000), np.arange(6000, 8000)
    print(
        f"load average {os.getloadavg()[0]:.1f}; {args.epochs} epochs, latent_dim {args.latent_dim}"
    )
    print("| digit | seed | model | accuracy | recall upright | recall right-leaning | gap |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    gaps: dict[tuple[int, bool], list[float]] = {}
    accuracies: dict[tuple[int, bool], list[float]] = {}
    for digit in args.digits:
        tilt = slant(X)
        rare = tilt > np.median(tilt[y == digit])
        keep = train[biased_subset(y[train], rare[train], positive=digit, keep_fraction=0.05)]
        X_train, y_train = X[keep], (y[keep] == digit).astype(int)
        y_test = (y[test] == digit).astype(int)
        positives = y_test == 1
        groups = {"upright": positives & ~rare[test], "right-leaning": positives & rare[test]}
        for seed in args.seeds:
            for debias in (False, True):
                model = DebiasingVAE(
                    latent_dim=args.latent_dim,
                    debias=debias,
                    epochs=args.epochs,
                    patience=None,
                    verbose=0,
                    random_state=seed,
                ).fit(X_train, y_train)
                report = group_report(model.predict(X[test]), y_test, groups)
                name = "DB-VAE" if debias else "plain"
                gaps.setdefault((digit, debias), []).append(report["gap"])
                accuracies.setdefault((digit, debias), []).append(report["overall"])
                print(
                    f"| {digit} | {seed} | {name} | {report['overall']:.4f} | "
                    f"{report['upright']:.3f} | {report['right-leaning']:.3f} | "
                    f"{report['gap']:.3f} |",
                    flush=True,
                )
                if debias and seed == args.seeds[0]:
                    _save_extremes(model, X_train, y_train, rare[keep], digit, args.out)
    print()
    for digit in args.digits:
        plain_gap = statistics.mean(gaps[(digit, False)])
        db_gap = statistics.mean(gaps[(digit, True)])
        plain_acc = statistics.mean(accuracies[(digit, False)])
        db_acc = statistics.mean(accuracies[(digit, True)])
        print(
            f"digit {digit}: mean gap plain {plain_gap:.3f} -> DB-VAE {db_gap:.3f}; "
            f"accuracy {plain_acc:.4f} -> {db_acc:.4f}"
        )


def _save_extremes(model, X_train, y_train, rare, digit, out: Path) -> None:
    """Image grids of the 32 most and least up-weighted training digits of the class."""
    from latentmodels import plots

    weights = model.sampling_weights(X_train, y_train)
    positive = np.flatnonzero(y_train == 1)
    ranked = positive[np.argsort(weights[positive])]
    share_rare_top = rare[ranked[-32:]].mean()
    ratio = weights[positive][rare[positive]].mean() / weights[positive][~rare[positive]].mean()
    print(
        f"  (digit {digit}: right-leaning share among the 32 most up-weighted "
        f"{share_rare_top:.2f}, among all training {digit}s {rare[positive].mean():.2f}; "
        f"mean weight right-leaning / upright {ratio:.2f})"
    )
    out.mkdir(parents=True, exist_ok=True)
    plots.plot_image_grid(
        X_train[ranked[-32:][::-1]],
        ncols=8,
        title=f"most up-weighted {digit}s",
        path=out / f"digit{digit}_most_upweighted.png",
    )
    plots.plot_image_grid(
        X_train[ranked[:32]],
        ncols=8,
        title=f"least up-weighted {digit}s",
        path=out / f"digit{digit}_least_upweighted.png",
    )


if __name__ == "__main__":
    main()
