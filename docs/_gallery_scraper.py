"""A sphinx-gallery image scraper for figures built without pyplot.

The library's plotting functions return ``matplotlib.figure.Figure`` objects that never join
pyplot's global list (so servers and reports do not leak figures), which the stock matplotlib
scraper cannot see. This one saves every ``Figure`` bound to a name in the example's globals,
once, in the order the example made them.
"""

from __future__ import annotations

from matplotlib.figure import Figure
from sphinx_gallery.scrapers import figure_rst

_SHOWN_KEY = "_latentmodels_shown_figures"


def figure_scraper(block, block_vars, gallery_conf, **kwargs):
    example_globals = block_vars["example_globals"]
    shown = example_globals.setdefault(_SHOWN_KEY, set())
    # pyplot's figures (a canvas manager marks them) are the matplotlib scraper's, which runs
    # after this one and closes them; marking them shown keeps a later block from saving
    # them again once closing has removed their manager.
    figures = []
    for value in example_globals.values():
        if not isinstance(value, Figure) or id(value) in shown:
            continue
        if getattr(value.canvas, "manager", None) is not None:
            shown.add(id(value))
        else:
            figures.append(value)
    image_paths = []
    for figure, image_path in zip(figures, block_vars["image_path_iterator"], strict=False):
        figure.savefig(image_path, dpi=90)
        shown.add(id(figure))
        image_paths.append(image_path)
    return figure_rst(image_paths, gallery_conf["src_dir"])


def _get_sg_image_scraper():
    """The hook sphinx-gallery calls when ``image_scrapers`` names this module, which keeps
    the configuration free of function objects (so Sphinx can cache it)."""
    return figure_scraper
