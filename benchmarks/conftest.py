"""pytest-benchmark fixtures of the suites ``ruler/test_bench_wasserstein.py`` and ``scale/test_bench_scaling.py``.

The protocol itself (pairs, baseline, methods, certificate) is in ``benchmarks/ruler/protocol.py``;
here only the shared data folder, the warm-up and the lazily loaded graphs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks.common import find_data_dir, load_graph
from benchmarks.ruler.protocol import adjacency, make_pairs, warm_up


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The shared data folder; the benchmarks that need it skip when it is absent."""
    root, reason = find_data_dir()
    if root is None:
        pytest.skip(f"benchmark data missing: {reason}")
    return root


@pytest.fixture(scope="session", autouse=True)
def _warm_solvers() -> None:
    """Pay for the first ``import ot`` and the lazy imports before any timing."""
    warm_up()


class Case:
    """One benchmark graph with its pairs, its CSR matrix and a cache of reference distances."""

    def __init__(self, name: str, root: Path) -> None:
        self.name = name
        self.graph = load_graph(name, root)
        self.num_nodes = int(self.graph.num_nodes)
        self.num_edges = int(self.graph.edge_index.shape[1]) // 2
        self.pairs = make_pairs(self.num_nodes)
        self.csr = adjacency(self.graph)
        self.reference: np.ndarray | None = None  # baseline distances, once the baseline ran


@pytest.fixture(scope="session")
def cases(data_root) -> dict:
    """Lazily loaded ``Case`` per graph name (shared across the session)."""

    class _Cases(dict):
        def __missing__(self, name):
            self[name] = Case(name, data_root)
            return self[name]

    return _Cases()
