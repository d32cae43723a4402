r"""graphwgan's node anomaly detector: a context generator, a graph-Lipschitz critic, and their residuals.

The model
---------
Features are centred and scaled column by column (each column's standard deviation, floored at
the mean standard deviation over columns, so rare bag-of-words columns are not blown up while a
column measured in thousands is still tamed) and projected on their top ``dims`` principal
directions :math:`P` (a randomised SVD of the training graph): :math:`x_v \in \mathbb R^{k}`.

*Generator* (a conditional one, fed with the node's context only):

.. math::

    c_v = \big[\bar x_{N(v)} \,\|\, \log(1 + d_v)\big], \qquad
    \hat x_v = G_\phi(c_v, z_v), \quad z_v \sim \mathcal N(0, I)

where :math:`\bar x_{N(v)}` is the mean of the neighbours' features (the node itself excluded), so
:math:`G` predicts what a node *should* look like from where it sits in the graph; its hidden layer
is the node embedding.

*Critic*: a :class:`graphwgan.nn.NodeCritic` (mean-aggregation SAGE layers with residuals) that
gives one potential :math:`f_\theta(X)_v` per node of a graph whose feature matrix is :math:`X`.
It is trained on the real graph against *fake* graphs with the same edges whose rows are either
the generator's output :math:`\hat x_v` or a real row placed in the wrong context,
:math:`x_{\pi(v)}` for a random permutation :math:`\pi` (each row picks the second kind with
probability ``shuffle``). The fake distribution is thus the product of the marginals of features
and contexts (plus the generator's samples), and the dual objective is a Wasserstein *dependency*
measure between a node's features and its neighbourhood (Ozair et al., NeurIPS 2019):

.. math::

    \max_\theta \; \tfrac1n \sum_v f_\theta(X)_v - \tfrac1n \sum_v f_\theta(\tilde X)_v
    - \lambda_E \, \frac{1}{|E|}\sum_{(u,v)\in E}
      \mathrm{relu}\!\Big(\frac{|f_\theta(X)_u - f_\theta(X)_v|}{K} - 1\Big)^2
    - \lambda_{GP} \, \mathrm{GP} - \epsilon\, \tfrac1n \sum_v f_\theta(X)_v^2 .

The edge term (:func:`graphwgan.lipschitz.edge_lipschitz_penalty`) keeps the potential
:math:`K`-Lipschitz for the shortest-path metric of the graph, so that :math:`f_\theta` is an
admissible Kantorovich potential for the ground cost :math:`K \cdot d_{SP}`; ``lipschitz_weight``
:math:`\lambda_E` sets how hard (0 switches it off). The feature-space gradient penalty
(WGAN-GP, one-sided, per node) keeps the critic Lipschitz in feature space, and the small drift
term :math:`\epsilon` pins the free additive constant of the potential. The generator minimises

.. math:: -\lambda_{adv} \tfrac1n \sum_v f_\theta(\hat X)_v + \tfrac1{nk} \sum_v \lVert x_v - \hat x_v \rVert^2 .

Training runs on :class:`graphwgan.train.WGANTrainer` (Adam, betas (0.5, 0.9), ``n_critic`` critic
steps per generator step, ``epochs`` generator steps, full graph each step).

The score
---------
No sign or scale is chosen per data set. Every node gets a *profile*, a few structural and
feature statistics (``profile``, default the first four):

==================  ================================================================================
``degree``           :math:`\log(1 + d_v)`.
``clustering``       local clustering coefficient :math:`2 t_v / (d_v (d_v - 1))`.
``affinity``         one minus the mean cosine similarity of the node's features to its neighbours'
                     (local node affinity, Qiao & Pang, NeurIPS 2023), in whitened principal
                     coordinates.
``mahalanobis``      :math:`\lVert x_v \rVert` in whitened principal coordinates (each of the ``dims``
                     directions divided by its standard deviation on the training graph).
``neighbour``        :math:`\lVert x_v - \bar x_{N(v)}\rVert` in those whitened coordinates: the cost
                     of moving the node's features to its neighbourhood's barycentre.
``triangles``        :math:`\log(1 + t_v)`, :math:`t_v` the triangles through :math:`v`.
==================  ================================================================================

The feature columns are measured in whitened principal coordinates, so (when ``dims`` covers all
features) they do not change under any invertible linear re-encoding of the features: rescaling,
negating or mixing feature columns. Each column is mapped through its rank on the training graph to a standard normal
(:func:`graphwgan.anomaly.functional.normal_scores`), so every column has the same scale and no
direction is preferred: a node is unusual when its profile is far from the profiles of the other
nodes, whichever way. The *rarity* of a node is the mean Euclidean distance from its normalised
profile to the :math:`k` nearest training profiles (leave-one-out on the training graph;
:math:`k = \lceil \sqrt{|V_{\text{train}}|}\,\rceil` by default, the usual rate for a
nearest-neighbour density estimate):
quiet nodes (low degree, few triangles) and busy ones both score high when few nodes look like
them, which a fixed "high degree is anomalous" prior cannot do.

The critic adds its term :math:`-f_\theta(X)_v` (how little the node looks like a real
(feature, context) pair), weighted by how well the critic separates what it was built to separate:
with :math:`\mathrm{AUC}` the probability that a real node's potential exceeds that of a node whose
features were shuffled to another context (one fresh permutation),

.. math:: w = \mathrm{clip}(2\,\mathrm{AUC} - 1,\, 0,\, 1), \qquad
          s_v = z(\mathrm{rarity}_v) + w \, z(-f_\theta(X)_v),

:math:`z` the robust standardisation (median and MAD on the training graph). A critic that cannot
tell real pairs from shuffled ones (:math:`w = 0`) adds nothing; one that tells them apart
perfectly counts as much as the profile. ``critic_weight`` fixes :math:`w` instead (0 skips
training the networks). Neither the rule nor any default uses labels;
``benchmarks/results/anomaly_organic.md`` has the study and the evaluation.

Everything is sparse (scatter sums and sparse row blocks over ``edge_index``); no
:math:`|V| \times |V|` matrix is formed. A new graph with the same feature size is scored
inductively with the training graph's scaling, projection, networks and component statistics.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from graphwgan._checks import check_int, check_real, resolve_device
from graphwgan.anomaly._base import BaseDetector

__all__ = ["COMPONENTS", "PROFILE_COLUMNS", "AnomalyDetector"]

#: Node statistics the profile can hold (see the module docstring).
PROFILE_COLUMNS = ("degree", "clustering", "affinity", "mahalanobis", "neighbour", "triangles")

#: What :meth:`AnomalyDetector.component_scores` returns besides the normalised profile columns.
COMPONENTS = ("rarity", "critic")

#: Marks the saved state of this score, so files of an earlier score refuse to load.
_SCORE_VERSION = 2


def _build_generator(in_channels: int, hidden: int, noise: int):
    return _context_generator_class()(in_channels, hidden, noise)


_CLASSES: dict[str, type] = {}


def _context_generator_class() -> type:
    """The generator module's class, defined on first use (torch is imported lazily) at module level.

    It is reachable as ``graphwgan.anomaly.detector.ContextGenerator`` (module ``__getattr__``), so
    a fitted detector pickles and deep-copies.
    """
    if "ContextGenerator" in _CLASSES:
        return _CLASSES["ContextGenerator"]
    import torch
    from torch import nn

    class ContextGenerator(nn.Module):
        r"""``x_hat_v = G([x_bar_N(v) ; log(1 + d_v)], z_v)``: a node's features from its context and noise."""

        def __init__(self, in_channels: int, hidden: int, noise: int) -> None:
            super().__init__()
            self.noise = noise
            self.encode = nn.Linear(in_channels + 1, hidden)
            self.decode = nn.Sequential(nn.LeakyReLU(0.2), nn.Linear(hidden + noise, hidden), nn.LeakyReLU(0.2),
                                        nn.Linear(hidden, in_channels))

        def forward(self, context: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
            h = self.encode(context)
            if self.noise:
                if z is None:
                    z = h.new_zeros(h.shape[0], self.noise)
                h = torch.cat([h, z], dim=1)
            return self.decode(h)

    ContextGenerator.__qualname__ = "ContextGenerator"
    _CLASSES["ContextGenerator"] = ContextGenerator
    return ContextGenerator


def __getattr__(name: str) -> Any:
    if name == "ContextGenerator":
        return _context_generator_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class AnomalyDetector(BaseDetector):
    r"""Node anomaly detector: rarity of a rank-normalised node profile plus a WGAN critic weighted by its reliability.

    See the module docstring for the model and the score. Scores are higher for more anomalous
    nodes; they come from an eval pass after training and are identical for the same
    ``random_state`` on CPU.

    Parameters
    ----------
    hidden : int, default 64
        Width of the critic's and the generator's hidden layers.
    dims : int, default 32
        Number of principal directions the features are projected on (all features if fewer).
    num_layers : int, default 2
        Message-passing layers of the critic.
    noise : int, default 8
        Size of the generator's noise input (0: deterministic generator).
    epochs : int, default 30
        Generator steps (each preceded by ``n_critic`` critic steps), full graph each.
    lr : float, default 3e-3
        Adam learning rate of both players.
    n_critic : int, default 2
        Critic steps per generator step.
    lipschitz_weight : float, default 0.0
        :math:`\lambda_E`, weight of the edge-Lipschitz penalty (0: off). Larger values tie a node's
        critic value to its neighbours'.
    lipschitz_bound : float, default 1.0
        :math:`K`, the change of the critic allowed across one edge.
    gp_weight : float, default 1.0
        Weight of the feature-space gradient penalty (0: off).
    adversarial_weight : float, default 0.1
        :math:`\lambda_{adv}`, weight of the WGAN term in the generator's loss (0: the generator is a
        plain context regressor).
    shuffle : float, default 1.0
        Probability that a fake row is a real row from another node (the rest are generated).
    profile : tuple of str, default ("degree", "clustering", "affinity", "mahalanobis")
        Node statistics whose rarity is scored, from :data:`PROFILE_COLUMNS`.
    n_neighbors : int or "auto", default "auto"
        Nearest training profiles the rarity averages over; ``"auto"`` is
        :math:`\lceil \sqrt{|V|}\,\rceil` of the training graph.
    critic_weight : "auto" or float, default "auto"
        Weight of the critic's term: ``"auto"`` uses the critic's own real-versus-shuffled
        separation (see the module docstring); a number fixes it (0: no networks are trained).
    max_neighbours : int or None, default 16
        Neighbours each node aggregates from in the critic's message passing (a fixed hash of the
        pair picks them, see :func:`graphwgan.anomaly.functional.neighbour_cap`), so an epoch costs
        :math:`O(|V|)` on dense graphs; ``None`` keeps every edge. The profile always uses every edge.
    n_threads : int, default 1
        Torch and nearest-neighbour threads during ``fit`` and scoring (the caller's torch setting
        is restored afterwards), so a shared machine is not oversubscribed.
    contamination : float, default 0.1
        Expected share of outliers, in (0, 0.5]; sets ``threshold_``.
    random_state : int, numpy.random.Generator or None
        Seed of every random choice (initialisation, projection, noise, permutations).
    device : str, default "cpu"
        Torch device for training and scoring.
    verbose : bool, default False
        Show a progress bar with the running W1 estimate.

    Attributes
    ----------
    history_ : graphwgan.train.TrainingHistory
        The W1 estimate and losses of every generator step.
    (and those of :class:`graphwgan.anomaly.BaseDetector`)

    Examples
    --------
    >>> from graphwgan.anomaly import AnomalyDetector  # doctest: +SKIP
    >>> detector = AnomalyDetector(random_state=0).fit(data)  # doctest: +SKIP
    >>> scores = detector.decision_scores_  # doctest: +SKIP
    """

    def __init__(self, *, hidden: int = 64, dims: int = 32, num_layers: int = 2, noise: int = 8, epochs: int = 30,
                 lr: float = 3e-3, n_critic: int = 2, lipschitz_weight: float = 0.0, lipschitz_bound: float = 1.0,
                 gp_weight: float = 1.0, adversarial_weight: float = 0.1, shuffle: float = 1.0,
                 profile: tuple = ("degree", "clustering", "affinity", "mahalanobis"), n_neighbors: Any = "auto",
                 critic_weight: Any = "auto", max_neighbours: Any = 16, n_threads: int = 1, contamination: float = 0.1,
                 random_state: Any = None, device: str = "cpu", verbose: bool = False) -> None:
        self.hidden = hidden
        self.dims = dims
        self.num_layers = num_layers
        self.noise = noise
        self.epochs = epochs
        self.lr = lr
        self.n_critic = n_critic
        self.lipschitz_weight = lipschitz_weight
        self.lipschitz_bound = lipschitz_bound
        self.gp_weight = gp_weight
        self.adversarial_weight = adversarial_weight
        self.shuffle = shuffle
        self.profile = profile
        self.n_neighbors = n_neighbors
        self.critic_weight = critic_weight
        self.max_neighbours = max_neighbours
        self.n_threads = n_threads
        self.contamination = contamination
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    # -- validation --------------------------------------------------------------------------------

    def _check_params(self) -> None:
        name = type(self).__name__
        for key, minimum in (("hidden", 1), ("dims", 1), ("num_layers", 1), ("noise", 0), ("epochs", 1),
                             ("n_critic", 1), ("n_threads", 1)):
            check_int(getattr(self, key), key, name, minimum=minimum)
        for key, low_open in (("lr", True), ("lipschitz_weight", False), ("lipschitz_bound", True),
                              ("gp_weight", False), ("adversarial_weight", False)):
            check_real(getattr(self, key), key, name, low=0.0, low_open=low_open)
        check_real(self.shuffle, "shuffle", name, low=0.0, high=1.0)
        profile = self.profile
        if isinstance(profile, str) or not isinstance(profile, (tuple, list)) or not profile:
            raise TypeError(f"{name}: profile must be a non-empty tuple of names from {PROFILE_COLUMNS}, "
                            f"got {profile!r}.")
        unknown = [c for c in profile if c not in PROFILE_COLUMNS]
        if unknown:
            raise ValueError(f"{name}: unknown profile columns {unknown}; choose from {PROFILE_COLUMNS}.")
        if len(set(profile)) != len(profile):
            raise ValueError(f"{name}: profile lists a name twice: {profile!r}.")
        if not (isinstance(self.n_neighbors, str) and self.n_neighbors == "auto"):
            check_int(self.n_neighbors, "n_neighbors", name, minimum=1)
        if self.max_neighbours is not None:
            check_int(self.max_neighbours, "max_neighbours", name, minimum=1)
        if isinstance(self.critic_weight, str):
            if self.critic_weight != "auto":
                raise ValueError(f"{name}: critic_weight must be 'auto' or a number >= 0, got {self.critic_weight!r}.")
        else:
            check_real(self.critic_weight, "critic_weight", name, low=0.0)
        resolve_device(self.device, name)

    # -- training ----------------------------------------------------------------------------------

    def _inputs(self, data):
        """Scaled full features, principal coordinates, edges and generator context, float32 on the device."""
        import torch

        from graphwgan.anomaly.functional import degree, neighbour_mean

        device = torch.device(self.device)
        full = self._scaled(data).to(torch.float32)
        x = full @ self.projection_.to(torch.float32)
        edge_index = data.edge_index.to(device)
        log_degree = torch.log1p(degree(edge_index, int(data.num_nodes)))
        context = torch.cat([neighbour_mean(x, edge_index), log_degree[:, None]], dim=1)
        return full, x, edge_index, context

    def _critic_edges(self, edge_index):
        from graphwgan.anomaly.functional import neighbour_cap

        return edge_index if self.max_neighbours is None else neighbour_cap(edge_index, int(self.max_neighbours))

    def _scaled(self, data):
        """Centred and scaled features in float64 (the profile's ranks should not hinge on float32 rounding)."""
        import torch

        x = data.x.to(device=torch.device(self.device), dtype=torch.float64)
        return (x - self.feature_mean_) / self.feature_scale_

    def _fit(self, data, rng) -> None:
        with _threads(int(self.n_threads)):
            self._fit_features(data, rng)
            weight = self.critic_weight
            self.critic_ = self.generator_ = None
            if weight == "auto" or float(weight) > 0:
                self._fit_networks(data, rng)
            self._fit_score(data, rng)

    def _fit_features(self, data, rng) -> None:
        """Feature centring and scaling, the principal directions and their standard deviations."""
        import torch

        device = torch.device(self.device)
        self._torch_seed = int(rng.integers(0, 2**63 - 1))
        x = data.x.to(device=device, dtype=torch.float64)
        self.feature_mean_ = x.mean(dim=0)
        std = x.std(dim=0, unbiased=False)
        self.feature_scale_ = torch.clamp(std, min=max(float(std.mean()), 1e-6))
        scaled = self._scaled(data)
        k = min(int(self.dims), *scaled.shape)
        # the SVD sketch draws from the generator of the features' device: seed only that, inside a
        # fork, so the caller's random state (CPU and every CUDA device) is left as it was
        cuda = [device] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=cuda):
            _seed_torch(self._torch_seed, device)
            if k < scaled.shape[1]:
                _, _, v = torch.svd_lowrank(scaled, q=min(k + 8, *scaled.shape), niter=4)
            else:
                _, _, vt = torch.linalg.svd(scaled, full_matrices=False)
                v = vt.T
        self.projection_ = v[:, :k].contiguous()
        spread = (scaled @ self.projection_).std(dim=0, unbiased=False)
        self.component_scale_ = spread.clamp_min(max(float(spread.max()) * 1e-6, 1e-12))

    def _fit_networks(self, data, rng) -> None:
        """Train the critic (and the context generator) of the module docstring."""
        import torch

        from graphwgan.anomaly.functional import critic_loss, generator_loss
        from graphwgan.nn import NodeCritic
        from graphwgan.train import WGANTrainer

        device = torch.device(self.device)
        gen = torch.Generator().manual_seed(int(rng.integers(0, 2**63 - 1)))
        k = int(self.projection_.shape[1])
        cuda = [device] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=cuda):  # the layer initialisation draws from torch's generator
            _seed_torch(self._torch_seed, device)
            critic = NodeCritic(k, int(self.hidden), int(self.num_layers), backbone="sage").to(device)
            generator = _build_generator(k, int(self.hidden), int(self.noise)).to(device)
        _, xs, edge_index, context = self._inputs(data)
        edge_index = self._critic_edges(edge_index)
        n, noise, shuffle = xs.shape[0], int(self.noise), float(self.shuffle)

        def draw_noise():
            return torch.randn(n, noise, generator=gen).to(device) if noise else None

        def loss_c():
            with torch.no_grad():
                fake = generator(context, draw_noise())
                if shuffle > 0:
                    swap = (torch.rand(n, generator=gen) < shuffle).to(device)
                    perm = torch.randperm(n, generator=gen).to(device)
                    fake = torch.where(swap[:, None], xs[perm], fake)
            gp = None
            if self.gp_weight > 0 and torch.is_grad_enabled():
                alpha = torch.rand(n, 1, generator=gen).to(device)
                mix = (alpha * xs + (1 - alpha) * fake).requires_grad_(True)
                grad, = torch.autograd.grad(critic(mix, edge_index).sum(), mix, create_graph=True)
                gp = torch.relu(grad.norm(dim=1) - 1.0).pow(2).mean()
            return critic_loss(critic(xs, edge_index), critic(fake, edge_index), edge_index,
                               lipschitz_weight=float(self.lipschitz_weight),
                               lipschitz_bound=float(self.lipschitz_bound), gradient_penalty=gp,
                               gp_weight=float(self.gp_weight))

        def loss_g():
            fake = generator(context, draw_noise())
            return generator_loss(critic(fake, edge_index), fake, xs,
                                  adversarial_weight=float(self.adversarial_weight))

        trainer = WGANTrainer(critic, generator, preset="wgan-gp", lr=float(self.lr), n_critic=int(self.n_critic),
                              clip_value=None, max_steps=int(self.epochs), verbose=bool(self.verbose))
        self.history_ = trainer.fit(loss_c, loss_g, resume=False)
        self.critic_ = critic.eval()
        self.generator_ = generator.eval()

    def _fit_score(self, data, rng) -> None:
        """Profile reference, the critic's weight and the robust statistics of both terms."""
        import torch

        from graphwgan.anomaly.functional import ComponentScaler, separation_auc

        n = int(data.num_nodes)
        auto = isinstance(self.n_neighbors, str)
        self.n_neighbors_ = int(np.ceil(np.sqrt(n))) if auto else int(self.n_neighbors)
        self.profile_reference_ = np.sort(self._raw_profile(data), axis=0)
        self.profile_points_ = self._profile_points(data)
        self._tree = None
        if self.critic_ is None:
            self.critic_weight_ = 0.0
        elif self.critic_weight == "auto":
            _, xs, edge_index, _ = self._inputs(data)
            edge_index = self._critic_edges(edge_index)
            perm = torch.from_numpy(rng.permutation(xs.shape[0])).to(xs.device)
            with torch.no_grad():
                real = self.critic_(xs, edge_index).cpu().double().numpy()
                shuffled = self.critic_(xs[perm], edge_index).cpu().double().numpy()
            self.critic_separation_ = separation_auc(real, shuffled)
            self.critic_weight_ = float(np.clip(2.0 * self.critic_separation_ - 1.0, 0.0, 1.0))
        else:
            self.critic_weight_ = float(self.critic_weight)
        self.scaler_ = ComponentScaler.fit(self._raw_terms(data, self.profile_points_))

    # -- scoring -----------------------------------------------------------------------------------

    def _raw_profile(self, data) -> np.ndarray:
        """The profile columns of every node, before normalisation, ``(n, len(profile))`` float64."""
        import torch

        from graphwgan.anomaly.functional import clustering_coefficient, degree, local_affinity, triangles

        full = self._scaled(data)
        edge_index = data.edge_index.to(full.device)
        n = int(data.num_nodes)
        white = (full @ self.projection_) / self.component_scale_
        columns = []
        with torch.no_grad():
            for name in self.profile:
                if name == "degree":
                    value = torch.log1p(degree(edge_index, n))
                elif name == "clustering":
                    value = clustering_coefficient(edge_index.cpu(), n)
                elif name == "triangles":
                    value = np.log1p(triangles(edge_index.cpu(), n))
                elif name == "affinity":
                    value = local_affinity(white, edge_index)
                elif name == "mahalanobis":
                    value = white.norm(dim=1)
                else:  # "neighbour"
                    from graphwgan.anomaly.functional import neighbour_residual

                    value = neighbour_residual(white, edge_index)
                columns.append(value.cpu().double().numpy() if hasattr(value, "cpu") else value)
        return np.stack(columns, axis=1)

    def _profile_points(self, data) -> np.ndarray:
        from graphwgan.anomaly.functional import normal_scores

        return normal_scores(self._raw_profile(data), self.profile_reference_)

    def _raw_terms(self, data, points: np.ndarray) -> np.ndarray:
        """Rarity and critic term (zero without a critic), ``(n, 2)`` float64, unstandardised."""
        import torch
        from scipy.spatial import cKDTree

        from graphwgan.anomaly.functional import knn_rarity

        if getattr(self, "_tree", None) is None:
            self._tree = cKDTree(self.profile_points_)
        rarity = knn_rarity(points, self.profile_points_, self.n_neighbors_, tree=self._tree,
                            workers=int(self.n_threads))
        critic = np.zeros_like(rarity)
        if self.critic_ is not None:
            _, xs, edge_index, _ = self._inputs(data)
            with torch.no_grad():
                critic = -self.critic_(xs, self._critic_edges(edge_index)).cpu().double().numpy()
        return np.stack([rarity, critic], axis=1)

    def component_scores(self, data: Any) -> dict[str, np.ndarray]:
        """The normalised profile columns and the standardised terms of the score (for diagnosis).

        Returns
        -------
        dict
            ``{name: ndarray of shape (|V|,)}`` for every name in ``profile`` (standard normal scores)
            and :data:`COMPONENTS` (``"rarity"``, ``"critic"``: robust z-scores); the score is
            ``rarity + critic_weight_ * critic``.
        """
        self._check_fitted("component_scores")
        prepared = self._prepare_like_fit(data, f"{type(self).__name__}.component_scores")
        with _threads(int(self.n_threads)):
            points = self._profile_points(prepared)
            terms = self.scaler_.transform(self._raw_terms(prepared, points))
        out = {name: points[:, i] for i, name in enumerate(self.profile)}
        out.update(rarity=terms[:, 0], critic=terms[:, 1])
        return out

    def _score(self, data) -> np.ndarray:
        with _threads(int(self.n_threads)):
            terms = self.scaler_.transform(self._raw_terms(data, self._profile_points(data)))
        return terms[:, 0] + self.critic_weight_ * terms[:, 1]

    # -- persistence -------------------------------------------------------------------------------

    def _get_state(self) -> dict:
        import torch

        state = {
            "score_version": _SCORE_VERSION,
            "dims": int(self.projection_.shape[1]),
            "feature_mean": self.feature_mean_.cpu(),
            "feature_scale": self.feature_scale_.cpu(),
            "projection": self.projection_.cpu(),
            "component_scale": self.component_scale_.cpu(),
            "profile_reference": torch.from_numpy(self.profile_reference_),
            "profile_points": torch.from_numpy(self.profile_points_),
            "critic_weight": self.critic_weight_,
            "n_neighbors": self.n_neighbors_,
            "center": torch.from_numpy(self.scaler_.center),
            "scale": torch.from_numpy(self.scaler_.scale),
        }
        if self.critic_ is not None:
            state["critic"] = {k: v.cpu() for k, v in self.critic_.state_dict().items()}
            state["generator"] = {k: v.cpu() for k, v in self.generator_.state_dict().items()}
        return state

    @classmethod
    def _check_saved(cls, payload: dict, owner: str) -> None:
        state = payload.get("state", {})
        if not isinstance(state, dict) or state.get("score_version") != _SCORE_VERSION:
            raise ValueError(f"{owner}: the file holds an AnomalyDetector saved with an earlier score (critic, "
                             "neighbour and degree terms), which this version no longer computes; refit the "
                             "detector on the graph and save it again.")

    def _set_state(self, state: dict) -> None:
        import torch

        from graphwgan.anomaly.functional import ComponentScaler
        from graphwgan.nn import NodeCritic

        device = torch.device(self.device)
        k = int(state["dims"])
        self.feature_mean_ = state["feature_mean"].to(device)
        self.feature_scale_ = state["feature_scale"].to(device)
        self.projection_ = state["projection"].to(device)
        self.component_scale_ = state["component_scale"].to(device)
        self.profile_reference_ = state["profile_reference"].numpy()
        self.profile_points_ = state["profile_points"].numpy()
        self.critic_weight_ = float(state["critic_weight"])
        self.n_neighbors_ = int(state["n_neighbors"])
        self._tree = None
        self.critic_ = self.generator_ = None
        if "critic" in state:
            critic = NodeCritic(k, int(self.hidden), int(self.num_layers), backbone="sage")
            critic.load_state_dict(state["critic"])
            generator = _build_generator(k, int(self.hidden), int(self.noise))
            generator.load_state_dict(state["generator"])
            self.critic_ = critic.to(device).eval()
            self.generator_ = generator.to(device).eval()
        self.scaler_ = ComponentScaler(state["center"].numpy(), state["scale"].numpy())


def _seed_torch(seed: int, device) -> None:
    import torch

    torch.default_generator.manual_seed(seed % (2**63 - 1))
    if device.type == "cuda":
        with torch.cuda.device(device):
            torch.cuda.manual_seed(seed)


class _threads:
    """Context manager: torch uses ``n`` threads inside, the caller's setting afterwards."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __enter__(self) -> None:
        import torch

        self.previous = torch.get_num_threads()
        torch.set_num_threads(self.n)

    def __exit__(self, *exc: Any) -> None:
        import torch

        torch.set_num_threads(self.previous)
