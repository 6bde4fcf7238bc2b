"""The page and the files it loads, by name: the only files the explorer serves from disk."""

from __future__ import annotations

import html
from pathlib import Path

__all__ = ["ASSETS", "STATIC", "page_html", "plotly_path"]

STATIC = Path(__file__).resolve().parent / "static"


def plotly_path() -> Path:
    """Plotly.js as bundled by the ``plotly`` Python package (never a CDN)."""
    import plotly

    return Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"


#: Every asset the page loads, by URL name, with its media type.
ASSETS = {
    "explore.js": (STATIC / "explore.js", "text/javascript"),
    "explore.css": (STATIC / "explore.css", "text/css"),
}


def page_html(title: str, *, inline: dict[str, str] | None = None, data: str | None = None) -> str:
    """The explorer page; ``inline`` puts the asset texts in the page (the static export),
    ``data`` is the JSON of precomputed answers it reads instead of a server."""
    template = (STATIC / "explore.html").read_text(encoding="utf-8")
    if inline is None:
        head = ("<link rel='stylesheet' href='/assets/explore.css'>"
                "<script src='/assets/plotly.min.js'></script>")
        tail = "<script src='/assets/explore.js'></script>"
    else:
        head = f"<style>{inline['explore.css']}</style><script>{inline['plotly.min.js']}</script>"
        tail = (f"<script>window.EXPLORE_STATIC = {data};</script>"
                f"<script>{inline['explore.js']}</script>")
    return (template.replace("{{title}}", html.escape(title)).replace("{{head}}", head)
            .replace("{{tail}}", tail))


