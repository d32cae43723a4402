r"""Network synthesis: learn a graph and generate new ones like it.

:class:`GraphSynthesizer` generates edges from a low-rank random-walk model (CELL's
:math:`P = \mathrm{softmax}(U V^\top)`, Rendsburg et al. 2020) and adds what the shortest-path
ground cost says about a miss: a generated edge that lands near a real neighbour costs less than
one that lands far away. For each node :math:`u`, moving the generated transition row
:math:`P_{u\cdot}` onto the real neighbourhood :math:`N(u)` costs at least

.. math::
    T_u(P) = \sum_v P_{uv}\, d(v, N(u)) = \sum_{v \ne u} P_{uv}\, (d(u, v) - 1) + P_{uu},

the transport cost to the nearest real neighbour (the capacity-free relaxation of the
Wasserstein-1 distance :math:`W_1(P_{u\cdot}, \mathrm{Unif}\,N(u))` under the hop metric:
:math:`d(v, N(u)) = d(u, v) - 1` because every path into :math:`u` ends with a neighbour). The
model minimises

.. math::
    \mathcal{L} = \mathrm{CE}(A, P) + \lambda \sum_u \pi_u \min\!\big(T_u(P), c\big),

with the distances capped at ``transport_cap`` hops. The cross-entropy alone treats every miss the
same; the transport term moves the mass that does not land on a real neighbour onto nodes two hops
away, which closes triangles and squares. On Cora-ML at edge overlap 0.52 this roughly doubles the
triangle count of CELL and halves the mean relative error of the graph statistics
(``benchmarks/results/synthesis.md``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from graphwgan.baselines import CELL, _check_real

__all__ = ["GraphSynthesizer"]


class GraphSynthesizer(CELL):
    r"""Generate graphs like a training graph, scoring edges with a transport-aware random-walk model.

    The edge model is CELL's low-rank random walk trained with the shortest-path transport term of
    the module docstring.

    Follows the scikit-learn estimator contract: ``fit(graph)`` returns ``self``; ``sample(seed=...)``
    returns a new graph on the same nodes as a PyG ``Data``; :meth:`to_networkx` returns it as a
    ``networkx.Graph``; ``score_pairs(pairs)`` scores node pairs for link prediction. Like CELL,
    the model holds dense :math:`n \times n` float32 matrices (about :math:`20 n^2` bytes at the
    peak with the distance matrix), so graphs above ``max_nodes`` nodes are refused.

    Parameters
    ----------
    rank : int, default 9
        Rank of the logit matrix.
    lr : float, default 0.1
        Adam learning rate.
    transport_weight : float, default 1.0
        :math:`\lambda`; ``0`` gives CELL exactly.
    transport_cap : float, default 3.0
        Distances (in hops beyond a real neighbour) are capped here: a miss by three hops or more
        costs the same.
    max_epochs, eo_target, eval_every, max_nodes, random_state, device
        As in :class:`graphwgan.baselines.CELL` (``eval_every`` defaults to 5 here: the transport
        term makes the overlap rise faster).

    Examples
    --------
    >>> import networkx as nx
    >>> graph = nx.powerlaw_cluster_graph(200, 3, 0.5, seed=0)
    >>> model = GraphSynthesizer(eo_target=0.5, random_state=0).fit(graph)
    >>> model.sample(seed=0).num_nodes
    200
    """

    def __init__(
        self,
        *,
        rank: int = 9,
        lr: float = 0.1,
        transport_weight: float = 1.0,
        transport_cap: float = 3.0,
        max_epochs: int = 1000,
        eo_target: float = 0.52,
        eval_every: int = 5,
        max_nodes: int = 20_000,
        random_state: Any = None,
        device: Any = "cpu",
    ) -> None:
        super().__init__(rank=rank, lr=lr, max_epochs=max_epochs, eo_target=eo_target, eval_every=eval_every,
                         max_nodes=max_nodes, random_state=random_state, device=device)
        self.transport_weight = transport_weight
        self.transport_cap = transport_cap

    def _check_params(self):
        super()._check_params()
        _check_real(self.transport_weight, "transport_weight", "GraphSynthesizer", low=0.0)
        _check_real(self.transport_cap, "transport_cap", "GraphSynthesizer", low=1.0)

    def _extra_loss(self, uv, n, device):
        if self.transport_weight == 0:
            return None
        import scipy.sparse as sp
        import torch
        from scipy.sparse.csgraph import shortest_path

        adjacency = sp.csr_array((np.ones(2 * uv.shape[1]), (np.r_[uv[0], uv[1]], np.r_[uv[1], uv[0]])),
                                 shape=(n, n))
        # hops beyond the nearest real neighbour: d(v, N(u)) = d(u, v) - 1; a self-loop misses by one
        hops = shortest_path(adjacency, unweighted=True, directed=False)
        miss = np.minimum(hops - 1.0, self.transport_cap)
        np.fill_diagonal(miss, min(1.0, self.transport_cap))
        cost = torch.as_tensor(miss, dtype=torch.float32, device=device)
        degrees = torch.as_tensor(np.bincount(np.r_[uv[0], uv[1]], minlength=n), dtype=torch.float32,
                                  device=device)
        weight = (self.transport_weight * degrees / degrees.sum())[:, None]

        def transport(source, target):
            transition = torch.softmax(source @ target.T, dim=1)
            return (weight * transition * cost).sum()

        return transport

    def to_networkx(self, seed: Any = None):
        """A sampled graph as a ``networkx.Graph`` (nodes ``0..n-1``)."""
        import networkx as nx

        data = self.sample(seed=seed)
        graph = nx.Graph()
        graph.add_nodes_from(range(int(data.num_nodes)))
        row, col = data.edge_index.numpy()
        graph.add_edges_from(zip(row[row < col].tolist(), col[row < col].tolist(), strict=True))
        return graph
