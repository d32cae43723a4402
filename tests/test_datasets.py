"""Tests for graphwgan.datasets: data_dir, load, available and the embedded default_graph."""

from __future__ import annotations

import hashlib
import os
import zipfile

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
import torch

from graphwgan import datasets
from graphwgan.graph import num_components, undirected_edges

NAMES = [
    "amazon_cs",
    "books",
    "citeseer",
    "citeseer_full",
    "coauthor_phy",
    "cora",
    "cora_ml",
    "cora_ml_netgan",
    "disney",
    "enron",
    "gen_100",
    "gen_1000",
    "gen_500",
    "gen_time",
    "homo_sapiens_ppi",
    "inj_amazon",
    "inj_cora",
    "polblogs",
    "pubmed",
    "reddit",
    "shs27k",
    "tolokers",
    "yeast_ppi",
]

# name -> (nodes, undirected edges, LCC nodes, LCC edges). Counts of the first twelve are the ones
# stated in shared/data/SOURCES.md (undirected = off-diagonal pairs of A + A^T). SOURCES.md gives
# only entry counts for the BOND files; their undirected counts below were checked independently
# by collecting the set of {u, v} pairs (u != v) of each raw edge_index in plain Python.
COUNTS = {
    "cora_ml": (2995, 8158, 2810, 7981),
    "cora_ml_netgan": (2995, 8158, 2810, 7981),
    "citeseer": (3312, 4536, 2110, 3668),
    "cora": (2708, 5278, 2485, 5069),
    "polblogs": (1490, 16715, 1222, 16714),
    "pubmed": (19717, 44324, 19717, 44324),
    "citeseer_full": (4230, 5337, 1681, 2902),
    "amazon_cs": (13752, 245861, 13381, 245778),
    "coauthor_phy": (34493, 247962, 34493, 247962),
    "homo_sapiens_ppi": (3890, 37845, 3852, 37841),
    "yeast_ppi": (2375, 11693, 2375, 11693),
    "shs27k": (1690, 7624, 1652, 7603),
    "inj_cora": (2708, 5574, 2507, 5389),
    "inj_amazon": (13752, 257435, 13394, 257358),
    "reddit": (10984, 78516, 10980, 78514),
    "disney": (124, 335, 124, 335),
    "books": (1418, 3695, 1418, 3695),
    "enron": (13533, 176987, 13533, 176987),
    "gen_100": (100, 307, 100, 307),
    "gen_500": (500, 1331, 497, 1331),
    "gen_1000": (1000, 2468, 993, 2467),
    "gen_time": (1000, 2871, 993, 2870),
    "tolokers": (11758, 519000, 11758, 519000),
}

# name -> (x shape or None, x sparse?, number of classes or y shape)
FEATURES = {
    "cora_ml": ((2995, 2879), False, 7),
    "citeseer": ((3312, 3703), False, 6),
    "cora": ((2708, 1433), False, 7),
    "polblogs": (None, False, 2),
    "pubmed": (None, False, 3),
    "citeseer_full": ((4230, 602), False, 6),
    "amazon_cs": ((13752, 767), False, 10),
    "coauthor_phy": ((34493, 8415), True, 5),
    "homo_sapiens_ppi": (None, False, (3890, 50)),
    "inj_cora": ((2708, 1433), False, 4),
    "reddit": ((10984, 64), False, 2),
    "tolokers": ((11758, 10), False, 2),
}


def test_available_lists_every_name():
    assert datasets.available() == NAMES
    assert set(COUNTS) == set(NAMES)


def test_unknown_name_suggests_closest():
    with pytest.raises(ValueError, match=r"unknown dataset 'cora-ml'\. Did you mean 'cora_ml'\? Available: \["):
        datasets.load("cora-ml")
    with pytest.raises(ValueError, match=r"unknown dataset 'zzz'\. Available:"):
        datasets.load("zzz")
    with pytest.raises(TypeError, match=r"name must be a str"):
        datasets.load(3)


def test_data_dir_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(datasets.DATA_ENV, str(tmp_path))
    assert datasets.data_dir() == tmp_path.resolve()
    monkeypatch.setenv(datasets.DATA_ENV, str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match=r"GRAPHWGAN_DATA=.*missing' is not a folder"):
        datasets.data_dir()


def test_data_dir_never_looks_relative_to_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.delenv(datasets.DATA_ENV, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    (tmp_path / "shared" / "data").mkdir(parents=True)  # a planted ../shared/data next to the cwd
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    with pytest.raises(FileNotFoundError, match=r"GRAPHWGAN_DATA is unset and the per-user folder .*xdg/graphwgan"):
        datasets.data_dir()

    # the documented per-user folder
    (tmp_path / "xdg" / "graphwgan").mkdir(parents=True)
    assert datasets.user_data_dir() == tmp_path / "xdg" / "graphwgan"
    assert datasets.data_dir() == (tmp_path / "xdg" / "graphwgan").resolve()


def _planted(folder, file_name, marker):
    """An npz named like a dataset whose pickled entry would create ``marker`` when unpickled."""

    class Payload:
        def __reduce__(self):
            return (os.mkdir, (str(marker),))

    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / file_name, adj_matrix=np.array(Payload(), dtype=object), node_label=np.zeros(3))
    return folder / file_name


@pytest.mark.parametrize("name", ["amazon_cs", "citeseer_full", "coauthor_phy", "cora_ml_netgan"])
def test_a_planted_pickle_is_refused_before_it_is_unpickled(tmp_path, name):
    file_name = datasets._DATASETS[name][0]
    marker = tmp_path / "code_ran"
    _planted(tmp_path / "data", file_name, marker)
    with pytest.raises(ValueError, match=rf"load: dataset {name!r}: .* has SHA-256 [0-9a-f]{{64}}, not the published"):
        datasets.load(name, root=tmp_path / "data")
    assert not marker.exists()


def test_a_planted_torch_file_is_refused_before_it_is_read(tmp_path):
    class Payload:
        def __reduce__(self):
            return (os.mkdir, (str(tmp_path / "code_ran"),))

    (tmp_path / "data").mkdir()
    torch.save({"edge_index": torch.zeros(2, 1, dtype=torch.long), "x": Payload()}, tmp_path / "data" / "x.pt")
    with zipfile.ZipFile(tmp_path / "data" / "inj_cora.pt.zip", "w") as archive:
        archive.write(tmp_path / "data" / "x.pt", "inj_cora.pt")
    with pytest.raises(ValueError, match=r"load: dataset 'inj_cora': .* has SHA-256 .*not the published"):
        datasets.load("inj_cora", root=tmp_path / "data")
    assert not (tmp_path / "code_ran").exists()


def test_a_planted_pickle_through_the_environment_and_the_cli(tmp_path, monkeypatch, capsys):
    from graphwgan.cli import main

    marker = tmp_path / "code_ran"
    _planted(tmp_path / "data", "amazon_cs.npz", marker)
    monkeypatch.setenv(datasets.DATA_ENV, str(tmp_path / "data"))
    assert main(["w1", "--graph", "amazon_cs"]) == 2
    assert "SHA-256" in capsys.readouterr().err
    assert not marker.exists()


def test_restricted_unpickling_refuses_code_even_when_asked_to_read_the_file(tmp_path):
    from graphwgan.io import read_graph

    marker = tmp_path / "code_ran"
    path = _planted(tmp_path, "graph.npz", marker)
    with pytest.raises(ValueError, match=r"pickled Python object; pass allow_pickle=\"restricted\""):
        read_graph(path)
    with pytest.raises(ValueError, match=r"restricted reader refuses .*mkdir"):
        read_graph(path, allow_pickle="restricted")
    assert not marker.exists()
    with pytest.raises(ValueError, match="allow_pickle must be False, True or 'restricted'"):
        read_graph(path, allow_pickle="yes")


def test_check_file(tmp_path):
    path = tmp_path / "cora.npz"
    path.write_bytes(b"not the published file")
    with pytest.raises(ValueError, match="not the published"):
        datasets.check_file(path)
    digest = hashlib.sha256(b"not the published file").hexdigest()
    assert datasets.check_file(path, expected=digest) == digest
    with pytest.raises(ValueError, match="no known SHA-256"):
        datasets.check_file(tmp_path / "unknown.npz")


@pytest.mark.parametrize("name", ["citeseer_full", "cora_ml_netgan"])
def test_restricted_reader_matches_the_full_unpickler(data_root, name):
    from graphwgan.io import read_graph

    path = data_root / datasets._DATASETS[name][0]
    safe = read_graph(path, allow_pickle="restricted", weight=None)
    full = read_graph(path, allow_pickle=True, weight=None)  # oracle: Python's unpickler on the published file
    assert sorted(safe.keys()) == sorted(full.keys())
    for key in safe.keys():
        a, b = safe[key], full[key]
        if isinstance(a, torch.Tensor):
            assert torch.equal(a.to_dense() if a.is_sparse else a, b.to_dense() if b.is_sparse else b), key
        else:
            assert a == b, key


def test_load_refuses_the_full_unpickler(data_root):
    with pytest.raises(ValueError, match="drop allow_pickle=True"):
        datasets.load("amazon_cs", allow_pickle=True)


def test_load_from_root_folder(tmp_path, monkeypatch):
    adj = sp.csr_array((np.array([1.0, 2.0]), (np.array([0, 1]), np.array([1, 2]))), shape=(4, 4))
    np.savez(
        tmp_path / "cora_ml.npz",
        adj_data=adj.data,
        adj_indices=adj.indices,
        adj_indptr=adj.indptr,
        adj_shape=np.array(adj.shape),
        labels=np.array([0, 1, 0, 1]),
    )
    digest = hashlib.sha256((tmp_path / "cora_ml.npz").read_bytes()).hexdigest()
    monkeypatch.setitem(datasets.SHA256, "cora_ml.npz", digest)  # a stand-in file, known by its digest
    data = datasets.load("cora_ml", root=tmp_path)
    assert data.num_nodes == 4
    assert data.edge_weight.tolist() == [1.0] * 4  # unweighted by default
    assert datasets.load("cora_ml", root=tmp_path, weight="weight").edge_weight.tolist() == [1.0, 1.0, 2.0, 2.0]
    lcc = datasets.load("Cora_ML", root=str(tmp_path), largest_component=True)
    assert lcc.original_index.tolist() == [0, 1, 2]
    assert lcc.y.tolist() == [0, 1, 0]
    with pytest.raises(FileNotFoundError, match=r"dataset 'pubmed' needs the file '.*pubmed\.npz', which is missing"):
        datasets.load("pubmed", root=tmp_path)


def test_default_graph_is_deterministic_and_realistic():
    np_state = np.random.get_state()[1].copy()  # noqa: NPY002 - checking the legacy global RNG
    torch_state = torch.random.get_rng_state().clone()
    data = datasets.default_graph()
    again = datasets.default_graph()
    assert np.array_equal(np.random.get_state()[1], np_state)  # noqa: NPY002 - no global seeding
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    assert data is not again
    assert torch.equal(data.edge_index, again.edge_index)
    assert torch.equal(data.y, again.y)

    assert 400 <= data.num_nodes <= 600
    assert num_components(data)[0] == 1
    assert data.edge_weight.unique().tolist() == [1.0]
    assert data.y.dtype == torch.int64 and data.y.unique().tolist() == [0, 1, 2, 3]

    uv, _ = undirected_edges(data)
    graph = nx.Graph()
    graph.add_nodes_from(range(data.num_nodes))
    graph.add_edges_from(uv.T.tolist())
    degrees = np.array([d for _, d in graph.degree()])
    assert degrees.max() >= 5 * degrees.mean()  # heavy tail
    assert np.median(degrees) < degrees.mean()  # right-skewed
    assert nx.average_clustering(graph) > 0.15
    communities = [set(np.flatnonzero(data.y.numpy() == c).tolist()) for c in range(4)]
    assert nx.algorithms.community.modularity(graph, communities) > 0.3


def test_default_graph_result_can_be_modified_safely():
    data = datasets.default_graph()
    data.edge_weight[:] = 5.0
    assert datasets.default_graph().edge_weight.unique().tolist() == [1.0]


@pytest.mark.parametrize("name", NAMES)
def test_named_dataset_counts(data_root, name):
    n, m, lcc_n, lcc_m = COUNTS[name]
    data = datasets.load(name)
    assert (data.num_nodes, data.num_edges // 2) == (n, m)
    assert data.edge_index.dtype == torch.int64 and data.edge_weight.dtype == torch.float64
    assert data.edge_weight.unique().tolist() == [1.0]
    assert not bool((data.edge_index[0] == data.edge_index[1]).any())
    lcc = datasets.load(name, root=data_root, largest_component=True)
    assert (lcc.num_nodes, lcc.num_edges // 2) == (lcc_n, lcc_m)
    assert num_components(lcc)[0] == 1
    assert lcc.original_index.shape == (lcc_n,)
    if "y" in data:
        assert lcc.y.shape[0] == lcc_n
    if name in FEATURES:
        x_shape, x_sparse, classes = FEATURES[name]
        if x_shape is None:
            assert "x" not in data
        else:
            assert tuple(data.x.shape) == x_shape
            assert data.x.dtype == torch.float32
            assert data.x.is_sparse == x_sparse
        if isinstance(classes, tuple):
            assert tuple(data.y.shape) == classes
        else:
            assert int(data.y.max()) + 1 == classes


def test_bond_labels_are_int64_bits(data_root):
    inj = datasets.load("inj_cora")
    assert inj.y.dtype == torch.int64
    assert torch.bincount(inj.y).tolist() == [2570, 68, 68, 2]
    books = datasets.load("books")
    assert books.y.dtype == torch.int64 and int(books.y.sum()) == 28


def test_tolokers_matches_its_file(data_root):
    data = datasets.load("tolokers")
    with np.load(data_root / "tolokers.npz") as raw:
        edges, x, y = raw["edges"], raw["node_features"], raw["node_labels"]
    assert data.y.dtype == torch.int64 and torch.bincount(data.y).tolist() == [9192, 2566]  # SOURCES.md
    assert np.array_equal(data.y.numpy(), y) and np.array_equal(data.x.numpy(), x)
    stored = np.unique(np.sort(edges, axis=1), axis=0)  # each undirected pair once, (small, large)
    loaded = data.edge_index.numpy().T
    forward, backward = loaded[loaded[:, 0] < loaded[:, 1]], loaded[loaded[:, 0] > loaded[:, 1]][:, ::-1]
    assert np.array_equal(np.unique(forward, axis=0), stored)
    assert np.array_equal(np.unique(backward, axis=0), stored)
    assert loaded.shape[0] == 2 * stored.shape[0]


def test_tolokers_reader_names_missing_arrays(tmp_path):
    np.savez(tmp_path / "tolokers.npz", edges=np.zeros((1, 2), dtype=np.int64))
    with pytest.raises(ValueError, match="SHA-256"):  # a named dataset's file is checked first
        datasets.load("tolokers", root=tmp_path)
    with pytest.raises(ValueError, match=r"lacks the arrays \['node_features', 'node_labels'\]"):
        datasets._read_tolokers(tmp_path / "tolokers.npz")


def test_labels_and_names_match_sources(data_root):
    cora_ml = datasets.load("cora_ml")
    assert torch.bincount(cora_ml.y).tolist() == [354, 402, 452, 442, 857, 193, 295]
    assert cora_ml.node_names[:2] == ["129558", "95225"]
    netgan = datasets.load("cora_ml_netgan")
    assert torch.equal(netgan.edge_index, cora_ml.edge_index)
    assert netgan.node_names == cora_ml.node_names
    assert torch.allclose(netgan.x, cora_ml.x, atol=1e-6)
    homo = datasets.load("homo_sapiens_ppi")
    assert int(homo.y.sum()) == 6640
    kept = datasets.load("homo_sapiens_ppi", remove_self_loops=False)
    assert int((kept.edge_index[0] == kept.edge_index[1]).sum()) == 894
