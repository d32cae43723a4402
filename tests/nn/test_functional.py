"""Tests for graphwgan.nn.functional: the dual and semi-dual objectives against exact W1."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import torch

from graphwgan import wasserstein
from graphwgan.lipschitz import CTransform
from graphwgan.nn import dual_objective, semi_dual_objective


def _weighted_graph(seed: int, n: int = 20, m: int = 40) -> nx.Graph:
    rng = np.random.default_rng(seed)
    graph = nx.gnm_random_graph(n, m, seed=seed)
    nx.add_path(graph, [min(c) for c in nx.connected_components(graph)])
    for u, v in graph.edges:
        graph[u][v]["weight"] = float(rng.uniform(0.5, 2.0))
    return graph


def _masses(rng: np.random.Generator, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    mu, nu = rng.random(n), rng.random(n)
    return torch.from_numpy(mu / mu.sum()), torch.from_numpy(nu / nu.sum())


def test_dual_objective_matches_hand_computation():
    f = torch.tensor([1.0, -2.0, 0.5])
    mu = torch.tensor([0.5, 0.5, 0.0])
    nu = torch.tensor([0.0, 0.25, 0.75])
    # 1 * 0.5 + (-2) * 0.25 + 0.5 * (-0.75)
    assert dual_objective(f, mu, nu).item() == pytest.approx(-0.375)
    torch.testing.assert_close(dual_objective(f, mu, nu), (f * (mu - nu)).sum())


def test_dual_objective_works_on_batches():
    generator = torch.Generator().manual_seed(0)
    f = torch.randn(4, 6, generator=generator)
    mu, nu = torch.rand(4, 6, generator=generator), torch.rand(6, generator=generator)
    values = dual_objective(f, mu, nu)
    assert values.shape == (4,)
    torch.testing.assert_close(values, torch.stack([(f[i] * (mu[i] - nu)).sum() for i in range(4)]))


def test_dual_objective_of_two_point_masses_on_a_path():
    # f = -d(0, .) on a path: the dual value is the hop distance between the two masses
    f = -torch.arange(6.0)
    assert dual_objective(f, torch.eye(6)[1], torch.eye(6)[5]).item() == pytest.approx(4.0)


@pytest.mark.parametrize("seed", range(5))
def test_semi_dual_is_a_lower_bound_on_w1(seed):
    rng = np.random.default_rng(seed)
    graph = _weighted_graph(seed)
    n = graph.number_of_nodes()
    transform = CTransform(graph)
    mu, nu = _masses(rng, n)
    exact = float(wasserstein(graph, mu.numpy(), nu.numpy()).distance)
    for scale in (0.1, 1.0, 10.0):
        f = torch.from_numpy(rng.normal(size=n) * scale)
        value = semi_dual_objective(f, mu, nu, transform)
        assert value.dim() == 0
        assert value.item() <= exact + 1e-12
        # f <= upper(f) and mu >= 0, so the semi-dual is at most the dual value of upper(f)
        assert value.item() <= dual_objective(transform.upper(f), mu, nu).item() + 1e-12


@pytest.mark.parametrize("seed", range(3))
def test_semi_dual_at_the_optimal_potential_is_w1(seed):
    rng = np.random.default_rng(seed + 10)
    graph = _weighted_graph(seed + 10)
    transform = CTransform(graph)
    mu, nu = _masses(rng, graph.number_of_nodes())
    result = wasserstein(graph, mu.numpy(), nu.numpy())
    potential = torch.from_numpy(np.asarray(result.potential, dtype=np.float64))
    assert semi_dual_objective(potential, mu, nu, transform).item() == pytest.approx(
        float(result.distance), rel=1e-9, abs=1e-12
    )
    assert dual_objective(potential, mu, nu).item() == pytest.approx(float(result.distance), rel=1e-9)


def test_semi_dual_is_differentiable():
    rng = np.random.default_rng(0)
    graph = _weighted_graph(0)
    n = graph.number_of_nodes()
    transform = CTransform(graph)
    mu, nu = _masses(rng, n)
    f = torch.tensor(rng.normal(size=n) * 3.0, requires_grad=True)
    value = semi_dual_objective(f, mu, nu, transform)
    value.backward()
    grad = f.grad
    assert torch.isfinite(grad).all()
    # d/df = mu - sum_v nu(v) e_{u*(v)}: total mass moves, so the gradient sums to 0
    assert grad.sum().item() == pytest.approx(0.0, abs=1e-12)
    assert torch.all(grad <= mu + 1e-12)
    # a small gradient-ascent step on the concave semi-dual does not decrease it
    with torch.no_grad():
        stepped = f + 1e-3 * grad
    assert semi_dual_objective(stepped, mu, nu, transform).item() >= value.item() - 1e-12


def test_semi_dual_of_two_point_masses_on_a_path():
    graph = nx.path_graph(6)
    transform = CTransform(graph)
    mu, nu = torch.eye(6, dtype=torch.float64)[1], torch.eye(6, dtype=torch.float64)[5]
    # any f with f(1) - max_u (f(u) - d(u, 5)) at its best gives W1 = 4
    f = torch.tensor([0.0, 10.0, 0.0, 0.0, 0.0, 0.0], dtype=torch.float64)
    # upper(f)(5) = max(10 - 4, 0) = 6, so the semi-dual is 10 - 6 = 4
    assert semi_dual_objective(f, mu, nu, transform).item() == pytest.approx(4.0)
    assert semi_dual_objective(torch.zeros(6, dtype=torch.float64), mu, nu, transform).item() == 0.0
