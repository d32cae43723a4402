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
After training, an eval pass (no noise: :math:`z = 0`) computes per-node components, each
standardised with the median and MAD it has on the training graph, and sums the ones listed in
``components`` (all weights 1):

==================  ================================================================================
``critic``           :math:`-f_\theta(X)_v`: how little the node looks like a real (feature, context)
                     pair, i.e. the node's share of the dependency transport cost.
``reconstruction``   :math:`\lVert x_v - G(c_v, 0)\rVert^2 / k`: the f-AnoGAN residual.
``critic_feature``   :math:`\lVert h_\theta(X)_v - h_\theta(\hat X)_v\rVert^2`: the f-AnoGAN residual in
                     the critic's last hidden layer.
``transport``        :math:`f_\theta(X)_v - f_\theta(\hat X)_v`: the node's term of the dual objective
                     against its generated twin.
``neighbour``        :math:`\lVert x_v - \bar x_{N(v)}\rVert`: disagreement with the neighbourhood.
``norm``             :math:`\lVert x_v \rVert` before projection: an unusual feature vector.
``degree``           :math:`\log(1 + d_v)`.
``triangles``        :math:`\log(1 + t_v)`, :math:`t_v` the triangles through :math:`v` (dense
                     neighbourhoods, such as injected cliques).
==================  ================================================================================

Which components are kept, and every other default, was chosen on BOND-style injections into
CiteSeer and Cora-ML (not on any evaluation file); ``benchmarks/results/anomaly_method.md`` has
the study, the ablation of the WGAN terms and the evaluation. In short: with ``shuffle=1`` the
critic alone separates both outlier types (a contextual outlier is a real row in the wrong
context; a member of an injected clique has a neighbourhood drawn from all over the graph), and
adding it to the parameter-free ``neighbour + degree`` sum gains about 5 ROC-AUC points on the
tuning sets; the generator's f-AnoGAN residuals score below the critic there and are not in the
default sum. The edge-Lipschitz penalty lowered the critic's AUC on contextual *and* structural
outliers (smoothing a node's critic value towards its neighbours' blurs exactly the disagreement
that marks both types), so ``lipschitz_weight`` defaults to 0 and is kept as a parameter.

Everything is sparse (scatter sums and sparse row blocks over ``edge_index``); no
:math:`|V| \times |V|` matrix is formed. A new graph with the same feature size is scored
inductively with the training graph's scaling, projection, networks and component statistics.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from graphwgan._checks import check_int, check_real, resolve_device
from graphwgan.anomaly._base import BaseDetector

__all__ = ["COMPONENTS", "AnomalyDetector"]

#: Score components the detector can combine (see the module docstring).
COMPONENTS = ("critic", "reconstruction", "critic_feature", "transport", "neighbour", "norm", "degree", "triangles")


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
    r"""Node anomaly detector built on a context generator and a graph-Lipschitz WGAN critic.

    See the module docstring for the model and the score. Scores are higher for more anomalous
    nodes; they come from an eval pass after training and are identical for the same
    ``random_state`` on CPU.

    Parameters
    ----------
    hidden : int, default 64
        Width of the critic's and the generator's hidden layers.
    dims : int, default 64
        Number of principal directions the features are projected on (all features if fewer).
    num_layers : int, default 2
        Message-passing layers of the critic.
    noise : int, default 8
        Size of the generator's noise input (0: deterministic generator).
    epochs : int, default 100
        Generator steps (each preceded by ``n_critic`` critic steps), full graph each.
    lr : float, default 1e-3
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
    components : tuple of str, default ("critic", "neighbour", "degree")
        Standardised components summed into the score, from :data:`COMPONENTS`.
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

    def __init__(self, *, hidden: int = 64, dims: int = 64, num_layers: int = 2, noise: int = 8, epochs: int = 100,
                 lr: float = 1e-3, n_critic: int = 2, lipschitz_weight: float = 0.0, lipschitz_bound: float = 1.0,
                 gp_weight: float = 1.0, adversarial_weight: float = 0.1, shuffle: float = 1.0,
                 components: tuple = ("critic", "neighbour", "degree"), contamination: float = 0.1,
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
        self.components = components
        self.contamination = contamination
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    # -- validation --------------------------------------------------------------------------------

    def _check_params(self) -> None:
        name = type(self).__name__
        for key, minimum in (("hidden", 1), ("dims", 1), ("num_layers", 1), ("noise", 0), ("epochs", 1),
                             ("n_critic", 1)):
            check_int(getattr(self, key), key, name, minimum=minimum)
        for key, low_open in (("lr", True), ("lipschitz_weight", False), ("lipschitz_bound", True),
                              ("gp_weight", False), ("adversarial_weight", False)):
            check_real(getattr(self, key), key, name, low=0.0, low_open=low_open)
        check_real(self.shuffle, "shuffle", name, low=0.0, high=1.0)
        components = self.components
        if isinstance(components, str) or not isinstance(components, (tuple, list)) or not components:
            raise TypeError(f"{name}: components must be a non-empty tuple of names from {COMPONENTS}, "
                            f"got {components!r}.")
        unknown = [c for c in components if c not in COMPONENTS]
        if unknown:
            raise ValueError(f"{name}: unknown components {unknown}; choose from {COMPONENTS}.")
        if len(set(components)) != len(components):
            raise ValueError(f"{name}: components lists a name twice: {components!r}.")
        resolve_device(self.device, name)

    # -- training ----------------------------------------------------------------------------------

    def _inputs(self, data):
        """Scaled full features, projected features, edges and generator context, on the device."""
        import torch

        from graphwgan.anomaly.functional import degree, neighbour_mean

        device = torch.device(self.device)
        full = (data.x.to(device=device, dtype=torch.float32) - self.feature_mean_) / self.feature_scale_
        x = full @ self.projection_
        edge_index = data.edge_index.to(device)
        log_degree = torch.log1p(degree(edge_index, int(data.num_nodes)))
        context = torch.cat([neighbour_mean(x, edge_index), log_degree[:, None]], dim=1)
        return full, x, edge_index, context

    def _fit(self, data, rng) -> None:
        import torch

        from graphwgan.anomaly.functional import ComponentScaler, critic_loss, generator_loss
        from graphwgan.nn import NodeCritic
        from graphwgan.train import WGANTrainer

        device = torch.device(self.device)
        gen = torch.Generator().manual_seed(int(rng.integers(0, 2**63 - 1)))
        x = data.x.to(device=device, dtype=torch.float32)
        self.feature_mean_ = x.mean(dim=0)
        std = x.std(dim=0, unbiased=False)
        self.feature_scale_ = torch.clamp(std, min=max(float(std.mean()), 1e-6))
        scaled = (x - self.feature_mean_) / self.feature_scale_
        k = min(int(self.dims), *scaled.shape)
        # the layer initialisation draws from torch's CPU generator and the SVD sketch from the
        # generator of the features' device: seed only those, inside a fork, so the caller's random
        # state (CPU and every CUDA device) is left as it was
        seed = int(torch.randint(2**31 - 1, (1,), generator=gen))
        cuda = [device] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=cuda):
            torch.default_generator.manual_seed(seed)
            if cuda:
                with torch.cuda.device(device):
                    torch.cuda.manual_seed(seed)
            if k < scaled.shape[1]:
                _, _, v = torch.svd_lowrank(scaled, q=min(k + 8, *scaled.shape), niter=4)
                self.projection_ = v[:, :k].contiguous()
            else:
                self.projection_ = torch.eye(scaled.shape[1], device=device)
            critic = NodeCritic(k, int(self.hidden), int(self.num_layers), backbone="sage").to(device)
            generator = _build_generator(k, int(self.hidden), int(self.noise)).to(device)
        _, xs, edge_index, context = self._inputs(data)
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
        self.scaler_ = ComponentScaler.fit(self._raw_components(data))

    # -- scoring -----------------------------------------------------------------------------------

    def _raw_components(self, data, names=COMPONENTS) -> np.ndarray:
        """Unstandardised components ``names`` (default all of :data:`COMPONENTS`), ``(n, len(names))`` float64.

        Only what ``names`` needs is computed: the generator and the critic's pass on its output for
        the reconstruction-based components, the triangle counts for ``"triangles"``.
        """
        import torch

        from graphwgan.anomaly.functional import critic_features, log_triangles, neighbour_residual

        full, xs, edge_index, context = self._inputs(data)
        parts = {}
        with torch.no_grad():
            h_real, f_real = critic_features(self.critic_, xs, edge_index)
            if {"reconstruction", "critic_feature", "transport"} & set(names):
                fake = self.generator_(context, None)
                h_fake, f_fake = critic_features(self.critic_, fake, edge_index)
                parts.update(reconstruction=(xs - fake).pow(2).mean(dim=1),
                             critic_feature=(h_real - h_fake).pow(2).mean(dim=1), transport=f_real - f_fake)
            parts.update(critic=-f_real, neighbour=neighbour_residual(xs, edge_index), norm=full.norm(dim=1),
                         degree=context[:, -1])
        columns = [parts[c].detach().cpu().double().numpy() if c != "triangles" else
                   log_triangles(edge_index.cpu(), int(data.num_nodes)) for c in names]
        return np.stack(columns, axis=1)

    def component_scores(self, data: Any) -> dict[str, np.ndarray]:
        """Every standardised component of :data:`COMPONENTS` for the nodes of ``data`` (for diagnosis).

        Returns
        -------
        dict
            ``{name: ndarray of shape (|V|,)}``; the score is the sum over ``components``.
        """
        self._check_fitted("component_scores")
        prepared = self._prepare_like_fit(data, f"{type(self).__name__}.component_scores")
        z = self.scaler_.transform(self._raw_components(prepared))
        return {name: z[:, i] for i, name in enumerate(COMPONENTS)}

    def _score(self, data) -> np.ndarray:
        keep = [COMPONENTS.index(c) for c in self.components]
        raw = self._raw_components(data, self.components)
        return ((raw - self.scaler_.center[keep]) / self.scaler_.scale[keep]).sum(axis=1)

    # -- persistence -------------------------------------------------------------------------------

    def _get_state(self) -> dict:
        import torch

        return {
            "dims": int(self.projection_.shape[1]),
            "feature_mean": self.feature_mean_.cpu(),
            "feature_scale": self.feature_scale_.cpu(),
            "projection": self.projection_.cpu(),
            "critic": {k: v.cpu() for k, v in self.critic_.state_dict().items()},
            "generator": {k: v.cpu() for k, v in self.generator_.state_dict().items()},
            "center": torch.from_numpy(self.scaler_.center),
            "scale": torch.from_numpy(self.scaler_.scale),
        }

    def _set_state(self, state: dict) -> None:
        import torch

        from graphwgan.anomaly.functional import ComponentScaler
        from graphwgan.nn import NodeCritic

        device = torch.device(self.device)
        k = int(state["dims"])
        self.feature_mean_ = state["feature_mean"].to(device)
        self.feature_scale_ = state["feature_scale"].to(device)
        self.projection_ = state["projection"].to(device)
        critic = NodeCritic(k, int(self.hidden), int(self.num_layers), backbone="sage")
        critic.load_state_dict(state["critic"])
        generator = _build_generator(k, int(self.hidden), int(self.noise))
        generator.load_state_dict(state["generator"])
        self.critic_ = critic.to(device).eval()
        self.generator_ = generator.to(device).eval()
        self.scaler_ = ComponentScaler(state["center"].numpy(), state["scale"].numpy())
