"""The anomaly examples run end to end in their --quick setting and print a table and save a plot."""

import runpy
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _table(printed, header):
    start = next(i for i, line in enumerate(printed.splitlines()) if line.startswith(header))
    lines = printed.splitlines()[start:]
    rows = []
    for line in lines[2:]:
        if not line.startswith("| "):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def _png(path):
    assert path.stat().st_size > 1000
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _run(script, args, monkeypatch):
    monkeypatch.setattr(sys, "argv", [script, *args])
    runpy.run_path(str(EXAMPLES / script), run_name="__main__")


def test_detect_anomalies_citation_quick(capsys, monkeypatch, tmp_path, data_root):
    pytest.importorskip("matplotlib")
    monkeypatch.setenv("GRAPHWGAN_DATA", str(data_root))
    _run("detect_anomalies_citation.py", ["--quick", "--out", str(tmp_path)], monkeypatch)
    rows = _table(capsys.readouterr().out, "| graph | detector |")
    assert [row[0] for row in rows] == ["inj_cora", "inj_cora"]
    assert rows[1][1] == "z(degree) + z(‖x‖)"
    aucs = [float(row[2]) for row in rows]
    assert all(0.0 <= auc <= 1.0 for auc in aucs)
    assert aucs[1] > 0.8  # the leakage baseline scores about 0.856 on inj_cora
    _png(tmp_path / "citation_scores.png")


def test_detect_anomalies_ppi_quick(capsys, monkeypatch, tmp_path, data_root):
    pytest.importorskip("matplotlib")
    monkeypatch.setenv("GRAPHWGAN_DATA", str(data_root))
    _run("detect_anomalies_ppi.py", ["--quick", "--top", "5", "--out", str(tmp_path)], monkeypatch)
    printed = capsys.readouterr().out
    top = _table(printed, "| rank | node |")
    assert [int(row[0]) for row in top] == [1, 2, 3, 4, 5]
    scores = [float(row[2]) for row in top]
    assert scores == sorted(scores, reverse=True)
    rows = _table(printed, "| network | detector |")
    assert [row[0] for row in rows] == ["yeast", "yeast"] and rows[0][2] == "structural"
    assert all(0.0 <= float(row[3]) <= 1.0 for row in rows)
    _png(tmp_path / "ppi_roc.png")
