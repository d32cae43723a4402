"""Critic-based W1 estimates, and the claims that make a WGAN critic on a graph worth having."""

import networkx as nx
import numpy as np
import pytest
import torch

from graphwgan import to_graph, wasserstein
from graphwgan.estimate import LIPSCHITZ_METHODS, estimate_wasserstein
from graphwgan.lipschitz import certify, edge_lipschitz_constant
from graphwgan.nn import NodeCritic


def two_islands(size=4, bridge=6):
    """Two grids joined by a path of ``bridge`` edges; returns the graph, islands and path."""
    left = nx.convert_node_labels_to_integers(nx.grid_2d_graph(size, size))
    right = nx.convert_node_labels_to_integers(nx.grid_2d_graph(size, size), first_label=size * size)
    graph = nx.union(left, right)
    path = [size * size - 1] + [2 * size * size + i for i in range(bridge - 1)] + [size * size]
    nx.add_path(graph, path)
    island_a = np.arange(size * size)
    island_b = np.arange(size * size, 2 * size * size)
    return graph, island_a, island_b, path


def uniform_on(nodes, n):
    mass = np.zeros(n)
    mass[nodes] = 1.0 / len(nodes)
    return mass


def test_two_point_masses_certified_within_two_percent():
    rng = np.random.default_rng(0)
    graph = nx.connected_watts_strogatz_graph(80, 4, 0.1, seed=1)
    for u, v in graph.edges:
        graph[u][v]["weight"] = float(rng.uniform(0.5, 2.0))
    lengths = nx.single_source_dijkstra_path_length(graph, 0, weight="weight")
    far = max(lengths, key=lengths.get)
    d = lengths[far]
    mu, nu = np.eye(80)[0], np.eye(80)[far]
    result = estimate_wasserstein(graph, mu, nu, max_steps=300, seed=0)
    assert result.lower_bound <= d * (1 + 1e-9)
    assert result.lower_bound >= 0.98 * d
    assert result.certification in {"rescale", "lower", "upper"}


def test_lower_bound_never_exceeds_exact_for_every_method():
    graph = nx.barabasi_albert_graph(60, 2, seed=3)
    rng = np.random.default_rng(3)
    mu, nu = rng.random(60), rng.random(60)
    mu, nu = mu / mu.sum(), nu / nu.sum()
    exact = wasserstein(graph, mu, nu).distance
    for method in LIPSCHITZ_METHODS:
        result = estimate_wasserstein(graph, mu, nu, lipschitz=method, max_steps=150, seed=0)
        assert result.lower_bound <= exact * (1 + 1e-9), method
        assert result.lower_bound > 0, method
        f = result.potential
        assert edge_lipschitz_constant(f, *_edges(graph)) <= 1 + 1e-9
        assert f @ (mu - nu) == pytest.approx(result.lower_bound, rel=1e-9)
    assert estimate_wasserstein(graph, mu, nu, max_steps=300, seed=0).lower_bound >= 0.98 * exact


def _edges(graph):
    data = to_graph(graph)
    return data.edge_index.numpy(), data.edge_weight.numpy()


def test_islands_wgan_gradient_survives_where_js_vanishes():
    graph, island_a, island_b, _ = two_islands()
    n = graph.number_of_nodes()
    mu = uniform_on(island_a, n)
    logits = torch.zeros(len(island_b), dtype=torch.float64, requires_grad=True)

    def generated():
        nu = torch.zeros(n, dtype=torch.float64)
        return nu.index_put((torch.as_tensor(island_b),), torch.softmax(logits, 0))

    nu = generated().detach().numpy()
    # WGAN: the critic's certified potential f; the generator minimises W1 = sum f (mu - nu_theta)
    f = torch.as_tensor(estimate_wasserstein(graph, mu, nu, max_steps=300, seed=0).potential)
    (torch.sum(f * (torch.as_tensor(mu) - generated()))).backward()
    wgan = logits.grad.norm().item()

    # JS: a per-node sigmoid discriminator trained towards optimality on the same disjoint supports
    logits.grad = None
    disc = torch.zeros(n, dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.Adam([disc], lr=0.5)
    mu_t, nu_t = torch.as_tensor(mu), torch.as_tensor(nu)
    for _ in range(500):
        optimiser.zero_grad()
        real = (mu_t * torch.nn.functional.logsigmoid(disc)).sum()
        fake = (nu_t * torch.nn.functional.logsigmoid(-disc)).sum()
        loss = -(real + fake)
        loss.backward()
        optimiser.step()
    # the generator's minimax loss sum nu_theta log(1 - D)
    (generated() * torch.nn.functional.logsigmoid(-disc.detach())).sum().backward()
    js = logits.grad.norm().item()
    ratio = wgan / js if js > 0 else float("inf")
    print(f"generator gradient norm: WGAN {wgan:.3e}, JS {js:.3e}, ratio {ratio:.3e}")
    assert wgan > 1e-3
    assert js < 1e-6 * wgan


def test_critic_between_islands_is_a_unit_ramp():
    graph, island_a, island_b, path = two_islands(bridge=8)
    n = graph.number_of_nodes()
    mu, nu = uniform_on(island_a, n), uniform_on(island_b, n)
    f = estimate_wasserstein(graph, mu, nu, max_steps=400, seed=1).potential
    slopes = np.array([f[a] - f[b] for a, b in zip(path[:-1], path[1:], strict=True)])
    print("slopes along the bridge:", np.round(slopes, 4))
    # all mass crosses the bridge from A to B: the potential drops by exactly one per edge
    np.testing.assert_allclose(slopes, 1.0, atol=0.02)


def test_critic_differences_follow_the_optimal_flow():
    graph = nx.connected_watts_strogatz_graph(150, 4, 0.2, seed=5)
    rng = np.random.default_rng(5)
    mu = np.zeros(150)
    mu[rng.choice(150, 10, replace=False)] = 1 / 10
    nu = rng.random(150)
    nu /= nu.sum()
    exact = wasserstein(graph, mu, nu)
    f = estimate_wasserstein(graph, mu, nu, max_steps=400, seed=0).potential
    (u, v), flow = exact.edge_index, exact.flow
    carrying = np.abs(flow) > 1e-9
    drop = f[u] - f[v]
    agree = np.mean(np.sign(drop[carrying]) == np.sign(flow[carrying]))
    cosine = drop[carrying] @ np.sign(flow[carrying]) / (np.linalg.norm(drop[carrying]) * np.sqrt(carrying.sum()))
    print(f"critic drop agrees with the flow direction on {agree:.3f} of {carrying.sum()} edges, cosine {cosine:.3f}")
    assert agree >= 0.95
    assert cosine >= 0.9


def test_critic_is_inductive_across_graphs_of_one_kind():
    def sample(seed):
        graph = nx.random_geometric_graph(150, 0.16, seed=seed)
        graph = graph.subgraph(max(nx.connected_components(graph), key=len)).copy()
        graph = nx.convert_node_labels_to_integers(graph)
        for u, v in graph.edges:
            pu, pv = np.array(graph.nodes[u]["pos"]), np.array(graph.nodes[v]["pos"])
            graph[u][v]["weight"] = float(np.linalg.norm(pu - pv))
        pos = np.array([graph.nodes[i]["pos"] for i in range(graph.number_of_nodes())], dtype=np.float32)
        mu = (pos[:, 0] < 0.3).astype(float)
        nu = (pos[:, 0] > 0.7).astype(float)
        return graph, pos, mu / mu.sum(), nu / nu.sum()

    graph_a, pos_a, mu_a, nu_a = sample(0)
    trained = estimate_wasserstein(graph_a, mu_a, nu_a, features=pos_a, max_steps=300, seed=0).critic
    graph_b, pos_b, mu_b, nu_b = sample(1)
    data_b = to_graph(graph_b)
    exact_b = wasserstein(data_b, mu_b, nu_b).distance

    def certified(critic):
        with torch.no_grad():
            f = critic(torch.as_tensor(pos_b), data_b.edge_index, data_b.edge_weight.float()).double().numpy()
        return certify(data_b, f, mu_b, nu_b).lower_bound

    with torch.random.fork_rng():
        torch.manual_seed(0)
        untrained = NodeCritic(2, 64, 2)
    transferred, baseline = certified(trained), certified(untrained)
    print(f"graph B: exact {exact_b:.4f}, transferred critic {transferred:.4f}, untrained {baseline:.4f}")
    assert transferred <= exact_b * (1 + 1e-9)
    assert transferred >= 0.9 * exact_b
    assert transferred > baseline


def test_same_seed_same_result_and_history():
    graph = nx.karate_club_graph()
    mu, nu = np.eye(34)[0], np.eye(34)[33]
    first = estimate_wasserstein(graph, mu, nu, max_steps=40, eval_every=10, seed=0)
    second = estimate_wasserstein(graph, mu, nu, max_steps=40, eval_every=10, seed=0)
    other = estimate_wasserstein(graph, mu, nu, max_steps=40, eval_every=10, seed=1)
    assert first.lower_bound == second.lower_bound
    np.testing.assert_array_equal(first.potential, second.potential)
    assert first.history["objective"] != other.history["objective"]
    assert len(first.history["objective"]) == 40
    assert first.history["eval_step"] == [10, 20, 30, 40]


def test_seeded_run_leaves_global_random_state_alone():
    state = torch.get_rng_state()
    estimate_wasserstein(nx.path_graph(6), np.eye(6)[0], np.eye(6)[5], lipschitz="penalty", penalty_edges=3,
                         max_steps=5, seed=0)
    assert torch.equal(state, torch.get_rng_state())


def test_torch_masses_and_inputs_untouched():
    graph = nx.cycle_graph(9)
    mu = torch.zeros(9, dtype=torch.float64)
    mu[0] = 1
    nu = torch.zeros(9, dtype=torch.float64)
    nu[4] = 1
    before = (mu.clone(), nu.clone(), nx.to_dict_of_dicts(graph))
    result = estimate_wasserstein(graph, mu, nu, max_steps=200, seed=0)
    assert result.lower_bound == pytest.approx(4.0, rel=0.02)
    assert torch.equal(mu, before[0]) and torch.equal(nu, before[1])
    assert nx.to_dict_of_dicts(graph) == before[2]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"lipschitz": "magic"}, ValueError, "lipschitz must be one of"),
        ({"max_steps": 0}, ValueError, "max_steps must be a positive integer"),
        ({"features": "bogus"}, ValueError, "features must be"),
        ({"features": np.zeros((3, 2))}, ValueError, r"features must have shape \(5, d\)"),
        ({"features": np.full((5, 2), np.nan)}, ValueError, "NaN"),
        ({"features": "x"}, ValueError, "no node features"),
        ({"critic": NodeCritic(7, 8, 1)}, ValueError, "built for 7 input features"),
    ],
)
def test_bad_options(kwargs, error, match):
    graph = nx.path_graph(5)
    with pytest.raises(error, match=match):
        estimate_wasserstein(graph, np.eye(5)[0], np.eye(5)[4], **{"max_steps": 5, **kwargs})


def test_graph_without_edges_and_bad_masses():
    empty = to_graph(torch.zeros((2, 0), dtype=torch.long), num_nodes=3)
    with pytest.raises(ValueError, match="no edges"):
        estimate_wasserstein(empty, np.eye(3)[0], np.eye(3)[0])
    with pytest.raises(ValueError, match="same total mass"):
        estimate_wasserstein(nx.path_graph(3), [1, 0, 0], [0, 0, 2])


class _Exploding(NodeCritic):
    def forward(self, x, edge_index, edge_weight=None):
        return super().forward(x, edge_index, edge_weight) * float("nan")


def test_diverging_training_stops_with_a_message():
    critic = _Exploding(0, 8, 1, num_nodes=5, embedding_dim=4)
    with pytest.raises(FloatingPointError, match="diverged at step 1"):
        estimate_wasserstein(nx.path_graph(5), np.eye(5)[0], np.eye(5)[4], critic=critic,
                             features="embedding", max_steps=5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_bound():
    graph = nx.grid_2d_graph(5, 5)
    mu, nu = np.eye(25)[0], np.eye(25)[24]
    result = estimate_wasserstein(graph, mu, nu, max_steps=200, seed=0, device="cuda")
    assert 0.98 * 8 <= result.lower_bound <= 8 * (1 + 1e-9)


def test_batch_size_none_is_the_full_batch_path():
    graph = nx.karate_club_graph()
    mu, nu = np.eye(34)[0], np.eye(34)[33]
    default = estimate_wasserstein(graph, mu, nu, max_steps=20, eval_every=10, seed=0)
    explicit = estimate_wasserstein(graph, mu, nu, max_steps=20, eval_every=10, seed=0, batch_size=None)
    assert default.history["objective"] == explicit.history["objective"]
    np.testing.assert_array_equal(default.potential, explicit.potential)
    assert "batch_nodes" not in default.history
    # the mini-batch path is a different one, and still certified
    mini = estimate_wasserstein(graph, mu, nu, max_steps=20, eval_every=10, seed=0, batch_size=4)
    assert len(mini.history["batch_nodes"]) == 20
    assert 0 < mini.lower_bound <= wasserstein(graph, mu, nu).distance * (1 + 1e-9)
