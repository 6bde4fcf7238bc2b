"""DebiasingVAE on a biased digit set: does re-weighting rare latent regions close the gap?

Task: is this digit a ``d``? Sub-groups of the positive class by a documented rule
(``--rule``, see ``latentmodels.tasks.debias.RULES``): the slant of the ink (second-order
image moments; "right-leaning" vs "upright") or its mass ("thick" vs "thin" strokes), split
at the class median. The training split (6,000 of the 8,000 embedded digits, seeded by the
run's seed) keeps only 5 % of the rare ``d``s; the test split (the other 2,000) is
untouched (``latentmodels.tasks.debias.debias_experiment``). The same network is
trained with ``debias=False`` (a plain classifier with a VAE head) and ``debias=True``;
recall on each sub-group of test ``d``s, overall accuracy and the gap are reported, and
the training images the DB-VAE up-weights most and least are saved as image grids.

    python benchmarks/debias_mnist.py                   # digits 7 and 4, 2 seeds
    python benchmarks/debias_mnist.py --rule ink        # thick vs thin strokes
    python benchmarks/debias_mnist.py --digits 7 --seeds 0 --epochs 5   # quick
"""

from __future__ import annotations

import argparse
import os
import statistics
from pathlib import Path

import numpy as np
import torch

from latentmodels import datasets
from latentmodels.tasks.debias import RULES, debias_experiment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--digits", type=int, nargs="+", default=[7, 4])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--rule", choices=sorted(RULES), default="slant")
    parser.add_argument("--keep-fraction", type=float, default=0.05)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--latent-dim", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/debias"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    X, y = datasets.load_mnist()
    _, rare_name, common_name = RULES[args.rule]
    print(
        f"load average {os.getloadavg()[0]:.1f}; rule {args.rule}, keep {args.keep_fraction}, "
        f"{args.epochs} epochs, latent_dim {args.latent_dim}"
    )
    print(f"| digit | seed | model | accuracy | recall {common_name} | recall {rare_name} | gap |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    gaps: dict[tuple[int, str], list[float]] = {}
    accuracies: dict[tuple[int, str], list[float]] = {}
    for digit in args.digits:
        for seed in args.seeds:
            result = debias_experiment(
                X, y, digit, rule=args.rule, keep_fraction=args.keep_fraction,
                random_state=seed, latent_dim=args.latent_dim, epochs=args.epochs,
                patience=None, verbose=0,
            )
            for key, name in (("plain", "plain"), ("debiased", "DB-VAE")):
                report = result[key]
                gaps.setdefault((digit, key), []).append(report["gap"])
                accuracies.setdefault((digit, key), []).append(report["overall"])
                print(
                    f"| {digit} | {seed} | {name} | {report['overall']:.4f} | "
                    f"{report[common_name]:.3f} | {report[rare_name]:.3f} | "
                    f"{report['gap']:.3f} |",
                    flush=True,
                )
            if seed == args.seeds[0]:
                keep = result["train_index"]
                _save_extremes(result["debiased_model"], X[keep], result["train_target"],
                               result["train_rare"], digit, args.rule, rare_name,
                               args.out)
    print()
    for digit in args.digits:
        plain_gap = statistics.mean(gaps[(digit, "plain")])
        db_gap = statistics.mean(gaps[(digit, "debiased")])
        plain_acc = statistics.mean(accuracies[(digit, "plain")])
        db_acc = statistics.mean(accuracies[(digit, "debiased")])
        print(
            f"digit {digit}: mean gap plain {plain_gap:.3f} -> DB-VAE {db_gap:.3f}; "
            f"accuracy {plain_acc:.4f} -> {db_acc:.4f}"
        )


def _save_extremes(model, X_train, y_train, rare, digit, rule, rare_name, out: Path) -> None:
    """Image grids of the 32 most and least up-weighted training digits of the class."""
    from latentmodels import plots

    weights = model.sampling_weights(X_train, y_train)
    positive = np.flatnonzero(y_train == 1)
    ranked = positive[np.argsort(weights[positive])]
    share_rare_top = rare[ranked[-32:]].mean()
    ratio = weights[positive][rare[positive]].mean() / weights[positive][~rare[positive]].mean()
    print(
        f"  (digit {digit}: {rare_name} share among the 32 most up-weighted "
        f"{share_rare_top:.2f}, among all training {digit}s {rare[positive].mean():.2f}; "
        f"mean weight {rare_name} / other {ratio:.2f})"
    )
    out.mkdir(parents=True, exist_ok=True)
    plots.plot_image_grid(
        X_train[ranked[-32:][::-1]],
        ncols=8,
        title=f"most up-weighted {digit}s",
        path=out / f"{rule}_digit{digit}_most_upweighted.png",
    )
    plots.plot_image_grid(
        X_train[ranked[:32]],
        ncols=8,
        title=f"least up-weighted {digit}s",
        path=out / f"{rule}_digit{digit}_least_upweighted.png",
    )


if __name__ == "__main__":
    main()
