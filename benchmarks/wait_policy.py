"""How OpenMP workers wait, quiet and busy: the same-model VAE fit under several settings.

Each fit runs in a fresh interpreter, since GNU OpenMP reads its settings once, when torch
loads it: ``OMP_WAIT_POLICY=PASSIVE`` (what ``import latentmodels`` sets: idle workers sleep
at once) against a bounded spin (``GOMP_SPINCOUNT``: idle workers spin that many rounds,
then sleep). torch is imported before latentmodels here, so the setting given is the one in
force. The model is ``vae_mnist.py``'s part 1 (784-400-20, batch 128, 6,400 digits);
``--threads 0`` leaves the count to the automatic switcher (its ceiling: 2), a positive
count pins it. Rounds alternate quiet and busy (one CPU-bound process per core beside).

    python benchmarks/wait_policy.py --rounds 4
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

# One fit in a fresh interpreter: prints {"wall": s, "cpu": s}.
_CHILD = r"""
import contextlib, json, sys, time
import torch
sys.path.insert(0, "benchmarks")
from _contention import busy_cores
from latentmodels import VAE, datasets
from latentmodels._internal import threads

count, epochs, busy = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"
torch.set_num_threads(count if count > 0 else 2)
X = datasets.load_mnist(flatten=True)[0][:6400]


def fit():
    model = VAE(latent_dim=20, hidden_dims=(400,), epochs=epochs, batch_size=128,
                learning_rate=1e-3, validation_fraction=0.0, patience=None, random_state=0,
                verbose=0, device="cpu")
    with threads.requested_threads(count if count > 0 else None):
        wall, cpu = time.perf_counter(), time.process_time()
        model.fit(X)
    return time.perf_counter() - wall, time.process_time() - cpu


fit()  # warm-up: kernels, allocator
with busy_cores() if busy else contextlib.nullcontext():
    wall, cpu = fit()
print(json.dumps({"wall": wall, "cpu": cpu}))
"""

SETTINGS = {
    "PASSIVE": {"OMP_WAIT_POLICY": "PASSIVE"},
    "GOMP_SPINCOUNT=30000": {"GOMP_SPINCOUNT": "30000"},
    "GOMP_SPINCOUNT=100000": {"GOMP_SPINCOUNT": "100000"},
}
_OURS = ("OMP_WAIT_POLICY", "KMP_BLOCKTIME", "GOMP_SPINCOUNT")


def one_fit(extra: dict[str, str], threads: int, epochs: int, busy: bool) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if k not in _OURS} | extra
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    done = subprocess.run([sys.executable, "-c", _CHILD, str(threads), str(epochs),
                           "1" if busy else "0"], env=env, cwd=root, capture_output=True,
                          text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="0: automatic switcher")
    args = parser.parse_args()
    walls: dict[tuple[str, bool], list[float]] = {}
    for round_ in range(args.rounds):
        for busy in (False, True):
            for name, extra in SETTINGS.items():
                result = one_fit(extra, args.threads, args.epochs, busy)
                walls.setdefault((name, busy), []).append(result["wall"])
                print(f"round {round_} {'busy ' if busy else 'quiet'} {name:22s} wall "
                      f"{result['wall']:.2f} s, CPU {result['cpu']:.2f} s, load average "
                      f"{os.getloadavg()[0]:.2f}", flush=True)
    print("\n| setting | quiet s (median) | busy s (median) | slow-down |")
    print("| --- | ---: | ---: | ---: |")
    for name in SETTINGS:
        quiet = statistics.median(walls[name, False])
        busy = statistics.median(walls[name, True])
        print(f"| {name} | {quiet:.2f} | {busy:.2f} | {busy / quiet:.2f}x |")


if __name__ == "__main__":
    main()
