"""Tests for graphwgan.io.read_graph: every format, written to tmp_path, plus the shared files."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp
import torch
from torch_geometric.data import Data

import graphwgan.io as gio
from graphwgan.io import read_graph

# The 5-node reference graph of test_graph.py: triangle 0-1-2 and a tail 2-3-4.
EDGES = [(0, 1, 2.0), (0, 2, 0.5), (1, 2, 1.0), (2, 3, 3.0), (3, 4, 1.5)]
EXPECTED_INDEX = [[0, 0, 1, 1, 2, 2, 2, 3, 3, 4], [1, 2, 0, 2, 0, 1, 3, 2, 4, 3]]
EXPECTED_WEIGHT = [2.0, 0.5, 2.0, 1.0, 0.5, 1.0, 3.0, 3.0, 1.5, 1.5]
UNIT_INDEX_ONLY = [1.0] * 10


class _Opaque:
    """A class no safe unpickler knows, to force the pickle path."""


def _adjacency(weighted=True):
    u, v, w = (np.array(c) for c in zip(*EDGES, strict=True))
    values = w if weighted else np.ones_like(w)
    return sp.csr_array((values, (u, v)), shape=(5, 5))


def _check(data, weights=EXPECTED_WEIGHT):
    assert data.num_nodes == 5
    assert data.edge_index.dtype == torch.int64 and data.edge_weight.dtype == torch.float64
    assert data.edge_index.tolist() == EXPECTED_INDEX
    assert data.edge_weight.tolist() == weights


# ----------------------------------------------------------------------------------------------
# edge lists
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "0 1 2.0\n0 2 0.5\n1 2 1\n2 3 3\n3 4 1.5\n",
        "# a comment\n\n0\t1\t2.0\n0\t2\t0.5\n1\t2\t1\n2\t3\t3\n3\t4\t1.5\n",
        "u,v,length\n0,1,2.0\n0,2,0.5\n1,2,1\n2,3,3\n3,4,1.5\n",
        "source target weight\n1 0 2\n2 0 .5\n2 1 1\n3 2 3\n4 3 1.5\n0 1 9\n",
        "0   1   2.0\r\n0 2 0.5\r\n1 2 1\r\n2 3 3\r\n3 4 1.5\r\n",
    ],
    ids=["spaces", "tabs-comments", "csv-header", "header-reversed-duplicate", "crlf-multispace"],
)
def test_edgelist_variants(tmp_path, text):
    path = tmp_path / "g.txt"
    path.write_text(text)
    _check(read_graph(path))


def test_edgelist_two_columns_is_unweighted_and_weight_none_ignores_lengths(tmp_path):
    path = tmp_path / "g.edges"
    path.write_text("".join(f"{u} {v}\n" for u, v, _ in EDGES))
    _check(read_graph(path), UNIT_INDEX_ONLY)
    weighted = tmp_path / "w.txt"
    weighted.write_text("".join(f"{u} {v} {w}\n" for u, v, w in EDGES))
    _check(read_graph(weighted, weight=None), UNIT_INDEX_ONLY)


def test_edgelist_string_ids_relabelled_in_order_of_first_appearance(tmp_path):
    path = tmp_path / "names.tsv"
    path.write_text("b\ta\t1\nc\tb\t2\na\tc\t5\nd\tc\t1\n")
    data = read_graph(path)
    assert data.node_names == ["b", "a", "c", "d"]
    assert data.num_nodes == 4
    assert data.edge_index.tolist() == [[0, 0, 1, 1, 2, 2, 2, 3], [1, 2, 0, 2, 0, 1, 3, 2]]
    assert data.edge_weight.tolist() == [1.0, 2.0, 1.0, 5.0, 2.0, 5.0, 1.0, 1.0]


def test_edgelist_columns_by_name_like_string_actions(tmp_path):
    path = tmp_path / "actions.txt"
    path.write_text(
        "item_id_a\titem_id_b\tmode\taction\tis_directional\ta_is_acting\tscore\n"
        "P1\tP2\treaction\t\tt\tt\t900\n"
        "P1\tP2\tbinding\t\tf\tf\t800\n"
        "P2\tP1\tcatalysis\tactivation\tt\tf\t300\n"
        "P3\tP2\tbinding\t\tf\tf\t150\n"
    )
    data = read_graph(path, columns=("item_id_a", "item_id_b"))
    assert data.node_names == ["P1", "P2", "P3"]
    assert data.edge_index.tolist() == [[0, 1, 1, 2], [1, 0, 2, 1]]
    assert data.edge_weight.tolist() == [1.0] * 4
    scored = read_graph(path, columns=("item_id_a", "item_id_b", "score"))
    assert scored.edge_weight.tolist() == [300.0, 300.0, 150.0, 150.0]  # minimum over duplicates
    by_position = read_graph(path, columns=(0, 1), header=True)
    assert by_position.edge_index.tolist() == data.edge_index.tolist()


def test_edgelist_without_columns_explains_non_numeric_length(tmp_path):
    path = tmp_path / "actions.txt"
    path.write_text("a\tb\tmode\nP1\tP2\treaction\n")
    with pytest.raises(ValueError, match=r"line 1: length column 2 holds 'mode', not a number.*columns="):
        read_graph(path)


def test_edgelist_num_nodes_adds_isolated_nodes_and_largest_component(tmp_path):
    path = tmp_path / "g.txt"
    path.write_text("0 1\n3 4\n4 5\n")
    data = read_graph(path, num_nodes=8)
    assert data.num_nodes == 8
    lcc = read_graph(path, largest_component=True)
    assert lcc.node_names == ["3", "4", "5"]  # the file's ids; id 2 is not a node
    assert lcc.original_index.tolist() == [2, 3, 4]  # positions among the 5 nodes 0, 1, 3, 4, 5
    with pytest.raises(ValueError, match=r"uses node id 5 but num_nodes=3"):
        read_graph(path, num_nodes=3)


def test_edgelist_self_loops(tmp_path):
    path = tmp_path / "g.txt"
    path.write_text("0 0\n0 1\n")
    assert read_graph(path).edge_index.tolist() == [[0, 1], [1, 0]]
    assert read_graph(path, remove_self_loops=False).edge_index.tolist() == [[0, 0, 1], [0, 1, 0]]


def test_edgelist_explicit_delimiter(tmp_path):
    path = tmp_path / "g.txt"
    path.write_text("0;1;2.0\n0;2;0.5\n1;2;1\n2;3;3\n3;4;1.5\n")
    _check(read_graph(path, delimiter=";"))


@pytest.mark.parametrize(
    ("text", "kwargs", "match"),
    [
        ("0 1\n2\n", {}, r"line 2 has 1 fields, expected at least 2"),
        ("# only a comment\n\n", {}, r"holds no edges"),
        ("0 1 -2\n", {}, r"positive finite lengths"),
        ("0 -1\n", {}, r"line 1 has a negative node id"),
        ("a b\nx y\n", {"columns": ("a", "c")}, r"has no column 'c'; its header is \['a', 'b'\]"),
        ("a b\n", {"columns": ("a", "b"), "header": False}, r"uses header names but header=False"),
        ("a b\n", {"columns": ("a",)}, r"columns must be 2 or 3"),
        ("a b\nx y\n", {"columns": "ab"}, r"columns must be a pair"),
        ("x y\n", {"num_nodes": 5}, r"2 distinct node names but num_nodes=5"),
    ],
)
def test_edgelist_errors(tmp_path, text, kwargs, match):
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises((ValueError, TypeError), match=match):
        read_graph(path, **kwargs)


def test_edgelist_not_utf8(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"\xff\xfe\x00\x81 binary")
    with pytest.raises(ValueError, match=r"not UTF-8 text"):
        read_graph(path)


# ----------------------------------------------------------------------------------------------
# MATLAB
# ----------------------------------------------------------------------------------------------


def test_mat_network_and_multilabel_group(tmp_path):
    path = tmp_path / "net.mat"
    group = sp.csc_array(np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 1], [1, 0, 0]], dtype=float))
    scipy.io.savemat(path, {"network": sp.csc_array(_adjacency()), "group": group})
    data = read_graph(path)
    _check(data)
    assert data.y.dtype == torch.float32 and data.y.shape == (5, 3)
    assert data.y.tolist() == group.toarray().tolist()


def test_mat_net_key_one_hot_group_and_features(tmp_path):
    path = tmp_path / "net.mat"
    one_hot = np.eye(3)[[0, 2, 1, 1, 0]]
    features = np.arange(10.0).reshape(5, 2)
    scipy.io.savemat(path, {"net": _adjacency(), "group": one_hot, "features": features})
    data = read_graph(path)
    _check(data)
    assert data.y.dtype == torch.int64 and data.y.tolist() == [0, 2, 1, 1, 0]
    assert data.x.dtype == torch.float32 and data.x.tolist() == features.tolist()


def test_mat_single_square_matrix_any_name_dense(tmp_path):
    path = tmp_path / "dense.mat"
    scipy.io.savemat(path, {"A": _adjacency().toarray(), "note": np.array([1.0, 2.0])})
    _check(read_graph(path))


def test_mat_errors(tmp_path):
    two = tmp_path / "two.mat"
    scipy.io.savemat(two, {"A": np.eye(2), "B": np.eye(3)})
    with pytest.raises(ValueError, match=r"expected the adjacency in 'network' or 'net'.*found 2"):
        read_graph(two)
    bad_group = tmp_path / "group.mat"
    scipy.io.savemat(bad_group, {"network": sp.csc_array(_adjacency()), "group": np.ones((3, 2))})
    with pytest.raises(ValueError, match=r"'group' has 3 rows but the adjacency has 5 nodes"):
        read_graph(bad_group)
    rect = tmp_path / "rect.mat"
    scipy.io.savemat(rect, {"network": np.ones((2, 3))})
    with pytest.raises(ValueError, match=r"must be a square adjacency, got shape \(2, 3\)"):
        read_graph(rect)
    garbage = tmp_path / "garbage.mat"
    garbage.write_bytes(b"this is not a MATLAB file at all" * 10)
    with pytest.raises(ValueError, match=r"garbage\.mat' is not a readable MATLAB file"):
        read_graph(garbage)


# ----------------------------------------------------------------------------------------------
# npz
# ----------------------------------------------------------------------------------------------


def _flat_fields(prefix_sep="_"):
    adj = _adjacency()
    attr = sp.csr_array(np.array([[1, 0], [0, 2], [3, 0], [0, 0], [5, 6]], dtype=np.float32))
    fields = {}
    for name, matrix in (("adj", adj), ("attr", attr)):
        fields[f"{name}{prefix_sep}data"] = matrix.data
        fields[f"{name}{prefix_sep}indices"] = matrix.indices
        fields[f"{name}{prefix_sep}indptr"] = matrix.indptr
        fields[f"{name}{prefix_sep}shape"] = np.array(matrix.shape)
    fields["labels"] = np.array([0, 1, 1, 2, 0], dtype=np.int8)
    fields["node_names"] = np.array(["p0\n", "p1\n", "p2\n", "p3\n", "p4\n"])
    return fields


def _check_flat(data):
    _check(data)
    assert data.x.dtype == torch.float32 and not data.x.is_sparse
    assert data.x.tolist() == [[1, 0], [0, 2], [3, 0], [0, 0], [5, 6]]
    assert data.y.dtype == torch.int64 and data.y.tolist() == [0, 1, 1, 2, 0]
    assert data.node_names == ["p0", "p1", "p2", "p3", "p4"]  # trailing newlines stripped


def test_npz_flat_layout(tmp_path):
    path = tmp_path / "flat.npz"
    np.savez(path, **_flat_fields())
    _check_flat(read_graph(path))


def test_npz_dotted_sparsegraph_layout(tmp_path):
    path = tmp_path / "dotted.npz"
    fields = {
        k.replace("adj.", "adj_matrix.").replace("attr.", "attr_matrix."): v for k, v in _flat_fields(".").items()
    }
    np.savez(path, **fields)
    _check_flat(read_graph(path))


def test_npz_netgan_pickled_dict_needs_allow_pickle(tmp_path):
    path = tmp_path / "netgan.npz"
    fields = _flat_fields()
    fields.pop("node_names")
    fields["idx_to_node"] = {i: f"p{i}\n" for i in range(5)}
    np.savez(path, fields)
    with pytest.raises(ValueError, match=r"stores 'arr_0' as a pickled Python object; pass allow_pickle=\"restricted"):
        read_graph(path)
    _check_flat(read_graph(path, allow_pickle=True))
    _check_flat(read_graph(path, allow_pickle="restricted"))


def test_npz_plain_csr_with_labels(tmp_path):
    path = tmp_path / "csr.npz"
    adj = _adjacency(weighted=False)
    np.savez(path, data=adj.data, indices=adj.indices, indptr=adj.indptr, shape=adj.shape, labels=np.arange(5))
    data = read_graph(path)
    _check(data, UNIT_INDEX_ONLY)
    assert data.y.tolist() == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
def test_npz_scipy_save_npz(tmp_path, fmt):
    path = tmp_path / f"{fmt}.npz"
    sp.save_npz(path, _adjacency().asformat(fmt))
    _check(read_graph(path))


def test_npz_graphdata_layout_needs_allow_pickle(tmp_path):
    path = tmp_path / "graphdata.npz"
    attr = sp.csr_matrix(np.eye(5, 3, dtype=np.float32))
    np.savez(
        path,
        adj_matrix=np.array(sp.csr_matrix(_adjacency()), dtype=object),
        node_attr=np.array(attr, dtype=object),
        node_label=np.array([1, 1, 0, 0, 1], dtype=np.int32),
        metadata=np.array({"node_names": np.array(list("abcde"))}, dtype=object),
    )
    with pytest.raises(ValueError, match=r"stores 'adj_matrix' as a pickled Python object; pass allow_pickle=\""):
        read_graph(path)
    for allow_pickle in (True, "restricted"):
        data = read_graph(path, allow_pickle=allow_pickle)
        _check(data)
        assert data.x.tolist() == np.eye(5, 3).tolist()
        assert data.y.tolist() == [1, 1, 0, 0, 1]
        assert data.node_names == list("abcde")


def test_npz_large_features_become_sparse(tmp_path, monkeypatch):
    path = tmp_path / "flat.npz"
    np.savez(path, **_flat_fields())
    monkeypatch.setattr(gio, "DENSE_FEATURE_LIMIT", 9)  # 5 x 2 = 10 entries > 9
    data = read_graph(path, largest_component=True)
    assert data.x.is_sparse and data.x.dtype == torch.float32
    assert data.x.to_dense().tolist() == [[1, 0], [0, 2], [3, 0], [0, 0], [5, 6]]


def test_npz_stored_values_are_lengths_unless_weight_none(tmp_path):
    path = tmp_path / "csr.npz"
    adj = _adjacency()
    np.savez(path, data=adj.data, indices=adj.indices, indptr=adj.indptr, shape=adj.shape)
    _check(read_graph(path))
    _check(read_graph(path, weight=None), UNIT_INDEX_ONLY)


def test_npz_errors(tmp_path):
    unknown = tmp_path / "unknown.npz"
    np.savez(unknown, foo=np.arange(3))
    with pytest.raises(ValueError, match=r"has keys \['foo'\], which match no known graph layout; expected adj_data"):
        read_graph(unknown)
    single = tmp_path / "single.npz"
    np.savez(single, np.arange(4))
    with pytest.raises(ValueError, match=r"single array 'arr_0'.*NetGAN"):
        read_graph(single)
    fields = _flat_fields()
    fields["labels"] = np.arange(3)
    bad_labels = tmp_path / "labels.npz"
    np.savez(bad_labels, **fields)
    with pytest.raises(ValueError, match=r"labels have 3 entries but the adjacency has 5 nodes"):
        read_graph(bad_labels)
    fields = _flat_fields()
    fields["attr_shape"] = np.array([4, 2])
    fields["attr_indptr"] = fields["attr_indptr"][:5]
    bad_attr = tmp_path / "attr.npz"
    np.savez(bad_attr, **fields)
    with pytest.raises(ValueError, match=r"node attributes have 4 rows but the adjacency has 5 nodes"):
        read_graph(bad_attr)
    fields = _flat_fields()
    fields["adj_shape"] = np.array([5, 4])
    nonsquare = tmp_path / "nonsquare.npz"
    np.savez(nonsquare, **fields)
    with pytest.raises(ValueError, match=r"nonsquare\.npz'.*(square|malformed)"):
        read_graph(nonsquare)
    not_zip = tmp_path / "broken.npz"
    not_zip.write_bytes(b"definitely not a zip archive")
    with pytest.raises(ValueError, match=r"broken\.npz' is not a readable npz archive"):
        read_graph(not_zip)
    npy = tmp_path / "array.npz"
    with open(npy, "wb") as handle:
        np.save(handle, np.arange(3))
    with pytest.raises(ValueError, match=r"holds a single ndarray, expected an npz archive"):
        read_graph(npy)


# ----------------------------------------------------------------------------------------------
# PyG .pt and .pt.zip
# ----------------------------------------------------------------------------------------------


def _reference_data():
    u, v, w = (np.array(c) for c in zip(*EDGES, strict=True))
    return Data(
        edge_index=torch.tensor(np.stack([u, v])),
        edge_weight=torch.tensor(w),
        x=torch.arange(10.0).reshape(5, 2),
        y=torch.tensor([0, 1, 0, 1, 1]),
        num_nodes=5,
    )


def test_pt_data_loads_without_allow_pickle(tmp_path):
    path = tmp_path / "g.pt"
    torch.save(_reference_data(), path)
    data = read_graph(path)
    _check(data)
    assert data.x.tolist() == _reference_data().x.tolist()
    assert data.y.tolist() == [0, 1, 0, 1, 1]


def test_pt_dict_and_tensor(tmp_path):
    reference = _reference_data()
    as_dict = tmp_path / "dict.pt"
    torch.save({"edge_index": reference.edge_index, "edge_weight": reference.edge_weight}, as_dict)
    _check(read_graph(as_dict))
    as_tensor = tmp_path / "tensor.pth"
    torch.save(reference.edge_index, as_tensor)
    _check(read_graph(as_tensor), UNIT_INDEX_ONLY)


def test_pt_with_arbitrary_pickle_needs_allow_pickle(tmp_path):
    data = _reference_data()
    data.meta = _Opaque()
    path = tmp_path / "custom.pt"
    torch.save(data, path)
    with pytest.raises(ValueError, match=r"custom\.pt' holds pickled Python objects.*allow_pickle=True if you trust"):
        read_graph(path)
    _check(read_graph(path, allow_pickle=True))


def _zip_bytes(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, payload in members.items():
            archive.writestr(name, payload)
    return buffer.getvalue()


def _pt_bytes(obj):
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def test_pt_zip_is_read_in_memory(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    path = folder / "graph.pt.zip"
    path.write_bytes(_zip_bytes({"graph.pt": _pt_bytes(_reference_data())}))
    before = sorted(p.name for p in folder.iterdir())
    _check(read_graph(path))
    assert sorted(p.name for p in folder.iterdir()) == before  # nothing extracted next to it
    plain_zip = folder / "other.zip"
    plain_zip.write_bytes(_zip_bytes({"readme.txt": b"hi", "nested/graph.pt": _pt_bytes(_reference_data())}))
    _check(read_graph(plain_zip))


def test_pt_errors(tmp_path):
    two = tmp_path / "two.pt.zip"
    two.write_bytes(_zip_bytes({"a.pt": _pt_bytes(_reference_data()), "b.pt": _pt_bytes(_reference_data())}))
    with pytest.raises(ValueError, match=r"zip holding \['a\.pt', 'b\.pt'\]; expected exactly one \.pt"):
        read_graph(two)
    none = tmp_path / "none.pt.zip"
    none.write_bytes(_zip_bytes({"notes.txt": b"x"}))
    with pytest.raises(ValueError, match=r"expected exactly one \.pt file"):
        read_graph(none)
    wrong = tmp_path / "list.pt"
    torch.save([1, 2, 3], wrong)
    with pytest.raises(ValueError, match=r"holds a list; expected a torch_geometric Data"):
        read_graph(wrong)
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a torch file")
    with pytest.raises(ValueError, match=r"broken\.pt'"):
        read_graph(broken)


# ----------------------------------------------------------------------------------------------
# format inference and argument checks
# ----------------------------------------------------------------------------------------------


def test_format_inferred_from_content_without_suffix(tmp_path):
    edgelist = tmp_path / "edgelist_noext"
    edgelist.write_text("".join(f"{u} {v} {w}\n" for u, v, w in EDGES))
    _check(read_graph(edgelist))
    npz = tmp_path / "npz_noext"
    with open(npz, "wb") as handle:
        np.savez(handle, **_flat_fields())
    _check_flat(read_graph(npz))
    pt = tmp_path / "pt_noext"
    pt.write_bytes(_pt_bytes(_reference_data()))
    _check(read_graph(pt))
    mat = tmp_path / "mat_noext"
    with open(mat, "wb") as handle:
        scipy.io.savemat(handle, {"network": _adjacency()})
    _check(read_graph(mat))


def test_explicit_format_overrides_suffix(tmp_path):
    path = tmp_path / "graph.bin"
    path.write_text("0 1 2.0\n0 2 0.5\n1 2 1\n2 3 3\n3 4 1.5\n")
    _check(read_graph(path, format="edgelist"))


def test_argument_errors(tmp_path):
    path = tmp_path / "g.txt"
    path.write_text("0 1\n")
    missing = tmp_path / "missing.npz"
    with pytest.raises(FileNotFoundError, match=r"no such file: '.*missing\.npz'"):
        read_graph(missing)
    with pytest.raises(IsADirectoryError, match=r"is a directory"):
        read_graph(tmp_path)
    with pytest.raises(ValueError, match=r"format must be one of \('npz', 'mat', 'edgelist', 'pt', 'graphml', 'gml'\)"):
        read_graph(path, format="csv")
    with pytest.raises(TypeError, match=r"columns only apply to edge lists.*format='npz'"):
        read_graph(path, format="npz", columns=(0, 1))
    with pytest.raises(TypeError, match=r"unexpected keyword argument\(s\) \['colums'\]"):
        read_graph(path, colums=(0, 1))
    with pytest.raises(TypeError, match=r"path must be a str or os.PathLike"):
        read_graph(123)
    binary = tmp_path / "blob"
    binary.write_bytes(bytes(range(256)))
    with pytest.raises(ValueError, match=r"cannot tell the format of '.*blob'"):
        read_graph(binary)


def test_to_graph_accepts_paths(tmp_path):
    from graphwgan import to_graph

    path = tmp_path / "g.txt"
    path.write_text("0 1\n2 3\n3 4\n")
    data = to_graph(path, largest_component=True)
    assert data.original_index.tolist() == [2, 3, 4]


# ----------------------------------------------------------------------------------------------
# the shared data files
# ----------------------------------------------------------------------------------------------


def test_shared_yeast_edge_list_equals_mat(data_root):
    text = read_graph(data_root / "Yeast.txt")
    mat = read_graph(data_root / "Yeast.mat")
    assert (text.num_nodes, text.num_edges // 2) == (2375, 11693)
    assert torch.equal(text.edge_index, mat.edge_index)


def test_shared_shs27k_with_named_columns(data_root):
    data = read_graph(data_root / "protein.actions.SHS27k.STRING.txt", columns=("item_id_a", "item_id_b"))
    assert (data.num_nodes, data.num_edges // 2) == (1690, 7624)
    assert data.edge_weight.unique().tolist() == [1.0]
    assert data.node_names[0] == "9606.ENSP00000000233"
    with pytest.raises(ValueError, match=r"line 2: length column 2 holds 'reaction'.*columns="):
        read_graph(data_root / "protein.actions.SHS27k.STRING.txt")
    # the header is detected (score column), so ignoring lengths also gives the right graph
    unweighted = read_graph(data_root / "protein.actions.SHS27k.STRING.txt", weight=None)
    assert torch.equal(unweighted.edge_index, data.edge_index)


def test_shared_cell_split_equals_cora_ml_lcc(data_root):
    cell = read_graph(data_root / "splits" / "cell_CORA-ML.npz")
    lcc = read_graph(data_root / "cora_ml.npz", largest_component=True)
    assert (cell.num_nodes, cell.num_edges // 2) == (2810, 7981)
    assert torch.equal(cell.edge_index, lcc.edge_index)
    train = read_graph(data_root / "splits" / "cell_CORA-ML_train.npz")
    assert (train.num_nodes, train.num_edges // 2) == (2810, 6783)


def test_shared_pickled_files_need_opt_in(data_root):
    with pytest.raises(ValueError, match=r"cora_ml_netgan\.npz' stores 'arr_0' as a pickled Python object"):
        read_graph(data_root / "cora_ml_netgan.npz")
    with pytest.raises(ValueError, match=r"amazon_cs\.npz' stores 'adj_matrix' as a pickled"):
        read_graph(data_root / "amazon_cs.npz")


def test_shared_bond_file_loads_with_safe_unpickler(data_root):
    data = read_graph(data_root / "disney.pt.zip")  # PyG Data classes allowed, no allow_pickle
    assert (data.num_nodes, data.num_edges // 2) == (124, 335)
    assert data.x.shape == (124, 28)


def test_shared_polblogs_stores_multiplicities(data_root):
    data = read_graph(data_root / "polblogs.npz")
    assert set(data.edge_weight.unique().tolist()) == {1.0, 2.0}  # stored values read as lengths
    assert read_graph(data_root / "polblogs.npz", weight=None).edge_weight.unique().tolist() == [1.0]


# -- GraphML, GML, networkx edge lists, pandas, dense matrices ---------------------------------------------


def _weighted_karate():
    import networkx as nx

    graph = nx.relabel_nodes(nx.karate_club_graph(), {i: f"n{i}" for i in range(34)})
    return graph


def _same_graph(data, graph, lengths=True):
    """``data`` (with node_names) has exactly ``graph``'s edges and, when asked, its weights as lengths."""
    names = data.node_names
    assert sorted(names) == sorted(str(node) for node in graph.nodes)
    got = {frozenset((names[a], names[b])): w for (a, b), w in zip(data.edge_index.T.tolist(),
                                                                     data.edge_weight.tolist(), strict=True)}
    want = {frozenset((str(u), str(v))): float(w) if lengths else 1.0 for u, v, w in graph.edges(data="weight")}
    assert got == want


@pytest.mark.parametrize("fmt", ["graphml", "gml"])
def test_graphml_and_gml(tmp_path, fmt):
    import networkx as nx

    graph = _weighted_karate()
    path = tmp_path / f"g.{fmt}"
    getattr(nx, f"write_{fmt}")(graph, path)
    _same_graph(read_graph(path), graph)
    _same_graph(read_graph(path, weight=None), graph, lengths=False)
    hidden = tmp_path / "no_suffix"
    hidden.write_bytes(path.read_bytes())
    _same_graph(read_graph(hidden), graph)  # recognised from the content
    broken = tmp_path / f"broken.{fmt}"
    broken.write_text("<graphml><graph><node id='a'/>" if fmt == "graphml" else "graph [ node [ id 0 ")
    with pytest.raises(ValueError, match=rf"not a readable {fmt.upper()} file"):
        read_graph(broken)


def test_networkx_default_edge_list(tmp_path):
    import networkx as nx

    graph = _weighted_karate()
    graph.edges["n0", "n1"]["colour"] = "red, with a comma"
    path = tmp_path / "g.edgelist"
    nx.write_edgelist(graph, path)  # 'n0 n1 {'weight': 4, 'colour': ...}'
    _same_graph(read_graph(path), graph)
    plain = tmp_path / "plain.edgelist"
    nx.write_edgelist(nx.path_graph(4), plain)  # 'u v {}'
    data = read_graph(plain)
    assert data.num_nodes == 4
    assert data.edge_weight.tolist() == [1.0] * 6


def test_pandas_edge_frame():
    pd = pytest.importorskip("pandas", reason="pandas is optional; the DataFrame reader is tested where installed")
    import networkx as nx

    from graphwgan import to_graph

    graph = _weighted_karate()
    frame = nx.to_pandas_edgelist(graph)  # source, target, weight columns
    _same_graph(to_graph(frame), graph)
    numbered = pd.DataFrame({"a": [1, 5, 9], "b": [5, 9, 1]})  # sparse integer ids, first two columns
    data = to_graph(numbered)
    assert data.num_nodes == 3
    assert data.node_names == ["1", "5", "9"]
    with pytest.raises(ValueError, match="columns hold missing ids"):
        to_graph(pd.DataFrame({"source": ["a", None], "target": ["b", "c"]}))


def test_dense_adjacency_gets_the_right_advice(tmp_path):
    import networkx as nx

    from graphwgan import to_graph

    matrix = nx.to_numpy_array(nx.karate_club_graph())
    with pytest.raises(ValueError, match=r"looks like a dense adjacency matrix; pass scipy\.sparse\.csr_array"):
        to_graph(matrix)
    np.savetxt(tmp_path / "dense.txt", matrix)
    with pytest.raises(ValueError, match=r"looks like a dense 34 x 34 adjacency matrix, not an edge list"):
        read_graph(tmp_path / "dense.txt")


def test_unknown_format_lists_the_supported_ones(tmp_path):
    path = tmp_path / "g.bin"
    path.write_bytes(b"\x00\x01\x02binary")
    with pytest.raises(ValueError, match=r"one of \('npz', 'mat', 'edgelist', 'pt', 'graphml', 'gml'\)"):
        read_graph(path)
    with pytest.raises(ValueError, match=r"format must be one of .*'graphml', 'gml'\) or None, got 'xlsx'"):
        read_graph(path, format="xlsx")
