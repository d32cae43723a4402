"""Tests for graphwgan.splits: random edge splits and the published CELL split."""

from __future__ import annotations

import math
import shutil
from collections import Counter

import networkx as nx
import numpy as np
import pytest
import torch

from graphwgan import splits
from graphwgan.datasets import default_graph
from graphwgan.graph import num_components, to_graph, undirected_edges
from graphwgan.splits import EdgeSplit, load_cell_split, load_split, train_test_split_edges


def pair_set(pairs):
    return {(int(u), int(v)) for u, v in pairs}


def edge_set(graph):
    return pair_set(undirected_edges(to_graph(graph, weight=None))[0].T)


def check_split(split: EdgeSplit, graph, *, connected=True):
    """Every invariant of a split, against the full graph."""
    full = edge_set(graph)
    n = split.num_nodes
    parts = (split.val_edges, split.val_non_edges, split.test_edges, split.test_non_edges)
    for part in parts:
        assert part.dtype == np.int64 and part.ndim == 2 and part.shape[1] == 2
        assert np.all(part[:, 0] < part[:, 1]) and np.all(part >= 0) and np.all(part < n)
        assert len(pair_set(part)) == len(part)  # no duplicates
    train = pair_set(split.train_edges)
    val, test = pair_set(split.val_edges), pair_set(split.test_edges)
    val_non, test_non = pair_set(split.val_non_edges), pair_set(split.test_non_edges)
    # held-out edges are edges, removed from train; train + held-out is the whole graph
    assert val | test <= full
    assert not (train & val) and not (train & test) and not (val & test)
    assert train | val | test == full
    # non-edges are not edges of the full graph, and the two sets are disjoint
    assert not (val_non & full) and not (test_non & full) and not (val_non & test_non)
    assert len(val_non) == len(val) and len(test_non) == len(test)
    # the training graph follows the to_graph contract
    assert split.train.num_nodes == n
    assert split.train.edge_index.shape == (2, 2 * len(train))
    assert to_graph(split.train).edge_index.equal(split.train.edge_index)
    assert torch.all(split.train.edge_weight == 1.0)
    if connected:
        assert num_components(split.train)[0] == 1


def expected_counts(m, val_fraction, test_fraction):
    n_train = math.floor(m * (1 - val_fraction - test_fraction) + 1e-9)
    n_val = math.floor((m - n_train) * val_fraction / (val_fraction + test_fraction) + 1e-9)
    return n_train, n_val, m - n_train - n_val


@pytest.mark.parametrize(
    ("graph", "val_fraction", "test_fraction"),
    [
        (nx.karate_club_graph(), 0.2, 0.1),
        (nx.barabasi_albert_graph(200, 3, seed=0), 0.10, 0.05),
        (nx.convert_node_labels_to_integers(nx.grid_2d_graph(8, 8)), 0.15, 0.15),
        (nx.gnp_random_graph(60, 0.2, seed=2), 0.0, 0.3),
    ],
)
def test_split_sizes_and_invariants(graph, val_fraction, test_fraction):
    split = train_test_split_edges(graph, val_fraction=val_fraction, test_fraction=test_fraction, seed=1)
    check_split(split, graph)
    n_train, n_val, n_test = expected_counts(graph.number_of_edges(), val_fraction, test_fraction)
    assert (len(split.train_edges), len(split.val_edges), len(split.test_edges)) == (n_train, n_val, n_test)


def test_counts_reproduce_the_published_cora_ml_sizes():
    assert expected_counts(7981, 0.10, 0.05) == (6783, 798, 400)


def test_default_graph_split_keeps_node_attributes():
    graph = default_graph()
    split = train_test_split_edges(graph)
    check_split(split, graph)
    assert torch.equal(split.train.y, graph.y)
    assert repr(split) == (
        f"EdgeSplit(num_nodes={graph.num_nodes}, train_edges={len(split.train_edges)}, "
        f"val={len(split.val_edges)}+{len(split.val_non_edges)}, "
        f"test={len(split.test_edges)}+{len(split.test_non_edges)})"
    )


def test_same_seed_same_split_other_seed_other_split():
    graph = nx.barabasi_albert_graph(150, 3, seed=3)
    first, again = train_test_split_edges(graph, seed=7), train_test_split_edges(graph, seed=7)
    other = train_test_split_edges(graph, seed=8)
    for name in ("val_edges", "val_non_edges", "test_edges", "test_non_edges"):
        np.testing.assert_array_equal(getattr(first, name), getattr(again, name))
    assert torch.equal(first.train.edge_index, again.train.edge_index)
    assert not np.array_equal(first.test_edges, other.test_edges)
    assert not np.array_equal(first.test_non_edges, other.test_non_edges)


def test_connected_false_allows_disconnected_graphs():
    graph = nx.disjoint_union(nx.gnp_random_graph(30, 0.3, seed=0), nx.cycle_graph(6))
    split = train_test_split_edges(graph, connected=False, val_fraction=0.2, test_fraction=0.2, seed=0)
    check_split(split, graph, connected=False)


def test_connected_true_keeps_a_spanning_tree_even_when_most_edges_go():
    graph = nx.cycle_graph(10)
    graph.add_edges_from([(0, 5), (2, 7)])  # 12 edges, 9 in any spanning tree
    split = train_test_split_edges(graph, val_fraction=0.1, test_fraction=0.15, seed=0)
    check_split(split, graph)
    assert len(split.train_edges) == 9


@pytest.mark.parametrize("enumerate_pairs", [True, False])
def test_non_edges_are_uniform(monkeypatch, enumerate_pairs):
    if not enumerate_pairs:
        monkeypatch.setattr(splits, "_ENUMERATE_PAIRS", 0)  # force rejection sampling
    graph = nx.cycle_graph(8)  # 8 edges, 20 non-adjacent pairs; 4 held out -> 4 non-edges
    counts = Counter()
    runs = 400
    for seed in range(runs):
        split = train_test_split_edges(graph, val_fraction=0.25, test_fraction=0.25, seed=seed, connected=False)
        check_split(split, graph, connected=False)
        counts.update(pair_set(split.val_non_edges) | pair_set(split.test_non_edges))
    assert len(counts) == 20
    expected = runs * 4 / 20  # 80 per pair; binomial sd about 8
    assert all(abs(c - expected) < 40 for c in counts.values()), counts


def test_rejection_sampling_on_a_larger_graph(monkeypatch):
    monkeypatch.setattr(splits, "_ENUMERATE_PAIRS", 0)
    graph = nx.barabasi_albert_graph(300, 4, seed=1)
    split = train_test_split_edges(graph, seed=2)
    check_split(split, graph)
    again = train_test_split_edges(graph, seed=2)
    np.testing.assert_array_equal(split.test_non_edges, again.test_non_edges)


def test_input_graph_not_modified():
    data = to_graph(nx.karate_club_graph())
    data.x = torch.randn(34, 3)
    before = {key: value.clone() for key, value in data.items() if torch.is_tensor(value)}
    split = train_test_split_edges(data)
    for key, value in before.items():
        assert torch.equal(data[key], value), key
    assert split.train is not data and split.train.x.data_ptr() != data.x.data_ptr()
    graph = nx.karate_club_graph()
    snapshot = nx.to_dict_of_dicts(graph)
    train_test_split_edges(graph)
    assert nx.to_dict_of_dicts(graph) == snapshot


@pytest.mark.parametrize(
    ("graph", "kwargs", "error", "match"),
    [
        (nx.disjoint_union(nx.cycle_graph(5), nx.cycle_graph(5)), {}, ValueError, "has 2 connected components"),
        (nx.path_graph(30), {}, ValueError, "keeps a spanning tree of 29 edges"),
        (nx.cycle_graph(3), {}, ValueError, "too small"),
        (nx.path_graph(2), {}, ValueError, "too small to split: its 1 edge"),
        (nx.path_graph(2), {"connected": False}, ValueError, "too small to split: its 1 edge"),
        (nx.empty_graph(4), {"connected": False}, ValueError, "too small to split: its 0 edge"),
        (nx.path_graph(4), {"connected": False, "val_fraction": 0.0, "test_fraction": 0.9}, ValueError,
         "give 0 training"),
        (nx.complete_graph(5), {"connected": False, "val_fraction": 0.3, "test_fraction": 0.3}, ValueError,
         "0 non-adjacent node pairs"),
        (nx.karate_club_graph(), {"val_fraction": -0.1}, ValueError, r"val_fraction must be in \[0, 1\)"),
        (nx.karate_club_graph(), {"val_fraction": 0.6, "test_fraction": 0.4}, ValueError, r"must be in \(0, 1\)"),
        (nx.karate_club_graph(), {"test_fraction": 1.0}, ValueError, r"test_fraction must be in \[0, 1\), got 1.0"),
        (nx.karate_club_graph(), {"val_fraction": float("nan")}, ValueError,
         r"val_fraction must be in \[0, 1\), got nan"),
        (nx.karate_club_graph(), {"test_fraction": float("inf")}, ValueError, "test_fraction must be in"),
        (nx.karate_club_graph(), {"val_fraction": 0.0, "test_fraction": 0.0}, ValueError, r"must be in \(0, 1\)"),
        (nx.karate_club_graph(), {"test_fraction": "0.1"}, TypeError, "test_fraction must be a real number"),
        (nx.karate_club_graph(), {"val_fraction": True}, TypeError, "val_fraction must be a real number"),
        (nx.karate_club_graph(), {"connected": 1}, TypeError, "connected must be True or False"),
        (nx.karate_club_graph(), {"seed": 1.5}, TypeError, "seed must be an int"),
        (nx.karate_club_graph(), {"seed": -2}, ValueError, "seed must be >= 0"),
    ],
)
def test_split_errors(graph, kwargs, error, match):
    with pytest.raises(error, match=match):
        train_test_split_edges(graph, **kwargs)


def test_isolated_node_counts_as_disconnected():
    graph = nx.karate_club_graph()
    graph.add_node(34)
    with pytest.raises(ValueError, match="isolated nodes count"):
        train_test_split_edges(graph)


# ----------------------------------------------------------------------------------------------
# the published CELL split
# ----------------------------------------------------------------------------------------------


def test_load_cell_split(data_root):
    split = load_cell_split()
    assert split.num_nodes == 2810
    assert len(split.train_edges) == 6783
    assert num_components(split.train)[0] == 1
    assert [len(p) for p in (split.val_edges, split.val_non_edges, split.test_edges, split.test_non_edges)] == [
        798, 798, 400, 400,
    ]
    full = to_graph(data_root / "splits" / "cell_CORA-ML.npz", weight=None)
    check_split(split, full)


def test_load_cell_split_refuses_an_unknown_pickle(data_root, tmp_path):
    folder = tmp_path / "splits"
    folder.mkdir()
    shutil.copy(data_root / "splits" / "cell_CORA-ML_train.npz", folder)
    (folder / "cell_link_prediction.p").write_bytes((data_root / "splits" / "cell_link_prediction.p").read_bytes()
                                                    + b"\x00")
    with pytest.raises(ValueError, match="refusing to unpickle"):
        load_cell_split(tmp_path)


def test_load_cell_split_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="cell_CORA-ML_train.npz' is missing"):
        load_cell_split(tmp_path)


def test_disconnected_graph_refused_unless_connected_false():
    graph = nx.disjoint_union(nx.karate_club_graph(), nx.karate_club_graph())
    with pytest.raises(ValueError, match="needs a connected graph, but this one has 2 connected components"):
        train_test_split_edges(graph, connected=True)
    check_split(train_test_split_edges(graph, connected=False), graph, connected=False)


# ----------------------------------------------------------------------------------------------
# named benchmark splits
# ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def citeseer_split(data_root):
    return load_split("citeseer", seed=0)


def test_citeseer_split_protocol(data_root, citeseer_split):
    from graphwgan.datasets import load

    split = citeseer_split
    full = load("citeseer", largest_component=True)
    assert (full.num_nodes, full.num_edges // 2) == (2110, 3668)
    check_split(split, full)  # no overlap between parts, non-edges not edges, training graph connected
    sizes = [len(p) for p in (split.train_edges, split.val_edges, split.val_non_edges, split.test_edges,
                              split.test_non_edges)]
    assert sizes == [3117, 367, 367, 184, 184]
    assert sizes[:2] + sizes[3:4] == list(expected_counts(3668, 0.10, 0.05))
    assert split.num_nodes == 2110 and num_components(split.train)[0] == 1
    non_edges = pair_set(split.val_non_edges) | pair_set(split.test_non_edges)
    assert not non_edges & pair_set(split.train_edges)


def test_citeseer_split_is_deterministic(data_root, citeseer_split):
    again, other = load_split(" CiteSeer ", seed=0), load_split("citeseer", seed=1)
    for name in ("train_edges", "val_edges", "val_non_edges", "test_edges", "test_non_edges"):
        np.testing.assert_array_equal(getattr(again, name), getattr(citeseer_split, name))
    assert not np.array_equal(other.test_edges, citeseer_split.test_edges)


def test_load_split_cora_ml_is_the_published_split(data_root):
    split, published = load_split("cora_ml"), load_cell_split()
    np.testing.assert_array_equal(split.test_edges, published.test_edges)
    assert torch.equal(split.train.edge_index, published.train.edge_index)


@pytest.mark.parametrize(
    ("name", "kwargs", "error", "match"),
    [
        ("pubmed", {}, ValueError, r"unknown split 'pubmed'; available: \['citeseer', 'cora_ml'\]"),
        ("cora", {}, ValueError, "available"),
        (3, {}, TypeError, "name must be a str"),
        ("citeseer", {"seed": 1.0}, TypeError, "seed must be an int"),
        ("citeseer", {"seed": -1}, ValueError, "seed must be >= 0"),
        ("cora_ml", {"seed": 3}, ValueError, "has no seed, got seed=3"),
    ],
)
def test_load_split_errors(name, kwargs, error, match):
    with pytest.raises(error, match=match):
        load_split(name, **kwargs)


def test_load_split_refuses_another_citeseer_file(tmp_path, monkeypatch):
    import hashlib

    import scipy.sparse as sp

    from graphwgan import datasets

    adjacency = sp.csr_array(nx.to_scipy_sparse_array(nx.karate_club_graph(), format="csr"))
    np.savez(tmp_path / "citeseer.npz", adj_data=adjacency.data.astype(np.float32), adj_indices=adjacency.indices,
             adj_indptr=adjacency.indptr, adj_shape=np.array(adjacency.shape))
    with pytest.raises(ValueError, match="citeseer.npz' has SHA-256 .*, not the published"):
        load_split("citeseer", root=tmp_path)
    digest = hashlib.sha256((tmp_path / "citeseer.npz").read_bytes()).hexdigest()
    monkeypatch.setitem(datasets.SHA256, "citeseer.npz", digest)  # past the digest, the shape check refuses it
    with pytest.raises(ValueError, match="34 nodes and 78 edges, not the known 2110 and 3668"):
        load_split("citeseer", root=tmp_path)
