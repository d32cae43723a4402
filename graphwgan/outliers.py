r"""Inject node outliers into a graph: the BOND contextual and structural types, and a rewiring.

The BOND benchmark (Liu et al., "BOND: Benchmarking Unsupervised Outlier Node Detection on Static
Attributed Graphs", NeurIPS 2022 Datasets and Benchmarks) builds ``inj_cora`` and ``inj_amazon``
with the two generators of PyGOD, after Ding et al. (SDM 2019):

* **contextual** (:func:`inject_contextual_outliers`): a node keeps its edges but takes the
  features of the most different node among a few random candidates;
* **structural** (:func:`inject_structural_outliers`): groups of random nodes are joined into
  cliques.

A clique raises the degree of every member to at least ``clique_size - 1``, so degree alone
already separates many structural outliers (and a copied feature vector changes the feature norm,
so ``z(degree) + z(||x||)`` scores about 0.85 ROC-AUC on ``inj_cora`` without looking at any
neighbourhood). :func:`inject_degree_preserving_outliers` is a structural outlier without that
leak: every edge of an outlier is rewired to a node far away by double-edge swaps, which keep the
degree of EVERY node.

:func:`inject_outliers` combines the two BOND types with BOND's label bits: ``1`` contextual,
``2`` structural, ``3`` both.

Every function takes anything :func:`graphwgan.to_graph` accepts, never modifies it, and returns
``(data, labels)``: a new ``Data`` in the :func:`~graphwgan.to_graph` layout (node attributes such
as ``x`` and ``y`` carried over) and an ``int64`` tensor of shape ``(num_nodes,)``. Randomness comes
from a local ``numpy.random.default_rng(seed)``; ``seed=0`` is a seed like any other and ``None``
draws fresh entropy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from graphwgan._checks import check_int, check_seed, to_numpy

if TYPE_CHECKING:  # pragma: no cover - typing only
    import torch
    from torch_geometric.data import Data

__all__ = [
    "inject_contextual_outliers",
    "inject_degree_preserving_outliers",
    "inject_outliers",
    "inject_structural_outliers",
]

# rejection-sampling attempts allowed per rewired edge before giving up
_MAX_TRIES_PER_EDGE = 10_000


def inject_contextual_outliers(
    graph: Any, num_outliers: int, *, num_candidates: int = 50, seed: int | None = 0
) -> tuple[Data, torch.Tensor]:
    r"""Give random nodes the features of the most different of a few random other nodes.

    ``num_outliers`` distinct nodes :math:`i` are drawn uniformly. For each, ``num_candidates``
    distinct other nodes :math:`C_i` are drawn uniformly, and

    .. math:: x_i \leftarrow x_{j^*}, \qquad j^* = \arg\max_{j \in C_i} \lVert x_i - x_j \rVert_2

    (the first candidate drawn wins a tie). Edges are unchanged. This is PyGOD's
    ``gen_contextual_outlier(data, n=num_outliers, k=num_candidates)``, used by BOND, with two
    small differences: the candidates never include the node itself, and distances and copied
    features are always those of the INPUT graph (PyGOD edits ``x`` in place, so a later
    outlier may copy an already replaced vector).

    Parameters
    ----------
    graph : Data or any source accepted by :func:`graphwgan.to_graph`
        Must carry node features ``x`` with first dimension ``num_nodes`` (shape ``(|V|, F)``;
        other trailing shapes are flattened for the distance).
    num_outliers : int
        Number of nodes whose features are replaced, ``0 <= num_outliers <= |V|``.
    num_candidates : int, default 50
        Candidates drawn for each outlier, ``1 <= num_candidates <= |V| - 1``.
    seed : int or None, default 0
        Seed of the local random generator.

    Returns
    -------
    data : torch_geometric.data.Data
        A copy of the graph with the new features (same dtype as the input ``x``).
    labels : torch.Tensor of shape (|V|,), dtype int64
        1 for the outliers, 0 elsewhere.

    Raises
    ------
    TypeError
        If a count or ``seed`` is not an int.
    ValueError
        If the graph has no ``x``, or a count is out of range.

    Examples
    --------
    >>> import torch
    >>> from torch_geometric.data import Data
    >>> graph = Data(x=torch.tensor([[0.0], [1.0], [5.0]]), edge_index=torch.tensor([[0], [1]]))
    >>> data, labels = inject_contextual_outliers(graph, 1, num_candidates=2, seed=0)
    >>> int(labels.sum()), data.x.shape
    (1, torch.Size([3, 1]))
    """
    name = "inject_contextual_outliers"
    data = _copy_graph(graph)
    n = int(data.num_nodes)
    x = getattr(data, "x", None)
    if x is None:
        raise ValueError(
            f"{name}: the graph has no node features (data.x is None); contextual outliers replace "
            "feature vectors, so pass a Data with x of shape (num_nodes, F)."
        )
    if x.ndim < 1 or x.shape[0] != n:
        raise ValueError(f"{name}: data.x must have first dimension num_nodes={n}, got shape {tuple(x.shape)}.")
    if n < 2:
        raise ValueError(f"{name}: the graph has {n} node(s); at least 2 are needed to draw candidates.")
    num_outliers = check_int(num_outliers, "num_outliers", name, minimum=0, maximum=n)
    num_candidates = check_int(num_candidates, "num_candidates", name, minimum=1, maximum=n - 1)
    rng = np.random.default_rng(check_seed(seed, name))

    features = np.asarray(to_numpy(x), dtype=np.float64).reshape(n, -1)

    outliers = rng.choice(n, size=num_outliers, replace=False)
    donors = np.empty(num_outliers, dtype=np.int64)
    for t, i in enumerate(outliers):
        candidates = rng.choice(n - 1, size=num_candidates, replace=False)
        candidates += candidates >= i  # skip the node itself
        distance = np.linalg.norm(features[candidates] - features[i], axis=1)
        donors[t] = candidates[int(np.argmax(distance))]

    original = x.clone() if hasattr(x, "clone") else np.array(x, copy=True)
    if hasattr(x, "clone"):
        import torch

        data.x[torch.from_numpy(outliers)] = original[torch.from_numpy(donors)]
    else:
        data.x[outliers] = original[donors]
    return data, _labels(n, outliers)


def inject_structural_outliers(
    graph: Any, num_cliques: int, clique_size: int, *, seed: int | None = 0
) -> tuple[Data, torch.Tensor]:
    r"""Join random nodes into fully connected cliques.

    ``num_cliques * clique_size`` distinct nodes are drawn uniformly (a random permutation,
    cut into consecutive groups of ``clique_size``), and every missing edge inside a group is
    added, with length 1 (edges already present keep their length). All of these nodes are
    labelled outliers. With :math:`s` = ``clique_size``, each clique holds
    :math:`\binom{s}{2}` edges, so the edge count grows by :math:`\binom{s}{2}` per clique minus
    the pairs that were already joined.

    This is PyGOD's ``gen_structural_outlier(data, m, n, p=0)`` used by BOND, with
    ``m = clique_size`` (nodes per clique) and ``n = num_cliques``; note that PyGOD's ``n`` here
    counts cliques, not nodes.

    Parameters
    ----------
    graph : Data or any source accepted by :func:`graphwgan.to_graph`
        The graph; it may have no edges.
    num_cliques : int
        Number of cliques, ``>= 0``.
    clique_size : int
        Nodes per clique, ``>= 2``; ``num_cliques * clique_size <= |V|``.
    seed : int or None, default 0
        Seed of the local random generator.

    Returns
    -------
    data : torch_geometric.data.Data
        A copy of the graph with the clique edges added (both directions, coalesced).
    labels : torch.Tensor of shape (|V|,), dtype int64
        1 for the clique members, 0 elsewhere.

    Raises
    ------
    TypeError
        If a count or ``seed`` is not an int.
    ValueError
        If ``clique_size < 2`` or the cliques need more nodes than the graph has.

    Examples
    --------
    >>> import networkx as nx
    >>> data, labels = inject_structural_outliers(nx.empty_graph(10), 2, 3, seed=0)
    >>> data.num_edges // 2, int(labels.sum())
    (6, 6)
    """
    name = "inject_structural_outliers"
    data = _copy_graph(graph)
    n = int(data.num_nodes)
    num_cliques = check_int(num_cliques, "num_cliques", name, minimum=0)
    clique_size = check_int(clique_size, "clique_size", name, minimum=2)
    if num_cliques * clique_size > n:
        raise ValueError(
            f"{name}: {num_cliques} cliques of {clique_size} nodes need {num_cliques * clique_size} "
            f"distinct nodes but the graph has {n}; use fewer or smaller cliques."
        )
    rng = np.random.default_rng(check_seed(seed, name))
    members = rng.permutation(n)[: num_cliques * clique_size]

    from graphwgan.graph import undirected_edges

    uv, w = undirected_edges(data)
    first, second = np.triu_indices(clique_size, 1)
    groups = members.reshape(num_cliques, clique_size)
    new_u = groups[:, first].ravel()
    new_v = groups[:, second].ravel()
    # only the missing pairs are added: to_graph would give an existing pair min(length, 1)
    existing = dict(zip((uv[0] * n + uv[1]).tolist(), w.tolist(), strict=True))
    keys = (np.minimum(new_u, new_v) * n + np.maximum(new_u, new_v)).tolist()
    fresh = np.fromiter((k not in existing for k in keys), dtype=bool, count=len(keys))
    u = np.concatenate([uv[0], new_u[fresh]])
    v = np.concatenate([uv[1], new_v[fresh]])
    lengths = np.concatenate([w, np.ones(int(fresh.sum()))])
    return _with_edges(data, u, v, lengths), _labels(n, members)


def inject_degree_preserving_outliers(
    graph: Any, num_outliers: int, *, seed: int | None = 0
) -> tuple[Data, torch.Tensor]:
    r"""Rewire every edge of random nodes to far-away nodes, keeping every node's degree.

    ``num_outliers`` distinct nodes with at least one edge are drawn uniformly. Each outlier
    :math:`o` (in the order drawn) has each of its current edges :math:`(o, a)` rewired by a
    double-edge swap

    .. math:: (o, a),\ (b, c) \;\longrightarrow\; (o, c),\ (b, a),

    where :math:`(b, c)` is a uniformly drawn edge (and orientation) between two non-outlier
    nodes, :math:`c` lies outside the 2-hop neighbourhood of :math:`o` at the time :math:`o`
    is rewired and is not already a neighbour of :math:`o`, and :math:`b \neq a` is not a
    neighbour of :math:`a` (draws that would create a self-loop or a duplicate edge are
    rejected). A swap keeps the degree of all four nodes, so **every node keeps its degree**
    and degree alone carries no signal; an outlier ends up with none of its original
    neighbours, only random far-away ones. The edge :math:`(o, c)` takes the length of
    :math:`(o, a)` and :math:`(b, a)` that of :math:`(b, c)`, so the multiset of lengths is
    kept too. The non-outliers :math:`a, b, c` each change one neighbour per swap; only
    :math:`o` is labelled.

    Parameters
    ----------
    graph : Data or any source accepted by :func:`graphwgan.to_graph`
        The graph; it needs edges, and enough edges between non-outliers far from each outlier.
    num_outliers : int
        Number of nodes to rewire, ``0 <= num_outliers <=`` the number of non-isolated nodes.
    seed : int or None, default 0
        Seed of the local random generator.

    Returns
    -------
    data : torch_geometric.data.Data
        A copy of the graph with the rewired edges (same degrees, same number of edges).
    labels : torch.Tensor of shape (|V|,), dtype int64
        1 for the rewired nodes, 0 elsewhere.

    Raises
    ------
    TypeError
        If ``num_outliers`` or ``seed`` is not an int.
    ValueError
        If the graph has no edges, fewer non-isolated nodes than ``num_outliers``, or no valid
        swap is found for an edge (a graph too small or too dense to rewire).

    Examples
    --------
    >>> import networkx as nx
    >>> data, labels = inject_degree_preserving_outliers(nx.cycle_graph(30), 2, seed=0)
    >>> int(labels.sum()), data.num_edges // 2
    (2, 30)
    """
    name = "inject_degree_preserving_outliers"
    data = _copy_graph(graph)
    n = int(data.num_nodes)
    num_outliers = check_int(num_outliers, "num_outliers", name, minimum=0, maximum=n)
    rng = np.random.default_rng(check_seed(seed, name))
    from graphwgan.graph import undirected_edges

    uv, w = undirected_edges(data)
    if num_outliers > 0 and uv.shape[1] == 0:
        raise ValueError(f"{name}: the graph has {n} nodes and no edges, so there is nothing to rewire.")
    degree = np.bincount(uv.ravel(), minlength=n)
    connected = np.flatnonzero(degree > 0)
    if num_outliers > connected.size:
        raise ValueError(
            f"{name}: num_outliers={num_outliers} but only {connected.size} nodes have an edge to "
            "rewire; ask for fewer outliers."
        )
    outliers = rng.choice(connected, size=num_outliers, replace=False)
    is_outlier = np.zeros(n, dtype=bool)
    is_outlier[outliers] = True

    neighbours = [set() for _ in range(n)]
    length: dict[tuple[int, int], float] = {}
    for a, b, value in zip(uv[0].tolist(), uv[1].tolist(), w.tolist(), strict=True):
        neighbours[a].add(b)
        neighbours[b].add(a)
        length[(a, b)] = value
    # edges between two non-outliers, in a list with positions for O(1) removal
    pool = [(a, b) for a, b in length if not (is_outlier[a] or is_outlier[b])]
    position = {edge: k for k, edge in enumerate(pool)}

    def pool_remove(edge):
        k = position.pop(edge)
        last = pool.pop()
        if k < len(pool):
            pool[k] = last
            position[last] = k

    def pool_add(edge):
        position[edge] = len(pool)
        pool.append(edge)

    def key(a, b):
        return (a, b) if a < b else (b, a)

    for o in outliers.tolist():
        near = {o} | neighbours[o]
        for a in list(neighbours[o]):
            near |= neighbours[a]
        for a in sorted(neighbours[o]):
            found = False
            for _ in range(_MAX_TRIES_PER_EDGE if pool else 0):
                b, c = pool[int(rng.integers(len(pool)))]
                if rng.random() < 0.5:
                    b, c = c, b
                if not (c in near or c in neighbours[o] or b == a or a in neighbours[b]):
                    found = True
                    break
            if not found:
                raise ValueError(
                    f"{name}: found no edge (b, c) between non-outliers with c outside the 2-hop "
                    f"neighbourhood of outlier {o} after {_MAX_TRIES_PER_EDGE} draws; the graph is "
                    "too small or too dense for this many outliers."
                )
            w_oa, w_bc = length.pop(key(o, a)), length.pop(key(b, c))
            pool_remove(key(b, c))
            for p, q in ((o, a), (b, c)):
                neighbours[p].discard(q)
                neighbours[q].discard(p)
            for p, q, value in ((o, c, w_oa), (b, a, w_bc)):
                neighbours[p].add(q)
                neighbours[q].add(p)
                length[key(p, q)] = value
            if not is_outlier[a]:
                pool_add(key(b, a))

    edges = np.array(list(length), dtype=np.int64).reshape(-1, 2)
    lengths = np.fromiter(length.values(), dtype=np.float64, count=len(length))
    return _with_edges(data, edges[:, 0], edges[:, 1], lengths), _labels(n, outliers)


def inject_outliers(
    graph: Any,
    *,
    contextual: int = 0,
    structural: tuple[int, int] | None = None,
    num_candidates: int = 50,
    seed: int | None = 0,
) -> tuple[Data, torch.Tensor]:
    r"""Inject BOND's contextual and structural outliers, with BOND's label bits.

    Runs :func:`inject_contextual_outliers` (``contextual`` nodes, ``num_candidates``
    candidates) and then :func:`inject_structural_outliers` on its result, each with its own
    seed derived from ``seed`` (``numpy.random.SeedSequence(seed).generate_state(2)``), so the
    two node sets are drawn independently and a node may be both. The labels are

    .. math:: y_v = 1 \cdot [v \text{ contextual}] + 2 \cdot [v \text{ structural}]
              \in \{0, 1, 2, 3\},

    the encoding of ``inj_cora``/``inj_amazon`` (``labels & 1`` contextual, ``labels & 2``
    structural, ``labels > 0`` any outlier).

    Parameters
    ----------
    graph : Data or any source accepted by :func:`graphwgan.to_graph`
        The graph; it needs ``x`` when ``contextual > 0``.
    contextual : int, default 0
        Number of contextual outliers.
    structural : (int, int) or None, default None
        ``(num_cliques, clique_size)`` of the structural outliers; ``None`` adds none.
    num_candidates : int, default 50
        Candidates per contextual outlier.
    seed : int or None, default 0
        Seed from which the two generators' seeds are derived.

    Returns
    -------
    data : torch_geometric.data.Data
        A copy of the graph with both kinds injected.
    labels : torch.Tensor of shape (|V|,), dtype int64
        The BOND bits.

    Raises
    ------
    TypeError
        If ``structural`` is not a pair, or a count or ``seed`` is not an int.
    ValueError
        As for the two generators.

    Examples
    --------
    >>> from graphwgan.datasets import default_graph
    >>> graph = default_graph()
    >>> graph.x = graph.y.reshape(-1, 1).double()
    >>> data, labels = inject_outliers(graph, contextual=20, structural=(2, 10), seed=0)
    >>> int(((labels & 1) > 0).sum()), int(((labels & 2) > 0).sum())
    (20, 20)
    """
    name = "inject_outliers"
    seed = check_seed(seed, name)
    if structural is not None and (
        isinstance(structural, (str, bytes)) or not hasattr(structural, "__len__") or len(structural) != 2
    ):
        raise TypeError(
            f"{name}: structural must be a pair (num_cliques, clique_size) or None, got {structural!r}."
        )
    if seed is None:
        seed_contextual = seed_structural = None
    else:
        seed_contextual, seed_structural = (int(s) for s in np.random.SeedSequence(seed).generate_state(2))
    contextual = check_int(contextual, "contextual", name, minimum=0)
    if contextual > 0:
        data, bit0 = inject_contextual_outliers(
            graph, contextual, num_candidates=num_candidates, seed=seed_contextual
        )
    else:
        data = _copy_graph(graph)
        bit0 = _labels(int(data.num_nodes), np.zeros(0, dtype=np.int64))
    if structural is not None:
        data, bit1 = inject_structural_outliers(data, structural[0], structural[1], seed=seed_structural)
    else:
        bit1 = _labels(int(data.num_nodes), np.zeros(0, dtype=np.int64))
    return data, bit0 + 2 * bit1


# ----------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------


def _copy_graph(graph: Any) -> Data:
    """A fresh ``to_graph`` copy of the input (never the caller's object)."""
    from graphwgan.graph import to_graph

    return to_graph(graph)


def _with_edges(data: Data, u: np.ndarray, v: np.ndarray, lengths: np.ndarray) -> Data:
    """``data`` with its edges replaced by the undirected edges ``(u, v)``, normalised."""
    import torch

    from graphwgan.graph import to_graph

    u, v = np.asarray(u, dtype=np.int64), np.asarray(v, dtype=np.int64)
    lengths = np.asarray(lengths, dtype=np.float64)
    data.edge_index = torch.from_numpy(np.stack([np.concatenate([u, v]), np.concatenate([v, u])]))
    data.edge_weight = torch.from_numpy(np.concatenate([lengths, lengths]))
    return to_graph(data)


def _labels(n: int, outliers: np.ndarray) -> torch.Tensor:
    import torch

    labels = torch.zeros(n, dtype=torch.int64)
    labels[torch.from_numpy(np.asarray(outliers, dtype=np.int64))] = 1
    return labels
