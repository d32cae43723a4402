r"""Lipschitz control of node potentials in the graph metric.

A potential :math:`f` on the nodes is 1-Lipschitz for the shortest-path distance :math:`d`
exactly when :math:`|f(u) - f(v)| \le w(u, v)` on every edge (a path's constraints add up), so

.. math:: L(f) = \max_{(u, v) \in E} \frac{|f(u) - f(v)|}{w(u, v)}

is the exact constant, measured in :math:`O(|E|)`. Any :math:`f` can be repaired into a
1-Lipschitz potential by a graph c-transform, which takes one Dijkstra search from a virtual source:

.. math::

    f_\downarrow(v) = \min_u f(u) + d(u, v) \quad (\text{the largest 1-Lipschitz } g \le f), \qquad
    f_\uparrow(v) = \max_u f(u) - d(u, v) \quad (\text{the smallest 1-Lipschitz } g \ge f).

By weak duality, :math:`\sum_v g(v)(\mu(v) - \nu(v)) \le W_1(\mu, \nu)` for every 1-Lipschitz
:math:`g`: a certified lower bound. The training penalties (the graph analogue of WGAN-GP/LP),
weight clipping and spectral normalisation live here too, with what each does and does not bound.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from graphwgan._checks import is_tensor

__all__ = [
    "CTransform",
    "Certificate",
    "c_transform",
    "certify",
    "clip_weights_",
    "edge_lipschitz_constant",
    "edge_lipschitz_penalty",
    "spectral_normalize",
]


def _edge_differences(potential, edge_index, edge_weight):
    src, dst = edge_index[0], edge_index[1]
    if is_tensor(potential):
        # index_select, not potential[..., src]: the advanced-index backward accumulates in a
        # thread-dependent order on the CPU past about 32k edges, so a seeded fit would not repeat
        return (potential.index_select(-1, src) - potential.index_select(-1, dst)).abs() / edge_weight
    return np.abs(potential[..., src] - potential[..., dst]) / edge_weight


def edge_lipschitz_constant(potential: Any, edge_index: Any, edge_weight: Any = None) -> float:
    r"""The exact Lipschitz constant of a node potential in the graph metric.

    .. math:: L(f) = \max_{(u, v) \in E} |f(u) - f(v)| / w(u, v)

    Parameters
    ----------
    potential : ndarray or Tensor, shape ``(n,)``
        One value per node.
    edge_index : ndarray or Tensor, shape ``(2, m)``
        Edges (either or both directions).
    edge_weight : ndarray or Tensor, shape ``(m,)``, optional
        Edge lengths (default 1).

    Returns
    -------
    float
        ``L``; 0 for a graph without edges.
    """
    if is_tensor(potential):
        potential = potential.detach().cpu().double().numpy()
    potential = np.asarray(potential, dtype=np.float64)
    if not np.all(np.isfinite(potential)):
        raise ValueError("potential holds NaN or infinite values; its Lipschitz constant is undefined")
    edge_index = np.asarray(edge_index.cpu() if is_tensor(edge_index) else edge_index)
    if edge_index.shape[-1] == 0:
        return 0.0
    weight = 1.0 if edge_weight is None else np.asarray(
        edge_weight.detach().cpu() if is_tensor(edge_weight) else edge_weight, dtype=np.float64)
    return float(_edge_differences(potential, edge_index, weight).max())


def edge_lipschitz_penalty(potential, edge_index, edge_weight=None, *, two_sided: bool = False,
                           num_samples: int | None = None, generator=None):
    r"""Penalty on edges where a potential changes faster than the edge length allows.

    One-sided (default, the graph analogue of WGAN-LP):

    .. math:: \frac{1}{|E'|} \sum_{(u, v) \in E'} \mathrm{relu}\!\left(\frac{|f(u) - f(v)|}{w(u, v)} - 1\right)^2

    over all edges, or over ``num_samples`` edges drawn uniformly with ``generator``. It is zero
    exactly when :math:`f` is 1-Lipschitz on the sampled edges. The two-sided form
    :math:`(|f(u) - f(v)| / w - 1)^2` (WGAN-GP's) asks for slope exactly 1 on every edge, which no
    potential satisfies on an odd cycle; it is kept only for comparison.

    Parameters
    ----------
    potential : Tensor, shape ``(n,)`` or ``(k, n)``
    edge_index : Tensor, shape ``(2, m)``
    edge_weight : Tensor, shape ``(m,)``, optional
    two_sided : bool
    num_samples : int, optional
    generator : torch.Generator, optional

    Returns
    -------
    Tensor
        A scalar.
    """
    import torch

    if num_samples is not None:
        if num_samples <= 0:
            raise ValueError(f"num_samples must be positive, got {num_samples}")
        pick = torch.randint(edge_index.shape[1], (num_samples,), generator=generator,
                             device=edge_index.device if generator is None else generator.device)
        pick = pick.to(edge_index.device)
        edge_index = edge_index[:, pick]
        edge_weight = None if edge_weight is None else edge_weight[pick]
    if edge_index.shape[1] == 0:
        return potential.sum() * 0.0
    weight = 1.0 if edge_weight is None else edge_weight.to(potential.dtype)
    slope = _edge_differences(potential, edge_index, weight)
    excess = slope - 1.0
    if not two_sided:
        excess = torch.relu(excess)
    return (excess**2).mean()


class CTransform:
    r"""Graph c-transforms on one graph, with its search structure built once.

    ``lower(f)`` is :math:`\min_u f(u) + d(u, v)` and ``upper(f)`` is :math:`\max_u f(u) - d(u, v)`
    (see the module docstring). Each is one Dijkstra search from a virtual source joined to every
    node ``u`` by an edge of length ``f(u) - min f`` (plus a constant that keeps lengths positive),
    so the cost is that of one shortest-path search, not one per node. Torch inputs give torch
    outputs that are differentiable in ``f``: each ``g(v) = f(u*) + d(u*, v)`` passes its gradient
    to the node ``u*`` that attains the minimum.
    """

    def __init__(self, graph: Any) -> None:
        from graphwgan.graph import to_graph, undirected_edges

        data = to_graph(graph, keep_attributes=False)
        edge_index, weight = undirected_edges(data)
        self.num_nodes = int(data.num_nodes)
        u, v = np.asarray(edge_index, dtype=np.int64)
        n = self.num_nodes
        # the graph's arcs (both directions) followed by one arc from the virtual node n to each node
        self._rows = np.concatenate([u, v, np.full(n, n)])
        self._cols = np.concatenate([v, u, np.arange(n)])
        self._fixed = np.concatenate([weight, weight])
        self.edge_index = edge_index
        self.edge_weight = np.asarray(weight, dtype=np.float64)

    def _search(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import scipy.sparse as sp
        from scipy.sparse.csgraph import dijkstra

        n = self.num_nodes
        low = values.min()
        lengths = np.concatenate([self._fixed, values - low + 1.0])
        graph = sp.csr_array((lengths, (self._rows, self._cols)), shape=(n + 1, n + 1))
        dist, pred = dijkstra(graph, directed=True, indices=n, return_predecessors=True)
        dist = dist[:n] - 1.0 + low
        # follow predecessors back to the node just below the virtual source (pointer doubling)
        origin = pred[:n].astype(np.int64)
        origin[origin == n] = np.flatnonzero(origin == n)
        while True:
            nxt = origin[origin]
            if np.array_equal(nxt, origin):
                break
            origin = nxt
        return dist, origin

    def _apply(self, f: Any, sign: float):
        if is_tensor(f):
            values = f.detach().cpu().double().numpy()
        else:
            values = np.asarray(f, dtype=np.float64)
        if values.shape != (self.num_nodes,):
            raise ValueError(f"potential must have shape ({self.num_nodes},), got {tuple(values.shape)}")
        if not np.all(np.isfinite(values)):
            raise ValueError("potential holds NaN or infinite values; the c-transform needs finite values")
        dist, origin = self._search(sign * values)
        transformed = sign * dist
        if not is_tensor(f):
            return transformed
        import torch

        index = torch.as_tensor(origin, device=f.device)
        # g(v) = f(u*) + const: the constant is the path length d(u*, v), taken from the search
        offset = torch.as_tensor(transformed - values[origin], dtype=f.dtype, device=f.device)
        return f[index] + offset

    def lower(self, f: Any):
        r""":math:`\min_u f(u) + d(u, v)`: the largest 1-Lipschitz potential below ``f``."""
        return self._apply(f, 1.0)

    def upper(self, f: Any):
        r""":math:`\max_u f(u) - d(u, v)`: the smallest 1-Lipschitz potential above ``f``."""
        return self._apply(f, -1.0)


def c_transform(graph: Any, potential: Any, *, side: str = "lower"):
    """Graph c-transform of ``potential``; ``side`` is ``"lower"`` or ``"upper"`` (see :class:`CTransform`)."""
    if side not in ("lower", "upper"):
        raise ValueError(f"side must be 'lower' or 'upper', got {side!r}")
    transform = CTransform(graph)
    return transform.lower(potential) if side == "lower" else transform.upper(potential)


@dataclass(frozen=True)
class Certificate:
    """A certified lower bound on W1 and the 1-Lipschitz potential that attains it.

    Attributes
    ----------
    lower_bound : float
        ``sum(potential * (mu - nu))``, summed without rounding error and rounded down, so never
        above the exact W1, whatever the potential's magnitude.
    potential : ndarray, shape ``(n,)``
        1-Lipschitz in the graph metric.
    lipschitz : float
        The edge constant of the potential before certification.
    method : str
        Which repair gave the bound: ``"rescale"`` (``f / L``), ``"lower"`` or ``"upper"``
        (the c-transforms).
    """

    lower_bound: float
    potential: np.ndarray
    lipschitz: float
    method: str


def certify(graph: Any, potential: Any, mu: Any, nu: Any, *, transform: CTransform | None = None) -> Certificate:
    r"""Turn any node potential into a certified lower bound on :math:`W_1(\mu, \nu)`.

    Three 1-Lipschitz repairs are evaluated and the best is kept: :math:`f / L` (exactly
    1-Lipschitz, since :math:`L` is the exact edge constant; it also scales up a critic that is
    too flat, as weight clipping makes it), and the lower and upper c-transforms. Each is feasible
    for the dual, so each value is a lower bound.
    """
    transform = transform or CTransform(graph)
    f = potential.detach().cpu().double().numpy() if is_tensor(potential) else np.array(potential, dtype=np.float64)
    if not np.isfinite(f).all():
        raise FloatingPointError(
            f"certify: the potential holds {int((~np.isfinite(f)).sum())} NaN or infinite values (the critic "
            "diverged); lower the learning rate"
        )
    mu = np.asarray(mu.detach().cpu() if is_tensor(mu) else mu, dtype=np.float64)
    nu = np.asarray(nu.detach().cpu() if is_tensor(nu) else nu, dtype=np.float64)
    diff = _two_sum(mu, -nu)  # mu - nu as an exact sum of two vectors
    lipschitz = edge_lipschitz_constant(f, transform.edge_index, transform.edge_weight)
    # every candidate is computed from a shifted copy whose relevant values are near 0 (the
    # c-transforms keep only the values that win the min or max), so a critic with huge outputs
    # (a diverging fit) loses no precision, then centred on its median before the dual value
    candidates = {
        "rescale": (f - np.median(f)) / lipschitz if lipschitz > 0 else f - np.median(f),
        "lower": transform.lower(f - f.min()),
        "upper": transform.upper(f - f.max()),
    }
    scored = {name: _certified_value(g, diff, transform) for name, g in candidates.items()}
    method = max(scored, key=lambda name: scored[name][0])
    value, best = scored[method]
    if not math.isfinite(value):
        raise FloatingPointError(f"certify: the certified value is not finite ({value}); the critic diverged")
    return Certificate(value, best, lipschitz, method)


def _certified_value(g: np.ndarray, diff: tuple[np.ndarray, np.ndarray], transform: CTransform):
    """``sum g (mu - nu)`` for a median-centred 1-Lipschitz ``g``, rounded down; and ``g``.

    Rounding may leave ``g`` a hair above 1-Lipschitz: it is divided by its measured edge
    constant then. The dual value is summed without rounding error (``mu - nu`` split exactly
    into two terms, every product split exactly into two terms, ``math.fsum`` of all of them)
    and rounded towards minus infinity, so it never exceeds the exact W1 of ``g``'s bound.
    """
    g = g - np.median(g)
    constant = edge_lipschitz_constant(g, transform.edge_index, transform.edge_weight)
    if constant > 1.0:
        g = g / constant
    parts = []
    for term in diff:
        product, error = _two_product(g, term)
        parts += [product, error]
    parts = np.concatenate(parts).tolist()
    value = math.fsum(parts)
    if math.isfinite(value) and math.fsum([*parts, -value]) < 0:  # rounded up: step down one ulp
        value = math.nextafter(value, -math.inf)
    return float(value), g


def _two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``a + b = s + e`` exactly (Knuth's TwoSum), elementwise."""
    s = a + b
    virtual = s - a
    return s, (a - (s - virtual)) + (b - virtual)


def _two_product(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``a * b = p + e`` exactly (Dekker's product with Veltkamp's split), elementwise."""

    def split(x):
        c = 134217729.0 * x  # 2^27 + 1
        high = c - (c - x)
        return high, x - high

    p = a * b
    a_high, a_low = split(a)
    b_high, b_low = split(b)
    return p, ((a_high * b_high - p) + a_high * b_low + a_low * b_high) + a_low * b_low


def clip_weights_(module: Any, clip_value: float) -> None:
    """Clip every parameter of ``module`` to ``[-clip_value, clip_value]`` in place (the original WGAN).

    This bounds the critic's Lipschitz constant *in feature space* (through the bounded weights),
    not in the graph metric: a clipped GNN can still change by more than ``w(u, v)`` across an edge,
    so certify its output (:func:`certify`) before trusting a bound.
    """
    import torch

    if not clip_value > 0:
        raise ValueError(f"clip_value must be positive, got {clip_value!r}")
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.clamp_(-clip_value, clip_value)


def spectral_normalize(module: Any) -> Any:
    """Spectrally normalise every linear weight inside ``module`` (SN-GAN).

    Covers ``torch.nn.Linear`` and PyTorch Geometric's own ``Linear`` (used inside GCN, SAGE and
    GAT layers).

    Each layer's weight is divided by its largest singular value (by power iteration), so each
    linear map is 1-Lipschitz *in feature space*. Message passing still mixes neighbours, so this
    does not bound ``|f(u) - f(v)| / w(u, v)``; the graph constant must be measured or repaired.
    Returns ``module`` (modified in place: it is the caller's own model being configured).
    """
    import torch
    from torch.nn.utils.parametrizations import spectral_norm
    from torch_geometric.nn.dense.linear import Linear as PygLinear

    for child in list(module.modules()):
        if isinstance(child, (torch.nn.Linear, PygLinear)) and not hasattr(child, "parametrizations"):
            spectral_norm(child)
    return module
