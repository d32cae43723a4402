import runpy
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_critic_vs_exact_quick(capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["critic_vs_exact.py", "--quick"])
    runpy.run_path(str(EXAMPLES / "critic_vs_exact.py"), run_name="__main__")
    out = capsys.readouterr().out
    exact = float(out.split("exact W1")[1].split(":")[1].split()[0])
    bound = float(out.split("certified bound")[1].split(":")[1].split()[0])
    assert 0 < bound <= exact * (1 + 1e-9)
    assert bound >= 0.9 * exact


def test_synthesize_citation_quick(capsys, monkeypatch, tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "plots"
    monkeypatch.setattr(sys, "argv", ["synthesize_citation.py", "--quick", "--out", str(out)])
    runpy.run_path(str(EXAMPLES / "synthesize_citation.py"), run_name="__main__")
    printed = capsys.readouterr().out
    for name in ("degree_distribution.png", "training_curve.png"):
        assert (out / name).stat().st_size > 1000
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = [line for line in printed.splitlines() if line.startswith("| ")]
    names = {line.split("|")[1].strip() for line in table}
    assert {"real (training graph)", "CELL", "GraphSynthesizer", "Erdos-Renyi", "configuration model"} <= names
    assert "max_degree" in table[0] and "triangle_count" in table[0]
    assert (out / "statistics.md").read_text().count("| GraphSynthesizer |") == 2
