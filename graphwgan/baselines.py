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
import math
import numbers
import time
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from graphwgan._checks import check_int, check_real, resolve_device, to_numpy
from graphwgan._estimator import NotFittedError, ParamsMixin

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

# Entries per block of rows in CELL's passes over the n x n logits (training, pi, scores, sampling): about 4M.
_CHUNK_ENTRIES = 1 << 22
# CELL keeps all of P for the stationary solve when it has at most this many entries (64 MB; n <= 4096).
_DENSE_CACHE_ENTRIES = 1 << 24
# num_negatives="auto": the exact passes up to this many nodes, the sampled softmax with _AUTO_NEGATIVES beyond
_EXACT_MAX_NODES = 10_000
_AUTO_NEGATIVES = 1024
# hop radius of the balls that stratify CELL's sampled softmax (GraphSynthesizer uses its transport balls)
_SAMPLED_RADIUS = 2


class _GraphGenerator(ParamsMixin):
    """Shared training-graph validation and output layout (parameters: :class:`ParamsMixin`)."""

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
        Training loss at each epoch, before that epoch's step: the cross-entropy
        :math:`-\sum_{ij} A_{ij} \log P_{ij} / \sum_{ij} A_{ij}` (plus the transport term for
        :class:`graphwgan.synthesis.GraphSynthesizer`).
    eval_epochs : list of int
        Epochs after which a graph was sampled and its edge overlap measured.
    edge_overlap : list of float
        Edge overlap of that sample with the training graph (shared edges / training edges).
    seconds : list of float
        Wall time since the start of training at each evaluation.
    stationary_passes : list of int
        Products :math:`x^\top P` (passes over the row blocks, or over the kept :math:`P` on small
        graphs) spent on :math:`\pi` at each evaluation.
    """

    loss: list[float] = field(default_factory=list)
    eval_epochs: list[int] = field(default_factory=list)
    edge_overlap: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    stationary_passes: list[int] = field(default_factory=list)


class CELL(_GraphGenerator):
    r"""Cross-Entropy Low-rank Logits (Rendsburg, Heidrich & von Luxburg, ICML 2020).

    CELL replaces NetGAN's GAN by a direct fit of the random walk's transition matrix. A logit
    matrix of rank ``H``, :math:`W = U V^\top` with :math:`U, V \in \mathbb{R}^{n \times H}`, gives
    the row-wise softmax transition matrix :math:`P_{ij} = e^{W_{ij} - \ell_i}` with
    :math:`\ell_i = \log \sum_k e^{W_{ik}}`, trained with Adam (full batch, one step per epoch) to
    minimise the cross-entropy with the training graph's random walk,

    .. math::
        \mathcal{L}(U, V) = -\frac{1}{2m} \sum_{ij} A_{ij} \log P_{ij}
        = \frac{1}{2m} \Big(\sum_i k_i \ell_i - \sum_{ij} A_{ij} W_{ij}\Big),

    whose gradient is :math:`\partial \mathcal{L} / \partial W_{ij} = (k_i P_{ij} - A_{ij}) / 2m`.
    The edge scores are the stationary edge flows, symmetrised as in the paper,

    .. math::
        S = \Pi P + (\Pi P)^\top, \qquad \Pi = \mathrm{diag}(\pi), \quad \pi^\top P = \pi^\top,

    with :math:`\pi` the stationary distribution of the learned :math:`P` and the diagonal of
    :math:`S` set to zero. A graph with ``m`` edges is sampled as in the paper: every node ``i``
    first draws one neighbour from the row :math:`S_{i\cdot}` (so no node is isolated); the
    remaining edges are drawn without replacement among the other pairs :math:`i < j`, with
    probability proportional to :math:`S_{ij}` (successive sampling, done exactly with exponential
    keys). Training stops after the first evaluation (every ``eval_every`` epochs) whose sample
    shares at least ``eo_target`` of the training edges, or after ``max_epochs``.

    Nothing :math:`n \times n` is stored beyond small graphs. Every pass (loss and gradient,
    stationary distribution, scores, sampling) runs over blocks of rows of :math:`W` of about
    :math:`2^{22}` entries, recomputed from :math:`U`, :math:`V`, :math:`\ell` and :math:`\pi`,
    so memory is :math:`O(2^{22} + n H + m)` (measured peaks in
    ``benchmarks/results/synthesis_scale.md``) while time stays :math:`O(n^2 H)` per epoch. One
    training epoch forms each block of :math:`W` once: the loss, its gradient and one power step
    :math:`\pi \leftarrow \pi P` (a warm start for :math:`\pi`) come out of the same block.
    At each evaluation :math:`\pi` is solved by GMRES to an L1 residual near ``1e-6`` (20-55
    passes on Cora-ML, where the plain power iteration needs 130-230 for the same accuracy; see
    ``_stationary``). On graphs with :math:`n^2 \le 2^{24}` (``n <= 4096``) the blocks of
    :math:`P` and :math:`S` are kept during an evaluation or a sample (64 MB each at most).
    ``fit`` refuses a graph whose estimated peak memory exceeds the machine's physical memory.
    Past 10,000 nodes the default ``num_negatives="auto"`` trains a sampled form instead, linear in
    the graph per epoch (see ``num_negatives``).

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
    num_negatives : int, "auto" or None, default "auto"
        ``None``: the exact passes over all :math:`n^2` logits, :math:`O(n^2 H)` time per epoch.
        An int ``K``: the sampled form of :mod:`graphwgan._sampled_walk`, linear in the graph per
        epoch: every row's normaliser is summed exactly over its 2-hop ball (GraphSynthesizer: its
        transport ball) and estimated outside it from ``K`` uniformly drawn columns; the stationary
        law and the samples are approximated outside the balls the same way. ``"auto"``: exact up
        to 10,000 nodes, ``K = 1024`` beyond (one exact epoch at 25,000 nodes takes minutes).
    random_state : None, int or numpy.random.Generator, default None
        Seeds the initialisation, the evaluation samples, and :meth:`sample` without ``seed``.
    device : str or torch.device, default "cpu"
        Where training runs. Sampling after ``fit`` runs on the CPU, so a seed gives the same graph
        whichever device trained the model (up to the device's round-off in the factors).
    verbose : bool, default False
        Show a progress bar over the epochs (on stderr), with the last edge overlap.

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
        num_negatives: int | str | None = "auto",
        random_state: Any = None,
        device: Any = "cpu",
        verbose: bool = False,
    ) -> None:
        self.rank = rank
        self.lr = lr
        self.max_epochs = max_epochs
        self.eo_target = eo_target
        self.eval_every = eval_every
        self.num_negatives = num_negatives
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    def _check_params(self):
        name = type(self).__name__
        check_int(self.rank, "rank", name, minimum=1)
        check_real(self.lr, "lr", name, low=0.0, low_open=True)
        check_int(self.max_epochs, "max_epochs", name, minimum=1)
        check_real(self.eo_target, "eo_target", name, low=0.0, low_open=True, high=1.0)
        check_int(self.eval_every, "eval_every", name, minimum=1)
        if not (self.num_negatives is None or self.num_negatives == "auto"):
            check_int(self.num_negatives, "num_negatives", name, minimum=1)

    def _transport_params(self):
        """``(weight, cap)`` of the transport term, or ``None`` (none here; :class:`GraphSynthesizer` adds one)."""
        return None

    def _sampled_negatives(self, n):
        """Negatives per epoch of the sampled softmax, or ``None`` for the exact passes."""
        if self.num_negatives == "auto":
            return _AUTO_NEGATIVES if n > _EXACT_MAX_NODES else None
        return self.num_negatives

    def _fit(self, uv, n, rng):
        import torch

        name = type(self).__name__
        device = resolve_device(self.device, name)
        m = uv.shape[1]
        negatives = self._sampled_negatives(n)
        fixed = _cell_memory(n, m, self.rank, negatives)
        budget = _physical_memory()
        if budget is not None and fixed > budget:
            raise ValueError(
                f"{name}: the training graph ({n} nodes, {m} edges) needs about {fixed / 1e9:.1f} GB at the "
                f"peak but this machine has {budget / 1e9:.1f} GB; use a sparse generator such as "
                "DegreeCorrectedSBM."
            )
        walk = self._walk(uv, n, device, negatives, None if budget is None else budget - fixed)
        generator = _torch_generator(rng)
        train_keys = uv[0] * np.int64(n) + uv[1]

        scale = self.rank**-0.5  # entries of U V^T start with standard deviation rank^-1/2
        source = (torch.randn(n, self.rank, generator=generator) * scale).to(device).requires_grad_()
        target = (torch.randn(n, self.rank, generator=generator) * scale).to(device).requires_grad_()
        optimizer = torch.optim.Adam([source, target], lr=self.lr)
        history = CELLHistory()
        lse, stationary, overlap, epoch = None, None, 0.0, 0
        from tqdm.auto import tqdm

        bar = tqdm(total=self.max_epochs, desc=type(self).__name__, unit="epoch", leave=False,
                   disable=not self.verbose)
        start = time.perf_counter()
        for epoch in range(1, self.max_epochs + 1):
            bar.update()
            optimizer.zero_grad(set_to_none=True)
            history.loss.append(walk.step(source, target, generator))
            optimizer.step()
            if epoch % self.eval_every and epoch != self.max_epochs:
                continue
            stationary, lse, passes = walk.evaluate(source.detach(), target.detach(), generator)
            keys = walk.sample_keys(source.detach(), target.detach(), lse, stationary, m, generator)
            overlap = _edge_overlap(keys.numpy(), train_keys)
            history.eval_epochs.append(epoch)
            history.edge_overlap.append(overlap)
            history.seconds.append(time.perf_counter() - start)
            history.stationary_passes.append(passes)
            bar.set_postfix(edge_overlap=f"{overlap:.3f}", target=self.eo_target)
            if overlap >= self.eo_target or epoch == self.max_epochs:
                break
        bar.close()
        self.fit_seconds_ = time.perf_counter() - start
        self.source_factors_ = source.detach().cpu()
        self.target_factors_ = target.detach().cpu()
        self.stationary_ = stationary.double().cpu().numpy()
        self.history_ = history
        self.n_epochs_ = epoch
        self.edge_overlap_ = overlap
        self.converged_ = overlap >= self.eo_target
        self._pi = stationary.float().cpu()
        self._lse = lse.float().cpu()
        self._sampled = negatives is not None
        self._train_edges = torch.from_numpy(uv) if self._sampled else None
        self._walk_cache = walk if self._sampled else None
        if not self.converged_:
            warnings.warn(
                f"{name}: edge overlap {overlap:.3f} after max_epochs={self.max_epochs} is below "
                f"eo_target={self.eo_target}; raise max_epochs or lr, or lower eo_target.",
                RuntimeWarning,
                stacklevel=3,
            )

    def _walk(self, uv, n, device, negatives, budget):
        """The passes of one fit: exact over all :math:`n^2` logits, or sampled (``negatives`` given)."""
        import torch

        transport = self._transport_params()
        if negatives is None:
            problem = _walk_problem(uv, n, device)
            if transport is not None:
                problem.transport = _transport_ball(uv, n, *transport, device, budget)
            return _ExactWalk(problem)
        from graphwgan._sampled_walk import SampledWalk

        degrees = torch.from_numpy(np.bincount(np.r_[uv[0], uv[1]], minlength=n).astype(np.float32)).to(device)
        radius = _SAMPLED_RADIUS if transport is None else math.ceil(transport[1])
        return SampledWalk(uv, n, degrees, num_negatives=negatives, radius=radius, transport=transport,
                           device=device, budget=budget, owner=type(self).__name__)

    def sample(self, seed: Any = None, num_edges: int | None = None) -> Data:
        """Draw a graph from the score matrix, as in the paper.

        Every node first draws one neighbour from its row of ``S``; the remaining
        ``num_edges - c`` edges (``c <= n`` distinct pairs from the first stage) are drawn without
        replacement proportional to ``S``. So a sample has exactly ``num_edges`` edges whenever
        ``num_edges >= c``, and ``c`` edges otherwise. The rows of ``S`` are recomputed block by
        block from the factors (two passes over the :math:`n^2` pairs, no stored matrix).

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
        generator = _torch_generator(rng)
        if self._sampled:
            if self._walk_cache is None:  # a loaded model: rebuild the balls (all sampling reads) from its edges
                self._walk_cache = self._walk(self._train_edges.numpy(), self.num_nodes_, "cpu", _AUTO_NEGATIVES, None)
            keys = self._walk_cache.sample_keys(self.source_factors_, self.target_factors_, self._lse, self._pi, m,
                                                generator)
        else:
            rows = _score_rows(self.source_factors_, self.target_factors_, self._lse, self._pi)
            keys = _cell_sample_keys(rows, self.num_nodes_, m, generator)
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
            :math:`S_{uv} = \pi_u P_{uv} + \pi_v P_{vu}` (symmetric; ``0`` for ``u == v``), from
            the factors in :math:`O(k H)`.
        """
        import torch

        name = type(self).__name__
        self._check_fitted("score_pairs")
        array = to_numpy(pairs)
        if array.ndim != 2 or array.shape[0] != 2:
            raise ValueError(
                f"{name}.score_pairs: pairs must have shape (2, k), got {tuple(array.shape)}; transpose a (k, 2) "
                "array with .T."
            )
        if array.size and array.dtype.kind not in "iu":
            raise TypeError(f"{name}.score_pairs: pairs must hold integer node ids, got dtype {array.dtype}.")
        array = array.astype(np.int64)
        if array.size and (array.min() < 0 or array.max() >= self.num_nodes_):
            raise ValueError(
                f"{name}.score_pairs: node ids must be in 0..{self.num_nodes_ - 1}, got values in "
                f"{int(array.min())}..{int(array.max())}."
            )
        u, v = torch.from_numpy(array[0]), torch.from_numpy(array[1])
        source, target, lse, pi = self.source_factors_, self.target_factors_, self._lse, self._pi
        forward = ((source[u] * target[v]).sum(dim=1) - lse[u]).exp_().mul_(pi[u])
        backward = ((source[v] * target[u]).sum(dim=1) - lse[v]).exp_().mul_(pi[v])
        scores = forward.add_(backward).clamp_(min=torch.finfo(forward.dtype).tiny)
        scores[u == v] = 0.0
        return scores.numpy().astype(np.float64)

    # -- persistence -----------------------------------------------------------------------------

    def save(self, path: Any) -> None:
        r"""Write the fitted model and its parameters to ``path`` (a ``torch.save`` of a plain dict).

        The file holds the constructor parameters, the factors :math:`U, V`, :math:`\pi`, the
        log-normalisers, the training record and the state of the fitted random generator (so
        ``sample()`` without a seed continues where the saved model was), stamped with the
        synthesizer format version. Read it back with :meth:`load`.

        Parameters
        ----------
        path : str or os.PathLike
            Destination file (overwritten).

        Raises
        ------
        NotFittedError
            If the model is not fitted.
        """
        import torch

        self._check_fitted("save")
        params = self.get_params()
        params["device"] = str(params["device"])
        if isinstance(params["random_state"], np.random.Generator):
            params["random_state"] = None  # a Generator is not plain data; its fitted state is kept below
        state = {
            "format": _SYNTHESIZER_FORMAT,
            "version": _SYNTHESIZER_VERSION,
            "class": type(self).__name__,
            "params": params,
            "num_nodes": self.num_nodes_,
            "num_edges": self.num_edges_,
            "source_factors": self.source_factors_,
            "target_factors": self.target_factors_,
            "stationary": torch.from_numpy(self.stationary_),
            "stationary_float32": self._pi,
            "log_normalizers": self._lse,
            "history": {key: list(value) for key, value in vars(self.history_).items()},
            "n_epochs": self.n_epochs_,
            "edge_overlap": self.edge_overlap_,
            "converged": self.converged_,
            "fit_seconds": self.fit_seconds_,
            "rng_state": self._rng.bit_generator.state,
            "sampled_train_edges": self._train_edges,
        }
        torch.save(state, _as_path(path, f"{type(self).__name__}.save"))

    @classmethod
    def load(cls, path: Any) -> CELL:
        """Read a model written by :meth:`save`.

        Parameters
        ----------
        path : str or os.PathLike
            A file written by :meth:`save` of this class or a subclass (``CELL.load`` also reads a
            :class:`graphwgan.synthesis.GraphSynthesizer` file).

        Returns
        -------
        CELL
            The fitted model, on the CPU; ``device`` keeps its saved value for a refit.

        Raises
        ------
        FileNotFoundError
            If ``path`` does not exist.
        ValueError
            If the file is not a graphwgan synthesizer, was written in another format version, or
            holds a class that is not ``cls`` or a subclass of it.
        """
        import torch

        owner = f"{cls.__name__}.load"
        path = _as_path(path, owner)
        if not path.is_file():
            raise FileNotFoundError(f"{owner}: no file at {path}.")
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as err:  # noqa: BLE001 - torch raises several types for a foreign file
            raise ValueError(f"{owner}: {path} is not a graphwgan synthesizer file ({type(err).__name__}).") from None
        if not isinstance(state, dict) or state.get("format") != _SYNTHESIZER_FORMAT:
            raise ValueError(
                f"{owner}: {path} is not a graphwgan synthesizer file (no '{_SYNTHESIZER_FORMAT}' stamp); write "
                "one with CELL.save or GraphSynthesizer.save."
            )
        version = state.get("version")
        if version != _SYNTHESIZER_VERSION:
            raise ValueError(
                f"{owner}: {path} was written in synthesizer format version {version!r}, but this graphwgan reads "
                f"version {_SYNTHESIZER_VERSION}; refit the model, or load it with the graphwgan release that wrote it."
            )
        stored = state.get("class")
        classes = [cls]
        while classes and classes[0].__name__ != stored:
            head = classes.pop(0)
            classes += head.__subclasses__()
        if not classes:
            raise ValueError(f"{owner}: {path} holds a {stored!r} model; load it with {stored}.load.")
        model = classes[0](**state["params"])
        model.num_nodes_ = int(state["num_nodes"])
        model.num_edges_ = int(state["num_edges"])
        model.source_factors_ = state["source_factors"]
        model.target_factors_ = state["target_factors"]
        model.stationary_ = state["stationary"].numpy()
        model._pi = state["stationary_float32"]
        model._lse = state["log_normalizers"]
        model.history_ = CELLHistory(**state["history"])
        model.n_epochs_ = int(state["n_epochs"])
        model.edge_overlap_ = float(state["edge_overlap"])
        model.converged_ = bool(state["converged"])
        model.fit_seconds_ = float(state["fit_seconds"])
        rng_state = state["rng_state"]
        model._rng = np.random.Generator(getattr(np.random, rng_state["bit_generator"])())
        model._rng.bit_generator.state = rng_state
        edges = state.get("sampled_train_edges")
        model._sampled = edges is not None
        model._train_edges = edges
        model._walk_cache = None
        return model


# the stamp and version of the files written by CELL.save; bump the version when the layout changes
_SYNTHESIZER_FORMAT = "graphwgan.synthesizer"
_SYNTHESIZER_VERSION = 1


def _as_path(path, owner):
    import os
    from pathlib import Path

    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{owner}: path must be a str or os.PathLike, got {type(path).__name__}.")
    return Path(path)


def _row_blocks(n):
    """``(start, stop)`` row ranges of about ``_CHUNK_ENTRIES`` entries of an ``n``-wide matrix."""
    rows = max(1, _CHUNK_ENTRIES // n)
    return [(start, min(n, start + rows)) for start in range(0, n, rows)]


def _physical_memory():
    """Bytes of physical memory, or ``None`` where the platform does not say."""
    import os

    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):  # pragma: no cover - non-POSIX
        return None


def _cell_memory(n, m, rank, negatives=None):
    """Estimated peak bytes of CELL without a transport term (blocks, factors, edges, sampling)."""
    block = max(1, _CHUNK_ENTRIES // n) * n if negatives is None else _CHUNK_ENTRIES
    blocks = 4 * 4 * block + 8 * block  # float32 logits/scores/keys/temporaries + float64 cumulative sums
    factors = 4 * 12 * n * rank  # U, V, their gradients and Adam moments, transposed copies
    edges = 2 * m * 3 * 8 + 3 * m * 12  # directed edges (row, column, keys); sampling candidates
    return blocks + factors + edges + 64 * n + (150 << 20)  # per-node vectors; the interpreter and torch


@dataclass
class _Transport:
    """The sparse part of GraphSynthesizer's transport term (see :mod:`graphwgan.synthesis`).

    ``indptr``/``indices`` list, row by row, the ball of each node ``u``: the nodes ``v`` (``u``
    itself included) whose capped miss ``c_uv`` is below the cap, with ``hops[k] = d(u, v)``;
    ``gains[h]`` is ``cap - c`` at hop ``h``, the transport saved per unit of mass landing there.
    """

    weight: float
    cap: float
    indptr: np.ndarray
    indices: Any
    hops: Any
    gains: Any


def _transport_ball(uv, n, weight, cap, device, budget):
    r"""GraphSynthesizer's transport term for the exact passes: the balls :math:`B(u)` and their gains.

    The balls are :math:`\{v : d(u, v) \le \lceil c \rceil\}` (``c(u, v) = d(u, v) - 1 < cap`` exactly
    there), from the sparse BFS of :func:`graphwgan._sampled_walk.hop_balls`.
    """
    import torch

    from graphwgan._sampled_walk import hop_balls, transport_gains

    balls = hop_balls(uv, n, math.ceil(cap), device, budget, "GraphSynthesizer")
    return _Transport(weight=weight, cap=cap, indptr=balls.indptr, indices=balls.indices, hops=balls.hops,
                      gains=torch.from_numpy(transport_gains(cap, balls.radius)).to(device))


@dataclass
class _WalkProblem:
    """The training graph as CELL's passes read it: CSR edges (both directions) and degrees."""

    n: int
    degrees: Any
    indptr: np.ndarray
    rows: Any
    indices: Any
    transport: _Transport | None = None


@dataclass
class _WalkStep:
    """What one pass over the row blocks gives: loss, gradients, log-normalisers, ``pi P``."""

    loss: float
    lse: Any
    grad_source: Any
    grad_target: Any
    flow: Any


class _ExactWalk:
    """CELL's exact passes over all :math:`n^2` logits behind the interface of ``SampledWalk``."""

    def __init__(self, problem):
        self.problem = problem
        self.warm = problem.degrees / problem.degrees.sum()

    def step(self, source, target, generator):
        step = _walk_pass(source.detach(), target.detach(), self.problem, stationary=self.warm)
        source.grad, target.grad = step.grad_source, step.grad_target
        self.warm = step.flow / step.flow.sum()  # one power step with the pre-step P: a warm start
        return step.loss

    def evaluate(self, source, target, generator):
        pi, lse, passes = _stationary(source, target, self.warm)
        self.warm = pi
        return pi, lse, passes

    def sample_keys(self, source, target, lse, pi, num_edges, generator):
        return _cell_sample_keys(_score_rows(source, target, lse, pi), self.problem.n, num_edges, generator)


def _walk_problem(uv, n, device):
    import torch

    row = np.concatenate([uv[0], uv[1]])
    col = np.concatenate([uv[1], uv[0]])
    order = np.lexsort((col, row))
    row, col = row[order], col[order]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(row, minlength=n), out=indptr[1:])
    degrees = torch.from_numpy(np.diff(indptr).astype(np.float32)).to(device)
    return _WalkProblem(n=n, degrees=degrees, indptr=indptr, rows=torch.from_numpy(row).to(device),
                        indices=torch.from_numpy(col).to(device))


def _walk_pass(source, target, problem, *, stationary=None, need_grad=True):
    r"""Loss and gradient of CELL (plus the transport term if any) in one pass over row blocks.

    Each block of logits :math:`W_{b\cdot} = U_b V^\top` is formed once and turned in place into
    :math:`P_{b\cdot}`, which gives :math:`\ell_b`, the loss terms, ``stationary_b @ P_b`` (one
    power step, when ``stationary`` is given) and, overwritten by
    :math:`G = \partial\mathcal{L}/\partial W` on the block, the gradients
    :math:`G_{b\cdot} V` and :math:`G_{b\cdot}^\top U_b`. With the transport term
    :math:`\lambda \sum_u w_u (c - \beta_u)`, :math:`\beta_u = \sum_{v \in B(u)} P_{uv} g_{uv}`,

    .. math::
        G_{uv} = P_{uv}\Big(\frac{k_u}{2m} + \lambda w_u \beta_u\Big) - \frac{A_{uv}}{2m}
        - \lambda w_u P_{uv} g_{uv} [v \in B(u)].
    """
    import torch

    n = problem.n
    dtype, device = source.dtype, source.device
    degrees = problem.degrees.to(dtype)
    total = degrees.sum()
    transport = problem.transport
    target_t = target.T.contiguous()
    lse = torch.empty(n, dtype=dtype, device=device)
    flow = None if stationary is None else torch.zeros(n, dtype=dtype, device=device)
    grad_source = torch.empty_like(source) if need_grad else None
    grad_target_t = torch.zeros_like(target_t) if need_grad else None
    weighted_lse = torch.zeros((), dtype=torch.float64, device=device)
    edge_logits = torch.zeros((), dtype=torch.float64, device=device)
    saving = torch.zeros((), dtype=torch.float64, device=device)
    gains = None if transport is None else transport.gains.to(dtype)
    for start, stop in _row_blocks(n):
        block = source[start:stop] @ target_t
        flat = block.view(-1)
        e0, e1 = int(problem.indptr[start]), int(problem.indptr[stop])
        edge_flat = (problem.rows[e0:e1] - start) * n + problem.indices[e0:e1]
        edge_logits += flat[edge_flat].sum(dtype=torch.float64)
        top = block.amax(dim=1, keepdim=True)
        block.sub_(top).exp_()
        norm = block.sum(dim=1, keepdim=True)
        block.div_(norm)  # now P on the block's rows
        lse_block = (top + norm.log_()).squeeze(1)
        lse[start:stop] = lse_block
        k_block = degrees[start:stop]
        weighted_lse += (k_block * lse_block).sum(dtype=torch.float64)
        if flow is not None:
            flow += stationary[start:stop].to(dtype) @ block
        scale = k_block / total  # dL/dW = scale * P - A / 2m for the cross-entropy
        if transport is not None:
            b0, b1 = int(transport.indptr[start]), int(transport.indptr[stop])
            counts = torch.from_numpy(np.diff(transport.indptr[start : stop + 1])).to(device)
            ball_rows = torch.repeat_interleave(torch.arange(stop - start, device=device), counts)
            ball_flat = ball_rows * n + transport.indices[b0:b1]
            gained = flat[ball_flat].mul_(gains[transport.hops[b0:b1].long()])
            kept = torch.zeros(stop - start, dtype=dtype, device=device).index_add_(0, ball_rows, gained)
            weight = transport.weight * scale
            saving += (weight * kept).sum(dtype=torch.float64)
            scale = scale + weight * kept
        if not need_grad:
            continue
        block.mul_(scale[:, None])
        flat.index_add_(0, edge_flat, (-1.0 / total).expand(e1 - e0))
        if transport is not None:
            flat.index_add_(0, ball_flat, gained.mul_(weight[ball_rows]).neg_())
        # (H, n) @ (n, c) and (H, c) @ (c, n): several times faster on CPU than (c, n) @ (n, H)
        grad_source[start:stop] = (target_t @ block.T).T
        grad_target_t.addmm_(source[start:stop].T, block)
    loss = (weighted_lse - edge_logits) / total.double()
    if transport is not None:
        loss = loss + transport.weight * transport.cap - saving
    grad_target = None if grad_target_t is None else grad_target_t.T.contiguous()
    return _WalkStep(loss=float(loss), lse=lse, grad_source=grad_source, grad_target=grad_target, flow=flow)


@functools.cache
def _walk_loss():
    """CELL's loss (with the transport term of the problem, if any) as a ``torch.autograd.Function``.

    ``_walk_loss().apply(source, target, problem)``; the gradient is computed in the forward pass
    (the same pass over the row blocks) and scaled in the backward one. Built on first use: torch is
    imported lazily.
    """
    import torch
    from torch.autograd.function import once_differentiable

    class WalkLoss(torch.autograd.Function):
        @staticmethod
        def forward(ctx, source, target, problem):
            need = ctx.needs_input_grad[0] or ctx.needs_input_grad[1]
            step = _walk_pass(source, target, problem, need_grad=need)
            ctx.grads = (step.grad_source, step.grad_target)
            return torch.tensor(step.loss, dtype=source.dtype, device=source.device)

        @staticmethod
        @once_differentiable
        def backward(ctx, grad_output):
            grad_source, grad_target = ctx.grads
            return grad_source * grad_output, grad_target * grad_output, None

    return WalkLoss


def _stationary(source, target, start, tol=1e-6, max_passes=200):
    r"""Stationary distribution of :math:`P = \mathrm{softmax}(U V^\top)` and the log-normalisers.

    Solves the nonsingular system :math:`(I - P^\top + \mathbf{1}\mathbf{1}^\top / n)\, x =
    \mathbf{1} / n`, whose solution is :math:`\pi` (it sums to one), with restarted GMRES from the
    warm start ``start``, until
    :math:`\lVert \pi^\top P - \pi^\top \rVert_2 \le` ``tol`` :math:`\lVert \pi_0 \rVert_2`
    (an L1 residual of about ``tol``, below the round-off of a float32 pass summed in float64) or
    about ``max_passes`` products (GMRES adds up to three for its residuals). Every product
    :math:`x^\top P` is one pass over the row blocks (the first pass also gives :math:`\ell`);
    when the whole of :math:`P` fits in ``_DENSE_CACHE_ENTRIES`` entries (``n <= 4096``) its
    blocks are kept for the later products.
    :math:`P > 0` entrywise, so :math:`\pi` is unique and the rank-one term makes the system
    nonsingular. Measured on Cora-ML (2,810 nodes): GMRES needs 40-50 products from the degree
    distribution for an L1 error near ``1e-6``, where the plain power iteration
    :math:`\pi \leftarrow \pi P` needs 130-230 to reach a change below ``1e-6`` (an L1 error of
    1e-5 to 4e-5): the learned walk mixes slowly (:math:`|\lambda_2| \approx 0.94-0.97`).
    Returns ``(pi, lse, passes)``.
    """
    import torch

    n = source.shape[0]
    dtype, device = source.dtype, source.device
    target_t = target.T.contiguous()
    lse = torch.empty(n, dtype=dtype, device=device)
    cache = [] if n * n <= _DENSE_CACHE_ENTRIES else None
    passes = 0

    def product(x):  # x^T P, one pass over the row blocks
        nonlocal passes
        passes += 1
        vector = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64)).to(device=device, dtype=dtype)
        out = torch.zeros(n, dtype=torch.float64, device=device)
        for index, (begin, stop) in enumerate(_row_blocks(n)):
            if cache is not None and index < len(cache):
                block = cache[index]
            elif passes == 1:
                block = source[begin:stop] @ target_t
                top = block.amax(dim=1, keepdim=True)
                block.sub_(top).exp_()
                norm = block.sum(dim=1, keepdim=True)
                block.div_(norm)
                lse[begin:stop] = (top + norm.log_()).squeeze(1)
                if cache is not None:
                    cache.append(block)
            else:
                block = (source[begin:stop] @ target_t).sub_(lse[begin:stop, None]).exp_()
            out += (vector[begin:stop] @ block).double()
        return out.cpu().numpy()

    pi = _solve_stationary(product, start, n, tol, max_passes).to(device=device, dtype=dtype)
    return pi / pi.sum(), lse, passes


def _solve_stationary(product, start, n, tol, max_passes):
    r"""GMRES for :math:`\pi^\top P = \pi^\top` given ``product(x) =`` :math:`x^\top P` (numpy, float64).

    Solves the nonsingular :math:`(I - P^\top + \mathbf{1}\mathbf{1}^\top / n)\, x = \mathbf{1} / n` from
    the warm start ``start`` until :math:`\lVert x^\top P - x^\top \rVert_2 \le` ``tol``
    :math:`\lVert x_0 \rVert_2`, in about ``max_passes`` products; returns :math:`\pi` as a float64
    CPU tensor clamped to be positive, for the caller to cast and normalise. Shared by the exact and
    the sampled passes.
    """
    import torch
    from scipy.sparse.linalg import LinearOperator, gmres

    pi0 = start.double().cpu().numpy()
    pi0 = pi0 / pi0.sum()
    residual = product(pi0) - pi0
    atol = tol * float(np.linalg.norm(pi0))
    if np.linalg.norm(residual) > atol:
        # (I - P^T + 1 1^T / n) x = 1 / n: nonsingular, and solved exactly by pi (1^T pi = 1)
        def apply(x):
            x = np.asarray(x).ravel()
            return x - product(x) + x.sum() / n

        operator = LinearOperator((n, n), matvec=apply, dtype=np.float64)
        restart = max(1, min(n, 40, max_passes - 1))  # GMRES makes one product per step (after its first)
        pi0, _ = gmres(operator, np.full(n, 1.0 / n), x0=pi0, rtol=0.0, atol=atol, restart=restart,
                       maxiter=max(1, (max_passes - 1) // restart))
    return torch.from_numpy(np.maximum(pi0, np.finfo(np.float64).tiny))


def _score_rows(source, target, lse, stationary):
    r"""A function ``rows(start, stop, first)`` giving :math:`S_{uv}` for ``start <= u < stop``, ``v >= first``.

    :math:`S_{uv} = \pi_u P_{uv} + \pi_v P_{vu}` with :math:`P_{uv} = e^{U_u \cdot V_v - \ell_u}`,
    clamped below at the smallest positive float32 (every pair stays drawable) and ``0`` on the
    diagonal; returned on the CPU as float32. Rows are recomputed on the factors' device at each
    call, except on small graphs (:math:`n^2 \le` ``_DENSE_CACHE_ENTRIES``) where the whole of
    :math:`S` is built once and sliced.
    """
    import torch

    n = source.shape[0]
    source_t, target_t = source.T.contiguous(), target.T.contiguous()
    tiny = torch.finfo(torch.float32).tiny

    def compute(start, stop, first=0):
        out = (source[start:stop] @ target_t[:, first:]).sub_(lse[start:stop, None]).exp_()
        out.mul_(stationary[start:stop, None])
        back = (target[start:stop] @ source_t[:, first:]).sub_(lse[None, first:]).exp_()
        out.add_(back.mul_(stationary[None, first:])).clamp_(min=tiny)
        diagonal = torch.arange(max(start, first), stop, device=out.device)
        out[diagonal - start, diagonal - first] = 0.0
        return out.cpu()

    if n * n > _DENSE_CACHE_ENTRIES:
        return compute
    scores = torch.cat([compute(start, stop) for start, stop in _row_blocks(n)])
    return lambda start, stop, first=0: scores[start:stop, first:]


def _cell_sample_keys(score_rows, n, num_edges, generator):
    """Sorted keys ``u * n + v`` (``u < v``) of a graph drawn from CELL scores.

    ``score_rows(start, stop, first)`` returns the CPU float32 rows ``start..stop - 1`` of the score
    matrix from column ``first`` on (see :func:`_score_rows`). Stage 1: one neighbour per node from
    its row (inverse-CDF on a float64 cumulative sum). Stage 2: the other pairs ``u < v`` with the
    smallest exponential keys ``E_uv / S_uv`` (compared as logs), which is successive sampling
    without replacement proportional to ``S``. Both stages run over blocks of rows, so nothing
    ``n x n`` is held; the random numbers are drawn per block of rows in the same order whatever
    computes the scores.
    """
    import torch

    nodes = torch.arange(n)
    first = torch.empty(n, dtype=torch.int64)
    blocks = _row_blocks(n)
    for start, stop in blocks:
        cumulative = score_rows(start, stop, 0).to(torch.float64).cumsum_(dim=1)
        uniform = torch.rand(stop - start, 1, generator=generator, dtype=torch.float64)
        first[start:stop] = torch.searchsorted(cumulative, uniform * cumulative[:, -1:], right=True).squeeze(1)
    first.clamp_(max=n - 1)
    for node in torch.nonzero(first == nodes).view(-1).tolist():  # only through round-off at a row's end
        first[node] = score_rows(node, node + 1, 0).argmax()
    first_keys = torch.unique(torch.minimum(nodes, first) * n + torch.maximum(nodes, first))
    remaining = num_edges - first_keys.numel()
    if remaining <= 0:
        return first_keys
    first_rows = first_keys // n
    best_keys = torch.empty(0, dtype=torch.float32)
    best_index = torch.empty(0, dtype=torch.int64)
    for start, stop in blocks:
        # log key = log(-log U) - log S with U uniform: the log of an Exp(1) variable over S
        key = torch.rand((stop - start, n), generator=generator, dtype=torch.float32)
        key.log_().neg_().log_()
        key[:, :start] = math.inf  # below the diagonal block: only pairs u < v count
        key[:, start:].sub_(score_rows(start, stop, start).log())
        key[:, start:stop].masked_fill_(nodes[None, start:stop] <= nodes[start:stop, None], math.inf)
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


def _check_num_edges(value, n, owner):
    check_int(value, "num_edges", owner, minimum=0)
    most = n * (n - 1) // 2
    if value > most:
        raise ValueError(
            f"{owner}: num_edges={value} is more than the {most} node pairs of a simple graph on {n} nodes."
        )
    return int(value)


