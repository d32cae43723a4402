"""``graphwgan synth``: the critic's W1 curve, printed, plotted and shown on the progress bar."""

import io
import json
import re
import sys

import numpy as np
import pytest

from graphwgan import cli


def test_synth_prints_the_w1_curve_and_plots_it(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    path = tmp_path / "curve.png"
    assert cli.main(["synth", "--max-epochs", "10", "--no-progress", "--plot", str(path)]) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith("W1 curve"))
    values = [float(x) for x in re.findall(r"(\d+\.\d+) \(epoch", line)]
    assert len(values) == 2 and all(value > 0 for value in values)
    assert "epoch 5" in line and "epoch 10" in line
    assert f"W1 plot    : {path}" in out
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_synth_plot_without_matplotlib_is_a_clear_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    status = cli.main(["synth", "--max-epochs", "5", "--no-progress", "--plot", str(tmp_path / "c.png")])
    assert status != 0
    err = capsys.readouterr().err
    assert "--plot needs matplotlib" in err
    assert not (tmp_path / "c.png").exists()


def test_synth_progress_bar_shows_the_w1_estimate(monkeypatch, capsys):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert cli.main(["synth", "--max-epochs", "5"]) == 0
    monkeypatch.undo()
    assert re.search(r"w1=\d", terminal.getvalue()), terminal.getvalue()
    capsys.readouterr()


def test_synth_plot_path_is_checked_before_the_fit(tmp_path, capsys, monkeypatch):
    from graphwgan.synthesis import GraphSynthesizer

    def no_fit(*args, **kwargs):
        raise AssertionError("the fit ran before the plot path was checked")

    monkeypatch.setattr(GraphSynthesizer, "fit", no_fit)
    assert cli.main(["synth", "--no-progress", "--plot", str(tmp_path / "curve.jpg")]) == 2
    assert "--plot" in capsys.readouterr().err
    (tmp_path / "folder.png").mkdir()
    assert cli.main(["synth", "--no-progress", "--plot", str(tmp_path / "folder.png")]) == 2
    assert "is a folder" in capsys.readouterr().err


def test_synth_json_carries_the_w1_curve(capsys):
    assert cli.main(["synth", "--max-epochs", "10", "--no-progress", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    curve = report["w1_curve"]
    assert len(curve["epochs"]) == len(curve["w1"]) > 0 and all(np.isfinite(curve["w1"]))
