"""No path allocates O(|V|^2) on a 10^5-node graph, where a dense float64 matrix would need 80 GB.

The exact ruler is checked in-process with ``tracemalloc`` (it allocates through numpy only). The
torch paths (critic estimates, anomaly detectors) allocate outside ``tracemalloc``'s view, so each
runs in a fresh child process whose peak resident memory the kernel reports (``os.wait4``), under
a data-segment limit (``RLIMIT_DATA``, 8 GiB) that makes any dense ``|V| x |V|`` allocation fail at
once instead of swapping, even one that is mapped but never touched: one float32
``10^5 x 10^5`` matrix needs 37 GiB. The graph statistics are numpy and scipy only and are checked
with ``tracemalloc``; so are the Laplacian eigenvectors of the structural encodings, whose
shift-invert solver used to fill in towards ``|V|^2`` on expander-like graphs.
"""

import inspect
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
import tracemalloc

import numpy as np
import pytest
import torch

from graphwgan.distances import ShortestPathMetric
from graphwgan.lipschitz import CTransform
from graphwgan.ot import GraphTransport

N = 100_000
#: bound on the peak resident memory of a child (a dense float32 |V| x |V| matrix needs 37 GiB)
PEAK_BOUND = 3 * 2**30
#: data-segment limit of a child: a dense matrix fails fast instead of swapping
DATA_LIMIT = 8 * 2**30

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="reads the child's peak memory with os.wait4 and limits it with RLIMIT_DATA")


def random_connected_graph(n, extra, seed=0):
    rng = np.random.default_rng(seed)
    # a random recursive tree keeps it connected; extra random edges give it cycles
    parent = (rng.random(n - 1) * np.arange(1, n)).astype(np.int64)
    rows = np.concatenate([np.arange(1, n), rng.integers(0, n, extra)])
    cols = np.concatenate([parent, rng.integers(0, n, extra)])
    return torch.as_tensor(np.stack([rows, cols]))


_CHILD_HEADER = """
import json, re, resource, time
resource.setrlimit(resource.RLIMIT_DATA, ({limit}, {limit}))
import numpy as np
import torch
torch.set_num_threads(1)
{builder}
"""

_CHILD_START = """
with open("/proc/self/status") as handle:
    before = 1024 * int(re.search(r"VmRSS:\\s+(\\d+)", handle.read()).group(1))
start = time.perf_counter()
"""

_CHILD_FOOTER = """
with open({out!r}, "w") as handle:
    json.dump({{"result": result, "seconds": time.perf_counter() - start, "before": before}}, handle)
"""


def run_in_child(setup, snippet, out_path, *, timeout=600):
    """Run ``setup`` then ``snippet`` in a fresh Python process; ``(result, seconds, peak, before)``.

    ``snippet`` must assign a JSON-serialisable ``result``; ``seconds`` times it alone. ``peak`` is
    the child's peak resident memory in bytes (``ru_maxrss`` from ``os.wait4``: this child's own,
    not the parent's or a sibling's) and ``before`` its resident memory after ``setup`` (imports
    and inputs). The child has one torch thread, ``RLIMIT_DATA = DATA_LIMIT`` and
    ``random_connected_graph``.
    """
    code = "\n".join([
        _CHILD_HEADER.format(limit=DATA_LIMIT, builder=inspect.getsource(random_connected_graph)),
        textwrap.dedent(setup),
        _CHILD_START,
        textwrap.dedent(snippet),
        _CHILD_FOOTER.format(out=str(out_path)),
    ])
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    with subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          env=env) as process:
        timer = threading.Timer(timeout, process.kill)
        timer.start()
        try:
            output = process.stdout.read().decode(errors="replace")
            _, status, usage = os.wait4(process.pid, 0)
            process.returncode = os.waitstatus_to_exitcode(status)
        finally:
            timer.cancel()
    peak = usage.ru_maxrss * 1024  # KiB on Linux
    if process.returncode != 0:
        raise AssertionError(
            f"child failed (exit {process.returncode}, peak {peak / 2**20:.0f} MiB):\n{output[-3000:]}")
    with open(out_path) as handle:
        payload = json.load(handle)
    return payload["result"], payload["seconds"], peak, payload["before"]


@pytest.mark.slow
def test_ruler_memory_stays_linear_on_a_large_graph():
    edge_index = random_connected_graph(N, 2 * N)
    rng = np.random.default_rng(1)
    mu, nu = np.zeros(N), np.zeros(N)
    mu[rng.choice(N, 50, replace=False)] = 1 / 50
    nu[rng.choice(N, 50, replace=False)] = 1 / 50
    tracemalloc.start()
    try:
        transport = GraphTransport(edge_index)
        result = transport.solve(mu, nu)
        lowered = CTransform(edge_index).lower(rng.normal(size=N))
        pairs = ShortestPathMetric(edge_index).between(rng.integers(0, N, size=(20, 2)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    dense = N * N * 8
    print(f"peak traced allocation {peak / 2**20:.0f} MiB; a dense matrix would need {dense / 2**30:.0f} GiB")
    assert result.distance > 0 and np.isfinite(pairs).all() and lowered.shape == (N,)
    # linear in |E| (about 220 MiB here for 3 x 10^5 edges), nowhere near the 75 GiB dense matrix
    assert peak < 2**30


@pytest.mark.slow
@linux_only
def test_a_dense_matrix_fails_fast_in_the_child(tmp_path):
    # the limit catches what the resident memory alone would miss: numpy's zeros are mapped lazily,
    # so even a quarter of a dense float32 matrix (9.3 GiB, less than this machine's memory) would
    # leave the resident memory small without it
    snippet = f"result = np.zeros(({N}, {N // 4}), dtype=np.float32).shape"
    with pytest.raises(AssertionError, match="Unable to allocate 9.31 GiB"):
        run_in_child("", snippet, tmp_path / "out.json", timeout=60)


# ------------------------------------------------------------------------------------------------
# torch paths, each in its own child process
# ------------------------------------------------------------------------------------------------

#: estimate_wasserstein settings besides 3 steps and 16 channels; default inputs (structural
#: encodings: Laplacian eigenvectors and random-walk returns, and a learned embedding)
ESTIMATES = {
    "full_batch": "",
    # importance-sampled mini-batches of 256 nodes on their exact 2-hop computation subgraphs
    "mini_batch": "batch_size=256",
}

_ESTIMATE_SETUP = f"""
from graphwgan.estimate import estimate_wasserstein
edge_index = random_connected_graph({N}, {2 * N})
rng = np.random.default_rng(1)
mu, nu = np.zeros({N}), np.zeros({N})
mu[rng.choice({N}, 50, replace=False)] = 1 / 50
nu[rng.choice({N}, 50, replace=False)] = 1 / 50
"""

#: detectors and their (small) settings; 16 random features per node
DETECTORS = {
    "AnomalyDetector": "epochs=2, hidden=16",
    "DOMINANT": "epochs=2, hidden=16",
    "GAAN": "epochs=2, hidden=16",
    "DegreeFeatureZScore": "",
}

_DETECTOR_SETUP = f"""
from torch_geometric.data import Data
import graphwgan.anomaly as anomaly
x = torch.as_tensor(np.random.default_rng(2).normal(size=({N}, 16)), dtype=torch.float32)
data = Data(x=x, edge_index=random_connected_graph({N}, {2 * N}), num_nodes={N})
"""


def check_peak(label, seconds, peak, before):
    message = (f"{label}: {seconds:.1f} s, peak RSS of the child {peak / 2**20:.0f} MiB ({before / 2**20:.0f} MiB "
               f"resident after imports and inputs; bound {PEAK_BOUND / 2**30:.0f} GiB; one dense float32 {N} x {N} "
               f"matrix needs {4 * N * N / 2**30:.0f} GiB)")
    print(message)
    assert peak < PEAK_BOUND, message


@pytest.mark.slow
@linux_only
@pytest.mark.parametrize("mode", list(ESTIMATES))
def test_critic_estimate_stays_linear_on_a_large_graph(mode, tmp_path):
    snippet = f"""
estimate = estimate_wasserstein(edge_index, mu, nu, seed=0, max_steps=3, eval_every=3, hidden_channels=16,
                                {ESTIMATES[mode]})
result = [estimate.lower_bound, int(estimate.potential.shape[0]), len(estimate.history["objective"]),
          max(estimate.history.get("batch_nodes", [{N}]))]
"""
    (bound, size, steps, nodes), seconds, peak, before = run_in_child(_ESTIMATE_SETUP, snippet,
                                                                      tmp_path / "out.json")
    check_peak(f"estimate_wasserstein {mode} (3 steps)", seconds, peak, before)
    assert size == N and steps == 3
    # full batch: every step on the whole graph; mini-batch: computation subgraphs of a few thousand nodes
    assert nodes == N if mode == "full_batch" else 256 <= nodes < N // 10
    # a certified lower bound on W1 between two 50-node clouds: finite, and at most the graph's
    # diameter (about 15 hops here)
    assert np.isfinite(bound) and bound < 50


@pytest.mark.slow
@linux_only
@pytest.mark.parametrize("name", list(DETECTORS))
def test_detector_stays_linear_on_a_large_graph(name, tmp_path):
    snippet = f"""
detector = anomaly.{name}({DETECTORS[name]}).set_params(random_state=0).fit(data)
scores = detector.decision_function(data)
gap = float(np.abs(scores - detector.decision_scores_).max())
result = [int(scores.shape[0]), bool(np.isfinite(scores).all()), gap]
"""
    (count, finite, gap), seconds, peak, before = run_in_child(_DETECTOR_SETUP, snippet, tmp_path / "out.json")
    check_peak(f"{name} fit + decision_function", seconds, peak, before)
    # one finite score per node; scoring the training graph again reproduces the training scores
    assert count == N and finite
    assert gap < 1e-4


#: graph generators at one epoch; past 10,000 nodes num_negatives="auto" trains the sampled softmax
GENERATORS = {
    "CELL": "CELL(max_epochs=1, eval_every=1, random_state=0)",
    # a 2-hop transport ball keeps the test short; the default 3-hop one holds about 5 times more entries
    "GraphSynthesizer": "GraphSynthesizer(transport_cap=2.0, max_epochs=1, eval_every=1, random_state=0)",
}

_GENERATOR_SETUP = f"""
import warnings
from graphwgan.synthesis import CELL, GraphSynthesizer
edge_index = random_connected_graph({N}, {2 * N})
"""


@pytest.mark.slow
@linux_only
@pytest.mark.parametrize("name", list(GENERATORS))
def test_generator_stays_linear_on_a_large_graph(name, tmp_path):
    snippet = f"""
model = {GENERATORS[name]}
with warnings.catch_warnings():
    warnings.simplefilter("ignore", RuntimeWarning)  # one epoch does not reach the overlap target
    model.fit(edge_index)
sample = model.sample(seed=0)
scores = model.score_pairs(edge_index[:, :1000])
result = [model._sampled, int(sample.num_edges) // 2, model.num_edges_, bool(np.isfinite(scores).all()),
          float(model.stationary_.sum()), int(torch.unique(sample.edge_index[0]).numel())]
"""
    (sampled, edges, expected, finite, mass, covered), seconds, peak, before = run_in_child(
        _GENERATOR_SETUP, snippet, tmp_path / "out.json")
    check_peak(f"{name} fit (1 epoch and an evaluation) + sample + score_pairs", seconds, peak, before)
    assert sampled  # the sampled softmax, chosen by num_negatives="auto"
    assert edges == expected and finite and abs(mass - 1.0) < 1e-6
    assert covered == N  # every node has a neighbour in the sample (the first stage)


@pytest.mark.slow
def test_spectral_start_stays_linear_on_a_large_graph():
    from graphwgan.synthesis.spectral_init import spectral_factors

    edge_index = random_connected_graph(N, 2 * N).numpy()
    uv = np.unique(np.sort(edge_index, axis=0), axis=1)
    uv = uv[:, uv[0] < uv[1]]
    tracemalloc.start()
    try:
        source, target = spectral_factors(uv, N, 32, np.random.default_rng(0))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    print(f"spectral start of rank 32: peak traced allocation {peak / 2**20:.0f} MiB")
    assert source.shape == target.shape == (N, 32) and np.isfinite(source).all()
    # an n x 24 block and the sparse normalised adjacency, nowhere near the 75 GiB dense matrix
    assert peak < 2**30


# ------------------------------------------------------------------------------------------------
# graph statistics (numpy and scipy only, so tracemalloc sees them)
# ------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_graph_statistics_stay_linear_on_a_large_graph():
    from graphwgan.metrics import edge_overlap, graph_statistics

    edge_index = random_connected_graph(N, 2 * N)
    other = random_connected_graph(N, 2 * N, seed=1)
    tracemalloc.start()
    try:
        start = time.perf_counter()
        # 50 sampled sources for the path length: each is one search over the whole graph (about
        # 40 ms here), the only statistic that is not one pass over the edges
        stats = graph_statistics(edge_index, num_sources=50)
        overlap = edge_overlap(other, edge_index)
        seconds = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    print(f"graph_statistics + edge_overlap: {seconds:.1f} s, peak traced allocation {peak / 2**20:.0f} MiB")
    assert stats["largest_component_size"] == N
    assert 0 < stats["spectral_gap"] <= 2 and 1 < stats["characteristic_path_length"] < 50
    # 3 * 10^5 random edges on 10^5 nodes close few triangles
    assert 0 <= stats["triangle_count"] < 1000 and stats["wedge_count"] > N
    assert 0 < overlap < 0.01  # two independent random graphs share few edges
    assert peak < 2**30


# ------------------------------------------------------------------------------------------------
# the Laplacian eigenvectors of expander-like graphs (structural encodings)
# ------------------------------------------------------------------------------------------------


def test_laplacian_work_estimate_tells_meshes_from_expanders():
    from graphwgan.nn.encodings import _FACTOR_WORK_BUDGET, _factorisation_work

    def laplacian(edge_index, n):
        import scipy.sparse as sp

        u, v = np.asarray(edge_index)
        adjacency = sp.csr_array((np.ones(2 * u.size), (np.r_[u, v], np.r_[v, u])), shape=(n, n))
        return sp.identity(n, format="csr") - adjacency
    path = np.stack([np.arange(N - 1), np.arange(1, N)])
    # a path factorises with no fill (one entry per row); a random graph's factors fill in
    assert _factorisation_work(laplacian(path, N)) == N - 1
    assert _factorisation_work(laplacian(random_connected_graph(N, 2 * N), N)) > 1000 * _FACTOR_WORK_BUDGET


def test_lanczos_eigenvectors_match_the_dense_decomposition(monkeypatch):
    import scipy.sparse as sp

    import graphwgan.nn.encodings as encodings

    n, k = 800, 6
    edge_index = random_connected_graph(n, 2 * n, seed=3)
    monkeypatch.setattr(encodings, "_FACTOR_WORK_BUDGET", -1.0)  # force the Lanczos branch
    vectors = encodings.laplacian_eigenvectors(edge_index, k)
    adjacency = encodings._adjacency(edge_index)
    scale = 1 / np.sqrt(np.asarray(adjacency.sum(axis=1)).ravel())
    laplacian = (sp.identity(n) - sp.diags_array(scale) @ adjacency @ sp.diags_array(scale)).toarray()
    values, exact = np.linalg.eigh(laplacian)
    # the same eigenpairs as the dense solver, up to sign (the spectrum of a random graph is simple)
    np.testing.assert_allclose(np.abs(np.sum(vectors * exact[:, 1:k + 1], axis=0)), 1.0, atol=1e-6)
    np.testing.assert_allclose(np.sum(vectors * (laplacian @ vectors), axis=0), values[1:k + 1], atol=1e-9)
