"""Argument checks shared across the library, with messages that name the caller and the fix."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

__all__ = ["check_int", "check_real", "check_seed", "is_tensor", "resolve_device", "to_numpy"]


def check_int(value: Any, label: str, owner: str, *, minimum: int, maximum: int | None = None) -> int:
    """Return ``value`` as an int, or raise naming ``owner``'s argument ``label``.

    Booleans are refused (``True`` is an ``int`` to Python, never a count here); a float that is a
    whole number gets a hint to pass the int.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        if isinstance(value, numbers.Real) and math.isfinite(value) and float(value).is_integer():
            hint = f"; pass {int(value)}"
        else:
            hint = ""
        raise TypeError(f"{owner}: {label} must be an int, got {value!r}{hint}.")
    if value < minimum:
        raise ValueError(f"{owner}: {label} must be >= {minimum}, got {value}.")
    if maximum is not None and value > maximum:
        raise ValueError(f"{owner}: {label}={value} is too large; the graph allows at most {maximum}.")
    return int(value)


def check_real(
    value: Any,
    label: str,
    owner: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a finite float in the given interval, or raise naming ``owner``'s ``label``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise TypeError(f"{owner}: {label} must be a finite real number, got {value!r}.")
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        left = "(" if low_open else "["
        right = "inf)" if high is None else (f"{high})" if high_open else f"{high}]")
        raise ValueError(f"{owner}: {label} must be in {left}{low}, {right}, got {value!r}.")
    return float(value)


def resolve_device(device: Any, owner: str):
    """``device`` as a ``torch.device``, refusing CUDA where there is none."""
    import torch

    try:
        resolved = torch.device(device)
    except (TypeError, RuntimeError) as err:
        raise ValueError(f"{owner}: device={device!r} is not a torch device ({err}); use 'cpu' or 'cuda'.") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"{owner}: device={device!r} but CUDA is not available here; use device='cpu'.")
    return resolved


def check_seed(seed: Any, owner: str) -> int | None:
    """``None`` or a non-negative int (``0`` is a seed like any other)."""
    if seed is None:
        return None
    return check_int(seed, "seed", owner, minimum=0)


def is_tensor(obj: Any) -> bool:
    """True for a torch tensor, without importing torch for anything else."""
    if not (type(obj).__module__ or "").startswith("torch"):
        return False
    import torch

    return isinstance(obj, torch.Tensor)


def to_numpy(value: Any) -> np.ndarray:
    """A tensor (detached, on the CPU) or any array-like as a numpy array."""
    return value.detach().cpu().numpy() if is_tensor(value) else np.asarray(value)
