"""The explorer as one self-contained HTML file (``latentmodels explore RUN --static out.html``).

The page, its script, Plotly.js and the answers the page would ask the server for are all
written into the file, so it opens from disk with no server. Decodes are precomputed: a grid
over the PCA map (a click shows the nearest grid decode), the hover images of the first
points, interpolations between the first few points, prior samples and the anomaly view.
Sliders and t-SNE/UMAP maps need the server.
"""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from .._internal.io import atomic_write_text
from .session import ExploreSession

__all__ = ["STATIC_ITEMS", "write_static_page"]

#: Points whose hover images are precomputed.
STATIC_ITEMS = 300
#: Points between every pair of which an interpolation is precomputed.
STATIC_PAIRS = 8
#: Decodes per side of the grid over the PCA map.
GRID = 16


def _answers(session: ExploreSession) -> dict[str, Any]:
    answers: dict[str, Any] = {"GET /api/info": session.info()}
    if session.family == "lda":
        answers["GET /api/topics"] = session.topics()
        for k in range(len(session.topic_word)):
            for weight in np.round(np.linspace(0, 1, 11), 1):
                answers[f"GET /api/topic/{k}?relevance={weight:.1f}"] = session.topic(
                    k, weight=float(weight))
        return answers
    if session.family == "hmm":
        answers["GET /api/sequence"] = session.sequence()
        for k in range(int(session.model.n_components)):
            answers[f"GET /api/state/{k}"] = session.state(k)
        return answers
    points = session.map("pca")
    answers["GET /api/map?method=pca"] = {"method": "pca", "x": points[:, 0].round(4).tolist(),
                                          "y": points[:, 1].round(4).tolist()}
    for i in range(min(STATIC_ITEMS, session.n_points)):
        answers[f"GET /api/item/{i}"] = session.item(i)
    if session.scores is not None:
        answers["GET /api/anomalies?n=8"] = session.anomalies(8)
    label = session.classes[0] if session.conditional else None
    if callable(getattr(session.model, "sample", None)):
        answers["POST /api/sample"] = session.sample(8, seed=0, label=label)
    for a, b in itertools.permutations(range(min(STATIC_PAIRS, session.n_points)), 2):
        for mode in ("linear", "spherical"):
            answers[f"POST /api/interpolate {a}-{b}-{mode}"] = session.interpolate(
                session.codes[a], session.codes[b], steps=10, mode=mode, label=label)
    return answers


def _decode_grid(session: ExploreSession) -> dict[str, Any] | None:
    if session.family != "latent":
        return None
    points = session.map("pca")
    low, high = points.min(0), points.max(0)
    xs = np.linspace(low[0], high[0], GRID)
    ys = np.linspace(low[1], high[1], GRID)
    grid = np.array([[x, y] for y in ys for x in xs])
    label = session.classes[0] if session.conditional else None
    images = session.decode(session.map_to_latent(grid, "pca"), label=label)["images"]
    step = (high - low) / (GRID - 1) if GRID > 1 else np.ones(2)
    return {"n": GRID, "x0": float(low[0]), "y0": float(low[1]), "dx": float(step[0] or 1.0),
            "dy": float(step[1] or 1.0), "images": images}


def write_static_page(session: ExploreSession, path: str | os.PathLike) -> Path:
    """Write the explorer of ``session`` as one HTML file that opens with no server.

    Parameters
    ----------
    session : ExploreSession
        The loaded run.
    path : str or os.PathLike
        The ``.html`` file to write (atomically).

    Returns
    -------
    pathlib.Path
        The written file.

    Examples
    --------
    >>> # write_static_page(ExploreSession("runs/vae"), "vae.html")
    """
    from .assets import ASSETS, page_html, plotly_path

    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"path must end in .html, got {str(path)!r}")
    data = {"answers": _answers(session), "decode_grid": _decode_grid(session)}
    # "</" must not appear inside the inline script that carries the data.
    payload = json.dumps(data, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
    inline = {name: spec[0].read_text(encoding="utf-8") for name, spec in ASSETS.items()}
    inline["plotly.min.js"] = plotly_path().read_text(encoding="utf-8")
    page = page_html(f"{session.model_name} · {session.run_dir.name} (static)", inline=inline,
                     data=payload)
    return atomic_write_text(path, page)
