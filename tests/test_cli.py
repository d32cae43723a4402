import json

import networkx as nx
import numpy as np
import pytest

from graphwgan import cli
from graphwgan.anomaly import AnomalyDetector
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
        ("a b\n", "expected a real number"),
        ("0 1 2\n", "one mass"),
        ("7 1.0\n", "node positions in 0..2"),
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


# ----------------------------------------------------------------------------------------------
# graphwgan synth
# ----------------------------------------------------------------------------------------------


def table_rows(out):
    """The printed statistics table (one row per statistic, one column per graph), by graph name."""
    lines = [line for line in out.splitlines() if line.startswith("| ")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    assert header[0] == "statistic"
    rows = {graph: {} for graph in header[1:]}
    for line in lines[1:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        for graph, cell in zip(header[1:], cells[1:], strict=True):
            rows[graph][cells[0]] = cell
    return rows


def test_synth_writes_readable_samples_and_prints_the_table(tmp_path, capsys):
    from graphwgan.datasets import default_graph
    from graphwgan.io import read_graph

    real = default_graph()
    n, m = int(real.num_nodes), int(real.num_edges) // 2
    status = cli.main(["synth", "--max-epochs", "3", "-n", "2", "--seed", "3", "--out", str(tmp_path / "s.txt"),
                       "--no-progress"])
    assert status == 0
    captured = capsys.readouterr()
    assert "embedded default graph" in captured.out
    rows = table_rows(captured.out)
    assert set(rows) == {"real graph", "sample 0", "sample 1", "mean of 2 samples"}
    assert rows["real graph"]["edges"] == str(m) and rows["real graph"]["edge_overlap"] == ""
    for k in range(2):
        path = tmp_path / f"s_{k}.txt"
        graph = read_graph(path, num_nodes=n)
        assert graph.num_nodes == n and graph.num_edges // 2 == m
        assert int(rows[f"sample {k}"]["edges"]) == m
        assert 0.0 <= float(rows[f"sample {k}"]["edge_overlap"]) <= 1.0
        assert float(rows[f"sample {k}"]["mean_relative_error"]) >= 0.0
    assert not (tmp_path / "s.txt").exists()
    assert (tmp_path / "s_0.txt").read_text() != (tmp_path / "s_1.txt").read_text()
    # 3 epochs do not reach EO 0.52: said on stderr, in one line, and in the report; no bar with --no-progress
    assert "warning" in captured.err and "edge overlap" in captured.err
    assert "NOT reached" in captured.out
    assert "fit:" not in captured.err and "%|" not in captured.err


@pytest.mark.parametrize(("name", "extra"), [("one.npz", []), ("one.csv", []), ("plain", ["--format", "npz"])])
def test_synth_single_sample_formats(tmp_path, capsys, name, extra):
    from graphwgan.io import read_graph

    write_edge_list(tmp_path / "g.txt", nx.karate_club_graph())
    status = cli.main(["synth", "--graph", str(tmp_path / "g.txt"), "--max-epochs", "5", "--out",
                       str(tmp_path / name), "--no-progress", *extra])
    assert status == 0
    path = tmp_path / (name if not extra else name + ".npz")
    graph = read_graph(path, num_nodes=34)
    assert graph.num_nodes == 34 and graph.num_edges // 2 == 78
    if name.endswith(".csv"):
        assert "," in path.read_text().splitlines()[1]
    assert table_rows(capsys.readouterr().out)["real graph"]["edges"] == "78"


def test_synth_same_seed_same_samples(tmp_path, capsys):
    write_edge_list(tmp_path / "g.txt", nx.karate_club_graph())
    for name in ("a.txt", "b.txt"):
        assert cli.main(["synth", "--graph", str(tmp_path / "g.txt"), "--max-epochs", "5", "--seed", "0",
                         "--out", str(tmp_path / name), "--no-progress"]) == 0
    assert (tmp_path / "a.txt").read_text() == (tmp_path / "b.txt").read_text()


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["--graph", "absent.txt"], "no such file"),
        (["--graph", "citeser"], "did you mean the dataset 'citeseer'"),
        (["--num-samples", "0"], r"--num-samples must be in \[1, 1000\], got 0"),
        (["--seed", "-1"], r"--seed must be in \[0, inf\), got -1"),
        (["--eo-target", "0"], r"--eo-target must be in \(0.0, 1.0\], got 0.0"),
        (["--eo-target", "1.5"], r"--eo-target must be in \(0.0, 1.0\], got 1.5"),
        (["--eo-target", "nan"], "--eo-target must be in"),
        (["--max-epochs", "0"], r"--max-epochs must be in \[1, inf\), got 0"),
        (["--out", "samples.json"], "cannot tell the format from the suffix '.json'"),
        (["--out", "samples.txt", "--format", "npz"], "make them agree"),
        (["--graph", "."], "is a folder"),
        (["--out", "blocker/s.txt"], "cannot create the folder 'blocker'"),
    ],
)
def test_synth_bad_input(tmp_path, capsys, monkeypatch, args, match):
    import re

    monkeypatch.chdir(tmp_path)
    (tmp_path / "blocker").write_text("a file where a folder should be\n")
    assert cli.main(["synth", "--no-progress", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("graphwgan synth: error:") and err.count("\n") == 1
    assert re.search(match, err), err


def test_synth_non_numbers_rejected_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["synth", "--num-samples", "two"])
    assert exit_info.value.code == 2
    assert "invalid int value: 'two'" in capsys.readouterr().err


def test_synth_progress_bar_on_a_terminal(monkeypatch, capsys):
    import io
    import sys

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    for flags, shown in (([], True), (["--no-progress"], False)):
        terminal = Terminal()
        monkeypatch.setattr(sys, "stderr", terminal)
        assert cli.main(["synth", "--max-epochs", "5", "-n", "2", *flags]) == 0
        monkeypatch.undo()
        bar = terminal.getvalue()
        # the epoch bar of the model, then the bar over the samples (whose last render tqdm may skip)
        assert ("GraphSynthesizer" in bar and "epoch" in bar and "sample 2/2" in bar) is shown, bar
    assert "| sample 1 |" in capsys.readouterr().out  # a column header of the table


# -- graphwgan score -------------------------------------------------------------------------------


def read_scores(path):
    rows = np.genfromtxt(path, delimiter=",", names=True)
    return rows["node"].astype(int), rows["score"], rows["outlier"].astype(int)


def test_score_writes_one_row_per_node_and_reloads(tmp_path, capsys):
    graph = nx.connected_caveman_graph(6, 8)
    path = tmp_path / "g.txt"
    write_edge_list(path, graph)
    out, saved = tmp_path / "scores.csv", tmp_path / "detector.pt"
    assert cli.main(["score", "--graph", str(path), "--detector", "zscore", "--contamination", "0.25",
                     "-o", str(out), "--save", str(saved), "--no-progress", "--top", "3"]) == 0
    printed = capsys.readouterr().out
    assert "DegreeFeatureZScore" in printed and "top 3 nodes" in printed
    nodes, scores, outlier = read_scores(out)
    assert nodes.tolist() == list(range(48))
    from graphwgan.anomaly import BaseDetector

    detector = BaseDetector.load(saved)
    np.testing.assert_allclose(scores, detector.decision_scores_, rtol=1e-15)
    np.testing.assert_array_equal(outlier, detector.labels_)
    again = tmp_path / "again.csv"
    assert cli.main(["score", "--graph", str(path), "--load", str(saved), "-o", str(again), "--no-progress"]) == 0
    np.testing.assert_array_equal(read_scores(again)[1], scores)


def test_score_evaluates_against_labels(capsys):
    assert cli.main(["score", "--graph", "disney", "--detector", "zscore", "--evaluate", "--top", "0",
                     "--no-progress"]) == 0
    line = next(row for row in capsys.readouterr().out.splitlines() if row.startswith("evaluation"))
    assert "roc_auc" in line and "num_outliers 6" in line


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["--contamination", "0.6"], "--contamination must be in (0.0, 0.5]"),
        (["--contamination", "0"], "--contamination must be in (0.0, 0.5]"),
        (["--seed", "-1"], "--seed must be in [0, inf)"),
        (["--load", "absent.pt"], "--load 'absent.pt': no such file"),
        (["--load", "a.pt", "--save", "b.pt"], "not both"),
        (["--graph", "inj_cor"], "did you mean the dataset 'inj_cora'"),
        (["--detector", "zscore", "--evaluate"], "--evaluate needs outlier labels"),
    ],
)
def test_score_bad_input(args, match, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    if "--evaluate" in args:  # a graph without y
        path = tmp_path / "g.txt"
        write_edge_list(path, nx.path_graph(5))
        args = [*args, "--graph", str(path)]
    assert cli.main(["score", *args, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("graphwgan score: error:") and match in err


def test_score_with_a_saved_detector_of_another_feature_size(tmp_path, capsys):
    saved = tmp_path / "d.pt"
    assert cli.main(["score", "--graph", "disney", "--detector", "zscore", "--save", str(saved), "--top", "0",
                     "--no-progress"]) == 0
    assert cli.main(["score", "--graph", "books", "--load", str(saved), "--no-progress"]) == 2
    assert "21 features per node, but the detector was fitted on 28" in capsys.readouterr().err


def test_score_with_the_library_detector_round_trips(tmp_path, capsys):
    graph = nx.connected_caveman_graph(5, 8)
    path = tmp_path / "g.txt"
    write_edge_list(path, graph)
    out, saved = tmp_path / "scores.csv", tmp_path / "detector.pt"
    assert cli.main(["score", "--graph", str(path), "-o", str(out), "--save", str(saved), "--no-progress"]) == 0
    assert "AnomalyDetector(random_state=0)" in capsys.readouterr().out
    scores = read_scores(out)[1]
    again = tmp_path / "again.csv"
    assert cli.main(["score", "--graph", str(path), "--load", str(saved), "-o", str(again), "--no-progress"]) == 0
    np.testing.assert_array_equal(read_scores(again)[1], scores)


# -- what a new user runs into: paths, suffixes, version, width, progress ------------------------------------


def test_version(capsys):
    import graphwgan

    with pytest.raises(SystemExit) as stop:
        cli.main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"graphwgan {graphwgan.__version__}"


def _blocked(tmp_path):
    """A path whose folder cannot exist: its parent is a file."""
    (tmp_path / "a_file").write_text("")
    return str(tmp_path / "a_file" / "out")


@pytest.mark.parametrize(
    ("command", "option", "suffix"),
    [
        ("w1", "--flow-out", ".csv"),
        ("w1", "--potential-out", ".npy"),
        ("synth", "--out", ".txt"),
        ("score", "--out", ".csv"),
        ("score", "--save", ".pt"),
        ("curvature", "--out", ".csv"),
    ],
)
def test_unwritable_output_paths_fail_before_any_work(tmp_path, capsys, monkeypatch, command, option, suffix):
    from graphwgan import datasets

    def no_work(*args, **kwargs):
        raise AssertionError("the graph was loaded before the output path was checked")

    monkeypatch.setattr(cli, "resolve_graph", no_work)
    monkeypatch.setattr(datasets, "resolve_graph", no_work)
    status = cli.main([command, option, _blocked(tmp_path) + suffix, "--no-progress"] if command != "w1" else
                      [command, option, _blocked(tmp_path) + suffix])
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and err.startswith(f"graphwgan {command}: error: {option} ")
    assert "Traceback" not in err


def test_unknown_output_suffix_is_refused_before_work(tmp_path, capsys):
    assert cli.main(["w1", "--flow-out", str(tmp_path / "flow.xlsx")]) == 2
    assert "unknown suffix '.xlsx'; use one of .npy, .csv, .txt, .tsv" in capsys.readouterr().err
    assert not (tmp_path / "flow.xlsx").exists()


def test_w1_suffixes_are_respected(tmp_path, capsys):
    write_edge_list(tmp_path / "g.txt", nx.path_graph(4))
    for name in ("f.npy", "f.txt", "f.csv", "f.tsv"):
        assert cli.main(["w1", "--graph", str(tmp_path / "g.txt"), "--potential-out", str(tmp_path / name)]) == 0
        assert (tmp_path / name).exists() and not (tmp_path / (name + ".npy")).exists()
    capsys.readouterr()
    assert np.load(tmp_path / "f.npy").shape == (4,)
    assert (tmp_path / "f.csv").read_text().splitlines()[0] == "node,potential"


def test_synth_output_fits_100_columns_and_json_has_every_sample(capsys):
    assert cli.main(["synth", "--max-epochs", "2", "-n", "6", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 100
    rows = table_rows(out)
    assert set(rows) == {"real graph", "mean of 6", "min", "max"}
    assert cli.main(["synth", "--max-epochs", "2", "-n", "6", "--no-progress", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [f"sample {k}" for k in range(6)] == [key for key in report["statistics"] if key.startswith("sample")]
    mean = np.mean([report["statistics"][f"sample {k}"]["triangle_count"] for k in range(6)])
    assert float(rows["mean of 6"]["triangle_count"]) == pytest.approx(mean, rel=1e-3)


def test_pt_refusal_has_no_terminal_colour_codes(tmp_path, capsys):
    import fractions

    import torch

    torch.save({"edge_index": torch.zeros(2, 1, dtype=torch.long), "extra": fractions.Fraction(1, 3)},
               tmp_path / "g.pt")
    assert cli.main(["w1", "--graph", str(tmp_path / "g.pt")]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err
    assert "fractions.Fraction" in err and "allow_pickle=True" in err


_EPOCHS = AnomalyDetector().epochs


@pytest.mark.parametrize(("detector", "expected"),
                         [("graphwgan", f"{_EPOCHS}/{_EPOCHS}"), ("zscore", "fit DegreeFeatureZScore")])
def test_score_progress_moves_during_the_fit(monkeypatch, capsys, detector, expected):
    import io
    import sys

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert cli.main(["score", "--detector", detector, "--top", "0"]) == 0
    monkeypatch.undo()
    shown = terminal.getvalue()
    assert expected in shown
    if detector == "graphwgan":  # the detector's own bar, redrawn as the epochs pass
        assert shown.count("\r") > 5 and f" 1/{_EPOCHS}" in shown
    capsys.readouterr()
