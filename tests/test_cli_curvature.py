"""Tests for the ``graphwgan curvature`` command."""

from __future__ import annotations

import csv
import json

import networkx as nx
import numpy as np
import pytest

from graphwgan.cli import main
from graphwgan.curvature import ollivier_ricci


def _edge_list(tmp_path):
    path = tmp_path / "karate.txt"
    graph = nx.karate_club_graph()
    path.write_text("".join(f"{a} {b}\n" for a, b in graph.edges))
    return path


def test_curvature_writes_every_edge(tmp_path, capsys):
    graph_path = _edge_list(tmp_path)
    out = tmp_path / "kappa.csv"
    assert main(["curvature", "--graph", str(graph_path), "-o", str(out), "--no-progress"]) == 0
    report = capsys.readouterr().out
    assert "34 nodes, 78 edges" in report and "curvature  : mean" in report
    with open(out, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 78
    graph = nx.karate_club_graph()
    for a, b in graph.edges:
        graph.edges[a, b].pop("weight")
    expected = ollivier_ricci(graph, verbose=False).edge
    got = {(int(r["u"]), int(r["v"])): float(r["curvature"]) for r in rows}
    assert max(abs(got[min(e), max(e)] - value) for e, value in expected.items()) <= 1e-12


def test_curvature_json_and_options(tmp_path, capsys):
    graph_path = _edge_list(tmp_path)
    assert main(["curvature", "--graph", str(graph_path), "--json", "--alpha", "0.2", "--exp-power", "0",
                 "--no-progress"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["num_edges"] == 78 and summary["alpha"] == 0.2
    assert np.isfinite(summary["mean"]) and summary["min"] <= summary["mean"] <= summary["max"]


def test_curvature_bad_alpha_is_a_clear_error(tmp_path, capsys):
    assert main(["curvature", "--graph", str(_edge_list(tmp_path)), "--alpha", "2", "--no-progress"]) == 2
    assert "alpha must lie in [0, 1]" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["curvature", "--help"]])
def test_curvature_help(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 0 and "Ollivier-Ricci" in capsys.readouterr().out
