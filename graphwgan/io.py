"""Read graph files (npz, MATLAB, edge lists, PyG ``.pt``) into graphwgan's ``Data`` layout.

:func:`read_graph` recognises the file layout, builds the adjacency, node features ``x``, labels
``y`` and ``node_names``, and hands the result to :func:`graphwgan.graph.to_graph`, so every file
comes back in the same undirected, coalesced layout (see :mod:`graphwgan.graph`).

Stored adjacency values and edge-list length columns are read as edge LENGTHS. Pass
``weight=None`` to ignore them and give every edge length 1 (the right choice for the usual
unweighted benchmark graphs, some of which store link multiplicities such as 2.0).
"""

from __future__ import annotations

import contextlib
import io as _io
import os
import pickle
import re
import warnings
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from graphwgan._pickle import restricted_loads
from graphwgan.convert import from_object, relabel_ids

if TYPE_CHECKING:  # pragma: no cover - typing only
    from torch_geometric.data import Data

__all__ = [
    "DENSE_FEATURE_LIMIT",
    "FORMATS",
    "TABLE_SUFFIXES",
    "WRITE_FORMATS",
    "read_graph",
    "read_masses",
    "write_graph",
    "write_scores",
    "write_table",
]

#: Formats :func:`write_graph` writes (file suffix -> format).
WRITE_FORMATS = {".txt": "txt", ".csv": "csv", ".npz": "npz"}

#: Node features with at most this many entries (``n * d``) are returned as a dense tensor;
#: larger ones as a sparse COO tensor.
DENSE_FEATURE_LIMIT = 50_000_000

#: Values accepted by ``read_graph(format=...)``.
FORMATS = ("npz", "mat", "edgelist", "pt", "graphml", "gml")

_TO_GRAPH_KEYS = ("num_nodes", "largest_component", "remove_self_loops", "weight")
_EDGELIST_SUFFIXES = {".txt", ".tsv", ".csv", ".edgelist", ".edges", ".el", ".dat", ".tab"}
_PICKLE_HINT = (
    'pass allow_pickle="restricted" to rebuild numpy arrays and scipy sparse matrices only (no code runs), '
    "or allow_pickle=True if you trust the file (unpickling can run arbitrary code)"
)


def read_graph(
    path: str | os.PathLike,
    format: str | None = None,
    *,
    allow_pickle: bool | str = False,
    columns: Sequence[str | int] | None = None,
    delimiter: str | None = None,
    header: bool | None = None,
    comment: str = "#",
    **to_graph_kwargs: Any,
) -> Data:
    """Read a graph file into graphwgan's undirected ``Data`` layout.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    format : {"npz", "mat", "edgelist", "pt", "graphml", "gml"}, optional
        The file format. By default it is inferred from the suffix (``.npz``; ``.mat``;
        ``.pt``, ``.pth``, ``.pt.zip``, ``.zip``; ``.txt``, ``.tsv``, ``.csv``, ``.edgelist``,
        ``.edges``; ``.graphml``; ``.gml``) and otherwise from the content.

        * ``"npz"``: numpy archives in any of these layouts

          - flat ``adj_data / adj_indices / adj_indptr / adj_shape`` CSR adjacency, with optional
            ``attr_*`` CSR features (``x``), ``labels`` (``y``) and ``node_names``
            (gnn-benchmark / nettack files; ``adj_matrix.data``-style dotted keys work too);
          - the NetGAN archive: one key ``arr_0`` holding a pickled dict with the keys above and
            ``idx_to_node`` (needs ``allow_pickle=True``);
          - plain CSR ``data / indices / indptr / shape`` with optional ``labels``, including
            files written by ``scipy.sparse.save_npz`` (any sparse format);
          - GraphData: ``adj_matrix`` and ``node_attr`` as pickled sparse matrices,
            ``node_label``, ``metadata`` (needs ``allow_pickle=True``).
        * ``"mat"``: MATLAB v5 files (``scipy.io.loadmat``). The adjacency is the ``network``
          or ``net`` variable, otherwise the only square matrix in the file; ``group`` gives
          ``y`` and ``features`` / ``attributes`` give ``x``.
        * ``"edgelist"``: text, one edge ``u v [length]`` per line, separated by tabs, commas or
          whitespace (detected from the first line unless ``delimiter`` is given). Lines starting
          with ``comment`` and blank lines are skipped. Integer ids that are exactly ``0..n-1``
          are used as they are; sparse or 1-based integer ids are relabelled ``0..n-1`` in
          increasing order (no isolated phantom nodes for the missing ids) and kept, as strings,
          in ``data.node_names``; any other ids are relabelled ``0..n-1`` in order of first
          appearance and kept in ``data.node_names``. Given ``num_nodes``, integer ids are
          positions ``0..num_nodes-1`` and the missing ones are isolated nodes.
          A third field that is a Python dict, as ``networkx.write_edgelist`` writes by default
          (``u v {'weight': 2.0}``), is read with ``ast.literal_eval``: its ``weight`` entry
          (the key named by ``weight``) is the length when every line has one.
        * ``"graphml"``, ``"gml"``: read with ``networkx.read_graphml`` / ``networkx.read_gml``
          (GML nodes named by their ``label``, else their ``id``); node ids are kept in
          ``data.node_names`` and an edge attribute ``weight`` is the length.
        * ``"pt"``: a ``torch.save`` of a PyG ``Data`` (or of a dict with ``edge_index``, or of
          an edge_index tensor), also inside a zip holding one ``.pt`` file (read in memory).
    allow_pickle : bool or "restricted", default False
        Allow loading pickled Python objects (NetGAN / GraphData npz archives, ``.pt`` files
        that hold more than tensors and PyG ``Data``). ``True`` runs Python's unpickler: only
        enable it for files you trust. ``"restricted"`` reads the pickled objects of npz
        archives with an unpickler that rebuilds only numpy arrays, numpy scalars, plain
        containers and scipy sparse matrices (re-assembled from their index arrays), so no code
        can run; ``.pt`` files are then read as with ``False``.
        Without it, ``.pt`` files are read with ``torch.load(weights_only=True)`` with the PyG
        ``Data`` classes allowed, which covers ordinary PyG ``Data`` files.
    columns : sequence of str or int, optional
        Edge lists only: the columns holding ``(u, v)`` or ``(u, v, length)``, as 0-based
        positions or header names (names imply a header line). By default ``u, v`` are the
        first two columns and the third, if present, is the length. With two columns given the
        graph is unweighted, e.g. ``columns=("item_id_a", "item_id_b")`` for a STRING actions
        file.
    delimiter : str, optional
        Edge lists only: the field separator; by default tab, else comma, else any whitespace,
        judged from the first data line.
    header : bool, optional
        Edge lists only: whether the first data line is a header. By default it is when
        ``columns`` uses names, or when some field of the first line is not a number while the
        same field of the second line is.
    comment : str, default "#"
        Edge lists only: lines starting with this are skipped.
    **to_graph_kwargs
        ``num_nodes``, ``largest_component``, ``remove_self_loops`` and ``weight``, passed to
        :func:`graphwgan.graph.to_graph` (``weight=None`` ignores stored lengths). For an edge
        list with integer ids, ``num_nodes`` may exceed ``max id + 1`` to add isolated nodes.

    Returns
    -------
    torch_geometric.data.Data
        ``edge_index`` (``int64``, ``(2, 2m)``, both directions, coalesced), ``edge_weight``
        (``float64``), ``num_nodes``, and where the file has them ``x`` (``float32``; a dense
        tensor when ``n * d <= DENSE_FEATURE_LIMIT``, else a sparse COO tensor), ``y``
        (``int64`` class ids; ``float32`` multi-hot ``(n, C)`` for multi-label ``group``
        matrices) and ``node_names`` (a list of str, surrounding whitespace stripped).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the content is malformed or not a known layout, or it holds pickled objects and
        ``allow_pickle`` is False; the message names the file and what was expected.
    TypeError
        For unknown keyword arguments, or edge-list options used with another format.
    """
    unknown = sorted(set(to_graph_kwargs) - set(_TO_GRAPH_KEYS))
    if unknown:
        raise TypeError(
            f"read_graph: unexpected keyword argument(s) {unknown}; accepted are format, "
            f"allow_pickle, columns, delimiter, header, comment and {list(_TO_GRAPH_KEYS)}."
        )
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"read_graph: path must be a str or os.PathLike, got {type(path).__name__}; for "
            "in-memory graphs use graphwgan.to_graph."
        )
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"read_graph: no such file: '{path}'")
    if path.is_dir():
        raise IsADirectoryError(f"read_graph: '{path}' is a directory, expected a graph file.")
    if allow_pickle not in (False, True, "restricted"):
        raise ValueError(f"read_graph: allow_pickle must be False, True or 'restricted', got {allow_pickle!r}.")
    if format is None:
        format = _infer_format(path)
    elif format not in FORMATS:
        raise ValueError(f"read_graph: format must be one of {FORMATS} or None, got {format!r}.")
    if format != "edgelist":
        given = [
            name
            for name, value, default in (
                ("columns", columns, None),
                ("delimiter", delimiter, None),
                ("header", header, None),
                ("comment", comment, "#"),
            )
            if value != default
        ]
        if given:
            raise TypeError(
                f"read_graph: {', '.join(given)} only apply to edge lists, but '{path}' is read as format={format!r}."
            )

    if format == "npz":
        data = _read_npz(path, allow_pickle)
    elif format == "mat":
        data = _read_mat(path)
    elif format == "pt":
        data = _read_pt(path, allow_pickle is True)
    elif format in ("graphml", "gml"):
        data = _read_networkx_file(path, format)
    else:
        data, to_graph_kwargs = _read_edgelist(path, columns, delimiter, header, comment, dict(to_graph_kwargs))
    return _finish(data, path, to_graph_kwargs)


# ----------------------------------------------------------------------------------------------
# format detection and the final normalisation
# ----------------------------------------------------------------------------------------------


def _infer_format(path: Path) -> str:
    name = path.name.lower()
    suffix = path.suffix.lower()
    if suffix == ".npz":
        return "npz"
    if suffix == ".mat":
        return "mat"
    if suffix in (".pt", ".pth") or name.endswith(".pt.zip"):
        return "pt"
    if suffix in _EDGELIST_SUFFIXES:
        return "edgelist"
    if suffix in (".graphml", ".gml"):
        return suffix[1:]
    with open(path, "rb") as handle:
        head = handle.read(1024)
    if b"<graphml" in head:
        return "graphml"
    if head.lstrip().startswith((b"graph", b"Creator")) and b"[" in head:
        return "gml"
    if head.startswith(b"PK"):
        try:
            with zipfile.ZipFile(path) as archive:
                names = [n for n in archive.namelist() if not n.endswith("/")]
        except zipfile.BadZipFile:
            names = []
        if names and all(n.endswith(".npy") for n in names):
            return "npz"
        return "pt"
    if head.startswith(b"MATLAB"):
        return "mat"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        if b"\x00" not in head:
            return "edgelist"
    raise ValueError(
        f"read_graph: cannot tell the format of '{path}' from its suffix or content; pass format= one of {FORMATS}."
    )


def _finish(data: Data, path: Path, to_graph_kwargs: dict) -> Data:
    try:
        return from_object(data, **to_graph_kwargs)
    except ValueError as err:
        raise ValueError(f"read_graph: '{path}': {err}") from None


def _make_data(adjacency, *, x=None, y=None, node_names=None) -> Data:
    """A raw ``Data`` (one entry per stored nonzero) for ``to_graph`` to normalise."""
    import scipy.sparse as sp
    import torch
    from torch_geometric.data import Data

    coo = sp.coo_array(adjacency)
    values = np.asarray(coo.data)
    keep = values != 0  # explicit zeros are absent entries, as in to_graph's sparse input
    data = Data(
        edge_index=torch.from_numpy(np.stack([coo.row[keep], coo.col[keep]]).astype(np.int64)),
        edge_weight=torch.from_numpy(values[keep].astype(np.float64)),
        num_nodes=int(adjacency.shape[0]),
    )
    if x is not None:
        data.x = x
    if y is not None:
        data.y = y
    if node_names is not None:
        data.node_names = node_names
    return data


def _check_adjacency(adjacency, path: Path, what: str):
    import scipy.sparse as sp

    if not sp.issparse(adjacency):
        adjacency = np.asarray(adjacency)
        if adjacency.dtype.kind not in "biuf":
            raise ValueError(f"read_graph: '{path}': {what} is not a numeric matrix.")
        adjacency = sp.csr_array(adjacency)
    if adjacency.ndim != 2 or adjacency.shape[0] != adjacency.shape[1]:
        raise ValueError(f"read_graph: '{path}': {what} must be a square adjacency, got shape {adjacency.shape}.")
    return adjacency


def _features(matrix):
    """Node features as float32: dense up to DENSE_FEATURE_LIMIT entries, else sparse COO."""
    import scipy.sparse as sp
    import torch

    if sp.issparse(matrix):
        rows, cols = matrix.shape
        if rows * cols <= DENSE_FEATURE_LIMIT:
            return torch.from_numpy(np.asarray(matrix.toarray(), dtype=np.float32))
        coo = sp.coo_array(matrix)
        coo.sum_duplicates()
        indices = torch.from_numpy(np.stack([coo.row, coo.col]).astype(np.int64))
        values = torch.from_numpy(np.asarray(coo.data, dtype=np.float32))
        return torch.sparse_coo_tensor(indices, values, (rows, cols), is_coalesced=True, check_invariants=True)
    array = np.asarray(matrix, dtype=np.float32)
    if array.ndim == 1:
        array = array[:, None]
    return torch.from_numpy(np.ascontiguousarray(array))


def _labels(labels):
    """Class ids as int64 (1-D), multi-label matrices as float32 multi-hot ``(n, C)``."""
    import scipy.sparse as sp
    import torch

    if sp.issparse(labels):
        labels = labels.toarray()
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim == 2:
        binary = np.isin(labels, (0, 1)).all()
        if binary and (labels.sum(axis=1) == 1).all():  # one-hot -> class ids
            return torch.from_numpy(labels.argmax(axis=1).astype(np.int64))
        return torch.from_numpy(labels.astype(np.float32))
    if labels.dtype.kind in "biu" or (labels.dtype.kind == "f" and np.all(np.mod(labels, 1) == 0)):
        return torch.from_numpy(labels.astype(np.int64))
    return torch.from_numpy(labels.astype(np.float32))


def _names(names) -> list[str]:
    return [str(name).strip() for name in names]


# ----------------------------------------------------------------------------------------------
# npz
# ----------------------------------------------------------------------------------------------


def _read_npz(path: Path, allow_pickle: bool) -> Data:
    import scipy.sparse as sp

    try:
        archive = np.load(path, allow_pickle=allow_pickle is True)
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as err:
        raise ValueError(f"read_graph: '{path}' is not a readable npz archive ({err}).") from None
    if not hasattr(archive, "files"):  # a plain .npy array or a bare pickle
        raise ValueError(
            f"read_graph: '{path}' holds a single {type(archive).__name__}, expected an npz archive of a graph."
        )
    with archive:
        keys = set(archive.files)

        def get(key):
            try:
                with warnings.catch_warnings():  # old pickles name scipy.sparse.csr etc.
                    warnings.simplefilter("ignore", DeprecationWarning)
                    value = archive[key]
            except ValueError as err:
                if "allow_pickle" not in str(err):
                    raise ValueError(f"read_graph: '{path}': cannot read {key!r} ({err}).") from None
                if allow_pickle != "restricted":
                    raise ValueError(
                        f"read_graph: '{path}' stores {key!r} as a pickled Python object; {_PICKLE_HINT}."
                    ) from None
                value = _restricted_member(archive, key, path)
            if isinstance(value, np.ndarray) and value.dtype == object and value.ndim == 0:
                return value.item()
            return value

        if keys == {"arr_0"}:
            content = get("arr_0")
            if not isinstance(content, Mapping):
                raise ValueError(
                    f"read_graph: '{path}' holds a single array 'arr_0' of type "
                    f"{type(content).__name__}; expected a pickled NetGAN dict with adj_data/"
                    "adj_indices/adj_indptr/adj_shape."
                )
            fields = {key: _unwrap(value) for key, value in content.items()}
            return _from_fields(set(fields), fields.__getitem__, path)
        if "format" in keys and "shape" in keys:  # scipy.sparse.save_npz
            try:
                adjacency = sp.load_npz(path)
            except (ValueError, KeyError, NotImplementedError) as err:
                raise ValueError(
                    f"read_graph: '{path}' looks like a scipy.sparse.save_npz file but cannot be read ({err})."
                ) from None
            labels = get("labels") if "labels" in keys else None
            return _sparse_only(adjacency, labels, path)
        return _from_fields(keys, get, path)


def _restricted_member(archive, key: str, path: Path):
    """The object array ``key`` of an npz archive, unpickled with :class:`_RestrictedUnpickler`."""
    from numpy.lib import format as npy_format

    try:
        with archive.zip.open(key + ".npy") as handle:
            version = npy_format.read_magic(handle)
            read_header = npy_format.read_array_header_1_0 if version == (1, 0) else npy_format.read_array_header_2_0
            read_header(handle)
            value = restricted_loads(handle.read())
    except (pickle.UnpicklingError, ValueError, EOFError, TypeError, AttributeError, KeyError) as err:
        raise ValueError(
            f"read_graph: '{path}': {key!r} holds pickled objects that the restricted reader refuses ({err}); "
            "pass allow_pickle=True only if you trust the file."
        ) from None
    return _rebuild_sparse(value)


def _rebuild_sparse(value):
    """Sparse matrices rebuilt (and checked) from their arrays; containers walked; other values as they are."""
    import scipy.sparse as sp

    if sp.issparse(value):
        state = vars(value)
        if "indptr" in state:
            kind = sp.csr_array if value.format == "csr" else sp.csc_array
            rebuilt = kind((np.asarray(state["data"]), np.asarray(state["indices"]), np.asarray(state["indptr"])),
                           shape=tuple(int(s) for s in state["_shape"]))
        else:
            rebuilt = sp.coo_array((np.asarray(state["data"]), (np.asarray(state["row"]), np.asarray(state["col"]))),
                                   shape=tuple(int(s) for s in state["_shape"]))
        if hasattr(rebuilt, "check_format"):
            rebuilt.check_format(full_check=True)
        return rebuilt
    if isinstance(value, np.ndarray) and value.dtype == object:
        return _rebuild_sparse(value.item()) if value.ndim == 0 else value
    if isinstance(value, dict):
        return {k: _rebuild_sparse(v) for k, v in value.items()}
    return value


def _unwrap(value):
    if isinstance(value, np.ndarray) and value.dtype == object and value.ndim == 0:
        return value.item()
    return value


def _csr_from(get, keys, prefix):
    """A CSR matrix from ``{prefix}_data`` (or ``{prefix}.data``) style keys, or None."""
    import scipy.sparse as sp

    for sep in ("_", "."):
        names = [f"{prefix}{sep}{part}" for part in ("data", "indices", "indptr", "shape")]
        if all(name in keys for name in names):
            data, indices, indptr, shape = (get(name) for name in names)
            return sp.csr_array((data, indices, indptr), shape=tuple(int(s) for s in shape))
    return None


def _from_fields(keys: set, get, path: Path) -> Data:
    import scipy.sparse as sp

    try:
        adjacency = _csr_from(get, keys, "adj")
        if adjacency is None:
            adjacency = _csr_from(get, keys, "adj_matrix")
        if adjacency is None and "adj_matrix" in keys:
            adjacency = get("adj_matrix")
        if adjacency is None and {"data", "indices", "indptr", "shape"} <= keys:
            data, indices, indptr, shape = (get(k) for k in ("data", "indices", "indptr", "shape"))
            adjacency = sp.csr_array((data, indices, indptr), shape=tuple(int(s) for s in shape))
    except ValueError as err:
        if str(err).startswith("read_graph:"):
            raise
        raise ValueError(f"read_graph: '{path}': malformed CSR adjacency ({err}).") from None
    if adjacency is None:
        raise ValueError(
            f"read_graph: '{path}' has keys {sorted(keys)}, which match no known graph layout; "
            "expected adj_data/adj_indices/adj_indptr/adj_shape (gnn-benchmark), "
            "data/indices/indptr/shape (CSR or scipy.sparse.save_npz), adj_matrix (GraphData) "
            "or a single pickled NetGAN dict arr_0."
        )
    adjacency = _check_adjacency(adjacency, path, "the adjacency")
    n = adjacency.shape[0]

    x = None
    try:
        attributes = _csr_from(get, keys, "attr")
        if attributes is None:
            attributes = _csr_from(get, keys, "attr_matrix")
    except ValueError as err:
        if str(err).startswith("read_graph:"):
            raise
        raise ValueError(f"read_graph: '{path}': malformed CSR attributes ({err}).") from None
    if attributes is None:
        for key in ("attr_matrix", "node_attr", "features"):
            if key in keys:
                attributes = get(key)
                break
    if attributes is not None and not _is_none(attributes):
        if attributes.shape[0] != n:
            raise ValueError(
                f"read_graph: '{path}': node attributes have {attributes.shape[0]} rows but the "
                f"adjacency has {n} nodes."
            )
        x = _features(attributes)

    y = None
    for key in ("labels", "node_label", "node_labels"):
        if key in keys and not _is_none(get(key)):
            y = _labels(get(key))
            break
    if y is not None and y.shape[0] != n:
        raise ValueError(f"read_graph: '{path}': labels have {y.shape[0]} entries but the adjacency has {n} nodes.")

    names = None
    if "node_names" in keys:
        names = get("node_names")
    elif "idx_to_node" in keys:
        mapping = get("idx_to_node")
        if isinstance(mapping, Mapping) and len(mapping) == n:
            names = [mapping[i] for i in range(n)]
    elif "metadata" in keys:
        metadata = get("metadata")
        if isinstance(metadata, Mapping) and "node_names" in metadata:
            names = metadata["node_names"]
    if names is not None and not _is_none(names):
        names = _names(np.asarray(names).reshape(-1))
        if len(names) != n:
            names = None
    else:
        names = None
    return _make_data(adjacency, x=x, y=y, node_names=names)


def _sparse_only(adjacency, labels, path: Path) -> Data:
    adjacency = _check_adjacency(adjacency, path, "the sparse matrix")
    y = None if labels is None else _labels(labels)
    if y is not None and y.shape[0] != adjacency.shape[0]:
        raise ValueError(
            f"read_graph: '{path}': labels have {y.shape[0]} entries but the adjacency has {adjacency.shape[0]} nodes."
        )
    return _make_data(adjacency, y=y)


def _is_none(value) -> bool:
    return value is None or (
        isinstance(value, np.ndarray) and value.dtype == object and value.ndim == 0 and value.item() is None
    )


# ----------------------------------------------------------------------------------------------
# MATLAB
# ----------------------------------------------------------------------------------------------


def _read_mat(path: Path) -> Data:
    import scipy.io
    import scipy.sparse as sp

    try:
        content = scipy.io.loadmat(path)
    except NotImplementedError:
        raise ValueError(
            f"read_graph: '{path}' is a MATLAB v7.3 (HDF5) file, which is not supported; re-save "
            "it in MATLAB with save(..., '-v7')."
        ) from None
    except (ValueError, TypeError, OSError) as err:
        raise ValueError(f"read_graph: '{path}' is not a readable MATLAB file ({err}).") from None
    variables = {k: v for k, v in content.items() if not k.startswith("__")}

    def is_square(value):
        if sp.issparse(value):
            return value.shape[0] == value.shape[1]
        return (
            isinstance(value, np.ndarray)
            and value.ndim == 2
            and value.shape[0] == value.shape[1]
            and value.dtype.kind in "biuf"
        )

    key = next((k for k in ("network", "net") if k in variables), None)
    if key is None:
        square = [k for k, v in variables.items() if k != "group" and is_square(v)]
        if len(square) != 1:
            raise ValueError(
                f"read_graph: '{path}' has variables {sorted(variables)}; expected the adjacency "
                f"in 'network' or 'net', or exactly one square matrix (found {len(square)})."
            )
        key = square[0]
    adjacency = _check_adjacency(variables[key], path, f"variable {key!r}")
    n = adjacency.shape[0]

    y = None
    if "group" in variables:
        y = _labels(variables["group"])
        if y.shape[0] != n:
            raise ValueError(f"read_graph: '{path}': 'group' has {y.shape[0]} rows but the adjacency has {n} nodes.")
    x = None
    for name in ("features", "attributes"):
        if name in variables:
            if variables[name].shape[0] != n:
                raise ValueError(
                    f"read_graph: '{path}': {name!r} has {variables[name].shape[0]} rows but the "
                    f"adjacency has {n} nodes."
                )
            x = _features(variables[name])
            break
    return _make_data(adjacency, x=x, y=y)


# ----------------------------------------------------------------------------------------------
# GraphML and GML (through networkx)
# ----------------------------------------------------------------------------------------------


def _read_networkx_file(path: Path, format: str):
    """A GraphML or GML file as a networkx graph (node ids kept as ``node_names``, ``weight`` as lengths)."""
    import networkx as nx

    try:
        if format == "graphml":
            return nx.read_graphml(path)
        try:
            return nx.read_gml(path)  # nodes named by their 'label'
        except nx.NetworkXError:
            return nx.read_gml(path, label="id")  # no (unique) labels: the numeric ids
    except (nx.NetworkXError, ValueError, SyntaxError, KeyError) as err:
        raise ValueError(f"read_graph: '{path}' is not a readable {format.upper()} file ({err}).") from None
    except Exception as err:  # noqa: BLE001 - XML parse errors come in several types
        if type(err).__name__ == "ParseError":
            raise ValueError(f"read_graph: '{path}' is not a readable {format.upper()} file ({err}).") from None
        raise


# ----------------------------------------------------------------------------------------------
# PyG .pt and .pt.zip
# ----------------------------------------------------------------------------------------------


def _read_pt(path: Path, allow_pickle: bool) -> Data:
    import torch
    from torch_geometric.data import Data

    source: Any = path
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if not n.endswith("/")]
            is_torch_archive = any(n.endswith("/data.pkl") or n == "data.pkl" for n in names)
            if not is_torch_archive:
                candidates = [n for n in names if n.lower().endswith((".pt", ".pth")) and not n.startswith("__MACOSX")]
                if len(candidates) != 1:
                    raise ValueError(
                        f"read_graph: '{path}' is a zip holding {names}; expected exactly one .pt file inside."
                    )
                source = _io.BytesIO(archive.read(candidates[0]))

    try:
        if allow_pickle:
            obj = torch.load(source, map_location="cpu", weights_only=False)
        else:
            allow = getattr(torch.serialization, "safe_globals", None)  # torch >= 2.5
            with allow(_pyg_safe_globals()) if allow is not None else contextlib.nullcontext():
                obj = torch.load(source, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        refused = re.search(r"Unsupported global: GLOBAL ([\w.]+)", str(err))
        what = f" ({refused.group(1)})" if refused else ""
        raise ValueError(
            f"read_graph: '{path}' holds pickled Python objects beyond tensors and PyG Data{what}, so "
            "torch.load(weights_only=True) refused it; pass allow_pickle=True if you trust the file (unpickling "
            "can run arbitrary code)."
        ) from None
    except (RuntimeError, EOFError, OSError, zipfile.BadZipFile) as err:
        raise ValueError(f"read_graph: '{path}' is not a readable torch file ({err}).") from None

    if isinstance(obj, Data):
        return obj
    if isinstance(obj, torch.Tensor):
        return Data(edge_index=obj)
    if isinstance(obj, Mapping) and "edge_index" in obj:
        return Data(**{str(k): v for k, v in obj.items()})
    raise ValueError(
        f"read_graph: '{path}' holds a {type(obj).__name__}; expected a torch_geometric Data, a "
        "dict with 'edge_index', or an edge_index tensor."
    )


def _pyg_safe_globals() -> list:
    """The PyG classes a pickled ``Data`` needs; they only restore tensors and plain values."""
    from torch_geometric.data import Data
    from torch_geometric.data.data import DataEdgeAttr, DataTensorAttr
    from torch_geometric.data.storage import GlobalStorage

    return [Data, DataEdgeAttr, DataTensorAttr, GlobalStorage]


# ----------------------------------------------------------------------------------------------
# edge lists
# ----------------------------------------------------------------------------------------------


def _read_edgelist(path, columns, delimiter, header, comment, to_graph_kwargs):
    import torch
    from torch_geometric.data import Data

    if columns is not None:
        if isinstance(columns, (str, bytes)) or not isinstance(columns, Sequence):
            raise TypeError(
                f"read_graph: columns must be a pair (u, v) or triple (u, v, length) of names or "
                f"positions, got {columns!r}."
            )
        columns = list(columns)
        if len(columns) not in (2, 3) or not all(
            isinstance(c, str) or (isinstance(c, (int, np.integer)) and c >= 0) for c in columns
        ):
            raise ValueError(
                f"read_graph: columns must be 2 or 3 header names or non-negative positions, got {columns!r}."
            )
    named = columns is not None and any(isinstance(c, str) for c in columns)
    if named and header is False:
        raise ValueError("read_graph: columns uses header names but header=False; pass positions instead.")

    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(
            f"read_graph: '{path}' is not UTF-8 text; expected an edge list 'u v [length]' per line."
        ) from None

    lines, numbers = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or (comment and stripped.startswith(comment)):
            continue
        lines.append(line)
        numbers.append(number)
    if not lines:
        raise ValueError(f"read_graph: '{path}' holds no edges (only blank or comment lines).")

    attribute_rows = None
    if columns is None and delimiter is None and lines[0].rstrip().endswith("}") and "{" in lines[0]:
        attribute_rows = _networkx_rows(lines, numbers, path, to_graph_kwargs.get("weight", "weight"))
        header = False if header is None else header
    if delimiter is None:
        delimiter = "\t" if "\t" in lines[0] else ("," if "," in lines[0] else None)
    if attribute_rows is not None:
        rows = attribute_rows
    elif delimiter is None:
        rows = [line.split() for line in lines]
    else:
        rows = [[field.strip() for field in line.split(delimiter)] for line in lines]
    widths = {len(row) for row in rows}
    if columns is None and len(rows) > 3 and widths == {len(rows)} and all(map(_is_number, rows[0])):
        raise ValueError(
            f"read_graph: '{path}' looks like a dense {len(rows)} x {len(rows)} adjacency matrix, not an edge "
            "list; read it with numpy.loadtxt and pass scipy.sparse.csr_array(matrix) to graphwgan.to_graph "
            "(nonzero entries become edges, their values lengths)."
        )

    if header is None:
        header = named or _looks_like_header(rows)
    names_row = rows[0] if header else None
    if header:
        rows, numbers = rows[1:], numbers[1:]

    if columns is None:
        width = len(rows[0]) if rows else 2
        index = [0, 1, 2] if width >= 3 else [0, 1]
    else:
        index = []
        for c in columns:
            if isinstance(c, str):
                if c not in names_row:
                    raise ValueError(f"read_graph: '{path}' has no column {c!r}; its header is {names_row}.")
                index.append(names_row.index(c))
            else:
                index.append(int(c))
    need = max(index) + 1
    for fields, number in zip(rows, numbers, strict=True):
        if len(fields) < need:
            raise ValueError(
                f"read_graph: '{path}' line {number} has {len(fields)} fields, expected at least "
                f"{need} ('u v [length]')."
            )

    u = np.array([fields[index[0]] for fields in rows], dtype=str)
    v = np.array([fields[index[1]] for fields in rows], dtype=str)
    lengths = None
    if len(index) == 3 and to_graph_kwargs.get("weight", "weight") is not None:
        raw = [fields[index[2]] for fields in rows]
        try:
            lengths = np.array(raw, dtype=np.float64)
        except ValueError:
            bad = next(i for i, value in enumerate(raw) if not _is_number(value))
            raise ValueError(
                f"read_graph: '{path}' line {numbers[bad]}: length column {index[2]} holds "
                f"{raw[bad]!r}, not a number; choose the id columns with columns=(u, v) (or "
                "columns=(u, v, length)), or pass weight=None to ignore lengths."
            ) from None

    num_nodes = to_graph_kwargs.pop("num_nodes", None)
    node_names = None
    both = np.column_stack([u, v]).reshape(-1)  # u0, v0, u1, v1, ...: line order
    try:
        ids = both.astype(np.int64)
    except (ValueError, OverflowError):
        ids = None
    if ids is not None:
        if ids.size and ids.min() < 0:
            bad = int(np.flatnonzero(ids < 0)[0]) // 2
            raise ValueError(
                f"read_graph: '{path}' line {numbers[bad]} has a negative node id; integer ids must be >= 0."
            )
        n = int(ids.max()) + 1 if ids.size else 0
        if num_nodes is not None:
            if num_nodes < n:
                raise ValueError(
                    f"read_graph: '{path}' uses node id {n - 1} but num_nodes={num_nodes}; "
                    f"num_nodes must be at least {n}."
                )
            n = num_nodes
        else:  # sparse or 1-based ids: no phantom nodes, the ids kept as names
            ids, node_names = relabel_ids(ids)
            n = n if node_names is None else len(node_names)
    else:
        ids, node_names = relabel_ids(both)
        n = len(node_names)
        if num_nodes is not None and num_nodes != n:
            raise ValueError(
                f"read_graph: '{path}' has {n} distinct node names but num_nodes={num_nodes}; "
                "leave num_nodes=None for named nodes."
            )

    data = Data(edge_index=torch.from_numpy(np.ascontiguousarray(ids.reshape(-1, 2).T)), num_nodes=n)
    if lengths is not None:
        data.edge_weight = torch.from_numpy(lengths)
    if node_names is not None:
        data.node_names = node_names
    return data, to_graph_kwargs


def _networkx_rows(lines, numbers, path, weight):
    """Rows ``u v [length]`` of networkx's ``write_edgelist`` output: ``u v {'key': value, ...}`` lines."""
    import ast

    rows, lengths = [], []
    for line, number in zip(lines, numbers, strict=True):
        start = line.find("{")
        ids = line[:start].split()
        try:
            attributes = ast.literal_eval(line[start:].strip()) if start >= 0 else None
        except (ValueError, SyntaxError):
            attributes = None
        if len(ids) != 2 or not isinstance(attributes, dict):
            raise ValueError(
                f"read_graph: '{path}' line {number}: expected 'u v {{...}}' as networkx.write_edgelist writes it, "
                f"got {line.strip()!r}."
            )
        rows.append(ids)
        lengths.append(attributes.get(weight) if weight is not None else None)
    if weight is not None and all(length is not None for length in lengths):
        rows = [[*ids, str(length)] for ids, length in zip(rows, lengths, strict=True)]
    return rows


def _looks_like_header(rows) -> bool:
    """True when some field of the first row is not a number while the second row's is."""
    if len(rows) < 2:
        return False
    first, second = rows[0], rows[1]
    return any(not _is_number(a) and _is_number(b) for a, b in zip(first, second, strict=False))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _is_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


# ----------------------------------------------------------------------------------------------
# masses in, graphs and scores out
# ----------------------------------------------------------------------------------------------


def read_masses(path: str | Path, num_nodes: int, node_names: Sequence[str] | None = None) -> np.ndarray:
    """Read a mass vector of length ``num_nodes`` from a file.

    Accepted: ``.npy`` (a 1-D real array, one mass per node); text (``.txt``, ``.csv``, ``.tsv`` or
    any other suffix) with either one mass per line for every node, or ``node mass`` pairs
    (whitespace, comma or tab separated) giving the non-zero entries. Lines starting with ``#``
    are comments.

    In ``node mass`` pairs, ``node`` is one of ``node_names`` (the graph's own ids, e.g.
    ``data.node_names`` from an edge list with string or sparse integer ids) when every node of
    the file is one of them; otherwise it is a position ``0..num_nodes-1``. Masses must be real:
    a complex ``.npy`` array is refused.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"mass file not found: {path}")
    if path.suffix == ".npy":
        try:
            values = np.load(path, allow_pickle=False)
        except ValueError as exc:
            raise ValueError(f"{path} is not a readable .npy array of numbers: {exc}") from None
        if values.ndim != 1:
            raise ValueError(f"{path} holds an array of shape {values.shape}; expected one mass per node")
        if values.dtype.kind not in "biuf":
            raise ValueError(f"{path} holds {values.dtype} values; masses must be real numbers")
        return np.asarray(values, dtype=np.float64)
    rows, numbers = [], []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if line:
            rows.append(line.replace(",", " ").split())
            numbers.append(number)
    widths = {len(row) for row in rows}
    if not rows:
        raise ValueError(f"{path} holds no masses")
    if widths not in ({1}, {2}):
        raise ValueError(
            f"{path}: every line must hold one mass, or a 'node mass' pair; found lines with {sorted(widths)} fields"
        )
    masses = []
    for row, number in zip(rows, numbers, strict=True):
        try:
            masses.append(float(row[-1]))
        except ValueError:
            raise ValueError(f"{path}, line {number}: expected a real number as the mass, got {row[-1]!r}") from None
    if widths == {1}:
        return np.array(masses)
    ids = [row[0] for row in rows]
    index = {str(name): i for i, name in enumerate(node_names)} if node_names is not None else {}
    if index and all(node in index for node in ids):
        nodes = np.array([index[node] for node in ids], dtype=np.int64)
    else:
        bad = next((k for k, node in enumerate(ids) if not _is_int(node) or not 0 <= int(node) < num_nodes), None)
        if bad is not None:
            named = f" one of the graph's node ids (e.g. {', '.join(list(index)[:3])}) or" if index else ""
            raise ValueError(
                f"{path}, line {numbers[bad]}: unknown node {ids[bad]!r}; the first column must hold{named} "
                f"node positions in 0..{num_nodes - 1}"
            )
        nodes = np.array([int(node) for node in ids], dtype=np.int64)
    result = np.zeros(num_nodes)
    np.add.at(result, nodes, np.array(masses))
    return result


def write_graph(data, path: str | Path, format: str | None = None) -> Path:
    """Write a graph's undirected edges to ``path``, readable by :func:`graphwgan.io.read_graph`.

    Parameters
    ----------
    data : torch_geometric.data.Data
        A graph in the :func:`graphwgan.to_graph` layout (both directions of every edge).
    path : str or pathlib.Path
        The file; its folder is created if missing.
    format : {"txt", "csv", "npz"}, optional
        ``"txt"``: one ``u v`` line per edge (space separated; tab separated when the graph has
        ``node_names``); ``"csv"``: one ``u,v`` line per edge; both start with a ``#`` comment
        giving the node and edge counts, and list each edge once with ``u < v`` (node positions).
        The nodes are written as the graph's ``node_names`` when it has them, so a graph read
        from a file with its own ids is written in those ids. ``"npz"``: the symmetric adjacency
        written by ``scipy.sparse.save_npz``, which keeps isolated nodes (with ``node_names``:
        the ``adj_*`` CSR layout plus ``node_names``). By default the format follows the suffix
        of ``path``.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ValueError
        If the format is unknown, or not given and the suffix is not ``.txt``, ``.csv`` or ``.npz``.
    """
    path = Path(path)
    if format is None:
        format = WRITE_FORMATS.get(path.suffix.lower())
        if format is None:
            raise ValueError(
                f"cannot tell the output format from the suffix of '{path}'; use a .txt, .csv or .npz file name "
                "or pass --format"
            )
    if format not in WRITE_FORMATS.values():
        raise ValueError(f"output format must be one of {sorted(WRITE_FORMATS.values())}, got {format!r}")
    row, col = data.edge_index.cpu().numpy()
    upper = row < col
    u, v = row[upper].astype(np.int64), col[upper].astype(np.int64)
    n = int(data.num_nodes)
    names = getattr(data, "node_names", None)
    names = [str(name) for name in names] if names is not None and len(names) == n else None
    sep = "," if format == "csv" else ("\t" if names is not None else " ")
    if names is not None and format != "npz":
        bad = next((name for name in names if sep in name or "\n" in name or not name.strip()), None)
        if bad is not None:
            raise ValueError(f"cannot write the node id {bad!r} to a {format} edge list; use the npz format")
    path.parent.mkdir(parents=True, exist_ok=True)
    if format == "npz":
        import scipy.sparse as sp

        adjacency = sp.csr_matrix((np.ones(2 * u.size), (np.r_[u, v], np.r_[v, u])), shape=(n, n))
        if names is None:
            sp.save_npz(path, adjacency)
        else:  # the gnn-benchmark layout, which holds node names
            np.savez(path, adj_data=adjacency.data, adj_indices=adjacency.indices, adj_indptr=adjacency.indptr,
                     adj_shape=np.array(adjacency.shape), node_names=np.array(names))
    else:
        ids = np.asarray(names, dtype=object) if names is not None else np.arange(n)
        lines = [f"# {n} nodes, {u.size} edges"] + [f"{a}{sep}{b}" for a, b in zip(ids[u], ids[v], strict=True)]
        path.write_text("\n".join(lines) + "\n")
    return path


#: Suffixes of the flow and potential files the ``w1`` command writes: ``.npy`` (numeric, node
#: positions) or text with the graph's node ids (``.csv`` comma separated, ``.txt``/``.tsv`` tabs).
TABLE_SUFFIXES = (".npy", ".csv", ".txt", ".tsv")


def write_table(path: str | Path, columns: dict[str, Any], *, numeric: np.ndarray) -> Path:
    """Write named columns as text (``.csv``: commas, ``.txt``/``.tsv``: tabs) or ``numeric`` as ``.npy``.

    ``columns`` maps header names to sequences of equal length (node ids as given, numbers written
    with ``repr`` so they read back exactly); ``numeric`` is what a ``.npy`` file holds. The suffix
    decides: ``foo.txt`` is written as text to ``foo.txt`` (never ``foo.txt.npy``).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise ValueError(f"'{path}': unknown suffix {path.suffix!r}; use one of {', '.join(TABLE_SUFFIXES)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".npy":
        with path.open("wb") as handle:  # a handle, so numpy adds no second suffix
            np.save(handle, numeric)
        return path
    sep = "," if suffix == ".csv" else "\t"
    rows = zip(*columns.values(), strict=True)
    text = [sep.join(columns)] + [sep.join(_cell(value) for value in row) for row in rows]
    path.write_text("\n".join(text) + "\n")
    return path


def _cell(value) -> str:
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return str(value)


def write_scores(path: str | Path, scores: np.ndarray, labels: np.ndarray, names: Sequence[str] | None = None) -> Path:
    """Write ``node,score,outlier`` rows (one per node, in node order) to a CSV file."""
    import csv

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["node", "name", "score", "outlier"] if names is not None else ["node", "score", "outlier"])
        for node, (score, label) in enumerate(zip(scores.tolist(), labels.tolist(), strict=True)):
            name = [names[node]] if names is not None else []
            writer.writerow([node, *name, repr(float(score)), int(label)])
    return path
