"""Exact optimal transport on graphs: Wasserstein-1 with the shortest-path ground cost."""

from graphwgan.ot.local import LocalWassersteinResult, wasserstein_local
from graphwgan.ot.wasserstein import (
    GraphTransport,
    WassersteinResult,
    tree_wasserstein,
    wasserstein,
    wasserstein_batch,
)

__all__ = [
    "GraphTransport",
    "LocalWassersteinResult",
    "WassersteinResult",
    "tree_wasserstein",
    "wasserstein",
    "wasserstein_batch",
    "wasserstein_local",
]
