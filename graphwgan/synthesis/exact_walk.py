r"""The low-rank walk's exact passes: loss and gradient, scores and sampling over all :math:`n^2` logits."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from graphwgan.synthesis.balls import _Transport
from graphwgan.synthesis.blocks import _DENSE_CACHE_ENTRIES, row_blocks
from graphwgan.synthesis.stationary import stationary_law

__all__ = ["cell_sample_keys", "score_rows", "walk_pass", "walk_problem"]

@dataclass
class _WalkProblem:
    """The training graph as CELL's passes read it: CSR edges (both directions) and degrees."""

    n: int
    degrees: Any
    indptr: np.ndarray
    rows: Any
    indices: Any
    transport: _Transport | None = None


@dataclass
class _WalkStep:
    """What one pass over the row blocks gives: loss, gradients, log-normalisers, ``pi P``."""

    loss: float
    lse: Any
    grad_source: Any
    grad_target: Any
    flow: Any


class _ExactWalk:
    """CELL's exact passes over all :math:`n^2` logits behind the interface of ``SampledWalk``."""

    def __init__(self, problem):
        self.problem = problem
        self.warm = problem.degrees / problem.degrees.sum()

    def step(self, source, target, generator):
        step = walk_pass(source.detach(), target.detach(), self.problem, stationary=self.warm)
        source.grad, target.grad = step.grad_source, step.grad_target
        self.warm = step.flow / step.flow.sum()  # one power step with the pre-step P: a warm start
        return step.loss

    def evaluate(self, source, target, generator):
        pi, lse, passes = stationary_law(source, target, self.warm)
        self.warm = pi
        return pi, lse, passes

    def sample_keys(self, source, target, lse, pi, num_edges, generator):
        return cell_sample_keys(score_rows(source, target, lse, pi), self.problem.n, num_edges, generator)


def walk_problem(uv, n, device):
    """The training edges ``uv`` (``u < v``) as the walk passes read them: CSR rows both ways and degrees."""
    import torch

    row = np.concatenate([uv[0], uv[1]])
    col = np.concatenate([uv[1], uv[0]])
    order = np.lexsort((col, row))
    row, col = row[order], col[order]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(row, minlength=n), out=indptr[1:])
    degrees = torch.from_numpy(np.diff(indptr).astype(np.float32)).to(device)
    return _WalkProblem(n=n, degrees=degrees, indptr=indptr, rows=torch.from_numpy(row).to(device),
                        indices=torch.from_numpy(col).to(device))


def walk_pass(source, target, problem, *, stationary=None, need_grad=True):
    r"""Loss and gradient of CELL (plus the transport term if any) in one pass over row blocks.

    Each block of logits :math:`W_{b\cdot} = U_b V^\top` is formed once and turned in place into
    :math:`P_{b\cdot}`, which gives :math:`\ell_b`, the loss terms, ``stationary_b @ P_b`` (one
    power step, when ``stationary`` is given) and, overwritten by
    :math:`G = \partial\mathcal{L}/\partial W` on the block, the gradients
    :math:`G_{b\cdot} V` and :math:`G_{b\cdot}^\top U_b`. With the transport term
    :math:`\lambda \sum_u w_u (c - \beta_u)`, :math:`\beta_u = \sum_{v \in B(u)} P_{uv} g_{uv}`,

    .. math::
        G_{uv} = P_{uv}\Big(\frac{k_u}{2m} + \lambda w_u \beta_u\Big) - \frac{A_{uv}}{2m}
        - \lambda w_u P_{uv} g_{uv} [v \in B(u)].
    """
    import torch

    n = problem.n
    dtype, device = source.dtype, source.device
    degrees = problem.degrees.to(dtype)
    total = degrees.sum()
    transport = problem.transport
    target_t = target.T.contiguous()
    lse = torch.empty(n, dtype=dtype, device=device)
    flow = None if stationary is None else torch.zeros(n, dtype=dtype, device=device)
    grad_source = torch.empty_like(source) if need_grad else None
    grad_target_t = torch.zeros_like(target_t) if need_grad else None
    weighted_lse = torch.zeros((), dtype=torch.float64, device=device)
    edge_logits = torch.zeros((), dtype=torch.float64, device=device)
    saving = torch.zeros((), dtype=torch.float64, device=device)
    gains = None if transport is None else transport.gains.to(dtype)
    for start, stop in row_blocks(n):
        block = source[start:stop] @ target_t
        flat = block.view(-1)
        e0, e1 = int(problem.indptr[start]), int(problem.indptr[stop])
        edge_flat = (problem.rows[e0:e1] - start) * n + problem.indices[e0:e1]
        edge_logits += flat[edge_flat].sum(dtype=torch.float64)
        top = block.amax(dim=1, keepdim=True)
        block.sub_(top).exp_()
        norm = block.sum(dim=1, keepdim=True)
        block.div_(norm)  # now P on the block's rows
        lse_block = (top + norm.log_()).squeeze(1)
        lse[start:stop] = lse_block
        k_block = degrees[start:stop]
        weighted_lse += (k_block * lse_block).sum(dtype=torch.float64)
        if flow is not None:
            flow += stationary[start:stop].to(dtype) @ block
        scale = k_block / total  # dL/dW = scale * P - A / 2m for the cross-entropy
        if transport is not None:
            b0, b1 = int(transport.indptr[start]), int(transport.indptr[stop])
            counts = torch.from_numpy(np.diff(transport.indptr[start : stop + 1])).to(device)
            ball_rows = torch.repeat_interleave(torch.arange(stop - start, device=device), counts)
            ball_flat = ball_rows * n + transport.indices[b0:b1]
            gained = flat[ball_flat].mul_(gains[transport.hops[b0:b1].long()])
            kept = torch.zeros(stop - start, dtype=dtype, device=device).index_add_(0, ball_rows, gained)
            weight = transport.weight * scale
            saving += (weight * kept).sum(dtype=torch.float64)
            scale = scale + weight * kept
        if not need_grad:
            continue
        block.mul_(scale[:, None])
        flat.index_add_(0, edge_flat, (-1.0 / total).expand(e1 - e0))
        if transport is not None:
            flat.index_add_(0, ball_flat, gained.mul_(weight[ball_rows]).neg_())
        # (H, n) @ (n, c) and (H, c) @ (c, n): several times faster on CPU than (c, n) @ (n, H)
        grad_source[start:stop] = (target_t @ block.T).T
        grad_target_t.addmm_(source[start:stop].T, block)
    loss = (weighted_lse - edge_logits) / total.double()
    if transport is not None:
        loss = loss + transport.weight * transport.cap - saving
    grad_target = None if grad_target_t is None else grad_target_t.T.contiguous()
    return _WalkStep(loss=float(loss), lse=lse, grad_source=grad_source, grad_target=grad_target, flow=flow)


@functools.cache
def _walk_loss():
    """CELL's loss (with the transport term of the problem, if any) as a ``torch.autograd.Function``.

    ``_walk_loss().apply(source, target, problem)``; the gradient is computed in the forward pass
    (the same pass over the row blocks) and scaled in the backward one. Built on first use: torch is
    imported lazily.
    """
    import torch
    from torch.autograd.function import once_differentiable

    class WalkLoss(torch.autograd.Function):
        @staticmethod
        def forward(ctx, source, target, problem):
            need = ctx.needs_input_grad[0] or ctx.needs_input_grad[1]
            step = walk_pass(source, target, problem, need_grad=need)
            ctx.grads = (step.grad_source, step.grad_target)
            return torch.tensor(step.loss, dtype=source.dtype, device=source.device)

        @staticmethod
        @once_differentiable
        def backward(ctx, grad_output):
            grad_source, grad_target = ctx.grads
            return grad_source * grad_output, grad_target * grad_output, None

    return WalkLoss


def score_rows(source, target, lse, stationary):
    r"""A function ``rows(start, stop, first)`` giving :math:`S_{uv}` for ``start <= u < stop``, ``v >= first``.

    :math:`S_{uv} = \pi_u P_{uv} + \pi_v P_{vu}` with :math:`P_{uv} = e^{U_u \cdot V_v - \ell_u}`,
    clamped below at the smallest positive float32 (every pair stays drawable) and ``0`` on the
    diagonal; returned on the CPU as float32. Rows are recomputed on the factors' device at each
    call, except on small graphs (:math:`n^2 \le` ``_DENSE_CACHE_ENTRIES``) where the whole of
    :math:`S` is built once and sliced.
    """
    import torch

    n = source.shape[0]
    source_t, target_t = source.T.contiguous(), target.T.contiguous()
    tiny = torch.finfo(torch.float32).tiny

    def compute(start, stop, first=0):
        out = (source[start:stop] @ target_t[:, first:]).sub_(lse[start:stop, None]).exp_()
        out.mul_(stationary[start:stop, None])
        back = (target[start:stop] @ source_t[:, first:]).sub_(lse[None, first:]).exp_()
        out.add_(back.mul_(stationary[None, first:])).clamp_(min=tiny)
        diagonal = torch.arange(max(start, first), stop, device=out.device)
        out[diagonal - start, diagonal - first] = 0.0
        return out.cpu()

    if n * n > _DENSE_CACHE_ENTRIES:
        return compute
    scores = torch.cat([compute(start, stop) for start, stop in row_blocks(n)])
    return lambda start, stop, first=0: scores[start:stop, first:]


def cell_sample_keys(score_rows, n, num_edges, generator):
    """Sorted keys ``u * n + v`` (``u < v``) of a graph drawn from CELL scores.

    ``score_rows(start, stop, first)`` returns the CPU float32 rows ``start..stop - 1`` of the score
    matrix from column ``first`` on (see :func:`score_rows`). Stage 1: one neighbour per node from
    its row (inverse-CDF on a float64 cumulative sum). Stage 2: the other pairs ``u < v`` with the
    smallest exponential keys ``E_uv / S_uv`` (compared as logs), which is successive sampling
    without replacement proportional to ``S``. Both stages run over blocks of rows, so nothing
    ``n x n`` is held; the random numbers are drawn per block of rows in the same order whatever
    computes the scores.
    """
    import torch

    nodes = torch.arange(n)
    first = torch.empty(n, dtype=torch.int64)
    blocks = row_blocks(n)
    for start, stop in blocks:
        cumulative = score_rows(start, stop, 0).to(torch.float64).cumsum_(dim=1)
        uniform = torch.rand(stop - start, 1, generator=generator, dtype=torch.float64)
        first[start:stop] = torch.searchsorted(cumulative, uniform * cumulative[:, -1:], right=True).squeeze(1)
    first.clamp_(max=n - 1)
    for node in torch.nonzero(first == nodes).view(-1).tolist():  # only through round-off at a row's end
        first[node] = score_rows(node, node + 1, 0).argmax()
    first_keys = torch.unique(torch.minimum(nodes, first) * n + torch.maximum(nodes, first))
    remaining = num_edges - first_keys.numel()
    if remaining <= 0:
        return first_keys
    first_rows = first_keys // n
    best_keys = torch.empty(0, dtype=torch.float32)
    best_index = torch.empty(0, dtype=torch.int64)
    for start, stop in blocks:
        # log key = log(-log U) - log S with U uniform: the log of an Exp(1) variable over S
        key = torch.rand((stop - start, n), generator=generator, dtype=torch.float32)
        key.log_().neg_().log_()
        key[:, :start] = math.inf  # below the diagonal block: only pairs u < v count
        key[:, start:].sub_(score_rows(start, stop, start).log())
        key[:, start:stop].masked_fill_(nodes[None, start:stop] <= nodes[start:stop, None], math.inf)
        taken = (first_rows >= start) & (first_rows < stop)
        key.view(-1)[first_keys[taken] - start * n] = math.inf
        values, index = torch.topk(key.view(-1), min(remaining, key.numel()), largest=False, sorted=False)
        best_keys = torch.cat([best_keys, values])
        best_index = torch.cat([best_index, index + start * n])
        if best_keys.numel() > remaining:
            best_keys, keep = torch.topk(best_keys, remaining, largest=False, sorted=False)
            best_index = best_index[keep]
    return torch.sort(torch.cat([first_keys, best_index])).values


# ----------------------------------------------------------------------------------------------
# shared helpers
