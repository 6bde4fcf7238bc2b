"""``latentmodels train <family>``: one sub-command per model family, each with its own options.

    latentmodels train vae --data mnist --latent-dim 16 --out runs/vae
    latentmodels train hmm --data geyser --columns waiting,duration --states auto --out runs/hmm
    latentmodels train lda --data corpus.jsonl.gz --text-field text --topics 20 --out runs/lda

Every sub-command writes ``model.lm``, ``run.json`` and ``report.html`` into ``--out``.
"""

from __future__ import annotations

import copy
import inspect
import time
import typing
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
    ResumeOption,
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
    checkpoint_every: int = 0, resume: bool = False,
) -> dict[str, Any]:
    names = parse_columns(columns)
    n_states = parse_states(states)
    checkpoints = cli.checkpoint_settings(out, checkpoint_every, resume)
    template, spec = hmm_template(emission, categorical, covariance_type, options, n_iter, seed)
    if checkpoints["checkpoint_dir"] is not None:
        if "checkpoint_dir" not in template.get_params(deep=False):
            raise BadInput(f"--checkpoint-every/--resume: {type(template).__name__} cannot "
                           "checkpoint (its class takes no checkpoint_dir)")
        template.set_params(**checkpoints)
    symbols = spec.data == "symbols"
    if symbols and log_returns:
        raise BadInput("--log-returns does not apply to --categorical data")
    series = load_series_argument(data, names, categorical=symbols, log_returns=log_returns,
                                  lengths_column=lengths_column)
    from ..runs.hmm import fit_hmm_run

    return fit_hmm_run(series, template, n_states, out=out, command=command,
                       max_states=max_states, report=report, resume=resume)


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

#: Defaults that differ between the deep models, shown in each command's help. They are the
#: estimators' declared defaults (tests/test_cli_declarations.py compares them); the command
#: passes nothing for these, so the model applies its own. Written here because reading the
#: estimators would import torch and slow ``--help`` down.
DEEP_MODEL_DEFAULTS: dict[str, dict[str, Any]] = {
    "ae": {"latent_dim": 32, "learning_rate": 1e-3, "likelihood": "gaussian"},
    "dae": {"latent_dim": 32, "learning_rate": 1e-3, "likelihood": "gaussian",
            "corruption": "gaussian", "noise_level": 0.3},
    "vae": {"latent_dim": 16, "learning_rate": 2e-3, "likelihood": "bernoulli", "beta": 1.0,
            "kl_warmup_epochs": 0},
    "cvae": {"latent_dim": 16, "learning_rate": 2e-3, "likelihood": "bernoulli", "beta": 1.0,
             "kl_warmup_epochs": 0},
}

#: Options that only some deep models have; every other option belongs to all of them.
_ONLY_FOR = {
    "beta": {"vae", "cvae"},
    "kl_warmup_epochs": {"vae", "cvae"},
    "iwae_samples": {"vae", "cvae"},
    "corruption": {"dae"},
    "noise_level": {"dae"},
}


def _deep_options(
    ctx: typer.Context,
    data: Annotated[str, typer.Option(
        help="mnist | digits | fashion-mnist | faces (see their download notes), or a path "
             "(.npz, .npy, .csv, IDX, image folder).")],
    out: OutOption,
    latent_dim: Annotated[int | None, typer.Option(help="Size of the latent code.")] = None,
    epochs: Annotated[int, typer.Option(help="Maximum training epochs.")] = 30,
    batch_size: Annotated[int, typer.Option(
        help="Samples per batch (reduced, with a notice, when the data is smaller).")] = 128,
    learning_rate: Annotated[float | None, typer.Option(help="Adam learning rate.")] = None,
    architecture: Annotated[Architecture, typer.Option(help="mlp or conv.")
                            ] = Architecture.mlp,
    hidden_dims: Annotated[str | None, typer.Option(
        help="Hidden sizes, e.g. 512,256 (channels for conv). Default: the model's.")
    ] = None,
    likelihood: Annotated[Likelihood | None, typer.Option(
        help="bernoulli (data in [0,1]) or gaussian; for ae/dae: bce or mse loss.")] = None,
    beta: Annotated[float | None, typer.Option(help="KL weight.")] = None,
    kl_warmup_epochs: Annotated[int | None, typer.Option(
        help="Epochs to ramp the KL weight up.")] = None,
    corruption: Annotated[Corruption | None, typer.Option(help="Noise added to inputs.")
                          ] = None,
    noise_level: Annotated[float | None, typer.Option(help="Noise strength.")] = None,
    image_size: Annotated[str | None, typer.Option(
        help="Image folders: resize to HEIGHTxWIDTH, e.g. 28x28. Default: keep the size.")
    ] = None,
    grayscale: Annotated[bool, typer.Option(
        "--grayscale", help="Image folders: convert to grey. Default: keep the colour.")
    ] = False,
    seed: SeedOption = 0,
    validation_fraction: Annotated[float, typer.Option(
        help="Share of the training data held out for early stopping.")] = 0.1,
    patience: Annotated[int, typer.Option(help="Early-stopping patience in epochs.")] = 10,
    test_fraction: Annotated[float, typer.Option(
        help="Share of the data held out for test metrics (fixed split).")
    ] = DEFAULT_TEST_FRACTION,
    checkpoint_every: Annotated[int, typer.Option(
        help="Checkpoint into OUT/checkpoints every N epochs (0: off).")] = 5,
    resume: ResumeOption = False,
    iwae_samples: Annotated[int, typer.Option(
        help="Importance samples for the test NLL (0: skip).")] = IWAE_SAMPLES,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda, cuda:1, ...")] = "auto",
    threads: ThreadsOption = None,
    report: ReportOption = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    limit: Annotated[int | None, typer.Option(help="Use only the first N samples.",
                                              hidden=True)] = None,
) -> None:
    """Every option of the deep ``train`` commands; each command shows only its own."""


def _train_deep(kind: ModelKind, ctx: typer.Context, options: dict[str, Any]) -> None:
    chosen = {name: options.get(name, default)
         for name, default in _DEEP_OPTION_DEFAULTS.items()}
    out: Path = chosen["out"]
    with clean_errors():
        threads = cli.resolved_threads(chosen["threads"])
        with cpu_threads(chosen["threads"]), cli.shown_warnings():
            started = time.perf_counter()
            checkpoints = cli.checkpoint_settings(out, chosen["checkpoint_every"],
                                                  chosen["resume"])
            if chosen["iwae_samples"] < 0:
                raise BadInput(f"--iwae-samples must be >= 0 (0 skips the IWAE NLL), got "
                               f"{chosen['iwae_samples']}")
            X, y = cli.load_data(chosen["data"], chosen["limit"], image_size=chosen["image_size"],
                                 grayscale=chosen["grayscale"])
            if kind == ModelKind.cvae and y is None:
                raise BadInput(f"--data {chosen['data']} has no labels; a cvae needs labelled data")
            batch_size = cli.fitting_batch_size(chosen["batch_size"], len(X),
                                                chosen["test_fraction"],
                                                chosen["validation_fraction"])
            estimator = build_deep_model(
                kind,
                latent_dim=chosen["latent_dim"],
                architecture=chosen["architecture"].value,
                hidden_dims=cli.parse_hidden(chosen["hidden_dims"]),
                epochs=chosen["epochs"],
                batch_size=batch_size,
                learning_rate=chosen["learning_rate"],
                validation_fraction=chosen["validation_fraction"],
                patience=chosen["patience"],
                random_state=chosen["seed"],
                device=chosen["device"],
                **checkpoints,
                verbose=0 if chosen["quiet"] else 1,
                likelihood=chosen["likelihood"],
                beta=chosen["beta"],
                kl_warmup_epochs=chosen["kl_warmup_epochs"],
                corruption=chosen["corruption"],
                noise_level=chosen["noise_level"],
            )
            params = estimator.get_params(deep=False)
            effective: dict[str, Any] = {
                "threads": threads, "batch_size": chosen["batch_size"],
                "latent_dim": params["latent_dim"], "learning_rate": params["learning_rate"],
            }
            if "hidden_dims" in params and params["hidden_dims"] is not None:
                effective["hidden_dims"] = ",".join(str(h) for h in params["hidden_dims"])
            if "likelihood" in params:
                effective["likelihood"] = params["likelihood"]
            elif "reconstruction_loss" in params:
                effective["likelihood"] = ("bernoulli" if params["reconstruction_loss"] == "bce"
                                           else "gaussian")
            for name in ("beta", "kl_warmup_epochs", "corruption", "noise_level"):
                if name in params and name in options:
                    effective[name] = params[name]
            command = cli.recorded_command(ctx, effective)
            from ..runs.deep import fit_deep_run

            info = fit_deep_run(estimator, X, y, out=out, source=chosen["data"],
                                limit=chosen["limit"], test_fraction=chosen["test_fraction"],
                                command=command, resume=chosen["resume"],
                                iwae=chosen["iwae_samples"], report=chosen["report"])
            cli.print_run(out, info, chosen["report"], time.perf_counter() - started)


_DEEP_SIGNATURE = inspect.signature(_deep_options, eval_str=True)
_DEEP_OPTION_DEFAULTS = {
    name: (None if parameter.default is inspect.Parameter.empty else parameter.default)
    for name, parameter in _DEEP_SIGNATURE.parameters.items() if name != "ctx"
}
# Options whose help also names the defaults (the estimators' own).
_SHOWN_DEFAULTS = ("latent_dim", "learning_rate", "likelihood", "beta", "kl_warmup_epochs",
                   "corruption", "noise_level")


def _deep_command(kind: ModelKind) -> Callable[..., None]:
    """The ``train ae|dae|vae|cvae`` command: the shared options, less other models' ones."""
    defaults = DEEP_MODEL_DEFAULTS[kind.value]
    parameters = []
    for name, parameter in _DEEP_SIGNATURE.parameters.items():
        if kind.value not in _ONLY_FOR.get(name, {kind.value}):
            continue
        if name in _SHOWN_DEFAULTS:
            base, info = typing.get_args(parameter.annotation)
            info = copy.copy(info)
            info.show_default = str(defaults[name])
            parameter = parameter.replace(annotation=Annotated[base, info])
        parameters.append(parameter)

    def command(ctx: typer.Context, **options: Any) -> None:
        _train_deep(kind, ctx, options)

    command.__signature__ = _DEEP_SIGNATURE.replace(parameters=parameters)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in parameters}
    command.__doc__ = (f"{_DEEP_SUMMARY[kind]}\n\n"
                       f"latentmodels train {kind.value} --data mnist --out runs/{kind.value}")
    return command


for _kind in ModelKind:
    train_app.command(name=_kind.value)(_deep_command(_kind))


@train_app.command(name="hmm")
def train_hmm(
    ctx: typer.Context,
    data: Annotated[str, typer.Option(help="A .csv with a header row, or geyser (bundled).")],
    out: OutOption,
    columns: Annotated[str, typer.Option(
        help="CSV columns to model, comma-separated (e.g. waiting,duration).")],
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
    checkpoint_every: Annotated[int, typer.Option(
        help="Checkpoint into OUT/checkpoints every N EM iterations (0: off).")] = 0,
    resume: ResumeOption = False,
    threads: ThreadsOption = None,
    report: ReportOption = True,
) -> None:
    """Train a hidden Markov model on columns of a CSV (states chosen by BIC with auto).

    latentmodels train hmm --data geyser --columns waiting,duration --states auto --out runs/hmm
    """
    with clean_errors():
        requested, threads = threads, cli.resolved_threads(threads)
        with cpu_threads(requested), cli.shown_warnings():
            started = time.perf_counter()
            command = cli.recorded_command(ctx, {"threads": threads})
            info = train_hmm_run(
                data=data, out=out, columns=columns, states=states, max_states=max_states,
                covariance_type=covariance_type, log_returns=log_returns,
                categorical=categorical, lengths_column=lengths_column, n_iter=n_iter,
                seed=seed, report=report, command=command, emission=emission, options=option,
                checkpoint_every=checkpoint_every, resume=resume,
            )
            cli.print_run(out, info, report, time.perf_counter() - started)
