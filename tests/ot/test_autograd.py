"""Tests for torch inputs to the exact solver: dtypes, and gradients through the potential."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import torch

from graphwgan import GraphTransport, wasserstein, wasserstein_batch


def _graph() -> nx.Graph:
    """A weighted graph with cycles, pendant trees and a second component."""
    rng = np.random.default_rng(0)
    core = nx.disjoint_union(nx.cycle_graph(6), nx.random_labeled_tree(5, seed=1))
    core.add_edge(0, 6)  # the tree (nodes 6..10) hangs off the cycle
    core.add_edge(2, 4)  # a chord: two cycles share an edge
    graph = nx.disjoint_union(core, nx.cycle_graph(5))  # second component: nodes 11..15
    for u, v in graph.edges:
        graph[u][v]["weight"] = float(rng.uniform(0.5, 3.0))
    return graph


GRAPH = _graph()
N = GRAPH.number_of_nodes()
COMPONENTS = [sorted(c) for c in nx.connected_components(GRAPH)]


def _masses(seed: int, dtype=torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    """Generic diffuse masses (all positive), equal totals on each component."""
    rng = np.random.default_rng(seed)
    mu, nu = rng.random(N) + 0.1, rng.random(N) + 0.1
    for nodes in COMPONENTS:
        nu[nodes] *= mu[nodes].sum() / nu[nodes].sum()
    return torch.tensor(mu, dtype=dtype), torch.tensor(nu, dtype=dtype)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_torch_in_gives_torch_out(dtype):
    mu, nu = _masses(0, dtype)
    result = wasserstein(GRAPH, mu, nu)
    mu64, nu64 = _masses(0, torch.float64)
    reference = wasserstein(GRAPH, mu64.numpy(), nu64.numpy())
    assert isinstance(result.distance, torch.Tensor)
    assert result.distance.dim() == 0
    for field in (result.distance, result.flow, result.potential, result.edge_weight):
        assert isinstance(field, torch.Tensor) and field.dtype == dtype
    assert result.edge_index.dtype == torch.long
    assert result.flow.shape == (GRAPH.number_of_edges(),)
    assert result.potential.shape == (N,)
    rtol = 1e-12 if dtype == torch.float64 else 1e-5
    assert float(result.distance) == pytest.approx(reference.distance, rel=rtol)
    np.testing.assert_allclose(result.potential.double().numpy(), reference.potential, rtol=rtol, atol=rtol)
    np.testing.assert_array_equal(result.edge_index.numpy(), reference.edge_index)
    assert result.distance.grad_fn is None  # nothing required grad


def test_float32_normalised_masses_are_accepted():
    # float32 masses normalised by the caller sum to one only to about 1e-7
    rng = np.random.default_rng(1)
    mu = torch.tensor(rng.random(N), dtype=torch.float32)
    nu = torch.tensor(rng.random(N), dtype=torch.float32)
    graph = nx.cycle_graph(N)
    mu, nu = mu / mu.sum(), nu / nu.sum()
    result = wasserstein(graph, mu, nu)
    assert result.distance.dtype == torch.float32
    assert float(result.distance) > 0


def test_integer_tensor_gives_default_float_dtype():
    mu = torch.zeros(5, dtype=torch.int64)
    nu = torch.zeros(5, dtype=torch.int64)
    mu[0], nu[3] = 2, 2
    result = wasserstein(nx.path_graph(5), mu, nu)
    assert result.distance.dtype == torch.get_default_dtype()
    assert float(result.distance) == 6.0


def test_numpy_in_gives_numpy_out():
    mu, nu = _masses(0)
    result = wasserstein(GRAPH, mu.numpy(), nu.numpy())
    assert type(result.distance) is float
    for field in (result.flow, result.potential, result.edge_index, result.edge_weight):
        assert isinstance(field, np.ndarray)
    batch = wasserstein_batch(GRAPH, np.stack([mu.numpy()] * 2), nu.numpy())
    assert isinstance(batch.distance, np.ndarray) and batch.distance.shape == (2,)


def test_one_torch_side_gives_torch_out():
    mu, nu = _masses(2)
    mu.requires_grad_(True)
    result = wasserstein(GRAPH, mu, nu.numpy())
    assert isinstance(result.distance, torch.Tensor) and result.distance.dtype == torch.float64
    result.distance.backward()
    torch.testing.assert_close(mu.grad, result.potential)

    nu32 = nu.float().requires_grad_(True)
    result = wasserstein(GRAPH, mu.detach().numpy(), nu32)
    assert result.distance.dtype == torch.float32
    result.distance.backward()
    torch.testing.assert_close(nu32.grad, -result.potential)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_gradient_is_the_potential(dtype):
    mu, nu = _masses(3, dtype)
    mu.requires_grad_(True)
    nu.requires_grad_(True)
    result = wasserstein(GRAPH, mu, nu)
    assert result.distance.requires_grad
    result.distance.backward()
    assert mu.grad.dtype == dtype and nu.grad.dtype == dtype
    torch.testing.assert_close(mu.grad, result.potential)
    torch.testing.assert_close(nu.grad, -result.potential)
    # the potential is not all zero, so the check above has teeth
    assert float(result.potential.abs().max()) > 0.1


def test_gradient_flows_through_later_operations():
    mu, nu = _masses(4)
    mu.requires_grad_(True)
    result = wasserstein(GRAPH, mu, nu)
    (3.0 * result.distance**2).backward()
    expected = 6.0 * result.distance.detach() * result.potential
    torch.testing.assert_close(mu.grad, expected)


def test_no_grad_gives_a_detached_distance():
    mu, nu = _masses(5)
    mu.requires_grad_(True)
    with torch.no_grad():
        result = wasserstein(GRAPH, mu, nu)
    assert not result.distance.requires_grad


def _distance(mu: np.ndarray, nu: np.ndarray) -> float:
    return wasserstein(GRAPH, mu, nu).distance


@pytest.mark.parametrize("seed", range(4))
def test_finite_difference_along_mass_preserving_direction(seed):
    mu, nu = _masses(10 + seed)
    mu.requires_grad_(True)
    nu.requires_grad_(True)
    result = wasserstein(GRAPH, mu, nu)
    result.distance.backward()
    rng = np.random.default_rng(seed)
    mu0, nu0 = mu.detach().numpy(), nu.detach().numpy()
    eps = 1e-6
    for nodes in COMPONENTS:
        a, b = rng.choice(nodes, size=2, replace=False)
        direction = np.zeros(N)
        direction[a], direction[b] = 1.0, -1.0  # move eps mass from node b to node a
        for side, grad in (("mu", mu.grad), ("nu", nu.grad)):
            predicted = float(grad.numpy() @ direction)
            if side == "mu":
                forward = (_distance(mu0 + eps * direction, nu0) - _distance(mu0, nu0)) / eps
                backward = (_distance(mu0, nu0) - _distance(mu0 - eps * direction, nu0)) / eps
            else:
                forward = (_distance(mu0, nu0 + eps * direction) - _distance(mu0, nu0)) / eps
                backward = (_distance(mu0, nu0) - _distance(mu0, nu0 - eps * direction)) / eps
            assert forward == pytest.approx(predicted, abs=1e-6), (side, a, b)
            assert backward == pytest.approx(predicted, abs=1e-6), (side, a, b)
    # a direction that moves mass across an edge changes W1 at a rate at most the edge length
    u, v = result.edge_index[:, 0].tolist()
    assert abs(float(mu.grad[u] - mu.grad[v])) <= float(result.edge_weight[0]) * (1 + 1e-9)


def test_batch_gradient_per_row():
    mu, _ = _masses(20)
    rows = [_masses(21 + i) for i in range(3)]
    mu_rows = torch.stack([r[0] for r in rows]).requires_grad_(True)
    nu_rows = torch.stack([r[1] for r in rows]).requires_grad_(True)
    result = wasserstein_batch(GRAPH, mu_rows, nu_rows)
    assert result.distance.shape == (3,) and result.potential.shape == (3, N)
    weights = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    (weights * result.distance).sum().backward()
    torch.testing.assert_close(mu_rows.grad, weights[:, None] * result.potential)
    torch.testing.assert_close(nu_rows.grad, -weights[:, None] * result.potential)


@pytest.mark.parametrize("shared", ["mu", "nu"])
def test_batch_gradient_of_a_broadcast_side_sums_over_pairs(shared):
    base, _ = _masses(30)
    others = torch.stack([_masses(31 + i)[1] for i in range(4)])
    # equal totals per component for every pair: rescale each row to the base's component masses
    for nodes in COMPONENTS:
        others[:, nodes] *= base[nodes].sum() / others[:, nodes].sum(dim=1, keepdim=True)
    base.requires_grad_(True)
    others.requires_grad_(True)
    if shared == "mu":
        result = wasserstein_batch(GRAPH, base, others)
        sign = 1.0
    else:
        result = wasserstein_batch(GRAPH, others, base)
        sign = -1.0
    result.distance.sum().backward()
    assert base.grad.shape == (N,)
    torch.testing.assert_close(base.grad, sign * result.potential.sum(dim=0))
    torch.testing.assert_close(others.grad, -sign * result.potential)
    # each row agrees with the single-pair call
    for row in range(4):
        pair = (base.detach(), others[row].detach()) if shared == "mu" else (others[row].detach(), base.detach())
        single = wasserstein(GRAPH, *pair)
        torch.testing.assert_close(result.distance[row].detach(), single.distance)
        torch.testing.assert_close(result.potential[row], single.potential)


def test_prepared_transport_with_torch():
    transport = GraphTransport(GRAPH)
    mu, nu = _masses(40)
    mu.requires_grad_(True)
    result = transport.solve(mu, nu)
    result.distance.backward()
    torch.testing.assert_close(mu.grad, result.potential)
    fresh = wasserstein(GRAPH, mu.detach(), nu)
    torch.testing.assert_close(result.distance.detach(), fresh.distance)
