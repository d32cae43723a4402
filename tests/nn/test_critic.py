"""Tests for graphwgan.nn.critic: NodeCritic (every backbone) and SetCritic."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
import torch

from graphwgan import to_graph
from graphwgan.distances import distance_matrix
from graphwgan.lipschitz import certify, edge_lipschitz_constant
from graphwgan.nn import BACKBONES, NodeCritic, SetCritic

# a 6-cycle with one chord (0, 3) and a pendant node 6 hanging off node 2
EDGES = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 0), (0, 3), (2, 6)]
NUM_NODES = 7


def _graph():
    return to_graph(nx.Graph(EDGES))


def _features(num_nodes: int = NUM_NODES, channels: int = 3, seed: int = 0) -> torch.Tensor:
    return torch.randn(num_nodes, channels, generator=torch.Generator().manual_seed(seed))


def _build(*args, seed: int = 0, **kwargs) -> NodeCritic:
    """A critic initialised under a local seed (the global RNG is left untouched)."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return NodeCritic(*args, **kwargs)


# --------------------------------------------------------------------------------------------
# NodeCritic: shapes and inputs
# --------------------------------------------------------------------------------------------

INPUTS = {
    "features": {"in_channels": 3},
    "embedding": {"in_channels": 0, "num_nodes": NUM_NODES, "embedding_dim": 4},
    "both": {"in_channels": 3, "num_nodes": NUM_NODES, "embedding_dim": 4},
}


@pytest.mark.parametrize("residual", [True, False])
@pytest.mark.parametrize("inputs", list(INPUTS))
@pytest.mark.parametrize("backbone", BACKBONES)
def test_node_critic_outputs_one_finite_value_per_node(backbone, inputs, residual):
    data = _graph()
    kwargs = INPUTS[inputs]
    critic = _build(hidden_channels=8, num_layers=2, backbone=backbone, residual=residual, **kwargs)
    x = _features() if kwargs["in_channels"] else None
    out = critic(x, data.edge_index)
    assert out.shape == (NUM_NODES,)
    assert out.dtype == torch.float32
    assert torch.isfinite(out).all()
    # the output depends on the parameters: gradients reach the input layer
    out.sum().backward()
    assert critic.input.weight.grad is not None
    assert critic.input.weight.grad.abs().sum() > 0
    if critic.embedding is not None:
        assert critic.embedding.weight.grad.abs().sum() > 0


def test_node_critic_backbones_are_the_advertised_ones():
    assert BACKBONES == ("gcn", "sage", "gin", "gat")
    names = {"gcn": "GCNConv", "sage": "SAGEConv", "gin": "GINConv", "gat": "GATConv"}
    for backbone in BACKBONES:
        critic = _build(3, 8, 2, backbone=backbone)
        assert len(critic.convs) == 2
        assert all(type(conv).__name__ == names[backbone] for conv in critic.convs)
        assert repr(critic) == f"NodeCritic(backbone={backbone!r}, in_channels=3, layers=2, embedding=False)"


def test_node_critic_without_layers_is_a_pointwise_map():
    critic = _build(3, 8, 0)
    x = _features()
    expected = (critic.output.weight @ critic.input(x).T).squeeze(0) + critic.output.bias
    torch.testing.assert_close(critic(x, _graph().edge_index), expected)


def test_residual_changes_the_output():
    x, edge_index = _features(), _graph().edge_index
    with_residual = _build(3, 8, 2, backbone="sage", residual=True)
    without = _build(3, 8, 2, backbone="sage", residual=False)
    without.load_state_dict(with_residual.state_dict())
    assert not torch.allclose(with_residual(x, edge_index), without(x, edge_index))


def test_gcn_uses_edge_weight_and_others_ignore_it():
    data = _graph()
    x = _features()
    lengths = torch.linspace(0.5, 3.0, data.edge_index.shape[1])
    gcn = _build(3, 8, 2, backbone="gcn")
    plain = gcn(x, data.edge_index)
    # GCN reads 1 / length as the edge strength: unit lengths change nothing, others do
    torch.testing.assert_close(gcn(x, data.edge_index, torch.ones(data.edge_index.shape[1])), plain)
    assert not torch.allclose(gcn(x, data.edge_index, lengths), plain)
    sage = _build(3, 8, 2, backbone="sage")
    torch.testing.assert_close(sage(x, data.edge_index, lengths), sage(x, data.edge_index))


# --------------------------------------------------------------------------------------------
# NodeCritic: errors
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"in_channels": 3, "backbone": "gnn"}, r"backbone must be one of \('gcn', 'sage', 'gin', 'gat'\), got 'gnn'"),
        ({"in_channels": 0}, "the critic needs an input"),
        ({"in_channels": 0, "embedding_dim": 0, "num_nodes": 5}, "the critic needs an input"),
        ({"in_channels": 0, "embedding_dim": 4}, "a learned embedding needs num_nodes"),
        ({"in_channels": 3, "embedding_dim": 4, "num_nodes": 0}, "a learned embedding needs num_nodes"),
        ({"in_channels": 3, "backbone": "gat", "hidden_channels": 10, "heads": 4},
         "hidden_channels=10 must be divisible by heads=4"),
        ({"in_channels": -1}, "in_channels and embedding_dim must be >= 0"),
        ({"in_channels": 3, "hidden_channels": 0}, "hidden_channels >= 1"),
        ({"in_channels": 3, "num_layers": -1}, "num_layers >= 0"),
    ],
)
def test_node_critic_rejects_bad_configuration(kwargs, match):
    with pytest.raises(ValueError, match=match):
        NodeCritic(**kwargs)


def test_node_critic_rejects_bad_features():
    critic = _build(3, 8, 2)
    edge_index = _graph().edge_index
    with pytest.raises(ValueError, match=r"built for 3 input features, got x of shape \(7, 2\)"):
        critic(_features(channels=2), edge_index)
    with pytest.raises(ValueError, match=r"built for 3 input features, got x of shape \(7,\)"):
        critic(torch.zeros(NUM_NODES), edge_index)
    with pytest.raises(ValueError, match="built for 3 input features, got x=None"):
        critic(None, edge_index)
    x = _features()
    x[4, 1] = float("nan")
    with pytest.raises(ValueError, match="NaN or infinite"):
        critic(x, edge_index)
    x[4, 1] = float("inf")
    with pytest.raises(ValueError, match="NaN or infinite"):
        critic(x, edge_index)


def test_embedding_critic_rejects_a_graph_of_another_size():
    critic = _build(3, 8, 2, num_nodes=NUM_NODES, embedding_dim=4)
    bigger = to_graph(nx.cycle_graph(NUM_NODES + 3))
    with pytest.raises(ValueError, match="learned embedding covers 7 nodes, the input has 10"):
        critic(_features(NUM_NODES + 3), bigger.edge_index)


@pytest.mark.parametrize("backbone", BACKBONES)
def test_embedding_only_critic_rejects_edges_beyond_its_nodes(backbone):
    critic = _build(0, 8, 2, backbone=backbone, num_nodes=NUM_NODES, embedding_dim=4)
    bigger = to_graph(nx.cycle_graph(NUM_NODES + 3))
    with pytest.raises(ValueError, match="refers to node 9, but the critic's input covers 7 nodes"):
        critic(None, bigger.edge_index)


# --------------------------------------------------------------------------------------------
# NodeCritic: parameters and randomness
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("backbone", BACKBONES)
def test_reset_parameters_changes_parameters(backbone):
    critic = _build(3, 8, 2, backbone=backbone, num_nodes=NUM_NODES, embedding_dim=4)
    before = {name: p.detach().clone() for name, p in critic.named_parameters()}
    with torch.random.fork_rng():
        torch.manual_seed(123)
        critic.reset_parameters()
    after = dict(critic.named_parameters())
    for name in ("embedding.weight", "input.weight", "output.weight"):
        assert not torch.equal(before[name], after[name]), name
    changed = [name for name in before if name.startswith("convs.") and not torch.equal(before[name], after[name])]
    assert changed, "no message-passing parameter was re-initialised"


@pytest.mark.parametrize("backbone", BACKBONES)
def test_node_critic_is_deterministic_under_a_forked_seed(backbone):
    x, edge_index = _features(), _graph().edge_index
    state = torch.random.get_rng_state()
    first = _build(3, 8, 2, backbone=backbone, num_nodes=NUM_NODES, embedding_dim=4, seed=5)
    second = _build(3, 8, 2, backbone=backbone, num_nodes=NUM_NODES, embedding_dim=4, seed=5)
    other = _build(3, 8, 2, backbone=backbone, num_nodes=NUM_NODES, embedding_dim=4, seed=6)
    assert torch.equal(torch.random.get_rng_state(), state)  # the global generator is untouched
    torch.testing.assert_close(first(x, edge_index), second(x, edge_index), rtol=0, atol=0)
    assert not torch.allclose(first(x, edge_index), other(x, edge_index))


# --------------------------------------------------------------------------------------------
# message passing and the graph Lipschitz constant
# --------------------------------------------------------------------------------------------


def test_message_passing_does_not_preserve_the_graph_lipschitz_constant():
    # The input feature d(0, v) is exactly 1-Lipschitz in the graph metric. Without message
    # passing the critic is the affine map v -> w_out . (W_in x_v + b), whose edge constant is
    # exactly |w_out . W_in| times the input's. GCN layers mix neighbours, so the measured constant
    # of the same input and output layers with 3 layers in between is something else, known only
    # by measuring it (certification measures it exactly and repairs it).
    graph = nx.barabasi_albert_graph(300, 3, seed=0)
    data = to_graph(graph)
    distance = distance_matrix(graph)[0]
    x = torch.tensor(distance, dtype=torch.float32)[:, None]
    assert edge_lipschitz_constant(x[:, 0], data.edge_index) == 1.0

    critic = _build(1, 16, 3, backbone="gcn", seed=0)
    pointwise = _build(1, 16, 0, backbone="gcn", seed=0)
    pointwise.input.load_state_dict(critic.input.state_dict())
    pointwise.output.load_state_dict(critic.output.state_dict())
    with torch.no_grad():
        scale = (critic.output.weight @ critic.input.weight).abs().item()
        measured = edge_lipschitz_constant(critic(x, data.edge_index), data.edge_index)
        pointwise_constant = edge_lipschitz_constant(pointwise(x, data.edge_index), data.edge_index)
    assert pointwise_constant == pytest.approx(scale, rel=1e-5)
    assert math.isfinite(measured)
    assert measured > 0
    assert measured != pytest.approx(scale, rel=1e-2)

    # certification turns the critic's output into a 1-Lipschitz potential all the same
    n = data.num_nodes
    mu, nu = np.eye(n)[0], np.full(n, 1.0 / n)
    with torch.no_grad():
        certificate = certify(data, critic(x, data.edge_index), mu, nu)
    assert certificate.lipschitz == pytest.approx(measured, rel=1e-6)
    assert edge_lipschitz_constant(certificate.potential, data.edge_index) <= 1.0 + 1e-9


# --------------------------------------------------------------------------------------------
# SetCritic
# --------------------------------------------------------------------------------------------


def _set_critic():
    return SetCritic(_build(3, 8, 2, backbone="sage"))


def test_set_critic_sums_node_potentials():
    critic = _set_critic()
    x, edge_index = _features(), _graph().edge_index
    sets = torch.tensor([[0, 1, 2], [6, 6, 3], [5, 4, 0]])
    potential = critic.node_critic(x, edge_index).detach()
    scores = critic(x, edge_index, sets)
    assert scores.shape == (3,)
    expected = torch.stack([potential[row].sum() for row in sets])
    torch.testing.assert_close(scores.detach(), expected)
    # a repeated node counts twice
    torch.testing.assert_close(scores[1].detach(), 2 * potential[6] + potential[3])


def test_set_critic_mask_drops_entries():
    critic = _set_critic()
    x, edge_index = _features(), _graph().edge_index
    sets = torch.tensor([[0, 1, 2], [6, 6, 3]])
    mask = torch.tensor([[True, False, True], [False, False, False]])
    potential = critic.node_critic(x, edge_index).detach()
    scores = critic(x, edge_index, sets, mask=mask)
    torch.testing.assert_close(scores.detach(), torch.stack([potential[0] + potential[2], torch.tensor(0.0)]))


def test_set_critic_passes_edge_weight_to_the_node_critic():
    critic = SetCritic(_build(3, 8, 2, backbone="gcn"))
    x, edge_index = _features(), _graph().edge_index
    lengths = torch.linspace(0.5, 3.0, edge_index.shape[1])
    sets = torch.tensor([[0, 1, 2, 3]])
    expected = critic.node_critic(x, edge_index, lengths)[sets].sum(dim=1)
    torch.testing.assert_close(critic(x, edge_index, sets, edge_weight=lengths), expected)
    assert not torch.allclose(critic(x, edge_index, sets), expected)


def test_set_critic_rejects_bad_sets():
    critic = _set_critic()
    x, edge_index = _features(), _graph().edge_index
    with pytest.raises(ValueError, match=r"sets must have shape \(B, T\), got \(3,\)"):
        critic(x, edge_index, torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match=r"node ids outside 0\.\.6"):
        critic(x, edge_index, torch.tensor([[0, 7]]))
    with pytest.raises(ValueError, match=r"node ids outside 0\.\.6"):
        critic(x, edge_index, torch.tensor([[-1, 2]]))
