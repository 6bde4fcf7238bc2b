"""E-step statistics are summed over torch.distributed processes (2 CPU processes, gloo)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

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


TORCHRUN_SCRIPT = textwrap.dedent(
    """
    import os, sys, warnings
    import numpy as np
    import torch.distributed as dist
    from tests.test_hmm_distributed import _data, _start

    assert not dist.is_initialized()  # nobody but the HMM creates the group
    X, lengths = _data()
    rank = int(os.environ["RANK"])
    half = slice(0, 200) if rank == 0 else slice(200, 400)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = _start(X, lengths).fit(X[half], [100, 100])
        from latentmodels.hmm import GaussianHMM

        # default initialisation too: rank 0's start is broadcast, so the ranks agree
        own = GaussianHMM(2, n_iter=5, random_state=0).fit(X[half], [100, 100])
    assert dist.is_initialized() and dist.get_world_size() == 2
    np.savez(os.path.join(sys.argv[1], f"rank{rank}.npz"), means=model.means_,
             covars=model._covars_, transmat=model.transmat_,
             history=np.array(model.monitor_.history), own_means=own.means_,
             own_transmat=own.transmat_)
    """
)


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="torchrun with gloo on Linux/macOS")
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_under_torchrun_the_hmm_joins_the_group_itself_and_matches_one_process(tmp_path):
    (tmp_path / "fit.py").write_text(TORCHRUN_SCRIPT)
    torchrun = Path(sys.executable).with_name("torchrun")
    command = (
        [str(torchrun)] if torchrun.exists() else [sys.executable, "-m", "torch.distributed.run"]
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1",
           "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    result = subprocess.run(
        [*command, "--standalone", "--nproc_per_node=2", str(tmp_path / "fit.py"),
         str(tmp_path)],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    ranks = [np.load(tmp_path / f"rank{r}.npz") for r in (0, 1)]
    for key in ranks[0].files:
        np.testing.assert_array_equal(ranks[0][key], ranks[1][key], err_msg=key)
    X, lengths = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        single = _start(X, lengths).fit(X, lengths)
    np.testing.assert_allclose(ranks[0]["history"], single.monitor_.history, rtol=1e-10)
    np.testing.assert_allclose(ranks[0]["means"], single.means_, rtol=1e-10)
    np.testing.assert_allclose(ranks[0]["transmat"], single.transmat_, rtol=1e-10)
