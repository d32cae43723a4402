"""Tests of the functional core of the anomaly detector: components and losses checked by hand."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from graphwgan.anomaly.functional import (  # noqa: E402
    ComponentScaler,
    clustering_coefficient,
    critic_features,
    critic_loss,
    degree,
    generator_loss,
    knn_rarity,
    local_affinity,
    log_triangles,
    neighbour_cap,
    neighbour_mean,
    neighbour_residual,
    normal_scores,
    separation_auc,
)


def _both(pairs):
    u, v = zip(*pairs, strict=True)
    return torch.tensor([list(u) + list(v), list(v) + list(u)])


# K4 on nodes 0..3, a pendant 4 hanging on 0, and an isolated node 5
K4_PENDANT = _both([(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3), (0, 4)])


def test_degree_counts_neighbours_and_isolated_nodes():
    assert degree(K4_PENDANT, 6).tolist() == [4.0, 3.0, 3.0, 3.0, 1.0, 0.0]


def test_neighbour_mean_and_residual_on_a_path():
    edge_index = _both([(0, 1), (1, 2)])
    x = torch.tensor([[0.0, 0.0], [2.0, 0.0], [4.0, 2.0], [7.0, 7.0]])
    mean = neighbour_mean(x, edge_index)
    expected = torch.tensor([[2.0, 0.0], [2.0, 1.0], [2.0, 0.0], [0.0, 0.0]])  # node 3 is isolated: zero
    assert torch.allclose(mean, expected)
    residual = neighbour_residual(x, edge_index)
    assert torch.allclose(residual, (x - expected).norm(dim=1))
    assert residual[1].item() == pytest.approx(1.0)


@pytest.mark.parametrize("block", [1, 2, 2048])
def test_log_triangles_counts_each_triangle_once_per_node(block):
    out = log_triangles(K4_PENDANT, 6, block=block)
    assert np.allclose(np.expm1(out), [3, 3, 3, 3, 0, 0])


def test_log_triangles_without_edges_is_zero():
    assert np.array_equal(log_triangles(torch.zeros(2, 0, dtype=torch.long), 3), np.zeros(3))


def test_critic_features_output_matches_the_critic():
    from graphwgan.nn import NodeCritic

    torch.manual_seed(0)
    critic = NodeCritic(3, 8, 2, backbone="sage")
    x = torch.randn(6, 3)
    h, f = critic_features(critic, x, K4_PENDANT)
    assert h.shape == (6, 8)
    assert torch.allclose(f, critic(x, K4_PENDANT), atol=1e-6)


def test_critic_loss_is_the_negative_dual_plus_penalties_computed_by_hand():
    edge_index = _both([(0, 1)])
    real = torch.tensor([0.0, 3.0])
    fake = torch.tensor([1.0, 1.0])
    dual = fake.mean() - real.mean()  # -0.5
    plain = critic_loss(real, fake, edge_index, lipschitz_weight=0.0, drift=0.0)
    assert plain.item() == pytest.approx(dual.item())
    # slope 3 across the edge with bound 1: relu(3 - 1)^2 = 4 on both directions
    penalised = critic_loss(real, fake, edge_index, lipschitz_weight=2.0, lipschitz_bound=1.0, drift=0.0)
    assert penalised.item() == pytest.approx(dual.item() + 2.0 * 4.0)
    # a bound of 3 makes the same potential admissible
    assert critic_loss(real, fake, edge_index, lipschitz_weight=2.0, lipschitz_bound=3.0,
                       drift=0.0).item() == pytest.approx(dual.item())
    drifted = critic_loss(real, fake, edge_index, lipschitz_weight=0.0, drift=0.1)
    assert drifted.item() == pytest.approx(dual.item() + 0.1 * 4.5)
    with_gp = critic_loss(real, fake, edge_index, lipschitz_weight=0.0, drift=0.0,
                          gradient_penalty=torch.tensor(0.5), gp_weight=10.0)
    assert with_gp.item() == pytest.approx(dual.item() + 5.0)


def test_generator_loss_by_hand():
    fake_scores = torch.tensor([1.0, 3.0])
    reconstruction = torch.tensor([[1.0, 1.0], [0.0, 0.0]])
    target = torch.zeros(2, 2)
    loss = generator_loss(fake_scores, reconstruction, target, adversarial_weight=0.5)
    assert loss.item() == pytest.approx(-0.5 * 2.0 + 0.5)


def test_component_scaler_uses_median_and_mad_and_survives_constant_columns():
    values = np.array([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0], [4.0, 5.0], [5.0, 5.0]])
    scaler = ComponentScaler.fit(values)
    assert np.allclose(scaler.center, [3.0, 5.0])
    assert scaler.scale[0] == pytest.approx(1.4826)  # MAD = 1
    assert scaler.scale[1] == 1.0  # constant column: no division by zero
    z = scaler.transform(values)
    assert np.all(np.isfinite(z))
    assert np.allclose(z[:, 1], 0.0)
    assert z[4, 0] == pytest.approx(2.0 / 1.4826)


def test_component_scaler_floors_the_mad_at_a_tenth_of_the_standard_deviation():
    # MAD is 0 (most values equal) but the column is not constant: the floor 0.1 * std applies
    values = np.array([0.0] * 8 + [10.0, 20.0])[:, None]
    scaler = ComponentScaler.fit(values)
    assert scaler.scale[0] == pytest.approx(0.1 * values.std())
    assert np.all(np.isfinite(scaler.transform(values)))


def _random_graph(n=40, p=0.15, seed=0):
    rng = np.random.default_rng(seed)
    u, v = np.nonzero(np.triu(rng.random((n, n)) < p, 1))
    return torch.tensor(np.array([np.r_[u, v], np.r_[v, u]])), rng


def test_clustering_coefficient_matches_networkx():
    import networkx as nx

    edge_index, _ = _random_graph()
    graph = nx.Graph()
    graph.add_nodes_from(range(40))
    graph.add_edges_from(edge_index.t().tolist())
    expected = [nx.clustering(graph, v) for v in range(40)]
    assert np.allclose(clustering_coefficient(edge_index, 40), expected)
    assert np.allclose(clustering_coefficient(K4_PENDANT, 6), [0.5, 1, 1, 1, 0, 0])


def test_local_affinity_by_hand():
    edge_index = _both([(0, 1), (0, 2)])
    x = torch.tensor([[1.0, 0.0], [0.0, 2.0], [3.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
    # node 0: cos 0 with node 1 and 1 with node 2; nodes 1, 2: one neighbour each; node 3 isolated
    expected = torch.tensor([1 - 0.5, 1 - 0.0, 1 - 1.0, 1.0], dtype=torch.float64)
    for chunk in (1, 2, 1 << 22):
        assert torch.allclose(local_affinity(x, edge_index, chunk=chunk), expected)


def test_normal_scores_are_the_rank_based_inverse_normal_transform():
    from scipy.stats import norm, rankdata

    rng = np.random.default_rng(0)
    values = np.c_[rng.normal(size=50), rng.integers(0, 4, size=50)]  # the second column has ties
    reference = np.sort(values, axis=0)
    out = normal_scores(values, reference)
    expected = np.stack([norm.ppf((rankdata(c) - 0.5) / 50) for c in values.T], axis=1)
    assert np.allclose(out, expected)
    assert np.allclose(normal_scores(np.exp(values), np.sort(np.exp(values), axis=0)), out)  # order only
    beyond = normal_scores(np.array([[1e9, -1e9]]), reference)
    assert np.allclose(beyond, [[norm.ppf(1 - 0.5 / 50), norm.ppf(0.5 / 50)]])


def test_knn_rarity_matches_brute_force():
    from scipy.spatial.distance import cdist

    rng = np.random.default_rng(1)
    reference = rng.normal(size=(60, 3))
    dist = cdist(reference, reference)
    np.fill_diagonal(dist, np.inf)
    assert np.allclose(knn_rarity(reference, reference, 5), np.sort(dist, axis=1)[:, :5].mean(axis=1))
    points = rng.normal(size=(7, 3))
    expected = np.sort(cdist(points, reference), axis=1)[:, :5].mean(axis=1)
    assert np.allclose(knn_rarity(points, reference, 5), expected)


def test_separation_auc_counts_ordered_pairs():
    rng = np.random.default_rng(2)
    high, low = rng.integers(0, 5, size=30), rng.integers(0, 5, size=20)
    pairs = (high[:, None] > low[None, :]).mean() + 0.5 * (high[:, None] == low[None, :]).mean()
    assert separation_auc(high, low) == pytest.approx(pairs)


def test_neighbour_cap_keeps_at_most_m_incoming_edges_of_the_graph():
    edge_index, _ = _random_graph(n=60, p=0.4)
    capped = neighbour_cap(edge_index, 5)
    before = degree(edge_index, 60)
    after = degree(capped, 60)
    assert torch.equal(after, torch.clamp(before, max=5))
    original = set(map(tuple, edge_index.t().tolist()))
    assert set(map(tuple, capped.t().tolist())) <= original
    order = torch.randperm(edge_index.shape[1], generator=torch.Generator().manual_seed(0))
    assert set(map(tuple, neighbour_cap(edge_index[:, order], 5).t().tolist())) == set(map(tuple, capped.t().tolist()))
