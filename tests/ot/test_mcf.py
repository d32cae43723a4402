"""Tests for graphwgan.ot.mcf: the engines agree, the dispatch follows the problem's shape.

Oracle: ``ot.emd2`` on the dense shortest-path matrix (test-only), and the two engines against
each other on problems too large for the dense oracle.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import ot
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from graphwgan import GraphTransport, to_graph, wasserstein, wasserstein_batch
from graphwgan.graph import undirected_edges
from graphwgan.ot import mcf

pytest.importorskip("pylmcf.pylmcf_cpp", reason="the optional cost-scaling engine (pip install pylmcf) is absent")


def _dense(graph, mu, nu):
    uv, w = undirected_edges(to_graph(graph))
    n = graph.number_of_nodes()
    matrix = sp.csr_array((np.r_[w, w], (np.r_[uv[0], uv[1]], np.r_[uv[1], uv[0]])), shape=(n, n))
    return ot.emd2(mu, nu, dijkstra(matrix, directed=False))


@pytest.mark.parametrize("lengths", ["unit", "integer", "halves"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cost_scaling_equals_dense_oracle_and_network_simplex(lengths, seed):
    rng = np.random.default_rng(seed)
    graph = nx.barabasi_albert_graph(120, 3, seed=seed)
    graph.add_edges_from([(0, 500), (500, 501)])  # a pendant path is folded before the engine
    graph = nx.convert_node_labels_to_integers(graph)
    for a, b in graph.edges:
        graph.edges[a, b]["weight"] = {"unit": 1.0, "integer": float(rng.integers(1, 6)),
                                       "halves": float(rng.integers(1, 9)) / 2}[lengths]
    n = graph.number_of_nodes()
    mu, nu = rng.dirichlet(np.ones(n)), rng.dirichlet(np.ones(n))
    scaling = wasserstein(graph, mu, nu, method="cost_scaling")
    simplex = wasserstein(graph, mu, nu, method="network_simplex")
    oracle = _dense(graph, mu, nu)
    assert scaling.distance == pytest.approx(oracle, rel=1e-10)
    assert simplex.distance == pytest.approx(oracle, rel=1e-10)
    # the potential is a certificate by itself: dual feasible and optimal
    u, v = scaling.edge_index
    assert np.all(np.abs(scaling.potential[u] - scaling.potential[v]) <= scaling.edge_weight * (1 + 1e-12))
    assert scaling.potential @ (mu - nu) == pytest.approx(oracle, rel=1e-10)


def test_batch_with_cost_scaling():
    graph = nx.grid_2d_graph(12, 12)
    rng = np.random.default_rng(3)
    mu, nu = rng.dirichlet(np.ones(144), size=4), rng.dirichlet(np.ones(144), size=4)
    a = wasserstein_batch(graph, mu, nu, method="cost_scaling").distance
    b = wasserstein_batch(graph, mu, nu, method="network_simplex").distance
    np.testing.assert_allclose(a, b, rtol=1e-11)


def test_dispatch_by_shape():
    unit = np.ones(10)
    assert mcf.choose_method("auto", 10, unit) == "network_simplex"
    assert mcf.choose_method("auto", mcf.COST_SCALING_MIN_EDGES, unit) == "cost_scaling"
    # irrational lengths are not integral after any scaling: the float engine
    assert mcf.choose_method("auto", 10**6, np.full(10, np.pi)) == "network_simplex"
    assert mcf.choose_method("network_simplex", 10**6, unit) == "network_simplex"


def test_bad_method_and_inapplicable_cost_scaling():
    with pytest.raises(ValueError, match="method must be one of 'auto', 'network_simplex', 'cost_scaling'"):
        GraphTransport(nx.path_graph(3), method="simplex")
    graph = nx.cycle_graph(5)
    nx.set_edge_attributes(graph, np.pi, "weight")
    with pytest.raises(ValueError, match="needs lengths that are integers after scaling"):
        wasserstein(graph, np.eye(5)[0], np.eye(5)[2], method="cost_scaling")


def test_large_diffuse_problem_is_certified_by_both_engines():
    # about 5e4 edges, masses on every node: the size where the grids and the sums' rounding matter
    graph = nx.barabasi_albert_graph(10_000, 5, seed=7)
    rng = np.random.default_rng(7)
    mu, nu = rng.dirichlet(np.ones(10_000)), rng.dirichlet(np.ones(10_000))
    a = wasserstein(graph, mu, nu, method="cost_scaling").distance
    b = wasserstein(graph, mu, nu, method="network_simplex").distance
    assert a == pytest.approx(b, rel=1e-10)
