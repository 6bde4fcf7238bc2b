"""The browser explorer: walk through a fitted run's latent space.

``latentmodels explore RUN_DIR`` serves a local page (Starlette on uvicorn, Plotly.js from the
``plotly`` package, nothing from the internet) with a map of every encoded point, decoding
anywhere on it, interpolation, anomalies, and views for topic models and HMMs;
``--static out.html`` writes the same page, with precomputed decodes, as one file.
:class:`ExploreSession` holds what is computed; the server stack is imported only by
:mod:`latentmodels.explore.server`, so importing this package stays light.
"""

from .session import MAP_METHODS, MAX_BATCH, ExploreSession, RunNotExplorable, relevance

__all__ = ["MAP_METHODS", "MAX_BATCH", "ExploreSession", "RunNotExplorable", "relevance"]
