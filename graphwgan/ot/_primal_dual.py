r"""Exact transshipment on a graph with small integer lengths: the primal-dual method, compiled.

The problem is :math:`\min \sum_e w_e |x_e|` subject to :math:`Bx = e` (:mod:`graphwgan.ot.mcf`),
with integer lengths :math:`w`. Each undirected edge is two arcs of cost :math:`w` and unbounded
capacity. Integer potentials :math:`\pi` keep every reduced cost
:math:`w_{ab} + \pi_a - \pi_b \ge 0` (they start at zero), and mass moves only along *admissible*
arcs: :math:`\pi_b - \pi_a = w_{ab}` (an arc "up" by its length, unbounded), or the reverse of an
arc that carries flow (:math:`\pi_a - \pi_b = w_{ab}`, "down", at most that flow), so complementary
slackness holds throughout. Each phase is a maximum flow from the nodes with supply left to the
nodes with demand left through the admissible arcs (Dinic's method: breadth-first levels from all
supplies, then blocking flows along them with current-arc pointers). The nodes :math:`R` that the
last search still reaches then get :math:`\pi \mathrel{-}= 1`. That keeps every reduced cost
non-negative: only arcs from :math:`R` to the rest lose one, and they were not admissible, so
their reduced cost was at least one (an integer); no flow crosses from :math:`R` to the rest (its
arc would be admissible, and its head reached) nor back (its reverse would be admissible). A node
with demand left is never in :math:`R` (the flow was maximum), so it keeps :math:`\pi = 0`, while
the supplies go down by one per phase; as :math:`\pi_t - \pi_s \le d(s, t)` stays true, the
number of phases is at most the largest distance between a supply and a demand, in length units.
When every supply has moved, the flow and :math:`f = -\pi` are feasible and complementary, hence
both optimal, and :math:`\sum_e w_e |x_e| = \sum_v f(v) e(v)`.

Masses stay floating point: each push moves the smallest remaining amount along its path
exactly, so a supply, a demand or a flow it uses up becomes exactly zero. What is left below
``tol`` (a few units in the last place of the largest mass) is rounding, not mass. The caller
certifies every result (:meth:`graphwgan.ot.GraphTransport._certify`) and bounds the phases: a
graph whose distances are long (a long path, a grid) is left to the cost-scaling engine.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["solve_transshipment"]


def solve_transshipment(num_nodes: int, u: np.ndarray, v: np.ndarray, lengths: np.ndarray, excess: np.ndarray,
                        max_depth: int) -> tuple[np.ndarray, np.ndarray] | None:
    """``(potential, flow)`` of the transshipment (flow signed, positive from ``u`` to ``v``), or ``None``.

    ``lengths`` are positive integers. The phases are bounded by twice the largest eccentricity of
    one node per connected component (an upper bound on every distance, in length units); ``None``
    means that bound exceeds ``max_depth`` (long distances: the answer is left to another engine).
    """
    indptr, heads, edge, sign, cost = _arcs(num_nodes, u.astype(np.int64), v.astype(np.int64),
                                            lengths.astype(np.int32))
    depth = _depth_bound(num_nodes, indptr, heads, cost)
    if depth > max_depth:
        return None
    excess = np.ascontiguousarray(excess, dtype=np.float64)
    tol = 4.0 * np.finfo(np.float64).eps * float(np.abs(excess).max(initial=0.0))
    flow, pi, done = _solve(num_nodes, indptr, heads, edge, sign, cost, excess, tol, depth + 1)
    if not done:  # pragma: no cover - the bound above is a theorem; kept as a guard
        return None
    return -pi.astype(np.float64), flow


def _depth_bound(num_nodes: int, indptr: np.ndarray, heads: np.ndarray, cost: np.ndarray) -> int:
    """Twice the largest distance from one node of each component: at least every distance."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components, dijkstra

    graph = sp.csr_array((cost.astype(np.float64), heads, indptr), shape=(num_nodes, num_nodes))
    _, labels = connected_components(graph, directed=False)
    _, roots = np.unique(labels, return_index=True)
    distance = dijkstra(graph, indices=roots, min_only=True)
    return 2 * int(distance[np.isfinite(distance)].max(initial=0.0))


@njit(cache=True, nogil=True)
def _arcs(n, u, v, lengths):
    """Both arcs of every edge, grouped by tail (a counting sort): ``indptr, heads, edge, sign, cost``.

    ``sign`` is +1 on the arc from ``u`` to ``v`` and -1 on its reverse.
    """
    m = u.size
    indptr = np.zeros(n + 1, np.int64)
    for k in range(m):
        indptr[u[k] + 1] += 1
        indptr[v[k] + 1] += 1
    for a in range(n):
        indptr[a + 1] += indptr[a]
    fill = indptr[:-1].copy()
    heads = np.empty(2 * m, np.int32)
    edge = np.empty(2 * m, np.int32)
    sign = np.empty(2 * m)
    cost = np.empty(2 * m, np.int32)
    for k in range(m):
        for tail, head, direction in ((u[k], v[k], 1.0), (v[k], u[k], -1.0)):
            slot = fill[tail]
            fill[tail] += 1
            heads[slot] = head
            edge[slot] = k
            sign[slot] = direction
            cost[slot] = lengths[k]
    return indptr, heads, edge, sign, cost


@njit(cache=True, nogil=True)
def _solve(n, indptr, heads, edge, sign, cost, excess, tol, max_phases):
    m = edge.size // 2
    flow = np.zeros(m)
    node = np.zeros((n, 2), np.int32)  # level, then potential: one cache line serves both reads
    e = excess.copy()
    queue = np.empty(n, np.int64)
    current = np.empty(n, np.int64)
    path = np.empty(n + 1, np.int64)  # the nodes of the path being searched
    path_arcs = np.empty(n + 1, np.int64)
    phases = 0
    while True:
        supply = False
        demand = False
        for a in range(n):
            supply |= e[a] > tol
            demand |= e[a] < -tol
        if not (supply and demand):
            return flow, node[:, 1].copy(), True  # what is left on one side only is rounding
        if phases == max_phases:
            return flow, node[:, 1].copy(), False
        phases += 1
        while True:
            # breadth-first levels from every supply, up to the first level that holds a demand
            node[:, 0] = -1
            head, tail = 0, 0
            for a in range(n):
                if e[a] > tol:
                    node[a, 0] = 0
                    queue[tail] = a
                    tail += 1
            sink_level = -1
            while head < tail:
                a = queue[head]
                head += 1
                if 0 <= sink_level <= node[a, 0]:
                    break
                pa = node[a, 1]
                for k in range(indptr[a], indptr[a + 1]):
                    b = heads[k]
                    if node[b, 0] != -1:
                        continue
                    # admissible: up by its length, or down by it against a flow (read only then)
                    rise = node[b, 1] - pa
                    if rise == cost[k] or (rise == -cost[k] and flow[edge[k]] * sign[k] < -tol):
                        node[b, 0] = node[a, 0] + 1
                        queue[tail] = b
                        tail += 1
                        if e[b] < -tol and sink_level < 0:
                            sink_level = node[b, 0]
            if sink_level < 0:
                break
            # blocking flow: depth-first along the levels; dead ends leave the level graph
            for a in range(n):
                current[a] = indptr[a]
            for s in range(n):
                while node[s, 0] == 0 and e[s] > tol:
                    depth = 0
                    path[0] = s
                    found = False
                    while depth >= 0:
                        a = path[depth]
                        if depth > 0 and e[a] < -tol:
                            found = True
                            break
                        advanced = False
                        pa = node[a, 1]
                        next_level = node[a, 0] + 1
                        while current[a] < indptr[a + 1]:
                            k = current[a]
                            b = heads[k]
                            if node[b, 0] == next_level:
                                rise = node[b, 1] - pa
                                if rise == cost[k] or (rise == -cost[k] and flow[edge[k]] * sign[k] < -tol):
                                    path_arcs[depth] = k
                                    depth += 1
                                    path[depth] = b
                                    advanced = True
                                    break
                            current[a] += 1
                        if not advanced:
                            node[a, 0] = -2
                            depth -= 1
                            if depth >= 0:
                                current[path[depth]] += 1
                    if not found:
                        break
                    t = path[depth]
                    amount = min(e[s], -e[t])
                    for d in range(depth):
                        k = path_arcs[d]
                        along = flow[edge[k]] * sign[k]
                        if along < 0.0:  # a down arc: at most the flow it cancels
                            amount = min(amount, -along)
                    for d in range(depth):
                        k = path_arcs[d]
                        flow[edge[k]] += amount * sign[k]
                    e[s] -= amount
                    e[t] += amount
        # the dual step: what the last search reached goes down by one
        for a in range(n):
            if node[a, 0] != -1:
                node[a, 1] -= 1
