r"""What a generated graph or a score vector is measured by, split by what is measured.

=================================  ===============================================================
:mod:`.statistics`                 the NetGAN/CELL graph statistics, relative errors, edge overlap,
                                   W1 between degree distributions
:mod:`.link_prediction`            ROC AUC and average precision of held-out edges vs non-edges
:mod:`.anomaly`                    ROC AUC, average precision, recall@k of anomaly scores
=================================  ===============================================================

Every public name is importable from here: ``graphwgan.metrics.graph_statistics(graph)``.
"""

from graphwgan.metrics.anomaly import anomaly_scores_report, average_precision, recall_at_k, roc_auc
from graphwgan.metrics.link_prediction import LinkPredictionScores, link_prediction_scores
from graphwgan.metrics.statistics import (
    DENSE_EIGEN_MAX_NODES,
    assortativity,
    characteristic_path_length,
    claw_count,
    clustering_coefficient,
    degree_wasserstein,
    edge_distribution_entropy,
    edge_overlap,
    gini_coefficient,
    graph_statistics,
    largest_component_size,
    max_degree,
    mean_relative_error,
    power_law_exponent,
    relative_errors,
    spectral_gap,
    square_count,
    statistics_table,
    triangle_count,
    wedge_count,
)

__all__ = [
    "DENSE_EIGEN_MAX_NODES",
    "LinkPredictionScores",
    "anomaly_scores_report",
    "assortativity",
    "average_precision",
    "characteristic_path_length",
    "claw_count",
    "clustering_coefficient",
    "degree_wasserstein",
    "edge_distribution_entropy",
    "edge_overlap",
    "gini_coefficient",
    "graph_statistics",
    "largest_component_size",
    "link_prediction_scores",
    "max_degree",
    "mean_relative_error",
    "power_law_exponent",
    "recall_at_k",
    "relative_errors",
    "roc_auc",
    "spectral_gap",
    "square_count",
    "statistics_table",
    "triangle_count",
    "wedge_count",
]
