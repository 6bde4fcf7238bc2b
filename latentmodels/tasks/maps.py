"""Looking around a latent space: 2-D maps of the codes and nearest neighbours.

:func:`latent_map` embeds ``transform(X)`` in two dimensions (PCA, t-SNE or UMAP) and can
draw it with :func:`latentmodels.plots.plot_latent_map`; :func:`nearest_neighbors` finds,
for each query, the reference samples whose codes are closest, and :func:`plot_neighbors`
shows them as an image grid. Only the contract's ``transform`` is used.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from .._internal.validation import check_choice, check_data, check_positive_int
from .anomaly import require_methods

__all__ = ["latent_map", "nearest_neighbors", "plot_neighbors"]

METHODS = ("pca", "tsne", "umap")


def _codes(model: Any, X: np.ndarray, y: Any, name: str) -> np.ndarray:
    from ..plots import is_conditional

    if is_conditional(model):
        if y is None:
            raise ValueError(f"y: {type(model).__name__} is conditional; pass the labels of {name}")
        codes = model.transform(X, y=y)
    else:
        codes = model.transform(X)
    codes = np.asarray(codes, dtype=np.float64)
    if codes.ndim != 2 or len(codes) != len(X):
        raise ValueError(f"model.transform returned shape {codes.shape} for {name}; expected "
                         f"({len(X)}, latent_dim)")
    return codes


def latent_map(
    model: Any,
    X: Any,
    y: Any = None,
    method: str = "pca",
    *,
    random_state: int | None = 0,
    path: str | os.PathLike | None = None,
    max_points: int = 2000,
    verbose: int = 0,
) -> np.ndarray:
    """2-D embedding of the codes ``transform(X)``, one row per sample of ``X``.

    ``method``: ``"pca"`` (a 2-D latent space is returned unchanged), ``"tsne"``
    (scikit-learn) or ``"umap"`` (needs umap-learn). ``y`` holds labels: needed by
    conditional models, and used to colour the plot. With ``path`` the map is also drawn
    with :func:`latentmodels.plots.plot_latent_map` (at most ``max_points`` samples, a subset
    of the embedding computed once) and written as a PNG.

    Parameters
    ----------
    model : object
        A fitted model with ``transform``.
    X : array-like
        Samples shaped like the training data.
    y : array-like, optional
        Labels (for conditional models and for colours).
    method : {"pca", "tsne", "umap"}, default="pca"
        The 2-D embedding.
    random_state : int or None, default=0
        Seed of the embedding.
    path : str or os.PathLike, optional
        Also draw the map and write it there as a PNG.
    max_points : int, default=2000
        Most samples drawn.
    verbose : int, default=0
        1 shows a spinner with the elapsed time while t-SNE or UMAP runs.

    Returns
    -------
    numpy.ndarray of shape (n_samples, 2)
        The embedding.

    Examples
    --------
    >>> from latentmodels import VAE, datasets
    >>> X, y = datasets.load_mnist()
    >>> vae = VAE(latent_dim=4, epochs=1, verbose=0, random_state=0).fit(X[:100])
    >>> latent_map(vae, X[:100], y[:100]).shape
    (100, 2)
    """
    from ..plots import embed_2d, plot_latent_map

    require_methods(model, "latent_map", "transform")
    check_choice(method, "method", METHODS)
    data = check_data(X, "X")
    labels = None
    if y is not None:
        labels = np.asarray(y)
        if labels.shape != (len(data),):
            raise ValueError(
                f"y must hold one label per sample of X ({len(data)}), got shape {labels.shape}"
            )
    if len(data) < 3:
        raise ValueError(f"X: a latent map needs at least 3 samples, got {len(data)}")
    embedding = embed_2d(_codes(model, data, labels, "X"), method, random_state,
                         progress=verbose > 0)
    points = embedding[0]
    if path is not None:
        plot_latent_map(model, data, labels, method=method, max_points=max_points,
                        random_state=random_state, path=path, embedding=embedding)
    return np.asarray(points, dtype=np.float64)


def nearest_neighbors(
    model: Any,
    X_query: Any,
    X_reference: Any = None,
    k: int = 5,
    *,
    metric: str = "euclidean",
    y_query: Any = None,
    y_reference: Any = None,
    exclude_self: bool | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` reference samples closest to each query in latent space.

    Returns ``(distances, indices)``, each of shape ``(n_queries, k)``, nearest first, like
    scikit-learn's ``kneighbors``; ``indices`` point into ``X_reference``. ``metric`` is any
    metric scikit-learn's ``NearestNeighbors`` knows (``"euclidean"``, ``"cosine"``, ...).
    ``y_query``/``y_reference`` are needed only by conditional models.

    Querying a set against itself (``X_reference`` omitted, or the very same array passed
    twice) leaves each query out of its own neighbours, as scikit-learn's ``kneighbors()``
    without ``X`` does: otherwise every query would be its own first neighbour at distance 0.

    Parameters
    ----------
    model : object
        A fitted model with ``transform``.
    X_query : array-like
        The queries.
    X_reference : array-like, optional
        The samples searched; ``X_query`` itself by default.
    k : int, default=5
        Neighbours per query.
    metric : str, default="euclidean"
        A metric of scikit-learn's ``NearestNeighbors``.
    y_query, y_reference : array-like, optional
        Labels, for conditional models.
    exclude_self : bool, optional
        Leave query ``i`` out of its own neighbours (then ``X_reference`` must be the queries).
        Default: True exactly when the queries are searched against themselves.

    Returns
    -------
    distances, indices : numpy.ndarray of shape (n_queries, k)
        Nearest first; ``indices`` point into ``X_reference``.

    Examples
    --------
    >>> from sklearn.decomposition import PCA
    >>> from latentmodels import datasets
    >>> X, _ = datasets.load_mnist(flatten=True)
    >>> pca = PCA(8, random_state=0).fit(X[:200])
    >>> distances, indices = nearest_neighbors(pca, X[:2], X[100:300], k=3)
    >>> indices.shape, bool((distances[:, :-1] <= distances[:, 1:]).all())
    ((2, 3), True)
    >>> _, indices = nearest_neighbors(pca, X[:50], k=3)  # within X[:50], self left out
    >>> bool((indices != np.arange(50)[:, None]).all())
    True
    """
    from sklearn.neighbors import NearestNeighbors

    require_methods(model, "nearest_neighbors", "transform")
    same_set = X_reference is None or X_reference is X_query
    if exclude_self is None:
        exclude_self = same_set
    if X_reference is None:
        X_reference, y_reference = X_query, y_query
    queries = check_data(X_query, "X_query")
    reference = check_data(X_reference, "X_reference")
    if int(np.prod(queries.shape[1:])) != int(np.prod(reference.shape[1:])):
        raise ValueError(
            f"X_query has samples of shape {queries.shape[1:]} but X_reference has "
            f"{reference.shape[1:]}"
        )
    check_positive_int(k, "k")
    if exclude_self and len(queries) != len(reference):
        raise ValueError("exclude_self: the queries must be the reference samples (same "
                         f"length), got {len(queries)} queries and {len(reference)} references")
    available = len(reference) - (1 if exclude_self else 0)
    if k > available:
        raise ValueError(f"k: {k} neighbours asked for, X_reference has only {available}"
                         + (" besides each query itself" if exclude_self else ""))
    index = NearestNeighbors(n_neighbors=k + (1 if exclude_self else 0), metric=metric)
    reference_codes = _codes(model, reference, y_reference, "X_reference")
    index.fit(reference_codes)
    query_codes = reference_codes if same_set else _codes(model, queries, y_query, "X_query")
    distances, indices = index.kneighbors(query_codes)
    if exclude_self:
        # Drop each query's own index; with exact duplicates it may not come first.
        own = indices == np.arange(len(indices))[:, None]
        own[~own.any(axis=1), -1] = True
        keep = ~own
        distances = distances[keep].reshape(len(indices), k)
        indices = indices[keep].reshape(len(indices), k)
    return distances, indices


def plot_neighbors(
    model: Any,
    X_query: Any,
    X_reference: Any,
    k: int = 8,
    *,
    metric: str = "euclidean",
    path: str | os.PathLike | None = None,
) -> Figure:
    """Image grid: each row is a query followed by its ``k`` nearest neighbours in latent space.

    The neighbours are taken from ``X_reference``.

    Parameters
    ----------
    model : object
        A fitted model with ``transform``.
    X_query, X_reference : array-like
        Query images and the images searched.
    k : int, default=8
        Neighbours per query.
    metric : str, default="euclidean"
        A metric of scikit-learn's ``NearestNeighbors``.
    path : str or os.PathLike, optional
        Also write the figure there as a PNG.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from sklearn.decomposition import PCA
    >>> from latentmodels import datasets
    >>> X, _ = datasets.load_mnist(flatten=True)
    >>> pca = PCA(8, random_state=0).fit(X[:200])
    >>> fig = plot_neighbors(pca, X[:3], X[100:300], k=4)
    >>> type(fig).__name__
    'Figure'
    """
    from .. import plots

    distances, indices = nearest_neighbors(model, X_query, X_reference, k, metric=metric)
    queries = check_data(X_query, "X_query")
    reference = check_data(X_reference, "X_reference")
    rows = []
    for q in range(len(queries)):
        rows.append(queries[q : q + 1])
        rows.append(reference[indices[q]])
    images = plots.as_images(np.concatenate(rows), name="X_reference")
    lo, hi = plots.display_range(images)
    fig = plots.grid_figure([("", images)], k + 1, lo, hi,
                             "Nearest neighbours in latent space (first column: query)")
    if path is not None:
        plots.save_figure(fig, path)
    return fig
