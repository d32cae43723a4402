"""Tests for graphwgan.ot.mcf: the engines agree, the dispatch follows the problem's shape.

Oracle: ``ot.emd2`` on the dense shortest-path matrix (test-only), and the engines against each
other on problems too large for the dense oracle.
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


@pytest.mark.parametrize("engine", ["cost_scaling", "primal_dual"])
@pytest.mark.parametrize("lengths", ["unit", "integer", "halves"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_integer_engines_equal_dense_oracle_and_network_simplex(engine, lengths, seed):
    rng = np.random.default_rng(seed)
    graph = nx.barabasi_albert_graph(120, 3, seed=seed)
    graph.add_edges_from([(0, 500), (500, 501)])  # a pendant path is folded before the engine
    graph = nx.convert_node_labels_to_integers(graph)
    for a, b in graph.edges:
        graph.edges[a, b]["weight"] = {"unit": 1.0, "integer": float(rng.integers(1, 6)),
                                       "halves": float(rng.integers(1, 9)) / 2}[lengths]
    n = graph.number_of_nodes()
    mu, nu = rng.dirichlet(np.ones(n)), rng.dirichlet(np.ones(n))
    scaling = wasserstein(graph, mu, nu, method=engine)
    simplex = wasserstein(graph, mu, nu, method="network_simplex")
    oracle = _dense(graph, mu, nu)
    assert scaling.distance == pytest.approx(oracle, rel=1e-10)
    assert simplex.distance == pytest.approx(oracle, rel=1e-10)
    # the potential is a certificate by itself: dual feasible and optimal
    u, v = scaling.edge_index
    assert np.all(np.abs(scaling.potential[u] - scaling.potential[v]) <= scaling.edge_weight * (1 + 1e-12))
    assert scaling.potential @ (mu - nu) == pytest.approx(oracle, rel=1e-10)


@pytest.mark.parametrize("engine", ["cost_scaling", "primal_dual"])
def test_batch_with_integer_engines(engine):
    graph = nx.grid_2d_graph(12, 12)
    rng = np.random.default_rng(3)
    mu, nu = rng.dirichlet(np.ones(144), size=4), rng.dirichlet(np.ones(144), size=4)
    a = wasserstein_batch(graph, mu, nu, method=engine).distance
    b = wasserstein_batch(graph, mu, nu, method="network_simplex").distance
    np.testing.assert_allclose(a, b, rtol=1e-11)


def test_dispatch_by_shape():
    unit = np.ones(10)
    assert mcf.choose_method("auto", 10, unit) == "network_simplex"
    assert mcf.choose_method("auto", mcf.COST_SCALING_MIN_EDGES, unit) == "primal_dual"
    assert mcf.choose_method("auto", mcf.COST_SCALING_MIN_EDGES, np.full(10, 2.5)) == "primal_dual"
    # irrational lengths are not integral after any scaling: the float engine
    assert mcf.choose_method("auto", 10**6, np.full(10, np.pi)) == "network_simplex"
    assert mcf.choose_method("network_simplex", 10**6, unit) == "network_simplex"
    assert mcf.choose_method("cost_scaling", 10, unit) == "cost_scaling"
    # each engine hands on to the next where it does not apply or fails its certificate
    assert mcf.attempts("primal_dual") == ["primal_dual", "cost_scaling", "network_simplex"]
    assert mcf.attempts("cost_scaling") == ["cost_scaling", "network_simplex"]
    assert mcf.attempts("network_simplex") == ["network_simplex"]


def test_long_distances_pass_from_the_primal_dual_engine_to_the_next():
    # a path of 200 nodes: its distance bound (2 x 199) is beyond the primal-dual engine's phases
    graph = nx.path_graph(200)
    uv, w = undirected_edges(to_graph(graph))
    excess = np.eye(200)[0] - np.eye(200)[199]
    assert mcf.solve_primal_dual(200, uv[0], uv[1], w, excess) is None
    # (the path's pendant trees fold before any engine: a cycle keeps a core)
    cycle = nx.cycle_graph(300)
    mu, nu = np.eye(300)[0], np.eye(300)[150]
    assert wasserstein(cycle, mu, nu, method="primal_dual").distance == 150.0
    uv, w = undirected_edges(to_graph(cycle))
    assert mcf.solve_primal_dual(300, uv[0], uv[1], w, mu - nu) is None


def test_bad_method_and_inapplicable_integer_engines():
    with pytest.raises(ValueError, match="method must be one of 'auto', 'network_simplex', 'cost_scaling', "
                                         "'primal_dual'"):
        GraphTransport(nx.path_graph(3), method="simplex")
    graph = nx.cycle_graph(5)
    nx.set_edge_attributes(graph, np.pi, "weight")
    for engine in ("cost_scaling", "primal_dual"):
        with pytest.raises(ValueError, match=f"method='{engine}' needs lengths that are integers after scaling"):
            wasserstein(graph, np.eye(5)[0], np.eye(5)[2], method=engine)


def test_large_diffuse_problem_is_certified_by_every_engine():
    # about 5e4 edges, masses on every node: the size where the grids and the sums' rounding matter
    graph = nx.barabasi_albert_graph(10_000, 5, seed=7)
    rng = np.random.default_rng(7)
    mu, nu = rng.dirichlet(np.ones(10_000)), rng.dirichlet(np.ones(10_000))
    a = wasserstein(graph, mu, nu, method="cost_scaling").distance
    b = wasserstein(graph, mu, nu, method="network_simplex").distance
    c = wasserstein(graph, mu, nu).distance  # auto: the primal-dual engine at this size
    assert GraphTransport(graph)._engine() == "primal_dual"
    assert a == pytest.approx(b, rel=1e-10)
    assert c == pytest.approx(b, rel=1e-12)
