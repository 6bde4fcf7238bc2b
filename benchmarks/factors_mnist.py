"""Control and remove a digit's thickness and slant: edits and LEACE erasure on MNIST.

The models (a default-sized VAE and PCA, same latent dimension) are fitted on 80 % of the
8,000 bundled digits without labels. For each factor (ink mass = thickness, slant):

- **edit**: the factor's direction is found from the training codes
  (:func:`latentmodels.tasks.factors.attribute_direction`); 200 held-out digits are moved
  along it by -2..2 *standard deviations of the factor* (``edit(..., factor=...)``: one step
  is the distance over which the factor's linear fit on the training codes grows by one
  standard deviation of the factor over the training digits) and decoded. Reported: the
  per-item rank correlation of amount against the measured factor; the measured change at
  +-1 (in factor standard deviations, a check of the scale); and over the moderate edits
  (|amount| <= 1, the unedited 0 excluded) the share that a judge still reads as the true
  digit. The judge is an RBF support-vector classifier on pixels, trained on the training
  digits (never on reconstructions); the pixel logistic regression used before is printed
  beside it, and both judges' accuracy on real held-out digits and on the unedited
  reconstructions (the ceiling of "kept");
- **erase**: three erasures, each fitted on training codes and probed on held-out codes with
  a logistic regression (trained on erased training codes):
  ``plain``: LEACE of "thicker than the median digit" (the factor split at its median);
  ``within digit``: the same label, erased only within each digit class
  (``ConceptEraser().fit(codes, label, groups=digit)``); what the digit says about the
  factor stays, and its probe is compared with the *digit-only rate* (the accuracy of
  predicting the label from the true digit alone, per-class majority);
  ``for its digit``: the label "thicker than the median of its own digit class", balanced in
  every class, so the digit says nothing about it; erased with ``groups=digit``; chance is
  the majority rate (0.5).

Repeated over ``--seeds`` (split and model seeds); means and spreads are printed.

    python benchmarks/factors_mnist.py --threads 1            # ~15 minutes on a busy 2-core box
    python benchmarks/factors_mnist.py --epochs 3 --seeds 1   # quick
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.svm import SVC

from latentmodels import PCA, VAE, datasets
from latentmodels.tasks.debias import ink_mass, slant
from latentmodels.tasks.factors import ConceptEraser, attribute_direction, edit_effect

FACTORS = {"thickness": ink_mass, "slant": slant}
AMOUNTS = [-2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0]
MODERATE = [i for i, a in enumerate(AMOUNTS) if 0 < abs(a) <= 1.0]
ERASURES = ("plain", "within digit", "for its digit")


def probe(train_codes, train_target, test_codes, test_target) -> float:
    model = LogisticRegression(max_iter=2000).fit(train_codes, train_target)
    return float(model.score(test_codes, test_target))


def digit_only_rate(label_train, digit_train, label_test, digit_test) -> float:
    """Accuracy of guessing the label from the digit alone (each class's majority label)."""
    guess = {d: label_train[digit_train == d].mean() > 0.5 for d in np.unique(digit_train)}
    return float(np.mean([guess[d] == t for d, t in zip(digit_test, label_test, strict=True)]))


def judges_for(X, y, train, test, seed, cache):
    if seed not in cache:
        flat = X[train].reshape(len(train), -1)
        cache[seed] = {"svc": SVC().fit(flat, y[train]),
                       "logistic": LogisticRegression(max_iter=500).fit(flat, y[train])}
        for name, judge in cache[seed].items():
            accuracy = judge.score(X[test].reshape(len(test), -1), y[test])
            print(f"seed {seed}: {name} judge on real held-out digits {accuracy:.3f}",
                  flush=True)
    return cache[seed]


def run_seed(X, y, seed, args, cache) -> list[dict]:
    train, test = train_test_split(np.arange(len(X)), test_size=0.2, stratify=y,
                                   random_state=seed)
    judges = judges_for(X, y, train, test, seed, cache)
    items, keep = X[test][:args.items], y[test][:args.items]
    models = {
        "VAE": VAE(latent_dim=args.latent_dim, epochs=args.epochs, verbose=0, random_state=seed),
        "PCA": PCA(n_components=args.latent_dim, random_state=seed),
    }
    rows = []
    for name, model in models.items():
        started = time.perf_counter()
        model.fit(X[train])
        codes_train, codes_test = model.transform(X[train]), model.transform(X[test])
        digit_before = probe(codes_train, y[train], codes_test, y[test])
        for factor_name in args.factors:
            measure = FACTORS[factor_name]
            values_train, values_test = measure(X[train]), measure(X[test])
            direction = attribute_direction(codes_train, values_train)
            row = {"seed": seed, "model": name, "factor": factor_name}
            for judge_name, judge in judges.items():
                effect = edit_effect(model, items, direction, AMOUNTS, measure, keep=keep,
                                     classifier=judge, codes=codes_train, factor=values_train)
                kept = np.asarray(effect["kept"])
                if judge_name == "svc":
                    kept_svc = kept
                row[f"kept_{judge_name}"] = float(kept[MODERATE].mean())
                row[f"kept_{judge_name}_unedited"] = float(kept[AMOUNTS.index(0.0)])
                row[f"unchanged_{judge_name}"] = float(
                    np.asarray(effect["unchanged"])[MODERATE].mean())
                row[f"kept_{judge_name}_per_amount"] = kept.tolist()
            row["rank_correlation"] = effect["rank_correlation"]
            means = np.asarray(effect["factor_mean"])
            change = (means - means[AMOUNTS.index(0.0)]) / values_train.std()
            row["change_per_amount"] = change.tolist()
            # The decoder may deliver less (or more) than the linear fit promises: also
            # judge the edits whose *measured* mean change is within one standard deviation.
            measured_moderate = [i for i in range(len(AMOUNTS))
                                 if AMOUNTS[i] != 0 and abs(change[i]) <= 1.0 + 1e-3]
            row["kept_svc_measured"] = float(kept_svc[measured_moderate].mean())
            row["change_at_1"] = float((means[AMOUNTS.index(1.0)] - means[AMOUNTS.index(-1.0)])
                                       / 2 / values_train.std())
            median = np.median(values_train)
            global_train, global_test = values_train > median, values_test > median
            class_median = {d: np.median(values_train[y[train] == d]) for d in range(10)}
            own_train = values_train > np.array([class_median[d] for d in y[train]])
            own_test = values_test > np.array([class_median[d] for d in y[test]])
            targets = {"plain": (global_train, global_test, None),
                       "within digit": (global_train, global_test, y[train]),
                       "for its digit": (own_train, own_test, y[train])}
            for erasure, (label_train, label_test, groups) in targets.items():
                eraser = ConceptEraser().fit(codes_train, label_train, groups=groups)
                erased_train = eraser.transform(codes_train)
                erased_test = eraser.transform(codes_test)
                row[f"{erasure}|factor_before"] = probe(codes_train, label_train, codes_test,
                                                        label_test)
                row[f"{erasure}|factor_after"] = probe(erased_train, label_train, erased_test,
                                                       label_test)
                row[f"{erasure}|chance"] = float(max(label_test.mean(), 1 - label_test.mean()))
                row[f"{erasure}|digit_only"] = digit_only_rate(label_train, y[train],
                                                               label_test, y[test])
                row[f"{erasure}|digit_before"] = digit_before
                row[f"{erasure}|digit_after"] = probe(erased_train, y[train], erased_test,
                                                      y[test])
            row["seconds"] = time.perf_counter() - started
            rows.append(row)
            print({k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()},
                  flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latent-dim", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--factors", nargs="+", choices=sorted(FACTORS), default=list(FACTORS))
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    X, y = datasets.load_mnist()
    rows, cache = [], {}
    for seed in range(args.seeds):
        rows += run_seed(X, y, seed, args, cache)

    load = os.getloadavg()
    print(f"\nmachine: {platform.processor() or platform.machine()}, "
          f"{torch.get_num_threads()} torch threads, load average {load[0]:.1f}/{load[1]:.1f}; "
          f"seeds {args.seeds}; latent {args.latent_dim}; VAE epochs {args.epochs}")

    def stat(picked, key):
        values = np.array([r[key] for r in picked])
        return f"{values.mean():.3f}" + (f"±{values.std():.3f}" if len(values) > 1 else "")

    print("\n| model | factor | edit rank corr. | measured change per 1 sd step | digit kept, "
          "moderate edits (SVC judge) | same, logistic judge | judges on unedited "
          "reconstructions (SVC, logistic) | SVC reads as unedited |")
    print("|" + "---|" * 8)
    for model in ("VAE", "PCA"):
        for factor in args.factors:
            picked = [r for r in rows if r["model"] == model and r["factor"] == factor]
            print(f"| {model} | {factor} | {stat(picked, 'rank_correlation')} | "
                  f"{stat(picked, 'change_at_1')} | {stat(picked, 'kept_svc')} | "
                  f"{stat(picked, 'kept_logistic')} | {stat(picked, 'kept_svc_unedited')}, "
                  f"{stat(picked, 'kept_logistic_unedited')} | {stat(picked, 'unchanged_svc')} |")
    print("\nPer amount (factor sd), means over seeds: measured change (factor sd), "
          "digit kept (SVC judge)")
    print("| model | factor | " + " | ".join(f"{a:+g}" for a in AMOUNTS) + " |")
    print("|" + "---|" * (len(AMOUNTS) + 2))
    for model in ("VAE", "PCA"):
        for factor in args.factors:
            picked = [r for r in rows if r["model"] == model and r["factor"] == factor]
            change = np.mean([r["change_per_amount"] for r in picked], axis=0)
            kept = np.mean([r["kept_svc_per_amount"] for r in picked], axis=0)
            print(f"| {model} | {factor} | " + " | ".join(
                f"{c:+.2f}: {k:.3f}" for c, k in zip(change, kept, strict=True)) + " |")
        measured = [stat([r for r in rows if r["model"] == model and r["factor"] == factor],
                         "kept_svc_measured") for factor in args.factors]
        print(f"| {model} | kept (SVC), edits measured within 1 sd: "
              + ", ".join(f"{f} {m}" for f, m in zip(args.factors, measured, strict=True))
              + " |")
    print("\n| model | factor | erasure | factor probe before -> after | majority rate | "
          "digit-only rate | digit probe before -> after | digit points lost |")
    print("|" + "---|" * 8)
    for model in ("VAE", "PCA"):
        for factor in args.factors:
            picked = [r for r in rows if r["model"] == model and r["factor"] == factor]
            for erasure in ERASURES:
                lost = [100 * (r[f"{erasure}|digit_before"] - r[f"{erasure}|digit_after"])
                        for r in picked]
                spread = f"±{np.std(lost):.1f}" if len(lost) > 1 else ""
                print(f"| {model} | {factor} | {erasure} | "
                      f"{stat(picked, f'{erasure}|factor_before')} -> "
                      f"{stat(picked, f'{erasure}|factor_after')} | "
                      f"{stat(picked, f'{erasure}|chance')} | "
                      f"{stat(picked, f'{erasure}|digit_only')} | "
                      f"{stat(picked, f'{erasure}|digit_before')} -> "
                      f"{stat(picked, f'{erasure}|digit_after')} | "
                      f"{np.mean(lost):.1f}{spread} (max {np.max(lost):.1f}) |")
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
