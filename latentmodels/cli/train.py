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
from typing import Annotated, Any

import typer

from ..runs.defaults import (
    DEFAULT_TEST_FRACTION,
    HMM_MAX_STATES,
    HMM_N_ITER,
    IWAE_SAMPLES,
)
from . import _common as cli
from ._common import (
    Architecture,
    BadInput,
    Corruption,
    CovarianceType,
    Likelihood,
    ModelKind,
    clean_errors,
    cpu_threads,
    hmm_template,
    load_series_argument,
    parse_columns,
    parse_states,
)

__all__ = ["train_app"]

def build_deep_model(kind: ModelKind, **options: Any) -> Any:
    from ..deep import VAE, Autoencoder, ConditionalVAE, DenoisingAutoencoder

    likelihood = options.pop("likelihood")
    beta = options.pop("beta")
    kl_warmup = options.pop("kl_warmup_epochs")
    corruption = options.pop("corruption")
    noise_level = options.pop("noise_level")
    options = {k: v for k, v in options.items() if v is not None}
    is_vae = kind in (ModelKind.vae, ModelKind.cvae)
    for flag, value, applies in (
        ("--beta", beta, is_vae),
        ("--kl-warmup-epochs", kl_warmup, is_vae),
        ("--corruption", corruption, kind == ModelKind.dae),
        ("--noise-level", noise_level, kind == ModelKind.dae),
    ):
        if value is not None and not applies:
            raise BadInput(f"{flag} does not apply to a {kind.value} model")
    if is_vae:
        if likelihood is not None:
            options["likelihood"] = likelihood.value
        if beta is not None:
            options["beta"] = beta
        if kl_warmup is not None:
            options["kl_warmup_epochs"] = kl_warmup
        return (VAE if kind == ModelKind.vae else ConditionalVAE)(**options)
    if likelihood is not None:
        # Autoencoders speak in losses: Bernoulli <-> cross-entropy, Gaussian <-> squared error.
        options["reconstruction_loss"] = "bce" if likelihood == Likelihood.bernoulli else "mse"
    if kind == ModelKind.dae:
        if corruption is not None:
            options["corruption"] = corruption.value
        if noise_level is not None:
            options["noise_level"] = noise_level
        return DenoisingAutoencoder(**options)
    return Autoencoder(**options)


def train_hmm_run(
    *, data: str, out: Path, columns: str | None, states: str, max_states: int,
    covariance_type: CovarianceType | None, log_returns: bool, categorical: bool,
    lengths_column: str | None, n_iter: int, seed: int, report: bool, command: list[str],
    emission: str | None = None, options: list[str] | None = None,
) -> dict[str, Any]:
    names = parse_columns(columns)
    n_states = parse_states(states)
    template, spec = hmm_template(emission, categorical, covariance_type, options, n_iter, seed)
    symbols = spec.data == "symbols"
    if symbols and log_returns:
        raise BadInput("--log-returns does not apply to --categorical data")
    series = load_series_argument(data, names, categorical=symbols, log_returns=log_returns,
                                  lengths_column=lengths_column)
    from ..runs.hmm import fit_hmm_run

    return fit_hmm_run(series, template, n_states, out=out, command=command,
                       max_states=max_states, report=report)


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
        latent_dim: Annotated[int | None, typer.Option(
            help="Size of the latent code. Default: the model's.")] = None,
        epochs: Annotated[int, typer.Option(help="Maximum training epochs.")] = 30,
        batch_size: Annotated[int, typer.Option(help="Samples per batch.")] = 128,
        learning_rate: Annotated[float | None, typer.Option(
            help="Adam learning rate. Default: the model's.")] = None,
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
        ] = DEFAULT_TEST_FRACTION,
        checkpoint_every: Annotated[int, typer.Option(
            help="Checkpoint into OUT/checkpoints every N epochs (0: off).")] = 5,
        resume: Annotated[bool, typer.Option(
            help="Continue a killed run from OUT/checkpoints (same options).")] = False,
        iwae_samples: Annotated[int, typer.Option(
            help="Importance samples for the test NLL of VAEs (0: skip).")] = IWAE_SAMPLES,
        device: Annotated[str, typer.Option(help="auto, cpu, cuda, cuda:1, ...")] = "auto",
        threads: ThreadsOption = None,
        report: ReportOption = True,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
        limit: Annotated[int | None, typer.Option(help="Use only the first N samples.",
                                                  hidden=True)] = None,
    ) -> None:
        with clean_errors(), cpu_threads(threads):
            started = time.perf_counter()
            if checkpoint_every < 0:
                raise BadInput(f"--checkpoint-every must be >= 0, got {checkpoint_every}")
            if iwae_samples < 0:
                raise BadInput(f"--iwae-samples must be >= 0 (0 skips the IWAE NLL), got "
                               f"{iwae_samples}")
            checkpoints = checkpoint_every > 0 or resume
            estimator = build_deep_model(
                kind,
                latent_dim=latent_dim,
                architecture=architecture.value,
                hidden_dims=cli.parse_hidden(hidden_dims),
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
            X, y = cli.load_data(data, limit)
            if kind == ModelKind.cvae and y is None:
                raise BadInput(f"--data {data} has no labels; a cvae needs labelled data")
            command = ["latentmodels", "train", kind.value, "--data", data, "--out", str(out),
                       "--latent-dim", str(latent_dim), "--epochs", str(epochs),
                       "--seed", str(seed)]
            from ..runs.deep import fit_deep_run

            info = fit_deep_run(estimator, X, y, out=out, source=data, limit=limit,
                                  test_fraction=test_fraction, command=command, resume=resume,
                                  iwae=iwae_samples, report=report)
            cli.print_run(out, info, report, time.perf_counter() - started)

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
    emission: Annotated[str | None, typer.Option(
        help="Emission type: gaussian (default), gmm, categorical, poisson, or a registered "
             "plug-in (latentmodels.hmm.emissions.available()).")] = None,
    option: Annotated[list[str] | None, typer.Option(
        help="key=value hyper-parameter of the emission, repeatable (e.g. n_mix=2).")] = None,
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
    with clean_errors(), cpu_threads(threads):
        started = time.perf_counter()
        command = ["latentmodels", "train", "hmm", "--data", data, "--columns", str(columns),
                   "--states", states, "--seed", str(seed), "--out", str(out)]
        for flag, on in (("--log-returns", log_returns), ("--categorical", categorical)):
            if on:
                command.append(flag)
        if covariance_type is not None:
            command += ["--covariance-type", covariance_type.value]
        if emission is not None:
            command += ["--emission", emission]
        for item in option or []:
            command += ["--option", item]
        if lengths_column is not None:
            command += ["--lengths-column", lengths_column]
        info = train_hmm_run(
            data=data, out=out, columns=columns, states=states, max_states=max_states,
            covariance_type=covariance_type, log_returns=log_returns, categorical=categorical,
            lengths_column=lengths_column, n_iter=n_iter, seed=seed, report=report,
            command=command, emission=emission, options=option,
        )
        cli.print_run(out, info, report, time.perf_counter() - started)
