r"""Exact Wasserstein-1 distance between distributions on the nodes of a graph.

With the shortest-path ground cost :math:`d` of an undirected graph with positive edge lengths
:math:`w`, the Wasserstein-1 distance between node masses :math:`\mu, \nu` of equal total (on every
connected component) is the transshipment linear programme and its dual

.. math::

    W_1(\mu, \nu) = \min_{x \in \mathbb{R}^{E}} \sum_e w_e |x_e| \ \text{ s.t. } Bx = \mu - \nu
    \;=\; \max_{f} \sum_v f(v) (\mu(v) - \nu(v)) \ \text{ s.t. } |f(u) - f(v)| \le w_{uv}
    \ \forall (u, v) \in E,

where :math:`B` is the node-edge incidence matrix. Both have :math:`O(|V| + |E|)` variables: the
:math:`|V| \times |V|` cost matrix is never formed. Pendant trees are folded in closed form
(:mod:`graphwgan.ot._peeling`); what remains is solved by a network simplex.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from graphwgan.ot._masses import MassInfo, as_masses, check_balance
from graphwgan.ot._network_simplex import solve_transshipment, supply_grid
from graphwgan.ot._peeling import LeafPeeling
from graphwgan.ot.mcf import (
    METHODS,
    attempts,
    choose_method,
    primal_dual_network,
    solve_cost_scaling,
    solve_primal_dual,
)

__all__ = ["GraphTransport", "WassersteinResult", "wasserstein", "wasserstein_batch", "tree_wasserstein"]

# certificate tolerances: relative edge-constraint violation and rounding at the potentials' magnitude
_LIPSCHITZ_RTOL = 1e-9
_ROUNDING = 1e-12


@dataclass(frozen=True)
class WassersteinResult:
    r"""The exact Wasserstein-1 solution between two node distributions.

    Attributes
    ----------
    distance : float or torch.Tensor
        :math:`W_1(\mu, \nu)`. A 0-d tensor when an input was a torch tensor (differentiable with
        respect to ``mu`` and ``nu`` when they require grad); shape ``(k,)`` in batch form.
    flow : ndarray or torch.Tensor, shape ``(m,)`` or ``(k, m)``
        An optimal flow on each undirected edge of ``edge_index``: positive when mass moves from
        ``edge_index[0]`` to ``edge_index[1]``. ``distance == sum(edge_weight * |flow|)`` and the
        net outflow of every node is ``mu - nu``.
    potential : ndarray or torch.Tensor, shape ``(n,)`` or ``(k, n)``
        An optimal Kantorovich potential :math:`f`: :math:`|f(u) - f(v)| \le w_{uv}` on every edge
        and :math:`\sum_v f(v)(\mu(v) - \nu(v)) = W_1`. Normalised to zero mean on each connected
        component, which makes it the gradient of :math:`W_1` with respect to ``mu`` along
        mass-preserving directions (and its negative the gradient with respect to ``nu``).
    edge_index : ndarray or torch.Tensor, shape ``(2, m)``
        The undirected edges, each once with ``edge_index[0] < edge_index[1]``, in the order in
        which they first appear in the graph's ``edge_index``.
    edge_weight : ndarray or torch.Tensor, shape ``(m,)``
        The length of each undirected edge.
    """

    distance: Any
    flow: Any
    potential: Any
    edge_index: Any
    edge_weight: Any

    def __float__(self) -> float:
        return float(self.distance)


class GraphTransport:
    r"""Exact optimal transport on one graph, prepared once and reused across many pairs.

    Building it extracts the undirected edges, the connected components and the pendant-tree
    folding of the graph (a networkx, scipy or numpy graph is read as arrays, without a PyG
    ``Data``; :attr:`graph` builds one on first use); each :meth:`solve` then costs one min-cost
    flow on the remaining core (``method``). The primal-dual engine's arcs and distance bound are
    built on its first solve and kept. Use it (or :func:`wasserstein_batch`) when comparing many
    pairs of distributions on the same graph.

    Parameters
    ----------
    graph : Data, networkx.Graph, scipy sparse matrix, edge_index or path
        Anything :func:`graphwgan.to_graph` accepts. Edge weights are lengths.
    max_iter : int, optional
        Iteration limit of the network simplex. Default: ``max(10**6, 100 * arcs)``.
    method : {"auto", "network_simplex", "cost_scaling", "primal_dual"}, default "auto"
        The min-cost-flow engine (see :mod:`graphwgan.ot.mcf`): POT's network simplex, LEMON's
        cost scaling through ``pylmcf``, or the compiled primal-dual method (both for lengths that
        are integral after scaling by a power of two). ``"auto"`` takes the primal-dual method for
        large cores when it applies, and cost scaling where its distance bound is too long. Every
        result is certified whatever the engine; an engine that does not apply, or whose result
        fails its certificate, passes the problem to the next (cost scaling, then the network
        simplex).

    Examples
    --------
    >>> import numpy as np, networkx as nx
    >>> transport = GraphTransport(nx.path_graph(4))
    >>> transport.solve(np.array([1.0, 0, 0, 0]), np.array([0, 0, 0, 1.0])).distance
    3.0
    """

    def __init__(self, graph: Any, *, max_iter: int | None = None, method: str = "auto") -> None:
        from scipy.sparse.csgraph import connected_components

        from graphwgan.convert import _adjacency
        from graphwgan.graph import edge_arrays

        if method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(map(repr, METHODS))}, got {method!r}")
        self.method = method

        # the graph as arrays (a networkx, scipy or numpy graph never imports PyTorch Geometric);
        # the Data of ``self.graph`` is built only if asked for
        self._arrays = graph._arrays if isinstance(graph, GraphTransport) else edge_arrays(graph)
        self._data = None
        row, col, lengths, n = self._arrays
        upper = row < col
        self.num_nodes = int(n)
        self.edge_index = np.stack([row[upper], col[upper]]).astype(np.int64, copy=False)
        self.edge_weight = np.asarray(lengths[upper], dtype=np.float64)
        self.num_components, self.component = connected_components(_adjacency(row, col, n), directed=False)
        self.component = np.asarray(self.component, dtype=np.int64)
        u, v = self.edge_index
        self._peeling = LeafPeeling.from_edges(self.num_nodes, u, v)
        core_nodes = self._peeling.core_nodes
        core_edges = self._peeling.core_edges
        relabel = np.full(self.num_nodes, -1, dtype=np.int64)
        relabel[core_nodes] = np.arange(core_nodes.size)
        self._core_nodes = core_nodes
        self._core_edges = core_edges
        self._core_u = relabel[u[core_edges]]
        self._core_v = relabel[v[core_edges]]
        self._core_component = self.component[core_nodes]
        arcs = 2 * core_edges.size + core_nodes.size
        self.max_iter = int(max_iter) if max_iter is not None else max(10**6, 100 * arcs)
        if self.max_iter <= 0:
            raise ValueError(f"max_iter must be a positive integer, got {max_iter!r}")

    @cached_property
    def _core_network(self):
        """The primal-dual engine's arcs and distance bound for the whole core, built on first use.

        ``None`` where the engine refuses the core; kept for every later solve and row.
        """
        return primal_dual_network(self._core_nodes.size, self._core_u, self._core_v,
                                   self.edge_weight[self._core_edges])

    @property
    def graph(self):
        """The graph in :func:`graphwgan.to_graph`'s ``Data`` layout (built on first use)."""
        if self._data is None:
            from graphwgan.graph import to_graph

            row, col, lengths, n = self._arrays
            self._data = to_graph(np.stack([row, col]), lengths, num_nodes=n)
        return self._data

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(num_nodes={self.num_nodes}, num_edges={self.edge_weight.size}, "
            f"core_nodes={self._core_nodes.size}, core_edges={self._core_edges.size}, method={self.method!r})"
        )

    # -- solving ------------------------------------------------------------------------------
    def solve(self, mu: Any, nu: Any) -> WassersteinResult:
        """Exact W1 between ``mu`` and ``nu`` (1-D, one mass per node). See :func:`wasserstein`."""
        mu_arr, mu_info = as_masses(mu, "mu", self.num_nodes)
        nu_arr, nu_info = as_masses(nu, "nu", self.num_nodes)
        distance, flow, potential = self._solve_rows(mu_arr[None], nu_arr[None], mu_info, nu_info)
        return self._package(distance[0], flow[0], potential[0], mu, nu, mu_info, nu_info)

    def solve_batch(self, mu: Any, nu: Any) -> WassersteinResult:
        """Exact W1 for ``k`` pairs; see :func:`wasserstein_batch`.

        ``mu`` and ``nu`` have shape ``(k, n)``, or one of them ``(n,)`` shared by every pair.
        """
        mu_arr, mu_info = as_masses(mu, "mu", self.num_nodes, batched=True)
        nu_arr, nu_info = as_masses(nu, "nu", self.num_nodes, batched=True)
        if mu_arr.ndim == 1 and nu_arr.ndim == 1:
            raise ValueError("wasserstein_batch needs mu or nu of shape (k, n); for one pair use wasserstein")
        k = mu_arr.shape[0] if mu_arr.ndim == 2 else nu_arr.shape[0]
        if k == 0:
            raise ValueError("wasserstein_batch needs at least one pair (mu and nu have 0 rows)")
        if mu_arr.ndim == 2 and nu_arr.ndim == 2 and mu_arr.shape[0] != nu_arr.shape[0]:
            raise ValueError(
                f"mu has {mu_arr.shape[0]} rows but nu has {nu_arr.shape[0]}; give the same number of pairs"
            )
        mu_rows = np.broadcast_to(mu_arr, (k, self.num_nodes))
        nu_rows = np.broadcast_to(nu_arr, (k, self.num_nodes))
        distance, flow, potential = self._solve_rows(mu_rows, nu_rows, mu_info, nu_info)
        return self._package(distance, flow, potential, mu, nu, mu_info, nu_info)

    def _solve_rows(self, mu: np.ndarray, nu: np.ndarray, mu_info: MassInfo, nu_info: MassInfo):
        k, n = mu.shape
        per_mu, per_nu = check_balance(mu, nu, self.component, self.num_components, mu_info, nu_info)
        # tolerated rounding differences in the totals: move nu onto mu's total per component
        scale = np.divide(per_mu, per_nu, out=np.ones_like(per_mu), where=per_nu > 0)
        nu = nu * scale[:, self.component]
        excess = mu - nu
        flow = np.zeros((k, self.edge_weight.size))
        self._peeling.push(excess, flow)
        potential = np.zeros((k, n))
        exact_excess = mu - nu
        # engines in turn: one that does not apply, or whose result fails the certificate (an
        # integer engine's rounding), passes to the next; the last is the float engine
        engines = attempts(self._engine())
        # one row at a time: the certificate never builds (pairs x edges) temporaries
        for row in range(k):
            core_excess = excess[row, self._core_nodes]
            for engine in engines:
                solved = self._solve_core(core_excess, engine)
                if solved is None:
                    continue
                core_potential, core_flow, grid = solved
                flow[row, self._core_edges] = core_flow
                potential[row] = 0.0
                potential[row, self._core_nodes] = core_potential
                self._peeling.unpeel(potential[row:row + 1], flow[row:row + 1], self.edge_weight)
                self._center(potential[row:row + 1])
                failure = self._certify(flow[row], potential[row], exact_excess[row], grid)
                if failure is None:
                    break
            else:
                raise RuntimeError(
                    f"the exact solver returned a solution that fails its optimality certificate ({failure}); "
                    "this is a bug in graphwgan, please report it with the graph and masses"
                )
        distance = np.abs(flow) @ self.edge_weight
        return distance, flow, potential

    def _engine(self) -> str:
        return choose_method(self.method, self._core_edges.size, self.edge_weight[self._core_edges])

    def _solve_core(self, core_excess: np.ndarray, engine: str) -> tuple[np.ndarray, np.ndarray, float] | None:
        potential = np.zeros(core_excess.size)
        flow = np.zeros(self._core_u.size)
        if self._core_u.size == 0:
            return potential, flow, 0.0
        # only components that carry excess need the simplex
        active_component = np.zeros(self.num_components, dtype=bool)
        active_component[self._core_component[core_excess != 0.0]] = True
        active_node = active_component[self._core_component]
        if not active_node.any():
            return potential, flow, 0.0
        if active_node.all():
            return self._engine_solve(engine, core_excess.size, self._core_u, self._core_v,
                                      self.edge_weight[self._core_edges], core_excess, whole_core=True)
        nodes = np.flatnonzero(active_node)
        edges = np.flatnonzero(active_node[self._core_u])
        relabel = np.full(core_excess.size, -1, dtype=np.int64)
        relabel[nodes] = np.arange(nodes.size)
        solved = self._engine_solve(
            engine, nodes.size, relabel[self._core_u[edges]], relabel[self._core_v[edges]],
            self.edge_weight[self._core_edges[edges]], core_excess[nodes],
        )
        if solved is None:
            return None
        sub_potential, sub_flow, grid = solved
        potential[nodes] = sub_potential
        flow[edges] = sub_flow
        return potential, flow, grid

    def _engine_solve(self, engine, num_nodes, u, v, weight, excess,
                      whole_core: bool = False) -> tuple[np.ndarray, np.ndarray, float] | None:
        if engine == "primal_dual":
            return solve_primal_dual(num_nodes, u, v, weight, excess, self._core_network if whole_core else None)
        if engine == "cost_scaling":
            return solve_cost_scaling(num_nodes, u, v, weight, excess)
        potential, flow = solve_transshipment(num_nodes, u, v, weight, excess, self.max_iter)
        return potential, flow, supply_grid(num_nodes)

    def _center(self, potential: np.ndarray) -> np.ndarray:
        counts = np.bincount(self.component, minlength=self.num_components)
        for row in range(potential.shape[0]):
            means = np.bincount(self.component, weights=potential[row], minlength=self.num_components) / counts
            potential[row] -= means[self.component]
        return potential

    def _certify(self, flow: np.ndarray, potential: np.ndarray, excess: np.ndarray, grid: float) -> str | None:
        r"""Check one solution from first principles; ``None`` when it is optimal, else what failed.

        Primal feasibility (flow conservation), dual feasibility (every edge constraint) and equal
        objectives together prove optimality. The tolerances follow from the problem, so that a
        correct answer is never refused: with :math:`T` the total excess, :math:`F = \max |f|`,
        :math:`W = \max w` and :math:`r = Bx - e` the conservation residual,

        * edge constraints within ``1e-9 w + 1e-12 (F + w)`` (rounding of potentials at their
          own magnitude);
        * :math:`\|r\|_1 \le (n\,\text{grid} + 8 (n + m)\epsilon) T`: a flow that could not be
          polished keeps the engine's mass grid, at most one step per node;
        * :math:`|\sum_e w_e |x_e| - \sum_v f(v) e(v)| \le \|r\|_1 F + \max(10^{-12}, 8 (n + m)
          \epsilon)\, 2 T (F + W)`: the residual's own effect on the objective plus the rounding of
          two sums of :math:`n` and :math:`m` terms.
        """
        u, v = self.edge_index
        n, m = self.num_nodes, self.edge_weight.size
        eps = np.finfo(np.float64).eps
        magnitude = float(np.abs(potential).max()) if potential.size else 0.0
        if m:
            slack = np.abs(potential[u] - potential[v]) - self.edge_weight
            allowed = _LIPSCHITZ_RTOL * self.edge_weight + _ROUNDING * (magnitude + self.edge_weight)
            worst = float((slack / allowed).max())
        else:
            worst = 0.0
        total = float(np.maximum(excess, 0.0).sum())
        net = np.bincount(u, weights=flow, minlength=n) - np.bincount(v, weights=flow, minlength=n)
        residual = float(np.abs(net - excess).sum())
        size_rtol = 8.0 * (n + m) * eps
        residual_allowed = (n * grid + size_rtol) * total
        primal = float(np.abs(flow) @ self.edge_weight)
        dual = float(potential @ excess)
        gap = abs(primal - dual)
        gap_allowed = residual * magnitude + max(_ROUNDING, size_rtol) * 2.0 * total * (
            magnitude + self.edge_weight.max(initial=0.0))
        if worst > 1.0 or residual > residual_allowed or gap > gap_allowed:
            return (f"edge constraint violated by {worst:.3g} times its tolerance, conservation residual "
                    f"{residual:.3g} (allowed {residual_allowed:.3g}), duality gap {gap:.3g} "
                    f"(allowed {gap_allowed:.3g})")
        return None

    # -- packaging ----------------------------------------------------------------------------
    def _package(self, distance, flow, potential, mu, nu, mu_info: MassInfo, nu_info: MassInfo) -> WassersteinResult:
        if not (mu_info.is_torch or nu_info.is_torch):
            value = float(distance) if np.ndim(distance) == 0 else distance
            return WassersteinResult(value, flow, potential, self.edge_index.copy(), self.edge_weight.copy())
        from graphwgan.ot._autograd import attach_gradient

        info = mu_info if mu_info.is_torch else nu_info
        return attach_gradient(distance, flow, potential, self.edge_index, self.edge_weight,
                               mu if mu_info.is_torch else None, nu if nu_info.is_torch else None,
                               info, WassersteinResult)


def _prepared(graph: Any, max_iter: int | None, method: str | None) -> GraphTransport:
    if isinstance(graph, GraphTransport) and max_iter is None and method in (None, graph.method):
        return graph
    return GraphTransport(graph, max_iter=max_iter, method=method or "auto")


def wasserstein(graph: Any, mu: Any, nu: Any, *, max_iter: int | None = None,
                method: str | None = None) -> WassersteinResult:
    r"""Exact Wasserstein-1 distance between two distributions on the nodes of a graph.

    The ground cost is the shortest-path distance with edge weights as lengths. Solves the sparse
    transshipment problem (see the module docstring) in :math:`O(|V| + |E|)` memory.

    Parameters
    ----------
    graph : Data, networkx.Graph, scipy sparse matrix, edge_index, path or GraphTransport
        The graph (anything :func:`graphwgan.to_graph` accepts). Pass a :class:`GraphTransport` to
        reuse its preparation across calls.
    mu, nu : array-like or torch.Tensor, shape ``(n,)``
        Non-negative masses per node with equal totals on every connected component (they need
        not sum to one). Torch tensors give torch results, and a differentiable ``distance`` when
        they require grad.
    max_iter : int, optional
        Iteration limit of the network simplex.
    method : {"auto", "network_simplex", "cost_scaling", "primal_dual"}, optional
        The min-cost-flow engine (default ``"auto"``, or the prepared :class:`GraphTransport`'s);
        see :class:`GraphTransport`.

    Returns
    -------
    WassersteinResult
        ``distance``, ``flow`` (per undirected edge), ``potential`` (per node), ``edge_index``.

    Raises
    ------
    ValueError
        Masses of the wrong length, negative, NaN or infinite, of different totals, or of
        different totals on some connected component (W1 is infinite there).

    Examples
    --------
    >>> import numpy as np, networkx as nx
    >>> result = wasserstein(nx.cycle_graph(6), np.eye(6)[0], np.eye(6)[3])
    >>> result.distance
    3.0
    """
    return _prepared(graph, max_iter, method).solve(mu, nu)


def wasserstein_batch(graph: Any, mu: Any, nu: Any, *, max_iter: int | None = None,
                      method: str | None = None) -> WassersteinResult:
    """Exact Wasserstein-1 distances for many pairs of distributions on one graph.

    ``mu`` and ``nu`` have shape ``(k, n)``, or one of them ``(n,)`` to compare it with every row
    of the other. The graph is prepared once; the folding of pendant trees runs on all pairs at
    once. Returns a :class:`WassersteinResult` whose fields have a leading axis of size ``k``.
    """
    return _prepared(graph, max_iter, method).solve_batch(mu, nu)


def tree_wasserstein(graph: Any, mu: Any, nu: Any) -> WassersteinResult:
    r"""Closed-form Wasserstein-1 on a tree (or forest), without any optimisation.

    On a tree the flow across each edge is forced: it is the net mass of the side it separates,
    so :math:`W_1 = \sum_e w_e \left| \sum_{v \in T_e} (\mu(v) - \nu(v)) \right|`, with
    :math:`T_e` the subtree below :math:`e`. Computed by folding leaves into their neighbours in
    :math:`O(|V|)`. Raises ``ValueError`` when the graph has a cycle.
    """
    transport = graph if isinstance(graph, GraphTransport) else GraphTransport(graph)
    if not transport._peeling.is_forest:
        raise ValueError(
            f"tree_wasserstein needs a tree or forest, but the graph has {transport._core_edges.size} edges "
            "on cycles; use wasserstein, which handles any graph"
        )
    return transport.solve(mu, nu)
