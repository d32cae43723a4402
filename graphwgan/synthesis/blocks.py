r"""Row blocks of the :math:`n \times n` logit matrix and the memory they need.

The exact walk passes, the stationary solver and the sampler never hold a whole
:math:`n \times n` matrix: they walk over blocks of rows of about ``_CHUNK_ENTRIES`` entries.
"""

from __future__ import annotations

__all__ = ["row_blocks"]

# Entries per block of rows in CELL's passes over the n x n logits (training, pi, scores, sampling): about 4M.
_CHUNK_ENTRIES = 1 << 22
# CELL keeps all of P for the stationary solve when it has at most this many entries (64 MB; n <= 4096).
_DENSE_CACHE_ENTRIES = 1 << 24


def row_blocks(n):
    """``(start, stop)`` row ranges of about ``_CHUNK_ENTRIES`` entries of an ``n``-wide matrix."""
    rows = max(1, _CHUNK_ENTRIES // n)
    return [(start, min(n, start + rows)) for start in range(0, n, rows)]


def _physical_memory():
    """Bytes of physical memory, or ``None`` where the platform does not say."""
    import os

    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):  # pragma: no cover - non-POSIX
        return None


def _cell_memory(n, m, rank, negatives=None):
    """Estimated peak bytes of CELL without a transport term (blocks, factors, edges, sampling)."""
    block = max(1, _CHUNK_ENTRIES // n) * n if negatives is None else _CHUNK_ENTRIES
    blocks = 4 * 4 * block + 8 * block  # float32 logits/scores/keys/temporaries + float64 cumulative sums
    factors = 4 * 12 * n * rank  # U, V, their gradients and Adam moments, transposed copies
    edges = 2 * m * 3 * 8 + 3 * m * 12  # directed edges (row, column, keys); sampling candidates
    return blocks + factors + edges + 64 * n + (150 << 20)  # per-node vectors; the interpreter and torch
