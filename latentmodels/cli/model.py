"""Verbs that use a fitted model: ``encode``, ``decode``, ``sample``, ``reconstruct``,
``interpolate`` and ``report``."""

from __future__ import annotations

import io as _stdlib_io
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from ._common import (
    DEMO_THREADS,
    BadInput,
    DataOption,
    DecodeAlgorithm,
    ModelPath,
    check_out,
    clean_errors,
    cpu_threads,
    labels_for,
    load_data,
    load_model_argument,
    load_series_argument,
    parse_columns,
    save_npy,
    stdout,
)

__all__ = ["register"]


def encode(
    model: ModelPath,
    data: DataOption,
    out: Annotated[Path, typer.Option(help="Where to write the codes (.npy).")],
    limit: Annotated[int | None, typer.Option(help="Encode only the first N samples.")] = None,
) -> None:
    """Map data to latent codes (posterior means for VAEs); save them as .npy."""
    with clean_errors():
        check_out(out, (".npy",))
        estimator = load_model_argument(model)
        _refuse_sequence_and_topic_models(estimator, "encode")
        X, y = load_data(data, limit)
        labels = labels_for(estimator, y, data)
        codes = estimator.transform(X) if labels is None else estimator.transform(X, y=labels)
        save_npy(out, codes)
        stdout().print(f"Wrote codes of shape {codes.shape} to [bold]{out}[/bold]")


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
    with clean_errors():
        import csv

        check_out(out, (".csv",))
        estimator = load_model_argument(model)
        from ..hmm import BaseHMM
        from ..hmm.emissions import emission_of

        if not isinstance(estimator, BaseHMM):
            raise BadInput(f"decode needs an HMM; {model} holds a {type(estimator).__name__} "
                            "(use encode for other models)")
        run = _run_info_of(model, estimator)
        recorded = run.get("data") or {}
        names = (parse_columns(columns) if columns is not None
                 else list(recorded.get("columns") or []) or parse_columns(None))
        categorical = emission_of(estimator).data == "symbols"
        if log_returns is None:
            log_returns = bool(recorded.get("log_returns"))
        if categorical and log_returns:
            raise BadInput("--log-returns does not apply to a categorical HMM")
        if lengths_column is None:
            lengths_column = recorded.get("lengths_column")
        series = load_series_argument(data, names, categorical=categorical, log_returns=log_returns,
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
        from .._internal.io import atomic_write_bytes

        atomic_write_bytes(out, buffer.getvalue().encode("utf-8"))
        counts = np.bincount(states, minlength=K)
        shares = ", ".join(f"{k}: {c / len(states):.0%}" for k, c in enumerate(counts))
        stdout().print(f"Decoded {len(states):,} steps ({series.n_sequences} sequence"
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


def _family(estimator: Any) -> str:
    """"hmm", "lda" or "array" (the models whose data are arrays of samples).

    Read from the loaded modules: a model of a family whose module was never imported
    cannot belong to it, and importing the HMM or LDA kernels for a VAE would be slow."""
    import sys

    hmm, lda = sys.modules.get("latentmodels.hmm.base"), sys.modules.get("latentmodels.lda.model")
    if hmm is not None and isinstance(estimator, hmm.BaseHMM):
        return "hmm"
    return "lda" if lda is not None and isinstance(estimator, lda.LDA) else "array"


def _refuse_sequence_and_topic_models(estimator: Any, verb: str) -> None:
    """One clear line for a verb that reads arrays of samples, given an HMM or an LDA."""
    family = _family(estimator)
    if family == "hmm":
        raise BadInput(f"{verb} works on models of arrays (autoencoders, VAEs, GANs); for an "
                       "HMM use `latentmodels decode MODEL --data SERIES.csv --out states.csv` "
                       "(states and state posteriors of each step)")
    if family == "lda":
        raise BadInput(f"{verb} works on models of arrays (autoencoders, VAEs, GANs); for an "
                       "LDA use `latentmodels transform MODEL --data TEXTS --out topics.csv` "
                       "(each document's topic proportions)")


def sample(
    model: ModelPath,
    out: Annotated[Path, typer.Option(
        help="samples.png (a grid) or samples.npy (the array); for an HMM samples.npy or "
             "samples.csv (state and observation of each step); for an LDA samples.txt "
             "(one document per line) or samples.npy (word counts).")],
    n: Annotated[int, typer.Option("-n", "--n-samples", help="How many samples.")] = 64,
    label: Annotated[int | None, typer.Option(help="Class to generate (cvae only).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
) -> None:
    """Draw new samples from a model; save a PNG grid or a .npy array."""
    with clean_errors():
        suffix = out.suffix.lower()
        estimator = load_model_argument(model)
        if n < 1:
            raise BadInput(f"-n must be >= 1, got {n}")
        family = _family(estimator)
        if family != "array":
            if label is not None:
                raise BadInput(f"--label needs a conditional model (cvae); this is a "
                               f"{type(estimator).__name__}")
            if family == "hmm":
                recorded = (_run_info_of(model, estimator).get("data") or {}).get("columns")
                _sample_sequence(estimator, n, out, seed, recorded)
            else:
                _sample_documents(estimator, n, out, seed)
            return
        check_out(out, (".png", ".npy"))
        from ..plots import is_conditional

        conditional = is_conditional(estimator)
        if label is not None and not conditional:
            raise BadInput(f"--label needs a conditional model (cvae); this is a "
                            f"{type(estimator).__name__}")
        if suffix == ".png":
            from ..plots import plot_samples

            plot_samples(estimator, n, y=label, random_state=seed, path=out)
            stdout().print(f"Wrote a grid of {n} samples to [bold]{out}[/bold]")
            return
        if conditional:
            samples = estimator.sample(n, y=label, random_state=seed)
        else:
            samples = estimator.sample(n, random_state=seed)
        save_npy(out, samples)
        stdout().print(f"Wrote samples of shape {np.shape(samples)} to [bold]{out}[/bold]")


def _sample_sequence(
    estimator: Any, n: int, out: Path, seed: int, columns: Any = None
) -> None:
    """An HMM's sample: one sequence of ``n`` steps, as .npy observations or a .csv (with
    the training data's column names when its run recorded them)."""
    import csv

    suffix = check_out(out, (".npy", ".csv"))
    X, states = estimator.sample(n, random_state=seed)
    X = np.asarray(X)
    if not (isinstance(columns, list) and len(columns) == X.shape[1]
            and all(isinstance(c, str) for c in columns)):
        columns = [f"x{j}" for j in range(X.shape[1])]
    if suffix == ".npy":
        save_npy(out, X)
    else:
        buffer = _stdlib_io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["step", "state", *columns])
        for step, (state, row) in enumerate(zip(states.tolist(), X.tolist(), strict=True)):
            writer.writerow([step, state, *(f"{v:.6g}" for v in row)])
        from .._internal.io import atomic_write_bytes

        atomic_write_bytes(out, buffer.getvalue().encode("utf-8"))
    stdout().print(f"Wrote a sequence of {len(X):,} steps ({X.shape[1]} feature"
                   f"{'s' if X.shape[1] != 1 else ''}) to [bold]{out}[/bold]")


def _sample_documents(estimator: Any, n: int, out: Path, seed: int) -> None:
    """An LDA's sample: ``n`` generated documents, as text lines or a word-count array."""
    from .._internal.validation import check_affordable

    suffix = check_out(out, (".txt", ".npy"))
    if suffix == ".txt":
        if estimator.vocabulary_ is None:
            raise BadInput("this LDA has no vocabulary (it was fitted on counts); write "
                           "word counts with --out samples.npy")
        documents = estimator.sample(n, as_text=True, random_state=seed)
        from .._internal.io import atomic_write_text

        atomic_write_text(out, "".join(f"{document}\n" for document in documents))
    else:
        check_affordable(n, 8 * int(estimator.n_features_in_), "-n")
        counts = estimator.sample(n, random_state=seed)
        save_npy(out, np.asarray(counts.toarray(), dtype=np.int64))
    stdout().print(f"Wrote {n:,} generated document{'s' if n != 1 else ''} to "
                   f"[bold]{out}[/bold]")


def reconstruct(
    model: ModelPath,
    data: DataOption,
    out: Annotated[Path, typer.Option(help="recon.png (originals vs reconstructions) or .npy.")],
    n: Annotated[int | None, typer.Option(
        "-n", "--n-samples", help="How many samples (default: 16 for .png, all for .npy).")] = None,
    start: Annotated[int, typer.Option(help="Index of the first sample.")] = 0,
) -> None:
    """Encode and decode samples; save a comparison grid or the reconstructions."""
    with clean_errors():
        suffix = check_out(out, (".png", ".npy"))
        estimator = load_model_argument(model)
        _refuse_sequence_and_topic_models(estimator, "reconstruct")
        X, y = load_data(data)
        if not 0 <= start < len(X):
            raise BadInput(f"--start {start} is outside the data ({len(X)} samples)")
        count = n if n is not None else (16 if suffix == ".png" else len(X) - start)
        if count < 1:
            raise BadInput(f"-n must be >= 1, got {count}")
        X = X[start : start + count]
        labels = labels_for(estimator, None if y is None else y[start : start + count], data)
        if suffix == ".png":
            from ..plots import plot_reconstructions

            plot_reconstructions(estimator, X, labels, n=len(X), path=out)
            stdout().print(f"Wrote {len(X)} reconstructions to [bold]{out}[/bold]")
            return
        if labels is None:
            recon = estimator.inverse_transform(estimator.transform(X))
        else:
            recon = estimator.inverse_transform(estimator.transform(X, y=labels), y=labels)
        save_npy(out, recon)
        stdout().print(f"Wrote reconstructions of shape {recon.shape} to [bold]{out}[/bold]")


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
    with clean_errors():
        suffix = check_out(out, (".png", ".npy"))
        estimator = load_model_argument(model)
        _refuse_sequence_and_topic_models(estimator, "interpolate")
        if steps < 2:
            raise BadInput(f"--steps must be >= 2, got {steps}")
        from .._internal.validation import check_affordable

        # Refused before any work when the strip (or the picture) cannot fit in memory.
        per_step = 4 * (int(getattr(estimator, "n_features_in_", 1))
                        + int(getattr(estimator, "latent_dim", 1)))
        try:
            check_affordable(steps, per_step * (3 if suffix == ".png" else 1), "--steps")
        except ValueError as exc:
            raise BadInput(str(exc)) from None
        X, y = load_data(data)
        for flag, index in (("--start", start), ("--end", end)):
            if not 0 <= index < len(X):
                raise BadInput(f"{flag} {index} is outside the data ({len(X)} samples)")
        method = "spherical" if spherical else "linear"
        labels = labels_for(estimator, y, data)
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
            save_npy(out, strip)
        stdout().print(f"Wrote a {method} interpolation of {steps} steps ({start} -> {end}) to "
                     f"[bold]{out}[/bold]")


def report(
    run_dir: Annotated[Path, typer.Argument(help="A run directory written by train or demo.")],
    threads: Annotated[int, typer.Option(help="CPU threads (see demo --help).")] = DEMO_THREADS,
) -> None:
    """Rebuild RUN_DIR/report.html from the saved model and the data named in run.json."""
    with clean_errors(), cpu_threads(threads):
        from ..report import write_report
        from ..rundir import read_run

        read_run(run_dir)  # fail early and clearly on a directory that is not a run
        path = write_report(run_dir)
        stdout().print(f"Report: [bold green]{path}[/bold green] (figures: {run_dir}/*.png)")


def register(app: typer.Typer) -> None:
    """Add the model verbs to ``app``."""
    for command in (encode, decode, sample, reconstruct, interpolate, report):
        app.command()(command)
