"""Cost curves: how time grows with the size of the work, with fitted log-log exponents.

Sweeps, each timed as the *marginal* cost (a long run minus a short run of the same fit, so
that set-up, validation and compilation drop out), min of ``--repeats`` runs each:

- GaussianHMM (diag, D=4): seconds per EM iteration against the length T of one sequence
  (K=8; as 1,000-step sequences and as one sequence) and against the states K (T=10^5
  in 1,000-step sequences). Measured: ``fit(n_iter=1+m, tol=-inf)`` minus
  ``fit(n_iter=1)``, divided by m (forward-backward, statistics, M-step).
- LDA (batch VB): seconds per pass against documents (K=20) and against topics K (2,000
  documents); corpora drawn from a planted LDA (V=2,000, Poisson(100) document lengths,
  alpha 0.1, eta 0.05); against topics also with exactly 10 E-step updates per document
  (no early stop), which separates the work per update from the number of updates.
  Measured: ``fit(max_iter=1+m)`` minus ``fit(max_iter=1)``, over m.
- VAE (default MLP, MNIST digits of ``load_mnist``): seconds per epoch against the number of
  digits (batch 128) and against the batch size (all 8,000 digits), no validation split.
  Measured: ``fit(epochs=3)`` minus ``fit(epochs=1)``, over 2.
- Distributed HMM EM under ``torchrun --standalone --nproc_per_node=N`` for N = 1 and 2 on
  the same T=10^6-step data split by rank: seconds per EM iteration, the speed-up, the bytes
  all-reduced per iteration (counted by wrapping ``torch.distributed.all_reduce``) and the
  time of one such all-reduce.

The exponent is the least-squares slope of log(time) on log(size), over all points and over
the largest three (the asymptotic one, once fixed per-call costs no longer matter). Plots go
to ``--figures`` (one PNG per family); ``--markdown`` appends the tables to a file.

    python benchmarks/cost_curves.py                       # default run, about 10 minutes
    python benchmarks/cost_curves.py --quick               # smoke run, under a minute
    python benchmarks/cost_curves.py --hmm-single-max-length 1e7 --lda-fixed-max-docs 1e5
    python benchmarks/cost_curves.py --parts hmm,dist      # a subset
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="torch, numba and BLAS threads")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per point (min)")
    parser.add_argument("--parts", default="hmm,lda,lda-fixed,vae,dist",
                        help="comma-separated")
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat")
    parser.add_argument("--hmm-max-length", type=float, default=1e7)
    parser.add_argument("--hmm-single-max-length", type=float, default=1e6,
                        help="longest single sequence (10^7 adds about 1.5 minutes)")
    parser.add_argument("--lda-max-docs", type=float, default=1e5)
    parser.add_argument("--lda-fixed-max-docs", type=float, default=3e4,
                        help="documents sweep with fixed E-step updates stops here")
    parser.add_argument("--figures", default=str(ROOT / "docs" / "figures"))
    parser.add_argument("--markdown", default=None, help="append the tables to this file")
    parser.add_argument("--json", default=None, help="write all measurements here")
    parser.add_argument("--from-json", default=None,
                        help="measure nothing: redraw plots and tables from a --json file")
    return parser.parse_args(argv)


ARGS = parse_args() if __name__ == "__main__" else None
if ARGS is not None:  # thread counts must be fixed before numpy / numba / torch start pools
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "NUMBA_NUM_THREADS"):
        os.environ[var] = str(ARGS.threads)
    sys.path.insert(0, str(ROOT))

import math  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import textwrap  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

HMM_FEATURES = 4
#: Steps per sequence in the HMM sweeps (the kernels advance 8 sequences together).
SEQUENCE_STEPS = 1000


# -- fitting and timing ------------------------------------------------------------------
def exponent(sizes, seconds) -> float:
    """Least-squares slope of log(seconds) against log(size)."""
    slope, _ = np.polyfit(np.log(np.asarray(sizes, float)), np.log(np.asarray(seconds)), 1)
    return float(slope)


def marginal(run, short: int, long: int, repeats: int) -> float:
    """Seconds per unit of ``run(n)`` between n=short and n=long, min of ``repeats``.

    The two are interleaved so that load from elsewhere hits both alike."""
    shorts, longs = [], []
    for _ in range(repeats):
        for n, out in ((short, shorts), (long, longs)):
            started = time.perf_counter()
            run(n)
            out.append(time.perf_counter() - started)
    if min(longs) <= min(shorts):  # the extra work drowned in noise: say so, do not hide it
        say(f"warning: {long} units took no longer than {short}; the point is noise")
    return max(min(longs) - min(shorts), 1e-9) / (long - short)


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# -- HMM ---------------------------------------------------------------------------------
def hmm_data(length: int, k: int, seed: int = 0) -> np.ndarray:
    """Piecewise-constant state paths (mean stay 50 steps), Gaussian emissions around
    well-separated means; drawn vectorised, so 10^7 steps take seconds."""
    rng = np.random.default_rng(seed)
    n_runs = length // 50 + 2
    runs = rng.geometric(1 / 50, size=n_runs)
    while runs.sum() < length:
        runs = np.concatenate([runs, rng.geometric(1 / 50, size=n_runs)])
    states = np.repeat(rng.integers(0, k, size=len(runs)), runs)[:length]
    means = rng.normal(0.0, 3.0, (k, HMM_FEATURES))
    return means[states] + rng.normal(size=(length, HMM_FEATURES))


def hmm_model(k: int, n_iter: int, X: np.ndarray):
    from latentmodels.hmm import GaussianHMM

    rng = np.random.default_rng(1)
    model = GaussianHMM(k, covariance_type="diag", n_iter=n_iter, tol=-np.inf, init_params="")
    trans = np.full((k, k), 0.05 / max(k - 1, 1))
    np.fill_diagonal(trans, 0.95 if k > 1 else 1.0)
    model.startprob_ = np.full(k, 1.0 / k)
    model.transmat_ = trans
    model.means_ = X[rng.choice(len(X), size=k, replace=False)]
    model.covars_ = np.ones((k, HMM_FEATURES))
    return model


def split_lengths(length: int, piece: int | None) -> list[int]:
    """``length`` steps as sequences of ``piece`` steps (the last shorter); None: one."""
    if piece is None or piece >= length:
        return [length]
    return [piece] * (length // piece) + ([length % piece] if length % piece else [])


def hmm_iteration_seconds(length: int, k: int, repeats: int,
                          piece: int | None = SEQUENCE_STEPS) -> float:
    X = hmm_data(length, k)
    lengths = split_lengths(length, piece)
    extra = 2 if length * k >= 4e7 else 5

    def run(n_iter):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            hmm_model(k, n_iter, X).fit(X, lengths)

    run(1)  # warm-up: compiled kernels, memory
    return marginal(run, 1, 1 + extra, repeats)


def hmm_stat_bytes(k: int, d: int = HMM_FEATURES) -> int:
    """float64 statistics of a diag GaussianHMM summed per EM iteration: start K,
    transitions K^2, log-likelihood 1, posterior counts K, first and second moments 2 K D."""
    return 8 * (k * k + 2 * k + 2 * k * d + 1)


# -- LDA ---------------------------------------------------------------------------------
def planted_corpus(n_docs: int, k: int, seed: int = 0, vocabulary: int = 2000,
                   mean_length: int = 100, alpha: float = 0.1, eta: float = 0.05):
    """Documents drawn from a planted LDA, token by token (vectorised, in chunks)."""
    rng = np.random.default_rng(seed)
    topics_cdf = np.cumsum(rng.dirichlet(np.full(vocabulary, eta), size=k), axis=1)
    topics_cdf[:, -1] = 1.0
    blocks = []
    for first in range(0, n_docs, 20_000):
        n = min(20_000, n_docs - first)
        theta_cdf = np.cumsum(rng.dirichlet(np.full(k, alpha), size=n), axis=1)
        theta_cdf[:, -1] = 1.0
        lengths = np.maximum(rng.poisson(mean_length, size=n), 1)
        doc = np.repeat(np.arange(n), lengths)
        u = rng.random(len(doc))
        topic = np.zeros(len(doc), dtype=np.int64)
        for j in range(k - 1):  # topic = number of cdf entries below u
            topic += u > theta_cdf[doc, j]
        word = np.empty(len(doc), dtype=np.int64)
        v = rng.random(len(doc))
        for j in range(k):
            mine = topic == j
            word[mine] = np.searchsorted(topics_cdf[j], v[mine], side="right")
        np.minimum(word, vocabulary - 1, out=word)
        blocks.append(sp.csr_matrix((np.ones(len(doc)), (doc, word)), shape=(n, vocabulary)))
    counts = sp.vstack(blocks).tocsr()
    counts.sum_duplicates()
    return counts


def lda_pass_seconds(n_docs: int, k: int, repeats: int, corpus_topics: int = 20,
                     inner_iterations: int | None = None) -> float:
    """``inner_iterations``: run exactly this many E-step updates per document (no early
    stop), so that the work per pass no longer depends on how fast documents converge."""
    from latentmodels.lda import LDA

    X = planted_corpus(n_docs, corpus_topics)
    extra = 2 if n_docs * k >= 4e6 else 3
    fixed = ({} if inner_iterations is None else
             {"max_doc_update_iter": inner_iterations, "mean_change_tol": 0.0})

    def run(max_iter):
        LDA(k, method="vb", max_iter=max_iter, tol=0.0, n_jobs=ARGS.threads,
            random_state=0, **fixed).fit(X)

    run(1)
    return marginal(run, 1, 1 + extra, repeats)


# -- VAE ---------------------------------------------------------------------------------
def vae_epoch_seconds(X: np.ndarray, batch_size: int, repeats: int) -> float:
    from latentmodels import VAE

    def run(epochs):
        VAE(epochs=epochs, batch_size=batch_size, validation_fraction=0.0, verbose=0,
            random_state=0, device="cpu").fit(X)

    run(1)
    return marginal(run, 1, 3, repeats)


# -- distributed HMM ---------------------------------------------------------------------
WORKER = textwrap.dedent(
    """
    import json, os, sys, time, warnings
    import numpy as np
    import torch
    import torch.distributed as dist
    sys.path.insert(0, sys.argv[1])
    from cost_curves import SEQUENCE_STEPS, hmm_data, hmm_model, split_lengths

    length, k, repeats, out = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    torch.set_num_threads(1)
    sent = []
    real_all_reduce = dist.all_reduce

    def counting_all_reduce(tensor, *args, **kwargs):
        sent.append(tensor.numel() * tensor.element_size())
        return real_all_reduce(tensor, *args, **kwargs)

    dist.all_reduce = counting_all_reduce
    X = hmm_data(length, k)
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    lo, hi = rank * length // world, (rank + 1) * length // world
    mine, pieces = X[lo:hi], split_lengths(hi - lo, SEQUENCE_STEPS)

    def fit(n_iter):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            hmm_model(k, n_iter, X).fit(mine, pieces)

    fit(1)  # warm-up; joins the process group
    shorts, longs, extra, calls = [], [], 5, {}
    for _ in range(repeats):
        for n, times in ((1, shorts), (1 + extra, longs)):
            if dist.is_initialized():  # a world of 1 never joins a group
                dist.barrier()
            del sent[:]
            started = time.perf_counter()
            fit(n)
            times.append(time.perf_counter() - started)
            calls[n] = list(sent)
    per_iteration = (min(longs) - min(shorts)) / extra
    # bytes summed per EM iteration: the long fit's all-reduces beyond the short fit's
    iteration_bytes = (sum(calls[1 + extra]) - sum(calls[1])) / extra
    reduce_seconds = None
    if world > 1:
        payload = torch.zeros(int(iteration_bytes) // 8, dtype=torch.float64)
        for _ in range(20):
            real_all_reduce(payload)
        started = time.perf_counter()
        for _ in range(200):
            real_all_reduce(payload)
        reduce_seconds = (time.perf_counter() - started) / 200
    if rank == 0:
        with open(out, "w") as f:
            json.dump({"world": world, "per_iteration": per_iteration, "calls": calls,
                       "iteration_bytes": iteration_bytes,
                       "allreduce_seconds": reduce_seconds}, f)
    """
)


def torchrun_hmm(world: int, length: int, k: int, repeats: int) -> dict:
    torchrun = Path(sys.executable).with_name("torchrun")
    command = [str(torchrun)] if torchrun.exists() else [sys.executable, "-m",
                                                        "torch.distributed.run"]
    with tempfile.TemporaryDirectory() as folder:
        script, out = Path(folder) / "worker.py", Path(folder) / "result.json"
        script.write_text(WORKER)
        env = {**os.environ, "OMP_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1",
               "PYTHONPATH": str(ROOT)}
        result = subprocess.run(
            [*command, "--standalone", f"--nproc_per_node={world}", str(script),
             str(ROOT / "benchmarks"), str(length), str(k), str(repeats), str(out)],
            capture_output=True, text=True, timeout=900, env=env,
        )
        if result.returncode != 0:
            raise RuntimeError(f"torchrun failed:\n{result.stderr[-3000:]}")
        return json.loads(out.read_text())


# -- report ------------------------------------------------------------------------------
def plot(name: str, panels: list[dict], folder: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.2), dpi=80)
    for ax, panel in zip(np.atleast_1d(axes), panels, strict=True):
        x, y = np.asarray(panel["sizes"], float), np.asarray(panel["seconds"])
        ax.loglog(x, y, "o", color="C0")
        slope, intercept = np.polyfit(np.log(x), np.log(y), 1)
        ax.loglog(x, np.exp(intercept) * x ** slope, "-", color="C1",
                  label=f"all points: slope {slope:.2f}")
        tail_slope, tail_intercept = np.polyfit(np.log(x[-3:]), np.log(y[-3:]), 1)
        ax.loglog(x[-3:], np.exp(tail_intercept) * x[-3:] ** tail_slope, "--", color="C3",
                  label=f"largest 3: slope {tail_slope:.2f}")
        if x[-1] / x[0] < 1e3:  # short ranges: label the measured sizes themselves
            ax.set_xticks(x)
            ax.set_xticklabels([f"{v:g}" for v in x])
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlabel(panel["x_label"])
        ax.set_ylabel(panel["y_label"])
        ax.set_title(panel["title"], fontsize=10)
        ax.legend(fontsize=8)
        ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    Path(folder).mkdir(parents=True, exist_ok=True)
    path = Path(folder) / f"cost_{name}.png"
    partial = path.with_suffix(".png.part")
    fig.savefig(partial, format="png")
    plt.close(fig)
    os.replace(partial, path)  # atomic
    return str(path)


def panel(title, x_label, y_label, sizes, seconds) -> dict:
    return {"title": title, "x_label": x_label, "y_label": y_label, "sizes": list(sizes),
            "seconds": list(seconds), "exponent": exponent(sizes, seconds),
            "tail_exponent": exponent(sizes[-3:], seconds[-3:])}


def geometric_sizes(low: float, high: float, per_decade: int = 2) -> list[int]:
    n = int(round(math.log10(high / low) * per_decade)) + 1
    return sorted({int(round(v)) for v in np.logspace(math.log10(low), math.log10(high), n)})


def say(*parts) -> None:
    print(*parts, flush=True)


def main() -> None:
    args = ARGS
    repeats = 1 if args.quick else args.repeats
    if args.from_json:  # redraw the plots and the tables from an earlier run
        saved = json.loads(Path(args.from_json).read_text())
        report(saved["results"], saved["dist"], saved["footer"], args)
        return
    results, dist_rows = measure(args, repeats)
    footer = (f"Load average (1, 5, 15 min) at the end: {load_average()}; threads "
              f"{args.threads}; min of {repeats}.")
    report(results, dist_rows, footer, args)
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"results": results, "dist": dist_rows, "footer": footer}, indent=1))


def measure(args, repeats: int) -> tuple[dict[str, list[dict]], list[dict]]:
    parts = set(args.parts.split(","))
    import torch

    torch.set_num_threads(args.threads)
    say(f"# cost curves: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"threads {args.threads}, min of {repeats}, torch {torch.__version__}")
    say(f"load average at start: {load_average()}")
    results: dict[str, list[dict]] = {}

    if "hmm" in parts:
        top = 1e4 if args.quick else args.hmm_max_length
        lengths = geometric_sizes(1e3, top)
        seconds = []
        for t in lengths:
            seconds.append(hmm_iteration_seconds(t, 8, repeats))
            say(f"HMM K=8 T={t:>9,d}: {seconds[-1] * 1e3:9.3f} ms per EM iteration")
        single_top = 1e4 if args.quick else args.hmm_single_max_length
        single_lengths = [t for t in lengths if t <= single_top * 1.01]
        single = []
        for t in single_lengths:
            single.append(hmm_iteration_seconds(t, 8, repeats, piece=None))
            say(f"HMM K=8 one sequence T={t:>9,d}: {single[-1] * 1e3:9.3f} ms per EM iteration")
        states = [2, 4, 8, 16] if args.quick else [2, 4, 8, 16, 32, 64]
        fixed_t = 10_000 if args.quick else 100_000
        by_k = []
        for k in states:
            by_k.append(hmm_iteration_seconds(fixed_t, k, repeats))
            say(f"HMM T={fixed_t:,d} K={k:>3d}: {by_k[-1] * 1e3:9.3f} ms per EM iteration")
        results["hmm"] = [
            panel(f"GaussianHMM diag, K=8, {SEQUENCE_STEPS:,d}-step sequences",
                  "total steps T", "s per EM iteration", lengths, seconds),
            panel("GaussianHMM diag, K=8, one sequence", "sequence length T",
                  "s per EM iteration", single_lengths, single),
            panel(f"GaussianHMM diag, T={fixed_t:,d}", "states K", "s per EM iteration",
                  states, by_k),
        ]
        say(f"load average: {load_average()}")

    topics = [10, 20, 50, 100] if args.quick else [10, 20, 50, 100, 200, 500]
    fixed_docs = 500 if args.quick else 2000
    for part, updates, label, top in (
            ("lda", None, "LDA batch VB", args.lda_max_docs),
            ("lda-fixed", 10, "LDA VB, 10 updates per doc", args.lda_fixed_max_docs)):
        if part not in parts:
            continue
        docs = geometric_sizes(1e3, 1e4 if args.quick else top)
        note = "" if updates is None else f", {updates} E-step updates per document"
        seconds = []
        for n in docs:
            seconds.append(lda_pass_seconds(n, 20, repeats, inner_iterations=updates))
            say(f"LDA K=20 documents={n:>9,d}{note}: {seconds[-1]:8.4f} s per VB pass")
        by_k = []
        for k in topics:
            by_k.append(lda_pass_seconds(fixed_docs, k, repeats, inner_iterations=updates))
            say(f"LDA documents={fixed_docs:,d} K={k:>3d}{note}: {by_k[-1]:8.4f} s per VB pass")
        results.setdefault("lda", []).extend([
            panel(f"{label}, K=20", "documents", "s per pass", docs, seconds),
            panel(f"{label}, {fixed_docs:,d} documents", "topics K", "s per pass", topics,
                  by_k),
        ])
        say(f"load average: {load_average()}")

    if "vae" in parts:
        from latentmodels import datasets

        X, _ = datasets.load_mnist(flatten=True)
        sizes = [1000, 2000, 4000] if args.quick else [1000, 2000, 4000, 8000]
        seconds = []
        for n in sizes:
            seconds.append(vae_epoch_seconds(X[:n], 128, repeats))
            say(f"VAE batch 128 digits={n:>5d}: {seconds[-1]:8.4f} s per epoch")
        batches = [32, 128, 512] if args.quick else [32, 64, 128, 256, 512]
        data = X[:2000] if args.quick else X
        by_batch = []
        for b in batches:
            by_batch.append(vae_epoch_seconds(data, b, repeats))
            say(f"VAE digits={len(data)} batch={b:>4d}: {by_batch[-1]:8.4f} s per epoch")
        results["vae"] = [
            panel("VAE (MLP), batch 128", "digits", "s per epoch", sizes, seconds),
            panel(f"VAE (MLP), {len(data):,d} digits", "batch size", "s per epoch",
                  batches, by_batch),
        ]
        say(f"load average: {load_average()}")

    dist_rows = []
    if "dist" in parts:
        length, k = (100_000 if args.quick else 1_000_000), 8
        for world in (1, 2):
            r = torchrun_hmm(world, length, k, repeats)
            dist_rows.append(r)
            say(f"torchrun N={world} T={length:,d} K={k}: {r['per_iteration'] * 1e3:8.2f} ms per "
                f"EM iteration; all-reduce calls (bytes) per fit by n_iter {r['calls']}; "
                f"{r['iteration_bytes']:.0f} bytes per iteration; one all-reduce "
                f"{(r['allreduce_seconds'] or 0) * 1e6:.0f} us")
        speedup = dist_rows[0]["per_iteration"] / dist_rows[1]["per_iteration"]
        say(f"speed-up 2 processes / 1: {speedup:.2f}x; formula bytes per iteration "
            f"8 (K^2 + 2K + 2KD + 1) = {hmm_stat_bytes(k)} (K={k}, D={HMM_FEATURES})")
        say(f"load average: {load_average()}")

    return results, dist_rows


def report(results: dict[str, list[dict]], dist_rows: list[dict], footer: str, args) -> None:
    lines = [footer, ""]
    lines.append("| curve | sizes | exponent (all points) | exponent (largest 3) | "
                 "time at smallest / largest |")
    lines.append("|---|---|---|---|---|")
    for family, panels in results.items():
        for p in panels:
            lines.append(
                f"| {p['title']}: {p['y_label']} vs {p['x_label']} | "
                f"{p['sizes'][0]:,}-{p['sizes'][-1]:,} ({len(p['sizes'])} points) | "
                f"{p['exponent']:.2f} | {p['tail_exponent']:.2f} | "
                f"{p['seconds'][0]:.3g} s / {p['seconds'][-1]:.3g} s |")
        path = plot(family, panels, args.figures)
        say(f"wrote {path}")
    if dist_rows:
        one, two = dist_rows
        lines.append("")
        lines.append("| processes (torchrun, gloo, 1 thread each) | ms per EM iteration | "
                     "speed-up | bytes all-reduced per iteration | one all-reduce |")
        lines.append("|---|---|---|---|---|")
        for r in dist_rows:
            reduce_time = ("-" if r["world"] == 1
                           else f"{r['allreduce_seconds'] * 1e6:.0f} us")
            lines.append(
                f"| {r['world']} | {r['per_iteration'] * 1e3:.2f} | "
                f"{one['per_iteration'] / r['per_iteration']:.2f}x | "
                f"{r['iteration_bytes']:,.0f} | {reduce_time} |")
    table = "\n".join(lines)
    say("")
    say(table)
    if args.markdown:
        with open(args.markdown, "a") as f:
            f.write(table + "\n")


if __name__ == "__main__":
    main()
