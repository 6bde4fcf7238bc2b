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

import typer

from . import _common as cli

__all__ = ["register_train"]


class GanArchitecture(str, Enum):
    auto = "auto"
    mlp = "mlp"
    conv = "conv"


class GanLoss(str, Enum):
    hinge = "hinge"
    ns = "ns"
    wgan_gp = "wgan-gp"


def _gan_command(conditional: bool):
    """The ``train gan`` / ``train cgan`` command."""

    def command(
        ctx: typer.Context,
        data: cli.DataOption,
        out: Annotated[Path, typer.Option(help="Run directory to write.")],
        latent_dim: Annotated[int, typer.Option(help="Size of the noise vector.")] = 64,
        architecture: Annotated[GanArchitecture, typer.Option(
            help="conv (DCGAN-style, square images), mlp, or auto.")] = GanArchitecture.auto,
        loss: Annotated[GanLoss, typer.Option(help="hinge, ns (non-saturating) or wgan-gp.")
                        ] = GanLoss.hinge,
        epochs: Annotated[int, typer.Option(help="Maximum passes over the data.")] = 30,
        max_time: Annotated[float | None, typer.Option(
            help="Stop training after this many seconds (checked every batch).")] = None,
        batch_size: Annotated[int, typer.Option(
            help="Samples per batch (reduced, with a notice, when the data is smaller).")] = 64,
        lr_g: Annotated[float, typer.Option(help="Generator learning rate.")] = 2e-4,
        lr_d: Annotated[float, typer.Option(help="Discriminator learning rate.")] = 2e-4,
        ema_decay: Annotated[float, typer.Option(
            help="Decay of the generator weights' moving average used for sampling (0: "
                 "off).")] = 0.999,
        image_size: Annotated[str | None, typer.Option(
            help="Image folders: resize to HEIGHTxWIDTH, e.g. 28x28. Default: keep the size.")
        ] = None,
        grayscale: Annotated[bool, typer.Option(
            "--grayscale", help="Image folders: convert to grey. Default: keep the colour.")
        ] = False,
        seed: Annotated[int, typer.Option(help="Random seed (equal seeds: equal runs on CPU).")
                        ] = 0,
        test_fraction: Annotated[float, typer.Option(
            help="Share of the data held out to judge the samples against.")] = 0.2,
        judge: Annotated[bool, typer.Option(
            help="Score samples (Frechet distance, precision/recall, classes covered) with a "
                 "classifier trained on the training split (labelled 28x28 images).")] = True,
        checkpoint_every: Annotated[int, typer.Option(
            help="Checkpoint into OUT/checkpoints every N epochs (0: off).")] = 5,
        resume: cli.ResumeOption = False,
        device: Annotated[str, typer.Option(help="auto, cpu, cuda, cuda:1, ...")] = "auto",
        threads: Annotated[int | None, typer.Option(
            help="torch CPU threads. Default: torch's own count (recorded in run.json).")] = None,
        report: Annotated[bool, typer.Option(help="Write report.html.")] = True,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
        limit: Annotated[int | None, typer.Option(help="Use only the first N samples.",
                                                  hidden=True)] = None,
    ) -> None:
        with cli.clean_errors():
            requested, threads = threads, cli.resolved_threads(threads)
        with cli.clean_errors(), cli.cpu_threads(requested), cli.shown_warnings():
            from ..deep.gan import GAN, ConditionalGAN

            started = time.perf_counter()
            checkpoints = cli.checkpoint_settings(out, checkpoint_every, resume)
            if not 0 <= test_fraction < 1:
                raise cli.BadInput(f"--test-fraction must be in [0, 1), got {test_fraction}")
            if max_time is not None and max_time <= 0:
                raise cli.BadInput(f"--max-time must be > 0 seconds, got {max_time}")
            if not 0 <= ema_decay < 1:
                raise cli.BadInput(f"--ema-decay must be in [0, 1), got {ema_decay}")
            X, y = cli.load_data(data, limit, image_size=image_size, grayscale=grayscale)
            if conditional and y is None:
                raise cli.BadInput(f"--data {data} has no labels; a cgan needs labelled data")
            params: dict[str, Any] = dict(
                latent_dim=latent_dim, architecture=architecture.value, loss=loss.value,
                epochs=epochs, batch_size=cli.fitting_batch_size(batch_size, len(X), test_fraction),
                lr_g=lr_g, lr_d=lr_d,
                ema_decay=ema_decay or None, random_state=seed, device=device,
                **checkpoints, verbose=0 if quiet else 1,
            )
            if max_time is not None:
                params["max_time"] = max_time
            estimator = (ConditionalGAN if conditional else GAN)(**params)
            command = cli.recorded_command(ctx, {"threads": threads})
            from ..runs.gan import fit_gan_run

            info = fit_gan_run(estimator, X, y, out=out, source=data, command=command,
                               test_fraction=test_fraction, limit=limit, resume=resume,
                               judge=judge, report=report)
            cli.print_run(out, info, report, time.perf_counter() - started)

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
