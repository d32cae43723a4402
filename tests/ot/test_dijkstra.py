"""Tests for graphwgan.ot._dijkstra: bounded searches from many sources.

Oracle: ``scipy.sparse.csgraph.dijkstra`` with the same ``limit`` (an independent implementation).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from graphwgan.ot._dijkstra import bounded_distances


def _weighted(graph: nx.Graph, seed: int) -> sp.csr_array:
    edges = np.array(graph.edges, dtype=np.int64).reshape(-1, 2)
    lengths = np.random.default_rng(seed).uniform(0.5, 2.0, len(edges))
    n = graph.number_of_nodes()
    return sp.csr_array((np.r_[lengths, lengths], (np.r_[edges[:, 0], edges[:, 1]], np.r_[edges[:, 1], edges[:, 0]])),
                        shape=(n, n))


@pytest.mark.parametrize("limit", [0.0, 1.3, 4.0, np.inf])
@pytest.mark.parametrize("threads", [1, 2])
def test_equals_scipy_within_the_limit(limit, threads):
    # two components and an isolated node: what lies beyond the limit or elsewhere stays inf
    graph = nx.disjoint_union(nx.barabasi_albert_graph(120, 3, seed=1), nx.cycle_graph(9))
    graph.add_node(129)
    adjacency = _weighted(graph, seed=2)
    sources = np.array([0, 5, 77, 119, 120, 125, 129, 5])  # a repeated source gets its own row
    expected = dijkstra(adjacency, directed=False, indices=sources, limit=limit)
    rows = np.full((sources.size, 130), np.inf)
    with ThreadPoolExecutor(threads) as pool:
        bounded_distances(adjacency.indptr, adjacency.indices, adjacency.data, sources, limit, rows,
                          pool if threads > 1 else None, threads)
    np.testing.assert_array_equal(np.isinf(rows), np.isinf(expected))
    np.testing.assert_allclose(rows[np.isfinite(rows)], expected[np.isfinite(expected)], rtol=1e-15, atol=0)


def test_no_sources_and_inputs_unchanged():
    adjacency = _weighted(nx.path_graph(6), seed=0)
    copies = [a.copy() for a in (adjacency.indptr, adjacency.indices, adjacency.data)]
    rows = np.full((0, 6), np.inf)
    bounded_distances(adjacency.indptr, adjacency.indices, adjacency.data, np.zeros(0, dtype=np.int64), 3.0, rows)
    assert rows.shape == (0, 6)
    rows = np.full((1, 6), np.inf)
    bounded_distances(adjacency.indptr, adjacency.indices, adjacency.data, np.array([2]), 3.0, rows)
    for before, after in zip(copies, (adjacency.indptr, adjacency.indices, adjacency.data), strict=True):
        np.testing.assert_array_equal(before, after)
