r"""Ollivier-Ricci curvature of every edge of a graph, exact, through the local ruler.

For an edge :math:`(u, v)`,

.. math::

    \kappa(u, v) = 1 - \frac{W_1(m_u, m_v)}{d(u, v)},

where :math:`d` is the shortest-path metric (edge weights are lengths; :math:`d(u, v)` may be
shorter than the edge itself) and :math:`m_x` is the lazy random-walk measure

.. math::

    m_x(x) = \alpha, \qquad m_x(z) = (1 - \alpha)\,
    \frac{\beta^{-w(x, z)^{p}}}{\sum_{z' \sim x} \beta^{-w(x, z')^{p}}} \quad (z \sim x),

with base :math:`\beta` (``base``) and power :math:`p` (``exp_power``), the weighting of
GraphRicciCurvature (``OllivierRicci``); ``exp_power=0`` (or a graph with unit lengths) gives the
plain uniform walk :math:`(1 - \alpha)/\deg(x)`. As there, when the weights
:math:`\beta^{-w^p}` of a node sum to at most ``1e-7`` its neighbours share the mass uniformly.
An isolated node keeps all its mass (it has no edge, so no curvature).

The node curvature is the mean curvature of the node's edges (NaN for an isolated node).

Every :math:`W_1(m_u, m_v)` is solved on its own block by
:func:`graphwgan.ot.local.wasserstein_local`: the supports lie in :math:`N[u] \cup N[v]`, so every
distance needed is at most :math:`R = \max_{z \sim u} w(u, z) + w(u, v) + \max_{z \sim v} w(v, z)`
(through :math:`u` and :math:`v`), and a Dijkstra search limited to :math:`R` from each support
point is exact (the proof is in :mod:`graphwgan.ot.local`). Edges of different components never
interact, so a disconnected graph gets the curvature of each component.
"""

from __future__ import annotations

import math
import numbers
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from graphwgan.graph import edge_arrays
from graphwgan.ot import local
from graphwgan.ot._integer_transport import row_differences

__all__ = ["CurvatureResult", "ollivier_ricci"]

# GraphRicciCurvature's threshold below which neighbour weights are replaced by a uniform split
_WEIGHT_SUM_FLOOR = 1e-7


@dataclass(frozen=True)
class CurvatureResult:
    r"""Ollivier-Ricci curvature of a graph's edges and nodes.

    Attributes
    ----------
    edge : dict or ndarray
        :math:`\kappa(u, v)` per edge: for a networkx graph a dict keyed by the graph's own edges,
        as ``G.edges()`` yields them; otherwise an array of shape ``(m,)`` aligned with
        ``edge_index``.
    node : dict or ndarray
        Mean curvature of each node's edges (NaN for an isolated node): a dict keyed by node for
        a networkx graph, else an array of shape ``(n,)``.
    edge_index : ndarray, shape ``(2, m)``
        The undirected edges in internal node ids ``0..n-1``, each once with ``u < v`` (the
        order of :func:`graphwgan.graph.undirected_edges`).
    transport : ndarray, shape ``(m,)``
        :math:`W_1(m_u, m_v)` per edge of ``edge_index``.
    distance : ndarray, shape ``(m,)``
        :math:`d(u, v)` per edge of ``edge_index``.
    curvature : ndarray, shape ``(m,)``
        :math:`\kappa` per edge of ``edge_index`` (the same values as ``edge``, as an array).
    """

    edge: Any
    node: Any
    edge_index: np.ndarray
    transport: np.ndarray
    distance: np.ndarray
    curvature: np.ndarray


def ollivier_ricci(graph: Any, alpha: float = 0.5, *, weight: str | None = "weight", exp_power: float = 2.0,
                   base: float = math.e, verbose: bool | None = None, n_jobs: int | None = None) -> CurvatureResult:
    r"""Exact Ollivier-Ricci curvature of every edge (see the module docstring for the definition).

    Parameters
    ----------
    graph : networkx.Graph, Data, scipy sparse matrix, edge_index or path
        An undirected graph; edge weights are lengths (unit lengths when absent). Self-loops are
        ignored (they change no distance, and GraphRicciCurvature removes them too) and get no
        curvature. A networkx ``MultiGraph`` or a directed graph is refused: convert it first.
        Repeated entries of an ``edge_index``, ``Data`` or sparse matrix (both directions of an
        edge, or parallel edges) become one edge with the smallest length, as in
        :func:`graphwgan.to_graph`. Lengths must be positive and finite. An isolated node gets
        NaN node curvature; each connected component gets its own curvature, as if alone.
    alpha : float, default 0.5
        Mass the walk keeps on its node, in ``[0, 1]``.
    weight : str or None, default "weight"
        The networkx edge attribute holding the length; ``None`` gives every edge length 1. Edges
        without the attribute have length 1.
    exp_power : float, default 2.0
        Power :math:`p` of the neighbour weighting :math:`\beta^{-w^p}`; 0 gives the uniform walk.
    base : float, default e
        Base :math:`\beta > 0` of the neighbour weighting.
    verbose : bool or None, default None
        Progress bar; ``None`` shows it when standard error is a terminal.
    n_jobs : int or None, default None
        Threads solving the local transport problems at the same time; ``None`` or ``-1`` uses every
        core available to the process, ``1`` runs in the calling thread. The values do not depend
        on it.

    Returns
    -------
    CurvatureResult

    Raises
    ------
    ValueError
        ``alpha`` outside ``[0, 1]``, a non-positive ``base``, a negative ``exp_power``, a
        multigraph or directed graph, or non-positive / NaN / infinite edge lengths.

    Notes
    -----
    Equal to GraphRicciCurvature 0.6.1 ``OllivierRicci(G, alpha, method="OTD", exp_power, base)``
    for nodes of degree at most its ``nbr_topk=3000`` (beyond that it keeps only the 3000
    heaviest neighbours; this function keeps them all).

    Examples
    --------
    >>> import networkx as nx
    >>> result = ollivier_ricci(nx.complete_graph(4), verbose=False)
    >>> round(result.edge[(0, 1)], 6)
    0.666667
    """
    alpha = _check_real(alpha, "alpha")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must lie in [0, 1] (the mass kept on the node), got {alpha!r}")
    exp_power = _check_real(exp_power, "exp_power")
    if exp_power < 0:
        raise ValueError(f"exp_power must be non-negative, got {exp_power!r}")
    base = _check_real(base, "base")
    if base <= 0:
        raise ValueError(f"base must be positive, got {base!r}")
    is_networkx = isinstance(graph, nx.Graph)
    if is_networkx and graph.is_multigraph():
        raise ValueError(
            f"ollivier_ricci needs a simple graph, got a {type(graph).__name__}; merge parallel edges first "
            "(for example nx.Graph(G) keeps one of them) so that each neighbour has one length"
        )
    if is_networkx and graph.is_directed():
        raise ValueError(
            f"ollivier_ricci needs an undirected graph, got a {type(graph).__name__}; use G.to_undirected()"
        )

    row, col, lengths, n = edge_arrays(graph, weight=weight)
    adjacency = sp.csr_array((lengths, (row, col)), shape=(n, n))
    upper = row < col  # each edge once, sorted by u, then v
    uv = np.stack([row[upper], col[upper]])
    u, v = uv
    length = lengths[upper]
    m = u.size
    measures = _walk_measures(adjacency, alpha, exp_power, base)
    longest = np.zeros(n)
    np.maximum.at(longest, np.r_[u, v], np.r_[length, length])
    unit = bool(m == 0 or np.all(length == 1.0))
    if unit:
        distance = np.ones(m)
    else:
        distance = _edge_distances(adjacency, u, v, length)
    transport = np.zeros(m)
    if m:
        radius = longest[u] + length + longest[v]
        # a proven bound: d(x, y) <= d(x, u) + d(u, v) + d(v, y) for x ~ u, y ~ v (the searches stop one level
        # short on unit lengths, see graphwgan.ot.local._wasserstein_local)
        supports = _compiled_supports(measures, u, v, n_jobs) if unit else None
        mu, nu = (measures[u], measures[v]) if supports is None else (None, None)
        solved = local._wasserstein_on(adjacency, mu, nu, radius, verbose, n_jobs, proven=True, supports=supports)
        transport = solved.distance
    curvature = 1.0 - transport / distance if m else np.zeros(0)
    node = _node_curvature(n, u, v, curvature)
    if is_networkx:
        return CurvatureResult(_edge_dict(graph, uv, curvature), dict(zip(graph.nodes, node.tolist(), strict=True)),
                               uv, transport, distance, curvature)
    return CurvatureResult(curvature.copy(), node, uv, transport, distance, curvature)


def _check_real(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    return float(value)


def _walk_measures(adjacency, alpha: float, exp_power: float, base: float):
    """The lazy walk measures as a CSR matrix: row ``x`` is :math:`m_x`."""
    n = adjacency.shape[0]
    adjacency = adjacency.tocsr()
    adjacency.sort_indices()
    degree = np.diff(adjacency.indptr)
    owner = np.repeat(np.arange(n), degree)
    raw = base ** (-(adjacency.data ** exp_power))
    total = np.bincount(owner, weights=raw, minlength=n)
    uniform = total <= _WEIGHT_SUM_FLOOR
    share = np.where(uniform[owner], 1.0 / np.maximum(degree[owner], 1),
                     raw / np.where(total > 0, total, 1.0)[owner])
    mass = (1.0 - alpha) * share
    keep = np.where(degree > 0, alpha, 1.0)
    rows = np.r_[owner, np.arange(n)]
    cols = np.r_[adjacency.indices, np.arange(n)]
    return sp.csr_array((np.r_[mass, keep], (rows, cols)), shape=(n, n))


def _compiled_supports(measures, u: np.ndarray, v: np.ndarray, n_jobs):
    r"""The flat supports of ``measures[u] - measures[v]``, compiled, where the compiled solver will run.

    Bit for bit those of :func:`graphwgan.ot.local._flat_supports`, without the copies, checks and
    sparse subtraction of the general path (about a seventh of polblogs' time on two threads), on
    ``n_jobs`` threads; ``None`` (the general path) for problems below the compiled solver's
    threshold, judged by the largest block entries they could hold, :math:`\sum_{uv} (d_u + 1)(d_v + 1)`.
    """
    degree = np.diff(measures.indptr)  # d + 1: the neighbours and the node itself
    entries = float(np.dot(degree[u].astype(np.float64), degree[v]))
    if entries < local._INTEGER_MIN_ENTRIES:
        return None
    if not measures.has_sorted_indices:
        measures.sort_indices()
    workers = local._workers(n_jobs)
    if workers == 1 or entries < local._POOL_MIN_ENTRIES:  # threads cost more than they share below it
        return local._Supports(*row_differences(measures.indptr, measures.indices, measures.data, u, v))
    with ThreadPoolExecutor(workers) as pool:
        return local._Supports(*row_differences(measures.indptr, measures.indices, measures.data, u, v, pool,
                                                workers))


def _edge_distances(adjacency, u: np.ndarray, v: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Shortest-path distance between the ends of each edge, by searches limited to its length."""
    n = adjacency.shape[0]
    distance = length.copy()
    order = np.argsort(u, kind="stable")
    sources, starts = np.unique(u[order], return_index=True)
    per_chunk = max(1, 10_000_000 // max(n, 1))
    for lo in range(0, sources.size, per_chunk):
        chunk = sources[lo:lo + per_chunk]
        first = starts[lo]
        last = starts[lo + per_chunk] if lo + per_chunk < sources.size else u.size
        edges = order[first:last]
        limit = float(length[edges].max()) * (1.0 + 1e-12)
        rows = dijkstra(adjacency, directed=False, indices=chunk, limit=limit)
        row_of = np.searchsorted(chunk, u[edges])
        distance[edges] = np.minimum(length[edges], rows[row_of, v[edges]])
    return distance


def _node_curvature(n: int, u: np.ndarray, v: np.ndarray, curvature: np.ndarray) -> np.ndarray:
    degree = np.bincount(np.r_[u, v], minlength=n).astype(np.float64)
    total = np.bincount(np.r_[u, v], weights=np.r_[curvature, curvature], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(degree > 0, total / np.maximum(degree, 1.0), np.nan)


def _edge_dict(graph, uv: np.ndarray, curvature: np.ndarray) -> dict:
    """Curvature keyed by ``graph.edges()`` (self-loops left out)."""
    index = {node: i for i, node in enumerate(graph.nodes)}
    n = len(index)
    pairs = [(a, b) for a, b in graph.edges() if a != b]
    if not pairs:
        return {}
    ia = np.fromiter((index[a] for a, _ in pairs), dtype=np.int64, count=len(pairs))
    ib = np.fromiter((index[b] for _, b in pairs), dtype=np.int64, count=len(pairs))
    lo, hi = np.minimum(ia, ib), np.maximum(ia, ib)
    # undirected_edges lists (u, v), u < v, sorted by u then v: a key search finds each edge
    keys = uv[0] * n + uv[1]
    position = np.searchsorted(keys, lo * n + hi)
    return dict(zip(pairs, curvature[position].tolist(), strict=True))


def _load_compiled_solver() -> None:
    """Solve a small graph's curvature once, at import.

    numba loads the compiled solver's machine code from its on-disk cache on first use (about
    0.4 s; compiling it, once after installing, takes about 6 s): done here, a caller's first
    ``ollivier_ricci`` costs what later calls do.
    """
    ollivier_ricci(np.array([[0, 1, 2, 3, 0], [1, 2, 3, 0, 2]]), verbose=False)


_load_compiled_solver()
