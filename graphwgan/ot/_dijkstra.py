"""Distances from many sources, each search stopped at a radius: Dijkstra's method, compiled.

The local ruler on a graph with edge lengths needs, for a chunk of sources, the distances to every
node within a radius (:func:`graphwgan.ot.local._distance_rows`). scipy's ``dijkstra(...,
limit=...)`` gives them but took about 60% of a weighted graph's curvature (a 2,000-node
Barabasi-Albert graph); here each search runs compiled, without the interpreter lock, the sources
split between threads, and touches only the nodes it reaches.

Each search keeps a binary heap of (tentative distance, node) entries and skips the entries that a
shorter one has overtaken (lazy deletion), so a node's distance is final when it is first popped;
with positive lengths that is Dijkstra's invariant. A node beyond the radius is never labelled.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from graphwgan.ot._integer_transport import _parts

__all__ = ["bounded_distances"]


def bounded_distances(indptr, indices, lengths, sources, limit: float, rows, pool=None, workers: int = 1) -> None:
    """Each source's distances to the nodes within ``limit``, written into ``rows``.

    ``rows`` is float64 of shape ``(len(sources), n)`` and holds ``inf`` on entry (it stays there
    beyond ``limit``); the graph is the CSR matrix ``indptr, indices, lengths`` (positive lengths,
    both directions of every edge). With a thread ``pool`` the sources are split in ``workers``
    parts, each writing its own rows.
    """
    indptr, indices = indptr.astype(np.int64, copy=False), indices.astype(np.int64, copy=False)
    lengths, sources = lengths.astype(np.float64, copy=False), sources.astype(np.int64, copy=False)
    parts, each = _parts(sources.size, pool, workers)
    list(each(lambda part: _searches(indptr, indices, lengths, sources[part], float(limit), rows[part]), parts))


@njit(cache=True, nogil=True)
def _searches(indptr, indices, lengths, sources, limit, rows):
    heap_distance = np.empty(indices.size + 1)
    heap_node = np.empty(indices.size + 1, np.int64)
    for s in range(sources.size):
        row = rows[s]
        row[sources[s]] = 0.0
        _place(heap_distance, heap_node, 0, 0.0, sources[s])
        size = 1
        while size:
            distance, node = heap_distance[0], heap_node[0]
            size -= 1
            _sift_down(heap_distance, heap_node, size, heap_distance[size], heap_node[size])
            if distance > row[node]:
                continue  # overtaken by a shorter entry
            for k in range(indptr[node], indptr[node + 1]):
                other = indices[k]
                candidate = distance + lengths[k]
                if candidate <= limit and candidate < row[other]:
                    row[other] = candidate
                    _sift_up(heap_distance, heap_node, size, candidate, other)
                    size += 1


@njit(cache=True, inline="always")
def _sift_up(heap_distance, heap_node, position, distance, node):
    """Put (distance, node) at ``position`` (the end of the heap) and move it up to its place."""
    while position > 0:
        parent = (position - 1) >> 1
        if heap_distance[parent] <= distance:
            break
        _move(heap_distance, heap_node, parent, position)
        position = parent
    _place(heap_distance, heap_node, position, distance, node)


@njit(cache=True, inline="always")
def _sift_down(heap_distance, heap_node, size, distance, node):
    """Put (distance, node), the former last entry, at the root of a heap of ``size`` and move it down."""
    if size == 0:
        return
    position = 0
    while True:
        child = 2 * position + 1
        if child >= size:
            break
        if child + 1 < size and heap_distance[child + 1] < heap_distance[child]:
            child += 1
        if heap_distance[child] >= distance:
            break
        _move(heap_distance, heap_node, child, position)
        position = child
    _place(heap_distance, heap_node, position, distance, node)


@njit(cache=True, inline="always")
def _move(heap_distance, heap_node, source, target):
    _place(heap_distance, heap_node, target, heap_distance[source], heap_node[source])


@njit(cache=True, inline="always")
def _place(heap_distance, heap_node, position, distance, node):
    heap_distance[position] = distance
    heap_node[position] = node
