r"""DOMINANT: a graph auto-encoder that scores nodes by how badly it reconstructs them.

Ding, Li, Bhanushali and Liu, "Deep Anomaly Detection on Attributed Networks", SDM 2019.

A shared GCN encoder maps the attributes to embeddings :math:`Z = f_\theta(X, A)`; a GCN
attribute decoder reconstructs :math:`\hat X = g_\phi(Z, A)`; a structure decoder reconstructs
the adjacency as :math:`\hat A = \sigma(H H^\top)` with :math:`H = h_\psi(Z, A)` (the paper; by
default :math:`\hat A = H H^\top` without :math:`\sigma`, as in PyGOD, see :class:`DOMINANT`). The
anomaly score of node :math:`i` mixes the two reconstruction errors,

.. math::

    s_i = \alpha \, \lVert x_i - \hat x_i \rVert_2
          + (1 - \alpha) \, \lVert a_i - \sigma(h_i H^\top) \rVert_2 ,

and training minimises the mean score over the nodes. :math:`a_i` is row :math:`i` of the
adjacency (no self-loops), so the structure error is a sum over all :math:`|V|` columns; it is
computed exactly without ever holding the :math:`|V| \times |V|` matrix (:func:`structure_errors`).
For the raw decoder :math:`\hat A = HH^\top` (the default) it expands through the
:math:`d \times d` Gram matrix, :math:`r_i^2 = d_i - 2 h_i^\top \sum_{j \in N(i)} h_j + h_i^\top H^\top H h_i`:
memory :math:`O(|V| d)`, time :math:`O(|E| d + |V| d^2)` per epoch, so a :math:`10^5`-node graph
trains in seconds. The sigmoid decoder has no such expansion: it runs over blocks of rows, with a
hand-written backward pass that recomputes each block, in memory :math:`O(\text{block} \cdot |V|)`
but time :math:`O(|V|^2 d)` per epoch.

The functional core (:func:`gcn_adjacency`, :func:`attribute_errors`, :func:`structure_errors`,
:func:`dominant_scores`, :func:`dominant_loss`) is plain functions; :class:`DOMINANT` binds the
hyper-parameters in the :class:`~graphwgan.anomaly._base.BaseDetector` contract.
"""

from __future__ import annotations

import functools
import math
import numbers
from typing import TYPE_CHECKING, Any

import numpy as np

from graphwgan._checks import check_int, check_real, resolve_device
from graphwgan.anomaly._base import BaseDetector

if TYPE_CHECKING:  # pragma: no cover - typing only
    import torch

__all__ = [
    "DOMINANT",
    "attribute_errors",
    "dominant_loss",
    "dominant_scores",
    "gcn_adjacency",
    "structure_errors",
]

# entries of one (rows x |V|) block of the reconstructed adjacency: about 4M (16 MiB in float32)
_BLOCK_ENTRIES = 1 << 22


# ----------------------------------------------------------------------------------------------
# functional core
# ----------------------------------------------------------------------------------------------


def gcn_adjacency(edge_index: torch.Tensor, num_nodes: int) -> torch.Tensor:
    r"""The GCN propagation matrix :math:`\tilde D^{-1/2} (A + I) \tilde D^{-1/2}`, sparse.

    Parameters
    ----------
    edge_index : torch.Tensor of shape (2, |E|), dtype long
        Directed edge list holding both directions of every undirected edge, no self-loops.
    num_nodes : int
        :math:`|V|`.

    Returns
    -------
    torch.Tensor
        A sparse COO tensor of shape ``(|V|, |V|)``, float32, coalesced, with
        :math:`|E| + |V|` stored entries (:math:`\tilde D` is the degree of :math:`A + I`).
    """
    import torch

    loops = torch.arange(num_nodes, dtype=torch.long, device=edge_index.device)
    row = torch.cat([edge_index[0], loops])
    col = torch.cat([edge_index[1], loops])
    degree = torch.bincount(row, minlength=num_nodes).to(torch.float32)
    scale = degree.pow(-0.5)
    values = scale[row] * scale[col]
    adjacency = torch.sparse_coo_tensor(
        torch.stack([row, col]), values, (num_nodes, num_nodes), check_invariants=False
    )
    return adjacency.coalesce()


def attribute_errors(x: torch.Tensor, x_hat: torch.Tensor) -> torch.Tensor:
    r"""Per-node attribute reconstruction error :math:`\lVert x_i - \hat x_i \rVert_2`.

    Parameters
    ----------
    x, x_hat : torch.Tensor of shape (|V|, F)
        Attributes and their reconstruction.

    Returns
    -------
    torch.Tensor of shape (|V|,)
        Differentiable in both arguments (the gradient at an exact reconstruction is taken as 0).
    """
    import torch

    squared = (x - x_hat).pow(2).sum(dim=1)
    # sqrt has an infinite derivative at 0; the clamp keeps it finite and changes nothing above 1e-24
    return torch.sqrt(squared.clamp_min(1e-24))


def _row_pointer(edge_index: torch.Tensor, num_nodes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """CSR row pointer and column indices of ``edge_index`` (sorted by source node)."""
    import torch

    order = torch.argsort(edge_index[0] * num_nodes + edge_index[1])
    row, col = edge_index[0, order], edge_index[1, order]
    counts = torch.bincount(row, minlength=num_nodes)
    pointer = torch.zeros(num_nodes + 1, dtype=torch.long, device=edge_index.device)
    pointer[1:] = torch.cumsum(counts, dim=0)
    return pointer, col


def _adjacency_block(pointer, col, start, stop, num_nodes, dtype):
    """Rows ``start:stop`` of the 0/1 adjacency, dense, shape ``(stop - start, |V|)``."""
    import torch

    lo, hi = int(pointer[start]), int(pointer[stop])
    block = torch.zeros(stop - start, num_nodes, dtype=dtype, device=col.device)
    if hi > lo:
        local_rows = torch.repeat_interleave(
            torch.arange(stop - start, device=col.device), pointer[start + 1 : stop + 1] - pointer[start:stop]
        )
        block[local_rows, col[lo:hi]] = 1
    return block


def _block_rows(num_nodes: int, block_size: int | None) -> int:
    if block_size is not None:
        return block_size
    return max(1, _BLOCK_ENTRIES // max(num_nodes, 1))


def _structure_forward(h, pointer, col, sigmoid, rows):
    import torch

    n = h.shape[0]
    errors = torch.empty(n, dtype=h.dtype, device=h.device)
    for start in range(0, n, rows):
        stop = min(start + rows, n)
        logits = h[start:stop] @ h.T
        recon = torch.sigmoid(logits) if sigmoid else logits
        diff = recon - _adjacency_block(pointer, col, start, stop, n, h.dtype)
        errors[start:stop] = diff.pow(2).sum(dim=1).sqrt()
    return errors


@functools.cache
def _structure_function():
    import torch

    class _StructureErrors(torch.autograd.Function):
        r"""Row norms :math:`r_i = \lVert a_i - \sigma(h_i H^\top) \rVert_2`, block by block.

        Backward: with :math:`S = \sigma(H H^\top)` and upstream gradient :math:`g`,
        :math:`G_{ij} = g_i (S_{ij} - A_{ij}) S_{ij} (1 - S_{ij}) / r_i` and
        :math:`\partial L / \partial H = G H + G^\top H`, accumulated over the same row blocks.
        """

        @staticmethod
        def forward(ctx, h, pointer, col, sigmoid, rows):
            with torch.no_grad():
                errors = _structure_forward(h, pointer, col, sigmoid, rows)
            ctx.save_for_backward(h, pointer, col, errors)
            ctx.sigmoid, ctx.rows = sigmoid, rows
            return errors

        @staticmethod
        def backward(ctx, grad_errors):
            h, pointer, col, errors = ctx.saved_tensors
            n = h.shape[0]
            weight = torch.where(errors > 0, grad_errors / errors.clamp_min(1e-30), torch.zeros_like(errors))
            grad_h = torch.zeros_like(h)
            with torch.no_grad():
                for start in range(0, n, ctx.rows):
                    stop = min(start + ctx.rows, n)
                    logits = h[start:stop] @ h.T
                    if ctx.sigmoid:
                        recon = torch.sigmoid(logits)
                        slope = recon * (1 - recon)
                    else:
                        recon, slope = logits, 1.0
                    diff = recon - _adjacency_block(pointer, col, start, stop, n, h.dtype)
                    g = weight[start:stop, None] * diff * slope
                    grad_h[start:stop] += g @ h
                    grad_h += g.T @ h[start:stop]
            return grad_h, None, None, None, None

    return _StructureErrors


def structure_errors(
    h: torch.Tensor,
    edge_index: torch.Tensor,
    *,
    sigmoid: bool = True,
    block_size: int | None = None,
) -> torch.Tensor:
    r"""Per-node structure reconstruction error, exact, without the dense adjacency.

    .. math:: r_i = \Big( \sum_{j=1}^{|V|} \big(A_{ij} - \sigma(h_i^\top h_j)\big)^2 \Big)^{1/2}

    (:math:`\sigma` left out when ``sigmoid=False``; the diagonal :math:`j = i` is included with
    :math:`A_{ii} = 0`). With ``sigmoid=False`` the sum expands through the Gram matrix
    :math:`H^\top H` (:func:`_structure_errors_gram`): :math:`O(|E| d + |V| d^2)` time and
    :math:`O(|V| d)` memory. With ``sigmoid=True`` rows are processed in blocks of ``block_size``;
    the backward pass recomputes each block, so the peak extra memory is a few
    ``block_size x |V|`` matrices and the time :math:`O(|V|^2 d)`.

    Parameters
    ----------
    h : torch.Tensor of shape (|V|, d)
        Node embeddings of the structure decoder.
    edge_index : torch.Tensor of shape (2, |E|), dtype long
        Both directions of every edge, no self-loops, no duplicates.
    sigmoid : bool, default True
        Reconstruct :math:`\sigma(H H^\top)` (the paper) or the raw inner products.
    block_size : int, optional
        Rows per block with ``sigmoid=True``; default about :math:`2^{22} / |V|`.

    Returns
    -------
    torch.Tensor of shape (|V|,)
        Differentiable in ``h``.

    Raises
    ------
    ValueError
        If ``block_size`` is not a positive int or the shapes do not fit.
    """
    if block_size is not None and (
        isinstance(block_size, bool) or not isinstance(block_size, numbers.Integral) or block_size < 1
    ):
        raise ValueError(f"structure_errors: block_size must be a positive int or None, got {block_size!r}.")
    if h.ndim != 2:
        raise ValueError(f"structure_errors: h must have shape (num_nodes, d), got {tuple(h.shape)}.")
    if edge_index.ndim != 2 or edge_index.shape[0] != 2:
        raise ValueError(f"structure_errors: edge_index must have shape (2, E), got {tuple(edge_index.shape)}.")
    n = h.shape[0]
    if not sigmoid:
        return _structure_errors_gram(h, edge_index)
    pointer, col = _row_pointer(edge_index, n)
    return _structure_function().apply(h, pointer, col, bool(sigmoid), _block_rows(n, block_size))


def _structure_errors_gram(h: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
    r"""The raw inner-product decoder's errors in :math:`O(|E| d + |V| d^2)`, through the Gram matrix.

    With :math:`A` 0/1, :math:`s_i = \sum_{j \in N(i)} h_j` and :math:`G = H^\top H` (:math:`d \times d`),

    .. math:: r_i^2 = \sum_j A_{ij} - 2 \sum_j A_{ij} h_i^\top h_j + \sum_j (h_i^\top h_j)^2
              = d_i - 2\, h_i^\top s_i + h_i^\top G h_i ,

    exactly the row sums of :math:`(A - HH^\top)^2`. Computed in float64 (the three terms cancel
    when the reconstruction is good) and differentiated by autograd.
    """
    import torch

    n = h.shape[0]
    wide = h.to(torch.float64)
    # the adjacency is 0/1: a repeated edge counts once, as in the block computation
    key = torch.unique(edge_index[0] * n + edge_index[1])
    row, col = key // n, key % n
    degree = torch.bincount(row, minlength=n).to(torch.float64)
    # index_select: its backward sums in a fixed order on CPU (reproducible whatever the threads)
    neighbour_sum = torch.zeros_like(wide).index_add_(0, row, wide.index_select(0, col))
    gram = wide.T @ wide
    squared = degree - 2.0 * (wide * neighbour_sum).sum(dim=1) + ((wide @ gram) * wide).sum(dim=1)
    # sqrt has an infinite derivative at 0; the clamp keeps it finite (and rounding below 0 out)
    return torch.sqrt(squared.clamp_min(1e-24)).to(h.dtype)


def dominant_scores(attribute_error: torch.Tensor, structure_error: torch.Tensor, alpha: float) -> torch.Tensor:
    r"""DOMINANT's score :math:`s_i = \alpha \, e^{X}_i + (1 - \alpha) \, e^{A}_i`.

    Parameters
    ----------
    attribute_error, structure_error : torch.Tensor of shape (|V|,)
        Output of :func:`attribute_errors` and :func:`structure_errors`.
    alpha : float
        Weight of the attribute error, in :math:`[0, 1]`.

    Returns
    -------
    torch.Tensor of shape (|V|,)
    """
    return alpha * attribute_error + (1.0 - alpha) * structure_error


def dominant_loss(attribute_error: torch.Tensor, structure_error: torch.Tensor, alpha: float) -> torch.Tensor:
    r"""Training objective: the mean score :math:`\frac{1}{|V|} \sum_i s_i` (a scalar tensor)."""
    return dominant_scores(attribute_error, structure_error, alpha).mean()


# ----------------------------------------------------------------------------------------------
# small seeded layers (initialised from a local torch.Generator, never the global one)
# ----------------------------------------------------------------------------------------------


def _glorot(fan_in: int, fan_out: int, generator):
    import torch

    bound = math.sqrt(6.0 / (fan_in + fan_out))
    weight = (torch.rand(fan_in, fan_out, generator=generator) * 2 - 1) * bound
    return torch.nn.Parameter(weight), torch.nn.Parameter(torch.zeros(fan_out))


def _dropout(h, p, training, generator):
    """Inverted dropout drawing its mask from ``generator`` (no global random state)."""
    import torch

    if not training or p == 0.0:
        return h
    keep = (torch.rand(h.shape, generator=generator) >= p).to(h.device)
    return h * keep / (1.0 - p)


def _make_stack(dims: list[int], generator):
    """Weights and biases of a stack of affine layers ``dims[0] -> ... -> dims[-1]``."""
    import torch

    weights, biases = torch.nn.ParameterList(), torch.nn.ParameterList()
    for fan_in, fan_out in zip(dims[:-1], dims[1:], strict=True):
        w, b = _glorot(fan_in, fan_out, generator)
        weights.append(w)
        biases.append(b)
    return weights, biases


def _run_stack(h, weights, biases, *, adjacency=None, last_activation=False, dropout=0.0, training=False,
               generator=None, batch_norm=False):
    """Affine (or GCN, when ``adjacency`` is given) layers with ReLU between them.

    ``batch_norm`` standardises every hidden layer over the nodes (full-batch statistics, no
    learned scale), before its ReLU.
    """
    import torch

    count = len(weights)
    for k in range(count):
        h = _dropout(h, dropout, training, generator)
        h = h @ weights[k]
        if adjacency is not None:
            h = torch.sparse.mm(adjacency, h)
        h = h + biases[k]
        if k < count - 1 and batch_norm:
            h = (h - h.mean(dim=0)) / torch.sqrt(h.var(dim=0, unbiased=False) + 1e-5)
        if k < count - 1 or last_activation:
            h = torch.relu(h)
    return h


def _torch_generator(rng):
    import torch

    return torch.Generator().manual_seed(int(rng.integers(0, 2**63 - 1)))


# ----------------------------------------------------------------------------------------------
# the estimator
# ----------------------------------------------------------------------------------------------


class DOMINANT(BaseDetector):
    r"""DOMINANT graph auto-encoder detector (Ding et al., SDM 2019).

    The network has ``num_layers`` GCN layers in all: :math:`\lfloor L/2 \rfloor` for the shared
    encoder (``F -> hidden -> ... -> hidden``), :math:`\lceil L/2 \rceil` for the attribute decoder
    (``hidden -> ... -> F``) and :math:`\lceil L/2 \rceil - 1` for the structure decoder before
    the inner product. Full-batch Adam on :func:`dominant_loss`; the score of node :math:`i` is

    .. math:: s_i = \alpha \lVert x_i - \hat x_i \rVert_2 + (1 - \alpha) \lVert a_i - \sigma(h_i H^\top) \rVert_2,

    with the structure term computed exactly (:func:`structure_errors`, never the dense
    :math:`|V| \times |V|` matrix; linear time for ``sigmoid=False``, quadratic time over blocks
    of rows for ``sigmoid=True``).

    Defaults are PyGOD 1.x's ``DOMINANT`` defaults (``hid_dim=64``, ``num_layers=4``,
    ``dropout=0``, ``weight_decay=0``, ``lr=0.004``, ``epoch=100``, ``weight=0.5``,
    ``sigmoid_s=False``, ``contamination=0.1``), which BOND's DOMINANT numbers used. With the
    paper's :math:`\sigma(HH^\top)` decoder (``sigmoid=True``) training stalls near its starting
    loss: a sparse row :math:`a_i` asks for :math:`h_i^\top h_j \to -\infty` for almost every
    :math:`j`, which no set of more than :math:`d + 1` vectors can give, so every entry sits near
    :math:`1/2` (measured on ``inj_cora``: loss 13.140 -> 13.136 in 100 epochs, ROC-AUC 0.71 against
    0.77 without the sigmoid).

    Parameters
    ----------
    hidden : int, default 64
        Width of every hidden layer and of the embeddings.
    num_layers : int, default 4
        Total GCN layers, ``>= 2``.
    epochs : int, default 100
        Full-batch training epochs, ``>= 0``.
    lr : float, default 0.004
        Adam learning rate.
    weight_decay : float, default 0.0
        Adam L2 penalty.
    dropout : float, default 0.0
        Dropout before every layer during training, in ``[0, 1)``.
    alpha : float, default 0.5
        Weight of the attribute error in the score and the loss, in ``[0, 1]``.
    sigmoid : bool, default False
        Structure decoder :math:`\sigma(HH^\top)` (the paper) or raw :math:`HH^\top` (PyGOD's default).
    block_size : int, optional
        Rows per block of the structure error with ``sigmoid=True``; default about
        :math:`2^{22}/|V|`. Unused with ``sigmoid=False`` (no blocks).
    contamination : float, default 0.1
        Share of outliers assumed when thresholding (see the base class).
    random_state : int, numpy.random.Generator or None, default None
        Seed of the local generators (initialisation, dropout).
    device : str, default "cpu"
        Torch device.

    Attributes
    ----------
    decision_scores_ : numpy.ndarray of shape (|V|,)
        Scores of the training nodes (higher = more anomalous).
    loss_history_ : list of float
        Training loss per epoch.

    Examples
    --------
    >>> from graphwgan.anomaly import DOMINANT  # doctest: +SKIP
    >>> detector = DOMINANT(epochs=20, random_state=0).fit(data)  # doctest: +SKIP
    >>> detector.decision_scores_.shape  # doctest: +SKIP
    (2708,)
    """

    def __init__(
        self,
        *,
        hidden: int = 64,
        num_layers: int = 4,
        epochs: int = 100,
        lr: float = 4e-3,
        weight_decay: float = 0.0,
        dropout: float = 0.0,
        alpha: float = 0.5,
        sigmoid: bool = False,
        block_size: int | None = None,
        contamination: float = 0.1,
        random_state: Any = None,
        device: str = "cpu",
    ) -> None:
        self.hidden = hidden
        self.num_layers = num_layers
        self.epochs = epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.dropout = dropout
        self.alpha = alpha
        self.sigmoid = sigmoid
        self.block_size = block_size
        self.contamination = contamination
        self.random_state = random_state
        self.device = device

    # -- hooks ----------------------------------------------------------------------------------

    def _check_params(self) -> None:
        name = type(self).__name__
        check_int(self.hidden, "hidden", name, minimum=1)
        check_int(self.num_layers, "num_layers", name, minimum=2)
        check_int(self.epochs, "epochs", name, minimum=0)
        check_real(self.lr, "lr", name, low=0.0, low_open=True)
        check_real(self.weight_decay, "weight_decay", name, low=0.0)
        check_real(self.dropout, "dropout", name, low=0.0, high=1.0, high_open=True)
        check_real(self.alpha, "alpha", name, low=0.0, high=1.0)
        if not isinstance(self.sigmoid, (bool, np.bool_)):
            raise TypeError(f"{name}: sigmoid must be True or False, got {self.sigmoid!r}.")
        if self.block_size is not None:
            check_int(self.block_size, "block_size", name, minimum=1)
        if not isinstance(self.device, str):
            raise TypeError(f"{name}: device must be a str such as 'cpu' or 'cuda', got {self.device!r}.")

    def _build(self, in_dim: int, generator):
        import torch

        encoder_layers = self.num_layers // 2
        decoder_layers = self.num_layers - encoder_layers
        net = torch.nn.Module()
        net.enc_w, net.enc_b = _make_stack([in_dim] + [self.hidden] * encoder_layers, generator)
        net.attr_w, net.attr_b = _make_stack([self.hidden] * decoder_layers + [in_dim], generator)
        net.struct_w, net.struct_b = _make_stack([self.hidden] * decoder_layers, generator)
        return net

    def _forward(self, net, x, adjacency, *, training=False, generator=None):
        r"""Encoder and both decoders: returns ``(x_hat, h)``.

        ReLU between layers; the embeddings ``z`` and ``h`` are linear outputs (a ReLU on ``h`` would
        make every inner product non-negative and every :math:`\sigma(h_i^\top h_j) \ge 1/2`).
        """
        import torch

        kw = {"adjacency": adjacency, "dropout": float(self.dropout), "training": training, "generator": generator}
        z = _run_stack(x, net.enc_w, net.enc_b, **kw)
        x_hat = _run_stack(torch.relu(z), net.attr_w, net.attr_b, **kw)
        h = _run_stack(torch.relu(z), net.struct_w, net.struct_b, **kw) if len(net.struct_w) else z
        return x_hat, h

    def _prepare(self, data):
        """Features, edges and the GCN propagation matrix on the detector's device."""
        device = resolve_device(self.device, type(self).__name__)
        edge_index = data.edge_index.to(device)
        return data.x.to(device), edge_index, gcn_adjacency(edge_index, int(data.num_nodes))

    def _errors(self, net, prepared, *, training=False, generator=None):
        x, edge_index, adjacency = prepared
        x_hat, h = self._forward(net, x, adjacency, training=training, generator=generator)
        return attribute_errors(x, x_hat), structure_errors(
            h, edge_index, sigmoid=bool(self.sigmoid), block_size=self.block_size
        )

    def _fit(self, data, rng) -> None:
        import torch

        generator = _torch_generator(rng)
        net = self._build(int(data.x.shape[1]), generator).to(resolve_device(self.device, type(self).__name__))
        optimizer = torch.optim.Adam(net.parameters(), lr=float(self.lr), weight_decay=float(self.weight_decay))
        history = []
        alpha = float(self.alpha)
        prepared = self._prepare(data)
        for _ in range(int(self.epochs)):
            optimizer.zero_grad()
            attr, struct = self._errors(net, prepared, training=True, generator=generator)
            loss = dominant_loss(attr, struct, alpha)
            loss.backward()
            optimizer.step()
            history.append(float(loss.detach()))
        self.net_ = net
        self.loss_history_ = history

    def _score(self, data) -> np.ndarray:
        import torch

        with torch.no_grad():
            attr, struct = self._errors(self.net_, self._prepare(data))
            scores = dominant_scores(attr, struct, float(self.alpha))
        return scores.detach().cpu().numpy().astype(np.float64)

    def _get_state(self) -> dict:
        import torch

        state = {f"net.{k}": v.detach().cpu().clone() for k, v in self.net_.state_dict().items()}
        state["in_dim"] = int(self.net_.enc_w[0].shape[0])
        state["loss_history"] = torch.tensor(self.loss_history_, dtype=torch.float64)
        return state

    def _set_state(self, state: dict) -> None:
        import torch

        net = self._build(int(state["in_dim"]), torch.Generator().manual_seed(0))
        net.load_state_dict({k[4:]: v for k, v in state.items() if k.startswith("net.")})
        self.net_ = net.to(resolve_device(self.device, type(self).__name__))
        self.loss_history_ = [float(v) for v in state["loss_history"]]
