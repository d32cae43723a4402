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
    "critic_features",
    "critic_loss",
    "degree",
    "generator_loss",
    "log_triangles",
    "neighbour_mean",
    "neighbour_residual",
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


def neighbour_residual(x: Tensor, edge_index: Tensor) -> Tensor:
    r"""Disagreement of a node with its neighbourhood, :math:`\lVert x_v - \bar x_{N(v)} \rVert_2`, ``(n,)``.

    This is the cost of moving a unit mass at :math:`x_v` to the neighbourhood's barycentre, a lower
    bound (Jensen) on the feature-space transport cost
    :math:`W_1(\delta_{x_v}, \mathrm{Unif}\{x_u : u \in N(v)\}) = d_v^{-1} \sum_u \lVert x_v - x_u \rVert`.
    """
    return (x - neighbour_mean(x, edge_index)).norm(dim=1)


def log_triangles(edge_index: Any, num_nodes: int, *, block: int = 2048) -> np.ndarray:
    r"""Triangles through every node, :math:`t_v = \tfrac12 (A^3)_{vv}`, returned as :math:`\log(1 + t_v)`.

    Computed as :math:`t_v = \tfrac12 \sum_u (A^2)_{vu} A_{uv}` on blocks of ``block`` rows of
    :math:`A` at a time, so memory stays at the fill-in of ``block`` rows of :math:`A^2`, never
    :math:`|V|^2`. A node inside a clique of :math:`k` nodes has at least :math:`\binom{k-1}{2}`
    triangles, which is what separates the BOND structural outliers from a node of the same degree.
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
    return np.log1p(out)


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
