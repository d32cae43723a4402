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
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["LIPSCHITZ_METHODS", "WassersteinEstimate", "estimate_wasserstein"]

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

    Raises
    ------
    ValueError
        Invalid masses (as for :func:`graphwgan.wasserstein`), a graph with no edges, an unknown
        option, features of the wrong shape or with NaN values.
    FloatingPointError
        If training diverges (a NaN or infinite objective).
    """
    import torch

    from graphwgan.graph import num_components, to_graph
    from graphwgan.lipschitz import CTransform, clip_weights_, edge_lipschitz_penalty, spectral_normalize
    from graphwgan.nn.critic import NodeCritic
    from graphwgan.ot._masses import as_masses, check_balance

    start = time.perf_counter()
    if lipschitz not in LIPSCHITZ_METHODS:
        raise ValueError(f"lipschitz must be one of {LIPSCHITZ_METHODS}, got {lipschitz!r}")
    for name, value in (("max_steps", max_steps), ("eval_every", eval_every)):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
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
    mu_t = torch.as_tensor(mu_arr, dtype=torch.float32, device=dev)
    nu_t = torch.as_tensor(nu_arr, dtype=torch.float32, device=dev)
    transform = CTransform(data)

    history: dict[str, list] = {"step": [], "objective": [], "eval_step": [], "lower_bound": []}
    best = None
    show = sys.stderr.isatty() if verbose is None else bool(verbose)
    progress = _progress(max_steps, show)
    for step in range(1, max_steps + 1):
        f = critic(x, edge_index, edge_weight)
        if not torch.isfinite(f).all():
            raise FloatingPointError(
                f"critic training diverged at step {step}: the critic output holds NaN or infinite values; "
                f"lower lr (now {optimizer.param_groups[0]['lr']}) or check the inputs"
            )
        if lipschitz == "ctransform":
            objective = (f * mu_t).sum() - (transform.upper(f) * nu_t).sum()
        else:
            objective = (f * (mu_t - nu_t)).sum()
        loss = -objective
        if lipschitz == "penalty":
            loss = loss + penalty_weight * edge_lipschitz_penalty(
                f, edge_index, edge_weight, two_sided=two_sided, num_samples=penalty_edges, generator=generator)
        value = float(objective.detach())
        if not math.isfinite(float(loss.detach())):
            raise FloatingPointError(
                f"critic training diverged at step {step} (objective {value}); lower lr "
                f"(now {optimizer.param_groups[0]['lr']}) or check the inputs"
            )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if lipschitz == "clip":
            clip_weights_(critic, clip_value)
        history["step"].append(step)
        history["objective"].append(value)
        if step % eval_every == 0 or step == max_steps:
            certificate = _certify_critic(critic, x, edge_index, edge_weight, data, mu_arr, nu_arr, transform)
            history["eval_step"].append(step)
            history["lower_bound"].append(certificate[1].lower_bound)
            if best is None or certificate[1].lower_bound > best[1].lower_bound:
                best = certificate
            critic.train()
        progress(step, value)
    progress.close()
    raw, certificate = best
    critic.eval()
    return WassersteinEstimate(
        estimate=float(raw @ (mu_arr - nu_arr)) if lipschitz != "ctransform" else
        float(raw @ mu_arr - transform.upper(raw) @ nu_arr),
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
