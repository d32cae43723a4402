r"""Hop balls: each node's neighbourhood within a few hops, and the transport ball built on them.

The sampled walk passes sum each row exactly over its ball; the synthesizer's transport term
only needs the nodes whose capped miss is below the cap, which are a ball too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["HopBalls", "hop_balls", "transport_ball", "transport_gains"]

_BALL_BLOCK_ENTRIES = 1 << 21
_NEGATIVE_BLOCK_ENTRIES = 1 << 22


@dataclass
class HopBalls:
    r"""Every node's ball :math:`\{v : d(u, v) \le r\}`, row by row (CSR, columns sorted, ``u`` included).

    ``hops[k]`` is the hop distance of entry ``k``; ``indices`` and ``hops`` live on the training device.
    """

    radius: int
    indptr: np.ndarray
    indices: Any
    hops: Any

    @property
    def nnz(self) -> int:
        """Entries over all balls."""
        return int(self.indptr[-1])


def hop_balls(uv, n, radius, device, budget, owner):
    r"""The balls :math:`B(u) = \{v : d(u, v) \le r\}` of every node, by sparse BFS.

    Row blocks of :math:`R = A + I` (as 0/1 patterns) are multiplied out,
    :math:`L_0 = I_b, L_h = L_{h-1} R`, so :math:`L_h` holds the nodes within :math:`h` hops, and
    :math:`\sum_{h=0}^{r} L_h = r + 1 - d(u, v)` on the ball: the hop distances come out of the
    sum without a dense distance matrix. Memory is that of the balls (5 bytes an entry) plus one
    block's products; a ``ValueError`` is raised once the balls outgrow ``budget`` bytes.
    """
    import scipy.sparse as sp
    import torch

    radius = min(int(radius), n)
    hop_type = np.uint8 if radius < 255 else np.int32
    ones = np.ones(2 * uv.shape[1] + n, dtype=np.float32)
    loops = np.arange(n)
    reach = sp.csr_array((ones, (np.r_[uv[0], uv[1], loops], np.r_[uv[1], uv[0], loops])), shape=(n, n))
    indptr, indices, hops = [np.zeros(1, dtype=np.int64)], [], []
    stored, rows = 0, 1024
    for start in range(0, n, rows):
        stop = min(n, start + rows)
        local = np.arange(stop - start)
        level = sp.csr_array((np.ones(local.size, dtype=np.float32), (local, local + start)), shape=(local.size, n))
        total = level.copy()
        for _ in range(radius):
            level = level @ reach
            level.data[:] = 1.0
            total = total + level
        total.sort_indices()
        indptr.append(total.indptr[1:].astype(np.int64) + stored)
        indices.append(total.indices.astype(np.int32))
        hops.append((radius + 1 - total.data).astype(hop_type))
        stored += total.nnz
        if budget is not None and 5 * stored > budget:
            raise ValueError(
                f"{owner}: the {radius}-hop balls hold more than {stored} entries after {stop} of {n} nodes, past "
                f"the {budget / 1e9:.1f} GB of memory left; lower transport_cap (the balls shrink with it)."
            )
    return HopBalls(
        radius=radius,
        indptr=np.concatenate(indptr),
        indices=torch.from_numpy(np.concatenate(indices)).to(device),
        hops=torch.from_numpy(np.concatenate(hops)).to(device),
    )


def _blocks(balls, n, width):
    """Row ranges with at most about ``_BALL_BLOCK_ENTRIES`` ball entries and ``rows * width`` dense ones."""
    most_rows = max(1, _NEGATIVE_BLOCK_ENTRIES // max(width, 1))
    start = 0
    while start < n:
        limit = int(np.searchsorted(balls.indptr, balls.indptr[start] + _BALL_BLOCK_ENTRIES, side="right")) - 1
        stop = min(n, start + most_rows, max(limit, start + 1))
        yield start, stop
        start = stop


def _block_ball(balls, start, stop):
    """Local row ids, columns and hops of the ball entries of rows ``start..stop - 1``."""
    import torch

    e0, e1 = int(balls.indptr[start]), int(balls.indptr[stop])
    counts = torch.from_numpy(np.diff(balls.indptr[start : stop + 1])).to(balls.indices.device)
    local = torch.repeat_interleave(torch.arange(stop - start, device=counts.device), counts)
    return local, balls.indices[e0:e1].long(), balls.hops[e0:e1].long()


def transport_gains(cap, radius):
    r"""``gains[h]``: the transport saved per unit of mass landing ``h`` hops away, :math:`c - c_h`."""
    return np.array([cap - min(1.0, cap)] + [cap - (hop - 1) for hop in range(1, radius + 1)], dtype=np.float32)


@dataclass
class _Transport:
    """The sparse part of GraphSynthesizer's transport term (see :mod:`graphwgan.synthesis`).

    ``indptr``/``indices`` list, row by row, the ball of each node ``u``: the nodes ``v`` (``u``
    itself included) whose capped miss ``c_uv`` is below the cap, with ``hops[k] = d(u, v)``;
    ``gains[h]`` is ``cap - c`` at hop ``h``, the transport saved per unit of mass landing there.
    """

    weight: float
    cap: float
    indptr: np.ndarray
    indices: Any
    hops: Any
    gains: Any


def transport_ball(uv, n, weight, cap, device, budget):
    r"""GraphSynthesizer's transport term for the exact passes: the balls :math:`B(u)` and their gains.

    The balls are :math:`\{v : d(u, v) \le \lceil c \rceil\}` (``c(u, v) = d(u, v) - 1 < cap`` exactly
    there), from the sparse BFS of :func:`hop_balls`.
    """
    import torch

    balls = hop_balls(uv, n, math.ceil(cap), device, budget, "GraphSynthesizer")
    return _Transport(weight=weight, cap=cap, indptr=balls.indptr, indices=balls.indices, hops=balls.hops,
                      gains=torch.from_numpy(transport_gains(cap, balls.radius)).to(device))
