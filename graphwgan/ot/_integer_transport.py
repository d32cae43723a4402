r"""Exact transport on small blocks with integer costs: the primal-dual method, compiled.

For unit edge lengths every cost :math:`d(x, y)` of a local block (:mod:`graphwgan.ot.local`)
is a small integer. The transport problem

.. math::

    \min_{\pi \ge 0} \sum_{xy} \pi_{xy} c_{xy} \ \text{ s.t. } \ \pi \mathbf{1} = p,\
    \pi^\top \mathbf{1} = q

is solved by the primal-dual (Hungarian) method. Integer potentials :math:`a_x, b_y` keep every
reduced cost :math:`r_{xy} = c_{xy} - a_x + b_y \ge 0` (they start at :math:`b = 0`,
:math:`a_x = \min_y c_{xy}`); mass moves only on *admissible* arcs (:math:`r_{xy} = 0`), so
complementary slackness holds throughout. Each phase sends as much of the remaining excess as the
admissible graph carries (a greedy pass, then Dinic's blocking flows: forward arcs :math:`x \to y`
of infinite capacity, backward arcs :math:`y \to x` of capacity :math:`\pi_{xy}`). The nodes
:math:`R` still reachable from excess then get :math:`a_x \mathrel{+}= 1`, :math:`b_y
\mathrel{+}= 1`. That keeps every :math:`r \ge 0`: only arcs from :math:`R` to the other columns
lose, and they were not admissible, so :math:`r \ge 1` (an integer). It keeps every arc that
carries mass admissible (such an arc never joins a row outside :math:`R` to a column inside, or
the column's backward arc would have reached the row), and arcs with :math:`r = 1` become
admissible. When all mass has moved, :math:`\pi` and :math:`(a, b)` are feasible and
complementary, hence both optimal, and :math:`\sum \pi c = \sum_x p_x a_x - \sum_y q_y b_y`. The
cheapest augmenting path costs one more after each step and never more than the largest cost,
so there are at most :math:`\max c` phases (three on curvature blocks of unit graphs).

The admissible arcs, the arcs that carry mass and the search levels are bit sets (64 columns per
word), so a search step costs a few word operations instead of a pass over a row; the dense
passes are the gathering of the costs, two at the start, one per phase (the dual step) and one
for the certificate. Everything runs compiled (numba), without the interpreter lock, one block
after another in a reused work space; the caller splits the blocks between threads and certifies
every result (:func:`graphwgan.ot.local._failures`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

try:  # LLVM's count-trailing-zeros, which numba wraps (not public API: the fallback below is used without it)
    from numba.cpython.unsafe.numbers import trailing_zeros as _trailing_zeros
except ImportError:  # pragma: no cover - depends on the numba release
    _trailing_zeros = None

# result columns of solve_pairs, per pair
PRIMAL, DUAL, SLACK, MARGINAL, MAGNITUDE, TOTAL = range(6)
_ONE = np.uint64(1)


def solve_pairs(pairs, x, y, p, q, x_start, y_start, table, position, level_map):
    r"""Solve the blocks of ``pairs`` (supports as in :class:`graphwgan.ot.local._Supports`).

    The cost of ``(x_i, y_j)`` is ``level_map[table[position[x_i], y_j]]`` (``uint8``; 255: unreached).
    Returns an array ``(len(pairs), 6)`` with, per pair: the primal value, the dual value, the
    largest dual violation :math:`\max (a_x - b_y - c_{xy})`, the largest marginal error, the
    magnitude (largest cost plus the largest :math:`|a|` and :math:`|b|`) and the mass moved. A
    pair with an unreached entry gets ``nan`` throughout.
    """
    out = np.empty((pairs.size, 6))
    _solve_pairs(pairs, x, y, p, q, x_start, y_start, table, position, level_map, out)
    return out


def breadth_first_levels(indptr, indices, sources, depth, rows, pool=None, workers: int = 1):
    """Breadth-first levels from each source, up to ``depth``, written into ``rows``.

    ``rows`` (``uint8``, shape ``(len(sources), n)``) must hold 255 (unreached) on entry; the
    graph is the CSR pattern ``indptr``, ``indices``. Row ``s`` gets level ``k`` at the nodes
    ``k`` hops from ``sources[s]`` (``k <= depth``), the levels the block costs read. With a
    thread ``pool`` the sources are split in ``workers`` parts, each writing its own rows.
    """
    indptr, indices, sources = indptr.astype(np.int64), indices.astype(np.int64), sources.astype(np.int64)
    parts, each = _parts(sources.size, pool, workers)
    list(each(lambda part: _breadth_first_levels(indptr, indices, sources[part], depth, rows[part]), parts))


def _parts(size: int, pool, workers: int):
    """Contiguous slices of ``range(size)``, one per worker (one without a ``pool``), and the map that runs them."""
    bounds = np.linspace(0, size, (workers if pool is not None else 1) + 1).astype(np.int64)
    parts = [slice(lo, hi) for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)]
    return parts, (pool.map if pool is not None else map)


@njit(cache=True, nogil=True)
def _breadth_first_levels(indptr, indices, sources, depth, rows):
    queue = np.empty(rows.shape[1], np.int64)
    for s in range(sources.size):
        row = rows[s]
        row[sources[s]] = 0
        queue[0] = sources[s]
        head, tail = 0, 1
        while head < tail:
            node = queue[head]
            head += 1
            level = np.int64(row[node])
            if level >= depth:
                continue
            for k in range(indptr[node], indptr[node + 1]):
                other = indices[k]
                if row[other] == 255:
                    row[other] = level + 1
                    queue[tail] = other
                    tail += 1


def row_differences(indptr, indices, data, u, v, pool=None, workers: int = 1):
    """The flat supports of the rows ``u[i] - v[i]`` of a CSR matrix whose rows are sorted.

    Returns ``(x, y, p, q, x_count, y_count, x_start, y_start)``: the same entries, in the same
    order and with the same rounding, as scipy's CSR subtraction (which drops exact zeros)
    followed by :func:`graphwgan.ot.local._flat_supports` (``q`` rescaled so that each pair's
    totals agree). The tests check the two bit for bit. With a thread ``pool``, the pairs are
    split in ``workers`` parts: one pass counts each pair's entries, the next writes them in place.
    """
    indptr, indices, data = indptr.astype(np.int64), indices.astype(np.int64), data.astype(np.float64)
    u, v = u.astype(np.int64), v.astype(np.int64)
    k = u.size
    parts, each = _parts(k, pool, workers)
    x_count, y_count = np.empty(k, np.int64), np.empty(k, np.int64)
    list(each(lambda part: _count_differences(indptr, indices, data, u[part], v[part], x_count[part],
                                              y_count[part]), parts))
    x_start, y_start = np.r_[0, np.cumsum(x_count)], np.r_[0, np.cumsum(y_count)]
    x, y = np.empty(x_start[-1], np.int64), np.empty(y_start[-1], np.int64)
    p, q = np.empty(x_start[-1]), np.empty(y_start[-1])
    list(each(lambda part: _write_differences(indptr, indices, data, u[part], v[part], x_start[part],
                                              y_start[part], x, y, p, q), parts))
    return x, y, p, q, x_count, y_count, x_start, y_start


@njit(cache=True, inline="always")
def _merged(indptr, indices, data, a_row, b_row, a, b):
    """The next entry of row ``a_row`` minus row ``b_row`` from positions ``a``, ``b``: ``(node, value, a, b)``."""
    a_end, b_end = indptr[a_row + 1], indptr[b_row + 1]
    if b >= b_end or (a < a_end and indices[a] < indices[b]):
        return indices[a], data[a], a + 1, b
    if a >= a_end or indices[b] < indices[a]:
        return indices[b], 0.0 - data[b], a, b + 1
    return indices[a], data[a] - data[b], a + 1, b + 1


@njit(cache=True, nogil=True)
def _count_differences(indptr, indices, data, u, v, x_count, y_count):
    for i in range(u.size):
        a, b = indptr[u[i]], indptr[v[i]]
        positive, negative = 0, 0
        while a < indptr[u[i] + 1] or b < indptr[v[i] + 1]:
            _, value, a, b = _merged(indptr, indices, data, u[i], v[i], a, b)
            positive += value > 0
            negative += value < 0
        x_count[i] = positive
        y_count[i] = negative


@njit(cache=True, nogil=True)
def _write_differences(indptr, indices, data, u, v, x_start, y_start, x, y, p, q):
    for i in range(u.size):
        a, b = indptr[u[i]], indptr[v[i]]
        nx_, ny_ = x_start[i], y_start[i]
        while a < indptr[u[i] + 1] or b < indptr[v[i] + 1]:
            node, value, a, b = _merged(indptr, indices, data, u[i], v[i], a, b)
            if value > 0:
                x[nx_] = node
                p[nx_] = value
                nx_ += 1
            elif value < 0:
                y[ny_] = node
                q[ny_] = -value
                ny_ += 1
        # the rounding of the totals moves onto q, as in _flat_supports
        p_total = 0.0
        for t in range(x_start[i], nx_):
            p_total += p[t]
        q_total = 0.0
        for t in range(y_start[i], ny_):
            q_total += q[t]
        if q_total > 0:
            factor = p_total / q_total
            for t in range(y_start[i], ny_):
                q[t] *= factor


@njit(cache=True, inline="always")
def _matches(cost_row, offset, target, words):
    """``words`` |= the bit set of the columns ``j`` with ``cost_row[j] + offset[j] == target``."""
    ny = cost_row.size
    for w in range(words.size):
        base = w << 6
        width = min(64, ny - base)
        # slices indexed from 0: the compiler then knows no index is negative (no wraparound fix-up
        # per entry), and the loop vectorises with contiguous loads instead of gathers
        row = cost_row[base:base + width]
        off = offset[base:base + width]
        word = np.uint64(0)
        for t in range(width):
            hit = np.int32(row[t]) + off[t] == target
            word |= np.uint64(hit) << np.uint64(t)
        words[w] |= word


@njit(cache=True, inline="always")
def _expand(arcs, nodes, count, seen, level_bits, labels, level, out):
    """One level of a breadth-first search on bit sets; returns how many nodes it wrote to ``out``.

    The nodes that ``arcs[nodes[:count]]`` reach and ``seen`` does not hold get ``labels = level``,
    join ``seen`` and ``level_bits`` and are written to ``out``.
    """
    n_out = 0
    for k in range(count):
        node = nodes[k]
        for w in range(arcs.shape[1]):
            bits = arcs[node, w] & ~seen[w]
            if bits != 0:
                seen[w] |= bits
                level_bits[w] |= bits
                while bits != 0:
                    low = bits & (~bits + _ONE)
                    bits ^= low
                    other = (w << 6) + _bit_index(low)
                    labels[other] = level
                    out[n_out] = other
                    n_out += 1
    return n_out


@njit(cache=True, inline="always")
def _popcount(word):
    """Set bits of a word, branch-free (SWAR: pairs, nibbles, bytes, then one multiply sums the bytes)."""
    word = word - ((word >> np.uint64(1)) & np.uint64(0x5555555555555555))
    word = (word & np.uint64(0x3333333333333333)) + ((word >> np.uint64(2)) & np.uint64(0x3333333333333333))
    word = (word + (word >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return np.int64((word * np.uint64(0x0101010101010101)) >> np.uint64(56))


if _trailing_zeros is not None:
    @njit(cache=True, inline="always")
    def _bit_index(low):
        """Index of the single set bit of ``low`` (one instruction, LLVM's cttz)."""
        return np.int64(_trailing_zeros(low))
else:  # pragma: no cover - numba without the intrinsic: a binary search over the halves
    @njit(cache=True, inline="always")
    def _bit_index(low):
        k = 0
        for shift in (32, 16, 8, 4, 2, 1):
            if low >> np.uint64(shift):
                k += shift
                low >>= np.uint64(shift)
        return k


@njit(cache=True, nogil=True)
def _solve_block(cost, p, q, tol, flow, result):
    """One block by the primal-dual method (module docstring); masses below ``tol`` count as moved.

    Writes the six result columns of :func:`solve_pairs` into ``result``. ``flow`` (the plan's
    work space, shaped like ``cost``) must be all zeros and is left so.
    """
    nx, ny = cost.shape
    wy = (ny + 63) >> 6
    wx = (nx + 63) >> 6
    a = np.empty(nx, np.int64)
    b = np.zeros(ny, np.int64)
    adm = np.zeros((nx, wy), np.uint64)  # admissible arcs x -> y
    back = np.zeros((ny, wx), np.uint64)  # arcs carrying mass, seen from y
    touched = np.zeros((nx, wy), np.uint64)  # entries of flow ever written (flow is all zeros on entry)
    e = p.copy()
    g = q.copy()
    sink = np.zeros(wy, np.uint64)  # columns still short of mass
    for j in range(ny):
        if g[j] > tol:
            sink[j >> 6] |= _ONE << np.uint64(j & 63)
    offset = np.zeros(ny, np.int32)  # b on the columns a step may touch, a sentinel elsewhere
    for i in range(nx):
        low_cost = np.int32(255)
        for j in range(ny):
            low_cost = min(low_cost, np.int32(cost[i, j]))
        a[i] = low_cost
        _matches(cost[i], offset, low_cost, adm[i])
    lx = np.empty(nx, np.int64)
    ly = np.empty(ny, np.int64)
    seen_x = np.zeros(wx, np.uint64)
    seen_y = np.zeros(wy, np.uint64)
    frontier = np.empty(nx, np.int64)
    # the nodes of each search level that are still alive, as bit sets
    level_x = np.zeros((nx + ny + 2, wx), np.uint64)
    level_y = np.zeros((nx + ny + 2, wy), np.uint64)
    used = nx + ny + 2
    reached = np.empty(ny, np.int64)
    options = np.empty(nx, np.int64)  # the greedy's admissible short columns per row, and its order
    order = np.empty(nx, np.int64)
    tally = np.empty(ny + 1, np.int64)
    px = np.empty(nx + ny + 2, np.int64)
    py = np.empty(nx + ny + 2, np.int64)
    while True:
        remaining = 0.0
        for i in range(nx):
            if e[i] > tol:
                remaining += e[i]
        if remaining == 0.0 or sink.max() == 0:
            break
        # greedy: excess rows straight to short columns along admissible arcs, the rows with the
        # fewest such arcs first
        # (a counting sort of the rows by their options, in place: a sort call per phase costs more)
        tally[:] = 0
        for i in range(nx):
            count = 0
            if e[i] > tol:
                for w in range(wy):
                    count += _popcount(adm[i, w] & sink[w])
            options[i] = count
            tally[count] += 1
        total = 0
        for c in range(ny + 1):
            total, tally[c] = total + tally[c], total
        for i in range(nx):
            order[tally[options[i]]] = i
            tally[options[i]] += 1
        for i in order:
            for w in range(wy):
                if e[i] <= tol:
                    break
                bits = adm[i, w] & sink[w]
                while bits != 0 and e[i] > tol:
                    low = bits & (~bits + _ONE)
                    bits ^= low
                    j = (w << 6) + _bit_index(low)
                    amount = min(e[i], g[j])
                    if flow[i, j] <= tol:
                        back[j, i >> 6] |= _ONE << np.uint64(i & 63)
                    touched[i, w] |= low
                    flow[i, j] += amount
                    e[i] -= amount
                    g[j] -= amount
                    if g[j] <= tol:
                        sink[w] &= ~low
        # Dinic: breadth-first levels from the excess rows, then blocking flows
        while True:
            seen_x[:] = 0
            level_x[:used] = 0  # the levels the last search wrote
            level_y[:used] = 0
            seen_y[:] = 0
            ly[:] = -1
            n_front = 0
            for i in range(nx):
                lx[i] = -1
                if e[i] > tol:
                    lx[i] = 0
                    seen_x[i >> 6] |= _ONE << np.uint64(i & 63)
                    level_x[0, i >> 6] |= _ONE << np.uint64(i & 63)
                    frontier[n_front] = i
                    n_front += 1
            level = 0
            sink_level = -1
            while n_front > 0:
                used = min(level + 3, nx + ny + 2)
                n_reached = _expand(adm, frontier, n_front, seen_y, level_y[level + 1], ly, level + 1, reached)
                level += 1
                hit = False
                for w in range(wy):
                    hit |= (level_y[level, w] & sink[w]) != 0
                if hit:
                    sink_level = level
                    break
                n_front = _expand(back, reached, n_reached, seen_x, level_x[level + 1], lx, level + 1, frontier)
                level += 1
            if sink_level < 0:
                break
            for s in range(nx):
                resume = 0
                px[0] = s
                while lx[s] == 0 and e[s] > tol:
                    # depth-first search along the levels, from where the last path saturated; dead
                    # ends get level -2
                    depth = resume
                    found = -1
                    while depth >= 0:
                        i = px[depth]
                        want = lx[i] + 1
                        j = -1
                        for w in range(wy):
                            bits = adm[i, w] & level_y[want, w]
                            if want == sink_level:
                                bits &= sink[w]
                            if bits != 0:
                                j = (w << 6) + _bit_index(bits & (~bits + _ONE))
                                break
                        if j < 0:
                            level_x[lx[i], i >> 6] &= ~(_ONE << np.uint64(i & 63))
                            lx[i] = -2
                            depth -= 1
                            continue
                        py[depth] = j
                        if want == sink_level:
                            found = depth
                            break
                        i_next = -1
                        for w in range(wx):
                            bits = back[j, w] & level_x[want + 1, w]
                            if bits != 0:
                                i_next = (w << 6) + _bit_index(bits & (~bits + _ONE))
                                break
                        if i_next < 0:
                            level_y[want, j >> 6] &= ~(_ONE << np.uint64(j & 63))
                            ly[j] = -2
                            continue
                        depth += 1
                        px[depth] = i_next
                    if found < 0:
                        break
                    t = py[found]
                    amount = min(e[s], g[t])
                    for k in range(1, found + 1):
                        amount = min(amount, flow[px[k], py[k - 1]])
                    for k in range(found + 1):
                        if flow[px[k], py[k]] <= tol:
                            back[py[k], px[k] >> 6] |= _ONE << np.uint64(px[k] & 63)
                        touched[px[k], py[k] >> 6] |= _ONE << np.uint64(py[k] & 63)
                        flow[px[k], py[k]] += amount
                    for k in range(1, found + 1):
                        flow[px[k], py[k - 1]] -= amount
                        if flow[px[k], py[k - 1]] <= tol:
                            back[py[k - 1], px[k] >> 6] &= ~(_ONE << np.uint64(px[k] & 63))
                    e[s] -= amount
                    g[t] -= amount
                    if g[t] <= tol:
                        sink[t >> 6] &= ~(_ONE << np.uint64(t & 63))
                    # the next search starts at the first node whose way on was used up
                    resume = found
                    for k in range(1, found + 1):
                        if flow[px[k], py[k - 1]] <= tol:
                            resume = k - 1
                            break
        # dual step: R (what the last search reached) goes up by one; the columns outside R keep
        # their b in offset (a sentinel marks those inside), for the new admissible arcs
        outside = False
        for j in range(ny):
            offset[j] = np.int32(b[j]) if ly[j] < 0 else np.int32(-(1 << 20))
            outside |= ly[j] < 0
        if not outside:
            break  # every column reached and none short: what is left is rounding
        for i in range(nx):
            if lx[i] < 0:
                for w in range(wy):
                    adm[i, w] &= ~seen_y[w]
            else:
                a[i] += 1
                _matches(cost[i], offset, np.int32(a[i]), adm[i])
        for j in range(ny):
            if ly[j] >= 0:
                b[j] += 1
    # the certificate's quantities, from the plan and the duals themselves
    for j in range(ny):
        offset[j] = np.int32(-b[j])
    # (and flow back to all zeros for the next block)
    primal = 0.0
    slack = np.int64(-(1 << 62))
    marginal = 0.0
    top = 0
    column = np.zeros(ny)
    for i in range(nx):
        row = 0.0
        for w in range(wy):
            bits = touched[i, w]
            while bits != 0:
                low = bits & (~bits + _ONE)
                bits ^= low
                j = (w << 6) + _bit_index(low)
                primal += flow[i, j] * np.int64(cost[i, j])
                row += flow[i, j]
                column[j] += flow[i, j]
                flow[i, j] = 0.0
        marginal = max(marginal, abs(row - p[i]))
        row_top = np.int32(0)
        row_slack = np.int32(-(1 << 30))
        for j in range(ny):
            c = np.int32(cost[i, j])
            row_top = max(row_top, c)
            row_slack = max(row_slack, offset[j] - c)
        top = max(top, np.int64(row_top))
        slack = max(slack, a[i] + np.int64(row_slack))
    for j in range(ny):
        marginal = max(marginal, abs(column[j] - q[j]))
    dual = 0.0
    total = 0.0
    largest_a = 0
    largest_b = 0
    for i in range(nx):
        dual += p[i] * a[i]
        total += p[i]
        largest_a = max(largest_a, abs(a[i]))
    for j in range(ny):
        dual -= q[j] * b[j]
        largest_b = max(largest_b, abs(b[j]))
    result[0] = primal
    result[1] = dual
    result[2] = float(slack)
    result[3] = marginal
    result[4] = float(top + largest_a + largest_b)
    result[5] = total

@njit(cache=True, nogil=True)
def _solve_pairs(pairs, x, y, p, q, x_start, y_start, table, position, level_map, out):
    """:func:`solve_pairs`, compiled: gathers each block's costs and solves it, one after another."""
    eps = np.finfo(np.float64).eps
    largest = 0
    for row in pairs:
        largest = max(largest, (x_start[row + 1] - x_start[row]) * (y_start[row + 1] - y_start[row]))
    # work space for every block: costs, and a plan kept all zeros between blocks (fresh pages cost more)
    cost_space = np.empty(largest, np.uint8)
    flow_space = np.zeros(largest)
    for k in range(pairs.size):
        row = pairs[k]
        xs, xe = x_start[row], x_start[row + 1]
        ys, ye = y_start[row], y_start[row + 1]
        cost = cost_space[:(xe - xs) * (ye - ys)].reshape((xe - xs, ye - ys))
        columns = y[ys:ye]
        top = np.uint8(0)
        for i in range(xe - xs):
            table_row = table[position[x[xs + i]]]
            for j in range(ye - ys):
                c = level_map[table_row[np.uint64(columns[j])]]  # unsigned: no negative-index fix-up
                cost[i, j] = c
                top = max(top, c)
        if top == 255:  # an unreached entry
            out[k, :] = np.nan
            continue
        block_p = p[xs:xe]
        mass = 0.0
        for i in range(xe - xs):
            mass += block_p[i]
        # below a few units in the last place of the total: rounding, not mass
        flow = flow_space[:(xe - xs) * (ye - ys)].reshape((xe - xs, ye - ys))
        _solve_block(cost, block_p, q[ys:ye], (xe - xs + ye - ys) * eps * mass, flow, out[k])
