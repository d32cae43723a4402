"""Tests for graphwgan.ot.local: local solves against the dense oracle and the whole-graph ruler.

Oracle: ``ot.emd2`` on the dense shortest-path matrix from ``scipy.sparse.csgraph.dijkstra``
(test-only), and :func:`graphwgan.wasserstein` on the whole graph.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import ot
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from graphwgan import to_graph, wasserstein
from graphwgan.graph import undirected_edges
from graphwgan.ot import LocalWassersteinResult, wasserstein_local


@pytest.fixture(autouse=True)
def _simplex_path(monkeypatch):
    # these tests are about the reductions and the network simplex: unit lengths stay off the
    # compiled solver here (tests/ot/test_integer_transport.py tests that one)
    import graphwgan.ot.local as local

    monkeypatch.setattr(local, "_INTEGER_MIN_ENTRIES", float("inf"))


def _weighted(graph: nx.Graph, seed: int) -> nx.Graph:
    rng = np.random.default_rng(seed)
    graph = graph.copy()
    for a, b in graph.edges:
        graph.edges[a, b]["weight"] = float(rng.uniform(0.5, 3.0))
    return graph


def _dense_oracle(graph: nx.Graph, mu: np.ndarray, nu: np.ndarray) -> np.ndarray:
    uv, w = undirected_edges(to_graph(graph))
    n = graph.number_of_nodes()
    matrix = sp.csr_array((np.r_[w, w], (np.r_[uv[0], uv[1]], np.r_[uv[1], uv[0]])), shape=(n, n))
    cost = dijkstra(matrix, directed=False)
    return np.array([ot.emd2(a, b, cost) for a, b in zip(mu, nu, strict=True)])


def _local_pairs(graph: nx.Graph, k: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs of random masses on the closed neighbourhoods of the two ends of random edges."""
    rng = np.random.default_rng(seed)
    n = graph.number_of_nodes()
    edges = list(graph.edges)
    mu, nu, radius = np.zeros((k, n)), np.zeros((k, n)), np.zeros(k)
    longest = {x: max((graph.edges[x, z].get("weight", 1.0) for z in graph[x]), default=0.0) for x in graph}
    for row in range(k):
        a, b = edges[int(rng.integers(len(edges)))]
        for target, centre in ((mu, a), (nu, b)):
            support = [centre, *graph[centre]]
            target[row, support] = rng.random(len(support))
        nu[row] *= mu[row].sum() / nu[row].sum()
        radius[row] = longest[a] + graph.edges[a, b].get("weight", 1.0) + longest[b]
    return mu, nu, radius


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("family", ["karate", "scale_free", "grid"])
def test_local_equals_dense_oracle_and_whole_graph(family, weighted):
    graph = {
        "karate": nx.karate_club_graph(),
        "scale_free": nx.barabasi_albert_graph(60, 3, seed=1),
        "grid": nx.grid_2d_graph(6, 5),
    }[family]
    graph = nx.convert_node_labels_to_integers(graph)
    for a, b in graph.edges:
        graph.edges[a, b].pop("weight", None)
    if weighted:
        graph = _weighted(graph, seed=3)
    mu, nu, radius = _local_pairs(graph, 25, seed=2)
    result = wasserstein_local(graph, sp.csr_array(mu), sp.csr_array(nu), radius=radius)
    assert isinstance(result, LocalWassersteinResult)
    oracle = _dense_oracle(graph, mu, nu)
    np.testing.assert_allclose(result.distance, oracle, rtol=1e-11, atol=1e-12)
    whole = np.array([wasserstein(graph, a, b).distance for a, b in zip(mu, nu, strict=True)])
    np.testing.assert_allclose(result.distance, whole, rtol=1e-11, atol=1e-12)
    assert np.all(result.duality_gap <= 1e-12)
    # the radius only limits the searches: no radius gives the same values
    unlimited = wasserstein_local(graph, mu, nu)
    np.testing.assert_allclose(unlimited.distance, result.distance, rtol=1e-13, atol=1e-14)


def test_common_mass_cancels_and_closed_forms():
    path = nx.path_graph(5)
    mu = np.array([[0.5, 0.5, 0, 0, 0], [0.2, 0.3, 0.5, 0, 0], [1.0, 0, 0, 0, 0]])
    nu = np.array([[0.5, 0, 0, 0, 0.5], [0.2, 0.3, 0, 0, 0.5], [1.0, 0, 0, 0, 0]])
    result = wasserstein_local(path, mu, nu)
    np.testing.assert_allclose(result.distance, [1.5, 1.0, 0.0], rtol=1e-15)
    assert result.support_size.tolist() == [[1, 1], [1, 1], [0, 0]]


def test_radius_too_small_is_an_error_not_a_wrong_value():
    path = nx.path_graph(5)
    with pytest.raises(ValueError, match="radius 2 of pair 0 is smaller than the distance between support nodes 0"):
        wasserstein_local(path, np.eye(5)[[0]], np.eye(5)[[4]], radius=2.0)


def test_supports_in_different_components_are_named():
    graph = nx.disjoint_union(nx.path_graph(3), nx.path_graph(3))
    with pytest.raises(ValueError, match=r"connected components 0 \(node 0\) and 1 \(node 4\)"):
        wasserstein_local(graph, np.eye(6)[[0]], np.eye(6)[[4]])


@pytest.mark.parametrize(
    ("mu", "nu", "match"),
    [
        (np.array([[1.0, 0, 0]]), np.array([[0, 0, 2.0]]), "same total mass"),
        (np.array([[1.0, np.nan, 0]]), np.array([[0, 0, 1.0]]), "NaN or infinite"),
        (np.array([[2.0, -1.0, 0]]), np.array([[0, 0, 1.0]]), "negative"),
        (np.array([[1.0, 0]]), np.array([[0, 1.0]]), "2 columns but the graph has 3 nodes"),
        (np.ones((2, 3)), np.ones((1, 3)), "mu has 2 rows but nu has 1"),
    ],
)
def test_bad_masses(mu, nu, match):
    with pytest.raises(ValueError, match=match):
        wasserstein_local(nx.path_graph(3), mu, nu)


def test_inputs_are_not_modified():
    mu = sp.csr_array(np.array([[0.5, 0.5, 0.0]]))
    nu = np.array([[0.0, 0.5, 0.5]])
    before = (mu.toarray().copy(), nu.copy())
    wasserstein_local(nx.path_graph(3), mu, nu)
    np.testing.assert_array_equal(mu.toarray(), before[0])
    np.testing.assert_array_equal(nu, before[1])


# --------------------------------------------------------------------------------------------
# the engine's paths: level searches, reductions, large blocks, threads, POT's compiled solver
# --------------------------------------------------------------------------------------------


_UNIT_FAMILIES = {
    "star": lambda: nx.star_graph(9),
    "path": lambda: nx.path_graph(12),
    "tree": lambda: nx.random_labeled_tree(60, seed=3),
    "karate": nx.karate_club_graph,
    "powerlaw": lambda: nx.powerlaw_cluster_graph(150, 3, 0.5, seed=7),
    "dense": lambda: nx.gnp_random_graph(60, 0.5, seed=5),
    "grid": lambda: nx.grid_2d_graph(8, 7),
    "scale_free": lambda: nx.barabasi_albert_graph(200, 5, seed=2),
}


def _unit_graph(family: str) -> nx.Graph:
    """A graph of ``_UNIT_FAMILIES`` with nodes 0..n-1 and unit lengths (no ``weight`` attribute)."""
    graph = nx.convert_node_labels_to_integers(_UNIT_FAMILIES[family]())
    for a, b in graph.edges:
        graph.edges[a, b].pop("weight", None)
    return graph


def _curvature_pairs(graph: nx.Graph) -> tuple[sp.csr_array, sp.csr_array]:
    """The lazy walk measures (alpha = 1/2, uniform) of the two ends of every edge."""
    n = graph.number_of_nodes()
    rows = []
    for x in range(n):
        m = np.zeros(n)
        m[x] = 0.5
        m[list(graph[x])] += 0.5 / graph.degree(x)
        rows.append(m)
    walk = np.array(rows)
    u, v = np.array(list(graph.edges)).T
    return sp.csr_array(walk[u]), sp.csr_array(walk[v])


def test_level_searches_equal_dijkstra():
    import graphwgan.ot.local as local

    graph = nx.barabasi_albert_graph(80, 3, seed=4)
    matrix = nx.to_scipy_sparse_array(graph, format="csr", dtype=np.float64)
    sources = np.array([0, 5, 17, 79])
    for radius in (1, 2, 3, 5):
        levels = local._distance_rows(matrix, matrix.astype(np.float32), sources, radius * (1 + 1e-12), True)
        assert levels.dtype == np.uint8
        expected = dijkstra(matrix, directed=False, indices=sources, limit=radius * (1 + 1e-12), unweighted=True)
        np.testing.assert_array_equal(local._LEVEL_COST[levels], expected)


def test_reductions_merge_rows_that_differ_by_a_constant():
    # a hub with many leaves next to another hub: the leaves' rows differ from each other by 0 and
    # from the hub's row by 1, so the blocks shrink to a few rows; the values must not change
    graph = nx.barabasi_albert_graph(60, 2, seed=3)
    for hub in (0, 1):
        for leaf in range(12):
            graph.add_edge(hub, f"leaf{hub}-{leaf}")
    graph = nx.convert_node_labels_to_integers(graph)
    mu, nu = _curvature_pairs(graph)
    result = wasserstein_local(graph, mu, nu, radius=3.0)
    oracle = _dense_oracle(graph, mu.toarray(), nu.toarray())
    np.testing.assert_allclose(result.distance, oracle, rtol=1e-12, atol=1e-13)


def test_a_wrong_reduction_is_caught_by_the_certificate_and_solved_again(monkeypatch):
    import graphwgan.ot.local as local

    graph = nx.convert_node_labels_to_integers(nx.karate_club_graph())
    for a, b in graph.edges:
        graph.edges[a, b].pop("weight")
    mu, nu = _curvature_pairs(graph)
    expected = wasserstein_local(graph, mu, nu, radius=3.0).distance
    # zero hash weights (float ones, and the exact integer ones of unit lengths) put every row of a
    # block in one group: most merges are then wrong
    monkeypatch.setattr(local, "_hash_weights", lambda size: np.zeros((2, size)))
    monkeypatch.setattr(local, "_exact_weights",
                        lambda cost, side: (np.zeros((2, side)), np.zeros((2, side)), 1.0))
    failed = []
    check = local._check_reduced
    certify = local._certify_reduced_block

    def counting_check(*args):
        result = check(*args)
        failed.append(int(result[2].sum()))
        return result

    def counting_certify(*args):
        result = certify(*args)
        failed.append(int(result is None))
        return result

    monkeypatch.setattr(local, "_check_reduced", counting_check)
    monkeypatch.setattr(local, "_certify_reduced_block", counting_certify)
    oracle = _dense_oracle(graph, mu.toarray(), nu.toarray())
    for large_block in (4096, 0):  # the batched blocks, then every hard block alone
        monkeypatch.setattr(local, "_LARGE_BLOCK", large_block)
        failed.clear()
        again = wasserstein_local(graph, mu, nu, radius=3.0)
        assert sum(failed) > 0  # the wrong reductions were caught, and the blocks solved again
        np.testing.assert_allclose(again.distance, expected, rtol=1e-13, atol=1e-14)
        np.testing.assert_allclose(again.distance, oracle, rtol=1e-12)


@pytest.mark.parametrize("weighted", [False, True])
def test_two_rows_or_two_columns_closed_form_equals_pot(weighted):
    import graphwgan.ot.local as local

    rng = np.random.default_rng(11)
    for k in (2, 3, 7):
        m = 40
        cost0 = rng.integers(1, 4, (m, k)).astype(float)
        cost1 = rng.integers(1, 4, (m, k)).astype(float)
        if weighted:
            cost0 += rng.random((m, k))
            cost1 += rng.random((m, k))
        mass = rng.random((m, k))
        mass /= mass.sum(axis=1, keepdims=True)
        demand0 = rng.random(m) * 0.999 + 0.0005
        flow0, flow1, item_dual, side_dual = local._two_sides(cost0, cost1, mass, demand0)
        for i in range(m):
            cost = np.stack([cost0[i], cost1[i]], axis=1)
            value = ot.emd2(mass[i], np.array([demand0[i], 1 - demand0[i]]), cost)
            np.testing.assert_allclose((flow0[i] * cost0[i] + flow1[i] * cost1[i]).sum(), value, rtol=1e-13)
            np.testing.assert_allclose(flow0[i].sum(), demand0[i], rtol=1e-13)
            assert np.all(flow0[i] >= 0) and np.all(flow1[i] >= -1e-16)
            # feasible duals with the same value: the plan is optimal
            assert np.all(item_dual[i] + side_dual[i] <= cost0[i] + 1e-13)
            assert np.all(item_dual[i] <= cost1[i] + 1e-13)
            np.testing.assert_allclose((item_dual[i] * mass[i]).sum() + side_dual[i] * demand0[i], value, rtol=1e-12)


@pytest.mark.parametrize("family", ["star", "path", "tree", "karate", "powerlaw", "dense"])
def test_every_block_shape_equals_dense_oracle(monkeypatch, family):
    """Curvature-like pairs on graphs whose reduced blocks have one or two rows or columns (stars,
    paths, trees), a mix (karate, a power-law cluster graph) and large blocks (a dense random graph);
    the batched and the one-at-a-time paths, on one thread and on several."""
    import graphwgan.ot.local as local

    graph = _unit_graph(family)
    mu, nu = _curvature_pairs(graph)
    oracle = _dense_oracle(graph, mu.toarray(), nu.toarray())
    monkeypatch.setattr(local, "_POOL_MIN_ENTRIES", 0)  # threads even for these small problems
    for large_block in (4096, 64, 0):
        monkeypatch.setattr(local, "_LARGE_BLOCK", large_block)
        for n_jobs in (1, 2):
            result = wasserstein_local(graph, mu, nu, radius=3.0, n_jobs=n_jobs)
            np.testing.assert_allclose(result.distance, oracle, rtol=1e-12, atol=1e-13)
            assert np.all(result.duality_gap <= 1e-12)


@pytest.mark.parametrize("weighted", [False, True])
def test_large_blocks_and_threads_give_the_same_values(monkeypatch, weighted):
    import graphwgan.ot.local as local

    graph = nx.barabasi_albert_graph(120, 4, seed=6)
    if weighted:
        graph = _weighted(graph, seed=6)
    mu, nu, radius = _local_pairs(graph, 40, seed=6)
    monkeypatch.setattr(local, "_POOL_MIN_ENTRIES", 0)  # threads even for this small problem
    base = wasserstein_local(graph, mu, nu, radius=radius, n_jobs=1).distance
    np.testing.assert_allclose(base, _dense_oracle(graph, mu, nu), rtol=1e-11, atol=1e-12)
    threads = wasserstein_local(graph, mu, nu, radius=radius, n_jobs=3).distance
    np.testing.assert_array_equal(threads, base)
    # every hard block through the one-at-a-time path (gathered, sorted, solved, certified alone)
    monkeypatch.setattr(local, "_LARGE_BLOCK", 0)
    for n_jobs in (1, 2):
        large = wasserstein_local(graph, mu, nu, radius=radius, n_jobs=n_jobs).distance
        np.testing.assert_allclose(large, base, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("n_jobs", [0, -2, 1.5, "2", True])
def test_bad_n_jobs(n_jobs):
    with pytest.raises(ValueError, match="n_jobs must be a positive integer, -1 or None"):
        wasserstein_local(nx.path_graph(3), np.eye(3)[[0]], np.eye(3)[[2]], n_jobs=n_jobs)


def test_pot_compiled_solver_is_checked_before_use(monkeypatch):
    import ot.lp.emd_wrap

    import graphwgan.ot.local as local

    graph = nx.convert_node_labels_to_integers(nx.karate_club_graph())
    mu, nu, radius = _local_pairs(graph, 20, seed=1)
    expected = wasserstein_local(graph, mu, nu, radius=radius).distance
    assert local._network_simplex_engine() == "emd_c"  # this POT's layout passes the check
    # a compiled function with another signature, another result layout or a wrong answer is not used
    def other_signature(*args):
        raise TypeError("emd_c() takes exactly 7 positional arguments")

    def other_layout(a, b, m, *rest):
        return np.zeros((a.size, b.size)), 0.0, a, b

    def wrong_answer(a, b, m, *rest):
        return np.full((a.size, b.size), 0.25), 0.5, np.zeros(a.size), np.zeros(b.size), 1

    for impostor in (other_signature, other_layout, wrong_answer):
        monkeypatch.setattr(ot.lp.emd_wrap, "emd_c", impostor)
        monkeypatch.setattr(local, "_ENGINE", None)
        assert local._network_simplex_engine() == "ot.emd"
        np.testing.assert_allclose(wasserstein_local(graph, mu, nu, radius=radius).distance, expected,
                                   rtol=1e-12, atol=1e-13)
    monkeypatch.delattr(ot.lp.emd_wrap, "emd_c")
    monkeypatch.setattr(local, "_ENGINE", None)
    assert local._network_simplex_engine() == "ot.emd"
    monkeypatch.setattr(local, "_ENGINE", None)  # the next test resolves the engine again


@pytest.mark.parametrize("weighted", [False, True])
def test_two_point_sides_through_the_solver_equal_dense_oracle(monkeypatch, weighted):
    import graphwgan.ot.local as local

    graph = nx.convert_node_labels_to_integers(nx.grid_2d_graph(7, 6))
    if weighted:
        graph = _weighted(graph, seed=4)
    rng = np.random.default_rng(8)
    n = graph.number_of_nodes()
    mu, nu = np.zeros((60, n)), np.zeros((60, n))
    for row in range(60):
        nodes = rng.choice(n, 7, replace=False)
        two, many = (nodes[:2], nodes[2:]) if row % 2 else (nodes[5:], nodes[:5])
        mu[row, two] = rng.random(2) + 0.1
        nu[row, many] = rng.random(5) + 0.1
        if row % 4 >= 2:
            mu[row], nu[row] = nu[row].copy(), mu[row].copy()
        nu[row] *= mu[row].sum() / nu[row].sum()
    shapes = []
    solve = local._solve_blocks

    def recording(context, blocks):
        shapes.extend(zip(blocks.nx.tolist(), blocks.ny.tolist(), strict=True))
        return solve(context, blocks)

    monkeypatch.setattr(local, "_solve_blocks", recording)
    result = wasserstein_local(graph, mu, nu)
    np.testing.assert_allclose(result.distance, _dense_oracle(graph, mu, nu), rtol=1e-12, atol=1e-13)
    assert any(a == 2 and b >= 3 for a, b in shapes) and any(b == 2 and a >= 3 for a, b in shapes)
