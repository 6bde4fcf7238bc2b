"""The bad-input matrix: every public estimator x method x kind of bad input, each case run
in a worker process under a time limit and classified.

    python scripts/bad_input_matrix.py                      # the whole matrix
    python scripts/bad_input_matrix.py --sample 80 --seed 1 # a random subset
    python scripts/bad_input_matrix.py --only VAE --timeout 30

A case is *clean* when it raises ValueError, TypeError, NotFittedError or ModelFileError
from latentmodels' (or scikit-learn's parameter) checks with a message naming the argument;
*unclear* when the type is right but the message names no argument; *crash* for any other
exception, or one raised deep inside torch/numpy/scipy/numba; *hang* past the time limit;
*silent* when the call returned although the input was bad, or returned NaN/inf or a wrong
shape. The counts and every case that is not clean are printed; the exit status is 1 when
any is not clean.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import select
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CLEAN_TYPES = ("ValueError", "TypeError", "NotFittedError", "ModelFileError",
               "InvalidParameterError", "TrainingDivergedError")
#: Frames from these packages may raise a clean error (they validate on our behalf).
OWN_CODE = (f"{os.sep}latentmodels{os.sep}", f"{os.sep}sklearn{os.sep}")

DEEP = ("Autoencoder", "DenoisingAutoencoder", "VAE", "ConditionalVAE", "GAN", "ConditionalGAN")
HMMS = ("GaussianHMM", "GMMHMM", "CategoricalHMM", "MultinomialHMM", "PoissonHMM")
LINEAR = ("PCA", "ProbabilisticPCA", "FactorAnalysis")
ESTIMATORS = (*DEEP, *HMMS, "LDA", *LINEAR)
METHODS = ("fit", "transform", "inverse_transform", "sample", "score_samples", "predict",
           "score", "partial_fit")
#: Size-like hyper-parameters also tried with a huge value (others run longer, not wrong).
SIZES = ("latent_dim", "n_components", "n_mix")
#: The worker's files live in a folder whose name starts so: a message quoting it names the path.
PATH_MARK = "bim-"
#: For save and load, an OSError naming the path is the clear answer (a missing file...).
PATH_ERRORS = ("FileNotFoundError", "IsADirectoryError", "NotADirectoryError",
               "PermissionError", "FileExistsError")
#: Not tried: no value of these is bad input (a negative ``tol`` runs every iteration).
FIXED = {"random_state", "verbose", "checkpoint_dir", "checkpoint_every", "device", "n_jobs",
         "tol", "batch_size"}
#: Accepted cases, each with its reason: no error is the right answer for these.
ACCEPTED = {
    # a prior mean may be any finite number (NaN and inf are still refused)
    ("GaussianHMM", "param:means_prior=-1"), ("GMMHMM", "param:means_prior=-1"),
    # symbols given as a 1-D array (one per row) are accepted on purpose: hmmlearn's symbol
    # columns and scikit-learn's one_d_array tag
    ("CategoricalHMM", "one_d"),
}


@dataclass(frozen=True)
class Case:
    """One call: ``estimator.method`` on an input of ``kind``; the error should name one of
    ``names``. ``may_pass`` cases are fine when they return a finite, well-shaped result."""

    estimator: str
    method: str
    kind: str
    names: tuple[str, ...]
    may_pass: bool = False

    @property
    def label(self) -> str:
        return f"{self.estimator}.{self.method}[{self.kind}]"


# ------------------------------------------------------------------------- the matrix
X_KINDS = ("nan", "inf", "complex", "object", "strings", "none", "zero_rows", "zero_features",
           "overflow_float32", "three_d", "one_d", "wrong_features", "huge_values")


def data_kind(estimator: str) -> str:
    if estimator in ("CategoricalHMM",):
        return "symbols"
    if estimator in ("MultinomialHMM", "PoissonHMM", "LDA"):
        return "counts"
    if estimator in ("GaussianHMM", "GMMHMM"):
        return "series"
    return "dense"


def build_cases() -> list[Case]:
    """Every case, in a fixed order (workers rebuild the same list)."""
    import numpy as np  # noqa: F401  (the workers import the library anyway)

    import latentmodels

    cases: list[Case] = []
    for name in ESTIMATORS:
        cls = getattr(latentmodels, name)
        methods = [m for m in METHODS if hasattr(cls, m)]
        for method in methods:
            z_input = method == "inverse_transform"
            for kind in X_KINDS if method != "sample" else ():
                if kind == "wrong_features" and method in ("fit",):
                    continue
                if kind == "huge_values" and (z_input or data_kind(name) == "dense"):
                    continue  # huge codes decode to huge data, a fine answer
                # Fine answers: images (deep and linear models take samples of any shape),
                # large finite values for float64 models, no codes decoded to no data.
                may_pass = (
                    kind == "three_d" and data_kind(name) == "dense" and not z_input
                    or kind == "huge_values"
                    or kind == "overflow_float32" and name not in DEEP
                    or kind == "zero_rows" and z_input
                    or (name, kind) in ACCEPTED and not z_input
                )
                arg = "Z" if z_input else "X"
                cases.append(Case(name, method, kind, (arg,), may_pass=may_pass))
            if method not in ("fit", "partial_fit"):
                cases.append(Case(name, method, "not_fitted", ()))
            if name in HMMS and method in ("fit", "predict", "score_samples", "score",
                                           "partial_fit"):
                for kind in ("lengths_short", "lengths_negative", "lengths_float",
                             "lengths_uint64_overflow", "lengths_int64_wrap", "lengths_2d"):
                    cases.append(Case(name, method, kind, ("lengths",)))
        if hasattr(cls, "sample"):
            for kind in ("n_negative", "n_float", "n_huge", "n_string", "n_nan"):
                cases.append(Case(name, "sample", kind, ("n_samples", "n")))
        params = cls().get_params(deep=False)
        for param, default in sorted(params.items()):
            if param in FIXED or isinstance(default, bool):
                continue
            if isinstance(default, (int, float)) or default is None and param in SIZES:
                cases.append(Case(name, "fit", f"param:{param}=-1", (param,),
                                  may_pass=(name, f"param:{param}=-1") in ACCEPTED))
                if isinstance(default, float):
                    cases.append(Case(name, "fit", f"param:{param}=nan", (param,)))
                    cases.append(Case(name, "fit", f"param:{param}=inf", (param,)))
                if param in SIZES:
                    cases.append(Case(name, "fit", f"param:{param}=huge", (param,)))
            if isinstance(default, str):
                cases.append(Case(name, "fit", f"param:{param}=bogus", (param,)))
        for kind in ("missing_file", "directory", "text_file", "empty_file", "truncated",
                     "pickle", "other_class"):
            cases.append(Case(name, "load", kind, ("path", "file", PATH_MARK)))
        for kind in ("missing_folder", "existing_directory", "not_fitted"):
            cases.append(Case(name, "save", kind, ("path", "folder", "directory", PATH_MARK),
                              may_pass=kind == "missing_folder"))
    return cases


# -------------------------------------------------------------------- the worker side
def good_data(estimator: str, rng: Any) -> tuple[Any, Any]:
    """Small valid training data and labels (or None)."""
    import numpy as np

    kind = data_kind(estimator)
    if kind == "symbols":
        return rng.integers(0, 3, (40, 1)), None
    if kind == "counts":
        return rng.poisson(2.0, (30, 6)), None
    if kind == "series":
        return np.r_[rng.normal(0, 1, (20, 2)), rng.normal(4, 1, (20, 2))], None
    y = np.arange(24) % 2
    return rng.random((24, 6)).astype(np.float32), y


def make(estimator: str, **params: Any) -> Any:
    import latentmodels

    cls = getattr(latentmodels, estimator)
    settings: dict[str, Any] = {"random_state": 0}
    if estimator in DEEP:
        settings.update(latent_dim=2, hidden_dims=(8,), epochs=1, batch_size=8, verbose=0)
        if "GAN" in estimator:
            settings.update(data_range=None)
    elif estimator in HMMS:
        settings.update(n_components=2, n_iter=5)
    elif estimator == "LDA":
        settings.update(n_components=2, method="vb", max_iter=3, n_jobs=1)
    else:
        settings.update(n_components=2)
    settings.update(params)
    return cls(**settings)


def bad_array(kind: str, good: Any, width: int) -> Any:
    import numpy as np

    rows = good[:8]
    if kind == "nan":
        out = np.array(rows, dtype=np.float64)
        out[1, 0] = np.nan
        return out
    if kind == "inf":
        out = np.array(rows, dtype=np.float64)
        out[1, 0] = np.inf
        return out
    if kind == "complex":
        return np.array(rows, dtype=np.complex128) + 1j
    if kind == "object":
        out = np.array(rows, dtype=object)
        out[0, 0] = "x"
        return out
    if kind == "strings":
        return np.full(rows.shape, "a")
    if kind == "none":
        return None
    if kind == "zero_rows":
        return np.zeros((0, width))
    if kind == "zero_features":
        return np.zeros((8, 0))
    if kind == "overflow_float32":
        out = np.array(rows, dtype=np.float64)
        out[1, 0] = 1e300
        return out
    if kind == "huge_values":
        out = np.array(rows, dtype=np.float64)
        out[1, 0] = 1e20
        return out
    if kind == "three_d":
        return np.stack([rows, rows], axis=-1) if rows.ndim == 2 else rows
    if kind == "one_d":
        return np.asarray(rows).ravel()
    if kind == "wrong_features":
        return np.ones((8, width + 3))
    raise AssertionError(kind)


LENGTHS = {
    "lengths_short": lambda n: [n - 1],
    "lengths_negative": lambda n: [n + 2, -2],
    "lengths_float": lambda n: [n / 2 - 0.5, n / 2 + 0.5],
    "lengths_uint64_overflow": lambda n: __import__("numpy").array(
        [2**64 - 1, n + 1], dtype="uint64"),
    "lengths_int64_wrap": lambda n: __import__("numpy").array(
        [2**62, 2**62, 2**62, 2**62 + n], dtype="int64"),
    "lengths_2d": lambda n: [[n]],
}


class Worker:
    """Runs cases on request; fitted models are made once and reused."""

    def __init__(self) -> None:
        import numpy as np

        self.np = np
        self.fitted: dict[str, Any] = {}
        self.folder = Path(os.environ.get("BAD_INPUT_TMP") or "/tmp") / f"{PATH_MARK}{os.getpid()}"
        self.folder.mkdir(parents=True, exist_ok=True)

    def data(self, estimator: str) -> tuple[Any, Any]:
        return good_data(estimator, self.np.random.default_rng(0))

    def fit_good(self, estimator: str) -> Any:
        if estimator not in self.fitted:
            X, y = self.data(estimator)
            model = make(estimator)
            self.fitted[estimator] = model.fit(X, y) if y is not None and "Conditional" in \
                estimator else model.fit(X)
        return self.fitted[estimator]

    def call(self, case: Case) -> tuple[Any, Any]:
        """(result, expected shape or None) of the case's call."""
        np = self.np
        name, method, kind = case.estimator, case.method, case.kind
        X, y = self.data(name)
        width = X.shape[1]
        labelled = "Conditional" in name
        if method == "load":
            return self.load_case(name, kind), None
        if method == "save":
            return self.save_case(name, kind), None
        if kind.startswith("param:"):
            param, value = kind[len("param:"):].split("=")
            default = make(name).get_params(deep=False)[param]
            number = {"-1": -1, "nan": float("nan"), "inf": float("inf"),
                      "huge": 10**12, "bogus": "bogus"}[value]
            if isinstance(default, float) and value == "-1":
                number = -1.0
            model = make(name, **{param: number})
            return (model.fit(X, y) if labelled else model.fit(X)), None
        model = make(name) if kind == "not_fitted" or method in ("fit",) else self.fit_good(name)
        if kind.startswith("n_"):
            n = {"n_negative": -1, "n_float": 2.5, "n_huge": 10**12, "n_string": "3",
                 "n_nan": float("nan")}[kind]
            return model.sample(n), None
        if kind == "not_fitted":
            arg = np.zeros((3, 2)) if method == "inverse_transform" else X[:8]
            if method == "sample":
                return model.sample(3), None
            return getattr(model, method)(arg), None
        if kind.startswith("lengths_"):
            lengths = LENGTHS[kind](len(X))
            return getattr(model, method)(X, lengths), None
        if method == "inverse_transform":
            code = model.transform(X[:8])
            code_width = code.shape[1] if code.ndim == 2 else 2
            return getattr(model, method)(bad_array(kind, np.zeros((8, code_width)),
                                                    code_width)), None
        bad = bad_array(kind, X, width)
        if method == "fit":
            return (model.fit(bad, y[:len(bad)] if labelled and bad is not None
                              and hasattr(bad, "__len__") else None)
                    if labelled else model.fit(bad)), None
        if labelled and method in ("transform", "score_samples", "score"):
            return getattr(model, method)(bad, y[:8]), None
        return getattr(model, method)(bad), None

    def load_case(self, name: str, kind: str) -> Any:
        import pickle

        import latentmodels

        cls = getattr(latentmodels, name)
        path = self.folder / f"{name}-{kind}.lm"
        if kind == "missing_file":
            path = self.folder / "no-such-file.lm"
        elif kind == "directory":
            path = self.folder
        elif kind == "text_file":
            path.write_text("hello")
        elif kind == "empty_file":
            path.write_bytes(b"")
        elif kind == "truncated":
            self.fit_good(name).save(path)
            path.write_bytes(path.read_bytes()[:-40])
        elif kind == "pickle":
            path.write_bytes(pickle.dumps({"a": 1}))
        elif kind == "other_class":
            other = "PCA" if name != "PCA" else "FactorAnalysis"
            self.fit_good(other).save(path)
        return cls.load(path)

    def save_case(self, name: str, kind: str) -> Any:
        if kind == "not_fitted":
            return make(name).save(self.folder / f"{name}-unfitted.lm")
        model = self.fit_good(name)
        if kind == "missing_folder":
            return model.save(self.folder / "missing" / name / "m.lm")
        return model.save(self.folder)

    def run(self, case: Case) -> dict[str, Any]:
        import warnings

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result, _ = self.call(case)
        except BaseException as exc:  # noqa: BLE001  (classifying is the point)
            frames = traceback.extract_tb(exc.__traceback__)
            where = frames[-1].filename if frames else ""
            return {"outcome": "raised", "type": type(exc).__name__,
                    "message": str(exc)[:400], "where": where}
        return {"outcome": "returned", "finite": finite(result), "summary": summary(result)}


def finite(result: Any) -> bool:
    import numpy as np

    try:
        values = result if not isinstance(result, tuple) else result[0]
        array = np.asarray(values)
        return array.dtype.kind not in "fc" or bool(np.isfinite(array).all())
    except Exception:  # noqa: BLE001
        return True


def summary(result: Any) -> str:
    shape = getattr(result, "shape", None)
    return f"{type(result).__name__}{'' if shape is None else list(shape)}"


def worker_main() -> None:
    results = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # stray prints go to stderr, not into the protocol
    cases = build_cases()
    worker = Worker()
    results.write("ready\n")
    for line in sys.stdin:
        index = int(line)
        results.write(json.dumps({"index": index, **worker.run(cases[index])}) + "\n")


# -------------------------------------------------------------------- the parent side
def classify(case: Case, report: dict[str, Any]) -> tuple[str, str]:
    """(class, detail) of one case's report."""
    if report["outcome"] == "hang":
        return "hang", "no answer within the time limit"
    if report["outcome"] == "returned":
        if not report["finite"]:
            return "silent", f"returned non-finite {report['summary']}"
        if case.may_pass:
            return "clean", "accepted"
        return "silent", f"accepted the bad input, returned {report['summary']}"
    kind, message, where = report["type"], report["message"], report["where"]
    message = " ".join(message.split())[:200]
    if case.method in ("save", "load") and kind in PATH_ERRORS:
        where = OWN_CODE[0]  # raised by the file system on the path we were given
    if kind not in CLEAN_TYPES + PATH_ERRORS:
        return "crash", f"{kind}: {message}"
    if not any(part in where for part in OWN_CODE):
        return "crash", f"{kind} from {where}: {message}"
    if kind == "NotFittedError" or case.kind == "not_fitted" and "fit" in message:
        return "clean", message
    if case.names and not any(re.search(rf"(?<![A-Za-z_]){re.escape(n)}(?![A-Za-z])",
                                        message, re.IGNORECASE) for n in case.names):
        return "unclear", f"{kind}: {message}"
    return "clean", message


def start_worker(timeout: float) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}
    process = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "--worker"], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
        start_new_session=True,
    )
    if read_line(process, max(timeout, 120.0)) != "ready":
        process.kill()
        raise RuntimeError("the worker did not start")
    return process


def read_line(process: subprocess.Popen, timeout: float) -> str | None:
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    if not ready:
        return None
    line = process.stdout.readline()
    return line.strip() if line else None


def stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, 9)
    except ProcessLookupError:
        pass
    process.wait()


def run_cases(cases: list[Case], indices: list[int], timeout: float) -> dict[int, dict]:
    """Each case's report, run in a worker that is replaced after a hang or a death."""
    reports: dict[int, dict] = {}
    process = start_worker(timeout)
    try:
        for index in indices:
            process.stdin.write(f"{index}\n")
            process.stdin.flush()
            line = read_line(process, timeout)
            if line is None:
                outcome = "hang" if process.poll() is None else "died"
                reports[index] = ({"outcome": "hang"} if outcome == "hang" else
                                  {"outcome": "raised", "type": "process died",
                                   "message": f"exit status {process.returncode}",
                                   "where": ""})
                stop(process)
                process = start_worker(timeout)
                continue
            reports[index] = json.loads(line)
    finally:
        stop(process)
    return reports


def main(argv: list[str] | None = None) -> dict[str, int]:
    """Run the matrix (or a sample) and print the counts and every case that is not clean;
    returns the counts."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", type=int, default=None, help="run N random cases")
    parser.add_argument("--seed", type=int, default=0, help="seed of --sample")
    parser.add_argument("--only", default=None, help="only this estimator")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds a case may take")
    parser.add_argument("--json", default=None, help="also write every case's raw report here")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker_main()
        return {}
    cases = build_cases()
    indices = [i for i, c in enumerate(cases) if args.only in (None, c.estimator)]
    if args.sample is not None:
        indices = sorted(random.Random(args.seed).sample(indices, min(args.sample,
                                                                       len(indices))))
    started = time.perf_counter()
    reports = run_cases(cases, indices, args.timeout)
    counts = {"clean": 0, "unclear": 0, "crash": 0, "hang": 0, "silent": 0}
    bad = []
    for index in indices:
        verdict, detail = classify(cases[index], reports[index])
        counts[verdict] += 1
        if verdict != "clean":
            bad.append(f"{verdict:8s} {cases[index].label}: {detail}")
    for line in bad:
        print(line)
    if args.json:
        Path(args.json).write_text(json.dumps(
            [{"case": cases[i].label, **reports[i]} for i in indices], indent=1))
    total = sum(counts.values())
    print(f"{total} cases in {time.perf_counter() - started:.0f} s: " +
          ", ".join(f"{v} {k}" for k, v in counts.items()))
    return counts


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    outcome = main()
    sys.exit(1 if outcome and sum(outcome.values()) != outcome["clean"] else 0)
