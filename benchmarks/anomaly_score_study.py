"""Which per-sample score of a default VAE finds a held-out MNIST digit best?

Protocol of ``anomaly_mnist.py``: a stratified 80/20 split; for each held-out digit d a default
``VAE()`` is trained on the training part without d and every candidate score is computed on
the whole test part (d = the anomaly) and on the training part (to standardise scores for the
combinations). Only the training data is used to fit anything. Raw scores are cached per digit
(``--cache``) so combinations can be re-evaluated without retraining.

    python benchmarks/anomaly_score_study.py --classes 0,4,7,9 --cache /tmp/anom
"""

from __future__ import annotations

import argparse
import os
import time
import zlib

import numpy as np
import torch
from scipy.ndimage import gaussian_filter
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import train_test_split
from sklearn.neighbors import NearestNeighbors

from latentmodels import VAE, datasets
from latentmodels.metrics import auroc

EPS = 1e-4


def load() -> tuple[np.ndarray, np.ndarray]:
    X, y = datasets.load_npz(datasets.find_shared_data("mnist_8k.npz"))
    return X.reshape(len(X), -1).astype(np.float32), y


def bernoulli_loglik(x: np.ndarray, p: np.ndarray) -> np.ndarray:
    p = np.clip(p, EPS, 1 - EPS)
    return (x * np.log(p) + (1 - x) * np.log1p(-p)).sum(1)


def local_context_model(train: np.ndarray, levels: int = 3):
    """Mean pixel value given its four causal neighbours quantised to ``levels`` levels."""

    def contexts(X: np.ndarray) -> np.ndarray:
        img = np.pad(X.reshape(-1, 28, 28), ((0, 0), (1, 0), (1, 1)))
        q = np.minimum((img * levels).astype(np.int64), levels - 1)
        left, upleft = q[:, 1:, :-2], q[:, :-1, :-2]
        up, upright = q[:, :-1, 1:-1], q[:, :-1, 2:]
        return (((left * levels + upleft) * levels + up) * levels + upright).reshape(len(X), -1)

    ctx = contexts(train)
    n_ctx = levels**4
    sums = np.bincount(ctx.ravel(), weights=train.ravel(), minlength=n_ctx) + 0.5
    counts = np.bincount(ctx.ravel(), minlength=n_ctx) + 1.0
    table = sums / counts

    def loglik(X: np.ndarray) -> np.ndarray:
        return bernoulli_loglik(X, table[contexts(X)])

    return loglik


def compressed_bits(X: np.ndarray) -> np.ndarray:
    pixels = np.rint(X * 255).astype(np.uint8)
    return np.array([8.0 * len(zlib.compress(row.tobytes(), 9)) for row in pixels])


def knn_distance(train_codes: np.ndarray, codes: np.ndarray, k: int, same: bool) -> np.ndarray:
    nn = NearestNeighbors(n_neighbors=k + int(same)).fit(train_codes)
    dist, _ = nn.kneighbors(codes)
    return dist[:, int(same):].mean(1)


def all_scores(vae: VAE, Xtr: np.ndarray, X: np.ndarray, same: bool, fitted: dict) -> dict:
    """Candidate normality scores (higher = more normal) of X."""
    s: dict[str, np.ndarray] = {}
    s["elbo"] = vae.score_samples(X)
    s["iwae100"] = vae.log_likelihood(X, n_importance=100)
    codes = vae.transform(X)
    rebuilt = vae.inverse_transform(codes).reshape(len(X), -1)
    diff = X - rebuilt
    s["recon_sq"] = -(diff**2).sum(1)
    s["recon_abs"] = -np.abs(diff).sum(1)
    s["recon_bce"] = bernoulli_loglik(X, rebuilt)
    blurred = gaussian_filter(diff.reshape(-1, 28, 28), sigma=(0, 1, 1))
    s["recon_blur"] = -(blurred**2).sum((1, 2))
    s["latent_cycle"] = -((vae.transform(rebuilt) - codes) ** 2).sum(1)
    s["prior_norm"] = -(codes**2).sum(1)
    tr_codes = fitted["train_codes"]
    mean, cov = tr_codes.mean(0), np.cov(tr_codes, rowvar=False)
    prec = np.linalg.inv(cov)
    c = codes - mean
    s["latent_mahalanobis"] = -np.einsum("ij,jk,ik->i", c, prec, c)
    for k in (1, 5, 20):
        s[f"latent_knn{k}"] = -knn_distance(tr_codes, codes, k, same)
    s["latent_gmm10"] = fitted["gmm"].score_samples(codes)
    s["pixel_knn5"] = -knn_distance(Xtr, X, 5, same)
    s["background_pixels"] = bernoulli_loglik(X, fitted["pixel_mean"])
    s["background_local"] = fitted["local"](X)
    s["zlib_bits"] = compressed_bits(X)
    s["ink"] = X.sum(1)
    return s


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--classes", default="0,4,7,9")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cache", default="/tmp/anom")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    os.makedirs(args.cache, exist_ok=True)
    X, y = load()
    train, test = train_test_split(np.arange(len(X)), test_size=0.2, stratify=y,
                                   random_state=args.seed)
    for d in [int(c) for c in args.classes.split(",")]:
        path = os.path.join(args.cache, f"scores_d{d}_s{args.seed}.npz")
        if os.path.exists(path):
            continue
        t0 = time.perf_counter()
        normal = X[train[y[train] != d]]
        vae = VAE(verbose=0, random_state=args.seed).fit(normal)
        t_fit = time.perf_counter() - t0
        tr_codes = vae.transform(normal)
        fitted = {
            "train_codes": tr_codes,
            "gmm": GaussianMixture(10, random_state=0).fit(tr_codes),
            "pixel_mean": normal.mean(0),
            "local": local_context_model(normal),
        }
        test_scores = all_scores(vae, normal, X[test], False, fitted)
        train_scores = all_scores(vae, normal, normal, True, fitted)
        np.savez(path, is_anomaly=y[test] == d, fit_seconds=t_fit,
                 **{f"test_{k}": v for k, v in test_scores.items()},
                 **{f"train_{k}": v for k, v in train_scores.items()})
        line = ", ".join(f"{k} {auroc(y[test] == d, v):.3f}" for k, v in test_scores.items())
        print(f"digit {d}: fit {t_fit:.0f} s, total {time.perf_counter() - t0:.0f} s: {line}",
              flush=True)


if __name__ == "__main__":
    main()
