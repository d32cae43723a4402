"""Tests for graphwgan.ot._integer_transport: the compiled primal-dual solver of unit-length blocks.

Oracle: ``ot.emd2`` (test-only) on each cost block, and on the dense shortest-path matrix of the
graph for whole problems through :func:`graphwgan.ot.wasserstein_local`.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import ot
import pytest
import scipy.sparse as sp
from test_local import _curvature_pairs, _dense_oracle, _local_pairs, _unit_graph

from graphwgan.ot import wasserstein_local
from graphwgan.ot._integer_transport import (
    DUAL,
    MAGNITUDE,
    MARGINAL,
    PRIMAL,
    SLACK,
    TOTAL,
    _bit_index,
    _popcount,
    solve_pairs,
)

_LEVELS = np.arange(256, dtype=np.uint8)  # level k costs k; 255 is unreached


def _blocks(costs: list[np.ndarray], masses: list[tuple[np.ndarray, np.ndarray]]):
    """``solve_pairs`` inputs for whole cost blocks: block ``k``'s rows are table rows, its columns nodes."""
    width = max(c.shape[1] for c in costs)
    table = np.full((sum(c.shape[0] for c in costs), width), 255, dtype=np.uint8)
    x, y, p, q, x_start, y_start = [], [], [], [], [0], [0]
    top = 0
    for cost, (a, b) in zip(costs, masses, strict=True):
        rows = np.arange(top, top + cost.shape[0])
        table[rows, :cost.shape[1]] = cost
        top += cost.shape[0]
        x.append(rows)
        y.append(np.arange(cost.shape[1]))
        p.append(a)
        q.append(b)
        x_start.append(x_start[-1] + a.size)
        y_start.append(y_start[-1] + b.size)
    position = np.arange(table.shape[0])
    return (np.arange(len(costs)), np.concatenate(x), np.concatenate(y), np.concatenate(p), np.concatenate(q),
            np.array(x_start), np.array(y_start), table, position, _LEVELS)


@pytest.mark.parametrize("top", [2, 3, 8, 200])
def test_blocks_equal_pot_with_a_certificate(top):
    """Random integer costs from 1 to ``top``, random and tied masses, thin and wide blocks."""
    rng = np.random.default_rng(top)
    costs, masses = [], []
    for shape in [(2, 2), (2, 9), (9, 2), (5, 7), (30, 30), (70, 3), (65, 130), (130, 65)]:
        for tied in (False, True):
            cost = rng.integers(1, top + 1, size=shape).astype(np.uint8)
            a = np.full(shape[0], 1.0 / shape[0]) if tied else rng.random(shape[0])
            b = np.full(shape[1], a.sum() / shape[1]) if tied else rng.random(shape[1])
            b *= a.sum() / b.sum()
            costs.append(cost)
            masses.append((a, b))
    out = solve_pairs(*_blocks(costs, masses))
    expected = np.array([ot.emd2(a, b, c.astype(float)) for c, (a, b) in zip(costs, masses, strict=True)])
    np.testing.assert_allclose(out[:, PRIMAL], expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(out[:, DUAL], expected, rtol=1e-12, atol=1e-14)
    assert np.all(out[:, SLACK] <= 0.0)  # integer duals: feasibility holds exactly
    assert np.all(out[:, MARGINAL] <= 1e-14 * out[:, TOTAL])
    np.testing.assert_allclose(out[:, TOTAL], [a.sum() for a, _ in masses], rtol=1e-13)
    assert np.all(out[:, MAGNITUDE] >= [c.max() for c in costs])


def test_bit_operations_of_the_bit_sets():
    # every single bit's index, and the set bits of edge-case and random words
    for k in range(64):
        assert _bit_index(np.uint64(1) << np.uint64(k)) == k
    rng = np.random.default_rng(0)
    words = np.r_[np.array([0, 1, 2**63, 2**64 - 1, 0x5555555555555555, 0xAAAAAAAAAAAAAAAA], dtype=np.uint64),
                  rng.integers(0, 2**64 - 1, size=200, dtype=np.uint64, endpoint=True)]
    for word in words:
        assert _popcount(word) == bin(int(word)).count("1")


def test_an_unreached_entry_gives_nan():
    cost = np.array([[1, 255], [2, 1]], dtype=np.uint8)
    half = np.array([0.5, 0.5])
    out = solve_pairs(*_blocks([cost, cost.clip(0, 3)], [(half, half), (half, half)]))
    assert np.all(np.isnan(out[0]))
    assert out[1, PRIMAL] == pytest.approx(1.0, abs=1e-15)


@pytest.fixture
def compiled(monkeypatch):
    """Every unit-length problem through the compiled solver (on threads where ``n_jobs > 1``);
    counts the pairs it is given."""
    import graphwgan.ot._integer_transport as integer
    import graphwgan.ot.local as local

    monkeypatch.setattr(local, "_INTEGER_MIN_ENTRIES", 0)
    monkeypatch.setattr(local, "_POOL_MIN_ENTRIES", 0)  # threads even for small problems
    given = []
    solve = integer.solve_pairs

    def counting(pairs, *args):
        given.append(pairs.size)
        return solve(pairs, *args)

    monkeypatch.setattr(integer, "solve_pairs", counting)
    return given


@pytest.mark.parametrize("family", ["star", "tree", "karate", "powerlaw", "dense", "grid", "scale_free"])
def test_local_problems_equal_dense_oracle(compiled, family):
    graph = _unit_graph(family)
    walk_mu, walk_nu = _curvature_pairs(graph)
    random_mu, random_nu, radius = _local_pairs(graph, 40, seed=9)
    for mu, nu, limit in ((walk_mu, walk_nu, 3.0), (sp.csr_array(random_mu), sp.csr_array(random_nu), radius)):
        oracle = _dense_oracle(graph, mu.toarray(), nu.toarray())
        for n_jobs in (1, 2):
            compiled.clear()
            result = wasserstein_local(graph, mu, nu, radius=limit, n_jobs=n_jobs)
            np.testing.assert_allclose(result.distance, oracle, rtol=1e-12, atol=1e-13)
            assert np.all(result.duality_gap <= 1e-12)
            if family != "star":  # a star's pairs all have one point on a side: closed forms
                assert sum(compiled) > 0


def test_a_result_that_fails_its_certificate_is_solved_again(compiled, monkeypatch):
    import graphwgan.ot._integer_transport as integer

    graph = nx.barabasi_albert_graph(120, 4, seed=6)
    mu, nu = _curvature_pairs(graph)
    oracle = _dense_oracle(graph, mu.toarray(), nu.toarray())
    solve = integer.solve_pairs

    def wrong(pairs, *args):
        out = solve(pairs, *args)
        out[::2, PRIMAL] += 0.25  # wrong values with a duality gap no rounding explains
        out[1::4, [PRIMAL, DUAL]] += 0.125  # wrong values whose duals are infeasible
        out[1::4, SLACK] = 0.5
        return out

    monkeypatch.setattr(integer, "solve_pairs", wrong)
    result = wasserstein_local(graph, mu, nu, radius=3.0)
    np.testing.assert_allclose(result.distance, oracle, rtol=1e-12, atol=1e-13)


def test_blocks_above_the_size_limit_go_to_the_simplex(compiled, monkeypatch):
    import graphwgan.ot.local as local

    graph = nx.gnp_random_graph(60, 0.5, seed=5)
    mu, nu = _curvature_pairs(graph)
    monkeypatch.setattr(local, "_INTEGER_MAX_BLOCK", 200)
    result = wasserstein_local(graph, mu, nu, radius=3.0)
    np.testing.assert_allclose(result.distance, _dense_oracle(graph, mu.toarray(), nu.toarray()), rtol=1e-12,
                               atol=1e-13)


def test_supports_in_different_components_are_named(compiled):
    graph = nx.disjoint_union(nx.complete_graph(4), nx.complete_graph(4))
    mu, nu = np.zeros((1, 8)), np.zeros((1, 8))
    mu[0, [0, 1]] = 0.5
    nu[0, [5, 6]] = 0.5
    with pytest.raises(ValueError, match=r"connected components 0 \(node 0\) and 1 \(node 5\)"):
        wasserstein_local(graph, mu, nu)


def test_compiled_levels_equal_the_sparse_products():
    import graphwgan.ot.local as local
    from graphwgan.ot._integer_transport import breadth_first_levels

    graph = nx.barabasi_albert_graph(300, 4, seed=3)
    matrix = nx.to_scipy_sparse_array(graph, format="csr", dtype=np.float64)
    pattern = matrix.astype(np.float32)
    sources = np.array([0, 7, 150, 299, 7])
    for depth in (1, 2, 3, 5):
        expected = local._distance_rows(matrix, pattern, sources, float(depth), True)
        rows = np.full((sources.size, 300), 255, dtype=np.uint8)
        breadth_first_levels(pattern.indptr, pattern.indices, sources, depth, rows)
        np.testing.assert_array_equal(rows, expected)


def test_a_radius_too_small_is_reported_not_solved(compiled):
    path = nx.path_graph(6)
    mu = np.array([[1.0, 1, 0, 0, 0, 0], [0, 2, 0, 0, 0, 0]])
    nu = np.array([[0.0, 0, 0, 0, 1, 1], [0, 0, 1, 1, 0, 0]])  # pair 0 is beyond the radius, pair 1 within
    with pytest.raises(ValueError, match="radius 2 of pair 0 is smaller than the distance between support nodes"):
        wasserstein_local(path, mu, nu, radius=2.0)


def test_radii_beyond_the_level_searches_use_the_float_rows(compiled):
    """Radii above the level searches' depth give float distance rows, which the compiled solver
    does not read: those pairs go through the network simplex, with the same values."""
    graph = nx.path_graph(30)
    rng = np.random.default_rng(4)
    mu, nu = np.zeros((5, 30)), np.zeros((5, 30))
    for row in range(5):
        mu[row, rng.choice(30, 3, replace=False)] = rng.random(3)
        nu[row, rng.choice(30, 4, replace=False)] = rng.random(4)
        nu[row] *= mu[row].sum() / nu[row].sum()
    compiled.clear()
    result = wasserstein_local(graph, mu, nu)
    np.testing.assert_allclose(result.distance, _dense_oracle(graph, mu, nu), rtol=1e-12, atol=1e-13)
    assert sum(compiled) == 0


@pytest.mark.parametrize("alpha", [0.5, 0.0, 0.9])
def test_compiled_row_differences_equal_the_sparse_path_bit_for_bit(alpha):
    """Curvature's compiled supports, in one thread and split between three: the same entries,
    order, dtypes and rounding as the sparse subtraction and the flat supports of the general path
    (alpha = 0 stores explicit zeros)."""
    from concurrent.futures import ThreadPoolExecutor

    import graphwgan.ot.local as local
    from graphwgan.curvature import _walk_measures
    from graphwgan.ot._integer_transport import row_differences

    graph = nx.barabasi_albert_graph(300, 4, seed=int(alpha * 10))
    measures = _walk_measures(nx.to_scipy_sparse_array(graph, format="csr", dtype=float), alpha, 2.0, np.e)
    u, v = np.array(list(graph.edges)).T
    expected = local._flat_supports(local._excess_rows(measures[u], measures[v], 300))
    with ThreadPoolExecutor(3) as pool:
        for got in (row_differences(measures.indptr, measures.indices, measures.data, u, v),
                    row_differences(measures.indptr, measures.indices, measures.data, u, v, pool, 3)):
            for name, value in zip(["x", "y", "p", "q", "x_count", "y_count", "x_start", "y_start"], got,
                                   strict=True):
                assert value.dtype == getattr(expected, name).dtype, name
                np.testing.assert_array_equal(value, getattr(expected, name), err_msg=name)
