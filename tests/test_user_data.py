"""A new user's own graph: their node ids through readers, generators, detectors, the CLI and output files."""

from __future__ import annotations

import csv
import json

import networkx as nx
import numpy as np
import pytest

from graphwgan import cli, to_graph
from graphwgan.io import read_graph, read_masses, write_graph

# a small community graph whose nodes are named by strings
_GRAPH = nx.relabel_nodes(nx.karate_club_graph(), {i: f"member-{i:02d}" for i in range(34)})


def _edge_list(path, graph, label=str):
    path.write_text("".join(f"{label(u)}\t{label(v)}\n" for u, v in graph.edges))
    return path


def test_sparse_integer_ids_make_no_phantom_nodes(tmp_path):
    path = tmp_path / "g.txt"
    path.write_text("10 20\n20 30\n30 10\n1000 20\n")
    data = read_graph(path)
    assert data.num_nodes == 4
    assert data.node_names == ["10", "20", "30", "1000"]
    edges = {tuple(sorted((data.node_names[a], data.node_names[b]))) for a, b in data.edge_index.T.tolist()}
    assert edges == {("10", "20"), ("20", "30"), ("10", "30"), ("1000", "20")}
    one_based = tmp_path / "one.txt"
    one_based.write_text("1 2\n2 3\n")
    assert read_graph(one_based).node_names == ["1", "2", "3"]
    dense = tmp_path / "dense.txt"
    dense.write_text("0 1\n1 2\n")
    assert getattr(read_graph(dense), "node_names", None) is None  # ids that are already 0..n-1 stay as they are


def test_write_graph_uses_the_node_ids_and_reads_back(tmp_path):
    data = read_graph(_edge_list(tmp_path / "g.txt", _GRAPH))
    for suffix in (".txt", ".csv", ".npz"):
        back = read_graph(write_graph(data, tmp_path / f"out{suffix}"))
        assert sorted(back.node_names) == sorted(data.node_names)
        edges = {frozenset((back.node_names[a], back.node_names[b])) for a, b in back.edge_index.T.tolist()}
        assert edges == {frozenset(edge) for edge in _GRAPH.edges}


def test_read_masses_by_node_id(tmp_path):
    names = ["a", "b", "c"]
    (tmp_path / "mu.txt").write_text("c 0.25\nb 0.75\n")
    np.testing.assert_array_equal(read_masses(tmp_path / "mu.txt", 3, names), [0.0, 0.75, 0.25])
    (tmp_path / "pos.txt").write_text("2 1.0\n")  # positions still work when the ids are not names
    np.testing.assert_array_equal(read_masses(tmp_path / "pos.txt", 3, names), [0.0, 0.0, 1.0])
    (tmp_path / "bad.txt").write_text("zz 1.0\n")
    with pytest.raises(ValueError, match=r"line 1: unknown node 'zz'; .*node ids \(e\.g\. a, b, c\)"):
        read_masses(tmp_path / "bad.txt", 3, names)


def test_w1_in_the_users_ids(tmp_path, capsys):
    path = tmp_path / "g.txt"
    path.write_text("x y\ny z\nz w\n")  # a path x - y - z - w
    (tmp_path / "mu.txt").write_text("x 1\n")
    (tmp_path / "nu.txt").write_text("w 0.5\nz 0.5\n")
    status = cli.main(["w1", "--graph", str(path), "--mu", str(tmp_path / "mu.txt"), "--nu", str(tmp_path / "nu.txt"),
                       "--json", "--flow-out", str(tmp_path / "flow.csv"), "--potential-out", str(tmp_path / "f.txt")])
    assert status == 0
    assert json.loads(capsys.readouterr().out)["distance"] == pytest.approx(2.5)  # 0.5 * 3 + 0.5 * 2
    with open(tmp_path / "flow.csv") as handle:
        rows = list(csv.DictReader(handle))
    flow = {(row["u"], row["v"]): float(row["flow"]) for row in rows}
    assert {key for key, value in flow.items() if value != 0} == {("x", "y"), ("y", "z"), ("z", "w")}
    assert flow[("x", "y")] == pytest.approx(1.0)
    assert flow[("z", "w")] == pytest.approx(0.5)
    assert not (tmp_path / "f.txt.npy").exists()
    lines = (tmp_path / "f.txt").read_text().splitlines()
    assert lines[0] == "node\tpotential"
    potential = {name: float(value) for name, value in (line.split("\t") for line in lines[1:])}
    assert potential.keys() == {"x", "y", "z", "w"}
    assert abs(potential["w"] - potential["x"]) == pytest.approx(3.0)  # tight along the path: |f(w) - f(x)| = d(x, w)


def test_generators_keep_the_node_ids(tmp_path):
    from graphwgan.synthesis import ConfigurationModel, GraphSynthesizer

    model = ConfigurationModel(random_state=0).fit(_GRAPH)
    assert model.node_names_ == list(_GRAPH.nodes)
    sample = model.sample(seed=0)
    assert sample.node_names == list(_GRAPH.nodes)
    generated = model.to_networkx(seed=0)
    assert set(generated.nodes) == set(_GRAPH.nodes)
    assert generated.number_of_edges() == sample.num_edges // 2

    synthesizer = GraphSynthesizer(max_epochs=2, eval_every=1, eo_target=1.0, random_state=0)
    with pytest.warns(RuntimeWarning, match="edge overlap"):  # two epochs never reach an overlap of 1
        synthesizer.fit(read_graph(_edge_list(tmp_path / "g.txt", _GRAPH)))
    assert set(synthesizer.to_networkx(seed=0).nodes) == set(_GRAPH.nodes)
    synthesizer.save(tmp_path / "model.pt")
    loaded = GraphSynthesizer.load(tmp_path / "model.pt")
    assert loaded.node_names_ == synthesizer.node_names_
    assert loaded.sample(seed=1).node_names == synthesizer.node_names_


def test_synth_cli_writes_samples_in_the_users_ids(tmp_path, capsys):
    graph = _edge_list(tmp_path / "g.txt", _GRAPH)
    assert cli.main(["synth", "--graph", str(graph), "--max-epochs", "3", "--no-progress",
                     "--out", str(tmp_path / "s.csv")]) == 0
    capsys.readouterr()
    written = read_graph(tmp_path / "s.csv")
    assert set(written.node_names) <= set(_GRAPH.nodes)
    assert all(name.startswith("member-") for name in written.node_names)


def test_score_cli_reports_the_users_ids_without_phantom_nodes(tmp_path, capsys):
    path = tmp_path / "g.txt"
    _edge_list(path, nx.karate_club_graph(), label=lambda node: str(100 + 7 * node))  # sparse integer ids
    assert cli.main(["score", "--graph", str(path), "--detector", "zscore", "--no-progress",
                     "--out", str(tmp_path / "scores.csv"), "--top", "3"]) == 0
    printed = capsys.readouterr().out
    with open(tmp_path / "scores.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 34  # not 100 + 7 * 33 + 1
    assert {row["name"] for row in rows} == {str(100 + 7 * node) for node in range(34)}
    assert "34 nodes" in printed


def test_detector_keeps_ids_and_reads_networkx_features():
    from graphwgan.anomaly import DegreeFeatureZScore

    graph = _GRAPH.copy()
    rng = np.random.default_rng(0)
    for node in graph.nodes:
        graph.nodes[node]["x"] = rng.normal(size=3)
    odd = "member-05"
    graph.nodes[odd]["x"] = np.array([40.0, 40.0, 40.0])  # far from every other node
    detector = DegreeFeatureZScore(contamination=0.1).fit(graph)
    assert detector.feature_source_ == "x"
    assert detector.n_features_in_ == 3
    assert detector.node_names_ == list(graph.nodes)
    assert detector.node_names_[int(np.argmax(detector.decision_scores_))] == odd
    data = to_graph(graph)
    np.testing.assert_allclose(data.x[list(graph.nodes).index(odd)].numpy(), [40.0, 40.0, 40.0])


# -- numeric inputs -----------------------------------------------------------------------------------


def test_complex_masses_are_refused():
    from graphwgan.ot import wasserstein

    graph = nx.path_graph(4)
    mu = np.array([1, 0, 0, 0], dtype=complex) + 1j
    with pytest.raises(TypeError, match=r"mu must hold real numbers, got complex values \(dtype complex128\)"):
        wasserstein(graph, mu, np.array([0, 0, 0, 1.0]))


def test_complex_mass_files_are_refused(tmp_path):
    np.save(tmp_path / "mu.npy", np.array([1 + 1j, 0]))
    with pytest.raises(ValueError, match="complex128 values; masses must be real"):
        read_masses(tmp_path / "mu.npy", 2)


def test_huge_totals_are_refused_clearly_and_large_ones_are_exact():
    from graphwgan.ot import wasserstein

    graph = nx.path_graph(4)
    with pytest.raises(ValueError, match=r"total mass of about 10\^308\.3, above 1e\+200; divide mu and nu"):
        wasserstein(graph, np.array([1e308, 1e308, 0, 0]), np.array([0, 0, 1e308, 1e308]))
    result = wasserstein(graph, np.array([1e150, 1e150, 0, 0]), np.array([0, 0, 1e150, 1e150]))
    assert np.isfinite(result.distance)
    assert result.distance == pytest.approx(4e150, rel=1e-12)  # each unit travels 2 edges: 2e150 * 2


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_low_precision_masses_normalised_in_their_own_dtype_are_accepted(dtype):
    from graphwgan.ot import wasserstein

    n = 1000
    graph = nx.path_graph(n)
    rng = np.random.default_rng(0)
    mu, nu = rng.random(n).astype(dtype), rng.random(n).astype(dtype)
    mu, nu = mu / mu.sum(dtype=dtype), nu / nu.sum(dtype=dtype)  # totals 1 only to the dtype's precision
    exact = wasserstein(graph, mu.astype(np.float64) / mu.astype(np.float64).sum(),
                        nu.astype(np.float64) / nu.astype(np.float64).sum()).distance
    got = wasserstein(graph, mu, nu).distance
    assert got == pytest.approx(exact, rel=float(np.finfo(dtype).eps) * 100)
    with pytest.raises(ValueError, match="same total mass"):  # a real imbalance is still refused
        wasserstein(graph, mu, (nu * dtype(1.01)).astype(dtype))


def test_pyg_graphs_from_networkx_keep_their_weights_as_lengths():
    from torch_geometric.utils import from_networkx

    from graphwgan.ot import wasserstein

    graph = nx.path_graph(3)
    graph[0][1]["weight"] = 2.5
    graph[1][2]["weight"] = 4.0
    data = from_networkx(graph)
    assert "edge_weight" not in data  # PyG stores it as data.weight
    assert sorted(to_graph(data).edge_weight.tolist()) == [2.5, 2.5, 4.0, 4.0]
    result = wasserstein(data, np.array([1.0, 0, 0]), np.array([0, 0, 1.0]))
    assert result.distance == pytest.approx(6.5)  # the networkx path length, not 2 hops
    assert result.distance == pytest.approx(nx.shortest_path_length(graph, 0, 2, weight="weight"))
    with pytest.raises(ValueError, match=r"weight='length' names no edge attribute"):
        to_graph(data, weight="length")


# -- the certified bound --------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [1.0, 1e6, 1e20, 1e34])
def test_certify_never_exceeds_the_exact_distance_whatever_the_potential(scale):
    from graphwgan.lipschitz import certify
    from graphwgan.ot import wasserstein

    graph = nx.connected_watts_strogatz_graph(200, 6, 0.1, seed=0)
    rng = np.random.default_rng(0)
    mu, nu = rng.random(200), rng.random(200) ** 4
    mu, nu = mu / mu.sum(), nu / nu.sum()
    exact = wasserstein(graph, mu, nu).distance  # independent oracle: the network-simplex solve
    for _ in range(5):
        potential = scale * rng.normal(size=200) - 3.0 * scale
        certificate = certify(graph, potential, mu, nu)
        assert np.isfinite(certificate.lower_bound)
        assert certificate.lower_bound <= exact
    with pytest.raises(FloatingPointError, match="NaN or infinite"):
        certify(graph, np.full(200, np.inf), mu, nu)


def test_estimate_with_a_huge_learning_rate_stays_a_bound(data_root):
    from graphwgan import datasets
    from graphwgan.estimate import estimate_wasserstein
    from graphwgan.ot import wasserstein

    graph = datasets.load("cora_ml", root=data_root, largest_component=True)
    n = int(graph.num_nodes)
    rng = np.random.default_rng(0)
    mu, nu = rng.random(n), rng.random(n) ** 4
    mu, nu = mu / mu.sum(), nu / nu.sum()
    exact = wasserstein(graph, mu, nu).distance
    for lr in (1e6, 1e3):  # the critic's outputs run to about 1e34 (lr=1e6) within a few steps
        try:
            result = estimate_wasserstein(graph, mu, nu, lr=lr, max_steps=20, eval_every=10, seed=0, verbose=False)
        except FloatingPointError:
            continue  # refusing a diverged critic is allowed; reporting a bound above W1 is not
        assert np.isfinite(result.lower_bound)
        assert result.lower_bound <= exact
