r"""CELL's random-walk model on large graphs: sampled softmax, linear in the graph per epoch.

The exact passes of :class:`graphwgan.synthesis.CELL` form every entry of :math:`W = U V^\top`
once per epoch, :math:`O(n^2 H)` time. Here every quantity that needs a whole row of
:math:`W` is split at each node's hop ball :math:`B(u) = \{v : d(u, v) \le r\}` (found once by
sparse BFS, :func:`hop_balls`): the ball is summed exactly, the rest is estimated.

**Log-normalisers** (stratified sampled softmax). With ``K`` columns :math:`J` drawn uniformly
(shared by all rows of one epoch, so the negatives are one dense ``(rows, K)`` product),

.. math::
    \hat Z_u = \sum_{v \in B(u)} e^{W_{uv}} + \frac{n}{K} \sum_{j \in J,\, j \notin B(u)} e^{W_{uj}},
    \qquad \hat\ell_u = \log \hat Z_u,

an unbiased estimate of :math:`Z_u = e^{\ell_u}` whose variance comes only from the part of the
row outside the ball: the neighbours, which carry most of a trained row, are never sampled. One
epoch costs :math:`O((|B| + nK) H)` for the balls' :math:`|B| = \sum_u |B(u)|` entries, linear in
the graph for a bounded radius and degree (where the balls are large, their logits come from dense
products of a few rows, only when those cost at most ``_DENSE_BALL_SHARE`` multiply-adds an entry, which
the processor does far faster than gathering the entry), and the loss (CELL's cross-entropy plus the transport
term) is differentiated by autograd one block of rows at a time.

**Stationary law.** :math:`\hat P_{uv} = e^{W_{uv} - \hat\ell_u}` on the ball, and the rest of
each row, :math:`r_u = 1 - \sum_{v \in B(u)} \hat P_{uv}`, is spread over the other nodes by one
shared distribution :math:`\bar q` (the average of the outside parts of ``R`` rows drawn with
probability :math:`\propto \pi_u r_u`, each computed exactly). So :math:`\hat P = P_B + r \bar q^\top`
(a sparse matrix plus a rank-one term, like PageRank's teleport), whose stationary law is solved by
GMRES in :math:`O(|B|)` per product.

**Sampling.** CELL's sampler draws pairs without replacement with probability :math:`\propto S`,
:math:`S_{uv} = \pi_u P_{uv} + \pi_v P_{vu}`; successive sampling keeps the pairs with the
smallest keys :math:`E_{uv} / S_{uv}` (:math:`E` exponential). Inside the balls the keys are
drawn exactly. Outside, every pair is light, so the pairs below a key threshold :math:`\tau`
number :math:`\tau F` in expectation (:math:`F = \sum_u \pi_u r_u`, the outside flow): the
threshold is the smallest :math:`\tau` with :math:`\#\{\text{ball keys} < \tau\} + \tau F`
reaching the edge count, and the outside pairs are drawn as walk steps :math:`u \propto \pi_u r_u`,
:math:`v \propto e^{W_{uv}}` outside :math:`B(u)` (sampling-importance-resampling over ``C``
uniform candidates).

All of it is approximate where the exact passes are exact; ``benchmarks/results/synthesis_sampled.md``
compares the two on Cora-ML, where both run (``R = 256`` rows, ``C = 64`` candidates).
"""

from __future__ import annotations

import math

import numpy as np

from graphwgan.synthesis.balls import (
    _NEGATIVE_BLOCK_ENTRIES,
    HopBalls,
    _block_ball,
    _blocks,
    hop_balls,
    transport_gains,
)
from graphwgan.synthesis.stationary import sampled_stationary

__all__ = ["SampledWalk", "ball_probabilities", "sampled_edge_keys", "sampled_log_normalizers"]

# rows drawn for the outside distribution of the stationary law, and candidates per outside draw
_OUTSIDE_ROWS = 256
_OUTSIDE_CANDIDATES = 64
# ball logits by dense row products once the balls hold more than one node in this many (see _ball_logits)
_DENSE_BALL_SHARE = 48


def _inside_mask(local, columns, width, picks):
    """``(rows, len(picks))`` mask of the (sorted, distinct) picked columns inside each row's ball."""
    import torch

    mask = torch.zeros(width, picks.numel(), dtype=torch.bool, device=local.device)
    at = torch.searchsorted(picks, columns).clamp_(max=picks.numel() - 1)
    hit = picks[at] == columns
    mask[local[hit], at[hit]] = True
    return mask


def _ball_logits(rows, target, local, columns):
    r"""The logits :math:`W_{uv} = \langle U_u, V_v \rangle` of a block's ball entries ``(local, columns)``.

    Two ways with the same values (up to rounding): gathering both factors entry by entry, memory-bound
    at about ``2 H`` floats moved an entry, or dense products of a few rows with all of ``target``
    from which the entries are picked, compute-bound at ``H`` multiply-adds for every pair of the
    rows. The dense way wins once the balls hold more than about one node in ``_DENSE_BALL_SHARE``
    (on Coauthor-Physics, about 2,400 of 34,500 nodes, it is about six times faster, backward
    included); neither keeps an ``n``-wide block for the backward pass.
    """
    import torch

    width, n = rows.shape[0], target.shape[0]
    if local.numel() * _DENSE_BALL_SHARE < width * n:
        return rows.index_select(0, local).mul(target.index_select(0, columns)).sum(dim=1)
    step = max(1, _NEGATIVE_BLOCK_ENTRIES // n)
    bounds = torch.searchsorted(local, torch.arange(0, width + step, step, device=local.device).clamp_(max=width))
    parts = []
    for first, (lo, hi) in enumerate(zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)):
        dense = rows[first * step : (first + 1) * step] @ target.T
        # index_select, not advanced indexing: its backward sums in a fixed order (seeded fits repeat)
        parts.append(dense.reshape(-1).index_select(0, (local[lo:hi] - first * step) * n + columns[lo:hi]))
    return torch.cat(parts)


def sampled_log_normalizers(source, target, balls, picks, *, degrees=None, edges_total=None, transport=None):
    r""":math:`\hat\ell` for all rows, and (with ``degrees``) CELL's loss with gradients accumulated.

    ``picks``: the ``K`` uniform columns :math:`J`. With ``degrees`` the loss
    :math:`\frac{1}{2m}(\sum_u k_u \hat\ell_u - \sum_{uv \in A} W_{uv})` plus the transport term
    ``transport = (weight, cap, gains)`` is differentiated block by block into ``source.grad`` and
    ``target.grad``; returns ``(lse, loss)``.
    """
    import torch

    n = source.shape[0]
    scale = n / picks.numel()
    picks, counts = torch.unique(picks, return_counts=True)  # sorted; a column drawn twice counts twice
    counts = counts.to(source.dtype)
    k = picks.numel()
    lse = torch.empty(n, dtype=source.dtype, device=source.device)
    loss = 0.0
    train = degrees is not None
    for start, stop in _blocks(balls, n, k):
        local, columns, hops = _block_ball(balls, start, stop)
        width = stop - start
        with torch.set_grad_enabled(train):
            rows = source[start:stop]
            inside = _ball_logits(rows, target, local, columns)
            outside = rows @ target.index_select(0, picks).T
            outside = outside.masked_fill(_inside_mask(local, columns, width, picks), -math.inf)
            with torch.no_grad():
                top = torch.full((width,), -math.inf, dtype=rows.dtype, device=rows.device)
                top = top.scatter_reduce(0, local, inside, reduce="amax").maximum(outside.amax(dim=1))
            mass = torch.zeros(width, dtype=rows.dtype, device=rows.device).index_add(
                0, local, (inside - top[local]).exp()
            ) + (outside - top[:, None]).exp().mul(counts).sum(dim=1) * scale
            block_lse = top + mass.log()
            lse[start:stop] = block_lse.detach()
            if not train:
                continue
            weights = degrees[start:stop] / edges_total
            value = (weights * block_lse).sum() - inside[hops == 1].sum() / edges_total
            if transport is not None:
                weight, cap, gains = transport
                # index_select, not block_lse[local]: the advanced-index backward sums duplicates in a
                # thread-dependent order on the CPU, and a seeded fit must repeat bit for bit
                kept = torch.zeros(width, dtype=rows.dtype, device=rows.device).index_add(
                    0, local, (inside - block_lse.index_select(0, local)).exp() * gains[hops]
                )
                value = value + weight * (weights * (cap - kept)).sum()
            value.backward()
            loss += float(value.detach())
    return lse, loss


def ball_probabilities(source, target, balls, lse):
    r""":math:`\hat P_{uv} = e^{W_{uv} - \hat\ell_u}` on every ball entry and the rest of each row, :math:`r_u`."""
    import torch

    n = source.shape[0]
    values = torch.empty(balls.nnz, dtype=source.dtype, device=source.device)
    inside = torch.zeros(n, dtype=source.dtype, device=source.device)
    for start, stop in _blocks(balls, n, 1):
        local, columns, _ = _block_ball(balls, start, stop)
        e0, e1 = int(balls.indptr[start]), int(balls.indptr[stop])
        block = _ball_logits(source[start:stop], target, local, columns)
        values[e0:e1] = block.sub_(lse[start:stop][local]).exp_()
        inside[start:stop].index_add_(0, local, values[e0:e1])
    return values, (1.0 - inside).clamp_(min=0.0)


def _outside_rows(source, target, balls, lse, nodes):
    r"""Exact rows :math:`P_{u\cdot}` of ``nodes`` with the ball columns set to zero, as a dense block."""
    block = (source.index_select(0, nodes) @ target.T).sub_(lse.index_select(0, nodes)[:, None]).exp_()
    for index, node in enumerate(nodes.tolist()):
        e0, e1 = int(balls.indptr[node]), int(balls.indptr[node + 1])
        block[index, balls.indices[e0:e1].long()] = 0.0
    return block


def outside_distribution(source, target, balls, lse, rest, weights, generator):
    r""":math:`\bar q`: the average outside part of ``_OUTSIDE_ROWS`` rows drawn :math:`\propto` ``weights * rest``."""
    import torch

    n = source.shape[0]
    mass = (weights * rest).double()
    if float(mass.sum()) <= 0:
        return torch.full((n,), 1.0 / n, dtype=source.dtype, device=source.device)
    count = min(_OUTSIDE_ROWS, n)
    nodes = torch.multinomial(mass.cpu(), count, replacement=True, generator=generator).to(source.device)
    total = torch.zeros(n, dtype=torch.float64, device=source.device)
    for chunk in nodes.split(max(1, _NEGATIVE_BLOCK_ENTRIES // n)):
        block = _outside_rows(source, target, balls, lse, chunk).double()
        total += (block / block.sum(dim=1, keepdim=True).clamp_(min=1e-300)).sum(dim=0)
    return (total / count).to(source.dtype)


def _in_balls(balls, nodes, others):
    """Whether ``others[i]`` lies in the ball of ``nodes[i]``: a bisection in each row's sorted columns (CPU)."""
    import torch

    indptr, columns = balls.indptr, balls.indices.numpy()
    u, v = nodes.numpy(), others.numpy()
    lo, end = indptr[u].copy(), indptr[u + 1]
    hi = end.copy()
    active = lo < hi
    while active.any():  # about log2 of the largest ball
        mid = (lo + hi) // 2
        right = active & (columns[np.minimum(mid, columns.size - 1)] < v)
        lo = np.where(right, mid + 1, lo)
        hi = np.where(active & ~right, mid, hi)
        active = lo < hi
    found = (lo < end) & (columns[np.minimum(lo, columns.size - 1)] == v)
    return torch.from_numpy(found)


def _reverse_entries(balls):
    """``reverse[k]``: the index of the entry ``(v, u)`` for the ball entry ``k = (u, v)``.

    The balls are symmetric, so ``(v, u)`` sits in row ``v`` at ``indptr[v]`` plus the number of
    rows before ``u`` whose ball holds ``v``: a running count per column over the rows in order
    (a stable sort within each block of rows for the rows of the block), with no copy of the
    whole pattern beyond the int32 result.
    """
    import torch

    indptr, columns = balls.indptr, balls.indices.cpu().numpy()
    n = len(indptr) - 1
    reverse = np.empty(balls.nnz, dtype=np.int32 if balls.nnz < 2**31 else np.int64)
    cursor = indptr[:-1].copy()  # the next free slot of row v for a mirrored entry
    for start, stop in _blocks(balls, n, 1):
        e0, e1 = int(indptr[start]), int(indptr[stop])
        block = columns[e0:e1]
        order = np.argsort(block, kind="stable")  # entries of one column stay in row order
        ordered = block[order]
        first = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
        rank = np.arange(ordered.size) - np.repeat(first, np.diff(np.r_[first, ordered.size]))
        reverse[e0 + order] = cursor[ordered] + rank
        cursor += np.bincount(block, minlength=n)
    return torch.from_numpy(reverse)


def _outside_partners(source, target, balls, nodes, generator):
    r"""For each of ``nodes``, a partner ``v`` outside its ball, drawn :math:`\propto e^{W_{uv}}` by SIR.

    Returns ``(partner, valid)``; ``valid`` is false where all ``_OUTSIDE_CANDIDATES`` candidates fell
    inside the ball.
    """
    import torch

    n = source.shape[0]
    partners, valid = [], []
    for chunk in nodes.split(max(1, _NEGATIVE_BLOCK_ENTRIES // (_OUTSIDE_CANDIDATES * source.shape[1]))):
        candidates = torch.randint(n, (chunk.numel(), _OUTSIDE_CANDIDATES), generator=generator)
        logits = torch.einsum("ch,ckh->ck", source.index_select(0, chunk), target[candidates])
        inside = _in_balls(balls, chunk.repeat_interleave(_OUTSIDE_CANDIDATES), candidates.reshape(-1))
        logits.view(-1)[inside] = -math.inf  # inside the ball (the node itself included)
        gumbel = torch.empty_like(logits).exponential_(generator=generator).log_().neg_()
        choice = (logits + gumbel).argmax(dim=1, keepdim=True)
        partners.append(candidates.gather(1, choice).squeeze(1))
        valid.append(torch.isfinite(logits.gather(1, choice).squeeze(1)))
    return torch.cat(partners), torch.cat(valid)


def _block_scores(balls, values, reverse, pi, start, stop):
    r"""Local rows, columns and :math:`S_{uv} = \pi_u P_{uv} + \pi_v P_{vu}` of the ball entries of a block."""
    local, columns, _ = _block_ball(balls, start, stop)
    e0, e1 = int(balls.indptr[start]), int(balls.indptr[stop])
    forward, backward = values[e0:e1].double(), values[reverse[e0:e1].long()].double()
    scores = pi[start:stop][local].double() * forward + pi[columns].double() * backward
    scores[local + start == columns] = 0.0
    return local, columns, scores


def sampled_edge_keys(source, target, balls, lse, pi, num_edges, generator, probabilities=None):
    r"""Keys ``u * n + v`` (``u < v``, sorted) of a graph drawn as in the module docstring.

    ``probabilities``: :func:`ball_probabilities` for this ``lse`` when the caller has them already.

    Stage 1 (one neighbour per node, so none is isolated) draws from the node's ball row of
    :math:`S`, or outside the ball with the probability of the outside flow of the row. Stage 2
    takes the ball pairs with the smallest exponential keys and the outside pairs the Poisson
    threshold gives. Both run over blocks of rows; besides the balls, memory is about 8 bytes an
    entry (:math:`\hat P` and the mirrored entries) plus ``O(n + num_edges)``.
    """
    import torch

    source, target, lse, pi = source.cpu(), target.cpu(), lse.cpu(), pi.cpu()
    balls = HopBalls(balls.radius, balls.indptr, balls.indices.cpu(), balls.hops.cpu())
    n = source.shape[0]
    if probabilities is None:
        probabilities = ball_probabilities(source, target, balls, lse)
    values, rest = (part.cpu() for part in probabilities)  # float32: 4 bytes an entry, widened per block
    reverse = _reverse_entries(balls)
    outside_flow = (pi * rest).double()
    flow_total = float(outside_flow.sum())
    blocks = list(_blocks(balls, n, 1))

    # stage 1: per node, the ball row of S or (with its outside share) a partner outside the ball
    first = torch.empty(n, dtype=torch.int64)
    goes_out = torch.empty(n, dtype=torch.bool)
    for start, stop in blocks:
        local, columns, scores = _block_scores(balls, values, reverse, pi, start, stop)
        width = stop - start
        row_mass = torch.zeros(width, dtype=torch.float64).index_add_(0, local, scores)
        # the outside share: the forward flow, and about as much coming back
        uniform = torch.rand(width, generator=generator, dtype=torch.float64)
        uniform *= row_mass + 2.0 * outside_flow[start:stop]
        cumulative = torch.cumsum(scores, 0)
        offsets = torch.from_numpy(balls.indptr[start:stop] - balls.indptr[start])
        base = torch.cat([torch.zeros(1, dtype=torch.float64), cumulative])[offsets]
        pick = torch.searchsorted(cumulative, base + torch.minimum(uniform, row_mass), right=True)
        last = torch.from_numpy(balls.indptr[start + 1 : stop + 1] - balls.indptr[start]) - 1
        first[start:stop] = columns[torch.minimum(pick, last)]  # stays in the row at its round-off end
        goes_out[start:stop] = uniform >= row_mass
    nodes = torch.arange(n)
    out_nodes = torch.nonzero(goes_out | (first == nodes)).view(-1)
    if out_nodes.numel():
        partner, valid = _outside_partners(source, target, balls, out_nodes, generator)
        first[out_nodes[valid]] = partner[valid]
    keep = first != nodes
    first_keys = torch.unique(torch.minimum(nodes, first)[keep] * n + torch.maximum(nodes, first)[keep])
    remaining = num_edges - first_keys.numel()
    if remaining <= 0:
        return first_keys

    # stage 2: the `remaining` smallest exponential keys among the ball pairs u < v, block by block
    best_race = torch.empty(0, dtype=torch.float64)
    best_keys = torch.empty(0, dtype=torch.int64)
    for start, stop in blocks:
        local, columns, scores = _block_scores(balls, values, reverse, pi, start, stop)
        rows = local + start
        upper = rows < columns
        keys = rows[upper] * n + columns[upper]
        race = torch.empty(keys.numel(), dtype=torch.float64).exponential_(generator=generator)
        race.div_(scores[upper].clamp(min=1e-300))
        at = torch.searchsorted(first_keys, keys).clamp_(max=first_keys.numel() - 1)
        race[first_keys[at] == keys] = math.inf  # already drawn in stage 1
        best_race, best_keys = torch.cat([best_race, race]), torch.cat([best_keys, keys])
        if best_race.numel() > remaining:
            best_race, index = torch.topk(best_race, remaining, largest=False, sorted=False)
            best_keys = best_keys[index]
    best_race, order = torch.sort(best_race)
    best_keys = best_keys[order]
    # the Poisson threshold: the first i with (i + 1) ball pairs + tau F outside reaching `remaining`, tau = race_i
    reach = torch.arange(1, best_race.numel() + 1, dtype=torch.float64) + best_race * flow_total
    within = int(torch.searchsorted(reach, torch.tensor([float(remaining)], dtype=torch.float64)))
    within = int((best_race[:within] < math.inf).sum())
    taken = torch.cat([first_keys, best_keys[:within]])
    wanted = remaining - within
    for _ in range(8):  # outside pairs as walk steps; redraw the few that collide
        if wanted <= 0 or flow_total <= 0:
            break
        starts = torch.multinomial(outside_flow, wanted, replacement=True, generator=generator)
        partner, valid = _outside_partners(source, target, balls, starts, generator)
        lo, hi = torch.minimum(starts, partner)[valid], torch.maximum(starts, partner)[valid]
        fresh = torch.unique(lo * n + hi)
        known = torch.sort(taken).values
        at = torch.searchsorted(known, fresh).clamp_(max=known.numel() - 1)
        fresh = fresh[known[at] != fresh]
        taken = torch.cat([taken, fresh])
        wanted -= fresh.numel()
    return torch.sort(taken).values


class SampledWalk:
    """CELL's training step, stationary law and sampler in the sampled form of the module docstring.

    ``transport``: ``None`` or ``(weight, cap)`` of GraphSynthesizer's transport term, whose balls
    (radius ``ceil(cap)``) are also the stratification; without it the balls have ``radius`` hops.
    """

    def __init__(self, uv, n, degrees, *, num_negatives, radius, transport, device, budget, owner):
        import torch

        self.n = n
        self.num_negatives = num_negatives
        self.degrees = degrees
        self.edges_total = degrees.sum()
        self.balls = hop_balls(uv, n, radius, device, budget, owner)
        self.transport = None
        if transport is not None:
            weight, cap = transport
            gains = torch.from_numpy(transport_gains(cap, self.balls.radius)).to(device)
            self.transport = (weight, cap, gains)
        self.warm = degrees / self.edges_total
        self._probabilities = None  # (lse, values, rest) of the last evaluation, for its sample

    def _picks(self, count, generator, device):
        import torch

        return torch.randint(self.n, (count,), generator=generator).to(device)

    def step(self, source, target, generator):
        """Accumulate the sampled loss's gradient into ``source.grad`` / ``target.grad``; return the loss."""
        picks = self._picks(self.num_negatives, generator, source.device)
        _, loss = sampled_log_normalizers(source, target, self.balls, picks, degrees=self.degrees,
                                          edges_total=self.edges_total, transport=self.transport)
        return loss

    def evaluate(self, source, target, generator):
        """``(pi, lse, passes)`` with a fresh estimate of the log-normalisers (four times the negatives)."""
        picks = self._picks(4 * self.num_negatives, generator, source.device)
        lse, _ = sampled_log_normalizers(source, target, self.balls, picks)
        values, rest = ball_probabilities(source, target, self.balls, lse)
        outside = outside_distribution(source, target, self.balls, lse, rest, self.warm, generator)
        pi, passes = sampled_stationary(self.balls, values, rest, outside, self.warm)
        self.warm = pi
        self._probabilities = (lse, values, rest)
        return pi, lse, passes

    def sample_keys(self, source, target, lse, pi, num_edges, generator):
        """Keys of a sampled graph (:func:`sampled_edge_keys`), reusing the last evaluation's ball probabilities.

        They are reused only for the ``lse`` that evaluation returned, and dropped after this call.
        """
        last, self._probabilities = self._probabilities, None
        probabilities = last[1:] if last is not None and last[0] is lse else None
        return sampled_edge_keys(source, target, self.balls, lse, pi, num_edges, generator, probabilities)
