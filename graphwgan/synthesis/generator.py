r"""The fit/sample contract shared by every graph generator, and the pieces of its output layout.

Every generator follows the scikit-learn estimator contract: ``__init__`` only stores keyword
parameters, :meth:`GraphGenerator.fit` validates the graph and learns (learned attributes end in
``_``) and returns ``self``, and :meth:`GraphGenerator.sample` draws a new simple undirected graph in
graphwgan's layout (:func:`graphwgan.graph.to_graph`: ``edge_index`` with both directions,
coalesced, no self-loops; ``edge_weight`` all ones; ``num_nodes`` as in the training graph).

Randomness stays local: ``random_state`` (``None``, an ``int`` or a ``numpy.random.Generator``)
becomes a generator in ``fit``; ``sample(seed=...)`` with an ``int`` (``0`` included) is
reproducible, and ``sample()`` without a seed continues the fitted generator. The training graph
is never modified.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from graphwgan._checks import check_int
from graphwgan._estimator import NotFittedError, ParamsMixin
from graphwgan._random import check_random_state

if TYPE_CHECKING:  # pragma: no cover - typing only
    from torch_geometric.data import Data

__all__ = ["GraphGenerator", "keys_to_data", "training_edges"]

class GraphGenerator(ParamsMixin):
    """Shared training-graph validation and output layout (parameters: :class:`ParamsMixin`)."""

    # -- public API ------------------------------------------------------------------------------

    def fit(self, graph: Any, y: Any = None) -> GraphGenerator:
        """Learn the generator's parameters from a training graph.

        Parameters
        ----------
        graph : Data, networkx.Graph, scipy.sparse matrix, edge_index or path
            Any source accepted by :func:`graphwgan.graph.to_graph`. Edge lengths and directions
            are ignored: the graph is read as simple, undirected and unweighted. It must have at
            least one edge. It is not modified.
        y : None
            Ignored; present for scikit-learn compatibility.

        Returns
        -------
        self
        """
        name = type(self).__name__
        self._check_params()
        uv, n, names = training_graph(graph, name)
        rng = check_random_state(self.random_state, "random_state", name)
        self._fit(uv, n, rng)
        self.node_names_ = names
        self.num_nodes_ = n
        self.num_edges_ = int(uv.shape[1])
        self._rng = rng
        return self

    def sample(self, seed: Any = None, num_edges: int | None = None) -> Data:
        """Draw a new graph on the training graph's node set.

        Parameters
        ----------
        seed : None, int or numpy.random.Generator, optional
            ``None`` continues the generator made in :meth:`fit` (so repeated calls differ but the
            sequence is reproducible for a fixed ``random_state``); an ``int`` (``0`` counts)
            gives the same graph every time.
        num_edges : int, optional
            Number of edges to draw (see each generator for its meaning); defaults to the training
            graph's edge count. At most ``n (n - 1) / 2``.

        Returns
        -------
        torch_geometric.data.Data
            ``edge_index`` (``int64``, ``(2, 2m)``, both directions, coalesced, no self-loops),
            ``edge_weight`` (``float64`` ones), ``num_nodes`` and, when the training graph had
            node ids, ``node_names`` (the same ids, in node order).
        """
        name = type(self).__name__
        self._check_fitted("sample")
        rng = self._rng if seed is None else check_random_state(seed, "seed", f"{name}.sample")
        if num_edges is not None:
            num_edges = _check_num_edges(num_edges, self.num_nodes_, f"{name}.sample")
        keys, attrs = self._sample_keys(rng, num_edges)
        names = getattr(self, "node_names_", None)
        if names is not None:
            attrs = {**attrs, "node_names": list(names)}
        return keys_to_data(keys, self.num_nodes_, attrs)

    def to_networkx(self, seed: Any = None):
        """A sampled graph as a ``networkx.Graph`` whose nodes are the training graph's node ids.

        The ids are ``node_names_`` (kept from the training graph: an edge list's own ids, a
        networkx graph's nodes) when the training graph had them, else ``0..n-1``; every node of
        the training graph is present, isolated or not. ``seed`` is as in :meth:`sample`.
        """
        import networkx as nx

        data = self.sample(seed=seed)
        names = getattr(self, "node_names_", None)
        ids = list(range(int(data.num_nodes))) if names is None else list(names)
        graph = nx.Graph()
        graph.add_nodes_from(ids)
        row, col = data.edge_index.numpy()
        upper = row < col
        graph.add_edges_from((ids[a], ids[b]) for a, b in zip(row[upper].tolist(), col[upper].tolist(), strict=True))
        return graph

    # -- hooks -----------------------------------------------------------------------------------

    def _check_params(self) -> None:
        """Validate the constructor parameters (called by fit)."""

    def _fit(self, uv: np.ndarray, n: int, rng: np.random.Generator) -> None:  # pragma: no cover
        raise NotImplementedError

    def _sample_keys(self, rng: np.random.Generator, num_edges: int | None):  # pragma: no cover
        raise NotImplementedError

    def _check_fitted(self, method: str) -> None:
        if not hasattr(self, "num_nodes_"):
            raise NotFittedError(
                f"{type(self).__name__}.{method}: this generator is not fitted yet; call fit(graph) first."
            )


def training_edges(graph, owner):
    """``(2, m)`` undirected edges ``u < v`` and ``n`` of a training graph with at least one edge."""
    uv, n, _ = training_graph(graph, owner)
    return uv, n


def training_graph(graph, owner):
    """:func:`training_edges` and the graph's node ids (``node_names``, a list, or ``None``)."""
    from graphwgan.graph import to_graph, undirected_edges

    names = getattr(graph, "node_names", None) if not isinstance(graph, (str, bytes)) else None
    if names is None and not _is_data(graph):  # files and networkx graphs carry their ids through to_graph
        data = to_graph(graph, weight=None)
        names = getattr(data, "node_names", None)
    else:
        data = to_graph(graph, weight=None, keep_attributes=False)
    uv, _ = undirected_edges(data)
    n = int(data.num_nodes)
    if uv.shape[1] == 0:
        raise ValueError(
            f"{owner}.fit: the training graph has no edges (only {n} isolated nodes); a generator needs at "
            "least one edge to learn from."
        )
    if names is not None and len(names) != n:
        names = None
    return uv, n, None if names is None else list(names)


def _is_data(obj) -> bool:
    from torch_geometric.data import Data

    return isinstance(obj, Data)


def keys_to_data(keys, n, attrs):
    """Graph in the library layout from sorted unique keys ``u * n + v`` with ``u < v``."""
    import torch
    from torch_geometric.data import Data

    keys = np.asarray(keys, dtype=np.int64)
    u, v = keys // n, keys % n
    both = np.sort(np.concatenate([u * np.int64(n) + v, v * np.int64(n) + u]))
    data = Data(
        edge_index=torch.from_numpy(np.stack([both // n, both % n])),
        edge_weight=torch.ones(both.size, dtype=torch.float64),
        num_nodes=n,
    )
    for key, value in attrs.items():
        data[key] = value
    return data


def _distinct_pairs(rng, count, a, pa, b, pb, n, *, same):
    r"""``count`` distinct pairs ``{u, v}``, ``u`` from ``a`` (probabilities ``pa``), ``v`` from ``b``.

    Successive sampling without replacement with pair weights ``pa[u] pb[v]`` (self-pairs
    excluded), returned as keys ``min * n + max``. Sparse requests draw pairs and reject repeats;
    dense ones (more than a quarter of all pairs) use exponential keys over every pair.
    """
    capacity = a.size * (a.size - 1) // 2 if same else a.size * b.size
    if count == 0:
        return np.zeros(0, dtype=np.int64)
    if 4 * count > capacity:
        if same:
            i, j = np.triu_indices(a.size, 1)
            u, v = a[i], a[j]
            weight = None if pa is None else pa[i] * pa[j]
        else:
            u, v = np.repeat(a, b.size), np.tile(b, a.size)
            weight = None if pa is None else np.outer(pa, pb).ravel()
        key = rng.exponential(size=u.size)
        if weight is not None:
            with np.errstate(divide="ignore"):
                key = key / weight
        pick = np.argpartition(key, count - 1)[:count] if count < u.size else np.arange(u.size)
        u, v = u[pick], v[pick]
        return np.sort(np.minimum(u, v) * np.int64(n) + np.maximum(u, v))
    keys = np.zeros(0, dtype=np.int64)
    rate = 1.0
    for _ in range(200):
        need = count - keys.size
        if need <= 0:
            break
        batch = int(min(1.2 * need / rate + 16, 1 << 23))
        u = a[rng.integers(a.size, size=batch)] if pa is None else a[rng.choice(a.size, size=batch, p=pa)]
        v = b[rng.integers(b.size, size=batch)] if pb is None else b[rng.choice(b.size, size=batch, p=pb)]
        ok = u != v
        new = np.minimum(u[ok], v[ok]) * np.int64(n) + np.maximum(u[ok], v[ok])
        merged = np.concatenate([keys, new])
        _, first = np.unique(merged, return_index=True)
        before = keys.size
        keys = merged[np.sort(first)]  # distinct, in order of first draw
        rate = max((keys.size - before) / batch, 1e-4)
    else:  # pragma: no cover - needs pathologically skewed propensities
        warnings.warn(
            f"could only draw {keys.size} of {count} distinct pairs; the propensities are extremely skewed.",
            RuntimeWarning,
            stacklevel=4,
        )
    return np.sort(keys[:count])


def _edge_overlap(keys_a, keys_b) -> float:
    """Shared edges / edges of ``keys_b`` for two sets of undirected edge keys."""
    return float(np.intersect1d(keys_a, keys_b).size) / max(len(keys_b), 1)


def _check_num_edges(value, n, owner):
    check_int(value, "num_edges", owner, minimum=0)
    most = n * (n - 1) // 2
    if value > most:
        raise ValueError(
            f"{owner}: num_edges={value} is more than the {most} node pairs of a simple graph on {n} nodes."
        )
    return int(value)
