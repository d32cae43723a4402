import runpy
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_critic_vs_exact_quick(capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["critic_vs_exact.py", "--quick"])
    runpy.run_path(str(EXAMPLES / "critic_vs_exact.py"), run_name="__main__")
    out = capsys.readouterr().out
    exact = float(out.split("exact W1")[1].split(":")[1].split()[0])
    bound = float(out.split("certified bound")[1].split(":")[1].split()[0])
    assert 0 < bound <= exact * (1 + 1e-9)
    assert bound >= 0.9 * exact
