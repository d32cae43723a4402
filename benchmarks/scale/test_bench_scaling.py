"""Speed of the parts measured by ``run_scaling.py``, at small sizes, with a correctness check after each timing.

Run with ``python -m pytest benchmarks/scale/test_bench_scaling.py --benchmark-only``. The graphs are the
seeded random graphs of ``run_scaling.py`` (``|E|`` undirected edges on ``|E| / 4`` nodes); the
growth with ``|E|`` up to 10^6 edges, with peak memory, is in ``results/scaling.md``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import graphwgan
from benchmarks.ruler.protocol import certificate_error
from benchmarks.scale.run_scaling import clouds, critic_step, make_critic, random_graph
from graphwgan.estimate import NodeDraws, subgraph_critic
from graphwgan.sampling import NeighborhoodSampler

SIZES = [10_000, 100_000]


@pytest.fixture(scope="module")
def graphs():
    return {size: random_graph(size) for size in SIZES}


@pytest.mark.parametrize("size", SIZES)
def test_exact_w1(benchmark, graphs, size):
    data = graphs[size]
    mu, nu = clouds(int(data.num_nodes))
    result = benchmark.pedantic(graphwgan.wasserstein, args=(data, mu, nu), rounds=2, iterations=1)
    assert certificate_error(int(data.num_nodes), [result], [(mu, nu)]) < 1e-9


@pytest.mark.parametrize("size", SIZES)
def test_full_batch_critic_step(benchmark, graphs, size):
    step, critic = critic_step(graphs[size])
    before = [p.detach().clone() for p in critic.parameters()]
    value = benchmark.pedantic(step, rounds=3, iterations=1)
    assert np.isfinite(value)
    assert all(not torch.equal(a, b.detach()) for a, b in zip(before, critic.parameters(), strict=True))


@pytest.mark.parametrize("size", SIZES)
def test_minibatch_critic_step(benchmark, graphs, size):
    data = graphs[size]
    n = int(data.num_nodes)
    critic, x = make_critic(n)
    mu, nu = clouds(n)
    ei, ew = data.edge_index, data.edge_weight.float()
    sampler = NeighborhoodSampler(ei, n, num_hops=2, edge_weight=ew)
    module = subgraph_critic(critic)
    draws = NodeDraws(mu - nu)
    optimizer = torch.optim.Adam(critic.parameters(), lr=1e-2)
    generator = torch.Generator().manual_seed(0)

    def step():
        nodes = draws(256, generator)
        sub = sampler.sample(nodes)
        f = module(x, sub.node_ids, sub.edge_index, sub.edge_weight)[sub.seed_index]
        loss = -draws.total * (draws.sign[nodes] * f).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return nodes, f.detach()

    nodes, _ = benchmark.pedantic(step, rounds=3, iterations=1)
    # the subgraph gives the seeds exactly their full-graph potentials
    sub = sampler.sample(nodes)
    with torch.no_grad():
        full = critic(x, ei, ew)[nodes]
        local = critic(x[sub.node_ids], sub.edge_index, sub.edge_weight)[sub.seed_index]
    torch.testing.assert_close(local, full, atol=1e-5, rtol=1e-5)
