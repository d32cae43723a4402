"""Golden outputs: fixed-seed results recorded before a refactor, compared bit for bit after it.

``python tests/test_golden.py --write`` records ``tests/data/golden.json`` from the code as it is;
the tests recompute every entry and require the same bytes (a SHA-256 of each float64 array, and the
scalars as ``float.hex``). Regenerate only when a change of behaviour is intended, and say so in
the commit message.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest

GOLDEN = Path(__file__).parent / "data" / "golden.json"


def _digest(array) -> str:
    array = np.ascontiguousarray(np.asarray(array, dtype=np.float64))
    return hashlib.sha256(array.tobytes()).hexdigest()


def _edge_digest(data) -> str:
    edges = np.asarray(data.edge_index.numpy(), dtype=np.int64)
    order = np.lexsort((edges[1], edges[0]))
    return hashlib.sha256(np.ascontiguousarray(edges[:, order]).tobytes()).hexdigest()


def _threads():
    import torch

    # Reductions may be ordered differently on another thread count: pin one for bit equality.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    return previous


def golden_wasserstein():
    import graphwgan

    graph = graphwgan.datasets.default_graph()
    n = graph.num_nodes
    rng = np.random.default_rng(0)
    mu = rng.random(n)
    mu /= mu.sum()
    nu = rng.dirichlet(np.ones(n))
    result = graphwgan.wasserstein(graph, mu, nu)
    karate = graphwgan.to_graph(__import__("networkx").karate_club_graph())
    point = np.zeros(34)
    point[0] = 1.0
    other = np.zeros(34)
    other[33] = 1.0
    return {
        "default_distance": float(result.distance).hex(),
        "default_potential": _digest(result.potential),
        "default_flow": _digest(result.flow),
        "karate_points": float(graphwgan.wasserstein(karate, point, other).distance).hex(),
    }


def golden_estimate():
    import graphwgan

    graph = graphwgan.datasets.default_graph()
    n = graph.num_nodes
    rng = np.random.default_rng(1)
    mu = rng.random(n)
    mu /= mu.sum()
    nu = np.zeros(n)
    nu[:20] = 1 / 20
    result = graphwgan.estimate_wasserstein(graph, mu, nu, max_steps=40, seed=0)
    return {
        "estimate": float(result.estimate).hex(),
        "lower_bound": float(result.lower_bound).hex(),
        "potential": _digest(np.asarray(result.potential)),
    }


def golden_synthesis(root):
    from graphwgan import datasets
    from graphwgan.synthesis import CELL, GraphSynthesizer

    graph = datasets.load("cora_ml", root=root, largest_component=True)
    pairs = np.array([[0, 1, 2, 3, 10, 100], [5, 7, 2000, 4, 11, 2500]])
    out = {}
    for name, model in (
        ("cell", CELL(max_epochs=20, eval_every=10, random_state=0)),
        # the parameters that were the defaults when the entries were recorded (no critic then)
        ("synthesizer", GraphSynthesizer(rank=9, init="random", lr=0.1, transport_weight=1.0, eval_every=5,
                                         critic_weight=None, max_epochs=20, random_state=0)),
    ):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a 20-epoch fit need not reach the overlap target
            model.fit(graph)
        out[f"{name}_sample"] = _edge_digest(model.sample(seed=0))
        out[f"{name}_scores"] = _digest(model.score_pairs(pairs))
    return out


def golden_detector(root):
    from graphwgan import datasets
    from graphwgan.anomaly import AnomalyDetector

    graph = datasets.load("inj_cora", root=root)
    detector = AnomalyDetector(epochs=5, random_state=0).fit(graph)
    return {"detector_scores": _digest(detector.decision_scores_)}


def compute(root):
    previous = _threads()
    try:
        out = {}
        out.update(golden_wasserstein())
        out.update(golden_estimate())
        out.update(golden_synthesis(root))
        out.update(golden_detector(root))
        return out
    finally:
        import torch

        torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def recorded():
    return json.loads(GOLDEN.read_text())


@pytest.mark.parametrize("part", ["wasserstein", "estimate"])
def test_golden_no_data(part, recorded):
    previous = _threads()
    try:
        values = {"wasserstein": golden_wasserstein, "estimate": golden_estimate}[part]()
    finally:
        import torch

        torch.set_num_threads(previous)
    assert values == {key: recorded[key] for key in values}


@pytest.mark.parametrize("part", ["synthesis", "detector"])
def test_golden_with_data(part, recorded, data_root):
    previous = _threads()
    try:
        values = {"synthesis": golden_synthesis, "detector": golden_detector}[part](data_root)
    finally:
        import torch

        torch.set_num_threads(previous)
    assert values == {key: recorded[key] for key in values}


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        raise SystemExit("usage: python tests/test_golden.py --write")
    from graphwgan.datasets import data_dir

    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(json.dumps(compute(data_dir()), indent=1, sort_keys=True) + "\n")
    print(f"wrote {GOLDEN}")
