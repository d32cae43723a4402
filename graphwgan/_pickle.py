"""Unpickling that can run no code: only numpy arrays, numpy scalars and scipy sparse matrices are rebuilt.

Some published graph files (GraphData and NetGAN npz archives, a link-prediction split) store
scipy matrices or numpy arrays as pickles. :func:`restricted_loads` reads them with an unpickler
whose ``find_class`` resolves only the names those objects need; any other global (a function, a
class with side effects) is refused with ``pickle.UnpicklingError`` before it is called.
"""

from __future__ import annotations

import io
import pickle

import numpy as np

__all__ = ["RestrictedUnpickler", "restricted_loads"]

# globals a restricted npz pickle may name: numpy arrays, scalars and dtypes, scipy sparse
# matrices (any module path numpy/scipy used over the years) and the bytes codec numpy uses
_SAFE_GLOBALS = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("_codecs", "encode"),
}
_SPARSE_MODULES = ("scipy.sparse", "scipy.sparse.csr", "scipy.sparse.csc", "scipy.sparse.coo",
                   "scipy.sparse._csr", "scipy.sparse._csc", "scipy.sparse._coo")
_SPARSE_CLASSES = ("csr_matrix", "csc_matrix", "coo_matrix", "csr_array", "csc_array", "coo_array")


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that resolves only numpy array and scipy sparse names; anything else is refused."""

    def find_class(self, module, name):
        if (module, name) in _SAFE_GLOBALS:
            if module == "_codecs":
                import codecs

                return codecs.encode
            if module.startswith("numpy.") and name == "_reconstruct":
                return _ndarray_reconstruct
            if module.startswith("numpy.") and name == "scalar":
                return _numpy_scalar
            return getattr(np, name)
        if module in _SPARSE_MODULES and name in _SPARSE_CLASSES:
            import scipy.sparse as sp

            return getattr(sp, name)
        raise pickle.UnpicklingError(f"restricted unpickling refuses the global {module}.{name}")


def _ndarray_reconstruct(subtype, shape, dtype):
    if subtype is not np.ndarray:
        raise pickle.UnpicklingError(f"restricted unpickling refuses the array type {subtype!r}")
    return np.ndarray.__new__(np.ndarray, shape, dtype)


def _numpy_scalar(dtype, data=None):
    if not isinstance(dtype, np.dtype) or dtype.hasobject:
        raise pickle.UnpicklingError(f"restricted unpickling refuses a scalar of dtype {dtype!r}")
    return np.frombuffer(data, dtype=dtype, count=1)[0]



def restricted_loads(data: bytes):
    """Unpickle ``data`` with :class:`RestrictedUnpickler` (numpy arrays and scipy sparse matrices only)."""
    return RestrictedUnpickler(io.BytesIO(data)).load()
