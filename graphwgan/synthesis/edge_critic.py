r"""A graph-Lipschitz critic on edges, and the WGAN game it plays with the low-rank walk.

The walk generates the edge distribution :math:`Q(u, v) = \frac{k_u}{2m} P_{uv}` (a node drawn
from the training degree law, then one step of :math:`P = \mathrm{softmax}(U V^\top)`); the real
edges give :math:`R(u, v) = A_{uv} / 2m`. Between edges the ground cost is the sum metric of the
product graph, :math:`d((u, v), (u', v')) = d(u, u') + d(v, v')`, so a function :math:`F` of
node pairs is 1-Lipschitz for it exactly when

.. math::
    |F(u, v) - F(u', v)| \le 1 \quad\text{and}\quad |F(u, v) - F(u, v')| \le 1
    \qquad \text{for every graph edge } (u, u'), (v, v'),

the graph-Lipschitz condition on the Cartesian product :math:`G \,\square\, G`. Then
:math:`W_1(R, Q) \ge \mathbb{E}_R F - \mathbb{E}_Q F` (Kantorovich–Rubinstein), with equality
for the best :math:`F`; on small graphs the exact value is the library's ruler on
``networkx.cartesian_product(G, G)``.

:class:`EdgeCritic` is symmetric and bilinear in two node embeddings,
:math:`F(u, v) = a_u \cdot b_v + a_v \cdot b_u` (:math:`a, b \in \mathbb{R}^{n \times d}`), so
:math:`\mathbb{E}_Q F = \sum_u \frac{k_u}{2m} (a_u \cdot (P b)_u + b_u \cdot (P a)_u)` needs one
product :math:`P [a, b]` per pass: :math:`O(n^2 d)`, like the walk's own loss. Training keeps it
Lipschitz with a one-sided penalty on moves along graph edges (WGAN-GP's graph analogue), drawn at
real edges and at generated ones; every evaluation divides the estimate by the critic's exact edge
constant :math:`L = \max |F(u, v) - F(u', v)|` over all edges :math:`(u, u')` and nodes
:math:`v` (:math:`O(m n d)` by blocks): :math:`F / L` is 1-Lipschitz, so the logged
:math:`(\mathbb{E}_R F - \mathbb{E}_Q F) / L` is a certified lower bound on :math:`W_1(R, Q)`
whenever :math:`\mathbb{E}_Q F` is summed over all rows. A symmetric :math:`F` cannot tell
:math:`Q` from its transpose, so the bound is in fact on :math:`W_1(R, (Q + Q^\top)/2)`, the
symmetric edge law the sampler draws from (:math:`\le W_1(R, Q)` by convexity).

:func:`play_walk_game` runs the game through :class:`graphwgan.train.WGANTrainer`: each epoch
``n_critic`` critic steps, then one generator step on the walk's loss plus
``critic_weight`` :math:`\cdot (-\mathbb{E}_Q F)`. Past ``_ALL_ROWS_MAX`` nodes
:math:`\mathbb{E}_Q F` is estimated from ``_SAMPLED_ROWS`` rows drawn from the degree law each
step (and :math:`L` from as many columns), so the estimate is then no longer a certified bound.

With ``loss="js"`` the same bilinear function is a discriminator :math:`\sigma(F)` trained by
cross-entropy on real against generated edges (the original GAN, a Jensen–Shannon game), the
generator minimising :math:`-\mathbb{E}_Q \log \sigma(F)`: the baseline of the mode-coverage
comparison in ``benchmarks/results/synthesis_critic.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

__all__ = ["EdgeCritic", "edge_lipschitz_constant", "play_walk_game"]

# E_Q F over all rows up to this many nodes; beyond, over _SAMPLED_ROWS rows drawn from the degree law
_ALL_ROWS_MAX = 4096
_SAMPLED_ROWS = 1024
# penalty pairs per critic step at real edges, and at generated ones (drawn once per generator step)
_PENALTY_REAL = 2048
_PENALTY_FAKE = 1024
# entries of one block of edge differences in edge_lipschitz_constant
_BLOCK_ENTRIES = 1 << 22


class EdgeCritic(torch.nn.Module):
    r"""Symmetric bilinear edge critic :math:`F(u, v) = a_u \cdot b_v + a_v \cdot b_u`.

    Parameters
    ----------
    num_nodes : int
        :math:`n`.
    dim : int
        :math:`d`, the embedding width; with :math:`d \ge n` every symmetric :math:`F` is reachable.
    generator : torch.Generator, optional
        Draws the initial embeddings (entries of standard deviation ``0.01``).
    """

    def __init__(self, num_nodes: int, dim: int, generator: Any = None) -> None:
        super().__init__()
        self.a = torch.nn.Parameter(torch.randn(num_nodes, dim, generator=generator) * 0.01)
        self.b = torch.nn.Parameter(torch.randn(num_nodes, dim, generator=generator) * 0.01)

    def forward(self, u, v):
        """:math:`F(u_i, v_i)` for index tensors ``u``, ``v`` of one shape."""
        a_u, a_v, b_u, b_v = _take(self.a, u), _take(self.a, v), _take(self.b, u), _take(self.b, v)
        return (a_u * b_v).sum(-1) + (a_v * b_u).sum(-1)

    def rows(self, u):
        r""":math:`F(u_i, \cdot)`: an ``(len(u), n)`` tensor."""
        return torch.cat([_take(self.a, u), _take(self.b, u)], dim=1) @ torch.cat([self.b, self.a], dim=1).T

    def expectation(self, probs, rows, weights):
        r""":math:`\sum_i w_i \sum_v p_{iv} F(u_i, v)` for rows ``probs`` of :math:`P` at nodes ``rows``.

        Equal to :math:`\sum_i w_i (a_{u_i} \cdot (p b)_i + b_{u_i} \cdot (p a)_i)`: one product
        with the embeddings, :math:`O(|rows|\, n d)`.
        """
        smoothed_b, smoothed_a = probs @ self.b, probs @ self.a
        a_rows, b_rows = _take(self.a, rows), _take(self.b, rows)
        return (weights * ((a_rows * smoothed_b).sum(1) + (b_rows * smoothed_a).sum(1))).sum()


def _take(table, index):
    """Rows ``table[index]`` for an index tensor of any shape, by ``index_select``.

    Advanced indexing would do, but its backward sums repeated rows in a thread-dependent order on
    the CPU, so a seeded fit would not repeat bit for bit.
    """
    return table.index_select(0, index.reshape(-1)).view(*index.shape, table.shape[-1])


def edge_lipschitz_constant(critic, edges, columns=None):
    r"""The critic's edge constant :math:`\max_{(u, u') \in E,\, v} |F(u, v) - F(u', v)|`.

    ``edges``: ``(2, m)`` long tensor of graph edges (one direction is enough: :math:`F` is
    symmetric, so this bounds the moves in either coordinate); ``columns``: the nodes :math:`v`
    to maximise over (all when ``None``). By blocks of edges: :math:`O(m n d)` time, no
    :math:`m \times n` matrix held.
    """
    with torch.no_grad():
        a, b = critic.a.detach(), critic.b.detach()
        if columns is not None:
            right = torch.cat([b[columns], a[columns]], dim=1)
        else:
            right = torch.cat([b, a], dim=1)
        best = torch.zeros((), dtype=a.dtype, device=a.device)
        rows = max(1, _BLOCK_ENTRIES // max(right.shape[0], 1))
        for start in range(0, edges.shape[1], rows):
            u, w = edges[0, start:start + rows], edges[1, start:start + rows]
            left = torch.cat([a[u] - a[w], b[u] - b[w]], dim=1)
            best = torch.maximum(best, (left @ right.T).abs().amax())
        return float(best)


@dataclass
class _GameState:
    """The generated rows the critic steps share until the generator moves (then ``stale``)."""

    rows: Any = None
    weights: Any = None
    probs: Any = None
    fake: Any = None
    stale: bool = True


def play_walk_game(walk, source, target, *, uv, n, generator, evaluate, critic_weight, critic_dim, critic_lr,
                   n_critic, penalty, lr, max_epochs, loss="wgan", likelihood=True):
    r"""Train the walk's factors against an :class:`EdgeCritic` through :class:`graphwgan.train.WGANTrainer`.

    Parameters
    ----------
    walk : object
        The walk's passes; ``walk.step(source, target, generator)`` returns the walk's own loss and
        leaves its gradient in ``source.grad`` and ``target.grad``.
    source, target : torch.Tensor
        The factors :math:`U, V`, updated in place.
    uv : numpy.ndarray of shape (2, m)
        Training edges, ``u < v``.
    n : int
        Number of nodes.
    generator : torch.Generator
        The fit's random stream.
    evaluate : callable
        ``evaluate(epoch, estimate)`` after every epoch, ``estimate()`` giving the critic's current
        estimate of :math:`W_1(R, Q)` divided by its edge constant; returns ``True`` to stop.
    critic_weight, critic_dim, critic_lr, n_critic, penalty, lr, max_epochs
        Weight of :math:`-\mathbb{E}_Q F` in the generator's loss, embedding width, critic and
        generator learning rates, critic steps per epoch, weight of the edge penalty, epochs at most.
    loss : {"wgan", "js"}
        The Wasserstein game or the cross-entropy (Jensen-Shannon) one.
    likelihood : bool
        ``False`` drops the walk's own loss from the generator's (the adversarial game alone).

    Returns
    -------
    (EdgeCritic, graphwgan.train.TrainingHistory)
    """
    from graphwgan.train import WGANTrainer

    device = source.device
    factors = torch.nn.Module()
    factors.source = torch.nn.Parameter(source.detach().clone())
    factors.target = torch.nn.Parameter(target.detach().clone())
    critic = EdgeCritic(n, critic_dim, generator).to(device)
    edges = torch.from_numpy(np.ascontiguousarray(uv)).to(device)
    directed = torch.cat([edges, edges.flip(0)], dim=1)
    counts = torch.bincount(directed[0], minlength=n)
    law = counts.to(source.dtype) / counts.sum()
    neighbours = directed[1][torch.argsort(directed[0], stable=True)]
    indptr = torch.zeros(n + 1, dtype=torch.long, device=device)
    indptr[1:] = torch.cumsum(counts, 0)
    all_rows = n <= _ALL_ROWS_MAX
    state = _GameState()

    def draw_rows():
        if all_rows:
            return torch.arange(n, device=device), law
        picked = torch.multinomial(law, _SAMPLED_ROWS, replacement=True, generator=generator)
        return picked, torch.full((_SAMPLED_ROWS,), 1.0 / _SAMPLED_ROWS, dtype=law.dtype, device=device)

    def refresh():
        if state.stale:
            state.rows, state.weights = draw_rows()
            with torch.no_grad():
                state.probs = torch.softmax(factors.source[state.rows] @ factors.target.T, dim=1)
                # generated edges for the penalty, drawn once per generator step: a row by its weight,
                # then a step of the walk from it by inverse CDF
                slot = torch.multinomial(state.weights, _PENALTY_FAKE, replacement=True, generator=generator)
                cumulative = state.probs[slot].cumsum(dim=1)
                uniform = torch.rand(_PENALTY_FAKE, 1, generator=generator, device=device, dtype=cumulative.dtype)
                steps = torch.searchsorted(cumulative, uniform * cumulative[:, -1:]).squeeze(1).clamp_(max=n - 1)
                state.fake = (state.rows[slot], steps)
            state.stale = False

    def penalty_term():
        # one-sided penalty on moves along a graph edge, from real edges and from generated ones
        pick = torch.randint(directed.shape[1], (_PENALTY_REAL,), generator=generator, device=device)
        u = torch.cat([directed[0, pick], state.fake[0]])
        v = torch.cat([directed[1, pick], state.fake[1]])
        degree = indptr[u + 1] - indptr[u]
        offset = (torch.rand(u.shape, generator=generator, device=device) * degree).long()
        moved = neighbours[(indptr[u] + torch.minimum(offset, degree - 1)).clamp_(min=0)]
        excess = torch.relu((critic(u, v) - critic(moved, v)).abs() - 1.0).square()
        return (excess * (degree > 0)).mean()  # an isolated node has no move to penalise

    def critic_loss():
        refresh()
        if loss == "js":  # cross-entropy of sigma(F): real edges labelled 1, generated ones 0
            real = -torch.nn.functional.logsigmoid(critic(edges[0], edges[1])).mean()
            fake_rows = torch.nn.functional.logsigmoid(-critic.rows(state.rows))
            value = real - (state.weights[:, None] * state.probs * fake_rows).sum()
        else:
            value = critic.expectation(state.probs, state.rows, state.weights) - critic(edges[0], edges[1]).mean()
        return value + penalty * penalty_term() if penalty else value

    def generator_loss():
        total = torch.zeros((), dtype=source.dtype, device=device)
        if likelihood:
            factors.source.grad = factors.target.grad = None
            value = walk.step(factors.source, factors.target, generator)
            grads = factors.source.grad, factors.target.grad
            factors.source.grad = factors.target.grad = None
            total = _PresetGradient.apply(factors.source, factors.target, value, *grads)
        rows, weights = draw_rows()
        adversarial = _RowGame.apply(factors.source, factors.target, rows, weights, critic.rows(rows).detach(),
                                     loss == "js")
        state.stale = True
        return total + critic_weight * adversarial

    def estimate():
        refresh()
        with torch.no_grad():
            gap = float(critic(edges[0], edges[1]).mean() - critic.expectation(state.probs, state.rows,
                                                                                  state.weights))
        columns = None if all_rows else torch.randint(n, (_SAMPLED_ROWS,), generator=generator, device=device)
        constant = edge_lipschitz_constant(critic, edges, columns)
        return gap / constant if constant > 0 else 0.0  # F / L is 1-Lipschitz: a lower bound on W1

    def callback(step, _):
        with torch.no_grad():
            source.copy_(factors.source)
            target.copy_(factors.target)
        return bool(evaluate(step, estimate))

    trainer = WGANTrainer(critic, factors, preset="wgan-gp", optimizer="adam", critic_lr=critic_lr,
                          generator_lr=lr, generator_betas=(0.9, 0.999), n_critic=n_critic, clip_value=None,
                          max_steps=max_epochs, verbose=False)
    history = trainer.fit(critic_loss, generator_loss, callback=callback)
    return critic, history


class _PresetGradient(torch.autograd.Function):
    """A loss value whose gradient the walk's passes computed already (they do not run through autograd)."""

    @staticmethod
    def forward(ctx, source, target, value, grad_source, grad_target):
        ctx.grads = (grad_source, grad_target)
        return torch.tensor(float(value), dtype=source.dtype, device=source.device)

    @staticmethod
    def backward(ctx, grad_output):
        grad_source, grad_target = ctx.grads
        return grad_source * grad_output, grad_target * grad_output, None, None, None


class _RowGame(torch.autograd.Function):
    r"""The generator's adversarial loss :math:`-\sum_i w_i \sum_v P_{u_i v} g(F_{u_i v})`, gradient in closed form.

    :math:`g(F) = F` (Wasserstein) or :math:`\log\sigma(F)` (``js``: the non-saturating GAN loss).
    With :math:`\bar g_i = \sum_v P_{u_i v} g_{iv}`, the gradient on the logits is
    :math:`-w_i P_{u_i v} (g_{iv} - \bar g_i)`, turned into :math:`U` and :math:`V` gradients by two
    products: no autograd graph over the ``(rows, n)`` block.
    """

    @staticmethod
    def forward(ctx, source, target, rows, weights, scores, js):
        gain = torch.nn.functional.logsigmoid(scores) if js else scores
        probs = torch.softmax(source[rows] @ target.T, dim=1)
        mean = (probs * gain).sum(dim=1, keepdim=True)
        value = -(weights * mean.squeeze(1)).sum()
        grad = probs.mul_(gain.sub_(mean)).mul_(-weights[:, None])  # d value / d logits, in place
        grad_source = torch.zeros_like(source).index_add_(0, rows, grad @ target)
        ctx.grads = (grad_source, grad.T @ source[rows])
        return value

    @staticmethod
    def backward(ctx, grad_output):
        grad_source, grad_target = ctx.grads
        return grad_source * grad_output, grad_target * grad_output, None, None, None, None
