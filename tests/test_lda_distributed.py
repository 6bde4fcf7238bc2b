"""LDA under torchrun: each process passes its own documents and LDA joins the process
group itself (2 CPU processes, gloo); the ranks end with identical topics, and batch VB
ends where one process fitting all documents ends."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch.distributed as dist

from latentmodels.lda.model import LDA
from tests.test_lda import planted_corpus

ROOT = Path(__file__).resolve().parents[1]

COMMON = textwrap.dedent(
    """
    import numpy as np
    from latentmodels.lda.model import LDA


    def make_model(method):
        model = LDA(5, method=method, max_iter=8, tol=0.0, random_state=0, n_jobs=1)
        if method == "vb":
            start = np.random.default_rng(9).gamma(100.0, 0.01, size=(5, 120))

            def fixed_start(counts=None):  # the same starting topics for every layout
                model.components_ = start.copy()

            model._init_lambda = fixed_start
        return model
    """
)

SCRIPT = COMMON + textwrap.dedent(
    """
    import os, sys
    import torch.distributed as dist
    from tests.test_lda import planted_corpus

    assert not dist.is_initialized()  # nobody but LDA creates the group
    X, _ = planted_corpus()
    rank = int(os.environ["RANK"])
    half = slice(0, 150) if rank == 0 else slice(150, 300)
    for method in ("vb", "gibbs"):
        model = make_model(method).fit(X[half])
        assert dist.is_initialized() and dist.get_world_size() == 2
        np.savez(os.path.join(sys.argv[1], f"{method}.{dist.get_rank()}.npz"),
                 components=model.components_, bound=np.asarray(model.bound_),
                 alpha=model.doc_topic_prior_)
    """
)


def make_model(method: str) -> LDA:
    namespace: dict = {}
    exec(COMMON, namespace)  # the very construction the ranks use
    return namespace["make_model"](method)


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory):
    if not dist.is_available():
        pytest.skip("torch.distributed is not available")
    out = tmp_path_factory.mktemp("lda_dist")
    (out / "fit.py").write_text(SCRIPT)
    torchrun = Path(sys.executable).with_name("torchrun")
    command = (
        [str(torchrun)] if torchrun.exists() else [sys.executable, "-m", "torch.distributed.run"]
    )
    env = {
        **os.environ, "OMP_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)
    }
    result = subprocess.run(
        [*command, "--standalone", "--nproc_per_node=2", str(out / "fit.py"), str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return {m: [np.load(out / f"{m}.{r}.npz") for r in (0, 1)] for m in ("vb", "gibbs")}


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="torchrun with gloo on Linux/macOS")
def test_two_processes_fit_what_one_process_fits_on_all_documents(two_ranks):
    X, _ = planted_corpus()
    single = make_model("vb").fit(X)
    first, second = two_ranks["vb"]
    for key in ("components", "bound", "alpha"):
        np.testing.assert_array_equal(first[key], second[key], err_msg=key)
    np.testing.assert_allclose(first["bound"], single.bound_, rtol=1e-10)
    np.testing.assert_allclose(first["components"], single.components_, rtol=1e-10)


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="torchrun with gloo on Linux/macOS")
def test_gibbs_processes_share_one_set_of_topics(two_ranks):
    first, second = two_ranks["gibbs"]
    for key in ("components", "bound", "alpha"):
        np.testing.assert_array_equal(first[key], second[key], err_msg=key)
    X, _ = planted_corpus()
    eta = 0.01
    counted = first["components"].sum() - eta * first["components"].size
    assert abs(counted - X.sum()) < 1e-6 * X.sum()  # topics count the tokens of both halves
