"""Pictures of a latent variable model: training curves, image grids, latent maps, and one
module per family (:mod:`.gan`, :mod:`.hmm`, :mod:`.lda`).

Every function takes a fitted model (or arrays) and returns a matplotlib ``Figure``; with
``path=`` it is also saved as a PNG. The helpers shared by the family modules
(:func:`finish_figure`, :func:`grid_figure`, :func:`display_range`, ...) are public here.
"""

from ._common import (
    DEFAULT_DPI,
    LATENT_MAP_METHODS,
    as_images,
    display_range,
    embed_2d,
    figure_to_png,
    finish_figure,
    grid_figure,
    history_records,
    is_conditional,
    plot_image_grid,
    plot_interpolations,
    plot_latent_map,
    plot_manifold,
    plot_reconstructions,
    plot_samples,
    plot_training_curves,
    plot_traversal,
    save_figure,
)

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
