r"""Node anomaly detection on attributed graphs, with the PyOD/PyGOD scoring API.

Every detector follows one contract (:class:`BaseDetector`): ``fit(data)`` returns ``self``;
``decision_function(data)`` scores each node, **higher = more anomalous**; ``predict(data)`` gives
0/1 labels from ``threshold_``, the ``1 - contamination`` quantile of the training scores;
``save``/``load`` persist a fitted detector.

==============================  ====================================================================
:class:`AnomalyDetector`         graphwgan's detector: rarity of a node profile plus a WGAN critic.
:class:`DOMINANT`                graph autoencoder baseline (Ding et al., 2019).
:class:`GAAN`                    generative adversarial attributed-network baseline (Chen et al., 2020).
:class:`DegreeFeatureZScore`     parameter-free :math:`z(\deg) + z(\lVert x \rVert)` baseline.
==============================  ====================================================================
"""

from __future__ import annotations

import importlib
from typing import Any

from graphwgan._estimator import clone
from graphwgan.anomaly._base import DETECTOR_MODULES, BaseDetector, NotFittedError

# public name -> module that defines it (imported on first use: the detectors need torch)
_LAZY_ATTRS = DETECTOR_MODULES

__all__ = ["BaseDetector", "NotFittedError", "clone", *sorted(_LAZY_ATTRS)]


def __getattr__(name: str) -> Any:
    if name in _LAZY_ATTRS:
        value = getattr(importlib.import_module(_LAZY_ATTRS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'graphwgan.anomaly' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
