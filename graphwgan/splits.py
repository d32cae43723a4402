r"""Edge splits for link prediction: held-out edges and non-edges, and the published CELL split.

:func:`train_test_split_edges` removes a random share of the edges of a graph for validation and
testing, keeping the training graph connected when asked, and samples as many non-edges.
:func:`load_cell_split` reads the Cora-ML split that CELL (Rendsburg et al., ICML 2020)
published, so results compare with the NetGAN and CELL tables. :func:`load_split` gives the
benchmark split of a named graph: that published split for ``"cora_ml"``, and for ``"citeseer"``
a seeded 85/10/5 connected split of the CiteSeer largest component (2,110 nodes, 3,668 edges),
the protocol of NetGAN and CELL, which did not publish theirs.

Every pair is an undirected edge written once, ``(u, v)`` with ``u < v``, in an ``int64`` array
of shape ``(k, 2)`` whose rows are sorted.
"""

from __future__ import annotations

import hashlib
import math
import numbers
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from graphwgan._checks import check_int

if TYPE_CHECKING:  # pragma: no cover - typing only
    from torch_geometric.data import Data

__all__ = [
    "CELL_LINK_PREDICTION_SHA256",
    "SPLIT_NAMES",
    "EdgeSplit",
    "load_cell_split",
    "load_split",
    "train_test_split_edges",
]

#: Names accepted by :func:`load_split`.
SPLIT_NAMES = ("citeseer", "cora_ml")

#: sha256 of ``splits/cell_link_prediction.p``, checked before the pickle is read.
CELL_LINK_PREDICTION_SHA256 = "ebd1ac16c98a26f2e5807353211b727a95213c13997edcbd53a13926c04c1eec"

_CELL_TRAIN = "cell_CORA-ML_train.npz"
_CELL_PAIRS = "cell_link_prediction.p"
_CELL_SHAPE = (2810, 6783)  # nodes, undirected edges of the training graph
_CITESEER_LCC = (2110, 3668)  # nodes, undirected edges of the CiteSeer largest component

# below this many node pairs, non-edges are drawn from the full list of pairs
_ENUMERATE_PAIRS = 2_000_000


@dataclass(frozen=True, repr=False)
class EdgeSplit:
    """A link-prediction split of one graph.

    Attributes
    ----------
    train : torch_geometric.data.Data
        The training graph: every node of the input (with its node attributes), and the edges
        that are not held out, in the :func:`graphwgan.to_graph` layout with unit lengths.
    val_edges, test_edges : numpy.ndarray of shape (k, 2), dtype int64
        Held-out edges ``(u, v)``, ``u < v``, absent from ``train``.
    val_non_edges, test_non_edges : numpy.ndarray of shape (k, 2), dtype int64
        Node pairs ``(u, v)``, ``u < v``, that are not edges of the input graph, as many as the
        edges of the same part.
    """

    train: Data
    val_edges: np.ndarray
    val_non_edges: np.ndarray
    test_edges: np.ndarray
    test_non_edges: np.ndarray

    @property
    def num_nodes(self) -> int:
        """Number of nodes of the graph."""
        return int(self.train.num_nodes)

    @property
    def train_edges(self) -> np.ndarray:
        """Edges of the training graph, shape ``(m_train, 2)``, each once with ``u < v``."""
        edge_index = self.train.edge_index.numpy()
        upper = edge_index[0] < edge_index[1]
        return np.ascontiguousarray(edge_index[:, upper].T.astype(np.int64))

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(num_nodes={self.num_nodes}, train_edges={self.train.num_edges // 2}, "
            f"val={len(self.val_edges)}+{len(self.val_non_edges)}, "
            f"test={len(self.test_edges)}+{len(self.test_non_edges)})"
        )


def train_test_split_edges(
    graph: Any,
    *,
    val_fraction: float = 0.10,
    test_fraction: float = 0.05,
    seed: int | None = 0,
    connected: bool = True,
) -> EdgeSplit:
    r"""Hold out random edges for validation and testing, and sample as many non-edges.

    The graph is read as undirected, unweighted and simple, with :math:`m` edges. The counts
    follow NetGAN's rule, which reproduces the published Cora-ML split (7,981 edges ->
    6,783 / 798 / 400):

    .. math:: m_{\mathrm{train}} = \lfloor m (1 - f_{\mathrm{val}} - f_{\mathrm{test}}) \rfloor,
              \quad m_{\mathrm{val}} = \Big\lfloor (m - m_{\mathrm{train}})
              \frac{f_{\mathrm{val}}}{f_{\mathrm{val}} + f_{\mathrm{test}}} \Big\rfloor,
              \quad m_{\mathrm{test}} = m - m_{\mathrm{train}} - m_{\mathrm{val}}.

    With ``connected=True`` a random spanning tree (the minimum spanning tree under i.i.d.
    uniform edge weights) always stays in the training graph, so it is connected and no node
    loses all its edges; the held-out edges are drawn uniformly from the other edges. With
    ``connected=False`` they are drawn uniformly from all edges, and nodes may become isolated.
    Non-edges are drawn uniformly, without repetition, from the node pairs ``u < v`` that are not
    edges of the input graph (held-out edges included); the first :math:`m_{\mathrm{val}}` go to
    validation and the next :math:`m_{\mathrm{test}}` to testing. All randomness comes from one
    local ``numpy.random.default_rng(seed)``: the same seed gives the same split.

    Parameters
    ----------
    graph : Data, networkx.Graph, scipy sparse matrix, edge_index or path
        Anything :func:`graphwgan.to_graph` accepts. Node attributes (``x``, ``y``, ...) are
        carried into ``train``; edge lengths are dropped.
    val_fraction, test_fraction : float, defaults 0.10 and 0.05
        Shares of the edges to hold out, each ``>= 0``, with a sum in ``(0, 1)``.
    seed : int or None, default 0
        Seed of the local random generator (``None``: fresh entropy, not reproducible).
    connected : bool, default True
        Keep the training graph connected.

    Returns
    -------
    EdgeSplit
        ``train`` and the four ``(k, 2)`` arrays of pairs.

    Raises
    ------
    TypeError
        If a fraction is not a real number, ``connected`` not a bool or ``seed`` not an int.
    ValueError
        If the fractions are out of range (NaN and infinity included); the graph is too small to
        give the training graph and every requested part at least one edge; ``connected=True``
        and the graph is disconnected (isolated nodes count) or has fewer non-tree edges than
        edges to hold out; or there are fewer non-edges than needed.

    Examples
    --------
    >>> import networkx as nx
    >>> split = train_test_split_edges(nx.karate_club_graph(), val_fraction=0.2, test_fraction=0.1)
    >>> split
    EdgeSplit(num_nodes=34, train_edges=54, val=16+16, test=8+8)
    """
    from graphwgan.graph import num_components, to_graph, undirected_edges

    val_fraction = _check_fraction(val_fraction, "val_fraction")
    test_fraction = _check_fraction(test_fraction, "test_fraction")
    total = val_fraction + test_fraction
    if not 0.0 < total < 1.0:
        raise ValueError(
            f"train_test_split_edges: val_fraction + test_fraction must be in (0, 1), got "
            f"{val_fraction} + {test_fraction} = {total}."
        )
    if not isinstance(connected, (bool, np.bool_)):
        raise TypeError(f"train_test_split_edges: connected must be True or False, got {connected!r}.")
    if seed is not None and (isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral)):
        raise TypeError(f"train_test_split_edges: seed must be an int or None, got {seed!r}.")
    if seed is not None and seed < 0:
        raise ValueError(f"train_test_split_edges: seed must be >= 0, got {seed}.")

    data = to_graph(graph, weight=None)
    n = int(data.num_nodes)
    uv = undirected_edges(data)[0].T.astype(np.int64)  # (m, 2), u < v, sorted
    m = uv.shape[0]

    n_train = int(math.floor(m * (1.0 - total) + 1e-9))
    n_held = m - n_train
    n_val = int(math.floor(n_held * val_fraction / total + 1e-9))
    n_test = n_held - n_val
    if n_train == 0 or n_held == 0 or (val_fraction > 0 and n_val == 0) or (test_fraction > 0 and n_test == 0):
        raise ValueError(
            f"train_test_split_edges: the graph is too small to split: its {m} edge(s) give {n_train} training, "
            f"{n_val} validation and {n_test} test edges for val_fraction={val_fraction}, "
            f"test_fraction={test_fraction}, and every requested part needs at least one; use a larger graph "
            "or other fractions."
        )

    rng = np.random.default_rng(seed)
    if connected:
        count, _ = num_components(data)
        if count != 1:
            raise ValueError(
                f"train_test_split_edges: connected=True needs a connected graph, but this one has "
                f"{count} connected components (isolated nodes count); pass its largest component "
                "(graphwgan.to_graph(graph, largest_component=True)) or connected=False."
            )
        candidates = np.flatnonzero(~_random_spanning_tree(uv, n, rng))
        if candidates.size < n_held:
            raise ValueError(
                f"train_test_split_edges: connected=True keeps a spanning tree of {n - 1} edges, which "
                f"leaves {candidates.size} edges to hold out, fewer than the {n_held} requested "
                f"(val_fraction={val_fraction}, test_fraction={test_fraction}); lower the fractions "
                "or pass connected=False."
            )
    else:
        candidates = np.arange(m)

    held = rng.choice(candidates, size=n_held, replace=False)
    keep = np.ones(m, dtype=bool)
    keep[held] = False
    non_edges = _sample_non_edges(uv, n, n_held, rng)

    train = data  # a fresh object from to_graph: replacing its edges touches nothing of the caller
    _set_edges(train, uv[keep], n)
    return EdgeSplit(
        train=train,
        val_edges=_sorted_pairs(uv[held[:n_val]]),
        val_non_edges=_sorted_pairs(non_edges[:n_val]),
        test_edges=_sorted_pairs(uv[held[n_val:]]),
        test_non_edges=_sorted_pairs(non_edges[n_val:]),
    )


def load_cell_split(root: str | os.PathLike | None = None) -> EdgeSplit:
    """The Cora-ML link-prediction split published with CELL.

    Reads ``splits/cell_CORA-ML_train.npz`` (the training graph, a ``scipy.sparse.save_npz``
    CSR adjacency) and ``splits/cell_link_prediction.p`` (a pickled tuple of validation edges,
    validation non-edges, test edges and test non-edges, each pair stored in both directions)
    from the data folder. The pickle is read only after its sha256 matches
    :data:`CELL_LINK_PREDICTION_SHA256`. Pairs are reduced to ``u < v``: 798 validation and
    400 test edges and non-edges. The training graph has 2,810 nodes and 6,783 edges and is
    connected; the held-out edges are the other 1,198 edges of the Cora-ML largest component.

    Parameters
    ----------
    root : str or os.PathLike, optional
        The data folder holding ``splits/``; defaults to :func:`graphwgan.datasets.data_dir`.

    Returns
    -------
    EdgeSplit
        The published split.

    Raises
    ------
    FileNotFoundError
        If the data folder or one of the two files is missing.
    ValueError
        If the pickle's sha256 differs from the known file, or the training graph is not the
        published one.

    Examples
    --------
    >>> split = load_cell_split()  # doctest: +SKIP
    >>> split  # doctest: +SKIP
    EdgeSplit(num_nodes=2810, train_edges=6783, val=798+798, test=400+400)
    """
    import pickle

    import scipy.sparse as sp

    from graphwgan._pickle import restricted_loads
    from graphwgan.datasets import data_dir
    from graphwgan.graph import num_components, to_graph

    folder = (Path(root) if root is not None else data_dir()) / "splits"
    train_path, pairs_path = folder / _CELL_TRAIN, folder / _CELL_PAIRS
    for path in (train_path, pairs_path):
        if not path.is_file():
            raise FileNotFoundError(f"load_cell_split: the file '{path}' is missing.")

    digest = hashlib.sha256(pairs_path.read_bytes()).hexdigest()
    if digest != CELL_LINK_PREDICTION_SHA256:
        raise ValueError(
            f"load_cell_split: '{pairs_path}' has sha256 {digest}, not the known "
            f"{CELL_LINK_PREDICTION_SHA256}; refusing to unpickle an unknown file."
        )
    try:  # numpy arrays in a tuple: the restricted unpickler rebuilds them, no code can run
        parts = restricted_loads(pairs_path.read_bytes())
    except pickle.UnpicklingError as err:
        raise ValueError(f"load_cell_split: '{pairs_path}' holds objects other than arrays ({err}).") from None

    train = to_graph(sp.load_npz(train_path), weight=None)
    shape = (int(train.num_nodes), int(train.num_edges) // 2)
    if shape != _CELL_SHAPE or num_components(train)[0] != 1:
        raise ValueError(
            f"load_cell_split: '{train_path}' holds a graph of {shape[0]} nodes and {shape[1]} edges "
            f"(connected: {num_components(train)[0] == 1}), not the published connected training graph "
            f"of {_CELL_SHAPE[0]} nodes and {_CELL_SHAPE[1]} edges."
        )
    val_edges, val_non_edges, test_edges, test_non_edges = (_unique_pairs(p) for p in parts)
    return EdgeSplit(train, val_edges, val_non_edges, test_edges, test_non_edges)


def load_split(name: str, *, seed: int = 0, root: str | os.PathLike | None = None) -> EdgeSplit:
    r"""The link-prediction split of a named benchmark graph, the same on every call.

    * ``"cora_ml"``: the split CELL published (:func:`load_cell_split`): 2,810 nodes, 6,783
      training edges, 798 validation and 400 test edges and non-edges. It is fixed, so ``seed``
      must stay ``0``.
    * ``"citeseer"``: the largest connected component of CiteSeer
      (:func:`graphwgan.datasets.load`, 2,110 nodes and 3,668 edges, checked), split by
      :func:`train_test_split_edges` with ``val_fraction=0.10``, ``test_fraction=0.05`` and
      ``connected=True``: 3,117 training edges (a connected graph on every node), 367
      validation and 184 test edges, and as many non-edges. NetGAN and CELL use this 85/10/5
      protocol on this component but did not publish their split; ``seed`` picks one.

    Parameters
    ----------
    name : {"cora_ml", "citeseer"}
        The graph (see :data:`SPLIT_NAMES`); case and surrounding spaces are ignored.
    seed : int, default 0
        Seed of the random split (``"citeseer"``); must be ``0`` for the published ``"cora_ml"``.
    root : str or os.PathLike, optional
        The data folder; defaults to :func:`graphwgan.datasets.data_dir`.

    Returns
    -------
    EdgeSplit
        The split; node ``i`` of ``train`` is node ``i`` of the largest component.

    Raises
    ------
    TypeError
        If ``name`` is not a str or ``seed`` not an int.
    ValueError
        If ``name`` is unknown, ``seed`` is negative, or not ``0`` for ``"cora_ml"``, or the
        CiteSeer file's largest component is not the known one.
    FileNotFoundError
        If the data files are missing.

    Examples
    --------
    >>> load_split("citeseer", seed=0)  # doctest: +SKIP
    EdgeSplit(num_nodes=2110, train_edges=3117, val=367+367, test=184+184)
    """
    from graphwgan.datasets import load

    if not isinstance(name, str):
        raise TypeError(f"load_split: name must be a str, one of {list(SPLIT_NAMES)}, got {type(name).__name__}.")
    key = name.strip().lower()
    if key not in SPLIT_NAMES:
        raise ValueError(f"load_split: unknown split {name!r}; available: {list(SPLIT_NAMES)}.")
    seed = check_int(seed, "seed", "load_split", minimum=0)
    if key == "cora_ml":
        if seed != 0:
            raise ValueError(
                f"load_split: the 'cora_ml' split is the one CELL published and has no seed, got seed={seed}; "
                "leave seed=0, or call train_test_split_edges(graphwgan.datasets.load('cora_ml', "
                "largest_component=True), seed=...) for a fresh random split."
            )
        return load_cell_split(root)
    graph = load("citeseer", root=root, largest_component=True)
    shape = (int(graph.num_nodes), int(graph.num_edges) // 2)
    if shape != _CITESEER_LCC:
        raise ValueError(
            f"load_split: the largest component of the CiteSeer file has {shape[0]} nodes and {shape[1]} edges, "
            f"not the known {_CITESEER_LCC[0]} and {_CITESEER_LCC[1]}; check citeseer.npz against SOURCES.md."
        )
    return train_test_split_edges(graph, val_fraction=0.10, test_fraction=0.05, seed=seed, connected=True)


# ----------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------


def _check_fraction(value: Any, label: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"train_test_split_edges: {label} must be a real number, got {value!r}.")
    value = float(value)
    if not (math.isfinite(value) and 0.0 <= value < 1.0):
        raise ValueError(f"train_test_split_edges: {label} must be in [0, 1), got {value}.")
    return value


def _random_spanning_tree(uv: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Mask of the edges of the minimum spanning tree under i.i.d. uniform weights."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import minimum_spanning_tree

    weights = rng.random(uv.shape[0]) + 1.0  # strictly positive: zero would read as "no edge"
    tree = minimum_spanning_tree(sp.csr_array((weights, (uv[:, 0], uv[:, 1])), shape=(n, n))).tocoo()
    keys = np.minimum(tree.row, tree.col).astype(np.int64) * n + np.maximum(tree.row, tree.col)
    return np.isin(uv[:, 0] * n + uv[:, 1], keys)


def _sample_non_edges(uv: np.ndarray, n: int, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` distinct pairs ``u < v`` that are not in ``uv``, uniformly, in drawing order."""
    edge_keys = uv[:, 0] * n + uv[:, 1]  # sorted, since uv is sorted
    total = n * (n - 1) // 2
    available = total - edge_keys.size
    if available < count:
        raise ValueError(
            f"train_test_split_edges: the graph has only {available} non-adjacent node pairs, fewer "
            f"than the {count} non-edges needed; lower the fractions."
        )
    if total <= _ENUMERATE_PAIRS:
        iu, ju = np.triu_indices(n, 1)
        keys = iu.astype(np.int64) * n + ju
        keys = keys[~np.isin(keys, edge_keys, assume_unique=True)]
        chosen = rng.choice(keys, size=count, replace=False)
    else:
        chosen = np.zeros(0, dtype=np.int64)
        acceptance = available / total
        while chosen.size < count:
            size = min(10_000_000, int(2 * (count - chosen.size) / acceptance) + 64)
            u, v = rng.integers(0, n, size=size), rng.integers(0, n, size=size)
            distinct = u != v
            a, b = np.minimum(u, v)[distinct], np.maximum(u, v)[distinct]
            keys = a.astype(np.int64) * n + b
            keys = keys[~np.isin(keys, edge_keys) & ~np.isin(keys, chosen)]
            _, first = np.unique(keys, return_index=True)
            chosen = np.concatenate([chosen, keys[np.sort(first)][: count - chosen.size]])
    return np.stack([chosen // n, chosen % n], axis=1).astype(np.int64)


def _set_edges(data: Any, pairs: np.ndarray, n: int) -> None:
    """Give ``data`` the undirected edges ``pairs`` in the to_graph layout (both directions, unit lengths)."""
    import torch

    keys = np.sort(np.concatenate([pairs[:, 0] * n + pairs[:, 1], pairs[:, 1] * n + pairs[:, 0]]))
    data.edge_index = torch.from_numpy(np.stack([keys // n, keys % n]).astype(np.int64))
    data.edge_weight = torch.ones(keys.size, dtype=torch.float64)


def _sorted_pairs(pairs: np.ndarray) -> np.ndarray:
    order = np.lexsort((pairs[:, 1], pairs[:, 0]))
    return np.ascontiguousarray(pairs[order], dtype=np.int64).reshape(-1, 2)


def _unique_pairs(pairs: Any) -> np.ndarray:
    array = np.asarray(pairs)
    if array.ndim != 2 or array.shape[1] != 2 or array.dtype.kind not in "iu":
        raise ValueError(f"load_cell_split: expected integer pairs of shape (k, 2), got {array.dtype} {array.shape}.")
    array = np.sort(array.astype(np.int64), axis=1)
    return np.unique(array, axis=0)
