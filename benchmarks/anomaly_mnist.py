"""One-class-out anomaly detection on MNIST and Fashion-MNIST with latentmodels' detectors.

For each class d: a fixed stratified 80/20 split of the data; every detector is trained on the
training part without class d and scores the whole test part, where class d is the anomaly.
Reported: AUROC (and AUPRC) per class and the mean, for

* ``VAE-auto``: all defaults, ``AnomalyDetector(VAE())`` (score ``"auto"``: latent kNN and the
  likelihood ratio against a local pixel model, standardised and averaged);
* ``VAE-ELBO`` / ``VAE-IWAE`` / ``VAE-recon`` / ``VAE-knn`` / ``VAE-ratio``: the same default
  VAE scored by its ELBO (``score="likelihood"``, the detector's default before), the IWAE bound
  with 100 samples, minus the squared error of decoding the posterior mean, the latent kNN
  distance alone, or the likelihood ratio alone;
* ``AE`` / ``AE-recon``: latentmodels.Autoencoder 784-128-32, default score / minus the squared
  reconstruction error;
* ``PCA-auto`` / ``PCA-recon`` / ``PCA-density``: latentmodels.PCA(32) (scikit-learn's fit under
  the same contract), default score / minus the reconstruction error / the probabilistic-PCA
  log-density (baselines);
* PyOD's AutoEncoder and VAE, when pyod is installed.

Every library detector goes through :class:`latentmodels.tasks.anomaly.AnomalyDetector`.

    python benchmarks/anomaly_mnist.py                          # MNIST, all digits
    python benchmarks/anomaly_mnist.py --data fashion           # fashion_mnist_10k.npz
    python benchmarks/anomaly_mnist.py --classes 7 --epochs 3 --vae-epochs 3   # a quick run
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np
import torch
from sklearn.model_selection import train_test_split

from latentmodels import PCA, VAE, Autoencoder, datasets
from latentmodels.metrics import auprc, auroc
from latentmodels.tasks.anomaly import AnomalyDetector


def load(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Flat float32 images in [0, 1] and labels, from ../shared/data (or the embedded MNIST)."""
    filename = {"mnist": "mnist_8k.npz", "fashion": "fashion_mnist_10k.npz"}[name]
    path = datasets.find_shared_data(filename)
    if path is None:
        if name != "mnist":
            raise SystemExit(f"{filename} not found in the shared data folder")
        return datasets.load_mnist(flatten=True)
    X, y = datasets.load_npz(path)
    return X.reshape(len(X), -1), y


def detectors(epochs: int, vae_epochs: int | None, seed: int
              ) -> dict[str, tuple[object, str]]:
    """name -> (unfitted model, AnomalyDetector score); one model object is trained once."""
    ae = Autoencoder(latent_dim=32, hidden_dims=(128,), epochs=epochs, verbose=0,
                     random_state=seed)
    vae_settings = {} if vae_epochs is None else {"epochs": vae_epochs}
    vae = VAE(verbose=0, random_state=seed, **vae_settings)  # otherwise all defaults
    pca = PCA(32, random_state=seed)
    return {
        "VAE-auto": (vae, "auto"),
        "VAE-ELBO": (vae, "likelihood"),
        "VAE-IWAE": (vae, "iwae"),
        "VAE-recon": (vae, "reconstruction"),
        "VAE-knn": (vae, "latent_knn"),
        "VAE-ratio": (vae, "likelihood_ratio"),
        "AE": (ae, "auto"),
        "AE-recon": (ae, "reconstruction"),
        "PCA-auto": (pca, "auto"),
        "PCA-recon": (pca, "reconstruction"),
        "PCA-density": (pca, "likelihood"),
    }


# Scores whose fit uses the training data beyond a threshold (codes, background model).
FITS_ON_DATA = {"auto", "latent_knn", "likelihood_ratio"}


def pyod_detectors(epochs: int, seed: int) -> dict[str, object]:
    try:
        from pyod.models.auto_encoder import AutoEncoder as PyODAE
        from pyod.models.vae import VAE as PyODVAE
    except ImportError:
        return {}
    return {
        "PyOD-AE": PyODAE(epoch_num=epochs, random_state=seed, verbose=0),
        "PyOD-VAE": PyODVAE(epoch_num=epochs, random_state=seed, verbose=0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=["mnist", "fashion"], default="mnist")
    parser.add_argument("--classes", default="all", help="comma-separated, or 'all'")
    parser.add_argument("--epochs", type=int, default=15, help="AE and PyOD epochs")
    parser.add_argument("--vae-epochs", type=int, default=None,
                        help="VAE epochs (default: the VAE's own default)")
    parser.add_argument("--iwae-samples", type=int, default=100)
    parser.add_argument("--limit", type=int, default=None, help="use the first N samples")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", default=None, help="write the results here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    X, y = load(args.data)
    if args.limit:
        X, y = X[: args.limit], y[: args.limit]
    train, test = train_test_split(np.arange(len(X)), test_size=0.2, stratify=y,
                                   random_state=args.seed)
    classes = sorted(set(y.tolist())) if args.classes == "all" else [
        int(c) for c in args.classes.split(",")]
    print(f"{args.data}: {len(train)} train / {len(test)} test, epochs={args.epochs}, "
          f"torch threads={args.threads}, load average {os.getloadavg()[0]:.2f}")
    results: dict[str, dict[int, dict[str, float]]] = {}
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    for d in classes:
        normal = train[y[train] != d]
        is_anomaly = y[test] == d
        fitted: dict[int, AnomalyDetector] = {}
        for name, (model, score) in detectors(args.epochs, args.vae_epochs, args.seed).items():
            t0 = time.perf_counter()
            key = id(model)
            if key in fitted:  # the other scores reuse the model trained for the first one
                base = fitted[key].model_
                # Only the threshold is calibrated unless the score fits on the data itself.
                calibration = X[normal] if score in FITS_ON_DATA else X[normal[:500]]
                detector = AnomalyDetector(base, score=score,
                                           n_importance=args.iwae_samples).fit(calibration)
            else:
                detector = AnomalyDetector(model, score=score,
                                           n_importance=args.iwae_samples).fit(X[normal])
                fitted[key] = detector
            scores = detector.score_samples(X[test])
            results.setdefault(name, {})[d] = {"auroc": auroc(is_anomaly, scores),
                                               "auprc": auprc(is_anomaly, scores)}
            seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - t0
        for name, model in pyod_detectors(args.epochs, args.seed).items():
            t0 = time.perf_counter()
            model.fit(X[normal])
            scores = -model.decision_function(X[test])  # PyOD: higher = more abnormal
            results.setdefault(name, {})[d] = {"auroc": auroc(is_anomaly, scores),
                                               "auprc": auprc(is_anomaly, scores)}
            seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - t0
        line = ", ".join(f"{n} {r[d]['auroc']:.3f}" for n, r in results.items())
        print(f"class {d}: {line}  ({time.perf_counter() - started:.0f} s)", flush=True)

    names = list(results)
    print(f"\nAUROC per held-out class ({args.data}; anomaly = the class left out of training)\n")
    print("| class | " + " | ".join(names) + " |")
    print("| ---: | " + " | ".join("---:" for _ in names) + " |")
    for d in classes:
        print(f"| {d} | " + " | ".join(f"{results[n][d]['auroc']:.3f}" for n in names) + " |")
    means = {n: float(np.mean([results[n][d]["auroc"] for d in classes])) for n in names}
    mean_pr = {n: float(np.mean([results[n][d]["auprc"] for d in classes])) for n in names}
    best = max(means, key=means.get)
    print("| **mean AUROC** | " + " | ".join(
        (f"**{means[n]:.3f}**" if n == best else f"{means[n]:.3f}") for n in names) + " |")
    print("| mean AUPRC | " + " | ".join(f"{mean_pr[n]:.3f}" for n in names) + " |")
    print("| seconds (all classes) | " + " | ".join(f"{seconds[n]:.0f}" for n in names) + " |")
    print(f"\nbest mean AUROC: {best}; total {time.perf_counter() - started:.0f} s; load average "
          f"at the end {os.getloadavg()[0]:.2f} (1 min), python {platform.python_version()}, "
          f"torch {torch.__version__}; pyod {'used' if pyod_detectors(1, 0) else 'not installed'}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"args": vars(args), "results": results, "mean_auroc": means,
                       "seconds": seconds}, handle, indent=2)


if __name__ == "__main__":
    main()
