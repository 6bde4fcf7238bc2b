"""How long ``GAN().fit(X)`` takes with every default on the 8,000 MNIST digits
(``datasets.load_mnist()``, the same file as ``../shared/data/mnist_8k.npz``), given as
28x28 images and as 784-long rows: the five-minute aim of issue 16. Prints wall-clock and
CPU seconds and the load average before and after each fit; quality is judged by
``benchmarks/gan_vs_vae.py``.

    .venv/bin/python benchmarks/gan_fit_time.py              # images, then flat rows
    .venv/bin/python benchmarks/gan_fit_time.py flat
"""

from __future__ import annotations

import argparse
import os
import time

import latentmodels  # noqa: F401  (sets the thread policy before torch starts its threads)
from latentmodels import GAN, datasets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("shapes", nargs="*", choices=["images", "flat"],
                        default=["images", "flat"])
    args = parser.parse_args()
    images, _ = datasets.load_mnist()  # float32 in [0, 1], 8000 x 28 x 28
    for shape in args.shapes:
        X = images if shape == "images" else images.reshape(len(images), -1)
        load_before = os.getloadavg()[0]
        wall, cpu = time.perf_counter(), time.process_time()
        gan = GAN(random_state=0, verbose=0).fit(X)
        print(f"{shape} {X.shape}: {time.perf_counter() - wall:.0f} s wall, "
              f"{time.process_time() - cpu:.0f} s CPU, {len(gan.history_)} epochs, "
              f"networks see {gan.image_shape_}, load average {load_before:.2f} before, "
              f"{os.getloadavg()[0]:.2f} after", flush=True)


if __name__ == "__main__":
    main()
