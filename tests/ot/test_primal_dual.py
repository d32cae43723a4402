"""Tests for graphwgan.ot._primal_dual: the compiled primal-dual transshipment.

Oracle: ``ot.emd2`` on the dense shortest-path matrix from ``scipy.sparse.csgraph.dijkstra``
(test-only). Every result is also checked as its own certificate: conservation, dual feasibility
on every edge and equal objectives.
"""

from __future__ import annotations

import importlib
import pickle

import networkx as nx
import numpy as np
import ot
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from graphwgan.ot._primal_dual import _DEMANDS_CLOSED, _SUPPLIES_CLOSED, _arcs, _levels, prepare, solve_transshipment


def _edges(graph: nx.Graph) -> tuple[np.ndarray, np.ndarray]:
    edges = np.array(graph.edges, dtype=np.int64).reshape(-1, 2)
    return edges[:, 0], edges[:, 1]


def _oracle(n: int, u: np.ndarray, v: np.ndarray, lengths: np.ndarray, mu: np.ndarray, nu: np.ndarray) -> float:
    matrix = sp.csr_array((np.r_[lengths, lengths].astype(float), (np.r_[u, v], np.r_[v, u])), shape=(n, n))
    return float(ot.emd2(mu, nu, dijkstra(matrix, directed=False)))


def _check_certificate(n, u, v, lengths, excess, potential, flow):
    net = np.bincount(u, weights=flow, minlength=n) - np.bincount(v, weights=flow, minlength=n)
    assert np.abs(net - excess).max() <= 1e-15
    assert np.all(np.abs(potential[u] - potential[v]) <= lengths)  # integers: exactly feasible
    primal, dual = float(np.abs(flow) @ lengths), float(potential @ excess)
    assert primal == pytest.approx(dual, rel=1e-13, abs=1e-15)
    return primal


@pytest.mark.parametrize("top", [1, 3, 7])
@pytest.mark.parametrize("seed", range(6))
def test_equals_dense_oracle(top, seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(8, 80))
    u, v = _edges(nx.connected_watts_strogatz_graph(n, 4, 0.3, seed=seed))
    lengths = rng.integers(1, top + 1, size=u.size)
    mu = rng.dirichlet(np.ones(n)) * (rng.random(n) < 0.4)  # sparse on one side, diffuse on the other
    mu[0] += 0.1
    mu /= mu.sum()
    nu = rng.dirichlet(np.ones(n))
    potential, flow = solve_transshipment(n, u, v, lengths, mu - nu, max_depth=10**6)
    primal = _check_certificate(n, u, v, lengths, mu - nu, potential, flow)
    assert primal == pytest.approx(_oracle(n, u, v, lengths, mu, nu), rel=1e-12)


def test_components_each_balanced_and_an_isolated_node():
    # two components with their own balanced masses, and a node without edges or mass
    graph = nx.disjoint_union(nx.cycle_graph(6), nx.complete_graph(5))
    graph.add_node(11)
    u, v = _edges(graph)
    excess = np.zeros(12)
    excess[[0, 3]] = [0.25, -0.25]
    excess[[6, 7, 10]] = [0.5, -0.2, -0.3]
    potential, flow = solve_transshipment(12, u, v, np.ones(u.size, dtype=np.int64), excess, max_depth=64)
    assert _check_certificate(12, u, v, np.ones(u.size), excess, potential, flow) == pytest.approx(0.75 + 0.5)


def test_no_mass_and_rounding_only():
    u, v = _edges(nx.cycle_graph(5))
    lengths = np.ones(u.size, dtype=np.int64)
    potential, flow = solve_transshipment(5, u, v, lengths, np.zeros(5), max_depth=64)
    assert not flow.any() and not potential.any()
    # a supply with no demand above rounding: nothing to move
    potential, flow = solve_transshipment(5, u, v, lengths, np.array([1e-18, 0, 0, 0, 0]), max_depth=64)
    assert not flow.any()


def test_distance_bound_beyond_the_limit_gives_none():
    u, v = _edges(nx.cycle_graph(40))  # eccentricity 20: a bound of 40
    excess = np.eye(40)[0] - np.eye(40)[20]
    lengths = np.ones(u.size, dtype=np.int64)
    assert solve_transshipment(40, u, v, lengths, excess, max_depth=39) is None
    potential, flow = solve_transshipment(40, u, v, lengths, excess, max_depth=40)
    assert _check_certificate(40, u, v, lengths, excess, potential, flow) == 20.0


def test_inputs_are_not_modified():
    rng = np.random.default_rng(1)
    u, v = _edges(nx.barabasi_albert_graph(50, 2, seed=1))
    lengths = rng.integers(1, 4, size=u.size)
    excess = rng.dirichlet(np.ones(50)) - rng.dirichlet(np.ones(50))
    copies = [a.copy() for a in (u, v, lengths, excess)]
    solve_transshipment(50, u, v, lengths, excess, max_depth=64)
    for before, after in zip(copies, (u, v, lengths, excess), strict=True):
        np.testing.assert_array_equal(before, after)


def test_rounding_left_in_two_components_ends_the_phases():
    # each component is off balance by more than the tolerance, in opposite directions: no path
    # joins the leftovers, so the phases end instead of running out (which would give None)
    graph = nx.disjoint_union(nx.path_graph(4), nx.path_graph(3))
    u, v = _edges(graph)
    excess = np.array([0.3, 0.0, 0.0, -0.3 + 1e-15, 0.2, 0.0, -0.2 - 1e-15])
    potential, flow = solve_transshipment(7, u, v, np.ones(u.size, dtype=np.int64), excess, max_depth=64)
    net = np.bincount(u, weights=flow, minlength=7) - np.bincount(v, weights=flow, minlength=7)
    assert np.abs(net - excess).max() <= 1e-15
    assert float(np.abs(flow).sum()) == pytest.approx(0.3 * 3 + 0.2 * 2, rel=1e-14)
    assert np.all(np.abs(potential[u] - potential[v]) <= 1)


@pytest.mark.parametrize("supplies_first", [True, False])
def test_the_search_that_runs_out_first_closes_its_side(supplies_first):
    # a clique of supplies and one demand at the end of a path: with every potential at zero no arc
    # is admissible, and the smaller side (the demand's) is searched first and runs out
    graph = nx.complete_graph(8)
    nx.add_path(graph, [7, 8, 9])
    u, v = _edges(graph)
    excess = np.r_[np.full(7, 1 / 7), 0.0, 0.0, -1.0]
    if not supplies_first:
        excess = -excess
    indptr, heads, _, _, cost = _arcs(10, u, v, np.ones(u.size, dtype=np.int32))
    from_supplies, to_demands = np.full(10, -1, np.int32), np.full(10, -1, np.int32)
    side = np.sign(excess).astype(np.int8)
    closed = _levels(indptr, heads, cost, True, 1e-15, np.zeros(heads.size), np.zeros(10, np.int16), side,
                     from_supplies, to_demands, np.empty(10, np.int32), np.empty(10, np.int32))
    if supplies_first:
        assert closed == _DEMANDS_CLOSED and np.flatnonzero(to_demands >= 0).tolist() == [9]
    else:
        assert closed == _SUPPLIES_CLOSED and np.flatnonzero(from_supplies >= 0).tolist() == [9]
    # and the whole solve, whose phases close the small side each time, against the oracle
    mu, nu = np.maximum(excess, 0), np.maximum(-excess, 0)
    potential, flow = solve_transshipment(10, u, v, np.ones(u.size, dtype=np.int64), excess, max_depth=64)
    primal = _check_certificate(10, u, v, np.ones(u.size), excess, potential, flow)
    assert primal == pytest.approx(_oracle(10, u, v, np.ones(u.size), mu, nu), rel=1e-13)


def test_a_prepared_network_serves_every_solve(monkeypatch):
    from graphwgan import GraphTransport, wasserstein_batch

    transport_module = importlib.import_module("graphwgan.ot.wasserstein")  # the attribute is the function

    graph = nx.connected_watts_strogatz_graph(60, 4, 0.3, seed=2)
    u, v = _edges(graph)
    lengths = np.ones(u.size, dtype=np.int64)
    rng = np.random.default_rng(4)
    mu, nu = rng.dirichlet(np.ones(60), size=3), rng.dirichlet(np.ones(60), size=3)
    network = prepare(60, u, v, lengths)
    for row in range(3):
        with_network = solve_transshipment(60, u, v, lengths, mu[row] - nu[row], max_depth=64, network=network)
        without = solve_transshipment(60, u, v, lengths, mu[row] - nu[row], max_depth=64)
        for a, b in zip(with_network, without, strict=True):
            np.testing.assert_array_equal(a, b)
    # GraphTransport builds it once for its core, and every row of a batch reuses it
    built = []
    original = transport_module.primal_dual_network
    monkeypatch.setattr(transport_module, "primal_dual_network", lambda *args: built.append(1) or original(*args))
    transport = GraphTransport(graph, method="primal_dual")
    result = wasserstein_batch(transport, mu, nu)
    assert len(built) == 1
    np.testing.assert_allclose(result.distance, wasserstein_batch(graph, mu, nu, method="network_simplex").distance,
                               rtol=1e-12)
    # a copy of the transport (its network built) solves the same
    clone = pickle.loads(pickle.dumps(transport))
    np.testing.assert_array_equal(wasserstein_batch(clone, mu, nu).distance, result.distance)


def test_prepare_refuses_graphs_beyond_int32_arcs():
    # 2^30 edges make 2^31 arcs, past int32 indices: the engine hands such a graph on (no array is built)
    huge = np.broadcast_to(np.int64(0), (2**30,))
    assert prepare(2, huge, huge, huge) is None
    assert solve_transshipment(2, huge, huge, huge, np.zeros(2), max_depth=64) is None
