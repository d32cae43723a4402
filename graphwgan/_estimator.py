"""The scikit-learn estimator contract shared by graphwgan's generators and detectors.

``__init__`` only stores keyword parameters; :meth:`ParamsMixin.get_params` reads them back from
the signature, :meth:`ParamsMixin.set_params` changes them (taking effect at the next ``fit``),
and :func:`clone` builds an unfitted copy with the same parameters.
"""

from __future__ import annotations

import copy
import inspect
from typing import Any

__all__ = ["NotFittedError", "ParamsMixin", "clone"]


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
