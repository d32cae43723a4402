"""The scikit-learn estimator contract shared by graphwgan's generators and detectors.

``__init__`` only stores keyword parameters; :meth:`ParamsMixin.get_params` reads them back from
the signature, :meth:`ParamsMixin.set_params` changes them (taking effect at the next ``fit``),
and :func:`clone` builds an unfitted copy with the same parameters.
"""

from __future__ import annotations

import copy
import inspect
from typing import Any

__all__ = ["NotFittedError", "ParamsMixin", "clone", "plain_params", "read_estimator", "write_estimator"]


class NotFittedError(ValueError, AttributeError):
    """Raised when an estimator is used before ``fit``."""


class ParamsMixin:
    """``get_params``/``set_params``/``repr`` from the keyword-only parameters of ``__init__``."""

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor parameters and their current values (scikit-learn convention).

        Parameters
        ----------
        deep : bool, default True
            Ignored (no nested estimators); kept for scikit-learn compatibility.

        Returns
        -------
        dict
            ``{name: value}`` for every ``__init__`` parameter.
        """
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> ParamsMixin:
        """Set constructor parameters (scikit-learn convention); takes effect at the next fit.

        Returns
        -------
        self
        """
        valid = self._param_names()
        for key, value in params.items():
            if key not in valid:
                raise ValueError(
                    f"{type(self).__name__}.set_params: unknown parameter {key!r}; valid parameters are {valid}."
                )
            setattr(self, key, value)
        return self

    @classmethod
    def _param_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        return sorted(p.name for p in signature.parameters.values() if p.name != "self" and p.kind == p.KEYWORD_ONLY)

    def __repr__(self) -> str:
        defaults = {
            p.name: p.default for p in inspect.signature(type(self).__init__).parameters.values() if p.name != "self"
        }
        changed = []
        for name in self._param_names():
            value = getattr(self, name)
            default = defaults.get(name, inspect.Parameter.empty)
            same = value is default or (
                isinstance(value, (int, float, str, type(None))) and type(value) is type(default) and value == default
            )
            if not same:
                text = repr(value)
                changed.append(f"{name}={text if len(text) <= 40 else '...'}")
        return f"{type(self).__name__}({', '.join(changed)})"


def clone(estimator: Any) -> Any:
    """An unfitted estimator of the same class with deep copies of the same parameters.

    Parameters
    ----------
    estimator : estimator with ``get_params``
        Any graphwgan generator or detector (scikit-learn's ``clone`` works on them too).

    Returns
    -------
    estimator
        A new, unfitted instance; the original is untouched.
    """
    if not hasattr(estimator, "get_params"):
        raise TypeError(f"clone: expected an estimator with get_params(), got {type(estimator).__name__}.")
    params = {name: copy.deepcopy(value) for name, value in estimator.get_params(deep=False).items()}
    return type(estimator)(**params)


# -- persistence: one file scheme for every estimator ------------------------------------------------
#
# A ``torch.save`` of a plain dict: ``format`` (the family, e.g. "graphwgan.synthesizer"),
# ``version`` (of that family's layout), ``class`` (the estimator's class name), ``params`` (the
# constructor parameters as plain values) and the family's own entries of tensors, arrays and plain
# values. It is read back with ``torch.load(weights_only=True)``: no code runs from a file.


def plain_params(estimator: Any) -> dict[str, Any]:
    """The constructor parameters as plain values: a device as its name, anything else not plain as ``None``.

    A ``random_state`` that is a ``numpy.random.Generator`` becomes ``None`` (the estimator keeps the
    fitted generator's state among its own entries where sampling continues from it).
    """
    params = {}
    for key, value in estimator.get_params().items():
        if type(value).__module__.startswith("torch") and type(value).__name__ == "device":
            value = str(value)
        params[key] = value if _is_plain(value) else None
    return params


def write_estimator(path: Any, estimator: Any, *, format: str, version: int, entries: dict[str, Any]) -> None:
    """Write ``estimator``'s parameters and ``entries`` to ``path`` in the shared scheme (see above)."""
    import torch

    owner = f"{type(estimator).__name__}.save"
    payload = {"format": format, "version": version, "class": type(estimator).__name__,
               "params": plain_params(estimator), **entries}
    torch.save(payload, _as_path(path, owner))


def read_estimator(path: Any, *, owner: str, format: str, version: int, what: str, writers: str) -> dict[str, Any]:
    """Read and check a file written by :func:`write_estimator`; returns its payload.

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` for a file that is not a
    graphwgan ``what`` file of this ``format`` and ``version`` (``writers`` names what writes one).
    """
    import torch

    path = _as_path(path, owner)
    if not path.is_file():
        raise FileNotFoundError(f"{owner}: no file at {str(path)!r}.")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - unpickling errors come in many types
        raise ValueError(
            f"{owner}: {str(path)!r} is not a graphwgan {what} file ({type(err).__name__}: {err})."
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != format:
        raise ValueError(
            f"{owner}: {str(path)!r} is not a graphwgan {what} file (no '{format}' stamp); write one with {writers}."
        )
    if payload.get("version") != version:
        raise ValueError(
            f"{owner}: {str(path)!r} was written in {what} format version {payload.get('version')!r}, but this "
            f"graphwgan reads version {version}; refit the model and save it again, or load it with the graphwgan "
            "release that wrote it."
        )
    return payload


def _as_path(path: Any, owner: str):
    import os
    from pathlib import Path

    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{owner}: path must be a str or os.PathLike, got {type(path).__name__}.")
    return Path(path)


def _is_plain(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (tuple, list)):
        return all(_is_plain(item) for item in value)
    return False
