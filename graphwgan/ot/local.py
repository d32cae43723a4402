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
is searched once (one call to ``scipy.sparse.csgraph.dijkstra``; for unit lengths and a radius
of at most 8, a breadth-first search of all sources at once, level by level, by sparse
products with the adjacency pattern), and each pair reads its cost block from those rows. A
pair with one point on either side has the closed form :math:`\sum_y q_y d(x, y)`. The other
blocks are *reduced*: rows that differ by a constant on every column are merged, then columns
likewise (an exact identity of the transport problem, see :func:`_reduce`; on curvature blocks it
merges, for example, the leaves hanging off an endpoint). With unit lengths the rows and columns
are grouped by exact integer hashes (:func:`_group_integral`). Blocks of at most 4096 entries are
gathered, reduced and certified many at a time (flat arrays with offsets, in parts of about
262,144 entries, small enough for the processor's cache); a reduced block with one row or column,
or with two (:func:`_two_sides`), has a closed form, computed for all such blocks at once; the
others go to POT's network simplex. Larger blocks are handled one at a time. The simplex calls run
on several threads (``n_jobs``; POT releases the interpreter lock while it solves).

**Unit lengths.** Every cost is then a small integer, and the hard blocks first go, unreduced,
to a compiled primal-dual solver with integer potentials
(:mod:`graphwgan.ot._integer_transport`), many times faster than the simplex on such blocks
(polblogs' curvature: about 0.3 s on one thread instead of 3.8 s). Its results pass the same
certificate; a block that fails it (none has in the tests and benchmarks) takes the path above.

**Certificate.** Every solved pair is checked from first principles on its original block: the
dual constraints :math:`a_x + b_y \le d(x, y)` on every entry, the duality gap and the plan's
marginals, with tolerances derived from the block's size and magnitudes (a few units in the last
place of the sums involved). A reduced solution is certified without expanding its plan
(:func:`_check_reduced`): its value on the original costs comes from sums of the costs over pairs
of groups, and its marginal errors are bounded by the reduced plan's. A reduced block whose
solution fails (a hash collision) is solved again without reduction; a failure then raises
instead of returning a wrong number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["LocalWassersteinResult", "wasserstein_local"]

# distance rows held at once: (distinct sources in a chunk) x (nodes), float64 (eight times as many
# uint8 breadth-first levels: the same bytes)
_ROW_BUDGET = 10_000_000
# cost entries of the pairs gathered at once (about 2 MiB per float array: cache-sized)
_PAIR_BUDGET = 262_144
# hard blocks with more cost entries are gathered, solved and certified one at a time; those above
# _SORTED_SIMPLEX are batched only where the reductions shrink the blocks (see _solve_pairs)
_LARGE_BLOCK = 4096
# blocks with more entries go to the network simplex with rows and columns sorted (see _solve_sorted)
_SORTED_SIMPLEX = 1024
# unit lengths: searches by levels (sparse products) up to this radius, Dijkstra beyond
_BFS_MAX_RADIUS = 8
_UNREACHED = 255
# breadth-first levels (uint8) to distances: level k is distance k, _UNREACHED is infinite
_LEVEL_COST = np.where(np.arange(256) == _UNREACHED, np.inf, np.arange(256, dtype=np.float64))
_EPS = np.finfo(np.float64).eps
# unit lengths: the compiled primal-dual solver (graphwgan.ot._integer_transport) takes the hard
# blocks once they hold this many cost entries in all (every problem: its first call in a process
# costs about 0.4 s to load, less than importing POT for the simplex, and it is faster per block
# at every size measured), each block up to _INTEGER_MAX_BLOCK entries
_INTEGER_MIN_ENTRIES = 0
_INTEGER_MAX_BLOCK = 4_000_000
# hard cost entries in all below which the blocks are solved in the calling thread only
_POOL_MIN_ENTRIES = 65_536


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


def wasserstein_local(graph: Any, mu: Any, nu: Any, *, radius: Any = None, verbose: bool | None = False,
                      n_jobs: int | None = None) -> LocalWassersteinResult:
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
    n_jobs : int or None, default None
        Threads that solve blocks at the same time (POT's solver and the compiled one release the
        interpreter lock); ``None`` or ``-1`` uses every core available to the process, ``1``
        solves in the calling thread, as do problems too small to share (blocks of fewer than
        65,536 entries in all). The results do not depend on it.

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
    return _wasserstein_local(graph, mu, nu, radius, verbose, n_jobs)


def _wasserstein_local(graph: Any, mu: Any, nu: Any, radius: Any, verbose: bool | None, n_jobs: int | None,
                       proven: bool = False, supports: _Supports | None = None) -> LocalWassersteinResult:
    r""":func:`wasserstein_local`; ``proven=True`` when every ``radius`` is a proven bound.

    ``supports`` (the caller's :class:`_Supports` of ``mu - nu``, exactly as :func:`_flat_supports`
    would build them) replaces ``mu`` and ``nu``, which are then not read.

    A proven bound (:math:`d(x, y) \le R` for every support pair, as the triangle inequality gives
    for curvature) lets the level searches of unit lengths stop one level short: a node not reached
    within :math:`\lfloor R \rfloor - 1` levels is at distance at least :math:`\lfloor R \rfloor`,
    and at most :math:`R`, so exactly :math:`\lfloor R \rfloor` (distances are integers). The last
    level, the largest, is never searched. A wrong bound would give wrong values, not an error, so
    the public function never sets it.
    """
    import scipy.sparse as sp

    from graphwgan.graph import edge_arrays

    row, col, lengths, n = edge_arrays(graph)
    return _wasserstein_on(sp.csr_array((lengths, (row, col)), shape=(n, n)), mu, nu, radius, verbose, n_jobs,
                           proven, supports)


def _wasserstein_on(adjacency, mu: Any, nu: Any, radius: Any, verbose: bool | None, n_jobs: int | None,
                    proven: bool = False, supports: _Supports | None = None) -> LocalWassersteinResult:
    """:func:`_wasserstein_local` on the symmetric CSR matrix of edge lengths of the graph."""
    from scipy.sparse.csgraph import connected_components

    n = adjacency.shape[0]
    flat = _flat_supports(_excess_rows(mu, nu, n)) if supports is None else supports
    k = flat.x_count.size
    unit = bool(adjacency.nnz == 0 or np.all(adjacency.data == 1.0))
    limits = _radii(radius, k)
    workers = _workers(n_jobs)
    return _solve_rows(adjacency, flat, limits, unit, verbose, workers,
                       lambda: connected_components(adjacency, directed=False)[1], proven and radius is not None)


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


def _flat_supports(excess) -> _Supports:
    """The supports of every pair of ``excess`` (CSR, ``mu - nu``), flat and in row order.

    X (excess) and Y (deficit) in the order of the CSR rows; the totals agree to 1e-9 relative
    (checked by :func:`_excess_rows`) and the rounding moves onto ``q``.
    """
    k = excess.shape[0]
    indptr, indices, values = excess.indptr, excess.indices, excess.data
    is_source = values > 0
    deficit = ~is_source
    x_start = np.r_[0, np.cumsum(is_source)][indptr]
    y_start = indptr - x_start
    flat = _Supports(
        x=indices[is_source], y=indices[deficit], p=values[is_source], q=-values[deficit],
        x_count=np.diff(x_start), y_count=np.diff(y_start), x_start=x_start, y_start=y_start,
    )
    x_row = np.repeat(np.arange(k), flat.x_count)
    y_row = np.repeat(np.arange(k), flat.y_count)
    p_total = np.bincount(x_row, weights=flat.p, minlength=k)
    q_total = np.bincount(y_row, weights=flat.q, minlength=k)
    flat.q *= np.divide(p_total, q_total, out=np.ones(k), where=q_total > 0)[y_row]
    return flat


def _solve_rows(adjacency, flat: _Supports, limits: np.ndarray, unit: bool, verbose: bool | None, workers: int,
                components, proven: bool = False) -> LocalWassersteinResult:
    import sys
    from concurrent.futures import ThreadPoolExecutor

    from tqdm.auto import tqdm

    n = adjacency.shape[0]
    k = flat.x_count.size
    pairs = flat.x_count * flat.y_count

    distance = np.zeros(k)
    gap = np.zeros(k)
    show = sys.stderr.isatty() if verbose is None else bool(verbose)
    levels = unit and float(limits.max(initial=0.0)) < _BFS_MAX_RADIUS + 1  # uint8 rows
    per_chunk = max(1, (8 if levels else 1) * _ROW_BUDGET // max(n, 1))
    position = np.full(n, -1, dtype=np.int64)
    pattern = adjacency.astype(np.float32) if unit else None
    hard = (flat.x_count > 1) & (flat.y_count > 1)
    hard_entries = int(pairs[hard].sum())
    # threads only where there is enough to share (starting them costs about half a millisecond)
    pool = ThreadPoolExecutor(workers) if workers > 1 and hard_entries >= _POOL_MIN_ENTRIES else None
    context = _Context(flat, position, limits, components, pool, workers, integral=unit,
                       compiled=unit and 0 < hard_entries and _INTEGER_MIN_ENTRIES <= hard_entries,
                       solved=np.zeros(k, dtype=bool))
    bar = tqdm(total=k, desc="W1", unit="pair", disable=not show, file=sys.stderr, leave=False)
    try:
        all_sources = np.flatnonzero(np.bincount(flat.x, minlength=n))  # np.unique, without sorting
        start = 0
        while start < k:
            if start == 0 and all_sources.size <= per_chunk:
                stop, source_nodes = k, all_sources  # one search per distinct source for every pair
            else:
                stop, source_nodes = _source_chunk(flat, start, k, per_chunk, position)
            position[source_nodes] = np.arange(source_nodes.size)
            limit = float(limits[start:stop].max())
            depth = int(np.floor(limit)) if np.isfinite(limit) else 0
            if proven and unit and 1 <= depth <= _BFS_MAX_RADIUS:
                # every support pair is within the proven radius: one level short, the rest at depth
                context.rows = _distance_rows(adjacency, pattern, source_nodes, depth - 1, unit, context)
                context.level_cost = np.where(np.arange(256) == _UNREACHED, float(depth), _LEVEL_COST)
            else:
                context.rows = _distance_rows(adjacency, pattern, source_nodes, limit, unit, context)
                context.level_cost = _LEVEL_COST
            if context.compiled and context.rows.dtype == np.uint8:
                # the hard pairs of the chunk in one call: the rest below handles what it leaves
                chunk = start + np.flatnonzero(hard[start:stop] & (pairs[start:stop] <= _INTEGER_MAX_BLOCK))
                context.solved[_solve_integer(context, chunk, distance, gap)] = True
            # blocks of pairs, at most _PAIR_BUDGET cost entries at a time (of the pairs still unsolved)
            prefix = np.r_[0, np.cumsum(np.where(context.solved[start:stop], 0, pairs[start:stop]))]
            first = start
            while first < stop:
                fit = int(np.searchsorted(prefix, prefix[first - start] + _PAIR_BUDGET))  # prefix sums below
                last = min(max(first + 1, start + fit - 1), stop)
                _solve_pairs(context, first, last, distance, gap)
                bar.update(last - first)
                first = last
            position[source_nodes] = -1
            start = stop
    finally:
        bar.close()
        if pool is not None:
            pool.shutdown()
    sizes = np.stack([flat.x_count, flat.y_count], axis=1)
    return LocalWassersteinResult(distance, gap, sizes)


def _workers(n_jobs: int | None) -> int:
    import numbers
    import os

    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if n_jobs is None or n_jobs == -1:
        return max(1, available)
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral) or n_jobs == 0 or n_jobs < -1:
        raise ValueError(f"n_jobs must be a positive integer, -1 or None (every available core), got {n_jobs!r}")
    return int(n_jobs)


@dataclass
class _Supports:
    """Flat supports of all pairs: ``x`` (excess nodes, masses ``p``) and ``y`` (deficit, ``q``)."""

    x: np.ndarray
    y: np.ndarray
    p: np.ndarray
    q: np.ndarray
    x_count: np.ndarray
    y_count: np.ndarray
    x_start: np.ndarray  # pair i's excess points are x[x_start[i]:x_start[i + 1]]
    y_start: np.ndarray


@dataclass
class _Context:
    """What every block of pairs reads: supports, distance rows of the current chunk, the thread pool."""

    flat: _Supports
    position: np.ndarray  # row of each source node in ``rows`` (-1: not searched in this chunk)
    limits: np.ndarray
    components: Any  # callable giving the component label of every node (only for error messages)
    pool: Any
    workers: int
    rows: np.ndarray | None = None  # distances from the chunk's sources, or BFS levels (uint8)
    integral: bool = False  # unit lengths: every distance is an integer
    compiled: bool = False  # hard blocks go to the compiled primal-dual solver first (see _solve_integer)
    solved: np.ndarray | None = None  # pairs it has solved (and certified)
    level_cost: np.ndarray = field(default_factory=lambda: _LEVEL_COST)  # distance of each BFS level (uint8 rows)
    entries_batched: int = 0  # cost entries of the blocks reduced so far, many at a time
    entries_reduced: int = 0  # and of their reductions

    def costs(self, source_rows, nodes) -> np.ndarray:
        """Distances ``d(x, y)`` as float64 (``inf`` where unreached) for ``rows[source_rows, nodes]``."""
        raw = self.rows[source_rows, nodes]
        return self.level_cost[raw] if raw.dtype == np.uint8 else raw


def _distance_rows(adjacency, pattern, sources: np.ndarray, limit: float, unit: bool,
                   context: _Context | None = None) -> np.ndarray:
    """Distances from each source to every node within ``limit``: shape ``(len(sources), n)``.

    With unit lengths and a radius of at most ``_BFS_MAX_RADIUS`` the searches run level by level
    for all sources at once (level ``k`` = the still unreached nodes adjacent to level ``k - 1``, one
    sparse product with the adjacency pattern per level: a breadth-first search), and the result
    holds the levels as ``uint8`` (255 = beyond ``limit``; :meth:`_Context.costs` turns them into
    distances). Otherwise one Dijkstra search per source, stopped at ``limit``, float distances
    (``inf`` beyond). Where the compiled solver is in use (``context.compiled``) the same levels
    come from one compiled breadth-first search per source, the sources split between the
    threads, instead of the sparse products (several times faster on graphs with hubs, whose
    products fill in).
    """
    from scipy.sparse.csgraph import dijkstra

    n = adjacency.shape[0]
    if not (unit and limit < _BFS_MAX_RADIUS + 1):
        if sources.size == 0:
            return np.empty((0, n))
        if unit or context is None:
            return dijkstra(adjacency, directed=False, indices=sources, limit=limit, unweighted=unit)
        # lengths: compiled searches, the sources split between the threads (scipy's took about 60%
        # of a weighted graph's curvature on one thread; these are 1.2 to 1.4 times faster on one)
        from graphwgan.ot._dijkstra import bounded_distances

        rows = np.full((sources.size, n), np.inf)
        bounded_distances(adjacency.indptr, adjacency.indices, adjacency.data, sources, limit, rows, context.pool,
                          context.workers)
        return rows
    import scipy.sparse as sp

    s = sources.size
    rows = np.full((s, n), _UNREACHED, dtype=np.uint8)
    if context is not None and context.compiled:
        from graphwgan.ot._integer_transport import breadth_first_levels

        breadth_first_levels(pattern.indptr, pattern.indices, sources, int(np.floor(limit)), rows, context.pool,
                             context.workers)
        return rows
    flat = rows.reshape(-1)
    rows[np.arange(s), sources] = 0
    frontier = sp.csr_array((np.ones(s, dtype=np.float32), sources, np.arange(s + 1)), shape=(s, n))
    for level in range(1, int(np.floor(limit)) + 1):
        reached = frontier @ pattern
        # flat keys (source row, node) of the nodes adjacent to the frontier, kept where still unreached
        key = np.repeat(np.arange(s, dtype=np.int64) * n, np.diff(reached.indptr)) + reached.indices
        key = key[flat[key] == _UNREACHED]
        if key.size == 0:
            break
        flat[key] = level
        source_row = key // n
        indptr = np.r_[0, np.cumsum(np.bincount(source_row, minlength=s))]
        frontier = sp.csr_array((np.ones(key.size, dtype=np.float32), key - source_row * n, indptr), shape=(s, n))
    return rows


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


def _solve_pairs(context: _Context, first: int, last: int, distance: np.ndarray, gap: np.ndarray) -> None:
    """Solve pairs ``first:last``, certified.

    Pairs with one point on a side have a closed form, computed for all of them at once. Blocks of
    at most ``_LARGE_BLOCK`` cost entries are gathered at once, solved by the network simplex one
    after the other (split between the threads) and certified at once; larger blocks are gathered,
    solved and certified one at a time, several at a time on the threads.
    """
    flat = context.flat
    nx_, ny_ = flat.x_count[first:last], flat.y_count[first:last]
    count = nx_ * ny_
    simple = (nx_ == 1) | (ny_ == 1)
    rows = first + np.flatnonzero(simple & (count > 0))
    if rows.size:
        # one point on a side: everything moves to (or from) it
        local, _, x_points, y_points, cx, cy, cost = _gather(context, rows)
        weight = np.where(flat.x_count[rows][local] == 1, flat.q[y_points][cy], flat.p[x_points][cx])
        distance[rows] = np.bincount(local, weights=cost * weight, minlength=rows.size)
    done = simple | context.solved[first:last]
    if np.any(~done & (count > 0)):
        _network_simplex_engine()  # resolved here, before any thread calls it, and only where needed (POT's import)
    large = ~done & (count > _LARGE_BLOCK)
    middle = ~done & ~large & (count > _SORTED_SIMPLEX)
    small = first + np.flatnonzero(~done & ~large & ~middle & (count > 0))
    if small.size:
        _solve_small(context, small, distance, gap)
    if middle.any():
        # blocks of 1024 to 4096 entries are batched where the reductions so far have shrunk the blocks
        # at least twofold (batching costs more passes over the entries, which pay only then; the
        # values do not depend on it), else solved one at a time
        if context.entries_reduced <= 0.5 * context.entries_batched:
            _solve_small(context, first + np.flatnonzero(middle), distance, gap)
        else:
            large |= middle
    big = first + np.flatnonzero(large)
    if big.size:
        # the largest first, so that the threads finish together
        big = big[np.argsort(-count[big - first], kind="stable")]
        solve = _solve_block
        results = context.pool.map(lambda row: solve(context, row), big) if context.pool is not None else \
            (solve(context, row) for row in big)
        for row, (value, block_gap) in zip(big.tolist(), results, strict=True):
            distance[row] = value
            gap[row] = block_gap


def _solve_integer(context: _Context, rows: np.ndarray, distance: np.ndarray, gap: np.ndarray) -> np.ndarray:
    """Solve pairs ``rows`` by the compiled primal-dual solver; returns the rows it solved, certified.

    The pairs are split between the threads in contiguous parts of about equal work (the solver
    releases the interpreter lock). Each result is certified as in :func:`_certify`; a pair that
    fails (or has an unreached entry) is left to the caller's network simplex path, which then
    raises or solves it.
    """
    if rows.size == 0:
        return rows
    from graphwgan.ot._integer_transport import DUAL, MAGNITUDE, MARGINAL, PRIMAL, SLACK, TOTAL, solve_pairs

    flat = context.flat
    # each level's cost as uint8, 255 where unreached (or not representable: those pairs fail over)
    level_cost = context.level_cost
    level_map = np.where(np.isfinite(level_cost) & (level_cost < _UNREACHED), level_cost, _UNREACHED).astype(np.uint8)

    def run(part: np.ndarray) -> np.ndarray:
        return solve_pairs(part, flat.x, flat.y, flat.p, flat.q, flat.x_start, flat.y_start, context.rows,
                           context.position, level_map)

    if context.pool is not None and rows.size >= 16 * context.workers:
        # parts of about equal work, four per thread, taken as the threads come free
        work = np.cumsum(flat.x_count[rows] * flat.y_count[rows])
        parts = np.split(rows, np.searchsorted(work, np.linspace(0, work[-1], 4 * context.workers + 1)[1:-1]))
        out = np.concatenate(list(context.pool.map(run, parts)))
    else:
        out = run(rows)
    points = flat.x_count[rows] + flat.y_count[rows]
    with np.errstate(invalid="ignore"):
        failed = ~np.isfinite(out[:, PRIMAL]) | _failures(out[:, PRIMAL], out[:, DUAL], out[:, SLACK],
                                                           out[:, MARGINAL], out[:, TOTAL], out[:, MAGNITUDE],
                                                           points)
    solved = rows[~failed]
    distance[solved] = out[~failed, PRIMAL]
    gap[solved] = np.abs(out[~failed, PRIMAL] - out[~failed, DUAL])
    return solved


def _gather(context: _Context, rows: np.ndarray):
    """The cost blocks of pairs ``rows``, flat: ``(local, offset, x_points, y_points, cx, cy, cost)``.

    Block ``i`` occupies ``offset[i]:offset[i + 1]`` in row-major order; ``local`` is the block of
    each entry. The blocks' rows and columns are numbered block after block (*compact* points):
    ``x_points`` and ``y_points`` give their indices in the flat supports, ``cx`` and ``cy`` the
    compact row and column of each entry. Built from repeats of per-row values (no division per
    entry), and each cost is read from the flattened distance rows at ``row * n + node``.
    """
    flat = context.flat
    nx_, ny_ = flat.x_count[rows], flat.y_count[rows]
    count = nx_ * ny_
    offset = np.r_[0, np.cumsum(count)]
    local = np.repeat(np.arange(rows.size), count)
    x_points = _ranges(flat.x_start[rows], nx_)
    y_points = _ranges(flat.y_start[rows], ny_)
    width = np.repeat(ny_, nx_)  # entries of each compact row
    row_entry = np.r_[0, np.cumsum(width)[:-1]]  # its first entry
    cx = np.repeat(np.arange(x_points.size), width)
    # compact column: the entry's position in its row plus the block's first compact column
    cy = np.arange(offset[-1]) + np.repeat(np.repeat(np.r_[0, np.cumsum(ny_)[:-1]], nx_) - row_entry, width)
    table = context.rows
    base = context.position[flat.x[x_points]] * table.shape[1]
    raw = table.reshape(-1)[np.repeat(base, width) + flat.y[y_points][cy]]
    cost = context.level_cost[raw] if raw.dtype == np.uint8 else raw
    if not np.all(np.isfinite(cost)):
        bad = int(np.flatnonzero(~np.isfinite(cost))[0])
        _raise_unreached(context, int(rows[local[bad]]), int(flat.x[x_points[cx[bad]]]),
                         int(flat.y[y_points[cy[bad]]]))
    return local, offset, x_points, y_points, cx, cy, cost


def _ranges(start: np.ndarray, count: np.ndarray) -> np.ndarray:
    """``concatenate([arange(s, s + c) for s, c in zip(start, count)])``, vectorised."""
    total = int(count.sum())
    shift = np.repeat(start - np.r_[0, np.cumsum(count)[:-1]], count)
    return np.arange(total) + shift


@dataclass
class _Blocks:
    """Dense cost blocks of several pairs, flat and row-major, with their supports made compact.

    Block ``i`` has ``nx[i]`` rows (support points ``xoff[i]:xoff[i + 1]`` of ``p``) and ``ny[i]``
    columns (``yoff[i]:yoff[i + 1]`` of ``q``); its entries are ``offset[i]:offset[i + 1]`` of
    ``cost``, ``cx`` and ``cy`` (the compact row and column of each entry).
    """

    rows: np.ndarray  # pair ids
    nx: np.ndarray
    ny: np.ndarray
    xoff: np.ndarray
    yoff: np.ndarray
    offset: np.ndarray
    p: np.ndarray
    q: np.ndarray
    cost: np.ndarray
    cx: np.ndarray
    cy: np.ndarray
    integral: bool = False  # every cost is an integer (unit lengths): exact integer hashes in _reduce

    @classmethod
    def from_pairs(cls, context: _Context, rows: np.ndarray) -> _Blocks:
        flat = context.flat
        _, offset, x_points, y_points, cx, cy, cost = _gather(context, rows)
        nx_, ny_ = flat.x_count[rows], flat.y_count[rows]
        xoff, yoff = np.r_[0, np.cumsum(nx_)], np.r_[0, np.cumsum(ny_)]
        return cls(rows, nx_, ny_, xoff, yoff, offset, flat.p[x_points], flat.q[y_points], cost, cx, cy,
                   context.integral)

    @property
    def size(self) -> int:
        return self.rows.size


def _solve_small(context: _Context, rows: np.ndarray, distance: np.ndarray, gap: np.ndarray) -> None:
    """Solve the small blocks of pairs ``rows`` on their reduced forms and certify them at once.

    Each block is first reduced (:func:`_reduce`); the reduced blocks are solved by
    :func:`_solve_blocks` (closed forms where they have one or two rows or columns, the network
    simplex otherwise) and certified against the original blocks by :func:`_check_reduced`, without
    expanding the plans. A block whose solution fails the certificate is solved again without
    reduction and certified on its original block, and must pass then.
    """
    blocks = _Blocks.from_pairs(context, rows)
    row_group, row_offset, col_group, col_offset, reduced = _reduce(blocks)
    context.entries_batched += blocks.cost.size
    context.entries_reduced += reduced.cost.size
    plan_r, a_r, b_r = _solve_blocks(context, reduced)
    primal, dual, bad = _check_reduced(blocks, reduced, row_group, row_offset, col_group, col_offset, plan_r, a_r,
                                       b_r)
    if bad.any():  # a reduction is exact: this guards against hash collisions
        again = np.flatnonzero(bad)
        plan = np.zeros(blocks.cost.size)
        a, b = np.zeros(blocks.p.size), np.zeros(blocks.q.size)
        _solve_each(context, blocks, again, blocks.p, blocks.q, blocks.cost, blocks.xoff, blocks.yoff, blocks.offset,
                    plan, a, b)
        primal_o, dual_o, _ = _check_blocks(blocks, plan, a, b, raise_on=again)
        primal[again], dual[again] = primal_o[again], dual_o[again]
    distance[rows] = primal
    gap[rows] = np.abs(primal - dual)


def _reduce(blocks: _Blocks):
    r"""Merge the rows of each block that differ by a constant, then the columns likewise.

    If row :math:`x` equals row :math:`x'` plus a constant :math:`\delta_x` on every column, any
    plan can move :math:`x`'s mass along :math:`x'`'s row at the extra cost :math:`\delta_x` per
    unit, so the two rows are one source of mass :math:`p_x + p_{x'}` and
    :math:`W = W_{\text{merged}} + \sum_x p_x \delta_x` (an identity of the linear programme, with
    duals :math:`a_x = a_{x'} + \delta_x`); the same holds for columns. On curvature blocks this
    merges, for example, the leaves hanging off an endpoint. Rows are grouped by a random linear
    hash of their offsets; a collision could only merge unequal rows, which the certificate on the
    original block would then catch.

    Returns ``(row_group, row_offset, column_group, column_offset, reduced)``: the group of each
    compact row and column (groups numbered block after block), each point's offset from its
    group's representative, and the reduced blocks (representative rows and columns, masses summed
    per group) as :class:`_Blocks`.
    """
    nx_, ny_, offset = blocks.nx, blocks.ny, blocks.offset
    local_x = np.repeat(np.arange(blocks.size), nx_)
    local_y = np.repeat(np.arange(blocks.size), ny_)
    # the entry (row, first column) of every compact row
    row_first = offset[local_x] + (np.arange(nx_.sum()) - blocks.xoff[local_x]) * ny_[local_x]
    groups = _group_integral(blocks, local_x, local_y, row_first) if blocks.integral else None
    if groups is not None:
        row_group, row_offset, row_rep, col_group, col_offset, col_rep = groups
        gx = np.bincount(local_x[row_rep], minlength=blocks.size)
        gxoff = np.r_[0, np.cumsum(gx)]
        return _reduced_blocks(blocks, row_group, row_offset, row_rep, col_group, col_offset, col_rep, local_y, gx,
                               gxoff)
    weights = _hash_weights(max(int(nx_.max()), int(ny_.max()), 1))
    # rows: offsets from each row's first entry, hashed with weights by column
    column = blocks.cy - blocks.yoff[local_y[blocks.cy]]
    shifted = blocks.cost - blocks.cost[row_first[blocks.cx]]
    row_hash = np.bincount(blocks.cx, weights=shifted * weights[0, column], minlength=nx_.sum())
    row_group, row_rep = _group(local_x, row_hash)
    row_offset = blocks.cost[row_first] - blocks.cost[row_first[row_rep[row_group]]]
    gx = np.bincount(local_x[row_rep], minlength=blocks.size)
    gxoff = np.r_[0, np.cumsum(gx)]
    # columns of the row-reduced blocks: offsets from the first representative row of each block
    first_rep = row_rep[gxoff[:-1]]
    is_rep = np.zeros(nx_.sum(), dtype=bool)
    is_rep[row_rep] = True
    keep = is_rep[blocks.cx]
    group_in_block = row_group - gxoff[local_x]
    cx, cy, cost = blocks.cx[keep], blocks.cy[keep], blocks.cost[keep]
    anchor = blocks.cost[row_first[first_rep[local_y[cy]]] + column[keep]]
    col_hash = np.bincount(cy, weights=(cost - anchor) * weights[1, group_in_block[cx]], minlength=ny_.sum())
    col_group, col_rep = _group(local_y, col_hash)
    top = row_first[first_rep[local_y]]  # entry of each column's block's first representative row
    col_offset = blocks.cost[top + (np.arange(ny_.sum()) - blocks.yoff[local_y])] - \
        blocks.cost[top + (col_rep[col_group] - blocks.yoff[local_y])]
    return _reduced_blocks(blocks, row_group, row_offset, row_rep, col_group, col_offset, col_rep, local_y, gx, gxoff)


def _group_integral(blocks: _Blocks, local_x: np.ndarray, local_y: np.ndarray, row_first: np.ndarray):
    r"""The row and column groups of :func:`_reduce` for integer costs, by exact integer hashes.

    Row :math:`x` gets :math:`\sum_j w_j c_{xj} - c_{x0} \sum_j w_j` with random integer weights
    :math:`w_j` by column, and column :math:`y` likewise with weights by row, over *all* rows (two
    columns differ by a constant on the representative rows exactly when they do on every row,
    the other rows being representatives plus constants). The weights are small enough (bits
    chosen from the largest cost and block side) that every product and partial sum is an
    integer below :math:`2^{53}`, so each hash is computed exactly in any order: rows (columns)
    that differ by a constant always get equal hashes and are always merged, and unequal ones
    collide with probability about :math:`2^{-\text{bits}}` (caught by the certificate).

    Returns ``(row_group, row_offset, row_rep, col_group, col_offset, col_rep)``, or ``None`` when
    exact hashes would need fewer than 16 bits of weight.
    """
    nx_, ny_, offset, cost = blocks.nx, blocks.ny, blocks.offset, blocks.cost
    exact = _exact_weights(cost, max(int(nx_.max()), int(ny_.max()), 1))
    if exact is None:
        return None  # too large for exact integer hashes: the float hashes of _reduce
    weights, cumulative, scale = exact
    width = ny_[local_x]
    column = np.arange(cost.size) - np.repeat(row_first, width)  # column of each entry within its block
    # rows: scaled by 2**-bits (exact) so that the keys stay small for the sort of _group
    row_hash = (np.bincount(blocks.cx, weights=cost * weights[0, column], minlength=nx_.sum())
                - cost[row_first] * cumulative[0, width - 1]) * scale
    row_group, row_rep = _group(local_x, row_hash)
    row_offset = cost[row_first] - cost[row_first[row_rep[row_group]]]
    # columns: weights by the row within the block, offsets from the block's first row
    row_in_block = np.repeat(np.arange(nx_.sum()) - blocks.xoff[local_x], width)
    top = offset[local_y] + (np.arange(ny_.sum()) - blocks.yoff[local_y])  # entry (first row, column)
    col_hash = (np.bincount(blocks.cy, weights=cost * weights[1, row_in_block], minlength=ny_.sum())
                - cost[top] * cumulative[1, nx_[local_y] - 1]) * scale
    col_group, col_rep = _group(local_y, col_hash)
    col_offset = cost[top] - cost[top[col_rep[col_group]]]
    return row_group, row_offset, row_rep, col_group, col_offset, col_rep


def _reduced_blocks(blocks: _Blocks, row_group, row_offset, row_rep, col_group, col_offset, col_rep, local_y, gx,
                    gxoff):
    """The return value of :func:`_reduce` from the groups of rows and columns."""
    gy = np.bincount(local_y[col_rep], minlength=blocks.size)
    gyoff = np.r_[0, np.cumsum(gy)]
    # the reduced blocks: gx[i] x gy[i] entries (representative rows and columns), masses summed per group
    count = gx * gy
    roffset = np.r_[0, np.cumsum(count)]
    local = np.repeat(np.arange(blocks.size), count)
    within = np.arange(roffset[-1]) - roffset[local]
    g = gxoff[local] + within // gy[local]
    h = gyoff[local] + within % gy[local]
    rx = row_rep[g] - blocks.xoff[local]
    ry = col_rep[h] - blocks.yoff[local]
    reduced = _Blocks(blocks.rows, gx, gy, gxoff, gyoff, roffset,
                      np.bincount(row_group, weights=blocks.p, minlength=row_rep.size),
                      np.bincount(col_group, weights=blocks.q, minlength=col_rep.size),
                      blocks.cost[blocks.offset[local] + rx * blocks.ny[local] + ry], g, h, blocks.integral)
    return row_group, row_offset, col_group, col_offset, reduced


def _hash_weights(size: int) -> np.ndarray:
    """Random weights, shape ``(2, size)``, of the row and column hashes of :func:`_reduce`."""
    global _WEIGHTS
    weights = _WEIGHTS  # one read: another thread may replace the global meanwhile
    if weights.shape[1] < size:
        weights = np.random.default_rng(0).uniform(0.5, 1.5, size=(2, max(size, 2 * weights.shape[1])))
        _WEIGHTS = weights
    return weights[:, :size]


_WEIGHTS = np.random.default_rng(0).uniform(0.5, 1.5, size=(2, 1024))


def _group(block: np.ndarray, key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group points by (block, key): ``(group of each point, representative point of each group)``.

    Groups are numbered block after block; the representative is the first point of its group in
    the sorted order. The points are sorted by the single key ``block * span + key`` with ``span``
    more than twice the largest ``|key|``: blocks stay apart and in order (the gap between two
    blocks' ranges is at least 1, far above the rounding while ``block * span`` stays below
    ``2**50``), and a group is a run of points with equal block *and* equal key, so rounding can
    only split a group (a merge missed), never join unequal keys.
    """
    if key.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    span = 2.0 * float(np.abs(key).max()) + 1.0
    if span * (float(block[-1]) + 1.0) < 2.0 ** 50:
        order = np.argsort(block * span + key)  # one sort of floats: several times faster than lexsort
    else:
        order = np.lexsort((key, block))
    new = np.r_[True, (block[order][1:] != block[order][:-1]) | (key[order][1:] != key[order][:-1])]
    group_sorted = np.cumsum(new) - 1
    group = np.empty(key.size, dtype=np.int64)
    group[order] = group_sorted
    return group, order[new]


def _solve_blocks(context: _Context, blocks: _Blocks) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Plan (per entry) and duals (per compact row and column) of every block.

    One row or one column: everything moves along it (duals 0 on the single point, the costs on
    the other side). Two columns or two rows: the closed form of :func:`_two_sides`, for all such
    blocks of a size at once. The other blocks go to the network simplex (split between the threads).
    """
    n_blocks = blocks.size
    nx_, ny_ = blocks.nx, blocks.ny
    plan = np.zeros(blocks.cost.size)
    a = np.zeros(blocks.p.size)
    b = np.zeros(blocks.q.size)
    one_row = nx_ == 1
    one_col = (ny_ == 1) & ~one_row
    local = np.repeat(np.arange(n_blocks), blocks.offset[1:] - blocks.offset[:-1])
    entry = one_row[local]
    plan[entry] = blocks.q[blocks.cy[entry]]
    b[blocks.cy[entry]] = blocks.cost[entry]
    entry = one_col[local]
    plan[entry] = blocks.p[blocks.cx[entry]]
    a[blocks.cx[entry]] = blocks.cost[entry]
    two_col = (ny_ == 2) & (nx_ >= 2)
    two_row = (nx_ == 2) & (ny_ >= 3)
    for size in np.unique(nx_[two_col]).tolist():
        which = np.flatnonzero(two_col & (nx_ == size))
        # entries (block, row, column), rows as the items; column 0 takes q of its first column
        entries = blocks.offset[which][:, None, None] + np.arange(2 * size).reshape(1, size, 2)
        cost = blocks.cost[entries]
        points = blocks.xoff[which][:, None] + np.arange(size)
        first_col = blocks.yoff[which]
        flow0, flow1, item_dual, side_dual = _two_sides(cost[:, :, 0], cost[:, :, 1], blocks.p[points],
                                                        blocks.q[first_col])
        plan[entries[:, :, 0]], plan[entries[:, :, 1]] = flow0, flow1
        a[points] = item_dual
        b[first_col] = side_dual
    for size in np.unique(ny_[two_row]).tolist():
        which = np.flatnonzero(two_row & (ny_ == size))
        # the transpose: columns as the items, row 0 gives p of its first row
        entries = blocks.offset[which][:, None, None] + np.arange(2 * size).reshape(1, 2, size)
        cost = blocks.cost[entries]
        points = blocks.yoff[which][:, None] + np.arange(size)
        first_row = blocks.xoff[which]
        flow0, flow1, item_dual, side_dual = _two_sides(cost[:, 0], cost[:, 1], blocks.q[points], blocks.p[first_row])
        plan[entries[:, 0]], plan[entries[:, 1]] = flow0, flow1
        b[points] = item_dual
        a[first_row] = side_dual
    hard = np.flatnonzero(~one_row & ~one_col & ~two_col & ~two_row)
    if hard.size:
        _solve_each(context, blocks, hard, blocks.p, blocks.q, blocks.cost, blocks.xoff, blocks.yoff, blocks.offset,
                    plan, a, b)
    return plan, a, b


def _two_sides(cost0: np.ndarray, cost1: np.ndarray, mass: np.ndarray, demand0: np.ndarray):
    r"""Transport from ``k`` items to two sides, for ``m`` problems at once (arrays ``(m, k)``).

    Item :math:`i` holds ``mass`` :math:`s_i`; side 0 takes :math:`D_0` (``demand0``), side 1 the
    rest, at costs ``cost0`` and ``cost1``. Any plan is fixed by the amounts :math:`f_i` sent to
    side 0, at cost :math:`\sum_i s_i c^1_i + \sum_i f_i (c^0_i - c^1_i)`: a fractional knapsack,
    solved exactly by filling side 0 from the items of smallest :math:`\delta_i = c^0_i - c^1_i`
    up. With :math:`\kappa` the last item that sends anything to side 0, the duals
    :math:`\beta_0 = \delta_\kappa`, :math:`\beta_1 = 0`, :math:`\alpha_i = c^1_i + \min(\delta_i -
    \delta_\kappa, 0)` are feasible (:math:`\alpha_i + \beta_0 = c^1_i + \min(\delta_i, \delta_\kappa)
    \le c^0_i`, :math:`\alpha_i \le c^1_i`) and tight wherever the plan moves mass (items before
    :math:`\kappa` send only to side 0, items after it only to side 1), so both are optimal. The
    same holds for two rows and ``k`` columns, transposed. The caller's certificate checks the
    result in any case.

    Returns ``(flow to side 0, flow to side 1, item duals, side-0 dual)`` (the side-1 dual is 0).
    """
    delta = cost0 - cost1
    order = np.argsort(delta, axis=1, kind="stable")
    sorted_mass = np.take_along_axis(mass, order, axis=1)
    before = np.cumsum(sorted_mass, axis=1) - sorted_mass
    sent = np.clip(demand0[:, None] - before, 0.0, sorted_mass)
    last = np.maximum(np.count_nonzero(before < demand0[:, None], axis=1) - 1, 0)
    problem = np.arange(delta.shape[0])
    side_dual = delta[problem, order[problem, last]]
    flow0 = np.empty_like(sent)
    np.put_along_axis(flow0, order, sent, axis=1)
    item_dual = cost1 + np.minimum(delta - side_dual[:, None], 0.0)
    return flow0, mass - flow0, item_dual, side_dual


def _check_reduced(blocks: _Blocks, reduced: _Blocks, row_group, row_offset, col_group, col_offset, plan_r, a_r,
                   b_r):
    r"""Certificate of every block's reduced solution on its original block: ``(primal, dual, failed)``.

    The reduced solution stands for the plan :math:`\pi_{xy} = \pi'_{gh} p_x q_y / (P_g Q_h)`
    (:math:`g, h` the groups of :math:`x, y`, :math:`P, Q` their masses) and the duals
    :math:`a_x = a'_g + \delta_x`, :math:`b_y = b'_h + \epsilon_y` (the offsets of :func:`_reduce`).
    The certificate is that of :func:`_certify`, on the original block, for that plan and those duals:
    dual feasibility :math:`a_x + b_y \le d(x, y)` on every original entry; the primal value
    :math:`\sum_{gh} \pi'_{gh} M_{gh} / (P_g Q_h)` with :math:`M_{gh} = \sum_{x \in g, y \in h} p_x q_y
    d(x, y)` (the cost of :math:`\pi` on the original costs, whether or not the reduction is exact);
    the marginals, whose errors are those of the reduced plan scaled by :math:`p_x / P_g \le 1`
    (resp. :math:`q_y / Q_h`), so bounded by the reduced plan's. The plan itself is never formed.
    """
    n_blocks = blocks.size
    cost, starts, cx, cy = blocks.cost, blocks.offset[:-1], blocks.cx, blocks.cy
    p, q = blocks.p, blocks.q
    a = a_r[row_group] + row_offset
    b = b_r[col_group] + col_offset
    slack = np.maximum.reduceat(a[cx] + b[cy] - cost, starts)
    cost_max = np.maximum.reduceat(cost, starts)
    x_block = np.repeat(np.arange(n_blocks), blocks.nx)
    y_block = np.repeat(np.arange(n_blocks), blocks.ny)
    dual = np.bincount(x_block, weights=a * p, minlength=n_blocks) + np.bincount(y_block, weights=b * q,
                                                                                  minlength=n_blocks)
    # the entry of each original row's group (first column) and each column's group, in the reduced blocks
    row_part = reduced.offset[x_block] + (row_group - reduced.xoff[x_block]) * reduced.ny[x_block]
    col_part = col_group - reduced.yoff[y_block]
    moment = np.bincount(row_part[cx] + col_part[cy], weights=cost * p[cx] * q[cy], minlength=reduced.cost.size)
    pq = reduced.p[reduced.cx] * reduced.q[reduced.cy]
    primal = np.add.reduceat(plan_r * moment / pq, reduced.offset[:-1])
    row_sum = np.bincount(reduced.cx, weights=plan_r, minlength=reduced.p.size)
    col_sum = np.bincount(reduced.cy, weights=plan_r, minlength=reduced.q.size)
    marginal = np.maximum(np.maximum.reduceat(np.abs(row_sum - reduced.p), reduced.xoff[:-1]),
                          np.maximum.reduceat(np.abs(col_sum - reduced.q), reduced.yoff[:-1]))
    a_max = np.maximum.reduceat(np.abs(a), blocks.xoff[:-1])
    b_max = np.maximum.reduceat(np.abs(b), blocks.yoff[:-1])
    total = np.bincount(x_block, weights=p, minlength=n_blocks)
    failed = _failures(primal, dual, slack, marginal, total, cost_max + a_max + b_max, blocks.nx + blocks.ny)
    return primal, dual, failed


def _solve_each(context: _Context, blocks: _Blocks, which: np.ndarray, p: np.ndarray, q: np.ndarray,
                cost: np.ndarray, xoff: np.ndarray, yoff: np.ndarray, offset: np.ndarray, plan: np.ndarray,
                a: np.ndarray, b: np.ndarray) -> None:
    """The network simplex on blocks ``which`` (rows ``xoff``, columns ``yoff``, entries ``offset``).

    Writes each block's plan into ``plan`` and its duals into ``a`` and ``b``; split between the
    threads in contiguous parts of about equal size.
    """
    bounds = list(zip(blocks.rows[which].tolist(), xoff[which].tolist(), xoff[which + 1].tolist(),
                      yoff[which].tolist(), yoff[which + 1].tolist(), offset[which].tolist(),
                      offset[which + 1].tolist(), strict=True))

    def run(items) -> None:
        for row, xs, xe, ys, ye, cs, ce in items:
            if ce - cs > _SORTED_SIMPLEX:
                plan[cs:ce], a[xs:xe], b[ys:ye] = (part.ravel() for part in _solve_sorted(
                    row, cost[cs:ce].reshape(xe - xs, ye - ys), p[xs:xe], q[ys:ye]))
                continue
            block_plan, a[xs:xe], b[ys:ye], code = _network_simplex(p[xs:xe], q[ys:ye],
                                                                    cost[cs:ce].reshape(xe - xs, ye - ys))
            if code != 1:
                raise RuntimeError(f"the network simplex did not reach an optimum on pair {row} (result code {code})")
            plan[cs:ce] = block_plan.ravel()

    if context.pool is not None and len(bounds) >= 4 * context.workers:
        work = np.cumsum(offset[which + 1] - offset[which])
        cut = np.searchsorted(work, np.linspace(0, work[-1], context.workers + 1)[1:-1])
        for result in [context.pool.submit(run, bounds[lo:hi]) for lo, hi in
                       zip(np.r_[0, cut].tolist(), np.r_[cut, len(bounds)].tolist(), strict=True)]:
            result.result()
    else:
        run(bounds)


def _check_blocks(blocks: _Blocks, plan: np.ndarray, a: np.ndarray, b: np.ndarray, raise_on=None):
    """Certificate of every block at once: ``(primal, dual, failed)``; see :func:`_certify`.

    With ``raise_on`` (block indices), a failure among those blocks raises.
    """
    n_blocks = blocks.size
    cost, starts = blocks.cost, blocks.offset[:-1]
    primal = np.add.reduceat(plan * cost, starts)
    slack = np.maximum.reduceat(a[blocks.cx] + b[blocks.cy] - cost, starts)
    cost_max = np.maximum.reduceat(cost, starts)
    x_block = np.repeat(np.arange(n_blocks), blocks.nx)
    y_block = np.repeat(np.arange(n_blocks), blocks.ny)
    p, q = blocks.p, blocks.q
    dual = np.bincount(x_block, weights=a * p, minlength=n_blocks) + np.bincount(y_block, weights=b * q,
                                                                                  minlength=n_blocks)
    a_max = np.maximum.reduceat(np.abs(a), blocks.xoff[:-1])
    b_max = np.maximum.reduceat(np.abs(b), blocks.yoff[:-1])
    row_sum = np.bincount(blocks.cx, weights=plan, minlength=p.size)
    col_sum = np.bincount(blocks.cy, weights=plan, minlength=q.size)
    marginal = np.maximum(np.maximum.reduceat(np.abs(row_sum - p), blocks.xoff[:-1]),
                          np.maximum.reduceat(np.abs(col_sum - q), blocks.yoff[:-1]))
    total = np.bincount(x_block, weights=p, minlength=n_blocks)
    points = blocks.nx + blocks.ny
    failed = _failures(primal, dual, slack, marginal, total, cost_max + a_max + b_max, points)
    if raise_on is not None:
        _certify(blocks.rows[raise_on], primal[raise_on], dual[raise_on], slack[raise_on], marginal[raise_on],
                 total[raise_on], (cost_max + a_max + b_max)[raise_on], points[raise_on])
    return primal, dual, failed


def _solve_block(context: _Context, row: int) -> tuple[float, float]:
    """Gather, reduce, solve and certify the block of one (large) pair: ``(distance, duality gap)``.

    The reduction is that of :func:`_reduce` on one dense block (:func:`_reduce_block`); rows and
    columns go to the simplex by increasing sums of their costs, an order in which it pivots less
    on the degenerate blocks of unit lengths (about 15% faster on polblogs). A reduced solution is
    certified on the original block without expanding its plan (:func:`_certify_reduced_block`);
    if that fails (a hash collision), the block is solved again unreduced and certified.
    """
    flat = context.flat
    xs, xe = int(flat.x_start[row]), int(flat.x_start[row + 1])
    ys, ye = int(flat.y_start[row]), int(flat.y_start[row + 1])
    x, y = flat.x[xs:xe], flat.y[ys:ye]
    cost = context.costs(context.position[x][:, None], y[None, :])
    cost_max = float(cost.max())
    if not cost_max < np.inf:
        i, j = np.argwhere(~np.isfinite(cost))[0]
        _raise_unreached(context, row, int(x[i]), int(y[j]))
    p, q = flat.p[xs:xe], flat.q[ys:ye]
    reduced = _reduce_block(cost, p, q, context.integral)
    if reduced is not None:
        rows_of, row_shift, cols_of, col_shift, reps_x, reps_y = reduced
        big_p = np.bincount(rows_of, weights=p, minlength=reps_x.size)
        big_q = np.bincount(cols_of, weights=q, minlength=reps_y.size)
        small = cost[reps_x[:, None], reps_y[None, :]]
        if reps_x.size == 1:
            plan_r, a_r, b_r = big_q[None, :], np.zeros(1), small[0]
        elif reps_y.size == 1:
            plan_r, a_r, b_r = big_p[:, None], small[:, 0], np.zeros(1)
        else:
            plan_r, a_r, b_r = _solve_sorted(row, small, big_p, big_q)
        result = _certify_reduced_block(cost, cost_max, p, q, rows_of, cols_of, big_p, big_q, plan_r,
                                        a_r[rows_of] + row_shift, b_r[cols_of] + col_shift)
        if result is not None:
            return result
    plan, a, b = _solve_sorted(row, cost, p, q)
    return _certify_block(row, cost, cost_max, p, q, plan, a, b)


def _certify_reduced_block(cost, cost_max: float, p, q, rows_of, cols_of, big_p, big_q, plan_r, a, b):
    r"""The certificate of :func:`_check_reduced` for one dense block: ``(primal, gap)``, or ``None`` if it fails.

    ``a`` and ``b`` are the expanded duals; the plan stays reduced (``plan_r``, groups
    ``rows_of`` and ``cols_of`` with masses ``big_p`` and ``big_q``). Dual feasibility is checked
    on every entry of the original block, and the primal value is that of the expanded plan on the
    original costs, from the group sums :math:`M_{gh} = \sum_{x \in g, y \in h} p_x q_y d(x, y)`.
    """
    slack = float((a[:, None] + (b - cost)).max())
    dual = float((a * p).sum() + (b * q).sum())
    # M: every entry's p_x q_y d(x, y) added up by (row group, column group)
    entry = (rows_of * big_q.size)[:, None] + cols_of[None, :]
    moment = np.bincount(entry.ravel(), weights=(cost * np.outer(p, q)).ravel(), minlength=plan_r.size)
    moment = moment.reshape(plan_r.shape)
    primal = float((plan_r * moment / np.outer(big_p, big_q)).sum())
    marginal = max(float(np.abs(plan_r.sum(axis=1) - big_p).max()), float(np.abs(plan_r.sum(axis=0) - big_q).max()))
    magnitude = cost_max + float(np.abs(a).max()) + float(np.abs(b).max())
    if _failures(primal, dual, slack, marginal, float(p.sum()), magnitude, p.size + q.size):
        return None
    return primal, abs(primal - dual)


def _solve_sorted(row: int, cost: np.ndarray, p: np.ndarray, q: np.ndarray):
    """The network simplex with rows and columns by increasing cost sums: ``(plan, a, b)``."""
    by_row = np.argsort(cost.sum(axis=1), kind="stable")
    by_column = np.argsort(cost.sum(axis=0), kind="stable")
    plan_s, a_s, b_s, code = _network_simplex(p[by_row], q[by_column], cost[by_row[:, None], by_column[None, :]])
    if code != 1:
        raise RuntimeError(f"the network simplex did not reach an optimum on pair {row} (result code {code})")
    plan = np.empty_like(plan_s)
    plan[by_row[:, None], by_column[None, :]] = plan_s
    a = np.empty_like(a_s)
    a[by_row] = a_s
    b = np.empty_like(b_s)
    b[by_column] = b_s
    return plan, a, b


def _reduce_block(cost: np.ndarray, p: np.ndarray, q: np.ndarray, integral: bool = False):
    """:func:`_reduce` on one dense block, or ``None`` when it merges less than a tenth of the block.

    With integer costs (``integral``) the hashes are exact integers, as in
    :func:`_group_integral`; otherwise random float weights. Returns ``(group of each row, row
    offsets, group of each column, column offsets, representative rows, representative columns)``.
    """
    nx_, ny_ = cost.shape
    exact = _exact_weights(cost, max(nx_, ny_)) if integral else None
    if exact is not None:
        weights, total, _ = exact
        row_key = np.einsum("ij,j->i", cost, weights[0, :ny_]) - cost[:, 0] * total[0, ny_ - 1]
    else:
        weights = _hash_weights(max(nx_, ny_))
        row_key = ((cost - cost[:, :1]) * weights[0, :ny_]).sum(axis=1)
    rows_of, reps_x = _group_keys(row_key)
    if reps_x.size > 0.9 * nx_:
        return None  # (checking the columns too would cost more than it saves on such blocks)
    reduced = cost[reps_x]
    if exact is not None:
        col_key = np.einsum("ij,i->j", reduced, weights[1, :reps_x.size]) - reduced[0] * total[1, reps_x.size - 1]
    else:
        col_key = ((reduced - reduced[:1]) * weights[1, :reps_x.size, None]).sum(axis=0)
    cols_of, reps_y = _group_keys(col_key)
    if reps_x.size * reps_y.size > 0.9 * cost.size:
        return None
    row_shift = cost[:, 0] - cost[reps_x[rows_of], 0]
    col_shift = reduced[0] - reduced[0, reps_y[cols_of]]
    return rows_of, row_shift, cols_of, col_shift, reps_x, reps_y


def _group_keys(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points with equal keys: ``(group of each point, representative of each group)``, groups by key."""
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    new = np.empty(key.size, dtype=bool)
    new[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    group = np.empty(key.size, dtype=np.int64)
    group[order] = np.cumsum(new) - 1
    return group, order[new]


def _exact_weights(cost: np.ndarray, side: int):
    """Integer hash weights ``(2, side)``, their running sums and ``2**-bits``, or ``None``.

    For integer costs: the weights have as many bits as keep every product and partial sum of a
    hash of a row or column of ``cost`` (at most ``side`` long) an integer below ``2**53`` (see
    :func:`_group_integral`); ``None`` when that leaves fewer than 16 bits.
    """
    largest = float(np.abs(cost).max()) if cost.size else 0.0
    bits = min(40, 52 - int(np.ceil(np.log2(largest + 1.0))) - int(np.ceil(np.log2(side + 1.0))) - 1)
    if bits < 16:
        return None
    global _EXACT_WEIGHTS
    raw = _EXACT_WEIGHTS  # one read: another thread may replace it meanwhile
    if raw.shape[1] < side:
        raw = np.random.default_rng(1).integers(0, 2 ** 40, size=(2, max(side, 2 * raw.shape[1]))).astype(np.float64)
        _EXACT_WEIGHTS = raw
    weights = np.floor(raw[:, :side] * 2.0 ** (bits - 40))  # the top bits: integers below 2**bits
    return weights, np.cumsum(weights, axis=1), 2.0 ** -bits


_EXACT_WEIGHTS = np.random.default_rng(1).integers(0, 2 ** 40, size=(2, 1024)).astype(np.float64)


def _certify_block(row: int, cost: np.ndarray, cost_max: float, p: np.ndarray, q: np.ndarray, plan: np.ndarray,
                   a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """The certificate of :func:`_certify` for one dense block: ``(primal, duality gap)`` or an error."""
    # plain reductions, not BLAS dot products (OpenBLAS threads on a busy machine cost milliseconds)
    primal = float((plan * cost).sum())
    dual = float((a * p).sum() + (b * q).sum())
    slack = float((a[:, None] + (b - cost)).max())
    marginal = max(float(np.abs(plan.sum(axis=1) - p).max()), float(np.abs(plan.sum(axis=0) - q).max()))
    magnitude = cost_max + float(np.abs(a).max()) + float(np.abs(b).max())
    total = float(p.sum())
    if _failures(primal, dual, slack, marginal, total, magnitude, p.size + q.size):
        _certify(np.array([row]), np.array([primal]), np.array([dual]), np.array([slack]), np.array([marginal]),
                 np.array([total]), np.array([magnitude]), np.array([p.size + q.size]))
    return primal, abs(primal - dual)


def _certify(rows, primal, dual, slack, marginal, total, magnitude, points) -> None:
    """Raise unless every block's solution is certified optimal.

    Per block: dual feasibility ``a_x + b_y <= d(x, y)`` on the whole block (largest violation
    ``slack``), the plan's marginals (largest error ``marginal``) and the duality gap, within a few
    units in the last place of the sums involved: ``8 (|X| + |Y|) eps`` (``points`` = ``|X| + |Y|``)
    relative to the block's magnitudes (``magnitude`` = largest cost plus largest duals, ``total``
    = mass moved).
    """
    bad = _failures(primal, dual, slack, marginal, total, magnitude, points)
    block_gap = np.abs(primal - dual)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise RuntimeError(
            f"the local transport of pair {int(rows[i])} fails its optimality certificate (dual violation "
            f"{slack[i]:.3g}, marginal error {marginal[i]:.3g}, duality gap {block_gap[i]:.3g}); this is a bug in "
            "graphwgan, please report it with the graph and masses"
        )


def _failures(primal, dual, slack, marginal, total, magnitude, points) -> np.ndarray:
    """The blocks that fail the certificate of :func:`_certify` (boolean mask)."""
    tol = 8.0 * points * _EPS
    block_gap = np.abs(primal - dual)
    return (slack > tol * magnitude) | (marginal > tol * total) | (block_gap > tol * total * magnitude)


def _raise_unreached(context: _Context, row: int, x: int, y: int) -> None:
    component = context.components()
    if component[x] != component[y]:
        raise ValueError(
            f"pair {row} has mass in connected components {int(component[x])} (node {x}) and "
            f"{int(component[y])} (node {y}) that does not balance within each component; no path joins "
            "them, so W1 is infinite. Compare distributions within one component"
        )
    raise ValueError(
        f"radius {float(context.limits[row]):.6g} of pair {row} is smaller than the distance between support nodes "
        f"{x} and {y}; give an upper bound on the distances between the support points, or radius=None"
    )


def _network_simplex(p: np.ndarray, q: np.ndarray, cost: np.ndarray):
    """POT's network simplex on a dense block: ``(plan, dual_rows, dual_cols, result_code)``.

    Result code 1 means optimal. Uses the engine chosen by :func:`_network_simplex_engine`.
    """
    iterations = max(100_000, 50 * cost.size)
    if _network_simplex_engine() == "emd_c":
        plan, _, a, b, code = _EMD_C(p, q, cost, iterations, 1)
        return plan, a, b, int(code)
    import warnings

    import ot

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        plan, log = ot.emd(p, q, cost, numItermax=iterations, log=True)
    return plan, np.asarray(log["u"]), np.asarray(log["v"]), int(log.get("result_code", 0))


def _network_simplex_engine() -> str:
    """``"emd_c"`` when POT's compiled solver can be called directly, else ``"ot.emd"``.

    ``ot.emd``'s wrapper costs tens of microseconds per call (backend detection, marginal checks,
    filtering), more than the solve of a typical curvature block, so the compiled function
    ``ot.lp.emd_wrap.emd_c`` is called directly. It is not public API: it is used only after it
    has solved a small problem with a known answer (plan, value and duals) in the layout this
    module reads, ``(plan, cost, alpha, beta, result_code)``; any other layout, signature or answer
    selects the public ``ot.emd``. The choice is made once per process.
    """
    global _EMD_C, _ENGINE
    if _ENGINE is not None:
        return _ENGINE
    _ENGINE = "ot.emd"
    try:
        from ot.lp.emd_wrap import emd_c
    except ImportError:
        return _ENGINE
    p = np.array([0.75, 0.25])
    q = np.array([0.5, 0.5])
    cost = np.array([[0.0, 1.0], [2.0, 0.5]])
    try:
        plan, value, a, b, code = emd_c(p, q, cost, 1000, 1)
        expected = np.array([[0.5, 0.25], [0.0, 0.25]])  # value 0.375
        works = (int(code) == 1 and np.shape(plan) == (2, 2) and np.allclose(plan, expected, rtol=0, atol=1e-15)
                 and abs(float(value) - 0.375) <= 1e-15 and abs(float((a * p).sum() + (b * q).sum()) - 0.375) <= 1e-15
                 and bool(np.all(np.add.outer(a, b) <= cost + 1e-15)))
    except (TypeError, ValueError):
        works = False
    if works:
        _EMD_C, _ENGINE = emd_c, "emd_c"
    return _ENGINE


_EMD_C = None
_ENGINE: str | None = None
