r"""Exact Wasserstein-1 for many pairs of small-support distributions, each solved locally.

For node masses :math:`\mu, \nu` of equal total, :math:`W_1` depends only on :math:`\mu - \nu`:
mass held by both cancels, and

.. math::

    W_1(\mu, \nu) = \min_{\pi \ge 0} \sum_{x \in X, y \in Y} \pi_{xy}\, d(x, y)
    \ \text{ s.t. } \ \pi \mathbf{1} = p,\ \pi^\top \mathbf{1} = q,

with :math:`p = (\mu - \nu)^+` on :math:`X = \{p > 0\}` and :math:`q = (\mu - \nu)^-` on
:math:`Y = \{q > 0\}` (:math:`X \cap Y = \emptyset`). Only the :math:`|X| \times |Y|` block of
the shortest-path metric :math:`d` enters, so a pair whose supports are small is a small dense
transport problem, whatever the size of the graph.

**Why a limited search is exact.** Let :math:`R \ge \max_{x \in X, y \in Y} d(x, y)` (a
*radius* for the pair). Every node :math:`z` on a shortest path from :math:`x` to :math:`y`
satisfies :math:`d(x, z) \le d(x, y) \le R`, so the whole path lies in the ball
:math:`B(x, R)`, and a Dijkstra search from :math:`x` that never settles a node beyond
:math:`R` (scipy's ``limit``) settles every :math:`y \in Y` at its exact distance: the union
of the balls :math:`B(x, R)`, :math:`x \in X`, keeps every shortest path between the two
supports. A ``radius`` that is too small is detected (some :math:`d(x, y)` stays infinite) and
reported as an error, never turned into a wrong value.

**Shared work.** The pairs are processed in chunks; within a chunk each distinct source node
is searched once, in one call to ``scipy.sparse.csgraph.dijkstra`` (a BFS for unit lengths),
and each pair reads its cost block from those rows. A pair with one point on either side has
the closed form :math:`\sum_y q_y d(x, y)`; the others are solved by POT's network simplex on
the block.

**Certificate.** Every solved pair is checked from first principles: the plan's marginals, the
dual constraints :math:`a_x + b_y \le d(x, y)` on the whole block and the duality gap, with
tolerances derived from the block's size and magnitudes (a few units in the last place of the
sums involved). A failure raises instead of returning a wrong number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["LocalWassersteinResult", "wasserstein_local"]

# distance rows held at once: (distinct sources in a chunk) x (nodes)
_ROW_BUDGET = 10_000_000
# cost entries of the pairs gathered at once
_PAIR_BUDGET = 4_000_000
_EPS = np.finfo(np.float64).eps


@dataclass(frozen=True)
class LocalWassersteinResult:
    r"""Exact :math:`W_1` for ``k`` pairs of node distributions solved on local blocks.

    Attributes
    ----------
    distance : ndarray, shape ``(k,)``
        :math:`W_1(\mu_i, \nu_i)` for each pair.
    duality_gap : ndarray, shape ``(k,)``
        The certified gap ``|primal - dual|`` of each pair's solution (zero for closed forms).
    support_size : ndarray, shape ``(k, 2)``
        ``|X|`` and ``|Y|``: the points with net excess and net deficit after cancelling mass
        common to both distributions.
    """

    distance: np.ndarray
    duality_gap: np.ndarray
    support_size: np.ndarray


def wasserstein_local(graph: Any, mu: Any, nu: Any, *, radius: Any = None,
                      verbose: bool | None = False) -> LocalWassersteinResult:
    r"""Exact Wasserstein-1 distances for ``k`` pairs of distributions with small supports.

    Each pair is solved on the block of the shortest-path metric between its net excess and net
    deficit points (see the module docstring for the proof that the limited searches are exact).
    Memory stays within about ``10**7`` distance entries at a time, and no ``(k, |E|)`` or
    ``|V| x |V|`` array is ever formed.

    Parameters
    ----------
    graph : Data, networkx.Graph, scipy sparse matrix, edge_index or path
        Anything :func:`graphwgan.to_graph` accepts; edge weights are lengths.
    mu, nu : scipy sparse matrix or array-like, shape ``(k, n)``
        One distribution per row (non-negative, finite, equal totals per row). Sparse rows keep
        the work proportional to the supports.
    radius : float or array-like of shape ``(k,)``, optional
        An upper bound on :math:`d(x, y)` between the support points of each pair; the searches
        stop there. ``None`` searches each source's whole component (exact, slower on large
        graphs).
    verbose : bool or None, default False
        Show a progress bar over the pairs; ``None`` shows it when standard error is a terminal.

    Returns
    -------
    LocalWassersteinResult

    Raises
    ------
    ValueError
        Rows of the wrong length or count, negative / NaN / infinite masses, different totals in a
        pair, a pair whose supports lie in different connected components (the components are
        named), or a ``radius`` smaller than some distance it must cover.

    Examples
    --------
    >>> import numpy as np, networkx as nx
    >>> mu = np.array([[1.0, 0, 0, 0], [0.5, 0.5, 0, 0]])
    >>> nu = np.array([[0, 0, 0, 1.0], [0, 0, 0.5, 0.5]])
    >>> wasserstein_local(nx.path_graph(4), mu, nu).distance.tolist()
    [3.0, 2.0]
    """
    import scipy.sparse as sp

    from graphwgan.graph import num_components, to_graph, undirected_edges

    data = to_graph(graph, keep_attributes=False)
    n = int(data.num_nodes)
    excess = _excess_rows(mu, nu, n)
    k = excess.shape[0]
    uv, weight = undirected_edges(data)
    unit = bool(weight.size == 0 or np.all(weight == 1.0))
    adjacency = sp.csr_array((np.r_[weight, weight], (np.r_[uv[0], uv[1]], np.r_[uv[1], uv[0]])), shape=(n, n))
    _, component = num_components(data)
    limits = _radii(radius, k)
    return _solve_rows(adjacency, component, excess, limits, unit, verbose)


def _excess_rows(mu: Any, nu: Any, n: int):
    """``mu - nu`` as a CSR matrix of shape ``(k, n)`` after validating both."""
    import scipy.sparse as sp

    rows = []
    for name, value in (("mu", mu), ("nu", nu)):
        if sp.issparse(value):
            matrix = sp.csr_array(value, dtype=np.float64, copy=True)
        else:
            try:
                dense = np.array(value, dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise TypeError(f"{name} must be a sparse matrix or an array of numbers: {exc}") from None
            if dense.ndim == 1:
                dense = dense[None]
            if dense.ndim != 2:
                raise ValueError(f"{name} must have shape (k, {n}), got {dense.shape}")
            matrix = sp.csr_array(dense)
        if matrix.shape[1] != n:
            raise ValueError(
                f"{name} has {matrix.shape[1]} columns but the graph has {n} nodes; give one mass per node"
            )
        values = matrix.data
        if not np.all(np.isfinite(values)):
            raise ValueError(f"{name} holds NaN or infinite masses")
        if np.any(values < 0):
            raise ValueError(f"{name} holds negative masses; masses must be non-negative")
        rows.append(matrix)
    mu_m, nu_m = rows
    if mu_m.shape[0] != nu_m.shape[0]:
        raise ValueError(f"mu has {mu_m.shape[0]} rows but nu has {nu_m.shape[0]}; give one row per pair")
    if mu_m.shape[0] == 0:
        raise ValueError("wasserstein_local needs at least one pair (mu and nu have 0 rows)")
    mu_total = np.asarray(mu_m.sum(axis=1)).ravel()
    nu_total = np.asarray(nu_m.sum(axis=1)).ravel()
    off = np.abs(mu_total - nu_total) > 1e-9 * np.maximum(np.maximum(mu_total, nu_total), np.finfo(float).tiny)
    if off.any():
        row = int(np.argmax(off))
        raise ValueError(
            f"mu and nu must have the same total mass (pair {row}): {mu_total[row]!r} vs {nu_total[row]!r}; "
            "normalise both"
        )
    excess = (mu_m - nu_m).tocsr()
    excess.eliminate_zeros()
    excess.sort_indices()
    return excess


def _radii(radius: Any, k: int) -> np.ndarray:
    if radius is None:
        return np.full(k, np.inf)
    limits = np.broadcast_to(np.asarray(radius, dtype=np.float64), (k,)).copy() if np.ndim(radius) == 0 else \
        np.asarray(radius, dtype=np.float64).copy()
    if limits.shape != (k,):
        raise ValueError(f"radius must be a number or have one entry per pair ({k}), got shape {limits.shape}")
    if np.any(np.isnan(limits)) or np.any(limits < 0):
        raise ValueError("radius must be non-negative (an upper bound on the distances between support points)")
    # a hair above the bound, so that float rounding in the search never cuts off a node at exactly R
    return limits * (1.0 + 1e-12) + 1e-300


def _solve_rows(adjacency, component: np.ndarray, excess, limits: np.ndarray, unit: bool,
                verbose: bool | None) -> LocalWassersteinResult:
    import sys

    from scipy.sparse.csgraph import dijkstra
    from tqdm.auto import tqdm

    n = adjacency.shape[0]
    k = excess.shape[0]
    indptr, indices, values = excess.indptr, excess.indices, excess.data
    is_source = values > 0
    entry_row = np.repeat(np.arange(k), np.diff(indptr))
    # the supports of every pair, flat and in row order: X (excess) and Y (deficit)
    x_row, y_row = entry_row[is_source], entry_row[~is_source]
    flat = _Supports(
        x=indices[is_source], y=indices[~is_source], p=values[is_source], q=-values[~is_source],
        x_row=x_row, y_row=y_row,
        x_count=np.bincount(x_row, minlength=k), y_count=np.bincount(y_row, minlength=k),
    )
    # totals agree to 1e-9 relative: the rounding moves onto q
    p_total = np.bincount(x_row, weights=flat.p, minlength=k)
    q_total = np.bincount(y_row, weights=flat.q, minlength=k)
    flat.q *= np.divide(p_total, q_total, out=np.ones(k), where=q_total > 0)[y_row]
    flat.x_start = np.r_[0, np.cumsum(flat.x_count)]
    flat.y_start = np.r_[0, np.cumsum(flat.y_count)]
    pairs = flat.x_count * flat.y_count

    distance = np.zeros(k)
    gap = np.zeros(k)
    show = sys.stderr.isatty() if verbose is None else bool(verbose)
    per_chunk = max(1, _ROW_BUDGET // max(n, 1))
    position = np.full(n, -1, dtype=np.int64)
    bar = tqdm(total=k, desc="W1", unit="pair", disable=not show, file=sys.stderr, leave=False)
    all_sources = np.unique(flat.x)
    start = 0
    while start < k:
        if start == 0 and all_sources.size <= per_chunk:
            stop, source_nodes = k, all_sources  # one search per distinct source for every pair
        else:
            stop, source_nodes = _source_chunk(flat, start, k, per_chunk, position)
        position[source_nodes] = np.arange(source_nodes.size)
        limit = float(limits[start:stop].max())
        rows = dijkstra(adjacency, directed=False, indices=source_nodes, limit=limit, unweighted=unit) \
            if source_nodes.size else np.empty((0, n))
        first = start
        while first < stop:  # blocks of pairs, at most _PAIR_BUDGET cost entries at a time
            last = first + 1 + int(np.searchsorted(np.cumsum(pairs[first + 1:stop]), _PAIR_BUDGET - pairs[first]))
            last = min(last, stop)
            _solve_pairs(flat, rows, position, first, last, distance, gap, component, limits)
            bar.update(last - first)
            first = last
        position[source_nodes] = -1
        start = stop
    bar.close()
    sizes = np.stack([flat.x_count, flat.y_count], axis=1)
    return LocalWassersteinResult(distance, gap, sizes)


@dataclass
class _Supports:
    """Flat supports of all pairs: ``x`` (excess nodes, masses ``p``) and ``y`` (deficit, ``q``)."""

    x: np.ndarray
    y: np.ndarray
    p: np.ndarray
    q: np.ndarray
    x_row: np.ndarray
    y_row: np.ndarray
    x_count: np.ndarray
    y_count: np.ndarray
    x_start: np.ndarray | None = None
    y_start: np.ndarray | None = None


def _source_chunk(flat: _Supports, start: int, k: int, per_chunk: int, position: np.ndarray):
    """Rows ``start:stop`` whose distinct sources fit ``per_chunk`` (at least one row)."""
    stop, sources, marked = start, [], 0
    while stop < k:
        row_sources = flat.x[flat.x_start[stop]:flat.x_start[stop + 1]]
        new = row_sources[position[row_sources] < 0]
        if marked + new.size > per_chunk and stop > start:
            break
        position[new] = np.arange(marked, marked + new.size)  # marks them as taken
        marked += new.size
        sources.append(new)
        stop += 1
    source_nodes = np.concatenate(sources) if sources else np.empty(0, dtype=np.int64)
    position[source_nodes] = -1
    return stop, source_nodes


def _solve_pairs(flat: _Supports, rows: np.ndarray, position: np.ndarray, first: int, last: int,
                 distance: np.ndarray, gap: np.ndarray, component: np.ndarray, limits: np.ndarray) -> None:
    """Solve pairs ``first:last``, certified.

    The cost blocks are gathered at once, closed forms are vectorised, the other blocks go through
    the network simplex one at a time, and all of them are certified at once.
    """
    nx_, ny_ = flat.x_count[first:last], flat.y_count[first:last]
    count = nx_ * ny_
    if not count.any():
        return
    local_row = np.repeat(np.arange(last - first), count)
    offset = np.r_[0, np.cumsum(count)]
    within = np.arange(offset[-1]) - offset[local_row]
    columns = ny_[local_row]
    xi = flat.x_start[first + local_row] + within // columns  # index into the flat X arrays
    yj = flat.y_start[first + local_row] + within % columns
    cost = rows[position[flat.x[xi]], flat.y[yj]]
    if not np.all(np.isfinite(cost)):
        bad = int(np.flatnonzero(~np.isfinite(cost))[0])
        row = first + int(local_row[bad])
        _raise_unreached(row, int(flat.x[xi[bad]]), int(flat.y[yj[bad]]), component, limits[row])
    # one point on a side: everything moves to (or from) it
    simple = (nx_ == 1) | (ny_ == 1)
    weight = np.where(nx_[local_row] == 1, flat.q[yj], flat.p[xi])
    closed = np.bincount(local_row, weights=cost * weight, minlength=last - first)
    distance[first:last] = np.where(simple, closed, 0.0)
    hard = np.flatnonzero(~simple & (count > 0))
    if hard.size == 0:
        return
    plan = np.zeros(offset[-1])
    a = np.zeros(flat.x.size)
    b = np.zeros(flat.y.size)
    rows = first + hard
    bounds = zip(rows.tolist(), flat.x_start[rows].tolist(), flat.x_start[rows + 1].tolist(),
                 flat.y_start[rows].tolist(), flat.y_start[rows + 1].tolist(), offset[hard].tolist(),
                 offset[hard + 1].tolist(), strict=True)
    p, q = flat.p, flat.q
    for row, xs, xe, ys, ye, cs, ce in bounds:
        block_plan, a[xs:xe], b[ys:ye], code = _network_simplex(p[xs:xe], q[ys:ye],
                                                                cost[cs:ce].reshape(xe - xs, ye - ys))
        if code != 1:
            raise RuntimeError(f"the network simplex did not reach an optimum on pair {row} (result code {code})")
        plan[cs:ce] = block_plan.ravel()
    _certify_blocks(flat, first, last, hard, local_row, offset, xi, yj, cost, plan, a, b, distance, gap)


def _certify_blocks(flat: _Supports, first: int, last: int, hard: np.ndarray, local_row, offset, xi, yj, cost,
                    plan, a, b, distance, gap) -> None:
    """Certify every network-simplex block at once and store its value.

    Per block: dual feasibility ``a_x + b_y <= d(x, y)`` on the whole block, the plan's marginals,
    and the duality gap, within a few units in the last place of the sums involved
    (``8 (|X| + |Y|) eps`` relative to the block's magnitudes).
    """
    size = last - first
    starts = offset[hard]
    primal = np.add.reduceat(plan * cost, starts)
    slack = np.maximum.reduceat(a[xi] + b[yj] - cost, starts)
    cost_max = np.maximum.reduceat(cost, starts)
    rows = first + hard
    # the supports of rows first:last are contiguous in the flat arrays
    x0, x1 = flat.x_start[first], flat.x_start[last]
    y0, y1 = flat.y_start[first], flat.y_start[last]
    xr, yr = flat.x_row[x0:x1] - first, flat.y_row[y0:y1] - first
    p, q, a, b = flat.p[x0:x1], flat.q[y0:y1], a[x0:x1], b[y0:y1]
    dual = (np.bincount(xr, weights=a * p, minlength=size) + np.bincount(yr, weights=b * q, minlength=size))[hard]
    a_max = np.zeros(size)
    b_max = np.zeros(size)
    np.maximum.at(a_max, xr, np.abs(a))
    np.maximum.at(b_max, yr, np.abs(b))
    row_sum = np.bincount(xi - x0, weights=plan, minlength=x1 - x0)
    col_sum = np.bincount(yj - y0, weights=plan, minlength=y1 - y0)
    x_err = np.zeros(size)
    y_err = np.zeros(size)
    np.maximum.at(x_err, xr, np.abs(row_sum - p))
    np.maximum.at(y_err, yr, np.abs(col_sum - q))
    total = np.bincount(xr, weights=p, minlength=size)[hard]
    magnitude = cost_max + a_max[hard] + b_max[hard]
    tol = 8.0 * (flat.x_count[rows] + flat.y_count[rows]) * _EPS
    block_gap = np.abs(primal - dual)
    marginal = np.maximum(x_err[hard], y_err[hard])
    bad = (slack > tol * magnitude) | (marginal > tol * total) | (block_gap > tol * total * magnitude)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise RuntimeError(
            f"the local transport of pair {int(rows[i])} fails its optimality certificate (dual violation "
            f"{slack[i]:.3g}, marginal error {marginal[i]:.3g}, duality gap {block_gap[i]:.3g}); this is a bug in "
            "graphwgan, please report it with the graph and masses"
        )
    distance[rows] = primal
    gap[rows] = block_gap


def _raise_unreached(row: int, x: int, y: int, component, limit) -> None:
    if component[x] != component[y]:
        raise ValueError(
            f"pair {row} has mass in connected components {int(component[x])} (node {x}) and "
            f"{int(component[y])} (node {y}) that does not balance within each component; no path joins "
            "them, so W1 is infinite. Compare distributions within one component"
        )
    raise ValueError(
        f"radius {float(limit):.6g} of pair {row} is smaller than the distance between support nodes {x} and {y}; "
        "give an upper bound on the distances between the support points, or radius=None"
    )


def _network_simplex(p: np.ndarray, q: np.ndarray, cost: np.ndarray):
    """POT's network simplex on a dense block: ``(plan, dual_rows, dual_cols, result_code)``.

    Calls POT's compiled solver directly when it is there (``ot.emd``'s wrapper costs several
    hundred microseconds per call, more than the solve of a typical curvature block), else
    ``ot.emd``. Result code 1 means optimal.
    """
    global _EMD_C
    if _EMD_C is None:
        try:
            from ot.lp.emd_wrap import emd_c
        except ImportError:  # pragma: no cover - other POT layouts
            emd_c = False
        _EMD_C = emd_c
    iterations = max(100_000, 50 * cost.size)
    if _EMD_C is not False:
        try:
            plan, _, a, b, code = _EMD_C(p, q, cost, iterations, 1)
            return plan, a, b, code
        except TypeError:  # pragma: no cover - a different signature
            _EMD_C = False
    import warnings

    import ot

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        plan, log = ot.emd(p, q, cost, numItermax=iterations, log=True)
    return plan, np.asarray(log["u"]), np.asarray(log["v"]), int(log.get("result_code", 0))


_EMD_C = None
