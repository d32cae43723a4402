"""Tests of AnomalyDetector: quality on injected outliers, determinism, inductive scoring, persistence, contract."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch_geometric.data import Data  # noqa: E402

from graphwgan.anomaly import NotFittedError, clone  # noqa: E402
from graphwgan.anomaly.detector import COMPONENTS, AnomalyDetector  # noqa: E402
from graphwgan.metrics import roc_auc  # noqa: E402
from graphwgan.outliers import inject_outliers  # noqa: E402

# small and quick; the full defaults are measured in benchmarks/results/anomaly_method.md
FAST = {"epochs": 50, "hidden": 32, "dims": 16}
TINY = {"epochs": 3, "hidden": 8, "dims": 4}


def _sbm(n=300, blocks=4, p_in=0.06, p_out=0.004, dim=16, seed=0):
    """A stochastic block model whose features are the block's centre plus noise."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % blocks
    prob = np.where(labels[:, None] == labels[None, :], p_in, p_out)
    u, v = np.nonzero(np.triu(rng.random((n, n)) < prob, 1))
    centres = rng.normal(size=(blocks, dim)) * 2
    x = centres[labels] + rng.normal(size=(n, dim))
    edge_index = torch.tensor(np.array([np.r_[u, v], np.r_[v, u]]))
    return Data(x=torch.tensor(x, dtype=torch.float32), edge_index=edge_index, num_nodes=n)


@pytest.fixture(scope="module")
def injected():
    return inject_outliers(_sbm(seed=0), contextual=10, structural=(2, 10), seed=0)


@pytest.fixture(scope="module")
def fitted(injected):
    graph, _ = injected
    return AnomalyDetector(random_state=0, **FAST).fit(graph)


def test_quality_floor_on_injected_outliers(fitted, injected):
    # measured 0.98-0.99 (three graph seeds); the critic alone 0.95
    _, labels = injected
    labels = labels.numpy()
    assert roc_auc(labels > 0, fitted.decision_scores_) >= 0.93
    components = fitted.component_scores(injected[0])
    assert roc_auc(labels > 0, components["critic"]) >= 0.8
    assert fitted.labels_.sum() == pytest.approx(0.1 * labels.size, abs=2)


def test_score_is_the_sum_of_the_kept_components(fitted, injected):
    components = fitted.component_scores(injected[0])
    assert set(components) == set(COMPONENTS)
    total = sum(components[name] for name in fitted.components)
    assert np.allclose(total, fitted.decision_scores_)
    assert np.allclose(fitted.decision_function(injected[0]), fitted.decision_scores_)


def test_same_random_state_gives_identical_scores(injected):
    graph, _ = injected
    first = AnomalyDetector(random_state=3, **TINY).fit(graph).decision_scores_
    second = AnomalyDetector(random_state=3, **TINY).fit(graph).decision_scores_
    other = AnomalyDetector(random_state=4, **TINY).fit(graph).decision_scores_
    assert np.array_equal(first, second)
    assert not np.array_equal(first, other)


def test_inductive_scoring_of_another_graph(fitted):
    graph, labels = inject_outliers(_sbm(n=240, seed=7), contextual=8, structural=(2, 10), seed=7)
    scores = fitted.decision_function(graph)
    assert scores.shape == (240,)
    assert np.all(np.isfinite(scores))
    assert roc_auc(labels.numpy() > 0, scores) >= 0.8
    assert fitted.predict(graph).shape == (240,)


def test_save_load_round_trip_gives_identical_scores(fitted, injected, tmp_path):
    path = tmp_path / "detector.pt"
    fitted.save(path)
    loaded = AnomalyDetector.load(path)
    assert isinstance(loaded, AnomalyDetector)
    assert loaded.get_params() == fitted.get_params()
    assert np.array_equal(loaded.decision_function(injected[0]), fitted.decision_function(injected[0]))
    assert loaded.threshold_ == fitted.threshold_


def test_clone_get_params_set_params(fitted):
    params = fitted.get_params()
    assert params["epochs"] == FAST["epochs"] and params["components"] == ("critic", "neighbour", "degree")
    copy = clone(fitted)
    assert copy.get_params() == params
    assert not hasattr(copy, "decision_scores_")
    assert copy.set_params(epochs=7, lipschitz_weight=2.0) is copy
    assert copy.epochs == 7 and copy.lipschitz_weight == 2.0
    assert fitted.epochs == FAST["epochs"]
    with pytest.raises(ValueError, match="unknown parameter"):
        copy.set_params(not_a_parameter=1)


def test_the_callers_graph_is_not_modified(injected):
    graph, _ = injected
    x, edge_index = graph.x.clone(), graph.edge_index.clone()
    keys = set(graph.keys())
    detector = AnomalyDetector(random_state=0, **TINY).fit(graph)
    detector.decision_function(graph)
    assert torch.equal(graph.x, x) and torch.equal(graph.edge_index, edge_index)
    assert set(graph.keys()) == keys


def test_lipschitz_weight_bounds_the_critic_across_edges(injected):
    from graphwgan.lipschitz import edge_lipschitz_constant

    graph, _ = injected
    constants = {}
    for weight in (0.0, 10.0):
        detector = AnomalyDetector(random_state=0, lipschitz_weight=weight, lipschitz_bound=0.1, epochs=15,
                                   hidden=16, dims=8).fit(graph)
        _, x, edge_index, _ = detector._inputs(Data(x=graph.x, edge_index=graph.edge_index, num_nodes=300))
        with torch.no_grad():
            constants[weight] = edge_lipschitz_constant(detector.critic_(x, edge_index), edge_index)
    assert constants[10.0] < constants[0.0]


def test_graph_without_features_uses_structural_encodings(injected):
    graph, _ = injected
    bare = Data(edge_index=graph.edge_index, num_nodes=graph.num_nodes)
    detector = AnomalyDetector(random_state=0, **TINY).fit(bare)
    assert detector.feature_source_ == "structural"
    assert np.all(np.isfinite(detector.decision_scores_))
    with pytest.raises(ValueError, match="no node features|node features x"):
        detector.decision_function(graph)


def test_bad_input_raises_clear_errors(fitted, injected):
    graph, _ = injected
    with pytest.raises(NotFittedError, match="not fitted"):
        AnomalyDetector().predict(graph)
    nan = graph.clone()
    nan.x[3, 2] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        AnomalyDetector(**TINY).fit(nan)
    with pytest.raises(ValueError, match="contamination"):
        AnomalyDetector(contamination=0.7, **TINY).fit(graph)
    wider = Data(x=torch.randn(graph.num_nodes, 5), edge_index=graph.edge_index, num_nodes=graph.num_nodes)
    with pytest.raises(ValueError, match="features per node"):
        fitted.decision_function(wider)


@pytest.mark.parametrize(("params", "error", "match"), [
    ({"epochs": 0}, ValueError, "epochs"),
    ({"hidden": 2.5}, TypeError, "hidden"),
    ({"lr": 0.0}, ValueError, "lr"),
    ({"lipschitz_weight": -1.0}, ValueError, "lipschitz_weight"),
    ({"lipschitz_bound": True}, TypeError, "lipschitz_bound"),
    ({"shuffle": 1.5}, ValueError, "shuffle"),
    ({"components": ("critic", "nope")}, ValueError, "nope"),
    ({"components": "critic"}, TypeError, "components"),
    ({"components": ("critic", "critic")}, ValueError, "twice"),
    ({"device": "not-a-device"}, ValueError, "device"),
])
def test_bad_parameters_are_rejected_at_fit(injected, params, error, match):
    detector = AnomalyDetector(**params)  # __init__ only stores
    with pytest.raises(error, match=match):
        detector.fit(injected[0])
