"""Mini-batch critic training: exact computation subgraphs, an unbiased objective, certified bounds."""

import resource
import sys

import networkx as nx
import numpy as np
import pytest
import torch

from graphwgan import to_graph, wasserstein
from graphwgan.estimate import LIPSCHITZ_METHODS, NodeDraws, estimate_wasserstein, subgraph_critic
from graphwgan.lipschitz import edge_lipschitz_constant
from graphwgan.nn import NodeCritic
from graphwgan.sampling import NeighborhoodSampler


def small_graph(n=200, seed=0):
    data = to_graph(nx.barabasi_albert_graph(n, 3, seed=seed))
    rng = np.random.default_rng(seed)
    weight = torch.as_tensor(rng.uniform(0.5, 2.0, data.edge_index.shape[1]), dtype=torch.float32)
    # symmetric lengths: the same length for (u, v) and (v, u)
    u, v = data.edge_index
    key = torch.minimum(u, v) * data.num_nodes + torch.maximum(u, v)
    _, inverse = torch.unique(key, return_inverse=True)
    data.edge_weight = weight[inverse]
    return data


def seeded_critic(in_channels, **kwargs):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return NodeCritic(in_channels, 16, 2, **kwargs).eval()


@pytest.mark.parametrize("backbone", ["sage", "gcn", "gin", "gat"])
def test_subgraph_outputs_equal_full_graph_outputs(backbone):
    data = small_graph()
    n = data.num_nodes
    x = torch.randn(n, 5, generator=torch.Generator().manual_seed(1))
    critic = seeded_critic(5, backbone=backbone)
    full = critic(x, data.edge_index, data.edge_weight)
    hops = 2 + (backbone == "gcn")
    sampler = NeighborhoodSampler(data.edge_index, n, num_hops=hops, edge_weight=data.edge_weight)
    seeds = torch.tensor([3, 150, 3, 77, 199])
    sub = sampler.sample(seeds)
    assert sub.node_ids.numel() < n
    assert torch.equal(sub.node_ids[sub.seed_index], seeds)
    f = critic(x[sub.node_ids], sub.edge_index, sub.edge_weight)[sub.seed_index]
    torch.testing.assert_close(f, full[seeds], atol=1e-5, rtol=1e-5)
    if backbone == "gcn":
        # GCN's normalisation reads the sender's degree: one hop fewer is not exact
        short = NeighborhoodSampler(data.edge_index, n, num_hops=2, edge_weight=data.edge_weight).sample(seeds)
        g = critic(x[short.node_ids], short.edge_index, short.edge_weight)[short.seed_index]
        assert (g - full[seeds]).abs().max() > 1e-4


def test_learned_embeddings_read_only_the_subgraph_rows():
    data = small_graph()
    n = data.num_nodes
    critic = seeded_critic(0, num_nodes=n, embedding_dim=8)
    full = critic(None, data.edge_index, data.edge_weight)
    sub = NeighborhoodSampler(data.edge_index, n, num_hops=2).sample(torch.tensor([0, 42]))
    f = subgraph_critic(critic)(None, sub.node_ids, sub.edge_index, None)[sub.seed_index]
    torch.testing.assert_close(f, full[torch.tensor([0, 42])], atol=1e-5, rtol=1e-5)


def test_fanout_caps_incoming_edges_and_sampler_leaves_no_state():
    data = small_graph()
    sampler = NeighborhoodSampler(data.edge_index, data.num_nodes, num_hops=2, fanout=3)
    sub = sampler.sample(torch.arange(5), generator=torch.Generator().manual_seed(0))
    counts = torch.bincount(sub.edge_index[1], minlength=sub.node_ids.numel())
    assert counts.max() <= 3 and counts[:5].min() >= 1
    assert (sampler._local == -1).all()
    exact = NeighborhoodSampler(data.edge_index, data.num_nodes, num_hops=2).sample(torch.arange(5))
    assert exact.edge_index.shape[1] > sub.edge_index.shape[1]


def test_sampler_rejects_bad_input():
    edge_index = torch.tensor([[0, 1], [1, 0]])
    with pytest.raises(ValueError, match="num_hops must be"):
        NeighborhoodSampler(edge_index, 2, num_hops=-1)
    with pytest.raises(ValueError, match="fanout must be"):
        NeighborhoodSampler(edge_index, 2, num_hops=1, fanout=0)
    with pytest.raises(ValueError, match="outside 0..1"):
        NeighborhoodSampler(edge_index, 2, num_hops=1).sample(torch.tensor([2]))


def test_importance_sampled_objective_is_unbiased():
    rng = np.random.default_rng(0)
    n = 500
    mu, nu = rng.random(n), rng.random(n)
    mu, nu = mu / mu.sum(), nu / nu.sum()
    f = torch.as_tensor(rng.normal(size=n), dtype=torch.float32)
    draws = NodeDraws(mu - nu)
    generator = torch.Generator().manual_seed(0)
    estimates = []
    for _ in range(400):
        nodes = draws(64, generator)
        estimates.append(float(draws.total * (draws.sign[nodes] * f[nodes]).mean()))
    exact = float(f.double() @ torch.as_tensor(mu - nu))
    error = np.std(estimates) / np.sqrt(len(estimates))
    print(f"exact {exact:.5f}, mean of estimates {np.mean(estimates):.5f} +- {error:.5f}")
    assert abs(np.mean(estimates) - exact) < 4 * error
    assert np.std(estimates) > 0


def test_minibatch_bound_is_certified_for_every_method():
    graph = nx.connected_watts_strogatz_graph(120, 4, 0.1, seed=2)
    rng = np.random.default_rng(2)
    mu, nu = rng.random(120), rng.random(120)
    mu, nu = mu / mu.sum(), nu / nu.sum()
    exact = wasserstein(graph, mu, nu).distance
    data = to_graph(graph)
    for method in LIPSCHITZ_METHODS:
        result = estimate_wasserstein(graph, mu, nu, lipschitz=method, batch_size=32, max_steps=25, seed=0)
        assert result.lower_bound <= exact * (1 + 1e-9), method
        assert edge_lipschitz_constant(result.potential, data.edge_index, data.edge_weight) <= 1 + 1e-9
        assert len(result.history["batch_nodes"]) == 25
        assert max(result.history["batch_nodes"]) <= 120


def test_minibatch_point_masses_certified_within_two_percent():
    graph = nx.connected_watts_strogatz_graph(80, 4, 0.1, seed=1)
    lengths = nx.single_source_shortest_path_length(graph, 0)
    far = max(lengths, key=lengths.get)
    result = estimate_wasserstein(graph, np.eye(80)[0], np.eye(80)[far], batch_size=16, max_steps=300, seed=0)
    assert 0.98 * lengths[far] <= result.lower_bound <= lengths[far] * (1 + 1e-9)


def test_minibatch_same_seed_same_result_and_global_state_untouched():
    graph = nx.karate_club_graph()
    mu, nu = np.eye(34)[0], np.eye(34)[33]
    state = torch.get_rng_state()
    first = estimate_wasserstein(graph, mu, nu, batch_size=8, lipschitz="penalty", max_steps=20, seed=0)
    assert torch.equal(state, torch.get_rng_state())
    second = estimate_wasserstein(graph, mu, nu, batch_size=8, lipschitz="penalty", max_steps=20, seed=0)
    other = estimate_wasserstein(graph, mu, nu, batch_size=8, lipschitz="penalty", max_steps=20, seed=1)
    assert first.history["objective"] == second.history["objective"]
    np.testing.assert_array_equal(first.potential, second.potential)
    assert first.history["objective"] != other.history["objective"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"batch_size": 0}, "batch_size must be a positive integer"),
        ({"batch_size": 2.5}, "batch_size must be a positive integer"),
        ({"fanout": 3}, "need mini-batches: set batch_size"),
        ({"num_hops": 2}, "need mini-batches: set batch_size"),
        ({"batch_size": 4, "refresh_every": 0}, "refresh_every must be a positive integer"),
        ({"batch_size": 4, "penalty_edges": -1}, "penalty_edges must be a positive integer"),
    ],
)
def test_minibatch_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        estimate_wasserstein(nx.path_graph(5), np.eye(5)[0], np.eye(5)[4], max_steps=3, **kwargs)


def test_cora_ml_minibatch_matches_full_batch_and_exact():
    pytest.importorskip("graphwgan.datasets")
    from graphwgan.datasets import load

    try:
        data = load("cora_ml", largest_component=True)
    except FileNotFoundError as error:
        pytest.skip(f"Cora-ML data missing: {error}")
    n = data.num_nodes
    rng = np.random.default_rng(0)
    mu, nu = np.zeros(n), np.zeros(n)
    mu[rng.choice(n, 50, replace=False)] = rng.random(50)
    nu[rng.choice(n, 50, replace=False)] = rng.random(50)
    mu, nu = mu / mu.sum(), nu / nu.sum()
    exact = wasserstein(data, mu, nu).distance
    options = {"max_steps": 150, "eval_every": 50, "seed": 0, "verbose": False}
    full = estimate_wasserstein(data, mu, nu, **options).lower_bound
    mini = estimate_wasserstein(data, mu, nu, batch_size=512, **options)
    print(f"exact {exact:.4f}; full batch {full / exact:.4f}, mini-batch {mini.lower_bound / exact:.4f}; "
          f"mean subgraph {np.mean(mini.history['batch_nodes']):.0f} of {n} nodes")
    assert full <= exact * (1 + 1e-9) and mini.lower_bound <= exact * (1 + 1e-9)
    assert full >= 0.95 * exact and mini.lower_bound >= 0.95 * exact
    assert abs(mini.lower_bound / full - 1) <= 0.05
    assert np.mean(mini.history["batch_nodes"]) < n


@pytest.mark.slow
def test_minibatch_critic_on_a_large_graph_stays_linear():
    n = 100_000
    rng = np.random.default_rng(0)
    parent = (rng.random(n - 1) * np.arange(1, n)).astype(np.int64)
    rows = np.concatenate([np.arange(1, n), rng.integers(0, n, 2 * n)])
    cols = np.concatenate([parent, rng.integers(0, n, 2 * n)])
    data = to_graph(torch.as_tensor(np.stack([rows, cols])), num_nodes=n)
    mu, nu = np.zeros(n), np.zeros(n)
    mu[rng.choice(n, 50, replace=False)] = 1 / 50
    nu[rng.choice(n, 50, replace=False)] = 1 / 50
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = estimate_wasserstein(data, mu, nu, batch_size=128, penalty_edges=64, lipschitz="penalty",
                                  features="embedding", embedding_dim=16, hidden_channels=32, max_steps=30,
                                  eval_every=30, seed=0, verbose=False)
    # ru_maxrss is in KiB on Linux, in bytes on macOS
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / (1024 if sys.platform == "darwin" else 1)
    exact = wasserstein(data, mu, nu).distance
    print(f"subgraph nodes per step {np.mean(result.history['batch_nodes']):.0f} of {n}; bound "
          f"{result.lower_bound:.3f} of exact {exact:.3f}; peak RSS grew {grown / 2**10:.0f} MiB")
    assert 0 < result.lower_bound <= exact * (1 + 1e-9)
    assert max(result.history["batch_nodes"]) < n // 5
    # a dense |V| x |V| float matrix would need 37 GiB; the whole run stays far below 2 GiB
    assert grown < 2 * 2**20


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_minibatch_on_cuda():
    graph = nx.grid_2d_graph(5, 5)
    result = estimate_wasserstein(graph, np.eye(25)[0], np.eye(25)[24], batch_size=8, max_steps=200, seed=0,
                                  device="cuda")
    assert 0.98 * 8 <= result.lower_bound <= 8 * (1 + 1e-9)
