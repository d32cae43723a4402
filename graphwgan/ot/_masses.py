"""Validation of node mass vectors (distributions over the nodes of a graph)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["MAX_TOTAL", "MassInfo", "as_masses", "check_balance"]

#: Largest total mass accepted: far below float64's 1.8e308, so sums, flows and distances
#: (total mass times path lengths) stay finite.
MAX_TOTAL = 1e200


@dataclass(frozen=True)
class MassInfo:
    """Where a mass vector came from, so results can be returned in the same kind."""

    is_torch: bool
    dtype: Any = None
    device: Any = None


def _torch_module():
    import torch

    return torch


def as_masses(value: Any, name: str, num_nodes: int, *, batched: bool = False):
    """Return ``(array, info)``: a float64 numpy copy of ``value`` and its origin.

    ``value`` may be a numpy array, a torch tensor or a sequence of numbers. It must have
    shape ``(num_nodes,)`` (or ``(k, num_nodes)`` / ``(num_nodes,)`` when ``batched``), and
    hold finite, non-negative entries. The caller's object is never modified.
    """
    info = MassInfo(is_torch=False)
    if type(value).__module__.startswith("torch"):
        torch = _torch_module()
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"{name} must be a numpy array or a torch tensor, got {type(value).__name__}")
        if value.is_complex() or value.dtype == torch.bool:
            raise TypeError(f"{name} must hold real numbers, got dtype {value.dtype}")
        info = MassInfo(
            is_torch=True,
            dtype=value.dtype if value.is_floating_point() else torch.get_default_dtype(),
            device=value.device,
        )
        array = value.detach().to("cpu", torch.float64).numpy().copy()
    else:
        if isinstance(value, (str, bytes, dict, set)) or value is None:
            raise TypeError(
                f"{name} must be a numpy array, a torch tensor or a sequence of numbers, "
                f"got {type(value).__name__}"
            )
        try:
            raw = np.asarray(value)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must hold real numbers: {exc}") from None
        if raw.dtype.kind == "c":
            raise TypeError(f"{name} must hold real numbers, got complex values (dtype {raw.dtype}); pass the real "
                            "part explicitly if that is what you mean")
        if raw.dtype.kind == "f":
            info = MassInfo(is_torch=False, dtype=raw.dtype)
        try:
            array = np.array(raw, dtype=np.float64, copy=True)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must hold real numbers: {exc}") from None

    if batched and array.ndim not in (1, 2):
        raise ValueError(f"{name} must have shape ({num_nodes},) or (k, {num_nodes}), got {array.shape}")
    if not batched and array.ndim != 1:
        raise ValueError(
            f"{name} must be a 1-D vector of length {num_nodes} (one mass per node), got shape {array.shape}"
        )
    if array.shape[-1] != num_nodes:
        raise ValueError(
            f"{name} has {array.shape[-1]} entries but the graph has {num_nodes} nodes; "
            "give one mass per node, in node order"
        )
    bad = ~np.isfinite(array)
    if bad.any():
        first = np.argwhere(bad)[0]
        raise ValueError(
            f"{name} holds {int(bad.sum())} NaN or infinite entries (first at index {tuple(first.tolist())})"
        )
    negative = array < 0
    if negative.any():
        first = np.argwhere(negative)[0]
        raise ValueError(
            f"{name} holds {int(negative.sum())} negative entries (first at index {tuple(first.tolist())}: "
            f"{array[tuple(first)]!r}); masses must be non-negative"
        )
    largest = float(array.max()) if array.size else 0.0
    total = largest * float((array / largest).sum(axis=-1).max()) if largest > 0 else 0.0  # no overflow
    if total > MAX_TOTAL:
        magnitude = np.log10(largest) + np.log10(float((array / largest).sum(axis=-1).max()))
        raise ValueError(
            f"{name} has a total mass of about 10^{magnitude:.1f}, above {MAX_TOTAL:g}; divide mu and nu by the same "
            "factor (W1 scales with it) so that the distance stays finite"
        )
    return array, info


def _tolerance(total: np.ndarray, info_a: MassInfo, info_b: MassInfo) -> np.ndarray:
    """Tolerance on totals: relative 1e-9 for float64 inputs, else a few units of the inputs' precision.

    Masses normalised by the caller in float32 (or float16) sum to 1 only to about that type's
    machine epsilon, so they get ``8 * eps`` (at least 1e-5 for float32).
    """
    rtol = 1e-9
    for info in (info_a, info_b):
        itemsize = getattr(info.dtype, "itemsize", 8)
        if itemsize < 8:
            eps = float(np.finfo(np.float16 if itemsize == 2 else np.float32).eps)
            rtol = max(rtol, 8.0 * eps, 1e-5 if itemsize == 4 else 0.0)
    return rtol * np.maximum(total, np.finfo(np.float64).tiny)


def check_balance(mu: np.ndarray, nu: np.ndarray, component: np.ndarray, num_components: int,
                  info_mu: MassInfo, info_nu: MassInfo) -> tuple[np.ndarray, np.ndarray]:
    """Check that ``mu`` and ``nu`` carry equal mass on every connected component.

    Arrays have shape ``(k, n)``. Returns the mass of ``mu`` and of ``nu`` on each component,
    shape ``(k, num_components)``. Raises ``ValueError`` when the totals differ (W1 is defined only
    between equal masses) or when they agree overall but not on some component (then mass would
    have to cross between components, and W1 is infinite).
    """
    mu_total = mu.sum(axis=1)
    nu_total = nu.sum(axis=1)
    scale = np.maximum(mu_total, nu_total)
    tol = _tolerance(scale, info_mu, info_nu)
    off = np.abs(mu_total - nu_total) > tol
    if off.any():
        row = int(np.argmax(off))
        where = f" (pair {row})" if mu.shape[0] > 1 else ""
        raise ValueError(
            f"mu and nu must have the same total mass{where}: sum(mu) = {mu_total[row]!r}, "
            f"sum(nu) = {nu_total[row]!r}; normalise both (for example divide each by its sum)"
        )
    if num_components == 1:
        return mu_total[:, None], nu_total[:, None]
    per_mu = np.stack([np.bincount(component, weights=row, minlength=num_components) for row in mu])
    per_nu = np.stack([np.bincount(component, weights=row, minlength=num_components) for row in nu])
    off = np.abs(per_mu - per_nu) > tol[:, None]
    if off.any():
        row = int(np.argwhere(off)[0, 0])
        where = f"in pair {row}, " if mu.shape[0] > 1 else ""
        raise ValueError(
            f"{where}mu and nu put different mass on connected components {_name_components(off[row])}: "
            f"{_imbalance(per_mu[row], per_nu[row], off[row], component)}. No path joins the components, so the "
            "Wasserstein-1 distance is infinite. Compare distributions per component, or use a connected "
            "graph (to_graph(..., largest_component=True))"
        )
    return per_mu, per_nu


def _name_components(off: np.ndarray) -> str:
    """``"0 and 3"`` or ``"0, 2 and 5"`` (at most 6 named) for the components flagged in ``off``."""
    ids = np.flatnonzero(off).tolist()
    shown = [str(i) for i in ids[:6]] + ([f"{len(ids) - 6} more"] if len(ids) > 6 else [])
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def _imbalance(mu_mass: np.ndarray, nu_mass: np.ndarray, off: np.ndarray, component: np.ndarray) -> str:
    """Per flagged component (at most 6): both masses and a node of it, in internal ids."""
    parts = []
    for comp in np.flatnonzero(off)[:6].tolist():
        node = int(np.argmax(component == comp))
        parts.append(f"component {comp} (node {node}): mu {float(mu_mass[comp])!r} vs nu {float(nu_mass[comp])!r}")
    return "; ".join(parts)
