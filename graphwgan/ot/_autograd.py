"""Torch results for the exact solver, differentiable through the optimal potential.

The exact distance is piecewise linear in the masses, and on each piece its gradient with
respect to ``mu`` is an optimal potential ``f`` (and ``-f`` with respect to ``nu``), the same
rule POT's ``emd2`` uses. The potential is centred per component, which is the projection of
the gradient on the mass-preserving directions.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["attach_gradient"]


class _ExactDistance(torch.autograd.Function):
    """Returns a precomputed distance; backward multiplies by the saved potential."""

    @staticmethod
    def forward(mu, nu, distance, potential):  # noqa: D102
        return distance.clone()

    @staticmethod
    def setup_context(ctx, inputs, output):  # noqa: D102
        mu, nu, _, potential = inputs
        ctx.save_for_backward(potential)
        # a 1-D side broadcast over k pairs collects the gradient of every pair
        ctx.mu_shared = mu.dim() == 1
        ctx.nu_shared = nu.dim() == 1

    @staticmethod
    def backward(ctx, grad_output):  # noqa: D102
        (potential,) = ctx.saved_tensors
        grad = grad_output.unsqueeze(-1) * potential
        grad_mu = grad_nu = None
        if ctx.needs_input_grad[0]:
            grad_mu = grad.sum(0) if ctx.mu_shared and grad.dim() == 2 else grad
        if ctx.needs_input_grad[1]:
            grad_nu = -(grad.sum(0) if ctx.nu_shared and grad.dim() == 2 else grad)
        return grad_mu, grad_nu, None, None


def attach_gradient(distance, flow, potential, edge_index, edge_weight, mu, nu, info, result_cls):
    """Package numpy results as tensors on the input's device and dtype, with autograd."""
    dtype, device = info.dtype, info.device

    def tensor(array, kind=None):
        return torch.as_tensor(np.array(array), dtype=kind or dtype, device=device)

    distance_t = tensor(distance)
    potential_t = tensor(potential)
    needs_grad = any(isinstance(x, torch.Tensor) and x.requires_grad for x in (mu, nu))
    if needs_grad and torch.is_grad_enabled():
        mu_t = mu if isinstance(mu, torch.Tensor) else torch.zeros(0, dtype=dtype, device=device)
        nu_t = nu if isinstance(nu, torch.Tensor) else torch.zeros(0, dtype=dtype, device=device)
        distance_t = _ExactDistance.apply(mu_t, nu_t, distance_t, potential_t.detach())
    return result_cls(
        distance=distance_t,
        flow=tensor(flow),
        potential=potential_t,
        edge_index=tensor(edge_index, torch.long),
        edge_weight=tensor(edge_weight),
    )
