import networkx as nx
import numpy as np
import pytest

from graphwgan import distances


def weighted_graph(seed=0, n=30):
    rng = np.random.default_rng(seed)
    graph = nx.connected_watts_strogatz_graph(n, 4, 0.3, seed=seed)
    for u, v in graph.edges:
        graph[u][v]["weight"] = float(rng.uniform(0.1, 3.0))
    return graph


def test_from_sources_matches_networkx():
    graph = weighted_graph()
    sources = [0, 7, 13]
    got = distances.shortest_path_lengths(graph, sources)
    assert got.shape == (3, graph.number_of_nodes())
    for row, s in enumerate(sources):
        expected = nx.single_source_dijkstra_path_length(graph, s, weight="weight")
        np.testing.assert_allclose(got[row], [expected[v] for v in range(graph.number_of_nodes())], rtol=1e-12)


def test_limit_cuts_far_nodes():
    got = distances.shortest_path_lengths(nx.path_graph(6), [0], limit=2.5)
    assert got[0].tolist() == [0.0, 1.0, 2.0, np.inf, np.inf, np.inf]


def test_between_pairs_in_chunks(monkeypatch):
    graph = weighted_graph(seed=3, n=40)
    monkeypatch.setattr(distances, "_CHUNK_ENTRIES", 50)  # forces one source per chunk
    rng = np.random.default_rng(1)
    pairs = rng.integers(0, 40, size=(25, 2))
    got = distances.pair_distances(graph, pairs)
    expected = [nx.dijkstra_path_length(graph, int(u), int(v), weight="weight") for u, v in pairs]
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_dense_matrix_small_graph_and_components():
    graph = nx.disjoint_union(nx.path_graph(3), nx.path_graph(2))
    dense = distances.distance_matrix(graph)
    assert dense.shape == (5, 5)
    assert dense[0, 2] == 2.0
    assert np.isinf(dense[0, 3])
    np.testing.assert_array_equal(dense, dense.T)


def test_dense_matrix_refused_on_large_graph():
    graph = nx.path_graph(50)
    with pytest.raises(ValueError, match="dense distance matrix of 50 nodes"):
        distances.distance_matrix(graph, max_nodes=10)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda m: m.from_sources([7]), ValueError, "outside 0..4"),
        (lambda m: m.from_sources([-1]), ValueError, "outside 0..4"),
        (lambda m: m.from_sources([0.5]), TypeError, "integer node ids"),
        (lambda m: m.between([0, 1]), ValueError, r"shape \(p, 2\)"),
        (lambda m: m.between([[0, 9]]), ValueError, "outside"),
    ],
)
def test_bad_queries(call, error, match):
    with pytest.raises(error, match=match):
        call(distances.ShortestPathMetric(nx.path_graph(5)))


def test_input_graph_not_modified():
    graph = weighted_graph()
    before = nx.to_dict_of_dicts(graph)
    distances.distance_matrix(graph)
    assert nx.to_dict_of_dicts(graph) == before
