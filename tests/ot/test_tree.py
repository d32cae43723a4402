"""Tests for graphwgan.tree_wasserstein: the closed form on trees and forests."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from graphwgan import GraphTransport, tree_wasserstein, wasserstein


def _weighted_tree(n: int, seed: int, lengths: str = "uniform") -> nx.Graph:
    rng = np.random.default_rng(seed)
    tree = nx.random_labeled_tree(n, seed=seed)
    for u, v in tree.edges:
        if lengths == "uniform":
            tree[u][v]["weight"] = float(rng.uniform(0.1, 5.0))
        elif lengths == "integer":
            tree[u][v]["weight"] = int(rng.integers(1, 11))
    return tree


def _forest(seed: int) -> nx.Graph:
    rng = np.random.default_rng(seed)
    parts = [_weighted_tree(int(rng.integers(2, 30)), seed + i) for i in range(4)]
    parts += [nx.empty_graph(1), nx.path_graph(2), nx.star_graph(5)]
    return nx.disjoint_union_all(parts)


def _balanced_masses(graph: nx.Graph, seed: int, kind: str = "diffuse") -> tuple[np.ndarray, np.ndarray]:
    """Masses with equal totals on each tree of the forest (nodes labelled 0..n-1)."""
    rng = np.random.default_rng(seed)
    n = graph.number_of_nodes()
    mu, nu = np.zeros(n), np.zeros(n)
    for comp in nx.connected_components(graph):
        nodes = np.array(sorted(comp))
        total = float(rng.uniform(0.2, 2.0))
        for side in (mu, nu):
            if kind == "diffuse":
                values = rng.random(nodes.size)
                side[nodes] = total * values / values.sum()
            else:
                side[rng.choice(nodes)] += total
    return mu, nu


def explicit_tree_formula(graph: nx.Graph, mu: np.ndarray, nu: np.ndarray) -> tuple[float, dict]:
    """sum_e w_e |net mass on one side of e|, by deleting each edge; also the forced flows.

    Returns the distance and, per edge ``(u, v)`` with ``u < v``, the signed flow from ``u`` to
    ``v``: the net mass ``mu - nu`` of the side holding ``u``.
    """
    excess = mu - nu
    total = 0.0
    flows = {}
    for u, v, w in graph.edges(data="weight", default=1.0):
        cut = graph.copy()
        cut.remove_edge(u, v)
        a, b = min(u, v), max(u, v)
        side = list(nx.node_connected_component(cut, a))
        assert b not in side
        net = float(excess[side].sum())
        flows[(a, b)] = net
        total += w * abs(net)
    return total, flows


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("lengths", ["unit", "uniform", "integer"])
def test_tree_matches_explicit_formula_and_wasserstein(seed, lengths):
    tree = _weighted_tree(5 + 17 * seed, seed, lengths)
    for kind in ("diffuse", "point"):
        mu, nu = _balanced_masses(tree, seed, kind)
        expected, flows = explicit_tree_formula(tree, mu, nu)
        result = tree_wasserstein(tree, mu, nu)
        assert result.distance == pytest.approx(expected, rel=1e-12, abs=1e-14)
        assert wasserstein(tree, mu, nu).distance == pytest.approx(expected, rel=1e-12, abs=1e-14)
        # the flow on each edge is forced: the net mass of the side it cuts off
        for e, (u, v) in enumerate(result.edge_index.T):
            assert result.flow[e] == pytest.approx(flows[(int(u), int(v))], rel=1e-9, abs=1e-12)
        # the potential is an optimal dual: 1-Lipschitz, zero gap, zero mean
        u, v = result.edge_index
        assert np.all(np.abs(result.potential[u] - result.potential[v]) <= result.edge_weight * (1 + 1e-9))
        assert float(result.potential @ (mu - nu)) == pytest.approx(expected, rel=1e-9, abs=1e-12)
        assert abs(result.potential.mean()) <= 1e-9 * max(1.0, np.abs(result.potential).max())


@pytest.mark.parametrize("seed", range(4))
def test_forest_with_several_components(seed):
    forest = _forest(seed)
    assert nx.is_forest(forest) and nx.number_connected_components(forest) == 7
    mu, nu = _balanced_masses(forest, seed)
    expected, _ = explicit_tree_formula(forest, mu, nu)
    result = tree_wasserstein(forest, mu, nu)
    assert result.distance == pytest.approx(expected, rel=1e-12)
    assert wasserstein(forest, mu, nu).distance == pytest.approx(expected, rel=1e-12)
    # zero-mean potential on every tree of the forest
    for comp in nx.connected_components(forest):
        nodes = sorted(comp)
        assert abs(result.potential[nodes].mean()) <= 1e-9 * max(1.0, np.abs(result.potential).max())


def test_tree_hand_computed():
    # star centre 0 with leaves 1, 2, 3 of lengths 1, 2, 3: move 1 from leaf 1 to leaf 3 costs 4
    star = nx.Graph([(0, 1, {"weight": 1.0}), (0, 2, {"weight": 2.0}), (0, 3, {"weight": 3.0})])
    result = tree_wasserstein(star, [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0])
    assert result.distance == 4.0
    np.testing.assert_array_equal(result.edge_index, [[0, 0, 0], [1, 2, 3]])
    # flow 1 -> 0 is negative on edge (0, 1); 0 -> 3 positive on edge (0, 3)
    np.testing.assert_array_equal(result.flow, [-1.0, 0.0, 1.0])


def test_tree_on_path_is_cumulative_difference():
    # on a path W1 = sum_i w_i |CDF_mu(i) - CDF_nu(i)|
    rng = np.random.default_rng(0)
    n = 40
    lengths = rng.uniform(0.1, 5.0, n - 1)
    path = nx.Graph()
    path.add_nodes_from(range(n))
    path.add_weighted_edges_from((i, i + 1, lengths[i]) for i in range(n - 1))
    mu, nu = rng.random(n), rng.random(n)
    nu *= mu.sum() / nu.sum()
    expected = float(lengths @ np.abs(np.cumsum(mu - nu)[:-1]))
    assert tree_wasserstein(path, mu, nu).distance == pytest.approx(expected, rel=1e-12)


def test_tree_accepts_a_prepared_transport():
    tree = _weighted_tree(30, 9)
    mu, nu = _balanced_masses(tree, 9)
    transport = GraphTransport(tree)
    assert tree_wasserstein(transport, mu, nu).distance == pytest.approx(
        tree_wasserstein(tree, mu, nu).distance, rel=1e-15
    )


@pytest.mark.parametrize("graph", [
    nx.cycle_graph(3),
    nx.cycle_graph(10),
    nx.grid_2d_graph(3, 3),
    nx.disjoint_union(nx.random_labeled_tree(8, seed=1), nx.cycle_graph(4)),  # forest plus one cycle
    nx.lollipop_graph(4, 6),
], ids=["triangle", "cycle", "grid", "forest_and_cycle", "lollipop"])
def test_tree_rejects_cycles(graph):
    n = graph.number_of_nodes()
    mu = np.full(n, 1.0 / n)
    with pytest.raises(ValueError, match="tree or forest"):
        tree_wasserstein(graph, mu, mu)
    with pytest.raises(ValueError, match="use wasserstein"):
        tree_wasserstein(GraphTransport(graph), mu, mu)


def test_tree_ignores_self_loops_and_parallel_edges():
    multi = nx.MultiGraph([(0, 1, {"weight": 3.0}), (0, 1, {"weight": 1.0}), (1, 2, {"weight": 2.0}),
                           (2, 2, {"weight": 1.0})])
    result = tree_wasserstein(multi, [1.0, 0.0, 0.0], [0.0, 0.0, 1.0])
    assert result.distance == 3.0
