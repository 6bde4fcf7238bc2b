"""Pictures of a fitted model: training curves, reconstructions, samples, interpolations,
latent maps, traversals and decoded manifolds.

Every function returns a matplotlib ``Figure`` (built without pyplot, so nothing leaks into
a global figure list) and, given ``path``, also writes it as a PNG atomically. Functions use
only the model contract (``transform``, ``inverse_transform``, ``sample``) plus the optional
labels of conditional models, so they work for any latentmodels model.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> from latentmodels import VAE, datasets, plots
>>> X, y = datasets.load_mnist()
>>> vae = VAE(latent_dim=2, epochs=1, verbose=0, random_state=0).fit(X[:64])
>>> path = Path(tempfile.mkdtemp()) / "samples.png"
>>> fig = plots.plot_samples(vae, 16, path=path)
>>> path.exists()
True
"""

from __future__ import annotations

import contextlib
import inspect
import io as _stdlib_io
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .._internal.io import atomic_write_bytes
from .._internal.validation import check_choice, check_data, check_positive_int
from ..tasks.interpolate import METHODS as INTERPOLATION_METHODS
from ..tasks.interpolate import latent_path, traverse

__all__ = [
    "DEFAULT_DPI",
    "LATENT_MAP_METHODS",
    "as_images",
    "display_range",
    "embed_2d",
    "figure_to_png",
    "finish_figure",
    "grid_figure",
    "history_records",
    "is_conditional",
    "plot_image_grid",
    "plot_interpolations",
    "plot_latent_map",
    "plot_manifold",
    "plot_reconstructions",
    "plot_samples",
    "plot_training_curves",
    "plot_traversal",
    "save_figure",
]

LATENT_MAP_METHODS = ("pca", "tsne", "umap")
DEFAULT_DPI = 100
# Inches per image cell in grids: large enough to read a 28x28 digit, small enough for 10 columns.
_CELL = 0.62


# -- saving ------------------------------------------------------------------------------
def figure_to_png(fig: Figure, *, dpi: int = DEFAULT_DPI) -> bytes:
    r"""Render ``fig`` to PNG bytes; the image is ``fig.get_size_inches() * dpi`` pixels.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    dpi : int, default=100
        Resolution.

    Returns
    -------
    bytes
        The PNG file's content.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> png = figure_to_png(Figure(figsize=(2, 1)), dpi=50)
    >>> png[:4]
    b'\x89PNG'
    """
    buffer = _stdlib_io.BytesIO()
    # No bbox_inches="tight": callers (and tests) rely on the pixel size being predictable.
    fig.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    return buffer.getvalue()


def save_figure(fig: Figure, path: str | os.PathLike, *, dpi: int = DEFAULT_DPI) -> Path:
    """Write ``fig`` as a PNG to ``path`` atomically.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    path : str or os.PathLike
        The file to write; missing folders are created.
    dpi : int, default=100
        Resolution.

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import tempfile
    >>> from matplotlib.figure import Figure
    >>> save_figure(Figure(), Path(tempfile.mkdtemp()) / "empty.png").name
    'empty.png'
    """
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"path must end in .png, got {os.fspath(path)!r}")
    return atomic_write_bytes(path, figure_to_png(fig, dpi=dpi))


def finish_figure(fig: Figure, path: str | os.PathLike | None, dpi: int) -> Figure:
    """Save ``fig`` to ``path`` when one is given, and return it: the last step of every plot.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    path : str or os.PathLike or None
        Where to write it as a PNG; None writes nothing.
    dpi : int
        Resolution of the PNG.

    Returns
    -------
    matplotlib.figure.Figure
        ``fig``.

    Examples
    --------
    >>> import tempfile
    >>> from matplotlib.figure import Figure
    >>> path = Path(tempfile.mkdtemp()) / "fig.png"
    >>> fig = finish_figure(Figure(), path, 50)
    >>> path.exists()
    True
    """
    if path is not None:
        save_figure(fig, path, dpi=dpi)
    return fig


# -- images ------------------------------------------------------------------------------
def _check_image_shape(image_shape: Any) -> tuple[int, ...]:
    try:
        shape = tuple(int(s) for s in image_shape)
    except TypeError as exc:
        raise TypeError(f"image_shape must be (H, W) or (C, H, W), got {image_shape!r}") from exc
    if len(shape) not in (2, 3) or min(shape) <= 0:
        raise ValueError(f"image_shape must be (H, W) or (C, H, W), got {image_shape!r}")
    if len(shape) == 3 and shape[0] not in (1, 3):
        raise ValueError(f"image_shape: only 1 or 3 channels can be shown, got {shape[0]}")
    return shape


def as_images(
    X: Any, image_shape: Sequence[int] | None = None, *, name: str = "X"
) -> np.ndarray:
    """Return samples as displayable images: ``(n, H, W)`` grey or ``(n, H, W, 3)`` colour.

    Parameters
    ----------
    X : array-like
        ``(n, H, W)``, ``(n, C, H, W)`` with C = 1 or 3, or flat ``(n, D)`` samples.
    image_shape : sequence of int, optional
        ``(H, W)`` or ``(C, H, W)`` of flat samples (a square ``D`` needs none).
    name : str, default="X"
        The argument's name, used in error messages.

    Returns
    -------
    numpy.ndarray
        The images, channels last for colour.

    Examples
    --------
    >>> as_images(np.zeros((2, 16))).shape
    (2, 4, 4)
    >>> as_images(np.zeros((2, 3, 5, 6))).shape
    (2, 5, 6, 3)
    """
    array = check_data(X, name)
    if image_shape is not None:
        shape = _check_image_shape(image_shape)
        if math.prod(array.shape[1:]) != math.prod(shape):
            raise ValueError(
                f"{name}: samples of shape {array.shape[1:]} do not fit image_shape {shape}"
            )
        array = array.reshape(len(array), *shape)
    elif array.ndim == 2:
        side = math.isqrt(array.shape[1])
        if side * side != array.shape[1]:
            raise ValueError(
                f"{name}: flat samples of {array.shape[1]} features are not square images; "
                "pass image_shape=(H, W) or (C, H, W)"
            )
        array = array.reshape(len(array), side, side)
    if array.ndim == 4:
        if array.shape[1] == 1:
            array = array[:, 0]
        elif array.shape[1] == 3:
            array = array.transpose(0, 2, 3, 1)
        else:
            raise ValueError(
                f"{name}: images must be (n, H, W) or (n, C, H, W) with 1 or 3 channels, "
                f"got shape {array.shape}"
            )
    elif array.ndim != 3:
        raise ValueError(
            f"{name}: images must be (n, H, W), (n, C, H, W) or flat (n, D), got shape "
            f"{array.shape}"
        )
    return array


def display_range(*arrays: np.ndarray) -> tuple[float, float]:
    """Shared grey-level range: [0, 1] for image-like data, else the data's own range.

    Parameters
    ----------
    *arrays : numpy.ndarray
        The images shown together.

    Returns
    -------
    lo, hi : float
        The range mapped to black and white.

    Examples
    --------
    >>> display_range(np.array([0.1, 0.9]), np.array([0.0]))
    (0.0, 1.0)
    >>> display_range(np.array([-2.0, 3.0]))
    (-2.0, 3.0)
    """
    lo = min(float(a.min()) for a in arrays)
    hi = max(float(a.max()) for a in arrays)
    if lo >= -0.05 and hi <= 1.05:
        return 0.0, 1.0
    return lo, hi if hi > lo else lo + 1.0


def _mosaic(images: np.ndarray, ncols: int, lo: float, hi: float, pad: int = 1) -> np.ndarray:
    """Tile images (already in display form) into one array, scaled to [0, 1]."""
    n, height, width = images.shape[:3]
    nrows = math.ceil(n / ncols)
    extra = images.shape[3:]
    canvas = np.ones((nrows * (height + pad) + pad, ncols * (width + pad) + pad, *extra))
    scaled = np.clip((images - lo) / (hi - lo), 0.0, 1.0)
    for index in range(n):
        r, c = divmod(index, ncols)
        top, left = pad + r * (height + pad), pad + c * (width + pad)
        canvas[top : top + height, left : left + width] = scaled[index]
    return canvas


def _show(ax: Any, mosaic: np.ndarray) -> None:
    ax.imshow(mosaic, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def _cell_ticks(ax: Any, count: int, size: int, axis: str, labels: Sequence[str]) -> None:
    """Put tick labels at the centres of mosaic cells along ``axis``."""
    positions = [1 + i * (size + 1) + size / 2 - 0.5 for i in range(count)]
    if axis == "x":
        ax.set_xticks(positions, labels, fontsize=8)
    else:
        ax.set_yticks(positions, labels, fontsize=8)
    ax.tick_params(length=0)


# -- conditional models --------------------------------------------------------------------
def is_conditional(model: Any) -> bool:
    """True for models whose ``transform`` takes the labels ``y`` (conditional models).

    Parameters
    ----------
    model : object
        The model.

    Returns
    -------
    bool

    Examples
    --------
    >>> from latentmodels import VAE, ConditionalVAE
    >>> is_conditional(VAE()), is_conditional(ConditionalVAE())
    (False, True)
    """
    try:
        return "y" in inspect.signature(model.transform).parameters
    except (TypeError, ValueError):
        return False


class _LabelBound:
    """A conditional model seen through one label, so label-free tools can drive it."""

    def __init__(self, model: Any, label: Any) -> None:
        self.model = model
        self.label = label

    def transform(self, X: Any) -> np.ndarray:
        return self.model.transform(X, y=self.label)

    def inverse_transform(self, Z: Any) -> np.ndarray:
        return self.model.inverse_transform(Z, y=self.label)


def _encode(model: Any, X: np.ndarray, y: Any) -> np.ndarray:
    if is_conditional(model):
        if y is None:
            raise ValueError(f"y: {type(model).__name__} is conditional; pass the labels y")
        return model.transform(X, y=y)
    return model.transform(X)


def _decode(model: Any, Z: np.ndarray, y: Any) -> np.ndarray:
    return model.inverse_transform(Z, y=y) if is_conditional(model) else model.inverse_transform(Z)


def _check_model(model: Any, *methods: str) -> None:
    for method in methods:
        if not callable(getattr(model, method, None)):
            raise TypeError(
                f"model must be a fitted latentmodels model with {method}(); "
                f"got {type(model).__name__}"
            )


def _latent_dim(model: Any, probe: np.ndarray | None = None, y: Any = None) -> int:
    dim = getattr(model, "latent_dim", None)
    if isinstance(dim, int) and dim > 0:
        return dim
    if probe is None:
        raise ValueError("model has no latent_dim; pass reference data so it can be measured")
    return int(_encode(model, probe[:1], None if y is None else np.asarray(y)[:1]).shape[1])


# -- training curves -----------------------------------------------------------------------
def history_records(history: Any, key: str = "loss") -> list[Mapping[str, float]]:
    """The per-epoch records of a training history, checked.

    Parameters
    ----------
    history : model or list of dict
        A fitted model (its ``history_``) or a list of per-epoch dicts; at least one record
        must hold a ``key`` entry.
    key : str, default="loss"
        The entry the caller plots (a GAN's plots read ``d_loss``).

    Returns
    -------
    list of dict
        The records.

    Raises
    ------
    TypeError
        If ``history`` is neither.
    ValueError
        If it is empty or has no ``key`` entries.

    Examples
    --------
    >>> history_records([{"loss": 2.0}, {"loss": 1.5}])
    [{'loss': 2.0}, {'loss': 1.5}]
    """
    if hasattr(history, "history_"):
        history = history.history_
    if isinstance(history, Mapping) or not isinstance(history, Sequence):
        raise TypeError(
            "history must be a fitted model with history_ or a list of per-epoch dicts, "
            f"got {type(history).__name__}"
        )
    if len(history) == 0:
        raise ValueError("history is empty: the model has no recorded epochs")
    if not all(isinstance(record, Mapping) for record in history):
        raise TypeError("history must hold one dict per epoch")
    if not any(key in record for record in history):
        raise ValueError(f"history has no {key!r} entries")
    return list(history)


def plot_training_curves(
    history: Any, *, path: str | os.PathLike | None = None, dpi: int = DEFAULT_DPI
) -> Figure:
    """Loss and validation loss per epoch, plus reconstruction and KL terms when recorded.

    Parameters
    ----------
    history : model or list of dict
        A fitted deep model (its ``history_``) or a list of per-epoch dicts.
    path : str or os.PathLike, optional
        Also write the figure there as a PNG.
    dpi : int, default=100
        Resolution of the PNG.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_training_curves([{"loss": 3.0, "val_loss": 3.2}, {"loss": 2.0, "val_loss": 2.5}])
    >>> len(fig.axes)
    1
    """
    records = history_records(history)
    epochs = np.arange(1, len(records) + 1)

    def series(key: str) -> np.ndarray | None:
        if not any(key in r for r in records):
            return None
        return np.array([float(r.get(key, np.nan)) for r in records])

    panels = [("loss", "loss"), ("reconstruction", "reconstruction"), ("kl", "KL divergence")]
    panels = [(key, title) for key, title in panels if series(key) is not None]
    fig = Figure(figsize=(4.2 * len(panels), 3.4), layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (key, title) in zip(axes, panels, strict=True):
        ax.plot(epochs, series(key), marker="o", markersize=3, label="train")
        validation = series(f"val_{key}")
        if validation is not None:
            ax.plot(epochs, validation, marker="o", markersize=3, label="validation")
            if key == "loss" and np.isfinite(validation).any():
                best = int(np.nanargmin(validation))
                ax.axvline(epochs[best], color="grey", linestyle=":", label="best epoch")
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("Training curves")
    return finish_figure(fig, path, dpi)


# -- image grids -----------------------------------------------------------------------------
def grid_figure(
    rows: Sequence[tuple[str, np.ndarray]], ncols: int, lo: float, hi: float, title: str
) -> Figure:
    """One axis per named block of images; each block is tiled ``ncols`` wide.

    Parameters
    ----------
    rows : sequence of (str, numpy.ndarray)
        A label and its images (in display form, see :func:`as_images`) per block.
    ncols : int
        Images per row.
    lo, hi : float
        Grey levels shown as black and white (see :func:`display_range`).
    title : str
        The figure's title.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> images = np.random.default_rng(0).random((6, 8, 8))
    >>> fig = grid_figure([("a", images), ("b", images[:3])], 3, 0.0, 1.0, "two blocks")
    >>> len(fig.axes)
    2
    """
    height, width = rows[0][1].shape[1:3]
    cell_h = _CELL * height / width
    row_counts = [math.ceil(len(images) / ncols) for _, images in rows]
    # Whole hundredths of an inch: an exact pixel count at the default dpi.
    size = (ncols * _CELL + 1.2, sum(row_counts) * cell_h + 0.35 * len(rows) + 0.5)
    fig = Figure(figsize=tuple(round(s, 2) for s in size), layout="constrained")
    axes = fig.subplots(len(rows), 1, squeeze=False, height_ratios=row_counts)[:, 0]
    for ax, (label, images) in zip(axes, rows, strict=True):
        _show(ax, _mosaic(images, ncols, lo, hi))
        if label:
            ax.set_ylabel(label, fontsize=9)
    fig.suptitle(title)
    return fig


def plot_reconstructions(
    model: Any,
    X: Any,
    y: Any = None,
    *,
    n: int = 10,
    image_shape: Sequence[int] | None = None,
    path: str | os.PathLike | None = None,
    dpi: int = DEFAULT_DPI,
) -> Figure:
    """Originals (top) against their reconstructions ``inverse_transform(transform(X))``.

    The grey scale is the originals' (:func:`display_range`); reconstruction values outside
    it are clipped for display.

    Parameters
    ----------
    model : object
        A fitted model with ``transform`` and ``inverse_transform``.
    X : array-like
        Samples; the first ``n`` are shown.
    y : array-like, optional
        Labels, needed only by conditional models.
    n : int, default=10
        Number of samples shown.
    image_shape : sequence of int, optional
        ``(H, W)`` or ``(C, H, W)`` of flat samples (a square size needs none).
    path : str or os.PathLike, optional
        Also write the figure there as a PNG.
    dpi : int, default=100
        Resolution of the PNG.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from latentmodels import VAE, datasets
    >>> X, y = datasets.load_mnist()
    >>> vae = VAE(latent_dim=2, epochs=1, verbose=0, random_state=0).fit(X[:64])
    >>> type(plot_reconstructions(vae, X[:20], n=5)).__name__
    'Figure'
    """
    _check_model(model, "transform", "inverse_transform")
    check_positive_int(n, "n")
    data = check_data(X, "X")[:n]
    labels = None if y is None else np.asarray(y)[: len(data)]
    recon = _decode(model, _encode(model, data, labels), labels)
    originals = as_images(data, image_shape, name="X")
    rebuilt = as_images(recon, image_shape if image_shape else originals.shape[1:3], name="X")
    if rebuilt.shape != originals.shape:
        rebuilt = as_images(recon, image_shape, name="reconstruction")
    # The originals set the grey scale; reconstructions overshooting it are clipped, so a
    # decoder that leaves [0, 1] cannot wash the originals out to grey.
    lo, hi = display_range(originals)
    ncols = min(len(data), 16)
    fig = grid_figure(
        [("original", originals), ("reconstruction", rebuilt)], ncols, lo, hi, "Reconstructions"
    )
    return finish_figure(fig, path, dpi)


def plot_image_grid(
    images: Any,
    *,
    title: str = "",
    ncols: int | None = None,
    image_shape: Sequence[int] | None = None,
    path: str | os.PathLike | None = None,
    dpi: int = DEFAULT_DPI,
) -> Figure:
    """A grid of any images.

    Parameters
    ----------
    images : array-like
        ``(n, H, W)``, ``(n, C, H, W)`` or flat with ``image_shape``.
    title : str, default=""
        The figure's title.
    ncols : int, optional
        Images per row; about a square grid by default.
    image_shape : sequence of int, optional
        ``(H, W)`` or ``(C, H, W)`` of flat samples (a square size needs none).
    path : str or os.PathLike, optional
        Also write the figure there as a PNG.
    dpi : int, default=100
        Resolution of the PNG.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from latentmodels import datasets
    >>> X, _ = datasets.load_mnist()
    >>> fig = plot_image_grid(X[:16], title="first digits")
    >>> len(fig.axes)
    1
    """
    images = as_images(images, image_shape, name="images")
    ncols = ncols or math.ceil(math.sqrt(len(images)))
    check_positive_int(ncols, "ncols")
    lo, hi = display_range(images)
    return finish_figure(grid_figure([("", images)], ncols, lo, hi, title), path, dpi)


def plot_samples(
    model: Any,
    n: int = 64,
    *,
    y: Any = None,
    ncols: int | None = None,
    random_state: int | None = 0,
    image_shape: Sequence[int] | None = None,
    path: str | os.PathLike | None = None,
    dpi: int = DEFAULT_DPI,
) -> Figure:
    """A grid of ``n`` new samples from ``model.sample``.

    Parameters
    ----------
    model : object
        A fitted model with ``sample``.
    n : int, default=64
        Number of samples.
    y : label or array-like, optional
        For conditional models, the class (a label, or one per sample); without it the model
        chooses.
    ncols : int, optional
        Images per row.
    random_state : int or None, default=0
        Seed of the draw.
    image_shape : sequence of int, optional
        ``(H, W)`` or ``(C, H, W)`` of flat samples (a square size needs none).
    path : str or os.PathLike, optional
        Also write the figure there as a PNG.
    dpi : int, default=100
        Resolution of the PNG.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from latentmodels import VAE, datasets
    >>> X, y = datasets.load_mnist()
    >>> vae = VAE(latent_dim=2, epochs=1, verbose=0, random_state=0).fit(X[:64])
    >>> type(plot_samples(vae, 16)).__name__
    'Figure'
    """
    _check_model(model, "sample")
    check_positive_int(n, "n")
    if y is not None and not is_conditional(model):
        raise ValueError(f"y: {type(model).__name__} is not conditional; it takes no labels")
    if is_conditional(model):
        samples = model.sample(n, y=y, random_state=random_state)
    else:
        samples = model.sample(n, random_state=random_state)
    if isinstance(samples, tuple):  # models that return (samples, latent states)
        samples = samples[0]
    images = as_images(samples, image_shape, name="samples")
    ncols = ncols or math.ceil(math.sqrt(n))
    check_positive_int(ncols, "ncols")
    lo, hi = display_range(images)
    return finish_figure(grid_figure([("", images)], ncols, lo, hi, "Samples"), path, dpi)


def plot_interpolations(
    model: Any,
    X: Any,
    pairs: Sequence[tuple[int, int]],
    y: Any = None,
    *,
    steps: int = 10,
    method: str = "linear",
    image_shape: Sequence[int] | None = None,
    path: str | os.PathLike | None = None,
    dpi: int = DEFAULT_DPI,
) -> Figure:
    """One strip per ``(start, end)`` pair of rows of ``X``: decoded points on the latent path.

    Endpoints are included. A conditional model encodes and decodes the whole strip with the
    label of the start sample, so pick pairs of one class.

    Parameters
    ----------
    model : object
        A fitted model with ``transform`` and ``inverse_transform``.
    X : array-like
        Samples.
    pairs : sequence of (int, int)
        Row indices into ``X``.
    y : array-like, optional
        Labels, needed only by conditional models.
    steps : int, default=10
        Images per strip.
    method : {"linear", "spherical"}, default="linear"
        The path's geometry.
    image_shape : sequence of int, optional
        ``(H, W)`` or ``(C, H, W)`` of flat samples (a square size needs none).
    path : str or os.PathLike, optional
        Also write the figure there as a PNG.
    dpi : int, default=100
        Resolution of the PNG.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from latentmodels import VAE, datasets
    >>> X, y = datasets.load_mnist()
    >>> vae = VAE(latent_dim=2, epochs=1, verbose=0, random_state=0).fit(X[:64])
    >>> fig = plot_interpolations(vae, X, [(0, 1), (2, 3)], steps=5)
    >>> len(fig.axes)
    2
    """
    _check_model(model, "transform", "inverse_transform")
    check_positive_int(steps, "steps", minimum=2)
    check_choice(method, "method", INTERPOLATION_METHODS)
    data = check_data(X, "X")
    pairs = [tuple(p) for p in pairs]
    if not pairs:
        raise ValueError("pairs must hold at least one (start, end) pair of indices")
    rows = []
    for pair in pairs:
        if len(pair) != 2:
            raise ValueError(f"pairs: each entry must be (start, end), got {pair!r}")
        for index in pair:
            if not -len(data) <= int(index) < len(data):
                raise ValueError(f"pairs: index {index} is outside X ({len(data)} samples)")
        i, j = int(pair[0]), int(pair[1])
        driver: Any = model
        if is_conditional(model):
            if y is None:
                raise ValueError(f"y: {type(model).__name__} is conditional; pass the labels y")
            driver = _LabelBound(model, np.asarray(y)[i])
        codes = driver.transform(data[[i, j]])
        path_z = latent_path(codes[0], codes[1], steps, method).astype(np.float32)
        rows.append((f"{i} \u2192 {j}", driver.inverse_transform(path_z)))
    shape = image_shape
    if shape is None and data.ndim == 2:
        shape = as_images(data[:1], name="X").shape[1:]
    images = [(label, as_images(row, shape, name="X")) for label, row in rows]
    # The data's grey scale, not the decoded paths': decoded values overshooting it are clipped.
    lo, hi = display_range(as_images(data, shape, name="X"))
    title = f"Interpolations ({method}, {steps} steps)"
    return finish_figure(grid_figure(images, steps, lo, hi, title), path, dpi)


def plot_traversal(
    model: Any,
    x: Any,
    *,
    label: Any = None,
    dims: Sequence[int] | None = None,
    values: Sequence[float] | None = None,
    reference: Any = None,
    reference_y: Any = None,
    max_dims: int = 10,
    image_shape: Sequence[int] | None = None,
    path: str | os.PathLike | None = None,
    dpi: int = DEFAULT_DPI,
) -> Figure:
    """Latent traversal: each row varies one latent dimension around the code of ``x``.

    With ``reference`` data the offsets are in units of each dimension's spread over the
    reference codes, and the default ``dims`` are the ``max_dims`` dimensions that vary most
    (the ones the model uses); without it, the first ``max_dims``.

    Parameters
    ----------
    model : object
        A fitted model with ``transform`` and ``inverse_transform``.
    x : array-like
        One sample.
    label : object, optional
        The class of ``x``, for conditional models.
    dims : sequence of int, optional
        The dimensions varied.
    values : sequence of float, optional
        Offsets added to the code; 7 steps in [-3, 3] by default.
    reference : array-like, optional
        Samples whose codes set the scale and the default ``dims``.
    reference_y : array-like, optional
        Their labels, for conditional models.
    max_dims : int, default=10
        Most rows.
    image_shape : sequence of int, optional
        ``(H, W)`` or ``(C, H, W)`` of flat samples (a square size needs none).
    path : str or os.PathLike, optional
        Also write the figure there as a PNG.
    dpi : int, default=100
        Resolution of the PNG.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from latentmodels import VAE, datasets
    >>> X, y = datasets.load_mnist()
    >>> vae = VAE(latent_dim=2, epochs=1, verbose=0, random_state=0).fit(X[:64])
    >>> type(plot_traversal(vae, X[0], reference=X[:64])).__name__
    'Figure'
    """
    _check_model(model, "transform", "inverse_transform")
    check_positive_int(max_dims, "max_dims")
    sample = check_data(x, "x", min_ndim=1)
    driver: Any = model
    if is_conditional(model):
        if label is None:
            raise ValueError(f"label: {type(model).__name__} is conditional; pass x's label")
        driver = _LabelBound(model, label)
    offsets = np.linspace(-3, 3, 7) if values is None else np.asarray(values, dtype=np.float64)
    if offsets.ndim != 1 or len(offsets) == 0 or not np.isfinite(offsets).all():
        raise ValueError(f"values must be a non-empty 1-D list of finite numbers, got {values!r}")
    spread = None
    if reference is not None:
        ref = check_data(reference, "reference")
        ref_labels = reference_y
        if is_conditional(model) and ref_labels is None:
            ref_labels = np.full(len(ref), label)
        codes = _encode(model, ref, ref_labels)
        spread = codes.std(axis=0)
    latent_dim = _latent_dim(model, sample[None])
    if dims is None:
        order = np.argsort(-spread, kind="stable") if spread is not None else np.arange(latent_dim)
        dims = sorted(int(d) for d in order[: min(max_dims, latent_dim)])
    dims = [int(d) for d in dims]
    if not dims:
        raise ValueError("dims must name at least one latent dimension")
    outside = [d for d in dims if not 0 <= d < latent_dim]
    if outside:
        raise ValueError(f"dims: {outside} outside the latent space (dimensions 0.."
                         f"{latent_dim - 1})")
    rows = []
    for d in dims:
        scale = 1.0 if spread is None else max(float(spread[d]), 1e-3)
        rows.append(traverse(driver, sample, dims=[d], values=offsets * scale)[0])
    decoded = np.concatenate(rows, axis=0)
    shape = image_shape
    if shape is None and sample.ndim == 1:
        shape = as_images(sample[None], name="x").shape[1:]
    images = as_images(decoded, shape, name="x")
    lo, hi = display_range(images)
    fig = grid_figure([("", images)], len(offsets), lo, hi, "Latent traversal")
    ax = fig.axes[0]
    height, width = images.shape[1:3]
    _cell_ticks(ax, len(dims), height, "y", [f"z{d}" for d in dims])
    unit = "\u03c3" if spread is not None else ""
    _cell_ticks(ax, len(offsets), width, "x", [f"{v:+.1f}{unit}" for v in offsets])
    return finish_figure(fig, path, dpi)


def plot_manifold(
    model: Any,
    *,
    n: int = 15,
    y: Any = None,
    reference: Any = None,
    reference_y: Any = None,
    image_shape: Sequence[int] | None = None,
    path: str | os.PathLike | None = None,
    dpi: int = DEFAULT_DPI,
) -> Figure:
    """Decode an ``n`` x ``n`` grid over a 2-D latent space.

    The grid spans the 5-95 % quantiles of N(0, 1) (a VAE's prior), or the 2-98 %
    percentiles of the codes of ``reference`` data when given (right for autoencoders).

    Parameters
    ----------
    model : object
        A fitted model with a 2-D latent space and ``inverse_transform``.
    n : int, default=15
        Grid points per axis.
    y : object, optional
        The class to decode, for conditional models.
    reference : array-like, optional
        Samples whose codes set the grid's span.
    reference_y : array-like, optional
        Their labels, for conditional models.
    image_shape : sequence of int, optional
        ``(H, W)`` or ``(C, H, W)`` of flat samples (a square size needs none).
    path : str or os.PathLike, optional
        Also write the figure there as a PNG.
    dpi : int, default=100
        Resolution of the PNG.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from latentmodels import VAE, datasets
    >>> X, y = datasets.load_mnist()
    >>> vae = VAE(latent_dim=2, epochs=1, verbose=0, random_state=0).fit(X[:64])
    >>> type(plot_manifold(vae, n=5)).__name__
    'Figure'
    """
    _check_model(model, "inverse_transform")
    check_positive_int(n, "n", minimum=2)
    ref = None if reference is None else check_data(reference, "reference")
    latent_dim = _latent_dim(model, ref, reference_y)
    if latent_dim != 2:
        raise ValueError(
            f"model: a decoded manifold needs a 2-D latent space, this one has {latent_dim} "
            "dimensions; use plot_traversal instead"
        )
    if is_conditional(model) and y is None:
        raise ValueError(f"y: {type(model).__name__} is conditional; pass the class to decode")
    if ref is not None:
        ref_labels = reference_y
        if is_conditional(model) and ref_labels is None:
            ref_labels = np.full(len(ref), y)
        codes = _encode(model, ref, ref_labels)
        axes_values = [np.linspace(*np.percentile(codes[:, k], [2, 98]), n) for k in range(2)]
    else:
        from scipy.stats import norm

        axes_values = [norm.ppf(np.linspace(0.05, 0.95, n))] * 2
    # Rows run top to bottom, so z2 decreases down the picture like a y axis.
    grid = np.array([[a, b] for b in axes_values[1][::-1] for a in axes_values[0]], np.float32)
    decoded = _decode(model, grid, None if y is None else np.full(len(grid), y))
    images = as_images(decoded, image_shape, name="decoded")
    lo, hi = display_range(images)
    fig = grid_figure([("", images)], n, lo, hi, "Decoded latent manifold")
    ax = fig.axes[0]
    height, width = images.shape[1:3]
    keep = np.linspace(0, n - 1, min(n, 5)).round().astype(int)
    xs = [1 + i * (width + 1) + width / 2 - 0.5 for i in keep]
    ys = [1 + i * (height + 1) + height / 2 - 0.5 for i in keep]
    ax.set_xticks(xs, [f"{axes_values[0][i]:.2g}" for i in keep], fontsize=8)
    ax.set_yticks(ys, [f"{axes_values[1][::-1][i]:.2g}" for i in keep], fontsize=8)
    ax.set_xlabel("z0")
    ax.set_ylabel("z1")
    return finish_figure(fig, path, dpi)


# -- latent map --------------------------------------------------------------------------------
def embed_2d(codes: np.ndarray, method: str, random_state: int | None, *,
             progress: bool = False) -> tuple[np.ndarray, str]:
    """Two coordinates per latent code, for drawing, and how they were made.

    A 1-D space gets a random vertical jitter; a 2-D space is kept as is for ``"pca"``.
    With ``progress``, t-SNE and UMAP (which take minutes on many codes) show a spinner
    and the elapsed time on stderr.

    Parameters
    ----------
    codes : numpy.ndarray of shape (n_samples, n_components)
        Latent codes.
    method : {"pca", "tsne", "umap"}
        The embedding of spaces above 2-D.
    random_state : int or None
        Seed of the embedding (and of the jitter).
    progress : bool, default=False
        Show that a t-SNE or UMAP embedding is running.

    Returns
    -------
    points : numpy.ndarray of shape (n_samples, 2)
        The embedding.
    label : str
        A description for the axes.

    Examples
    --------
    >>> codes = np.random.default_rng(0).normal(size=(30, 5))
    >>> points, label = embed_2d(codes, "pca", 0)
    >>> points.shape, label.startswith("PCA of the codes")
    ((30, 2), True)
    """
    if codes.shape[1] == 1:
        jitter = np.random.default_rng(random_state).uniform(-0.5, 0.5, len(codes))
        return np.column_stack([codes[:, 0], jitter]), "z0 (vertical: jitter)"
    if codes.shape[1] == 2 and method == "pca":
        return codes, "z0, z1 (latent space is 2-D)"
    if method == "pca":
        from sklearn.decomposition import PCA

        pca = PCA(n_components=2, random_state=random_state).fit(codes)
        share = pca.explained_variance_ratio_.sum()
        return pca.transform(codes), f"PCA of the codes ({share:.0%} of variance)"
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = float(min(30.0, max(2.0, (len(codes) - 1) / 3)))
        tsne = TSNE(n_components=2, init="pca", perplexity=perplexity, random_state=random_state)
        with _working(f"t-SNE of {len(codes):,} codes", progress):
            return tsne.fit_transform(codes), "t-SNE of the codes"
    try:
        import umap  # type: ignore[import-not-found]
    except ImportError as exc:
        raise ImportError(
            "method='umap' needs the umap-learn package: in a clone of the repository run "
            "`.venv/bin/pip install -e '.[umap]'` (or `make umap`); from PyPI, "
            "`pip install 'latentmodels[umap]'`; or use method='pca' or 'tsne'"
        ) from exc
    with _working(f"UMAP of {len(codes):,} codes", progress):
        return umap.UMAP(random_state=random_state).fit_transform(codes), "UMAP of the codes"


@contextlib.contextmanager
def _working(description: str, enabled: bool) -> Iterator[None]:
    """A spinner with the elapsed time on stderr while a step without steps to count runs."""
    if not enabled:
        yield
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn(description), TimeElapsedColumn(),
                  console=Console(stderr=True)) as bar:
        bar.add_task(description, total=None)
        yield


def plot_latent_map(
    model: Any,
    X: Any,
    y: Any = None,
    *,
    method: str = "pca",
    max_points: int = 2000,
    class_names: Sequence[str] | None = None,
    random_state: int | None = 0,
    path: str | os.PathLike | None = None,
    dpi: int = DEFAULT_DPI,
    embedding: tuple[np.ndarray, str] | None = None,
    progress: bool = False,
) -> Figure:
    """Scatter ``model.transform(X)`` in 2-D, coloured by the labels ``y`` when given.

    At most ``max_points`` samples are drawn, a seeded random subset.

    Parameters
    ----------
    model : object
        A fitted model with ``transform``.
    X : array-like
        Samples.
    y : array-like, optional
        Labels, for colours (and for conditional models).
    method : {"pca", "tsne", "umap"}, default="pca"
        The embedding (a 2-D latent space is shown as is with ``"pca"``; ``"umap"`` needs
        umap-learn).
    max_points : int, default=2000
        Most samples drawn.
    class_names : sequence of str, optional
        Legend names of the labels.
    random_state : int or None, default=0
        Seed of the subset and embedding.
    path : str or os.PathLike, optional
        Also write the figure there as a PNG.
    dpi : int, default=100
        Resolution of the PNG.
    embedding : (numpy.ndarray, str), optional
        The 2-D points of all of ``X`` and their axis label, as :func:`embed_2d` returns
        them, when already computed: the drawn subset is taken from them and nothing is
        embedded again.
    progress : bool, default=False
        Show that a t-SNE or UMAP embedding is running.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from latentmodels import VAE, datasets
    >>> X, y = datasets.load_mnist()
    >>> vae = VAE(latent_dim=2, epochs=1, verbose=0, random_state=0).fit(X[:64])
    >>> type(plot_latent_map(vae, X[:100], y[:100])).__name__
    'Figure'
    """
    _check_model(model, "transform")
    check_choice(method, "method", LATENT_MAP_METHODS)
    check_positive_int(max_points, "max_points")
    data = check_data(X, "X")
    labels = None
    if y is not None:
        labels = np.asarray(y)
        if labels.shape != (len(data),):
            raise ValueError(f"y must hold one label per sample of X ({len(data)}), "
                             f"got shape {labels.shape}")
    if len(data) < 3:
        raise ValueError(f"X: a latent map needs at least 3 samples, got {len(data)}")
    if embedding is not None and np.shape(embedding[0]) != (len(data), 2):
        raise ValueError(f"embedding: expected points of shape ({len(data)}, 2), got "
                         f"{np.shape(embedding[0])}")
    keep = None
    if len(data) > max_points:
        keep = np.sort(np.random.default_rng(random_state).choice(len(data), max_points, False))
        data = data[keep]
        labels = None if labels is None else labels[keep]
    if embedding is not None:
        points = np.asarray(embedding[0])
        points, caption = (points if keep is None else points[keep]), embedding[1]
    else:
        codes = np.asarray(_encode(model, data, labels), dtype=np.float64)
        if codes.ndim != 2:
            raise ValueError(f"model.transform returned shape {codes.shape}; expected 2-D codes")
        points, caption = embed_2d(codes, method, random_state, progress=progress)
    fig = Figure(figsize=(6.4, 5.4), layout="constrained")
    ax = fig.subplots()
    if labels is None:
        ax.scatter(points[:, 0], points[:, 1], s=6, alpha=0.7, color="tab:blue", linewidths=0)
    else:
        classes = np.unique(labels)
        if len(classes) <= 20 and not np.issubdtype(classes.dtype, np.floating):
            palette = colormaps["tab10" if len(classes) <= 10 else "tab20"]
            for k, cls in enumerate(classes):
                mask = labels == cls
                name = str(cls)
                if class_names is not None and isinstance(cls, (int, np.integer)):
                    name = class_names[int(cls)] if 0 <= cls < len(class_names) else name
                ax.scatter(points[mask, 0], points[mask, 1], s=6, alpha=0.75, linewidths=0,
                           color=palette(k % palette.N), label=name)
            legend = ax.legend(markerscale=2.5, fontsize=8, loc="center left",
                               bbox_to_anchor=(1.0, 0.5), frameon=False, title="label")
            legend.get_title().set_fontsize(8)
        else:
            sc = ax.scatter(points[:, 0], points[:, 1], s=6, c=labels.astype(float),
                            cmap="viridis", linewidths=0)
            fig.colorbar(sc, ax=ax, label="y")
    ax.set_title(f"Latent map: {caption}", fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
    return finish_figure(fig, path, dpi)
