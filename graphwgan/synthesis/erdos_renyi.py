r"""The Erdős–Rényi :math:`G(n, m)` baseline."""

from __future__ import annotations

from typing import Any

import numpy as np

from graphwgan.synthesis.generator import GraphGenerator, _distinct_pairs

__all__ = ["ErdosRenyi"]

class ErdosRenyi(GraphGenerator):
    r"""The :math:`G(n, m)` random graph with the training graph's node and edge counts.

    A sample is ``m`` distinct node pairs drawn uniformly among the :math:`\binom{n}{2}` pairs:
    pairs are drawn at random, and self-loops and repeats are rejected, so no dense
    :math:`n \times n` matrix is built (when ``m`` exceeds a quarter of all pairs, the pairs are
    enumerated instead, which costs :math:`O(n^2) = O(m)` then).

    Parameters
    ----------
    random_state : None, int or numpy.random.Generator, default None
        Seed of the generator used by :meth:`sample` when it gets no ``seed``.

    Attributes
    ----------
    num_nodes_ : int
        Number of nodes ``n`` of the training graph.
    num_edges_ : int
        Number of undirected edges ``m`` of the training graph; every sample has exactly this many
        (or ``num_edges``).

    Examples
    --------
    >>> import networkx as nx
    >>> model = ErdosRenyi(random_state=0).fit(nx.karate_club_graph())
    >>> data = model.sample(seed=1)
    >>> data.num_nodes, data.num_edges // 2
    (34, 78)
    """

    def __init__(self, *, random_state: Any = None) -> None:
        self.random_state = random_state

    def _fit(self, uv, n, rng):
        pass

    def _sample_keys(self, rng, num_edges):
        m = self.num_edges_ if num_edges is None else num_edges
        nodes = np.arange(self.num_nodes_, dtype=np.int64)
        keys = _distinct_pairs(rng, m, nodes, None, nodes, None, self.num_nodes_, same=True)
        return keys, {}


# ----------------------------------------------------------------------------------------------
# configuration model
