r"""The contract every graphwgan anomaly detector follows (PyOD/PyGOD conventions, scikit-learn rules).

A detector is fitted on one graph and scores nodes: :meth:`BaseDetector.decision_function`
returns one score per node, **higher = more anomalous**. After :meth:`BaseDetector.fit`, the
training scores are ``decision_scores_`` and the threshold is their
:math:`(1 - \text{contamination})` quantile,

.. math::
    \tau = Q_{1-c}\big(\{s(v)\}_{v \in V_{\text{train}}}\big), \qquad \hat y(v) = [\, s(v) > \tau \,].

Subclasses store their keyword parameters in ``__init__`` and implement five hooks:

==========================  =======================================================================
``_check_params()``          validate their own parameters (the base checks ``contamination``).
``_fit(data, rng)``          train on a validated copy of the graph; ``rng`` is a local
                             ``numpy.random.Generator`` built from ``random_state``.
``_score(data)``             an eval pass: float64 scores of shape ``(|V|,)``, deterministic.
``_get_state()``             the fitted state as a dict of tensors, arrays and plain values.
``_set_state(state)``        the inverse, used by :meth:`BaseDetector.load`.
==========================  =======================================================================

The graph handed to the hooks is a new ``Data`` with ``x`` a float32 tensor ``(|V|, F)``,
``edge_index`` ``(2, |E|)`` holding both directions, coalesced, without self-loops, and
``num_nodes``. A graph without node features gets structural encodings instead
(:func:`graphwgan.nn.encodings.structural_encoding`: Laplacian eigenvectors and random-walk
return probabilities), recorded as ``feature_source_ = "structural"``. The caller's graph is never
modified.
"""

from __future__ import annotations

import math
import numbers
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from graphwgan._checks import is_tensor
from graphwgan._estimator import NotFittedError, ParamsMixin, read_estimator, write_estimator
from graphwgan._random import check_random_state

if TYPE_CHECKING:  # pragma: no cover - typing only
    from torch_geometric.data import Data

__all__ = ["BaseDetector", "NotFittedError"]

FORMAT = "graphwgan.anomaly"
FORMAT_VERSION = 1

# detector classes by name, for BaseDetector.load on a file of any detector
_REGISTRY: dict[str, type] = {}

#: The library's detectors and the modules that define them (imported on first use: they need torch).
DETECTOR_MODULES = {
    "AnomalyDetector": "graphwgan.anomaly.detector",
    "DOMINANT": "graphwgan.anomaly.dominant",
    "GAAN": "graphwgan.anomaly.gaan",
    "DegreeFeatureZScore": "graphwgan.anomaly.zscore",
}


class BaseDetector(ParamsMixin):
    """Template for node anomaly detectors: validation, threshold, prediction, persistence.

    Subclasses must accept ``contamination`` and ``random_state`` as keyword parameters.

    Attributes
    ----------
    decision_scores_ : numpy.ndarray of shape (|V|,), float64
        Scores of the training nodes (higher = more anomalous), from an eval pass after training.
    threshold_ : float
        The ``1 - contamination`` quantile of ``decision_scores_``.
    labels_ : numpy.ndarray of shape (|V|,), int64
        ``decision_scores_ > threshold_`` as 0/1.
    n_features_in_ : int
        Feature size seen in :meth:`fit`; scoring needs the same.
    feature_source_ : {"x", "structural"}
        Whether the features were the graph's ``x`` or structural encodings.
    fit_seconds_ : float
        Wall time of :meth:`fit` (training and the eval pass).
    node_names_ : list of str or None
        The training graph's node ids (``node_names`` of a graph read from a file with its own
        ids, or a networkx graph's nodes), in the order of ``decision_scores_``; ``None`` when
        the nodes are ``0..n-1``.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _REGISTRY[cls.__name__] = cls

    # -- hooks ---------------------------------------------------------------------------------------

    def _check_params(self) -> None:
        """Validate the subclass's own parameters (none here)."""

    def _fit(self, data: Data, rng: np.random.Generator) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _score(self, data: Data) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _get_state(self) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _set_state(self, state: dict[str, Any]) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def _check_saved(cls, payload: dict[str, Any], owner: str) -> None:
        """Refuse a saved file this class can no longer read (raise ``ValueError`` naming ``owner``)."""

    # -- public API ----------------------------------------------------------------------------------

    def fit(self, data: Any, y: Any = None) -> BaseDetector:
        """Train on a graph and score its nodes.

        Parameters
        ----------
        data : torch_geometric.data.Data or any graph :func:`graphwgan.to_graph` accepts
            Node features in ``x`` of shape ``(|V|, F)`` (finite values); without them,
            structural encodings are used.
        y : ignored
            Unsupervised; present for the scikit-learn signature.

        Returns
        -------
        self
        """
        name = type(self).__name__
        contamination = _check_contamination(self.contamination, name)
        self._check_params()
        rng = check_random_state(self.random_state, "random_state", name)
        prepared, source = _prepare(data, f"{name}.fit")
        start = time.perf_counter()
        self._fit(prepared, rng)
        scores = self._checked_scores(prepared, f"{name}.fit")
        self.fit_seconds_ = time.perf_counter() - start
        self.n_features_in_ = int(prepared.x.shape[1])
        self.feature_source_ = source
        self.node_names_ = getattr(prepared, "node_names", None)
        self.decision_scores_ = scores
        self.threshold_ = float(np.quantile(scores, 1.0 - contamination))
        self.labels_ = (scores > self.threshold_).astype(np.int64)
        return self

    def decision_function(self, data: Any) -> np.ndarray:
        """Anomaly score of every node of a graph (higher = more anomalous).

        The graph may be the training graph or another one with the same feature size (the
        detector scores it without refitting).

        Parameters
        ----------
        data : torch_geometric.data.Data or any graph :func:`graphwgan.to_graph` accepts

        Returns
        -------
        numpy.ndarray of shape (|V|,), float64
        """
        name = type(self).__name__
        self._check_fitted("decision_function")
        prepared = self._prepare_like_fit(data, f"{name}.decision_function")
        return self._checked_scores(prepared, f"{name}.decision_function")

    def predict(self, data: Any) -> np.ndarray:
        """0/1 outlier labels: ``decision_function(data) > threshold_``.

        Returns
        -------
        numpy.ndarray of shape (|V|,), int64
        """
        self._check_fitted("predict")
        return (self.decision_function(data) > self.threshold_).astype(np.int64)

    def predict_proba(self, data: Any, method: str = "linear") -> np.ndarray:
        r"""Probability of being an outlier, from the training score distribution.

        ``"linear"`` rescales with the training scores' range :math:`[a, b]`,
        :math:`p = \mathrm{clip}\big((s - a) / (b - a), 0, 1\big)`;
        ``"unify"`` uses their mean and standard deviation,
        :math:`p = \max\big(0, \mathrm{erf}((s - \bar s_{\text{train}}) / (\sigma_{\text{train}} \sqrt 2))\big)`
        (Kriegel et al., 2011).

        Parameters
        ----------
        data : graph
            As in :meth:`decision_function`.
        method : {"linear", "unify"}, default "linear"

        Returns
        -------
        numpy.ndarray of shape (|V|, 2), float64
            Columns: probability of normal, probability of outlier.
        """
        from scipy.special import erf

        self._check_fitted("predict_proba")
        if method not in ("linear", "unify"):
            raise ValueError(
                f"{type(self).__name__}.predict_proba: method must be 'linear' or 'unify', got {method!r}."
            )
        scores = self.decision_function(data)
        train = self.decision_scores_
        if method == "linear":
            spread = float(train.max() - train.min())
            outlier = (scores - train.min()) / spread if spread > 0 else (scores > train.max()).astype(float)
            outlier = np.clip(outlier, 0.0, 1.0)
        else:
            std = float(train.std())
            outlier = erf((scores - train.mean()) / (std * math.sqrt(2.0))) if std > 0 else (scores > train.mean())
            outlier = np.clip(np.asarray(outlier, dtype=np.float64), 0.0, 1.0)
        return np.stack([1.0 - outlier, outlier], axis=1)

    def predict_confidence(self, data: Any) -> np.ndarray:
        r"""Confidence in each 0/1 prediction (ExCeeD, Perini et al., 2020).

        With :math:`n` training scores, :math:`k` of them at most :math:`s`, and the expected
        number of outliers :math:`t = \lceil n c \rceil`, a node is an outlier with posterior
        probability :math:`p = (1 + k) / (2 + n)`, and the confidence that it is predicted an outlier
        is :math:`P[\mathrm{Bin}(n, p) > n - t]`. For nodes predicted normal the confidence is
        one minus that.

        Returns
        -------
        numpy.ndarray of shape (|V|,), float64 in [0, 1]
        """
        from scipy.stats import binom

        self._check_fitted("predict_confidence")
        scores = self.decision_function(data)
        train = np.sort(self.decision_scores_)
        n = train.size
        below = np.searchsorted(train, scores, side="right")
        posterior = (1.0 + below) / (2.0 + n)
        expected = math.ceil(n * float(self.contamination))
        outlier_confidence = 1.0 - binom.cdf(n - expected, n, posterior)
        predicted = scores > self.threshold_
        return np.where(predicted, outlier_confidence, 1.0 - outlier_confidence)

    # -- persistence ---------------------------------------------------------------------------------

    def save(self, path: str | Path) -> None:
        """Write the fitted detector (parameters, threshold, learned state) to ``path``.

        The file is a ``torch.save`` of plain tensors, arrays and values, stamped with the format
        version; :meth:`load` reads it with ``weights_only=True``. A ``random_state`` that is a
        ``numpy.random.Generator`` is stored as ``None``.
        """
        import torch

        self._check_fitted("save")
        entries = {
            "fitted": {
                "decision_scores_": torch.from_numpy(self.decision_scores_),
                "threshold_": self.threshold_,
                "n_features_in_": self.n_features_in_,
                "feature_source_": self.feature_source_,
                "fit_seconds_": self.fit_seconds_,
                "node_names_": getattr(self, "node_names_", None),
            },
            "state": self._get_state(),
        }
        write_estimator(path, self, format=FORMAT, version=FORMAT_VERSION, entries=entries)

    @classmethod
    def load(cls, path: str | Path) -> BaseDetector:
        """Read a detector written by :meth:`save`.

        ``BaseDetector.load`` returns whichever detector the file holds; ``SomeDetector.load``
        also checks that the file holds a ``SomeDetector``.
        """
        payload = read_estimator(path, owner=f"{cls.__name__}.load", format=FORMAT, version=FORMAT_VERSION,
                                 what="detector", writers="a detector's save()")
        name = payload.get("class", payload.get("detector"))  # "detector": files of graphwgan 0.1
        target = _REGISTRY.get(name)
        if target is None and name in DETECTOR_MODULES:  # a library detector whose module is not imported yet
            import importlib

            target = getattr(importlib.import_module(DETECTOR_MODULES[name]), name)
        if target is None:
            raise ValueError(f"{cls.__name__}.load: {str(path)!r} holds an unknown detector {name!r}.")
        if cls is not BaseDetector and not issubclass(target, cls):
            raise ValueError(f"{cls.__name__}.load: {str(path)!r} holds a {name}, not a {cls.__name__}.")
        target._check_saved(payload, f"{cls.__name__}.load: {str(path)!r}")
        detector = target(**payload["params"])
        fitted = payload["fitted"]
        detector.decision_scores_ = fitted["decision_scores_"].numpy().astype(np.float64)
        detector.threshold_ = float(fitted["threshold_"])
        detector.labels_ = (detector.decision_scores_ > detector.threshold_).astype(np.int64)
        detector.n_features_in_ = int(fitted["n_features_in_"])
        detector.feature_source_ = str(fitted["feature_source_"])
        detector.fit_seconds_ = float(fitted["fit_seconds_"])
        detector.node_names_ = fitted.get("node_names_")
        detector._set_state(payload["state"])
        return detector

    # -- helpers ----------------------------------------------------------------------------------

    def _check_fitted(self, method: str) -> None:
        if not hasattr(self, "decision_scores_"):
            raise NotFittedError(
                f"{type(self).__name__}.{method}: this detector is not fitted yet; call fit(data) first."
            )

    def _prepare_like_fit(self, data: Any, owner: str) -> Data:
        prepared, source = _prepare(data, owner)
        if source != self.feature_source_:
            raise ValueError(
                f"{owner}: the detector was fitted on {_describe(self.feature_source_, self.n_features_in_)}, but "
                f"this graph {'has no node features' if source == 'structural' else 'has node features x'}; score "
                "graphs of the same kind."
            )
        if prepared.x.shape[1] != self.n_features_in_:
            raise ValueError(
                f"{owner}: the graph has {prepared.x.shape[1]} features per node, but the detector was fitted on "
                f"{self.n_features_in_}; score graphs with the same feature size."
            )
        return prepared

    def _checked_scores(self, data: Data, owner: str) -> np.ndarray:
        scores = np.asarray(self._score(data), dtype=np.float64)
        n = int(data.num_nodes)
        if scores.shape != (n,):
            raise RuntimeError(f"{owner}: the detector returned scores of shape {scores.shape}, expected ({n},).")
        if not np.isfinite(scores).all():
            raise RuntimeError(
                f"{owner}: {int((~np.isfinite(scores)).sum())} scores are not finite (training diverged?); "
                "lower the learning rate or check the features' scale."
            )
        return scores


def _describe(source: str, size: int) -> str:
    return f"{size} structural encodings" if source == "structural" else f"node features of size {size}"


def _prepare(data: Any, owner: str) -> tuple[Data, str]:
    """A validated copy: float32 features (or structural encodings) and a clean undirected edge_index."""
    import torch
    from torch_geometric.data import Data

    from graphwgan.graph import to_graph

    if data is None:
        raise TypeError(f"{owner}: expected a graph (torch_geometric Data, networkx graph, ...), got None.")
    try:  # a Data object's x is read as it is; other sources (networkx, files) bring theirs through to_graph
        graph = to_graph(data, weight=None, keep_attributes=not isinstance(data, Data))
    except (TypeError, ValueError) as error:
        raise type(error)(f"{owner}: {error}") from error
    features = getattr(data if isinstance(data, Data) else graph, "x", None)
    names = getattr(data if isinstance(data, Data) else graph, "node_names", None)
    n = int(graph.num_nodes)
    if n < 2:
        raise ValueError(f"{owner}: the graph has {n} node(s); anomaly detection needs at least 2.")
    if features is None:
        from graphwgan.nn.encodings import structural_encoding

        x = torch.from_numpy(structural_encoding(graph, eigenvectors=min(8, n - 1)))
        source = "structural"
    else:
        x = _check_features(features, n, owner)
        source = "x"
    prepared = Data(x=x, edge_index=graph.edge_index.long(), num_nodes=n)
    if names is not None and len(names) == n:
        prepared.node_names = [str(name) for name in names]
    return prepared, source


def _check_features(features: Any, n: int, owner: str):
    import torch

    if is_tensor(features):
        x = features.detach().to("cpu")
    else:
        try:
            x = torch.as_tensor(np.asarray(features))
        except (TypeError, ValueError) as error:
            raise TypeError(f"{owner}: node features x must be numeric, got {type(features).__name__}.") from error
    if x.is_complex():
        raise TypeError(f"{owner}: node features x must be real, got dtype {x.dtype}.")
    if x.dim() == 1:
        x = x[:, None]
    if x.dim() != 2:
        x = x.reshape(x.shape[0], -1)
    if x.shape[0] != n:
        raise ValueError(f"{owner}: x has {x.shape[0]} rows but the graph has {n} nodes; give one row per node.")
    if x.shape[1] == 0:
        raise ValueError(f"{owner}: x has no columns; drop x to use structural encodings instead.")
    x = x.to(torch.float32)
    if not torch.isfinite(x).all():
        bad = int((~torch.isfinite(x)).any(dim=1).sum())
        raise ValueError(
            f"{owner}: x holds NaN or infinite values in {bad} node(s); impute or drop them before fitting."
        )
    return x.clone()


def _check_contamination(value: Any, owner: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: contamination must be a float in (0, 0.5], got {value!r}.")
    if not (0.0 < float(value) <= 0.5):
        raise ValueError(f"{owner}: contamination must be in (0, 0.5], got {value!r} (the expected outlier share).")
    return float(value)
