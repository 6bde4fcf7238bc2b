"""Detection quality (AUROC, AUPRC) for anomaly scores.

The helpers take scores where higher means *more normal* (the contract's ``score_samples``)
and measure how well low scores pick out the anomalies.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._internal.validation import check_data

__all__ = ["anomaly_scores_report", "auprc", "auroc"]

def _binary_inputs(y_true: Any, scores: Any) -> tuple[np.ndarray, np.ndarray]:
    labels = np.asarray(y_true)
    values = check_data(scores, "scores", min_ndim=1, dtype=np.float64)
    if labels.ndim != 1 or values.ndim != 1:
        raise ValueError(
            f"y_true and scores must be 1-D, got shapes {labels.shape} and {values.shape}"
        )
    if len(labels) != len(values):
        raise ValueError(
            f"y_true has {len(labels)} entries but scores has {len(values)}; "
            "they must be the same length"
        )
    kinds = np.unique(labels)
    if not np.isin(kinds, (0, 1, True, False)).all():
        raise ValueError(f"y_true must hold 0/1 (1 = anomaly), got values {kinds[:5].tolist()}")
    if len(kinds) < 2:
        raise ValueError("y_true must contain both normal (0) and anomalous (1) samples")
    return labels.astype(np.int64), values


def auroc(y_true: Any, scores: Any) -> float:
    """Area under the ROC curve for finding anomalies (``y_true == 1``) by low ``scores``.

    ``scores`` follow the contract: higher means more normal, so 1.0 means every anomaly
    scores below every normal sample and 0.5 is chance.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        1 for anomalies, 0 for normal samples (both must occur).
    scores : array-like of shape (n_samples,)
        Scores, higher meaning more normal.

    Returns
    -------
    float
        The area, in [0, 1].

    Examples
    --------
    >>> auroc([0, 0, 1, 1], [-1.0, -2.0, -5.0, -1.5])
    0.75
    """
    from sklearn.metrics import roc_auc_score

    labels, values = _binary_inputs(y_true, scores)
    return float(roc_auc_score(labels, -values))


def auprc(y_true: Any, scores: Any) -> float:
    """Area under the precision-recall curve (average precision) for finding anomalies.

    Anomalies (``y_true == 1``) are found by low ``scores``; chance is the share of
    anomalies.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        1 for anomalies, 0 for normal samples (both must occur).
    scores : array-like of shape (n_samples,)
        Scores, higher meaning more normal.

    Returns
    -------
    float
        The average precision, in [0, 1].

    Examples
    --------
    >>> auprc([0, 0, 1, 1], [-1.0, -2.0, -5.0, -3.0])
    1.0
    """
    from sklearn.metrics import average_precision_score

    labels, values = _binary_inputs(y_true, scores)
    return float(average_precision_score(labels, -values))


def anomaly_scores_report(normal_scores: Any, anomaly_scores: Any) -> dict[str, float]:
    """AUROC, AUPRC and the mean scores, given the scores of normal and of anomalous samples.

    Parameters
    ----------
    normal_scores : array-like
        Scores of normal samples (higher = more normal).
    anomaly_scores : array-like
        Scores of anomalous samples.

    Returns
    -------
    dict
        ``auroc``, ``auprc``, ``mean_score_normal``, ``mean_score_anomaly``, ``n_normal`` and
        ``n_anomaly``.

    Examples
    --------
    >>> r = anomaly_scores_report([-1.0, -2.0], [-5.0, -6.0])
    >>> r["auroc"], r["auprc"]
    (1.0, 1.0)
    """
    normal = check_data(normal_scores, "normal_scores", min_ndim=1, dtype=np.float64).ravel()
    anomal = check_data(anomaly_scores, "anomaly_scores", min_ndim=1, dtype=np.float64).ravel()
    labels = np.r_[np.zeros(len(normal)), np.ones(len(anomal))]
    scores = np.r_[normal, anomal]
    return {
        "auroc": auroc(labels, scores),
        "auprc": auprc(labels, scores),
        "mean_score_normal": float(normal.mean()),
        "mean_score_anomaly": float(anomal.mean()),
        "n_normal": len(normal),
        "n_anomaly": len(anomal),
    }
