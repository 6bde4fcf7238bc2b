"""GAN side by side: the classic PyTorch DCGAN loop (adapted to 28x28) against
``latentmodels.GAN`` defaults, each given the same compute budget, judged in the feature space
of the library's digit / fashion classifier.

For each dataset (``../shared/data/mnist_8k.npz``, ``fashion_mnist_10k.npz``) the images are
split 80/20 (seed 0). A :class:`latentmodels.metrics.FeatureClassifier` is trained on the
training part (cached in ``--out``); every generator then gets ``--budget`` seconds of wall
clock (one torch thread; the methods alternate within each seed, so both see the same
machine load on average) and 2,000 of its samples are scored
against 2,000 held-out real images: Frechet distance in classifier feature space, k-NN
precision / recall (k=3), classes covered (a class counts when it gets at least 10 % of its
uniform share) and KL(class histogram || uniform). These figures are comparable only within
this library; they are not Inception FID.

The reference follows the DCGAN example of pytorch/examples (BatchNorm, ReLU/LeakyReLU 0.2,
tanh output, BCE loss, Adam 2e-4, betas (0.5, 0.999), batch 128, nz 100, ngf = ndf = 64,
N(0, 0.02) init), with the 64x64 layer stack shortened to 7 -> 14 -> 28.

    .venv/bin/python benchmarks/gan_mnist.py --budget 300 --seeds 0 1 2
    .venv/bin/python benchmarks/gan_mnist.py --datasets mnist --budget 60 --seeds 0   # quick
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
FILES = {"mnist": "mnist_8k.npz", "fashion": "fashion_mnist_10k.npz"}
N_SCORED = 2000


def load(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    with np.load(DATA / FILES[name], allow_pickle=False) as data:
        X = (data["images"] / 255.0).astype(np.float32)
        y = data["labels"].astype(np.int64)
    order = np.random.default_rng(0).permutation(len(X))
    cut = int(0.8 * len(X))
    train, test = order[:cut], order[cut:]
    return X[train], y[train], X[test], y[test]


# -- the reference DCGAN ------------------------------------------------------------------
NZ, NGF, NDF = 100, 64, 64


class ReferenceGenerator(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(NZ, NGF * 4, 7, 1, 0, bias=False),
            nn.BatchNorm2d(NGF * 4),
            nn.ReLU(True),
            nn.ConvTranspose2d(NGF * 4, NGF * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(NGF * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(NGF * 2, 1, 4, 2, 1, bias=False),
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.main(z)


class ReferenceDiscriminator(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(1, NDF, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(NDF, NDF * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(NDF * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(NDF * 2, 1, 7, 1, 0, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x).view(-1)


def _dcgan_init(module: nn.Module) -> None:
    name = type(module).__name__
    if "Conv" in name:
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif "BatchNorm" in name:
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def train_reference(X: np.ndarray, budget: float, seed: int) -> tuple[np.ndarray, dict]:
    """Train the reference DCGAN for ``budget`` seconds; return samples in [0, 1]."""
    torch.manual_seed(seed)
    netG, netD = ReferenceGenerator(), ReferenceDiscriminator()
    netG.apply(_dcgan_init)
    netD.apply(_dcgan_init)
    criterion = nn.BCELoss()
    optD = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optG = torch.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
    data = torch.from_numpy(X).unsqueeze(1) * 2 - 1  # tanh range
    batch = 128
    started = time.perf_counter()
    steps, nan = 0, False
    last = {}
    while time.perf_counter() - started < budget:
        for idx in torch.randperm(len(data)).split(batch):
            real = data[idx]
            n = len(real)
            netD.zero_grad()
            errD_real = criterion(netD(real), torch.ones(n))
            errD_real.backward()
            fake = netG(torch.randn(n, NZ, 1, 1))
            errD_fake = criterion(netD(fake.detach()), torch.zeros(n))
            errD_fake.backward()
            optD.step()
            netG.zero_grad()
            errG = criterion(netD(fake), torch.ones(n))
            errG.backward()
            optG.step()
            steps += 1
            last = {"loss_d": (errD_real + errD_fake).item(), "loss_g": errG.item()}
            if not all(math.isfinite(v) for v in last.values()):
                nan = True
                break
            if time.perf_counter() - started >= budget:
                break
        if nan:
            break
    netG.eval()
    with torch.no_grad():
        gen = torch.Generator().manual_seed(10_000 + seed)
        z = torch.randn(N_SCORED, NZ, 1, 1, generator=gen)
        samples = ((netG(z) + 1) / 2).clamp(0, 1).squeeze(1).numpy()
    info = {"steps": steps, "seconds": time.perf_counter() - started, "nan": nan, **last}
    return samples, info


# -- latentmodels --------------------------------------------------------------------------
def train_library(X: np.ndarray, y: np.ndarray, budget: float, seed: int, conditional: bool
                  ) -> tuple[np.ndarray, dict]:
    """``latentmodels.GAN`` (or ``ConditionalGAN``) defaults, for ``budget`` seconds."""
    from latentmodels import GAN, ConditionalGAN

    started = time.perf_counter()
    cls = ConditionalGAN if conditional else GAN
    model = cls(random_state=seed, verbose=0, max_time=budget)
    if conditional:
        model.fit(X, y)
        labels = np.arange(N_SCORED) % 10
        samples = model.sample(N_SCORED, y=labels, random_state=10_000 + seed)
    else:
        model.fit(X)
        samples = model.sample(N_SCORED, random_state=10_000 + seed)
    history = model.history_
    info = {"epochs": len(history), "seconds": time.perf_counter() - started,
            "nan": not np.isfinite(samples).all(),
            **{k: float(v) for k, v in history[-1].items() if k.startswith("loss")}}
    return np.asarray(samples).reshape(-1, 28, 28), info


def _to_builtin(value):
    """JSON fallback for numpy scalars and arrays in the result rows."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["mnist", "fashion"],
                        choices=sorted(FILES))
    parser.add_argument("--budget", type=float, default=300.0, help="seconds per run")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--methods", nargs="+", default=["reference", "latentmodels"],
                        choices=["reference", "latentmodels", "latentmodels-cgan"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "gan")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from latentmodels import plots
    from latentmodels.metrics import FeatureClassifier, sample_quality

    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    print(f"load average {os.getloadavg()[0]:.1f}; budget {args.budget:.0f} s per run, "
          f"{args.threads} thread(s)")
    print("| data | method | seed | steps/epochs | Frechet | precision | recall | classes "
          "| KL to uniform | NaN |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for name in args.datasets:
        X_train, y_train, X_test, y_test = load(name)
        judge_path = args.out / f"classifier_{name}.lm"
        if judge_path.exists():
            judge = FeatureClassifier.load(judge_path)
        else:
            judge = FeatureClassifier(random_state=0).fit(X_train, y_train)
            judge.save(judge_path)
        accuracy = float(np.mean(judge.predict(X_test) == y_test))
        print(f"(classifier accuracy on held-out {name}: {accuracy:.4f})", flush=True)
        real = X_test[:N_SCORED]
        for seed in args.seeds:
            for method in args.methods:
                if method == "reference":
                    samples, info = train_reference(X_train, args.budget, seed)
                    count = info["steps"]
                else:
                    samples, info = train_library(X_train, y_train, args.budget, seed,
                                                  conditional=method.endswith("cgan"))
                    count = info["epochs"]
                quality = sample_quality(samples, real, judge)
                row = {"data": name, "method": method, "seed": seed, **info,
                       **{k: v for k, v in quality.items() if k != "histogram"},
                       "histogram": [float(v) for v in quality["histogram"]]}
                rows.append(row)
                print(f"| {name} | {method} | {seed} | {count} | {quality['frechet']:.2f} | "
                      f"{quality['precision']:.3f} | {quality['recall']:.3f} | "
                      f"{quality['classes_covered']} | {quality['kl_uniform']:.3f} | "
                      f"{info['nan']} |", flush=True)
                if seed == args.seeds[0]:
                    plots.plot_image_grid(samples[:64], ncols=8, title=f"{method} on {name}",
                                          path=args.out / f"{name}_{method}_samples.png")
    print()
    for name in args.datasets:
        for method in args.methods:
            mine = [r for r in rows if r["data"] == name and r["method"] == method]
            if not mine:
                continue
            frechet = [r["frechet"] for r in mine]
            covered = [r["classes_covered"] for r in mine]
            print(f"{name} {method}: Frechet mean {np.mean(frechet):.2f} "
                  f"(min {min(frechet):.2f}, max {max(frechet):.2f}); classes covered "
                  f"min {min(covered)}; NaN runs {sum(r['nan'] for r in mine)}")
    print(f"load average at the end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=1, default=_to_builtin))


if __name__ == "__main__":
    main()
