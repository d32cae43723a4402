"""In-memory graph objects (PyG ``Data``, networkx, scipy sparse, ``edge_index``) to the library's ``Data`` layout.

The implementation behind :func:`graphwgan.to_graph` for everything but file paths (those go
through :func:`graphwgan.io.read_graph`, which reads a file into a raw ``Data`` and finishes it
here). The layout it produces is described in :mod:`graphwgan.graph`.
"""

from __future__ import annotations

import numbers
import sys
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from graphwgan._checks import is_tensor, to_numpy

if TYPE_CHECKING:  # pragma: no cover - typing only
    from torch_geometric.data import Data

__all__ = ["from_object", "relabel_ids", "symmetric_edges"]

_EMPTY = "to_graph: empty graph (zero nodes); a graph needs at least one node."
_SUPPORTED = (
    "torch_geometric.data.Data, networkx.Graph/DiGraph/MultiGraph/MultiDiGraph, a scipy.sparse "
    "matrix or array (square adjacency), a (2, E) edge_index as torch.Tensor or numpy.ndarray, "
    "a pandas.DataFrame of edges (source, target[, weight] columns), or a path (str or os.PathLike) "
    "to a graph file (npz, mat, edge list, pt, GraphML, GML)"
)


def from_object(
    source: Any,
    edge_weight: Any = None,
    *,
    num_nodes: int | None = None,
    largest_component: bool = False,
    remove_self_loops: bool = True,
    weight: str | None = "weight",
    keep_attributes: bool = True,
) -> Data:
    """:func:`graphwgan.to_graph` for an object in memory (not a path); same parameters and result."""
    _check_bool(largest_component, "largest_component")
    _check_bool(remove_self_loops, "remove_self_loops")
    _check_weight(weight)
    if num_nodes is not None:
        num_nodes = _check_num_nodes(num_nodes)

    _check_bool(keep_attributes, "keep_attributes")
    row, col, lengths, n, node_attrs, other_attrs = _parse_source(source, edge_weight, num_nodes, weight,
                                                                  keep_attributes)
    if not keep_attributes:
        node_attrs, other_attrs = {}, {}
    return _build(
        row,
        col,
        lengths,
        n,
        node_attrs,
        other_attrs,
        largest_component=largest_component,
        remove_self_loops=remove_self_loops,
    )


def symmetric_edges(source: Any, *, weight: str | None = "weight") -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The edges and lengths of ``to_graph(source, weight=weight)`` as numpy arrays, without the ``Data``.

    For an object in memory (:func:`graphwgan.graph.edge_arrays` also takes paths). Returns ``row,
    col, lengths, n``: both directions of every edge, coalesced (sorted by row, then column;
    parallel pairs keep the shortest length), self-loops removed. The checks and messages are those
    of :func:`graphwgan.to_graph`. A networkx graph, scipy sparse matrix or numpy ``edge_index`` is
    read without importing torch, which the numpy-only computations (the local ruler, curvature)
    would otherwise pay for on their first call in a fresh process.
    """
    _check_weight(weight)
    row, col, lengths, n, _, _ = _parse_source(source, None, None, weight, keep_attributes=False)
    if n == 0:
        raise ValueError(_EMPTY)
    row, col, lengths = _symmetrise_min(row, col, lengths, n, True)
    return row, col, lengths, n


# ----------------------------------------------------------------------------------------------
# parsing of each source type
# ----------------------------------------------------------------------------------------------


def _parse_source(source, edge_weight, num_nodes, weight, keep_attributes=True):
    """Return ``row, col, lengths, n, node_attrs, other_attrs`` for any in-memory source."""
    import scipy.sparse as sp

    if _is_pyg_data(source):
        return _parse_data(source, edge_weight, num_nodes, weight, keep_attributes)
    if _is_networkx(source):
        _reject_edge_weight(edge_weight, "a networkx graph")
        return _parse_networkx(source, num_nodes, weight, keep_attributes)
    if sp.issparse(source):
        _reject_edge_weight(edge_weight, "a scipy sparse matrix")
        return _parse_sparse(source, num_nodes, weight)
    if is_tensor(source) and source.layout != _strided():
        raise TypeError(
            f"to_graph: got a sparse torch tensor ({source.layout}); pass a scipy sparse adjacency "
            "or a dense (2, E) edge_index tensor instead."
        )
    if _is_dataframe(source):
        _reject_edge_weight(edge_weight, "a pandas DataFrame")
        return _parse_frame(source, num_nodes, weight)
    if is_tensor(source) or isinstance(source, np.ndarray):
        row, col = _parse_edge_index(source, "edge_index")
        lengths = _parse_lengths(edge_weight, row.size, weight, "edge_weight")
        n = _infer_num_nodes(row, col, num_nodes, "edge_index")
        return row, col, lengths, n, {}, {}
    raise TypeError(
        f"to_graph: unsupported source type {type(source).__module__}.{type(source).__name__}; "
        f"supported are {_SUPPORTED}."
    )


def _parse_data(data, edge_weight, num_nodes, weight, keep_attributes=True):
    with warnings.catch_warnings():  # PyG warns when it infers num_nodes from edge_index
        warnings.simplefilter("ignore", UserWarning)
        n = data.num_nodes
    n = 0 if n is None else int(n)
    if num_nodes is not None and num_nodes != n:
        raise ValueError(
            f"to_graph: num_nodes={num_nodes} disagrees with the Data object's num_nodes={n}; "
            "leave num_nodes=None for a Data source."
        )
    edge_index = data.edge_index if "edge_index" in data else None
    if edge_index is None:
        row = col = np.zeros(0, dtype=np.int64)
    else:
        row, col = _parse_edge_index(edge_index, "data.edge_index")
    if edge_weight is None and weight is not None:
        stored, name = _stored_lengths(data, weight, row.size)
        lengths = _parse_lengths(stored, row.size, "weight", name)
    else:
        lengths = _parse_lengths(edge_weight, row.size, weight, "edge_weight")
    _check_ids(row, col, n, "data.edge_index")

    node_attrs, other_attrs = {}, {}
    for key, value in data.items() if keep_attributes else ():
        if key == "num_nodes" or "edge" in key:
            continue
        if _is_node_level(value, n):
            node_attrs[key] = _copy(value)
        else:
            other_attrs[key] = _copy(value)
    return row, col, lengths, n, node_attrs, other_attrs


def _stored_lengths(data, weight, num_edges):
    """The edge lengths a Data object stores, and the attribute they come from.

    Read in this order: ``data.edge_weight``; the attribute named by ``weight`` (``data.weight``
    by default, as ``torch_geometric.utils.from_networkx`` stores a networkx ``weight``); a
    one-column ``data.edge_attr``. None of them: unit lengths. A ``weight`` other than the default
    that names no edge attribute is an error, as is a multi-column ``edge_attr`` when it is named.
    """
    if "edge_weight" in data and data.edge_weight is not None:
        return data.edge_weight, "data.edge_weight"
    for key in dict.fromkeys((weight, "edge_attr")):
        value = data[key] if key in data else None
        if value is None or not hasattr(value, "shape") or not value.shape or value.shape[0] != num_edges:
            continue
        if value.ndim == 1 or (value.ndim == 2 and value.shape[1] == 1):
            return value.reshape(-1), f"data.{key}"
        if key == weight:
            raise ValueError(f"to_graph: data.{key} has shape {tuple(value.shape)}; lengths need one value per edge.")
    if weight not in ("weight", "edge_weight", "edge_attr"):
        raise ValueError(
            f"to_graph: weight={weight!r} names no edge attribute of the Data object (one value per edge); pass "
            "weight=None for unit lengths."
        )
    return None, "data.edge_weight"


def _parse_networkx(graph, num_nodes, weight, keep_attributes=True):
    nodes = list(graph.nodes)
    n = len(nodes)
    if num_nodes is not None and num_nodes != n:
        raise ValueError(
            f"to_graph: num_nodes={num_nodes} disagrees with the networkx graph's {n} nodes; "
            "leave num_nodes=None for a networkx source."
        )
    index = {node: i for i, node in enumerate(nodes)}
    if graph.is_multigraph():
        # one walk over networkx's edge view, then arrays from the list
        edges = list(iter(graph.edges(data=weight, default=1.0))) if weight is not None else list(iter(graph.edges()))
        m = len(edges)
        row = np.fromiter((index[edge[0]] for edge in edges), dtype=np.int64, count=m)
        col = np.fromiter((index[edge[1]] for edge in edges), dtype=np.int64, count=m)
        values = [edge[2] for edge in edges] if weight is not None else None
    else:
        row, col, values = _adjacency_lists(graph, index, weight)
    name = f"edge attribute {weight!r}"
    lengths = np.ones(row.size, dtype=np.float64) if weight is None else _parse_lengths(values, row.size, weight, name)
    if not keep_attributes:
        return row, col, lengths, n, {}, {}
    node_attrs = {"node_names": nodes}
    for key in ("x", "y"):  # node features and labels, when every node has them
        values = [graph.nodes[node].get(key) for node in nodes]
        if n and all(value is not None for value in values):
            node_attrs[key] = _node_attribute(values, key)
    return row, col, lengths, n, node_attrs, {}


def _adjacency_lists(graph, index, weight):
    """``row, col`` and the ``weight`` values (``None`` without) of a simple networkx graph, in ``graph.edges()`` order.

    Read from the adjacency dictionaries rather than the edge view, whose per-edge tuples cost
    about three quarters of the time (2.5 s against 0.6 s at 10^6 edges). An undirected edge sits
    in the dictionaries of both ends; the edge view yields it once, from the end it meets first,
    which is the entry with ``col >= row``.
    """
    import operator
    from itertools import chain

    # networkx's own dict of dicts where it has one (its views add a Python call per edge)
    adjacency = getattr(graph, "_adj", None)
    if not isinstance(adjacency, dict):
        adjacency = graph.adj
    degree = np.fromiter(map(len, adjacency.values()), dtype=np.int64, count=len(index))
    total = int(degree.sum())
    row = np.repeat(np.arange(degree.size, dtype=np.int64), degree)
    # map and chain keep the walk in C (a generator expression takes twice as long); nodes 0..n-1 in
    # order are their own positions
    neighbours = chain.from_iterable(adjacency.values())
    identity = all(map(operator.eq, index, range(len(index))))
    col = np.fromiter(neighbours if identity else map(index.__getitem__, neighbours), dtype=np.int64, count=total)
    keep = None if graph.is_directed() else np.flatnonzero(col >= row)
    values = None
    if weight is not None:
        def attributes():
            edges = chain.from_iterable(map(operator.methodcaller("values"), adjacency.values()))
            return map(operator.methodcaller("get", weight, 1.0), edges)

        try:
            values = np.fromiter(attributes(), dtype=np.float64, count=total)
        except (TypeError, ValueError):  # not numbers: the values as they are, for the error message
            values = list(attributes())
            values = values if keep is None else [values[i] for i in keep.tolist()]
        else:
            values = values if keep is None else values[keep]
    if keep is not None:
        row, col = row[keep], col[keep]
    return row, col, values


def _node_attribute(values, key):
    """A networkx node attribute (one value or vector per node) as a tensor: ``x`` float32, ``y`` int64 if whole."""
    import torch

    try:
        array = np.array([to_numpy(value) if is_tensor(value) else value for value in values])
    except ValueError as err:
        raise ValueError(f"to_graph: node attribute {key!r} must have the same shape on every node ({err}).") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(f"to_graph: node attribute {key!r} must hold real numbers, got dtype {array.dtype}.")
    if key == "y" and array.ndim == 1 and (array.dtype.kind in "biu" or np.all(np.mod(array, 1) == 0)):
        return torch.from_numpy(array.astype(np.int64))
    array = array.astype(np.float32)
    return torch.from_numpy(array[:, None] if array.ndim == 1 and key == "x" else array)


def _parse_sparse(matrix, num_nodes, weight):
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"to_graph: a sparse adjacency must be square (n, n), got shape {matrix.shape}.")
    n = int(matrix.shape[0])
    if num_nodes is not None and num_nodes != n:
        raise ValueError(
            f"to_graph: num_nodes={num_nodes} disagrees with the adjacency shape {matrix.shape}; "
            "leave num_nodes=None for a sparse source."
        )
    coo = matrix.tocoo(copy=True)
    row = np.asarray(coo.row, dtype=np.int64)
    col = np.asarray(coo.col, dtype=np.int64)
    values = np.asarray(coo.data)
    if values.dtype.kind not in "biuf":
        raise TypeError(f"to_graph: sparse adjacency values must be real numbers, got dtype {values.dtype}.")
    nonzero = values != 0
    row, col, values = row[nonzero], col[nonzero], values[nonzero]
    if weight is None:
        lengths = np.ones(row.size, dtype=np.float64)
    else:
        lengths = _parse_lengths(values, row.size, weight, "adjacency values")
    return row, col, lengths, n, {}, {}


def relabel_ids(ids: np.ndarray) -> tuple[np.ndarray, list[str] | None]:
    """Node positions ``0..n-1`` for the ids of an edge table, and the ids to keep as ``node_names``.

    Integer ids that are exactly ``0..n-1`` are positions already (no names). Other integer ids
    (sparse, 1-based) map to positions in increasing order, and anything else (strings) in order
    of first appearance; then the ids are returned as strings, so no missing id becomes a node.
    """
    ids = np.asarray(ids)
    integers = None
    if ids.dtype.kind in "iu":
        integers = ids.astype(np.int64)
    elif ids.dtype.kind in "OUS":
        try:
            integers = ids.astype(str).astype(np.int64)
        except (ValueError, OverflowError):
            integers = None
    if integers is not None:
        present = np.unique(integers)
        if present.size == 0 or (present[0] == 0 and present[-1] == present.size - 1):
            return integers, None
        return np.searchsorted(present, integers).astype(np.int64), [str(value) for value in present.tolist()]
    text = ids.astype(str)
    unique, first, inverse = np.unique(text, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")  # order of first appearance
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return rank[inverse].astype(np.int64), unique[order].tolist()


def _is_dataframe(obj) -> bool:
    return (type(obj).__module__ or "").startswith("pandas") and type(obj).__name__ == "DataFrame"


def _parse_frame(frame, num_nodes, weight):
    """A pandas edge table: ``source``/``target`` columns (else the first two), lengths from ``weight``."""
    columns = [str(c) for c in frame.columns]
    if {"source", "target"} <= set(columns):
        u_key, v_key = "source", "target"
    elif len(columns) >= 2:
        u_key, v_key = frame.columns[0], frame.columns[1]
    else:
        raise ValueError(f"to_graph: a DataFrame of edges needs two id columns (source, target), got {columns}.")
    m = len(frame)
    both = np.column_stack([frame[u_key].to_numpy(), frame[v_key].to_numpy()]).reshape(-1)
    if m and any(value is None or value != value for value in both.tolist()):  # None or NaN
        raise ValueError(f"to_graph: the DataFrame's {u_key!r}/{v_key!r} columns hold missing ids.")
    ids, names = relabel_ids(both)
    if num_nodes is not None:
        if names is not None:
            raise ValueError("to_graph: num_nodes applies to a DataFrame only when its ids are 0..n-1.")
        _check_ids(ids, ids, num_nodes, "the DataFrame")
        n = num_nodes
    else:
        n = int(ids.max()) + 1 if ids.size else 0
    row, col = ids.reshape(-1, 2).T
    stored = frame[weight].to_numpy() if weight is not None and weight in frame.columns else None
    lengths = _parse_lengths(stored, m, weight, f"column {weight!r}") if stored is not None else np.ones(m)
    return np.ascontiguousarray(row), np.ascontiguousarray(col), lengths, n, (
        {"node_names": names} if names is not None else {}), {}


def _parse_edge_index(edge_index, name):
    array = to_numpy(edge_index)
    if array.ndim == 2 and array.shape[0] == array.shape[1] and array.shape[0] != 2:
        raise ValueError(
            f"to_graph: {name} has shape {tuple(array.shape)}, which looks like a dense adjacency matrix; pass "
            "scipy.sparse.csr_array(matrix) instead (its nonzero entries become edges, their values lengths)."
        )
    if array.ndim != 2 or array.shape[0] != 2:
        raise ValueError(
            f"to_graph: {name} must have shape (2, E), got {tuple(array.shape)}; transpose an (E, 2) array with .T."
        )
    if array.dtype.kind not in "iu":
        raise TypeError(
            f"to_graph: {name} must hold integer node ids, got dtype {array.dtype}; convert with "
            ".long() (torch) or .astype(np.int64) (numpy) if the values are whole numbers."
        )
    array = array.astype(np.int64)
    return array[0], array[1]


def _parse_lengths(values, num_edges, weight, name):
    """Validate lengths (or make unit lengths) as a fresh float64 array."""
    if values is None or weight is None:
        if values is not None:
            raise TypeError(f"to_graph: {name} was given but weight=None asks to ignore lengths; drop one.")
        return np.ones(num_edges, dtype=np.float64)
    try:
        array = np.array(to_numpy(values), dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"to_graph: {name} must hold real numbers ({err}).") from None
    if array.ndim != 1:
        raise ValueError(f"to_graph: {name} must be 1-D with one length per edge, got shape {array.shape}.")
    if array.size != num_edges:
        raise ValueError(
            f"to_graph: {name} has {array.size} entries but there are {num_edges} edges; give one length per edge."
        )
    bad = ~(np.isfinite(array) & (array > 0))
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"to_graph: {name} must hold positive finite lengths, but {int(bad.sum())} of "
            f"{array.size} are not (first: edge {first} has length {float(array[first])!r}); remove those "
            "edges or give them a positive length."
        )
    return array


def _infer_num_nodes(row, col, num_nodes, name):
    _check_ids(row, col, num_nodes, name)
    if num_nodes is not None:
        return num_nodes
    return int(max(row.max(), col.max())) + 1 if row.size else 0


def _check_ids(row, col, n, name):
    """Raise for negative ids, or ids ``>= n`` when ``n`` is given."""
    if row.size == 0:
        return
    for side, ids in (("source", row), ("target", col)):
        bad = ids < 0
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"to_graph: {name} has {int(bad.sum())} negative {side} node ids (first: column "
                f"{first} holds {int(ids[first])}); node ids must be >= 0."
            )
        if n is None:
            continue
        bad = ids >= n
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"to_graph: {name} has {int(bad.sum())} {side} node ids out of range for "
                f"num_nodes={n} (first: column {first} holds {int(ids[first])}); node ids must "
                f"be in 0..{n - 1}, or num_nodes must be larger."
            )


# ----------------------------------------------------------------------------------------------
# the common core
# ----------------------------------------------------------------------------------------------


def _build(row, col, lengths, n, node_attrs, other_attrs, *, largest_component, remove_self_loops):
    import torch
    from torch_geometric.data import Data

    if n == 0:
        raise ValueError(_EMPTY)
    row, col, lengths = _symmetrise_min(row, col, lengths, n, remove_self_loops)
    node_attrs = dict(node_attrs)

    if largest_component:
        from scipy.sparse.csgraph import connected_components

        _, labels = connected_components(_adjacency(row, col, n), directed=False)
        sizes = np.bincount(labels)
        _, first_node = np.unique(labels, return_index=True)  # smallest node id per component
        candidates = np.flatnonzero(sizes == sizes.max())
        best = candidates[np.argmin(first_node[candidates])]
        keep = labels == best
        kept = np.flatnonzero(keep)
        if kept.size < n:
            new_id = np.cumsum(keep) - 1  # monotone, so the edge order stays coalesced
            edge_keep = keep[row]
            row, col, lengths = new_id[row[edge_keep]], new_id[col[edge_keep]], lengths[edge_keep]
            node_attrs = {key: _take(value, kept) for key, value in node_attrs.items()}
        original = node_attrs.get("original_index")
        if original is not None and not (is_tensor(original) or isinstance(original, np.ndarray)):
            original = None
        if original is None:
            original_index = torch.from_numpy(kept.astype(np.int64))
        else:  # compose with an earlier relabelling
            original_index = torch.as_tensor(to_numpy(original), dtype=torch.int64).clone()
            original_index = original_index if kept.size == n else original_index[kept]
        node_attrs["original_index"] = original_index
        n = int(kept.size)

    data = Data()
    for key, value in other_attrs.items():
        data[key] = value
    for key, value in node_attrs.items():
        data[key] = value
    data.edge_index = torch.from_numpy(np.stack([row, col]).astype(np.int64))
    data.edge_weight = torch.from_numpy(lengths.astype(np.float64))
    data.num_nodes = n
    return data


def _symmetrise_min(row, col, lengths, n, remove_self_loops):
    """Both directions of every edge, coalesced, parallel pairs merged by the minimum length."""
    if remove_self_loops:
        keep = row != col
        row, col, lengths = row[keep], col[keep], lengths[keep]
    src = np.concatenate([row, col])
    dst = np.concatenate([col, row])
    w = np.concatenate([lengths, lengths])
    key = src * np.int64(n) + dst  # row-major position: sorting it sorts by row, then column
    order = np.argsort(key)
    key, w = key[order], w[order]
    if key.size == 0:
        return key, key.copy(), w
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    w = np.minimum.reduceat(w, starts)  # parallel entries keep the shortest length
    key = key[starts]
    return key // n, key % n, w


def _adjacency(row, col, n):
    import scipy.sparse as sp

    return sp.csr_array((np.ones(row.size, dtype=np.int8), (row, col)), shape=(n, n))


def _is_pyg_data(obj) -> bool:
    # an object can only be a Data once torch_geometric is imported: asking sys.modules spares a
    # networkx, scipy or numpy source the import (1.5 s in a fresh process)
    module = sys.modules.get("torch_geometric.data")
    return module is not None and isinstance(obj, module.Data)


def _is_networkx(obj) -> bool:
    module = type(obj).__module__ or ""
    if not module.startswith("networkx"):
        return False
    import networkx as nx

    return isinstance(obj, nx.Graph)


def _strided():
    import torch

    return torch.strided


def _is_node_level(value, n) -> bool:
    if is_tensor(value) or isinstance(value, np.ndarray):
        return value.ndim >= 1 and value.shape[0] == n
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return len(value) == n
    return False


def _copy(value):
    import copy

    if is_tensor(value):
        return value.detach().clone()
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (list, tuple, Mapping)):
        return copy.deepcopy(value)
    return copy.copy(value)


def _take(value, index):
    """Rows ``index`` (sorted int64 numpy array) of a node-level attribute."""
    if is_tensor(value):
        import torch

        return value.index_select(0, torch.from_numpy(index).to(value.device))
    if isinstance(value, np.ndarray):
        return value[index]
    return [value[i] for i in index.tolist()]


def _reject_edge_weight(edge_weight, what):
    if edge_weight is not None:
        raise TypeError(
            f"to_graph: edge_weight is only accepted with an edge_index or Data source, not with "
            f"{what}, which carries its own lengths."
        )


def _check_weight(weight):
    if weight is not None and not isinstance(weight, str):
        raise TypeError(f"to_graph: weight must be an attribute name (str) or None, got {weight!r}.")


def _check_bool(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"to_graph: {name} must be True or False, got {value!r}.")


def _check_num_nodes(value):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"to_graph: num_nodes must be an int, got {value!r}.")
    if value < 0:
        raise ValueError(f"to_graph: num_nodes must be >= 0, got {value}.")
    return int(value)
