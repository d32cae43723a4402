"""Tests for graphwgan.ot.wasserstein: exact W1 against independent oracles.

Oracles used here are test-only and share nothing with the solver's sparse formulation:

* ``ot.emd2`` on the dense shortest-path matrix from ``scipy.sparse.csgraph.dijkstra``,
  solved per connected component;
* ``scipy.optimize.linprog(method="highs")`` on the edge (transshipment) linear programme;
* an optimality certificate checked from first principles: flow conservation, primal value,
  dual feasibility and zero duality gap.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import ot
import pytest
import scipy.sparse as sp
import torch
from scipy.optimize import linprog
from scipy.sparse.csgraph import connected_components, dijkstra
from torch_geometric.data import Data

from graphwgan import GraphTransport, WassersteinResult, to_graph, wasserstein, wasserstein_batch

# --------------------------------------------------------------------------------------------
# graph families and mass distributions
# --------------------------------------------------------------------------------------------

FAMILIES = [
    "tree",
    "grid",
    "scale_free",
    "erdos_renyi",
    "cycle_odd",
    "cycle_even",
    "complete",
    "cycle_with_pendants",
    "components",
    "barbell",
]
WEIGHTINGS = ["unit", "uniform", "integer"]
SEEDS = [0, 1]
DISTRIBUTIONS = ["diffuse", "sparse", "point"]


def _pendant_graph(rng: np.random.Generator) -> nx.Graph:
    """Two cycles joined by a path, with random trees hanging off cycle and path nodes."""
    first = nx.cycle_graph(int(rng.integers(3, 12)))
    second = nx.cycle_graph(int(rng.integers(3, 12)))
    graph = nx.disjoint_union(first, second)
    path_start = graph.number_of_nodes()
    length = int(rng.integers(1, 5))
    nx.add_path(graph, [0, *range(path_start, path_start + length), first.number_of_nodes()])
    for _ in range(int(rng.integers(2, 6))):
        anchor = int(rng.integers(graph.number_of_nodes()))
        tree = nx.random_labeled_tree(int(rng.integers(1, 9)), seed=int(rng.integers(2**31)))
        offset = graph.number_of_nodes()
        graph = nx.disjoint_union(graph, tree)
        graph.add_edge(anchor, offset)
    return graph


def _components_graph(rng: np.random.Generator) -> nx.Graph:
    """Several connected components: a tree, a cycle, a grid, a clique, an edge, a lone node."""
    parts = [
        nx.random_labeled_tree(int(rng.integers(5, 20)), seed=int(rng.integers(2**31))),
        nx.cycle_graph(int(rng.integers(5, 15))),
        nx.convert_node_labels_to_integers(nx.grid_2d_graph(3, int(rng.integers(2, 6)))),
        nx.complete_graph(int(rng.integers(3, 7))),
        nx.path_graph(2),
        nx.empty_graph(1),
    ]
    order = rng.permutation(len(parts))
    return nx.disjoint_union_all([parts[i] for i in order])


def make_graph(family: str, weighting: str, seed: int) -> nx.Graph:
    """A networkx graph of the family with 5..120 nodes, and lengths in the ``weight`` attribute."""
    rng = np.random.default_rng([seed, FAMILIES.index(family), WEIGHTINGS.index(weighting)])
    small = seed % 2 == 0  # alternate small and large instances
    n = int(rng.integers(5, 25)) if small else int(rng.integers(60, 121))
    if family == "tree":
        graph = nx.random_labeled_tree(n, seed=int(rng.integers(2**31)))
    elif family == "grid":
        rows = int(rng.integers(2, 5)) if small else int(rng.integers(6, 11))
        cols = int(rng.integers(3, 6)) if small else int(rng.integers(6, 11))
        graph = nx.grid_2d_graph(rows, cols)  # tuple node labels, as users have them
    elif family == "scale_free":
        graph = nx.barabasi_albert_graph(n, int(rng.integers(1, 4)), seed=int(rng.integers(2**31)))
    elif family == "erdos_renyi":
        # sparse enough to be disconnected now and then (isolated nodes included)
        graph = nx.gnp_random_graph(n, 2.5 / n, seed=int(rng.integers(2**31)))
    elif family == "cycle_odd":
        graph = nx.cycle_graph(n | 1)
    elif family == "cycle_even":
        graph = nx.cycle_graph(n + (n % 2))
    elif family == "complete":
        graph = nx.complete_graph(min(n, 40))
    elif family == "cycle_with_pendants":
        graph = _pendant_graph(rng)
    elif family == "components":
        graph = _components_graph(rng)
    elif family == "barbell":
        graph = nx.barbell_graph(int(rng.integers(3, 8)), int(rng.integers(0, 10)))
    else:  # pragma: no cover - guards the parametrisation
        raise AssertionError(family)
    assert 5 <= graph.number_of_nodes() <= 120
    if weighting == "uniform":
        for u, v in graph.edges:
            graph[u][v]["weight"] = float(rng.uniform(0.1, 5.0))
    elif weighting == "integer":
        for u, v in graph.edges:
            graph[u][v]["weight"] = int(rng.integers(1, 11))
    return graph


def _component_labels(graph: nx.Graph) -> np.ndarray:
    nodes = list(graph.nodes)
    index = {node: i for i, node in enumerate(nodes)}
    labels = np.empty(len(nodes), dtype=np.int64)
    for c, comp in enumerate(nx.connected_components(graph)):
        labels[[index[v] for v in comp]] = c
    return labels


def make_masses(graph: nx.Graph, kind: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``mu``, ``nu`` with equal (non-unit) mass on every connected component."""
    rng = np.random.default_rng([seed, DISTRIBUTIONS.index(kind), graph.number_of_nodes()])
    labels = _component_labels(graph)
    n = labels.size
    mu, nu = np.zeros(n), np.zeros(n)
    num_components = labels.max() + 1
    biggest = np.argmax(np.bincount(labels))
    for c in range(num_components):
        nodes = np.flatnonzero(labels == c)
        if c != biggest and rng.random() < 0.3:
            continue  # some components carry no mass at all
        total = float(rng.uniform(0.5, 3.0))
        for side in (mu, nu):
            if kind == "diffuse":
                values = rng.random(nodes.size) + 0.05
                chosen = nodes
            elif kind == "sparse":
                chosen = rng.choice(nodes, size=min(nodes.size, int(rng.integers(1, 5))), replace=False)
                values = rng.random(chosen.size) + 0.1
            else:  # point
                chosen = rng.choice(nodes, size=1)
                values = np.ones(1)
            side[chosen] = total * values / values.sum()
    return mu, nu


def emd_oracle(graph: nx.Graph, mu: np.ndarray, nu: np.ndarray) -> float:
    """W1 by POT's dense EMD on the all-pairs shortest-path matrix, per connected component."""
    adjacency = nx.to_scipy_sparse_array(graph, nodelist=list(graph.nodes), weight="weight", format="csr")
    cost = dijkstra(adjacency, directed=False)
    _, labels = connected_components(adjacency, directed=False)
    total = 0.0
    for c in np.unique(labels):
        nodes = np.flatnonzero(labels == c)
        if mu[nodes].sum() == 0.0:
            continue
        total += float(ot.emd2(mu[nodes], nu[nodes], cost[np.ix_(nodes, nodes)], numItermax=10**7))
    return total


def lp_oracle(graph: nx.Graph, mu: np.ndarray, nu: np.ndarray) -> float:
    """W1 by HiGHS on the edge LP: min sum w (x+ + x-) s.t. B (x+ - x-) = mu - nu, x+- >= 0."""
    nodes = list(graph.nodes)
    index = {node: i for i, node in enumerate(nodes)}
    edges = list(graph.edges(data="weight", default=1.0))
    m = len(edges)
    incidence = np.zeros((len(nodes), m))
    weight = np.empty(m)
    for e, (a, b, w) in enumerate(edges):
        incidence[index[a], e] = 1.0
        incidence[index[b], e] = -1.0
        weight[e] = w
    result = linprog(
        np.concatenate([weight, weight]),
        A_eq=np.hstack([incidence, -incidence]),
        b_eq=mu - nu,
        bounds=(0, None),
        method="highs",
    )
    assert result.status == 0, result.message
    return float(result.fun)


def check_certificate(graph: nx.Graph, mu: np.ndarray, nu: np.ndarray, result: WassersteinResult) -> None:
    """Optimality proven from first principles (no solver): primal and dual feasible, equal values."""
    nodes = list(graph.nodes)
    n = len(nodes)
    edge_index = np.asarray(result.edge_index)
    weight = np.asarray(result.edge_weight)
    flow = np.asarray(result.flow)
    potential = np.asarray(result.potential)
    distance = float(result.distance)
    excess = mu - nu
    scale = max(np.abs(excess).sum(), 1e-300)

    # the edge list is the graph's: each undirected edge once, u < v, sorted, with its length
    u, v = edge_index
    m = graph.number_of_edges()
    assert edge_index.shape == (2, m)
    assert weight.shape == (m,) and flow.shape == (m,) and potential.shape == (n,)
    assert np.all(u < v)
    assert np.all(np.diff(u * n + v) > 0)
    expected_weight = [graph[nodes[a]][nodes[b]].get("weight", 1.0) for a, b in zip(u, v, strict=True)]
    np.testing.assert_array_equal(weight, expected_weight)

    # (a) flow conservation: net outflow of every node is mu - nu
    incidence = sp.coo_array(
        (np.concatenate([np.ones(m), -np.ones(m)]), (np.concatenate([u, v]), np.tile(np.arange(m), 2))),
        shape=(n, m),
    ).tocsr()
    np.testing.assert_allclose(incidence @ flow, excess, rtol=0, atol=1e-9 * scale)
    # (b) the distance is the cost of the flow
    assert distance == pytest.approx(float(weight @ np.abs(flow)), rel=1e-9, abs=1e-12)
    # (c) the potential is 1-Lipschitz for the edge lengths
    assert np.all(np.abs(potential[u] - potential[v]) <= weight * (1 + 1e-9))
    # (d) zero duality gap
    assert float(potential @ excess) == pytest.approx(distance, rel=1e-9, abs=1e-12 * scale)
    # (e) zero mean on every connected component
    labels = _component_labels(graph)
    means = np.bincount(labels, weights=potential) / np.bincount(labels)
    np.testing.assert_allclose(means, 0.0, atol=1e-9 * max(1.0, np.abs(potential).max()))


GRAPH_CASES = [
    pytest.param(family, weighting, seed, id=f"{family}-{weighting}-{seed}")
    for family in FAMILIES
    for weighting in WEIGHTINGS
    for seed in SEEDS
]


# --------------------------------------------------------------------------------------------
# 1. independent oracles on random graphs
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("family, weighting, seed", GRAPH_CASES)
def test_matches_emd_oracle_and_certificate(family, weighting, seed):
    graph = make_graph(family, weighting, seed)
    transport = GraphTransport(graph)
    for kind in DISTRIBUTIONS:
        mu, nu = make_masses(graph, kind, seed)
        result = transport.solve(mu, nu)
        assert isinstance(result.distance, float)
        expected = emd_oracle(graph, mu, nu)
        assert result.distance == pytest.approx(expected, rel=1e-6, abs=1e-12), kind
        check_certificate(graph, mu, nu, result)


def test_families_cover_the_brief():
    graphs = [make_graph(f, w, s) for f, w, s in (p.values for p in GRAPH_CASES)]
    assert len(graphs) >= 60
    sizes = [g.number_of_nodes() for g in graphs]
    assert min(sizes) >= 5 and max(sizes) <= 120 and max(sizes) >= 100
    assert any(nx.number_connected_components(g) >= 3 for g in graphs)
    assert any(nx.is_tree(g) for g in graphs)
    # the pendant family really has cycles and pendant trees
    pendant = make_graph("cycle_with_pendants", "unit", 0)
    assert nx.cycle_basis(pendant) and min(d for _, d in pendant.degree) == 1


@pytest.mark.parametrize("family, weighting, seed", [
    ("grid", "uniform", 0),
    ("cycle_odd", "integer", 0),
    ("cycle_with_pendants", "uniform", 0),
    ("components", "integer", 0),
    ("erdos_renyi", "uniform", 0),
    ("complete", "unit", 0),
])
def test_matches_linprog_on_edge_lp(family, weighting, seed):
    graph = make_graph(family, weighting, seed)
    for kind in DISTRIBUTIONS:
        mu, nu = make_masses(graph, kind, seed + 7)
        result = wasserstein(graph, mu, nu)
        assert result.distance == pytest.approx(lp_oracle(graph, mu, nu), rel=1e-6, abs=1e-12), kind


def test_hand_computed_small_graph():
    # triangle 0-1-2 (lengths 1, 1, 3) with a tail 2-3 (length 2): d(0, 2) = 2 via node 1
    graph = nx.Graph()
    graph.add_weighted_edges_from([(0, 1, 1.0), (1, 2, 1.0), (0, 2, 3.0), (2, 3, 2.0)])
    mu = np.array([0.5, 0.5, 0.0, 0.0])
    nu = np.array([0.0, 0.0, 0.25, 0.75])
    # d(0, x) = d(1, x) + 1 for x in {2, 3}, so every plan costs the same, e.g. 0 -> 3, 1 -> 2, 1 -> 3
    result = wasserstein(graph, mu, nu)
    assert result.distance == pytest.approx(0.5 * 4 + 0.25 * 1 + 0.25 * 3, rel=1e-12)
    np.testing.assert_array_equal(result.edge_index, [[0, 0, 1, 2], [1, 2, 2, 3]])
    np.testing.assert_array_equal(result.edge_weight, [1.0, 3.0, 1.0, 2.0])
    # forced: 0.75 crosses the tail, 0.5 crosses 0-1, nothing uses the long edge 0-2
    np.testing.assert_allclose(result.flow, [0.5, 0.0, 1.0, 0.75], atol=1e-12)
    check_certificate(graph, mu, nu, result)


# --------------------------------------------------------------------------------------------
# 2. closed forms: two point masses
# --------------------------------------------------------------------------------------------


def _point_mass_graphs():
    weighted = nx.barabasi_albert_graph(30, 2, seed=3)
    rng = np.random.default_rng(3)
    for a, b in weighted.edges:
        weighted[a][b]["weight"] = float(rng.uniform(0.1, 5.0))
    integer = nx.convert_node_labels_to_integers(nx.grid_2d_graph(5, 6))
    for a, b in integer.edges:
        integer[a][b]["weight"] = int(rng.integers(1, 10))
    pendant = make_graph("cycle_with_pendants", "uniform", 1)
    return {
        "path": nx.path_graph(10),
        "cycle_odd": nx.cycle_graph(9),
        "cycle_even": nx.cycle_graph(10),
        "grid": nx.grid_2d_graph(4, 7),
        "weighted_scale_free": weighted,
        "integer_grid": integer,
        "weighted_pendants": pendant,
    }


POINT_MASS_GRAPHS = _point_mass_graphs()


@pytest.mark.parametrize("name", sorted(POINT_MASS_GRAPHS))
def test_two_point_masses_give_shortest_path(name):
    graph = POINT_MASS_GRAPHS[name]
    nodes = list(graph.nodes)
    n = len(nodes)
    transport = GraphTransport(graph)
    rng = np.random.default_rng(len(name))
    pairs = [(0, n - 1)] + [tuple(rng.choice(n, size=2, replace=False)) for _ in range(6)]
    for a, b in pairs:
        expected = nx.shortest_path_length(graph, nodes[a], nodes[b], weight="weight")
        mu, nu = np.eye(n)[a], np.eye(n)[b]
        assert transport.solve(mu, nu).distance == pytest.approx(expected, rel=1e-12)
        # masses need not sum to one: W1 is positively homogeneous
        assert transport.solve(3.5 * mu, 3.5 * nu).distance == pytest.approx(3.5 * expected, rel=1e-12)
        # and it is symmetric
        assert transport.solve(nu, mu).distance == pytest.approx(expected, rel=1e-12)


def test_closed_forms_on_path_and_cycle():
    path = nx.path_graph(7)
    assert wasserstein(path, np.eye(7)[0], np.eye(7)[6]).distance == 6.0
    cycle = nx.cycle_graph(8)
    assert wasserstein(cycle, np.eye(8)[1], np.eye(8)[5]).distance == 4.0
    assert wasserstein(cycle, np.eye(8)[1], np.eye(8)[7]).distance == 2.0
    grid = nx.grid_2d_graph(3, 5)
    assert wasserstein(grid, np.eye(15)[0], np.eye(15)[14]).distance == 6.0


@pytest.mark.parametrize("name", sorted(POINT_MASS_GRAPHS))
def test_equal_masses_give_zero(name):
    graph = POINT_MASS_GRAPHS[name]
    n = graph.number_of_nodes()
    mu = np.random.default_rng(0).random(n) * 2.0
    result = wasserstein(graph, mu, mu.copy())
    assert result.distance == 0.0
    assert not np.any(result.flow)
    point = np.eye(n)[n // 2] * 3.5
    assert wasserstein(graph, point, point).distance == 0.0


def test_all_zero_masses_give_zero():
    result = wasserstein(nx.cycle_graph(5), np.zeros(5), np.zeros(5))
    assert result.distance == 0.0
    np.testing.assert_array_equal(result.potential, np.zeros(5))


def test_single_node_graph():
    graph = nx.empty_graph(1)
    result = wasserstein(graph, [2.0], [2.0])
    assert result.distance == 0.0
    assert result.edge_index.shape == (2, 0)
    assert result.flow.shape == (0,)
    np.testing.assert_array_equal(result.potential, [0.0])


# --------------------------------------------------------------------------------------------
# 3. batch form and prepared transport
# --------------------------------------------------------------------------------------------


def _batch_case(k=5):
    graph = make_graph("cycle_with_pendants", "uniform", 1)
    n = graph.number_of_nodes()
    rng = np.random.default_rng(11)
    mu = rng.random((k, n))
    mu /= mu.sum(axis=1, keepdims=True)
    nu = rng.random((k, n)) ** 4
    nu /= nu.sum(axis=1, keepdims=True)
    nu[2] = 0.0
    nu[2, 3] = 1.0  # one row a point mass
    mu[4] = nu[4]  # one row with zero distance
    return graph, mu, nu


def _assert_same_result(batch: WassersteinResult, row: int, single: WassersteinResult) -> None:
    assert float(batch.distance[row]) == pytest.approx(float(single.distance), rel=1e-12, abs=1e-15)
    np.testing.assert_allclose(batch.flow[row], single.flow, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(batch.potential[row], single.potential, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(batch.edge_index, single.edge_index)
    np.testing.assert_array_equal(batch.edge_weight, single.edge_weight)


def test_batch_equals_loop():
    graph, mu, nu = _batch_case()
    k, n = mu.shape
    batch = wasserstein_batch(graph, mu, nu)
    m = graph.number_of_edges()
    assert batch.distance.shape == (k,)
    assert batch.flow.shape == (k, m)
    assert batch.potential.shape == (k, n)
    assert batch.edge_index.shape == (2, m)
    for row in range(k):
        _assert_same_result(batch, row, wasserstein(graph, mu[row], nu[row]))
    assert batch.distance[4] == 0.0
    assert np.all(batch.distance[[0, 1, 2, 3]] > 0)


@pytest.mark.parametrize("shared", ["mu", "nu"])
def test_batch_broadcasts_a_one_dimensional_side(shared):
    graph, mu, nu = _batch_case()
    k = mu.shape[0]
    if shared == "mu":
        mu = mu[0]
        batch = wasserstein_batch(graph, mu, nu)
        singles = [wasserstein(graph, mu, nu[row]) for row in range(k)]
    else:
        nu = nu[1]
        batch = wasserstein_batch(graph, mu, nu)
        singles = [wasserstein(graph, mu[row], nu) for row in range(k)]
    assert batch.distance.shape == (k,)
    for row, single in enumerate(singles):
        _assert_same_result(batch, row, single)


def test_batch_on_several_components_matches_oracle():
    graph = make_graph("components", "uniform", 1)
    pairs = [make_masses(graph, kind, seed) for kind in DISTRIBUTIONS for seed in (0, 1)]
    mu = np.stack([p[0] for p in pairs])
    nu = np.stack([p[1] for p in pairs])
    batch = wasserstein_batch(graph, mu, nu)
    for row in range(len(pairs)):
        assert batch.distance[row] == pytest.approx(emd_oracle(graph, mu[row], nu[row]), rel=1e-6, abs=1e-12)


def test_graph_transport_reuse_equals_fresh_calls():
    graph, mu, nu = _batch_case()
    transport = GraphTransport(graph)
    assert transport.num_nodes == graph.number_of_nodes()
    assert "GraphTransport(num_nodes=" in repr(transport)
    first = [transport.solve(mu[row], nu[row]) for row in range(mu.shape[0])]
    # solve again in reverse order: no state carried between solves
    again = [transport.solve(mu[row], nu[row]) for row in reversed(range(mu.shape[0]))][::-1]
    for row in range(mu.shape[0]):
        fresh = wasserstein(graph, mu[row], nu[row])
        for result in (first[row], again[row], wasserstein(transport, mu[row], nu[row])):
            assert result.distance == fresh.distance
            np.testing.assert_array_equal(result.flow, fresh.flow)
            np.testing.assert_array_equal(result.potential, fresh.potential)
    batch = transport.solve_batch(mu, nu)
    via_function = wasserstein_batch(transport, mu, nu)
    np.testing.assert_array_equal(batch.distance, via_function.distance)
    np.testing.assert_allclose(batch.distance, [r.distance for r in first], rtol=1e-12)


def test_result_arrays_are_not_shared_with_the_transport():
    transport = GraphTransport(nx.path_graph(4))
    result = transport.solve(np.eye(4)[0], np.eye(4)[3])
    result.edge_weight[:] = 100.0
    result.edge_index[:] = 0
    assert transport.solve(np.eye(4)[0], np.eye(4)[3]).distance == 3.0


def test_result_float_conversion():
    result = wasserstein(nx.path_graph(3), [1.0, 0.0, 0.0], [0.0, 0.0, 1.0])
    # masses given as plain lists work like arrays
    assert float(result) == 2.0
    assert isinstance(result.distance, float) and result.distance == 2.0


def test_max_iter_is_accepted():
    graph = make_graph("grid", "uniform", 1)
    mu, nu = make_masses(graph, "diffuse", 0)
    default = wasserstein(graph, mu, nu)
    generous = wasserstein(graph, mu, nu, max_iter=10**7)
    assert generous.distance == pytest.approx(default.distance, rel=1e-12)
    transport = GraphTransport(graph, max_iter=10**7)
    assert transport.max_iter == 10**7


# --------------------------------------------------------------------------------------------
# every graph format gives the same answer
# --------------------------------------------------------------------------------------------


def _digraph(n, u, v, w):
    digraph = nx.DiGraph()
    digraph.add_nodes_from(range(n))  # node order fixes the mass order
    digraph.add_weighted_edges_from(zip(u.tolist(), v.tolist(), w.tolist(), strict=True))
    return digraph


def _formats():
    graph = make_graph("cycle_with_pendants", "uniform", 0)
    graph = nx.convert_node_labels_to_integers(graph)
    n = graph.number_of_nodes()
    u, v, w = (np.array(x) for x in zip(*graph.edges(data="weight"), strict=True))
    edge_index = np.stack([u, v]).astype(np.int64)
    adjacency = sp.coo_array((w, (u, v)), shape=(n, n))
    return graph, {
        "networkx": graph,
        "networkx_digraph_one_direction": _digraph(n, u, v, w),
        "pyg_data": Data(edge_index=torch.from_numpy(edge_index), edge_weight=torch.from_numpy(w), num_nodes=n),
        "pyg_data_edge_attr": Data(edge_index=torch.from_numpy(edge_index), edge_attr=torch.from_numpy(w)[:, None],
                                   num_nodes=n),
        "scipy_coo_upper": adjacency,
        "scipy_csr_symmetric": (adjacency + adjacency.T).tocsr(),
    }


def test_all_graph_formats_agree():
    graph, formats = _formats()
    mu, nu = make_masses(graph, "diffuse", 4)
    expected = emd_oracle(graph, mu, nu)
    reference = wasserstein(graph, mu, nu)
    for name, source in formats.items():
        result = wasserstein(source, mu, nu)
        assert result.distance == pytest.approx(expected, rel=1e-6), name
        assert result.distance == pytest.approx(reference.distance, rel=1e-12), name
        np.testing.assert_array_equal(result.edge_index, reference.edge_index, err_msg=name)
        np.testing.assert_array_equal(result.edge_weight, reference.edge_weight, err_msg=name)


def test_unweighted_edge_index_formats_agree():
    graph = nx.barabasi_albert_graph(25, 2, seed=5)
    edge_index = np.array(graph.edges, dtype=np.int64).T
    mu, nu = make_masses(graph, "sparse", 5)
    expected = emd_oracle(graph, mu, nu)
    for source in (edge_index, torch.from_numpy(edge_index), edge_index[::-1].copy()):
        assert wasserstein(source, mu, nu).distance == pytest.approx(expected, rel=1e-6)


# --------------------------------------------------------------------------------------------
# 7. self-loops and parallel edges
# --------------------------------------------------------------------------------------------


def test_self_loops_do_not_change_the_answer():
    graph = make_graph("grid", "uniform", 0)
    mu, nu = make_masses(graph, "diffuse", 1)
    plain = wasserstein(graph, mu, nu)
    looped = graph.copy()
    for i, node in enumerate(list(looped.nodes)[::2]):
        looped.add_edge(node, node, weight=0.01 + i)
    result = wasserstein(looped, mu, nu)
    assert result.distance == pytest.approx(plain.distance, rel=1e-12)
    np.testing.assert_array_equal(result.edge_index, plain.edge_index)
    assert result.edge_index.shape[1] == graph.number_of_edges()

    # the same through an edge_index with self-loop columns
    ring = np.array([[0, 1, 2, 3, 0, 2], [1, 2, 3, 0, 0, 2]])
    assert wasserstein(ring, np.eye(4)[0], np.eye(4)[2]).distance == 2.0


def test_parallel_edges_use_the_shortest():
    multi = nx.MultiGraph()
    multi.add_edge(0, 1, weight=5.0)
    multi.add_edge(0, 1, weight=1.5)
    multi.add_edge(1, 2, weight=2.0)
    multi.add_edge(2, 1, weight=4.0)
    multi.add_edge(2, 3, weight=1.0)
    multi.add_edge(3, 0, weight=9.0)
    multi.add_edge(0, 3, weight=7.0)
    simple = nx.Graph([(0, 1, {"weight": 1.5}), (1, 2, {"weight": 2.0}), (2, 3, {"weight": 1.0}),
                       (0, 3, {"weight": 7.0})])
    rng = np.random.default_rng(2)
    for _ in range(5):
        mu, nu = rng.random(4), rng.random(4)
        nu *= mu.sum() / nu.sum()
        result = wasserstein(multi, mu, nu)
        assert result.distance == pytest.approx(wasserstein(simple, mu, nu).distance, rel=1e-12)
        assert result.distance == pytest.approx(emd_oracle(simple, mu, nu), rel=1e-6)
        np.testing.assert_array_equal(result.edge_weight, [1.5, 7.0, 2.0, 1.0])
    # point masses: d(0, 2) = 1.5 + 2.0 through the short parallel edges
    assert wasserstein(multi, np.eye(4)[0], np.eye(4)[2]).distance == pytest.approx(3.5, rel=1e-12)

    # duplicate edge_index columns (both orders) with different lengths keep the minimum
    data = Data(edge_index=torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]),
                edge_weight=torch.tensor([4.0, 1.0, 2.0, 3.0], dtype=torch.float64), num_nodes=3)
    assert wasserstein(data, np.eye(3)[0], np.eye(3)[2]).distance == pytest.approx(3.0, rel=1e-12)


# --------------------------------------------------------------------------------------------
# scale: W1 is positively homogeneous in the masses and in the edge lengths
# --------------------------------------------------------------------------------------------


def _scale_case():
    graph = make_graph("scale_free", "uniform", 0)
    mu, nu = make_masses(graph, "diffuse", 3)
    return graph, mu, nu, emd_oracle(graph, mu, nu)


@pytest.mark.parametrize("scale", [1e-9, 1e-3, 1e3, 1e6, 1e9], ids=lambda s: f"mass_x{s:g}")
def test_scaling_the_masses_scales_the_distance(scale):
    # masses need not sum to one: counts (totals of millions) are valid input
    graph, mu, nu, expected = _scale_case()
    result = wasserstein(graph, scale * mu, scale * nu)
    assert result.distance == pytest.approx(scale * expected, rel=1e-9)
    check_certificate(graph, scale * mu, scale * nu, result)


@pytest.mark.parametrize("scale", [1e-8, 1e-6, 1e-3, 1e3, 1e8], ids=lambda s: f"length_x{s:g}")
def test_scaling_the_lengths_scales_the_distance(scale):
    graph, mu, nu, expected = _scale_case()
    for a, b in graph.edges:
        graph[a][b]["weight"] *= scale
    result = wasserstein(graph, mu, nu)
    assert result.distance == pytest.approx(scale * expected, rel=1e-9)
    check_certificate(graph, mu, nu, result)


def test_lengths_spanning_many_orders_of_magnitude():
    # a triangle whose long edge is never used: d(0, 1) = 1 + 1e-5 through node 2
    triangle = nx.Graph()
    triangle.add_weighted_edges_from([(0, 1, 1e4), (0, 2, 1.0), (1, 2, 1e-5)])
    result = wasserstein(triangle, [1.0, 0.0, 0.0], [0.0, 1.0, 0.0])
    assert result.distance == pytest.approx(1.0 + 1e-5, rel=1e-12)

    # lengths log-uniform over six orders of magnitude
    graph = make_graph("scale_free", "unit", 1)
    rng = np.random.default_rng(0)
    for a, b in graph.edges:
        graph[a][b]["weight"] = float(10.0 ** rng.uniform(-3.0, 3.0))
    mu, nu = make_masses(graph, "diffuse", 0)
    result = wasserstein(graph, mu, nu)
    assert result.distance == pytest.approx(emd_oracle(graph, mu, nu), rel=1e-9)
    check_certificate(graph, mu, nu, result)


def test_transport_graph_is_to_graphs_data_and_wrapping_keeps_it():
    # the transport reads the graph as arrays; its Data, built on first use, is to_graph's
    graph = nx.les_miserables_graph()
    transport = GraphTransport(graph)
    expected = to_graph(graph, keep_attributes=False)
    assert transport.graph.edge_index.tolist() == expected.edge_index.tolist()
    assert transport.graph.edge_weight.tolist() == expected.edge_weight.tolist()
    assert transport.graph.num_nodes == expected.num_nodes == transport.num_nodes
    wrapped = GraphTransport(transport, method="network_simplex")
    np.testing.assert_array_equal(wrapped.edge_index, transport.edge_index)
    np.testing.assert_array_equal(wrapped.component, transport.component)
    assert wrapped.num_components == transport.num_components == 1
