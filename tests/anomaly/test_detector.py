"""Tests of AnomalyDetector: quality on injected outliers, determinism, inductive scoring, persistence, contract."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch_geometric.data import Data  # noqa: E402

from graphwgan.anomaly import NotFittedError, clone  # noqa: E402
from graphwgan.anomaly.detector import AnomalyDetector  # noqa: E402
from graphwgan.metrics import roc_auc  # noqa: E402
from graphwgan.outliers import inject_outliers  # noqa: E402

# small and quick; the full defaults are measured in benchmarks/results/anomaly_method.md
FAST = {"epochs": 50, "hidden": 32, "dims": 16}
TINY = {"epochs": 3, "hidden": 8, "dims": 4}


def _sbm(n=300, blocks=4, p_in=0.06, p_out=0.004, dim=16, seed=0, centre_seed=None):
    """A stochastic block model whose features are the block's centre (drawn with ``centre_seed``) plus noise."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % blocks
    prob = np.where(labels[:, None] == labels[None, :], p_in, p_out)
    u, v = np.nonzero(np.triu(rng.random((n, n)) < prob, 1))
    centres = rng.normal(size=(blocks, dim)) * 2
    if centre_seed is not None:
        centres = np.random.default_rng(centre_seed).normal(size=(blocks, dim)) * 2
    x = centres[labels] + rng.normal(size=(n, dim))
    edge_index = torch.tensor(np.array([np.r_[u, v], np.r_[v, u]]))
    return Data(x=torch.tensor(x, dtype=torch.float32), edge_index=edge_index, num_nodes=n)


@pytest.fixture(scope="module")
def injected():
    return inject_outliers(_sbm(seed=0, centre_seed=0), contextual=10, structural=(2, 10), seed=0)


@pytest.fixture(scope="module")
def fitted(injected):
    graph, _ = injected
    return AnomalyDetector(random_state=0, **FAST).fit(graph)


def test_quality_floor_on_injected_outliers(fitted, injected):
    _, labels = injected
    labels = labels.numpy()
    assert roc_auc(labels > 0, fitted.decision_scores_) >= 0.9
    components = fitted.component_scores(injected[0])
    assert roc_auc(labels > 0, components["critic"]) >= 0.8
    assert fitted.labels_.sum() == pytest.approx(0.1 * labels.size, abs=2)


def test_score_is_rarity_plus_the_weighted_critic(fitted, injected):
    components = fitted.component_scores(injected[0])
    assert set(components) == set(fitted.profile) | {"rarity", "critic"}
    assert 0.0 <= fitted.critic_weight_ <= 1.0
    assert fitted.critic_weight_ == pytest.approx(float(np.clip(2 * fitted.critic_separation_ - 1, 0, 1)))
    total = components["rarity"] + fitted.critic_weight_ * components["critic"]
    assert np.allclose(total, fitted.decision_scores_)
    assert np.allclose(fitted.decision_function(injected[0]), fitted.decision_scores_)


def _profile_rarity_oracle(graph, k):
    """Leave-one-out kNN rarity of rank-normalised profiles, from networkx and scipy (no library code)."""
    import networkx as nx
    from scipy.spatial.distance import cdist
    from scipy.stats import norm, rankdata

    n = graph.num_nodes
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from(graph.edge_index.t().tolist())
    x = graph.x.double().numpy()
    x = (x - x.mean(0)) / np.maximum(x.std(0), x.std(0).mean())
    u, s, _ = np.linalg.svd(x, full_matrices=False)
    white = u * np.sqrt(n)
    unit = white / np.linalg.norm(white, axis=1, keepdims=True)
    columns = [np.log1p([g.degree(v) for v in range(n)]), [nx.clustering(g, v) for v in range(n)],
               [1 - np.mean([unit[v] @ unit[w] for w in g[v]]) if g.degree(v) else 1.0 for v in range(n)],
               np.linalg.norm(white, axis=1)]
    # rounded: rows that are copies of each other (contextual outliers) must tie exactly
    points = np.stack([norm.ppf((rankdata(np.round(c, 9)) - 0.5) / n) for c in columns], axis=1)
    dist = cdist(points, points)
    np.fill_diagonal(dist, np.inf)
    return np.sort(dist, axis=1)[:, :k].mean(axis=1)


def test_profile_rarity_matches_an_independent_computation(injected):
    graph, _ = injected
    detector = AnomalyDetector(critic_weight=0, random_state=0).fit(graph)
    assert detector.critic_ is None and detector.critic_weight_ == 0.0
    rarity = detector._raw_terms(graph, detector.profile_points_)[:, 0]
    assert detector.n_neighbors_ == 18  # ceil(sqrt(300))
    assert np.allclose(rarity, _profile_rarity_oracle(graph, 18), rtol=0, atol=1e-8)


def test_profile_score_is_sign_free_and_invariant_to_feature_encoding(injected):
    graph, _ = injected
    base = AnomalyDetector(critic_weight=0, random_state=0).fit(graph).decision_scores_
    flipped = graph.clone()
    flipped.x[:, [0, 3, 7]] *= -1
    shifted = graph.clone()
    mix = torch.from_numpy(np.random.default_rng(2).normal(size=(16, 16))).float()
    shifted.x = shifted.x @ mix + 5.0  # any invertible linear re-encoding of the features
    for other in (flipped, shifted):
        assert np.allclose(AnomalyDetector(critic_weight=0, random_state=0).fit(other).decision_scores_, base,
                           atol=1e-5)
    order = torch.from_numpy(np.random.default_rng(0).permutation(graph.num_nodes))
    inverse = torch.argsort(order)
    relabelled = Data(x=graph.x[order], edge_index=inverse[graph.edge_index], num_nodes=graph.num_nodes)
    scores = AnomalyDetector(critic_weight=0, random_state=0).fit(relabelled).decision_scores_
    assert np.allclose(scores, base[order.numpy()], atol=1e-5)


def test_quiet_and_busy_anomalies_both_rank_high():
    # a community graph with typical degree ~12; five quiet nodes hang on one edge each and five
    # busy nodes link to 60 random nodes; features carry no signal
    rng = np.random.default_rng(1)
    graph = _sbm(n=400, blocks=4, p_in=0.1, p_out=0.002, dim=8, seed=1)
    quiet, busy = np.arange(0, 5), np.arange(5, 10)
    keep = ~np.isin(graph.edge_index[0].numpy(), np.r_[quiet, busy]) & ~np.isin(graph.edge_index[1].numpy(),
                                                                               np.r_[quiet, busy])
    edges = [graph.edge_index[:, torch.from_numpy(keep)].numpy()]
    for v in quiet:
        edges.append(np.array([[v], [rng.integers(10, 400)]]))
    for v in busy:
        edges.append(np.stack([np.full(60, v), rng.choice(np.arange(10, 400), 60, replace=False)]))
    edge_index = torch.from_numpy(np.concatenate(edges, axis=1))
    edge_index = torch.cat([edge_index, edge_index.flip(0)], dim=1)
    graph = Data(x=graph.x, edge_index=edge_index, num_nodes=400)
    scores = AnomalyDetector(random_state=0, **FAST).fit(graph).decision_scores_
    normal = scores[10:]
    for group in (quiet, busy):
        labels = np.r_[np.ones(5, dtype=int), np.zeros(normal.size, dtype=int)]
        assert roc_auc(labels, np.r_[scores[group], normal]) >= 0.95


def test_n_threads_is_used_inside_and_restored_after(injected, monkeypatch):
    import graphwgan.anomaly.functional as functional

    graph, _ = injected
    seen = []
    original = functional.critic_loss

    def spy(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return original(*args, **kwargs)

    monkeypatch.setattr(functional, "critic_loss", spy)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        AnomalyDetector(random_state=0, n_threads=1, **TINY).fit(graph)
        assert seen and set(seen) == {1}
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_files_of_the_earlier_score_refuse_to_load(fitted, tmp_path):
    path = tmp_path / "detector.pt"
    fitted.save(path)
    payload = torch.load(path, weights_only=True)
    del payload["state"]["score_version"]
    payload["params"].pop("profile")
    payload["params"]["components"] = ("critic", "neighbour", "degree")
    torch.save(payload, path)
    with pytest.raises(ValueError, match="refit"):
        AnomalyDetector.load(path)


def test_same_random_state_gives_identical_scores(injected):
    graph, _ = injected
    first = AnomalyDetector(random_state=3, **TINY).fit(graph).decision_scores_
    second = AnomalyDetector(random_state=3, **TINY).fit(graph).decision_scores_
    other = AnomalyDetector(random_state=4, **TINY).fit(graph).decision_scores_
    assert np.array_equal(first, second)
    assert not np.array_equal(first, other)


def test_inductive_scoring_of_another_graph(fitted):
    # another graph of the same model (same block centres, new edges, noise and outliers)
    graph, labels = inject_outliers(_sbm(n=240, seed=7, centre_seed=0), contextual=8, structural=(2, 10), seed=7)
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
    assert params["epochs"] == FAST["epochs"] and params["critic_weight"] == "auto" and params["n_threads"] == 1
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
    ({"profile": ("degree", "nope")}, ValueError, "nope"),
    ({"profile": "degree"}, TypeError, "profile"),
    ({"profile": ("degree", "degree")}, ValueError, "twice"),
    ({"critic_weight": "half"}, ValueError, "critic_weight"),
    ({"critic_weight": -0.5}, ValueError, "critic_weight"),
    ({"n_neighbors": 0}, ValueError, "n_neighbors"),
    ({"max_neighbours": 0}, ValueError, "max_neighbours"),
    ({"n_threads": 0}, ValueError, "n_threads"),
    ({"device": "not-a-device"}, ValueError, "device"),
])
def test_bad_parameters_are_rejected_at_fit(injected, params, error, match):
    detector = AnomalyDetector(**params)  # __init__ only stores
    with pytest.raises(error, match=match):
        detector.fit(injected[0])
