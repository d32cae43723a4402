"""Tests for the errors of graphwgan.ot and for never modifying the caller's inputs."""

from __future__ import annotations

import copy
import warnings

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
import torch
from torch_geometric.data import Data

from graphwgan import GraphTransport, tree_wasserstein, wasserstein, wasserstein_batch

PATH = nx.path_graph(4)
MU = np.array([0.5, 0.5, 0.0, 0.0])
NU = np.array([0.0, 0.0, 0.25, 0.75])


# --------------------------------------------------------------------------------------------
# invalid masses
# --------------------------------------------------------------------------------------------


def test_different_totals():
    with pytest.raises(ValueError, match="same total mass"):
        wasserstein(PATH, MU, 2 * NU)
    with pytest.raises(ValueError, match=r"same total mass \(pair 1\)"):
        wasserstein_batch(PATH, np.stack([MU, MU]), np.stack([NU, 3 * NU]))
    # a relative error far above rounding is not tolerated, even for tiny totals
    with pytest.raises(ValueError, match="same total mass"):
        wasserstein(PATH, 1e-12 * MU, 1e-12 * NU * (1 + 1e-6))


def test_rounding_differences_in_totals_are_tolerated():
    nu = NU * (1 + 1e-13)
    assert wasserstein(PATH, MU, nu).distance == pytest.approx(wasserstein(PATH, MU, NU).distance, rel=1e-12)


@pytest.mark.parametrize("side", ["mu", "nu"])
def test_negative_entry(side):
    bad = np.array([0.75, -0.25, 0.25, 0.25])
    args = (bad, MU) if side == "mu" else (MU, bad)
    with pytest.raises(ValueError, match=rf"{side} holds 1 negative entries \(first at index \(1,\)"):
        wasserstein(PATH, *args)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
def test_non_finite_entry(value):
    bad = MU.copy()
    bad[2] = value
    with pytest.raises(ValueError, match="mu holds 1 NaN or infinite entries"):
        wasserstein(PATH, bad, NU)
    with pytest.raises(ValueError, match="nu holds 1 NaN or infinite entries"):
        wasserstein(PATH, NU, bad)
    with pytest.raises(ValueError, match="NaN or infinite"):
        wasserstein(PATH, torch.tensor(bad), NU)


@pytest.mark.parametrize("length", [3, 5, 0])
def test_wrong_length(length):
    with pytest.raises(ValueError, match=rf"mu has {length} entries but the graph has 4 nodes"):
        wasserstein(PATH, np.full(length, 0.25), NU)
    with pytest.raises(ValueError, match=rf"nu has {length} entries but the graph has 4 nodes"):
        wasserstein_batch(PATH, np.stack([MU, MU]), np.full((2, length), 0.5))


def test_two_dimensional_input_to_wasserstein():
    with pytest.raises(ValueError, match=r"mu must be a 1-D vector of length 4 .* got shape \(2, 4\)"):
        wasserstein(PATH, np.stack([MU, MU]), NU)
    with pytest.raises(ValueError, match="nu must be a 1-D vector"):
        wasserstein(PATH, MU, NU[None])
    with pytest.raises(ValueError, match="1-D vector"):
        wasserstein(PATH, np.float64(1.0), NU)
    with pytest.raises(ValueError, match="1-D vector"):
        GraphTransport(PATH).solve(torch.tensor(np.stack([MU, MU])), NU)


def test_batch_shapes():
    with pytest.raises(ValueError, match="mu has 2 rows but nu has 3"):
        wasserstein_batch(PATH, np.stack([MU] * 2), np.stack([NU] * 3))
    with pytest.raises(ValueError, match=r"needs mu or nu of shape \(k, n\)"):
        wasserstein_batch(PATH, MU, NU)
    with pytest.raises(ValueError, match=r"shape \(4,\) or \(k, 4\)"):
        wasserstein_batch(PATH, np.zeros((2, 2, 4)), NU)


@pytest.mark.parametrize("bad", ["0.5 0.5 0 0", b"abcd", {0: 0.5, 1: 0.5}, {0.5, 0.25}, None],
                         ids=["str", "bytes", "dict", "set", "none"])
def test_non_numeric_masses_type(bad):
    with pytest.raises(TypeError, match="mu must be a numpy array, a torch tensor or a sequence of numbers"):
        wasserstein(PATH, bad, NU)
    with pytest.raises(TypeError, match="nu must be a numpy array"):
        wasserstein(PATH, MU, bad)


def test_non_numeric_entries():
    with pytest.raises(TypeError, match="mu must hold real numbers"):
        wasserstein(PATH, ["a", "b", "c", "d"], NU)
    with pytest.raises(TypeError, match="mu must hold real numbers"):
        wasserstein(PATH, [0.5, [0.5], 0.0, 0.0], NU)
    # numpy reads None in a float list as NaN
    with pytest.raises(ValueError, match="NaN or infinite"):
        wasserstein(PATH, [0.5, None, 0.5, 0.0], NU)
    with pytest.raises(TypeError, match="must hold real numbers, got dtype torch.complex"):
        wasserstein(PATH, torch.tensor(MU, dtype=torch.complex128), NU)
    with pytest.raises(TypeError, match="must hold real numbers, got dtype torch.bool"):
        wasserstein(PATH, torch.tensor([True, False, False, False]), torch.tensor([False, True, False, False]))


def test_supports_in_different_components():
    graph = nx.disjoint_union(nx.path_graph(3), nx.cycle_graph(3))
    mu = np.array([1.0, 0, 0, 0, 0, 0])
    nu = np.array([0, 0, 0, 0, 1.0, 0])
    # both components are named, with their masses and a node of each
    with pytest.raises(ValueError, match=r"different mass on connected components 0 and 1: component 0 \(node 0\): "
                                         r"mu 1.0 vs nu 0.0; component 1 \(node 3\): mu 0.0 vs nu 1.0\. .*infinite"):
        wasserstein(graph, mu, nu)
    # equal totals overall but not per component, only in the second pair of a batch
    ok = np.array([0, 0, 1.0, 0, 0, 0])
    with pytest.raises(ValueError, match="in pair 1, mu and nu put different mass.*infinite"):
        wasserstein_batch(graph, np.stack([mu, mu]), np.stack([ok, nu]))
    # an isolated node is its own component
    lonely = nx.path_graph(3)
    lonely.add_node(3)
    with pytest.raises(ValueError, match="infinite"):
        wasserstein(lonely, np.eye(4)[0], np.eye(4)[3])


def test_max_iter():
    with pytest.raises(ValueError, match="max_iter must be a positive integer, got 0"):
        wasserstein(PATH, MU, NU, max_iter=0)
    with pytest.raises(ValueError, match="max_iter must be a positive integer"):
        GraphTransport(PATH, max_iter=-5)
    # too few simplex iterations on a graph with cycles: a clear error, not a wrong answer
    grid = nx.grid_2d_graph(8, 8)
    rng = np.random.default_rng(0)
    mu, nu = rng.random(64), rng.random(64)
    nu *= mu.sum() / nu.sum()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # POT may also warn; the error is what counts
        with pytest.raises(RuntimeError, match="without reaching an optimum; raise max_iter"):
            wasserstein(grid, mu, nu, max_iter=1)


# --------------------------------------------------------------------------------------------
# invalid graphs
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("length", [0.0, -1.0, np.nan, np.inf], ids=["zero", "negative", "nan", "inf"])
def test_bad_edge_length(length):
    graph = nx.path_graph(4)
    graph[1][2]["weight"] = length
    with pytest.raises(ValueError, match="must hold positive finite lengths"):
        wasserstein(graph, MU, NU)
    data = Data(edge_index=torch.tensor([[0, 1, 2], [1, 2, 3]]),
                edge_weight=torch.tensor([1.0, length, 1.0]), num_nodes=4)
    with pytest.raises(ValueError, match="positive finite lengths"):
        wasserstein(data, MU, NU)
    with pytest.raises(ValueError, match="positive finite lengths"):
        tree_wasserstein(graph, MU, NU)


def test_non_numeric_edge_length():
    graph = nx.path_graph(4)
    graph[1][2]["weight"] = "long"
    with pytest.raises(TypeError, match="must hold real numbers"):
        wasserstein(graph, MU, NU)


def test_empty_graph():
    with pytest.raises(ValueError, match="empty graph"):
        wasserstein(nx.Graph(), [], [])
    with pytest.raises(ValueError, match="empty graph"):
        GraphTransport(sp.csr_array((0, 0)))
    with pytest.raises(ValueError, match="empty graph"):
        wasserstein(np.zeros((2, 0), dtype=np.int64), [], [])


def test_edge_index_out_of_range():
    data = Data(edge_index=torch.tensor([[0, 1, 2], [1, 2, 7]]), num_nodes=4)
    with pytest.raises(ValueError, match=r"out of range for num_nodes=4 .*holds 7"):
        wasserstein(data, MU, NU)
    with pytest.raises(ValueError, match="negative target node ids"):
        wasserstein(np.array([[0, 1], [1, -2]]), MU, NU)


def test_unsupported_graph_types():
    with pytest.raises(TypeError, match="unsupported source type"):
        wasserstein([[0, 1], [1, 2]], MU[:3], NU[:3])
    with pytest.raises(TypeError, match="integer node ids"):
        wasserstein(np.array([[0.0, 1.0], [1.0, 2.0]]), MU[:3], NU[:3])


# --------------------------------------------------------------------------------------------
# inputs are never modified
# --------------------------------------------------------------------------------------------


def _weighted_graph() -> nx.Graph:
    graph = nx.cycle_graph(6)
    graph.add_edge(0, 6)
    graph.add_edge(6, 7)
    graph.add_edge(3, 3, weight=2.0)  # a self-loop to be dropped in the copy, not the original
    for i, (u, v) in enumerate(graph.edges):
        graph[u][v]["weight"] = 0.5 + i
    graph.graph["name"] = "kept"
    return graph


def _masses(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    mu, nu = rng.random(n), rng.random(n)
    nu *= mu.sum() / nu.sum()
    return mu, nu


def test_numpy_masses_not_modified():
    graph = _weighted_graph()
    mu, nu = _masses(8)
    mu_before, nu_before = mu.copy(), nu.copy()
    result = wasserstein(graph, mu, nu)
    np.testing.assert_array_equal(mu, mu_before)
    np.testing.assert_array_equal(nu, nu_before)
    # the result shares no memory with the inputs
    assert not np.shares_memory(result.potential, mu) and not np.shares_memory(result.flow, nu)
    batch_mu = np.stack([mu, mu[::-1] * (nu.sum() / mu.sum())])
    batch_before = batch_mu.copy()
    wasserstein_batch(graph, batch_mu, nu)
    np.testing.assert_array_equal(batch_mu, batch_before)
    np.testing.assert_array_equal(nu, nu_before)
    # read-only inputs are fine
    mu.setflags(write=False)
    nu.setflags(write=False)
    assert wasserstein(graph, mu, nu).distance == result.distance


def test_torch_masses_not_modified():
    graph = _weighted_graph()
    mu, nu = (torch.tensor(x) for x in _masses(8, 1))
    mu.requires_grad_(True)
    mu_before, nu_before = mu.detach().clone(), nu.clone()
    result = wasserstein(graph, mu, nu)
    result.distance.backward()
    torch.testing.assert_close(mu.detach(), mu_before, rtol=0, atol=0)
    torch.testing.assert_close(nu, nu_before, rtol=0, atol=0)
    assert mu.requires_grad and not nu.requires_grad
    assert result.potential.data_ptr() not in (mu.data_ptr(), nu.data_ptr())


def test_networkx_graph_not_modified():
    graph = _weighted_graph()
    before = copy.deepcopy(graph)
    mu, nu = _masses(8, 2)
    wasserstein(graph, mu, nu)
    GraphTransport(graph).solve_batch(np.stack([mu, mu]), nu)
    assert list(graph.nodes(data=True)) == list(before.nodes(data=True))
    assert list(graph.edges(data=True)) == list(before.edges(data=True))
    assert graph.graph == before.graph
    assert nx.number_of_selfloops(graph) == 1

    forest = nx.random_labeled_tree(10, seed=0)
    forest_before = copy.deepcopy(forest)
    tree_wasserstein(forest, *_masses(10, 3))
    assert list(forest.edges(data=True)) == list(forest_before.edges(data=True))
    assert nx.utils.graphs_equal(forest, forest_before)


def test_pyg_data_not_modified():
    edge_index = torch.tensor([[0, 1, 2, 3, 4, 5, 0, 6, 2], [1, 2, 3, 4, 5, 0, 6, 7, 2]])
    edge_weight = torch.linspace(0.5, 4.0, edge_index.size(1), dtype=torch.float64)
    data = Data(edge_index=edge_index, edge_weight=edge_weight, x=torch.randn(8, 3), num_nodes=8)
    before = data.clone()
    keys_before = set(data.keys())
    mu, nu = _masses(8, 4)
    wasserstein(data, mu, nu)
    wasserstein_batch(data, mu, np.stack([nu, nu]))
    assert set(data.keys()) == keys_before
    assert data.num_nodes == 8
    torch.testing.assert_close(data.edge_index, before.edge_index, rtol=0, atol=0)
    torch.testing.assert_close(data.edge_weight, before.edge_weight, rtol=0, atol=0)
    torch.testing.assert_close(data.x, before.x, rtol=0, atol=0)


def test_scipy_sparse_not_modified():
    rows, cols = np.array([0, 1, 2, 0]), np.array([1, 2, 3, 3])
    adjacency = sp.csr_array((np.array([1.0, 2.0, 0.5, 4.0]), (rows, cols)), shape=(4, 4))
    before = adjacency.copy()
    wasserstein(adjacency, MU, NU)
    assert (adjacency != before).nnz == 0
    np.testing.assert_array_equal(adjacency.data, before.data)
    np.testing.assert_array_equal(adjacency.indices, before.indices)
