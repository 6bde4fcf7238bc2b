"""Tiny fitted runs of each family for the explorer's tests (made with the run orchestrators'
own formats, one epoch or a few iterations each)."""

from __future__ import annotations

from pathlib import Path

from latentmodels.rundir import MODEL_FILE, run_header, write_run

N_LIMIT = 300
TEST_FRACTION = 0.2  # 60 held-out digits on the map


def vae_run(out: Path, *, latent_dim: int = 3) -> Path:
    from latentmodels import VAE, datasets

    X, _ = datasets.load_mnist()
    model = VAE(latent_dim=latent_dim, hidden_dims=(32,), epochs=1, verbose=0,
                random_state=0).fit(X[:200])
    out.mkdir(parents=True, exist_ok=True)
    model.save(out / MODEL_FILE)
    write_run(out, {**run_header(["test"], model),
                    "data": {"source": "mnist", "limit": N_LIMIT, "test_fraction": TEST_FRACTION,
                             "split_seed": 0}, "metrics": {}})
    return out


def lda_run(out: Path) -> Path:
    from latentmodels.datasets.texts import load_texts
    from latentmodels.lda import LDA
    from latentmodels.runs.lda import fit_lda_run

    data = load_texts("newsgroups", label_field="newsgroup", limit=200)
    fit_lda_run(data, LDA(n_components=4, max_iter=10, random_state=0), out=out, command=["t"],
                test_fraction=0.2, limit=200, report=False)
    return out


def hmm_run(out: Path) -> Path:
    from latentmodels.datasets.series import load_series
    from latentmodels.hmm import GaussianHMM
    from latentmodels.runs.hmm import fit_hmm_run

    fit_hmm_run(load_series("geyser", ["waiting", "duration"]),
                GaussianHMM(n_iter=30, random_state=0), 2, out=out, command=["t"], report=False)
    return out
