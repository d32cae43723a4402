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
    """The ``k`` non-trivial eigenvectors of the normalised Laplacian, shape ``(n, k)``.

    Columns beyond ``n - 1`` are zero (tiny graphs). ``seed`` fixes the start vector of the sparse
    eigensolver, so the result is reproducible.
    """
    import scipy.sparse as sp
    from scipy.sparse.linalg import eigsh

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
    else:
        rng = np.random.default_rng(seed)
        # shift-invert near zero finds the smallest eigenvalues quickly
        values, vectors = eigsh(laplacian, k=wanted, sigma=-1e-3, which="LM", v0=rng.random(n))
    order = np.argsort(values)
    vectors = vectors[:, order[1:k + 1]]
    flip = np.sign(vectors[np.abs(vectors).argmax(axis=0), np.arange(vectors.shape[1])])
    out[:, :vectors.shape[1]] = vectors * np.where(flip == 0, 1.0, flip)
    return out


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
