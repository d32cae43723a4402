r"""Anomaly-detection metrics: how well scores rank outliers above normal nodes (higher = more anomalous)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from graphwgan._checks import check_int, is_tensor, to_numpy
from graphwgan.metrics.link_prediction import link_prediction_scores

__all__ = ['anomaly_scores_report', 'average_precision', 'recall_at_k', 'roc_auc']
# ----------------------------------------------------------------------------------------------
# outlier (anomaly) detection
# ----------------------------------------------------------------------------------------------


def roc_auc(labels: Any, scores: Any) -> float:
    r"""ROC AUC of anomaly scores: the chance that an outlier outscores a normal node.

    Higher scores mean "more anomalous" (the PyGOD convention). Node :math:`v` is an outlier
    when :math:`y_v \ne 0`, and the AUC is :func:`link_prediction_scores` of the outliers'
    scores against the normal nodes' (ties count one half).

    Parameters
    ----------
    labels : array_like of shape (|V|,)
        0 for a normal node, 1, 2 or 3 for an outlier (BOND's bits: 1 contextual,
        2 structural, 3 both); bool works too. Both classes must occur.
    scores : array_like of shape (|V|,)
        Finite anomaly scores.

    Returns
    -------
    float
        The AUC in :math:`[0, 1]`; 0.5 for a random ranking.

    Raises
    ------
    TypeError
        If the labels are not integers or booleans, or the scores not real numbers.
    ValueError
        If the lengths differ, an array is not 1-D, a score is NaN or infinite, a label is outside
        ``{0, 1, 2, 3}``, or only one class occurs.

    Examples
    --------
    >>> roc_auc([1, 0, 1, 0, 0], [0.9, 0.8, 0.4, 0.7, 0.3])
    0.6666666666666666
    """
    outlier, _, values = _anomaly_inputs(labels, scores, "roc_auc")
    return link_prediction_scores(values[outlier], values[~outlier]).roc_auc


def average_precision(labels: Any, scores: Any) -> float:
    r"""Average precision of anomaly scores (area under the precision-recall curve).

    Step-wise, over the distinct score thresholds, exactly as in :func:`link_prediction_scores`
    with the outliers (:math:`y_v \ne 0`) as positives. A random ranking scores about the
    share of outliers.

    Parameters
    ----------
    labels, scores : array_like of shape (|V|,)
        As in :func:`roc_auc`.

    Returns
    -------
    float
        AP in :math:`(0, 1]`.

    Raises
    ------
    TypeError, ValueError
        As in :func:`roc_auc`.

    Examples
    --------
    >>> average_precision([1, 0, 1, 0, 0], [0.9, 0.8, 0.4, 0.7, 0.3])
    0.75
    """
    outlier, _, values = _anomaly_inputs(labels, scores, "average_precision")
    return link_prediction_scores(values[outlier], values[~outlier]).average_precision


def recall_at_k(labels: Any, scores: Any, k: int | None = None) -> float:
    r"""Share of the outliers found among the ``k`` highest scores.

    .. math:: \mathrm{Recall@}k = \frac{|\operatorname{top}_k(s) \cap O|}{|O|},

    with :math:`O` the outliers (:math:`y_v \ne 0`). With the default :math:`k = |O|` this
    equals precision at :math:`k` (R-precision). When scores tie across the :math:`k`-th place,
    the tied nodes share the remaining places in proportion, which is the expected value over
    a random order of the ties (so the result does not depend on node order).

    Parameters
    ----------
    labels, scores : array_like of shape (|V|,)
        As in :func:`roc_auc`.
    k : int, optional
        Number of top-scored nodes, ``1 <= k <= |V|``; defaults to the number of outliers.

    Returns
    -------
    float
        Recall in :math:`[0, 1]`.

    Raises
    ------
    TypeError
        As in :func:`roc_auc`, or if ``k`` is not an int.
    ValueError
        As in :func:`roc_auc`, or if ``k`` is out of range.

    Examples
    --------
    >>> recall_at_k([1, 0, 1, 0, 0], [0.9, 0.8, 0.4, 0.7, 0.3])
    0.5
    >>> recall_at_k([1, 0, 1, 0, 0], [0.9, 0.8, 0.4, 0.7, 0.3], k=5)
    1.0
    """
    outlier, _, values = _anomaly_inputs(labels, scores, "recall_at_k")
    return _recall_at_k(outlier, values, k)


def _recall_at_k(outlier: np.ndarray, values: np.ndarray, k: int | None) -> float:
    total = int(outlier.sum())
    k = total if k is None else check_int(k, "k", "recall_at_k", minimum=1)
    if k > values.size:
        raise ValueError(f"recall_at_k: k={k} exceeds the number of nodes ({values.size}); pass k <= {values.size}.")
    threshold = np.sort(values)[::-1][k - 1]
    above = values > threshold
    tied = values == threshold
    hits = outlier[above].sum() + (k - above.sum()) * outlier[tied].sum() / tied.sum()
    return float(hits / total)


def anomaly_scores_report(labels: Any, scores: Any, *, k: int | None = None) -> dict[str, float | int]:
    r"""ROC AUC, average precision and Recall@k of anomaly scores, and the AUC per outlier type.

    Parameters
    ----------
    labels, scores : array_like of shape (|V|,)
        As in :func:`roc_auc`. When some label is 2 or 3, the labels are read as BOND's bits
        (``labels & 1`` contextual, ``labels & 2`` structural) and the AUC of each type against
        the normal nodes (label 0) is added.
    k : int, optional
        For Recall@k; defaults to the number of outliers.

    Returns
    -------
    dict
        ``roc_auc``, ``average_precision``, ``recall_at_k`` (all outliers against the normal
        nodes), ``k``, ``num_outliers``, ``num_nodes``; with BOND bits also
        ``roc_auc_contextual`` (nodes with bit 0 set, both types included) and
        ``roc_auc_structural`` (bit 1), each only when that type occurs.

    Raises
    ------
    TypeError, ValueError
        As in :func:`roc_auc` and :func:`recall_at_k`.

    Examples
    --------
    >>> report = anomaly_scores_report([1, 0, 2, 0, 3], [0.9, 0.1, 0.2, 0.3, 0.8])
    >>> report["roc_auc"], report["roc_auc_contextual"], report["roc_auc_structural"]
    (0.8333333333333334, 1.0, 0.75)
    """
    outlier, codes, values = _anomaly_inputs(labels, scores, "anomaly_scores_report")
    pos, neg = values[outlier], values[~outlier]
    ranking = link_prediction_scores(pos, neg)
    num_outliers = int(outlier.sum())
    report: dict[str, float | int] = {
        "roc_auc": ranking.roc_auc,
        "average_precision": ranking.average_precision,
        "recall_at_k": _recall_at_k(outlier, values, k),
        "k": num_outliers if k is None else int(k),
        "num_outliers": num_outliers,
        "num_nodes": int(values.size),
    }
    if codes.max() >= 2:
        for bit, kind in ((1, "contextual"), (2, "structural")):
            members = (codes & bit) > 0
            if members.any():
                report[f"roc_auc_{kind}"] = link_prediction_scores(values[members], neg).roc_auc
    return report


def _anomaly_inputs(labels: Any, scores: Any, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate ``(labels, scores)``; return ``(is_outlier, labels as int64, scores as float64)``."""
    arrays = []
    for value, label in ((labels, "labels"), (scores, "scores")):
        if is_tensor(value):
            value = to_numpy(value)
        if isinstance(value, (str, bytes, Mapping)) or value is None:
            raise TypeError(f"{name}: {label} must be a 1-D array, got {type(value).__name__}.")
        array = np.asarray(value)
        if array.ndim != 1:
            raise ValueError(f"{name}: {label} must be 1-D, got shape {array.shape}; flatten it first.")
        arrays.append(array)
    codes, values = arrays
    if codes.size != values.size:
        raise ValueError(
            f"{name}: labels has {codes.size} entries but scores has {values.size}; give one label "
            "and one score per node."
        )
    if codes.dtype.kind not in "biu":
        raise TypeError(
            f"{name}: labels must be integers or booleans (0 normal, 1-3 outlier), got dtype {codes.dtype}."
        )
    codes = codes.astype(np.int64)
    if codes.size and (codes.min() < 0 or codes.max() > 3):
        raise ValueError(
            f"{name}: labels must be 0 (normal) or 1, 2, 3 (outlier; BOND bits 1 contextual, 2 "
            f"structural), got values in [{codes.min()}, {codes.max()}]."
        )
    if values.dtype.kind not in "biuf":
        raise TypeError(f"{name}: scores must be real numbers, got dtype {values.dtype}.")
    values = values.astype(np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        raise ValueError(
            f"{name}: scores holds {int(bad.sum())} NaN or infinite values (first at index "
            f"{int(np.argmax(bad))}); scores must be finite."
        )
    outlier = codes != 0
    num_outliers = int(outlier.sum())
    if num_outliers == 0 or num_outliers == codes.size:
        raise ValueError(
            f"{name}: labels must contain both normal nodes (0) and outliers (non-zero), got "
            f"{num_outliers} outliers among {codes.size} nodes."
        )
    return outlier, codes, values
