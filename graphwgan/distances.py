r"""The shortest-path ground cost of a graph, computed lazily and sparsely.

For an undirected graph with positive edge lengths :math:`w`, the ground cost is

.. math:: d(u, v) = \min_{\text{paths } u = v_0, \dots, v_k = v} \sum_{i} w(v_{i-1}, v_i),

with :math:`d(u, v) = \infty` between connected components. Distances are computed by Dijkstra
from the sources that are asked for, in chunks that bound memory; the dense
:math:`|V| \times |V|` matrix is built only on request and only for small graphs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["ShortestPathMetric", "shortest_path_lengths", "pair_distances", "distance_matrix"]

#: Largest graph for which :func:`distance_matrix` builds the dense matrix by default
#: (10,000 nodes is 800 MB of float64).
DENSE_MAX_NODES = 10_000

# float64 entries held at once while answering pair queries (80 MB)
_CHUNK_ENTRIES = 10_000_000


class ShortestPathMetric:
    """Shortest-path distances on one graph, with its sparse adjacency built once.

    Parameters
    ----------
    graph : Data, networkx.Graph, scipy sparse matrix, edge_index or path
        Anything :func:`graphwgan.to_graph` accepts; edge weights are lengths.

    Examples
    --------
    >>> import networkx as nx
    >>> metric = ShortestPathMetric(nx.path_graph(5))
    >>> metric.from_sources([0]).tolist()
    [[0.0, 1.0, 2.0, 3.0, 4.0]]
    >>> metric.between([(0, 4), (1, 3)]).tolist()
    [4.0, 2.0]
    """

    def __init__(self, graph: Any) -> None:
        import scipy.sparse as sp

        from graphwgan.graph import to_graph, undirected_edges

        data = to_graph(graph, keep_attributes=False)
        edge_index, weight = undirected_edges(data)
        u, v = np.asarray(edge_index, dtype=np.int64)
        self.num_nodes = int(data.num_nodes)
        # one triangle is enough for an undirected search
        self.adjacency = sp.csr_array((np.asarray(weight, dtype=np.float64), (u, v)),
                                      shape=(self.num_nodes, self.num_nodes))

    def _check_nodes(self, nodes: Any, name: str) -> np.ndarray:
        array = np.asarray(nodes)
        if array.size and not np.issubdtype(array.dtype, np.integer):
            raise TypeError(f"{name} must hold integer node ids, got dtype {array.dtype}")
        array = array.astype(np.int64, copy=False)
        bad = (array < 0) | (array >= self.num_nodes)
        if bad.any():
            raise ValueError(
                f"{name} holds node id {int(array[bad][0])}, outside 0..{self.num_nodes - 1}"
            )
        return array

    def from_sources(self, sources: Any, *, limit: float = np.inf) -> np.ndarray:
        """Distances from each source to every node, shape ``(len(sources), n)``.

        ``limit`` stops each search at that distance (farther nodes read ``inf``), which keeps
        local queries cheap on large graphs.
        """
        from scipy.sparse.csgraph import dijkstra

        sources = self._check_nodes(np.atleast_1d(sources), "sources")
        if sources.ndim != 1:
            raise ValueError(f"sources must be a 1-D list of node ids, got shape {sources.shape}")
        if sources.size == 0:
            return np.zeros((0, self.num_nodes))
        return np.atleast_2d(dijkstra(self.adjacency, directed=False, indices=sources, limit=limit))

    def between(self, pairs: Any) -> np.ndarray:
        """Distances ``d(u, v)`` for an array of node pairs of shape ``(p, 2)``.

        Runs one search per distinct first node, a chunk of sources at a time, so memory stays
        near ``_CHUNK_ENTRIES`` floats whatever the number of pairs.
        """
        pairs = self._check_nodes(pairs, "pairs")
        if pairs.ndim != 2 or pairs.shape[1] != 2:
            raise ValueError(f"pairs must have shape (p, 2), got {pairs.shape}")
        out = np.empty(pairs.shape[0])
        sources, inverse = np.unique(pairs[:, 0], return_inverse=True)
        chunk = max(1, _CHUNK_ENTRIES // max(self.num_nodes, 1))
        for start in range(0, sources.size, chunk):
            block = self.from_sources(sources[start:start + chunk])
            rows = np.flatnonzero((inverse >= start) & (inverse < start + chunk))
            out[rows] = block[inverse[rows] - start, pairs[rows, 1]]
        return out

    def dense(self, *, max_nodes: int = DENSE_MAX_NODES) -> np.ndarray:
        """The full ``(n, n)`` distance matrix; refused above ``max_nodes`` nodes."""
        if self.num_nodes > max_nodes:
            gib = self.num_nodes**2 * 8 / 2**30
            raise ValueError(
                f"the dense distance matrix of {self.num_nodes} nodes needs {gib:.1f} GiB; it is built "
                f"only up to max_nodes={max_nodes}. Use from_sources or between for sparse queries, "
                "or raise max_nodes explicitly"
            )
        return self.from_sources(np.arange(self.num_nodes))


def shortest_path_lengths(graph: Any, sources: Any, *, limit: float = np.inf) -> np.ndarray:
    """Shortest-path distances from ``sources`` to every node, shape ``(len(sources), n)``."""
    return ShortestPathMetric(graph).from_sources(sources, limit=limit)


def pair_distances(graph: Any, pairs: Any) -> np.ndarray:
    """Shortest-path distances between the node pairs of an array of shape ``(p, 2)``."""
    return ShortestPathMetric(graph).between(pairs)


def distance_matrix(graph: Any, *, max_nodes: int = DENSE_MAX_NODES) -> np.ndarray:
    """The dense shortest-path matrix, only for graphs of at most ``max_nodes`` nodes."""
    return ShortestPathMetric(graph).dense(max_nodes=max_nodes)
