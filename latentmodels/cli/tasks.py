"""CLI verbs that put a saved model's latent space to work: ``map``, ``traverse``, ``anomaly``,
``denoise`` and ``probe``; and ``debias``, which trains a debiasing VAE on a biased set.

    latentmodels map runs/vae --out map.png --neighbors-out neighbours.png
    latentmodels traverse runs/vae --out traversal.png --index 3
    latentmodels anomaly runs/vae --out runs/vae/anomaly --anomaly-class 0
    latentmodels denoise runs/vae --out denoise.png --corruption masking --level 0.5
    latentmodels probe runs/vae --labels 100,1000,all
    latentmodels debias --data mnist --positive 7 --rule slant --out runs/debias

``MODEL`` is a saved model (.lm) or a run directory. Without ``--data`` a run directory's
held-out split (recorded in its run.json) is used. :func:`register` adds the verbs to a Typer
app; errors end in one red line and exit code 2, like every other verb.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from . import _common as cli

__all__ = ["register"]

ModelArgument = Annotated[Path, typer.Argument(help="A saved model (.lm) or a run directory.")]
DataOption = Annotated[str | None, typer.Option(
    help="mnist | fashion-mnist | digits | faces, or a path. Default: the held-out split of "
         "the run the model came from.")]
LimitOption = Annotated[int | None, typer.Option(help="Use only the first N samples.")]
ThreadsOption = Annotated[int, typer.Option(help="CPU threads for torch and BLAS.")]


def _model_and_data(model: Path, data: str | None, limit: int | None):
    """Load the model, and the data: ``--data`` or the run's held-out split."""
    estimator = cli.load_model_argument(model)
    if data is not None:
        X, y = cli.load_data(data, limit)
        return estimator, X, y, data
    from ..rundir import load_run_data, read_run

    folder = model if model.is_dir() else model.parent
    if not (folder / "run.json").is_file():
        raise cli.BadInput(f"--data is needed: {model} is not in a run directory with run.json")
    X, y = load_run_data(read_run(folder))
    if limit is not None:
        if limit < 1:
            raise cli.BadInput(f"--limit must be >= 1, got {limit}")
        X, y = X[:limit], None if y is None else y[:limit]
    return estimator, X, y, f"held-out split of {folder}"


def _refuse_hmm(estimator: Any, verb: str) -> None:
    from ..report.context import is_hmm

    if is_hmm(estimator):
        name = type(estimator).__name__
        raise cli.BadInput(f"{verb} works on image models; this is a {name}")


def _parse_ints(text: str | None, flag: str) -> list[int] | None:
    if text is None:
        return None
    try:
        return [int(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        raise cli.BadInput(f"{flag} must be comma-separated integers, got {text!r}") from None


def map_command(
    model: ModelArgument,
    out: Annotated[Path, typer.Option(help="Where to write the latent map (.png).")],
    data: DataOption = None,
    method: Annotated[str, typer.Option(help="pca | tsne | umap.")] = "pca",
    limit: LimitOption = 2000,
    neighbors_out: Annotated[Path | None, typer.Option(
        help="Also write a grid of nearest neighbours in latent space (.png).")] = None,
    k: Annotated[int, typer.Option("-k", "--neighbors", help="Neighbours per query.")] = 8,
    queries: Annotated[int, typer.Option(help="Query images in the neighbour grid.")] = 6,
    threads: ThreadsOption = 1,
) -> None:
    """Draw the latent codes in 2-D coloured by label; optionally nearest neighbours."""
    with cli.clean_errors(), cli.cpu_threads(threads):
        from ..tasks.maps import latent_map, plot_neighbors

        cli.check_out(out, (".png",))
        if neighbors_out is not None:
            cli.check_out(neighbors_out, (".png",))
        estimator, X, y, source = _model_and_data(model, data, limit)
        labels = cli.labels_for(estimator, y, source)
        points = latent_map(estimator, X, y, method=method, path=out,
                            max_points=len(X), verbose=1)
        cli.stdout().print(f"Wrote a {method} latent map of {len(points):,} samples to "
                         f"[bold]{out}[/bold]")
        if neighbors_out is not None:
            if labels is not None:
                raise cli.BadInput("--neighbors-out does not support conditional models yet")
            if queries < 1 or k < 1:
                raise cli.BadInput("--queries and -k must be >= 1")
            plot_neighbors(estimator, X[:queries], X[queries:], k, path=neighbors_out)
            cli.stdout().print(f"Wrote {queries} queries with {k} latent-space neighbours each "
                             f"to [bold]{neighbors_out}[/bold]")


def traverse_command(
    model: ModelArgument,
    out: Annotated[Path, typer.Option(help="Where to write the traversal (.png).")],
    data: DataOption = None,
    index: Annotated[int, typer.Option(help="The sample whose code is varied.")] = 0,
    dims: Annotated[str | None, typer.Option(
        help="Latent dimensions to vary, comma-separated. Default: those that vary most.")
    ] = None,
    max_dims: Annotated[int, typer.Option(help="How many dimensions by default.")] = 10,
    limit: LimitOption = 1000,
    threads: ThreadsOption = 1,
) -> None:
    """Vary one latent dimension at a time around the code of one sample."""
    with cli.clean_errors(), cli.cpu_threads(threads):
        from ..plots import plot_traversal

        cli.check_out(out, (".png",))
        estimator, X, y, source = _model_and_data(model, data, limit)
        _refuse_hmm(estimator, "traverse")
        if not 0 <= index < len(X):
            raise cli.BadInput(f"--index {index} is outside the data ({len(X)} samples)")
        labels = cli.labels_for(estimator, y, source)
        plot_traversal(estimator, X[index], label=None if labels is None else labels[index],
                       dims=_parse_ints(dims, "--dims"), reference=X, reference_y=labels,
                       max_dims=max_dims, path=out)
        cli.stdout().print(f"Wrote a latent traversal around sample {index} to [bold]{out}[/bold]")


def anomaly_command(
    model: ModelArgument,
    out: Annotated[Path, typer.Option(
        help="Folder for anomaly_scores.csv, anomaly_scores.png and anomaly_extremes.png.")],
    data: DataOption = None,
    score: Annotated[str, typer.Option(
        help="auto (latent kNN + likelihood ratio; HMM, LDA, GAN: likelihood) | likelihood "
             "(the model's score_samples) | iwae (VAEs) | reconstruction | latent_knn | "
             "likelihood_ratio.")
    ] = "auto",
    contamination: Annotated[float, typer.Option(
        help="Share of the data to flag, in (0, 0.5].")] = 0.05,
    anomaly_class: Annotated[int | None, typer.Option(
        help="Treat this label as the anomaly and report AUROC/AUPRC.")] = None,
    limit: LimitOption = None,
    threads: ThreadsOption = 1,
) -> None:
    """Score every sample (higher = more normal), flag the lowest, write scores and pictures."""
    with cli.clean_errors(), cli.cpu_threads(threads):
        import csv
        import io

        from .._internal.io import atomic_write_bytes
        from ..tasks.anomaly import AnomalyDetector, plot_anomalies, plot_score_histogram

        if out.exists() and not out.is_dir():
            raise cli.BadInput(f"--out must be a folder, got the file {out}")
        estimator, X, y, source = _model_and_data(model, data, limit)
        _refuse_hmm(estimator, "anomaly (use the Python API with lengths=)")
        labels = cli.labels_for(estimator, y, source)
        params = {} if labels is None else {"y": labels}
        detector = AnomalyDetector(estimator, contamination=contamination, score=score)
        detector.fit(X, **params)
        scores = detector.train_scores_
        flagged = scores < detector.threshold_
        out.mkdir(parents=True, exist_ok=True)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["index", "label", "score", "anomaly"])
        for i, value in enumerate(scores):
            writer.writerow([i, "" if y is None else int(y[i]), f"{value:.6g}", int(flagged[i])])
        atomic_write_bytes(out / "anomaly_scores.csv", buffer.getvalue().encode("utf-8"))
        console = cli.stdout()
        groups = None
        if anomaly_class is not None:
            if y is None:
                raise cli.BadInput(f"--anomaly-class needs labelled data; {source} has none")
            truth = y == anomaly_class
            if not truth.any() or truth.all():
                raise cli.BadInput(f"--anomaly-class {anomaly_class}: the data must hold both "
                                    "that class and others")
            from ..metrics import auprc, auroc

            console.print(f"Class {anomaly_class} as the anomaly: AUROC "
                          f"[bold]{auroc(truth, scores):.3f}[/bold], AUPRC "
                          f"{auprc(truth, scores):.3f} ({int(truth.sum())} of {len(y)} samples)")
            groups = np.where(truth, f"class {anomaly_class}", "other classes")
        plot_score_histogram(scores, groups, threshold=detector.threshold_,
                             path=out / "anomaly_scores.png")
        if X.ndim >= 3 or _square(X):
            plot_anomalies(X, scores, path=out / "anomaly_extremes.png")
        console.print(f"Scored {len(scores):,} samples ({score}); flagged {int(flagged.sum()):,} "
                      f"below {detector.threshold_:.4g}; wrote [bold]{out}[/bold]")


def _square(X: np.ndarray) -> bool:
    side = int(np.sqrt(X.shape[1])) if X.ndim == 2 else 0
    return X.ndim == 2 and side * side == X.shape[1]


def denoise_command(
    model: ModelArgument,
    out: Annotated[Path, typer.Option(help="Where to write clean / noisy / denoised (.png).")],
    data: DataOption = None,
    corruption: Annotated[str, typer.Option(
        help="gaussian | masking | salt_and_pepper.")] = "gaussian",
    level: Annotated[float, typer.Option(
        help="Noise std (gaussian) or share of pixels hit.")] = 0.3,
    n: Annotated[int, typer.Option("-n", "--n-samples", help="Images shown.")] = 10,
    limit: LimitOption = 1000,
    seed: Annotated[int, typer.Option(help="Random seed of the noise.")] = 0,
    threads: ThreadsOption = 1,
) -> None:
    """Corrupt images, denoise them through the model, report PSNR/SSIM and draw them."""
    with cli.clean_errors(), cli.cpu_threads(threads):
        from ..deep.corruption import corrupt
        from ..metrics import psnr, ssim
        from ..tasks.denoise import denoise, plot_denoising

        cli.check_out(out, (".png",))
        if n < 1:
            raise cli.BadInput(f"-n must be >= 1, got {n}")
        estimator, X, y, source = _model_and_data(model, data, limit)
        _refuse_hmm(estimator, "denoise")
        labels = cli.labels_for(estimator, y, source)
        noisy = np.clip(corrupt(X, corruption, level, random_state=seed), 0.0, 1.0)
        cleaned = denoise(estimator, noisy, clip=(0.0, 1.0), y=labels)
        plot_denoising(X, noisy, cleaned, n=n, path=out)
        line = (f"{corruption} {level}: PSNR {psnr(X, noisy):.2f} -> "
                f"[bold]{psnr(X, cleaned):.2f}[/bold] dB")
        try:
            line += f", SSIM {ssim(X, noisy):.3f} -> [bold]{ssim(X, cleaned):.3f}[/bold]"
        except ValueError:
            pass
        cli.stdout().print(f"{line} over {len(X):,} images; wrote [bold]{out}[/bold]")


def probe_command(
    model: ModelArgument,
    data: DataOption = None,
    labels: Annotated[str, typer.Option(
        help="Label counts, comma-separated; 'all' for every training label.")
    ] = "100,1000,all",
    out: Annotated[Path | None, typer.Option(help="Also write the result as .json.")] = None,
    limit: LimitOption = None,
    seed: Annotated[int, typer.Option(help="Seed of the split and the label draw.")] = 0,
    threads: ThreadsOption = 1,
) -> None:
    """Logistic regression on latent codes vs PCA vs raw inputs, with few labels."""
    with cli.clean_errors(), cli.cpu_threads(threads):
        import json

        from .._internal.io import atomic_write_text
        from ..tasks.features import format_probe_table, linear_probe

        if out is not None:
            cli.check_out(out, (".json",))
        counts: list[int | None] = []
        for part in labels.replace(" ", "").split(","):
            if part.lower() == "all":
                counts.append(None)
                continue
            try:
                counts.append(int(part))
            except ValueError:
                raise cli.BadInput(f"--labels must be integers or 'all', got {part!r}") from None
        estimator, X, y, source = _model_and_data(model, data, limit)
        _refuse_hmm(estimator, "probe")
        if cli.labels_for(estimator, y, source) is not None:
            raise cli.BadInput("probe: a conditional model's codes are given the label; "
                                "probing them for the label is meaningless")
        if y is None:
            raise cli.BadInput(f"probe needs labelled data; {source} has none")
        result = linear_probe(estimator, X, y, n_labels=counts, random_state=seed)
        console = cli.stdout()
        console.print(f"Linear probe on {source}: {result['n_train']:,} training / "
                      f"{result['n_test']:,} test samples; chance {100 * result['chance']:.1f} %")
        console.print(format_probe_table(result), markup=False)
        if out is not None:
            atomic_write_text(out, json.dumps(result, indent=2) + "\n")
            console.print(f"Wrote [bold]{out}[/bold]")


def debias_command(
    out: Annotated[Path, typer.Option(help="Run directory to write.")],
    data: Annotated[str, typer.Option(
        help="Labelled images: mnist | fashion-mnist | digits, or a path.")] = "mnist",
    positive: Annotated[int, typer.Option(help="The class to detect (\"is this a 7?\").")] = 7,
    rule: Annotated[str, typer.Option(
        help="Sub-groups of the class: slant (right-leaning vs upright) or ink (thick vs "
             "thin strokes); the rare group is the half above the class median.")] = "slant",
    keep_fraction: Annotated[float, typer.Option(
        help="Share of the rare group's training samples kept (the bias).")] = 0.05,
    epochs: Annotated[int, typer.Option(help="Training epochs of each model.")] = 15,
    latent_dim: Annotated[int, typer.Option(help="Size of the latent code.")] = 8,
    limit: LimitOption = None,
    seed: Annotated[int, typer.Option(help="Seed of the split, the bias and the models.")] = 0,
    threads: ThreadsOption = 1,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Train a plain classifier and a debiasing VAE on a deliberately biased training set;
    report accuracy per sub-group and the images the DB-VAE up-weights most and least."""
    with cli.clean_errors(), cli.cpu_threads(threads):
        from ..report import write_report
        from ..rundir import MODEL_FILE, run_header, write_run
        from ..tasks.debias import RULES, debias_experiment

        if rule not in RULES:
            raise cli.BadInput(f"--rule must be one of {', '.join(sorted(RULES))}, got {rule!r}")
        if not 0 < keep_fraction <= 1:
            raise cli.BadInput(f"--keep-fraction must be in (0, 1], got {keep_fraction}")
        if epochs < 1:
            raise cli.BadInput(f"--epochs must be >= 1, got {epochs}")
        X, y = cli.load_data(data, limit)
        if y is None:
            raise cli.BadInput(f"--data {data} has no labels; debias needs labelled images")
        if not (y == positive).any():
            raise cli.BadInput(f"--positive {positive}: no image of {data} has that label")
        if X.ndim == 2 and _square(X):
            side = int(np.sqrt(X.shape[1]))
            X = X.reshape(len(X), side, side)
        result = debias_experiment(X, y, positive, rule=rule, keep_fraction=keep_fraction,
                                   random_state=seed, epochs=epochs, latent_dim=latent_dim,
                                   patience=None, verbose=0 if quiet else 1)
        out.mkdir(parents=True, exist_ok=True)
        model = result["debiased_model"]
        model.save(out / MODEL_FILE)
        keep = result["train_index"]
        weights = model.sampling_weights(X[keep], result["train_target"])
        positives = np.flatnonzero(result["train_target"] == 1)
        ranked = positives[np.argsort(weights[positives], kind="stable")]
        from ..plots import plot_image_grid

        plot_image_grid(X[keep][ranked[-32:][::-1]], ncols=8,
                        title=f"most up-weighted {positive}s", path=out / "debias_most.png")
        plot_image_grid(X[keep][ranked[:32]], ncols=8, title=f"least up-weighted {positive}s",
                        path=out / "debias_least.png")
        rare = result["train_rare"]
        common_name, rare_name = result["groups"]
        pos_rare = rare[positives]
        ratio = float(weights[positives][pos_rare].mean() / weights[positives][~pos_rare].mean())
        summary = {key: result[key] for key in ("plain", "debiased")}
        info = {
            **run_header(f"latentmodels debias --data {data} --positive {positive} --rule "
                         f"{rule} --keep-fraction {keep_fraction} --epochs {epochs} --seed "
                         f"{seed} --out {out}", model),
            "metrics": {"gap_plain": summary["plain"]["gap"],
                        "gap_debiased": summary["debiased"]["gap"],
                        "accuracy_plain": summary["plain"]["overall"],
                        "accuracy_debiased": summary["debiased"]["overall"]},
            "debias": {"rule": rule, "positive": positive, "keep_fraction": keep_fraction,
                       "groups": result["groups"], "n_train": result["n_train"],
                       "n_test": result["n_test"], "weight_ratio_rare": ratio,
                       "rare_share_top32": float(rare[ranked[-32:]].mean()),
                       "rare_share_train": float(pos_rare.mean()), **summary},
        }
        write_run(out, info)
        write_report(out, model, metrics=info["metrics"])
        console = cli.stdout()
        from rich.table import Table

        table = Table(title=f"Is it a {positive}? Training kept {keep_fraction:.0%} of the "
                            f"{rare_name} {positive}s")
        for column in ("model", "accuracy", f"recall {common_name}", f"recall {rare_name}",
                       "gap"):
            table.add_column(column, justify="right")
        for key, name in (("plain", "plain classifier"), ("debiased", "DB-VAE")):
            r = summary[key]
            table.add_row(name, f"{r['overall']:.4f}", f"{r[common_name]:.3f}",
                          f"{r[rare_name]:.3f}", f"{r['gap']:.3f}")
        console.print(table)
        console.print(f"Mean sampling weight of {rare_name} vs {common_name} training "
                      f"{positive}s: {ratio:.2f}x; report: [bold]{out / 'report.html'}[/bold]")


def register(app: typer.Typer) -> None:
    """Add ``map``, ``traverse``, ``anomaly``, ``denoise``, ``probe`` and ``debias`` to ``app``.

    Example:
        >>> import typer
        >>> app = typer.Typer()
        >>> register(app)
        >>> sorted(c.name for c in app.registered_commands)
        ['anomaly', 'debias', 'denoise', 'map', 'probe', 'traverse']
    """
    app.command("map")(map_command)
    app.command("traverse")(traverse_command)
    app.command("anomaly")(anomaly_command)
    app.command("denoise")(denoise_command)
    app.command("probe")(probe_command)
    app.command("debias")(debias_command)
