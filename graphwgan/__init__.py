"""graphwgan: Wasserstein GANs on graphs, with an exact graph Wasserstein-1 ruler.

The top level is deliberately light: heavy dependencies (torch, PyTorch Geometric, POT) are imported
only when a name that needs them is first used.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it (imported on first access)
_LAZY_ATTRS = {
    "to_graph": "graphwgan.graph",
    "read_graph": "graphwgan.io",
    "wasserstein": "graphwgan.ot",
    "wasserstein_batch": "graphwgan.ot",
    "tree_wasserstein": "graphwgan.ot",
    "GraphTransport": "graphwgan.ot",
    "WassersteinResult": "graphwgan.ot",
    "estimate_wasserstein": "graphwgan.estimate",
    "WassersteinEstimate": "graphwgan.estimate",
    "certify": "graphwgan.lipschitz",
    "GraphSynthesizer": "graphwgan.synthesis",
    "AnomalyDetector": "graphwgan.anomaly",
}
_LAZY_MODULES = {
    "anomaly", "baselines", "cli", "convert", "curvature", "datasets", "distances", "distributed", "estimate", "graph",
    "io", "lipschitz", "metrics", "nn", "ot", "outliers", "sampling", "splits", "synthesis", "train",
}

__all__ = sorted([*_LAZY_ATTRS, *_LAZY_MODULES, "__version__"])


def __getattr__(name: str) -> Any:
    if name in _LAZY_ATTRS:
        value = getattr(importlib.import_module(_LAZY_ATTRS[name]), name)
    elif name in _LAZY_MODULES:
        value = importlib.import_module(f"graphwgan.{name}")
    else:
        raise AttributeError(f"module 'graphwgan' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
