"""E-step statistics are summed over torch.distributed processes (2 CPU processes, gloo)."""

from __future__ import annotations

import socket
import warnings

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from latentmodels.hmm import GaussianHMM


def _data():
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(m, 1.0, (100, 2)) for m in (0, 4, 0, 4)])
    return X, [100, 100, 100, 100]


def _start(X, lengths):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        init = GaussianHMM(2, n_iter=0, random_state=0).fit(X, lengths)
    model = GaussianHMM(2, n_iter=5, tol=-np.inf, init_params="")
    model.startprob_, model.transmat_ = init.startprob_.copy(), init.transmat_.copy()
    model.means_, model.covars_ = init.means_.copy(), init._covars_.copy()
    return model


def _worker(rank: int, port: int, out: str) -> None:
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                            world_size=2)
    try:
        X, lengths = _data()
        model = _start(X, lengths)
        half = slice(0, 200) if rank == 0 else slice(200, 400)
        model.fit(X[half], [100, 100])
        if rank == 0:
            np.savez(out, means=model.means_, history=np.array(model.monitor_.history))
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_two_processes_learn_what_one_process_learns_on_all_data(tmp_path):
    if not dist.is_available():
        pytest.skip("torch.distributed is not available")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    out = str(tmp_path / "rank0.npz")
    mp.spawn(_worker, args=(port, out), nprocs=2, join=True)
    X, lengths = _data()
    single = _start(X, lengths).fit(X, lengths)
    result = np.load(out)
    np.testing.assert_allclose(result["history"], single.monitor_.history, rtol=1e-10)
    np.testing.assert_allclose(result["means"], single.means_, rtol=1e-10)
    assert torch.get_num_threads() >= 1
