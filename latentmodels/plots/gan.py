"""Pictures of a GAN's training: the two players' losses, samples of fixed codes as training
went on, and walks between random codes.

Every function returns a matplotlib ``Figure`` built without pyplot and, given ``path``, also
writes it as a PNG atomically.

Examples
--------
>>> from latentmodels import GAN, datasets
>>> X, _ = datasets.load_mnist()
>>> gan = GAN(latent_dim=4, architecture="mlp", hidden_dims=(32,), epochs=1, verbose=0,
...           random_state=0).fit(X[:64])
>>> len(plot_player_losses(gan).axes)
2
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .._internal.validation import check_positive_int
from ..tasks.interpolate import latent_path
from ._common import as_images, display_range, finish_figure, grid_figure, history_records

__all__ = ["plot_latent_walks", "plot_player_losses", "plot_training_progress"]


def plot_player_losses(
    history: Any, *, path: str | os.PathLike | None = None, dpi: int = 100
) -> Figure:
    """Per-epoch losses of the discriminator and the generator, and their mean scores.

    A discriminator winning outright shows as the two score lines (real and generated data)
    drifting apart while the generator's loss climbs.

    Parameters
    ----------
    history : GAN or list of dict
        A fitted GAN (its ``history_``) or its per-epoch records: ``d_loss`` and ``g_loss``
        (``d_real`` / ``d_fake`` optional).
    path : str or os.PathLike, optional
        Also write the figure there as a PNG.
    dpi : int, default=100
        Resolution of the PNG.

    Returns
    -------
    matplotlib.figure.Figure
        One panel of losses, plus one of scores when the records have them.

    Examples
    --------
    >>> fig = plot_player_losses([
    ...     {"d_loss": 1.2, "g_loss": 0.8, "d_real": 0.4, "d_fake": -0.3},
    ...     {"d_loss": 1.1, "g_loss": 0.9, "d_real": 0.3, "d_fake": -0.2}])
    >>> len(fig.axes)
    2
    """
    records = history_records(history, key="d_loss")
    if not records or not all("d_loss" in r and "g_loss" in r for r in records):
        raise ValueError("history must hold d_loss and g_loss per epoch (a fitted GAN)")
    epochs = np.arange(1, len(records) + 1)

    def series(key: str) -> np.ndarray:
        return np.array([float(r.get(key, np.nan)) for r in records])

    scores = any("d_real" in r for r in records)
    fig = Figure(figsize=(8.4 if scores else 4.4, 3.4), layout="constrained")
    axes = fig.subplots(1, 2 if scores else 1, squeeze=False)[0]
    axes[0].plot(epochs, series("d_loss"), marker="o", markersize=3, label="discriminator")
    axes[0].plot(epochs, series("g_loss"), marker="o", markersize=3, label="generator")
    axes[0].set_title("losses")
    if scores:
        axes[1].plot(epochs, series("d_real"), marker="o", markersize=3, label="real data")
        axes[1].plot(epochs, series("d_fake"), marker="o", markersize=3, label="generated")
        axes[1].set_title("mean discriminator score")
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return finish_figure(fig, path, dpi)


def plot_training_progress(
    snapshots: Any,
    epochs: Sequence[int],
    *,
    path: str | os.PathLike | None = None,
    dpi: int = 100,
) -> Figure:
    """One strip per snapshot: the generator's output for the same fixed codes after each epoch.

    Parameters
    ----------
    snapshots : array-like of shape (n_snapshots, n_codes, ...image...)
        The generated images, one set per snapshot.
    epochs : sequence of int
        The epoch of each snapshot, used as row labels.
    path : str or os.PathLike, optional
        Also write the figure there as a PNG.
    dpi : int, default=100
        Resolution of the PNG.

    Returns
    -------
    matplotlib.figure.Figure
        The grid of images.

    Examples
    --------
    >>> import numpy as np
    >>> fig = plot_training_progress(np.random.default_rng(0).random((3, 8, 28, 28)),
    ...                              [0, 5, 10])
    >>> type(fig).__name__
    'Figure'
    """
    snapshots = np.asarray(snapshots)
    if snapshots.ndim < 3 or len(snapshots) == 0:
        raise ValueError(f"snapshots must have shape (n_snapshots, n_codes, ...), got "
                         f"{snapshots.shape}")
    if len(epochs) != len(snapshots):
        raise ValueError(f"epochs has {len(epochs)} entries but there are {len(snapshots)} "
                         "snapshots")
    rows = [(f"epoch {int(e)}", as_images(s, name="snapshots"))
            for e, s in zip(epochs, snapshots, strict=True)]
    lo, hi = display_range(*(images for _, images in rows))
    fig = grid_figure(rows, rows[0][1].shape[0], lo, hi, "Samples of fixed codes over training")
    return finish_figure(fig, path, dpi)


def plot_latent_walks(
    model: Any,
    *,
    n_walks: int = 4,
    steps: int = 10,
    method: str = "linear",
    random_state: int = 0,
    path: str | os.PathLike | None = None,
    dpi: int = 100,
) -> Figure:
    """Decoded paths between pairs of random prior codes, one row per walk.

    A smooth row means the generator maps nearby codes to similar images.

    Parameters
    ----------
    model : object
        A fitted generator with ``latent_dim`` and ``inverse_transform`` (a GAN, a VAE, ...).
    n_walks : int, default=4
        Number of walks (rows).
    steps : int, default=10
        Images per walk, at least 2.
    method : {"linear", "spherical"}, default="linear"
        The path's geometry.
    random_state : int, default=0
        Seed of the end points.
    path : str or os.PathLike, optional
        Also write the figure there as a PNG.
    dpi : int, default=100
        Resolution of the PNG.

    Returns
    -------
    matplotlib.figure.Figure
        The grid of decoded walks.

    Examples
    --------
    >>> from latentmodels import VAE, datasets
    >>> X, _ = datasets.load_mnist()
    >>> vae = VAE(latent_dim=2, epochs=1, verbose=0, random_state=0).fit(X[:64])
    >>> fig = plot_latent_walks(vae, n_walks=2, steps=4, method="spherical")
    >>> type(fig).__name__
    'Figure'
    """
    n_walks = check_positive_int(n_walks, "n_walks")
    steps = check_positive_int(steps, "steps", minimum=2)
    latent_dim = int(getattr(model, "latent_dim", 0))
    if latent_dim < 1 or not callable(getattr(model, "inverse_transform", None)):
        raise TypeError(f"model must be a fitted generator with latent_dim and "
                        f"inverse_transform, got {type(model).__name__}")
    rng = np.random.default_rng(random_state)
    ends = rng.standard_normal((n_walks, 2, latent_dim))
    rows = []
    for i in range(n_walks):
        path_codes = latent_path(ends[i, 0], ends[i, 1], steps, method).astype(np.float32)
        rows.append(("", as_images(model.inverse_transform(path_codes), name="generated")))
    lo, hi = display_range(*(images for _, images in rows))
    fig = grid_figure(rows, steps, lo, hi, f"{method.capitalize()} walks between random codes")
    return finish_figure(fig, path, dpi)
