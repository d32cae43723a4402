r"""Score components and losses of :class:`graphwgan.anomaly.AnomalyDetector`, as plain functions.

Everything here is sparse: neighbourhood statistics are scatter sums over ``edge_index``
(:math:`O(|E|)`), triangle counts multiply sparse row blocks, and nothing of size
:math:`|V| \times |V|` is ever formed. No function steps an optimiser.

Notation: :math:`N(v)` the neighbours of :math:`v` (``edge_index`` holds both directions),
:math:`d_v = |N(v)|`, :math:`\bar x_{N(v)} = d_v^{-1} \sum_{u \in N(v)} x_u` (zero when
:math:`d_v = 0`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from torch import Tensor

__all__ = [
    "ComponentScaler",
    "clustering_coefficient",
    "critic_features",
    "critic_loss",
    "degree",
    "generator_loss",
    "knn_rarity",
    "local_affinity",
    "log_triangles",
    "neighbour_cap",
    "neighbour_mean",
    "neighbour_residual",
    "normal_scores",
    "separation_auc",
    "triangles",
]


def degree(edge_index: Tensor, num_nodes: int) -> Tensor:
    r"""Number of neighbours :math:`d_v` of every node, float ``(n,)`` (``edge_index`` with both directions)."""
    import torch

    out = torch.zeros(num_nodes, dtype=torch.float32, device=edge_index.device)
    if edge_index.numel():
        out.index_add_(0, edge_index[1], torch.ones(edge_index.shape[1], device=edge_index.device))
    return out


def neighbour_mean(x: Tensor, edge_index: Tensor) -> Tensor:
    r""":math:`\bar x_{N(v)}`, the mean of the neighbours' rows of ``x`` (zero for isolated nodes), ``(n, F)``.

    The node itself is excluded, so the result is a prediction of :math:`x_v` from its context alone.
    """
    import torch

    n = x.shape[0]
    total = torch.zeros_like(x)
    if edge_index.numel():
        total.index_add_(0, edge_index[1], x[edge_index[0]])
    count = degree(edge_index, n).to(x.dtype).clamp_min(1.0)
    return total / count[:, None]


def neighbour_cap(edge_index: Tensor, max_neighbours: int) -> Tensor:
    r"""At most ``max_neighbours`` incoming edges per node, chosen without a random generator, ``(2, E')``.

    Each target keeps the sources with the smallest key
    :math:`(2654435761\, u + 40503\, v) \bmod 2^{32}`, a fixed hash of the pair: the same graph always
    gives the same subgraph, and a node's kept neighbours do not depend on the node numbering's
    order in ``edge_index``. Message passing over the result costs :math:`O(|V| \cdot M)` whatever
    the degrees.
    """
    import torch

    if edge_index.numel() == 0:
        return edge_index
    src, dst = edge_index[0].long(), edge_index[1].long()
    key = (src * 2654435761 + dst * 40503) % (1 << 32)
    order = torch.argsort(dst * (1 << 32) + key)
    dst_sorted = dst[order]
    starts = torch.searchsorted(dst_sorted, dst_sorted, right=False)
    position = torch.arange(dst_sorted.numel(), device=edge_index.device) - starts
    return edge_index[:, order[position < int(max_neighbours)]]


def neighbour_residual(x: Tensor, edge_index: Tensor) -> Tensor:
    r"""Disagreement of a node with its neighbourhood, :math:`\lVert x_v - \bar x_{N(v)} \rVert_2`, ``(n,)``.

    This is the cost of moving a unit mass at :math:`x_v` to the neighbourhood's barycentre, a lower
    bound (Jensen) on the feature-space transport cost
    :math:`W_1(\delta_{x_v}, \mathrm{Unif}\{x_u : u \in N(v)\}) = d_v^{-1} \sum_u \lVert x_v - x_u \rVert`.
    """
    return (x - neighbour_mean(x, edge_index)).norm(dim=1)


def triangles(edge_index: Any, num_nodes: int, *, block: int = 2048) -> np.ndarray:
    r"""Triangles through every node, :math:`t_v = \tfrac12 (A^3)_{vv}`, float64 ``(n,)``.

    Computed as :math:`t_v = \tfrac12 \sum_u (A^2)_{vu} A_{uv}` on blocks of ``block`` rows of
    :math:`A` at a time, so memory stays at the fill-in of ``block`` rows of :math:`A^2`, never
    :math:`|V|^2`. Duplicate edges count once.
    """
    import scipy.sparse as sp

    index = np.asarray(edge_index.cpu() if hasattr(edge_index, "cpu") else edge_index, dtype=np.int64)
    n = int(num_nodes)
    if index.shape[1] == 0:
        return np.zeros(n)
    adjacency = sp.csr_array((np.ones(index.shape[1]), (index[0], index[1])), shape=(n, n))
    adjacency.data[:] = 1.0  # duplicates (if any) count once
    out = np.zeros(n)
    for start in range(0, n, block):
        rows = adjacency[start:start + block]
        out[start:start + rows.shape[0]] = np.asarray((rows @ adjacency).multiply(rows).sum(axis=1)).ravel() / 2
    return out


def log_triangles(edge_index: Any, num_nodes: int, *, block: int = 2048) -> np.ndarray:
    r""":math:`\log(1 + t_v)` with :math:`t_v` the triangles through :math:`v` (:func:`triangles`).

    A node inside a clique of :math:`k` nodes has at least :math:`\binom{k-1}{2}` triangles, which
    is what separates the BOND structural outliers from a node of the same degree.
    """
    return np.log1p(triangles(edge_index, num_nodes, block=block))


def clustering_coefficient(edge_index: Any, num_nodes: int, *, block: int = 2048) -> np.ndarray:
    r"""Local clustering :math:`c_v = 2 t_v / (d_v (d_v - 1))` (0 when :math:`d_v < 2`), float64 ``(n,)``.

    ``edge_index`` holds both directions of every edge, without duplicates or self-loops.
    """
    index = np.asarray(edge_index.cpu() if hasattr(edge_index, "cpu") else edge_index, dtype=np.int64)
    n = int(num_nodes)
    t = triangles(index, n, block=block)
    d = np.bincount(index[1], minlength=n).astype(np.float64)
    pairs = d * (d - 1)
    return np.where(pairs > 0, 2.0 * t / np.maximum(pairs, 1.0), 0.0)


def local_affinity(x: Tensor, edge_index: Tensor, *, chunk: int = 1 << 22) -> Tensor:
    r"""One minus the mean cosine similarity of a node's features to its neighbours', ``(n,)``.

    .. math:: a_v = 1 - \frac{1}{d_v} \sum_{u \in N(v)} \cos(x_v, x_u)

    (local node affinity, Qiao & Pang, NeurIPS 2023). A zero row has similarity 0 to everything,
    and an isolated node gets :math:`a_v = 1`. Edges are processed ``chunk // F`` at a time, so
    memory stays at ``chunk`` numbers whatever the feature size. With centred features the value
    does not change when a feature column is negated.
    """
    import torch

    n = x.shape[0]
    unit = x / x.norm(dim=1, keepdim=True).clamp_min(1e-12)
    total = torch.zeros(n, dtype=x.dtype, device=x.device)
    step = max(1, int(chunk) // max(1, x.shape[1]))
    for start in range(0, edge_index.shape[1], step):
        src, dst = edge_index[0, start:start + step], edge_index[1, start:start + step]
        total.index_add_(0, dst, (unit[src] * unit[dst]).sum(dim=1))
    count = degree(edge_index, n).to(x.dtype).clamp_min(1.0)
    return 1.0 - total / count


def normal_scores(values: np.ndarray, reference: np.ndarray) -> np.ndarray:
    r"""Each column mapped through the reference's empirical distribution to a standard normal.

    For a value :math:`s` and a sorted reference column :math:`r_1 \le \dots \le r_m`, the mid-rank
    :math:`q = (\#\{r_i < s\} + \tfrac12 \#\{r_i = s\}) / m`, clipped to
    :math:`[\tfrac1{2m}, 1 - \tfrac1{2m}]`, becomes :math:`\Phi^{-1}(q)`. On the reference itself
    this is the rank-based inverse normal transform (ties share their average rank). The result
    depends on each column's order only: any increasing map of a column leaves it unchanged.

    Parameters
    ----------
    values : array of shape (n, c)
    reference : array of shape (m, c), each column sorted ascending

    Returns
    -------
    numpy.ndarray of shape (n, c), float64
    """
    from scipy.special import ndtri

    values = np.asarray(values, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    m = reference.shape[0]
    out = np.empty_like(values)
    for j in range(values.shape[1]):
        below = np.searchsorted(reference[:, j], values[:, j], side="left")
        upto = np.searchsorted(reference[:, j], values[:, j], side="right")
        q = np.clip((below + upto) / (2.0 * m), 0.5 / m, 1.0 - 0.5 / m)
        out[:, j] = ndtri(q)
    return out


def knn_rarity(points: np.ndarray, reference: np.ndarray, n_neighbors: int, *, tree: Any = None,
               workers: int = 1) -> np.ndarray:
    r"""Mean Euclidean distance from each point to its ``n_neighbors`` nearest reference points.

    A point at distance 0 from a reference point is taken to be that point and skips it (so scoring
    the reference itself is leave-one-out). ``tree`` is a prebuilt ``scipy.spatial.cKDTree`` of
    ``reference``; ``workers`` the threads of the query.
    """
    from scipy.spatial import cKDTree

    reference = np.asarray(reference, dtype=np.float64)
    points = np.asarray(points, dtype=np.float64)
    k = min(int(n_neighbors), reference.shape[0] - 1)
    if k < 1:
        return np.zeros(points.shape[0])
    tree = cKDTree(reference) if tree is None else tree
    dist, _ = tree.query(points, k=k + 1, workers=int(workers))
    dist = dist.reshape(points.shape[0], k + 1)
    itself = dist[:, 0] == 0.0
    return np.where(itself, dist[:, 1:].mean(axis=1), dist[:, :k].mean(axis=1))


def separation_auc(high: np.ndarray, low: np.ndarray) -> float:
    r""":math:`P(H > L) + \tfrac12 P(H = L)` for independent draws of the two samples (Mann-Whitney)."""
    from scipy.stats import rankdata

    high = np.asarray(high, dtype=np.float64).ravel()
    low = np.asarray(low, dtype=np.float64).ravel()
    ranks = rankdata(np.concatenate([high, low]))
    return float((ranks[:high.size].sum() - high.size * (high.size + 1) / 2) / (high.size * low.size))


def critic_features(critic: Any, x: Tensor, edge_index: Tensor) -> tuple[Tensor, Tensor]:
    r"""The last hidden layer :math:`h^{(L)}` of a :class:`graphwgan.nn.NodeCritic` and its output :math:`f`.

    Returns ``(h, f)`` with shapes ``(n, hidden)`` and ``(n,)``: the critic-feature residual of
    f-AnoGAN compares :math:`h` on real and generated inputs.
    """
    h = critic.hidden(x, edge_index)
    return h, critic.output(h).squeeze(-1)


def critic_loss(real: Tensor, fake: Tensor, edge_index: Tensor, *, lipschitz_weight: float = 1.0,
                lipschitz_bound: float = 1.0, drift: float = 1e-3, gradient_penalty: Tensor | None = None,
                gp_weight: float = 10.0) -> Tensor:
    r"""Critic loss: negative dual, edge-Lipschitz penalty, drift and feature-space gradient penalty.

    .. math::

        \mathcal L_C = \tfrac1n \sum_v f(\hat x)_v - \tfrac1n \sum_v f(x)_v
        + \lambda_E \, \frac{1}{|E|} \sum_{(u,v) \in E} \mathrm{relu}\!\left(\frac{|f(x)_u - f(x)_v|}{K} - 1\right)^2
        + \epsilon \, \tfrac1n \sum_v f(x)_v^2 + \lambda_{GP} \, \mathrm{GP}

    The edge term (:func:`graphwgan.lipschitz.edge_lipschitz_penalty` on :math:`f / K`) asks the
    critic to change by at most :math:`K` across an edge: with :math:`\lambda_E > 0` the critic value
    of a node is tied to its neighbours'. The drift term keeps the potential near zero (its level is
    otherwise free). ``gradient_penalty`` is the feature-space WGAN-GP term, computed by the caller.
    """
    from graphwgan.lipschitz import edge_lipschitz_penalty

    loss = fake.mean() - real.mean() + drift * (real**2).mean()
    if lipschitz_weight > 0:
        loss = loss + lipschitz_weight * edge_lipschitz_penalty(real / lipschitz_bound, edge_index)
    if gradient_penalty is not None:
        loss = loss + gp_weight * gradient_penalty
    return loss


def generator_loss(fake_scores: Tensor, reconstruction: Tensor, target: Tensor, *,
                   adversarial_weight: float = 1.0) -> Tensor:
    r"""Generator loss: WGAN term plus feature reconstruction.

    .. math::

        \mathcal L_G = -\lambda_{adv} \tfrac1n \sum_v f(\hat x)_v + \tfrac1{nF} \sum_v \lVert x_v - \hat x_v \rVert^2
    """
    return -adversarial_weight * fake_scores.mean() + ((reconstruction - target) ** 2).mean()


class ComponentScaler:
    r"""Robust standardisation of score components, fitted on the training nodes.

    :math:`z_k(v) = (s_k(v) - \mathrm{med}_k) / (1.4826\, \mathrm{MAD}_k)` with the median and the
    median absolute deviation of component :math:`k` on the training graph (the MAD is floored at a
    small fraction of the standard deviation so a component that is constant on most nodes does not
    explode). Scoring another graph reuses the training statistics.
    """

    def __init__(self, center: np.ndarray, scale: np.ndarray) -> None:
        self.center = np.asarray(center, dtype=np.float64)
        self.scale = np.asarray(scale, dtype=np.float64)

    @classmethod
    def fit(cls, components: np.ndarray) -> ComponentScaler:
        """Statistics of a ``(n, k)`` array of components."""
        components = np.asarray(components, dtype=np.float64)
        center = np.median(components, axis=0)
        mad = 1.4826 * np.median(np.abs(components - center), axis=0)
        std = components.std(axis=0)
        scale = np.maximum(mad, 0.1 * std)
        scale = np.where(scale > 0, scale, 1.0)
        return cls(center, scale)

    def transform(self, components: np.ndarray) -> np.ndarray:
        """Standardised components, ``(n, k)``."""
        return (np.asarray(components, dtype=np.float64) - self.center) / self.scale
