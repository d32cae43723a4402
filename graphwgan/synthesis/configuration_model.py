r"""The configuration-model baseline: the training degree sequence, random stub matching."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from graphwgan.synthesis.generator import GraphGenerator

if TYPE_CHECKING:  # pragma: no cover - typing only
    from torch_geometric.data import Data

__all__ = ["ConfigurationModel"]

class ConfigurationModel(GraphGenerator):
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
