"""``latentmodels train pca``, ``train ppca`` and ``train fa``: the linear baselines, run and
reported like the deep models so their numbers sit side by side.

    latentmodels train pca --data mnist --components 16 --out runs/pca
    latentmodels train fa --data digits --components 8 --out runs/fa
    latentmodels rerun runs/pca --out runs/pca-again
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from ..runs.defaults import DEFAULT_TEST_FRACTION
from . import _common as cli

__all__ = ["register_train"]

OutOption = Annotated[Path, typer.Option(help="Run directory to write.")]
ComponentsOption = Annotated[int, typer.Option(help="Size of the latent code.")]
SeedOption = Annotated[int, typer.Option(help="Random seed (randomized solvers).")]
TestFractionOption = Annotated[float, typer.Option(
    help="Share of the data held out for test metrics (fixed split).")]
ImageSizeOption = Annotated[str | None, typer.Option(
    help="Image folders: resize to HEIGHTxWIDTH, e.g. 28x28. Default: keep the size.")]
GrayscaleOption = Annotated[bool, typer.Option(
    "--grayscale", help="Image folders: convert to grey. Default: keep the colour.")]
ThreadsOption = Annotated[int | None, typer.Option(
    help="CPU threads. Default: torch's own count (recorded in run.json).")]
ReportOption = Annotated[bool, typer.Option(help="Write report.html.")]
LimitOption = Annotated[int | None, typer.Option(help="Use only the first N samples.",
                                                 hidden=True)]


def _train_linear(ctx: typer.Context, make_model: Any, *, data: str, out: Path,
                  components: int, test_fraction: float, image_size: str | None,
                  grayscale: bool, threads: int | None, report: bool,
                  limit: int | None) -> None:
    with cli.clean_errors():
        requested, threads = threads, cli.resolved_threads(threads)
        with cli.cpu_threads(requested), cli.shown_warnings():
            started = time.perf_counter()
            if components < 1:
                raise cli.BadInput(f"--components must be >= 1, got {components}")
            if not 0 <= test_fraction < 1:
                raise cli.BadInput(f"--test-fraction must be in [0, 1), got {test_fraction}")
            X, y = cli.load_data(data, limit, image_size=image_size, grayscale=grayscale)
            command = cli.recorded_command(ctx, {"threads": threads})
            from ..runs.linear import fit_linear_run

            info = fit_linear_run(make_model(), X, y, out=out, source=data, limit=limit,
                                  test_fraction=test_fraction, command=command, report=report)
            cli.print_run(out, info, report, time.perf_counter() - started)


def train_pca(
    ctx: typer.Context,
    data: cli.DataOption,
    out: OutOption,
    components: ComponentsOption = 16,
    whiten: Annotated[bool, typer.Option(help="Scale the codes to unit variance.")] = False,
    seed: SeedOption = 0,
    test_fraction: TestFractionOption = DEFAULT_TEST_FRACTION,
    image_size: ImageSizeOption = None,
    grayscale: GrayscaleOption = False,
    threads: ThreadsOption = None,
    report: ReportOption = True,
    limit: LimitOption = None,
) -> None:
    """Fit principal component analysis (the linear baseline; codes = projections).

    latentmodels train pca --data mnist --components 16 --out runs/pca
    """
    from ..linear import PCA

    _train_linear(ctx, lambda: PCA(components, whiten=whiten, random_state=seed), data=data,
                  out=out, components=components, test_fraction=test_fraction,
                  image_size=image_size, grayscale=grayscale, threads=threads, report=report,
                  limit=limit)


def train_ppca(
    ctx: typer.Context,
    data: cli.DataOption,
    out: OutOption,
    components: ComponentsOption = 16,
    seed: SeedOption = 0,
    test_fraction: TestFractionOption = DEFAULT_TEST_FRACTION,
    image_size: ImageSizeOption = None,
    grayscale: GrayscaleOption = False,
    threads: ThreadsOption = None,
    report: ReportOption = True,
    limit: LimitOption = None,
) -> None:
    """Fit probabilistic PCA (Gaussian codes, isotropic noise; samples and likelihoods).

    latentmodels train ppca --data mnist --components 16 --out runs/ppca
    """
    from ..linear import ProbabilisticPCA

    _train_linear(ctx, lambda: ProbabilisticPCA(components, random_state=seed), data=data,
                  out=out, components=components, test_fraction=test_fraction,
                  image_size=image_size, grayscale=grayscale, threads=threads, report=report,
                  limit=limit)


def train_fa(
    ctx: typer.Context,
    data: cli.DataOption,
    out: OutOption,
    components: ComponentsOption = 16,
    max_iter: Annotated[int, typer.Option(help="Maximum iterations of the fit.")] = 1000,
    seed: SeedOption = 0,
    test_fraction: TestFractionOption = DEFAULT_TEST_FRACTION,
    image_size: ImageSizeOption = None,
    grayscale: GrayscaleOption = False,
    threads: ThreadsOption = None,
    report: ReportOption = True,
    limit: LimitOption = None,
) -> None:
    """Fit factor analysis (Gaussian codes, a noise variance per feature).

    latentmodels train fa --data mnist --components 16 --out runs/fa
    """
    from ..linear import FactorAnalysis

    if max_iter < 1:
        with cli.clean_errors():
            raise cli.BadInput(f"--max-iter must be >= 1, got {max_iter}")
    _train_linear(ctx, lambda: FactorAnalysis(components, max_iter=max_iter, random_state=seed),
                  data=data, out=out, components=components, test_fraction=test_fraction,
                  image_size=image_size, grayscale=grayscale, threads=threads, report=report,
                  limit=limit)


def register_train(train_app: typer.Typer) -> None:
    """Add ``pca``, ``ppca`` and ``fa`` to the ``train`` sub-commands.

    Example:
        >>> import typer
        >>> train = typer.Typer()
        >>> register_train(train)
        >>> [c.name for c in train.registered_commands]
        ['pca', 'ppca', 'fa']
    """
    train_app.command(name="pca")(train_pca)
    train_app.command(name="ppca")(train_ppca)
    train_app.command(name="fa")(train_fa)
