import subprocess
import sys

import pytest

import graphwgan


def _fresh_interpreter(code: str) -> str:
    """What ``code`` prints when run by a new Python process (nothing imported before it)."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout


def test_import_is_light():
    # a fresh interpreter: importing the package must not pull in torch, PyG or POT
    code = "import sys, graphwgan; print(sorted(m for m in ('torch', 'torch_geometric', 'ot') if m in sys.modules))"
    assert _fresh_interpreter(code).strip() == "[]"


def test_the_numpy_ruler_never_imports_pyg():
    # a networkx graph reaches curvature and the rulers as arrays: no Data is built, so a fresh
    # interpreter does not pay for importing PyTorch Geometric (about 1.5 s) on the first call
    code = (
        "import sys, numpy as np, networkx as nx\n"
        "from graphwgan.curvature import ollivier_ricci\n"
        "from graphwgan.graph import num_components, undirected_edges\n"
        "from graphwgan.ot.local import wasserstein_local\n"
        "graph = nx.les_miserables_graph()\n"
        "ollivier_ricci(graph, verbose=False); undirected_edges(graph); num_components(graph)\n"
        "mu = np.eye(graph.number_of_nodes())[:3]; nu = mu[::-1]\n"
        "wasserstein_local(graph, mu, nu, verbose=False)\n"
        "from graphwgan import GraphTransport, wasserstein\n"
        "transport = GraphTransport(graph); wasserstein(transport, mu[0], nu[0]); wasserstein(graph, mu[1], nu[1])\n"
        "print('torch_geometric' in sys.modules)\n"
    )
    assert _fresh_interpreter(code).strip() == "False"


def test_importing_curvature_loads_its_compiled_solver():
    # numba loads compiled code on first use (about 0.4 s from its cache): importing the module
    # does it, so a caller's first ollivier_ricci costs what later calls do
    code = (
        "from graphwgan.ot import _integer_transport as compiled\n"
        "before = len(compiled._solve_pairs.signatures)\n"
        "import graphwgan.curvature\n"
        "print(before, len(compiled._solve_pairs.signatures) > 0, len(compiled._count_differences.signatures) > 0)\n"
    )
    assert _fresh_interpreter(code).split() == ["0", "True", "True"]


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


# The releases the test suite was last run with when the floors were set; a floor below one of these
# admits versions nobody tests (scipy 1.13, once admitted by ``scipy>=1.10``, fails ``graphwgan synth``).
_TESTED_FLOORS = {"torch": "2.13", "torch-geometric": "2.8", "networkx": "3.6", "scipy": "1.17", "numpy": "2.4",
                  "POT": "0.9.7", "tqdm": "4.70", "pylmcf": "1.3",
                  "numba": "0.68"}


def test_declared_lower_bounds_are_tested_versions():
    """Every ``>=`` floor is a tested release and holds for the environment the tests run in.

    Newer releases than the floors are fine (CI installs the newest); an older floor is not.
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
    assert set(floors) == set(_TESTED_FLOORS)
    for name, floor in floors.items():
        assert _release(floor) >= _release(_TESTED_FLOORS[name]), f"{name}: >= {floor} admits untested releases"
        assert _release(version(name)) >= _release(floor), f"{name}: declared >= {floor}, found {version(name)}"
