"""LDA side by side: latentmodels (VB batch/online, Gibbs) against scikit-learn, gensim, tomotopy.

All methods run in one process on the same corpora, interleaved round by round, and are
scored by the same functions: document-completion perplexity on held-out documents
(:func:`latentmodels.metrics.topics.document_completion_perplexity`), NPMI coherence of the
top 10 words over the training documents, topic diversity of the top 25 words, and on the
synthetic corpus the recovery of the true topics (mean best-match cosine).

Corpora: ``synthetic`` (K=20, V=5,000, 5,000 train + 1,000 test documents of Poisson(150)
length, alpha 0.1, eta 0.01) and ``20ng20`` / ``20ng50`` (../shared/data 20 Newsgroups,
K=20 / K=50, 10 % of the documents held out).

Peers are optional: install them in a throwaway environment and point ``--peers-path`` at
its site-packages; a missing peer is skipped with a note. Example::

    python3 -m venv /tmp/ldapeers && /tmp/ldapeers/bin/pip install gensim tomotopy
    .venv/bin/python benchmarks/lda_vs_peers.py --threads 2 \\
        --peers-path /tmp/ldapeers/lib/python3.11/site-packages

Contention mode (one CPU-bound process per core beside), latentmodels on its default
(automatic) threads, a short run::

    .venv/bin/python benchmarks/lda_vs_peers.py --corpora synthetic --quick \
        --methods lm-vb,sklearn-batch --repeats 3 --auto-threads --busy
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpora", default="synthetic,20ng20,20ng50")
    parser.add_argument(
        "--methods",
        default="lm-vb,lm-vb-online,lm-gibbs,sklearn-batch,sklearn-online,gensim,tomotopy",
    )
    parser.add_argument("--threads", type=int, default=2, help="threads for every library")
    parser.add_argument("--repeats", type=int, default=1, help="interleaved timing rounds")
    parser.add_argument("--peers-path", default=None, help="site-packages holding the peers")
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--json", default=None, help="write all results here")
    parser.add_argument("--busy", action="store_true",
                        help="run with one CPU-bound process per core beside (contention mode)")
    parser.add_argument("--auto-threads", action="store_true",
                        help="latentmodels on its default n_jobs=None (automatic thread policy)")
    parser.add_argument("--quick", action="store_true",
                        help="synthetic corpus of 1,000 train documents (a run of a minute)")
    return parser.parse_args(argv)


ARGS = parse_args() if __name__ == "__main__" else None
if ARGS is not None:
    # thread counts must be fixed before numpy / BLAS load
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(ARGS.threads)
    os.environ["NUMBA_NUM_THREADS"] = str(ARGS.threads)
    sys.path.insert(0, str(ROOT))
    if ARGS.peers_path:
        sys.path.append(ARGS.peers_path)  # after ours, so our numpy/scipy win

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

from latentmodels.lda.model import LDA  # noqa: E402
from latentmodels.lda.text import TextCorpus  # noqa: E402
from latentmodels.metrics.topics import (  # noqa: E402
    coherence,
    document_completion_perplexity,
    topic_diversity,
)


# -- corpora -----------------------------------------------------------------------------
def synthetic_corpus(seed=0, k=20, v=5000, n_train=5000, n_test=1000, length=150,
                     alpha=0.1, eta=0.01):
    rng = np.random.default_rng(seed)
    beta = rng.dirichlet(np.full(v, eta), size=k)
    theta = rng.dirichlet(np.full(k, alpha), size=n_train + n_test)
    lengths = rng.poisson(length, size=n_train + n_test)
    rows = [rng.multinomial(n, theta[d] @ beta) for d, n in enumerate(lengths)]
    X = sp.csr_matrix(np.asarray(rows, dtype=np.float64))
    return {"name": "synthetic", "k": k, "train": X[:n_train], "test": X[n_train:],
            "reference": X[:n_train], "truth": beta, "alpha": alpha, "vocabulary": None}


def newsgroups_corpus(path, k, seed=0):
    corpus = TextCorpus.from_jsonl(path, text_field="text", min_df=5, max_df=0.5)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(corpus))
    n_test = len(corpus) // 10
    train, test = corpus.subset(np.sort(order[n_test:])), corpus.subset(np.sort(order[:n_test]))
    return {"name": f"20ng{k}", "k": k, "train": train.counts.astype(np.float64),
            "test": test.counts.astype(np.float64), "reference": train, "truth": None,
            "alpha": None, "vocabulary": corpus.vocabulary}


# -- methods: each returns (topic_word (K, V), doc_topic_prior, fit seconds) ------------------
def run_lm(params):
    def run(c, threads):
        n_jobs = None if ARGS is not None and ARGS.auto_threads else threads
        model = LDA(c["k"], n_jobs=n_jobs, random_state=0, **params)
        start = time.perf_counter()
        model.fit(c["train"])
        return model.components_, model.doc_topic_prior_, time.perf_counter() - start
    return run


def run_sklearn(learning_method, max_iter):
    def run(c, threads):
        from sklearn.decomposition import LatentDirichletAllocation

        model = LatentDirichletAllocation(
            c["k"], learning_method=learning_method, max_iter=max_iter, n_jobs=threads,
            random_state=0,
        )
        start = time.perf_counter()
        model.fit(c["train"])
        return model.components_, model.doc_topic_prior_, time.perf_counter() - start
    return run


def run_gensim(c, threads):
    from gensim.models import LdaModel

    X = c["train"]
    docs = [list(zip(X[d].indices.tolist(), X[d].data.astype(int).tolist(), strict=True))
            for d in range(X.shape[0])]
    id2word = {i: str(i) for i in range(X.shape[1])}
    start = time.perf_counter()
    model = LdaModel(docs, num_topics=c["k"], id2word=id2word, passes=10, chunksize=2000,
                     iterations=50, eval_every=None, random_state=0)
    seconds = time.perf_counter() - start
    return model.get_topics(), np.asarray(model.alpha), seconds


def run_tomotopy(c, threads):
    import tomotopy as tp

    X = c["train"]
    model = tp.LDAModel(k=c["k"], alpha=0.1, eta=0.01, seed=0)
    for d in range(X.shape[0]):
        row = X[d]
        words = np.repeat(row.indices, row.data.astype(np.int64))
        if len(words):
            model.add_doc([str(w) for w in words])
    start = time.perf_counter()
    model.train(200, workers=threads)
    seconds = time.perf_counter() - start  # training only; add_doc excluded
    phi = np.zeros((c["k"], X.shape[1]))
    ids = np.asarray([int(w) for w in model.used_vocabs])
    for topic in range(c["k"]):
        phi[topic, ids] = model.get_topic_word_dist(topic)
    return phi + 1e-12, np.asarray(model.alpha), seconds


METHODS = {
    "lm-vb": ("latentmodels VB batch", run_lm({"method": "vb"})),
    "lm-vb-online": ("latentmodels VB online",
                     run_lm({"method": "vb", "learning_method": "online"})),
    "lm-gibbs": ("latentmodels Gibbs, 200 sweeps (default)", run_lm({"method": "gibbs"})),
    "sklearn-batch": ("scikit-learn batch, 20 it.", run_sklearn("batch", 20)),
    "sklearn-online": ("scikit-learn online, 10 it.", run_sklearn("online", 10)),
    "gensim": ("gensim LdaModel, 10 passes", run_gensim),
    "tomotopy": ("tomotopy LDAModel, 200 it.", run_tomotopy),
}
PEER_MODULE = {"sklearn-batch": "sklearn", "sklearn-online": "sklearn", "gensim": "gensim",
               "tomotopy": "tomotopy"}


def best_match_cosine(estimate, truth):
    a = estimate / np.linalg.norm(estimate, axis=1, keepdims=True)
    b = truth / np.linalg.norm(truth, axis=1, keepdims=True)
    return float((b @ a.T).max(axis=1).mean())


def score(c, phi, alpha):
    phi = np.asarray(phi, dtype=np.float64)
    phi = phi / phi.sum(axis=1, keepdims=True)
    result = document_completion_perplexity(phi, alpha, c["test"], random_state=0)
    top10 = np.argsort(-phi, axis=1)[:, :10].tolist()
    top25 = np.argsort(-phi, axis=1)[:, :25].tolist()
    reference = c["reference"]
    out = {
        "perplexity": result["perplexity"],
        "npmi": float(np.mean(coherence(top10, reference, measure="npmi"))),
        "diversity": topic_diversity(top25),
    }
    if c["truth"] is not None:
        out["recovery"] = best_match_cosine(phi, c["truth"])
    if c["vocabulary"] is not None:
        out["example_topic"] = " ".join(c["vocabulary"].words[i] for i in top10[0][:8])
    return out


def main(args):
    import importlib.util

    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    available = []
    for m in methods:
        module = PEER_MODULE.get(m)
        if module and importlib.util.find_spec(module) is None:
            print(f"note: {m} skipped ({module} is not installed)", flush=True)
            continue
        available.append(m)
    # compile (or load from numba's disk cache) our kernels before any timing
    # Compile every kernel before timing, the sparse Gibbs sampler (many topics) included.
    for warm in (synthetic_corpus(k=3, v=50, n_train=40, n_test=10, length=20),
                 synthetic_corpus(k=50, v=2000, n_train=400, n_test=10, length=100)):
        for m in available:
            if m.startswith("lm-"):
                METHODS[m][1](warm, args.threads)
    load = os.getloadavg()
    print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
          f"threads {args.threads}{' (latentmodels: automatic)' if args.auto_threads else ''}; "
          f"{'busy: one spinning process per core beside' if args.busy else 'no spinners'}; "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')}", flush=True)
    results = []
    for name in [c.strip() for c in args.corpora.split(",") if c.strip()]:
        if name == "synthetic":
            c = synthetic_corpus(n_train=1000, n_test=200) if args.quick else synthetic_corpus()
        elif name in ("20ng20", "20ng50"):
            c = newsgroups_corpus(Path(args.data) / "20newsgroups_train.jsonl.gz", int(name[4:]))
        else:
            raise SystemExit(f"unknown corpus {name!r}")
        print(f"\n## {name}: {c['train'].shape[0]} train / {c['test'].shape[0]} test docs, "
              f"V={c['train'].shape[1]}, K={c['k']}, {int(c['train'].sum())} train tokens",
              flush=True)
        if c["truth"] is not None:
            true = document_completion_perplexity(c["truth"], c["alpha"], c["test"])
            print(f"true topics: perplexity {true['perplexity']:.1f}", flush=True)
            results.append({"corpus": name, "method": "true-topics", **true})
        times = {m: [] for m in available}
        scores = {}
        for round_ in range(args.repeats):
            # interleaved: every method once per round, order rotated between rounds
            order = available[round_ % len(available):] + available[: round_ % len(available)]
            for m in order:
                phi, alpha, seconds = METHODS[m][1](c, args.threads)
                times[m].append(seconds)
                if m not in scores:
                    scores[m] = score(c, phi, alpha)
                s = scores[m]
                print(f"{m:15s} round {round_}: {seconds:7.2f} s  perplexity "
                      f"{s['perplexity']:8.1f}  npmi {s['npmi']:.3f}  div {s['diversity']:.2f}"
                      + (f"  recovery {s['recovery']:.3f}" if "recovery" in s else ""),
                      flush=True)
        for m in available:
            results.append({"corpus": name, "method": m, "label": METHODS[m][0],
                            "seconds": float(np.median(times[m])), "all_seconds": times[m],
                            **scores[m]})
    load = os.getloadavg()
    print(f"\nload average at end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print_table(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


def print_table(results):
    print("\n| corpus | method | fit s | perplexity | NPMI | diversity | recovery |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        if r["method"] == "true-topics":
            print(f"| {r['corpus']} | true topics | | {r['perplexity']:.1f} | | | 1.000 |")
            continue
        rec = f"{r['recovery']:.3f}" if "recovery" in r else ""
        print(f"| {r['corpus']} | {r['label']} | {r['seconds']:.2f} | {r['perplexity']:.1f} | "
              f"{r['npmi']:.3f} | {r['diversity']:.2f} | {rec} |")


if __name__ == "__main__":
    from _contention import maybe_busy  # benchmarks/ is on sys.path

    with maybe_busy(ARGS.busy):
        main(ARGS)
