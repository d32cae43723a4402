"""Exact reduction of a graph's tree-like parts: repeated removal of degree-1 nodes.

A node with a single edge must send (or receive) its whole net mass across that edge, so the
flow there is known before any optimisation, and the node can be folded into its neighbour.
Repeating this removes every pendant tree, leaving the 2-core of each component (or one root
per tree component). On a forest nothing is left to optimise: that is the closed form
``W1 = sum_e w_e |sum of (mu - nu) below e|``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["LeafPeeling"]


@dataclass
class LeafPeeling:
    """The order in which pendant nodes fold into their neighbours, computed once per graph.

    Each round holds arrays ``(child, parent, edge, sign)``: ``child`` folds into ``parent``
    across undirected edge ``edge``; ``sign`` is ``+1`` when the edge is stored as
    ``(child, parent)`` and ``-1`` when stored as ``(parent, child)``, so that the signed flow
    on the edge (positive from its first to its second endpoint) is ``sign * x`` for a flow
    ``x`` from child to parent.
    """

    num_nodes: int
    rounds: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    core_nodes: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    core_edges: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))

    @classmethod
    def from_edges(cls, num_nodes: int, u: np.ndarray, v: np.ndarray) -> LeafPeeling:
        """Peel the undirected simple graph with edges ``(u[i], v[i])``."""
        m = len(u)
        degree = np.bincount(u, minlength=num_nodes) + np.bincount(v, minlength=num_nodes)
        node_alive = np.ones(num_nodes, dtype=bool)
        edge_alive = np.ones(m, dtype=bool)
        peeling = cls(num_nodes=num_nodes)
        while True:
            leaf = node_alive & (degree == 1)
            if not leaf.any():
                break
            edges = np.flatnonzero(edge_alive & (leaf[u] | leaf[v]))
            eu, ev = u[edges], v[edges]
            # an isolated edge has two leaves: fold the larger id into the smaller, which stays
            both = leaf[eu] & leaf[ev]
            child_is_u = leaf[eu] & (~both | (eu > ev))
            child = np.where(child_is_u, eu, ev)
            parent = np.where(child_is_u, ev, eu)
            sign = np.where(child_is_u, 1.0, -1.0)
            peeling.rounds.append((child, parent, edges, sign))
            node_alive[child] = False
            edge_alive[edges] = False
            degree -= np.bincount(parent, minlength=num_nodes)
            degree[child] = 0
        peeling.core_nodes = np.flatnonzero(node_alive)
        peeling.core_edges = np.flatnonzero(edge_alive)
        return peeling

    @property
    def is_forest(self) -> bool:
        """True when peeling removed every edge (the graph is a forest)."""
        return self.core_edges.size == 0

    def push(self, excess: np.ndarray, flow: np.ndarray) -> None:
        """Fold pendant excess into the core, in place on the work arrays.

        ``excess`` has shape ``(k, n)`` (``mu - nu`` per row); on return it holds the excess
        of the core nodes (zero on peeled ones). ``flow`` has shape ``(k, m)``; the flow on
        every peeled edge is written into it.
        """
        excess_t = excess.T  # view: np.add.at scatters along the first axis
        for child, parent, edges, sign in self.rounds:
            moved = excess[:, child]
            flow[:, edges] = sign * moved
            np.add.at(excess_t, parent, moved.T)
            excess[:, child] = 0.0

    def unpeel(self, potential: np.ndarray, flow: np.ndarray, weight: np.ndarray) -> None:
        """Extend a potential from the core to the peeled nodes, in place.

        Along an edge carrying flow from child to parent an optimal potential drops by exactly
        the edge length (complementary slackness); against the flow it rises by it; with no
        flow the child copies its parent, which keeps every edge constraint.
        """
        for child, parent, edges, sign in reversed(self.rounds):
            moved = sign * flow[:, edges]
            potential[:, child] = potential[:, parent] + np.sign(moved) * weight[edges]
