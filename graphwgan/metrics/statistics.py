r"""Graph statistics, edge overlap, link-prediction scores and a degree Wasserstein distance.

The statistics are the ones NetGAN (Bojchevski et al., ICML 2018) and CELL (Rendsburg et al.,
ICML 2020) report when they compare a generated graph with the graph it was trained on. Each one
reads a graph as **undirected, unweighted and simple**: anything :func:`graphwgan.to_graph`
accepts, with directions, multiplicities, self-loops and stored lengths ignored. With
:math:`A` the 0/1 adjacency matrix, :math:`d_v` the degree of node :math:`v`, :math:`n` the
number of nodes and :math:`m` the number of edges:

==============================  ===============================================================
statistic                       definition
==============================  ===============================================================
``max_degree``                  :math:`\max_v d_v`
``assortativity``               Pearson correlation of the degrees at the two ends of an edge
``triangle_count``              :math:`\operatorname{tr}(A^3) / 6`
``square_count``                number of 4-cycles, :math:`\sum_{u<w} \binom{c_{uw}}{2} / 2`
``wedge_count``                 :math:`\sum_v \binom{d_v}{2}` (paths of length two)
``claw_count``                  :math:`\sum_v \binom{d_v}{3}` (3-stars)
``power_law_exponent``          continuous maximum-likelihood exponent of the degrees
``gini_coefficient``            Gini coefficient of the degree sequence
``edge_distribution_entropy``   :math:`-\frac{1}{\ln n} \sum_v \frac{d_v}{2m} \ln \frac{d_v}{2m}`
``largest_component_size``      number of nodes in the largest connected component
``clustering_coefficient``      :math:`3 \cdot \text{triangles} / \text{wedges}` (transitivity)
``characteristic_path_length``  mean shortest-path length in the largest component
``spectral_gap``                second-smallest eigenvalue of the normalised Laplacian
==============================  ===============================================================

Everything is computed with :mod:`scipy.sparse`: no :math:`n \times n` dense matrix is formed,
except the eigen-decomposition of small components in :func:`spectral_gap`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np

from graphwgan._checks import check_int, check_seed

__all__ = [
    "assortativity",
    "characteristic_path_length",
    "claw_count",
    "clustering_coefficient",
    "degree_wasserstein",
    "edge_distribution_entropy",
    "edge_overlap",
    "gini_coefficient",
    "graph_statistics",
    "largest_component_size",
    "max_degree",
    "mean_relative_error",
    "power_law_exponent",
    "relative_errors",
    "spectral_gap",
    "square_count",
    "statistics_table",
    "triangle_count",
    "wedge_count",
]
#: Components up to this many nodes get an exact dense eigen-decomposition in :func:`spectral_gap`.
DENSE_EIGEN_MAX_NODES = 1000

# entries of A[rows] @ A computed at once when counting triangles and squares (about 100 MB)
_PRODUCT_ENTRIES = 4_000_000
# entries of the (sources, n) distance block held at once in characteristic_path_length (40 MB)
_DISTANCE_ENTRIES = 5_000_000


# ----------------------------------------------------------------------------------------------
# the simple undirected adjacency every statistic works on
# ----------------------------------------------------------------------------------------------


class _Simple:
    """Sparse 0/1 adjacency (``csr_array``, int64, symmetric, zero diagonal) and degrees."""

    def __init__(self, graph: Any) -> None:
        import scipy.sparse as sp

        from graphwgan.graph import to_graph

        data = to_graph(graph, weight=None, keep_attributes=False)
        edge_index = data.edge_index.numpy()
        self.num_nodes = int(data.num_nodes)
        row, col = edge_index[0].astype(np.int64), edge_index[1].astype(np.int64)
        self.adjacency = sp.csr_array(
            (np.ones(row.size, dtype=np.int64), (row, col)), shape=(self.num_nodes, self.num_nodes)
        )
        self.adjacency.sort_indices()
        self.degree = np.diff(self.adjacency.indptr).astype(np.int64)
        self.num_edges = int(row.size // 2)
        self._components = None
        self._walk_counts = None

    def upper_edges(self) -> np.ndarray:
        """Each edge once as a key ``u * n + v`` with ``u < v``, sorted."""
        coo = self.adjacency.tocoo()
        upper = coo.row < coo.col
        return np.sort(coo.row[upper].astype(np.int64) * self.num_nodes + coo.col[upper])

    def components(self) -> tuple[int, np.ndarray]:
        if self._components is None:
            from scipy.sparse.csgraph import connected_components

            count, labels = connected_components(self.adjacency, directed=False)
            self._components = (int(count), labels.astype(np.int64))
        return self._components

    def largest_component(self) -> np.ndarray:
        """Sorted node ids of the largest component (ties: the one with the smallest node id)."""
        _, labels = self.components()
        sizes = np.bincount(labels)
        # labels are numbered in order of first appearance, so argmax picks the smallest node id
        return np.flatnonzero(labels == int(np.argmax(sizes)))

    def walk_counts(self) -> tuple[int, int]:
        """``(triangles, squares)`` from the common-neighbour counts :math:`c = A^2`."""
        if self._walk_counts is None:
            self._walk_counts = _triangles_and_squares(self.adjacency, self.degree)
        return self._walk_counts

    def require_edges(self, name: str) -> None:
        if self.num_edges == 0:
            raise ValueError(
                f"{name}: the graph has {self.num_nodes} nodes and no edges, so the statistic is "
                "undefined; pass a graph with at least one edge."
            )


def _triangles_and_squares(adjacency, degree) -> tuple[int, int]:
    r"""Count triangles and 4-cycles from :math:`C = A^2`, one block of rows at a time.

    :math:`C_{uw}` is the number of common neighbours of :math:`u` and :math:`w`.
    Triangles: :math:`\sum_{u,w} A_{uw} C_{uw} = \operatorname{tr}(A^3) = 6 T`.
    4-cycles: a 4-cycle ``u a w b`` is fixed by an opposite pair ``{u, w}`` and two of their
    common neighbours, and it has two opposite pairs, so
    :math:`\sum_{u \ne w} \binom{C_{uw}}{2} = 2 \sum_{u<w} \binom{C_{uw}}{2} = 4 Q`.
    """
    n = adjacency.shape[0]
    # the number of products formed for row u is the sum of its neighbours' degrees
    work = adjacency @ degree
    closed, pairs = 0, 0
    start = 0
    while start < n:
        stop = start + 1
        budget = int(work[start])
        while stop < n and budget + int(work[stop]) <= _PRODUCT_ENTRIES:
            budget += int(work[stop])
            stop += 1
        block = adjacency[start:stop]
        common = (block @ adjacency).tocoo()
        closed += int(block.multiply(common).sum())
        off = common.row + start != common.col
        c = common.data[off].astype(np.int64)
        pairs += int((c * (c - 1) // 2).sum())
        start = stop
    return closed // 6, pairs // 4


# ----------------------------------------------------------------------------------------------
# single statistics
# ----------------------------------------------------------------------------------------------


def max_degree(graph: Any) -> int:
    r"""Largest node degree, :math:`\max_v d_v`.

    Parameters
    ----------
    graph : Data, networkx.Graph, scipy sparse matrix, edge_index or path
        Anything :func:`graphwgan.to_graph` accepts, read as an undirected unweighted simple
        graph (lengths, directions, multiplicities and self-loops are ignored).

    Returns
    -------
    int
        The maximum degree (0 for a graph without edges).

    Examples
    --------
    >>> import networkx as nx
    >>> max_degree(nx.star_graph(4))
    4
    """
    return _max_degree(_Simple(graph))


def _max_degree(g: _Simple) -> int:
    return int(g.degree.max())


def assortativity(graph: Any) -> float:
    r"""Degree assortativity: the Pearson correlation of the degrees at the ends of an edge.

    Every undirected edge :math:`\{u, v\}` contributes both ordered pairs
    :math:`(d_u, d_v)` and :math:`(d_v, d_u)`, so with :math:`x_e, y_e` the degrees at the two
    ends of the :math:`2m` ordered edges and :math:`\bar x` their mean,

    .. math:: r = \frac{\sum_e (x_e - \bar x)(y_e - \bar x)}{\sum_e (x_e - \bar x)^2},

    the same value as ``networkx.degree_assortativity_coefficient``.

    Parameters
    ----------
    graph : Data, networkx.Graph, scipy sparse matrix, edge_index or path
        Anything :func:`graphwgan.to_graph` accepts, read as an undirected unweighted simple graph.

    Returns
    -------
    float
        :math:`r \in [-1, 1]`; ``nan`` when every edge joins nodes of one common degree (e.g.
        a regular graph), where the correlation is 0/0, as networkx returns.

    Raises
    ------
    ValueError
        If the graph has no edges.

    Examples
    --------
    >>> import networkx as nx
    >>> round(assortativity(nx.star_graph(4)), 6)
    -1.0
    """
    return _assortativity(_Simple(graph), "assortativity")


def _assortativity(g: _Simple, name: str) -> float:
    g.require_edges(name)
    coo = g.adjacency.tocoo()
    x = g.degree[coo.row].astype(np.float64)
    y = g.degree[coo.col].astype(np.float64)
    mean = x.mean()
    x -= mean
    y -= mean
    denominator = float(np.dot(x, x))
    if denominator <= 1e-12 * mean * mean * x.size:
        return math.nan
    return float(np.dot(x, y) / denominator)


def triangle_count(graph: Any) -> int:
    r"""Number of triangles, :math:`\operatorname{tr}(A^3) / 6`.

    Counted as :math:`\frac16 \sum_{u, w} A_{uw} (A^2)_{uw}` with sparse products over blocks of
    rows, so memory stays bounded on graphs with hubs.

    Parameters
    ----------
    graph : Data, networkx.Graph, scipy sparse matrix, edge_index or path
        Anything :func:`graphwgan.to_graph` accepts, read as an undirected unweighted simple graph.

    Returns
    -------
    int
        The number of triangles (3-cliques).

    Examples
    --------
    >>> import networkx as nx
    >>> triangle_count(nx.complete_graph(4))
    4
    """
    return _Simple(graph).walk_counts()[0]


def square_count(graph: Any) -> int:
    r"""Number of 4-cycles (squares), not necessarily induced.

    A 4-cycle :math:`u - a - w - b - u` is determined by an opposite pair :math:`\{u, w\}` and
    two of their :math:`c_{uw} = (A^2)_{uw}` common neighbours, and each 4-cycle has two opposite
    pairs, so

    .. math:: Q = \frac12 \sum_{u < w} \binom{c_{uw}}{2},

    the definition CELL uses. (NetGAN's published code instead counts 4-cliques under this name.)

    Parameters
    ----------
    graph : Data, networkx.Graph, scipy sparse matrix, edge_index or path
        Anything :func:`graphwgan.to_graph` accepts, read as an undirected unweighted simple graph.

    Returns
    -------
    int
        The number of 4-cycles.

    Examples
    --------
    >>> import networkx as nx
    >>> square_count(nx.complete_graph(4)), square_count(nx.cycle_graph(4))
    (3, 1)
    """
    return _Simple(graph).walk_counts()[1]


def wedge_count(graph: Any) -> int:
    r"""Number of wedges (paths of length two), :math:`\sum_v \binom{d_v}{2}`.

    Parameters
    ----------
    graph : Data, networkx.Graph, scipy sparse matrix, edge_index or path
        Anything :func:`graphwgan.to_graph` accepts, read as an undirected unweighted simple graph.

    Returns
    -------
    int
        The number of wedges.

    Examples
    --------
    >>> import networkx as nx
    >>> wedge_count(nx.star_graph(4))
    6
    """
    return _wedge_count(_Simple(graph))


def _wedge_count(g: _Simple) -> int:
    d = g.degree
    return int((d * (d - 1) // 2).sum())


def claw_count(graph: Any) -> int:
    r"""Number of claws (3-stars), :math:`\sum_v \binom{d_v}{3}`.

    Parameters
    ----------
    graph : Data, networkx.Graph, scipy sparse matrix, edge_index or path
        Anything :func:`graphwgan.to_graph` accepts, read as an undirected unweighted simple graph.

    Returns
    -------
    int
        The number of claws.

    Examples
    --------
    >>> import networkx as nx
    >>> claw_count(nx.star_graph(4))
    4
    """
    return _claw_count(_Simple(graph))


def _claw_count(g: _Simple) -> int:
    d = g.degree
    return int((d * (d - 1) * (d - 2) // 6).sum())


def power_law_exponent(graph: Any, *, xmin: int | None = None) -> float:
    r"""Power-law exponent of the degree distribution, by continuous maximum likelihood.

    This is the estimator NetGAN and CELL report: ``powerlaw.Fit(degrees, xmin=max(min(degrees),
    1)).power_law.alpha`` of the ``powerlaw`` package, whose default is the *continuous* fit
    (Clauset, Shalizi & Newman 2009, eq. 3.1). Over the :math:`k` nodes with
    :math:`d_v \ge x_{\min}`,

    .. math:: \hat\alpha = 1 + k \Big/ \sum_{v:\, d_v \ge x_{\min}} \ln \frac{d_v}{x_{\min}},
              \qquad x_{\min} = \max(\min_v d_v,\ 1) \text{ by default.}

    The discrete approximation :math:`1 + k / \sum \ln(d_v / (x_{\min} - \tfrac12))` is *not*
    what those tables hold: on the Cora-ML CELL training graph it gives 1.537 where the published
    value, and this function, give 1.855.

    Parameters
    ----------
    graph : Data, networkx.Graph, scipy sparse matrix, edge_index or path
        Anything :func:`graphwgan.to_graph` accepts, read as an undirected unweighted simple graph.
    xmin : int, optional
        Smallest degree included in the fit (a positive integer). Default: the smallest degree,
        but at least 1, as NetGAN and CELL choose it.

    Returns
    -------
    float
        :math:`\hat\alpha`; ``inf`` when every included degree equals :math:`x_{\min}` (all
        log-ratios are zero, e.g. a regular graph).

    Raises
    ------
    ValueError
        If the graph has no edges, ``xmin`` is not positive, or no degree reaches ``xmin``.

    Examples
    --------
    >>> import networkx as nx
    >>> round(power_law_exponent(nx.star_graph(4)), 4)  # degrees 4, 1, 1, 1, 1: 1 + 5 / ln 4
    4.6067
    """
    if xmin is not None:
        xmin = check_int(xmin, "xmin", "power_law_exponent", minimum=1)
    return _power_law_exponent(_Simple(graph), xmin)


def _power_law_exponent(g: _Simple, xmin: int | None = None) -> float:
    g.require_edges("power_law_exponent")
    d = g.degree
    if xmin is None:
        xmin = max(int(d.min()), 1)
    tail = d[d >= xmin].astype(np.float64)
    if tail.size == 0:
        raise ValueError(
            f"power_law_exponent: no node has degree >= xmin={xmin} (the maximum degree is "
            f"{int(d.max())}); choose a smaller xmin."
        )
    log_sum = float(np.log(tail / xmin).sum())
    if log_sum == 0.0:
        return math.inf
    return 1.0 + tail.size / log_sum


def gini_coefficient(graph: Any) -> float:
    r"""Gini coefficient of the degree sequence.

    With the degrees sorted increasingly, :math:`d_{(1)} \le \dots \le d_{(n)}`, over all
    :math:`n` nodes (isolated ones included),

    .. math:: G = \frac{2 \sum_{i=1}^{n} i\, d_{(i)}}{n \sum_i d_{(i)}} - \frac{n + 1}{n},

    0 for equal degrees and close to 1 when a few nodes hold all edges. This is CELL's formula;
    NetGAN's code numbers the ranks from 0, which lowers the value by :math:`2/n`.

    Parameters
    ----------
    graph : Data, networkx.Graph, scipy sparse matrix, edge_index or path
        Anything :func:`graphwgan.to_graph` accepts, read as an undirected unweighted simple graph.

    Returns
    -------
    float
        :math:`G \in [0, 1)`.

    Raises
    ------
    ValueError
        If the graph has no edges (all degrees zero).

    Examples
    --------
    >>> import networkx as nx
    >>> round(gini_coefficient(nx.cycle_graph(5)), 12)
    0.0
    """
    return _gini_coefficient(_Simple(graph))


def _gini_coefficient(g: _Simple) -> float:
    g.require_edges("gini_coefficient")
    d = np.sort(g.degree).astype(np.float64)
    n = d.size
    ranks = np.arange(1, n + 1, dtype=np.float64)
    return float(2.0 * np.dot(ranks, d) / (n * d.sum()) - (n + 1) / n)


def edge_distribution_entropy(graph: Any) -> float:
    r"""Relative edge distribution entropy of the degree sequence.

    .. math:: H_{\mathrm{er}} = -\frac{1}{\ln n} \sum_{v} \frac{d_v}{2m} \ln \frac{d_v}{2m},

    with :math:`0 \ln 0 = 0` for isolated nodes. It is 1 when all :math:`n` nodes have the same
    degree and falls as edges concentrate on few nodes. (NetGAN's code adds :math:`10^{-4}` to
    the degrees inside the logarithm, which changes the value in the fourth decimal or later.)

    Parameters
    ----------
    graph : Data, networkx.Graph, scipy sparse matrix, edge_index or path
        Anything :func:`graphwgan.to_graph` accepts, read as an undirected unweighted simple graph.

    Returns
    -------
    float
        :math:`H_{\mathrm{er}} \in (0, 1]`.

    Raises
    ------
    ValueError
        If the graph has no edges.

    Examples
    --------
    >>> import networkx as nx
    >>> round(edge_distribution_entropy(nx.cycle_graph(6)), 12)
    1.0
    """
    return _edge_distribution_entropy(_Simple(graph))


def _edge_distribution_entropy(g: _Simple) -> float:
    g.require_edges("edge_distribution_entropy")
    d = g.degree[g.degree > 0].astype(np.float64)
    p = d / d.sum()
    return float(-np.dot(p, np.log(p)) / np.log(g.num_nodes))


def largest_component_size(graph: Any) -> int:
    """Number of nodes in the largest connected component.

    Parameters
    ----------
    graph : Data, networkx.Graph, scipy sparse matrix, edge_index or path
        Anything :func:`graphwgan.to_graph` accepts, read as an undirected unweighted simple graph.

    Returns
    -------
    int
        The size of the largest component (1 for a graph without edges).

    Examples
    --------
    >>> import networkx as nx
    >>> largest_component_size(nx.disjoint_union(nx.path_graph(3), nx.path_graph(5)))
    5
    """
    return _largest_component_size(_Simple(graph))


def _largest_component_size(g: _Simple) -> int:
    return int(np.bincount(g.components()[1]).max())


def clustering_coefficient(graph: Any) -> float:
    r"""Global clustering coefficient (transitivity), :math:`3 T / W`.

    :math:`T` is the number of triangles and :math:`W = \sum_v \binom{d_v}{2}` the number of
    wedges: the fraction of wedges that are closed. The same value as ``networkx.transitivity``
    and CELL's clustering coefficient. (NetGAN's code divides by the claw count instead.)

    Parameters
    ----------
    graph : Data, networkx.Graph, scipy sparse matrix, edge_index or path
        Anything :func:`graphwgan.to_graph` accepts, read as an undirected unweighted simple graph.

    Returns
    -------
    float
        :math:`3T/W \in [0, 1]`; 0.0 when there are no wedges (as networkx returns).

    Examples
    --------
    >>> import networkx as nx
    >>> clustering_coefficient(nx.complete_graph(5))
    1.0
    """
    return _clustering_coefficient(_Simple(graph))


def _clustering_coefficient(g: _Simple) -> float:
    wedges = _wedge_count(g)
    if wedges == 0:
        return 0.0
    return 3.0 * g.walk_counts()[0] / wedges


def characteristic_path_length(
    graph: Any,
    *,
    max_exact_nodes: int = 5000,
    num_sources: int = 1000,
    seed: int | None = 0,
) -> float:
    r"""Mean shortest-path length (in hops) between the nodes of the largest component.

    With :math:`C` the largest connected component and :math:`d(u, v)` the hop distance,

    .. math:: \mathrm{CPL} = \frac{1}{|C| (|C| - 1)} \sum_{u \in C} \sum_{v \in C,\, v \ne u} d(u, v).

    When :math:`|C| \le` ``max_exact_nodes`` it is computed exactly, by a breadth-first search
    from every node of :math:`C`. Otherwise ``num_sources`` distinct sources :math:`S` are drawn
    uniformly from :math:`C` (a local generator seeded with ``seed``) and

    .. math:: \widehat{\mathrm{CPL}} = \frac{1}{|S| (|C| - 1)} \sum_{u \in S} \sum_{v \ne u} d(u, v)

    is returned: an unbiased estimate, because every source has the same :math:`|C| - 1`
    targets. On a connected graph this is the characteristic path length of NetGAN and CELL,
    which average over all connected pairs of the whole graph instead of the largest component.

    Parameters
    ----------
    graph : Data, networkx.Graph, scipy sparse matrix, edge_index or path
        Anything :func:`graphwgan.to_graph` accepts, read as an undirected unweighted simple graph.
    max_exact_nodes : int, default 5000
        Largest component size computed exactly.
    num_sources : int, default 1000
        Number of sampled sources beyond that size (all nodes when it is at least :math:`|C|`).
    seed : int or None, default 0
        Seed of the local random generator that draws the sources (``None``: fresh entropy).

    Returns
    -------
    float
        The (estimated) characteristic path length.

    Raises
    ------
    ValueError
        If the graph has no edges, or an option is out of range.

    Examples
    --------
    >>> import networkx as nx
    >>> characteristic_path_length(nx.path_graph(3))  # pairs at distances 1, 1, 2
    1.3333333333333333
    """
    max_exact_nodes = check_int(max_exact_nodes, "max_exact_nodes", "characteristic_path_length", minimum=1)
    num_sources = check_int(num_sources, "num_sources", "characteristic_path_length", minimum=1)
    seed = check_seed(seed, "characteristic_path_length")
    return _characteristic_path_length(_Simple(graph), max_exact_nodes, num_sources, seed)


def _characteristic_path_length(g: _Simple, max_exact_nodes: int, num_sources: int, seed: int | None) -> float:
    from scipy.sparse.csgraph import shortest_path

    g.require_edges("characteristic_path_length")
    nodes = g.largest_component()
    size = nodes.size
    sub = g.adjacency[nodes][:, nodes].astype(np.float64)
    if size <= max_exact_nodes or num_sources >= size:
        sources = np.arange(size)
    else:
        sources = np.sort(np.random.default_rng(seed).choice(size, size=num_sources, replace=False))
    chunk = max(1, _DISTANCE_ENTRIES // size)
    total = 0.0
    for start in range(0, sources.size, chunk):
        distances = shortest_path(sub, method="D", directed=False, unweighted=True,
                                  indices=sources[start:start + chunk])
        total += float(distances.sum())
    return total / (sources.size * (size - 1))


def spectral_gap(graph: Any) -> float:
    r"""Spectral gap of the normalised Laplacian of the largest component.

    With :math:`C` the largest connected component, :math:`A_C` its adjacency and :math:`D_C`
    its degree matrix, the normalised Laplacian is
    :math:`\mathcal{L} = I - D_C^{-1/2} A_C D_C^{-1/2}`, with eigenvalues
    :math:`0 = \lambda_1 < \lambda_2 \le \dots \le \lambda_{|C|} \le 2`. The spectral gap is

    .. math:: \lambda_2(\mathcal{L}) = 1 - \mu_2(D_C^{-1} A_C),

    one minus the second-largest eigenvalue of the random-walk transition matrix: it sets how
    fast a random walk on :math:`C` mixes, and is scale-free, so graphs of different density
    compare. Neither NetGAN nor CELL reports a spectral gap; this is graphwgan's choice over the
    adjacency gap :math:`\lambda_1(A) - \lambda_2(A)`, which grows with the degrees. Components
    of up to :data:`DENSE_EIGEN_MAX_NODES` nodes are decomposed densely; larger ones use ARPACK
    (``scipy.sparse.linalg.eigsh``) from a fixed start vector, to about ``1e-10``.

    Parameters
    ----------
    graph : Data, networkx.Graph, scipy sparse matrix, edge_index or path
        Anything :func:`graphwgan.to_graph` accepts, read as an undirected unweighted simple graph.

    Returns
    -------
    float
        :math:`\lambda_2 \in (0, 2]`; ``n / (n - 1)`` for a complete graph on ``n`` nodes.

    Raises
    ------
    ValueError
        If the graph has no edges.

    Examples
    --------
    >>> import networkx as nx
    >>> round(spectral_gap(nx.cycle_graph(4)), 12)  # eigenvalues 0, 1, 1, 2
    1.0
    """
    return _spectral_gap(_Simple(graph))


def _spectral_gap(g: _Simple) -> float:
    import scipy.sparse as sp

    g.require_edges("spectral_gap")
    nodes = g.largest_component()
    sub = g.adjacency[nodes][:, nodes].astype(np.float64)
    scale = sp.diags_array(1.0 / np.sqrt(g.degree[nodes].astype(np.float64)))
    walk = (scale @ sub @ scale).tocsr()
    size = nodes.size
    if size <= DENSE_EIGEN_MAX_NODES:
        mu = np.linalg.eigvalsh(walk.toarray())
        second = float(mu[-2])
    else:
        from scipy.sparse.linalg import eigsh

        start = np.random.default_rng(0).random(size) + 0.5
        mu = eigsh(walk, k=2, which="LA", v0=start, tol=1e-12, return_eigenvectors=False)
        second = float(np.min(mu))
    return max(0.0, 1.0 - second)


# ----------------------------------------------------------------------------------------------
# all statistics, tables and relative errors
# ----------------------------------------------------------------------------------------------


def graph_statistics(graph: Any, *, seed: int | None = 0, num_sources: int = 1000) -> dict[str, float | int]:
    r"""All graph statistics of this module, computed from one sparse adjacency.

    Parameters
    ----------
    graph : Data, networkx.Graph, scipy sparse matrix, edge_index or path
        Anything :func:`graphwgan.to_graph` accepts, read as an undirected unweighted simple graph.
    seed : int or None, default 0
        Seed for the sampled sources of :func:`characteristic_path_length` (used only when the
        largest component has more than 5,000 nodes).
    num_sources : int, default 1000
        Sources sampled by :func:`characteristic_path_length` beyond 5,000 nodes. Each is one
        shortest-path search over the largest component, the only statistic here whose cost is
        not about one pass over the edges: on a random graph with :math:`10^5` nodes and
        :math:`3 \cdot 10^5` edges the default took 41 s on one CPU core, the rest 3 s.

    Returns
    -------
    dict
        ``max_degree``, ``assortativity``, ``triangle_count``, ``square_count``,
        ``wedge_count``, ``claw_count``, ``power_law_exponent``, ``gini_coefficient``,
        ``edge_distribution_entropy``, ``largest_component_size``, ``clustering_coefficient``,
        ``characteristic_path_length`` and ``spectral_gap``, with the definitions of the
        functions of the same names (counts as ``int``, the rest as ``float``).

    Raises
    ------
    ValueError
        If the graph has no edges (several statistics are then undefined).

    Examples
    --------
    >>> import networkx as nx
    >>> stats = graph_statistics(nx.karate_club_graph())
    >>> stats["max_degree"], stats["triangle_count"]
    (17, 45)
    """
    seed = check_seed(seed, "graph_statistics")
    num_sources = check_int(num_sources, "num_sources", "graph_statistics", minimum=1)
    g = _Simple(graph)
    g.require_edges("graph_statistics")
    triangles, squares = g.walk_counts()
    return {
        "max_degree": _max_degree(g),
        "assortativity": _assortativity(g, "graph_statistics"),
        "triangle_count": triangles,
        "square_count": squares,
        "wedge_count": _wedge_count(g),
        "claw_count": _claw_count(g),
        "power_law_exponent": _power_law_exponent(g),
        "gini_coefficient": _gini_coefficient(g),
        "edge_distribution_entropy": _edge_distribution_entropy(g),
        "largest_component_size": _largest_component_size(g),
        "clustering_coefficient": _clustering_coefficient(g),
        "characteristic_path_length": _characteristic_path_length(g, 5000, num_sources, seed),
        "spectral_gap": _spectral_gap(g),
    }


def statistics_table(rows: Mapping[str, Mapping[str, Any]], *, digits: int = 4, label: str = "graph") -> str:
    """Format statistics of several graphs as a markdown table, one row per graph.

    Parameters
    ----------
    rows : mapping of str to mapping of str to number
        Graph name -> statistics (e.g. from :func:`graph_statistics`). The columns are the
        statistic names in order of first appearance; a statistic a graph lacks is left blank.
    digits : int, default 4
        Significant digits of floats (integers are written in full).
    label : str, default "graph"
        Header of the first column (the row names).

    Returns
    -------
    str
        The table, one line per row, ending without a newline.

    Raises
    ------
    TypeError
        If ``rows`` is not a mapping of mappings.
    ValueError
        If ``rows`` is empty.

    Examples
    --------
    >>> print(statistics_table({"a": {"max_degree": 3, "gini_coefficient": 0.123456}}))
    | graph | max_degree | gini_coefficient |
    |---|---:|---:|
    | a | 3 | 0.1235 |
    """
    if not isinstance(rows, Mapping):
        raise TypeError(
            f"statistics_table: rows must be a dict of graph name -> statistics, got {type(rows).__name__}."
        )
    if not rows:
        raise ValueError("statistics_table: rows is empty; give at least one graph's statistics.")
    digits = check_int(digits, "digits", "statistics_table", minimum=1)
    columns: list[str] = []
    for name, stats in rows.items():
        if not isinstance(stats, Mapping):
            raise TypeError(
                f"statistics_table: the statistics of row {name!r} must be a dict, got {type(stats).__name__}."
            )
        columns.extend(key for key in stats if key not in columns)
    lines = [
        f"| {label} | " + " | ".join(str(c) for c in columns) + " |",
        "|---|" + "---:|" * len(columns),
    ]
    for name, stats in rows.items():
        cells = [_format_cell(stats[c], digits) if c in stats else "" for c in columns]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _format_cell(value: Any, digits: int) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return f"{float(value):.{digits}g}"
    return str(value)


def relative_errors(stats: Mapping[str, Any], reference: Mapping[str, Any]) -> dict[str, float]:
    r"""Relative error of each statistic against a reference, :math:`|s - r| / |r|`.

    Parameters
    ----------
    stats : mapping of str to number
        Statistics of a generated graph (e.g. from :func:`graph_statistics`).
    reference : mapping of str to number
        Statistics of the reference graph. Every one of its keys must be in ``stats``.

    Returns
    -------
    dict
        For each key of ``reference``: :math:`|s - r| / |r|`. Special cases: 0.0 when
        :math:`s = r` (infinities included); ``inf`` when :math:`r = 0 \ne s` or :math:`s` alone
        is infinite; ``nan`` (undefined) when either value is ``nan`` or :math:`r` alone is
        infinite.

    Raises
    ------
    TypeError
        If an argument is not a mapping or holds a non-numeric value.
    ValueError
        If ``stats`` lacks keys of ``reference``.

    Examples
    --------
    >>> relative_errors({"max_degree": 90, "triangle_count": 0}, {"max_degree": 100, "triangle_count": 0})
    {'max_degree': 0.1, 'triangle_count': 0.0}
    """
    for arg, label in ((stats, "stats"), (reference, "reference")):
        if not isinstance(arg, Mapping):
            raise TypeError(
                f"relative_errors: {label} must be a dict of statistic name -> value, got {type(arg).__name__}."
            )
    missing = [key for key in reference if key not in stats]
    if missing:
        raise ValueError(
            f"relative_errors: stats lacks {missing}, which the reference has; compute the same statistics for both."
        )
    out = {}
    for key, ref in reference.items():
        s, r = _as_real(stats[key], f"stats[{key!r}]"), _as_real(ref, f"reference[{key!r}]")
        if math.isnan(s) or math.isnan(r):
            out[key] = math.nan
        elif s == r:
            out[key] = 0.0
        elif math.isinf(r):
            out[key] = math.nan
        elif r == 0.0 or math.isinf(s):
            out[key] = math.inf
        else:
            out[key] = abs(s - r) / abs(r)
    return out


def mean_relative_error(
    stats: Mapping[str, Any], reference: Mapping[str, Any], *, keys: list[str] | tuple[str, ...] | None = None
) -> float:
    r"""Mean of :func:`relative_errors` over the statistics.

    .. math:: \frac{1}{|K|} \sum_{k \in K} \frac{|s_k - r_k|}{|r_k|},

    where :math:`K` is ``keys`` (default: every key of ``reference``) less the statistics whose
    relative error is ``nan`` (undefined on either graph, e.g. the assortativity of a regular
    graph).

    Parameters
    ----------
    stats, reference : mapping of str to number
        As in :func:`relative_errors`.
    keys : sequence of str, optional
        The statistics to average.

    Returns
    -------
    float
        The mean relative error (``inf`` if any included error is infinite).

    Raises
    ------
    ValueError
        If a key is missing from either mapping, or no statistic is left to average.

    Examples
    --------
    >>> mean_relative_error({"a": 1.5, "b": 2.0}, {"a": 1.0, "b": 2.0})
    0.25
    """
    if keys is not None:
        if isinstance(keys, str) or not all(isinstance(k, str) for k in keys):
            raise TypeError(f"mean_relative_error: keys must be a list of statistic names, got {keys!r}.")
        if not isinstance(reference, Mapping):
            raise TypeError(f"mean_relative_error: reference must be a dict, got {type(reference).__name__}.")
        absent = [k for k in keys if k not in reference]
        if absent:
            raise ValueError(f"mean_relative_error: the reference lacks {absent}; choose keys among {list(reference)}.")
        reference = {k: reference[k] for k in keys}
    errors = [e for e in relative_errors(stats, reference).values() if not math.isnan(e)]
    if not errors:
        raise ValueError("mean_relative_error: no statistic with a defined relative error to average.")
    return float(np.mean(errors))


# ----------------------------------------------------------------------------------------------
# comparisons of two graphs
# ----------------------------------------------------------------------------------------------


def edge_overlap(generated: Any, reference: Any) -> float:
    r"""Fraction of the reference graph's edges that the generated graph also has.

    .. math:: \mathrm{EO} = \frac{|E_{\mathrm{gen}} \cap E_{\mathrm{ref}}|}{|E_{\mathrm{ref}}|},

    over undirected edges, with node ``i`` of one graph identified with node ``i`` of the other.
    In the NetGAN/CELL protocol both graphs have the same number of edges and the reference is
    the training graph.

    Parameters
    ----------
    generated, reference : Data, networkx.Graph, scipy sparse matrix, edge_index or path
        Anything :func:`graphwgan.to_graph` accepts, read as undirected unweighted simple graphs
        on the same node set.

    Returns
    -------
    float
        EO in :math:`[0, 1]`.

    Raises
    ------
    ValueError
        If the graphs have different numbers of nodes, or the reference has no edges.

    Examples
    --------
    >>> import networkx as nx
    >>> edge_overlap(nx.path_graph(4), nx.cycle_graph(4))
    0.75
    """
    gen, ref = _Simple(generated), _Simple(reference)
    _check_same_nodes(gen, ref, "edge_overlap")
    if ref.num_edges == 0:
        raise ValueError("edge_overlap: the reference graph has no edges, so the overlap is undefined.")
    common = np.intersect1d(gen.upper_edges(), ref.upper_edges(), assume_unique=True)
    return common.size / ref.num_edges


def degree_wasserstein(generated: Any, reference: Any) -> float:
    r"""Exact W1 between the degree distributions of two graphs, on the reference graph.

    Each graph defines the node distribution :math:`p(v) = d_v / 2m` (where a random walk
    sits at stationarity). With :math:`d_{\mathrm{ref}}` the hop (shortest-path) metric of the
    reference graph,

    .. math:: \mathrm{DW} = W_1(p_{\mathrm{gen}}, p_{\mathrm{ref}};\ d_{\mathrm{ref}}),

    computed exactly by :func:`graphwgan.wasserstein`: the mean number of hops the degree mass
    of the generated graph has to travel along the reference graph to match the reference's.

    Parameters
    ----------
    generated, reference : Data, networkx.Graph, scipy sparse matrix, edge_index or path
        Anything :func:`graphwgan.to_graph` accepts, read as undirected unweighted simple graphs
        on the same node set (node ``i`` is the same node in both).

    Returns
    -------
    float
        DW, 0 when the two graphs have the same degrees.

    Raises
    ------
    ValueError
        If the graphs have different numbers of nodes, either has no edges, or the reference
        graph is disconnected and the generated graph puts a different share of its degree
        mass on some reference component (the distance is then infinite).

    Examples
    --------
    >>> import networkx as nx
    >>> degree_wasserstein(nx.star_graph(3), nx.star_graph(3))
    0.0
    """
    from graphwgan.ot.wasserstein import wasserstein

    gen, ref = _Simple(generated), _Simple(reference)
    _check_same_nodes(gen, ref, "degree_wasserstein")
    for g, label in ((gen, "generated"), (ref, "reference")):
        if g.num_edges == 0:
            raise ValueError(f"degree_wasserstein: the {label} graph has no edges, so it has no degree distribution.")
    mu = gen.degree / (2.0 * gen.num_edges)
    nu = ref.degree / (2.0 * ref.num_edges)
    count, labels = ref.components()
    if count > 1:
        gap = np.abs(np.bincount(labels, weights=mu - nu, minlength=count))
        if gap.max() > 1e-9:
            worst = int(np.argmax(gap))
            raise ValueError(
                f"degree_wasserstein: the reference graph has {count} connected components and the "
                f"generated graph puts {float(np.bincount(labels, weights=mu)[worst]):.4g} of its degree "
                f"mass on one of them where the reference puts {float(np.bincount(labels, weights=nu)[worst]):.4g}; "
                "W1 is infinite. Compare on a connected reference (e.g. its largest component)."
            )
    from graphwgan.graph import to_graph

    edge_index = ref.adjacency.tocoo()
    ground = to_graph(np.stack([edge_index.row, edge_index.col]).astype(np.int64), num_nodes=ref.num_nodes)
    return float(wasserstein(ground, mu, nu).distance)


def _check_same_nodes(gen: _Simple, ref: _Simple, name: str) -> None:
    if gen.num_nodes != ref.num_nodes:
        raise ValueError(
            f"{name}: the generated graph has {gen.num_nodes} nodes but the reference has "
            f"{ref.num_nodes}; both must be on the same node set (for an edge_index, pass "
            f"graphwgan.to_graph(edge_index, num_nodes={ref.num_nodes}))."
        )


def _as_real(value: Any, label: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"relative_errors: {label} must be a real number, got {value!r}.")
    return float(value)
