"""LDA sums its statistics over torch.distributed processes (2 CPU processes, gloo)."""

from __future__ import annotations

import socket

import numpy as np
import pytest
import torch.distributed as dist
import torch.multiprocessing as mp

from latentmodels.lda.model import LDA
from tests.test_lda import planted_corpus


def _model(method: str) -> LDA:
    model = LDA(5, method=method, max_iter=8, tol=0.0, random_state=0, n_jobs=1)
    if method == "vb":
        start = np.random.default_rng(9).gamma(100.0, 0.01, size=(5, 120))

        def fixed_start(counts=None):  # the same starting topics for every layout
            model.components_ = start.copy()

        model._init_lambda = fixed_start
    return model


def _worker(rank: int, port: int, out: str) -> None:
    dist.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2
    )
    try:
        X, _ = planted_corpus()
        half = slice(0, 150) if rank == 0 else slice(150, 300)
        for method in ("vb", "gibbs"):
            model = _model(method).fit(X[half])
            np.savez(f"{out}.{method}.{rank}.npz", components=model.components_,
                     bound=np.asarray(model.bound_))
    finally:
        dist.destroy_process_group()


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory):
    if not dist.is_available():
        pytest.skip("torch.distributed is not available")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    out = str(tmp_path_factory.mktemp("lda_dist") / "rank")
    mp.spawn(_worker, args=(port, out), nprocs=2, join=True)
    return {m: [np.load(f"{out}.{m}.{r}.npz") for r in (0, 1)] for m in ("vb", "gibbs")}


@pytest.mark.slow
def test_two_processes_fit_what_one_process_fits_on_all_documents(two_ranks):
    X, _ = planted_corpus()
    single = _model("vb").fit(X)
    for result in two_ranks["vb"]:
        np.testing.assert_allclose(result["bound"], single.bound_, rtol=1e-9)
        np.testing.assert_allclose(result["components"], single.components_, rtol=1e-8)


@pytest.mark.slow
def test_gibbs_processes_share_one_set_of_topics(two_ranks):
    first, second = two_ranks["gibbs"]
    np.testing.assert_array_equal(first["components"], second["components"])
    X, _ = planted_corpus()
    eta = 0.01
    counted = first["components"].sum() - eta * first["components"].size
    assert abs(counted - X.sum()) < 1e-6 * X.sum()  # topics count the tokens of both halves
