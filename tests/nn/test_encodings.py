"""Tests for graphwgan.nn.encodings against dense numpy oracles.

The oracles build the normalised Laplacian and the random-walk matrix densely with networkx and
numpy (``np.linalg.eigh``, matrix powers), sharing nothing with the sparse code under test.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from graphwgan.nn import laplacian_eigenvectors, random_walk_encoding, structural_encoding


def _sqrt_degree(graph: nx.Graph) -> np.ndarray:
    return np.sqrt(np.array([d for _, d in graph.degree()], dtype=float))


def _dense_spectrum(graph: nx.Graph) -> tuple[np.ndarray, np.ndarray]:
    laplacian = nx.normalized_laplacian_matrix(graph, nodelist=list(graph.nodes)).toarray()
    return np.linalg.eigh(laplacian)


def _dense_return_probabilities(graph: nx.Graph, steps: int) -> np.ndarray:
    adjacency = nx.to_numpy_array(graph, nodelist=list(graph.nodes), weight=None)
    degree = adjacency.sum(axis=1)
    walk = np.divide(adjacency, degree[:, None], out=np.zeros_like(adjacency), where=degree[:, None] > 0)
    power = np.eye(len(degree))
    out = []
    for _ in range(steps):
        power = power @ walk
        out.append(np.diag(power).copy())
    return np.stack(out, axis=1)


# --------------------------------------------------------------------------------------------
# laplacian_eigenvectors
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "graph",
    [nx.cycle_graph(12), nx.path_graph(15), nx.karate_club_graph()],
    ids=["cycle", "path", "karate"],
)
def test_laplacian_eigenvectors_are_orthonormal_and_non_trivial(graph):
    k = 6
    vectors = laplacian_eigenvectors(graph, k)
    assert vectors.shape == (graph.number_of_nodes(), k)
    np.testing.assert_allclose(vectors.T @ vectors, np.eye(k), rtol=0, atol=1e-12)
    # orthogonal to the trivial eigenvector D^{1/2} 1 (eigenvalue 0)
    np.testing.assert_allclose(vectors.T @ _sqrt_degree(graph), np.zeros(k), rtol=0, atol=1e-10)
    # signs: the largest-magnitude entry of each column is positive
    columns = np.arange(k)
    assert np.all(vectors[np.abs(vectors).argmax(axis=0), columns] > 0)


def test_laplacian_eigenvectors_are_deterministic():
    graph = nx.karate_club_graph()
    np.testing.assert_array_equal(laplacian_eigenvectors(graph, 5), laplacian_eigenvectors(graph, 5))
    big = nx.grid_2d_graph(20, 30)  # sparse eigensolver
    np.testing.assert_array_equal(laplacian_eigenvectors(big, 4), laplacian_eigenvectors(big, 4))


@pytest.mark.parametrize(
    "graph",
    [nx.path_graph(60), nx.grid_2d_graph(12, 17), nx.path_graph(600), nx.grid_2d_graph(20, 30)],
    ids=["path-60-dense", "grid-204-dense", "path-600-sparse", "grid-600-sparse"],
)
def test_laplacian_eigenvectors_match_dense_eigh_up_to_sign(graph):
    k = 8
    values, expected = _dense_spectrum(graph)
    # the smallest k + 2 eigenvalues are simple here, so each eigenvector is unique up to sign
    assert np.diff(values[: k + 2]).min() > 1e-6
    vectors = laplacian_eigenvectors(graph, k)
    for j in range(k):
        reference = expected[:, j + 1]
        sign = np.sign(reference @ vectors[:, j])
        np.testing.assert_allclose(vectors[:, j], sign * reference, rtol=0, atol=1e-8)


def test_laplacian_eigenvectors_pad_small_graphs_with_zeros():
    graph = nx.path_graph(3)  # two non-trivial eigenvectors
    vectors = laplacian_eigenvectors(graph, 4)
    assert vectors.shape == (3, 4)
    np.testing.assert_array_equal(vectors[:, 2:], 0.0)
    np.testing.assert_allclose(vectors[:, :2].T @ vectors[:, :2], np.eye(2), rtol=0, atol=1e-12)
    # a single node has no non-trivial eigenvector at all
    single = nx.empty_graph(1)
    np.testing.assert_array_equal(laplacian_eigenvectors(single, 3), np.zeros((1, 3)))


@pytest.mark.parametrize("k", [0, -2])
def test_laplacian_eigenvectors_reject_k_below_one(k):
    with pytest.raises(ValueError, match=f"k must be at least 1, got {k}"):
        laplacian_eigenvectors(nx.path_graph(4), k)


# --------------------------------------------------------------------------------------------
# random_walk_encoding
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "graph",
    [nx.karate_club_graph(), nx.gnp_random_graph(40, 0.1, seed=3)],
    ids=["karate", "erdos_renyi"],
)
def test_random_walk_encoding_matches_dense_matrix_powers(graph):
    steps = 6
    encoding = random_walk_encoding(graph, steps)
    n = graph.number_of_nodes()
    assert encoding.shape == (n, steps + 1)
    np.testing.assert_allclose(encoding[:, :steps], _dense_return_probabilities(graph, steps), rtol=0, atol=1e-14)
    degree = np.array([d for _, d in graph.degree()], dtype=float)
    np.testing.assert_allclose(encoding[:, steps], np.log1p(degree), rtol=0, atol=0)


def test_random_walk_encoding_closed_forms():
    # on a cycle (no self-loops, no triangles) the walk cannot return in 1 step and returns in
    # 2 steps with probability 1/2; on an odd cycle of length 5, in 5 steps with probability 2/32
    encoding = random_walk_encoding(nx.cycle_graph(5), 5)
    np.testing.assert_allclose(encoding[:, 0], 0.0, rtol=0, atol=0)
    np.testing.assert_allclose(encoding[:, 1], 0.5, rtol=0, atol=1e-15)
    np.testing.assert_allclose(encoding[:, 2], 0.0, rtol=0, atol=1e-15)
    np.testing.assert_allclose(encoding[:, 3], 6.0 / 16.0, rtol=0, atol=1e-15)
    np.testing.assert_allclose(encoding[:, 4], 2.0 / 32.0, rtol=0, atol=1e-15)
    np.testing.assert_allclose(encoding[:, 5], np.log(3.0), rtol=0, atol=1e-15)


def test_random_walk_encoding_of_an_isolated_node_is_zero():
    graph = nx.path_graph(3)
    graph.add_node(3)
    encoding = random_walk_encoding(graph, 3)
    np.testing.assert_array_equal(encoding[3], np.zeros(4))
    assert np.all(np.isfinite(encoding))


@pytest.mark.parametrize("k", [0, -1])
def test_random_walk_encoding_rejects_k_below_one(k):
    with pytest.raises(ValueError, match=f"k must be at least 1, got {k}"):
        random_walk_encoding(nx.path_graph(4), k)


# --------------------------------------------------------------------------------------------
# structural_encoding
# --------------------------------------------------------------------------------------------


def test_structural_encoding_concatenates_both_encodings_as_float32():
    graph = nx.karate_club_graph()
    encoding = structural_encoding(graph, eigenvectors=5, walk_steps=3)
    assert encoding.shape == (34, 5 + 3 + 1)
    assert encoding.dtype == np.float32
    np.testing.assert_allclose(encoding[:, :5], laplacian_eigenvectors(graph, 5), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(encoding[:, 5:], random_walk_encoding(graph, 3), rtol=1e-6, atol=1e-7)
    assert structural_encoding(graph).shape == (34, 8 + 4 + 1)
    assert structural_encoding(graph, eigenvectors=0, walk_steps=2).shape == (34, 3)
    assert structural_encoding(graph, eigenvectors=3, walk_steps=0).shape == (34, 3)


def test_structural_encoding_needs_at_least_one_part():
    with pytest.raises(ValueError, match="ask for at least one encoding"):
        structural_encoding(nx.path_graph(4), eigenvectors=0, walk_steps=0)


def test_laplacian_eigenvectors_survive_many_components(data_root):
    # CiteSeer has 438 components: the zero eigenvalue repeats and shift-invert ARPACK stops short of k
    from graphwgan.datasets import load

    vectors = laplacian_eigenvectors(load("citeseer", root=data_root), 8)
    assert vectors.shape == (3312, 8) and np.isfinite(vectors).all()
    norms = np.linalg.norm(vectors, axis=0)
    assert np.allclose(norms[norms > 0], 1.0) and (norms > 0).sum() >= 4
