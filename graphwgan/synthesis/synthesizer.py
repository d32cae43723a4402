r"""Network synthesis: learn a graph and generate new ones like it.

:class:`GraphSynthesizer` generates edges from a low-rank random-walk model (CELL's
:math:`P = \mathrm{softmax}(U V^\top)`, Rendsburg et al. 2020) and adds what the shortest-path
ground cost says about a miss: a generated edge that lands near a real neighbour costs less than
one that lands far away. For each node :math:`u`, moving the generated transition row
:math:`P_{u\cdot}` onto the real neighbourhood :math:`N(u)` costs at least

.. math::
    T_u(P) = \sum_v P_{uv}\, d(v, N(u)) = \sum_{v \ne u} P_{uv}\, (d(u, v) - 1) + P_{uu},

the transport cost to the nearest real neighbour (the capacity-free relaxation of the
Wasserstein-1 distance :math:`W_1(P_{u\cdot}, \mathrm{Unif}\,N(u))` under the hop metric:
:math:`d(v, N(u)) = d(u, v) - 1` because every path into :math:`u` ends with a neighbour). The
model minimises

.. math::
    \mathcal{L} = \mathrm{CE}(A, P) + \lambda \sum_u \frac{k_u}{2m} \sum_v P_{uv}\, c_{uv},

the node terms weighted by the training walk's stationary distribution :math:`k_u / 2m`, with the
misses capped at ``transport_cap`` = :math:`c` hops (:math:`c_{uv} = \min(d(u, v) - 1, c)`, and
:math:`\min(1, c)` for :math:`v = u`). Because the rows of :math:`P` sum to one, the capped term
only needs the nodes whose miss is below the cap,

.. math::
    \sum_v P_{uv} c_{uv} = c - \sum_{v \in B(u)} P_{uv} (c - c_{uv}), \qquad
    B(u) = \{v : d(u, v) \le \lceil c \rceil\},

a sparse ball found once by sparse BFS (about 400 nodes a ball on PubMed, 2,400 on
Coauthor-Physics at :math:`c = 3`), so neither the distance matrix nor :math:`P` is ever held
whole: the loss, the cross-entropy's :math:`\ell_u = \log\sum_v e^{(UV^\top)_{uv}}` and the
gradient come out of one pass over blocks of rows of :math:`U V^\top` (see
:class:`graphwgan.synthesis.CELL`). The cross-entropy alone treats every miss the
same; the transport term moves the mass that does not land on a real neighbour onto nodes two hops
away, which closes triangles and squares. On Cora-ML at edge overlap 0.52 this roughly doubles the
triangle count of CELL and halves the mean relative error of the graph statistics
(``benchmarks/results/synthesis.md``).

The transport term only sees each row's nearest real neighbours. The true Wasserstein-1 distance
between the real edge law :math:`A/2m` and the generated one :math:`Q_{uv} = \frac{k_u}{2m} P_{uv}`
under the product-graph ground cost :math:`d(u, u') + d(v, v')` enters through a critic: by
default the walk plays the WGAN game against a graph-Lipschitz edge critic
(:mod:`graphwgan.synthesis.edge_critic`) through :class:`graphwgan.train.WGANTrainer`, the
generator minimising :math:`\mathcal{L} - \mu\, \mathbb{E}_Q F` (:math:`\mu` =
``critic_weight``), and the critic's certified estimate of that distance is logged at each
evaluation (``history_.w1``), shown on the progress bar and usable for early stopping
(``early_stopping="w1"``). ``benchmarks/results/synthesis_critic.md`` compares the model with and
without the critic on Cora-ML, correlates the estimate with the statistics' error across a fit,
and compares the Wasserstein critic with a cross-entropy discriminator on communities of unequal size.
"""

from __future__ import annotations

from typing import Any

from graphwgan._checks import check_int, check_real
from graphwgan.synthesis.walk_model import LowRankWalkModel

__all__ = ["GraphSynthesizer"]

class GraphSynthesizer(LowRankWalkModel):
    r"""Generate graphs like a training graph, scoring edges with a transport-aware random-walk model.

    The edge model is CELL's low-rank random walk trained with the shortest-path transport term of
    the module docstring.

    Follows the scikit-learn estimator contract: ``fit(graph)`` returns ``self``; ``sample(seed=...)``
    returns a new graph on the same nodes as a PyG ``Data``; :meth:`to_networkx` returns it as a
    ``networkx.Graph``; ``score_pairs(pairs)`` scores node pairs for link prediction;
    :meth:`save` / :meth:`load` write and read a fitted model. Like CELL, nothing
    :math:`n \times n` is held: memory is CELL's plus the balls :math:`B(u)` (5 bytes an entry:
    40 MB on PubMed, 420 MB on Coauthor-Physics at the default cap), and each epoch costs one pass
    over the :math:`n^2` logits, as for CELL.

    Parameters
    ----------
    rank : int, default 32
        Rank of the logit matrix.
    lr : float, default 0.03
        Adam learning rate (CELL's 0.1 overshoots the overlap target within one epoch from the
        spectral start at rank 32).
    transport_weight : float, default 0.7
        :math:`\lambda`; ``0`` (with ``critic_weight=None``) gives CELL exactly. (At rank 32 from
        the spectral start, at edge overlap 0.52, 1.0 makes about 1.1 times the real triangles on
        Cora-ML and 1.6 times on PubMed, 0.7 makes 0.93-0.96 and 1.2 times, 0.5 makes 0.83-0.87 and
        0.95-0.97 times; measured without the critic.)
    transport_cap : float, default 3.0
        Distances (in hops beyond a real neighbour) are capped here: a miss by three hops or more
        costs the same.
    init : {"spectral", "random"}, default "spectral"
        Initial factors: ``"spectral"`` fills half of the columns of :math:`U` and :math:`V` with a
        spectral embedding of the training graph and the rest randomly
        (:mod:`graphwgan.synthesis.spectral_init`), ``"random"`` draws all of them randomly (CELL's start).
    eval_every : int or "auto", default "auto"
        Epochs between edge-overlap evaluations. ``"auto"``: the first after
        :math:`\max(5, \min(20, n / 2000))` epochs (an evaluation solves for :math:`\pi` and draws
        a graph, which on large graphs costs several epochs), then after half the epochs the overlap
        needs to reach ``eo_target`` at its rate since the previous evaluation (at least 1, at most
        that first interval): sparse far from the target, every epoch next to it.
    critic_weight : float or None, default 0.3
        Weight of the critic's term :math:`-\mathbb{E}_Q F` in the generator's loss: the walk then
        plays the WGAN game against a graph-Lipschitz edge critic
        (:mod:`graphwgan.synthesis.edge_critic`) through :class:`graphwgan.train.WGANTrainer`, and
        the critic's certified W1 estimate is logged at every evaluation in ``history_.w1`` and
        shown on the progress bar. ``0`` trains and logs the critic without letting it move the
        generator; ``None`` trains no critic (the critic-free model). (With the other defaults, at
        edge overlap 0.52, 1.0 makes 1.42 times the real triangles on PubMed and 0.3 makes 1.23
        times, 0.92-0.96 times on Cora-ML; ``benchmarks/results/synthesis_default_critic.md``.)
    critic_dim : int, default 16
        Width :math:`d` of the critic's node embeddings.
    critic_lr : float, default 0.01
        The critic's Adam learning rate.
    n_critic : int, default 2
        Critic steps per generator step.
    critic_penalty : float, default 10.0
        Weight of the critic's one-sided penalty on moves along graph edges.
    critic_loss : {"wasserstein", "cross_entropy"}, default "wasserstein"
        The game: the Wasserstein one, or (a baseline) the original GAN's, the same bilinear
        function as a discriminator :math:`\sigma(F)` trained by cross-entropy on real against
        generated edges (a Jensen-Shannon game; ``history_.w1`` then still logs
        :math:`(\mathbb{E}_R F - \mathbb{E}_Q F) / L`, no longer a trained W1 estimate).
    adversarial_only : bool, default False
        Drop the walk's own loss (cross-entropy and transport term): the generator then learns
        from the critic alone (for comparing games; needs ``critic_weight > 0``).
    early_stopping : {"edge_overlap", "w1"}, default "edge_overlap"
        Stop when a sample reaches ``eo_target``, or (``"w1"``, needs a critic) when the critic's
        estimate has not improved for ``patience`` evaluations.
    patience : int, default 5
        Evaluations without improvement before ``early_stopping="w1"`` stops.
    max_epochs, eo_target, num_negatives, random_state, device, verbose
        As in :class:`graphwgan.synthesis.CELL`. With ``num_negatives`` set (or ``"auto"`` past 10,000
        nodes) an epoch costs :math:`O((|B| + nK) H)` instead of :math:`O(n^2 H)`: the transport
        balls :math:`B(u)` are summed exactly and the rest of each row is estimated.

    Examples
    --------
    >>> import networkx as nx
    >>> graph = nx.powerlaw_cluster_graph(200, 3, 0.5, seed=0)
    >>> model = GraphSynthesizer(eo_target=0.5, random_state=0).fit(graph)
    >>> model.sample(seed=0).num_nodes
    200
    """

    def __init__(
        self,
        *,
        rank: int = 32,
        lr: float = 0.03,
        transport_weight: float = 0.7,
        transport_cap: float = 3.0,
        critic_weight: float | None = 0.3,
        critic_dim: int = 16,
        critic_lr: float = 0.01,
        n_critic: int = 2,
        critic_penalty: float = 10.0,
        critic_loss: str = "wasserstein",
        adversarial_only: bool = False,
        early_stopping: str = "edge_overlap",
        patience: int = 5,
        max_epochs: int = 1000,
        eo_target: float = 0.52,
        eval_every: int | str = "auto",
        num_negatives: int | str | None = "auto",
        init: str = "spectral",
        random_state: Any = None,
        device: Any = "cpu",
        verbose: bool = False,
    ) -> None:
        super().__init__(rank=rank, lr=lr, max_epochs=max_epochs, eo_target=eo_target, eval_every=eval_every,
                         num_negatives=num_negatives, random_state=random_state, device=device, verbose=verbose,
                         init=init)
        self.transport_weight = transport_weight
        self.transport_cap = transport_cap
        self.critic_weight = critic_weight
        self.critic_dim = critic_dim
        self.critic_lr = critic_lr
        self.n_critic = n_critic
        self.critic_penalty = critic_penalty
        self.critic_loss = critic_loss
        self.adversarial_only = adversarial_only
        self.early_stopping = early_stopping
        self.patience = patience

    def _check_params(self):
        super()._check_params()
        check_real(self.transport_weight, "transport_weight", "GraphSynthesizer", low=0.0)
        check_real(self.transport_cap, "transport_cap", "GraphSynthesizer", low=1.0)
        if self.critic_weight is not None:
            check_real(self.critic_weight, "critic_weight", "GraphSynthesizer", low=0.0)
        check_int(self.critic_dim, "critic_dim", "GraphSynthesizer", minimum=1)
        check_real(self.critic_lr, "critic_lr", "GraphSynthesizer", low=0.0, low_open=True)
        check_int(self.n_critic, "n_critic", "GraphSynthesizer", minimum=1)
        check_real(self.critic_penalty, "critic_penalty", "GraphSynthesizer", low=0.0)
        check_int(self.patience, "patience", "GraphSynthesizer", minimum=1)
        if self.early_stopping not in ("edge_overlap", "w1"):
            raise ValueError(
                f"GraphSynthesizer: early_stopping must be 'edge_overlap' or 'w1', got {self.early_stopping!r}."
            )
        if self.critic_loss not in ("wasserstein", "cross_entropy"):
            raise ValueError(
                f"GraphSynthesizer: critic_loss must be 'wasserstein' or 'cross_entropy', got {self.critic_loss!r}."
            )
        if self.adversarial_only and not (self.critic_weight or 0) > 0:
            raise ValueError("GraphSynthesizer: adversarial_only=True needs critic_weight > 0 (the critic's term is "
                             "then the whole loss).")
        if self.early_stopping == "w1" and self.critic_weight is None:
            raise ValueError("GraphSynthesizer: early_stopping='w1' needs a critic; set critic_weight (0 or more).")

    def _transport_params(self):
        if self.transport_weight == 0:
            return None
        return float(self.transport_weight), float(self.transport_cap)

    def _critic_params(self):
        if self.critic_weight is None:
            return None
        return {"critic_weight": float(self.critic_weight), "critic_dim": int(self.critic_dim),
                "critic_lr": float(self.critic_lr), "n_critic": int(self.n_critic),
                "penalty": float(self.critic_penalty),
                "loss": "js" if self.critic_loss == "cross_entropy" else "wgan",
                "likelihood": not self.adversarial_only}

    def _stop_rule(self):
        return self.early_stopping, int(self.patience)

