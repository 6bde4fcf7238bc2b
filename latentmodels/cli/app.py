"""The ``latentmodels`` command: train a model, use it, and look at it.

    latentmodels train vae --data mnist --latent-dim 16 --out runs/vae
    latentmodels sample runs/vae/model.lm -n 64 --out samples.png
    latentmodels report runs/vae
    latentmodels demo

Bad input (unknown dataset, missing file, broken model file, wrong option) ends with one red
error line on stderr and exit code 2, never a traceback (set LATENTMODELS_DEBUG=1 to see one).
"""

from __future__ import annotations

import contextlib
import io as _stdlib_io
import math
import os
import time
from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.markup import escape

from .. import __version__
from .._internal.io import atomic_write_bytes
from ..plots import is_conditional

app = typer.Typer(
    name="latentmodels",
    help="Fit latent variable models, look inside the latent space, put it to work.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
    context_settings={"help_option_names": ["-h", "--help"]},
)

EXIT_BAD_INPUT = 2
DEMO_EPOCHS = 30
DEMO_LATENT_DIM = 16
DEMO_HIDDEN = (512, 256)
# Measured on the 2-core CI box while other jobs ran: 1 thread ~0.8 s/epoch, 2 threads 7-30 s
# (OpenMP threads wait on each other when a core is taken), so demo and report pin one thread.
DEMO_THREADS = 1
# The embedded MNIST has 8,000 digits: a 20 % test split gives the 6,400 / 1,600 of the benchmark.
DEFAULT_TEST_FRACTION = 0.2
SPLIT_SEED = 0
IWAE_SAMPLES = 100
DEMO_HMM_DIR = "hmm"
DEMO_HMM_COLUMNS = ("waiting", "duration")
DEMO_HMM_TITLE = "Hidden Markov model: Old Faithful eruptions"
DEMO_LDA_DIR = "lda"
DEMO_LDA_TOPICS = 20
DEMO_LDA_TITLE = "Topic model: 20 Newsgroups posts"


class ModelKind(str, Enum):
    """The deep model families of ``train``."""

    ae = "ae"
    dae = "dae"
    vae = "vae"
    cvae = "cvae"


class Architecture(str, Enum):
    mlp = "mlp"
    conv = "conv"


class Likelihood(str, Enum):
    bernoulli = "bernoulli"
    gaussian = "gaussian"


class CovarianceType(str, Enum):
    diag = "diag"
    full = "full"
    spherical = "spherical"
    tied = "tied"


class DecodeAlgorithm(str, Enum):
    viterbi = "viterbi"
    map = "map"


class Corruption(str, Enum):
    gaussian = "gaussian"
    masking = "masking"
    salt_and_pepper = "salt_and_pepper"


# -- plumbing ------------------------------------------------------------------------------------
def _out() -> Console:
    return Console(highlight=False)


class _BadInput(Exception):
    """A CLI-level input problem; the message is shown as is."""


@contextlib.contextmanager
def _clean_errors() -> Iterator[None]:
    """Turn expected failures into one red line and exit code 2 (no traceback)."""
    from sklearn.exceptions import NotFittedError

    from ..deep.training import TrainingDivergedError

    try:
        yield
    except typer.Exit:
        raise
    except KeyboardInterrupt:
        Console(stderr=True).print("[red]Interrupted.[/red]")
        raise typer.Exit(130) from None
    except (
        _BadInput,
        ValueError,
        TypeError,
        FileNotFoundError,
        IsADirectoryError,
        PermissionError,
        ImportError,
        NotFittedError,
        TrainingDivergedError,
    ) as exc:
        if os.environ.get("LATENTMODELS_DEBUG"):
            raise  # developers get the full traceback
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        console = Console(stderr=True, highlight=False, soft_wrap=True)
        console.print(f"[bold red]Error:[/bold red] {escape(message)}")
        raise typer.Exit(EXIT_BAD_INPUT) from None


def _load_data(source: str, limit: int | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    from ..datasets import load_dataset

    try:
        X, y = load_dataset(source)
    except (ValueError, FileNotFoundError) as exc:
        text = str(exc).replace("name_or_path: ", "")
        raise _BadInput(f"--data {source}: {text}") from exc
    if limit is not None:
        if limit < 1:
            raise _BadInput(f"--limit must be >= 1, got {limit}")
        X, y = X[:limit], None if y is None else y[:limit]
    return X, y


def _data_source(source: str) -> str:
    """A name stays a name; a path becomes absolute, so a run dir can reload it from anywhere."""
    from ..datasets import DATASET_NAMES

    key = source.strip().lower().replace("_", "-")
    if key in DATASET_NAMES or key == "fashionmnist":
        return source
    return str(Path(source).expanduser().resolve())


def _load_model(path: Path) -> Any:
    if path.is_dir() and (path / "model.lm").is_file():
        path = path / "model.lm"  # accept a run directory for convenience
    if not path.exists():
        raise FileNotFoundError(f"MODEL: no such model file: {path}")
    from ..report.page import load_model

    return load_model(path)


def _labels_for(model: Any, y: np.ndarray | None, source: str) -> np.ndarray | None:
    if is_conditional(model):
        if y is None:
            raise _BadInput(f"--data {source} has no labels, but a {type(model).__name__} needs "
                            "them")
        return y
    return None


def _save_npy(path: Path, array: np.ndarray) -> None:
    buffer = _stdlib_io.BytesIO()
    np.save(buffer, np.asarray(array), allow_pickle=False)
    atomic_write_bytes(path, buffer.getvalue())


def _check_out(path: Path, allowed: tuple[str, ...]) -> str:
    suffix = path.suffix.lower()
    if suffix not in allowed:
        raise _BadInput(f"--out must end in {' or '.join(allowed)}, got {str(path)!r}")
    return suffix


def _parse_hidden(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        sizes = tuple(int(part) for part in text.replace(" ", "").split(",") if part)
    except ValueError:
        raise _BadInput(f"--hidden-dims must be comma-separated integers, got {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise _BadInput(f"--hidden-dims must be positive integers, got {text!r}")
    return sizes


@contextlib.contextmanager
def _threads(threads: int | None) -> Iterator[None]:
    """Use ``threads`` CPU threads in torch and in the BLAS/OpenMP pools (t-SNE) meanwhile."""
    if threads is None:
        yield
        return
    import torch
    from threadpoolctl import threadpool_limits

    if threads < 1:
        raise _BadInput(f"--threads must be >= 1, got {threads}")
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with threadpool_limits(threads):
            yield
    finally:
        torch.set_num_threads(previous)


# -- training ------------------------------------------------------------------------------------
def _build_model(kind: ModelKind, **options: Any) -> Any:
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
            raise _BadInput(f"{flag} does not apply to a {kind.value} model")
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


def _evaluate(model: Any, X_test: np.ndarray, y_test: np.ndarray | None, iwae: int) -> dict:
    """Held-out metrics: ELBO and IWAE NLL for VAEs, reconstruction error otherwise."""
    if len(X_test) == 0:
        return {}
    labels = y_test if is_conditional(model) else None
    extra = {} if labels is None else {"y": labels}
    if callable(getattr(model, "log_likelihood", None)):
        metrics = {"test_elbo": float(np.mean(model.score_samples(X_test, **extra)))}
        if iwae > 0:
            log_px = model.log_likelihood(X_test, **extra, n_importance=iwae)
            metrics["test_nll_iwae"] = float(-np.mean(log_px))
            metrics["iwae_samples"] = iwae
        return metrics
    return {"test_reconstruction_error": float(-np.mean(model.score_samples(X_test, **extra)))}


def _train_run(
    model: Any,
    X: np.ndarray,
    y: np.ndarray | None,
    *,
    out: Path,
    source: str,
    limit: int | None,
    test_fraction: float,
    command: list[str],
    resume: bool,
    iwae: int,
    report: bool,
) -> dict[str, Any]:
    """Split, fit, evaluate, save model + run.json, write the report; returns run.json."""
    from ..report.page import MODEL_FILE, held_out_split, run_header, write_report, write_run

    if not 0 <= test_fraction < 1:
        raise _BadInput(f"--test-fraction must be in [0, 1), got {test_fraction}")
    train_idx, test_idx = held_out_split(len(X), test_fraction, SPLIT_SEED)
    if len(train_idx) < 2:
        raise _BadInput(f"--data has {len(X)} samples; too few to train on")
    X_train, X_test = X[train_idx], X[test_idx]
    y_train = None if y is None else y[train_idx]
    y_test = None if y is None else y[test_idx]
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    model.fit(X_train, y_train, resume=resume)
    seconds = time.perf_counter() - started
    history = getattr(model, "history_", [])
    metrics: dict[str, Any] = {}
    if history:
        metrics["train_loss"] = float(history[-1]["loss"])
        best = int(getattr(model, "best_epoch_", len(history) - 1))
        if "val_loss" in history[best]:
            metrics["val_loss"] = float(history[best]["val_loss"])
        metrics["best_epoch"] = best + 1
        metrics["epochs_run"] = len(history)
    metrics.update(_evaluate(model, X_test, y_test, iwae))
    metrics.update({"train_seconds": round(seconds, 2), "n_train": len(X_train),
                    "n_test": len(X_test)})
    model.save(out / MODEL_FILE)
    info = {
        **run_header(command, model),
        "data": {
            "source": _data_source(source),
            "limit": limit,
            "n_samples": len(X),
            "sample_shape": list(X.shape[1:]),
            "labelled": y is not None,
            "test_fraction": test_fraction,
            "split_seed": SPLIT_SEED,
        },
        "metrics": metrics,
    }
    write_run(out, info)
    if report:
        write_report(out, model, X_test, y_test, metrics)
    return info


def _print_run(out: Path, info: dict[str, Any], report: bool, seconds: float) -> None:
    from rich.table import Table

    console = _out()
    table = Table(title=f"{info['model']['class']} on {info['data']['source']}", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    for key, value in info["metrics"].items():
        table.add_row(key, f"{value:.4g}" if isinstance(value, float) else str(value))
    console.print(table)
    console.print(f"Model:  {out / 'model.lm'}")
    console.print(f"Run:    {out / 'run.json'}")
    if report:
        console.print(f"Report: [bold green]{out / 'report.html'}[/bold green] "
                      f"(figures: {out}/*.png)")
    console.print(f"Done in {seconds:.1f} s.")


# -- hidden Markov models ------------------------------------------------------------------------
HMM_MAX_STATES = 6
HMM_N_ITER = 200
HMM_TOL = 1e-3


def _parse_columns(text: str | None) -> list[str]:
    if text is None or not text.strip():
        raise _BadInput("--columns is required for hmm: name the CSV columns to model, e.g. "
                        "--columns waiting,duration")
    names = [part.strip() for part in text.split(",")]
    if not all(names):
        raise _BadInput(f"--columns must be comma-separated column names, got {text!r}")
    return names


def _parse_states(text: str) -> int | None:
    """``auto`` -> None, else a positive number of states."""
    if text.strip().lower() == "auto":
        return None
    try:
        value = int(text)
    except ValueError:
        raise _BadInput(f"--states must be a number of states or 'auto', got {text!r}") from None
    if value < 1:
        raise _BadInput(f"--states must be >= 1, got {value}")
    return value


def _load_series(
    source: str, columns: list[str], *, categorical: bool, log_returns: bool,
    lengths_column: str | None, categories: list[str] | None = None,
) -> Any:
    """Read sequences from a CSV; loader errors become one-line CLI errors naming the flag."""
    from ..runs.hmm import load_series

    try:
        return load_series(source, columns, categorical=categorical, log_returns=log_returns,
                           lengths_column=lengths_column, categories=categories)
    except FileNotFoundError:
        raise _BadInput(f"--data {source}: no such file (expected a .csv file with a header "
                        "row, or 'geyser')") from None
    except (ValueError, UnicodeDecodeError) as exc:
        text = str(exc)
        for prefix, flag in (("columns: ", "--columns "), ("lengths_column: ", "--lengths-column "),
                             ("log_returns: ", "--log-returns: ")):
            if text.startswith(prefix):
                text = flag + text[len(prefix):]
                break
        else:
            text = f"--data {source}: {text}"
        text = text.replace("needs categorical mode", "needs --categorical")
        raise _BadInput(text) from None


def _hmm_template(categorical: bool, covariance_type: CovarianceType | None, n_iter: int,
                  seed: int) -> Any:
    from ..hmm import CategoricalHMM, GaussianHMM

    if n_iter < 1:
        raise _BadInput(f"--n-iter must be >= 1, got {n_iter}")
    if categorical:
        if covariance_type is not None:
            raise _BadInput("--covariance-type does not apply to --categorical data")
        return CategoricalHMM(n_iter=n_iter, tol=HMM_TOL, random_state=seed)
    ctype = (covariance_type or CovarianceType.diag).value
    return GaussianHMM(covariance_type=ctype, n_iter=n_iter, tol=HMM_TOL, random_state=seed)


def fit_hmm_run(
    series: Any,
    template: Any,
    n_states: int | None,
    *,
    out: Path,
    command: list[str],
    max_states: int = HMM_MAX_STATES,
    report: bool = True,
) -> dict[str, Any]:
    """Fit an HMM on ``series`` (states by BIC when ``n_states`` is None), save model.lm and
    run.json into ``out``, write the report; returns the run.json contents.

    Example:
        >>> from latentmodels.hmm import GaussianHMM
        >>> from latentmodels.runs.hmm import load_series
        >>> info = fit_hmm_run(load_series("geyser", ["waiting", "duration"]),
        ...                    GaussianHMM(n_iter=50, random_state=0), None,
        ...                    out=Path("runs/geyser"), command=[])  # doctest: +SKIP
        >>> info["metrics"]["n_states"]  # doctest: +SKIP
        3
    """
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    from ..hmm import select_n_states
    from ..report.page import MODEL_FILE, run_header, write_report, write_run
    from ..runs.hmm import series_spec

    X, lengths = series.X, series.lengths
    n_obs = len(X)
    selection: dict[str, Any] | None = None
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if n_states is None:
            if max_states < 1:
                raise _BadInput(f"--max-states must be >= 1, got {max_states}")
            candidates = range(1, min(max_states, n_obs) + 1)
            model, scores = select_n_states(template, X, lengths, n_states=candidates)
            selection = {"criterion": "bic", "scores": {str(k): v for k, v in scores.items()}}
        else:
            if n_states > n_obs:
                raise _BadInput(f"--states {n_states} is more than the {n_obs} observations")
            model = template.set_params(n_components=n_states).fit(X, lengths)
    seconds = time.perf_counter() - started
    loglik = float(model.score(X, lengths))
    metrics: dict[str, Any] = {
        "n_states": int(model.n_components),
        "log_likelihood_per_step": loglik / n_obs,
        "log_likelihood": loglik,
        "bic": float(model.bic(X, lengths)),
        "aic": float(model.aic(X, lengths)),
        "em_iterations": int(model.n_iter_),
        "converged": bool(model.monitor_.converged),
        "n_observations": n_obs,
        "n_sequences": series.n_sequences,
        "train_seconds": round(seconds, 2),
    }
    model.save(out / MODEL_FILE)
    info: dict[str, Any] = {
        **run_header(command, model),
        "data": series_spec(series),
        "metrics": metrics,
    }
    if selection is not None:
        info["selection"] = selection
    write_run(out, info)
    if report:
        write_report(out, model, series.X, metrics=metrics, lengths=series.lengths)
    return info


def _train_hmm(
    *, data: str, out: Path, columns: str | None, states: str, max_states: int,
    covariance_type: CovarianceType | None, log_returns: bool, categorical: bool,
    lengths_column: str | None, n_iter: int, seed: int, report: bool, command: list[str],
) -> dict[str, Any]:
    names = _parse_columns(columns)
    n_states = _parse_states(states)
    if categorical and log_returns:
        raise _BadInput("--log-returns does not apply to --categorical data")
    template = _hmm_template(categorical, covariance_type, n_iter, seed)
    series = _load_series(data, names, categorical=categorical, log_returns=log_returns,
                          lengths_column=lengths_column)
    return fit_hmm_run(series, template, n_states, out=out, command=command,
                       max_states=max_states, report=report)


# -- using a model -------------------------------------------------------------------------------
ModelPath = Annotated[Path, typer.Argument(help="A saved model (.lm) or a run directory.")]
DataOption = Annotated[str, typer.Option(
    help="mnist | fashion-mnist | digits, or a path (.npz, .npy, .csv, IDX, image folder).")]


@app.command()
def encode(
    model: ModelPath,
    data: DataOption,
    out: Annotated[Path, typer.Option(help="Where to write the codes (.npy).")],
    limit: Annotated[int | None, typer.Option(help="Encode only the first N samples.")] = None,
) -> None:
    """Map data to latent codes (posterior means for VAEs); save them as .npy."""
    with _clean_errors():
        _check_out(out, (".npy",))
        estimator = _load_model(model)
        X, y = _load_data(data, limit)
        labels = _labels_for(estimator, y, data)
        codes = estimator.transform(X) if labels is None else estimator.transform(X, y=labels)
        _save_npy(out, codes)
        _out().print(f"Wrote codes of shape {codes.shape} to [bold]{out}[/bold]")


@app.command()
def decode(
    model: ModelPath,
    data: Annotated[str, typer.Option(
        help="A .csv with a header row, or geyser (bundled).")],
    out: Annotated[Path, typer.Option(help="Where to write the states (.csv).")],
    columns: Annotated[str | None, typer.Option(
        help="CSV columns, comma-separated. Default: those of the run the model came from.")
    ] = None,
    log_returns: Annotated[bool | None, typer.Option(
        "--log-returns/--no-log-returns",
        help="Model 100 * diff(log(x)). Default: as in the model's run.")] = None,
    lengths_column: Annotated[str | None, typer.Option(
        help="Column whose runs of equal values mark separate sequences. Default: as in the "
             "model's run.")] = None,
    algorithm: Annotated[DecodeAlgorithm, typer.Option(
        help="viterbi (best joint path) or map (most likely state per step).")
    ] = DecodeAlgorithm.viterbi,
) -> None:
    """Decode hidden states with an HMM: write each step's state and state posteriors (.csv).

    latentmodels decode runs/geyser --data geyser.csv --out states.csv
    """
    with _clean_errors():
        import csv

        _check_out(out, (".csv",))
        estimator = _load_model(model)
        from ..hmm import BaseHMM, CategoricalHMM

        if not isinstance(estimator, BaseHMM):
            raise _BadInput(f"decode needs an HMM; {model} holds a {type(estimator).__name__} "
                            "(use encode for other models)")
        run = _run_info_of(model, estimator)
        recorded = run.get("data") or {}
        names = (_parse_columns(columns) if columns is not None
                 else list(recorded.get("columns") or []) or _parse_columns(None))
        categorical = isinstance(estimator, CategoricalHMM)
        if log_returns is None:
            log_returns = bool(recorded.get("log_returns"))
        if categorical and log_returns:
            raise _BadInput("--log-returns does not apply to a categorical HMM")
        if lengths_column is None:
            lengths_column = recorded.get("lengths_column")
        series = _load_series(data, names, categorical=categorical, log_returns=log_returns,
                              lengths_column=lengths_column,
                              categories=recorded.get("categories") if categorical else None)
        _, states = estimator.decode(series.X, series.lengths, algorithm=algorithm.value)
        posteriors = estimator.predict_proba(series.X, series.lengths)
        K = estimator.n_components
        buffer = _stdlib_io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["row", "sequence", "state", *(f"p_state_{k}" for k in range(K))])
        for i in range(len(states)):
            writer.writerow([int(series.rows[i]), series.sequence_ids[i], int(states[i]),
                             *(f"{p:.6g}" for p in posteriors[i])])
        atomic_write_bytes(out, buffer.getvalue().encode("utf-8"))
        counts = np.bincount(states, minlength=K)
        shares = ", ".join(f"{k}: {c / len(states):.0%}" for k, c in enumerate(counts))
        _out().print(f"Decoded {len(states):,} steps ({series.n_sequences} sequence"
                     f"{'s' if series.n_sequences != 1 else ''}) into {K} states "
                     f"({algorithm.value}; time in each state {shares}); wrote "
                     f"[bold]{out}[/bold]")


def _run_info_of(model_path: Path, estimator: Any) -> dict[str, Any]:
    """run.json beside a model file (or in a run directory) when it describes this model."""
    import json

    folder = model_path if model_path.is_dir() else model_path.parent
    path = folder / "run.json"
    if not path.is_file():
        return {}
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    if not isinstance(info, dict) or (info.get("model") or {}).get("class") != type(
            estimator).__name__:
        return {}
    return info


@app.command()
def sample(
    model: ModelPath,
    out: Annotated[Path, typer.Option(help="samples.png (a grid) or samples.npy (the array).")],
    n: Annotated[int, typer.Option("-n", "--n-samples", help="How many samples.")] = 64,
    label: Annotated[int | None, typer.Option(help="Class to generate (cvae only).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
) -> None:
    """Draw new samples from a model; save a PNG grid or a .npy array."""
    with _clean_errors():
        suffix = _check_out(out, (".png", ".npy"))
        estimator = _load_model(model)
        if n < 1:
            raise _BadInput(f"-n must be >= 1, got {n}")
        conditional = is_conditional(estimator)
        if label is not None and not conditional:
            raise _BadInput(f"--label needs a conditional model (cvae); this is a "
                            f"{type(estimator).__name__}")
        if suffix == ".png":
            from ..plots import plot_samples

            plot_samples(estimator, n, y=label, random_state=seed, path=out)
            _out().print(f"Wrote a grid of {n} samples to [bold]{out}[/bold]")
            return
        if conditional:
            samples = estimator.sample(n, y=label, random_state=seed)
        else:
            samples = estimator.sample(n, random_state=seed)
        _save_npy(out, samples)
        _out().print(f"Wrote samples of shape {np.shape(samples)} to [bold]{out}[/bold]")


@app.command()
def reconstruct(
    model: ModelPath,
    data: DataOption,
    out: Annotated[Path, typer.Option(help="recon.png (originals vs reconstructions) or .npy.")],
    n: Annotated[int | None, typer.Option(
        "-n", "--n-samples", help="How many samples (default: 16 for .png, all for .npy).")] = None,
    start: Annotated[int, typer.Option(help="Index of the first sample.")] = 0,
) -> None:
    """Encode and decode samples; save a comparison grid or the reconstructions."""
    with _clean_errors():
        suffix = _check_out(out, (".png", ".npy"))
        estimator = _load_model(model)
        X, y = _load_data(data)
        if not 0 <= start < len(X):
            raise _BadInput(f"--start {start} is outside the data ({len(X)} samples)")
        count = n if n is not None else (16 if suffix == ".png" else len(X) - start)
        if count < 1:
            raise _BadInput(f"-n must be >= 1, got {count}")
        X = X[start : start + count]
        labels = _labels_for(estimator, None if y is None else y[start : start + count], data)
        if suffix == ".png":
            from ..plots import plot_reconstructions

            plot_reconstructions(estimator, X, labels, n=len(X), path=out)
            _out().print(f"Wrote {len(X)} reconstructions to [bold]{out}[/bold]")
            return
        if labels is None:
            recon = estimator.inverse_transform(estimator.transform(X))
        else:
            recon = estimator.inverse_transform(estimator.transform(X, y=labels), y=labels)
        _save_npy(out, recon)
        _out().print(f"Wrote reconstructions of shape {recon.shape} to [bold]{out}[/bold]")


@app.command()
def interpolate(
    model: ModelPath,
    data: DataOption,
    out: Annotated[Path, typer.Option(help="strip.png or strip.npy.")],
    start: Annotated[int, typer.Option(help="Index of the start sample.")] = 0,
    end: Annotated[int, typer.Option(help="Index of the end sample.")] = 1,
    steps: Annotated[int, typer.Option(help="Points on the path, ends included.")] = 10,
    spherical: Annotated[bool, typer.Option(
        help="Spherical (slerp) instead of linear interpolation.")] = False,
) -> None:
    """Decode the latent path between two samples of the data."""
    with _clean_errors():
        suffix = _check_out(out, (".png", ".npy"))
        estimator = _load_model(model)
        X, y = _load_data(data)
        for flag, index in (("--start", start), ("--end", end)):
            if not 0 <= index < len(X):
                raise _BadInput(f"{flag} {index} is outside the data ({len(X)} samples)")
        if steps < 2:
            raise _BadInput(f"--steps must be >= 2, got {steps}")
        method = "spherical" if spherical else "linear"
        labels = _labels_for(estimator, y, data)
        if suffix == ".png":
            from ..plots import plot_interpolations

            plot_interpolations(estimator, X, [(start, end)], labels, steps=steps, method=method,
                                path=out)
        else:
            from ..tasks.interpolate import latent_path

            pair = X[[start, end]]
            if labels is None:
                codes = estimator.transform(pair)
                strip = estimator.inverse_transform(
                    latent_path(codes[0], codes[1], steps, method).astype(np.float32))
            else:
                # A conditional model walks within the start sample's class.
                label = labels[start]
                codes = estimator.transform(pair, y=label)
                strip = estimator.inverse_transform(
                    latent_path(codes[0], codes[1], steps, method).astype(np.float32), y=label)
            _save_npy(out, strip)
        _out().print(f"Wrote a {method} interpolation of {steps} steps ({start} -> {end}) to "
                     f"[bold]{out}[/bold]")


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="A run directory written by train or demo.")],
    threads: Annotated[int, typer.Option(help="CPU threads (see demo --help).")] = DEMO_THREADS,
) -> None:
    """Rebuild RUN_DIR/report.html from the saved model and the data named in run.json."""
    with _clean_errors(), _threads(threads):
        from ..report.page import read_run, write_report

        read_run(run_dir)  # fail early and clearly on a directory that is not a run
        path = write_report(run_dir)
        _out().print(f"Report: [bold green]{path}[/bold green] (figures: {run_dir}/*.png)")


@app.command()
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
    """Train a VAE, an HMM and an LDA topic model on bundled data; write one HTML report.

    The VAE learns the embedded MNIST digits, the HMM the Old Faithful geyser series and the
    topic model a 2,000-post sample of 20 Newsgroups. One to two minutes on two cores.
    """
    with _clean_errors(), _threads(threads):
        from ..deep import VAE
        from ..report.page import write_report, write_run

        started = time.perf_counter()
        if epochs < 1:
            raise _BadInput(f"--epochs must be >= 1, got {epochs}")
        X, y = _load_data("mnist", limit)
        console = _out()
        console.print(
            f"[bold]latentmodels demo[/bold]: a VAE (latent_dim={DEMO_LATENT_DIM}, hidden "
            f"{DEMO_HIDDEN}) on {len(X):,} MNIST digits, {epochs} epochs; "
            f"{math.floor(len(X) * DEFAULT_TEST_FRACTION + 0.5):,} held out for testing."
        )
        estimator = VAE(latent_dim=DEMO_LATENT_DIM, hidden_dims=DEMO_HIDDEN, epochs=epochs,
                        random_state=0, verbose=0 if quiet else 1)
        command = ["latentmodels", "demo", "--out", str(out), "--epochs", str(epochs)]
        info = _train_run(estimator, X, y, out=out, source="mnist", limit=limit,
                          test_fraction=DEFAULT_TEST_FRACTION, command=command, resume=False,
                          iwae=IWAE_SAMPLES, report=False)
        hmm_info = _demo_hmm(out / DEMO_HMM_DIR)
        hmm_metrics = hmm_info["metrics"]
        console.print(
            f"HMM: Old Faithful eruptions ({hmm_metrics['n_observations']} steps of waiting "
            f"time and duration): BIC chose [bold]{hmm_metrics['n_states']} states[/bold] "
            f"(log-likelihood {hmm_metrics['log_likelihood_per_step']:.3f} nats/step); "
            f"model in {out / DEMO_HMM_DIR}."
        )
        lda_info = _demo_lda(out / DEMO_LDA_DIR, threads)
        lda_metrics = lda_info["metrics"]
        console.print(
            f"LDA: {lda_metrics['n_topics']} topics in {lda_metrics['n_train_docs']:,} "
            f"20 Newsgroups posts (held-out perplexity {lda_metrics['perplexity']:.0f}, mean "
            f"NPMI {lda_metrics['mean_npmi']:.3f}); model in {out / DEMO_LDA_DIR}."
        )
        # The report's HMM and topic sections read these sub-runs.
        info["hmm_run"] = DEMO_HMM_DIR
        info["hmm_title"] = DEMO_HMM_TITLE
        info["lda_run"] = DEMO_LDA_DIR
        info["lda_title"] = DEMO_LDA_TITLE
        write_run(out, info)
        write_report(out, estimator, metrics=info["metrics"])
        _print_run(out, info, True, time.perf_counter() - started)
        console.print(f"Open it with:  [bold]xdg-open {out / 'report.html'}[/bold]  "
                      "(or any web browser)")


def _demo_hmm(out: Path) -> dict[str, Any]:
    """The demo's HMM: a GaussianHMM on the bundled geyser series, states chosen by BIC."""
    from ..hmm import GaussianHMM
    from ..runs.hmm import load_series

    series = load_series("geyser", list(DEMO_HMM_COLUMNS))
    template = GaussianHMM(covariance_type="diag", n_iter=HMM_N_ITER, tol=HMM_TOL,
                           random_state=0)
    command = ["latentmodels", "train", "hmm", "--data", "geyser", "--columns",
               ",".join(DEMO_HMM_COLUMNS), "--states", "auto", "--seed", "0", "--out", str(out)]
    return fit_hmm_run(series, template, None, out=out, command=command, report=False)


def _demo_lda(out: Path, threads: int) -> dict[str, Any]:
    """The demo's topic model: LDA on the bundled 2,000-post 20 Newsgroups sample."""
    from ..lda.model import LDA
    from ..runs.lda import fit_lda_run, load_texts

    command = ["latentmodels", "train", "lda", "--data", "newsgroups", "--topics",
               str(DEMO_LDA_TOPICS), "--seed", "0", "--out", str(out)]
    return fit_lda_run(load_texts("newsgroups"),
                       LDA(DEMO_LDA_TOPICS, random_state=0, n_jobs=threads), out=out,
                       command=command, report=False)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"latentmodels {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", help="Show the version and exit.",
                                          is_eager=True, callback=_show_version)] = False,
) -> None:
    """Fit latent variable models, look inside the latent space, put it to work."""


def main() -> None:
    """Entry point of the ``latentmodels`` console script."""
    app()


if __name__ == "__main__":
    main()


# `train <family>`, the topic-model verbs (topics, transform) and the latent-space task verbs
# (map, traverse, anomaly, denoise, probe) live in their own modules.
from .lda import register as _register_topic_verbs  # noqa: E402
from .tasks import register as _register_task_verbs  # noqa: E402
from .train import train_app  # noqa: E402

app.add_typer(train_app)
_register_topic_verbs(app)
_register_task_verbs(app)
