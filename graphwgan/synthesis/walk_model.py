r"""The low-rank random-walk generator: CELL's model, trained full batch, sampled and scored by blocks."""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from graphwgan._checks import check_int, check_real, resolve_device, to_numpy
from graphwgan._estimator import read_estimator, write_estimator
from graphwgan._random import torch_generator
from graphwgan.synthesis.balls import transport_ball
from graphwgan.synthesis.blocks import _cell_memory, _physical_memory
from graphwgan.synthesis.exact_walk import _ExactWalk, cell_sample_keys, score_rows, walk_problem
from graphwgan.synthesis.generator import GraphGenerator, _edge_overlap
from graphwgan.synthesis.sampled_walk import SampledWalk
from graphwgan.synthesis.spectral_init import spectral_factors

if TYPE_CHECKING:  # pragma: no cover - typing only
    from torch_geometric.data import Data

__all__ = ["CELLHistory", "LowRankWalkModel"]

# num_negatives="auto": the exact passes up to this many nodes, the sampled softmax with _AUTO_NEGATIVES beyond
_EXACT_MAX_NODES = 10_000
_AUTO_NEGATIVES = 1024
# eval_every="auto": at most one evaluation every n / _AUTO_EVAL_NODES epochs, within these bounds
_AUTO_EVAL_MIN, _AUTO_EVAL_MAX, _AUTO_EVAL_NODES = 5, 20, 2000
# ... and never more than this share of the epochs the overlap needs to reach eo_target at its last rate
_AUTO_EVAL_SHARE = 0.5
_INITS = ("spectral", "random")
# hop radius of the balls that stratify CELL's sampled softmax (GraphSynthesizer uses its transport balls)
_SAMPLED_RADIUS = 2


@dataclass
class CELLHistory:
    r"""Training record of :class:`CELL`.

    Attributes
    ----------
    loss : list of float
        Training loss at each epoch, before that epoch's step: the cross-entropy
        :math:`-\sum_{ij} A_{ij} \log P_{ij} / \sum_{ij} A_{ij}` (plus the transport term for
        :class:`graphwgan.synthesis.GraphSynthesizer`, and with a critic its term
        :math:`-\mu\, \mathbb{E}_Q F`, evaluated after that epoch's critic steps).
    eval_epochs : list of int
        Epochs after which a graph was sampled and its edge overlap measured.
    edge_overlap : list of float
        Edge overlap of that sample with the training graph (shared edges / training edges).
    seconds : list of float
        Wall time since the start of training at each evaluation.
    stationary_passes : list of int
        Products :math:`x^\top P` (passes over the row blocks, or over the kept :math:`P` on small
        graphs) spent on :math:`\pi` at each evaluation.
    w1 : list of float
        The critic's certified estimate of the Wasserstein-1 distance between the real and the
        generated edge distributions at each evaluation (:mod:`graphwgan.synthesis.edge_critic`;
        empty for a model trained without a critic).
    w1_stationary : list of float
        Exact Wasserstein-1 distance, under the training graph's shortest-path metric, between the
        learned walk's stationary law :math:`\pi` and the training walk's, :math:`k_u / 2m`, at each
        evaluation (a measurement, not part of the loss; ``nan`` when the training graph is not
        connected, where the two laws differ in the mass of some component).
    """

    loss: list[float] = field(default_factory=list)
    eval_epochs: list[int] = field(default_factory=list)
    edge_overlap: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    stationary_passes: list[int] = field(default_factory=list)
    w1: list[float] = field(default_factory=list)
    w1_stationary: list[float] = field(default_factory=list)


class _StationaryRuler:
    """Exact W1 between the degree law ``k / 2m`` of the training graph and a stationary law, on that graph."""

    def __init__(self, uv, n):
        self.uv, self.n = uv, n
        self.transport = None

    def distance(self, stationary):
        import scipy.sparse as sp

        from graphwgan.graph import num_components
        from graphwgan.ot import GraphTransport

        if self.transport is None:
            ones = np.ones(self.uv.shape[1])
            adjacency = sp.coo_matrix((ones, (self.uv[0], self.uv[1])), shape=(self.n, self.n)).tocsr()
            adjacency = adjacency + adjacency.T
            self.connected = num_components(adjacency)[0] == 1
            self.transport = GraphTransport(adjacency)
            degrees = np.bincount(self.uv.ravel(), minlength=self.n).astype(np.float64)
            self.degree_law = degrees / degrees.sum()
        if not self.connected:
            return math.nan
        law = np.clip(stationary.double().cpu().numpy(), 0.0, None)
        return float(self.transport.solve(self.degree_law, law / law.sum()).distance)


class LowRankWalkModel(GraphGenerator):
    r"""A graph generator from a low-rank random walk :math:`P = \mathrm{softmax}(U V^\top)`.

    The training loop, sampler, pair scores and persistence shared by :class:`graphwgan.synthesis.CELL`
    and :class:`graphwgan.synthesis.GraphSynthesizer`; a subclass chooses the loss through
    :meth:`_transport_params` (``None``: CELL's cross-entropy alone). The parameters are those of
    the subclasses' ``__init__``.
    """

    def __init__(self, *, rank: int, lr: float, max_epochs: int, eo_target: float, eval_every: int | str,
                 num_negatives: int | str | None, random_state: Any, device: Any, verbose: bool,
                 init: str = "random") -> None:
        self.rank = rank
        self.init = init
        self.lr = lr
        self.max_epochs = max_epochs
        self.eo_target = eo_target
        self.eval_every = eval_every
        self.num_negatives = num_negatives
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    @property
    def log_normalizers_(self):
        r"""The fitted log-normalisers :math:`\ell_u = \log \sum_v e^{(U V^\top)_{uv}}` (float32 tensor, CPU)."""
        self._check_fitted("log_normalizers_")
        return self._lse

    def _check_params(self):
        name = type(self).__name__
        check_int(self.rank, "rank", name, minimum=1)
        check_real(self.lr, "lr", name, low=0.0, low_open=True)
        check_int(self.max_epochs, "max_epochs", name, minimum=1)
        check_real(self.eo_target, "eo_target", name, low=0.0, low_open=True, high=1.0)
        if self.eval_every != "auto":
            check_int(self.eval_every, "eval_every", name, minimum=1)
        if self.init not in _INITS:
            raise ValueError(f"{name}: init must be one of {', '.join(map(repr, _INITS))}, got {self.init!r}.")
        if not (self.num_negatives is None or self.num_negatives == "auto"):
            check_int(self.num_negatives, "num_negatives", name, minimum=1)

    def _transport_params(self):
        """``(weight, cap)`` of the transport term, or ``None`` (none here; :class:`GraphSynthesizer` adds one)."""
        return None

    def _critic_params(self):
        """Keyword arguments of :func:`graphwgan.synthesis.edge_critic.play_walk_game`, or ``None`` (no critic)."""
        return None

    def _stop_rule(self):
        """``("edge_overlap", None)``: stop at ``eo_target``; ``("w1", patience)``: once the critic's W1 stalls."""
        return "edge_overlap", None

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
        generator = torch_generator(rng)
        train_keys = uv[0] * np.int64(n) + uv[1]

        source, target = self._initial_factors(uv, n, generator)
        source = source.to(device).requires_grad_()
        target = target.to(device).requires_grad_()
        ruler = _StationaryRuler(uv, n)
        history = CELLHistory()
        found = {"lse": None, "stationary": None, "overlap": 0.0, "epoch": 0, "stopped": False,
                 "next_eval": self._eval_interval(n)}
        plateau = {"peak": -math.inf, "best": math.inf, "stale": 0}
        rule, patience = self._stop_rule()
        from tqdm.auto import tqdm

        bar = tqdm(total=self.max_epochs, desc=type(self).__name__, unit="epoch", leave=False,
                   disable=not self.verbose)
        start = time.perf_counter()

        def evaluate(epoch, estimate=None):
            # after an epoch: sample, measure the overlap (and the critic's W1); True ends training
            found["epoch"] = epoch
            bar.update()
            if epoch < found["next_eval"] and epoch != self.max_epochs:
                return False
            stationary, lse, passes = walk.evaluate(source.detach(), target.detach(), generator)
            keys = walk.sample_keys(source.detach(), target.detach(), lse, stationary, m, generator)
            overlap = _edge_overlap(keys.numpy(), train_keys)
            found.update(lse=lse, stationary=stationary, overlap=overlap)
            history.eval_epochs.append(epoch)
            history.edge_overlap.append(overlap)
            history.seconds.append(time.perf_counter() - start)
            history.stationary_passes.append(passes)
            history.w1_stationary.append(ruler.distance(stationary))
            found["next_eval"] = epoch + self._next_interval(n, history)
            shown = {"edge_overlap": f"{overlap:.3f}", "target": self.eo_target}
            if estimate is not None:
                history.w1.append(estimate())
                shown["w1"] = f"{history.w1[-1]:.4g}"
            bar.set_postfix(shown)
            if rule == "w1":
                found["stopped"] = _w1_plateau(plateau, history.w1[-1], patience)
                return found["stopped"]
            return overlap >= self.eo_target

        critic = self._critic_params()
        if critic is None:
            optimizer = torch.optim.Adam([source, target], lr=self.lr)
            for epoch in range(1, self.max_epochs + 1):
                optimizer.zero_grad(set_to_none=True)
                history.loss.append(walk.step(source, target, generator))
                optimizer.step()
                if evaluate(epoch):
                    break
        else:
            from graphwgan.synthesis.edge_critic import play_walk_game

            _, game = play_walk_game(walk, source, target, uv=uv, n=n, generator=generator, evaluate=evaluate,
                                     lr=self.lr, max_epochs=self.max_epochs, **critic)
            history.loss.extend(game.generator_loss)
        lse, stationary, overlap, epoch = found["lse"], found["stationary"], found["overlap"], found["epoch"]
        bar.close()
        self.fit_seconds_ = time.perf_counter() - start
        self.source_factors_ = source.detach().cpu()
        self.target_factors_ = target.detach().cpu()
        self.stationary_ = stationary.double().cpu().numpy()
        self.history_ = history
        self.n_epochs_ = epoch
        self.edge_overlap_ = overlap
        self.converged_ = found["stopped"] if rule == "w1" else overlap >= self.eo_target
        self._pi = stationary.float().cpu()
        self._lse = lse.float().cpu()
        self._sampled = negatives is not None
        self._train_edges = torch.from_numpy(uv) if self._sampled else None
        self._walk_cache = walk if self._sampled else None
        if not self.converged_ and rule == "w1":
            warnings.warn(
                f"{name}: the critic's W1 estimate was still improving after max_epochs={self.max_epochs}; "
                "raise max_epochs or lower patience.",
                RuntimeWarning,
                stacklevel=3,
            )
        elif not self.converged_:
            warnings.warn(
                f"{name}: edge overlap {overlap:.3f} after max_epochs={self.max_epochs} is below "
                f"eo_target={self.eo_target}; raise max_epochs or lr, or lower eo_target.",
                RuntimeWarning,
                stacklevel=3,
            )

    def _initial_factors(self, uv, n, generator):
        """``(U, V)`` at the start of training, float32 CPU tensors of shape ``(n, rank)``, drawn from ``generator``."""
        import torch

        if self.init == "spectral":
            seed = int(torch.randint(0, 2**62, (1,), generator=generator))
            source, target = spectral_factors(uv, n, self.rank, np.random.default_rng(seed))
            return torch.from_numpy(source), torch.from_numpy(target)
        scale = self.rank**-0.5  # entries of U V^T start with standard deviation rank^-1/2
        source = torch.randn(n, self.rank, generator=generator) * scale
        target = torch.randn(n, self.rank, generator=generator) * scale
        return source, target

    def _eval_interval(self, n):
        """Epochs between evaluations: ``eval_every``, or for ``"auto"`` the most, which grows with the graph."""
        if self.eval_every != "auto":
            return self.eval_every
        return max(_AUTO_EVAL_MIN, min(_AUTO_EVAL_MAX, round(n / _AUTO_EVAL_NODES)))

    def _next_interval(self, n, history):
        """Epochs to the next evaluation after the last one in ``history``.

        ``eval_every="auto"``: half the epochs the overlap would need to reach ``eo_target`` at its
        rate since the previous evaluation (at least 1, at most :meth:`_eval_interval`), so the
        evaluations are sparse far from the target and every epoch next to it.
        """
        most = self._eval_interval(n)
        if self.eval_every != "auto":
            return most
        epochs, overlaps = [0, *history.eval_epochs], [0.0, *history.edge_overlap]
        rate = (overlaps[-1] - overlaps[-2]) / (epochs[-1] - epochs[-2])
        if rate <= 0:
            return most
        return max(1, min(most, math.floor(_AUTO_EVAL_SHARE * (self.eo_target - overlaps[-1]) / rate)))

    def _walk(self, uv, n, device, negatives, budget):
        """The passes of one fit: exact over all :math:`n^2` logits, or sampled (``negatives`` given)."""
        import torch

        transport = self._transport_params()
        if negatives is None:
            problem = walk_problem(uv, n, device)
            if transport is not None:
                problem.transport = transport_ball(uv, n, *transport, device, budget)
            return _ExactWalk(problem)
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
        generator = torch_generator(rng)
        if self._sampled:
            if self._walk_cache is None:  # a loaded model: rebuild the balls (all sampling reads) from its edges
                self._walk_cache = self._walk(self._train_edges.numpy(), self.num_nodes_, "cpu", _AUTO_NEGATIVES, None)
            keys = self._walk_cache.sample_keys(self.source_factors_, self.target_factors_, self._lse, self._pi, m,
                                                generator)
        else:
            rows = score_rows(self.source_factors_, self.target_factors_, self._lse, self._pi)
            keys = cell_sample_keys(rows, self.num_nodes_, m, generator)
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
        entries = {
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
            "node_names": _plain_names(getattr(self, "node_names_", None)),
        }
        write_estimator(path, self, format=_SYNTHESIZER_FORMAT, version=_SYNTHESIZER_VERSION, entries=entries)

    @classmethod
    def load(cls, path: Any) -> LowRankWalkModel:
        """Read a model written by :meth:`save`.

        Parameters
        ----------
        path : str or os.PathLike
            A file written by :meth:`save` of this class or a subclass (``LowRankWalkModel.load``
            reads a CELL or a GraphSynthesizer file; ``CELL.load`` only a CELL file).

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
        owner = f"{cls.__name__}.load"
        state = read_estimator(path, owner=owner, format=_SYNTHESIZER_FORMAT, version=_SYNTHESIZER_VERSION,
                               what="synthesizer", writers="CELL.save or GraphSynthesizer.save")
        stored = state.get("class")
        classes = [cls]
        while classes and classes[0].__name__ != stored:
            head = classes.pop(0)
            classes += head.__subclasses__()
        if not classes:
            raise ValueError(f"{owner}: {path} holds a {stored!r} model; load it with {stored}.load.")
        params = dict(state["params"])
        params.setdefault("init", "random")  # files written before ``init`` existed were trained from random factors
        model = classes[0](**params)
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
        model.node_names_ = state.get("node_names")
        return model


def _w1_plateau(plateau, value, patience):
    """Record one W1 estimate; ``True`` once it has not improved for ``patience`` evaluations.

    The estimate first rises while the critic learns (a rise resets the count), then falls while
    the generator closes the gap; it has stalled when ``patience`` evaluations in a row bring
    neither a new peak nor a new low below the best by 0.1 %.
    """
    if value > plateau["peak"]:
        plateau.update(peak=value, best=value, stale=0)
    elif value < plateau["best"] - 1e-3 * abs(plateau["best"]):
        plateau.update(best=value, stale=0)
    else:
        plateau["stale"] += 1
    return plateau["stale"] >= patience


# the stamp and version of the files written by LowRankWalkModel.save; bump the version when the layout changes
_SYNTHESIZER_FORMAT = "graphwgan.synthesizer"
_SYNTHESIZER_VERSION = 1


def _plain_names(names):
    """Node ids as a list a weights-only file can hold (str and int kept, anything else as str)."""
    if names is None:
        return None
    return [name if isinstance(name, (str, int)) else str(name) for name in names]
