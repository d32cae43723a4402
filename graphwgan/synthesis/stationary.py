r"""Stationary law of the low-rank random walk, exact (row blocks) and sampled (sparse plus rank one)."""

from __future__ import annotations

import numpy as np

from graphwgan.synthesis.blocks import _DENSE_CACHE_ENTRIES, row_blocks

__all__ = ["sampled_stationary", "stationary_law"]

def stationary_law(source, target, start, tol=1e-6, max_passes=200):
    r"""Stationary distribution of :math:`P = \mathrm{softmax}(U V^\top)` and the log-normalisers.

    Solves the nonsingular system :math:`(I - P^\top + \mathbf{1}\mathbf{1}^\top / n)\, x =
    \mathbf{1} / n`, whose solution is :math:`\pi` (it sums to one), with restarted GMRES from the
    warm start ``start``, until
    :math:`\lVert \pi^\top P - \pi^\top \rVert_2 \le` ``tol`` :math:`\lVert \pi_0 \rVert_2`
    (an L1 residual of about ``tol``, below the round-off of a float32 pass summed in float64) or
    about ``max_passes`` products (GMRES adds up to three for its residuals). Every product
    :math:`x^\top P` is one pass over the row blocks (the first pass also gives :math:`\ell`);
    when the whole of :math:`P` fits in ``_DENSE_CACHE_ENTRIES`` entries (``n <= 4096``) its
    blocks are kept for the later products.
    :math:`P > 0` entrywise, so :math:`\pi` is unique and the rank-one term makes the system
    nonsingular. Measured on Cora-ML (2,810 nodes): GMRES needs 40-50 products from the degree
    distribution for an L1 error near ``1e-6``, where the plain power iteration
    :math:`\pi \leftarrow \pi P` needs 130-230 to reach a change below ``1e-6`` (an L1 error of
    1e-5 to 4e-5): the learned walk mixes slowly (:math:`|\lambda_2| \approx 0.94-0.97`).
    Returns ``(pi, lse, passes)``.
    """
    import torch

    n = source.shape[0]
    dtype, device = source.dtype, source.device
    target_t = target.T.contiguous()
    lse = torch.empty(n, dtype=dtype, device=device)
    cache = [] if n * n <= _DENSE_CACHE_ENTRIES else None
    passes = 0

    def product(x):  # x^T P, one pass over the row blocks
        nonlocal passes
        passes += 1
        vector = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64)).to(device=device, dtype=dtype)
        out = torch.zeros(n, dtype=torch.float64, device=device)
        for index, (begin, stop) in enumerate(row_blocks(n)):
            if cache is not None and index < len(cache):
                block = cache[index]
            elif passes == 1:
                block = source[begin:stop] @ target_t
                top = block.amax(dim=1, keepdim=True)
                block.sub_(top).exp_()
                norm = block.sum(dim=1, keepdim=True)
                block.div_(norm)
                lse[begin:stop] = (top + norm.log_()).squeeze(1)
                if cache is not None:
                    cache.append(block)
            else:
                block = (source[begin:stop] @ target_t).sub_(lse[begin:stop, None]).exp_()
            out += (vector[begin:stop] @ block).double()
        return out.cpu().numpy()

    pi = _solve_stationary(product, start, n, tol, max_passes).to(device=device, dtype=dtype)
    return pi / pi.sum(), lse, passes


def _solve_stationary(product, start, n, tol, max_passes):
    r"""GMRES for :math:`\pi^\top P = \pi^\top` given ``product(x) =`` :math:`x^\top P` (numpy, float64).

    Solves the nonsingular :math:`(I - P^\top + \mathbf{1}\mathbf{1}^\top / n)\, x = \mathbf{1} / n` from
    the warm start ``start`` until :math:`\lVert x^\top P - x^\top \rVert_2 \le` ``tol``
    :math:`\lVert x_0 \rVert_2`, in about ``max_passes`` products; returns :math:`\pi` as a float64
    CPU tensor clamped to be positive, for the caller to cast and normalise. Shared by the exact and
    the sampled passes.
    """
    import torch
    from scipy.sparse.linalg import LinearOperator, gmres

    pi0 = start.double().cpu().numpy()
    pi0 = pi0 / pi0.sum()
    residual = product(pi0) - pi0
    atol = tol * float(np.linalg.norm(pi0))
    if np.linalg.norm(residual) > atol:
        # (I - P^T + 1 1^T / n) x = 1 / n: nonsingular, and solved exactly by pi (1^T pi = 1)
        def apply(x):
            x = np.asarray(x).ravel()
            return x - product(x) + x.sum() / n

        operator = LinearOperator((n, n), matvec=apply, dtype=np.float64)
        restart = max(1, min(n, 40, max_passes - 1))  # GMRES makes one product per step (after its first)
        pi0, _ = gmres(operator, np.full(n, 1.0 / n), x0=pi0, rtol=0.0, atol=atol, restart=restart,
                       maxiter=max(1, (max_passes - 1) // restart))
    return torch.from_numpy(np.maximum(pi0, np.finfo(np.float64).tiny))


def sampled_stationary(balls, values, rest, outside, start, tol=1e-6, max_passes=200):
    r"""Stationary law of :math:`\hat P = P_B + r \bar q^\top` by GMRES (sparse products); ``(pi, passes)``.

    The products run on the CPU with one sparse matrix :math:`P_B` (float64, 8 bytes an entry beside
    the balls' 5) whose transposed product reads each entry once.
    """
    import scipy.sparse as sp

    n = rest.numel()
    device, dtype = values.device, values.dtype
    index_type = np.int32 if balls.nnz < 2**31 else np.int64
    ball_part = sp.csr_array((values.double().cpu().numpy(), balls.indices.cpu().numpy().astype(index_type, copy=False),
                              balls.indptr.astype(index_type, copy=False)), shape=(n, n)).T
    rest64, outside64 = rest.double().cpu().numpy(), outside.double().cpu().numpy()
    passes = 0

    def product(x):  # x^T P_hat = P_B^T x + (x . r) q
        nonlocal passes
        passes += 1
        return ball_part @ x + float(x @ rest64) * outside64

    pi = _solve_stationary(product, start, n, tol, max_passes).to(device=device, dtype=dtype)
    return pi / pi.sum(), passes
