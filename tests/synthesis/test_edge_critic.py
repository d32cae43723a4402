"""The edge critic of GraphSynthesizer: its W1 estimate against the exact ruler, its certificate, the game."""

import warnings

import networkx as nx
import numpy as np
import pytest
import torch

from graphwgan.ot import wasserstein
from graphwgan.synthesis import GraphSynthesizer
from graphwgan.synthesis.edge_critic import EdgeCritic, edge_lipschitz_constant

# two squares' worth of cycles joined at a node: 7 nodes, 8 edges, 49 edge pairs on the product graph
SMALL = nx.Graph([(0, 1), (1, 2), (2, 3), (3, 0), (3, 4), (4, 5), (5, 6), (6, 4)])


def _fit(graph, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # eo_target=1.0 is never reached on purpose
        return GraphSynthesizer(**params).fit(graph)


def _edge_laws(model, graph):
    """The real edge law A / 2m and the generated one diag(k / 2m) P, as (n, n) float64 arrays."""
    n = graph.number_of_nodes()
    adjacency = nx.to_numpy_array(graph, nodelist=range(n))
    law = adjacency.sum(1) / adjacency.sum()
    logits = model.source_factors_.double() @ model.target_factors_.double().T
    return adjacency / adjacency.sum(), law[:, None] * torch.softmax(logits, dim=1).numpy()


def _product_graph(graph):
    n = graph.number_of_nodes()
    product = nx.cartesian_product(graph, graph)
    return nx.relabel_nodes(product, {node: node[0] * n + node[1] for node in product.nodes})


@pytest.mark.slow
def test_critic_estimate_is_below_the_exact_product_graph_w1_and_close_to_it():
    # the generator barely moves (lr 1e-6): the critic (d = n, any symmetric F) converges on a fixed Q
    n = SMALL.number_of_nodes()
    model = _fit(SMALL, rank=2, lr=1e-6, critic_dim=n, critic_lr=0.05, n_critic=5, max_epochs=100,
                 eo_target=1.0, eval_every=10, num_negatives=None, random_state=0)
    real, generated = _edge_laws(model, SMALL)
    exact = wasserstein(_product_graph(SMALL), real.ravel(), generated.ravel()).distance
    # an independent oracle for the ruler on the product graph: POT on the dense sum metric
    ot = pytest.importorskip("ot")
    hops = nx.floyd_warshall_numpy(SMALL, nodelist=range(n))
    cost = (hops[:, None, :, None] + hops[None, :, None, :]).reshape(n * n, n * n)
    np.testing.assert_allclose(exact, ot.emd2(real.ravel(), generated.ravel(), cost), rtol=1e-9)
    estimates = np.asarray(model.history_.w1)
    assert estimates.shape == (10,)
    assert np.all(estimates <= exact + 1e-9)  # certified: a lower bound at every evaluation
    assert estimates[-1] >= 0.75 * exact, (estimates[-1], exact)


def test_edge_lipschitz_constant_matches_the_product_graph_by_brute_force():
    graph = nx.petersen_graph()
    n = graph.number_of_nodes()
    critic = EdgeCritic(n, 4, torch.Generator().manual_seed(0))
    with torch.no_grad():
        critic.a.normal_(generator=torch.Generator().manual_seed(1))
        matrix = critic.rows(torch.arange(n)).numpy()
    np.testing.assert_allclose(matrix, matrix.T, rtol=1e-6, atol=1e-6)
    product = nx.cartesian_product(graph, graph)
    brute = max(abs(matrix[p] - matrix[q]) for p, q in product.edges)
    edges = torch.tensor(list(graph.edges)).T
    assert edge_lipschitz_constant(critic, edges) == pytest.approx(brute, rel=1e-5)
    # over a subset of columns: the maximum over those columns only
    columns = torch.tensor([0, 3])
    part = max(abs(matrix[u, v] - matrix[w, v]) for u, w in graph.edges for v in (0, 3))
    assert edge_lipschitz_constant(critic, edges, columns) == pytest.approx(part, rel=1e-5)


@pytest.fixture(scope="module")
def clustered():
    return nx.powerlaw_cluster_graph(200, 3, 0.5, seed=0)


@pytest.fixture(scope="module")
def fitted(clustered):
    return GraphSynthesizer(eo_target=0.5, random_state=0).fit(clustered)


def test_history_has_a_finite_w1_column_per_evaluation(fitted):
    history = fitted.history_
    assert len(history.w1) == len(history.eval_epochs) >= 2
    assert np.all(np.isfinite(history.w1)) and np.all(np.asarray(history.w1) > 0)
    assert len(history.loss) == fitted.n_epochs_ and np.all(np.isfinite(history.loss))
    # the generator closes the gap: the last estimate is below the highest one
    assert history.w1[-1] < max(history.w1)


def test_same_seed_same_model_and_save_load_keeps_scores_and_curve(fitted, clustered, tmp_path):
    again = GraphSynthesizer(eo_target=0.5, random_state=0).fit(clustered)
    torch.testing.assert_close(again.source_factors_, fitted.source_factors_, rtol=0, atol=0)
    assert again.history_.w1 == fitted.history_.w1
    path = tmp_path / "model.pt"
    fitted.save(path)
    loaded = GraphSynthesizer.load(path)
    pairs = np.array([[0, 1, 5, 7], [2, 3, 9, 100]])
    np.testing.assert_array_equal(loaded.score_pairs(pairs), fitted.score_pairs(pairs))
    assert loaded.history_.w1 == fitted.history_.w1
    assert loaded.critic_weight == fitted.critic_weight


def test_critic_free_model_logs_no_w1(clustered):
    model = GraphSynthesizer(eo_target=0.5, critic_weight=None, random_state=0).fit(clustered)
    assert model.history_.w1 == []


def test_early_stopping_on_w1_stops_when_the_estimate_stalls(clustered):
    model = GraphSynthesizer(early_stopping="w1", patience=2, eval_every=5, max_epochs=400,
                             random_state=0).fit(clustered)
    assert model.converged_ and model.n_epochs_ < 400
    values = model.history_.w1
    # the last `patience` evaluations brought neither a new peak nor a new low
    best_before = min(values[values.index(max(values)):-2])
    assert min(values[-2:]) >= best_before * (1 - 1e-3)
    assert model.n_epochs_ == model.history_.eval_epochs[-1]


@pytest.mark.parametrize(("params", "match"), [
    ({"early_stopping": "loss"}, "early_stopping"),
    ({"early_stopping": "w1", "critic_weight": None}, "needs a critic"),
    ({"critic_weight": -1.0}, "critic_weight"),
    ({"n_critic": 0}, "n_critic"),
    ({"critic_dim": 0}, "critic_dim"),
    ({"patience": 0}, "patience"),
])
def test_bad_critic_parameters_are_named(clustered, params, match):
    with pytest.raises(ValueError, match=match):
        GraphSynthesizer(**params).fit(clustered)


def _community_shares(graph, labels, blocks):
    edges = np.array(list(graph.edges()))
    same = labels[edges[:, 0]] == labels[edges[:, 1]]
    return np.array([np.mean(same & (labels[edges[:, 0]] == c)) for c in range(blocks)])


@pytest.mark.parametrize("seed", [0, 1])
def test_every_community_keeps_its_edge_share_within_20_percent(seed):
    sizes = (60, 25, 10)
    graph = nx.random_partition_graph(list(sizes), 0.3, 0.01, seed=1)
    labels = np.repeat(np.arange(len(sizes)), sizes)
    real = _community_shares(graph, labels, len(sizes))
    model = GraphSynthesizer(eo_target=0.7, random_state=seed).fit(graph)
    generated = np.mean([_community_shares(model.to_networkx(seed=k), labels, len(sizes)) for k in range(5)], axis=0)
    assert generated[-1] > 0  # the smallest community is not dropped
    np.testing.assert_array_less(np.abs(generated - real) / real, 0.2)


def test_sampled_walk_and_sampled_rows_still_log_a_finite_w1(clustered, monkeypatch):
    # past _ALL_ROWS_MAX nodes the critic's expectations come from rows drawn from the degree law
    from graphwgan.synthesis import edge_critic

    monkeypatch.setattr(edge_critic, "_ALL_ROWS_MAX", 50)
    monkeypatch.setattr(edge_critic, "_SAMPLED_ROWS", 64)
    model = GraphSynthesizer(eo_target=0.5, num_negatives=64, random_state=0).fit(clustered)
    assert len(model.history_.w1) == len(model.history_.eval_epochs)
    assert np.all(np.isfinite(model.history_.w1))
    assert model.converged_


def test_a_graph_with_an_isolated_node_trains_with_a_finite_w1():
    graph = nx.powerlaw_cluster_graph(60, 2, 0.5, seed=0)
    graph.add_node(60)
    model = GraphSynthesizer(eo_target=0.5, random_state=0).fit(graph)
    assert model.num_nodes_ == 61
    assert np.all(np.isfinite(model.history_.w1)) and len(model.history_.w1) >= 1
