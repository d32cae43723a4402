r"""The min-cost-flow engines behind the exact ruler, and the choice between them by problem shape.

Three exact engines solve the transshipment :math:`\min \sum_e w_e |x_e|` s.t. :math:`Bx = e`:

* ``"network_simplex"``: POT's network simplex on float data
  (:func:`graphwgan.ot._network_simplex.solve_transshipment`); fastest on small and medium cores.
* ``"primal_dual"``: the primal-dual method with integer potentials, compiled
  (:mod:`graphwgan.ot._primal_dual`), for lengths that are small integers after scaling by a power
  of two. It needs at most as many phases (each a maximum flow by Dinic's method) as the longest
  distance between a supply and a demand, in length units, so it is used only where twice the
  eccentricity of one node per component is at most ``PRIMAL_DUAL_MAX_DEPTH``: graphs with short
  distances (social, citation, protein networks; not grids or long paths). Its masses stay floating
  point and its result is exact: a Barabási-Albert graph with :math:`10^6` edges and masses on
  every node in about 0.7 s, where LEMON's cost scaling takes 3.5 s on the same problem in the same
  run (``benchmarks/results/wasserstein_diffuse.md``).
* ``"cost_scaling"``: LEMON's cost-scaling push-relabel through ``pylmcf``. It grows about as
  :math:`|E|^{1.5}` where the network simplex grows as :math:`|E|^{2.4}` on diffuse masses, but it
  needs integers: the masses are put on a grid of :math:`2^{-k}` of the total excess (:math:`k` as
  large as int64 arithmetic allows, about 40 for a million nodes) and the lengths must be integers
  after scaling by a power of two (unit lengths, integer lengths, halves...); otherwise the network
  simplex is used.

Exactness of the cost-scaling engine. With integer lengths the returned potential :math:`f = -\pi`
(LEMON's node potentials) is *exactly* dual feasible, so :math:`\sum_v f(v) e(v)` is an exact
lower bound, computed on the unrounded masses. The flow is then recomputed from the exact masses
on its support forest (:func:`graphwgan.ot._network_simplex._polish`) when the support is a
forest; otherwise it keeps the grid's rounding (at most one grid step per node). Either way the
caller certifies the result (edge constraints, conservation residual, duality gap) and falls back
to the network simplex when the certificate fails.

``"auto"`` picks, for cores of at least ``COST_SCALING_MIN_EDGES`` edges whose lengths are
integral after scaling, the primal-dual engine, then cost scaling where the primal-dual engine's
distance bound is too long; the network simplex otherwise. A solve that does not apply or fails
its certificate passes to the next engine of that order.
"""

from __future__ import annotations

import numpy as np

__all__ = ["COST_SCALING_MIN_EDGES", "METHODS", "PRIMAL_DUAL_MAX_DEPTH", "attempts", "choose_method",
           "primal_dual_network", "solve_cost_scaling", "solve_primal_dual"]

METHODS = ("auto", "network_simplex", "cost_scaling", "primal_dual")
# below this many core edges the network simplex is as fast (measured; see the module docstring)
COST_SCALING_MIN_EDGES = 20_000
# the primal-dual engine's phases: at most this bound on the distances, in length units
PRIMAL_DUAL_MAX_DEPTH = 64
_MAX_LENGTH_SCALE = 2**10  # lengths k / 2**j with j <= 10 are integral after scaling
_INT64_BUDGET = 2.0**61  # room for the total cost and every flow in int64


def has_cost_scaling() -> bool:
    """True when the optional ``pylmcf`` engine imports."""
    try:
        import pylmcf.pylmcf_cpp  # noqa: F401
    except ImportError:
        return False
    return True


def integer_lengths(weight: np.ndarray) -> tuple[np.ndarray, float] | None:
    """``(integer lengths, scale)`` with ``lengths = weight * scale`` exactly, or ``None``."""
    if weight.size == 0:
        return np.zeros(0, dtype=np.int64), 1.0
    scale = 1.0
    while scale <= _MAX_LENGTH_SCALE:
        scaled = weight * scale
        if np.all(scaled == np.rint(scaled)) and scaled.max() < 2.0**20:
            return scaled.astype(np.int64), scale
        scale *= 2.0
    return None


def choose_method(method: str, num_edges: int, weight: np.ndarray) -> str:
    """The engine ``method`` resolves to for a core of ``num_edges`` edges with lengths ``weight``."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, METHODS))}, got {method!r}")
    if method == "network_simplex":
        return method
    integral = integer_lengths(weight) is not None
    if method == "cost_scaling" and not has_cost_scaling():
        raise ImportError(
            "method='cost_scaling' needs the optional package pylmcf (pip install pylmcf); "
            "method='network_simplex' needs nothing more"
        )
    if method in ("cost_scaling", "primal_dual"):
        if not integral:
            raise ValueError(
                f"method={method!r} needs lengths that are integers after scaling by a power of two up to "
                f"{_MAX_LENGTH_SCALE} (below 2**20); use method='network_simplex' for these lengths"
            )
        return method
    return "primal_dual" if integral and num_edges >= COST_SCALING_MIN_EDGES else "network_simplex"


def attempts(engine: str) -> list[str]:
    """The engines tried in turn for ``engine``: a solve that does not apply or fails its certificate passes on."""
    if engine == "primal_dual":
        return ["primal_dual", *(["cost_scaling"] if has_cost_scaling() else []), "network_simplex"]
    if engine == "cost_scaling":
        return ["cost_scaling", "network_simplex"]
    return [engine]


def primal_dual_network(num_nodes: int, u: np.ndarray, v: np.ndarray, weight: np.ndarray):
    """The graph as the primal-dual engine reads it, to give :func:`solve_primal_dual` on every solve."""
    from graphwgan.ot._primal_dual import prepare

    return prepare(num_nodes, u, v, integer_lengths(weight)[0])


def solve_primal_dual(num_nodes: int, u: np.ndarray, v: np.ndarray, weight: np.ndarray, excess: np.ndarray,
                      network=None) -> tuple[np.ndarray, np.ndarray, float] | None:
    """The compiled primal-dual engine; ``None`` where its distance bound exceeds ``PRIMAL_DUAL_MAX_DEPTH``.

    Returns ``(potential, flow, grid)`` like :func:`solve_cost_scaling`, with ``grid = 0``: the
    masses are not rounded. ``network``, where given, is ``primal_dual_network(num_nodes, u, v, weight)``.
    """
    from graphwgan.ot._primal_dual import solve_transshipment

    if len(u) == 0:
        return np.zeros(num_nodes), np.zeros(0), 0.0
    lengths, length_scale = integer_lengths(weight)
    solved = solve_transshipment(num_nodes, u, v, lengths, excess, PRIMAL_DUAL_MAX_DEPTH, network)
    if solved is None:
        return None
    potential, flow = solved
    return potential / length_scale, flow, 0.0


def solve_cost_scaling(num_nodes: int, u: np.ndarray, v: np.ndarray, weight: np.ndarray,
                       excess: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """LEMON's cost scaling on the transshipment problem; see the module docstring.

    Returns ``(potential, flow, grid)``: an exactly dual-feasible potential (for lengths that are
    integral after scaling), the signed flow per edge (positive from ``u`` to ``v``) and the mass
    grid used, as a fraction of the total positive excess (the conservation residual of a flow that
    could not be polished is at most one grid step per node).
    """
    import pylmcf.pylmcf_cpp as lemon

    from graphwgan.ot._network_simplex import _polish

    m = len(u)
    total = float(np.maximum(excess, 0.0).sum())
    if total == 0.0 or m == 0:
        return np.zeros(num_nodes), np.zeros(m), 0.0
    lengths, length_scale = integer_lengths(weight)
    # total cost <= (mass units) * (longest path in length units): keep it inside int64
    longest_path = float(lengths.sum()) if m < 64 else float(lengths.max()) * max(num_nodes - 1, 1)
    steps = 2.0 ** np.floor(np.log2(_INT64_BUDGET / max(longest_path, 1.0)))
    steps = min(steps, 2.0**52)
    units = np.rint(excess / total * steps).astype(np.int64)
    units[np.argmax(np.abs(units))] -= units.sum()
    starts = np.concatenate([u, v]).astype(np.int64)
    ends = np.concatenate([v, u]).astype(np.int64)
    order = np.lexsort((ends, starts))
    starts, ends = np.ascontiguousarray(starts[order]), np.ascontiguousarray(ends[order])
    costs = np.ascontiguousarray(np.concatenate([lengths, lengths])[order])
    capacity = np.full(2 * m, np.iinfo(np.int64).max, dtype=np.int64)
    arc_flow, pi = lemon.lmcf_cost_scaling(units, starts, ends, capacity, costs, return_potentials=True)
    arc_flow = np.asarray(arc_flow, dtype=np.float64)
    signed = np.empty(2 * m)
    signed[order] = arc_flow
    flow = (signed[:m] - signed[m:]) * (total / steps)
    potential = -np.asarray(pi, dtype=np.float64) / length_scale
    potential, flow = _polish(num_nodes, u, v, weight, excess, flow, potential)
    return potential, flow, 1.0 / steps
