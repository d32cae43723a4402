"""Tests for graphwgan.lipschitz: edge constants, penalties, c-transforms and certificates.

Oracles are independent of the code under test: hand computations on a 4-node path, the dense
shortest-path matrix ``D`` from :func:`graphwgan.distances.distance_matrix` (for the c-transforms,
``min_u f(u) + D[u, v]`` by brute force) and the exact W1 of :func:`graphwgan.wasserstein`.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import torch

from graphwgan import to_graph, wasserstein
from graphwgan.distances import distance_matrix
from graphwgan.graph import undirected_edges
from graphwgan.lipschitz import (
    Certificate,
    CTransform,
    c_transform,
    certify,
    clip_weights_,
    edge_lipschitz_constant,
    edge_lipschitz_penalty,
    spectral_normalize,
)

# --------------------------------------------------------------------------------------------
# graphs
# --------------------------------------------------------------------------------------------

# path 0 - 1 - 2 - 3 with lengths 1, 2, 0.5, and a potential whose slopes are 3, 0.5 and 4
PATH_EDGES = np.array([[0, 1, 2], [1, 2, 3]])
PATH_LENGTHS = np.array([1.0, 2.0, 0.5])
PATH_POTENTIAL = np.array([0.0, 3.0, 2.0, 4.0])


def _weighted_graph(seed: int, n: int = 25, m: int = 55) -> nx.Graph:
    """A connected random graph with lengths in [0.5, 2]."""
    rng = np.random.default_rng(seed)
    graph = nx.gnm_random_graph(n, m, seed=seed)
    # join the components with a path so the graph is connected
    components = [min(c) for c in nx.connected_components(graph)]
    nx.add_path(graph, components)
    for u, v in graph.edges:
        graph[u][v]["weight"] = float(rng.uniform(0.5, 2.0))
    return graph


def _disconnected_graph(seed: int) -> nx.Graph:
    """Two weighted components and an isolated node."""
    graph = nx.disjoint_union(_weighted_graph(seed, 12, 20), _weighted_graph(seed + 100, 9, 14))
    graph.add_node(graph.number_of_nodes())
    return graph


def _masses(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    mu = rng.random(n) * (rng.random(n) < 0.5)
    nu = rng.random(n) * (rng.random(n) < 0.5)
    mu[0] += 0.1
    nu[-1] += 0.1
    return mu / mu.sum(), nu / nu.sum()


def _edges(graph) -> tuple[np.ndarray, np.ndarray]:
    return undirected_edges(to_graph(graph))


CONNECTED_SEEDS = [0, 1, 2, 3]
TRANSFORM_GRAPHS = [pytest.param(seed, False, id=f"connected-{seed}") for seed in CONNECTED_SEEDS] + [
    pytest.param(seed, True, id=f"disconnected-{seed}") for seed in (0, 1)
]


def _transform_graph(seed: int, disconnected: bool) -> nx.Graph:
    return _disconnected_graph(seed) if disconnected else _weighted_graph(seed)


# --------------------------------------------------------------------------------------------
# edge_lipschitz_constant
# --------------------------------------------------------------------------------------------


def test_edge_lipschitz_constant_matches_hand_computation_on_weighted_path():
    # slopes |3 - 0| / 1 = 3, |2 - 3| / 2 = 0.5, |4 - 2| / 0.5 = 4
    assert edge_lipschitz_constant(PATH_POTENTIAL, PATH_EDGES, PATH_LENGTHS) == pytest.approx(4.0, abs=1e-15)
    # unit lengths: the largest difference, 3
    assert edge_lipschitz_constant(PATH_POTENTIAL, PATH_EDGES) == pytest.approx(3.0, abs=1e-15)


def test_edge_lipschitz_constant_is_the_same_with_both_edge_directions():
    both = np.concatenate([PATH_EDGES, PATH_EDGES[::-1]], axis=1)
    lengths = np.concatenate([PATH_LENGTHS, PATH_LENGTHS])
    assert edge_lipschitz_constant(PATH_POTENTIAL, both, lengths) == pytest.approx(4.0, abs=1e-15)


@pytest.mark.parametrize("seed", CONNECTED_SEEDS)
def test_distance_from_a_source_has_constant_one(seed):
    graph = _weighted_graph(seed)
    edge_index, lengths = _edges(graph)
    source = seed % graph.number_of_nodes()
    potential = distance_matrix(graph)[source]
    # the edge into each node on a shortest-path tree is tight, every other edge is slack
    assert edge_lipschitz_constant(potential, edge_index, lengths) == pytest.approx(1.0, abs=1e-12)
    assert edge_lipschitz_constant(3.0 * potential, edge_index, lengths) == pytest.approx(3.0, abs=1e-12)
    # adding a constant changes nothing
    assert edge_lipschitz_constant(potential - 7.0, edge_index, lengths) == pytest.approx(1.0, abs=1e-12)


def test_edge_lipschitz_constant_torch_and_numpy_agree():
    rng = np.random.default_rng(0)
    graph = _weighted_graph(5)
    edge_index, lengths = _edges(graph)
    potential = rng.normal(size=graph.number_of_nodes())
    expected = edge_lipschitz_constant(potential, edge_index, lengths)
    got = edge_lipschitz_constant(
        torch.tensor(potential, requires_grad=True), torch.from_numpy(edge_index), torch.from_numpy(lengths)
    )
    assert isinstance(got, float)
    assert got == pytest.approx(expected, rel=1e-15)
    # an independent computation of the same maximum
    slopes = np.abs(potential[edge_index[0]] - potential[edge_index[1]]) / lengths
    assert expected == pytest.approx(slopes.max(), rel=1e-15)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_edge_lipschitz_constant_rejects_non_finite_potential(bad):
    potential = PATH_POTENTIAL.copy()
    potential[2] = bad
    with pytest.raises(ValueError, match="NaN or infinite"):
        edge_lipschitz_constant(potential, PATH_EDGES, PATH_LENGTHS)


def test_edge_lipschitz_constant_without_edges_is_zero():
    empty = np.zeros((2, 0), dtype=np.int64)
    assert edge_lipschitz_constant(np.array([1.0, -5.0, 2.0]), empty) == 0.0
    assert edge_lipschitz_constant(torch.tensor([1.0, 2.0]), torch.zeros((2, 0), dtype=torch.long)) == 0.0


# --------------------------------------------------------------------------------------------
# edge_lipschitz_penalty
# --------------------------------------------------------------------------------------------


def _path_tensors():
    return (
        torch.tensor(PATH_POTENTIAL, requires_grad=True),
        torch.from_numpy(PATH_EDGES),
        torch.from_numpy(PATH_LENGTHS),
    )


def test_penalty_is_zero_for_a_one_lipschitz_potential():
    graph = _weighted_graph(1)
    edge_index, lengths = _edges(graph)
    potential = torch.from_numpy(distance_matrix(graph)[0])
    edge_index, lengths = torch.from_numpy(edge_index), torch.from_numpy(lengths)
    # tight edges have slope 1 up to rounding, so the penalty is 0 up to (slope - 1)^2 ~ 1e-32
    assert edge_lipschitz_penalty(potential, edge_index, lengths).item() <= 1e-28
    assert edge_lipschitz_penalty(0.5 * potential, edge_index, lengths).item() == 0.0
    # with unit lengths the distances are integers and the penalty is exactly 0
    karate = nx.karate_club_graph()
    unit_edges = torch.from_numpy(_edges(nx.Graph(karate.edges))[0])
    hops = torch.from_numpy(distance_matrix(nx.Graph(karate.edges))[5])
    assert edge_lipschitz_penalty(hops, unit_edges).item() == 0.0
    assert edge_lipschitz_penalty(hops, unit_edges, two_sided=True).item() > 0.0
    # the two-sided form asks for slope exactly 1 everywhere, which the slack edges do not have
    assert edge_lipschitz_penalty(potential, edge_index, lengths, two_sided=True).item() > 0.0


def test_penalty_matches_hand_computation_on_weighted_path():
    potential, edge_index, lengths = _path_tensors()
    # slopes 3, 0.5, 4: one-sided relu(s - 1)^2 = 4, 0, 9; two-sided (s - 1)^2 = 4, 0.25, 9
    one_sided = edge_lipschitz_penalty(potential, edge_index, lengths)
    two_sided = edge_lipschitz_penalty(potential, edge_index, lengths, two_sided=True)
    assert one_sided.dim() == 0
    assert one_sided.item() == pytest.approx(13.0 / 3.0, rel=1e-14)
    assert two_sided.item() == pytest.approx(13.25 / 3.0, rel=1e-14)


def test_penalty_gradient_matches_hand_computation():
    potential, edge_index, lengths = _path_tensors()
    edge_lipschitz_penalty(potential, edge_index, lengths).backward()
    # d/df of (1/3) [((f1 - f0) / 1 - 1)^2 + ((f3 - f2) / 0.5 - 1)^2] at slopes 3 and 4
    expected = np.array([-4.0 / 3.0, 4.0 / 3.0, -4.0, 4.0])
    np.testing.assert_allclose(potential.grad.numpy(), expected, rtol=1e-14)


def test_penalty_is_a_mean_over_edges_not_a_batch_norm():
    potential, edge_index, lengths = _path_tensors()
    n = potential.shape[0]
    single = edge_lipschitz_penalty(potential, edge_index, lengths)
    # a disjoint copy with the same potential: same per-edge terms, so the same mean
    doubled = edge_lipschitz_penalty(
        torch.cat([potential, potential]),
        torch.cat([edge_index, edge_index + n], dim=1),
        torch.cat([lengths, lengths]),
    )
    assert doubled.item() == pytest.approx(single.item(), rel=1e-14)
    # a disjoint copy with a constant (1-Lipschitz) potential: the mean halves
    halved = edge_lipschitz_penalty(
        torch.cat([potential, torch.zeros(n, dtype=potential.dtype)]),
        torch.cat([edge_index, edge_index + n], dim=1),
        torch.cat([lengths, lengths]),
    )
    assert halved.item() == pytest.approx(single.item() / 2.0, rel=1e-14)


def test_penalty_on_a_batch_of_potentials_is_the_mean_of_their_penalties():
    potential, edge_index, lengths = _path_tensors()
    other = torch.tensor([0.0, 0.5, 5.0, 5.0], dtype=potential.dtype)
    batch = edge_lipschitz_penalty(torch.stack([potential, other]), edge_index, lengths)
    first = edge_lipschitz_penalty(potential, edge_index, lengths)
    second = edge_lipschitz_penalty(other, edge_index, lengths)
    assert batch.item() == pytest.approx((first.item() + second.item()) / 2.0, rel=1e-14)


def test_two_sided_penalty_is_positive_for_every_potential_on_an_odd_cycle():
    # On an odd cycle with unit lengths, the signed differences f(u) - f(v) around the cycle sum
    # to 0, and an odd number of terms that are each +-1 cannot sum to 0: no potential has slope
    # exactly 1 on every edge, so the two-sided (WGAN-GP style) penalty can never vanish. On the
    # triangle two differences share a sign, say a, b >= 0, and the third is -(a + b); the penalty
    # (1/3) [(a - 1)^2 + (b - 1)^2 + (a + b - 1)^2] is smallest at a = b = 2/3, where it is 1/9.
    # The one-sided penalty is zero for any 1-Lipschitz potential, e.g. f = 0.
    edge_index = torch.tensor([[0, 1, 2], [1, 2, 0]])
    assert edge_lipschitz_penalty(torch.zeros(3), edge_index).item() == 0.0
    assert edge_lipschitz_penalty(torch.zeros(3), edge_index, two_sided=True).item() == pytest.approx(1.0)

    generator = torch.Generator().manual_seed(0)
    trials = torch.randn(200, 3, generator=generator, dtype=torch.float64) * 2.0
    values = [edge_lipschitz_penalty(f, edge_index, two_sided=True).item() for f in trials]
    assert min(values) >= 1.0 / 9.0 - 1e-12

    # the best potential gradient descent finds: still 1/9, never 0
    best = torch.tensor([0.0, 0.3, 0.9], dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([best], lr=0.2)
    for _ in range(300):
        optimizer.zero_grad()
        edge_lipschitz_penalty(best, edge_index, two_sided=True).backward()
        optimizer.step()
    final = edge_lipschitz_penalty(best, edge_index, two_sided=True).item()
    assert final == pytest.approx(1.0 / 9.0, abs=1e-9)
    assert final > 0.1


def test_penalty_sampling_is_reproducible_with_a_seeded_generator():
    rng = np.random.default_rng(3)
    graph = _weighted_graph(3)
    edge_index, lengths = (torch.from_numpy(a) for a in _edges(graph))
    potential = torch.from_numpy(rng.normal(size=graph.number_of_nodes()) * 3.0)

    def sampled(seed):
        generator = torch.Generator().manual_seed(seed)
        return edge_lipschitz_penalty(potential, edge_index, lengths, num_samples=7, generator=generator).item()

    assert sampled(0) == sampled(0)
    values = {sampled(seed) for seed in range(5)}
    assert len(values) > 1  # different edges are drawn for different seeds
    # every sampled value is a mean of per-edge terms, so it lies between their extremes
    slopes = (potential[edge_index[0]] - potential[edge_index[1]]).abs() / lengths
    terms = torch.relu(slopes - 1.0) ** 2
    assert all(terms.min().item() - 1e-12 <= v <= terms.max().item() + 1e-12 for v in values)


@pytest.mark.parametrize("num_samples", [0, -3])
def test_penalty_rejects_non_positive_num_samples(num_samples):
    potential, edge_index, lengths = _path_tensors()
    with pytest.raises(ValueError, match="num_samples must be positive"):
        edge_lipschitz_penalty(potential, edge_index, lengths, num_samples=num_samples)


def test_penalty_without_edges_is_zero_and_differentiable():
    potential = torch.tensor([1.0, 5.0], requires_grad=True)
    penalty = edge_lipschitz_penalty(potential, torch.zeros((2, 0), dtype=torch.long))
    assert penalty.item() == 0.0
    penalty.backward()
    assert potential.grad.tolist() == [0.0, 0.0]


# --------------------------------------------------------------------------------------------
# CTransform / c_transform
# --------------------------------------------------------------------------------------------


def _oracle_lower(f: np.ndarray, dist: np.ndarray) -> np.ndarray:
    return np.min(f[:, None] + dist, axis=0)


def _oracle_upper(f: np.ndarray, dist: np.ndarray) -> np.ndarray:
    return np.max(f[:, None] - dist, axis=0)


@pytest.mark.parametrize(("seed", "disconnected"), TRANSFORM_GRAPHS)
def test_c_transforms_match_the_dense_oracle(seed, disconnected):
    graph = _transform_graph(seed, disconnected)
    dist = distance_matrix(graph)
    assert np.isinf(dist).any() == disconnected
    transform = CTransform(graph)
    rng = np.random.default_rng(seed)
    for scale in (0.3, 3.0, 50.0):
        f = rng.normal(size=graph.number_of_nodes()) * scale
        np.testing.assert_allclose(transform.lower(f), _oracle_lower(f, dist), rtol=0, atol=1e-12 * scale)
        np.testing.assert_allclose(transform.upper(f), _oracle_upper(f, dist), rtol=0, atol=1e-12 * scale)
        np.testing.assert_allclose(c_transform(graph, f), transform.lower(f), rtol=0, atol=0)
        np.testing.assert_allclose(c_transform(graph, f, side="upper"), transform.upper(f), rtol=0, atol=0)


@pytest.mark.parametrize(("seed", "disconnected"), TRANSFORM_GRAPHS)
def test_c_transforms_are_one_lipschitz_and_bracket_f(seed, disconnected):
    graph = _transform_graph(seed, disconnected)
    transform = CTransform(graph)
    f = np.random.default_rng(seed + 10).normal(size=graph.number_of_nodes()) * 4.0
    assert edge_lipschitz_constant(f, transform.edge_index, transform.edge_weight) > 1.0
    lower, upper = transform.lower(f), transform.upper(f)
    for g in (lower, upper):
        assert edge_lipschitz_constant(g, transform.edge_index, transform.edge_weight) <= 1.0 + 1e-12
    assert np.all(lower <= f + 1e-12)
    assert np.all(f <= upper + 1e-12)
    # each is attained: somewhere the transform touches f (at the minimum / maximum of f)
    assert np.isclose(lower, f, rtol=0, atol=1e-12).any()
    assert np.isclose(upper, f, rtol=0, atol=1e-12).any()


@pytest.mark.parametrize(("seed", "disconnected"), TRANSFORM_GRAPHS)
def test_c_transforms_are_idempotent(seed, disconnected):
    graph = _transform_graph(seed, disconnected)
    transform = CTransform(graph)
    f = np.random.default_rng(seed + 20).normal(size=graph.number_of_nodes()) * 4.0
    lower, upper = transform.lower(f), transform.upper(f)
    np.testing.assert_allclose(transform.lower(lower), lower, rtol=0, atol=1e-12)
    np.testing.assert_allclose(transform.upper(upper), upper, rtol=0, atol=1e-12)
    # a 1-Lipschitz potential is a fixed point of both transforms
    np.testing.assert_allclose(transform.upper(lower), lower, rtol=0, atol=1e-12)
    np.testing.assert_allclose(transform.lower(upper), upper, rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", CONNECTED_SEEDS)
def test_c_transforms_leave_a_one_lipschitz_potential_unchanged(seed):
    graph = _weighted_graph(seed)
    dist = distance_matrix(graph)
    transform = CTransform(graph)
    # a mix of distance functions, with coefficients summing (in absolute value) to <= 1
    f = 0.5 * dist[0] - 0.3 * dist[seed + 3] + 0.2 * dist[-1] + 11.0
    assert edge_lipschitz_constant(f, transform.edge_index, transform.edge_weight) <= 1.0 + 1e-12
    np.testing.assert_allclose(transform.lower(f), f, rtol=0, atol=1e-12)
    np.testing.assert_allclose(transform.upper(f), f, rtol=0, atol=1e-12)


def test_c_transform_on_a_hand_written_path():
    # path 0 - 1 - 2 - 3 with lengths 1, 2, 0.5 and f = (0, 3, 2, 4)
    graph = to_graph(torch.from_numpy(PATH_EDGES), torch.from_numpy(PATH_LENGTHS))
    lower = c_transform(graph, PATH_POTENTIAL)
    upper = c_transform(graph, PATH_POTENTIAL, side="upper")
    # lower: min_u f(u) + d(u, v); d from node 0 is (0, 1, 3, 3.5)
    np.testing.assert_allclose(lower, [0.0, 1.0, 2.0, 2.5], rtol=0, atol=1e-15)
    # upper: max_u f(u) - d(u, v); node 1 (value 3) wins at nodes 0, 1, node 3 (value 4) at 2, 3
    np.testing.assert_allclose(upper, [2.0, 3.0, 3.5, 4.0], rtol=0, atol=1e-15)


@pytest.mark.parametrize("side", ["lower", "upper"])
def test_c_transform_of_a_tensor_is_a_differentiable_tensor(side):
    graph = _weighted_graph(2)
    n = graph.number_of_nodes()
    transform = CTransform(graph)
    values = np.random.default_rng(0).normal(size=n) * 4.0
    f = torch.tensor(values, requires_grad=True)
    g = getattr(transform, side)(f)
    assert isinstance(g, torch.Tensor)
    assert g.dtype == torch.float64
    assert g.shape == (n,)
    np.testing.assert_allclose(g.detach().numpy(), getattr(transform, side)(values), rtol=0, atol=1e-12)
    g.sum().backward()
    grad = f.grad.numpy()
    # every output value is f(u*) plus a constant: the gradient counts how often each node is u*
    np.testing.assert_array_equal(grad, np.round(grad))
    assert np.all(grad >= 0)
    assert grad.sum() == n
    # a node chosen as u* for some v is also its own u*: g(u*) = f(u*)
    chosen = grad > 0
    np.testing.assert_allclose(g.detach().numpy()[chosen], values[chosen], rtol=0, atol=1e-12)


def test_c_transform_keeps_float32_dtype():
    graph = nx.cycle_graph(5)
    f = torch.tensor([0.0, 4.0, 1.0, -2.0, 3.0], dtype=torch.float32, requires_grad=True)
    g = c_transform(graph, f)
    assert g.dtype == torch.float32
    # node 3 (value -2) is the argmin for nodes 1..4 at hop distances 2, 1, 0, 1
    np.testing.assert_allclose(g.detach().numpy(), [0.0, 0.0, -1.0, -2.0, -1.0], rtol=0, atol=1e-6)


def test_c_transform_rejects_bad_input():
    transform = CTransform(nx.path_graph(4))
    with pytest.raises(ValueError, match=r"shape \(4,\), got \(5,\)"):
        transform.lower(np.zeros(5))
    with pytest.raises(ValueError, match=r"shape \(4,\), got \(2, 4\)"):
        transform.upper(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="NaN or infinite"):
        transform.lower(np.array([0.0, np.nan, 1.0, 2.0]))
    with pytest.raises(ValueError, match="NaN or infinite"):
        transform.upper(torch.tensor([0.0, 1.0, np.inf, 2.0]))
    with pytest.raises(ValueError, match="side must be 'lower' or 'upper', got 'bad'"):
        c_transform(nx.path_graph(4), np.zeros(4), side="bad")


def test_c_transform_does_not_modify_its_input():
    f = PATH_POTENTIAL.copy()
    graph = to_graph(torch.from_numpy(PATH_EDGES), torch.from_numpy(PATH_LENGTHS))
    c_transform(graph, f)
    np.testing.assert_array_equal(f, PATH_POTENTIAL)


# --------------------------------------------------------------------------------------------
# certify
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(12))
def test_certificate_is_a_lower_bound_on_exact_w1(seed):
    rng = np.random.default_rng(seed)
    graph = _weighted_graph(seed, n=int(rng.integers(8, 30)), m=int(rng.integers(10, 50)))
    n = graph.number_of_nodes()
    transform = CTransform(graph)
    mu, nu = _masses(rng, n)
    exact = float(wasserstein(graph, mu, nu).distance)
    for scale in (0.1, 1.0, 10.0):
        f = rng.normal(size=n) * scale
        certificate = certify(graph, f, mu, nu, transform=transform)
        assert isinstance(certificate, Certificate)
        assert certificate.lower_bound <= exact + 1e-12
        assert certificate.method in ("rescale", "lower", "upper")
        assert certificate.lipschitz == pytest.approx(
            edge_lipschitz_constant(f, transform.edge_index, transform.edge_weight), rel=1e-15
        )
        potential = certificate.potential
        assert potential.shape == (n,)
        assert edge_lipschitz_constant(potential, transform.edge_index, transform.edge_weight) <= 1.0 + 1e-12
        assert float(potential @ (mu - nu)) == pytest.approx(certificate.lower_bound, abs=1e-15)


def test_certificate_keeps_the_best_of_three_repairs():
    rng = np.random.default_rng(7)
    graph = _weighted_graph(7)
    n = graph.number_of_nodes()
    transform = CTransform(graph)
    mu, nu = _masses(rng, n)
    seen = set()
    for _ in range(50):
        f = rng.normal(size=n) * rng.choice([0.05, 1.0, 20.0])
        lipschitz = edge_lipschitz_constant(f, transform.edge_index, transform.edge_weight)
        candidates = {
            "rescale": f / lipschitz,
            "lower": transform.lower(f),
            "upper": transform.upper(f),
        }
        values = {name: float(g @ (mu - nu)) for name, g in candidates.items()}
        certificate = certify(graph, f, mu, nu, transform=transform)
        assert certificate.lower_bound == pytest.approx(max(values.values()), abs=1e-13)  # computed from shifted copies
        assert values[certificate.method] == pytest.approx(certificate.lower_bound, abs=1e-13)
        seen.add(certificate.method)
    assert len(seen) >= 2  # the choice really depends on the potential


@pytest.mark.parametrize("seed", range(4))
def test_certificate_of_the_optimal_potential_is_exact_w1(seed):
    rng = np.random.default_rng(seed)
    graph = _weighted_graph(seed + 40)
    mu, nu = _masses(rng, graph.number_of_nodes())
    result = wasserstein(graph, mu, nu)
    certificate = certify(graph, result.potential, mu, nu)
    assert certificate.lipschitz <= 1.0 + 1e-9
    assert certificate.lower_bound == pytest.approx(float(result.distance), rel=1e-9, abs=1e-12)


def test_certificate_of_two_point_masses_on_a_path_is_the_hop_distance():
    graph = nx.path_graph(6)
    mu, nu = np.eye(6)[0], np.eye(6)[4]
    # f = -d(0, .) is optimal: sum f (mu - nu) = 0 + 4
    certificate = certify(graph, -np.arange(6.0), mu, nu)
    assert certificate.lower_bound == pytest.approx(4.0, abs=1e-15)
    # a steep version of the same potential is repaired back to the bound
    certificate = certify(graph, -5.0 * np.arange(6.0), mu, nu)
    assert certificate.lipschitz == pytest.approx(5.0)
    assert certificate.lower_bound == pytest.approx(4.0, abs=1e-12)


def test_certify_accepts_tensors():
    rng = np.random.default_rng(1)
    graph = _weighted_graph(1)
    n = graph.number_of_nodes()
    mu, nu = _masses(rng, n)
    f = rng.normal(size=n)
    expected = certify(graph, f, mu, nu)
    got = certify(graph, torch.tensor(f, requires_grad=True), torch.from_numpy(mu), torch.from_numpy(nu))
    assert got.lower_bound == pytest.approx(expected.lower_bound, rel=1e-15)
    assert got.method == expected.method
    assert isinstance(got.potential, np.ndarray)


# --------------------------------------------------------------------------------------------
# clip_weights_ / spectral_normalize
# --------------------------------------------------------------------------------------------


def _mlp(seed: int) -> torch.nn.Module:
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.LeakyReLU(0.2), torch.nn.Linear(16, 1))
        with torch.no_grad():
            for parameter in model.parameters():
                parameter.mul_(10.0)
    return model


def test_clip_weights_bounds_every_parameter():
    model = _mlp(0)
    before = [p.detach().clone() for p in model.parameters()]
    assert max(p.abs().max().item() for p in before) > 0.25
    result = clip_weights_(model, 0.25)
    assert result is None
    for old, new in zip(before, model.parameters(), strict=True):
        assert new.abs().max().item() <= 0.25
        torch.testing.assert_close(new.detach(), old.clamp(-0.25, 0.25), rtol=0, atol=0)


@pytest.mark.parametrize("clip_value", [0.0, -0.1, float("nan")])
def test_clip_weights_rejects_non_positive_clip_value(clip_value):
    with pytest.raises(ValueError, match="clip_value must be positive"):
        clip_weights_(_mlp(0), clip_value)


def test_spectral_normalize_gives_unit_spectral_norm():
    from graphwgan.nn import NodeCritic

    with torch.random.fork_rng():
        torch.manual_seed(0)
        mlp = _mlp(1)
        critics = [NodeCritic(3, 16, 2, backbone=backbone) for backbone in ("gin", "sage", "gcn", "gat")]
        x, edge_index = torch.randn(10, 3), torch.tensor([[0, 1, 2, 3], [1, 2, 3, 4]])
        runs = [(mlp, lambda m: m(torch.randn(8, 5)))] + [(critic, lambda m: m(x, edge_index)) for critic in critics]
        for module, run in runs:
            assert spectral_normalize(module) is module
            # torch's Linear and PyG's own Linear (inside GCN, SAGE and GAT layers) are both covered
            linears = [m for m in module.modules() if hasattr(m, "weight") and "Linear" in type(m).__name__]
            assert len(linears) >= 2
            module.train()
            for _ in range(10):  # each forward pass in train mode runs one power iteration
                run(module)
            for layer in linears:
                sigma = torch.linalg.matrix_norm(layer.weight.detach(), ord=2).item()
                assert sigma == pytest.approx(1.0, rel=0.05)
            # normalising twice does not stack a second parametrisation
            spectral_normalize(module)
            assert all(len(layer.parametrizations.weight) == 1 for layer in linears)


def test_penalty_gradient_repeats_bit_for_bit_on_many_edges():
    # past about 32k edges the CPU's advanced-index backward accumulates in a thread-dependent order
    generator = torch.Generator().manual_seed(0)
    edge_index = torch.randint(300, (2, 200_000), generator=generator)
    potential = torch.randn(300, generator=generator) * 3
    grads = []
    for _ in range(50):
        leaf = potential.clone().requires_grad_()
        edge_lipschitz_penalty(leaf, edge_index).backward()
        grads.append(leaf.grad)
    assert all(torch.equal(grads[0], grad) for grad in grads[1:])
