"""``latentmodels train gan`` and ``train cgan``: adversarial training from the command line,
scored by sample quality in the feature space of a judge classifier.

    latentmodels train gan --data mnist --epochs 20 --out runs/gan
    latentmodels train cgan --data fashion-mnist --max-time 600 --out runs/cgan
    latentmodels sample runs/gan -n 64 --out samples.png
"""

from __future__ import annotations

import time
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

__all__ = ["fit_gan_run", "register_train"]

#: Generated samples scored against as many held-out images (at most this many).
QUALITY_SAMPLES = 2000
JUDGE_FILE = "judge.lm"


class GanArchitecture(str, Enum):
    auto = "auto"
    mlp = "mlp"
    conv = "conv"


class GanLoss(str, Enum):
    hinge = "hinge"
    ns = "ns"
    wgan_gp = "wgan-gp"


def _cli() -> Any:
    """The main CLI module, imported late (it imports this module)."""
    from . import app as cli

    return cli


def _judgeable(X: np.ndarray, y: np.ndarray | None) -> bool:
    """The judge classifier reads labelled 28x28 grey images."""
    return y is not None and X.ndim == 3 and X.shape[1:] == (28, 28)


def fit_gan_run(
    model: Any,
    X: np.ndarray,
    y: np.ndarray | None,
    *,
    out: Path,
    source: str,
    command: list[str],
    test_fraction: float = 0.2,
    limit: int | None = None,
    resume: bool = False,
    judge: bool = True,
    report: bool = True,
) -> dict[str, Any]:
    """Split, fit ``model`` (a GAN or ConditionalGAN), score its samples against held-out
    images with a judge :class:`~latentmodels.metrics.FeatureClassifier` trained on the
    training split (saved as ``judge.lm``), save ``model.lm`` and ``run.json``, write the
    report; returns the run.json contents.

    Example:
        >>> from latentmodels import GAN, datasets  # doctest: +SKIP
        >>> X, y = datasets.load_mnist()  # doctest: +SKIP
        >>> info = fit_gan_run(GAN(epochs=20), X, y, out=Path("runs/gan"), source="mnist",
        ...                    command=[])  # doctest: +SKIP
        >>> info["sample_quality"]["classes_covered"]  # doctest: +SKIP
        10
    """
    from ..deep.gan import ConditionalGAN
    from ..report.page import MODEL_FILE, held_out_split, run_header, write_report, write_run

    conditional = isinstance(model, ConditionalGAN)
    train_idx, test_idx = held_out_split(len(X), test_fraction, 0)
    X_train, X_test = X[train_idx], X[test_idx]
    y_train = None if y is None else y[train_idx]
    y_test = None if y is None else y[test_idx]
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    if conditional:
        model.fit(X_train, y_train, resume=resume)
    else:
        model.fit(X_train, resume=resume)
    seconds = time.perf_counter() - started
    history = model.history_
    metrics: dict[str, Any] = {
        "epochs_run": len(history),
        "final_d_loss": float(history[-1]["d_loss"]),
        "final_g_loss": float(history[-1]["g_loss"]),
        "train_seconds": round(seconds, 2),
        "n_train": len(X_train),
        "n_test": len(X_test),
    }
    quality = None
    if judge and len(X_test) and _judgeable(X, y):
        from ..metrics import FeatureClassifier, sample_quality

        classifier = FeatureClassifier.load_or_fit(out / JUDGE_FILE, X_train, y_train,
                                                   random_state=0)
        n = min(QUALITY_SAMPLES, len(X_test))
        if conditional:
            labels = np.asarray(model.classes_)[np.arange(n) % len(model.classes_)]
            samples = model.sample(n, y=labels, random_state=0)
        else:
            samples = model.sample(n, random_state=0)
        quality = sample_quality(samples, X_test[:n], classifier)
        metrics.update({"frechet_distance": quality["frechet"],
                        "precision": quality["precision"], "recall": quality["recall"],
                        "classes_covered": quality["classes_covered"]})
    model.save(out / MODEL_FILE)
    info: dict[str, Any] = {
        **run_header(command, model),
        "data": {"source": _cli()._data_source(source), "limit": limit, "n_samples": len(X),
                 "sample_shape": list(X.shape[1:]), "labelled": y is not None,
                 "test_fraction": test_fraction, "split_seed": 0},
        "metrics": metrics,
    }
    if quality is not None:
        info["sample_quality"] = {k: (v.tolist() if isinstance(v, np.ndarray) else v)
                                  for k, v in quality.items()}
    write_run(out, info)
    if report:
        write_report(out, model, X_test, y_test, metrics)
    return info


def _gan_command(conditional: bool):
    """The ``train gan`` / ``train cgan`` command."""

    def command(
        data: Annotated[str, typer.Option(
            help="mnist | fashion-mnist | digits, or a path (.npz, .npy, IDX, image folder).")],
        out: Annotated[Path, typer.Option(help="Run directory to write.")],
        latent_dim: Annotated[int, typer.Option(help="Size of the noise vector.")] = 64,
        architecture: Annotated[GanArchitecture, typer.Option(
            help="conv (DCGAN-style, square images), mlp, or auto.")] = GanArchitecture.auto,
        loss: Annotated[GanLoss, typer.Option(help="hinge, ns (non-saturating) or wgan-gp.")
                        ] = GanLoss.hinge,
        epochs: Annotated[int, typer.Option(help="Maximum passes over the data.")] = 20,
        max_time: Annotated[float | None, typer.Option(
            help="Stop training after this many seconds (checked every batch).")] = None,
        batch_size: Annotated[int, typer.Option(help="Samples per batch.")] = 64,
        lr_g: Annotated[float, typer.Option(help="Generator learning rate.")] = 2e-4,
        lr_d: Annotated[float, typer.Option(help="Discriminator learning rate.")] = 2e-4,
        ema_decay: Annotated[float, typer.Option(
            help="Decay of the generator weights' moving average used for sampling (0: "
                 "off).")] = 0.999,
        seed: Annotated[int, typer.Option(help="Random seed (equal seeds: equal runs on CPU).")
                        ] = 0,
        test_fraction: Annotated[float, typer.Option(
            help="Share of the data held out to judge the samples against.")] = 0.2,
        judge: Annotated[bool, typer.Option(
            help="Score samples (Frechet distance, precision/recall, classes covered) with a "
                 "classifier trained on the training split (labelled 28x28 images).")] = True,
        checkpoint_every: Annotated[int, typer.Option(
            help="Checkpoint into OUT/checkpoints every N epochs (0: off).")] = 5,
        resume: Annotated[bool, typer.Option(
            help="Continue a killed run from OUT/checkpoints (same options).")] = False,
        device: Annotated[str, typer.Option(help="auto, cpu, cuda, cuda:1, ...")] = "auto",
        threads: Annotated[int | None, typer.Option(help="torch CPU threads.")] = None,
        report: Annotated[bool, typer.Option(help="Write report.html.")] = True,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
        limit: Annotated[int | None, typer.Option(help="Use only the first N samples.",
                                                  hidden=True)] = None,
    ) -> None:
        cli = _cli()
        with cli._clean_errors(), cli._threads(threads):
            from ..deep.gan import GAN, ConditionalGAN

            started = time.perf_counter()
            if checkpoint_every < 0:
                raise cli._BadInput(f"--checkpoint-every must be >= 0, got {checkpoint_every}")
            if not 0 <= test_fraction < 1:
                raise cli._BadInput(f"--test-fraction must be in [0, 1), got {test_fraction}")
            if max_time is not None and max_time <= 0:
                raise cli._BadInput(f"--max-time must be > 0 seconds, got {max_time}")
            if not 0 <= ema_decay < 1:
                raise cli._BadInput(f"--ema-decay must be in [0, 1), got {ema_decay}")
            checkpoints = checkpoint_every > 0 or resume
            params: dict[str, Any] = dict(
                latent_dim=latent_dim, architecture=architecture.value, loss=loss.value,
                epochs=epochs, batch_size=batch_size, lr_g=lr_g, lr_d=lr_d,
                ema_decay=ema_decay or None, random_state=seed, device=device,
                checkpoint_dir=str(out / "checkpoints") if checkpoints else None,
                checkpoint_every=max(checkpoint_every, 1), verbose=0 if quiet else 1,
            )
            if max_time is not None:
                params["max_time"] = max_time
            estimator = (ConditionalGAN if conditional else GAN)(**params)
            X, y = cli._load_data(data, limit)
            if conditional and y is None:
                raise cli._BadInput(f"--data {data} has no labels; a cgan needs labelled data")
            name = "cgan" if conditional else "gan"
            command = ["latentmodels", "train", name, "--data", data, "--out", str(out),
                       "--latent-dim", str(latent_dim), "--loss", loss.value, "--epochs",
                       str(epochs), "--seed", str(seed)]
            info = fit_gan_run(estimator, X, y, out=out, source=data, command=command,
                               test_fraction=test_fraction, limit=limit, resume=resume,
                               judge=judge, report=report)
            cli._print_run(out, info, report, time.perf_counter() - started)

    command.__doc__ = (
        ("Train a class-conditional GAN (generates a chosen class)." if conditional else
         "Train a GAN (DCGAN-style for images; hinge loss, spectral norm, EMA by default).")
        + f"\n\nlatentmodels train {'cgan' if conditional else 'gan'} --data mnist --out runs/gan"
    )
    return command


def register_train(train_app: typer.Typer) -> None:
    """Add ``gan`` and ``cgan`` to the ``train`` sub-commands."""
    train_app.command(name="gan")(_gan_command(conditional=False))
    train_app.command(name="cgan")(_gan_command(conditional=True))
