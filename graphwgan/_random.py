"""Randomness that stays local: ``random_state``/``seed`` values become generators, never global seeding."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

__all__ = ["check_random_state", "torch_generator"]


def check_random_state(value: Any, name: str, owner: str) -> np.random.Generator:
    """A ``numpy.random.Generator`` from ``None``, a non-negative int (``0`` counts) or a Generator.

    ``None`` follows numpy's global random state, as in scikit-learn: the new generator is seeded
    from a draw of the legacy global ``RandomState`` (so ``np.random.seed(s)`` before a fit with
    ``random_state=None`` makes it repeatable, and nothing is seeded here); a Generator is used as
    it is (so its state advances); an int seeds a new one, so the same int gives the same draws.
    """
    if isinstance(value, np.random.Generator):
        return value
    if value is None:
        return np.random.default_rng(np.random.randint(0, 2**63 - 1, dtype=np.int64))  # noqa: NPY002 - sklearn's None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{owner}: {name} must be None, a non-negative int or a numpy.random.Generator, got {value!r}.")
    if value < 0:
        raise ValueError(f"{owner}: {name} must be a non-negative int, got {value}.")
    return np.random.default_rng(int(value))


def torch_generator(rng: np.random.Generator, device: Any = "cpu"):
    """A ``torch.Generator`` seeded from the next draw of ``rng`` (the numpy generator stays the source)."""
    import torch

    return torch.Generator(device=device).manual_seed(int(rng.integers(0, 2**63 - 1)))
