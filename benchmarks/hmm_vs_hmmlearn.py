"""latentmodels HMMs against hmmlearn 0.3.3, side by side in one run (issue 3).

Data come from a known 8-state HMM: Gaussian with 5-dim emissions (diag and full
covariances) and categorical with 20 symbols, 50 sequences x 2,000 steps. Part 1 times
30 EM iterations (no early stop) from the same initial parameters in both libraries and
checks that the final log-likelihoods agree; it also times Viterbi decoding. Part 2 fits
each library from its own default initialisation and reports the held-out log-likelihood
per step against the true model and the state-recovery accuracy after matching states
(Hungarian algorithm).

    python benchmarks/hmm_vs_hmmlearn.py                 # full run, 2 threads
    python benchmarks/hmm_vs_hmmlearn.py --threads 1 --repeats 1 --quick
    python benchmarks/hmm_vs_hmmlearn.py --quick --cases diag --skip-accuracy --busy
    python benchmarks/hmm_vs_hmmlearn.py --quick --skip-accuracy --skip-log --alternate

``--alternate`` times every repeat twice, quiet and then with one CPU-bound process per core
beside (``benchmarks/_contention.py``), so that load from elsewhere hits both alike, and
reports each library's slow-down and how much of the quiet ratio survives (min of N).
"""

from __future__ import annotations

import argparse
import os
import sys


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2, help="numba + BLAS threads")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats (median)")
    parser.add_argument("--n-iter", type=int, default=30)
    parser.add_argument("--quick", action="store_true", help="10 sequences, for a smoke run")
    parser.add_argument("--skip-log", action="store_true", help="skip hmmlearn 'log' timing")
    parser.add_argument("--skip-accuracy", action="store_true")
    parser.add_argument("--markdown", default=None, help="append the tables to this file")
    parser.add_argument("--cases", default="diag,full,categorical", help="comma-separated")
    parser.add_argument("--busy", action="store_true",
                        help="run with one CPU-bound process per core beside (contention mode)")
    parser.add_argument("--alternate", action="store_true",
                        help="every repeat quiet then busy, side by side (min of repeats)")
    return parser.parse_args()


ARGS = _parse() if __name__ == "__main__" else None
if ARGS is not None:  # thread counts must be fixed before numpy/numba start their pools
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "NUMBA_NUM_THREADS"):
        os.environ[var] = str(ARGS.threads)

import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
from _contention import load_average, maybe_busy  # noqa: E402  (benchmarks/ is on sys.path)
from hmmlearn import hmm as hl  # noqa: E402
from scipy.optimize import linear_sum_assignment  # noqa: E402

from latentmodels.hmm import CategoricalHMM, GaussianHMM  # noqa: E402

K, D, M = 8, 5, 20
LENGTH = 2000


def true_model(kind: str, rng: np.random.Generator):
    """The generating model: sticky chain (stay 0.9 Gaussian, 0.97 categorical)."""
    stay = 0.97 if kind == "categorical" else 0.9
    trans = rng.dirichlet(np.ones(K), size=K)
    np.fill_diagonal(trans, 0.0)
    trans = trans / trans.sum(axis=1, keepdims=True) * (1 - stay)
    np.fill_diagonal(trans, stay)
    if kind == "categorical":
        model = CategoricalHMM(K)
        model.emissionprob_ = rng.dirichlet(np.full(M, 0.1), size=K)
    else:
        model = GaussianHMM(K, covariance_type=kind)
        model.means_ = rng.normal(0.0, 1.5, (K, D))
        if kind == "diag":
            model.covars_ = rng.uniform(0.5, 1.5, (K, D))
        else:
            covs = []
            for _ in range(K):
                q, _ = np.linalg.qr(rng.normal(size=(D, D)))
                covs.append(q @ np.diag(rng.uniform(0.3, 1.5, D)) @ q.T)
            model.covars_ = np.array(covs)
    model.startprob_ = np.full(K, 1.0 / K)
    model.transmat_ = trans
    return model


def draw(model, n_seq: int, seed: int):
    parts = [model.sample(LENGTH, random_state=seed + i) for i in range(n_seq)]
    X = np.concatenate([p[0] for p in parts])
    Z = np.concatenate([p[1] for p in parts])
    return X, Z, [LENGTH] * n_seq


def params_of(model) -> dict:
    out = {"startprob_": model.startprob_.copy(), "transmat_": model.transmat_.copy()}
    if isinstance(model, CategoricalHMM) or hasattr(model, "emissionprob_"):
        out["emissionprob_"] = np.array(model.emissionprob_)
    else:
        out["means_"] = np.array(model.means_)
        ctype = model.covariance_type
        full = np.array(model.covars_)
        out["covars_"] = np.array([np.diag(c) for c in full]) if ctype == "diag" else full
    return out


def set_params(model, params: dict):
    for name, value in params.items():
        setattr(model, name, np.array(value, copy=True))
    return model


def make(lib: str, kind: str, implementation: str = "log", **kw):
    """Same hyper-parameters in both libraries. hmmlearn adds a scalar covars_prior to every
    entry of a full matrix; ours means prior * I, so hmmlearn gets the identity matrix form."""
    if kind == "categorical":
        cls = CategoricalHMM if lib == "ours" else hl.CategoricalHMM
        return cls(K, **kw) if lib == "ours" else cls(K, implementation=implementation, **kw)
    if lib == "ours":
        return GaussianHMM(K, covariance_type=kind, **kw)
    prior = 1e-2 * np.tile(np.eye(D), (K, 1, 1)) if kind == "full" else 1e-2
    return hl.GaussianHMM(K, covariance_type=kind, implementation=implementation,
                          covars_prior=prior, **kw)


def timed_fit(model, X, lengths) -> float:
    start = time.perf_counter()
    model.fit(X, lengths)
    return time.perf_counter() - start


def accuracy(true_states, pred, k=K) -> float:
    counts = np.zeros((k, k))
    np.add.at(counts, (true_states, pred), 1)
    rows, cols = linear_sum_assignment(-counts)
    return counts[rows, cols].sum() / len(true_states)


def speed_case(kind, X, lengths, start, args, rows):
    n_iter = args.n_iter
    common = {"n_iter": n_iter, "tol": -np.inf, "init_params": ""}
    # warm-up: load compiled kernels, fault in memory
    set_params(make("ours", kind, **{**common, "n_iter": 2}), start).fit(X, lengths)
    impls = ["scaling"] if args.skip_log else ["log", "scaling"]
    times = {"ours": [], **{f"hmmlearn-{i}": [] for i in impls}}
    fitted = {}
    for _ in range(args.repeats):  # interleaved, so that machine load hits all alike
        model = set_params(make("ours", kind, **common), start)
        times["ours"].append(timed_fit(model, X, lengths) / n_iter)
        fitted["ours"] = model
        for impl in impls:
            ref = set_params(make("hmmlearn", kind, implementation=impl, **common), start)
            times[f"hmmlearn-{impl}"].append(timed_fit(ref, X, lengths) / n_iter)
            fitted[f"hmmlearn-{impl}"] = ref
    ours_ll = fitted["ours"].score(X, lengths)
    med = {k: statistics.median(v) for k, v in times.items()}
    rel = {
        impl: abs(ours_ll - fitted[f"hmmlearn-{impl}"].score(X, lengths))
        / abs(fitted[f"hmmlearn-{impl}"].score(X, lengths))
        for impl in impls
    }
    # Viterbi with identical parameters
    final = params_of(fitted["ours"])
    ours_dec = set_params(make("ours", kind), final)
    ref_dec = set_params(make("hmmlearn", kind, implementation="scaling"), final)
    ours_dec.predict(X, lengths)
    vt_ours, vt_ref = [], []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        p_ours = ours_dec.predict(X, lengths)
        vt_ours.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        p_ref = ref_dec.predict(X, lengths)
        vt_ref.append(time.perf_counter() - t0)
    rows.append({
        "case": kind, **{f"t_{k}": v for k, v in med.items()},
        "rel": rel, "ll": ours_ll,
        "vit_ours": statistics.median(vt_ours), "vit_ref": statistics.median(vt_ref),
        "vit_same": float(np.mean(p_ours == p_ref)),
    })


def contention_case(kind, X, lengths, start, args, rows):
    """Quiet and busy timings of EM and Viterbi, alternating per repeat (min of repeats)."""
    n_iter = args.n_iter
    common = {"n_iter": n_iter, "tol": -np.inf, "init_params": ""}
    set_params(make("ours", kind, **{**common, "n_iter": 2}), start).fit(X, lengths)
    impls = ["scaling"] if args.skip_log else ["log", "scaling"]
    libs = ["ours", *[f"hmmlearn-{i}" for i in impls]]
    times = {(c, lib, what): [] for c in ("quiet", "busy") for lib in libs
             for what in ("em", "viterbi")}
    loads = {"quiet": [], "busy": []}
    decoders = {"ours": set_params(make("ours", kind), start)}
    for impl in impls:
        decoders[f"hmmlearn-{impl}"] = set_params(make("hmmlearn", kind, implementation=impl),
                                                  start)
    for model in decoders.values():  # warm-up
        model.predict(X, lengths)
    for _ in range(args.repeats):
        for condition in ("quiet", "busy"):
            with maybe_busy(condition == "busy"):
                for lib in libs:
                    impl = lib.split("-")[1] if "-" in lib else "log"
                    model = (make("ours", kind, **common) if lib == "ours" else
                             make("hmmlearn", kind, implementation=impl, **common))
                    set_params(model, start)
                    times[condition, lib, "em"].append(timed_fit(model, X, lengths) / n_iter)
                    t0 = time.perf_counter()
                    decoders[lib].predict(X, lengths)
                    times[condition, lib, "viterbi"].append(time.perf_counter() - t0)
                loads[condition].append(load_average())
    rows.append({"case": kind, "libs": libs, "loads": loads,
                 **{key: min(v) for key, v in times.items()}})


def contention_table(rows) -> list[str]:
    lines = [
        "| case | step | reference | quiet: ours / ref (ratio) | busy: ours / ref (ratio) | "
        "ours slowed | ref slowed | busy ratio / quiet ratio |",
        "| --- | --- | --- | --- | --- | ---: | ---: | ---: |",
    ]
    for r in rows:
        for what, unit in (("em", "s/iter"), ("viterbi", "s")):
            for ref in r["libs"][1:]:
                q_ours, q_ref = r["quiet", "ours", what], r["quiet", ref, what]
                b_ours, b_ref = r["busy", "ours", what], r["busy", ref, what]
                lines.append(
                    f"| {r['case']} | {'EM' if what == 'em' else 'Viterbi'} ({unit}) | {ref} | "
                    f"{q_ours:.4f} / {q_ref:.4f} ({q_ref / q_ours:.1f}x) | "
                    f"{b_ours:.4f} / {b_ref:.4f} ({b_ref / b_ours:.1f}x) | "
                    f"{b_ours / q_ours:.2f}x | {b_ref / q_ref:.2f}x | "
                    f"{(b_ref / b_ours) / (q_ref / q_ours):.2f} |")
    loads = [f"{r['case']}: quiet {', '.join(r['loads']['quiet'])}; busy "
             f"{', '.join(r['loads']['busy'])}" for r in rows]
    return lines + ["", "1-minute load average after each round: " + "; ".join(loads) + "."]


def accuracy_case(kind, truth, X, lengths, Xtest, Ztest, ltest, rows):
    n_test = len(Xtest)
    true_ll = truth.score(Xtest, ltest) / n_test
    true_acc = accuracy(Ztest, truth.predict(Xtest, ltest))
    result = {"case": kind, "true_ll": true_ll, "true_acc": true_acc}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = make("ours", kind, n_iter=200, random_state=0)
        t0 = time.perf_counter()
        ours.fit(X, lengths)
        result["ours_time"] = time.perf_counter() - t0
        ref = make("hmmlearn", kind, implementation="scaling", n_iter=200, random_state=0)
        t0 = time.perf_counter()
        ref.fit(X, lengths)
        result["ref_time"] = time.perf_counter() - t0
    for name, model in (("ours", ours), ("ref", ref)):
        result[f"{name}_ll"] = model.score(Xtest, ltest) / n_test
        result[f"{name}_acc"] = accuracy(Ztest, model.predict(Xtest, ltest))
        result[f"{name}_iter"] = model.monitor_.iter
    rows.append(result)


def main(args: argparse.Namespace) -> None:
    import numba

    n_seq = 10 if args.quick else 50
    rng = np.random.default_rng(20240611)
    speed_rows, acc_rows = [], []
    for kind in args.cases.split(","):
        truth = true_model(kind, rng)
        X, Z, lengths = draw(truth, n_seq, seed=1000)
        Xtest, Ztest, ltest = draw(truth, 10, seed=5000)
        # shared start: our default initialisation, handed to both libraries
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            init = make("ours", kind, n_iter=0, random_state=1).fit(X, lengths)
        start = params_of(init)
        if args.alternate:
            contention_case(kind, X, lengths, start, args, speed_rows)
        else:
            speed_case(kind, X, lengths, start, args, speed_rows)
        print(f"[{kind}] speed done", file=sys.stderr, flush=True)
        if not args.skip_accuracy:
            accuracy_case(kind, truth, X, lengths, Xtest, Ztest, ltest, acc_rows)
            print(f"[{kind}] accuracy done", file=sys.stderr, flush=True)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores "
        f"(shared; 1-min load average at the end {load:.2f}); threads={args.threads} "
        f"(numba {numba.__version__}, numba threads {numba.get_num_threads()}); "
        f"{n_seq} x {LENGTH} steps; "
        + (f"min of {args.repeats} repeats, each quiet then busy (one spinning process per "
           "core beside)" if args.alternate else
           f"median of {args.repeats} interleaved repeats; "
           f"{'busy: one spinning process per core beside' if args.busy else 'no spinners'}")
        + f"; OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')}, "
        f"NUMBA_THREADING_LAYER={os.environ.get('NUMBA_THREADING_LAYER', 'default')} "
        f"({numba.threading_layer()}).",
        "",
    ]
    if args.alternate:
        lines += contention_table(speed_rows)
    else:
        lines += [
            "| case | latentmodels s/iter | hmmlearn log s/iter | hmmlearn scaling s/iter | "
            "speed-up vs log | speed-up vs scaling | final loglik rel. diff (log / scaling) | "
            "Viterbi ours / hmmlearn (s) | same Viterbi path |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for r in speed_rows:
            t_log = r.get("t_hmmlearn-log", float("nan"))
            t_sc = r["t_hmmlearn-scaling"]
            rel = r["rel"]
            lines.append(
                f"| {r['case']} | {r['t_ours']:.4f} | {t_log:.4f} | {t_sc:.4f} | "
                f"{t_log / r['t_ours']:.1f}x | {t_sc / r['t_ours']:.1f}x | "
                f"{rel.get('log', float('nan')):.1e} / {rel['scaling']:.1e} | "
                f"{r['vit_ours']:.4f} / {r['vit_ref']:.4f} ({r['vit_ref'] / r['vit_ours']:.1f}x) | "
                f"{100 * r['vit_same']:.2f} % |"
            )
    if acc_rows:
        lines += [
            "",
            "Default initialisation (ours: k-means / windowed clustering, random_state=0; "
            "hmmlearn: its defaults, random_state=0), n_iter=200, tol=1e-2; held-out: 10 x "
            f"{LENGTH} new steps from the true model.",
            "",
            "| case | true model loglik/step | ours loglik/step | hmmlearn loglik/step | "
            "true model accuracy | ours accuracy | hmmlearn accuracy | EM iters ours / "
            "hmmlearn | fit time ours / hmmlearn (s) |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for r in acc_rows:
            lines.append(
                f"| {r['case']} | {r['true_ll']:.4f} | {r['ours_ll']:.4f} | {r['ref_ll']:.4f} | "
                f"{r['true_acc']:.3f} | {r['ours_acc']:.3f} | {r['ref_acc']:.3f} | "
                f"{r['ours_iter']} / {r['ref_iter']} | {r['ours_time']:.2f} / "
                f"{r['ref_time']:.2f} |"
            )
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        with open(args.markdown, "a", encoding="utf-8") as handle:
            handle.write(text + "\n\n")


if __name__ == "__main__":
    with maybe_busy(ARGS.busy):
        main(ARGS)
