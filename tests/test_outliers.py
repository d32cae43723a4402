"""Tests for graphwgan.outliers: counts, labels, copies, seeds and each generator's invariant."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import torch

from graphwgan import outliers, to_graph
from graphwgan.datasets import default_graph
from graphwgan.graph import undirected_edges
from graphwgan.metrics import anomaly_scores_report, roc_auc


@pytest.fixture
def graph():
    """The default community graph with 8 seeded Gaussian features per node."""
    data = default_graph()
    data.x = torch.randn(data.num_nodes, 8, generator=torch.Generator().manual_seed(0))
    return data


def snapshot(data):
    return {key: value.clone() for key, value in data.items() if torch.is_tensor(value)}


def assert_unchanged(data, before):
    for key, value in before.items():
        assert torch.equal(getattr(data, key), value), key


def edge_set(data):
    uv, _ = undirected_edges(data)
    return set(zip(uv[0].tolist(), uv[1].tolist(), strict=True))


def members(labels):
    return torch.nonzero(labels).flatten()


def degree(data):
    return torch.bincount(data.edge_index[0], minlength=data.num_nodes)


def neighbours(data):
    out = [set() for _ in range(data.num_nodes)]
    for u, v in edge_set(data):
        out[u].add(v)
        out[v].add(u)
    return out


# ----------------------------------------------------------------------------------------------
# contextual
# ----------------------------------------------------------------------------------------------


def test_contextual_counts_labels_and_copy(graph):
    before = snapshot(graph)
    data, labels = outliers.inject_contextual_outliers(graph, 30, seed=0)
    assert_unchanged(graph, before)
    assert labels.dtype == torch.int64 and labels.shape == (graph.num_nodes,)
    assert int(labels.sum()) == 30 and set(labels.unique().tolist()) == {0, 1}
    changed = (data.x != graph.x).any(dim=1)
    assert torch.equal(changed, labels.bool())  # exactly the outliers' rows change
    assert torch.equal(data.edge_index, graph.edge_index)
    assert torch.equal(data.y, graph.y)
    assert data.x.data_ptr() != graph.x.data_ptr()


def test_contextual_features_come_from_a_far_other_node(graph):
    data, labels = outliers.inject_contextual_outliers(graph, 30, num_candidates=50, seed=1)
    x = graph.x.double()
    for i in members(labels).tolist():
        donors = members((x == data.x[i].double()).all(dim=1)).tolist()
        assert donors and i not in donors
        distance = torch.linalg.norm(x - x[i], dim=1)
        others = torch.cat([distance[:i], distance[i + 1 :]])
        # the farthest of 50 random nodes beats the median node with probability 1 - 2**-50
        assert distance[donors[0]] >= others.median()


def test_contextual_with_every_node_as_candidate_takes_the_farthest():
    x = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 3.0], [4.0, 4.0], [-1.0, 0.5]])
    graph = to_graph(torch.tensor([[0, 1, 2, 3], [1, 2, 3, 4]]))
    graph.x = x
    data, labels = outliers.inject_contextual_outliers(graph, 5, num_candidates=4, seed=0)
    assert labels.tolist() == [1, 1, 1, 1, 1]
    farthest = torch.cdist(x, x).argmax(dim=1)  # every row has a unique maximum here
    assert torch.equal(data.x, x[farthest])


def test_contextual_seeds(graph):
    a, la = outliers.inject_contextual_outliers(graph, 20, seed=0)
    b, lb = outliers.inject_contextual_outliers(graph, 20, seed=0)
    c, lc = outliers.inject_contextual_outliers(graph, 20, seed=1)
    assert torch.equal(a.x, b.x) and torch.equal(la, lb)
    assert not torch.equal(la, lc)


def test_contextual_errors(graph):
    with pytest.raises(ValueError, match="no node features"):
        outliers.inject_contextual_outliers(nx.path_graph(5), 1)
    with pytest.raises(ValueError, match="num_outliers=.* too large"):
        outliers.inject_contextual_outliers(graph, graph.num_nodes + 1)
    with pytest.raises(ValueError, match="num_candidates=.* too large"):
        outliers.inject_contextual_outliers(graph, 1, num_candidates=graph.num_nodes)
    with pytest.raises(TypeError, match="num_outliers must be an int, got 2.0; pass 2"):
        outliers.inject_contextual_outliers(graph, 2.0)
    with pytest.raises(ValueError, match="seed must be >= 0"):
        outliers.inject_contextual_outliers(graph, 2, seed=-1)
    with pytest.raises(ValueError, match="num_candidates must be >= 1"):
        outliers.inject_contextual_outliers(graph, 2, num_candidates=0)


# ----------------------------------------------------------------------------------------------
# structural
# ----------------------------------------------------------------------------------------------


def test_structural_cliques_are_complete_and_edges_grow(graph):
    before = snapshot(graph)
    data, labels = outliers.inject_structural_outliers(graph, 4, 6, seed=3)
    assert_unchanged(graph, before)
    assert int(labels.sum()) == 24 and labels.dtype == torch.int64
    # documented draw: a permutation of the nodes cut into consecutive groups
    groups = np.random.default_rng(3).permutation(graph.num_nodes)[:24].reshape(4, 6)
    assert set(groups.ravel().tolist()) == set(members(labels).tolist())
    old, new = edge_set(graph), edge_set(data)
    pairs = {(min(u, v), max(u, v)) for group in groups.tolist() for u in group for v in group if u != v}
    assert pairs <= new  # every clique complete
    assert new - old == pairs - old
    assert len(new) == len(old) + len(pairs - old)
    assert data.edge_index.shape[1] == 2 * len(new)
    assert torch.equal(data.x, graph.x) and torch.equal(data.y, graph.y)


def test_structural_keeps_existing_lengths_and_adds_unit_lengths():
    graph = to_graph(torch.tensor([[0, 1, 2], [1, 2, 3]]), [3.0, 3.0, 3.0])
    data, labels = outliers.inject_structural_outliers(graph, 1, 4, seed=0)
    assert labels.tolist() == [1, 1, 1, 1]
    uv, w = undirected_edges(data)
    lengths = dict(zip(zip(uv[0].tolist(), uv[1].tolist(), strict=True), w.tolist(), strict=True))
    assert lengths == {(0, 1): 3.0, (1, 2): 3.0, (2, 3): 3.0, (0, 2): 1.0, (0, 3): 1.0, (1, 3): 1.0}


def test_structural_on_empty_graph_and_networkx_input():
    data, labels = outliers.inject_structural_outliers(nx.empty_graph(20), 3, 5, seed=0)
    assert data.num_edges == 2 * 3 * 10
    count = nx.number_connected_components(nx.Graph(data.edge_index.t().tolist()))
    assert count == 3 and int(labels.sum()) == 15


def test_structural_seeds_and_errors(graph):
    a, la = outliers.inject_structural_outliers(graph, 3, 5, seed=0)
    b, lb = outliers.inject_structural_outliers(graph, 3, 5, seed=0)
    _, lc = outliers.inject_structural_outliers(graph, 3, 5, seed=7)
    assert torch.equal(a.edge_index, b.edge_index) and torch.equal(la, lb)
    assert not torch.equal(la, lc)
    with pytest.raises(ValueError, match="clique_size must be >= 2"):
        outliers.inject_structural_outliers(graph, 3, 1)
    with pytest.raises(ValueError, match="need 60 distinct nodes but the graph has 50"):
        outliers.inject_structural_outliers(nx.path_graph(50), 6, 10)
    with pytest.raises(TypeError, match="num_cliques must be an int"):
        outliers.inject_structural_outliers(graph, "3", 5)


def test_structural_outliers_leak_through_degree_but_rewired_ones_do_not(graph):
    data, labels = outliers.inject_structural_outliers(graph, 4, 10, seed=0)
    leak = roc_auc(labels, degree(data))
    rewired, labels_rewired = outliers.inject_degree_preserving_outliers(graph, 40, seed=0)
    no_leak = roc_auc(labels_rewired, degree(rewired))
    print(f"degree-only ROC-AUC: cliques {leak:.3f}, degree-preserving rewiring {no_leak:.3f}")
    assert leak > 0.8
    assert abs(no_leak - 0.5) < 0.15
    assert no_leak == roc_auc(labels_rewired, degree(graph))  # degrees are literally unchanged


# ----------------------------------------------------------------------------------------------
# degree-preserving rewiring
# ----------------------------------------------------------------------------------------------


def test_degree_preserving_keeps_every_degree_and_replaces_neighbourhoods(graph):
    weighted = graph.clone()
    weighted.edge_weight = torch.arange(1, graph.num_edges + 1, dtype=torch.float64)
    weighted = to_graph(weighted)  # symmetric lengths (min of the two directions)
    before = snapshot(weighted)
    data, labels = outliers.inject_degree_preserving_outliers(weighted, 25, seed=0)
    assert_unchanged(weighted, before)
    assert int(labels.sum()) == 25
    assert torch.equal(degree(data), degree(weighted))
    assert data.num_edges == weighted.num_edges
    assert not (data.edge_index[0] == data.edge_index[1]).any()
    assert torch.equal(torch.sort(data.edge_weight).values, torch.sort(weighted.edge_weight).values)
    old, new = neighbours(weighted), neighbours(data)
    hops = dict(nx.all_pairs_shortest_path_length(nx.Graph(weighted.edge_index.t().tolist()), cutoff=2))
    for o in members(labels).tolist():
        assert old[o] and not (old[o] & new[o])  # no original neighbour is left
        far = sum(c not in hops[o] for c in new[o])
        assert far >= 0.8 * len(new[o])  # new neighbours lie beyond 2 hops (at rewiring time)
    assert torch.equal(data.x, weighted.x)


def test_degree_preserving_seeds_and_errors(graph):
    a, la = outliers.inject_degree_preserving_outliers(graph, 10, seed=0)
    b, lb = outliers.inject_degree_preserving_outliers(graph, 10, seed=0)
    c, lc = outliers.inject_degree_preserving_outliers(graph, 10, seed=1)
    assert torch.equal(a.edge_index, b.edge_index) and torch.equal(la, lb)
    assert not torch.equal(la, lc) and not torch.equal(a.edge_index, c.edge_index)
    with pytest.raises(ValueError, match="no edges"):
        outliers.inject_degree_preserving_outliers(nx.empty_graph(5), 1)
    with pytest.raises(ValueError, match="only 4 nodes have an edge"):
        outliers.inject_degree_preserving_outliers(nx.disjoint_union(nx.path_graph(4), nx.empty_graph(6)), 5)
    with pytest.raises(ValueError, match="too small or too dense"):
        outliers.inject_degree_preserving_outliers(nx.complete_graph(6), 1)
    empty, none = outliers.inject_degree_preserving_outliers(nx.empty_graph(5), 0)
    assert int(none.sum()) == 0 and empty.num_edges == 0


# ----------------------------------------------------------------------------------------------
# combined, BOND bits
# ----------------------------------------------------------------------------------------------


def test_inject_outliers_bits_and_composition(graph):
    before = snapshot(graph)
    data, labels = outliers.inject_outliers(graph, contextual=30, structural=(3, 10), seed=5)
    assert_unchanged(graph, before)
    assert int(((labels & 1) > 0).sum()) == 30 and int(((labels & 2) > 0).sum()) == 30
    assert set(labels.unique().tolist()) <= {0, 1, 2, 3}
    seed_c, seed_s = (int(s) for s in np.random.SeedSequence(5).generate_state(2))
    step, bit0 = outliers.inject_contextual_outliers(graph, 30, seed=seed_c)
    step, bit1 = outliers.inject_structural_outliers(step, 3, 10, seed=seed_s)
    assert torch.equal(labels, bit0 + 2 * bit1)
    assert torch.equal(data.x, step.x) and torch.equal(data.edge_index, step.edge_index)


def test_inject_outliers_nothing_and_errors(graph):
    data, labels = outliers.inject_outliers(graph)
    assert int(labels.sum()) == 0
    assert torch.equal(data.edge_index, graph.edge_index) and torch.equal(data.x, graph.x)
    data, labels = outliers.inject_outliers(nx.path_graph(30), structural=(2, 4))
    assert int((labels == 2).sum()) == 8
    with pytest.raises(TypeError, match="structural must be a pair"):
        outliers.inject_outliers(graph, structural=10)
    with pytest.raises(ValueError, match="no node features"):
        outliers.inject_outliers(nx.path_graph(30), contextual=3)


# ----------------------------------------------------------------------------------------------
# the real BOND file
# ----------------------------------------------------------------------------------------------


def test_inj_cora_bits_and_leakage_baseline(data_root):
    from graphwgan.datasets import load

    data = load("inj_cora", root=data_root)
    y = data.y
    assert int(((y & 1) > 0).sum()) == 70 and int(((y & 2) > 0).sum()) == 70

    def z(values):
        values = values.double()
        return (values - values.mean()) / values.std()

    scores = z(degree(data)) + z(torch.linalg.norm(data.x.double(), dim=1))
    report = anomaly_scores_report(y, scores)
    print(f"inj_cora z(degree) + z(||x||): {report}")
    assert report["roc_auc"] > 0.8
    assert report["roc_auc_structural"] > report["roc_auc_contextual"] > 0.5
