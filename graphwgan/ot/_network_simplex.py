"""The sparse min-cost-flow (transshipment) solve on the core of a graph, through POT.

POT's network simplex solves transport problems between sources and sinks over a given set of
arcs. A transshipment problem on a graph becomes one exactly: every node is a source with supply
``max(e, 0) + s`` and a sink with demand ``max(-e, 0) + s``; each edge gives two arcs of cost
``w`` between the two copies of its endpoints, and each node a zero-cost arc from its source
copy to its sink copy. With a buffer ``s`` larger than the throughput of any node (twice the
total positive excess suffices, since an optimal flow with positive lengths has no cycles), the
zero-cost arcs all carry flow, so they are basic and the transport duals satisfy
``v_i = -u_i``: ``u`` is then an optimal Kantorovich potential of the graph problem.
"""

from __future__ import annotations

import numpy as np

from graphwgan.ot._peeling import LeafPeeling

__all__ = ["solve_transshipment", "supply_grid"]


def supply_grid(num_nodes: int) -> float:
    """The mass grid of :func:`_integer_supplies`, as a fraction of the total positive excess."""
    return 2.0 ** -(51 - int(np.ceil(np.log2(3 * max(num_nodes, 2)))))


def _integer_supplies(excess: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Supplies and demands on a grid ``q = 2**-k`` on which every partial sum is exact.

    The simplex accepts a problem only if its supplies sum to zero to 1e-14, in its own order of
    summation. Masses normalised to total excess 1, a buffer of 2, and every value a multiple of
    ``q`` with ``n * 3 / q < 2**52`` make every partial sum exact, so the totals agree exactly in
    any order. The grid is finer than 1e-9 of the total excess up to a million nodes; the exact
    masses are restored afterwards when the flow is polished.
    """
    n = excess.size
    steps = 1.0 / supply_grid(n)  # grid points per unit of mass
    units = np.rint(excess * steps).astype(np.int64)
    # rounding may leave the integer excess unbalanced by a few units: absorb it at the largest entry
    units[np.argmax(np.abs(units))] -= units.sum()
    buffer = 2 * int(steps)
    supply = (np.maximum(units, 0) + buffer) / steps
    demand = (np.maximum(-units, 0) + buffer) / steps
    return supply, demand, steps


def solve_transshipment(num_nodes: int, u: np.ndarray, v: np.ndarray, weight: np.ndarray,
                        excess: np.ndarray, max_iter: int) -> tuple[np.ndarray, np.ndarray]:
    """Minimise ``sum_e w_e |x_e|`` subject to ``B x = excess`` on a graph with edges ``(u, v)``.

    Returns ``(potential, flow)``: ``potential`` of shape ``(num_nodes,)`` with
    ``|f(u) - f(v)| <= w`` on every edge and ``sum f * excess`` equal to the optimum, and the
    signed flow of shape ``(len(u),)``, positive from ``u`` to ``v``. ``excess`` must sum to
    zero on every connected component.
    """
    import warnings

    import ot
    import scipy.sparse as sp

    total = np.maximum(excess, 0.0).sum()
    flow = np.zeros(len(u))
    if total == 0.0:
        return np.zeros(num_nodes), flow
    supply, demand, _ = _integer_supplies(excess / total)
    nodes = np.arange(num_nodes)
    rows = np.concatenate([u, v, nodes])
    cols = np.concatenate([v, u, nodes])
    cost = np.concatenate([weight, weight, np.zeros(num_nodes)])
    arcs = sp.coo_array((cost, (rows, cols)), shape=(num_nodes, num_nodes))
    with warnings.catch_warnings():
        # the result code below is turned into an error that says what to do
        warnings.simplefilter("ignore", UserWarning)
        plan, log = ot.emd(supply, demand, arcs, numItermax=max_iter, log=True, check_marginals=False)
    code = log.get("result_code")
    if code != 1:
        if code == 3:
            raise RuntimeError(
                f"the network simplex stopped after max_iter={max_iter} iterations without reaching an optimum; "
                "raise max_iter"
            )
        raise RuntimeError(f"the network simplex did not reach an optimum: {log.get('warning')}")

    plan = sp.coo_array(plan)
    src, dst, amount = plan.row, plan.col, plan.data * total
    moving = src != dst
    src, dst, amount = src[moving], dst[moving], amount[moving]
    # arcs are found again by key; each edge appears as (u, v) and (v, u)
    keys = np.concatenate([u * num_nodes + v, v * num_nodes + u])
    order = np.argsort(keys)
    position = order[np.searchsorted(keys, src.astype(np.int64) * num_nodes + dst, sorter=order)]
    m = len(u)
    forward = position < m
    np.add.at(flow, position[forward], amount[forward])
    np.add.at(flow, position[~forward] - m, -amount[~forward])
    potential = np.asarray(log["u"], dtype=np.float64)
    return _polish(num_nodes, u, v, weight, excess, flow, potential)


def _polish(num_nodes: int, u: np.ndarray, v: np.ndarray, weight: np.ndarray, excess: np.ndarray,
            flow: np.ndarray, potential: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Recompute flow and potential on the flow's support forest from the exact data.

    The simplex works on rounded masses and carries a buffer on every node, so its flows are
    rounded at the buffer's scale and its potentials at the scale of the largest path length. An
    optimal basic solution is supported on a forest, where the flow is determined by the excess
    alone and the potential, up to one constant per tree, by the edge lengths alone (it drops by
    exactly ``w`` along each edge in the direction of the flow). Folding the forest's leaves
    recomputes both to the precision of the inputs. The potential follows the simplex's flow
    directions (a flow within rounding of zero may flip sign when recomputed; that costs at most its
    own tiny amount, which the optimality certificate bounds). The simplex solution is kept if the
    support is not a forest.
    """
    support = np.flatnonzero(flow)
    peeling = LeafPeeling.from_edges(num_nodes, u[support], v[support])
    if not peeling.is_forest:
        return potential, flow
    remaining = excess[None].copy()
    exact = np.zeros((1, support.size))
    peeling.push(remaining, exact)
    tolerance = 1e-9 * np.abs(excess).sum()
    if np.abs(remaining).max() > tolerance:
        return potential, flow
    polished_potential = potential[None].copy()
    peeling.unpeel(polished_potential, flow[None, support], weight[support])
    polished = np.zeros_like(flow)
    polished[support] = exact[0]
    return polished_potential[0], polished
