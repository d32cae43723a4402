"""Exact optimal transport on graphs: Wasserstein-1 with the shortest-path ground cost."""

from graphwgan.ot.wasserstein import (
    GraphTransport,
    WassersteinResult,
    tree_wasserstein,
    wasserstein,
    wasserstein_batch,
)

__all__ = ["GraphTransport", "WassersteinResult", "tree_wasserstein", "wasserstein", "wasserstein_batch"]
