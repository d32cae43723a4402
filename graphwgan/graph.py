"""Normalise any graph input into the one ``Data`` layout the whole library works on.

Every function in graphwgan that takes a graph first passes it through :func:`to_graph`, so the
rest of the code can rely on a single contract:

* ``edge_index``: ``torch.int64`` of shape ``(2, 2m)``. Each undirected edge ``{u, v}`` appears in
  both directions, ``(u, v)`` and ``(v, u)``. The columns are coalesced: sorted by row, then by
  column, with no duplicates. Self-loops are removed unless ``remove_self_loops=False`` (a kept
  self-loop ``(u, u)`` appears once, so there are then ``2m + s`` columns).
* ``edge_weight``: ``torch.float64`` of shape ``(2m,)``, the positive finite LENGTH of each edge
  (a distance, not a similarity), identical for both directions of an edge.
* ``num_nodes``: set explicitly, so isolated nodes are counted.

Node-level attributes (``x``, ``y``, masks, ``node_names``) ride along and are sliced with the
nodes when only the largest connected component is kept.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np

from graphwgan._checks import to_numpy
from graphwgan.convert import _adjacency, _is_pyg_data, from_object, symmetric_edges
from graphwgan.io import read_graph

if TYPE_CHECKING:  # pragma: no cover - typing only
    from torch_geometric.data import Data

__all__ = ["edge_arrays", "num_components", "to_graph", "undirected_edges"]


def to_graph(
    source: Any,
    edge_weight: Any = None,
    *,
    num_nodes: int | None = None,
    largest_component: bool = False,
    remove_self_loops: bool = True,
    weight: str | None = "weight",
    keep_attributes: bool = True,
) -> Data:
    r"""Convert a graph in any supported form into graphwgan's undirected ``Data`` layout.

    Edge values are read as LENGTHS :math:`w(u, v) > 0` (the ground cost of the graph
    Wasserstein distance is the shortest-path metric :math:`d(u, v) = \min_{P: u \to v}
    \sum_{e \in P} w(e)`). Directed input is symmetrised. When an undirected pair ``{u, v}`` is
    given more than once (duplicate entries, parallel edges of a multigraph, or the two directions
    of a directed graph with different values), the pair keeps the MINIMUM length, because a
    shortest path only ever uses the shortest of parallel edges.

    Parameters
    ----------
    source : Data, networkx.Graph, scipy.sparse matrix or array, torch.Tensor, numpy.ndarray, str or os.PathLike
        The graph.

        * ``torch_geometric.data.Data``: uses ``num_nodes`` (as PyG infers it from ``x`` or
          ``edge_index`` when it is not set), ``edge_index`` and, as lengths, ``edge_weight``
          or else ``edge_attr`` when it is 1-D (or ``(E, 1)``). Node-level attributes (tensors,
          arrays or lists whose first dimension is ``num_nodes``, e.g. ``x``, ``y``, masks) are
          copied; edge-level attributes other than the lengths are dropped, because edges are
          merged; other attributes are copied unchanged.
        * ``networkx`` graph (any of the four classes): the edge attribute named by ``weight``
          is the length (1.0 where missing). Nodes are relabelled ``0..n-1`` in ``G.nodes``
          order and the original labels are kept in ``data.node_names`` (a list).
        * scipy sparse adjacency of shape ``(n, n)``: the stored values are lengths. Explicitly
          stored zeros are treated as absent entries, as in any sparse matrix.
        * ``edge_index`` of shape ``(2, E)`` and an integer dtype, as ``torch.Tensor`` or
          ``numpy.ndarray``, with optional ``edge_weight`` and ``num_nodes``.
        * a path: read with :func:`graphwgan.io.read_graph` (see there for the formats and for
          file-specific options such as ``allow_pickle``).
    edge_weight : array_like of shape (E,), optional
        Lengths for an ``edge_index`` or ``Data`` source (overrides the lengths stored in the
        ``Data``). Not accepted with the other source types, which carry their own values.
    num_nodes : int, optional
        Number of nodes for an ``edge_index`` source; defaults to ``edge_index.max() + 1``. For
        the other source types the node count comes from the source, and a different value here
        raises ``ValueError``.
    largest_component : bool, default False
        Keep only the largest connected component (ties go to the component holding the smallest
        node id). Nodes are relabelled ``0..n'-1`` in their original order, node-level attributes
        are sliced, and ``data.original_index`` (``int64``, shape ``(n',)``) holds each kept
        node's id in the input.
    remove_self_loops : bool, default True
        Drop edges ``(u, u)``. They never change a shortest-path distance.
    weight : str or None, default "weight"
        For a networkx source, the name of the edge attribute holding the length. For every
        source type, ``None`` ignores stored values and gives every edge length 1.
    keep_attributes : bool, default True
        Copy node-level attributes (``x``, ``y``, masks, names) into the result. ``False`` keeps
        only the structure, which is all a shortest-path computation needs and skips copying large
        feature matrices.

    Returns
    -------
    torch_geometric.data.Data
        A new object with ``edge_index`` (``int64``, ``(2, 2m)``, coalesced, both directions),
        ``edge_weight`` (``float64``, ``(2m,)``), ``num_nodes`` and the carried node attributes.
        The input is never modified and shares no tensor with the output.

    Raises
    ------
    TypeError
        For an unsupported source type, a non-integer ``edge_index`` or non-numeric lengths.
    ValueError
        For wrong shapes, negative or out-of-range node ids, an ``edge_weight`` of the wrong
        length, non-positive / NaN / infinite lengths, or an empty graph (zero nodes).

    Examples
    --------
    >>> import torch
    >>> data = to_graph(torch.tensor([[0, 1, 1], [1, 2, 0]]), [2.0, 1.0, 3.0])
    >>> data.edge_index.tolist()
    [[0, 1, 1, 2], [1, 0, 2, 1]]
    >>> data.edge_weight.tolist()
    [2.0, 2.0, 1.0, 1.0]
    """
    if isinstance(source, (str, os.PathLike)):
        if edge_weight is not None:
            raise TypeError(
                "to_graph: edge_weight is only accepted with an edge_index or Data source, got "
                f"a path ({os.fspath(source)!r}); a file carries its own lengths."
            )
        return read_graph(
            source,
            num_nodes=num_nodes,
            largest_component=largest_component,
            remove_self_loops=remove_self_loops,
            weight=weight,
        )

    return from_object(
        source,
        edge_weight,
        num_nodes=num_nodes,
        largest_component=largest_component,
        remove_self_loops=remove_self_loops,
        weight=weight,
        keep_attributes=keep_attributes,
    )


def num_components(graph: Any) -> tuple[int, np.ndarray]:
    """Count the connected components of an undirected graph.

    Parameters
    ----------
    graph : Data or any source accepted by :func:`to_graph`
        A ``Data`` is used as it is (its ``edge_index`` and ``num_nodes``); anything else is
        first passed through :func:`to_graph`.

    Returns
    -------
    count : int
        Number of connected components (an isolated node is its own component).
    labels : numpy.ndarray of shape (num_nodes,), dtype int64
        Component label of each node, in ``0..count-1``.

    Examples
    --------
    >>> import torch
    >>> count, labels = num_components(to_graph(torch.tensor([[0, 2], [1, 3]])))
    >>> count, labels.tolist()
    (2, [0, 0, 1, 1])
    """
    from scipy.sparse.csgraph import connected_components

    row, col, _, n = _edges_of(graph)
    count, labels = connected_components(_adjacency(row, col, n), directed=False)
    return int(count), labels.astype(np.int64, copy=False)


def undirected_edges(graph: Any) -> tuple[np.ndarray, np.ndarray]:
    """Each undirected edge once, as ``(u, v)`` with ``u < v``, and its length.

    Parameters
    ----------
    graph : Data or any source accepted by :func:`to_graph`
        A ``Data`` must already follow the :func:`to_graph` contract (both directions present);
        anything else is first passed through :func:`to_graph`.

    Returns
    -------
    edge_index_uv : numpy.ndarray of shape (2, m), dtype int64
        The columns of ``edge_index`` with ``u < v``, in ``edge_index`` order (so sorted by
        ``u``, then ``v``). Self-loops are not included.
    weight : numpy.ndarray of shape (m,), dtype float64
        The length of each edge (1.0 everywhere when the graph has no ``edge_weight``).

    Raises
    ------
    ValueError
        If a ``Data`` has a different number of ``u < v`` and ``u > v`` columns, i.e. it is not
        stored in both directions; pass it through :func:`to_graph` first.

    Examples
    --------
    >>> import torch
    >>> uv, w = undirected_edges(to_graph(torch.tensor([[1, 2], [0, 1]]), [2.0, 5.0]))
    >>> uv.tolist(), w.tolist()
    ([[0, 1], [1, 2]], [2.0, 5.0])
    """
    row, col, lengths, _ = _edges_of(graph)
    upper = row < col
    n_upper = int(np.count_nonzero(upper))
    n_lower = int(np.count_nonzero(row > col))
    if n_upper != n_lower:
        raise ValueError(
            f"undirected_edges: graph has {n_upper} edges with u < v but {n_lower} with u > v, so "
            "it does not hold each edge in both directions; pass it through "
            "graphwgan.to_graph(...) first."
        )
    uv = np.stack([row[upper], col[upper]]).astype(np.int64, copy=False)
    return uv, lengths[upper]


def edge_arrays(source: Any, *, weight: str | None = "weight") -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The edges and lengths that :func:`to_graph` would store, as numpy arrays, and the node count.

    Parameters
    ----------
    source : any source accepted by :func:`to_graph`
    weight : str or None, default "weight"
        As in :func:`to_graph`.

    Returns
    -------
    row, col : numpy.ndarray of shape (2m,), dtype int64
        Both directions of every edge, sorted by row, then column (``to_graph``'s ``edge_index``).
    lengths : numpy.ndarray of shape (2m,), dtype float64
        ``to_graph``'s ``edge_weight``.
    n : int
        The number of nodes.

    Notes
    -----
    An in-memory source is read without building the ``Data``, so a networkx graph, scipy sparse
    matrix or numpy ``edge_index`` never imports torch here.

    Examples
    --------
    >>> import networkx as nx
    >>> row, col, lengths, n = edge_arrays(nx.path_graph(3))
    >>> row.tolist(), col.tolist(), lengths.tolist(), n
    ([0, 1, 1, 2], [1, 0, 2, 1], [1.0, 1.0, 1.0, 1.0], 3)
    """
    if isinstance(source, (str, os.PathLike)):
        source = to_graph(source, weight=weight, keep_attributes=False)
    return symmetric_edges(source, weight=weight)


def _edges_of(graph):
    """``row, col, lengths, n`` of a ``Data`` as it is stored; any other source as :func:`to_graph` makes it."""
    if not _is_pyg_data(graph):
        return edge_arrays(graph)  # the same edges, without building the Data (nor importing torch)
    n = graph.num_nodes
    if not n:
        raise ValueError("graph is empty (zero nodes); a graph needs at least one node.")
    edge_index = graph.edge_index if "edge_index" in graph else None
    if edge_index is None:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0), int(n)
    array = to_numpy(edge_index)
    edge_weight = getattr(graph, "edge_weight", None)
    if edge_weight is None:
        lengths = np.ones(array.shape[1], dtype=np.float64)
    else:
        lengths = to_numpy(edge_weight).astype(np.float64, copy=False)
    return array[0], array[1], lengths, int(n)


# ----------------------------------------------------------------------------------------------
# small helpers
# ----------------------------------------------------------------------------------------------
