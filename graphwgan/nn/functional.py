r"""Objectives of critic training, as plain functions (no optimiser steps here)."""

from __future__ import annotations

from torch import Tensor

__all__ = ["dual_objective", "semi_dual_objective", "wgan_critic_loss", "wgan_generator_loss"]


def dual_objective(potential: Tensor, mu: Tensor, nu: Tensor) -> Tensor:
    r"""Kantorovich dual :math:`\sum_v f(v) (\mu(v) - \nu(v))`; a lower bound on W1 when ``f`` is 1-Lipschitz."""
    return (potential * (mu - nu)).sum(-1)


def semi_dual_objective(potential: Tensor, mu: Tensor, nu: Tensor, transform) -> Tensor:
    r"""Semi-dual :math:`\sum_v f(v)\mu(v) - \sum_v f^{\uparrow}(v)\nu(v)`, with ``f^↑(v) = max_u f(u) - d(u, v)``.

    For any ``f`` the pair ``(f, f^↑)`` is dual-feasible, so this is a certified lower bound on W1 at
    every step of training, and it is concave in ``f``. ``transform`` is a
    :class:`graphwgan.lipschitz.CTransform` of the graph.
    """
    return (potential * mu).sum(-1) - (transform.upper(potential) * nu).sum(-1)


def wgan_critic_loss(real_scores: Tensor, fake_scores: Tensor, real_weight: Tensor | None = None,
                     fake_weight: Tensor | None = None) -> Tensor:
    r"""Critic loss of a WGAN: :math:`\mathbb{E}_{fake}[f] - \mathbb{E}_{real}[f]` (the negative dual).

    With weights (masses of a node distribution, say), the expectations are weighted sums;
    without, plain means over the samples. Minimising it maximises the dual objective, so its
    negative is the W1 estimate.
    """
    real = real_scores.mean() if real_weight is None else (real_scores * real_weight).sum()
    fake = fake_scores.mean() if fake_weight is None else (fake_scores * fake_weight).sum()
    return fake - real


def wgan_generator_loss(fake_scores: Tensor, fake_weight: Tensor | None = None) -> Tensor:
    r"""Generator loss of a WGAN: :math:`-\mathbb{E}_{fake}[f]` (weighted when ``fake_weight`` is given).

    With ``fake_weight`` a differentiable distribution over nodes, this trains the generator
    without sampling: the gradient is the critic's potential passed through the weights.
    """
    return -(fake_scores.mean() if fake_weight is None else (fake_scores * fake_weight).sum())
