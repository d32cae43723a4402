"""The exact-W1 benchmark protocol, shared by the pytest-benchmark suite and the table runner.

Protocol (from the issue): on Cora-ML's largest component (2,810 nodes, 7,981 edges) and PubMed
(19,717 nodes, 44,324 edges), three seeded pairs, each a 50-node point cloud (random nodes, random
weights, normalised) against a diffuse distribution (uniform random mass on every node,
normalised). Every edge has length 1.

The baseline is the textbook route: the dense all-pairs shortest-path matrix
(``scipy.sparse.csgraph.dijkstra``) and ``ot.emd2`` on it, one matrix shared by the three pairs.

``test_bench_wasserstein.py`` (through the fixtures of ``benchmarks/conftest.py``) and
``run_wasserstein_table.py`` both import it, so both use the same protocol.
"""

from __future__ import annotations

import time

import numpy as np

from benchmarks.common import available_memory_bytes

#: (nodes, undirected edges) of the largest component, as stated in the issue
EXPECTED_SIZE = {"cora_ml": (2810, 7981), "pubmed": (19717, 44324)}
SEEDS = (0, 1, 2)
CLOUD_SIZE = 50
#: correctness: relative difference to the baseline distance
RTOL = 1e-9


def make_pairs(num_nodes: int, seeds=SEEDS, cloud_size: int = CLOUD_SIZE) -> list[tuple[np.ndarray, np.ndarray]]:
    """Seeded pairs ``(mu, nu)``: a ``cloud_size``-node point cloud against a diffuse distribution."""
    pairs = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        cloud = rng.choice(num_nodes, cloud_size, replace=False)
        mu = np.zeros(num_nodes)
        mu[cloud] = rng.random(cloud_size)
        mu /= mu.sum()
        nu = rng.random(num_nodes)
        nu /= nu.sum()
        pairs.append((mu, nu))
    return pairs


def adjacency(graph):
    """The graph as a symmetric scipy CSR matrix of edge lengths."""
    import scipy.sparse as sp

    edge_index = graph.edge_index.numpy()
    weight = graph.edge_weight.numpy() if graph.edge_weight is not None else np.ones(edge_index.shape[1])
    n = int(graph.num_nodes)
    return sp.csr_array((weight, (edge_index[0], edge_index[1])), shape=(n, n))


def dense_matrix_bytes(num_nodes: int) -> int:
    """Bytes of a dense ``num_nodes x num_nodes`` float64 matrix."""
    return num_nodes * num_nodes * 8


def baseline_fits(num_nodes: int) -> tuple[bool, str]:
    """Whether the dense baseline fits in memory (``emd2`` may copy the matrix once more)."""
    need = 3 * dense_matrix_bytes(num_nodes)
    free = available_memory_bytes()
    if free is not None and free < need:
        return False, f"the dense baseline needs about {need / 2**30:.1f} GiB, only {free / 2**30:.1f} GiB available"
    return True, ""


# ----------------------------------------------------------------------------------------------
# the methods compared
# ----------------------------------------------------------------------------------------------


def warm_up() -> None:
    """Import and run every solver once on a tiny graph (the first ``import ot`` costs ~1 s)."""
    import networkx as nx
    import ot
    from scipy.sparse.csgraph import dijkstra

    import graphwgan

    graph = nx.cycle_graph(6)
    mu, nu = np.eye(6)[0], np.eye(6)[3]
    cost = dijkstra(nx.to_scipy_sparse_array(graph), directed=False)
    ot.emd2(mu, nu, cost)
    graphwgan.wasserstein(graph, mu, nu)
    transport = graphwgan.GraphTransport(graph)
    transport.solve(mu, nu)
    graphwgan.wasserstein_batch(transport, np.stack([mu, nu]), nu)


def apsp_emd2(csr, pairs) -> tuple[np.ndarray, float, float]:
    """Baseline: dense all-pairs Dijkstra once, then ``ot.emd2`` per pair.

    Returns the distances and the seconds spent in the all-pairs step and in ``emd2``.
    """
    import ot
    from scipy.sparse.csgraph import dijkstra

    start = time.perf_counter()
    cost = dijkstra(csr, directed=False)
    middle = time.perf_counter()
    distances = np.array([ot.emd2(mu, nu, cost) for mu, nu in pairs])
    end = time.perf_counter()
    del cost
    return distances, middle - start, end - middle


def sources_emd2(csr, pairs) -> np.ndarray:
    """A leaner exact reference: Dijkstra from the cloud's nodes only, ``emd2`` on that block.

    Not part of the issue's protocol; it shows what a baseline that exploits the point cloud costs.
    """
    import ot
    from scipy.sparse.csgraph import dijkstra

    distances = []
    for mu, nu in pairs:
        support = np.flatnonzero(mu)
        cost = dijkstra(csr, directed=False, indices=support)
        distances.append(ot.emd2(mu[support], nu, cost))
    return np.array(distances)


def fresh_wasserstein(graph, pairs) -> list:
    """``graphwgan.wasserstein`` from scratch for every pair."""
    import graphwgan

    return [graphwgan.wasserstein(graph, mu, nu) for mu, nu in pairs]


def prepared_solves(graph, pairs) -> list:
    """``GraphTransport`` built once, then one ``solve`` per pair."""
    import graphwgan

    transport = graphwgan.GraphTransport(graph)
    return [transport.solve(mu, nu) for mu, nu in pairs]


def solve_only(transport, pairs) -> list:
    """``solve`` per pair on an already prepared ``GraphTransport``."""
    return [transport.solve(mu, nu) for mu, nu in pairs]


def batch_wasserstein(graph, pairs):
    """``graphwgan.wasserstein_batch`` on all pairs at once (one result with a leading axis)."""
    import graphwgan

    mu = np.stack([mu for mu, _ in pairs])
    nu = np.stack([nu for _, nu in pairs])
    return graphwgan.wasserstein_batch(graph, mu, nu)


# ----------------------------------------------------------------------------------------------
# correctness
# ----------------------------------------------------------------------------------------------


def distances_of(results) -> np.ndarray:
    """The distances of a list of results, or of one batch result."""
    if isinstance(results, list):
        return np.array([float(r.distance) for r in results])
    return np.asarray(results.distance, dtype=np.float64).reshape(-1)


def max_relative_difference(values, reference) -> float:
    """``max |values - reference| / |reference|``."""
    values = np.asarray(values, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    return float(np.max(np.abs(values - reference) / np.abs(reference)))


def certificate_error(num_nodes: int, results, pairs) -> float:
    """Largest relative violation of the optimality certificate, over all pairs.

    Checked independently of the solver, from the returned flow and potential: flow conservation
    ``B x = mu - nu``, the objective ``sum_e w_e |x_e| = distance``, the edge constraints
    ``|f(u) - f(v)| <= w_uv`` and a zero duality gap ``sum_v f(v)(mu(v) - nu(v)) = distance``.
    Zero (up to rounding) proves that the distance is the exact optimum.
    """
    if isinstance(results, list):
        rows = [(r.distance, r.flow, r.potential, r.edge_index, r.edge_weight) for r in results]
    else:
        rows = [(results.distance[i], results.flow[i], results.potential[i], results.edge_index, results.edge_weight)
                for i in range(len(pairs))]
    worst = 0.0
    for (distance, flow, f, edge_index, w), (mu, nu) in zip(rows, pairs, strict=True):
        u, v = np.asarray(edge_index)
        w = np.asarray(w, dtype=np.float64)
        flow = np.asarray(flow, dtype=np.float64)
        f = np.asarray(f, dtype=np.float64)
        distance = float(distance)
        excess = mu - nu
        outflow = np.bincount(u, weights=flow, minlength=num_nodes) - np.bincount(v, weights=flow, minlength=num_nodes)
        scale = max(abs(distance), 1e-300)
        worst = max(
            worst,
            float(np.abs(outflow - excess).max() / np.abs(excess).sum()),
            abs(float(np.abs(flow) @ w) - distance) / scale,
            float(((np.abs(f[u] - f[v]) - w) / w).max()),
            abs(float(f @ excess) - distance) / scale,
        )
    return worst
