"""Tests for the baselines of graphwgan.synthesis: ErdosRenyi, ConfigurationModel, DegreeCorrectedSBM, CELL."""

from __future__ import annotations

import copy
import math
import time

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
import torch
from torch_geometric.data import Data

from graphwgan.graph import to_graph, undirected_edges
from graphwgan.synthesis import CELL, CELLHistory, ConfigurationModel, DegreeCorrectedSBM, ErdosRenyi, NotFittedError
from graphwgan.synthesis.exact_walk import _walk_loss, cell_sample_keys, score_rows, walk_pass, walk_problem
from graphwgan.synthesis.generator import _distinct_pairs
from graphwgan.synthesis.stationary import stationary_law

SIZES = [50, 50, 50, 50]


def _planted(p_in=0.3, p_out=0.02, seed=0):
    probs = [[p_in if i == j else p_out for j in range(len(SIZES))] for i in range(len(SIZES))]
    graph = nx.stochastic_block_model(SIZES, probs, seed=seed)
    return graph, np.repeat(np.arange(len(SIZES)), SIZES)


def _community_graph():
    """A 240-node community graph: four blocks of 60, in-block p = 0.15, between p = 0.01."""
    probs = [[0.15 if i == j else 0.01 for j in range(4)] for i in range(4)]
    return to_graph(nx.stochastic_block_model([60] * 4, probs, seed=0))


@pytest.fixture(scope="module")
def community():
    return _community_graph()


@pytest.fixture(scope="module")
def fitted_cell(community):
    return CELL(rank=9, eo_target=0.5, random_state=0).fit(community)


def _keys(data):
    uv, _ = undirected_edges(data)
    return uv[0] * data.num_nodes + uv[1]


def _degrees(data):
    return np.bincount(data.edge_index[0].numpy(), minlength=data.num_nodes)


def _overlap(sample, train):
    return np.intersect1d(_keys(sample), _keys(train)).size / _keys(train).size


def _check_contract(data, n):
    """The library's graph layout: both directions, coalesced, no self-loops, unit weights."""
    assert isinstance(data, Data)
    assert data.num_nodes == n
    ei = data.edge_index
    assert ei.dtype == torch.int64 and ei.dim() == 2 and ei.size(0) == 2
    row, col = ei[0].numpy(), ei[1].numpy()
    assert (row != col).all(), "self-loop"
    assert row.min() >= 0 and max(row.max(), col.max()) < n
    key = row * n + col
    assert (np.diff(key) > 0).all(), "not sorted by (row, col) or duplicated"
    assert np.array_equal(np.sort(col * n + row), key), "not symmetric"
    assert data.edge_weight.dtype == torch.float64
    assert torch.equal(data.edge_weight, torch.ones(ei.size(1), dtype=torch.float64))
    again = to_graph(data, keep_attributes=False)
    assert torch.equal(again.edge_index, ei)


GENERATORS = [
    pytest.param(lambda: ErdosRenyi(random_state=0), id="er"),
    pytest.param(lambda: ConfigurationModel(random_state=0), id="config"),
    pytest.param(lambda: DegreeCorrectedSBM(num_blocks=4, random_state=0), id="dcsbm"),
    pytest.param(lambda: CELL(eo_target=0.5, random_state=0), id="cell"),
]


# ----------------------------------------------------------------------------------------------
# the common contract
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("make", GENERATORS)
def test_sample_follows_graph_contract(make, community):
    model = make().fit(community)
    assert model.fit(community) is model
    n = community.num_nodes
    assert model.num_nodes_ == n and model.num_edges_ == community.num_edges // 2
    for seed in (0, 1):
        _check_contract(model.sample(seed=seed), n)
    _check_contract(model.sample(), n)


@pytest.mark.parametrize("make", GENERATORS)
def test_same_seed_same_graph_and_seed_zero_counts(make, community):
    model = make().fit(community)
    first, again, other = model.sample(seed=0), model.sample(seed=0), model.sample(seed=1)
    assert torch.equal(first.edge_index, again.edge_index)
    assert not torch.equal(first.edge_index, other.edge_index)
    gen_a, gen_b = np.random.default_rng(5), np.random.default_rng(5)
    assert torch.equal(model.sample(seed=gen_a).edge_index, model.sample(seed=gen_b).edge_index)


@pytest.mark.parametrize("make", GENERATORS)
def test_unseeded_samples_continue_the_fitted_generator(make, community):
    a, b = make().fit(community), make().fit(community)
    first_a, first_b = a.sample(), b.sample()
    assert torch.equal(first_a.edge_index, first_b.edge_index)  # same random_state, same stream
    assert not torch.equal(first_a.edge_index, a.sample().edge_index)  # the stream moves on


@pytest.mark.parametrize("make", GENERATORS)
def test_sample_before_fit_raises(make):
    with pytest.raises(NotFittedError, match="not fitted yet; call fit"):
        make().sample(seed=0)


@pytest.mark.parametrize("make", GENERATORS)
def test_graph_without_edges_raises(make):
    empty = Data(edge_index=torch.zeros((2, 0), dtype=torch.long), num_nodes=5)
    with pytest.raises(ValueError, match="no edges"):
        make().fit(empty)
    loops_only = torch.tensor([[0, 1], [0, 1]])  # self-loops are dropped, leaving no edge
    with pytest.raises(ValueError, match="no edges"):
        make().fit(to_graph(loops_only, num_nodes=3, remove_self_loops=False))


@pytest.mark.parametrize("make", GENERATORS)
def test_too_many_edges_raises(make):
    model = make().fit(nx.cycle_graph(6))
    with pytest.raises(ValueError, match="num_edges=16 is more than the 15 node pairs"):
        model.sample(seed=0, num_edges=16)
    with pytest.raises(ValueError, match="num_edges must be >= 0"):
        model.sample(seed=0, num_edges=-1)
    with pytest.raises(TypeError, match="num_edges must be an int"):
        model.sample(seed=0, num_edges=3.0)


@pytest.mark.parametrize("make", GENERATORS)
def test_bad_seeds_raise(make):
    model = make().fit(nx.cycle_graph(6))
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        model.sample(seed=-1)
    with pytest.raises(TypeError, match="seed must be None, a non-negative int"):
        model.sample(seed=1.5)
    with pytest.raises(TypeError, match="random_state must be None"):
        make().set_params(random_state="zero").fit(nx.cycle_graph(6))


@pytest.mark.parametrize("make", GENERATORS)
def test_inputs_are_not_modified(make):
    graph, labels = _planted()
    nx_before = copy.deepcopy(graph)
    data = to_graph(graph)
    data.y = torch.from_numpy(labels)
    data_before = data.clone()
    matrix = nx.to_scipy_sparse_array(graph, format="csr")
    matrix_before = matrix.copy()
    for source in (graph, data, matrix):
        model = make().fit(source)
        model.sample(seed=0)
    assert nx.utils.graphs_equal(graph, nx_before)
    for key in data_before.keys():
        before, after = data_before[key], data[key]
        assert torch.equal(after, before) if isinstance(before, torch.Tensor) else after == before
    assert sorted(data.keys()) == sorted(data_before.keys())
    assert (matrix != matrix_before).nnz == 0


@pytest.mark.parametrize("make", GENERATORS)
def test_params_round_trip_and_repr(make):
    model = make()
    params = model.get_params()
    assert params["random_state"] == 0
    clone = type(model)(**params)
    assert clone.get_params() == params
    assert "random_state=0" in repr(model)
    assert model.set_params(random_state=3) is model and model.random_state == 3
    with pytest.raises(ValueError, match="unknown parameter 'nope'"):
        model.set_params(nope=1)


# ----------------------------------------------------------------------------------------------
# Erdos-Renyi
# ----------------------------------------------------------------------------------------------


def test_erdos_renyi_keeps_n_and_m_exactly(community):
    model = ErdosRenyi(random_state=0).fit(community)
    m = community.num_edges // 2
    for seed in range(3):
        assert model.sample(seed=seed).num_edges == 2 * m
    assert model.sample(seed=0, num_edges=10).num_edges == 20
    assert model.sample(seed=0, num_edges=0).num_edges == 0


def test_erdos_renyi_dense_requests_and_complete_graph():
    model = ErdosRenyi().fit(nx.path_graph(12))
    dense = model.sample(seed=0, num_edges=50)  # 50 of 66 pairs: the enumerating branch
    _check_contract(dense, 12)
    assert dense.num_edges == 100
    complete = model.sample(seed=0, num_edges=66)
    assert complete.num_edges == 132 and (_degrees(complete) == 11).all()


def test_erdos_renyi_pairs_are_uniform():
    # every pair of a 6-node graph equally likely: each appears in m / 15 of the samples
    model = ErdosRenyi(random_state=1).fit(nx.path_graph(6))  # m = 5 of 15 pairs
    counts = np.zeros(36)
    for seed in range(600):
        counts[_keys(model.sample(seed=seed))] += 1
    upper = counts.reshape(6, 6)[np.triu_indices(6, 1)] / 600
    assert np.abs(upper - 5 / 15).max() < 0.07


# ----------------------------------------------------------------------------------------------
# configuration model
# ----------------------------------------------------------------------------------------------


def test_configuration_model_preserves_degrees_up_to_removed_edges():
    graph = to_graph(nx.powerlaw_cluster_graph(300, 3, 0.3, seed=1))
    model = ConfigurationModel(random_state=0).fit(graph)
    train_degrees = _degrees(graph)
    assert np.array_equal(model.degrees_, train_degrees)
    m = graph.num_edges // 2
    total_removed = 0
    for seed in range(5):
        sample = model.sample(seed=seed)
        removed = sample.removed_self_loops + sample.removed_multi_edges
        assert sample.num_edges // 2 + removed == m
        deficit = train_degrees - _degrees(sample)
        assert (deficit >= 0).all()
        assert deficit.sum() == 2 * removed
        total_removed += removed
    assert 0 < total_removed / 5 < 0.08 * m  # a few edges lost (about 5% here), mostly between hubs


def test_configuration_model_on_a_regular_graph_loses_only_what_it_reports():
    model = ConfigurationModel().fit(nx.random_regular_graph(4, 40, seed=0))
    sample = model.sample(seed=3)
    degrees = _degrees(sample)
    assert degrees.max() <= 4
    assert (4 - degrees).sum() == 2 * (sample.removed_self_loops + sample.removed_multi_edges)


def test_configuration_model_rejects_a_different_edge_count():
    model = ConfigurationModel().fit(nx.cycle_graph(8))
    sample = model.sample(seed=0, num_edges=8)  # the training count is accepted
    assert sample.num_edges // 2 + sample.removed_self_loops + sample.removed_multi_edges == 8
    with pytest.raises(ValueError, match="degree sequence fixes the number of edges at 8"):
        model.sample(seed=0, num_edges=5)


# ----------------------------------------------------------------------------------------------
# degree-corrected SBM
# ----------------------------------------------------------------------------------------------


def _block_counts(data, labels, num_blocks):
    uv, _ = undirected_edges(data)
    a, b = labels[uv[0]], labels[uv[1]]
    counts = np.zeros((num_blocks, num_blocks))
    np.add.at(counts, (np.minimum(a, b), np.maximum(a, b)), 1)
    return counts


def test_dcsbm_mle_parameters_on_a_planted_partition():
    graph, labels = _planted()
    data = to_graph(graph)
    model = DegreeCorrectedSBM(labels=labels, random_state=0).fit(data)
    assert model.num_blocks_ == 4 and np.array_equal(model.labels_, labels)
    theta = model.degree_propensity_
    np.testing.assert_allclose(np.bincount(labels, weights=theta), np.ones(4), rtol=1e-12)
    counts = _block_counts(data, labels, 4)
    np.testing.assert_array_equal(model.block_edges_, counts + np.triu(counts, 1).T)
    np.testing.assert_allclose(theta, _degrees(data) / np.bincount(labels, weights=_degrees(data))[labels])


def test_dcsbm_samples_match_expected_block_edge_counts():
    graph, labels = _planted()
    data = to_graph(graph)
    model = DegreeCorrectedSBM(labels=torch.from_numpy(labels), random_state=0).fit(data)
    target = _block_counts(data, labels, 4)
    samples = [model.sample(seed=seed) for seed in range(20)]
    mean_counts = np.mean([_block_counts(s, labels, 4) for s in samples], axis=0)
    upper = np.triu_indices(4)
    # Poisson(mu) averaged over 20 samples: standard error sqrt(mu / 20) < 5% of mu for mu >= 20
    np.testing.assert_allclose(mean_counts[upper], target[upper], rtol=0.1)
    assert abs(mean_counts.sum() / target.sum() - 1) < 0.02
    # degrees follow the training degrees (propensities), not a flat profile
    mean_degrees = np.mean([_degrees(s) for s in samples], axis=0)
    assert np.corrcoef(mean_degrees, _degrees(data))[0, 1] > 0.8


def test_dcsbm_fixed_edge_count_is_exact():
    graph, labels = _planted()
    model = DegreeCorrectedSBM(labels=labels, random_state=0).fit(graph)
    assert model.sample(seed=0, num_edges=1000).num_edges == 2000
    assert model.sample(seed=1, num_edges=model.num_edges_).num_edges == 2 * model.num_edges_


def test_dcsbm_spectral_blocks_recover_a_planted_partition():
    graph, labels = _planted(p_in=0.3, p_out=0.01)
    model = DegreeCorrectedSBM(num_blocks=4, random_state=0).fit(graph)
    found = model.labels_
    assert model.num_blocks_ == 4
    contingency = np.zeros((4, 4), dtype=int)
    np.add.at(contingency, (labels, found), 1)
    assert (contingency.max(axis=1) >= 48).all()  # each planted block lands (almost) in one found block
    again = DegreeCorrectedSBM(num_blocks=4, random_state=0).fit(graph)
    assert np.array_equal(again.labels_, found)  # seeded: the same blocks every time


def test_dcsbm_spectral_blocks_on_a_larger_graph_use_the_sparse_solver():
    probs = [[0.05 if i == j else 0.002 for j in range(3)] for i in range(3)]
    graph = nx.stochastic_block_model([250, 250, 250], probs, seed=2)
    labels = np.repeat(np.arange(3), 250)
    model = DegreeCorrectedSBM(num_blocks=3, random_state=0).fit(graph)
    contingency = np.zeros((3, 3), dtype=int)
    np.add.at(contingency, (labels, model.labels_), 1)
    assert (contingency.max(axis=1) >= 240).all()


def test_dcsbm_complete_block_pairs_stay_simple():
    # two cliques joined by one edge: the dense branch of the pair sampler, and capped counts
    graph = nx.disjoint_union(nx.complete_graph(6), nx.complete_graph(6))
    graph.add_edge(0, 6)
    labels = [0] * 6 + [1] * 6
    model = DegreeCorrectedSBM(labels=labels, random_state=0).fit(graph)
    for seed in range(5):
        sample = model.sample(seed=seed)
        _check_contract(sample, 12)
        assert sample.num_edges // 2 <= 15 + 15 + 36


def test_dcsbm_parameter_errors():
    graph, labels = _planted()
    with pytest.raises(ValueError, match="give either labels= .* or num_blocks="):
        DegreeCorrectedSBM().fit(graph)
    with pytest.raises(ValueError, match=r"labels must have shape \(200,\)"):
        DegreeCorrectedSBM(labels=labels[:10]).fit(graph)
    with pytest.raises(ValueError, match="num_blocks=3 but labels has 4 distinct values"):
        DegreeCorrectedSBM(num_blocks=3, labels=labels).fit(graph)
    with pytest.raises(ValueError, match="num_blocks must be >= 1"):
        DegreeCorrectedSBM(num_blocks=0).fit(graph)
    with pytest.raises(ValueError, match="num_blocks=201 exceeds the 200 nodes"):
        DegreeCorrectedSBM(num_blocks=201).fit(graph)


def test_distinct_pairs_weights_and_no_repeats():
    rng = np.random.default_rng(0)
    nodes = np.arange(5)
    p = np.array([0.6, 0.1, 0.1, 0.1, 0.1])
    hits = np.zeros(25)
    for _ in range(400):
        keys = _distinct_pairs(rng, 1, nodes, p, nodes, p, 5, same=True)
        hits[keys] += 1
    # one pair: P({0, j}) = 2 * 0.6 * 0.1 / (1 - sum p^2) = 0.2 for each j; the 6 others share 0.2
    assert abs(hits[[1, 2, 3, 4]].sum() / 400 - 0.8) < 0.06
    keys = _distinct_pairs(rng, 9, nodes, p, nodes, p, 5, same=True)  # 9 of 10 pairs: dense branch
    assert np.unique(keys).size == 9 and (keys // 5 < keys % 5).all()


# ----------------------------------------------------------------------------------------------
# CELL
# ----------------------------------------------------------------------------------------------


def test_cell_reaches_edge_overlap_target_and_loss_decreases(fitted_cell, community):
    model = fitted_cell
    assert model.converged_ and model.edge_overlap_ >= 0.5
    history = model.history_
    assert isinstance(history, CELLHistory)
    assert len(history.loss) == model.n_epochs_
    assert history.eval_epochs == list(range(10, model.n_epochs_ + 1, 10))
    assert history.edge_overlap[-1] == model.edge_overlap_
    assert history.loss[-1] < 0.7 * history.loss[0]
    assert np.diff(history.edge_overlap).min() > -0.05  # overlap grows as the walk is fitted
    overlaps = [_overlap(model.sample(seed=seed), community) for seed in range(3)]
    assert min(overlaps) > 0.4  # fresh samples overlap about as much as the last evaluation
    assert model.source_factors_.shape == (community.num_nodes, 9)
    assert model.source_factors_.dtype == torch.float32


def test_cell_sample_has_m_edges_and_no_isolated_nodes(fitted_cell, community):
    m = community.num_edges // 2
    for seed in range(3):
        sample = fitted_cell.sample(seed=seed)
        assert sample.num_edges == 2 * m
        assert _degrees(sample).min() >= 1
    bigger = fitted_cell.sample(seed=0, num_edges=m + 100)
    assert bigger.num_edges == 2 * (m + 100)
    tiny = fitted_cell.sample(seed=0, num_edges=1)  # the first stage alone covers every node
    assert _degrees(tiny).min() >= 1 and tiny.num_edges // 2 <= community.num_nodes


def test_cell_same_random_state_same_model_different_differs(community):
    a = CELL(eo_target=0.5, random_state=7).fit(community)
    b = CELL(eo_target=0.5, random_state=7).fit(community)
    c = CELL(eo_target=0.5, random_state=8).fit(community)
    assert torch.equal(a.source_factors_, b.source_factors_)
    assert a.history_.loss == b.history_.loss
    assert torch.equal(a.sample(seed=0).edge_index, b.sample(seed=0).edge_index)
    assert not torch.equal(a.source_factors_, c.source_factors_)
    assert not torch.equal(a.sample(seed=0).edge_index, c.sample(seed=0).edge_index)
    refit = a.fit(community)  # refitting restarts from random_state
    assert torch.equal(refit.source_factors_, b.source_factors_)


def test_cell_scores_are_the_symmetrised_stationary_flows(fitted_cell, community):
    model = fitted_cell
    transition = torch.softmax(model.source_factors_.double() @ model.target_factors_.double().T, dim=1).numpy()
    pi = model.stationary_
    np.testing.assert_allclose(pi.sum(), 1.0, rtol=1e-6)
    np.testing.assert_allclose(pi @ transition, pi, atol=1e-5 * pi.max())
    n = community.num_nodes
    rng = np.random.default_rng(0)
    pairs = rng.integers(n, size=(2, 500))
    pairs = pairs[:, pairs[0] != pairs[1]]
    expected = pi[pairs[0]] * transition[pairs[0], pairs[1]] + pi[pairs[1]] * transition[pairs[1], pairs[0]]
    np.testing.assert_allclose(model.score_pairs(pairs), expected, rtol=1e-3)
    np.testing.assert_array_equal(model.score_pairs(pairs), model.score_pairs(pairs[::-1]))
    assert model.score_pairs(torch.tensor([[3], [3]])).tolist() == [0.0]
    assert model.score_pairs(pairs).dtype == np.float64


def test_cell_scores_rank_training_edges_first(fitted_cell, community):
    uv, _ = undirected_edges(community)
    rng = np.random.default_rng(1)
    n = community.num_nodes
    negatives = rng.integers(n, size=(2, 4 * uv.shape[1]))
    negatives = negatives[:, ~np.isin(negatives[0] * n + negatives[1], _keys(community))]
    negatives = negatives[:, negatives[0] != negatives[1]]
    pos, neg = fitted_cell.score_pairs(uv), fitted_cell.score_pairs(negatives)
    auc = (pos[:, None] > neg[None, :]).mean()
    assert auc > 0.95


def test_cell_loss_gradient_matches_autograd():
    torch.manual_seed(0)  # test-only; the library never seeds globally
    graph = to_graph(nx.karate_club_graph())
    uv, _ = undirected_edges(graph)
    row, col = graph.edge_index
    n = graph.num_nodes
    problem = walk_problem(uv, n, torch.device("cpu"))
    source = torch.randn(n, 3, dtype=torch.float64, requires_grad=True)
    target = torch.randn(n, 3, dtype=torch.float64, requires_grad=True)
    loss = _walk_loss().apply(source, target, problem)
    log_p = torch.log_softmax(source @ target.T, dim=1)
    reference = -log_p[row, col].sum() / row.numel()
    torch.testing.assert_close(loss, reference)
    assert torch.autograd.gradcheck(
        lambda s, t: _walk_loss().apply(s, t, problem), (source, target), eps=1e-6, atol=1e-5
    )


def _row_function(scores):
    return lambda start, stop, first=0: scores[start:stop, first:].clone()


def test_cell_passes_over_row_blocks_match_one_block(monkeypatch, fitted_cell, community):
    uv, _ = undirected_edges(community)
    n = community.num_nodes
    problem = walk_problem(uv, n, torch.device("cpu"))
    source, target = fitted_cell.source_factors_, fitted_cell.target_factors_
    pi = torch.from_numpy(fitted_cell.stationary_).float()
    whole = walk_pass(source, target, problem, stationary=pi)
    whole_pi, whole_lse, _ = stationary_law(source, target, problem.degrees)
    whole_rows = score_rows(source, target, whole_lse, whole_pi)(0, n)
    monkeypatch.setattr("graphwgan.synthesis.blocks._CHUNK_ENTRIES", 7 * n)  # 35 blocks of 7 rows
    monkeypatch.setattr("graphwgan.synthesis.exact_walk._DENSE_CACHE_ENTRIES", 0)  # recompute every product
    monkeypatch.setattr("graphwgan.synthesis.stationary._DENSE_CACHE_ENTRIES", 0)
    blocked = walk_pass(source, target, problem, stationary=pi)
    assert blocked.loss == pytest.approx(whole.loss, rel=1e-6)
    for a, b in [(blocked.lse, whole.lse), (blocked.flow, whole.flow), (blocked.grad_source, whole.grad_source),
                 (blocked.grad_target, whole.grad_target)]:
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)
    blocked_pi, blocked_lse, _ = stationary_law(source, target, problem.degrees)
    torch.testing.assert_close(blocked_pi, whole_pi, rtol=1e-4, atol=1e-8)
    rows = score_rows(source, target, blocked_lse, blocked_pi)
    torch.testing.assert_close(torch.cat([rows(s, min(n, s + 7)) for s in range(0, n, 7)]), whole_rows,
                               rtol=1e-4, atol=1e-12)
    torch.testing.assert_close(rows(10, 17, 12), whole_rows[10:17, 12:], rtol=1e-4, atol=1e-12)


def _dense_reference_keys(scores, num_edges, generator):
    """The paper's two sampling stages over a dense score matrix, drawn in the library's order."""
    n = scores.shape[0]
    cumulative = scores.double().cumsum(dim=1)
    uniform = torch.rand(n, 1, generator=generator, dtype=torch.float64)
    first = torch.searchsorted(cumulative, uniform * cumulative[:, -1:], right=True).squeeze(1).clamp(max=n - 1)
    nodes = torch.arange(n)
    first_keys = torch.unique(torch.minimum(nodes, first) * n + torch.maximum(nodes, first))
    key = torch.rand((n, n), generator=generator, dtype=torch.float32).log().neg().log() - scores.log()
    key[nodes[None, :] <= nodes[:, None]] = math.inf
    key.view(-1)[first_keys] = math.inf
    rest = torch.topk(key.view(-1), num_edges - first_keys.numel(), largest=False).indices
    return torch.sort(torch.cat([first_keys, rest])).values


def test_cell_matches_a_dense_reference(fitted_cell, community):
    n = community.num_nodes
    source, target = fitted_cell.source_factors_.double(), fitted_cell.target_factors_.double()
    transition = torch.softmax(source @ target.T, dim=1)
    values, vectors = np.linalg.eig(transition.numpy().T)
    pi = np.real(vectors[:, np.argmax(values.real)])
    pi = pi / pi.sum()
    np.testing.assert_allclose(fitted_cell.stationary_, pi, rtol=1e-4, atol=1e-9)
    flow = torch.from_numpy(pi)[:, None] * transition
    scores = (flow + flow.T).float().clamp(min=torch.finfo(torch.float32).tiny)
    scores.fill_diagonal_(0.0)
    rows = score_rows(fitted_cell.source_factors_, fitted_cell.target_factors_, fitted_cell._lse, fitted_cell._pi)
    torch.testing.assert_close(rows(0, n), scores, rtol=1e-4, atol=1e-12)
    m = community.num_edges // 2
    for seed in range(3):
        expected = _dense_reference_keys(scores, m, torch.Generator().manual_seed(seed))
        drawn = cell_sample_keys(rows, n, m, torch.Generator().manual_seed(seed))
        assert torch.equal(drawn, expected)


def test_cell_sampler_draws_without_replacement_proportional_to_scores():
    # 4 nodes; after the first stage, the remaining pair is drawn proportional to the scores
    scores = torch.tensor(
        [[0, 1, 1e-9, 1e-9], [1, 0, 1e-9, 1e-9], [1e-9, 1e-9, 0, 1], [1e-9, 1e-9, 1, 0]], dtype=torch.float32
    )
    generator = torch.Generator().manual_seed(0)
    keys = cell_sample_keys(_row_function(scores), 4, 2, generator)
    assert keys.tolist() == [0 * 4 + 1, 2 * 4 + 3]  # each node picks its only likely partner
    full = cell_sample_keys(_row_function(scores), 4, 6, generator)  # all 6 pairs: a complete graph
    assert full.tolist() == [1, 2, 3, 6, 7, 11]
    # stage 1 almost always picks {0,1} and {2,3}; stage 2 then draws one of {0,2},{0,3},{1,2},{1,3}
    # with weights 1:1:1:3, so {1,3} takes about half of the extra edges
    scores = torch.tensor([[0, 50, 1, 1], [50, 0, 1, 3], [1, 1, 0, 50], [1, 3, 50, 0]], dtype=torch.float32)
    hits = {}
    for _ in range(600):
        extra = set(cell_sample_keys(_row_function(scores), 4, 3, generator).tolist()) - {1, 11}
        for key in extra:
            hits[key] = hits.get(key, 0) + 1
    total = sum(hits.values())
    assert abs(hits.get(1 * 4 + 3, 0) / total - 0.5) < 0.08


def test_cell_parameter_errors(community):
    with pytest.raises(ValueError, match="rank must be >= 1"):
        CELL(rank=0).fit(community)
    with pytest.raises(TypeError, match="rank must be an int"):
        CELL(rank=2.5).fit(community)
    for bad in (0.0, 1.5, -0.1):
        with pytest.raises(ValueError, match=r"eo_target must be in \(0.0, 1.0\]"):
            CELL(eo_target=bad).fit(community)
    with pytest.raises(TypeError, match="eo_target must be a finite real"):
        CELL(eo_target=float("nan")).fit(community)
    with pytest.raises(ValueError, match=r"lr must be in \(0.0, inf\)"):
        CELL(lr=0).fit(community)
    with pytest.raises(ValueError, match="max_epochs must be >= 1"):
        CELL(max_epochs=0).fit(community)
    with pytest.raises(ValueError, match="eval_every must be >= 1"):
        CELL(eval_every=0).fit(community)
    with pytest.raises(ValueError, match="device='banana' is not a torch device"):
        CELL(device="banana").fit(community)


def test_cell_warns_when_the_target_is_not_reached(community):
    with pytest.warns(RuntimeWarning, match="below eo_target=1.0"):
        model = CELL(eo_target=1.0, max_epochs=3, eval_every=10, random_state=0).fit(community)
    assert not model.converged_ and model.n_epochs_ == 3 and model.history_.eval_epochs == [3]
    _check_contract(model.sample(seed=0), community.num_nodes)


def test_cell_score_pairs_errors(fitted_cell):
    with pytest.raises(NotFittedError, match="CELL.score_pairs: this generator is not fitted"):
        CELL().score_pairs(np.array([[0], [1]]))
    with pytest.raises(ValueError, match=r"pairs must have shape \(2, k\)"):
        fitted_cell.score_pairs(np.zeros((3, 2), dtype=int))
    with pytest.raises(TypeError, match="integer node ids"):
        fitted_cell.score_pairs(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="node ids must be in 0..239"):
        fitted_cell.score_pairs(np.array([[0], [240]]))


def test_cell_refuses_a_graph_past_the_memory(monkeypatch, community):
    monkeypatch.setattr("graphwgan.synthesis.walk_model._physical_memory", lambda: 10**6)
    with pytest.raises(ValueError, match=r"CELL: the training graph \(240 nodes, \d+ edges\) needs about"):
        CELL(random_state=0).fit(community)


def test_cell_save_load_round_trip(tmp_path, fitted_cell, community):
    path = tmp_path / "cell.pt"
    fitted_cell.save(path)
    loaded = CELL.load(str(path))
    assert type(loaded) is CELL and loaded.get_params() == fitted_cell.get_params()
    assert torch.equal(loaded.source_factors_, fitted_cell.source_factors_)
    np.testing.assert_array_equal(loaded.stationary_, fitted_cell.stationary_)
    assert loaded.history_ == fitted_cell.history_ and loaded.n_epochs_ == fitted_cell.n_epochs_
    pairs = np.array([[0, 5, 9], [1, 7, 200]])
    np.testing.assert_array_equal(loaded.score_pairs(pairs), fitted_cell.score_pairs(pairs))
    assert torch.equal(loaded.sample(seed=4).edge_index, fitted_cell.sample(seed=4).edge_index)
    # the fitted generator travels too: unseeded samples continue where the saved model was
    fresh = CELL(eo_target=0.5, random_state=5).fit(community)
    fresh.save(path)
    again = CELL.load(path)
    assert torch.equal(again.sample().edge_index, fresh.sample().edge_index)


def test_cell_save_load_errors(tmp_path, fitted_cell):
    with pytest.raises(NotFittedError, match="CELL.save: this generator is not fitted"):
        CELL().save(tmp_path / "never.pt")
    with pytest.raises(FileNotFoundError, match="no file at"):
        CELL.load(tmp_path / "missing.pt")
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(3)}, other)
    with pytest.raises(ValueError, match="is not a graphwgan synthesizer file"):
        CELL.load(other)
    text = tmp_path / "text.pt"
    text.write_text("hello")
    with pytest.raises(ValueError, match="is not a graphwgan synthesizer file"):
        CELL.load(text)
    path = tmp_path / "cell.pt"
    fitted_cell.save(path)
    state = torch.load(path, weights_only=True)
    state["version"] = 99
    torch.save(state, path)
    with pytest.raises(ValueError, match="format version 99, but this graphwgan reads version 1"):
        CELL.load(path)
    with pytest.raises(TypeError, match="path must be a str or os.PathLike"):
        fitted_cell.save(3)


@pytest.mark.slow
def test_cell_on_cora_ml_training_graph(capsys):
    from graphwgan.datasets import data_dir

    try:
        path = data_dir() / "splits" / "cell_CORA-ML_train.npz"
    except FileNotFoundError as err:
        pytest.skip(f"shared data folder is absent: {err}")
    if not path.is_file():
        pytest.skip(f"the CELL Cora-ML training split is absent: {path} does not exist")
    adjacency = sp.load_npz(path)
    start = time.perf_counter()
    model = CELL(rank=9, eo_target=0.52, random_state=0).fit(adjacency)
    seconds = time.perf_counter() - start
    assert model.converged_ and model.edge_overlap_ >= 0.52
    sample = model.sample(seed=0)
    _check_contract(sample, adjacency.shape[0])
    assert sample.num_edges == adjacency.nnz
    ei = sample.edge_index.numpy()
    a = sp.csr_array((np.ones(ei.shape[1]), (ei[0], ei[1])), shape=adjacency.shape)
    triangles = int(round((a @ a @ a).diagonal().sum() / 6))
    max_degree = int(a.sum(axis=1).max())
    with capsys.disabled():
        print(
            f"\nCELL on Cora-ML train ({adjacency.shape[0]} nodes, {adjacency.nnz // 2} edges): "
            f"{seconds:.1f} s fit ({model.fit_seconds_:.1f} s training), {model.n_epochs_} epochs, "
            f"EO {model.edge_overlap_:.3f}; sample max degree {max_degree}, triangles {triangles}"
        )
    assert 100 < max_degree < 300 and 500 < triangles < 3000
