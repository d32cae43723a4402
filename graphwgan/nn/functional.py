r"""Objectives of critic training, as plain functions (no optimiser steps here)."""

from __future__ import annotations

from torch import Tensor

__all__ = ["dual_objective", "semi_dual_objective"]


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
