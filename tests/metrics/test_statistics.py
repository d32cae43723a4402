"""Tests for graphwgan.metrics: statistics against networkx / brute force, comparisons, errors."""

from __future__ import annotations

import itertools
import math

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
import scipy.stats
import torch

from graphwgan import metrics, to_graph
from graphwgan.metrics import statistics as statistics_module


def with_isolated_nodes():
    graph = nx.gnp_random_graph(30, 0.12, seed=4)
    graph.add_nodes_from(range(30, 34))  # four isolated nodes
    return graph


GRAPHS = {
    "er": lambda: nx.gnp_random_graph(40, 0.15, seed=1),
    "ba": lambda: nx.barabasi_albert_graph(60, 3, seed=2),
    "grid": lambda: nx.convert_node_labels_to_integers(nx.grid_2d_graph(5, 6)),
    "karate": nx.karate_club_graph,
    "isolated": with_isolated_nodes,
    "two_parts": lambda: nx.disjoint_union(nx.gnp_random_graph(15, 0.3, seed=3), nx.cycle_graph(5)),
}


@pytest.fixture(params=sorted(GRAPHS))
def graph(request):
    return GRAPHS[request.param]()


def brute_force_squares(graph):
    """4-cycles: each 4-node set carries up to three distinct cyclic orders."""
    count = 0
    for a, b, c, d in itertools.combinations(graph.nodes, 4):
        for w, x, y, z in ((a, b, c, d), (a, b, d, c), (a, c, b, d)):
            if graph.has_edge(w, x) and graph.has_edge(x, y) and graph.has_edge(y, z) and graph.has_edge(z, w):
                count += 1
    return count


def largest_component(graph):
    return graph.subgraph(max(nx.connected_components(graph), key=len)).copy()


# ----------------------------------------------------------------------------------------------
# each statistic against an independent computation
# ----------------------------------------------------------------------------------------------


def test_degree_and_count_statistics_match_networkx(graph):
    degrees = np.array([d for _, d in graph.degree()])
    assert metrics.max_degree(graph) == degrees.max()
    assert metrics.triangle_count(graph) == sum(nx.triangles(graph).values()) // 3
    assert metrics.wedge_count(graph) == sum(math.comb(int(d), 2) for d in degrees)
    assert metrics.claw_count(graph) == sum(math.comb(int(d), 3) for d in degrees)
    assert metrics.largest_component_size(graph) == len(max(nx.connected_components(graph), key=len))
    assert metrics.clustering_coefficient(graph) == pytest.approx(nx.transitivity(graph), rel=1e-12, abs=1e-15)


def test_assortativity_matches_networkx(graph):
    assert metrics.assortativity(graph) == pytest.approx(nx.degree_assortativity_coefficient(graph), abs=1e-12)


def test_square_count_matches_brute_force(graph):
    small = graph.subgraph(list(graph.nodes)[:25]).copy()  # brute force is O(n^4)
    assert metrics.square_count(small) == brute_force_squares(small)


@pytest.mark.parametrize(
    ("graph", "squares"),
    [
        (nx.cycle_graph(4), 1),
        (nx.complete_graph(4), 3),
        (nx.complete_graph(5), 15),  # C(5, 4) node sets x 3 cyclic orders
        (nx.complete_bipartite_graph(2, 3), 3),
        (nx.path_graph(6), 0),
        (nx.cycle_graph(5), 0),
    ],
)
def test_square_count_closed_forms(graph, squares):
    assert metrics.square_count(graph) == squares
    assert brute_force_squares(graph) == squares


def test_triangle_and_square_counts_in_blocks(monkeypatch):
    graph = nx.barabasi_albert_graph(80, 4, seed=5)
    expected = (metrics.triangle_count(graph), metrics.square_count(graph))
    monkeypatch.setattr(statistics_module, "_PRODUCT_ENTRIES", 10)  # one row per block
    assert (metrics.triangle_count(graph), metrics.square_count(graph)) == expected
    assert expected[0] == sum(nx.triangles(graph).values()) // 3


def test_gini_matches_mean_absolute_difference(graph):
    d = np.array([d for _, d in graph.degree()], dtype=float)
    expected = np.abs(d[:, None] - d[None, :]).sum() / (2 * d.size**2 * d.mean())
    assert metrics.gini_coefficient(graph) == pytest.approx(expected, rel=1e-12)


def test_edge_distribution_entropy_from_definition(graph):
    d = np.array([d for _, d in graph.degree()], dtype=float)
    m = graph.number_of_edges()
    expected = -sum(x / (2 * m) * math.log(x / (2 * m)) for x in d if x > 0) / math.log(len(d))
    assert metrics.edge_distribution_entropy(graph) == pytest.approx(expected, rel=1e-12)


def test_power_law_exponent_is_the_continuous_mle(graph):
    d = np.array([d for _, d in graph.degree()], dtype=float)
    xmin = max(d.min(), 1.0)
    tail = d[d >= xmin]
    # scipy's Pareto fit with the scale fixed at xmin is the same maximum-likelihood problem
    shape, _, _ = scipy.stats.pareto.fit(tail, floc=0, fscale=xmin)
    assert metrics.power_law_exponent(graph) == pytest.approx(1 + shape, rel=1e-9)
    assert metrics.power_law_exponent(graph) == pytest.approx(1 + tail.size / np.log(tail / xmin).sum(), rel=1e-12)


def test_power_law_exponent_xmin_option():
    graph = nx.barabasi_albert_graph(100, 2, seed=0)
    d = np.array([d for _, d in graph.degree()], dtype=float)
    tail = d[d >= 4]
    assert metrics.power_law_exponent(graph, xmin=4) == pytest.approx(1 + tail.size / np.log(tail / 4).sum())


def test_characteristic_path_length_matches_networkx(graph):
    expected = nx.average_shortest_path_length(largest_component(graph))
    assert metrics.characteristic_path_length(graph) == pytest.approx(expected, rel=1e-12)


def test_spectral_gap_matches_dense_normalised_laplacian(graph):
    laplacian = nx.normalized_laplacian_matrix(largest_component(graph), weight=None).toarray()
    expected = np.linalg.eigvalsh(laplacian)[1]
    assert metrics.spectral_gap(graph) == pytest.approx(expected, abs=1e-10)


def test_spectral_gap_sparse_solver_matches_dense(monkeypatch):
    graph = nx.barabasi_albert_graph(300, 2, seed=7)
    dense = metrics.spectral_gap(graph)
    monkeypatch.setattr(statistics_module, "DENSE_EIGEN_MAX_NODES", 10)
    assert metrics.spectral_gap(graph) == pytest.approx(dense, abs=1e-9)
    assert dense == pytest.approx(np.linalg.eigvalsh(nx.normalized_laplacian_matrix(graph).toarray())[1], abs=1e-10)


def test_spectral_gap_closed_forms():
    assert metrics.spectral_gap(nx.complete_graph(6)) == pytest.approx(6 / 5)
    assert metrics.spectral_gap(nx.cycle_graph(8)) == pytest.approx(1 - math.cos(2 * math.pi / 8))


def test_characteristic_path_length_sampled_sources():
    graph = nx.connected_watts_strogatz_graph(300, 4, 0.1, seed=0)
    exact = nx.average_shortest_path_length(graph)
    first = metrics.characteristic_path_length(graph, max_exact_nodes=50, num_sources=60, seed=3)
    again = metrics.characteristic_path_length(graph, max_exact_nodes=50, num_sources=60, seed=3)
    other = metrics.characteristic_path_length(graph, max_exact_nodes=50, num_sources=60, seed=4)
    assert first == again
    assert first != other
    assert first == pytest.approx(exact, rel=0.1)
    # the estimator averages per-source means: over many seeds it centres on the exact value
    estimates = [metrics.characteristic_path_length(graph, max_exact_nodes=50, num_sources=30, seed=s)
                 for s in range(40)]
    assert np.mean(estimates) == pytest.approx(exact, rel=0.02)
    # with at least as many sources as nodes it is exact again
    assert metrics.characteristic_path_length(graph, max_exact_nodes=50, num_sources=300) == pytest.approx(exact)


def test_characteristic_path_length_in_chunks(monkeypatch):
    graph = nx.karate_club_graph()
    monkeypatch.setattr(statistics_module, "_DISTANCE_ENTRIES", 40)  # one source per chunk
    assert metrics.characteristic_path_length(graph) == pytest.approx(nx.average_shortest_path_length(graph))


def test_graph_statistics_equals_the_single_functions():
    graph = nx.barabasi_albert_graph(70, 2, seed=9)
    stats = metrics.graph_statistics(graph)
    assert list(stats) == [
        "max_degree", "assortativity", "triangle_count", "square_count", "wedge_count", "claw_count",
        "power_law_exponent", "gini_coefficient", "edge_distribution_entropy", "largest_component_size",
        "clustering_coefficient", "characteristic_path_length", "spectral_gap",
    ]
    for key, value in stats.items():
        assert value == pytest.approx(getattr(metrics, key)(graph), rel=1e-12), key
    for key in ("max_degree", "triangle_count", "square_count", "wedge_count", "claw_count", "largest_component_size"):
        assert type(stats[key]) is int
    for key in ("assortativity", "power_law_exponent", "spectral_gap", "characteristic_path_length"):
        assert type(stats[key]) is float


def test_every_input_form_gives_the_same_statistics():
    graph = nx.gnp_random_graph(25, 0.2, seed=11)
    expected = metrics.graph_statistics(graph)
    edge_index = np.array(list(graph.edges)).T
    weighted = sp.coo_array((np.arange(1, edge_index.shape[1] + 1, dtype=float), (edge_index[0], edge_index[1])),
                            shape=(25, 25)).tocsr()
    directed_with_loops = torch.from_numpy(np.concatenate([edge_index, edge_index[::-1], [[0, 3], [0, 3]]], axis=1))
    for source in (to_graph(graph), weighted, weighted.T, directed_with_loops):
        assert metrics.graph_statistics(source) == pytest.approx(expected, rel=1e-12)


def test_regular_and_degenerate_graphs():
    cycle = nx.cycle_graph(7)
    assert math.isnan(metrics.assortativity(cycle))
    assert metrics.power_law_exponent(cycle) == math.inf
    assert metrics.gini_coefficient(cycle) == pytest.approx(0.0, abs=1e-12)
    assert metrics.edge_distribution_entropy(cycle) == pytest.approx(1.0)
    assert metrics.clustering_coefficient(nx.path_graph(2)) == 0.0  # no wedges
    empty = nx.empty_graph(5)
    assert metrics.max_degree(empty) == 0
    assert metrics.triangle_count(empty) == 0
    assert metrics.largest_component_size(empty) == 1


@pytest.mark.parametrize(
    "function",
    [
        metrics.assortativity,
        metrics.power_law_exponent,
        metrics.gini_coefficient,
        metrics.edge_distribution_entropy,
        metrics.characteristic_path_length,
        metrics.spectral_gap,
        metrics.graph_statistics,
    ],
)
def test_statistics_undefined_without_edges(function):
    with pytest.raises(ValueError, match="no edges"):
        function(nx.empty_graph(4))


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda g: metrics.characteristic_path_length(g, num_sources=0), ValueError, "num_sources must be >= 1"),
        (lambda g: metrics.characteristic_path_length(g, max_exact_nodes=2.5), TypeError, "max_exact_nodes must be"),
        (lambda g: metrics.characteristic_path_length(g, seed=-1), ValueError, "seed must be >= 0"),
        (lambda g: metrics.graph_statistics(g, seed="a"), TypeError, "seed must be an int"),
        (lambda g: metrics.power_law_exponent(g, xmin=0), ValueError, "xmin must be >= 1"),
        (lambda g: metrics.power_law_exponent(g, xmin=99), ValueError, "no node has degree >= xmin=99"),
        (lambda g: metrics.max_degree([[0, 1]]), TypeError, "unsupported source type"),
    ],
)
def test_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call(nx.karate_club_graph())


def test_inputs_are_not_modified():
    graph = nx.karate_club_graph()
    data = to_graph(graph)
    before_nx = nx.to_dict_of_dicts(graph)
    before_index, before_weight = data.edge_index.clone(), data.edge_weight.clone()
    adjacency = nx.to_scipy_sparse_array(graph, format="csr")
    before_sparse = adjacency.copy()
    for source in (graph, data, adjacency):
        metrics.graph_statistics(source)
        metrics.edge_overlap(source, source)
        metrics.degree_wasserstein(source, source)
    assert nx.to_dict_of_dicts(graph) == before_nx
    assert torch.equal(data.edge_index, before_index) and torch.equal(data.edge_weight, before_weight)
    assert (adjacency != before_sparse).nnz == 0


# ----------------------------------------------------------------------------------------------
# tables and relative errors
# ----------------------------------------------------------------------------------------------


def test_statistics_table_layout():
    table = metrics.statistics_table({
        "reference": {"max_degree": 238, "power_law_exponent": 1.8550648, "note": "x"},
        "generated": {"max_degree": 200, "spectral_gap": float("nan")},
    })
    assert table.splitlines() == [
        "| graph | max_degree | power_law_exponent | note | spectral_gap |",
        "|---|---:|---:|---:|---:|",
        "| reference | 238 | 1.855 | x |  |",
        "| generated | 200 |  |  | nan |",
    ]
    assert metrics.statistics_table({"a": {"v": 0.123456}}, digits=2).endswith("| a | 0.12 |")


@pytest.mark.parametrize(
    ("rows", "error", "match"),
    [
        ({}, ValueError, "rows is empty"),
        ([("a", {})], TypeError, "rows must be a dict"),
        ({"a": [1, 2]}, TypeError, "row 'a' must be a dict"),
    ],
)
def test_statistics_table_errors(rows, error, match):
    with pytest.raises(error, match=match):
        metrics.statistics_table(rows)


def test_relative_errors_and_mean():
    reference = {"a": 2.0, "b": 0, "c": 4, "d": float("nan"), "e": math.inf}
    stats = {"a": 3.0, "b": 0, "c": 2, "d": 1.0, "e": 5.0, "extra": 7}
    errors = metrics.relative_errors(stats, reference)
    assert list(errors) == ["a", "b", "c", "d", "e"]
    assert errors["a"] == 0.5 and errors["b"] == 0.0 and errors["c"] == 0.5
    assert math.isnan(errors["d"]) and math.isnan(errors["e"])
    assert metrics.relative_errors({"a": 1.0}, {"a": 0.0}) == {"a": math.inf}
    assert metrics.mean_relative_error(stats, reference) == pytest.approx(1 / 3)  # nan entries skipped
    assert metrics.mean_relative_error(stats, reference, keys=["a", "c"]) == 0.5
    assert metrics.mean_relative_error(stats, stats) == 0.0


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: metrics.relative_errors({"a": 1}, {"a": 1, "b": 2}), ValueError, r"stats lacks \['b'\]"),
        (lambda: metrics.relative_errors({"a": "x"}, {"a": 1}), TypeError, "must be a real number"),
        (lambda: metrics.relative_errors([1], {"a": 1}), TypeError, "stats must be a dict"),
        (lambda: metrics.mean_relative_error({"a": 1}, {"a": 1}, keys=["z"]), ValueError, r"lacks \['z'\]"),
        (lambda: metrics.mean_relative_error({"a": 1}, {"a": 1}, keys="a"), TypeError, "keys must be a list"),
        (lambda: metrics.mean_relative_error({"a": math.nan}, {"a": 1}), ValueError, "no statistic"),
    ],
)
def test_relative_error_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ----------------------------------------------------------------------------------------------
# edge overlap and degree Wasserstein
# ----------------------------------------------------------------------------------------------


def test_edge_overlap():
    graph = nx.karate_club_graph()
    assert metrics.edge_overlap(graph, graph) == 1.0
    assert metrics.edge_overlap(nx.path_graph(4), nx.cycle_graph(4)) == 0.75
    assert metrics.edge_overlap(nx.cycle_graph(4), nx.path_graph(4)) == 1.0
    reversed_directed = torch.tensor([[1, 2, 3, 0], [0, 1, 2, 3]])  # the 4-cycle, one direction, reversed
    assert metrics.edge_overlap(reversed_directed, nx.cycle_graph(4)) == 1.0
    assert metrics.edge_overlap(nx.empty_graph(4), nx.cycle_graph(4)) == 0.0


def test_edge_overlap_errors():
    with pytest.raises(ValueError, match="has 5 nodes but the reference has 4"):
        metrics.edge_overlap(nx.path_graph(5), nx.path_graph(4))
    with pytest.raises(ValueError, match="reference graph has no edges"):
        metrics.edge_overlap(nx.path_graph(4), nx.empty_graph(4))


def test_degree_wasserstein_closed_form():
    # reference path 0-1-2: degrees (1, 2, 1) -> (1/4, 1/2, 1/4); generated edges {0,1},{0,2}:
    # (2, 1, 1) -> (1/2, 1/4, 1/4). A quarter of the mass moves one hop, from node 0 to node 1.
    generated = torch.tensor([[0, 0], [1, 2]])
    assert metrics.degree_wasserstein(generated, nx.path_graph(3)) == pytest.approx(0.25, abs=1e-12)


def test_degree_wasserstein_zero_for_itself_positive_for_a_rewired_graph():
    graph = nx.karate_club_graph()
    assert metrics.degree_wasserstein(graph, graph) == pytest.approx(0.0, abs=1e-12)
    # a degree-preserving rewiring keeps the degree distribution, so the distance stays 0
    swapped = nx.double_edge_swap(graph.copy(), nswap=20, max_tries=1000, seed=0)
    assert metrics.degree_wasserstein(swapped, graph) == pytest.approx(0.0, abs=1e-12)
    # moving edges to random endpoints changes the degrees: positive, and below the diameter
    rng = np.random.default_rng(0)
    rewired = graph.copy()
    for u, v in list(rewired.edges)[::3]:
        rewired.remove_edge(u, v)
        while True:
            a, b = (int(x) for x in rng.integers(0, 34, 2))
            if a != b and not rewired.has_edge(a, b):
                rewired.add_edge(a, b)
                break
    distance = metrics.degree_wasserstein(rewired, graph)
    assert 0.05 < distance <= nx.diameter(graph)


def test_degree_wasserstein_errors():
    with pytest.raises(ValueError, match="has 4 nodes but the reference has 3"):
        metrics.degree_wasserstein(nx.path_graph(4), nx.path_graph(3))
    with pytest.raises(ValueError, match="generated graph has no edges"):
        metrics.degree_wasserstein(nx.empty_graph(3), nx.path_graph(3))
    two_paths = nx.disjoint_union(nx.path_graph(3), nx.path_graph(3))
    assert metrics.degree_wasserstein(two_paths, two_paths) == pytest.approx(0.0, abs=1e-12)
    lopsided = nx.Graph([(0, 1), (1, 2), (0, 2), (3, 4)])
    lopsided.add_node(5)
    with pytest.raises(ValueError, match="W1 is infinite"):
        metrics.degree_wasserstein(lopsided, two_paths)


# ----------------------------------------------------------------------------------------------
# link prediction
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pos", "neg", "auc", "ap"),
    [
        # order P P N P N: AUC = (2 + 2 + 1) / 6; precision at the positives 1, 1, 3/4
        ([0.9, 0.8, 0.4], [0.7, 0.3], 5 / 6, (1 + 1 + 0.75) / 3),
        ([3.0, 2.0], [1.0, 0.0], 1.0, 1.0),
        ([0.0], [1.0, 2.0], 0.0, 1 / 3),
        # one tie: AUC counts it as 1/2; AP steps at thresholds 1 (R 1/2, P 1) and 0.5 (R 1, P 2/3)
        ([1.0, 0.5], [0.5, 0.0], 3.5 / 4, 0.5 * 1 + 0.5 * 2 / 3),
        ([0.5], [0.5], 0.5, 0.5),
    ],
)
def test_link_prediction_hand_computed(pos, neg, auc, ap):
    result = metrics.link_prediction_scores(pos, neg)
    assert result.roc_auc == pytest.approx(auc, abs=1e-12)
    assert result.average_precision == pytest.approx(ap, abs=1e-12)
    roc_auc, average_precision = result  # unpacks as a tuple
    assert (roc_auc, average_precision) == (result.roc_auc, result.average_precision)


def test_link_prediction_against_brute_force_with_ties():
    rng = np.random.default_rng(0)
    pos = rng.integers(0, 8, 40).astype(float) + 1.0
    neg = rng.integers(0, 8, 55).astype(float)
    result = metrics.link_prediction_scores(torch.from_numpy(pos), neg.tolist())
    pairs = [(1.0 if p > q else 0.5 if p == q else 0.0) for p in pos for q in neg]
    assert result.roc_auc == pytest.approx(np.mean(pairs), abs=1e-12)
    ap, last_recall = 0.0, 0.0
    for t in sorted(set(pos) | set(neg), reverse=True):
        tp, fp = (pos >= t).sum(), (neg >= t).sum()
        ap += (tp / pos.size - last_recall) * tp / (tp + fp)
        last_recall = tp / pos.size
    assert result.average_precision == pytest.approx(ap, abs=1e-12)


@pytest.mark.parametrize(
    ("pos", "neg", "error", "match"),
    [
        ([], [1.0], ValueError, "scores_pos is empty"),
        ([1.0], [[0.5]], ValueError, r"scores_neg must be 1-D, got shape \(1, 1\)"),
        ([1.0, float("nan")], [0.5], ValueError, "NaN or infinite"),
        (["a"], [0.5], TypeError, "must hold real numbers"),
        ("ab", [0.5], TypeError, "1-D array of numbers"),
        (None, [0.5], TypeError, "1-D array of numbers"),
    ],
)
def test_link_prediction_errors(pos, neg, error, match):
    with pytest.raises(error, match=match):
        metrics.link_prediction_scores(pos, neg)


# ----------------------------------------------------------------------------------------------
# the published Cora-ML training graph of CELL
# ----------------------------------------------------------------------------------------------


def test_cora_ml_cell_training_graph_statistics(data_root):
    from graphwgan.splits import load_cell_split

    train = load_cell_split(data_root).train
    stats = metrics.graph_statistics(train)
    assert stats["max_degree"] == 238
    assert stats["triangle_count"] == 2802
    assert round(stats["power_law_exponent"], 3) == 1.855
    assert stats["largest_component_size"] == 2810
    assert stats["square_count"] == 14268
    assert stats["wedge_count"] == 101747
    assert stats["claw_count"] == 3033514
    assert stats["assortativity"] == pytest.approx(-0.076264, abs=1e-6)
    assert stats["gini_coefficient"] == pytest.approx(0.482574, abs=1e-6)
    assert stats["edge_distribution_entropy"] == pytest.approx(0.940665, abs=1e-6)
    assert stats["clustering_coefficient"] == pytest.approx(0.0826167, abs=1e-7)
    assert stats["characteristic_path_length"] == pytest.approx(5.630006, abs=1e-6)
    assert stats["spectral_gap"] == pytest.approx(0.0061144, abs=1e-7)
    assert metrics.edge_overlap(train, train) == 1.0
