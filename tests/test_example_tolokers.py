"""The Tolokers example runs end to end in its --quick setting; its baseline rows match an independent computation."""

import runpy
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "detect_anomalies_tolokers.py"


def _rows(printed):
    lines = printed.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| scores |"))
    rows = {}
    for line in lines[start + 2:]:
        if not line.startswith("| "):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        rows[cells[0]] = (float(cells[1]), float(cells[2]))
    return rows


def _auc_oracle(labels, scores):
    """ROC-AUC as the share of (banned, other) pairs ordered right, ties counting one half."""
    pos, neg = scores[labels == 1], scores[labels == 0]
    greater = (pos[:, None] > neg[None, :]).sum()
    ties = (pos[:, None] == neg[None, :]).sum()
    return (greater + 0.5 * ties) / (pos.size * neg.size)


def test_detect_anomalies_tolokers_quick(capsys, monkeypatch, data_root):
    pytest.importorskip("torch")
    monkeypatch.setenv("GRAPHWGAN_DATA", str(data_root))
    monkeypatch.setattr(sys, "argv", [EXAMPLE.name, "--quick"])
    namespace = runpy.run_path(str(EXAMPLE), run_name="__main__")
    printed = capsys.readouterr().out
    rows = _rows(printed)
    assert list(rows)[:1] == ["graphwgan AnomalyDetector"]
    assert {"signal: rarity", "signal: critic", "degree", "-degree", "z(degree) + z(‖x‖)"} <= set(rows)
    assert all(0.0 <= auc <= 1.0 and 0.0 <= ap <= 1.0 for auc, ap in rows.values())

    data, banned = namespace["load_workers"](True)
    assert data.num_nodes == 1500 and f"{int(banned.sum())} banned" in printed
    degree = np.bincount(data.edge_index[0].numpy(), minlength=1500)
    assert rows["degree"][0] == pytest.approx(_auc_oracle(banned, degree), abs=5e-4)
    assert rows["-degree"][0] == pytest.approx(1.0 - rows["degree"][0], abs=1e-3)
