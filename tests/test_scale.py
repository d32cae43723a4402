"""No path of the exact ruler allocates O(|V|^2): a 10^5-node graph would need 80 GB dense."""

import tracemalloc

import numpy as np
import pytest
import torch

from graphwgan.lipschitz import CTransform
from graphwgan.metric import ShortestPathMetric
from graphwgan.ot import GraphTransport

N = 100_000


def random_connected_graph(n, extra, seed=0):
    rng = np.random.default_rng(seed)
    # a random recursive tree keeps it connected; extra random edges give it cycles
    parent = (rng.random(n - 1) * np.arange(1, n)).astype(np.int64)
    rows = np.concatenate([np.arange(1, n), rng.integers(0, n, extra)])
    cols = np.concatenate([parent, rng.integers(0, n, extra)])
    return torch.as_tensor(np.stack([rows, cols]))


@pytest.mark.slow
def test_ruler_memory_stays_linear_on_a_large_graph():
    edge_index = random_connected_graph(N, 2 * N)
    rng = np.random.default_rng(1)
    mu, nu = np.zeros(N), np.zeros(N)
    mu[rng.choice(N, 50, replace=False)] = 1 / 50
    nu[rng.choice(N, 50, replace=False)] = 1 / 50
    tracemalloc.start()
    try:
        transport = GraphTransport(edge_index)
        result = transport.solve(mu, nu)
        lowered = CTransform(edge_index).lower(rng.normal(size=N))
        pairs = ShortestPathMetric(edge_index).between(rng.integers(0, N, size=(20, 2)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    dense = N * N * 8
    print(f"peak traced allocation {peak / 2**20:.0f} MiB; a dense matrix would need {dense / 2**30:.0f} GiB")
    assert result.distance > 0 and np.isfinite(pairs).all() and lowered.shape == (N,)
    # linear in |E| (about 220 MiB here for 3 x 10^5 edges), nowhere near the 75 GiB dense matrix
    assert peak < 2**30
