"""The DB-VAE and concept erasure side by side on one biased digit set.

The two answer different questions. On the biased set of ``benchmarks/debias_mnist.py``
(``latentmodels.tasks.debias.debias_experiment``: "is this a 7?", thick 7s cut to 5 % of
their number in training, the test split untouched) we train the plain classifier
(``DebiasingVAE(debias=False)``) and the DB-VAE (``debias=True``), and then erase thickness
from the plain model's codes with LEACE (``ConceptEraser``, the "thick" flag of the rule:
ink mass above the median 7) before fitting a logistic "is this a 7?" on them. For each we
report the accuracy, the recall on thin and thick test 7s and their gap, how much the rare
group is up-weighted in training, and what the codes still say: a logistic probe for the
thick flag and one for the digit (10 classes), trained on the training codes and tested on
the held-out ones.

    python benchmarks/debias_vs_erasure.py --seeds 0 1     # ~6 minutes on a busy 2-core box
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression

from latentmodels import datasets
from latentmodels.tasks.debias import RULES, debias_experiment, group_report
from latentmodels.tasks.factors import ConceptEraser


def probe(train_codes, train_target, test_codes, test_target) -> float:
    model = LogisticRegression(max_iter=2000).fit(train_codes, train_target)
    return float(model.score(test_codes, test_target))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digit", type=int, default=7)
    parser.add_argument("--rule", choices=sorted(RULES), default="ink")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--latent-dim", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    X, y = datasets.load_mnist()
    rows: dict[str, list[dict]] = {}
    for seed in args.seeds:
        result = debias_experiment(X, y, args.digit, rule=args.rule, random_state=seed,
                                   latent_dim=args.latent_dim, epochs=args.epochs,
                                   patience=None, verbose=0)
        common, rare_name = result["groups"]
        train, test = result["train_index"], result["test_index"]
        train_rare, test_rare = result["train_rare"], result["test_rare"]
        target = (y == args.digit).astype(np.int64)
        positives = target[test] == 1
        groups = {common: positives & ~test_rare, rare_name: positives & test_rare}
        positive_train = result["train_target"] == 1
        for key, name in (("plain", "classifier, no re-weighting"), ("debiased", "DB-VAE")):
            model = result[f"{key}_model"]
            codes_train, codes_test = model.transform(X[train]), model.transform(X[test])
            weights = model.sampling_weights(X[train], target[train])
            ratio = (weights[positive_train & train_rare].mean()
                     / weights[positive_train & ~train_rare].mean())
            rows.setdefault(name, []).append({
                **result[key], "weight_ratio": float(ratio) if key == "debiased" else 1.0,
                "thick_probe": probe(codes_train, train_rare, codes_test, test_rare),
                "digit_probe": probe(codes_train, y[train], codes_test, y[test])})
            if key != "plain":
                continue
            codes = {"logistic on the plain codes": (codes_train, codes_test)}
            for erase_name, groups_for_eraser in (("LEACE", None),
                                                  ("LEACE within digit", y[train])):
                eraser = ConceptEraser().fit(codes_train, train_rare, groups=groups_for_eraser)
                codes[f"logistic after {erase_name} of thickness"] = (
                    eraser.transform(codes_train), eraser.transform(codes_test))
            for label, (features_train, features_test) in codes.items():
                classifier = LogisticRegression(max_iter=2000).fit(features_train,
                                                                   target[train])
                report = group_report(classifier.predict(features_test), target[test], groups)
                rows.setdefault(label, []).append({
                    **report, "weight_ratio": 1.0,
                    "thick_probe": probe(features_train, train_rare, features_test, test_rare),
                    "digit_probe": probe(features_train, y[train], features_test, y[test])})
        majority = max(test_rare.mean(), 1 - test_rare.mean())
        print(f"seed {seed} done ({time.perf_counter() - started:.0f} s); thick-flag majority "
              f"rate on the test split {majority:.3f}", flush=True)

    print(f"\nload average {os.getloadavg()[0]:.1f}; digit {args.digit}, rule {args.rule}, "
          f"seeds {args.seeds}, {args.epochs} epochs, latent {args.latent_dim}; "
          "means over seeds (spread = std)")
    print(f"| method | accuracy | recall {common} | recall {rare_name} | gap | rare-group "
          f"training weight (x) | {rare_name}-flag probe on codes | digit probe on codes |")
    print("|" + "---|" * 8)

    def stat(picked, key):
        values = np.array([r[key] for r in picked])
        return f"{values.mean():.3f}" + (f"±{values.std():.3f}" if len(values) > 1 else "")

    for name, picked in rows.items():
        print(f"| {name} | {stat(picked, 'overall')} | {stat(picked, common)} | "
              f"{stat(picked, rare_name)} | {stat(picked, 'gap')} | "
              f"{stat(picked, 'weight_ratio')} | {stat(picked, 'thick_probe')} | "
              f"{stat(picked, 'digit_probe')} |")
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
