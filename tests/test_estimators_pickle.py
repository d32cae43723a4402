"""Every estimator: a fitted one pickles, deep-copies and clones; ``random_state=None`` follows numpy's global state."""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys
import warnings

import networkx as nx
import numpy as np
import pytest

from graphwgan import anomaly, synthesis
from graphwgan._estimator import clone as graphwgan_clone

GRAPH = nx.karate_club_graph()
LABELS = np.array([0 if GRAPH.nodes[v]["club"] == "Mr. Hi" else 1 for v in GRAPH.nodes])

DETECTORS = [
    (anomaly.AnomalyDetector, {"epochs": 5}),
    (anomaly.DOMINANT, {"epochs": 5}),
    (anomaly.GAAN, {"epochs": 5}),
    (anomaly.DegreeFeatureZScore, {}),
]
GENERATORS = [
    (synthesis.GraphSynthesizer, {"max_epochs": 3}),
    (synthesis.CELL, {"max_epochs": 3}),
    (synthesis.ErdosRenyi, {}),
    (synthesis.ConfigurationModel, {}),
    (synthesis.DegreeCorrectedSBM, {"num_blocks": 2}),
]


def _fit(cls, params, random_state=0):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # short fits stop before their edge-overlap target
        return cls(random_state=random_state, **params).fit(GRAPH)


def _output(model, seed=1):
    """Scores of a detector; a sample of a generator (``seed=None``: from the fitted generator's state)."""
    if isinstance(model, anomaly.BaseDetector):
        return model.decision_function(GRAPH)
    return model.sample(seed=seed).edge_index.numpy()


def _sklearn_clone():
    try:
        from sklearn.base import clone
    except ImportError:  # scikit-learn is not a dependency; the library's clone follows the same contract
        return graphwgan_clone
    return clone


def _accepted(cls, params):
    try:
        cls(**params)
    except TypeError:
        pytest.skip(f"{cls.__name__} does not take {sorted(params)}")


@pytest.mark.parametrize(("cls", "params"), DETECTORS + GENERATORS, ids=lambda x: getattr(x, "__name__", ""))
def test_fitted_estimators_pickle_and_deep_copy_with_identical_output(cls, params):
    _accepted(cls, params)
    model = _fit(cls, params)
    expected = _output(model)
    for copied in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
        assert type(copied) is cls
        np.testing.assert_array_equal(_output(copied), expected)
        assert copied.get_params() == model.get_params()


@pytest.mark.parametrize(("cls", "params"), DETECTORS + GENERATORS, ids=lambda x: getattr(x, "__name__", ""))
def test_clone_gives_an_unfitted_estimator_that_refits_identically(cls, params):
    _accepted(cls, params)
    model = _fit(cls, params)
    for clone in {_sklearn_clone(), graphwgan_clone}:
        fresh = clone(model)
        assert type(fresh) is cls
        assert fresh.get_params() == model.get_params()
        with pytest.raises(anomaly.NotFittedError):
            _output(fresh)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            fresh.fit(GRAPH)
        np.testing.assert_array_equal(_output(fresh), _output(model))


def test_a_pickled_detector_scores_the_same_in_a_new_process(tmp_path):
    model = _fit(anomaly.AnomalyDetector, {"epochs": 5})
    path = tmp_path / "detector.pkl"
    path.write_bytes(pickle.dumps(model))
    script = ("import pickle, sys, networkx as nx, numpy as np; "
              f"d = pickle.loads(open({str(path)!r}, 'rb').read()); "
              "np.save(sys.argv[1], d.decision_function(nx.karate_club_graph()))")
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "scores.npy")], check=True, cwd=str(tmp_path.parent),
                   env={"PYTHONPATH": str(_root()), "OMP_NUM_THREADS": "1", "PATH": ""})
    np.testing.assert_array_equal(np.load(tmp_path / "scores.npy"), model.decision_function(GRAPH))


def _root():
    from pathlib import Path

    return Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(("cls", "params"), [DETECTORS[1], GENERATORS[2], GENERATORS[0]],
                         ids=lambda x: getattr(x, "__name__", ""))
def test_random_state_none_follows_numpys_global_state(cls, params):
    state = np.random.get_state()  # noqa: NPY002 - the global state is what is being tested
    try:
        np.random.seed(123)  # noqa: NPY002
        first = _output(_fit(cls, params, random_state=None), seed=None)
        np.random.seed(123)  # noqa: NPY002
        again = _output(_fit(cls, params, random_state=None), seed=None)
        np.testing.assert_array_equal(first, again)
        np.random.seed(7)  # noqa: NPY002
        other = _output(_fit(cls, params, random_state=None), seed=None)
        assert not np.array_equal(first, other)
    finally:
        np.random.set_state(state)  # noqa: NPY002
