"""``latentmodels train <family>``: one sub-command per model family, each with its own options.

    latentmodels train vae --data mnist --latent-dim 16 --out runs/vae
    latentmodels train hmm --data geyser --columns waiting,duration --states auto --out runs/hmm
    latentmodels train lda --data corpus.jsonl.gz --text-field text --topics 20 --out runs/lda

Every sub-command writes ``model.lm``, ``run.json`` and ``report.html`` into ``--out``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from . import app as cli
from .app import (
    HMM_MAX_STATES,
    HMM_N_ITER,
    Architecture,
    Corruption,
    CovarianceType,
    Likelihood,
    ModelKind,
    _BadInput,
    _clean_errors,
    _threads,
)

__all__ = ["train_app"]

train_app = typer.Typer(
    name="train",
    help="Train a model; write model.lm, run.json and report.html into OUT.",
    no_args_is_help=True,
)

ThreadsOption = Annotated[int | None, typer.Option(help="CPU threads.")]
ReportOption = Annotated[bool, typer.Option(help="Write report.html.")]
SeedOption = Annotated[int, typer.Option(help="Random seed (equal seeds: equal runs on CPU).")]
OutOption = Annotated[Path, typer.Option(help="Run directory to write.")]

_DEEP_SUMMARY = {
    ModelKind.ae: "Train an autoencoder (deterministic codes).",
    ModelKind.dae: "Train a denoising autoencoder (learns to undo a corruption).",
    ModelKind.vae: "Train a variational autoencoder (Bernoulli or Gaussian likelihood).",
    ModelKind.cvae: "Train a conditional VAE on labelled data (generates a chosen class).",
}


def _deep_command(kind: ModelKind) -> Callable[..., None]:
    """The ``train ae|dae|vae|cvae`` command: the deep models share their options."""

    def command(
        data: Annotated[str, typer.Option(
            help="mnist | fashion-mnist | digits, or a path (.npz, .npy, .csv, IDX, image "
                 "folder).")],
        out: OutOption,
        latent_dim: Annotated[int, typer.Option(help="Size of the latent code.")] = 16,
        epochs: Annotated[int, typer.Option(help="Maximum training epochs.")] = 30,
        batch_size: Annotated[int, typer.Option(help="Samples per batch.")] = 128,
        learning_rate: Annotated[float, typer.Option(help="Adam learning rate.")] = 1e-3,
        architecture: Annotated[Architecture, typer.Option(help="mlp or conv.")
                                ] = Architecture.mlp,
        hidden_dims: Annotated[str | None, typer.Option(
            help="Hidden sizes, e.g. 512,256 (channels for conv). Default: the model's.")
        ] = None,
        likelihood: Annotated[Likelihood | None, typer.Option(
            help="bernoulli (data in [0,1]) or gaussian; for ae/dae: bce or mse loss.")] = None,
        beta: Annotated[float | None, typer.Option(help="KL weight (vae, cvae).")] = None,
        kl_warmup_epochs: Annotated[int | None, typer.Option(
            help="Epochs to ramp the KL weight up (vae, cvae).")] = None,
        corruption: Annotated[Corruption | None, typer.Option(help="Noise (dae).")] = None,
        noise_level: Annotated[float | None, typer.Option(help="Noise strength (dae).")
                               ] = None,
        seed: SeedOption = 0,
        validation_fraction: Annotated[float, typer.Option(
            help="Share of the training data held out for early stopping.")] = 0.1,
        patience: Annotated[int, typer.Option(help="Early-stopping patience in epochs.")] = 10,
        test_fraction: Annotated[float, typer.Option(
            help="Share of the data held out for test metrics (fixed split).")
        ] = cli.DEFAULT_TEST_FRACTION,
        checkpoint_every: Annotated[int, typer.Option(
            help="Checkpoint into OUT/checkpoints every N epochs (0: off).")] = 5,
        resume: Annotated[bool, typer.Option(
            help="Continue a killed run from OUT/checkpoints (same options).")] = False,
        iwae_samples: Annotated[int, typer.Option(
            help="Importance samples for the test NLL of VAEs (0: skip).")] = cli.IWAE_SAMPLES,
        device: Annotated[str, typer.Option(help="auto, cpu, cuda, cuda:1, ...")] = "auto",
        threads: ThreadsOption = None,
        report: ReportOption = True,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
        limit: Annotated[int | None, typer.Option(help="Use only the first N samples.",
                                                  hidden=True)] = None,
    ) -> None:
        with _clean_errors(), _threads(threads):
            started = time.perf_counter()
            if checkpoint_every < 0:
                raise _BadInput(f"--checkpoint-every must be >= 0, got {checkpoint_every}")
            checkpoints = checkpoint_every > 0 or resume
            estimator = cli._build_model(
                kind,
                latent_dim=latent_dim,
                architecture=architecture.value,
                hidden_dims=cli._parse_hidden(hidden_dims),
                epochs=epochs,
                batch_size=batch_size,
                learning_rate=learning_rate,
                validation_fraction=validation_fraction,
                patience=patience,
                random_state=seed,
                device=device,
                checkpoint_dir=str(out / "checkpoints") if checkpoints else None,
                checkpoint_every=max(checkpoint_every, 1),
                verbose=0 if quiet else 1,
                likelihood=likelihood,
                beta=beta,
                kl_warmup_epochs=kl_warmup_epochs,
                corruption=corruption,
                noise_level=noise_level,
            )
            X, y = cli._load_data(data, limit)
            if kind == ModelKind.cvae and y is None:
                raise _BadInput(f"--data {data} has no labels; a cvae needs labelled data")
            command = ["latentmodels", "train", kind.value, "--data", data, "--out", str(out),
                       "--latent-dim", str(latent_dim), "--epochs", str(epochs),
                       "--seed", str(seed)]
            info = cli._train_run(estimator, X, y, out=out, source=data, limit=limit,
                                  test_fraction=test_fraction, command=command, resume=resume,
                                  iwae=iwae_samples, report=report)
            cli._print_run(out, info, report, time.perf_counter() - started)

    command.__doc__ = (f"{_DEEP_SUMMARY[kind]}\n\n"
                       f"latentmodels train {kind.value} --data mnist --out runs/{kind.value}")
    return command


for _kind in ModelKind:
    train_app.command(name=_kind.value)(_deep_command(_kind))


@train_app.command(name="hmm")
def train_hmm(
    data: Annotated[str, typer.Option(help="A .csv with a header row, or geyser (bundled).")],
    out: OutOption,
    columns: Annotated[str | None, typer.Option(
        help="CSV columns to model, comma-separated (e.g. waiting,duration).")] = None,
    states: Annotated[str, typer.Option(
        help="Number of hidden states, or auto (lowest BIC over 1..--max-states).")] = "auto",
    max_states: Annotated[int, typer.Option(help="Largest number of states auto tries.")
                          ] = HMM_MAX_STATES,
    covariance_type: Annotated[CovarianceType | None, typer.Option(
        help="Gaussian covariance (diag, full, spherical, tied). Default: diag.")] = None,
    log_returns: Annotated[bool, typer.Option(
        "--log-returns", help="Model 100 * diff(log(x)) of positive series (prices).")
    ] = False,
    categorical: Annotated[bool, typer.Option(
        "--categorical", help="One column of labels -> a categorical HMM on its codes.")
    ] = False,
    lengths_column: Annotated[str | None, typer.Option(
        help="Column whose runs of equal values mark separate sequences.")] = None,
    n_iter: Annotated[int, typer.Option(help="Maximum EM iterations.")] = HMM_N_ITER,
    seed: SeedOption = 0,
    threads: ThreadsOption = None,
    report: ReportOption = True,
) -> None:
    """Train a hidden Markov model on columns of a CSV (states chosen by BIC with auto).

    latentmodels train hmm --data geyser --columns waiting,duration --states auto --out runs/hmm
    """
    with _clean_errors(), _threads(threads):
        started = time.perf_counter()
        command = ["latentmodels", "train", "hmm", "--data", data, "--columns", str(columns),
                   "--states", states, "--seed", str(seed), "--out", str(out)]
        for flag, on in (("--log-returns", log_returns), ("--categorical", categorical)):
            if on:
                command.append(flag)
        if covariance_type is not None:
            command += ["--covariance-type", covariance_type.value]
        if lengths_column is not None:
            command += ["--lengths-column", lengths_column]
        info = cli._train_hmm(
            data=data, out=out, columns=columns, states=states, max_states=max_states,
            covariance_type=covariance_type, log_returns=log_returns, categorical=categorical,
            lengths_column=lengths_column, n_iter=n_iter, seed=seed, report=report,
            command=command,
        )
        cli._print_run(out, info, report, time.perf_counter() - started)


# The topic model's sub-command lives with the other LDA verbs.
from .lda import register_train as _register_lda  # noqa: E402

_register_lda(train_app)

# Adversarial models too.
from .gan import register_train as _register_gan  # noqa: E402

_register_gan(train_app)
