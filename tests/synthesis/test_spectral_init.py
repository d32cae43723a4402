import warnings

import networkx as nx
import numpy as np
import ot
import pytest
import torch

from graphwgan.synthesis import CELL, GraphSynthesizer
from graphwgan.synthesis.spectral_init import spectral_embedding, spectral_factors


@pytest.fixture(scope="module")
def communities():
    planted = nx.planted_partition_graph(4, 60, 0.2, 0.01, seed=3)
    graph = nx.Graph()
    graph.add_nodes_from(range(planted.number_of_nodes()))  # nodes in label order: node u is row u
    graph.add_edges_from(planted.edges())
    return graph


def _edges(graph):
    uv = np.array([(min(u, v), max(u, v)) for u, v in graph.edges()], dtype=np.int64).T
    return uv, graph.number_of_nodes()


def test_embedding_matches_the_dense_eigendecomposition(communities):
    uv, n = _edges(communities)
    values, vectors = spectral_embedding(uv, n, 4, np.random.default_rng(0))
    # oracle: numpy's dense eigendecomposition of D^-1/2 A D^-1/2
    adjacency = nx.to_numpy_array(communities, nodelist=range(n))
    inv_sqrt = 1 / np.sqrt(adjacency.sum(axis=1))
    dense_values, dense_vectors = np.linalg.eigh(inv_sqrt[:, None] * adjacency * inv_sqrt[None, :])
    np.testing.assert_allclose(values, dense_values[::-1][:4], atol=1e-6)
    # same subspace: the projection of the oracle's vectors onto the computed ones keeps their norm
    overlap = np.linalg.svd(vectors.T @ dense_vectors[:, ::-1][:, :4], compute_uv=False)
    np.testing.assert_allclose(overlap, 1.0, atol=1e-6)
    np.testing.assert_allclose(vectors.T @ vectors, np.eye(4), atol=1e-10)


def test_factors_are_deterministic_for_a_seed_and_half_spectral(communities):
    uv, n = _edges(communities)
    first = spectral_factors(uv, n, 8, np.random.default_rng(5))
    second = spectral_factors(uv, n, 8, np.random.default_rng(5))
    other = spectral_factors(uv, n, 8, np.random.default_rng(6))
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    assert first[0].shape == first[1].shape == (n, 8) and first[0].dtype == np.float32
    # the spectral half is symmetric (U = V there), with rows of squared norm log n; the random half is not
    np.testing.assert_array_equal(first[0][:, :4], first[1][:, :4])
    np.testing.assert_allclose((first[0][:, :4].astype(np.float64) ** 2).sum(axis=1), np.log(n), rtol=1e-5)
    assert not np.array_equal(first[0][:, 4:], first[1][:, 4:])
    assert not np.array_equal(first[0][:, 4:], other[0][:, 4:])
    # rank 1 has no spectral half; an odd rank gets the smaller half
    assert spectral_factors(uv, n, 1, np.random.default_rng(0))[0].shape == (n, 1)
    odd = spectral_factors(uv, n, 5, np.random.default_rng(0))
    np.testing.assert_array_equal(odd[0][:, :2], odd[1][:, :2])


def test_fit_is_deterministic_and_both_paths_share_the_start(communities):
    def fit(**kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # two epochs need not reach the overlap target
            return GraphSynthesizer(rank=6, max_epochs=2, eval_every=1, random_state=4, **kwargs).fit(communities)

    exact, again, sampled = fit(num_negatives=None), fit(num_negatives=None), fit(num_negatives=32)
    torch.testing.assert_close(exact.source_factors_, again.source_factors_, rtol=0, atol=0)
    assert not exact._sampled and sampled._sampled
    assert exact.source_factors_.shape == sampled.source_factors_.shape == (communities.number_of_nodes(), 6)
    assert exact.get_params()["init"] == "spectral"


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"init": "svd"}, "init must be one of 'spectral', 'random'"),
    ({"init": None}, "init must be one of"),
    ({"eval_every": "sometimes"}, "eval_every"),
    ({"eval_every": 0}, "eval_every"),
])
def test_bad_init_and_eval_every(communities, kwargs, match):
    for cls in (GraphSynthesizer, CELL):
        with pytest.raises((ValueError, TypeError), match=match):
            cls(**kwargs).fit(communities)


def test_auto_evaluation_schedule_follows_the_overlap(communities):
    model = GraphSynthesizer(eo_target=0.6, max_epochs=200, random_state=0).fit(communities)
    epochs, overlaps = [0, *model.history_.eval_epochs], [0.0, *model.history_.edge_overlap]
    assert epochs[1] == 5  # the first interval on a graph of fewer than 10,000 nodes
    for k in range(1, len(epochs) - 1):
        rate = (overlaps[k] - overlaps[k - 1]) / (epochs[k] - epochs[k - 1])
        expected = 5 if rate <= 0 else max(1, min(5, int(0.5 * (0.6 - overlaps[k]) / rate)))
        assert epochs[k + 1] - epochs[k] == expected
    assert model.converged_ and model.n_epochs_ == epochs[-1]
    assert [model._eval_interval(n) for n in (100, 25_000, 10**6)] == [5, 12, 20]
    fixed = GraphSynthesizer(eval_every=3, eo_target=0.99, max_epochs=10, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert fixed.fit(communities).history_.eval_epochs == [3, 6, 9, 10]


def test_warm_start_reaches_the_overlap_in_fewer_epochs(communities):
    def epochs(init):
        return [GraphSynthesizer(rank=16, init=init, eo_target=0.5, eval_every=1, lr=0.05,
                                 random_state=seed).fit(communities).n_epochs_ for seed in range(3)]

    spectral, random = epochs("spectral"), epochs("random")
    print(f"epochs to EO 0.5: spectral {spectral}, random {random}")
    assert sum(spectral) < sum(random)


def test_w1_stationary_is_the_exact_distance_of_the_stationary_laws(communities):
    model = GraphSynthesizer(rank=8, eo_target=0.5, eval_every=2, random_state=0).fit(communities)
    history = model.history_
    assert len(history.w1_stationary) == len(history.eval_epochs) >= 1
    # oracle: POT's dense transport with all shortest-path lengths as the cost
    n = communities.number_of_nodes()
    lengths = dict(nx.all_pairs_shortest_path_length(communities))
    cost = np.array([[lengths[u][v] for v in range(n)] for u in range(n)], dtype=np.float64)
    degrees = np.array([communities.degree(u) for u in range(n)], dtype=np.float64)
    law = model.stationary_ / model.stationary_.sum()
    expected = ot.emd2(degrees / degrees.sum(), law, cost)
    np.testing.assert_allclose(history.w1_stationary[-1], expected, rtol=1e-6, atol=1e-9)
    assert all(np.isfinite(history.w1_stationary))


def test_w1_stationary_is_nan_on_a_disconnected_graph():
    graph = nx.disjoint_union(nx.cycle_graph(30), nx.complete_graph(8))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        model = GraphSynthesizer(rank=4, max_epochs=2, eval_every=1, random_state=0).fit(graph)
    assert len(model.history_.w1_stationary) == 2 and np.isnan(model.history_.w1_stationary).all()
