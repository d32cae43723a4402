"""Tests for graphwgan.graph: to_graph, num_components, undirected_edges."""

from __future__ import annotations

import copy

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
import torch
from torch_geometric.data import Data

from graphwgan.graph import edge_arrays, num_components, to_graph, undirected_edges

# A 5-node graph: triangle 0-1-2 with a tail 2-3-4. Each undirected edge once, with its length.
EDGES = [(0, 1, 2.0), (0, 2, 0.5), (1, 2, 1.0), (2, 3, 3.0), (3, 4, 1.5)]
EXPECTED_INDEX = [[0, 0, 1, 1, 2, 2, 2, 3, 3, 4], [1, 2, 0, 2, 0, 1, 3, 2, 4, 3]]
EXPECTED_WEIGHT = [2.0, 0.5, 2.0, 1.0, 0.5, 1.0, 3.0, 3.0, 1.5, 1.5]


def _uvw(edges=EDGES):
    u, v, w = zip(*edges, strict=True)
    return np.array([u, v], dtype=np.int64), np.array(w)


def _torch_one_direction():
    ei, w = _uvw()
    return to_graph(torch.from_numpy(ei), torch.from_numpy(w))


def _torch_reversed_order():
    ei, w = _uvw()
    return to_graph(torch.from_numpy(ei[::-1, ::-1].copy()), torch.from_numpy(w[::-1].copy()))


def _numpy_both_directions():
    ei, w = _uvw()
    return to_graph(np.concatenate([ei, ei[::-1]], axis=1), np.concatenate([w, w]))


def _numpy_int32_list_weight():
    ei, w = _uvw()
    return to_graph(ei.astype(np.int32), w.tolist(), num_nodes=5)


def _data_edge_weight():
    ei, w = _uvw()
    return to_graph(Data(edge_index=torch.from_numpy(ei), edge_weight=torch.from_numpy(w)))


def _data_edge_attr():
    ei, w = _uvw()
    attr = torch.from_numpy(w).float().unsqueeze(1)  # (E, 1) float32 is accepted as lengths
    return to_graph(Data(edge_index=torch.from_numpy(ei), edge_attr=attr, num_nodes=5))


def _networkx_graph():
    graph = nx.Graph()
    graph.add_nodes_from(range(5))
    graph.add_weighted_edges_from(EDGES)
    return to_graph(graph)


def _networkx_digraph_custom_name():
    graph = nx.DiGraph()
    graph.add_nodes_from(range(5))
    for u, v, w in EDGES:
        graph.add_edge(v, u, length=w)
    return to_graph(graph, weight="length")


def _networkx_multigraph():
    graph = nx.MultiGraph()
    graph.add_nodes_from(range(5))
    graph.add_weighted_edges_from(EDGES)
    graph.add_edge(0, 1, weight=7.0)  # a longer parallel edge never wins
    return to_graph(graph)


def _scipy_upper_csr_matrix():
    ei, w = _uvw()
    return to_graph(sp.csr_matrix((w, (ei[0], ei[1])), shape=(5, 5)))


def _scipy_symmetric_coo_array():
    ei, w = _uvw()
    matrix = sp.coo_array((np.r_[w, w], (np.r_[ei[0], ei[1]], np.r_[ei[1], ei[0]])), shape=(5, 5))
    return to_graph(matrix)


def _path(tmp_path):
    path = tmp_path / "graph.txt"
    path.write_text("".join(f"{u} {v} {w}\n" for u, v, w in EDGES))
    return to_graph(str(path))


FACTORIES = [
    _torch_one_direction,
    _torch_reversed_order,
    _numpy_both_directions,
    _numpy_int32_list_weight,
    _data_edge_weight,
    _data_edge_attr,
    _networkx_graph,
    _networkx_digraph_custom_name,
    _networkx_multigraph,
    _scipy_upper_csr_matrix,
    _scipy_symmetric_coo_array,
]


def _check_expected(data):
    assert data.edge_index.dtype == torch.int64
    assert data.edge_weight.dtype == torch.float64
    assert data.num_nodes == 5
    assert data.edge_index.tolist() == EXPECTED_INDEX
    assert data.edge_weight.tolist() == EXPECTED_WEIGHT


@pytest.mark.parametrize("factory", FACTORIES, ids=lambda f: f.__name__.strip("_"))
def test_every_input_type_gives_the_same_graph(factory):
    _check_expected(factory())


def test_path_input_delegates_to_read_graph(tmp_path):
    _check_expected(_path(tmp_path))


def _sources():
    ei, w = _uvw()
    simple = nx.Graph()
    simple.add_nodes_from(range(5))
    simple.add_weighted_edges_from(EDGES)
    graph = nx.MultiGraph(simple)
    graph.add_edge(0, 1, weight=7.0)  # a longer parallel edge never wins
    directed = nx.DiGraph()
    directed.add_nodes_from(range(5))
    directed.add_edges_from((v, u, {"length": length}) for u, v, length in EDGES)
    return {
        "networkx": (simple, {}),
        "multigraph": (graph, {}),
        "digraph": (directed, {"weight": "length"}),
        "scipy": (sp.csr_matrix((w, (ei[0], ei[1])), shape=(5, 5)), {}),
        "data": (Data(edge_index=torch.from_numpy(ei), edge_weight=torch.from_numpy(w)), {}),
        "data_edge_attr": (Data(edge_index=torch.from_numpy(ei), edge_attr=torch.from_numpy(w)[:, None], num_nodes=5),
                           {}),
        "numpy": (np.concatenate([ei, ei[::-1]], axis=1), {}),
    }


@pytest.mark.parametrize("name", list(_sources()))
def test_edge_arrays_are_to_graphs_edges(name):
    # the arrays to_graph stores for the same source, without building the Data
    source, kwargs = _sources()[name]
    data = to_graph(source, **kwargs)
    row, col, lengths, n = edge_arrays(source, **kwargs)
    assert n == data.num_nodes == 5
    assert [row.tolist(), col.tolist()] == data.edge_index.tolist() == EXPECTED_INDEX
    assert lengths.dtype == np.float64
    assert lengths.tolist() == data.edge_weight.tolist() == (EXPECTED_WEIGHT if name != "numpy" else [1.0] * 10)


@pytest.mark.parametrize("directed", [False, True])
def test_networkx_read_from_adjacency_equals_its_edge_view(directed):
    # relabelled nodes, a self-loop and edges without the attribute (length 1): the result is that of
    # the edge list networkx's edge view gives
    rng = np.random.default_rng(0)
    graph = nx.gnp_random_graph(40, 0.15, seed=3, directed=directed)
    graph = nx.relabel_nodes(graph, {i: f"n{(7 * i) % 40}" for i in range(40)})
    for a, b in list(graph.edges)[::2]:
        graph.edges[a, b]["length"] = float(rng.integers(1, 9))
    graph.add_edge("n5", "n5", length=2.0)
    nodes = list(graph.nodes)
    edges = list(graph.edges(data="length", default=1.0))
    edge_index = np.array([[nodes.index(a) for a, _, _ in edges], [nodes.index(b) for _, b, _ in edges]])
    expected = to_graph(edge_index, [w for *_, w in edges], num_nodes=len(nodes))
    data = to_graph(graph, weight="length")
    assert data.edge_index.tolist() == expected.edge_index.tolist()
    assert data.edge_weight.tolist() == expected.edge_weight.tolist()
    # a bad length is named by its place in the edge view
    bad = 5
    a, b, _ = edges[bad]
    graph.edges[a, b]["length"] = -1.0
    with pytest.raises(ValueError, match=rf"first: edge {bad} has length -1\.0"):
        to_graph(graph, weight="length")
    graph.edges[a, b]["length"] = "far"
    with pytest.raises(TypeError, match=r"edge attribute 'length' must hold real numbers"):
        to_graph(graph, weight="length")


def test_edge_arrays_of_a_path_and_of_weight_none(tmp_path):
    _path(tmp_path)
    row, col, lengths, n = edge_arrays(tmp_path / "graph.txt")
    assert (n, [row.tolist(), col.tolist()], lengths.tolist()) == (5, EXPECTED_INDEX, EXPECTED_WEIGHT)
    _, _, lengths, _ = edge_arrays(nx.Graph([(0, 1, {"weight": 3.0})]), weight=None)
    assert lengths.tolist() == [1.0, 1.0]


@pytest.mark.parametrize(
    "source, weight, error, match",
    [
        (nx.Graph(), "weight", ValueError, r"empty graph"),
        (nx.Graph([(0, 1, {"weight": 0.0})]), "weight", ValueError, r"edge attribute 'weight' must hold positive"),
        (sp.csr_array((2, 3)), "weight", ValueError, r"must be square"),
        (np.array([[0], [1]]), 3, TypeError, r"weight must be an attribute name"),
        (object(), "weight", TypeError, r"unsupported source type"),
    ],
)
def test_edge_arrays_errors_are_to_graphs(source, weight, error, match):
    for call in (to_graph, edge_arrays):
        with pytest.raises(error, match=match):
            call(source, weight=weight)


def test_networkx_relabels_and_keeps_node_names():
    graph = nx.Graph()
    graph.add_nodes_from(["c", "a", "b", "lonely"])
    graph.add_edge("a", "b", weight=2.0)
    graph.add_edge("c", "a")  # no weight attribute -> length 1
    data = to_graph(graph)
    assert data.node_names == ["c", "a", "b", "lonely"]
    assert data.num_nodes == 4
    assert data.edge_index.tolist() == [[0, 1, 1, 2], [1, 0, 2, 1]]
    assert data.edge_weight.tolist() == [1.0, 1.0, 2.0, 2.0]


def test_output_is_coalesced_symmetric_and_takes_minimum_of_duplicates():
    rng = np.random.default_rng(1)
    n, e = 30, 400
    ei = rng.integers(0, n, size=(2, e))
    w = rng.uniform(0.1, 5.0, size=e)
    data = to_graph(ei, w, num_nodes=n)
    expected = {}
    for u, v, length in zip(ei[0].tolist(), ei[1].tolist(), w.tolist(), strict=True):
        if u != v:
            for key in ((u, v), (v, u)):
                expected[key] = min(expected.get(key, np.inf), length)
    pairs = list(zip(*data.edge_index.tolist(), strict=True))
    assert pairs == sorted(expected)  # sorted by row then column, no duplicates
    assert data.edge_weight.tolist() == [expected[p] for p in pairs]


def test_minimum_rule_for_duplicates_and_directions():
    ei = torch.tensor([[0, 0, 1, 1], [1, 1, 0, 2]])
    data = to_graph(ei, torch.tensor([3.0, 2.0, 5.0, 4.0]))
    assert data.edge_index.tolist() == [[0, 1, 1, 2], [1, 0, 2, 1]]
    assert data.edge_weight.tolist() == [2.0, 2.0, 4.0, 4.0]

    digraph = nx.DiGraph()
    digraph.add_edge("a", "b", weight=3.0)
    digraph.add_edge("b", "a", weight=1.5)
    assert to_graph(digraph).edge_weight.tolist() == [1.5, 1.5]

    multigraph = nx.MultiDiGraph()
    multigraph.add_edge(0, 1, weight=4.0)
    multigraph.add_edge(0, 1, weight=0.25)
    multigraph.add_edge(1, 0, weight=9.0)
    assert to_graph(multigraph).edge_weight.tolist() == [0.25, 0.25]

    matrix = sp.csr_array(np.array([[0.0, 3.0], [2.0, 0.0]]))
    assert to_graph(matrix).edge_weight.tolist() == [2.0, 2.0]


def test_self_loops_removed_by_default_and_kept_on_request():
    ei = torch.tensor([[0, 1, 1], [1, 1, 2]])
    data = to_graph(ei, [1.0, 5.0, 2.0])
    assert data.edge_index.tolist() == [[0, 1, 1, 2], [1, 0, 2, 1]]
    kept = to_graph(ei, [1.0, 5.0, 2.0], remove_self_loops=False)
    assert kept.edge_index.tolist() == [[0, 1, 1, 1, 2], [1, 0, 1, 2, 1]]
    assert kept.edge_weight.tolist() == [1.0, 1.0, 5.0, 2.0, 2.0]
    loops_only = to_graph(torch.tensor([[0], [0]]), num_nodes=2)
    assert loops_only.edge_index.shape == (2, 0)
    assert loops_only.num_nodes == 2


def test_weight_none_gives_unit_lengths():
    ei, w = _uvw()
    assert to_graph(sp.csr_array((w, (ei[0], ei[1])), shape=(5, 5)), weight=None).edge_weight.tolist() == [1.0] * 10
    data = Data(edge_index=torch.from_numpy(ei), edge_weight=torch.from_numpy(w))
    assert to_graph(data, weight=None).edge_weight.tolist() == [1.0] * 10
    graph = nx.Graph()
    graph.add_weighted_edges_from(EDGES)
    assert to_graph(graph, weight=None).edge_weight.tolist() == [1.0] * 10


def test_explicit_zeros_in_sparse_input_are_absent_edges():
    matrix = sp.csr_array((np.array([1.0, 0.0]), (np.array([0, 1]), np.array([1, 2]))), shape=(3, 3))
    assert matrix.nnz == 2
    data = to_graph(matrix)
    assert data.edge_index.tolist() == [[0, 1], [1, 0]]
    assert data.num_nodes == 3


def test_isolated_nodes_from_num_nodes_and_edgeless_graph():
    data = to_graph(torch.tensor([[0], [1]]), num_nodes=4)
    assert data.num_nodes == 4
    edgeless = to_graph(np.zeros((2, 0), dtype=np.int64), num_nodes=3)
    assert edgeless.num_nodes == 3
    assert edgeless.edge_index.shape == (2, 0) and edgeless.edge_weight.shape == (0,)


def _two_component_data():
    # component {0, 1, 4} (3 nodes) and {2, 3} (2 nodes)
    return Data(
        edge_index=torch.tensor([[0, 1, 2], [1, 4, 3]]),
        edge_weight=torch.tensor([1.0, 2.0, 3.0]),
        x=torch.arange(10, dtype=torch.float32).reshape(5, 2),
        y=torch.tensor([10, 11, 12, 13, 14]),
        train_mask=torch.tensor([True, False, True, False, True]),
        node_names=["a", "b", "c", "d", "e"],
        edge_label=torch.tensor([7, 8, 9]),
        graph_label=torch.tensor([42]),
    )


def test_largest_component_relabels_and_slices_node_attributes():
    data = to_graph(_two_component_data(), largest_component=True)
    assert data.num_nodes == 3
    assert data.original_index.tolist() == [0, 1, 4]
    assert data.original_index.dtype == torch.int64
    assert data.edge_index.tolist() == [[0, 1, 1, 2], [1, 0, 2, 1]]
    assert data.edge_weight.tolist() == [1.0, 1.0, 2.0, 2.0]
    assert data.x.tolist() == [[0.0, 1.0], [2.0, 3.0], [8.0, 9.0]]
    assert data.y.tolist() == [10, 11, 14]
    assert data.train_mask.tolist() == [True, False, True]
    assert data.node_names == ["a", "b", "e"]
    assert data.graph_label.tolist() == [42]
    assert "edge_label" not in data  # edge-level attributes do not survive merging


def test_largest_component_tie_goes_to_smallest_node_id():
    # isolated 0, components {3, 4} and {1, 2} of equal size: {1, 2} holds the smaller id
    data = to_graph(torch.tensor([[3, 1], [4, 2]]), largest_component=True)
    assert data.original_index.tolist() == [1, 2]
    data = to_graph(torch.tensor([[4, 0], [3, 2]]), num_nodes=5, largest_component=True)
    assert data.original_index.tolist() == [0, 2]


def test_largest_component_twice_composes_original_index():
    once = to_graph(_two_component_data(), largest_component=True)
    twice = to_graph(once, largest_component=True)
    assert twice.original_index.tolist() == [0, 1, 4]
    assert twice.edge_index.tolist() == once.edge_index.tolist()


def test_largest_component_with_sparse_features():
    data = _two_component_data()
    data.x = data.x.to_sparse()
    out = to_graph(data, largest_component=True)
    assert out.x.is_sparse
    assert out.x.to_dense().tolist() == [[0.0, 1.0], [2.0, 3.0], [8.0, 9.0]]


def test_data_input_is_never_modified_and_shares_no_tensor():
    data = _two_component_data()
    data.edge_index = torch.tensor([[1, 0, 2, 1], [0, 1, 3, 4]])
    data.edge_weight = torch.tensor([1.0, 1.0, 3.0, 2.0])
    del data.edge_label
    before = copy.deepcopy(data)
    out = to_graph(data, largest_component=True)
    for key, value in before.items():
        if isinstance(value, torch.Tensor):
            assert torch.equal(data[key], value), key
        else:
            assert data[key] == value, key
    assert "original_index" not in data
    out.x[0, 0] = -100.0
    out.node_names[0] = "changed"
    assert data.x[0, 0] == 0.0
    assert data.node_names[0] == "a"
    same = to_graph(data)
    same.y[0] = -1
    assert data.y[0] == 10


def test_networkx_sparse_and_array_inputs_are_never_modified():
    graph = nx.MultiDiGraph()
    graph.add_edge("a", "b", weight=3.0)
    graph.add_edge("b", "a", weight=1.0)
    graph.add_edge("b", "b")
    before = copy.deepcopy(graph)
    to_graph(graph, largest_component=True)
    assert nx.utils.graphs_equal(graph, before)
    assert list(graph.edges(data=True, keys=True)) == list(before.edges(data=True, keys=True))

    matrix = sp.csr_array((np.array([2.0, 0.0, 1.0]), (np.array([0, 1, 1]), np.array([1, 2, 1]))), shape=(3, 3))
    dense, nnz = matrix.toarray(), matrix.nnz
    to_graph(matrix)
    assert matrix.nnz == nnz and np.array_equal(matrix.toarray(), dense)

    ei = np.array([[1, 0], [0, 2]])
    w = np.array([1.0, 2.0])
    ei_before, w_before = ei.copy(), w.copy()
    out = to_graph(ei, w)
    out.edge_weight[0] = 99.0
    assert np.array_equal(ei, ei_before) and np.array_equal(w, w_before)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: to_graph([[0, 1], [1, 0]]), TypeError, r"unsupported source type builtins\.list.*supported are"),
        (lambda: to_graph(torch.zeros(3, 2, dtype=torch.long)), ValueError, r"shape \(2, E\), got \(3, 2\)"),
        (lambda: to_graph(torch.eye(3).to_sparse()), TypeError, r"got a sparse torch tensor"),
        (lambda: to_graph(np.zeros(4, dtype=np.int64)), ValueError, r"shape \(2, E\)"),
        (lambda: to_graph(torch.tensor([[0.0, 1.0], [1.0, 2.0]])), TypeError, r"integer node ids, got dtype float32"),
        (
            lambda: to_graph(np.array([[0, -1], [1, 2]])),
            ValueError,
            r"1 negative source node ids \(first: column 1 holds -1\)",
        ),
        (
            lambda: to_graph(np.array([[0, 1], [1, 5]]), num_nodes=3),
            ValueError,
            r"out of range for num_nodes=3 \(first: column 1 holds 5\)",
        ),
        (
            lambda: to_graph(np.array([[0, 1], [1, 2]]), [1.0]),
            ValueError,
            r"edge_weight has 1 entries but there are 2 edges",
        ),
        (lambda: to_graph(np.array([[0, 1], [1, 2]]), [[1.0, 2.0]]), ValueError, r"must be 1-D"),
        (lambda: to_graph(np.array([[0, 1], [1, 2]]), ["a", "b"]), TypeError, r"real numbers"),
        (
            lambda: to_graph(np.array([[0, 1, 2], [1, 2, 0]]), [1.0, 0.0, -2.0]),
            ValueError,
            r"2 of 3 are not \(first: edge 1 has length 0\.0\)",
        ),
        (
            lambda: to_graph(np.array([[0, 1], [1, 2]]), [np.nan, 1.0]),
            ValueError,
            r"1 of 2 are not \(first: edge 0 has length nan\)",
        ),
        (lambda: to_graph(np.array([[0, 1], [1, 2]]), [1.0, np.inf]), ValueError, r"first: edge 1 has length inf"),
        (lambda: to_graph(np.zeros((2, 0), dtype=np.int64)), ValueError, r"empty graph"),
        (lambda: to_graph(nx.Graph()), ValueError, r"empty graph"),
        (lambda: to_graph(Data()), ValueError, r"empty graph"),
        (lambda: to_graph(sp.csr_array((0, 0))), ValueError, r"empty graph"),
        (lambda: to_graph(sp.csr_array((2, 3))), ValueError, r"must be square \(n, n\), got shape \(2, 3\)"),
        (
            lambda: to_graph(sp.csr_array(np.array([[0, -1.0], [0, 0]]))),
            ValueError,
            r"adjacency values must hold positive",
        ),
        (lambda: to_graph(nx.path_graph(3), [1.0, 1.0]), TypeError, r"edge_weight is only accepted"),
        (lambda: to_graph(sp.eye(3, format="csr"), [1.0]), TypeError, r"edge_weight is only accepted"),
        (lambda: to_graph(nx.path_graph(3), num_nodes=4), ValueError, r"num_nodes=4 disagrees"),
        (
            lambda: to_graph(Data(edge_index=torch.tensor([[0], [1]])), num_nodes=5),
            ValueError,
            r"num_nodes=5 disagrees",
        ),
        (
            lambda: to_graph(Data(edge_index=torch.tensor([[0], [3]]), num_nodes=2)),
            ValueError,
            r"data\.edge_index has 1 target node ids out of range",
        ),
        (
            lambda: to_graph(Data(edge_index=torch.tensor([[0], [1]]), edge_weight=torch.tensor([1.0, 2.0]))),
            ValueError,
            r"data\.edge_weight has 2 entries",
        ),
        (
            lambda: to_graph(nx.Graph([(0, 1, {"weight": -1})])),
            ValueError,
            r"edge attribute 'weight' must hold positive",
        ),
        (
            lambda: to_graph(nx.Graph([(0, 1, {"weight": "far"})])),
            TypeError,
            r"edge attribute 'weight' must hold real numbers",
        ),
        (lambda: to_graph(np.array([[0], [1]]), [1.0], weight=None), TypeError, r"weight=None asks to ignore lengths"),
        (
            lambda: to_graph(np.array([[0], [1]]), largest_component=1),
            TypeError,
            r"largest_component must be True or False",
        ),
        (lambda: to_graph(np.array([[0], [1]]), num_nodes=2.5), TypeError, r"num_nodes must be an int"),
        (lambda: to_graph(np.array([[0], [1]]), num_nodes=-1), ValueError, r"num_nodes must be >= 0"),
        (lambda: to_graph(np.array([[0], [1]]), weight=3), TypeError, r"weight must be an attribute name"),
        (lambda: to_graph("graph.txt", [1.0]), TypeError, r"edge_weight is only accepted"),
    ],
)
def test_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_num_components():
    count, labels = num_components(to_graph(torch.tensor([[0, 3], [1, 4]]), num_nodes=6))
    assert count == 4
    assert labels.dtype == np.int64 and labels.shape == (6,)
    assert labels[0] == labels[1] and labels[3] == labels[4]
    assert len({labels[0], labels[2], labels[3], labels[5]}) == 4
    # non-Data input goes through to_graph
    assert num_components(nx.path_graph(4))[0] == 1


def test_num_components_matches_networkx_on_a_random_graph():
    graph = nx.gnm_random_graph(3000, 2500, seed=3)
    count, labels = num_components(to_graph(graph))
    components = list(nx.connected_components(graph))
    assert count == len(components)
    for component in components:
        assert len({labels[node] for node in component}) == 1


def test_undirected_edges_in_edge_index_order():
    data = _torch_one_direction()
    uv, w = undirected_edges(data)
    assert uv.dtype == np.int64 and w.dtype == np.float64
    assert uv.tolist() == [[0, 0, 1, 2, 3], [1, 2, 2, 3, 4]]
    assert w.tolist() == [2.0, 0.5, 1.0, 3.0, 1.5]


def test_undirected_edges_skips_self_loops_and_defaults_to_unit_lengths():
    data = to_graph(torch.tensor([[0, 1], [1, 1]]), remove_self_loops=False)
    uv, w = undirected_edges(data)
    assert data.edge_index.tolist() == [[0, 1, 1], [1, 0, 1]]
    assert uv.tolist() == [[0], [1]] and w.tolist() == [1.0]
    raw = Data(edge_index=torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]), num_nodes=3)
    uv, w = undirected_edges(raw)
    assert uv.tolist() == [[0, 1], [1, 2]] and w.tolist() == [1.0, 1.0]
    uv, w = undirected_edges(nx.path_graph(3))  # non-Data input goes through to_graph
    assert uv.tolist() == [[0, 1], [1, 2]]


def test_undirected_edges_rejects_one_direction_data():
    with pytest.raises(ValueError, match=r"1 edges with u < v but 0 with u > v.*to_graph"):
        undirected_edges(Data(edge_index=torch.tensor([[0], [1]]), num_nodes=2))


def test_round_trip_through_undirected_edges():
    rng = np.random.default_rng(7)
    ei = rng.integers(0, 200, size=(2, 2000))
    data = to_graph(ei, rng.uniform(1, 2, size=2000), num_nodes=200)
    uv, w = undirected_edges(data)
    again = to_graph(uv, w, num_nodes=200)
    assert torch.equal(again.edge_index, data.edge_index)
    assert torch.equal(again.edge_weight, data.edge_weight)


def test_keep_attributes_false_keeps_only_structure():
    import torch
    from torch_geometric.data import Data

    data = Data(x=torch.ones(3, 4), y=torch.arange(3), edge_index=torch.tensor([[0, 1], [1, 2]]))
    full = to_graph(data)
    bare = to_graph(data, keep_attributes=False)
    assert "x" in full and "y" in full
    assert "x" not in bare and "y" not in bare
    assert torch.equal(full.edge_index, bare.edge_index)
    assert torch.equal(full.edge_weight, bare.edge_weight)
    assert bare.num_nodes == 3
