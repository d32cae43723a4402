import networkx as nx
import numpy as np
import pytest
import torch

from graphwgan import metrics
from graphwgan.synthesis import CELL, GraphSynthesizer, LowRankWalkModel


@pytest.fixture(scope="module")
def clustered():
    return nx.powerlaw_cluster_graph(300, 3, 0.5, seed=0)


def test_fit_sample_and_the_transport_term_adds_triangles(clustered):
    cell = [CELL(eo_target=0.5, random_state=s).fit(clustered) for s in range(3)]
    ours = [GraphSynthesizer(eo_target=0.5, random_state=s).fit(clustered) for s in range(3)]
    assert all(model.converged_ for model in ours)
    tri_cell = np.mean([metrics.triangle_count(m.sample(seed=k)) for m in cell for k in range(3)])
    tri_ours = np.mean([metrics.triangle_count(m.sample(seed=k)) for m in ours for k in range(3)])
    print(f"triangles: real {metrics.triangle_count(clustered)}, CELL {tri_cell:.0f}, GraphSynthesizer {tri_ours:.0f}")
    assert tri_ours > tri_cell
    sample = ours[0].sample(seed=0)
    assert sample.num_nodes == 300
    assert sample.num_edges // 2 == clustered.number_of_edges()
    row, col = sample.edge_index
    assert not torch.any(row == col)


def test_zero_transport_weight_is_cell(clustered):
    for shared in ({"rank": 9, "init": "random", "eval_every": 5, "lr": 0.1},
                   {"rank": 16, "init": "spectral", "eval_every": 2, "lr": 0.05}):
        cell = CELL(eo_target=0.5, random_state=1, **shared).fit(clustered)
        plain = GraphSynthesizer(transport_weight=0.0, critic_weight=None, eo_target=0.5, random_state=1,
                                 **shared).fit(clustered)
        torch.testing.assert_close(cell.source_factors_, plain.source_factors_)
        assert torch.equal(cell.sample(seed=3).edge_index, plain.sample(seed=3).edge_index)


def test_estimator_contract(clustered):
    model = GraphSynthesizer(transport_weight=2.0, random_state=0)
    assert model.get_params()["transport_weight"] == 2.0
    assert model.set_params(transport_cap=2.0) is model
    with pytest.raises(ValueError, match="fit"):
        model.sample()
    before = nx.to_dict_of_dicts(clustered)
    model.fit(clustered)
    assert nx.to_dict_of_dicts(clustered) == before
    first, second = model.to_networkx(seed=0), model.to_networkx(seed=0)
    assert isinstance(first, nx.Graph) and nx.utils.graphs_equal(first, second)
    pairs = np.array([[0, 1, 2], [5, 6, 7]])
    scores = model.score_pairs(pairs)
    assert scores.shape == (3,) and np.all(scores > 0)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"transport_weight": -1.0}, "transport_weight"),
    ({"transport_cap": 0.5}, "transport_cap"),
    ({"rank": 0}, "rank must be >= 1"),
])
def test_bad_parameters(clustered, kwargs, match):
    with pytest.raises(ValueError, match=match):
        GraphSynthesizer(**kwargs).fit(clustered)


def _dense_reference_loss(source, target, uv, n, weight, cap):
    """CE + transport with the dense capped-miss matrix, as GraphSynthesizer defined it before row blocks."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import shortest_path

    adjacency = sp.csr_array((np.ones(2 * uv.shape[1]), (np.r_[uv[0], uv[1]], np.r_[uv[1], uv[0]])), shape=(n, n))
    miss = np.minimum(shortest_path(adjacency, unweighted=True, directed=False) - 1.0, cap)
    np.fill_diagonal(miss, min(1.0, cap))
    row = torch.from_numpy(np.r_[uv[0], uv[1]])
    col = torch.from_numpy(np.r_[uv[1], uv[0]])
    degrees = torch.bincount(row, minlength=n).double()
    log_p = torch.log_softmax(source @ target.T, dim=1)
    cross_entropy = -log_p[row, col].sum() / row.numel()
    transport = (weight * degrees / degrees.sum() * (log_p.exp() * torch.from_numpy(miss)).sum(dim=1)).sum()
    return cross_entropy + transport


@pytest.mark.parametrize("cap", [3.0, 2.5, 1.0])
def test_fused_loss_matches_the_dense_definition_and_its_gradient_checks(cap):
    from graphwgan.graph import to_graph, undirected_edges
    from graphwgan.synthesis.balls import transport_ball
    from graphwgan.synthesis.exact_walk import _walk_loss, walk_problem

    graph = nx.disjoint_union(nx.karate_club_graph(), nx.path_graph(5))  # two components: infinite distances
    uv, _ = undirected_edges(to_graph(graph))
    n = graph.number_of_nodes()
    problem = walk_problem(uv, n, torch.device("cpu"))
    problem.transport = transport_ball(uv, n, 0.7, cap, torch.device("cpu"), None)
    generator = torch.Generator().manual_seed(0)
    source = torch.randn(n, 3, dtype=torch.float64, generator=generator, requires_grad=True)
    target = torch.randn(n, 3, dtype=torch.float64, generator=generator, requires_grad=True)
    loss = _walk_loss().apply(source, target, problem)
    reference = _dense_reference_loss(source, target, uv, n, 0.7, cap)
    torch.testing.assert_close(loss, reference, rtol=1e-10, atol=1e-12)
    loss.backward()
    expected = torch.autograd.grad(_dense_reference_loss(source, target, uv, n, 0.7, cap), (source, target))
    torch.testing.assert_close(source.grad, expected[0], rtol=1e-8, atol=1e-10)
    torch.testing.assert_close(target.grad, expected[1], rtol=1e-8, atol=1e-10)
    if cap == 3.0:  # the finite-difference check once (it costs hundreds of passes)
        assert torch.autograd.gradcheck(lambda s, t: _walk_loss().apply(s, t, problem), (source, target),
                                        eps=1e-6, atol=1e-5)


def test_transport_balls_hold_the_hop_distances():
    import scipy.sparse as sp
    from scipy.sparse.csgraph import shortest_path

    from graphwgan.graph import to_graph, undirected_edges
    from graphwgan.synthesis.balls import transport_ball

    graph = nx.disjoint_union(nx.powerlaw_cluster_graph(80, 2, 0.3, seed=1), nx.cycle_graph(7))
    uv, _ = undirected_edges(to_graph(graph))
    n = graph.number_of_nodes()
    hops = shortest_path(sp.csr_array(nx.to_scipy_sparse_array(graph)), unweighted=True, directed=False)
    for cap, reach in [(3.0, 3), (2.5, 3), (1.0, 1)]:
        ball = transport_ball(uv, n, 1.0, cap, torch.device("cpu"), None)
        rows = np.repeat(np.arange(n), np.diff(ball.indptr))
        cols = ball.indices.numpy()
        np.testing.assert_array_equal(ball.hops.numpy(), hops[rows, cols])
        assert ball.indptr[-1] == int((hops <= reach).sum())  # every node within reach, nothing else
        assert ball.gains.tolist() == pytest.approx([cap - 1.0] + [cap - h + 1 for h in range(1, reach + 1)])
    with pytest.raises(ValueError, match="lower transport_cap"):
        transport_ball(uv, n, 1.0, 3.0, torch.device("cpu"), budget=100)


def test_save_load_round_trip_keeps_the_class_and_the_transport_parameters(tmp_path, clustered):
    model = GraphSynthesizer(transport_weight=0.5, transport_cap=2.0, eo_target=0.4, random_state=0).fit(clustered)
    path = tmp_path / "synth.pt"
    model.save(path)
    for loader in (GraphSynthesizer, LowRankWalkModel):
        loaded = loader.load(path)
        assert type(loaded) is GraphSynthesizer and loaded.get_params() == model.get_params()
        assert torch.equal(loaded.sample(seed=2).edge_index, model.sample(seed=2).edge_index)
    with pytest.raises(ValueError, match="holds a 'GraphSynthesizer' model; load it with GraphSynthesizer.load"):
        CELL.load(path)  # siblings: a CELL is not a GraphSynthesizer, nor the other way round
    CELL(eo_target=0.4, random_state=0).fit(clustered).save(path)
    with pytest.raises(ValueError, match="holds a 'CELL' model; load it with CELL.load"):
        GraphSynthesizer.load(path)
    with pytest.raises(ValueError, match="GraphSynthesizer.save: this generator is not fitted"):
        GraphSynthesizer().save(path)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_fit_matches_cpu(clustered):  # pragma: no cover - no GPU on the CI machines
    cpu = GraphSynthesizer(eo_target=0.4, max_epochs=20, random_state=0).fit(clustered)
    gpu = GraphSynthesizer(eo_target=0.4, max_epochs=20, random_state=0, device="cuda").fit(clustered)
    assert gpu.source_factors_.device.type == "cpu"
    torch.testing.assert_close(gpu.source_factors_, cpu.source_factors_, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(gpu.stationary_, cpu.stationary_, rtol=1e-3)
    assert gpu.sample(seed=0).num_edges == cpu.sample(seed=0).num_edges


@pytest.mark.filterwarnings("ignore:GraphSynthesizer. edge overlap:RuntimeWarning")
def test_verbose_shows_a_progress_bar_over_the_epochs(capsys):
    graph = nx.connected_caveman_graph(5, 6)
    GraphSynthesizer(max_epochs=10, eval_every=5, eo_target=1.0, random_state=0, verbose=True).fit(graph)
    err = capsys.readouterr().err
    assert "GraphSynthesizer" in err and "edge_overlap=" in err
    GraphSynthesizer(max_epochs=10, eval_every=5, eo_target=1.0, random_state=0).fit(graph)
    assert capsys.readouterr().err == ""
