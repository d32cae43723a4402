r"""Exact transshipment on a graph with small integer lengths: the primal-dual method, compiled.

The problem is :math:`\min \sum_e w_e |x_e|` subject to :math:`Bx = e` (:mod:`graphwgan.ot.mcf`),
with integer lengths :math:`w`. Each undirected edge is two arcs of cost :math:`w` and unbounded
capacity. Integer potentials :math:`\pi` keep every reduced cost
:math:`w_{ab} + \pi_a - \pi_b \ge 0` (they start at zero), and mass moves only along *admissible*
arcs: :math:`\pi_b - \pi_a = w_{ab}` (an arc "up" by its length, unbounded), or the reverse of an
arc that carries flow (:math:`\pi_a - \pi_b = w_{ab}`, "down", at most that flow), so complementary
slackness holds throughout. Each phase is a maximum flow from the nodes with supply left to the
nodes with demand left through the admissible arcs, by Dinic's method: the shortest admissible
paths (searched breadth-first from both ends, see :func:`_levels`), then a blocking flow along
them with current-arc pointers, until no path is left. Then one side moves by one unit: the set
:math:`R` that the supplies reach gets :math:`\pi \mathrel{-}= 1`, or (when the demands' search
ran out first) the set :math:`Q` that reaches the demands gets :math:`\pi \mathrel{+}= 1`. That
keeps every reduced cost non-negative: only arcs from :math:`R` to the rest (into :math:`Q`) lose
one, and they were not admissible, so their reduced cost was at least one (an integer); no flow
crosses the set's boundary (its arc, or its reverse, would be admissible and the set would hold
both ends). The flow was maximum, so :math:`R` holds no demand left and :math:`Q` no supply left:
each phase raises :math:`\pi_t - \pi_s` by one for every supply :math:`s` and demand :math:`t`
still left, and as :math:`\pi_t - \pi_s \le d(s, t)` stays true, the number of phases is at most
the largest distance between a supply and a demand, in length units. When every supply has moved,
the flow and :math:`f = -\pi` are feasible and complementary, hence both optimal, and
:math:`\sum_e w_e |x_e| = \sum_v f(v) e(v)`.

Masses stay floating point: each push moves the smallest remaining amount along its path
exactly, so a supply, a demand or a flow it uses up becomes exactly zero. What is left below
``tol`` (a few units in the last place of the largest mass) is rounding, not mass. The caller
certifies every result (:meth:`graphwgan.ot.GraphTransport._certify`) and bounds the phases: a
graph whose distances are long (a long path, a grid) is left to the cost-scaling engine.

Measured on a Barabási-Albert graph with :math:`10^6` edges and masses on every node (55 searches
per solve), the solve call alone:

* the flow is kept per arc, beside the arc's head, so that a search never jumps to an edge's
  entry at random (2.4 s → 1.8 s);
* the per-node data read at random are small (potential int16, supply or demand int8), and the
  searches prefetch the arcs of the nodes a few places ahead in their frontier (→ 1.1 s);
* the search from both ends: late in a phase a few supplies and demands are left, joined only by
  long paths that zigzag along the flow, and a search from the supplies alone reached nearly the
  whole graph each time, where the two searches meet after a small part of it (→ 0.65 s);
* arcs and nodes indexed by int32 (about a tenth less).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from llvmlite import ir
from numba import njit
from numba.core import cgutils, types
from numba.extending import intrinsic

__all__ = ["Network", "prepare", "solve_transshipment"]

MAX_DEPTH = 32_000  # the potentials are int16; a longer distance bound always gives None
_PREFETCH = 8  # the searches prefetch the arcs of the node this far ahead in their frontier
_SUPPLIES_CLOSED = -1  # what _levels returns when no path exists and the supplies' side was searched whole
_DEMANDS_CLOSED = -2  # ... and when the demands' side was


class Network(NamedTuple):
    """The graph as the engine reads it (:func:`prepare`): built once, it serves every solve on that graph."""

    indptr: np.ndarray
    heads: np.ndarray
    reverse: np.ndarray
    forward: np.ndarray
    cost: np.ndarray
    unit: bool
    depth: int  # twice one node's eccentricity per component: at least every distance, in length units
    component: np.ndarray


def prepare(num_nodes: int, u: np.ndarray, v: np.ndarray, lengths: np.ndarray) -> Network | None:
    """The arcs, distance bound and components of the graph.

    ``None`` for :math:`2^{30}` edges or more: the arcs are indexed by int32.
    """
    if 2 * len(u) >= 2**31:
        return None
    lengths = np.asarray(lengths, dtype=np.int32)
    unit = bool(np.all(lengths == 1))
    indptr, heads, reverse, forward, cost = _arcs(num_nodes, u.astype(np.int64), v.astype(np.int64), lengths)
    depth, component = _unit_depth_bound(indptr, heads) if unit else _depth_bound(num_nodes, indptr, heads, cost)
    return Network(indptr, heads, reverse, forward, cost, unit, depth, component)


def solve_transshipment(num_nodes: int, u: np.ndarray, v: np.ndarray, lengths: np.ndarray, excess: np.ndarray,
                        max_depth: int, network: Network | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """``(potential, flow)`` of the transshipment (flow signed, positive from ``u`` to ``v``), or ``None``.

    ``lengths`` are positive integers; ``network``, where given, is ``prepare(num_nodes, u, v, lengths)``.
    The phases are bounded by twice the largest eccentricity of one node per connected component
    (an upper bound on every distance, in length units); ``None`` means that bound exceeds
    ``max_depth`` (or ``MAX_DEPTH``): long distances are left to another engine. So does a graph
    that :func:`prepare` refuses.
    """
    if network is None:
        network = prepare(num_nodes, u, v, lengths)
    if network is None or network.depth > min(max_depth, MAX_DEPTH):
        return None
    excess = np.ascontiguousarray(excess, dtype=np.float64)
    tol = 4.0 * np.finfo(np.float64).eps * float(np.abs(excess).max(initial=0.0))
    arc_flow, pi, done = _solve(network.indptr, network.heads, network.reverse, network.cost, network.unit,
                                network.component, excess, tol, network.depth + 1)
    if not done:  # pragma: no cover - the bound above is a theorem; kept as a guard
        return None
    return -pi.astype(np.float64), arc_flow[network.forward]


def _depth_bound(num_nodes: int, indptr: np.ndarray, heads: np.ndarray, cost: np.ndarray) -> tuple[int, np.ndarray]:
    """``(bound, component)``: twice one node's eccentricity per component (at least every distance)."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components, dijkstra

    graph = sp.csr_array((cost.astype(np.float64), heads, indptr), shape=(num_nodes, num_nodes))
    _, labels = connected_components(graph, directed=False)
    _, roots = np.unique(labels, return_index=True)
    distance = dijkstra(graph, indices=roots, min_only=True)
    return 2 * int(distance[np.isfinite(distance)].max(initial=0.0)), labels.astype(np.int64)


@njit(cache=True, nogil=True)
def _unit_depth_bound(indptr, heads):
    """:func:`_depth_bound` for unit lengths: one breadth-first search per component."""
    n = indptr.size - 1
    hops = np.full(n, -1, np.int64)
    component = np.empty(n, np.int64)
    queue = np.empty(n, np.int64)
    longest = 0
    components = 0
    for root in range(n):
        if hops[root] >= 0:
            continue
        hops[root] = 0
        component[root] = components
        queue[0] = root
        head, tail = 0, 1
        while head < tail:
            a = queue[head]
            head += 1
            for k in range(indptr[a], indptr[a + 1]):
                b = heads[k]
                if hops[b] < 0:
                    hops[b] = hops[a] + 1
                    component[b] = components
                    queue[tail] = b
                    tail += 1
        longest = max(longest, hops[queue[tail - 1]])
        components += 1
    return 2 * longest, component


@intrinsic
def _prefetch(typingctx, array, index):
    """Ask the processor to bring ``array[index]`` into its cache (LLVM's ``llvm.prefetch``; no bounds check)."""
    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        handle = context.make_array(array_type)(context, builder, args[0])
        pointer = cgutils.get_item_pointer(context, builder, array_type, handle, [args[1]], wraparound=False)
        byte_pointer = ir.IntType(8).as_pointer()
        word = ir.IntType(32)
        function = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [byte_pointer, word, word, word]), "llvm.prefetch.p0")
        # a read (0), kept in every cache level (3), of data (1)
        builder.call(function, [builder.bitcast(pointer, byte_pointer), word(0), word(3), word(1)])
        return context.get_dummy_value()

    return types.void(array, index), codegen


@njit(cache=True, nogil=True)
def _arcs(n, u, v, lengths):
    """Both arcs of every edge, grouped by tail (a counting sort): ``indptr, heads, reverse, forward, cost``.

    ``reverse[k]`` is the arc opposite to arc ``k`` and ``forward[e]`` the arc of edge ``e`` from
    ``u`` to ``v``.
    """
    m = u.size
    indptr = np.zeros(n + 1, np.int32)
    for k in range(m):
        indptr[u[k] + 1] += 1
        indptr[v[k] + 1] += 1
    for a in range(n):
        indptr[a + 1] += indptr[a]
    fill = indptr[:-1].copy()
    heads = np.empty(2 * m, np.int32)
    reverse = np.empty(2 * m, np.int32)
    forward = np.empty(m, np.int32)
    cost = np.empty(2 * m, np.int32)
    for k in range(m):
        out = fill[u[k]]
        fill[u[k]] += 1
        back = fill[v[k]]
        fill[v[k]] += 1
        heads[out], heads[back] = v[k], u[k]
        cost[out], cost[back] = lengths[k], lengths[k]
        reverse[out], reverse[back] = back, out
        forward[k] = out
    return indptr, heads, reverse, forward, cost


@njit(cache=True, nogil=True)
def _side(mass, tol):
    """+1 for a supply, -1 for a demand, 0 for what is rounding."""
    return 1 if mass > tol else (-1 if mass < -tol else 0)


@njit(cache=True, nogil=True)
def _admissible(rise, length, arc_flow, tol):
    """Up by its length (unbounded), or down by it against a flow."""
    return rise == length or (rise == -length and arc_flow < -tol)


@njit(cache=True, nogil=True)
def _solve(indptr, heads, reverse, cost, unit, component, excess, tol, max_phases):
    """The phases; ``(flow per arc, potential, done)``. ``unit`` lengths are never read from ``cost``.

    The phases go on while some component holds both a supply and a demand: what is left in a
    component on one side only is the rounding of its masses' totals.
    """
    n = indptr.size - 1
    num_components = component.max() + 1 if n else 0
    supplied = np.zeros(num_components, np.bool_)
    demanded = np.zeros(num_components, np.bool_)
    arc_flow = np.zeros(heads.size)  # along each arc; an arc and its reverse hold opposite values
    from_supplies = np.full(n, -1, np.int32)  # hops from the supplies (-1: not reached)
    to_demands = np.full(n, -1, np.int32)  # hops to the demands
    pi = np.zeros(n, np.int16)
    e = excess.copy()
    side = np.zeros(n, np.int8)
    for a in range(n):
        side[a] = _side(e[a], tol)
    supply_side = np.empty(n, np.int32)  # the searches' frontiers, level after level
    demand_side = np.empty(n, np.int32)
    current = np.empty(n, np.int32)
    path = np.empty(n + 1, np.int32)  # the nodes of the path being searched
    path_arcs = np.empty(n + 1, np.int32)
    phases = 0
    while True:
        supplied[:] = False
        demanded[:] = False
        for a in range(n):
            if side[a] > 0:
                supplied[component[a]] = True
            elif side[a] < 0:
                demanded[component[a]] = True
        if not np.any(supplied & demanded):
            return arc_flow, pi, True
        if phases == max_phases:
            return arc_flow, pi, False
        phases += 1
        while True:
            length = _levels(indptr, heads, cost, unit, tol, arc_flow, pi, side, from_supplies, to_demands,
                             supply_side, demand_side)
            if length < 0:
                break
            _blocking_flow(indptr, heads, reverse, cost, unit, tol, arc_flow, pi, side, from_supplies, to_demands,
                           length, e, current, path, path_arcs)
        # the dual step: the side whose search ran out is closed under admissible arcs; the supplies'
        # side goes down by one, or the demands' side up by one
        if length == _SUPPLIES_CLOSED:
            for a in range(n):
                if from_supplies[a] >= 0:
                    pi[a] -= 1
        else:
            for a in range(n):
                if to_demands[a] >= 0:
                    pi[a] += 1


@njit(cache=True, nogil=True)
def _volume(indptr, queue, first, last):
    """How many arcs leave the nodes ``queue[first:last]``."""
    total = 0
    for i in range(first, last):
        total += indptr[queue[i] + 1] - indptr[queue[i]]
    return total


@njit(cache=True, nogil=True)
def _levels(indptr, heads, cost, unit, tol, arc_flow, pi, side, from_supplies, to_demands, supply_side, demand_side):
    """Shortest admissible paths from the supplies to the demands, searched from both ends.

    Breadth-first, one level at a time from the side whose frontier has fewer arcs, until the two
    searches touch. Returns the length ``D`` of the shortest paths, with ``from_supplies`` (hops from the
    supplies) and ``to_demands`` (hops to the demands) set on the searched nodes; or, when no path
    exists, which side was searched whole (its nodes are then exactly those reached).

    Every node of a shortest path is reached by one search at least: if a node at position ``i``
    were reached by neither, the searches' depths ``F`` and ``G`` would satisfy ``i > F`` and
    ``D - i > G``, so ``D > F + G + 1``, while touching gives ``D = F + G + 1``. So the paths along
    which ``position = from_supplies`` (else ``D - to_demands``) grows by one are exactly the shortest ones.
    """
    n = indptr.size - 1
    from_supplies[:] = -1
    to_demands[:] = -1
    f_tail = 0
    b_tail = 0
    for a in range(n):
        if side[a] > 0:
            from_supplies[a] = 0
            supply_side[f_tail] = a
            f_tail += 1
        elif side[a] < 0:
            to_demands[a] = 0
            demand_side[b_tail] = a
            b_tail += 1
    f_head, b_head = 0, 0
    f_depth, b_depth = 0, 0
    f_volume = _volume(indptr, supply_side, 0, f_tail)
    b_volume = _volume(indptr, demand_side, 0, b_tail)
    while True:
        if f_head == f_tail:
            return _SUPPLIES_CLOSED
        if b_head == b_tail:
            return _DEMANDS_CLOSED
        if f_volume <= b_volume:
            length, tail = _expand(indptr, heads, cost, unit, tol, arc_flow, pi, 1, from_supplies, to_demands,
                                   supply_side, f_head, f_tail, f_depth)
            if length >= 0:
                return length
            f_head, f_tail, f_depth = f_tail, tail, f_depth + 1
            f_volume = _volume(indptr, supply_side, f_head, f_tail)
        else:
            length, tail = _expand(indptr, heads, cost, unit, tol, arc_flow, pi, -1, to_demands, from_supplies,
                                   demand_side, b_head, b_tail, b_depth)
            if length >= 0:
                return length
            b_head, b_tail, b_depth = b_tail, tail, b_depth + 1
            b_volume = _volume(indptr, demand_side, b_head, b_tail)


@njit(cache=True, nogil=True)
def _expand(indptr, heads, cost, unit, tol, arc_flow, pi, direction, hops, other_hops, queue, first, last, depth):
    """One side's search one level deeper, from the frontier ``queue[first:last]`` at ``depth`` hops.

    ``direction`` is +1 for the supplies' side (arcs x -> y out of the frontier) and -1 for the
    demands' side (arcs y -> x into it, which carry ``-arc_flow[k]`` where ``k`` is x -> y).
    Returns the length of the shortest paths if the two sides touch (else -1), and the new tail.
    """
    tail = last
    for i in range(first, last):
        x = queue[i]
        if i + 2 * _PREFETCH < last:
            _prefetch(indptr, queue[i + 2 * _PREFETCH])
        if i + _PREFETCH < last:
            start = indptr[queue[i + _PREFETCH]]
            _prefetch(heads, start)
            _prefetch(arc_flow, start)
            if not unit:
                _prefetch(cost, start)
        px = pi[x]
        for k in range(indptr[x], indptr[x + 1]):
            y = heads[k]
            if hops[y] >= 0:
                continue
            if _admissible(direction * (pi[y] - px), 1 if unit else cost[k], direction * arc_flow[k], tol):
                if other_hops[y] >= 0:
                    return depth + 1 + other_hops[y], tail
                hops[y] = depth + 1
                queue[tail] = y
                tail += 1
    return -1, tail


@njit(cache=True, nogil=True)
def _position(from_supplies, to_demands, length, b):
    """Where node ``b`` sits on the shortest paths of ``length`` hops (-1: on none that was searched)."""
    if from_supplies[b] >= 0:
        return from_supplies[b]
    if to_demands[b] >= 0:
        return length - to_demands[b]
    return -1


@njit(cache=True, nogil=True)
def _blocking_flow(indptr, heads, reverse, cost, unit, tol, arc_flow, pi, side, from_supplies, to_demands, length,
                   e, current, path, path_arcs):
    """A blocking flow along the shortest paths of ``length`` hops.

    Paths from the supplies depth-first (the node at depth d of a path has position d), each
    moving what its supply, its demand and its down arcs allow; dead ends leave the search.
    """
    n = indptr.size - 1
    for a in range(n):
        current[a] = indptr[a]
    for s in range(n):
        while from_supplies[s] == 0 and side[s] > 0:
            depth = 0
            path[0] = s
            found = False
            while depth >= 0:
                a = path[depth]
                if depth > 0 and side[a] < 0:
                    found = True
                    break
                advanced = False
                pa = pi[a]
                next_position = depth + 1
                while current[a] < indptr[a + 1]:
                    k = current[a]
                    b = heads[k]
                    if _position(from_supplies, to_demands, length, b) == next_position:
                        if _admissible(pi[b] - pa, 1 if unit else cost[k], arc_flow[k], tol):
                            path_arcs[depth] = k
                            depth += 1
                            path[depth] = b
                            advanced = True
                            break
                    current[a] += 1
                if not advanced:
                    from_supplies[a] = -1
                    to_demands[a] = -1
                    depth -= 1
                    if depth >= 0:
                        current[path[depth]] += 1
            if not found:
                break
            t = path[depth]
            amount = min(e[s], -e[t])
            for d in range(depth):
                flow = arc_flow[path_arcs[d]]
                if flow < 0.0:  # a down arc: at most the flow it cancels
                    amount = min(amount, -flow)
            for d in range(depth):
                k = path_arcs[d]
                arc_flow[k] += amount
                arc_flow[reverse[k]] -= amount
            e[s] -= amount
            e[t] += amount
            side[s] = _side(e[s], tol)
            side[t] = _side(e[t], tol)
