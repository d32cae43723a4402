"""Tests for the outlier-detection metrics of graphwgan.metrics against hand-computed values."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from graphwgan.metrics import anomaly_scores_report, average_precision, recall_at_k, roc_auc

LABELS = [1, 0, 1, 0, 0]
SCORES = [0.9, 0.8, 0.4, 0.7, 0.3]


def brute_force_auc(labels, scores):
    labels, scores = np.asarray(labels) != 0, np.asarray(scores, dtype=float)
    pairs = list(itertools.product(scores[labels], scores[~labels]))
    return sum(1.0 if p > q else 0.5 if p == q else 0.0 for p, q in pairs) / len(pairs)


def test_hand_computed_example():
    # ranking: 0.9 (out), 0.8, 0.7, 0.4 (out), 0.3; outliers beat 3 + 1 of 6 pairs
    assert roc_auc(LABELS, SCORES) == pytest.approx(4 / 6, abs=1e-12)
    # precision at the outliers' ranks: 1/1 and 2/4
    assert average_precision(LABELS, SCORES) == pytest.approx((1 + 2 / 4) / 2, abs=1e-12)
    assert recall_at_k(LABELS, SCORES) == 0.5  # k = 2 outliers: top-2 holds one
    assert recall_at_k(LABELS, SCORES, k=1) == 0.5
    assert recall_at_k(LABELS, SCORES, k=3) == 0.5
    assert recall_at_k(LABELS, SCORES, k=4) == 1.0


def test_perfect_reversed_and_constant_scores():
    labels = [0, 0, 1, 1]
    assert roc_auc(labels, [0, 1, 2, 3]) == 1.0 and average_precision(labels, [0, 1, 2, 3]) == 1.0
    assert roc_auc(labels, [3, 2, 1, 0]) == 0.0
    assert roc_auc(labels, [1, 1, 1, 1]) == 0.5
    assert average_precision(labels, [1, 1, 1, 1]) == 0.5  # one threshold: precision 2/4
    assert recall_at_k(labels, [3, 2, 1, 0]) == 0.0


def test_recall_at_k_shares_tied_places():
    # threshold 0.5 at place 2: three tied nodes (two outliers) share two places -> 4/3 hits
    assert recall_at_k([1, 0, 1, 0], [0.5, 0.5, 0.5, 0.1]) == pytest.approx(2 / 3, abs=1e-12)
    # order of the tied nodes does not matter
    assert recall_at_k([0, 1, 1, 0], [0.5, 0.5, 0.5, 0.1]) == pytest.approx(2 / 3, abs=1e-12)
    assert recall_at_k([1, 0, 1, 0], [0.9, 0.5, 0.5, 0.1]) == pytest.approx((1 + 0.5) / 2, abs=1e-12)


def test_auc_matches_brute_force_with_ties():
    rng = np.random.default_rng(0)
    labels = (rng.random(60) < 0.3).astype(int) * rng.integers(1, 4, 60)
    scores = rng.integers(0, 6, 60).astype(float)  # many ties
    assert roc_auc(labels, scores) == pytest.approx(brute_force_auc(labels, scores), abs=1e-12)


def test_report_with_bond_bits():
    labels = [1, 0, 2, 0, 3]
    scores = [0.9, 0.1, 0.2, 0.3, 0.8]
    report = anomaly_scores_report(labels, scores)
    # outliers 0.9, 0.2, 0.8 against normal 0.1, 0.3: 2 + 1 + 2 of 6 pairs
    assert report["roc_auc"] == pytest.approx(5 / 6, abs=1e-12)
    assert report["roc_auc_contextual"] == 1.0  # labels 1 and 3: 0.9, 0.8
    assert report["roc_auc_structural"] == 0.75  # labels 2 and 3: 0.2, 0.8
    # ranking 0.9 o, 0.8 o, 0.3, 0.2 o, 0.1: AP = (1 + 1 + 3/4) / 3
    assert report["average_precision"] == pytest.approx(2.75 / 3, abs=1e-12)
    assert report["recall_at_k"] == pytest.approx(2 / 3, abs=1e-12)
    assert (report["k"], report["num_outliers"], report["num_nodes"]) == (3, 3, 5)


def test_report_without_bits_and_with_one_type():
    report = anomaly_scores_report(LABELS, SCORES, k=4)
    assert "roc_auc_contextual" not in report and "roc_auc_structural" not in report
    assert report["recall_at_k"] == 1.0 and report["k"] == 4
    only_structural = anomaly_scores_report([2, 0, 2, 0, 0], SCORES)
    assert "roc_auc_contextual" not in only_structural
    assert only_structural["roc_auc_structural"] == only_structural["roc_auc"] == pytest.approx(4 / 6)


def test_accepts_torch_and_bool_inputs():
    labels = torch.tensor(LABELS, dtype=torch.bool)
    scores = torch.tensor(SCORES, dtype=torch.float32, requires_grad=True)
    assert roc_auc(labels, scores) == pytest.approx(4 / 6, abs=1e-7)
    assert average_precision(np.array(LABELS, dtype=np.uint8), SCORES) == pytest.approx(0.75)


@pytest.mark.parametrize(
    ("labels", "scores", "error", "match"),
    [
        ([1, 0, 1], [0.1, 0.2], ValueError, "labels has 3 entries but scores has 2"),
        ([1, 0, 1], [0.1, float("nan"), 0.3], ValueError, "1 NaN or infinite values"),
        ([1, 0, 1], [0.1, float("inf"), 0.3], ValueError, "NaN or infinite"),
        ([0, 0, 0], [0.1, 0.2, 0.3], ValueError, "both normal nodes .* got 0 outliers"),
        ([1, 2, 3], [0.1, 0.2, 0.3], ValueError, "got 3 outliers among 3 nodes"),
        ([1, 0, 4], [0.1, 0.2, 0.3], ValueError, r"got values in \[0, 4\]"),
        ([1, 0, -1], [0.1, 0.2, 0.3], ValueError, "must be 0 .normal."),
        ([1.0, 0.0, 1.0], [0.1, 0.2, 0.3], TypeError, "labels must be integers or booleans"),
        ([1, 0, 1], ["a", "b", "c"], TypeError, "scores must be real numbers"),
        ([[1, 0]], [[0.1, 0.2]], ValueError, "labels must be 1-D"),
        (None, [0.1], TypeError, "labels must be a 1-D array"),
    ],
)
def test_input_errors(labels, scores, error, match):
    for function in (roc_auc, average_precision, recall_at_k, anomaly_scores_report):
        with pytest.raises(error, match=match):
            function(labels, scores)


def test_recall_k_errors():
    with pytest.raises(ValueError, match="k=6 exceeds the number of nodes"):
        recall_at_k(LABELS, SCORES, k=6)
    with pytest.raises(ValueError, match="k must be >= 1"):
        recall_at_k(LABELS, SCORES, k=0)
    with pytest.raises(TypeError, match="k must be an int"):
        anomaly_scores_report(LABELS, SCORES, k=2.5)
