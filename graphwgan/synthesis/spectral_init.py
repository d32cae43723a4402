r"""Warm start of the low-rank walk's factors from a spectral embedding of the training graph.

The walk model :math:`P = \mathrm{softmax}(U V^\top)` starts from random factors whose logits carry no
information, and the first tens of epochs are spent finding the graph's large-scale structure (which
nodes are close), which a truncated eigendecomposition of the normalised adjacency
:math:`N = D^{-1/2} A D^{-1/2}` gives directly. :func:`spectral_factors` fills half of the columns
of :math:`U` and :math:`V` with that embedding and the other half randomly, as in the random start:

.. math::
    U_{:, :h} = V_{:, :h} = \sqrt{s}\, E, \qquad E_{u\cdot} = \frac{(X \Lambda)_{u\cdot}}
    {\lVert (X \Lambda)_{u\cdot} \rVert}, \qquad h = \lfloor H / 2 \rfloor,

with :math:`X, \Lambda` the :math:`h` leading eigenpairs of :math:`N` and the logit scale
:math:`s = \log n` (so the logits of nodes with the same embedding exceed those of orthogonal
ones by a factor :math:`n`, about the share a node's neighbourhood has of a row). The random
columns keep the start generic (the spectral part alone is symmetric, :math:`U = V`) and leave
room for what the spectrum does not hold; the training then moves every column.

The eigenpairs come from a block power (subspace) iteration on the shifted, positive semi-definite
:math:`N + I` with a Rayleigh-Ritz step: sparse products with an :math:`n \times (h + 8)` block,
:math:`O(\text{iterations} \cdot m h)` time and :math:`O(n h + m)` memory, never an
:math:`n \times n` array, and a deterministic result for a given generator (the start block is
drawn from it).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["spectral_embedding", "spectral_factors"]

# extra columns of the power iteration beyond those kept, and its products with N + I
_OVERSAMPLE = 8
_ITERATIONS = 30


def spectral_embedding(uv, n, dim, rng, iterations=_ITERATIONS):
    r"""The ``dim`` leading eigenpairs of :math:`N = D^{-1/2} A D^{-1/2}`, approximately.

    Parameters
    ----------
    uv : numpy.ndarray of shape (2, m), int64
        Undirected edges ``u < v``.
    n : int
        Number of nodes.
    dim : int
        Eigenpairs wanted, ``0 <= dim <= n``.
    rng : numpy.random.Generator
        Draws the start block.
    iterations : int
        Products with :math:`N + I` (each followed by an orthonormalisation).

    Returns
    -------
    values : numpy.ndarray of shape (dim,), float64
        Eigenvalues of :math:`N`, largest first.
    vectors : numpy.ndarray of shape (n, dim), float64
        Orthonormal eigenvectors, as columns.
    """
    import scipy.sparse as sp

    width = min(n, dim + _OVERSAMPLE)
    degrees = np.bincount(uv.ravel(), minlength=n).astype(np.float64)
    inv_sqrt = 1.0 / np.sqrt(np.maximum(degrees, 1.0))  # an isolated node has an empty row either way
    weights = inv_sqrt[uv[0]] * inv_sqrt[uv[1]]
    half = sp.coo_matrix((weights, (uv[0], uv[1])), shape=(n, n)).tocsr()
    normalized = half + half.T
    block = rng.standard_normal((n, width))
    block, _ = np.linalg.qr(block)
    for _ in range(iterations):
        block, _ = np.linalg.qr(normalized @ block + block)
    ritz = block.T @ (normalized @ block)
    values, rotation = np.linalg.eigh((ritz + ritz.T) / 2)
    order = np.argsort(values)[::-1][:dim]
    return values[order], block @ rotation[:, order]


def spectral_factors(uv, n, rank, rng):
    """Initial ``(source, target)`` factors, ``(n, rank)`` float32 numpy arrays: half spectral, half random.

    See the module docstring. The random half has the entries of the random start (standard
    deviation ``rank ** -0.5``); with ``rank == 1`` there is no spectral half.
    """
    dim = min(rank // 2, n)
    scale = rank**-0.5
    source = rng.standard_normal((n, rank)) * scale
    target = rng.standard_normal((n, rank)) * scale
    if dim:
        values, vectors = spectral_embedding(uv, n, dim, rng)
        embedding = vectors * values
        norms = np.linalg.norm(embedding, axis=1, keepdims=True)
        embedding /= np.where(norms > 0, norms, 1.0)
        embedding *= math.sqrt(math.log(max(n, 2)))
        source[:, :dim] = embedding
        target[:, :dim] = embedding
    return source.astype(np.float32), target.astype(np.float32)
