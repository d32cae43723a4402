"""Tests for graphwgan.curvature: exact Ollivier-Ricci curvature.

Oracles (test-only):

* GraphRicciCurvature 0.6.1, ``OllivierRicci(G, alpha, method="OTD")`` (skipped with a reason when
  it cannot be imported; install with ``pip install --no-deps GraphRicciCurvature==0.6.1 networkit
  python-louvain``);
* ``ot.emd2`` on the dense shortest-path matrix between the two walk measures, built here from the
  definition, for the data sets and for weighted graphs;
* closed forms on complete graphs, cycles and trees.
"""

from __future__ import annotations

import copy
import math

import networkx as nx
import numpy as np
import ot
import pytest
import scipy.sparse as sp
import torch
from scipy.sparse.csgraph import dijkstra

from graphwgan import to_graph
from graphwgan.curvature import CurvatureResult, ollivier_ricci
from graphwgan.graph import undirected_edges

TOL = 1e-9


def _karate() -> nx.Graph:
    graph = nx.karate_club_graph()
    for a, b in graph.edges:
        graph.edges[a, b].pop("weight", None)  # the classic unweighted karate club
    return graph


def _grc(graph: nx.Graph, **options) -> dict:
    module = pytest.importorskip(
        "GraphRicciCurvature.OllivierRicci",
        reason="GraphRicciCurvature (test-only oracle) is not installed: "
        "pip install --no-deps GraphRicciCurvature==0.6.1 networkit python-louvain",
    )
    orc = module.OllivierRicci(graph, method="OTD", proc=1, verbose="ERROR", **options)
    orc.compute_ricci_curvature()
    return nx.get_edge_attributes(orc.G, "ricciCurvature"), nx.get_node_attributes(orc.G, "ricciCurvature")


def _oracle(graph: nx.Graph, edges, alpha=0.5, exp_power=2.0, base=math.e) -> np.ndarray:
    """The definition, computed densely: walk measures and ot.emd2 on all-pairs distances."""
    data = to_graph(graph)
    uv, w = undirected_edges(data)
    n = data.num_nodes
    matrix = sp.csr_array((np.r_[w, w], (np.r_[uv[0], uv[1]], np.r_[uv[1], uv[0]])), shape=(n, n))
    dist = dijkstra(matrix, directed=False)
    index = {node: i for i, node in enumerate(graph.nodes)}

    def measure(x):
        m = np.zeros(n)
        nbrs = list(graph[x])
        raw = np.array([base ** (-(graph.edges[x, z].get("weight", 1.0) ** exp_power)) for z in nbrs])
        share = raw / raw.sum() if raw.sum() > 1e-7 else np.full(len(nbrs), 1 / len(nbrs))
        m[[index[z] for z in nbrs]] = (1 - alpha) * share
        m[index[x]] += alpha
        return m

    return np.array([1 - ot.emd2(measure(a), measure(b), dist) / dist[index[a], index[b]] for a, b in edges])


# --------------------------------------------------------------------------------------------
# against GraphRicciCurvature
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["compiled", "simplex"])
def test_karate_equals_graphricci_curvature(engine, monkeypatch):
    # unit lengths take the compiled solver by default; the simplex path is checked against the oracle too
    if engine == "simplex":
        import graphwgan.ot.local as local

        monkeypatch.setattr(local, "_INTEGER_MIN_ENTRIES", float("inf"))
    graph = _karate()
    edge_ref, node_ref = _grc(graph, alpha=0.5)
    result = ollivier_ricci(graph, alpha=0.5, verbose=False)
    assert isinstance(result, CurvatureResult)
    assert set(result.edge) == set(graph.edges) and len(edge_ref) == 78
    assert max(abs(result.edge[e] - edge_ref[e]) for e in edge_ref) <= TOL
    assert max(abs(result.node[x] - node_ref[x]) for x in node_ref) <= TOL


@pytest.mark.parametrize("options", [{"alpha": 0.0}, {"alpha": 0.3, "exp_power": 0.0}, {"alpha": 0.9, "base": 2.0}])
def test_weighted_graph_equals_graphricci_curvature(options):
    rng = np.random.default_rng(4)
    graph = nx.convert_node_labels_to_integers(nx.les_miserables_graph())
    for a, b in graph.edges:
        graph.edges[a, b]["weight"] = float(rng.uniform(0.2, 2.5))
    edge_ref, _ = _grc(graph, **options)
    result = ollivier_ricci(graph, verbose=False, **options)
    assert max(abs(result.edge[e] - edge_ref[e]) for e in edge_ref) <= TOL
    # some edges are not shortest paths there: the denominator is d(u, v), not w(u, v)
    assert np.any(result.distance < np.array([graph.edges[e]["weight"] for e in graph.edges]) - 1e-9)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["polblogs", "cora_ml"])
def test_datasets_equal_graphricci_curvature(data_root, name):
    from graphwgan.datasets import load

    data = load(name, largest_component=True)
    graph = nx.Graph()
    graph.add_nodes_from(range(data.num_nodes))
    graph.add_edges_from(data.edge_index.T.tolist())
    edge_ref, _ = _grc(graph, alpha=0.5)
    result = ollivier_ricci(graph, verbose=False)
    assert max(abs(result.edge[e] - edge_ref[e]) for e in edge_ref) <= TOL


@pytest.mark.parametrize("name", [pytest.param("polblogs", marks=pytest.mark.slow), "cora_ml"])
def test_datasets_equal_dense_oracle_on_sampled_edges(data_root, name):
    from graphwgan.datasets import load

    data = load(name, largest_component=True)
    result = ollivier_ricci(data, verbose=False)
    rng = np.random.default_rng(0)
    pick = rng.choice(result.edge_index.shape[1], 40, replace=False)
    graph = nx.Graph()
    graph.add_nodes_from(range(data.num_nodes))
    graph.add_edges_from(data.edge_index.T.tolist())
    edges = [tuple(e) for e in result.edge_index[:, pick].T.tolist()]
    np.testing.assert_allclose(result.edge[pick], _oracle(graph, edges), rtol=0, atol=TOL)
    assert result.edge.shape == (result.edge_index.shape[1],) and result.node.shape == (data.num_nodes,)


# --------------------------------------------------------------------------------------------
# closed forms and the definition
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("family", ["star", "path", "tree", "karate", "powerlaw", "barbell"])
def test_sparse_shapes_equal_dense_oracle(family):
    """Graphs whose curvature blocks reduce to one or two rows or columns (an end of degree 1 or 2),
    mixed with larger ones; unit lengths, so the searches stop one level short of the radius."""
    graph = {
        "star": nx.star_graph(12),
        "path": nx.path_graph(15),
        "tree": nx.random_labeled_tree(80, seed=2),
        "karate": _karate(),
        "powerlaw": nx.powerlaw_cluster_graph(300, 5, 0.5, seed=1),
        "barbell": nx.barbell_graph(7, 3),
    }[family]
    result = ollivier_ricci(graph, verbose=False)
    edges = list(graph.edges)
    np.testing.assert_allclose([result.edge[e] for e in edges], _oracle(graph, edges), rtol=0, atol=TOL)
    ours = np.array([result.edge[e] for e in edges])
    np.testing.assert_allclose(ollivier_ricci(graph, verbose=False, n_jobs=1).curvature, result.curvature,
                               rtol=0, atol=1e-14)
    assert np.all(np.isfinite(ours))


@pytest.mark.parametrize("n", [3, 5, 8])
def test_complete_graph_closed_form(n):
    # m_u and m_v agree except alpha - (1-alpha)/(n-1) moved from u to v at distance 1
    alpha = 0.5
    result = ollivier_ricci(nx.complete_graph(n), alpha=alpha, verbose=False)
    expected = 1 - (alpha - (1 - alpha) / (n - 1))
    np.testing.assert_allclose(list(result.edge.values()), expected, rtol=0, atol=1e-14)
    np.testing.assert_allclose(list(result.node.values()), expected, rtol=0, atol=1e-14)


def test_long_cycle_and_path_closed_forms():
    # on a cycle of length >= 6 the lazy walks differ by a shift: W1 = 1 (alpha=1/2 gives kappa 0)
    cycle = ollivier_ricci(nx.cycle_graph(9), alpha=0.5, verbose=False)
    np.testing.assert_allclose(list(cycle.edge.values()), 0.0, atol=1e-14)
    # an inner edge of a long path: m_u = (1/4, 1/2, 1/4) shifted by one, W1 = 1
    path = ollivier_ricci(nx.path_graph(6), alpha=0.5, verbose=False)
    assert path.edge[(2, 3)] == pytest.approx(0.0, abs=1e-14)


def test_weighted_and_plain_forms_against_the_definition():
    graph = nx.barabasi_albert_graph(40, 2, seed=5)
    rng = np.random.default_rng(5)
    for a, b in graph.edges:
        graph.edges[a, b]["weight"] = float(rng.integers(1, 4))
    for options in ({}, {"exp_power": 0.0}, {"alpha": 0.25, "exp_power": 1.0, "base": 3.0}):
        result = ollivier_ricci(graph, verbose=False, **options)
        edges = list(graph.edges)
        np.testing.assert_allclose([result.edge[e] for e in edges], _oracle(graph, edges, **options), atol=TOL)


def test_input_forms_agree_and_align_with_edge_index():
    graph = _karate()
    from_nx = ollivier_ricci(graph, verbose=False)
    data = to_graph(graph)
    from_data = ollivier_ricci(data, verbose=False)
    from_sparse = ollivier_ricci(nx.to_scipy_sparse_array(graph, weight=None), verbose=False)
    for other in (from_data, from_sparse):
        np.testing.assert_array_equal(other.edge_index, from_nx.edge_index)
        np.testing.assert_allclose(other.edge, from_nx.curvature, rtol=0, atol=1e-15)
    for (a, b), value in zip(from_nx.edge_index.T.tolist(), from_data.edge.tolist(), strict=True):
        assert from_nx.edge[(a, b)] == pytest.approx(value, abs=1e-15)


def test_labelled_nodes_keep_their_keys():
    graph = nx.relabel_nodes(nx.cycle_graph(4), {0: "a", 1: "b", 2: "c", 3: "d"})
    result = ollivier_ricci(graph, verbose=False)
    assert set(result.edge) == set(graph.edges) and set(result.node) == {"a", "b", "c", "d"}


# --------------------------------------------------------------------------------------------
# bad input and documented behaviour
# --------------------------------------------------------------------------------------------


def test_self_loops_are_ignored_and_get_no_curvature():
    graph = _karate()
    looped = graph.copy()
    looped.add_edge(0, 0)
    result = ollivier_ricci(looped, verbose=False)
    assert (0, 0) not in result.edge
    plain = ollivier_ricci(graph, verbose=False)
    assert max(abs(result.edge[e] - plain.edge[e]) for e in plain.edge) == 0.0


def test_edge_index_with_self_loops_and_repeated_columns():
    graph = _karate()
    clean = ollivier_ricci(graph, verbose=False)
    uv = clean.edge_index
    # every edge in both directions and once more, plus self-loop columns on nodes 0 and 5
    messy = torch.from_numpy(np.concatenate([uv, uv[::-1], uv, [[0, 5], [0, 5]]], axis=1))
    result = ollivier_ricci(messy, verbose=False)
    np.testing.assert_array_equal(result.edge_index, uv)
    np.testing.assert_allclose(result.edge, clean.curvature, rtol=0, atol=1e-15)


def test_parallel_entries_keep_the_shortest_length():
    from torch_geometric.data import Data

    # the cycle 0-1-2-3-0 with edge (1, 2) given twice, with lengths 3 and 1: one edge of length 1
    data = Data(edge_index=torch.tensor([[0, 1, 1, 2, 3], [1, 2, 2, 3, 0]]),
                edge_weight=torch.tensor([1.0, 3.0, 1.0, 1.0, 1.0], dtype=torch.float64), num_nodes=4)
    result = ollivier_ricci(data, verbose=False)
    cycle = ollivier_ricci(nx.cycle_graph(4), verbose=False)
    np.testing.assert_allclose(result.curvature, cycle.curvature, rtol=0, atol=1e-15)


@pytest.mark.parametrize("bad", [0.0, -2.0, float("nan"), float("inf")])
def test_bad_lengths_in_every_input_form(bad):
    from torch_geometric.data import Data

    data = Data(edge_index=torch.tensor([[0, 1], [1, 2]]), edge_weight=torch.tensor([1.0, bad]), num_nodes=3)
    with pytest.raises(ValueError, match="positive finite lengths"):
        ollivier_ricci(data, verbose=False)
    matrix = sp.csr_array(np.array([[0, 1.0, 0], [1.0, 0, bad], [0, bad, 0]]))
    if bad != 0.0:  # a stored zero in a sparse matrix is an absent edge, not a zero length
        with pytest.raises(ValueError, match="positive finite lengths"):
            ollivier_ricci(matrix, verbose=False)


def test_multigraph_and_directed_graph_are_refused():
    with pytest.raises(ValueError, match="needs a simple graph, got a MultiGraph"):
        ollivier_ricci(nx.MultiGraph([(0, 1), (0, 1)]), verbose=False)
    with pytest.raises(ValueError, match="needs an undirected graph, got a DiGraph"):
        ollivier_ricci(nx.DiGraph([(0, 1)]), verbose=False)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_bad_weights(bad):
    graph = nx.path_graph(3)
    graph.edges[0, 1]["weight"] = bad
    with pytest.raises(ValueError, match="positive finite lengths"):
        ollivier_ricci(graph, verbose=False)


@pytest.mark.parametrize(
    ("options", "match"),
    [({"alpha": 1.5}, "alpha must lie in"), ({"alpha": float("nan")}, "alpha must be a finite"),
     ({"exp_power": -1}, "exp_power must be non-negative"), ({"base": 0}, "base must be positive")],
)
def test_bad_options(options, match):
    with pytest.raises(ValueError, match=match):
        ollivier_ricci(nx.path_graph(3), verbose=False, **options)


def test_isolated_node_and_components():
    graph = nx.disjoint_union(nx.complete_graph(4), nx.cycle_graph(9))
    graph.add_node("lonely")
    result = ollivier_ricci(graph, verbose=False)
    assert math.isnan(result.node["lonely"])
    # each component has its own curvature, as if computed alone
    alone = ollivier_ricci(nx.complete_graph(4), verbose=False)
    assert result.edge[(0, 1)] == pytest.approx(alone.edge[(0, 1)], abs=1e-15)
    assert result.edge[(4, 5)] == pytest.approx(0.0, abs=1e-14)


def test_components_and_isolated_nodes_in_array_input():
    # two triangles and an isolated node 6, as an edge_index: per-component curvature, NaN node
    uv = np.array([[0, 1, 0, 3, 4, 3], [1, 2, 2, 4, 5, 5]])
    from torch_geometric.data import Data

    result = ollivier_ricci(Data(edge_index=torch.from_numpy(uv), num_nodes=7), verbose=False)
    triangle = ollivier_ricci(nx.complete_graph(3), verbose=False)
    np.testing.assert_allclose(result.curvature, triangle.curvature[0], rtol=0, atol=1e-15)
    assert result.node.shape == (7,) and math.isnan(result.node[6]) and np.all(np.isfinite(result.node[:6]))


def test_graph_without_edges():
    graph = nx.empty_graph(3)
    result = ollivier_ricci(graph, verbose=False)
    assert result.edge == {} and all(math.isnan(x) for x in result.node.values())


def test_caller_graph_is_not_modified():
    graph = _karate()
    before = copy.deepcopy(graph)
    ollivier_ricci(graph, verbose=False)
    assert nx.utils.graphs_equal(graph, before)
    assert all(not d for _, _, d in graph.edges(data=True))
