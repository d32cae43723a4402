import subprocess
import sys

import pytest

import graphwgan


def test_import_is_light():
    # a fresh interpreter: importing the package must not pull in torch, PyG or POT
    code = "import sys, graphwgan; print(sorted(m for m in ('torch', 'torch_geometric', 'ot') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_public_names_resolve():
    for name in graphwgan.__all__:
        assert getattr(graphwgan, name) is not None
    assert graphwgan.wasserstein is graphwgan.ot.wasserstein


def test_unknown_attribute():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        graphwgan.nope  # noqa: B018


def _release(text):
    """The leading numeric release of a version string: '2.13.0+cpu' -> (2, 13, 0)."""
    import re

    return tuple(int(part) for part in re.match(r"\d+(?:\.\d+)*", text).group(0).split("."))


def test_declared_lower_bounds_are_the_tested_versions():
    """Every ``>=`` floor is the release the tests run with (a prefix of the installed version).

    An older floor would admit versions nobody tests (scipy 1.13, admitted by ``scipy>=1.10``,
    fails ``graphwgan synth``); when the environment moves on, raise the floors with it.
    """
    import re
    from importlib.metadata import version
    from pathlib import Path

    tomllib = pytest.importorskip("tomllib", reason="tomllib (Python >= 3.11) reads pyproject.toml")

    project = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())["project"]
    floors = {}
    for requirement in project["dependencies"]:
        name, floor = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*>=\s*([0-9.]+)", requirement).groups()
        floors[name] = floor
    assert {"torch", "torch-geometric", "networkx", "scipy", "numpy", "POT", "tqdm"} <= set(floors)
    for name, floor in floors.items():
        installed = _release(version(name))
        wanted = _release(floor)
        assert installed[: len(wanted)] == wanted, f"{name}: declared >= {floor}, tested with {version(name)}"
