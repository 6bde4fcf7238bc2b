"""Sections of models that encode and decode images: reconstructions, samples,
interpolations, the latent map, traversals and the decoded manifold."""

from __future__ import annotations

import numpy as np

from ... import plots
from ..context import (
    ReportContext,
    ReportFigure,
    Section,
    encodes,
    flag_html,
    has_methods,
    is_hmm,
    look_for_html,
)

__all__ = [
    "interpolations_section",
    "latent_map_section",
    "manifold_section",
    "reconstructions_section",
    "samples_section",
    "traversal_section",
]


def _decodes_images(ctx: ReportContext) -> bool:
    return ctx.is_image_data and encodes(ctx.model) and has_methods(ctx.model, "inverse_transform")

# Bounds on what a report draws, so it stays quick on a laptop whatever the data size.
_MAX_MAP_POINTS = 2000


_MAX_TSNE_POINTS = 1000


def reconstructions_section(ctx: ReportContext) -> Section | None:
    """Held-out samples against their reconstructions.

    Parameters
    ----------
    ctx : ReportContext
        The model, held-out data and run record.

    Returns
    -------
    Section or None
        One figure; None unless the model encodes and decodes images.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from latentmodels import VAE, datasets
    >>> from latentmodels.report.context import ReportContext
    >>> X, y = datasets.load_mnist()
    >>> vae = VAE(latent_dim=2, epochs=1, verbose=0, random_state=0).fit(X[:64])
    >>> ctx = ReportContext(Path(tempfile.mkdtemp()), vae, X[64:128], y[64:128], {}, {})
    >>> section = reconstructions_section(ctx)
    >>> section.id, len(section.figures) >= 1
    ('reconstructions', True)
    """
    if not _decodes_images(ctx):
        return None
    shown = ctx.X[:16]
    fig = plots.plot_reconstructions(ctx.model, shown, None if ctx.y is None else ctx.y[:16],
                                     n=16)
    text = look_for_html(
        "each reconstruction should keep its original's identity (class, shape, pose); "
        "blur in fine detail is normal, a different digit or object is not.")
    clipped = _outside_data_range(ctx, shown)
    if clipped > 0.01:
        text += flag_html(
            f"{100 * clipped:.1f} % of the reconstructed pixel values fall outside the range of "
            "the data; they are clipped to it for display, so the pictures look better than "
            "the raw decoder output is.")
    return Section("reconstructions", "Reconstructions", text, figures=[ReportFigure(
        "reconstructions.png", fig, "Top: held-out samples. Bottom: decode(encode(x)).")])


def _outside_data_range(ctx: ReportContext, X: np.ndarray) -> float:
    """Share of reconstructed values outside the range of the held-out data."""
    if ctx.conditional or not has_methods(ctx.model, "reconstruct"):
        return 0.0
    lo, hi = plots.display_range(plots.as_images(ctx.X))
    rebuilt = np.asarray(ctx.model.reconstruct(X), dtype=np.float64)
    tolerance = 0.01 * (hi - lo)
    return float(np.mean((rebuilt < lo - tolerance) | (rebuilt > hi + tolerance)))


def samples_section(ctx: ReportContext) -> Section | None:
    """New samples drawn from the model.

    Parameters
    ----------
    ctx : ReportContext
        The model, held-out data and run record.

    Returns
    -------
    Section or None
        One figure; None for a model that cannot sample images.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from latentmodels import VAE, datasets
    >>> from latentmodels.report.context import ReportContext
    >>> X, y = datasets.load_mnist()
    >>> vae = VAE(latent_dim=2, epochs=1, verbose=0, random_state=0).fit(X[:64])
    >>> ctx = ReportContext(Path(tempfile.mkdtemp()), vae, X[64:128], y[64:128], {}, {})
    >>> section = samples_section(ctx)
    >>> section.id, len(section.figures) >= 1
    ('samples', True)
    """
    if not (ctx.is_image_data and has_methods(ctx.model, "sample")):
        return None
    classes = getattr(ctx.model, "classes_", None) if ctx.conditional else None
    if classes is not None:
        ncols = len(classes)
        n = ncols * max(1, min(8, 80 // ncols))
        fig = plots.plot_samples(ctx.model, n, ncols=ncols, random_state=0)
        caption = "Column k is generated for class " + ", ".join(map(str, classes)) + " in order."
    else:
        fig = plots.plot_samples(ctx.model, 64, random_state=0)
        caption = "64 new samples: prior draws decoded (decoder means)."
    text = look_for_html(
        "samples should look like the training data and differ from one another; smeared "
        "or near-identical samples mean the model has not learned the data's variety.")
    return Section("samples", "Samples", text,
                   figures=[ReportFigure("samples.png", fig, caption)])


def _interpolation_pairs(y: np.ndarray | None, n: int, conditional: bool) -> list[tuple[int, int]]:
    """Up to four pairs: different classes (or the same class for conditional models)."""
    if y is None:
        return [(2 * k, 2 * k + 1) for k in range(min(4, n // 2))]
    pairs: list[tuple[int, int]] = []
    classes = list(dict.fromkeys(np.asarray(y).tolist()))
    for k, cls in enumerate(classes):
        first = int(np.flatnonzero(y == cls)[0])
        if conditional:
            same = np.flatnonzero(y == cls)
            if len(same) > 1:
                pairs.append((first, int(same[1])))
        elif k + 1 < len(classes):
            pairs.append((first, int(np.flatnonzero(y == classes[k + 1])[0])))
        if len(pairs) == 4:
            break
    return pairs


def interpolations_section(ctx: ReportContext) -> Section | None:
    """Decoded paths through latent space between pairs of held-out samples.

    Pairs are of different classes (of the same class for conditional models).

    Parameters
    ----------
    ctx : ReportContext
        The model, held-out data and run record.

    Returns
    -------
    Section or None
        Figures of linear and spherical paths; None unless the model encodes and decodes images.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from latentmodels import VAE, datasets
    >>> from latentmodels.report.context import ReportContext
    >>> X, y = datasets.load_mnist()
    >>> vae = VAE(latent_dim=2, epochs=1, verbose=0, random_state=0).fit(X[:64])
    >>> ctx = ReportContext(Path(tempfile.mkdtemp()), vae, X[64:128], y[64:128], {}, {})
    >>> section = interpolations_section(ctx)
    >>> section.id, len(section.figures) >= 1
    ('interpolations', True)
    """
    if not _decodes_images(ctx):
        return None
    X, y = ctx.reference()
    pairs = _interpolation_pairs(y, len(X), ctx.conditional)
    if not pairs:
        return None
    figures = [
        ReportFigure("interpolations.png", plots.plot_interpolations(ctx.model, X, pairs, y),
                     "Linear paths between held-out samples (row label: their indices)."),
        ReportFigure("interpolations_spherical.png",
                     plots.plot_interpolations(ctx.model, X, pairs, y, method="spherical"),
                     "The same pairs along spherical (slerp) paths."),
    ]
    text = look_for_html(
        "each row should change gradually from its first image to its last, and every step "
        "should look like real data; a sudden jump or a smudge midway marks a gap in the "
        "latent space.")
    return Section("interpolations", "Interpolations", text, figures=figures)


def latent_map_section(ctx: ReportContext) -> Section | None:
    """Held-out codes in 2-D, coloured by label.

    Parameters
    ----------
    ctx : ReportContext
        The model, held-out data and run record.

    Returns
    -------
    Section or None
        The latent map figures; None for a model without a direct encoder.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from latentmodels import VAE, datasets
    >>> from latentmodels.report.context import ReportContext
    >>> X, y = datasets.load_mnist()
    >>> vae = VAE(latent_dim=2, epochs=1, verbose=0, random_state=0).fit(X[:64])
    >>> ctx = ReportContext(Path(tempfile.mkdtemp()), vae, X[64:128], y[64:128], {}, {})
    >>> section = latent_map_section(ctx)
    >>> section.id, len(section.figures) >= 1
    ('latent-map', True)
    """
    if ctx.X is None or not encodes(ctx.model) or is_hmm(ctx.model):
        return None
    if ctx.conditional and ctx.y is None:
        return None
    fig = plots.plot_latent_map(ctx.model, ctx.X, ctx.y, max_points=_MAX_MAP_POINTS)
    caption = "Codes (posterior means for VAEs) of held-out samples, projected to 2-D with PCA."
    figures = [ReportFigure("latent_map.png", fig, caption)]
    latent_dim = getattr(ctx.model, "latent_dim", None)
    if ctx.options.get("tsne", True) and len(ctx.X) >= 10 and latent_dim != 2:
        # t-SNE shows the cluster structure PCA squashes; 1,000 points keep it to seconds.
        fig = plots.plot_latent_map(ctx.model, ctx.X, ctx.y, method="tsne",
                                    max_points=_MAX_TSNE_POINTS)
        figures.append(ReportFigure(
            "latent_map_tsne.png", fig,
            f"The same codes embedded with t-SNE (at most {_MAX_TSNE_POINTS:,} samples)."))
    text = look_for_html(
        "with labels, samples of one class should gather and different classes should "
        "separate; PCA keeps distances, t-SNE keeps neighbourhoods (its cluster sizes and "
        "gaps mean little).")
    return Section("latent-map", "Latent map", text, figures=figures)


def traversal_section(ctx: ReportContext) -> Section | None:
    """Vary one latent dimension at a time; the dimensions the model uses most are shown.

    Parameters
    ----------
    ctx : ReportContext
        The model, held-out data and run record.

    Returns
    -------
    Section or None
        One figure; None unless the model encodes and decodes images.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from latentmodels import VAE, datasets
    >>> from latentmodels.report.context import ReportContext
    >>> X, y = datasets.load_mnist()
    >>> vae = VAE(latent_dim=2, epochs=1, verbose=0, random_state=0).fit(X[:64])
    >>> ctx = ReportContext(Path(tempfile.mkdtemp()), vae, X[64:128], y[64:128], {}, {})
    >>> section = traversal_section(ctx)
    >>> section.id, len(section.figures) >= 1
    ('traversal', True)
    """
    if not _decodes_images(ctx):
        return None
    X, y = ctx.reference()
    label = None if y is None else y[0]
    if ctx.conditional and label is None:
        return None
    reference_y = y if ctx.conditional else None
    fig = plots.plot_traversal(ctx.model, X[0], label=label, reference=X, reference_y=reference_y)
    caption = ("Rows: the latent dimensions that vary most over held-out codes. Columns: the "
               "first held-out sample's code shifted by multiples of that dimension's spread.")
    text = look_for_html(
        "a row that changes one thing (slant, thickness, width) is a dimension the model "
        "uses on its own; a row that does not change at all is a dimension it ignores.")
    return Section("traversal", "Latent traversal", text, figures=[
        ReportFigure("traversal.png", fig, caption)])


def manifold_section(ctx: ReportContext) -> Section | None:
    """For 2-D latent spaces: the decoded grid.

    Parameters
    ----------
    ctx : ReportContext
        The model, held-out data and run record.

    Returns
    -------
    Section or None
        One figure; None unless the latent space is 2-D and decodes to images.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from latentmodels import VAE, datasets
    >>> from latentmodels.report.context import ReportContext
    >>> X, y = datasets.load_mnist()
    >>> vae = VAE(latent_dim=2, epochs=1, verbose=0, random_state=0).fit(X[:64])
    >>> ctx = ReportContext(Path(tempfile.mkdtemp()), vae, X[64:128], y[64:128], {}, {})
    >>> section = manifold_section(ctx)
    >>> section.id, len(section.figures) >= 1
    ('manifold', True)
    """
    if not (ctx.is_image_data and has_methods(ctx.model, "inverse_transform")):
        return None
    if getattr(ctx.model, "latent_dim", None) != 2:
        return None
    X, y = ctx.reference()
    label = None
    if ctx.conditional:
        if y is None:
            return None
        label = y[0]
    # A VAE's codes follow its N(0, I) prior; other models are gridded over their own codes.
    from_prior = callable(getattr(ctx.model, "log_likelihood", None))
    fig = plots.plot_manifold(ctx.model, y=label, reference=None if from_prior else X,
                              reference_y=y if ctx.conditional else None)
    text = look_for_html(
        "neighbouring cells should look alike and the whole grid should blend smoothly from "
        "one kind of sample into another.")
    return Section("manifold", "Decoded latent manifold", text, figures=[
        ReportFigure("manifold.png", fig, "An evenly spaced grid over the 2-D latent space.")])
