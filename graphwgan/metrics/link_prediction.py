r"""Link prediction: how well scores rank held-out edges above non-edges."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

from graphwgan._checks import is_tensor, to_numpy

__all__ = ['LinkPredictionScores', 'link_prediction_scores']
# ----------------------------------------------------------------------------------------------
# link prediction
# ----------------------------------------------------------------------------------------------


class LinkPredictionScores(NamedTuple):
    """Area under the ROC curve and average precision of a link-prediction ranking."""

    roc_auc: float
    average_precision: float


def link_prediction_scores(scores_pos: Any, scores_neg: Any) -> LinkPredictionScores:
    r"""ROC AUC and average precision of scores for held-out edges against non-edges.

    Higher scores mean "more likely an edge". With :math:`P` positive scores :math:`s^+` and
    :math:`N` negative scores :math:`s^-`,

    .. math:: \mathrm{AUC} = \frac{1}{PN} \sum_{i, j} \Big( [s^+_i > s^-_j] + \tfrac12 [s^+_i = s^-_j] \Big)
              = \frac{R^+ - P(P+1)/2}{PN},

    with :math:`R^+` the sum of the positives' ranks among all scores (ties get their average
    rank). Average precision is the step-wise area under the precision-recall curve: over the
    distinct score thresholds :math:`t_1 > t_2 > \dots`, with precision :math:`P_k` and recall
    :math:`R_k` of predicting "edge" for scores :math:`\ge t_k`,

    .. math:: \mathrm{AP} = \sum_k (R_k - R_{k-1})\, P_k, \qquad R_0 = 0,

    which without ties is the mean of the precision at the rank of each positive. These are
    the definitions of scikit-learn's ``roc_auc_score`` and ``average_precision_score``.

    Parameters
    ----------
    scores_pos : array_like, shape (P,)
        Scores of the true (held-out) edges.
    scores_neg : array_like, shape (N,)
        Scores of the non-edges.

    Returns
    -------
    LinkPredictionScores
        A named tuple ``(roc_auc, average_precision)``.

    Raises
    ------
    TypeError
        If the scores are not real numbers.
    ValueError
        If an array is empty, not 1-D, or holds NaN or infinite values.

    Examples
    --------
    >>> link_prediction_scores([0.9, 0.8, 0.4], [0.7, 0.3])
    LinkPredictionScores(roc_auc=0.8333333333333334, average_precision=0.9166666666666666)
    """
    pos = _as_scores(scores_pos, "scores_pos")
    neg = _as_scores(scores_neg, "scores_neg")
    p, q = pos.size, neg.size
    scores = np.concatenate([pos, neg])
    is_pos = np.concatenate([np.ones(p, dtype=bool), np.zeros(q, dtype=bool)])

    # ROC AUC from average ranks (1-based), ascending
    order = np.argsort(scores, kind="mergesort")
    ordered = scores[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], ordered.size]  # exclusive
    average_rank = (starts + 1 + ends) / 2.0
    ranks = np.empty(ordered.size)
    ranks[order] = np.repeat(average_rank, ends - starts)
    auc = (ranks[:p].sum() - p * (p + 1) / 2.0) / (p * q)

    # average precision over distinct thresholds, descending
    order = np.argsort(-scores, kind="mergesort")
    ordered, hits = scores[order], is_pos[order]
    last = np.flatnonzero(np.r_[ordered[1:] != ordered[:-1], True])  # last index of each tie group
    true_pos = np.cumsum(hits)[last]
    predicted = last + 1
    precision = true_pos / predicted
    recall = true_pos / p
    ap = float(np.sum(np.diff(np.r_[0.0, recall]) * precision))
    return LinkPredictionScores(float(auc), ap)


def _as_scores(values: Any, label: str) -> np.ndarray:
    if is_tensor(values):
        values = to_numpy(values)
    if isinstance(values, (str, bytes, Mapping)) or values is None:
        raise TypeError(f"link_prediction_scores: {label} must be a 1-D array of numbers, got {type(values).__name__}.")
    array = np.asarray(values)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"link_prediction_scores: {label} must hold real numbers, got dtype {array.dtype}.")
    array = array.astype(np.float64)
    if array.ndim != 1:
        raise ValueError(f"link_prediction_scores: {label} must be 1-D, got shape {array.shape}; flatten it first.")
    if array.size == 0:
        raise ValueError(f"link_prediction_scores: {label} is empty; give at least one score.")
    if not np.isfinite(array).all():
        raise ValueError(
            f"link_prediction_scores: {label} holds {int((~np.isfinite(array)).sum())} NaN or infinite "
            "scores; scores must be finite."
        )
    return array
