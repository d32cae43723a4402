import json

import networkx as nx
import numpy as np
import pytest

from graphwgan import cli
from graphwgan.ot import wasserstein


def write_edge_list(path, graph):
    path.write_text("".join(f"{u} {v}\n" for u, v in graph.edges))


def test_w1_reads_files_and_matches_library(tmp_path, capsys):
    graph = nx.cycle_graph(8)
    write_edge_list(tmp_path / "g.txt", graph)
    mu = np.zeros(8)
    mu[0] = 1.0
    np.save(tmp_path / "mu.npy", mu)
    (tmp_path / "nu.txt").write_text("# node mass\n4 0.5\n5 0.5\n")
    status = cli.main(["w1", "--graph", str(tmp_path / "g.txt"), "--mu", str(tmp_path / "mu.npy"),
                       "--nu", str(tmp_path / "nu.txt"), "--json",
                       "--potential-out", str(tmp_path / "f.npy"), "--flow-out", str(tmp_path / "x.npy")])
    assert status == 0
    report = json.loads(capsys.readouterr().out)
    assert report["distance"] == pytest.approx(3.5, rel=1e-12)
    nu = np.zeros(8)
    nu[[4, 5]] = 0.5
    expected = wasserstein(graph, mu, nu)
    np.testing.assert_allclose(np.load(tmp_path / "f.npy"), expected.potential)
    assert np.load(tmp_path / "x.npy").shape == (3, 8)


def test_w1_default_graph_report(capsys):
    assert cli.main(["w1"]) == 0
    out = capsys.readouterr().out
    assert "embedded default graph" in out
    value = float(out.split("W1")[1].split(":")[1].split()[0])
    assert value > 0


def test_w1_one_value_per_line(tmp_path, capsys):
    write_edge_list(tmp_path / "g.txt", nx.path_graph(3))
    (tmp_path / "mu.txt").write_text("1\n0\n0\n")
    (tmp_path / "nu.csv").write_text("0\n0\n1\n")
    assert cli.main(["w1", "--graph", str(tmp_path / "g.txt"), "--mu", str(tmp_path / "mu.txt"),
                     "--nu", str(tmp_path / "nu.csv"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["distance"] == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("mu_text", "match"),
    [
        ("1\n0\n", "3 nodes"),
        ("a b\n", "expected numbers"),
        ("0 1 2\n", "one mass"),
        ("7 1.0\n", "node ids in 0..2"),
        ("2\n0\n0\n", "same total mass"),
    ],
)
def test_w1_bad_mass_files(tmp_path, capsys, mu_text, match):
    write_edge_list(tmp_path / "g.txt", nx.path_graph(3))
    (tmp_path / "mu.txt").write_text(mu_text)
    (tmp_path / "nu.txt").write_text("0\n0\n1\n")
    status = cli.main(["w1", "--graph", str(tmp_path / "g.txt"), "--mu", str(tmp_path / "mu.txt"),
                       "--nu", str(tmp_path / "nu.txt")])
    assert status == 2
    assert match in capsys.readouterr().err


def test_w1_missing_files(tmp_path, capsys):
    assert cli.main(["w1", "--graph", str(tmp_path / "absent.txt")]) == 2
    assert "absent.txt" in capsys.readouterr().err
    assert cli.main(["w1", "--mu", str(tmp_path / "mu.npy")]) == 2
    assert "both --mu and --nu" in capsys.readouterr().err
