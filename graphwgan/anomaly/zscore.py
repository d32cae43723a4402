r"""The parameter-free leakage baseline :math:`z(\deg) + z(\lVert x \rVert)`.

BOND's injected outliers leak through two plain statistics: a clique raises the degree of every
member, and a contextual outlier copies the feature vector of a far-away node, which moves its
feature norm. Standardising the two and adding them,

.. math::

    s_i = \frac{\deg(i) - \mu_{\deg}}{\sigma_{\deg}}
        + \frac{\lVert x_i \rVert_2 - \mu_{\lVert x \rVert}}{\sigma_{\lVert x \rVert}},

already ranks outliers well on ``inj_cora`` and ``inj_amazon`` (about 0.85 ROC-AUC) without
looking at any neighbourhood or learning anything. A detector that does not clearly beat this
number has not shown that it uses the graph. The means and standard deviations are those of the
training graph (stored in :meth:`DegreeFeatureZScore.fit`), so scoring another graph uses the
same scale.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from graphwgan.anomaly._base import BaseDetector

if TYPE_CHECKING:  # pragma: no cover - typing only
    from torch_geometric.data import Data

__all__ = ["DegreeFeatureZScore", "degree_feature_statistics", "zscore_scores"]


def degree_feature_statistics(data: Data) -> np.ndarray:
    r"""Degree and feature norm of every node, shape ``(|V|, 2)``, float64.

    Parameters
    ----------
    data : torch_geometric.data.Data
        ``edge_index`` with both directions of every edge (so the out-degree is the degree) and
        features ``x`` of shape ``(|V|, F)``.

    Returns
    -------
    numpy.ndarray of shape (|V|, 2)
        Column 0: :math:`\deg(i)`; column 1: :math:`\lVert x_i \rVert_2`.
    """
    n = int(data.num_nodes)
    degree = np.bincount(data.edge_index[0].cpu().numpy(), minlength=n).astype(np.float64)
    norm = np.linalg.norm(data.x.detach().cpu().numpy().astype(np.float64).reshape(n, -1), axis=1)
    return np.stack([degree, norm], axis=1)


def zscore_scores(statistics: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    r"""Sum of standardised columns, :math:`s_i = \sum_c (t_{ic} - \mu_c) / \sigma_c`.

    A column with :math:`\sigma_c \le 10^{-12} (1 + |\mu_c|)` (constant on the training graph, up
    to rounding) contributes :math:`t_{ic} - \mu_c` unscaled, i.e. about 0 on the training graph.

    Parameters
    ----------
    statistics : numpy.ndarray of shape (|V|, C)
    mean, std : numpy.ndarray of shape (C,)

    Returns
    -------
    numpy.ndarray of shape (|V|,), float64
    """
    scale = np.where(std > 1e-12 * (1.0 + np.abs(mean)), std, 1.0)
    return ((statistics - mean) / scale).sum(axis=1)


class DegreeFeatureZScore(BaseDetector):
    r"""Score nodes by :math:`z(\deg) + z(\lVert x \rVert_2)`: no training, no parameters to tune.

    Parameters
    ----------
    contamination : float, default 0.1
        Share of outliers assumed when thresholding (see the base class).
    random_state : None
        Unused (the detector is deterministic); accepted for the common contract.

    Attributes
    ----------
    mean_, std_ : numpy.ndarray of shape (2,)
        Mean and standard deviation of (degree, feature norm) on the training graph.
    decision_scores_ : numpy.ndarray of shape (|V|,)
        Scores of the training nodes.

    Examples
    --------
    >>> import networkx as nx, torch
    >>> from torch_geometric.utils import from_networkx
    >>> data = from_networkx(nx.star_graph(5))
    >>> data.x = torch.ones(6, 3)
    >>> detector = DegreeFeatureZScore().fit(data)
    >>> int(detector.decision_scores_.argmax())  # the hub
    0
    """

    def __init__(self, *, contamination: float = 0.1, random_state: Any = None) -> None:
        self.contamination = contamination
        self.random_state = random_state

    def _fit(self, data: Data, rng: np.random.Generator) -> None:
        statistics = degree_feature_statistics(data)
        self.mean_ = statistics.mean(axis=0)
        self.std_ = statistics.std(axis=0)

    def _score(self, data: Data) -> np.ndarray:
        return zscore_scores(degree_feature_statistics(data), self.mean_, self.std_)

    def _get_state(self) -> dict:
        import torch

        return {"mean": torch.from_numpy(self.mean_.copy()), "std": torch.from_numpy(self.std_.copy())}

    def _set_state(self, state: dict) -> None:
        self.mean_ = np.asarray(state["mean"].numpy(), dtype=np.float64)
        self.std_ = np.asarray(state["std"].numpy(), dtype=np.float64)
