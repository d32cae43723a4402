"""The detector contract, through a tiny closed-form detector defined here."""

import copy

import networkx as nx
import numpy as np
import pytest
import torch
from torch_geometric.data import Data

from graphwgan.anomaly import BaseDetector, NotFittedError, clone


class NeighbourGap(BaseDetector):
    """Score = distance of x to the mean of its neighbours' x, scaled by a fitted factor."""

    def __init__(self, *, scale=1.0, contamination=0.1, random_state=None):
        self.scale = scale
        self.contamination = contamination
        self.random_state = random_state

    def _check_params(self):
        if self.scale <= 0:
            raise ValueError("NeighbourGap: scale must be > 0.")

    def _fit(self, data, rng):
        self.noise_ = float(rng.random())

    def _score(self, data):
        row, col = data.edge_index
        total = torch.zeros_like(data.x).index_add_(0, row, data.x[col])
        degree = torch.bincount(row, minlength=data.num_nodes).clamp(min=1)[:, None]
        return (self.scale * (data.x - total / degree).norm(dim=1)).double().numpy()

    def _get_state(self):
        return {"noise_": self.noise_}

    def _set_state(self, state):
        self.noise_ = state["noise_"]


def graph(seed=0, n=60, features=4):
    g = nx.connected_watts_strogatz_graph(n, 4, 0.1, seed=seed)
    edge_index = torch.tensor(list(g.edges)).T
    edge_index = torch.cat([edge_index, edge_index.flip(0)], dim=1)
    x = torch.from_numpy(np.random.default_rng(seed).normal(size=(n, features))).float()
    return Data(x=x, edge_index=edge_index, num_nodes=n)


def test_fit_sets_threshold_and_labels_from_contamination():
    data = graph()
    detector = NeighbourGap(contamination=0.1, random_state=0).fit(data)
    assert detector.decision_scores_.shape == (60,)
    assert detector.threshold_ == pytest.approx(np.quantile(detector.decision_scores_, 0.9))
    assert detector.labels_.sum() == 6
    np.testing.assert_array_equal(detector.predict(data), detector.labels_)
    np.testing.assert_array_equal(detector.decision_function(data), detector.decision_scores_)
    assert detector.n_features_in_ == 4 and detector.feature_source_ == "x"


def test_caller_graph_is_not_modified():
    data = graph()
    before = copy.deepcopy(data)
    NeighbourGap(random_state=0).fit(data)
    assert torch.equal(data.x, before.x) and torch.equal(data.edge_index, before.edge_index)
    assert set(data.keys()) == set(before.keys())


def test_predict_proba_and_confidence():
    data = graph()
    detector = NeighbourGap(random_state=0).fit(data)
    for method in ("linear", "unify"):
        proba = detector.predict_proba(data, method=method)
        assert proba.shape == (60, 2)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
        assert ((proba >= 0) & (proba <= 1)).all()
    linear = detector.predict_proba(data)[:, 1]
    assert linear[np.argmax(detector.decision_scores_)] == 1.0 and linear[np.argmin(detector.decision_scores_)] == 0.0
    confidence = detector.predict_confidence(data)
    assert confidence.shape == (60,) and ((confidence >= 0) & (confidence <= 1)).all()
    # the most extreme nodes on either side are the ones predicted most confidently
    order = np.argsort(detector.decision_scores_)
    assert confidence[order[-1]] > 0.9 and confidence[order[0]] > 0.9
    with pytest.raises(ValueError, match="'linear' or 'unify'"):
        detector.predict_proba(data, method="sigmoid")


@pytest.mark.parametrize("value", [0, 0.0, -0.1, 0.51, 1.0])
def test_contamination_out_of_range(value):
    with pytest.raises(ValueError, match=r"contamination must be in \(0, 0.5\]"):
        NeighbourGap(contamination=value).fit(graph())


def test_contamination_wrong_type():
    with pytest.raises(TypeError, match="contamination"):
        NeighbourGap(contamination="10%").fit(graph())


def test_nan_features_are_refused():
    data = graph()
    data.x[3, 1] = float("nan")
    with pytest.raises(ValueError, match="NaN or infinite values in 1 node"):
        NeighbourGap().fit(data)


def test_feature_rows_must_match_nodes():
    data = graph()
    data.x = data.x[:-1]
    with pytest.raises(ValueError, match="59 rows but the graph has 60 nodes"):
        NeighbourGap().fit(data)


def test_scoring_a_graph_with_another_feature_size():
    detector = NeighbourGap(random_state=0).fit(graph())
    with pytest.raises(ValueError, match="5 features per node, but the detector was fitted on 4"):
        detector.decision_function(graph(seed=1, features=5))


def test_inductive_scoring_on_another_graph():
    detector = NeighbourGap(random_state=0).fit(graph())
    other = graph(seed=2, n=40)
    assert detector.decision_function(other).shape == (40,)
    assert detector.predict(other).shape == (40,)


def test_without_features_structural_encodings_are_used():
    data = graph()
    del data.x
    detector = NeighbourGap(random_state=0).fit(data)
    assert detector.feature_source_ == "structural" and detector.n_features_in_ > 1
    with pytest.raises(ValueError, match="has node features x"):
        detector.decision_function(graph())


@pytest.mark.parametrize("method", ["decision_function", "predict", "predict_proba", "predict_confidence", "save"])
def test_use_before_fit(method, tmp_path):
    detector = NeighbourGap()
    argument = tmp_path / "d.pt" if method == "save" else graph()
    with pytest.raises(NotFittedError, match="not fitted yet"):
        getattr(detector, method)(argument)


def test_params_clone_repr():
    detector = NeighbourGap(scale=2.0, random_state=3)
    assert detector.get_params() == {"contamination": 0.1, "random_state": 3, "scale": 2.0}
    assert repr(detector) == "NeighbourGap(random_state=3, scale=2.0)"
    copy_ = clone(detector.fit(graph()))
    assert copy_.get_params() == detector.get_params() and not hasattr(copy_, "decision_scores_")
    with pytest.raises(ValueError, match="unknown parameter 'scal'"):
        detector.set_params(scal=1.0)
    with pytest.raises(ValueError, match="scale must be > 0"):
        detector.set_params(scale=-1.0).fit(graph())


def test_same_seed_same_fit():
    first = NeighbourGap(random_state=0).fit(graph())
    second = NeighbourGap(random_state=0).fit(graph())
    assert first.noise_ == second.noise_
    assert NeighbourGap(random_state=1).fit(graph()).noise_ != first.noise_


def test_save_load_round_trip(tmp_path):
    data = graph()
    detector = NeighbourGap(scale=3.0, contamination=0.2, random_state=np.random.default_rng(0)).fit(data)
    path = tmp_path / "detector.pt"
    detector.save(path)
    for loader in (NeighbourGap.load, BaseDetector.load):
        loaded = loader(path)
        assert isinstance(loaded, NeighbourGap)
        assert loaded.scale == 3.0 and loaded.contamination == 0.2 and loaded.random_state is None
        assert loaded.noise_ == detector.noise_ and loaded.threshold_ == detector.threshold_
        np.testing.assert_array_equal(loaded.decision_function(data), detector.decision_function(data))
        np.testing.assert_array_equal(loaded.labels_, detector.labels_)


def test_load_refuses_other_versions_and_files(tmp_path):
    path = tmp_path / "detector.pt"
    NeighbourGap(random_state=0).fit(graph()).save(path)
    payload = torch.load(path, weights_only=True)
    payload["version"] = 99
    old = tmp_path / "old.pt"
    torch.save(payload, old)
    with pytest.raises(ValueError, match="format version 99, but this graphwgan reads version 1"):
        NeighbourGap.load(old)
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(3)}, other)
    with pytest.raises(ValueError, match="not a graphwgan detector file"):
        BaseDetector.load(other)
    text = tmp_path / "text.pt"
    text.write_text("hello")
    with pytest.raises(ValueError, match="not a graphwgan detector file"):
        BaseDetector.load(text)
    with pytest.raises(FileNotFoundError, match="no file"):
        BaseDetector.load(tmp_path / "missing.pt")

    class Other(NeighbourGap):
        pass

    with pytest.raises(ValueError, match="holds a NeighbourGap, not a Other"):
        Other.load(path)


def test_random_state_is_checked():
    with pytest.raises(ValueError, match="random_state must be a non-negative int"):
        NeighbourGap(random_state=-1).fit(graph())
    with pytest.raises(TypeError, match="random_state must be None, a non-negative int"):
        NeighbourGap(random_state=1.5).fit(graph())
