import networkx as nx
import numpy as np
import pytest
import torch

from graphwgan import metrics
from graphwgan.baselines import CELL
from graphwgan.synthesis import GraphSynthesizer


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
    cell = CELL(eo_target=0.5, eval_every=5, random_state=1).fit(clustered)
    plain = GraphSynthesizer(transport_weight=0.0, eo_target=0.5, random_state=1).fit(clustered)
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
