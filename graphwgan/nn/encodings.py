r"""Structural node encodings: inputs for critics on graphs without node features.

Both encodings depend only on the graph's structure, so a critic that reads them (rather than a
learned per-node embedding) can be applied to another graph without retraining.

- Laplacian eigenvectors: the ``k`` eigenvectors of the symmetric normalised Laplacian
  :math:`I - D^{-1/2} A D^{-1/2}` with the smallest non-zero eigenvalues (signs fixed so that the
  largest-magnitude entry is positive, which makes them deterministic).
- Random-walk encodings: the return probabilities :math:`(P^t)_{vv}` of the random walk
  :math:`P = D^{-1} A` for :math:`t = 1..k`, plus :math:`\log(1 + \deg v)`.

Message passing uses adjacency (not lengths) here: the encodings describe the graph's shape.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["laplacian_eigenvectors", "random_walk_encoding", "structural_encoding"]


def _adjacency(graph: Any):
    import scipy.sparse as sp

    from graphwgan.graph import to_graph, undirected_edges

    data = to_graph(graph, keep_attributes=False)
    (u, v), _ = undirected_edges(data)
    n = int(data.num_nodes)
    ones = np.ones(u.size)
    return sp.csr_array((np.concatenate([ones, ones]), (np.concatenate([u, v]), np.concatenate([v, u]))),
                        shape=(n, n))


def laplacian_eigenvectors(graph: Any, k: int = 8, *, seed: int = 0) -> np.ndarray:
    r"""The ``k`` non-trivial eigenvectors of the normalised Laplacian, shape ``(n, k)``.

    Columns beyond ``n - 1`` are zero (tiny graphs). ``seed`` fixes the start vector of the sparse
    eigensolver, so the result is reproducible.

    Graphs of up to 500 nodes are decomposed densely. Larger ones use ARPACK in shift-invert mode
    near zero when the sparse factorisation of the Laplacian is cheap, judged by the envelope of
    the Laplacian in reverse Cuthill-McKee order: with :math:`w_i` the distance from row :math:`i`
    to its first non-zero column, an envelope factorisation costs about :math:`\sum_i w_i^2`
    operations and :math:`\sum_i w_i` entries. Meshes, paths and most real graphs (Cora-ML:
    :math:`7 \cdot 10^8`) are far below the budget of :math:`10^{10}`; random expander-like graphs
    are not (their factors fill in towards :math:`n^2` entries: on a random graph with :math:`10^4`
    nodes and :math:`3 \cdot 10^4` edges shift-invert took 98 s, 0.7 s with Lanczos, and at
    :math:`10^5` nodes it did not finish in 10 minutes), and get plain Lanczos iterations on
    :math:`2I - \mathcal L = I + D^{-1/2} A D^{-1/2}` instead, which need :math:`O(|E| + nk)` memory
    and converge fast exactly on such graphs (a large spectral gap). Disconnected graphs take the
    Lanczos path too: their zero eigenvalue repeats once per component, which stalls shift-invert
    (130 s on CiteSeer's 438 components, 0.3 s with Lanczos). Pairs ARPACK does not converge in
    its iteration limit are left as zero columns.
    """
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    adjacency = _adjacency(graph)
    n = adjacency.shape[0]
    degree = np.asarray(adjacency.sum(axis=1)).ravel()
    scale = np.where(degree > 0, 1.0 / np.sqrt(np.maximum(degree, 1e-300)), 0.0)
    laplacian = sp.identity(n, format="csr") - sp.diags_array(scale) @ adjacency @ sp.diags_array(scale)
    out = np.zeros((n, k))
    wanted = min(k + 1, n - 1)
    if wanted < 1:
        return out
    if n <= 500 or wanted >= n - 1:
        values, vectors = np.linalg.eigh(laplacian.toarray())
    elif (connected_components(adjacency, directed=False)[0] == 1
          and _factorisation_work(laplacian) <= _FACTOR_WORK_BUDGET):
        # shift-invert near zero finds the smallest eigenvalues quickly
        values, vectors = _converged_pairs(laplacian, wanted, seed, sigma=-1e-3, which="LM")
    else:
        # the factorisation would fill in (expander-like graph), or the zero eigenvalue repeats (once per
        # component: shift-invert then iterates to its limit, 130 s on CiteSeer): Lanczos on
        # 2I - L = I + D^-1/2 A D^-1/2, whose largest eigenvalues are 2 minus the smallest of L, needs only
        # matrix-vector products
        shifted = sp.csr_array(2.0 * sp.identity(n, format="csr") - laplacian)
        top, vectors = _converged_pairs(shifted, wanted, seed, which="LA")
        values = 2.0 - top
    order = np.argsort(values)
    vectors = vectors[:, order[1:k + 1]]
    flip = np.sign(vectors[np.abs(vectors).argmax(axis=0), np.arange(vectors.shape[1])])
    out[:, :vectors.shape[1]] = vectors * np.where(flip == 0, 1.0, flip)
    return out


def _converged_pairs(matrix, count, seed, **options):
    """``eigsh`` from a seeded start vector; the pairs that converged when ARPACK stops short (the rest stay zero)."""
    from scipy.sparse.linalg import ArpackNoConvergence, eigsh

    start = np.random.default_rng(seed).random(matrix.shape[0])
    try:
        return eigsh(matrix, k=count, v0=start, **options)
    except ArpackNoConvergence as error:
        return error.eigenvalues, error.eigenvectors


#: largest estimated work (sum of squared envelope widths) for a shift-invert factorisation
_FACTOR_WORK_BUDGET = 1e10


def _factorisation_work(laplacian) -> float:
    r""":math:`\sum_i w_i^2`, the envelope widths :math:`w_i = i - \min\{j : L_{ij} \ne 0\}` in RCM order."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import reverse_cuthill_mckee

    matrix = sp.csr_matrix(laplacian)
    order = reverse_cuthill_mckee(matrix, symmetric_mode=True)
    permuted = matrix[order][:, order].tocsr()
    n = permuted.shape[0]
    rows = np.repeat(np.arange(n), np.diff(permuted.indptr))
    first = np.arange(n)  # the diagonal is stored (L has ones on it), so each row starts at or before it
    np.minimum.at(first, rows, permuted.indices)
    width = (np.arange(n) - first).astype(np.float64)
    return float(width @ width)


def random_walk_encoding(graph: Any, k: int = 4) -> np.ndarray:
    r"""Return probabilities of the random walk after ``1..k`` steps and the log-degree, ``(n, k + 1)``.

    Uses :math:`(P^{a+b})_{vv} = \sum_j (P^a)_{vj} (P^b)_{jv}`, so only powers up to
    :math:`\lceil k/2 \rceil` are formed (their fill-in is what costs on large graphs).
    """
    import scipy.sparse as sp

    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    adjacency = _adjacency(graph)
    degree = np.asarray(adjacency.sum(axis=1)).ravel()
    walk = sp.csr_array(sp.diags_array(np.where(degree > 0, 1.0 / np.maximum(degree, 1), 0.0)) @ adjacency)
    powers = {1: walk}
    for a in range(2, (k + 1) // 2 + 1):
        powers[a] = sp.csr_array(powers[a - 1] @ walk)
    out = np.zeros((adjacency.shape[0], k + 1))
    for t in range(1, k + 1):
        a, b = (t + 1) // 2, t // 2
        if b == 0:
            out[:, 0] = walk.diagonal()
        else:
            out[:, t - 1] = np.asarray(powers[a].multiply(powers[b].T).sum(axis=1)).ravel()
    out[:, k] = np.log1p(degree)
    return out


def structural_encoding(graph: Any, *, eigenvectors: int = 8, walk_steps: int = 4) -> np.ndarray:
    """Laplacian eigenvectors and random-walk encodings side by side, float32 ``(n, e + w + 1)``."""
    parts = []
    if eigenvectors:
        parts.append(laplacian_eigenvectors(graph, eigenvectors))
    if walk_steps:
        parts.append(random_walk_encoding(graph, walk_steps))
    if not parts:
        raise ValueError("ask for at least one encoding (eigenvectors or walk_steps > 0)")
    return np.concatenate(parts, axis=1).astype(np.float32)
