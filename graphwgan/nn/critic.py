r"""GNN critics: networks that output one potential per node.

A critic :math:`f_\theta` is a valid Kantorovich potential for the shortest-path ground cost when

.. math:: |f_\theta(u) - f_\theta(v)| \le w(u, v) \quad \text{for every edge } (u, v),

and message passing does not give that by construction (one GCN step can multiply the edge
constant of its input by 20; sum aggregation by hundreds). The critics here are therefore plain
GNNs; the constraint is enforced by training (:func:`graphwgan.lipschitz.edge_lipschitz_penalty`,
the c-transform objective) and checked or repaired exactly afterwards
(:func:`graphwgan.lipschitz.certify`).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["BACKBONES", "NodeCritic", "SetCritic"]

BACKBONES = ("gcn", "sage", "gin", "gat")


def _make_conv(backbone: str, channels: int, heads: int) -> nn.Module:
    from torch_geometric import nn as gnn

    if backbone == "gcn":
        return gnn.GCNConv(channels, channels)
    if backbone == "sage":
        return gnn.SAGEConv(channels, channels, aggr="mean")
    if backbone == "gin":
        mlp = nn.Sequential(nn.Linear(channels, channels), nn.LeakyReLU(0.2), nn.Linear(channels, channels))
        return gnn.GINConv(mlp, train_eps=True)
    if backbone == "gat":
        return gnn.GATConv(channels, channels // heads, heads=heads)
    raise ValueError(f"backbone must be one of {BACKBONES}, got {backbone!r}")


class NodeCritic(nn.Module):
    r"""A graph neural network with one scalar output per node.

    .. math::

        h^{(0)} = W_{in} [x_v \,\|\, e_v], \quad
        h^{(l)} = h^{(l-1)} + \sigma\big(\mathrm{conv}_l(h^{(l-1)}, A)\big), \quad
        f(v) = w_{out}^\top h^{(L)}_v

    with :math:`\sigma` a LeakyReLU (its non-zero slope keeps the Lipschitz penalty's gradient
    alive where ReLU would cut it), :math:`e_v` an optional learned embedding per node, and
    residual connections (``residual=True``).

    Parameters
    ----------
    in_channels : int
        Size of the input node features ``x`` (0 for none: then ``num_nodes`` and
        ``embedding_dim`` must give learned embeddings).
    hidden_channels : int
        Width of every hidden layer.
    num_layers : int
        Number of message-passing layers.
    backbone : str
        ``"gcn"``, ``"sage"`` (mean aggregation), ``"gin"`` or ``"gat"``.
    num_nodes, embedding_dim : int, optional
        A learned embedding table of shape ``(num_nodes, embedding_dim)`` concatenated to ``x``.
        It ties the critic to one graph; leave it out for an inductive critic.
    negative_slope : float
        Slope of the LeakyReLU for negative inputs.
    residual : bool
        Add each layer's input to its output.
    heads : int
        Attention heads for ``"gat"`` (``hidden_channels`` must be divisible by it).

    Shapes
    ------
    - input: ``x`` ``(n, in_channels)`` or ``None``, ``edge_index`` ``(2, m)``,
      ``edge_weight`` ``(m,)`` lengths (optional; GCN uses ``1 / length`` as the edge strength)
    - output: ``(n,)``
    """

    def __init__(self, in_channels: int, hidden_channels: int = 64, num_layers: int = 3, *,
                 backbone: str = "sage", num_nodes: int | None = None, embedding_dim: int = 0,
                 negative_slope: float = 0.2, residual: bool = True, heads: int = 4) -> None:
        super().__init__()
        if backbone not in BACKBONES:
            raise ValueError(f"backbone must be one of {BACKBONES}, got {backbone!r}")
        if in_channels < 0 or embedding_dim < 0 or hidden_channels < 1 or num_layers < 0:
            raise ValueError("in_channels and embedding_dim must be >= 0, hidden_channels >= 1, num_layers >= 0")
        if embedding_dim and not num_nodes:
            raise ValueError("a learned embedding needs num_nodes (the size of the graph it belongs to)")
        if in_channels + embedding_dim == 0:
            raise ValueError("the critic needs an input: in_channels > 0 (features) or embedding_dim > 0")
        if backbone == "gat" and hidden_channels % heads:
            raise ValueError(f"hidden_channels={hidden_channels} must be divisible by heads={heads} for GAT")
        self.in_channels = in_channels
        self.backbone = backbone
        self.residual = residual
        self.embedding = nn.Embedding(num_nodes, embedding_dim) if embedding_dim else None
        self.input = nn.Linear(in_channels + embedding_dim, hidden_channels)
        self.convs = nn.ModuleList(_make_conv(backbone, hidden_channels, heads) for _ in range(num_layers))
        self.act = nn.LeakyReLU(negative_slope)
        self.output = nn.Linear(hidden_channels, 1)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise every parameter."""
        if self.embedding is not None:
            nn.init.normal_(self.embedding.weight, std=0.1)
        self.input.reset_parameters()
        for conv in self.convs:
            conv.reset_parameters()
        self.output.reset_parameters()

    def forward(self, x: Tensor | None, edge_index: Tensor, edge_weight: Tensor | None = None,
                node_ids: Tensor | None = None) -> Tensor:
        """Potential of every node, shape ``(n,)``.

        ``node_ids`` (critics with a learned embedding): the graph is the subgraph of these nodes, whose
        embedding rows are read instead of the whole table (mini-batch training).
        """
        return self.output(self.hidden(x, edge_index, edge_weight, node_ids)).squeeze(-1)

    def hidden(self, x: Tensor | None, edge_index: Tensor, edge_weight: Tensor | None = None,
               node_ids: Tensor | None = None) -> Tensor:
        """The last hidden layer :math:`h^{(L)}`, shape ``(n, hidden_channels)`` (``forward`` without the output)."""
        parts = []
        if self.in_channels:
            if x is None:
                raise ValueError(f"this critic was built for {self.in_channels} input features, got x=None")
            if x.dim() != 2 or x.shape[1] != self.in_channels:
                raise ValueError(
                    f"this critic was built for {self.in_channels} input features, got x of shape {tuple(x.shape)}"
                )
            if not torch.isfinite(x).all():
                raise ValueError("node features x hold NaN or infinite values")
            parts.append(x)
        if self.embedding is not None:
            covered = self.embedding.num_embeddings if node_ids is None else node_ids.numel()
            n = parts[0].shape[0] if parts else covered
            if n != covered:
                raise ValueError(
                    f"this critic's learned embedding covers {covered} nodes, the input has {n}"
                )
            parts.append(self.embedding.weight if node_ids is None else self.embedding(node_ids))
        n = parts[0].shape[0]
        if edge_index.numel() and int(edge_index.max()) >= n:
            raise ValueError(
                f"edge_index refers to node {int(edge_index.max())}, but the critic's input covers {n} nodes"
            )
        h = self.input(torch.cat(parts, dim=1) if len(parts) > 1 else parts[0])
        strength = None
        if edge_weight is not None and self.backbone == "gcn":
            strength = 1.0 / edge_weight.to(h.dtype)
        for conv in self.convs:
            out = conv(h, edge_index, strength) if self.backbone == "gcn" else conv(h, edge_index)
            out = self.act(out)
            h = h + out if self.residual else out
        return h

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(backbone={self.backbone!r}, in_channels={self.in_channels}, "
                f"layers={len(self.convs)}, embedding={self.embedding is not None})")


class SetCritic(nn.Module):
    r"""A critic over sets or sequences of nodes (walks, edges, neighbourhoods), from node potentials.

    .. math:: F(s) = \sum_{t} f(s_t)

    If :math:`f` is 1-Lipschitz in the graph metric, :math:`F` is 1-Lipschitz for the position-wise
    ground cost :math:`c(s, s') = \sum_t d(s_t, s'_t)` between two sequences of the same length, so
    the WGAN duality carries over from nodes to walks and edges.

    Parameters
    ----------
    node_critic : NodeCritic
        The node potential.

    Shapes
    ------
    - input: node inputs as for :class:`NodeCritic`, ``sets`` ``(B, T)`` node ids,
      ``mask`` ``(B, T)`` bool (optional, False entries are ignored)
    - output: ``(B,)``
    """

    def __init__(self, node_critic: NodeCritic) -> None:
        super().__init__()
        self.node_critic = node_critic

    def forward(self, x: Tensor | None, edge_index: Tensor, sets: Tensor, edge_weight: Tensor | None = None,
                mask: Tensor | None = None) -> Tensor:
        """Score of every set, shape ``(B,)``."""
        if sets.dim() != 2:
            raise ValueError(f"sets must have shape (B, T), got {tuple(sets.shape)}")
        potential = self.node_critic(x, edge_index, edge_weight)
        if sets.numel() and (sets.min() < 0 or sets.max() >= potential.shape[0]):
            raise ValueError(f"sets hold node ids outside 0..{potential.shape[0] - 1}")
        # index_select: its backward sums repeated nodes in a fixed order (advanced indexing's does not)
        values = potential.index_select(0, sets.reshape(-1)).view(sets.shape)
        if mask is not None:
            values = values * mask.to(values.dtype)
        return values.sum(dim=1)
