"""What every verb module of the command line shares: the option types, error handling
(one red line and exit code 2 for bad input), data and model loading, thread limits, and the
run summary table. Verb modules import from here, never from each other."""

from __future__ import annotations

import contextlib
import io as _stdlib_io
import os
from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.markup import escape

from ..runs.defaults import HMM_TOL

EXIT_BAD_INPUT = 2


# Heavy modules (torch, matplotlib, numba) are imported inside the functions that need them,
# so `latentmodels --help` starts quickly.

# Measured on the 2-core CI box while other jobs ran: 1 thread ~0.8 s/epoch, 2 threads 7-30 s
# (OpenMP threads wait on each other when a core is taken), so demo and report pin one thread.
DEMO_THREADS = 1


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


def stdout() -> Console:
    """The console for normal output (no syntax highlighting of numbers and paths)."""
    return Console(highlight=False)


class BadInput(Exception):
    """A command-line input problem; :func:`clean_errors` shows the message as is."""


@contextlib.contextmanager
def clean_errors() -> Iterator[None]:
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
        BadInput,
        ValueError,
        TypeError,
        OSError,
        EOFError,
        MemoryError,
        ImportError,
        NotFittedError,
        TrainingDivergedError,
    ) as exc:
        if os.environ.get("LATENTMODELS_DEBUG"):
            raise  # developers get the full traceback
        message = _one_line(exc)
        console = Console(stderr=True, highlight=False, soft_wrap=True)
        console.print(f"[bold red]Error:[/bold red] {escape(message)}")
        raise typer.Exit(EXIT_BAD_INPUT) from None


@contextlib.contextmanager
def shown_warnings(replacements: dict[str, str] | None = None) -> Iterator[None]:
    """Show the ``UserWarning``s raised meanwhile as one yellow ``Warning:`` line each.

    ``replacements`` rewrite library words into option names (``min_df=`` -> ``--min-df ``).
    Other warnings pass through unchanged.
    """
    import warnings

    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as recorded:
            warnings.simplefilter("always", UserWarning)
            try:
                yield
            finally:
                caught = list(recorded)
    finally:
        # Outside catch_warnings: inside it, showwarning would record instead of showing.
        console = Console(stderr=True, highlight=False, soft_wrap=True)
        seen: set[str] = set()
        for record in caught:
            if not issubclass(record.category, UserWarning):
                warnings.showwarning(record.message, record.category, record.filename,
                                     record.lineno)
                continue
            text = str(record.message)
            for old, new in (replacements or {}).items():
                text = text.replace(old, new)
            if text not in seen:
                seen.add(text)
                console.print(f"[bold yellow]Warning:[/bold yellow] {escape(text)}")


def _one_line(exc: BaseException) -> str:
    """The first line of an error's message, with the file named for OS errors."""
    if isinstance(exc, MemoryError):
        return "not enough memory for this request; ask for fewer samples or steps"
    if isinstance(exc, FileExistsError) and exc.filename and Path(exc.filename).is_file():
        return (f"{exc.filename} is a file, where a folder is needed (pass a new folder, or "
                "an existing one)")
    if isinstance(exc, NotADirectoryError) and exc.filename:
        return f"{exc.filename}: part of this path is a file, not a folder"
    if isinstance(exc, OSError) and exc.strerror and exc.filename and not isinstance(
            exc, FileNotFoundError):
        return f"{exc.filename}: {exc.strerror}"
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def load_data(
    source: str, limit: int | None = None, *, image_size: str | None = None,
    grayscale: bool = False,
) -> tuple[np.ndarray, np.ndarray | None]:
    """``--data`` (with ``--limit``, ``--image-size``, ``--grayscale``) as ``(X, y)``.

    Image folders keep their size and colour unless the options ask otherwise.
    """
    from ..datasets import load_dataset

    options: dict[str, Any] = {}
    if image_size is not None:
        options["size"] = parse_image_size(image_size)
    if grayscale:
        options["grayscale"] = True
    if options and not Path(source).expanduser().is_dir():
        flags = " and ".join(f for f, on in (("--image-size", image_size is not None),
                                             ("--grayscale", grayscale)) if on)
        raise BadInput(f"{flags} apply only to a folder of images, not --data {source}")
    try:
        X, y = load_dataset(source, **options)
    except (ValueError, FileNotFoundError) as exc:
        text = str(exc).replace("name_or_path: ", "")
        text = text.replace("pass size= to resize them all", "pass --image-size to resize them")
        text = text.replace("call load_fashion_mnist(download=True) to download",
                            "download (Python: load_fashion_mnist(download=True))")
        text = text.replace("Call load_olivetti_faces(download=True) to download them",
                            "Download them once (Python: load_olivetti_faces(download=True))")
        text = text.replace("or pass path= an .npz file", "or pass --data an .npz file")
        text = text.replace("or pass path= a folder holding them",
                            "or pass --data FOLDER holding them (or an .npz with images and "
                            "labels)")
        raise BadInput(f"--data {source}: {text}") from exc
    except TypeError as exc:  # an option the loader of this source does not take
        raise BadInput(f"--image-size/--grayscale do not apply to --data {source}") from exc
    if limit is not None:
        if limit < 1:
            raise BadInput(f"--limit must be >= 1, got {limit}")
        X, y = X[:limit], None if y is None else y[:limit]
    return X, y


def parse_image_size(text: str) -> tuple[int, int]:
    """``--image-size 28x28`` (HEIGHTxWIDTH, or one number for a square) as a pair."""
    parts = text.lower().replace("*", "x").split("x")
    try:
        values = tuple(int(part) for part in parts)
    except ValueError:
        values = ()
    if len(values) == 1:
        values = (values[0], values[0])
    if len(values) != 2 or min(values) < 1:
        raise BadInput(f"--image-size must be HEIGHTxWIDTH with positive numbers, e.g. 28x28, "
                       f"got {text!r}")
    return values  # type: ignore[return-value]


def fitting_batch_size(batch_size: int, n_samples: int, *fractions: float) -> int:
    """``--batch-size``, reduced with a notice when the data left for fitting is smaller.

    ``fractions`` are the shares held out one after the other (test, then validation).
    """
    if batch_size < 1:
        raise BadInput(f"--batch-size must be >= 1, got {batch_size}")
    n_fit = n_samples
    for fraction in fractions:
        if 0 < fraction < 1 and n_fit > 1:
            n_fit -= min(max(int(round(n_fit * fraction)), 1), n_fit - 1)
    if batch_size <= n_fit:
        return batch_size
    stdout().print(  # a note, not an error: stderr stays for what went wrong
        f"[yellow]Note:[/yellow] --batch-size {batch_size} is more than the {n_fit} samples "
        f"left for fitting; using batches of {n_fit}.")
    return max(n_fit, 1)


def load_model_argument(path: Path) -> Any:
    if path.is_dir() and (path / "model.lm").is_file():
        path = path / "model.lm"  # accept a run directory for convenience
    if not path.exists():
        raise FileNotFoundError(f"MODEL: no such model file: {path}")
    from ..rundir import load_model

    return load_model(path)


def labels_for(model: Any, y: np.ndarray | None, source: str) -> np.ndarray | None:
    from ..plots import is_conditional

    if is_conditional(model):
        if y is None:
            raise BadInput(f"--data {source} has no labels, but a {type(model).__name__} needs "
                            "them")
        return y
    return None


def save_npy(path: Path, array: np.ndarray) -> None:
    from .._internal.io import atomic_write_bytes

    buffer = _stdlib_io.BytesIO()
    np.save(buffer, np.asarray(array), allow_pickle=False)
    atomic_write_bytes(path, buffer.getvalue())


def check_out(path: Path, allowed: tuple[str, ...]) -> str:
    suffix = path.suffix.lower()
    if suffix not in allowed:
        raise BadInput(f"--out must end in {' or '.join(allowed)}, got {str(path)!r}")
    return suffix


#: ``--resume``, the same on every ``train`` verb that checkpoints.
ResumeOption = Annotated[bool, typer.Option(
    help="Continue a killed run from OUT/checkpoints (same options).")]


def checkpoint_settings(out: Path, every: int, resume: bool) -> dict[str, Any]:
    """An estimator's ``checkpoint_dir`` and ``checkpoint_every`` for ``--checkpoint-every``
    (0: off; the estimator's default interval then stays) and ``--resume``: checkpoints go
    into ``OUT/checkpoints``.

    Examples
    --------
    >>> checkpoint_settings(Path("run"), 3, False)
    {'checkpoint_dir': 'run/checkpoints', 'checkpoint_every': 3}
    >>> checkpoint_settings(Path("run"), 0, False)
    {'checkpoint_dir': None}
    """
    if every < 0:
        raise BadInput(f"--checkpoint-every must be >= 0, got {every}")
    if every == 0 and not resume:
        return {"checkpoint_dir": None}
    return {"checkpoint_dir": str(out / "checkpoints"), "checkpoint_every": max(every, 1)}


def parse_hidden(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        sizes = tuple(int(part) for part in text.replace(" ", "").split(",") if part)
    except ValueError:
        raise BadInput(f"--hidden-dims must be comma-separated integers, got {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise BadInput(f"--hidden-dims must be positive integers, got {text!r}")
    return sizes


@contextlib.contextmanager
def cpu_threads(threads: int | None) -> Iterator[None]:
    """Use ``threads`` CPU threads in torch, numba and the BLAS/OpenMP pools (t-SNE) meanwhile.

    None leaves the choice to the library's thread policy (free cores, adapted during a fit).
    """
    if threads is None:
        yield
        return
    from threadpoolctl import threadpool_limits

    from .._internal.threads import requested_threads, restored_threads, set_threads

    if threads < 1:
        raise BadInput(f"--threads must be >= 1, got {threads}")
    with restored_threads(), requested_threads(threads), threadpool_limits(threads):
        set_threads(threads)
        yield


def print_run(out: Path, info: dict[str, Any], report: bool, seconds: float) -> None:
    from rich.table import Table

    console = stdout()
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


def parse_columns(text: str | None) -> list[str]:
    if text is None or not text.strip():
        raise BadInput("--columns is required for hmm: name the CSV columns to model, e.g. "
                        "--columns waiting,duration")
    names = [part.strip() for part in text.split(",")]
    if not all(names):
        raise BadInput(f"--columns must be comma-separated column names, got {text!r}")
    return names


def parse_states(text: str) -> int | None:
    """``auto`` -> None, else a positive number of states."""
    if text.strip().lower() == "auto":
        return None
    try:
        value = int(text)
    except ValueError:
        raise BadInput(f"--states must be a number of states or 'auto', got {text!r}") from None
    if value < 1:
        raise BadInput(f"--states must be >= 1, got {value}")
    return value


def load_series_argument(
    source: str, columns: list[str], *, categorical: bool, log_returns: bool,
    lengths_column: str | None, categories: list[str] | None = None,
) -> Any:
    """Read sequences from a CSV; loader errors become one-line CLI errors naming the flag."""
    from ..datasets.series import load_series

    try:
        return load_series(source, columns, categorical=categorical, log_returns=log_returns,
                           lengths_column=lengths_column, categories=categories)
    except FileNotFoundError:
        raise BadInput(f"--data {source}: no such file (expected a .csv file with a header "
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
        raise BadInput(text) from None




def hmm_template(emission: str | None, categorical: bool,
                 covariance_type: CovarianceType | None, options: list[str] | None,
                 n_iter: int, seed: int) -> tuple[Any, Any]:
    """The unfitted HMM a ``train hmm`` command asks for, and its emission's registry entry.

    ``--emission`` names any registered emission type (plug-ins included); ``--categorical``
    is the same as ``--emission categorical`` and ``--covariance-type X`` the same as
    ``--option covariance_type=X``.
    """
    from ..hmm.emissions import get_emission

    if n_iter < 1:
        raise BadInput(f"--n-iter must be >= 1, got {n_iter}")
    if categorical and emission not in (None, "categorical"):
        raise BadInput(f"--categorical contradicts --emission {emission}")
    name = "categorical" if categorical else (emission or "gaussian")
    try:
        spec = get_emission(name)
    except ValueError as exc:
        raise BadInput(f"--emission: {exc}") from None
    settings = list(options or [])
    if covariance_type is not None:
        if "covariance_type" not in spec.hyperparameters:
            where = "--categorical data" if name == "categorical" else f"{name} emissions"
            raise BadInput(f"--covariance-type does not apply to {where}")
        settings.append(f"covariance_type={covariance_type.value}")
    try:
        template = spec.make(settings, n_iter=n_iter, tol=HMM_TOL, random_state=seed)
    except ValueError as exc:
        raise BadInput(f"--option: {exc}") from None
    return template, spec


ModelPath = Annotated[Path, typer.Argument(help="A saved model (.lm) or a run directory.")]


DataOption = Annotated[str, typer.Option(
    help="mnist | digits | fashion-mnist | faces (the last two need their files; the error "
         "says how), or a path (.npz, .npy, .csv, IDX, image folder).")]


def recorded_command(ctx: typer.Context, effective: dict[str, Any] | None = None) -> list[str]:
    """The running command with every option at its effective value, so it repeats the run.

    ``effective`` replaces values the command resolved itself (a thread count, a model's own
    default in place of None). Flags are written as flags (``--report``/``--no-report``).
    """
    effective = effective or {}
    # The sub-command names below the root, whatever started the program
    # (``latentmodels``, ``python -m latentmodels``, a test runner).
    names, level = [], ctx
    while level.parent is not None:
        names.append(level.info_name)
        level = level.parent
    words = ["latentmodels", *reversed(names)]
    for param in ctx.command.params:
        if param.name == "help" or param.name is None:
            continue
        value = effective.get(param.name, ctx.params.get(param.name))
        if isinstance(value, Enum):
            value = value.value
        names = [opt for opt in param.opts if opt.startswith("--")] or list(param.opts)
        if getattr(param, "is_flag", False):
            negative = [opt for opt in param.secondary_opts if opt.startswith("--")]
            if value:
                words.append(names[0])
            elif negative:
                words.append(negative[0])
            continue
        if value is None:
            continue
        if param.name == "data" and isinstance(value, str) and Path(value).expanduser().exists():
            value = str(Path(value).expanduser().resolve())  # rerun from any folder
        if not param.opts[0].startswith("-"):  # a positional argument
            words.append(str(value))
            continue
        for item in (value if isinstance(value, (list, tuple)) else [value]):
            words += [names[0], str(getattr(item, "value", item))]
    return words


def resolved_threads(threads: int | None) -> int:
    """``--threads``, or else the most torch threads the automatic policy may use (torch's
    count), so run.json records a number."""
    if threads is not None:
        if threads < 1:
            raise BadInput(f"--threads must be >= 1, got {threads}")
        return threads
    import torch

    return torch.get_num_threads()
