"""Control and remove a digit's thickness and slant: edits and LEACE erasure on MNIST.

The models (a default-sized VAE and PCA, same latent dimension) are fitted on 80 % of the
8,000 bundled digits without labels. For each factor (ink mass = thickness, slant):

- **edit**: the factor's direction is found from the training codes
  (:func:`latentmodels.tasks.factors.attribute_direction`), 200 held-out digits are moved
  along it by -2..2 standard deviations and decoded; we report the per-item rank correlation
  of amount against the measured factor, and the share of moderately edited digits (|amount|
  <= 1) that a pixel classifier trained outside the models still reads as the true digit,
  and as the same digit as the unedited reconstruction;
- **erase**: the factor is split at its median into a label; a LEACE eraser is fitted on the
  training codes and applied to the held-out codes; a logistic probe is trained (on training
  codes) and tested (held-out) for the factor and for the digit, before and after.

Repeated over ``--seeds`` (split and model seeds); means and spreads are printed.

    python benchmarks/factors_mnist.py                      # ~3 minutes on 2 cores
    python benchmarks/factors_mnist.py --epochs 3 --seeds 1  # quick
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from latentmodels import PCA, VAE, datasets
from latentmodels.tasks.debias import ink_mass, slant
from latentmodels.tasks.factors import ConceptEraser, attribute_direction, edit_effect

FACTORS = {"thickness": ink_mass, "slant": slant}
AMOUNTS = [-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0]


def probe(train_codes, train_target, test_codes, test_target) -> float:
    model = LogisticRegression(max_iter=2000).fit(train_codes, train_target)
    return float(model.score(test_codes, test_target))


def run_seed(X, y, seed, args, classifier_cache) -> list[dict]:
    train, test = train_test_split(np.arange(len(X)), test_size=0.2, stratify=y,
                                   random_state=seed)
    if seed not in classifier_cache:
        classifier_cache[seed] = LogisticRegression(max_iter=500).fit(
            X[train].reshape(len(train), -1), y[train])
    classifier = classifier_cache[seed]
    models = {
        "VAE": VAE(latent_dim=args.latent_dim, epochs=args.epochs, verbose=0, random_state=seed),
        "PCA": PCA(n_components=args.latent_dim, random_state=seed),
    }
    rows = []
    for name, model in models.items():
        started = time.perf_counter()
        model.fit(X[train])
        codes_train, codes_test = model.transform(X[train]), model.transform(X[test])
        for factor_name, measure in FACTORS.items():
            values_train, values_test = measure(X[train]), measure(X[test])
            direction = attribute_direction(codes_train, values_train)
            effect = edit_effect(model, X[test][:200], direction, AMOUNTS, measure,
                                 keep=y[test][:200], classifier=classifier, codes=codes_train)
            moderate = [k for a, k in zip(AMOUNTS, effect["kept"], strict=True) if abs(a) <= 1.0]
            same = [k for a, k in zip(AMOUNTS, effect["unchanged"], strict=True) if abs(a) <= 1.0]
            median = np.median(values_train)
            label_train, label_test = values_train > median, values_test > median
            eraser = ConceptEraser().fit(codes_train, label_train)
            erased_train, erased_test = (eraser.transform(codes_train),
                                         eraser.transform(codes_test))
            rows.append({
                "seed": seed, "model": name, "factor": factor_name,
                "rank_correlation": effect["rank_correlation"],
                "kept_moderate": float(np.mean(moderate)),
                "unchanged_moderate": float(np.mean(same)),
                "factor_probe_before": probe(codes_train, label_train, codes_test, label_test),
                "factor_probe_after": probe(erased_train, label_train, erased_test, label_test),
                "chance": float(max(label_test.mean(), 1 - label_test.mean())),
                "digit_probe_before": probe(codes_train, y[train], codes_test, y[test]),
                "digit_probe_after": probe(erased_train, y[train], erased_test, y[test]),
                "seconds": time.perf_counter() - started,
            })
            print({k: round(v, 3) if isinstance(v, float) else v for k, v in rows[-1].items()},
                  flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latent-dim", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    X, y = datasets.load_mnist()
    rows, cache = [], {}
    for seed in range(args.seeds):
        rows += run_seed(X, y, seed, args, cache)

    print(f"\nmachine: {platform.processor() or platform.machine()}, "
          f"{torch.get_num_threads()} torch threads; seeds {args.seeds}; "
          f"latent {args.latent_dim}; VAE epochs {args.epochs}")
    header = ("| model | factor | edit rank corr. | digit kept (abs(amount)<=1): label, "
              "unedited reading | "
              "factor probe before -> after (chance) | digit probe before -> after |")
    print(header)
    print("|" + "---|" * 6)
    for model in ("VAE", "PCA"):
        for factor in FACTORS:
            picked = [r for r in rows if r["model"] == model and r["factor"] == factor]

            def stat(key, picked=picked):
                values = np.array([r[key] for r in picked])
                return f"{values.mean():.3f}" + (f"±{values.std():.3f}" if len(values) > 1 else "")

            print(f"| {model} | {factor} | {stat('rank_correlation')} | {stat('kept_moderate')}, "
                  f"{stat('unchanged_moderate')} | "
                  f"{stat('factor_probe_before')} -> {stat('factor_probe_after')} "
                  f"({stat('chance')}) | {stat('digit_probe_before')} -> "
                  f"{stat('digit_probe_after')} |")
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
