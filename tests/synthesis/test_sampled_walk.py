"""The sampled (linear per epoch) form of CELL's walk model, against the exact dense definitions."""

import networkx as nx
import numpy as np
import pytest
import torch
from test_synthesizer import _dense_reference_loss

from graphwgan.graph import to_graph, undirected_edges
from graphwgan.synthesis import CELL, GraphSynthesizer, sampled_walk
from graphwgan.synthesis.balls import hop_balls, transport_gains
from graphwgan.synthesis.sampled_walk import (
    _ball_logits,
    _in_balls,
    _reverse_entries,
    ball_probabilities,
    sampled_edge_keys,
    sampled_log_normalizers,
)
from graphwgan.synthesis.stationary import sampled_stationary, stationary_law

CPU = torch.device("cpu")


def _problem(graph, radius, rank=3, seed=0):
    uv, _ = undirected_edges(to_graph(graph))
    n = graph.number_of_nodes()
    generator = torch.Generator().manual_seed(seed)
    source = torch.randn(n, rank, dtype=torch.float64, generator=generator)
    target = torch.randn(n, rank, dtype=torch.float64, generator=generator)
    return uv, n, hop_balls(uv, n, radius, CPU, None, "test"), source, target


@pytest.mark.parametrize("share", [0, 10**9], ids=["gathered", "dense"])
@pytest.mark.parametrize("weight, cap", [(0.0, 2.0), (0.7, 3.0), (0.7, 1.0)])
def test_every_column_picked_once_gives_the_exact_loss_and_gradient(weight, cap, share, monkeypatch):
    # both ways of forming the ball logits (_ball_logits), the dense one over several row slices
    monkeypatch.setattr(sampled_walk, "_DENSE_BALL_SHARE", share)
    monkeypatch.setattr(sampled_walk, "_NEGATIVE_BLOCK_ENTRIES", 100)
    graph = nx.disjoint_union(nx.karate_club_graph(), nx.path_graph(5))  # two components
    radius = int(np.ceil(cap))
    uv, n, balls, source, target = _problem(graph, radius)
    degrees = torch.from_numpy(np.bincount(np.r_[uv[0], uv[1]], minlength=n)).double()
    transport = (weight, cap, torch.from_numpy(transport_gains(cap, radius)).double()) if weight else None
    source.requires_grad_()
    target.requires_grad_()
    lse, loss = sampled_log_normalizers(source, target, balls, torch.arange(n), degrees=degrees,
                                        edges_total=degrees.sum(), transport=transport)
    exact = torch.logsumexp(source.detach() @ target.detach().T, dim=1)
    torch.testing.assert_close(lse, exact, rtol=1e-12, atol=1e-12)
    reference = _dense_reference_loss(source, target, uv, n, weight, cap)
    assert loss == pytest.approx(reference.item(), rel=1e-10)
    expected = torch.autograd.grad(reference, (source, target))
    torch.testing.assert_close(source.grad, expected[0], rtol=1e-9, atol=1e-11)
    torch.testing.assert_close(target.grad, expected[1], rtol=1e-9, atol=1e-11)


def test_the_normaliser_estimate_is_unbiased():
    graph = nx.powerlaw_cluster_graph(120, 2, 0.3, seed=3)
    _, n, balls, source, target = _problem(graph, radius=1)
    generator = torch.Generator().manual_seed(1)
    draws = torch.stack([
        sampled_log_normalizers(source, target, balls, torch.randint(n, (16,), generator=generator))[0].exp()
        for _ in range(4000)
    ])
    exact = torch.logsumexp(source @ target.T, dim=1).exp()
    error = (draws.mean(dim=0) - exact).abs() / (draws.std(dim=0) / np.sqrt(len(draws)))
    assert float(error.max()) < 5.0  # every row's mean within 5 standard errors of Z_u
    assert float(((draws.mean(dim=0) - exact).abs() / exact).max()) < 0.1  # 16 of 120 columns a draw


def test_with_balls_covering_the_graph_the_stationary_law_is_exact():
    graph = nx.powerlaw_cluster_graph(60, 4, 0.5, seed=2)
    radius = nx.diameter(graph)
    _, n, balls, source, target = _problem(graph, radius)
    lse = torch.logsumexp(source @ target.T, dim=1)
    values, rest = ball_probabilities(source, target, balls, lse)
    assert float(rest.max()) < 1e-12  # nothing outside the balls
    start = torch.full((n,), 1.0 / n, dtype=torch.float64)
    pi, _ = sampled_stationary(balls, values, rest, torch.full((n,), 1.0 / n, dtype=torch.float64), start, tol=1e-12)
    exact, _, _ = stationary_law(source, target, start, tol=1e-12)
    torch.testing.assert_close(pi, exact, rtol=1e-8, atol=1e-12)
    transition = torch.softmax(source @ target.T, dim=1)
    torch.testing.assert_close(pi @ transition, pi, rtol=1e-8, atol=1e-12)


def test_sampled_edges_form_a_simple_graph_without_isolated_nodes():
    graph = nx.powerlaw_cluster_graph(400, 3, 0.4, seed=5)
    uv, n, balls, source, target = _problem(graph, radius=2, rank=4)
    source, target = source.float(), target.float()
    lse = torch.logsumexp(source @ target.T, dim=1)
    pi = torch.full((n,), 1.0 / n)
    for seed in range(3):
        keys = sampled_edge_keys(source, target, balls, lse, pi, uv.shape[1], torch.Generator().manual_seed(seed))
        assert keys.numel() == uv.shape[1]
        assert torch.equal(keys, torch.unique(keys))
        u, v = keys // n, keys % n
        assert bool((u < v).all()) and int(v.max()) < n
        assert torch.unique(torch.cat([u, v])).numel() == n  # stage 1 gives every node a neighbour
    again = sampled_edge_keys(source, target, balls, lse, pi, uv.shape[1], torch.Generator().manual_seed(2))
    assert torch.equal(keys, again)


def test_sampled_edges_follow_the_scores_inside_the_balls():
    # a graph whose 2-hop balls cover it: the sampler is then CELL's, pair by pair
    graph = nx.complete_bipartite_graph(3, 4)
    uv, n, balls, source, target = _problem(graph, radius=2, rank=2, seed=4)
    lse = torch.logsumexp(source @ target.T, dim=1)
    transition = torch.softmax(source @ target.T, dim=1)
    pi = torch.full((n,), 1.0 / n, dtype=torch.float64)
    scores = pi[:, None] * transition
    scores = scores + scores.T
    generator = torch.Generator().manual_seed(0)
    counts = torch.zeros(n * n)
    trials = 3000
    for _ in range(trials):
        counts[sampled_edge_keys(source, target, balls, lse, pi, 1, generator)] += 1
    # asked for one edge, a sample still holds stage 1's pairs (every node draws one): all above the diagonal,
    # every pair drawn at some point
    upper = torch.triu(torch.ones(n, n, dtype=torch.bool), diagonal=1).reshape(-1)
    assert float(counts[~upper].sum()) == 0.0
    assert bool((counts[upper] > 0).all())
    # stage 1: node u picks v with probability S_uv / sum_v S_uv; pair {0, v} appears at least that often
    first = scores[0] / scores[0].sum()
    seen = counts.view(n, n)[0, 1:] / trials
    assert bool((seen + 0.05 >= first[1:]).all())


@pytest.mark.parametrize("share", [0, 10**9], ids=["gathered", "dense"])
@pytest.mark.parametrize("slice_entries", [1, 7 * 40, 1 << 22])
def test_ball_logits_are_the_entries_of_the_logit_matrix(share, slice_entries, monkeypatch):
    monkeypatch.setattr(sampled_walk, "_DENSE_BALL_SHARE", share)
    monkeypatch.setattr(sampled_walk, "_NEGATIVE_BLOCK_ENTRIES", slice_entries)
    _, n, balls, source, target = _problem(nx.powerlaw_cluster_graph(40, 2, 0.3, seed=1), radius=2)
    start, stop = 3, 27  # a block that does not start at row 0
    e0, e1 = int(balls.indptr[start]), int(balls.indptr[stop])
    local = torch.from_numpy(np.repeat(np.arange(stop - start), np.diff(balls.indptr[start : stop + 1])))
    columns = balls.indices[e0:e1].long()
    expected = (source @ target.T)[local + start, columns]
    torch.testing.assert_close(_ball_logits(source[start:stop], target, local, columns), expected,
                               rtol=1e-12, atol=1e-12)


def test_helpers_match_their_direct_definitions():
    graph = nx.powerlaw_cluster_graph(150, 3, 0.3, seed=7)
    _, n, balls, _, _ = _problem(graph, radius=2)
    rows = np.repeat(np.arange(n), np.diff(balls.indptr))
    cols = balls.indices.numpy().astype(np.int64)
    keys = torch.from_numpy(rows * n + cols)
    reverse = _reverse_entries(balls).numpy()
    np.testing.assert_array_equal(rows[reverse], cols)
    np.testing.assert_array_equal(cols[reverse], rows)
    query = torch.randint(n * n, (5000,), generator=torch.Generator().manual_seed(0))
    query = torch.cat([query, keys[::7]])  # some hits for certain
    assert torch.equal(_in_balls(balls, query // n, query % n), torch.isin(query, keys))


@pytest.mark.parametrize("model", [CELL, GraphSynthesizer])
def test_sampled_fit_is_reproducible_and_survives_save_and_load(tmp_path, model):
    graph = nx.powerlaw_cluster_graph(300, 3, 0.5, seed=0)
    first = model(num_negatives=64, eo_target=0.3, max_epochs=60, random_state=0).fit(graph)
    second = model(num_negatives=64, eo_target=0.3, max_epochs=60, random_state=0).fit(graph)
    assert first.converged_
    torch.testing.assert_close(first.source_factors_, second.source_factors_, rtol=0, atol=0)
    sample = first.sample(seed=1)
    assert sample.num_edges // 2 == graph.number_of_edges()
    assert torch.equal(sample.edge_index, second.sample(seed=1).edge_index)
    first.save(tmp_path / "model.pt")
    loaded = model.load(tmp_path / "model.pt")
    assert torch.equal(loaded.sample(seed=1).edge_index, sample.edge_index)
    pairs = torch.tensor([[0, 1, 2], [5, 7, 9]])
    np.testing.assert_array_equal(loaded.score_pairs(pairs), first.score_pairs(pairs))


def test_auto_switches_to_the_sampled_form_only_on_large_graphs():
    from graphwgan.synthesis.walk_model import _AUTO_NEGATIVES, _EXACT_MAX_NODES

    model = CELL()
    assert model._sampled_negatives(_EXACT_MAX_NODES) is None
    assert model._sampled_negatives(_EXACT_MAX_NODES + 1) == _AUTO_NEGATIVES
    assert CELL(num_negatives=None)._sampled_negatives(10**7) is None
    assert CELL(num_negatives=32)._sampled_negatives(10) == 32


@pytest.mark.parametrize("value, error", [(0, ValueError), (-3, ValueError), (1.5, TypeError), ("many", TypeError)])
def test_bad_num_negatives(value, error):
    graph = nx.path_graph(10)
    with pytest.raises(error, match="num_negatives"):
        GraphSynthesizer(num_negatives=value).fit(graph)
