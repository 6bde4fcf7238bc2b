"""Latent codes as features: how much does ``transform`` help a downstream classifier?

:func:`linear_probe` fits a logistic regression on few labels, on three feature sets of the
same data: the model's codes, the raw inputs, and a PCA of the raw inputs with as many
components as the latent space has dimensions. The model and the PCA see all training
inputs without labels (the semi-supervised setting); only the classifier is limited to
``n_labels`` labelled samples.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._internal.validation import check_data, check_positive_int, check_random_state
from .anomaly import require_methods

__all__ = ["FEATURE_SETS", "format_probe_table", "linear_probe"]

FEATURE_SETS = ("latent", "pca", "pixels")


def _labels(y: Any, n: int, name: str) -> np.ndarray:
    labels = np.asarray(y)
    if labels.ndim != 1 or len(labels) != n:
        raise ValueError(
            f"{name} must hold one label per sample ({n}), got shape {labels.shape}"
        )
    return labels


def _labelled_subset(
    y: np.ndarray, n_labels: int | None, seed: int
) -> np.ndarray:
    """Indices of a class-stratified subset of ``n_labels`` samples (all when None or more)."""
    if n_labels is None or n_labels >= len(y):
        return np.arange(len(y))
    from sklearn.model_selection import train_test_split

    classes = np.unique(y)
    if n_labels < len(classes):
        raise ValueError(
            f"n_labels: {n_labels} labels cannot cover the {len(classes)} classes"
        )
    index, _ = train_test_split(
        np.arange(len(y)), train_size=n_labels, stratify=y, random_state=seed
    )
    return np.sort(index)


def linear_probe(
    model: Any,
    X: Any,
    y: Any,
    *,
    n_labels: Sequence[int | None] = (100, 1000, None),
    X_test: Any = None,
    y_test: Any = None,
    test_size: float = 0.2,
    feature_sets: Sequence[str] = FEATURE_SETS,
    C: float = 1.0,
    max_iter: int = 1000,
    random_state: Any = 0,
) -> dict[str, Any]:
    """Accuracy of logistic regression on latent codes vs PCA vs raw inputs, with few labels.

    ``model`` must be fitted and have ``transform``. Without ``X_test``/``y_test`` a
    stratified ``test_size`` share of ``X`` is held out. For each entry of ``n_labels``
    (``None`` = all training labels) a class-stratified labelled subset is drawn (the same one
    for every feature set); features are standardised, then a multinomial logistic regression
    with inverse regularisation ``C`` is fitted.

    Returns a dict with ``rows`` (one per feature set and label count: ``features``,
    ``n_labels``, ``dim``, ``accuracy``), ``chance`` (accuracy of the majority class),
    ``latent_dim``, ``n_train`` and ``n_test``. :func:`format_probe_table` prints it.

    Parameters
    ----------
    model : object
        A fitted model with ``transform``.
    X, y : array-like
        Samples and their class labels.
    n_labels : sequence of int or None, default=(100, 1000, None)
        Labelled training samples per run; None uses all.
    X_test, y_test : array-like, optional
        Test data; a stratified ``test_size`` share of ``X`` by default.
    test_size : float, default=0.2
        Share of ``X`` held out when no test data are given.
    feature_sets : sequence of str, default=("latent", "pca", "pixels")
        The features compared (PCA with as many components as the latent space).
    C : float, default=1.0
        Inverse regularisation of the logistic regression.
    max_iter : int, default=1000
        Solver iterations.
    random_state : None or int, default=0
        Seed of the splits and subsets.

    Returns
    -------
    dict
        ``rows``, ``chance``, ``latent_dim``, ``n_train`` and ``n_test``.

    Examples
    --------
    >>> from latentmodels import VAE, datasets
    >>> X, y = datasets.load_mnist(flatten=True)
    >>> vae = VAE(latent_dim=8, epochs=1, verbose=0, random_state=0).fit(X[:300])
    >>> result = linear_probe(vae, X[:300], y[:300], n_labels=(100,))
    >>> [row["features"] for row in result["rows"]]
    ['latent', 'pca', 'pixels']
    """
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    require_methods(model, "linear_probe", "transform")
    data = check_data(X, "X")
    labels = _labels(y, len(data), "y")
    seed = check_random_state(random_state)
    check_positive_int(max_iter, "max_iter")
    for name in feature_sets:
        if name not in FEATURE_SETS:
            raise ValueError(f"feature_sets: unknown {name!r}; choose from {FEATURE_SETS}")
    counts = list(n_labels)
    if not counts:
        raise ValueError("n_labels must hold at least one label count (or None for all)")
    for count in counts:
        if count is not None:
            check_positive_int(count, "n_labels")
    if X_test is None:
        if y_test is not None:
            raise ValueError("y_test was given without X_test")
        train, test = train_test_split(
            np.arange(len(data)), test_size=test_size, stratify=labels, random_state=seed
        )
        X_train, y_train = data[train], labels[train]
        X_eval, y_eval = data[test], labels[test]
    else:
        X_train, y_train = data, labels
        X_eval = check_data(X_test, "X_test")
        if X_eval.shape[1:] != data.shape[1:]:
            raise ValueError(
                f"X_test has samples of shape {X_eval.shape[1:]}, X has {data.shape[1:]}"
            )
        if y_test is None:
            raise ValueError("y_test: labels of X_test are needed to measure accuracy")
        y_eval = _labels(y_test, len(X_eval), "y_test")

    codes_train = np.asarray(model.transform(X_train), dtype=np.float64)
    if codes_train.ndim != 2 or len(codes_train) != len(X_train):
        raise ValueError(f"model.transform returned shape {codes_train.shape}; expected 2-D")
    latent_dim = codes_train.shape[1]
    features_train: dict[str, np.ndarray] = {}
    features_eval: dict[str, np.ndarray] = {}
    flat_train = X_train.reshape(len(X_train), -1)
    flat_eval = X_eval.reshape(len(X_eval), -1)
    if "latent" in feature_sets:
        features_train["latent"] = codes_train
        features_eval["latent"] = np.asarray(model.transform(X_eval), dtype=np.float64)
    if "pca" in feature_sets:
        n_components = min(latent_dim, *flat_train.shape)
        pca = PCA(n_components=n_components, random_state=seed).fit(flat_train)
        features_train["pca"] = pca.transform(flat_train)
        features_eval["pca"] = pca.transform(flat_eval)
    if "pixels" in feature_sets:
        features_train["pixels"] = flat_train
        features_eval["pixels"] = flat_eval

    rows = []
    for count in counts:
        subset = _labelled_subset(y_train, count, seed)
        for name in feature_sets:
            classifier = make_pipeline(
                StandardScaler(), LogisticRegression(C=C, max_iter=max_iter)
            )
            classifier.fit(features_train[name][subset], y_train[subset])
            accuracy = float((classifier.predict(features_eval[name]) == y_eval).mean())
            rows.append({
                "features": name,
                "n_labels": len(subset),
                "dim": int(features_train[name].shape[1]),
                "accuracy": accuracy,
            })
    _, class_counts = np.unique(y_eval, return_counts=True)
    return {
        "rows": rows,
        "chance": float(class_counts.max() / len(y_eval)),
        "latent_dim": int(latent_dim),
        "n_train": len(X_train),
        "n_test": len(X_eval),
    }


def format_probe_table(result: dict[str, Any]) -> str:
    """A Markdown table of :func:`linear_probe`'s result: label counts down, features across.

    Parameters
    ----------
    result : dict
        The result of :func:`linear_probe`.

    Returns
    -------
    str
        The Markdown table.

    Examples
    --------
    >>> print(format_probe_table({"rows": [{"features": "latent", "n_labels": 100,
    ...     "dim": 8, "accuracy": 0.7}], "chance": 0.1}))
    | labels | latent (8-D) |
    | ---: | ---: |
    | 100 | 70.0 % |
    """
    rows = result["rows"]
    names = list(dict.fromkeys(r["features"] for r in rows))
    dims = {r["features"]: r["dim"] for r in rows}
    counts = list(dict.fromkeys(r["n_labels"] for r in rows))
    lookup = {(r["features"], r["n_labels"]): r["accuracy"] for r in rows}
    header = "| labels | " + " | ".join(f"{n} ({dims[n]}-D)" for n in names) + " |"
    rule = "| ---: | " + " | ".join("---:" for _ in names) + " |"
    lines = [header, rule]
    for count in counts:
        cells = " | ".join(f"{100 * lookup[(n, count)]:.1f} %" for n in names)
        lines.append(f"| {count:,} | {cells} |")
    return "\n".join(lines)
