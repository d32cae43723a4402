r"""CELL: Cross-Entropy Low-rank Logits (Rendsburg, Heidrich & von Luxburg, ICML 2020), a baseline.

References
----------
L. Rendsburg, H. Heidrich and U. von Luxburg, "NetGAN without GAN: From Random Walks to Low-Rank
Approximations", ICML 2020.
"""

from __future__ import annotations

from typing import Any

from graphwgan.synthesis.walk_model import LowRankWalkModel

__all__ = ["CELL"]

class CELL(LowRankWalkModel):
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
    ``stationary_law``). On graphs with :math:`n^2 \le 2^{24}` (``n <= 4096``) the blocks of
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
    eval_every : int or "auto", default 10
        Epochs between edge-overlap evaluations (``"auto"``: as in
        :class:`graphwgan.synthesis.GraphSynthesizer`).
    num_negatives : int, "auto" or None, default "auto"
        ``None``: the exact passes over all :math:`n^2` logits, :math:`O(n^2 H)` time per epoch.
        An int ``K``: the sampled form of :mod:`graphwgan.synthesis.sampled_walk`, linear in the graph per
        epoch: every row's normaliser is summed exactly over its 2-hop ball (GraphSynthesizer: its
        transport ball) and estimated outside it from ``K`` uniformly drawn columns; the stationary
        law and the samples are approximated outside the balls the same way. ``"auto"``: exact up
        to 10,000 nodes, ``K = 1024`` beyond (one exact epoch at 25,000 nodes takes minutes).
    init : {"random", "spectral"}, default "random"
        Initial factors: random (the paper's start) or half spectral
        (:mod:`graphwgan.synthesis.spectral_init`).
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
        eval_every: int | str = 10,
        num_negatives: int | str | None = "auto",
        init: str = "random",
        random_state: Any = None,
        device: Any = "cpu",
        verbose: bool = False,
    ) -> None:
        super().__init__(rank=rank, lr=lr, max_epochs=max_epochs, eo_target=eo_target, eval_every=eval_every,
                         num_negatives=num_negatives, random_state=random_state, device=device, verbose=verbose,
                         init=init)
