r"""The degree-corrected stochastic block model baseline (Karrer & Newman, 2011).

References
----------
B. Karrer and M. E. J. Newman, "Stochastic blockmodels and community structure in networks",
Phys. Rev. E 83, 016107 (2011).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from graphwgan._checks import check_int, to_numpy
from graphwgan.synthesis.generator import GraphGenerator, _distinct_pairs

__all__ = ["DegreeCorrectedSBM"]

class DegreeCorrectedSBM(GraphGenerator):
    r"""Poisson degree-corrected stochastic block model (Karrer & Newman, 2011), fitted by MLE.

    Node ``i`` in block :math:`g_i` has degree propensity :math:`\theta_i`; in the Poisson model
    the number of edges between ``i`` and ``j`` is
    :math:`A_{ij} \sim \mathrm{Poisson}(\theta_i \theta_j \omega_{g_i g_j})`. With blocks fixed,
    the maximum-likelihood parameters are

    .. math::
        \hat\theta_i = \frac{k_i}{\kappa_{g_i}}, \qquad \kappa_r = \sum_{i \in r} k_i, \qquad
        \hat\omega_{rs} = m_{rs},

    where :math:`k_i` is the degree and :math:`m_{rs}` the number of training edges between
    blocks ``r`` and ``s`` (counted twice inside a block, as in the paper), so that
    :math:`\sum_{i \in r} \hat\theta_i = 1` and the expected number of edges between ``r`` and
    ``s`` is the observed one. ``block_edges_`` holds these expected counts (edges, not stubs).

    **Sampling** never builds an :math:`n \times n` matrix: for every block pair the number of
    edges is drawn, ``Poisson(block_edges_[r, s])`` (or, with ``num_edges``, the total is fixed
    and split multinomially, which is the Poisson model conditioned on its total); then that many
    distinct pairs are drawn, each endpoint with probability :math:`\theta_i` inside its block,
    self-loops and repeated pairs being redrawn. The result is a simple graph whose block edge
    counts match the model's (it is weighted sampling of pairs without replacement, so the degrees
    of very high-propensity nodes come out slightly flattened). A block pair asked for more edges
    than it has node pairs gets all of them.

    Parameters
    ----------
    num_blocks : int, optional
        Number of blocks found by spectral clustering of the training graph: the
        ``num_blocks`` leading eigenvectors of the normalised adjacency
        :math:`D^{-1/2} A D^{-1/2}` (the smallest of the normalised Laplacian), rows scaled to
        unit length, then seeded k-means (k-means++ initialisation, 4 restarts). Ignored in favour
        of ``labels`` when those are given (then it must be ``None`` or their number of distinct
        values).
    labels : array_like of shape (n,), optional
        A block for each node, in node order (for example ``data.y``); any values, relabelled
        ``0..B-1`` in sorted order.
    random_state : None, int or numpy.random.Generator, default None
        Seeds the k-means restarts, the eigen-solver's start vector and :meth:`sample` without
        ``seed``.

    Attributes
    ----------
    num_nodes_, num_edges_ : int
        Size of the training graph.
    labels_ : numpy.ndarray of shape (num_nodes_,), dtype int64
        Block of each node, in ``0..num_blocks_-1``.
    num_blocks_ : int
        Number of blocks.
    degrees_ : numpy.ndarray of shape (num_nodes_,), dtype int64
        Training degrees.
    degree_propensity_ : numpy.ndarray of shape (num_nodes_,), dtype float64
        :math:`\hat\theta_i`; sums to 1 inside every block with at least one edge end.
    block_edges_ : numpy.ndarray of shape (num_blocks_, num_blocks_), dtype float64
        Symmetric; entry ``[r, s]`` is the expected number of edges between blocks ``r != s``,
        and ``[r, r]`` the expected number inside block ``r``.

    Examples
    --------
    >>> import networkx as nx
    >>> graph = nx.planted_partition_graph(2, 20, 0.5, 0.05, seed=0)
    >>> model = DegreeCorrectedSBM(num_blocks=2, random_state=0).fit(graph)
    >>> model.num_blocks_, int(model.block_edges_.sum() - model.block_edges_[0, 1]) == model.num_edges_
    (2, True)
    """

    def __init__(self, *, num_blocks: int | None = None, labels: Any = None, random_state: Any = None) -> None:
        self.num_blocks = num_blocks
        self.labels = labels
        self.random_state = random_state

    def _check_params(self):
        if self.num_blocks is not None:
            check_int(self.num_blocks, "num_blocks", "DegreeCorrectedSBM", minimum=1)
        elif self.labels is None:
            raise ValueError(
                "DegreeCorrectedSBM: give either labels= (a block per node, e.g. data.y) or "
                "num_blocks= (the number of spectral-clustering blocks); both are None."
            )

    def _fit(self, uv, n, rng):
        name = "DegreeCorrectedSBM"
        if self.labels is not None:
            raw = to_numpy(self.labels)
            if raw.ndim != 1 or raw.shape[0] != n:
                raise ValueError(
                    f"{name}: labels must have shape ({n},), one block per node of the training graph, "
                    f"got shape {tuple(raw.shape)}."
                )
            _, blocks = np.unique(raw, return_inverse=True)
            blocks = blocks.reshape(-1).astype(np.int64)
            num_blocks = int(blocks.max()) + 1
            if self.num_blocks is not None and self.num_blocks != num_blocks:
                raise ValueError(
                    f"{name}: num_blocks={self.num_blocks} but labels has {num_blocks} distinct values; "
                    "leave num_blocks=None when giving labels."
                )
        else:
            if self.num_blocks > n:
                raise ValueError(f"{name}: num_blocks={self.num_blocks} exceeds the {n} nodes of the training graph.")
            blocks = _spectral_blocks(uv, n, self.num_blocks, rng)
            num_blocks = int(blocks.max()) + 1

        degrees = np.bincount(uv.ravel(), minlength=n).astype(np.int64)
        kappa = np.bincount(blocks, weights=degrees, minlength=num_blocks)
        theta = np.zeros(n, dtype=np.float64)
        has = kappa[blocks] > 0
        theta[has] = degrees[has] / kappa[blocks][has]
        bu, bv = blocks[uv[0]], blocks[uv[1]]
        counts = np.zeros((num_blocks, num_blocks), dtype=np.float64)
        np.add.at(counts, (np.minimum(bu, bv), np.maximum(bu, bv)), 1.0)
        self.labels_ = blocks
        self.num_blocks_ = num_blocks
        self.degrees_ = degrees
        self.degree_propensity_ = theta
        self.block_edges_ = counts + np.triu(counts, 1).T

    def _sample_keys(self, rng, num_edges):
        n, blocks, theta = self.num_nodes_, self.labels_, self.degree_propensity_
        r_idx, s_idx = np.nonzero(np.triu(self.block_edges_) > 0)
        means = self.block_edges_[r_idx, s_idx]
        if num_edges is None:
            counts = rng.poisson(means)
        else:
            counts = rng.multinomial(num_edges, means / means.sum())
        members = [np.flatnonzero((blocks == b) & (theta > 0)) for b in range(self.num_blocks_)]
        keys, short = [], 0
        for r, s, count in zip(r_idx.tolist(), s_idx.tolist(), counts.tolist(), strict=True):
            a, b = members[r], members[s]
            capacity = a.size * (a.size - 1) // 2 if r == s else a.size * b.size
            if count > capacity:
                short += count - capacity
                count = capacity
            if count == 0:
                continue
            pa, pb = theta[a] / theta[a].sum(), theta[b] / theta[b].sum()
            keys.append(_distinct_pairs(rng, count, a, pa, b, pb, n, same=r == s))
        if short and num_edges is not None:
            warnings.warn(
                f"DegreeCorrectedSBM.sample: {short} of num_edges={num_edges} edges fell on block pairs that "
                "were already complete, so the sample has fewer edges.",
                RuntimeWarning,
                stacklevel=3,
            )
        keys = np.sort(np.concatenate(keys)) if keys else np.zeros(0, dtype=np.int64)
        return keys, {}


# ----------------------------------------------------------------------------------------------
# CELL


def _spectral_blocks(uv, n, k, rng):
    """Blocks from k-means on the unit-normalised leading eigenvectors of ``D^-1/2 A D^-1/2``."""
    import scipy.sparse as sp

    adjacency = sp.coo_array(
        (np.ones(2 * uv.shape[1]), (np.concatenate([uv[0], uv[1]]), np.concatenate([uv[1], uv[0]]))), shape=(n, n)
    ).tocsr()
    degrees = np.asarray(adjacency.sum(axis=1)).ravel()
    inv_sqrt = np.zeros(n)
    inv_sqrt[degrees > 0] = degrees[degrees > 0] ** -0.5
    normalised = sp.diags_array(inv_sqrt) @ adjacency @ sp.diags_array(inv_sqrt)
    if k == n:
        return np.arange(n, dtype=np.int64)
    if n <= 500 or k >= n - 1:
        _, vectors = np.linalg.eigh(normalised.toarray())
        embedding = vectors[:, n - k :]
    else:
        from scipy.sparse.linalg import eigsh

        _, embedding = eigsh(normalised, k=k, which="LA", v0=rng.uniform(-1.0, 1.0, size=n))
    norms = np.linalg.norm(embedding, axis=1, keepdims=True)
    embedding = np.divide(embedding, norms, out=np.zeros_like(embedding), where=norms > 0)
    labels = _kmeans(embedding, k, rng)
    _, labels = np.unique(labels, return_inverse=True)
    return labels.reshape(-1).astype(np.int64)


def _kmeans(points, k, rng, n_init=4, max_iter=100):
    """Lloyd's k-means with k-means++ starts; the labels of the restart with the least inertia."""
    n = points.shape[0]
    sq_norms = (points**2).sum(axis=1)
    best_labels, best_inertia = None, np.inf
    for _ in range(n_init):
        centers = points[[rng.integers(n)]]
        closest = ((points - centers[0]) ** 2).sum(axis=1)
        for _ in range(1, k):  # k-means++: next centre with probability proportional to D^2
            total = closest.sum()
            pick = rng.integers(n) if total <= 0 else rng.choice(n, p=closest / total)
            centers = np.vstack([centers, points[pick]])
            closest = np.minimum(closest, ((points - points[pick]) ** 2).sum(axis=1))
        labels = None
        for _ in range(max_iter):
            dist = sq_norms[:, None] - 2.0 * points @ centers.T + (centers**2).sum(axis=1)[None, :]
            new_labels = dist.argmin(axis=1)
            if labels is not None and np.array_equal(new_labels, labels):
                break
            labels = new_labels
            for c in range(k):
                members = labels == c
                if members.any():
                    centers[c] = points[members].mean(axis=0)
                else:  # an empty cluster restarts at the point farthest from its centre
                    far = int(dist[np.arange(n), labels].argmax())
                    centers[c] = points[far]
        dist = sq_norms[:, None] - 2.0 * points @ centers.T + (centers**2).sum(axis=1)[None, :]
        labels = dist.argmin(axis=1)
        inertia = float(np.maximum(dist[np.arange(n), labels], 0.0).sum())
        if inertia < best_inertia:
            best_labels, best_inertia = labels, inertia
    return best_labels
