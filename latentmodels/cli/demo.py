"""``latentmodels demo``: a VAE on the embedded digits, an HMM on Old Faithful and a topic
model on 20 Newsgroups posts, one run folder and one report each, and an index page
(``report.html``) that links the three."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from ..runs.defaults import (
    DEFAULT_TEST_FRACTION,
    HMM_MAX_STATES,
    HMM_N_ITER,
    HMM_TOL,
    IWAE_SAMPLES,
)
from ._common import DEMO_THREADS, BadInput, clean_errors, cpu_threads, load_data, print_run, stdout

__all__ = ["demo_hmm_command", "demo_lda_command", "register"]

DEMO_EPOCHS = 30


DEMO_LATENT_DIM = 16


DEMO_HIDDEN = (512, 256)


DEMO_VAE_DIR = "vae"


DEMO_VAE_TITLE = "Variational autoencoder: MNIST digits"


DEMO_HMM_DIR = "hmm"


DEMO_HMM_COLUMNS = ("waiting", "duration")


DEMO_HMM_TITLE = "Hidden Markov model: Old Faithful eruptions"


DEMO_LDA_DIR = "lda"


DEMO_LDA_TOPICS = 20


DEMO_LDA_TITLE = "Topic model: 20 Newsgroups posts"


DEMO_LDA_TEST_FRACTION = 0.1


def demo(
    out: Annotated[Path, typer.Option(help="Run directory to write.")] = Path("runs/demo"),
    epochs: Annotated[int, typer.Option(help="Training epochs.")] = DEMO_EPOCHS,
    threads: Annotated[int, typer.Option(
        help="torch CPU threads. One is the robust choice for this small network: with more, "
             "a busy machine can slow training tenfold.")] = DEMO_THREADS,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    limit: Annotated[int | None, typer.Option(help="Use only the first N digits.",
                                              hidden=True)] = None,
) -> None:
    """Train a VAE, an HMM and an LDA topic model on bundled data; write their reports.

    The VAE learns the embedded MNIST digits (OUT/vae), the HMM the Old Faithful geyser
    series (OUT/hmm) and the topic model a 2,000-post sample of 20 Newsgroups (OUT/lda);
    OUT/report.html links the three reports. Two to three minutes on two cores.
    """
    with clean_errors(), cpu_threads(threads):
        from ..deep import VAE
        from ..report import write_index
        from ..runs.deep import fit_deep_run

        started = time.perf_counter()
        if epochs < 1:
            raise BadInput(f"--epochs must be >= 1, got {epochs}")
        X, y = load_data("mnist", limit)
        console = stdout()
        console.print(
            f"[bold]latentmodels demo[/bold]: a VAE (latent_dim={DEMO_LATENT_DIM}, hidden "
            f"{DEMO_HIDDEN}) on {len(X):,} MNIST digits, {epochs} epochs; "
            f"{math.floor(len(X) * DEFAULT_TEST_FRACTION + 0.5):,} held out for testing."
        )
        estimator = VAE(latent_dim=DEMO_LATENT_DIM, hidden_dims=DEMO_HIDDEN, epochs=epochs,
                        random_state=0, verbose=0 if quiet else 1)
        vae_dir = out / DEMO_VAE_DIR
        command = ["latentmodels", "train", "vae", "--data", "mnist", "--latent-dim",
                   str(DEMO_LATENT_DIM), "--hidden-dims", ",".join(map(str, DEMO_HIDDEN)),
                   "--epochs", str(epochs), "--checkpoint-every", "0", "--seed", "0",
                   "--out", str(vae_dir)]
        if limit is not None:
            command += ["--limit", str(limit)]
        info = fit_deep_run(estimator, X, y, out=vae_dir, source="mnist", limit=limit,
                            test_fraction=DEFAULT_TEST_FRACTION, command=command, resume=False,
                            iwae=IWAE_SAMPLES, report=True)
        console.print(f"VAE: report in {vae_dir / 'report.html'}; writing the HMM and the "
                      "topic model next.")
        hmm_info = _demo_hmm(out / DEMO_HMM_DIR)
        hmm_metrics = hmm_info["metrics"]
        console.print(
            f"HMM: Old Faithful eruptions ({hmm_metrics['n_observations']} steps of waiting "
            f"time and duration): BIC chose [bold]{hmm_metrics['n_states']} states[/bold] "
            f"(log-likelihood {hmm_metrics['log_likelihood_per_step']:.3f} nats/step); "
            f"run in {out / DEMO_HMM_DIR}."
        )
        lda_info = _demo_lda(out / DEMO_LDA_DIR, threads)
        lda_metrics = lda_info["metrics"]
        console.print(
            f"LDA: {lda_metrics['n_topics']} topics in {lda_metrics['n_train_docs']:,} "
            f"20 Newsgroups posts (held-out perplexity {lda_metrics['perplexity']:.0f}, mean "
            f"NPMI {lda_metrics['mean_npmi']:.3f}); run in {out / DEMO_LDA_DIR}."
        )
        index = write_index(out, "latentmodels demo",
                            "Three latent variable models fitted on bundled data, one report "
                            "each", _index_entries(info, hmm_info, lda_info))
        print_run(vae_dir, info, False, time.perf_counter() - started)
        console.print(f"Open the index of the three reports with:  [bold]xdg-open {index}"
                      "[/bold]  (or any web browser)")


def _index_entries(vae: dict[str, Any], hmm: dict[str, Any], lda: dict[str, Any]
                   ) -> list[Any]:
    """The demo's index page: one entry per run, with its headline figures."""
    from ..report import IndexEntry

    vae_m, hmm_m, lda_m = vae["metrics"], hmm["metrics"], lda["metrics"]
    return [
        IndexEntry(
            DEMO_VAE_TITLE, f"{DEMO_VAE_DIR}/report.html",
            f"A VAE with a {DEMO_LATENT_DIM}-dimensional latent space trained on "
            f"{vae_m['n_train']:,} handwritten digits, tested on {vae_m['n_test']:,} others.",
            "the samples (new digits from the prior) and the latent map (digits of one class "
            "should gather).",
            {"test NLL, IWAE (nats, lower is better)": vae_m.get("test_nll_iwae"),
             "epochs run": vae_m.get("epochs_run")}),
        IndexEntry(
            DEMO_HMM_TITLE, f"{DEMO_HMM_DIR}/report.html",
            f"A Gaussian HMM on {hmm_m['n_observations']} successive eruptions of Old Faithful "
            "(waiting time and duration, minutes); the number of states chosen by BIC.",
            "the States table (each state a kind of eruption) and the transition matrix (short "
            "and long eruptions alternate).",
            {"hidden states": hmm_m.get("n_states"),
             "log-likelihood per step (nats)": hmm_m.get("log_likelihood_per_step")}),
        IndexEntry(
            DEMO_LDA_TITLE, f"{DEMO_LDA_DIR}/report.html",
            f"LDA with {lda_m['n_topics']} topics on {lda_m['n_train_docs']:,} Usenet posts "
            "from 20 newsgroups.",
            "the topics table: most topics name a subject; the notes flag topics that are "
            "a repeated signature or have incoherent words.",
            {"held-out perplexity (lower is better)": lda_m.get("perplexity"),
             "mean NPMI coherence": lda_m.get("mean_npmi")}),
    ]


def _demo_hmm(out: Path) -> dict[str, Any]:
    """The demo's HMM: a GaussianHMM on the bundled geyser series, states chosen by BIC."""
    from ..datasets.series import load_series
    from ..hmm import GaussianHMM
    from ..runs.hmm import fit_hmm_run

    series = load_series("geyser", list(DEMO_HMM_COLUMNS))
    template = GaussianHMM(covariance_type="diag", n_iter=HMM_N_ITER, tol=HMM_TOL,
                           random_state=0)
    return fit_hmm_run(series, template, None, out=out, command=demo_hmm_command(out),
                       report=True)


def demo_hmm_command(out: Path) -> list[str]:
    """The ``train hmm`` command that repeats the demo's HMM (every option that matters)."""
    import torch

    return ["latentmodels", "train", "hmm", "--data", "geyser", "--out", str(out),
            "--columns", ",".join(DEMO_HMM_COLUMNS), "--states", "auto", "--max-states",
            str(HMM_MAX_STATES), "--covariance-type", "diag", "--emission", "gaussian",
            "--n-iter", str(HMM_N_ITER), "--seed", "0", "--threads",
            str(torch.get_num_threads()), "--checkpoint-every", "0", "--no-resume", "--report"]


def demo_lda_command(out: Path, threads: int) -> list[str]:
    """The ``train lda`` command that repeats the demo's topic model (every option that
    matters, the thread count included: the Gibbs sampler's result depends on it)."""
    from ..lda.model import LDA
    from ..runs.lda import DEFAULT_CORPUS_OPTIONS

    options = DEFAULT_CORPUS_OPTIONS
    return ["latentmodels", "train", "lda", "--data", "newsgroups", "--out", str(out),
            "--topics", str(DEMO_LDA_TOPICS), "--text-field", "text", "--label-field",
            "newsgroup", "--method", LDA().method, "--min-df", str(options["min_df"]),
            "--max-df", str(options["max_df"]), "--stop-words", str(options["stop_words"]),
            "--test-fraction", str(DEMO_LDA_TEST_FRACTION), "--seed", "0", "--threads",
            str(threads), "--checkpoint-every", "0", "--no-resume", "--report"]


def _demo_lda(out: Path, threads: int) -> dict[str, Any]:
    """The demo's topic model: LDA on the bundled 2,000-post 20 Newsgroups sample."""
    from ..datasets.texts import load_texts
    from ..lda.model import LDA
    from ..runs.lda import fit_lda_run

    return fit_lda_run(load_texts("newsgroups"),
                       LDA(DEMO_LDA_TOPICS, random_state=0, n_jobs=threads), out=out,
                       command=demo_lda_command(out, threads),
                       test_fraction=DEMO_LDA_TEST_FRACTION, report=True)


def register(app: typer.Typer) -> None:
    """Add ``demo`` to ``app``."""
    app.command()(demo)
