r"""Computation subgraphs for mini-batch training of GNN critics, in pure torch.

An :math:`L`-layer message-passing network computes the output of a node :math:`v` from its
:math:`L`-hop neighbourhood only. :class:`NeighborhoodSampler` extracts, for a set of seed nodes
:math:`S`, the nodes within ``num_hops`` hops,

.. math:: N_k(S) = \{u : d_{hop}(u, S) \le k\}, \qquad k = 0, \dots, \text{num\_hops},

and every edge that *ends* at a node of :math:`N_{\text{num\_hops} - 1}(S)` (the "inner" nodes).
Each inner node therefore receives messages from all of its neighbours, exactly as in the full
graph, so a network run on the subgraph gives the seeds exactly the outputs it gives them on the
whole graph (up to float summation order) when ``num_hops`` is at least its number of layers
(mean, sum and attention aggregation), or the number of layers plus one for GCN, whose edge
normalisation also reads the degree of the sending node.

With ``fanout=k`` each node keeps at most ``k`` incoming edges drawn uniformly with replacement
(GraphSAGE-style neighbour sampling): the cost per batch no longer depends on hub degrees, but the
seeds' outputs are then approximations.

The cost of one batch is the number of edges gathered, :math:`\sum_{u \in N_{L-1}(S)} \deg(u)`;
nothing of size :math:`|E|` is touched after construction (one ``(n,)`` scratch index is reused).
PyTorch Geometric's ``NeighborLoader`` does the same with pyg-lib or torch-sparse, which have no
wheels for every platform; this sampler needs neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["NeighborhoodSampler", "Subgraph"]


@dataclass
class Subgraph:
    """A computation subgraph.

    Attributes
    ----------
    node_ids : Tensor, shape ``(k,)``
        Global ids of the subgraph's nodes; the unique seeds come first, in increasing order.
    edge_index : Tensor, shape ``(2, m)``
        Edges in local ids (positions in ``node_ids``).
    edge_weight : Tensor, shape ``(m,)`` or None
        Their weights (lengths).
    seed_index : Tensor
        For every seed passed to :meth:`NeighborhoodSampler.sample`, in order, its local id.
    num_seeds : int
        Number of unique seeds (``node_ids[:num_seeds]``).
    """

    node_ids: Any
    edge_index: Any
    edge_weight: Any
    seed_index: Any
    num_seeds: int


class NeighborhoodSampler:
    r"""Exact (or fanout-limited) ``num_hops``-hop computation subgraphs around seed nodes.

    Parameters
    ----------
    edge_index : Tensor, shape ``(2, m)``
        Directed edges ``source -> target`` (give both directions for an undirected graph).
    num_nodes : int
        Number of nodes.
    num_hops : int
        Hops to expand; at least the number of message-passing layers (one more for GCN).
    edge_weight : Tensor, shape ``(m,)``, optional
        Carried along with the edges.
    fanout : int, optional
        Keep at most this many incoming edges per inner node (sampled with replacement);
        ``None`` keeps all of them (exact outputs on the seeds).

    Examples
    --------
    >>> import torch
    >>> from graphwgan.sampling import NeighborhoodSampler
    >>> path = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])
    >>> sub = NeighborhoodSampler(path, 4, num_hops=1).sample(torch.tensor([0]))
    >>> sub.node_ids.tolist(), sub.edge_index.shape[1]
    ([0, 1], 1)
    """

    def __init__(self, edge_index: Any, num_nodes: int, *, num_hops: int, edge_weight: Any = None,
                 fanout: int | None = None) -> None:
        import torch

        if not isinstance(num_hops, int) or num_hops < 0:
            raise ValueError(f"num_hops must be a non-negative integer, got {num_hops!r}")
        if fanout is not None and (not isinstance(fanout, int) or fanout < 1):
            raise ValueError(f"fanout must be a positive integer or None (all neighbours), got {fanout!r}")
        if not torch.is_tensor(edge_index) or edge_index.dim() != 2 or edge_index.shape[0] != 2:
            raise ValueError(f"edge_index must be a (2, m) tensor, got {getattr(edge_index, 'shape', edge_index)}")
        device = edge_index.device
        target = edge_index[1]
        order = torch.argsort(target, stable=True)
        self.num_nodes = int(num_nodes)
        self.num_hops = num_hops
        self.fanout = fanout
        self.source = edge_index[0, order]
        self.weight = None if edge_weight is None else edge_weight[order]
        degree = torch.bincount(target, minlength=self.num_nodes)
        self.degree = degree
        self.rowptr = torch.zeros(self.num_nodes + 1, dtype=torch.long, device=device)
        self.rowptr[1:] = torch.cumsum(degree, 0)
        # global id -> local id scratch space, reset after every sample
        self._local = torch.full((self.num_nodes,), -1, dtype=torch.long, device=device)

    def _incoming(self, nodes, generator):
        """Positions (in the target-sorted edge list) of the edges into ``nodes``, and their targets."""
        import torch

        counts = self.degree[nodes]
        starts = self.rowptr[nodes]
        keep = counts if self.fanout is None else torch.clamp(counts, max=self.fanout)
        owner = torch.repeat_interleave(torch.arange(len(nodes), device=nodes.device), keep)
        offset = torch.arange(len(owner), device=nodes.device) - torch.repeat_interleave(torch.cumsum(keep, 0) - keep,
                                                                                         keep)
        if self.fanout is not None:
            # nodes with few neighbours keep all of them, the others draw `fanout` with replacement
            draw = torch.rand(len(owner), generator=generator,
                              device=generator.device if generator is not None else nodes.device).to(nodes.device)
            offset = torch.where(counts[owner] <= self.fanout, offset,
                                 (draw * counts[owner]).long().clamp(max=counts[owner] - 1))
        return starts[owner] + offset, nodes[owner]

    def sample(self, seeds: Any, generator: Any = None) -> Subgraph:
        """The computation subgraph of ``seeds`` (a 1-D long tensor of node ids, repeats allowed)."""
        import torch

        seeds = torch.as_tensor(seeds, dtype=torch.long, device=self.rowptr.device)
        if seeds.dim() != 1 or seeds.numel() == 0:
            raise ValueError(f"seeds must be a non-empty 1-D tensor of node ids, got shape {tuple(seeds.shape)}")
        if int(seeds.min()) < 0 or int(seeds.max()) >= self.num_nodes:
            raise ValueError(f"seeds hold node ids outside 0..{self.num_nodes - 1}")
        unique, seed_index = torch.unique(seeds, return_inverse=True)
        local = self._local
        layers = [unique]
        local[unique] = torch.arange(len(unique), device=unique.device)
        count = len(unique)
        frontier = unique
        positions, targets = [], []
        try:
            for _ in range(self.num_hops):
                edge_pos, into = self._incoming(frontier, generator)
                positions.append(edge_pos)
                targets.append(into)
                neighbours = self.source[edge_pos]
                new = torch.unique(neighbours[local[neighbours] < 0])
                local[new] = torch.arange(count, count + len(new), device=new.device)
                count += len(new)
                layers.append(new)
                frontier = new
            node_ids = torch.cat(layers)
            if positions:
                edge_pos = torch.cat(positions)
                edge_index = torch.stack([local[self.source[edge_pos]], local[torch.cat(targets)]])
                edge_weight = None if self.weight is None else self.weight[edge_pos]
            else:
                edge_index = torch.zeros((2, 0), dtype=torch.long, device=node_ids.device)
                edge_weight = None if self.weight is None else self.weight[:0]
        finally:
            local[torch.cat(layers)] = -1
        return Subgraph(node_ids, edge_index, edge_weight, seed_index, len(unique))
