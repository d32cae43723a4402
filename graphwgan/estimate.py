r"""Critic-based estimates of W1 on a graph, with certified lower bounds.

A critic :math:`f_\theta` (a GNN, :class:`graphwgan.nn.NodeCritic`) is trained on a dual
objective; its output is then repaired into a 1-Lipschitz potential (rescaling by the measured edge
constant, or a graph c-transform) whose dual value can never exceed the exact W1. Training
objectives, by ``lipschitz=``:

- ``"ctransform"`` (default): the semi-dual
  :math:`\sum f\mu - \sum f^{\uparrow}\nu`, :math:`f^{\uparrow}(v) = \max_u f(u) - d(u, v)`, which is a
  certified lower bound at every step (one Dijkstra per step) and concave in :math:`f`;
- ``"penalty"``: :math:`\sum f(\mu - \nu) - \lambda \cdot` the one-sided edge penalty
  (the graph analogue of WGAN-GP/LP); ``two_sided=True`` gives WGAN-GP's form, for comparison only;
- ``"clip"``: :math:`\sum f(\mu - \nu)` with weight clipping after each step (the original WGAN);
- ``"spectral"``: :math:`\sum f(\mu - \nu)` with spectrally normalised linear layers (SN-GAN).

Clipping and spectral normalisation bound the critic in feature space only, so their raw values
are not bounds on W1; the certificate makes every method's ``lower_bound`` valid.

With ``batch_size`` set, every method trains on importance-sampled mini-batches of nodes and their
exact computation subgraphs (:mod:`graphwgan.sampling`) and certifies on the full graph as above;
:mod:`graphwgan.distributed` runs that on several processes with ``DistributedDataParallel``.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["LIPSCHITZ_METHODS", "NodeDraws", "WassersteinEstimate", "estimate_wasserstein", "subgraph_critic"]

LIPSCHITZ_METHODS = ("ctransform", "penalty", "clip", "spectral")


@dataclass
class WassersteinEstimate:
    """A trained critic's estimate of W1 and its certified lower bound.

    Attributes
    ----------
    estimate : float
        The raw dual value ``sum f (mu - nu)`` of the trained critic (for ``"ctransform"``, the
        semi-dual value). Not a bound when the critic is not 1-Lipschitz.
    lower_bound : float
        Certified: the dual value of a 1-Lipschitz repair of the critic, never above the exact W1.
    lipschitz : float
        The measured edge constant ``max |f(u) - f(v)| / w(u, v)`` of the critic before repair.
    potential : ndarray, shape ``(n,)``
        The 1-Lipschitz potential attaining ``lower_bound``.
    certification : str
        The repair that gave the bound (``"rescale"``, ``"lower"`` or ``"upper"``).
    history : dict
        ``step``, ``objective`` (every step), ``eval_step``, ``lower_bound`` (every ``eval_every``).
    seconds : float
        Wall time of training and certification.
    critic : NodeCritic
        The trained critic (in evaluation mode, on ``device``).
    """

    estimate: float
    lower_bound: float
    lipschitz: float
    potential: np.ndarray
    certification: str
    history: dict = field(repr=False)
    seconds: float
    critic: Any = field(repr=False)


def _default_lr(method: str) -> float:
    return {"ctransform": 1e-2, "penalty": 1e-2, "clip": 5e-3, "spectral": 1e-2}[method]


def _inputs(data, features, embedding_dim, num_nodes):
    """Node features for the critic and the embedding size it should learn."""
    from graphwgan.nn.encodings import structural_encoding

    if isinstance(features, str):
        if features not in ("auto", "structural", "embedding", "x"):
            raise ValueError(
                f"features must be 'auto', 'x', 'structural', 'embedding' or an array, got {features!r}"
            )
        if features == "x":
            x = getattr(data, "x", None)
            if x is None:
                raise ValueError("features='x' but the graph has no node features")
            x = x.to_dense() if x.is_sparse else x
            return np.asarray(x, dtype=np.float32), embedding_dim
        if features == "embedding":
            return None, embedding_dim or 32
        encoding = structural_encoding(data)
        return encoding, (embedding_dim if features == "auto" else 0)
    x = np.asarray(features, dtype=np.float32)
    if x.ndim != 2 or x.shape[0] != num_nodes:
        raise ValueError(f"features must have shape ({num_nodes}, d), got {x.shape}")
    return x, embedding_dim


def estimate_wasserstein(
    graph: Any,
    mu: Any,
    nu: Any,
    *,
    critic: Any = None,
    backbone: str = "sage",
    lipschitz: str = "ctransform",
    features: Any = "auto",
    hidden_channels: int = 64,
    num_layers: int = 2,
    embedding_dim: int = 32,
    max_steps: int = 500,
    lr: float | None = None,
    penalty_weight: float = 100.0,
    penalty_edges: int | None = None,
    two_sided: bool = False,
    clip_value: float = 0.01,
    eval_every: int = 50,
    batch_size: int | None = None,
    num_hops: int | None = None,
    fanout: int | None = None,
    refresh_every: int = 1,
    seed: int | None = None,
    device: str = "cpu",
    verbose: bool | None = None,
) -> WassersteinEstimate:
    r"""Estimate :math:`W_1(\mu, \nu)` on a graph with a trained GNN critic, and certify it.

    Parameters
    ----------
    graph : Data, networkx.Graph, scipy sparse matrix, edge_index or path
        The graph; edge weights are lengths of the shortest-path ground cost.
    mu, nu : array-like or Tensor, shape ``(n,)``
        Non-negative node masses with equal totals on every connected component.
    critic : NodeCritic, optional
        A critic to train (a copy is not made: it is trained in place). By default one is built
        from ``backbone``, ``hidden_channels``, ``num_layers`` and the inputs below.
    backbone : str
        ``"gcn"``, ``"sage"``, ``"gin"`` or ``"gat"``.
    lipschitz : str
        ``"ctransform"``, ``"penalty"``, ``"clip"`` or ``"spectral"`` (module docstring).
    features : str or array
        ``"auto"`` (structural encodings plus a learned embedding per node), ``"x"`` (the graph's
        own node features), ``"structural"`` (inductive: no per-node parameters), ``"embedding"``,
        or an array ``(n, d)``. The potential of a transport problem is a function of the graph's
        geometry, so structure is the default input; attributes rarely help it.
    max_steps, lr : int, float
        Adam steps and learning rate (``lr`` defaults per method).
    penalty_weight, penalty_edges, two_sided : float, int, bool
        The edge penalty's weight, number of sampled edges per step (all when ``None``), and form.
    clip_value : float
        Weight-clipping bound for ``"clip"``.
    eval_every : int
        Certify every this many steps; the best certified potential is kept.
    batch_size : int, optional
        ``None`` (default) trains on the whole graph at every step. An integer trains on mini-batches:
        every step draws ``batch_size`` nodes with probability proportional to
        :math:`|\rho(v)|` (below) and runs the critic on their exact ``num_hops``-hop computation
        subgraph only (:class:`graphwgan.sampling.NeighborhoodSampler`), so memory per step follows
        the batch, not the graph. See "Mini-batch training" below.
    num_hops : int, optional
        Hops of the computation subgraph; default the critic's number of layers (plus one for GCN),
        which makes the seeds' potentials exactly those of a full-graph pass.
    fanout : int, optional
        Cap on the incoming edges kept per node in the subgraph (GraphSAGE-style sampling; the
        seeds' potentials become approximations). ``None`` keeps all edges.
    refresh_every : int
        Mini-batch ``"ctransform"`` only: steps between two full-graph inference passes (no autograd,
        so no activations kept for a backward pass) that refresh the c-transform's argmax map (see
        below). ``1`` (default) is the most accurate; on Cora-ML ``5`` lost a few percent of the bound
        on diffuse pairs. ``"penalty"`` needs no full pass between certifications.
    seed : int, optional
        Seeds a local ``torch.Generator`` for the initialisation and edge sampling (``0`` counts).
        The same seed gives the same result on CPU.
    device : str
        ``"cpu"`` or ``"cuda"``.
    verbose : bool, optional
        Progress bar; default on when standard error is a terminal.

    Returns
    -------
    WassersteinEstimate

    Notes
    -----
    **Mini-batch training** (``batch_size`` set). Every objective is linear in the potential up to
    a constant, :math:`J(f) = \sum_v f(v)\rho(v) + C`: for ``"penalty"``, ``"clip"`` and
    ``"spectral"``, :math:`\rho = \mu - \nu` and :math:`C = 0`; for ``"ctransform"``, the semi-dual
    :math:`\sum f\mu - \sum f^{\uparrow}\nu` with :math:`f^{\uparrow}(w) = f(u^*(w)) - d(u^*(w), w)`
    is :math:`\rho = \mu - u^*_\#\nu` (the mass of :math:`\nu` moved to the node attaining each
    maximum) and :math:`C = \sum_w \nu(w) d(u^*(w), w)`, with the argmax map :math:`u^*` recomputed
    from a full-graph inference pass every ``refresh_every`` steps (between two refreshes it is held
    fixed, as the subgradient of the semi-dual is). Drawing :math:`B` nodes
    :math:`v_i \sim |\rho| / \|\rho\|_1` gives the unbiased, importance-sampled estimate

    .. math:: \hat J = \frac{\|\rho\|_1}{B} \sum_{i=1}^{B} \operatorname{sign}(\rho(v_i))\, f(v_i) + C,
        \qquad \mathbb{E}\,\hat J = J(f),

    and the edge penalty of ``"penalty"`` is averaged over ``penalty_edges`` (default ``batch_size``)
    edges drawn uniformly, an unbiased estimate of the mean over all edges. The potentials
    :math:`f(v_i)` and those of the sampled edges' endpoints are computed on their joint computation
    subgraph. Certification (every ``eval_every`` steps and at the end) runs one full-graph
    inference pass and the same :func:`graphwgan.lipschitz.certify` as full-batch training, so the
    bound stays certified whatever the batches were.

    Raises
    ------
    ValueError
        Invalid masses (as for :func:`graphwgan.wasserstein`), a graph with no edges, an unknown
        option, features of the wrong shape or with NaN values.
    FloatingPointError
        If training diverges (a NaN or infinite objective).
    """
    return _estimate(
        graph, mu, nu, critic=critic, backbone=backbone, lipschitz=lipschitz, features=features,
        hidden_channels=hidden_channels, num_layers=num_layers, embedding_dim=embedding_dim,
        max_steps=max_steps, lr=lr, penalty_weight=penalty_weight, penalty_edges=penalty_edges,
        two_sided=two_sided, clip_value=clip_value, eval_every=eval_every, batch_size=batch_size,
        num_hops=num_hops, fanout=fanout, refresh_every=refresh_every, seed=seed, device=device,
        verbose=verbose, shards=(0,), num_shards=1, wrap=None)


def _estimate(graph, mu, nu, *, critic, backbone, lipschitz, features, hidden_channels, num_layers, embedding_dim,
              max_steps, lr, penalty_weight, penalty_edges, two_sided, clip_value, eval_every, batch_size, num_hops,
              fanout, refresh_every, seed, device, verbose, shards, num_shards, wrap):
    """The body of :func:`estimate_wasserstein`; ``shards``/``num_shards``/``wrap`` serve data-parallel runs.

    ``num_shards`` splits every global mini-batch into that many equal shares, each drawn from its own
    generator; this process draws the shares in ``shards`` (all of them in a single process, its rank's
    in a data-parallel run). ``wrap`` wraps the training module (``DistributedDataParallel``).
    """
    import torch

    from graphwgan.graph import num_components, to_graph
    from graphwgan.lipschitz import CTransform, edge_lipschitz_penalty, spectral_normalize
    from graphwgan.nn.critic import NodeCritic
    from graphwgan.ot._masses import as_masses, check_balance

    start = time.perf_counter()
    if lipschitz not in LIPSCHITZ_METHODS:
        raise ValueError(f"lipschitz must be one of {LIPSCHITZ_METHODS}, got {lipschitz!r}")
    for name, value in (("max_steps", max_steps), ("eval_every", eval_every), ("refresh_every", refresh_every)):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    for name, value in (("batch_size", batch_size), ("penalty_edges", penalty_edges), ("num_hops", num_hops),
                        ("fanout", fanout)):
        if value is not None and (not isinstance(value, (int, np.integer)) or value < (0 if name == "num_hops" else 1)):
            raise ValueError(f"{name} must be a positive integer or None, got {value!r}")
    if batch_size is None and (num_hops is not None or fanout is not None or num_shards > 1):
        raise ValueError("num_hops, fanout and data-parallel training need mini-batches: set batch_size")
    if batch_size is not None:
        for name, value in (("batch_size", batch_size), ("penalty_edges", penalty_edges)):
            if value is not None and value % num_shards:
                raise ValueError(f"{name}={value} must be divisible by the number of processes ({num_shards}), "
                                 "so that every process gets an equal share of the global batch")
    data = to_graph(graph)
    n = int(data.num_nodes)
    if data.edge_index.shape[1] == 0:
        raise ValueError("the graph has no edges: there is no path to move mass along, nothing to estimate")
    mu_arr, mu_info = as_masses(mu, "mu", n)
    nu_arr, nu_info = as_masses(nu, "nu", n)
    count, labels = num_components(data)
    check_balance(mu_arr[None], nu_arr[None], labels, count, mu_info, nu_info)

    generator = torch.Generator(device="cpu")
    generator.manual_seed(int(seed) if seed is not None else int(torch.randint(2**31 - 1, (1,)).item()))
    dev = torch.device(device)
    edge_index = data.edge_index.to(dev)
    edge_weight = data.edge_weight.to(dev, torch.float32)
    x_np, emb = _inputs(data, features, embedding_dim, n)
    x = None if x_np is None else torch.as_tensor(x_np, device=dev)
    if x is not None and not torch.isfinite(x).all():
        raise ValueError("node features hold NaN or infinite values")
    if critic is None:
        # the initialisation draws from torch's CPU generator: seed it only inside a fork, so the
        # caller's random state is left as it was
        with torch.random.fork_rng(devices=[]):
            torch.default_generator.manual_seed(int(torch.randint(2**31 - 1, (1,), generator=generator).item()))
            critic = NodeCritic(0 if x is None else x.shape[1], hidden_channels, num_layers, backbone=backbone,
                                num_nodes=n if emb else None, embedding_dim=emb)
    critic = critic.to(dev)
    if lipschitz == "spectral":
        spectral_normalize(critic)
    critic.train()
    optimizer = torch.optim.Adam(critic.parameters(), lr=lr if lr is not None else _default_lr(lipschitz))
    transform = CTransform(data)
    if batch_size is not None:
        return _train_minibatch(
            critic, optimizer, x, edge_index, edge_weight, data, mu_arr, nu_arr, transform, generator,
            lipschitz=lipschitz, max_steps=max_steps, penalty_weight=penalty_weight, penalty_edges=penalty_edges,
            two_sided=two_sided, clip_value=clip_value, eval_every=eval_every, batch_size=batch_size,
            num_hops=num_hops, fanout=fanout, refresh_every=refresh_every, verbose=verbose, shards=shards,
            num_shards=num_shards, wrap=wrap, start=start)

    mu_t = torch.as_tensor(mu_arr, dtype=torch.float32, device=dev)
    nu_t = torch.as_tensor(nu_arr, dtype=torch.float32, device=dev)
    history: dict[str, list] = {"step": [], "objective": [], "eval_step": [], "lower_bound": []}
    best = None
    show = sys.stderr.isatty() if verbose is None else bool(verbose)
    progress = _progress(max_steps, show)
    for step in range(1, max_steps + 1):
        f = critic(x, edge_index, edge_weight)
        _check_finite(f, step, optimizer)
        if lipschitz == "ctransform":
            objective = (f * mu_t).sum() - (transform.upper(f) * nu_t).sum()
        else:
            objective = (f * (mu_t - nu_t)).sum()
        loss = -objective
        if lipschitz == "penalty":
            loss = loss + penalty_weight * edge_lipschitz_penalty(
                f, edge_index, edge_weight, two_sided=two_sided, num_samples=penalty_edges, generator=generator)
        value = _descend(critic, optimizer, objective, loss, step, clip_value if lipschitz == "clip" else None)
        history["step"].append(step)
        history["objective"].append(value)
        if step % eval_every == 0 or step == max_steps:
            best = _evaluate(critic, x, edge_index, edge_weight, data, mu_arr, nu_arr, transform, history, step, best)
        progress(step, value)
    progress.close()
    return _result(critic, best, mu_arr, nu_arr, transform, lipschitz, history, start)


def subgraph_critic(critic):
    """A ``torch.nn.Module`` running ``critic`` on a computation subgraph (``DistributedDataParallel`` wraps it)."""
    import torch

    class SubgraphCritic(torch.nn.Module):
        """``forward(x, node_ids, edge_index, edge_weight)``: the critic on the subgraph of ``node_ids``.

        A critic with a learned embedding table reads the rows of ``node_ids`` from it; any other
        critic is called on the subgraph's features as they are.
        """

        def __init__(self, critic):
            super().__init__()
            self.critic = critic

        def forward(self, x, node_ids, edge_index, edge_weight):
            critic = self.critic
            sub_x = None if x is None else x[node_ids]
            if getattr(critic, "embedding", None) is None:
                return critic(sub_x, edge_index, edge_weight)
            return critic(sub_x, edge_index, edge_weight, node_ids=node_ids)

    return SubgraphCritic(critic)


def _linear_target(critic, x, edge_index, edge_weight, mu, nu, transform, lipschitz):
    r"""The weights :math:`\rho` and constant :math:`C` of the objective :math:`\sum f \rho + C` (see Notes)."""
    import torch

    if lipschitz != "ctransform":
        return mu - nu, 0.0
    critic.eval()
    with torch.no_grad():
        f = critic(x, edge_index, edge_weight).double().cpu().numpy()
    critic.train()
    if not np.all(np.isfinite(f)):
        raise FloatingPointError("critic training diverged: the critic output holds NaN or infinite values")
    # f_up(w) = max_u f(u) - d(u, w) = f(u*(w)) - d(u*(w), w)
    dist, origin = transform._search(-f)
    distance = f[origin] + dist
    pushed = np.bincount(origin, weights=nu, minlength=len(nu))
    return mu - pushed, float(nu @ distance)


class NodeDraws:
    """Draws nodes with probability ``|rho| / ||rho||_1`` by inverse-CDF search (no ``O(n)`` work per draw)."""

    def __init__(self, rho, device=None):
        import torch

        weight = np.abs(rho)
        self.total = float(weight.sum())
        self.cdf = torch.as_tensor(np.cumsum(weight) / self.total if self.total > 0 else
                                   np.arange(1, len(rho) + 1) / len(rho))
        self.sign = torch.as_tensor(np.sign(rho), dtype=torch.float32, device=device)

    def __call__(self, count, generator):
        """``count`` node ids drawn with ``generator``."""
        import torch

        u = torch.rand(count, generator=generator, dtype=torch.float64)
        return torch.searchsorted(self.cdf, u, right=True).clamp_(max=len(self.cdf) - 1)


def _train_minibatch(critic, optimizer, x, edge_index, edge_weight, data, mu, nu, transform, generator, *,
                     lipschitz, max_steps, penalty_weight, penalty_edges, two_sided, clip_value, eval_every,
                     batch_size, num_hops, fanout, refresh_every, verbose, shards, num_shards, wrap, start):
    """Mini-batch critic training on computation subgraphs; see the Notes of :func:`estimate_wasserstein`."""
    import torch

    from graphwgan.lipschitz import edge_lipschitz_penalty
    from graphwgan.sampling import NeighborhoodSampler

    n = len(mu)
    dev = edge_index.device
    if num_hops is None:
        convs = getattr(critic, "convs", None)
        if convs is None:
            raise ValueError("num_hops is needed for a critic without a `convs` list of message-passing layers")
        num_hops = len(convs) + (getattr(critic, "backbone", None) == "gcn")
    sampler = NeighborhoodSampler(edge_index, n, num_hops=int(num_hops), edge_weight=edge_weight,
                                  fanout=None if fanout is None else int(fanout))
    module = subgraph_critic(critic)
    model = module if wrap is None else wrap(module)
    # one generator per share of the global batch, derived from the seeded generator: the same
    # shares are drawn whether one process draws all of them or each process draws its own
    base = int(torch.randint(2**31 - 1, (1,), generator=generator).item())
    draws_per_share = batch_size // num_shards
    edges_per_share = (penalty_edges or batch_size) // num_shards
    generators = [torch.Generator(device="cpu").manual_seed(base + 7919 * share) for share in shards]
    num_edges = edge_index.shape[1]

    history: dict[str, list] = {"step": [], "objective": [], "eval_step": [], "lower_bound": [], "batch_nodes": []}
    best = None
    show = sys.stderr.isatty() if verbose is None else bool(verbose)
    progress = _progress(max_steps, show)
    draws = constant = None
    for step in range(1, max_steps + 1):
        if draws is None or (lipschitz == "ctransform" and (step - 1) % refresh_every == 0):
            rho, constant = _linear_target(critic, x, edge_index, edge_weight, mu, nu, transform, lipschitz)
            draws = NodeDraws(rho, dev)
        nodes = torch.cat([draws(draws_per_share, g) for g in generators])
        seeds = [nodes.to(dev)]
        if lipschitz == "penalty":
            picks = torch.cat([torch.randint(num_edges, (edges_per_share,), generator=g) for g in generators]).to(dev)
            seeds += [edge_index[0, picks], edge_index[1, picks]]
        sub = sampler.sample(torch.cat(seeds), generator=generators[0])
        f = model(x, sub.node_ids, sub.edge_index, sub.edge_weight)[sub.seed_index]
        _check_finite(f, step, optimizer)
        count = len(nodes)
        objective = draws.total * (draws.sign[seeds[0]] * f[:count]).mean() + constant
        loss = -objective
        if lipschitz == "penalty":
            # the sampled edges' endpoints follow the batch nodes in f: rows count + i and count + k + i
            ends = torch.arange(count, count + len(picks), device=f.device)
            pairs = torch.stack([ends, ends + len(picks)])
            loss = loss + penalty_weight * edge_lipschitz_penalty(f, pairs, edge_weight[picks], two_sided=two_sided)
        value = _descend(critic, optimizer, objective, loss, step, clip_value if lipschitz == "clip" else None)
        if len(shards) < num_shards:
            # data-parallel: log the estimate of the global batch, the mean of the processes' shares
            import torch.distributed as dist

            total = objective.detach().reshape(1).clone()
            dist.all_reduce(total)
            value = float(total) / num_shards
        history["step"].append(step)
        history["objective"].append(value)
        history["batch_nodes"].append(int(sub.node_ids.numel()))
        if step % eval_every == 0 or step == max_steps:
            best = _evaluate(critic, x, edge_index, edge_weight, data, mu, nu, transform, history, step, best)
        progress(step, value)
    progress.close()
    return _result(critic, best, mu, nu, transform, lipschitz, history, start)


def _check_finite(f, step, optimizer):
    """Refuse a critic output with NaN or infinite values (training has diverged)."""
    import torch

    if not torch.isfinite(f).all():
        raise FloatingPointError(
            f"critic training diverged at step {step}: the critic output holds NaN or infinite values; "
            f"lower lr (now {optimizer.param_groups[0]['lr']}) or check the inputs"
        )


def _descend(critic, optimizer, objective, loss, step, clip_value):
    """One optimiser step on ``loss`` (after a divergence check), clipping the weights if asked; the objective."""
    value = float(objective.detach())
    if not math.isfinite(float(loss.detach())):
        raise FloatingPointError(
            f"critic training diverged at step {step} (objective {value}); lower lr "
            f"(now {optimizer.param_groups[0]['lr']}) or check the inputs"
        )
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if clip_value is not None:
        from graphwgan.lipschitz import clip_weights_

        clip_weights_(critic, clip_value)
    return value


def _evaluate(critic, x, edge_index, edge_weight, data, mu, nu, transform, history, step, best):
    """Certify the critic now, log the bound, and keep the best certificate so far."""
    certificate = _certify_critic(critic, x, edge_index, edge_weight, data, mu, nu, transform)
    history["eval_step"].append(step)
    history["lower_bound"].append(certificate[1].lower_bound)
    critic.train()
    if best is None or certificate[1].lower_bound > best[1].lower_bound:
        return certificate
    return best


def _result(critic, best, mu, nu, transform, lipschitz, history, start):
    """The estimate from the best certified potential seen during training."""
    raw, certificate = best
    critic.eval()
    return WassersteinEstimate(
        estimate=float(raw @ (mu - nu)) if lipschitz != "ctransform" else
        float(raw @ mu - transform.upper(raw) @ nu),
        lower_bound=certificate.lower_bound,
        lipschitz=certificate.lipschitz,
        potential=certificate.potential,
        certification=certificate.method,
        history=history,
        seconds=time.perf_counter() - start,
        critic=critic,
    )


def _certify_critic(critic, x, edge_index, edge_weight, data, mu, nu, transform):
    import torch

    from graphwgan.lipschitz import certify

    critic.eval()
    with torch.no_grad():
        raw = critic(x, edge_index, edge_weight).double().cpu().numpy()
    return raw, certify(data, raw, mu, nu, transform=transform)


class _progress:
    """A tqdm bar when asked for (tqdm comes with PyTorch Geometric), else nothing."""

    def __init__(self, total: int, show: bool) -> None:
        self.bar = None
        if show:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, desc="critic", unit="step", leave=False)

    def __call__(self, step: int, value: float) -> None:
        if self.bar is not None:
            self.bar.update(1)
            if step % 25 == 0:
                self.bar.set_postfix(objective=f"{value:.5g}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
