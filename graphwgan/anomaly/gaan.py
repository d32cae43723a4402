r"""GAAN: a generative adversarial network whose discriminator judges edges.

Chen, Liu, Wang, Dong, Xu and Xie, "Generative Adversarial Attributed Network Anomaly
Detection", CIKM 2020.

* A **generator** :math:`G` maps Gaussian noise :math:`\varepsilon_i \sim \mathcal N(0, I_k)`,
  one draw per node, to fake attributes :math:`x'_i = G(\varepsilon_i)`.
* A shared **encoder** :math:`E` maps real and fake attributes to latent vectors,
  :math:`z_i = E(x_i)`, :math:`z'_i = E(x'_i)`.
* The **discriminator** scores a pair, :math:`D(u, v) = \sigma(u^\top v)`: real edges
  :math:`(z_i, z_j)`, :math:`(i, j) \in E`, should score 1 and fake edges :math:`(z'_i, z'_j)` on
  the same index pairs 0. The generator tries to make its fake edges score 1.

The losses, averaged over the directed edge list :math:`E` (both directions of every edge):

.. math::

    \mathcal L_{D} = -\frac{1}{|E|} \sum_{(i,j) \in E}
        \big[\log D(z_i, z_j) + \log(1 - D(z'_i, z'_j))\big], \qquad
    \mathcal L_{G} = -\frac{1}{|E|} \sum_{(i,j) \in E} \log D(z'_i, z'_j).

The anomaly score of node :math:`i` mixes the sample reconstruction error with the
discriminator's doubt about the node's real edges,

.. math::

    s_i = \alpha \, \tilde e^{G}_i + (1 - \alpha) \, \tilde e^{D}_i, \qquad
    e^{G}_i = \lVert x_i - x'_i \rVert_2, \qquad
    e^{D}_i = \Big(\sum_{j \in N(i)} -\log D(z_i, z_j)\Big)^{1/2}

(:math:`e^D_i = 0` for an isolated node; :math:`\tilde e` is :math:`e` standardised by its mean and
standard deviation over the training nodes, see :class:`GAAN`). Everything is per edge or per node: no
:math:`|V| \times |V|` matrix is formed, in training or scoring. Scoring draws its noise from a
seed fixed at fit time, so :meth:`GAAN.decision_function` is deterministic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from graphwgan._checks import check_int, check_real, resolve_device
from graphwgan.anomaly._base import BaseDetector
from graphwgan.anomaly.dominant import (
    _make_stack,
    _run_stack,
    _torch_generator,
    attribute_errors,
)

if TYPE_CHECKING:  # pragma: no cover - typing only
    import torch

__all__ = ["GAAN", "edge_discriminator_errors", "gaan_discriminator_loss", "gaan_generator_loss", "gaan_scores"]


def _pair_logits(z: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
    r""":math:`z_i^\top z_j` for every listed pair, shape ``(|E|,)``."""
    # index_select: its backward (index_add_) sums in a fixed order on CPU, so a seed gives the same
    # model whatever the thread count; advanced indexing's backward does not
    return (z.index_select(0, edge_index[0]) * z.index_select(0, edge_index[1])).sum(dim=1)


def gaan_discriminator_loss(z_real: torch.Tensor, z_fake: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
    r"""Discriminator loss: real edges labelled 1, the same pairs of fake nodes labelled 0.

    Parameters
    ----------
    z_real, z_fake : torch.Tensor of shape (|V|, d)
        Encodings of the real and of the generated attributes.
    edge_index : torch.Tensor of shape (2, |E|)

    Returns
    -------
    torch.Tensor
        The scalar :math:`\mathcal L_D` (binary cross-entropy on logits, numerically stable).
    """
    import torch.nn.functional as F

    real = _pair_logits(z_real, edge_index)
    fake = _pair_logits(z_fake, edge_index)
    return -(F.logsigmoid(real).mean() + F.logsigmoid(-fake).mean())


def gaan_generator_loss(z_fake: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
    r"""Generator loss :math:`-\frac{1}{|E|}\sum_{(i,j)} \log D(z'_i, z'_j)` (non-saturating)."""
    import torch.nn.functional as F

    return -F.logsigmoid(_pair_logits(z_fake, edge_index)).mean()


def edge_discriminator_errors(z: torch.Tensor, edge_index: torch.Tensor, num_nodes: int) -> torch.Tensor:
    r"""Per-node :math:`\big(\sum_{j \in N(i)} -\log D(z_i, z_j)\big)^{1/2}`; 0 for isolated nodes.

    Returns
    -------
    torch.Tensor of shape (|V|,)
    """
    import torch
    import torch.nn.functional as F

    loss = -F.logsigmoid(_pair_logits(z, edge_index))
    total = torch.zeros(num_nodes, dtype=z.dtype, device=z.device).index_add_(0, edge_index[0], loss)
    return total.sqrt()


def gaan_scores(attribute_error, structure_error, alpha: float, mean=None, std=None):
    r"""GAAN's score :math:`s_i = \alpha \, \tilde e^{G}_i + (1 - \alpha) \, \tilde e^{D}_i`.

    Parameters
    ----------
    attribute_error, structure_error : array or tensor of shape (|V|,)
    alpha : float
        Weight of the reconstruction term, in :math:`[0, 1]`.
    mean, std : sequence of two floats, optional
        When given, each term is standardised, :math:`\tilde e = (e - \mu) / \sigma`, first.

    Returns
    -------
    array or tensor of shape (|V|,)
    """
    if mean is not None:
        attribute_error = (attribute_error - mean[0]) / std[0]
        structure_error = (structure_error - mean[1]) / std[1]
    return alpha * attribute_error + (1.0 - alpha) * structure_error


class GAAN(BaseDetector):
    r"""GAAN adversarial detector (Chen et al., CIKM 2020).

    The generator is an MLP with :math:`\lfloor L/2 \rfloor` layers (``noise_dim -> hidden -> ... -> F``),
    the encoder an MLP with :math:`\lceil L/2 \rceil` layers (``F -> hidden -> ... -> hidden``),
    ReLU between layers. Each epoch takes one Adam step for the generator on
    :func:`gaan_generator_loss` and one for the encoder on :func:`gaan_discriminator_loss`
    (fake attributes detached from the generator), full batch. See the module docstring for the
    score.

    Defaults are PyGOD 1.x's ``GAAN`` defaults (``noise_dim=16``, ``hid_dim=64``,
    ``num_layers=4``, ``dropout=0``, ``weight_decay=0``, ``lr=0.004``, ``epoch=100``,
    ``weight=0.5``, ``contamination=0.1``). One deliberate difference from PyGOD: the encoder also
    learns from the fake edges, as in the paper's loss (PyGOD detaches the whole fake term). The
    structure term is PyGOD's: its row-wise cross-entropy with ``pos_weight_s=1`` gives non-edges
    weight 0, so it is the root of the summed cross-entropy over the node's edges, computed here
    without the dense row.

    Two departures from both the paper and PyGOD, chosen by measurement: the two error terms are standardised over the
    training nodes before mixing, and the reconstruction error averages ``score_samples`` noise
    draws. The generator's fakes do not learn the scale of the features (the discriminator only
    sees inner products of encodings, which larger fakes only raise): on ``inj_cora`` their norm
    ends near 95 against 0.26 for the row-normalised features, so the raw mix is the reconstruction
    term alone, which carries no signal (ROC-AUC 0.51-0.54 over seeds 0-2), while the
    standardised mix scores 0.65-0.68 and the discriminator term alone 0.69-0.71.

    Parameters
    ----------
    noise_dim : int, default 16
        Size of the Gaussian noise.
    hidden : int, default 64
        Width of the hidden layers and of the latent vectors.
    num_layers : int, default 4
        Total MLP layers (generator and encoder), ``>= 2``.
    epochs : int, default 100
        Training epochs, ``>= 0``.
    lr : float, default 0.004
        Adam learning rate of both networks.
    weight_decay : float, default 0.0
        Adam L2 penalty.
    alpha : float, default 0.5
        Weight of the reconstruction error in the score, in ``[0, 1]``.
    score_samples : int, default 8
        Noise draws averaged in the reconstruction error when scoring (1 = the paper and PyGOD).
    standardize : bool, default True
        Standardise each of the two error terms by its mean and standard deviation over the
        training nodes before mixing (``False`` = the paper's raw mix).
    contamination : float, default 0.1
        Share of outliers assumed when thresholding.
    random_state : int, numpy.random.Generator or None, default None
        Seed of the local generators (initialisation, noise).
    device : str, default "cpu"
        Torch device.

    Attributes
    ----------
    decision_scores_ : numpy.ndarray of shape (|V|,)
        Scores of the training nodes.
    loss_history_ : list of tuple(float, float)
        ``(generator loss, discriminator loss)`` per epoch.
    """

    def __init__(
        self,
        *,
        noise_dim: int = 16,
        hidden: int = 64,
        num_layers: int = 4,
        epochs: int = 100,
        lr: float = 4e-3,
        weight_decay: float = 0.0,
        alpha: float = 0.5,
        score_samples: int = 8,
        standardize: bool = True,
        contamination: float = 0.1,
        random_state: Any = None,
        device: str = "cpu",
    ) -> None:
        self.noise_dim = noise_dim
        self.hidden = hidden
        self.num_layers = num_layers
        self.epochs = epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.alpha = alpha
        self.score_samples = score_samples
        self.standardize = standardize
        self.contamination = contamination
        self.random_state = random_state
        self.device = device

    def _check_params(self) -> None:
        name = type(self).__name__
        check_int(self.noise_dim, "noise_dim", name, minimum=1)
        check_int(self.hidden, "hidden", name, minimum=1)
        check_int(self.num_layers, "num_layers", name, minimum=2)
        check_int(self.epochs, "epochs", name, minimum=0)
        check_real(self.lr, "lr", name, low=0.0, low_open=True)
        check_real(self.weight_decay, "weight_decay", name, low=0.0)
        check_real(self.alpha, "alpha", name, low=0.0, high=1.0)
        check_int(self.score_samples, "score_samples", name, minimum=1)
        if not isinstance(self.standardize, (bool, np.bool_)):
            raise TypeError(f"{name}: standardize must be True or False, got {self.standardize!r}.")
        if not isinstance(self.device, str):
            raise TypeError(f"{name}: device must be a str such as 'cpu' or 'cuda', got {self.device!r}.")

    def _build(self, in_dim: int, generator):
        import torch

        generator_layers = self.num_layers // 2
        encoder_layers = self.num_layers - generator_layers
        net = torch.nn.Module()
        gen_dims = [self.noise_dim] + [self.hidden] * (generator_layers - 1) + [in_dim]
        net.gen_w, net.gen_b = _make_stack(gen_dims, generator)
        net.enc_w, net.enc_b = _make_stack([in_dim] + [self.hidden] * encoder_layers, generator)
        return net

    def _noise(self, n: int, generator, device):
        import torch

        return torch.randn(n, int(self.noise_dim), generator=generator).to(device)

    def _fit(self, data, rng) -> None:
        import torch

        device = resolve_device(self.device, type(self).__name__)
        generator = _torch_generator(rng)
        net = self._build(int(data.x.shape[1]), generator).to(device)
        x = data.x.to(device)
        edge_index = data.edge_index.to(device)
        n = int(data.num_nodes)
        gen_params = [*net.gen_w, *net.gen_b]
        enc_params = [*net.enc_w, *net.enc_b]
        opt_gen = torch.optim.Adam(gen_params, lr=float(self.lr), weight_decay=float(self.weight_decay))
        opt_enc = torch.optim.Adam(enc_params, lr=float(self.lr), weight_decay=float(self.weight_decay))
        history = []
        for _ in range(int(self.epochs)):
            fake = _run_stack(self._noise(n, generator, device), net.gen_w, net.gen_b)
            # generator step: make the fake edges look real to the (fixed) encoder/discriminator
            opt_gen.zero_grad()
            loss_g = gaan_generator_loss(_run_stack(fake, net.enc_w, net.enc_b), edge_index)
            loss_g.backward(inputs=gen_params)
            opt_gen.step()
            # encoder/discriminator step on the real edges and the (detached) fake ones
            opt_enc.zero_grad()
            z_real = _run_stack(x, net.enc_w, net.enc_b)
            z_fake = _run_stack(fake.detach(), net.enc_w, net.enc_b)
            loss_d = gaan_discriminator_loss(z_real, z_fake, edge_index)
            loss_d.backward(inputs=enc_params)
            opt_enc.step()
            history.append((float(loss_g.detach()), float(loss_d.detach())))
        self.net_ = net
        self.loss_history_ = history
        self.score_seed_ = int(rng.integers(0, 2**63 - 1))
        terms = np.stack(self._terms(data))
        self.term_mean_ = terms.mean(axis=1)
        std = terms.std(axis=1)
        self.term_std_ = np.where(std > 0, std, 1.0)

    def _terms(self, data) -> tuple[np.ndarray, np.ndarray]:
        """Raw per-node reconstruction and discriminator errors (float64 arrays)."""
        import torch

        device = resolve_device(self.device, type(self).__name__)
        x = data.x.to(device)
        edge_index = data.edge_index.to(device)
        n = int(data.num_nodes)
        generator = torch.Generator().manual_seed(self.score_seed_)
        with torch.no_grad():
            attr = torch.zeros(n, dtype=x.dtype, device=device)
            for _ in range(int(self.score_samples)):
                fake = _run_stack(self._noise(n, generator, device), self.net_.gen_w, self.net_.gen_b)
                attr += attribute_errors(x, fake)
            attr /= int(self.score_samples)
            z = _run_stack(x, self.net_.enc_w, self.net_.enc_b)
            struct = edge_discriminator_errors(z, edge_index, n)
        return attr.cpu().numpy().astype(np.float64), struct.cpu().numpy().astype(np.float64)

    def _score(self, data) -> np.ndarray:
        attr, struct = self._terms(data)
        if self.standardize:
            return gaan_scores(attr, struct, float(self.alpha), self.term_mean_, self.term_std_)
        return gaan_scores(attr, struct, float(self.alpha))

    def _get_state(self) -> dict:
        import torch

        state = {f"net.{k}": v.detach().cpu().clone() for k, v in self.net_.state_dict().items()}
        state["in_dim"] = int(self.net_.enc_w[0].shape[0])
        state["score_seed"] = int(self.score_seed_)
        state["term_mean"] = torch.from_numpy(self.term_mean_.copy())
        state["term_std"] = torch.from_numpy(self.term_std_.copy())
        state["loss_history"] = torch.tensor(self.loss_history_, dtype=torch.float64).reshape(-1, 2)
        return state

    def _set_state(self, state: dict) -> None:
        import torch

        net = self._build(int(state["in_dim"]), torch.Generator().manual_seed(0))
        net.load_state_dict({k[4:]: v for k, v in state.items() if k.startswith("net.")})
        self.net_ = net.to(resolve_device(self.device, type(self).__name__))
        self.score_seed_ = int(state["score_seed"])
        self.term_mean_ = state["term_mean"].numpy().astype(np.float64)
        self.term_std_ = state["term_std"].numpy().astype(np.float64)
        self.loss_history_ = [tuple(float(v) for v in row) for row in state["loss_history"]]
