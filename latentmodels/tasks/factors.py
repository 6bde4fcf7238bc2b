"""Control and remove a named factor in a latent space.

A factor is anything measured per item: a label (smiling or not), or a property such as a
digit's slant or ink mass (:func:`latentmodels.tasks.debias.slant`,
:func:`~latentmodels.tasks.debias.ink_mass`) or a face's lighting (:func:`lighting`).

- :func:`attribute_direction` finds the factor's direction among the codes;
- :func:`edit` moves items' codes along it and decodes them, for any model with
  ``transform`` and ``inverse_transform``, by amounts in standard deviations of the codes or
  of the factor; :func:`edit_effect` measures how much the edit
  changes the factor and how much it disturbs what should stay;
- :class:`ConceptEraser` removes the factor from the codes with LEACE, least-squares concept
  erasure (Belrose et al., "LEACE: Perfect linear concept erasure in closed form", NeurIPS
  2023): after erasure no linear classifier can predict the factor better than a constant,
  while the codes move as little as possible (in the whitened metric). With ``groups`` it
  erases only the factor's variation within groups (pen thickness, not which digit).

Re-weighting training data (:class:`latentmodels.DebiasingVAE`) answers another question: it
keeps the factor in the codes but stops rare values of it from being under-learned.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch
from scipy.stats import spearmanr
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted, validate_data

from .._internal import io


def lighting(images: Any) -> np.ndarray:
    """Left-right brightness asymmetry of each image: mean of the right half minus the left.

    Positive for faces lit from the (viewer's) right.

    Parameters
    ----------
    images : array-like of shape (n_samples, height, width)
        Grey images.

    Returns
    -------
    numpy.ndarray of shape (n_samples,)
        The asymmetry of each image.

    Examples
    --------
    >>> image = np.zeros((1, 4, 4)); image[0, :, 2:] = 1.0
    >>> lighting(image).tolist()
    [1.0]
    """
    array = check_array(images, allow_nd=True, input_name="images")
    if array.ndim != 3:
        raise ValueError(f"images must have shape (n_samples, height, width), got {array.shape}")
    half = array.shape[2] // 2
    right = array[:, :, array.shape[2] - half :].mean(axis=(1, 2))
    return right - array[:, :, :half].mean(axis=(1, 2))


def _codes_and_factor(codes: Any, factor: Any) -> tuple[np.ndarray, np.ndarray]:
    codes = check_array(codes, dtype=np.float64, input_name="codes")
    factor = np.asarray(factor)
    if factor.ndim != 1 or len(factor) != len(codes):
        raise ValueError(f"factor must hold one value per code ({len(codes)}), "
                         f"got shape {factor.shape}")
    return codes, factor


def attribute_direction(codes: Any, factor: Any, *, ridge: float = 1e-3) -> np.ndarray:
    """Unit direction in latent space along which ``factor`` grows.

    For a numeric factor, the direction of a ridge regression of the factor on the codes;
    for a two-valued label, the difference of the class means, whitened by the within-class
    covariance (the linear discriminant), pointing from the smaller label to the larger.

    Parameters
    ----------
    codes : array-like of shape (n_samples, n_components)
        Latent codes (``model.transform(X)``).
    factor : array-like of shape (n_samples,)
        The factor's value per item: numbers, or a label with two values.
    ridge : float, default=1e-3
        Regularisation, relative to the codes' mean variance.

    Returns
    -------
    numpy.ndarray of shape (n_components,)
        A unit vector.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> codes = rng.normal(size=(500, 3))
    >>> direction = attribute_direction(codes, codes @ [0.0, 2.0, 0.0])
    >>> np.round(direction, 3).tolist()
    [0.0, 1.0, 0.0]
    """
    codes, factor = _codes_and_factor(codes, factor)
    values = np.unique(factor)
    if len(values) < 2:
        raise ValueError("factor has a single value; a direction needs it to vary")
    scale = ridge * float(codes.var(axis=0).mean() + 1e-12)
    if len(values) == 2:
        low, high = codes[factor == values[0]], codes[factor == values[1]]
        within = (np.cov(low.T, bias=True) * len(low) + np.cov(high.T, bias=True) * len(high))
        within = np.atleast_2d(within) / len(codes)
        target = high.mean(axis=0) - low.mean(axis=0)
    else:
        if not np.issubdtype(factor.dtype, np.number):
            raise TypeError("factor must be numbers, or a label with exactly two values")
        centred = codes - codes.mean(axis=0)
        within = centred.T @ centred / len(codes)
        target = centred.T @ (factor - factor.mean()) / len(codes)
    direction = np.linalg.solve(within + scale * np.eye(codes.shape[1]), target)
    norm = float(np.linalg.norm(direction))
    if norm == 0.0:
        raise ValueError("the factor is unrelated to the codes: no direction")
    return direction / norm


def _step_length(reference: np.ndarray, unit: np.ndarray, factor: Any) -> float:
    """Distance along ``unit`` for one step of amount: one spread of the codes along it, or,
    given the factor's values on ``reference``, the distance over which the factor's
    least-squares fit on that coordinate grows by one standard deviation of the factor."""
    position = reference @ unit
    if factor is None:
        return float(np.std(position)) if len(reference) > 1 else 1.0
    factor = np.asarray(factor, dtype=np.float64)
    if factor.ndim != 1 or len(factor) != len(reference):
        raise ValueError(f"factor must hold one value per reference code ({len(reference)}), "
                         f"got shape {factor.shape}")
    if not np.isfinite(factor).all():
        raise ValueError("factor holds NaN or infinite values")
    centred = position - position.mean()
    slope = float(centred @ (factor - factor.mean())) / max(float(centred @ centred), 1e-300)
    if abs(slope) * float(np.std(position)) <= 1e-9 * max(float(np.std(factor)), 1e-300):
        raise ValueError("factor does not change along direction: amounts in factor "
                         "standard deviations are undefined")
    return float(np.std(factor)) / slope


def step_length(codes: Any, direction: Any, factor: Any = None) -> float:
    """Distance in latent space that one unit of an edit's amount moves a code.

    One spread of ``codes`` along ``direction``; with ``factor`` (its values on ``codes``),
    the distance over which the factor's linear fit grows by one standard deviation of it.

    Parameters
    ----------
    codes : array-like of shape (n_samples, n_components)
        Reference codes.
    direction : array-like of shape (n_components,)
        The edit's direction (normalised inside).
    factor : array-like of shape (n_samples,), optional
        The factor's values on ``codes``.

    Returns
    -------
    float
        The distance (negative when the factor falls along ``direction``).

    Examples
    --------
    >>> codes = np.column_stack([np.arange(5.0), np.zeros(5)])
    >>> step_length(codes, [1.0, 0.0]), step_length(codes, [1.0, 0.0], 2 * codes[:, 0])
    (1.4142135623730951, 1.4142135623730951)
    """
    codes = check_array(codes, dtype=np.float64, input_name="codes")
    direction = check_array(np.asarray(direction, dtype=np.float64)[None, :],
                            input_name="direction")[0]
    if direction.shape[0] != codes.shape[1] or not np.linalg.norm(direction) > 0:
        raise ValueError(f"direction must be a non-zero vector of {codes.shape[1]} entries")
    return _step_length(codes, direction / np.linalg.norm(direction), factor)


def edit(model: Any, X: Any, direction: Any, amounts: Any, *, codes: Any = None,
         factor: Any = None) -> np.ndarray:
    """Move each item's code along ``direction`` by each amount and decode.

    Amounts are in standard deviations of the codes along the direction (measured on ``X``
    unless ``codes`` gives a reference set), so 2 means "two typical spreads further". With
    ``factor`` (the factor's values on the reference items), amounts are in standard
    deviations of the factor instead: a step of 1 moves the code by the distance over which
    the factor's linear fit on the codes grows by one standard deviation of the factor, so
    "moderate" means the same thing for every model and factor.

    Parameters
    ----------
    model : fitted model with ``transform`` and ``inverse_transform``
        The latent space to edit in.
    X : array-like of shape (n_items, ...)
        Items to edit.
    direction : array-like of shape (n_components,)
        From :func:`attribute_direction`.
    amounts : array-like of shape (n_amounts,)
        Signed steps; 0 gives the plain reconstruction.
    codes : array-like, optional
        Reference codes for the spread along the direction (e.g. the training codes).
    factor : array-like of shape (n_reference,), optional
        The factor's values on the reference items (``codes``, or ``X`` without them):
        amounts become standard deviations of the factor.

    Returns
    -------
    numpy.ndarray of shape (n_items, n_amounts, ...)
        The decoded edits: row ``i`` shows item ``i`` with the factor growing left to right.

    Examples
    --------
    >>> from latentmodels import PCA, datasets
    >>> X, _ = datasets.load_mnist()
    >>> pca = PCA(n_components=8).fit(X[:500])
    >>> edit(pca, X[:2], np.eye(8)[0], [-1, 0, 1]).shape
    (2, 3, 28, 28)

    One standard deviation of ink mass thicker, judged by the linear fit on 500 codes:

    >>> from latentmodels.tasks.debias import ink_mass
    >>> codes = pca.transform(X[:500])
    >>> ink = ink_mass(X[:500])
    >>> edited = edit(pca, X[:50], attribute_direction(codes, ink), [0, 1], codes=codes,
    ...               factor=ink)
    >>> change = ink_mass(edited[:, 1]) - ink_mass(edited[:, 0])
    >>> bool(0.8 < change.mean() / ink.std() < 1.2)
    True
    """
    item_codes = np.asarray(model.transform(X), dtype=np.float64)
    direction = check_array(np.asarray(direction, dtype=np.float64)[None, :],
                            input_name="direction")[0]
    if direction.shape[0] != item_codes.shape[1]:
        raise ValueError(f"direction has {direction.shape[0]} entries, the codes "
                         f"{item_codes.shape[1]}")
    amounts = check_array(np.asarray(amounts, dtype=np.float64)[None, :], input_name="amounts")[0]
    unit = direction / np.linalg.norm(direction)
    reference = item_codes if codes is None else check_array(codes, input_name="codes")
    step = _step_length(np.asarray(reference, dtype=np.float64), unit, factor)
    moved = item_codes[:, None, :] + amounts[None, :, None] * step * unit
    # float32: the deep models' decoders take it, the linear ones accept it.
    decoded = np.asarray(model.inverse_transform(
        moved.reshape(-1, moved.shape[-1]).astype(np.float32)))
    return decoded.reshape((len(item_codes), len(amounts), *decoded.shape[1:]))


def edit_effect(
    model: Any,
    X: Any,
    direction: Any,
    amounts: Any,
    measure: Any,
    *,
    keep: Any = None,
    classifier: Any = None,
    codes: Any = None,
    factor: Any = None,
) -> dict[str, Any]:
    """How much an edit changes the measured factor, and how much it disturbs the rest.

    Parameters
    ----------
    model, X, direction, amounts, codes, factor
        As for :func:`edit`.
    measure : callable
        Maps a batch of decoded items to the factor's values (e.g. ``debias.slant``).
    keep : array-like of shape (n_items,), optional
        What should stay (the digit's class), judged by ``classifier``.
    classifier : fitted classifier with ``predict``, optional
        Takes decoded items flattened to rows.

    Returns
    -------
    dict
        ``amounts``; ``factor_mean`` per amount; ``rank_correlation``, Spearman's rho of
        amount against the factor, per item, averaged (1 when every item's factor grows
        with the amount); with ``keep`` and ``classifier``,
        ``kept`` the fraction of items still classified as ``keep`` per amount; with a
        ``classifier``, ``unchanged`` the fraction classified as the least-edited version
        of the same item (the edit did not change what the classifier sees).

    Examples
    --------
    >>> from latentmodels import PCA, datasets
    >>> from latentmodels.tasks.debias import ink_mass
    >>> X, _ = datasets.load_mnist()
    >>> pca = PCA(n_components=8).fit(X[:500])
    >>> codes = pca.transform(X[:500])
    >>> direction = attribute_direction(codes, ink_mass(X[:500]))
    >>> result = edit_effect(pca, X[:20], direction, [-2, 0, 2], ink_mass)
    >>> result["rank_correlation"] > 0.9
    True
    """
    amounts = np.asarray(amounts, dtype=np.float64)
    edited = edit(model, X, direction, amounts, codes=codes, factor=factor)
    n_items = edited.shape[0]
    flat_items = edited.reshape(n_items * len(amounts), *edited.shape[2:])
    values = np.asarray(measure(flat_items), dtype=np.float64).reshape(n_items, len(amounts))
    # Per item, so that differences between items (a 1 has less ink than an 8) don't count.
    per_item = [spearmanr(amounts, row).statistic for row in values if np.ptp(row) > 0]
    rho = float(np.mean(per_item)) if per_item else 0.0
    result: dict[str, Any] = {
        "amounts": amounts.tolist(),
        "factor_mean": values.mean(axis=0).tolist(),
        "rank_correlation": float(rho),
    }
    if classifier is not None:
        predicted = np.asarray(classifier.predict(flat_items.reshape(len(flat_items), -1)))
        predicted = predicted.reshape(n_items, len(amounts))
        if keep is not None:
            keep = np.asarray(keep)
            if len(keep) != n_items:
                raise ValueError(f"keep must hold one value per item ({n_items}), "
                                 f"got {len(keep)}")
            result["kept"] = (predicted == keep[:, None]).mean(axis=0).tolist()
        unedited = int(np.argmin(np.abs(amounts)))
        result["unchanged"] = (predicted == predicted[:, [unedited]]).mean(axis=0).tolist()
    return result


def _inverse_sqrt(matrix: np.ndarray, tolerance: float) -> tuple[np.ndarray, np.ndarray]:
    """``(M^-1/2, M^1/2)`` of a symmetric PSD matrix, pseudo-inverting tiny eigenvalues."""
    eigenvalues, vectors = np.linalg.eigh(matrix)
    kept = eigenvalues > tolerance * max(float(eigenvalues.max()), 1e-300)
    root = np.where(kept, np.sqrt(np.clip(eigenvalues, 0, None)), 0.0)
    inverse_root = np.where(kept, 1.0 / np.where(kept, root, 1.0), 0.0)
    return (vectors * inverse_root) @ vectors.T, (vectors * root) @ vectors.T


class ConceptEraser(TransformerMixin, BaseEstimator):
    """Remove a factor from latent codes with LEACE (least-squares concept erasure).

    Fitted on codes ``X`` and the factor ``y`` (class labels, or numbers), ``transform``
    returns ``x - W+ P W (x - mean)`` with the whitening ``W = Cov(X)^-1/2`` and ``P`` the
    projection onto the whitened cross-covariance ``W Cov(X, y)``. The result has zero
    covariance with the factor, so no linear model predicts it better than a constant, and
    among all such edits it moves the codes least (Belrose et al., 2023).

    Fitted with ``groups`` (for instance the digit's class), it erases only the factor's
    variation *within* groups: the target is the factor minus its group mean, so what the
    group already says about the factor (a 1 has less ink than an 8) stays, and so does the
    group's own information. Afterwards a linear probe predicts the factor no better than it
    predicts the factor's group mean.

    Parameters
    ----------
    tolerance : float, default=1e-8
        Eigenvalues of the code covariance below ``tolerance * largest`` count as zero.

    Attributes
    ----------
    mean_ : numpy.ndarray of shape (n_features,)
        Mean code.
    projection_ : numpy.ndarray of shape (n_features, n_features)
        ``W+ P W``: what is subtracted from a centred code.
    classes_ : numpy.ndarray or None
        The factor's classes when it was a label.
    rank_ : int
        Number of directions removed.
    n_groups_ : int
        Number of groups the factor was erased within; 0 when fitted without ``groups``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> label = rng.integers(0, 2, 1000)
    >>> codes = rng.normal(size=(1000, 4)) + np.outer(label, [3.0, 0, 0, 0])
    >>> erased = ConceptEraser().fit(codes, label).transform(codes)
    >>> from sklearn.linear_model import LogisticRegression
    >>> LogisticRegression().fit(erased, label).score(erased, label) < 0.6
    True
    """

    def __init__(self, tolerance: float = 1e-8) -> None:
        self.tolerance = tolerance

    def fit(self, X: Any, y: Any, groups: Any = None) -> ConceptEraser:
        """Learn the eraser for the factor ``y`` from codes ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Codes.
        y : array-like of shape (n_samples,) or (n_samples, k)
            The factor: a label (one-hot encoded inside), or one or more numeric columns.
        groups : array-like of shape (n_samples,), optional
            A label per sample (e.g. the class): erase only the factor's variation within
            each group, keeping what the group explains.

        Returns
        -------
        self
            The fitted eraser.

        Examples
        --------
        >>> ConceptEraser().fit([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0]], [0, 1, 1]).rank_
        1

        Thickness tied to the class: erasing it within classes keeps the class readable.

        >>> rng = np.random.default_rng(0)
        >>> digit = rng.integers(0, 2, 2000)
        >>> thick = 2.0 * digit + rng.normal(size=2000)
        >>> codes = np.column_stack([thick, digit + 0.3 * rng.normal(size=2000)])
        >>> within = ConceptEraser().fit(codes, thick, groups=digit).transform(codes)
        >>> from sklearn.linear_model import LogisticRegression
        >>> LogisticRegression().fit(within, digit).score(within, digit) > 0.9
        True
        """
        X, y = validate_data(self, X, y, dtype=np.float64, multi_output=True, y_numeric=False)
        if not isinstance(self.tolerance, float | int) or not 0 <= self.tolerance < 1:
            raise ValueError(f"tolerance must be a number in [0, 1), got {self.tolerance!r}")
        y = np.asarray(y)
        if y.ndim == 1 and (not np.issubdtype(y.dtype, np.floating) or len(np.unique(y)) <= 20):
            self.classes_, index = np.unique(y, return_inverse=True)
            if len(self.classes_) < 2:
                raise ValueError("y has a single value: there is nothing to erase")
            target = np.eye(len(self.classes_))[index]
        else:
            self.classes_ = None
            target = y.reshape(len(y), -1).astype(np.float64)
        self.n_groups_ = 0
        if groups is not None:
            groups = np.asarray(groups)
            if groups.ndim != 1 or len(groups) != len(X):
                raise ValueError(f"groups must hold one label per sample ({len(X)}), got "
                                 f"shape {groups.shape}")
            names, group_index = np.unique(groups, return_inverse=True)
            self.n_groups_ = len(names)
            # The factor's residual given the group: what the group does not explain.
            counts = np.bincount(group_index, minlength=len(names))[:, None]
            sums = np.zeros((len(names), target.shape[1]))
            np.add.at(sums, group_index, target)
            target = target - (sums / counts)[group_index]
            if not np.abs(target).max(initial=0.0) > 0:
                raise ValueError("y is constant within every group of groups: there is "
                                 "nothing to erase within groups")
        self.mean_ = X.mean(axis=0)
        centred = X - self.mean_
        covariance = centred.T @ centred / len(X)
        cross = centred.T @ (target - target.mean(axis=0)) / len(X)
        whiten, unwhiten = _inverse_sqrt(covariance, float(self.tolerance) or 1e-12)
        basis, singular, _ = np.linalg.svd(whiten @ cross, full_matrices=False)
        basis = basis[:, singular > 1e-12 * max(float(singular.max(initial=0.0)), 1e-300)]
        self.rank_ = int(basis.shape[1])
        self.projection_ = unwhiten @ basis @ basis.T @ whiten
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Codes with the factor removed.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Codes from the same model.

        Returns
        -------
        numpy.ndarray of shape (n_samples, n_features)
            The erased codes.

        Examples
        --------
        >>> eraser = ConceptEraser().fit([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0]], [0, 1, 1])
        >>> eraser.transform([[1.0, 1.0]]).shape
        (1, 2)
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return X - (X - self.mean_) @ self.projection_.T

    def save(self, path: str | os.PathLike) -> str:
        """Write the fitted eraser (safetensors + JSON, atomically).

        Parameters
        ----------
        path : str or os.PathLike
            The file to write.

        Returns
        -------
        str
            The path written.

        Examples
        --------
        >>> import tempfile, os
        >>> eraser = ConceptEraser().fit([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0]], [0, 1, 1])
        >>> path = eraser.save(os.path.join(tempfile.mkdtemp(), "eraser.lm"))
        >>> np.array_equal(ConceptEraser.load(path).projection_, eraser.projection_)
        True
        """
        check_is_fitted(self)
        tensors = {"mean_": torch.from_numpy(self.mean_.copy()),
                   "projection_": torch.from_numpy(np.ascontiguousarray(self.projection_))}
        classes = None if self.classes_ is None else self.classes_.tolist()
        document = {"class": "ConceptEraser", "params": {"tolerance": self.tolerance},
                    "attributes": {"rank_": self.rank_, "classes_": classes,
                                   "n_groups_": self.n_groups_}}
        return os.fspath(io.write_tensor_file(path, tensors, document))

    @classmethod
    def load(cls, path: str | os.PathLike) -> ConceptEraser:
        """Read an eraser written by :meth:`save`; shapes are checked, nothing is unpickled.

        Parameters
        ----------
        path : str or os.PathLike
            The file.

        Returns
        -------
        ConceptEraser
            The eraser.

        Examples
        --------
        >>> import tempfile, os
        >>> eraser = ConceptEraser().fit([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0]], [0, 1, 1])
        >>> ConceptEraser.load(eraser.save(os.path.join(tempfile.mkdtemp(), "e.lm"))).rank_
        1
        """
        document, tensors = io.read_tensor_file(path)
        if document.get("class") != "ConceptEraser":
            raise io.ModelFileError(f"{path} holds a {document.get('class')!r}, "
                                    "not a ConceptEraser")
        mean, projection = tensors.get("mean_"), tensors.get("projection_")
        if mean is None or projection is None or mean.ndim != 1 or tuple(
                projection.shape) != (mean.shape[0], mean.shape[0]):
            raise io.ModelFileError(f"{path}: mean_ and projection_ are missing or their "
                                    "shapes disagree")
        eraser = cls(**document.get("params", {}))
        eraser.mean_ = mean.numpy().astype(np.float64)
        eraser.projection_ = projection.numpy().astype(np.float64)
        if not (np.isfinite(eraser.mean_).all() and np.isfinite(eraser.projection_).all()):
            raise io.ModelFileError(f"{path}: the eraser holds NaN or infinite values")
        attributes = document.get("attributes", {})
        eraser.rank_ = int(attributes.get("rank_", 0))
        eraser.n_groups_ = int(attributes.get("n_groups_", 0))
        classes = attributes.get("classes_")
        eraser.classes_ = None if classes is None else np.asarray(classes)
        eraser.n_features_in_ = int(mean.shape[0])
        return eraser
