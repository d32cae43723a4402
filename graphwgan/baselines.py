r"""Baseline graph generators: fit on one training graph, sample new graphs on the same nodes.

Every generator follows the scikit-learn estimator contract: ``__init__`` only stores keyword
parameters, :meth:`fit` validates the graph and learns (learned attributes end in ``_``) and
returns ``self``, and :meth:`sample` draws a new simple undirected graph in graphwgan's layout
(:func:`graphwgan.graph.to_graph`: ``edge_index`` with both directions, coalesced, no self-loops;
``edge_weight`` all ones; ``num_nodes`` as in the training graph).

================================  ==============================================================
:class:`ErdosRenyi`                :math:`G(n, m)`: ``m`` distinct pairs drawn uniformly.
:class:`ConfigurationModel`        the training degree sequence, random stub matching.
:class:`DegreeCorrectedSBM`        Poisson degree-corrected SBM (Karrer & Newman, 2011), MLE fit.
:class:`CELL`                      low-rank random-walk transition matrix (Rendsburg et al., 2020).
================================  ==============================================================

Randomness stays local: ``random_state`` (``None``, an ``int`` or a ``numpy.random.Generator``)
becomes a generator in :meth:`fit`; ``sample(seed=...)`` with an ``int`` (``0`` included) is
reproducible, and ``sample()`` without a seed continues the fitted generator. The training graph
is never modified.

References
----------
B. Karrer and M. E. J. Newman, "Stochastic blockmodels and community structure in networks",
Phys. Rev. E 83, 016107 (2011).

L. Rendsburg, H. Heidrich and U. von Luxburg, "NetGAN without GAN: From Random Walks to Low-Rank
Approximations", ICML 2020.
"""

from __future__ import annotations

import functools
import inspect
import math
import numbers
import time
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from graphwgan._checks import check_int, to_numpy

if TYPE_CHECKING:  # pragma: no cover - typing only
    from torch_geometric.data import Data

__all__ = [
    "CELL",
    "CELLHistory",
    "ConfigurationModel",
    "DegreeCorrectedSBM",
    "ErdosRenyi",
    "NotFittedError",
]

# Score-matrix rows processed at once when CELL draws edges: about 4M entries per chunk.
_CHUNK_ENTRIES = 1 << 22


class NotFittedError(ValueError, AttributeError):
    """Raised when a generator is used before :meth:`fit`."""


# ----------------------------------------------------------------------------------------------
# the common estimator base
# ----------------------------------------------------------------------------------------------


class _GraphGenerator:
    """Shared parameter handling, training-graph validation and output layout."""

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor parameters and their current values (scikit-learn convention).

        Parameters
        ----------
        deep : bool, default True
            Ignored (no nested estimators); kept for scikit-learn compatibility.

        Returns
        -------
        dict
            ``{name: value}`` for every ``__init__`` parameter.
        """
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> _GraphGenerator:
        """Set constructor parameters (scikit-learn convention); takes effect at the next fit.

        Returns
        -------
        self
        """
        valid = self._param_names()
        for key, value in params.items():
            if key not in valid:
                raise ValueError(
                    f"{type(self).__name__}.set_params: unknown parameter {key!r}; valid parameters are {valid}."
                )
            setattr(self, key, value)
        return self

    @classmethod
    def _param_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        return sorted(p.name for p in signature.parameters.values() if p.name != "self" and p.kind == p.KEYWORD_ONLY)

    def __repr__(self) -> str:
        defaults = {
            p.name: p.default for p in inspect.signature(type(self).__init__).parameters.values() if p.name != "self"
        }
        changed = []
        for name in self._param_names():
            value = getattr(self, name)
            default = defaults.get(name, inspect.Parameter.empty)
            same = value is default or (
                isinstance(value, (int, float, str, type(None))) and type(value) is type(default) and value == default
            )
            if not same:
                text = repr(value)
                changed.append(f"{name}={text if len(text) <= 40 else '...'}")
        return f"{type(self).__name__}({', '.join(changed)})"

    # -- public API ------------------------------------------------------------------------------

    def fit(self, graph: Any, y: Any = None) -> _GraphGenerator:
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
        uv, n = _training_edges(graph, name)
        rng = _as_generator(self.random_state, "random_state", name)
        self._fit(uv, n, rng)
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
            ``edge_weight`` (``float64`` ones) and ``num_nodes``.
        """
        name = type(self).__name__
        self._check_fitted("sample")
        rng = self._rng if seed is None else _as_generator(seed, "seed", f"{name}.sample")
        if num_edges is not None:
            num_edges = _check_num_edges(num_edges, self.num_nodes_, f"{name}.sample")
        keys, attrs = self._sample_keys(rng, num_edges)
        return _keys_to_data(keys, self.num_nodes_, attrs)

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


# ----------------------------------------------------------------------------------------------
# Erdos-Renyi G(n, m)
# ----------------------------------------------------------------------------------------------


class ErdosRenyi(_GraphGenerator):
    r"""The :math:`G(n, m)` random graph with the training graph's node and edge counts.

    A sample is ``m`` distinct node pairs drawn uniformly among the :math:`\binom{n}{2}` pairs:
    pairs are drawn at random, and self-loops and repeats are rejected, so no dense
    :math:`n \times n` matrix is built (when ``m`` exceeds a quarter of all pairs, the pairs are
    enumerated instead, which costs :math:`O(n^2) = O(m)` then).

    Parameters
    ----------
    random_state : None, int or numpy.random.Generator, default None
        Seed of the generator used by :meth:`sample` when it gets no ``seed``.

    Attributes
    ----------
    num_nodes_ : int
        Number of nodes ``n`` of the training graph.
    num_edges_ : int
        Number of undirected edges ``m`` of the training graph; every sample has exactly this many
        (or ``num_edges``).

    Examples
    --------
    >>> import networkx as nx
    >>> model = ErdosRenyi(random_state=0).fit(nx.karate_club_graph())
    >>> data = model.sample(seed=1)
    >>> data.num_nodes, data.num_edges // 2
    (34, 78)
    """

    def __init__(self, *, random_state: Any = None) -> None:
        self.random_state = random_state

    def _fit(self, uv, n, rng):
        pass

    def _sample_keys(self, rng, num_edges):
        m = self.num_edges_ if num_edges is None else num_edges
        nodes = np.arange(self.num_nodes_, dtype=np.int64)
        keys = _distinct_pairs(rng, m, nodes, None, nodes, None, self.num_nodes_, same=True)
        return keys, {}


# ----------------------------------------------------------------------------------------------
# configuration model
# ----------------------------------------------------------------------------------------------


class ConfigurationModel(_GraphGenerator):
    r"""Random stub matching on the training degree sequence, then reduced to a simple graph.

    Node ``i`` gets :math:`k_i` stubs (its training degree); a uniformly random perfect matching
    of the :math:`2m` stubs gives a multigraph with exactly the training degrees. Self-loops and
    repeated pairs are then removed, so a sample **loses a few edges** (mostly between
    high-degree nodes) and the degrees of those nodes drop slightly. The returned ``Data`` reports
    the losses in two integer attributes, ``removed_self_loops`` and ``removed_multi_edges``
    (``m`` minus the sample's edge count is their sum).

    Parameters
    ----------
    random_state : None, int or numpy.random.Generator, default None
        Seed of the generator used by :meth:`sample` when it gets no ``seed``.

    Attributes
    ----------
    num_nodes_ : int
        Number of nodes of the training graph.
    num_edges_ : int
        Number of undirected edges of the training graph.
    degrees_ : numpy.ndarray of shape (num_nodes_,), dtype int64
        The training degree sequence.

    Examples
    --------
    >>> import networkx as nx
    >>> data = ConfigurationModel().fit(nx.karate_club_graph()).sample(seed=0)
    >>> data.num_edges // 2 + data.removed_self_loops + data.removed_multi_edges
    78
    """

    def __init__(self, *, random_state: Any = None) -> None:
        self.random_state = random_state

    def _fit(self, uv, n, rng):
        self.degrees_ = np.bincount(uv.ravel(), minlength=n).astype(np.int64)

    def sample(self, seed: Any = None, num_edges: int | None = None) -> Data:
        """Draw a graph whose degrees are the training degrees, up to removed self/multi-edges.

        Parameters
        ----------
        seed : None, int or numpy.random.Generator, optional
            As in :meth:`ErdosRenyi.sample`.
        num_edges : None
            Must be ``None`` (or the training edge count): the degree sequence fixes the number of
            edges.

        Returns
        -------
        torch_geometric.data.Data
            The graph, with ``removed_self_loops`` and ``removed_multi_edges`` (``int``): how many
            of the ``m`` matched stub pairs were dropped to keep the graph simple.
        """
        return super().sample(seed=seed, num_edges=num_edges)

    def _sample_keys(self, rng, num_edges):
        if num_edges is not None and num_edges != self.num_edges_:
            raise ValueError(
                f"ConfigurationModel.sample: the training degree sequence fixes the number of edges at "
                f"{self.num_edges_}, got num_edges={num_edges}; leave num_edges=None."
            )
        n = self.num_nodes_
        stubs = rng.permutation(np.repeat(np.arange(n, dtype=np.int64), self.degrees_))
        u, v = stubs[0::2], stubs[1::2]
        loop = u == v
        u, v = u[~loop], v[~loop]
        keys = np.minimum(u, v) * np.int64(n) + np.maximum(u, v)
        unique = np.unique(keys)
        attrs = {"removed_self_loops": int(loop.sum()), "removed_multi_edges": int(keys.size - unique.size)}
        return unique, attrs


# ----------------------------------------------------------------------------------------------
# degree-corrected stochastic block model
# ----------------------------------------------------------------------------------------------


class DegreeCorrectedSBM(_GraphGenerator):
    r"""Poisson degree-corrected stochastic block model (Karrer & Newman, 2011), fitted by MLE.

    Node ``i`` in block :math:`g_i` has degree propensity :math:`\theta_i`; in the Poisson model
    the number of edges between ``i`` and ``j`` is
    :math:`A_{ij} \sim \mathrm{Poisson}(\theta_i \theta_j \omega_{g_i g_j})`. With blocks fixed,
    the maximum-likelihood parameters are

    .. math::
        \hat\theta_i = \frac{k_i}{\kappa_{g_i}}, \qquad \kappa_r = \sum_{i \in r} k_i, \qquad
        \hat\omega_{rs} = m_{rs},

    where :math:`k_i` is the degree and :math:`m_{rs}` the number of training edges between
    blocks ``r`` and ``s`` (counted twice inside a block, as in the paper), so that
    :math:`\sum_{i \in r} \hat\theta_i = 1` and the expected number of edges between ``r`` and
    ``s`` is the observed one. ``block_edges_`` holds these expected counts (edges, not stubs).

    **Sampling** never builds an :math:`n \times n` matrix: for every block pair the number of
    edges is drawn, ``Poisson(block_edges_[r, s])`` (or, with ``num_edges``, the total is fixed
    and split multinomially, which is the Poisson model conditioned on its total); then that many
    distinct pairs are drawn, each endpoint with probability :math:`\theta_i` inside its block,
    self-loops and repeated pairs being redrawn. The result is a simple graph whose block edge
    counts match the model's (it is weighted sampling of pairs without replacement, so the degrees
    of very high-propensity nodes come out slightly flattened). A block pair asked for more edges
    than it has node pairs gets all of them.

    Parameters
    ----------
    num_blocks : int, optional
        Number of blocks found by spectral clustering of the training graph: the
        ``num_blocks`` leading eigenvectors of the normalised adjacency
        :math:`D^{-1/2} A D^{-1/2}` (the smallest of the normalised Laplacian), rows scaled to
        unit length, then seeded k-means (k-means++ initialisation, 4 restarts). Ignored in favour
        of ``labels`` when those are given (then it must be ``None`` or their number of distinct
        values).
    labels : array_like of shape (n,), optional
        A block for each node, in node order (for example ``data.y``); any values, relabelled
        ``0..B-1`` in sorted order.
    random_state : None, int or numpy.random.Generator, default None
        Seeds the k-means restarts, the eigen-solver's start vector and :meth:`sample` without
        ``seed``.

    Attributes
    ----------
    num_nodes_, num_edges_ : int
        Size of the training graph.
    labels_ : numpy.ndarray of shape (num_nodes_,), dtype int64
        Block of each node, in ``0..num_blocks_-1``.
    num_blocks_ : int
        Number of blocks.
    degrees_ : numpy.ndarray of shape (num_nodes_,), dtype int64
        Training degrees.
    degree_propensity_ : numpy.ndarray of shape (num_nodes_,), dtype float64
        :math:`\hat\theta_i`; sums to 1 inside every block with at least one edge end.
    block_edges_ : numpy.ndarray of shape (num_blocks_, num_blocks_), dtype float64
        Symmetric; entry ``[r, s]`` is the expected number of edges between blocks ``r != s``,
        and ``[r, r]`` the expected number inside block ``r``.

    Examples
    --------
    >>> import networkx as nx
    >>> graph = nx.planted_partition_graph(2, 20, 0.5, 0.05, seed=0)
    >>> model = DegreeCorrectedSBM(num_blocks=2, random_state=0).fit(graph)
    >>> model.num_blocks_, int(model.block_edges_.sum() - model.block_edges_[0, 1]) == model.num_edges_
    (2, True)
    """

    def __init__(self, *, num_blocks: int | None = None, labels: Any = None, random_state: Any = None) -> None:
        self.num_blocks = num_blocks
        self.labels = labels
        self.random_state = random_state

    def _check_params(self):
        if self.num_blocks is not None:
            check_int(self.num_blocks, "num_blocks", "DegreeCorrectedSBM", minimum=1)
        elif self.labels is None:
            raise ValueError(
                "DegreeCorrectedSBM: give either labels= (a block per node, e.g. data.y) or "
                "num_blocks= (the number of spectral-clustering blocks); both are None."
            )

    def _fit(self, uv, n, rng):
        name = "DegreeCorrectedSBM"
        if self.labels is not None:
            raw = to_numpy(self.labels)
            if raw.ndim != 1 or raw.shape[0] != n:
                raise ValueError(
                    f"{name}: labels must have shape ({n},), one block per node of the training graph, "
                    f"got shape {tuple(raw.shape)}."
                )
            _, blocks = np.unique(raw, return_inverse=True)
            blocks = blocks.reshape(-1).astype(np.int64)
            num_blocks = int(blocks.max()) + 1
            if self.num_blocks is not None and self.num_blocks != num_blocks:
                raise ValueError(
                    f"{name}: num_blocks={self.num_blocks} but labels has {num_blocks} distinct values; "
                    "leave num_blocks=None when giving labels."
                )
        else:
            if self.num_blocks > n:
                raise ValueError(f"{name}: num_blocks={self.num_blocks} exceeds the {n} nodes of the training graph.")
            blocks = _spectral_blocks(uv, n, self.num_blocks, rng)
            num_blocks = int(blocks.max()) + 1

        degrees = np.bincount(uv.ravel(), minlength=n).astype(np.int64)
        kappa = np.bincount(blocks, weights=degrees, minlength=num_blocks)
        theta = np.zeros(n, dtype=np.float64)
        has = kappa[blocks] > 0
        theta[has] = degrees[has] / kappa[blocks][has]
        bu, bv = blocks[uv[0]], blocks[uv[1]]
        counts = np.zeros((num_blocks, num_blocks), dtype=np.float64)
        np.add.at(counts, (np.minimum(bu, bv), np.maximum(bu, bv)), 1.0)
        self.labels_ = blocks
        self.num_blocks_ = num_blocks
        self.degrees_ = degrees
        self.degree_propensity_ = theta
        self.block_edges_ = counts + np.triu(counts, 1).T

    def _sample_keys(self, rng, num_edges):
        n, blocks, theta = self.num_nodes_, self.labels_, self.degree_propensity_
        r_idx, s_idx = np.nonzero(np.triu(self.block_edges_) > 0)
        means = self.block_edges_[r_idx, s_idx]
        if num_edges is None:
            counts = rng.poisson(means)
        else:
            counts = rng.multinomial(num_edges, means / means.sum())
        members = [np.flatnonzero((blocks == b) & (theta > 0)) for b in range(self.num_blocks_)]
        keys, short = [], 0
        for r, s, count in zip(r_idx.tolist(), s_idx.tolist(), counts.tolist(), strict=True):
            a, b = members[r], members[s]
            capacity = a.size * (a.size - 1) // 2 if r == s else a.size * b.size
            if count > capacity:
                short += count - capacity
                count = capacity
            if count == 0:
                continue
            pa, pb = theta[a] / theta[a].sum(), theta[b] / theta[b].sum()
            keys.append(_distinct_pairs(rng, count, a, pa, b, pb, n, same=r == s))
        if short and num_edges is not None:
            warnings.warn(
                f"DegreeCorrectedSBM.sample: {short} of num_edges={num_edges} edges fell on block pairs that "
                "were already complete, so the sample has fewer edges.",
                RuntimeWarning,
                stacklevel=3,
            )
        keys = np.sort(np.concatenate(keys)) if keys else np.zeros(0, dtype=np.int64)
        return keys, {}


# ----------------------------------------------------------------------------------------------
# CELL
# ----------------------------------------------------------------------------------------------


@dataclass
class CELLHistory:
    r"""Training record of :class:`CELL`.

    Attributes
    ----------
    loss : list of float
        Cross-entropy :math:`-\sum_{ij} A_{ij} \log P_{ij} / \sum_{ij} A_{ij}` at each epoch,
        before that epoch's step.
    eval_epochs : list of int
        Epochs after which a graph was sampled and its edge overlap measured.
    edge_overlap : list of float
        Edge overlap of that sample with the training graph (shared edges / training edges).
    seconds : list of float
        Wall time since the start of training at each evaluation.
    """

    loss: list[float] = field(default_factory=list)
    eval_epochs: list[int] = field(default_factory=list)
    edge_overlap: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)


class CELL(_GraphGenerator):
    r"""Cross-Entropy Low-rank Logits (Rendsburg, Heidrich & von Luxburg, ICML 2020).

    CELL replaces NetGAN's GAN by a direct fit of the random walk's transition matrix. A logit
    matrix of rank ``H``, :math:`W = U V^\top` with :math:`U, V \in \mathbb{R}^{n \times H}`, gives
    the row-wise softmax transition matrix :math:`P_{ij} = e^{W_{ij}} / \sum_k e^{W_{ik}}`, trained
    with Adam (full batch, one step per epoch) to minimise the cross-entropy with the training
    graph's random walk,

    .. math::
        \mathcal{L}(U, V) = -\frac{1}{\sum_{ij} A_{ij}} \sum_{ij} A_{ij} \log P_{ij},

    whose gradient is :math:`\partial \mathcal{L} / \partial W_{ij} = (k_i P_{ij} - A_{ij}) / 2m`.
    The edge scores are the stationary edge flows, symmetrised as in the paper,

    .. math::
        S = \Pi P + (\Pi P)^\top, \qquad \Pi = \mathrm{diag}(\pi), \quad \pi^\top P = \pi^\top,

    with :math:`\pi` the stationary distribution of the learned :math:`P` (power iteration warm
    started from the degree distribution, which is the stationary distribution of the training
    walk) and the diagonal of :math:`S` set to zero. A graph with ``m`` edges is sampled as in the
    paper: every node ``i`` first draws one neighbour from the row :math:`S_{i\cdot}` (so no node
    is isolated); the remaining edges are drawn without replacement among the other pairs
    :math:`i < j`, with probability proportional to :math:`S_{ij}` (successive sampling, done
    exactly with exponential keys). Training stops after the first evaluation (every
    ``eval_every`` epochs) whose sample shares at least ``eo_target`` of the training edges, or
    after ``max_epochs``.

    The model is dense: training and sampling hold a few float32 :math:`n \times n` matrices
    (about :math:`11 n^2` bytes at the peak, measured; 4.4 GB at 20,000 nodes), so graphs with more than
    ``max_nodes`` nodes are refused.

    Parameters
    ----------
    rank : int, default 9
        Rank ``H`` of the logit matrix (the paper uses 9 for Cora-ML and CiteSeer).
    lr : float, default 0.1
        Adam learning rate.
    max_epochs : int, default 1000
        Most training epochs (full-batch Adam steps).
    eo_target : float, default 0.52
        Stop once a sampled graph's edge overlap with the training graph reaches this value, in
        ``(0, 1]``. The paper compares models at the overlap NetGAN stops at (0.52 on Cora-ML).
    eval_every : int, default 10
        Epochs between edge-overlap evaluations.
    max_nodes : int, default 20000
        Largest graph accepted (the model is dense; see above).
    random_state : None, int or numpy.random.Generator, default None
        Seeds the initialisation, the evaluation samples, and :meth:`sample` without ``seed``.
    device : str or torch.device, default "cpu"
        Where training runs. Sampling always runs on the CPU, so a seed gives the same graph
        whichever device trained the model.

    Attributes
    ----------
    num_nodes_, num_edges_ : int
        Size of the training graph.
    source_factors_, target_factors_ : torch.Tensor of shape (num_nodes_, rank), float32, CPU
        :math:`U` and :math:`V`.
    stationary_ : numpy.ndarray of shape (num_nodes_,), float64
        :math:`\pi`, the stationary distribution of the learned transition matrix.
    history_ : CELLHistory
        Loss per epoch and edge overlap per evaluation.
    n_epochs_ : int
        Epochs trained.
    edge_overlap_ : float
        Edge overlap of the last evaluation sample.
    converged_ : bool
        Whether ``edge_overlap_ >= eo_target`` (a ``RuntimeWarning`` is raised in fit otherwise).
    fit_seconds_ : float
        Wall time of training.

    Examples
    --------
    >>> import networkx as nx
    >>> graph = nx.planted_partition_graph(4, 50, 0.2, 0.01, seed=0)
    >>> model = CELL(rank=8, eo_target=0.5, random_state=0).fit(graph)
    >>> model.converged_, model.sample(seed=0).num_nodes
    (True, 200)
    """

    def __init__(
        self,
        *,
        rank: int = 9,
        lr: float = 0.1,
        max_epochs: int = 1000,
        eo_target: float = 0.52,
        eval_every: int = 10,
        max_nodes: int = 20_000,
        random_state: Any = None,
        device: Any = "cpu",
    ) -> None:
        self.rank = rank
        self.lr = lr
        self.max_epochs = max_epochs
        self.eo_target = eo_target
        self.eval_every = eval_every
        self.max_nodes = max_nodes
        self.random_state = random_state
        self.device = device

    def _check_params(self):
        name = "CELL"
        check_int(self.rank, "rank", name, minimum=1)
        _check_real(self.lr, "lr", name, low=0.0, low_open=True)
        check_int(self.max_epochs, "max_epochs", name, minimum=1)
        _check_real(self.eo_target, "eo_target", name, low=0.0, low_open=True, high=1.0)
        check_int(self.eval_every, "eval_every", name, minimum=1)
        check_int(self.max_nodes, "max_nodes", name, minimum=2)

    def _extra_loss(self, uv, n, device):
        """A term added to the cross-entropy (none here; subclasses add one)."""
        return None

    def _fit(self, uv, n, rng):
        import torch

        if n > self.max_nodes:
            gigabytes = 11 * n * n / 1e9
            raise ValueError(
                f"CELL: the training graph has {n} nodes but max_nodes={self.max_nodes}; CELL keeps dense "
                f"n x n float32 matrices (about {gigabytes:.1f} GB at the peak for this graph). Raise max_nodes "
                "if the memory is there, or use a sparse generator such as DegreeCorrectedSBM."
            )
        device = _resolve_device(self.device, "CELL")
        m = uv.shape[1]
        generator = _torch_generator(rng)
        row = torch.from_numpy(np.concatenate([uv[0], uv[1]])).to(device)
        col = torch.from_numpy(np.concatenate([uv[1], uv[0]])).to(device)
        degrees = torch.bincount(row, minlength=n).to(torch.float32)
        train_keys = uv[0] * np.int64(n) + uv[1]

        scale = self.rank**-0.5  # entries of U V^T start with standard deviation rank^-1/2
        source = (torch.randn(n, self.rank, generator=generator) * scale).to(device).requires_grad_()
        target = (torch.randn(n, self.rank, generator=generator) * scale).to(device).requires_grad_()
        optimizer = torch.optim.Adam([source, target], lr=self.lr)
        history = CELLHistory()
        stationary = degrees / degrees.sum()
        scores, overlap, epoch = None, 0.0, 0
        extra_loss = self._extra_loss(uv, n, device)
        start = time.perf_counter()
        for epoch in range(1, self.max_epochs + 1):
            optimizer.zero_grad(set_to_none=True)
            loss = _cross_entropy().apply(source, target, row, col, degrees)
            if extra_loss is not None:
                loss = loss + extra_loss(source, target)
            loss.backward()
            optimizer.step()
            history.loss.append(float(loss.detach()))
            if epoch % self.eval_every and epoch != self.max_epochs:
                continue
            scores, stationary = _cell_scores(source.detach(), target.detach(), stationary)
            keys = _cell_sample_keys(scores, m, generator)
            overlap = _edge_overlap(keys.numpy(), train_keys)
            history.eval_epochs.append(epoch)
            history.edge_overlap.append(overlap)
            history.seconds.append(time.perf_counter() - start)
            if overlap >= self.eo_target or epoch == self.max_epochs:
                break
            scores = None  # not needed while training goes on: keeps the peak at about 8 n^2 bytes
        self.fit_seconds_ = time.perf_counter() - start
        self.source_factors_ = source.detach().cpu()
        self.target_factors_ = target.detach().cpu()
        self.stationary_ = stationary.double().cpu().numpy()
        self.history_ = history
        self.n_epochs_ = epoch
        self.edge_overlap_ = overlap
        self.converged_ = overlap >= self.eo_target
        self._scores = scores
        if not self.converged_:
            warnings.warn(
                f"CELL: edge overlap {overlap:.3f} after max_epochs={self.max_epochs} is below "
                f"eo_target={self.eo_target}; raise max_epochs or lr, or lower eo_target.",
                RuntimeWarning,
                stacklevel=3,
            )

    def sample(self, seed: Any = None, num_edges: int | None = None) -> Data:
        """Draw a graph from the score matrix, as in the paper.

        Every node first draws one neighbour from its row of ``S``; the remaining
        ``num_edges - c`` edges (``c <= n`` distinct pairs from the first stage) are drawn without
        replacement proportional to ``S``. So a sample has exactly ``num_edges`` edges whenever
        ``num_edges >= c``, and ``c`` edges otherwise.

        Parameters
        ----------
        seed : None, int or numpy.random.Generator, optional
            As in :meth:`ErdosRenyi.sample`.
        num_edges : int, optional
            Number of edges; defaults to the training graph's. At most ``n (n - 1) / 2``.

        Returns
        -------
        torch_geometric.data.Data
            The graph (see :meth:`ErdosRenyi.sample`).
        """
        return super().sample(seed=seed, num_edges=num_edges)

    def _sample_keys(self, rng, num_edges):
        m = self.num_edges_ if num_edges is None else num_edges
        keys = _cell_sample_keys(self._scores, m, _torch_generator(rng))
        return keys.numpy(), {}

    def score_pairs(self, pairs: Any) -> np.ndarray:
        r"""Scores :math:`S_{uv}` of node pairs, for link prediction (higher = more likely an edge).

        Parameters
        ----------
        pairs : array_like of shape (2, k), integer
            Node pairs as columns, like an ``edge_index`` (``torch.Tensor`` or ``numpy.ndarray``).

        Returns
        -------
        numpy.ndarray of shape (k,), float64
            :math:`S_{uv} = \pi_u P_{uv} + \pi_v P_{vu}` (symmetric; ``0`` for ``u == v``).
        """
        self._check_fitted("score_pairs")
        array = to_numpy(pairs)
        if array.ndim != 2 or array.shape[0] != 2:
            raise ValueError(
                f"CELL.score_pairs: pairs must have shape (2, k), got {tuple(array.shape)}; transpose a (k, 2) "
                "array with .T."
            )
        if array.size and array.dtype.kind not in "iu":
            raise TypeError(f"CELL.score_pairs: pairs must hold integer node ids, got dtype {array.dtype}.")
        array = array.astype(np.int64)
        if array.size and (array.min() < 0 or array.max() >= self.num_nodes_):
            raise ValueError(
                f"CELL.score_pairs: node ids must be in 0..{self.num_nodes_ - 1}, got values in "
                f"{int(array.min())}..{int(array.max())}."
            )
        flat = self._scores.view(-1).numpy()
        return flat[array[0] * self.num_nodes_ + array[1]].astype(np.float64)


@functools.cache
def _cross_entropy():
    """CELL's loss as a ``torch.autograd.Function`` (built on first use: torch is imported lazily)."""
    import torch

    class TransitionCrossEntropy(torch.autograd.Function):
        """CELL's loss with its closed-form gradient, keeping one n x n buffer at a time."""

        @staticmethod
        def forward(ctx, source, target, row, col, degrees):
            logits = source @ target.T
            lse = torch.logsumexp(logits, dim=1)
            total = degrees.sum()
            loss = ((degrees * lse).sum() - logits[row, col].sum()) / total
            ctx.save_for_backward(source, target, row, col, degrees, lse)
            return loss

        @staticmethod
        def backward(ctx, grad_output):
            source, target, row, col, degrees, lse = ctx.saved_tensors
            total = degrees.sum()
            grad = torch.exp_((source @ target.T).sub_(lse[:, None])).mul_((degrees / total)[:, None])
            grad.index_put_((row, col), (-1.0 / total).expand(row.numel()), accumulate=True)
            grad.mul_(grad_output)
            # (H, n) @ (n, n) products: several times faster on CPU than (n, n) @ (n, H) with a transpose
            grad_source = (target.T @ grad.T).T.contiguous()
            grad_target = (source.T @ grad).T.contiguous()
            return grad_source, grad_target, None, None, None

    return TransitionCrossEntropy


def _cell_scores(source, target, stationary, tol=1e-6, max_iter=1000):
    """Score matrix ``S = Pi P + (Pi P)^T`` (zero diagonal, CPU float32) and ``pi``."""
    import torch

    transition = torch.softmax(source @ target.T, dim=1)
    pi = stationary.to(transition.dtype)
    for _ in range(max_iter):  # power iteration; P > 0 entrywise, so it converges to the unique pi
        new = pi @ transition
        new = new / new.sum()
        change = float((new - pi).abs().sum())
        pi = new
        if change < tol:
            break
    flow = transition.mul_(pi[:, None])
    scores = flow + flow.T
    del flow, transition
    scores = scores.cpu()
    scores.clamp_(min=torch.finfo(scores.dtype).tiny)  # every pair stays drawable
    scores.fill_diagonal_(0.0)
    return scores, pi


def _cell_sample_keys(scores, num_edges, generator):
    """Sorted keys ``u * n + v`` (``u < v``) of a graph drawn from a CELL score matrix.

    Stage 1: one neighbour per node from its row of ``scores`` (inverse-CDF on a float64 cumulative
    sum). Stage 2: the other pairs ``u < v`` with the smallest exponential keys ``E_uv / S_uv``
    (compared as logs), which is successive sampling without replacement proportional to ``S``.
    Both stages run over blocks of rows, so only the score matrix itself is ``n x n``.
    """
    import torch

    n = scores.shape[0]
    nodes = torch.arange(n)
    rows_per_chunk = max(1, _CHUNK_ENTRIES // n)
    first = torch.empty(n, dtype=torch.int64)
    for start in range(0, n, rows_per_chunk):
        stop = min(n, start + rows_per_chunk)
        cumulative = scores[start:stop].to(torch.float64).cumsum_(dim=1)
        uniform = torch.rand(stop - start, 1, generator=generator, dtype=torch.float64)
        first[start:stop] = torch.searchsorted(cumulative, uniform * cumulative[:, -1:], right=True).squeeze(1)
    first.clamp_(max=n - 1)
    loops = first == nodes  # only through round-off at the very end of a row
    if loops.any():
        first[loops] = scores[loops].argmax(dim=1)
    first_keys = torch.unique(torch.minimum(nodes, first) * n + torch.maximum(nodes, first))
    remaining = num_edges - first_keys.numel()
    if remaining <= 0:
        return first_keys
    first_rows = first_keys // n
    best_keys = torch.empty(0, dtype=scores.dtype)
    best_index = torch.empty(0, dtype=torch.int64)
    for start in range(0, n, rows_per_chunk):
        stop = min(n, start + rows_per_chunk)
        # log key = log(-log U) - log S with U uniform: the log of an Exp(1) variable over S
        key = torch.rand((stop - start, n), generator=generator, dtype=scores.dtype)
        key.log_().neg_().log_().sub_(scores[start:stop].log())
        key.masked_fill_(nodes[None, :] <= nodes[start:stop, None], math.inf)  # keep u < v only
        taken = (first_rows >= start) & (first_rows < stop)
        key.view(-1)[first_keys[taken] - start * n] = math.inf
        values, index = torch.topk(key.view(-1), min(remaining, key.numel()), largest=False, sorted=False)
        best_keys = torch.cat([best_keys, values])
        best_index = torch.cat([best_index, index + start * n])
        if best_keys.numel() > remaining:
            best_keys, keep = torch.topk(best_keys, remaining, largest=False, sorted=False)
            best_index = best_index[keep]
    return torch.sort(torch.cat([first_keys, best_index])).values


# ----------------------------------------------------------------------------------------------
# shared helpers
# ----------------------------------------------------------------------------------------------


def _training_edges(graph, owner):
    """``(2, m)`` undirected edges ``u < v`` and ``n`` of a training graph with at least one edge."""
    from graphwgan.graph import to_graph, undirected_edges

    data = to_graph(graph, weight=None, keep_attributes=False)
    uv, _ = undirected_edges(data)
    n = int(data.num_nodes)
    if uv.shape[1] == 0:
        raise ValueError(
            f"{owner}.fit: the training graph has no edges (only {n} isolated nodes); a generator needs at "
            "least one edge to learn from."
        )
    return uv, n


def _keys_to_data(keys, n, attrs):
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


def _spectral_blocks(uv, n, k, rng):
    """Blocks from k-means on the unit-normalised leading eigenvectors of ``D^-1/2 A D^-1/2``."""
    import scipy.sparse as sp

    adjacency = sp.coo_array(
        (np.ones(2 * uv.shape[1]), (np.concatenate([uv[0], uv[1]]), np.concatenate([uv[1], uv[0]]))), shape=(n, n)
    ).tocsr()
    degrees = np.asarray(adjacency.sum(axis=1)).ravel()
    inv_sqrt = np.zeros(n)
    inv_sqrt[degrees > 0] = degrees[degrees > 0] ** -0.5
    normalised = sp.diags_array(inv_sqrt) @ adjacency @ sp.diags_array(inv_sqrt)
    if k == n:
        return np.arange(n, dtype=np.int64)
    if n <= 500 or k >= n - 1:
        _, vectors = np.linalg.eigh(normalised.toarray())
        embedding = vectors[:, n - k :]
    else:
        from scipy.sparse.linalg import eigsh

        _, embedding = eigsh(normalised, k=k, which="LA", v0=rng.uniform(-1.0, 1.0, size=n))
    norms = np.linalg.norm(embedding, axis=1, keepdims=True)
    embedding = np.divide(embedding, norms, out=np.zeros_like(embedding), where=norms > 0)
    labels = _kmeans(embedding, k, rng)
    _, labels = np.unique(labels, return_inverse=True)
    return labels.reshape(-1).astype(np.int64)


def _kmeans(points, k, rng, n_init=4, max_iter=100):
    """Lloyd's k-means with k-means++ starts; the labels of the restart with the least inertia."""
    n = points.shape[0]
    sq_norms = (points**2).sum(axis=1)
    best_labels, best_inertia = None, np.inf
    for _ in range(n_init):
        centers = points[[rng.integers(n)]]
        closest = ((points - centers[0]) ** 2).sum(axis=1)
        for _ in range(1, k):  # k-means++: next centre with probability proportional to D^2
            total = closest.sum()
            pick = rng.integers(n) if total <= 0 else rng.choice(n, p=closest / total)
            centers = np.vstack([centers, points[pick]])
            closest = np.minimum(closest, ((points - points[pick]) ** 2).sum(axis=1))
        labels = None
        for _ in range(max_iter):
            dist = sq_norms[:, None] - 2.0 * points @ centers.T + (centers**2).sum(axis=1)[None, :]
            new_labels = dist.argmin(axis=1)
            if labels is not None and np.array_equal(new_labels, labels):
                break
            labels = new_labels
            for c in range(k):
                members = labels == c
                if members.any():
                    centers[c] = points[members].mean(axis=0)
                else:  # an empty cluster restarts at the point farthest from its centre
                    far = int(dist[np.arange(n), labels].argmax())
                    centers[c] = points[far]
        dist = sq_norms[:, None] - 2.0 * points @ centers.T + (centers**2).sum(axis=1)[None, :]
        labels = dist.argmin(axis=1)
        inertia = float(np.maximum(dist[np.arange(n), labels], 0.0).sum())
        if inertia < best_inertia:
            best_labels, best_inertia = labels, inertia
    return best_labels


def _edge_overlap(keys_a, keys_b) -> float:
    """Shared edges / edges of ``keys_b`` for two sets of undirected edge keys."""
    return float(np.intersect1d(keys_a, keys_b).size) / max(len(keys_b), 1)


def _torch_generator(rng):
    import torch

    return torch.Generator().manual_seed(int(rng.integers(0, 2**63 - 1)))


def _as_generator(value, name, owner):
    if isinstance(value, np.random.Generator):
        return value
    if value is None:
        return np.random.default_rng()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{owner}: {name} must be None, a non-negative int or a numpy.random.Generator, got {value!r}.")
    if value < 0:
        raise ValueError(f"{owner}: {name} must be a non-negative int, got {value}.")
    return np.random.default_rng(int(value))


def _check_real(value, name, owner, *, low=None, low_open=False, high=None):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise TypeError(f"{owner}: {name} must be a finite real number, got {value!r}.")
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and value > high
    if too_low or too_high:
        left = "(" if low_open else "["
        right = "inf)" if high is None else f"{high}]"
        raise ValueError(f"{owner}: {name} must be in {left}{low}, {right}, got {value}.")


def _check_num_edges(value, n, owner):
    check_int(value, "num_edges", owner, minimum=0)
    most = n * (n - 1) // 2
    if value > most:
        raise ValueError(
            f"{owner}: num_edges={value} is more than the {most} node pairs of a simple graph on {n} nodes."
        )
    return int(value)


def _resolve_device(device, owner):
    import torch

    try:
        resolved = torch.device(device)
    except (TypeError, RuntimeError) as err:
        raise ValueError(f"{owner}: device={device!r} is not a torch device ({err}); use 'cpu' or 'cuda'.") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"{owner}: device={device!r} but CUDA is not available here; use device='cpu'.")
    return resolved


