"""Measuring and demonstrating bias: image sub-groups defined by documented rules, biased
training sets, and per-group accuracy, for :class:`~latentmodels.DebiasingVAE`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._internal.validation import check_data, check_number


def slant(images: Any) -> np.ndarray:
    """Shear of each image's ink from its second-order moments: ``mu11 / mu02``.

    Positive for strokes leaning right (top to the right), negative for left-leaning ones,
    about 0 for upright digits. ``images`` has shape ``(n, H, W)``.

    Parameters
    ----------
    images : array-like of shape (n_images, H, W)
        Grey images.

    Returns
    -------
    numpy.ndarray of shape (n_images,)
        The slant of each image.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.zeros((1, 5, 5)); img[0, [0, 1, 2, 3, 4], [4, 3, 2, 1, 0]] = 1
    >>> float(slant(img)[0]) > 0  # "/": its top is to the right
    True
    """
    X = check_data(images, "images", min_ndim=3).astype(np.float64)
    height, width = X.shape[1:3]
    rows, cols = np.mgrid[:height, :width]
    mass = np.maximum(X.sum(axis=(1, 2)), 1e-12)
    col_mean = (X * cols).sum(axis=(1, 2)) / mass
    row_mean = (X * rows).sum(axis=(1, 2)) / mass
    dc = cols[None] - col_mean[:, None, None]
    dr = rows[None] - row_mean[:, None, None]
    mu11 = (X * dc * dr).sum(axis=(1, 2)) / mass
    mu02 = np.maximum((X * dr * dr).sum(axis=(1, 2)) / mass, 1e-12)
    # Image rows grow downwards, so a right-leaning stroke has negative row/col covariance.
    return -mu11 / mu02


def ink_mass(images: Any) -> np.ndarray:
    """Total ink of each image (sum of intensities): thick strokes have more.

    Parameters
    ----------
    images : array-like of shape (n_samples, ...)
        The images.

    Returns
    -------
    numpy.ndarray of shape (n_samples,)
        The sum of each image's pixels.

    Examples
    --------
    >>> ink_mass(np.ones((2, 3, 3))).tolist()
    [9.0, 9.0]
    """
    X = check_data(images, "images", min_ndim=2)
    return X.reshape(len(X), -1).sum(axis=1)


def biased_subset(
    labels: Any, rare: Any, positive: Any, *, keep_fraction: float = 0.05, random_state: int = 0
) -> np.ndarray:
    """Indices of a training set where one class is rare within one group.

    Samples of class ``positive`` in the ``rare`` group are cut down to ``keep_fraction`` of
    their number (at least one is kept when ``keep_fraction > 0``; none when it is 0); all
    other samples are kept.

    Parameters
    ----------
    labels : array-like of shape (n_samples,)
        Class labels.
    rare : array-like of bool, shape (n_samples,)
        Membership of the group to thin out.
    positive : object
        The class thinned out within that group.
    keep_fraction : float, default=0.05
        Share of those samples kept, in [0, 1].
    random_state : int, default=0
        Seed of the choice.

    Returns
    -------
    numpy.ndarray
        Sorted indices of the kept samples.

    Examples
    --------
    >>> labels = np.array([1, 1, 1, 1, 0, 0])
    >>> rare = np.array([True, True, True, False, True, False])
    >>> biased_subset(labels, rare, positive=1, keep_fraction=0.3).size
    4
    """
    labels = np.asarray(labels)
    rare = np.asarray(rare, dtype=bool)
    if rare.shape != labels.shape:
        raise ValueError(f"rare must have one flag per label, got {rare.shape} vs {labels.shape}")
    check_number(keep_fraction, "keep_fraction", low=0, high=1)
    cut = np.flatnonzero((labels == positive) & rare)
    if len(cut) == 0:
        raise ValueError(f"no sample is both of class {positive!r} and in the rare group; "
                         "there is nothing to cut down (check positive and rare)")
    rng = np.random.default_rng(random_state)
    # Any share above 0 keeps at least one sample; 0 keeps none (the class is then absent
    # from the group, which is what was asked).
    n_kept = 0 if keep_fraction == 0 else max(1, int(round(keep_fraction * len(cut))))
    kept_rare = rng.choice(cut, size=n_kept, replace=False)
    return np.sort(np.r_[np.flatnonzero(~((labels == positive) & rare)), kept_rare])


def group_report(predictions: Any, labels: Any, groups: dict[str, Any]) -> dict[str, float]:
    """Accuracy overall and within each named group, plus the gap between best and worst group.

    Parameters
    ----------
    predictions, labels : array-like of shape (n_samples,)
        Predicted and true classes.
    groups : dict of str to array-like of bool
        Named masks; an empty group gets NaN.

    Returns
    -------
    dict of str to float
        ``overall``, one entry per group, and ``gap``.

    Examples
    --------
    >>> group_report([1, 0, 1, 1], [1, 1, 1, 1], {"thin": [1, 1, 0, 0], "thick": [0, 0, 1, 1]})
    {'overall': 0.75, 'thin': 0.5, 'thick': 1.0, 'gap': 0.5}
    """
    predictions, labels = np.asarray(predictions), np.asarray(labels)
    if predictions.shape != labels.shape:
        raise ValueError(
            f"predictions and labels differ in shape: {predictions.shape} vs {labels.shape}"
        )
    report = {"overall": float(np.mean(predictions == labels))}
    for name, mask in groups.items():
        mask = np.asarray(mask, dtype=bool)
        report[name] = float(np.mean(predictions[mask] == labels[mask])) if mask.any() else np.nan
    values = [report[name] for name in groups]
    report["gap"] = float(np.nanmax(values) - np.nanmin(values))
    return report


#: Rules that split a class into sub-groups: name -> (measure, name of the rare group, of
#: the common group). The rare group is the half of the class above the class median.
RULES = {
    "slant": (slant, "right-leaning", "upright"),
    "ink": (ink_mass, "thick", "thin"),
}


def debias_experiment(
    X: Any,
    y: Any,
    positive: Any,
    *,
    rule: str = "slant",
    keep_fraction: float = 0.05,
    test_fraction: float = 0.25,
    random_state: int = 0,
    **model_params: Any,
) -> dict[str, Any]:
    """Train a plain classifier and a DB-VAE on a biased set; report accuracy per sub-group.

    The protocol of ``benchmarks/debias_mnist.py`` in one call; the DB-VAE is a
    :class:`~latentmodels.DebiasingVAE`.

    The task is "is this a ``positive``?". ``rule`` (``"slant"`` or ``"ink"``, see
    ``RULES``) splits the positive class at its median into a rare and a common group;
    a seeded split holds out ``test_fraction`` of the data untouched, and the training part
    keeps only ``keep_fraction`` of the rare positives. Both models share ``model_params``
    and ``random_state``; they differ only in ``debias``.

    Returns a dict with ``plain`` and ``debiased`` (:func:`group_report` of each on the test
    positives' groups plus ``overall`` accuracy on all test samples), the two fitted models,
    the training and test indices and flags (``train_index``, ``train_rare``,
    ``train_target``, ``test_index``, ``test_rare``) and the group names.

    Parameters
    ----------
    X, y : array-like
        Images and digit labels.
    positive : object
        The class to recognise.
    rule : {"slant", "ink"}, default="slant"
        How the positive class is split into a common and a rare group.
    keep_fraction : float, default=0.05
        Share of rare positives kept for training.
    test_fraction : float, default=0.25
        Share of the data held out, untouched.
    random_state : int, default=0
        Seed of the splits and both models.
    **model_params
        Hyper-parameters shared by both models (``epochs``, ``latent_dim``, ...).

    Returns
    -------
    dict
        ``plain`` and ``debiased`` reports, ``plain_model`` and ``debiased_model``,
        ``train_index``, ``train_rare``, ``train_target``, ``test_index``, ``test_rare``,
        ``groups`` and the settings.

    Examples
    --------
    >>> from latentmodels import datasets
    >>> X, y = datasets.load_mnist()
    >>> result = debias_experiment(X[:400], y[:400], 7, epochs=1, verbose=0, latent_dim=4)
    >>> result["groups"], sorted(result["plain"])
    (['upright', 'right-leaning'], ['gap', 'overall', 'right-leaning', 'upright'])
    """
    from ..deep.debiasing import DebiasingVAE

    if rule not in RULES:
        raise ValueError(f"rule must be one of {sorted(RULES)}, got {rule!r}")
    X = check_data(X, "X", min_ndim=3)
    y = np.asarray(y)
    if y.shape != (len(X),):
        raise ValueError(f"y must hold one label per image ({len(X)}), got shape {y.shape}")
    if not (y == positive).any():
        raise ValueError(f"positive: no sample has the label {positive!r}")
    check_number(test_fraction, "test_fraction", low=0, high=1)
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must lie strictly between 0 and 1, got {test_fraction}")
    measure, rare_name, common_name = RULES[rule]
    values = measure(X)
    rare = values > np.median(values[y == positive])
    order = np.random.default_rng(random_state).permutation(len(X))
    n_test = max(1, int(round(test_fraction * len(X))))
    test, train = np.sort(order[:n_test]), np.sort(order[n_test:])
    keep = train[biased_subset(y[train], rare[train], positive=positive,
                               keep_fraction=keep_fraction, random_state=random_state)]
    target = (y == positive).astype(np.int64)
    positives = target[test] == 1
    groups = {common_name: positives & ~rare[test], rare_name: positives & rare[test]}
    result: dict[str, Any] = {"rule": rule, "groups": [common_name, rare_name],
                              "positive": positive, "keep_fraction": keep_fraction,
                              "n_train": len(keep), "n_test": len(test),
                              "train_index": keep, "train_rare": rare[keep],
                              "train_target": target[keep], "test_index": test,
                              "test_rare": rare[test]}
    for key, debias in (("plain", False), ("debiased", True)):
        model = DebiasingVAE(debias=debias, random_state=random_state, **model_params)
        model.fit(X[keep], target[keep])
        result[key] = group_report(model.predict(X[test]), target[test], groups)
        result[f"{key}_model"] = model
    return result
