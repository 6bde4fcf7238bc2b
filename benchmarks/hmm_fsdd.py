"""Spoken-digit recognition on FSDD MFCCs: one HMM per digit, classify by likelihood.

Each digit gets a left-to-right-initialised GaussianHMM (or GMMHMM) trained on its
recordings; a test recording is labelled with the digit whose model scores it highest.
Two splits: leave-one-speaker-out (6 folds: the speaker is never heard in training) and
recording-held-out (recordings 40-49 of every speaker are the test set).

    python benchmarks/hmm_fsdd.py                       # GaussianHMM, 6 states, diag
    python benchmarks/hmm_fsdd.py --model gmm --n-mix 2 --states 5
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np

from latentmodels.hmm import GMMHMM, GaussianHMM

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "fsdd_mfcc_train.npz"


def load(path: Path, cmn: bool):
    data = np.load(path, allow_pickle=False)
    offsets = np.concatenate([[0], np.cumsum(data["lengths"])])
    seqs = [data["mfcc"][offsets[i] : offsets[i + 1]].astype(np.float64)
            for i in range(len(data["lengths"]))]
    if cmn:  # cepstral mean normalisation: removes channel/speaker offsets
        seqs = [s - s.mean(axis=0) for s in seqs]
    return seqs, data["labels"], data["speakers"], data["recording_index"]


def make_model(args, seed: int):
    # left-to-right start: each state mostly stays, else moves on (EM keeps the zeros)
    K = args.states
    trans = np.zeros((K, K))
    for k in range(K):
        trans[k, k] = 0.6
        trans[k, min(k + 1, K - 1)] += 0.4
    start = np.zeros(K)
    start[0] = 1.0
    common = {"n_components": K, "n_iter": args.n_iter, "tol": 1e-3, "random_state": seed,
              "covariance_type": args.covariance_type}
    if args.model == "gmm":
        model = GMMHMM(n_mix=args.n_mix, init_params="mcw", **common)
    else:
        model = GaussianHMM(init_params="mc", **common)
    model.startprob_ = start
    model.transmat_ = trans
    return model


def classify(args, seqs, labels, train_idx, test_idx) -> float:
    models = []
    for digit in range(10):
        chosen = [seqs[i] for i in train_idx if labels[i] == digit]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            models.append(make_model(args, seed=digit).fit(chosen))
    test = [seqs[i] for i in test_idx]
    scores = np.column_stack([m.score_sequences(test) for m in models])
    return float(np.mean(scores.argmax(axis=1) == labels[test_idx]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--model", choices=("gaussian", "gmm"), default="gaussian")
    parser.add_argument("--states", type=int, default=6)
    parser.add_argument("--n-mix", type=int, default=2)
    parser.add_argument("--covariance-type", default="diag")
    parser.add_argument("--n-iter", type=int, default=30)
    parser.add_argument("--no-cmn", action="store_true", help="keep raw MFCCs")
    parser.add_argument("--markdown", default=None, help="append the table to this file")
    args = parser.parse_args()
    if not args.data.is_file():
        raise SystemExit(f"FSDD features not found at {args.data}")
    seqs, labels, speakers, recording = load(args.data, cmn=not args.no_cmn)
    t0 = time.perf_counter()
    rows = []
    folds = []
    for speaker in np.unique(speakers):
        test = np.flatnonzero(speakers == speaker)
        train = np.flatnonzero(speakers != speaker)
        acc = classify(args, seqs, labels, train, test)
        folds.append(acc)
        rows.append(f"| speaker held out: {speaker} | {len(train)} | {len(test)} | {acc:.3f} |")
    test = np.flatnonzero(recording >= 40)
    train = np.flatnonzero(recording < 40)
    rec_acc = classify(args, seqs, labels, train, test)
    elapsed = time.perf_counter() - t0
    name = (f"GMMHMM(n_mix={args.n_mix})" if args.model == "gmm" else "GaussianHMM")
    lines = [
        f"{name}, {args.states} states, covariance {args.covariance_type}, "
        f"{'raw MFCC' if args.no_cmn else 'MFCC with per-recording mean removed'}, "
        f"n_iter={args.n_iter}; total time {elapsed:.1f} s.",
        "",
        "| split | train recordings | test recordings | accuracy |",
        "| --- | --- | --- | --- |",
        *rows,
        f"| **leave-one-speaker-out, mean of {len(folds)} folds** | | | "
        f"**{np.mean(folds):.3f}** |",
        f"| recordings 40-49 held out (all speakers) | {len(train)} | {len(test)} | "
        f"**{rec_acc:.3f}** |",
    ]
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        with open(args.markdown, "a", encoding="utf-8") as handle:
            handle.write(text + "\n\n")


if __name__ == "__main__":
    main()
