"""Named benchmark graphs from the shared data folder, and one small graph built in code.

:func:`load` reads a named dataset (see :func:`available`) from :func:`data_dir` and returns it in
graphwgan's undirected ``Data`` layout (:func:`graphwgan.graph.to_graph`). All of these graphs are
unweighted, so every edge gets length 1 unless ``weight="weight"`` is passed to keep stored values
(PolBlogs stores 65 link multiplicities of 2.0, which are not lengths).

:func:`default_graph` needs no files: a seeded degree-corrected stochastic block model with
communities, heavy-tailed degrees and clustering, used by the README's first command and tests.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover - typing only
    from torch_geometric.data import Data

__all__ = ["DATA_ENV", "available", "data_dir", "default_graph", "load", "resolve_graph"]

#: Environment variable that points at the data folder.
DATA_ENV = "GRAPHWGAN_DATA"

_STRING_IDS = ("item_id_a", "item_id_b")

# name -> (file name in the data folder, read_graph options). Every file here comes from the
# shared folder documented in its SOURCES.md, so pickled layouts are trusted (allow_pickle=True).
_DATASETS: dict[str, tuple[str, dict[str, Any]]] = {
    "cora_ml": ("cora_ml.npz", {}),
    "cora_ml_netgan": ("cora_ml_netgan.npz", {"allow_pickle": True}),
    "cora": ("cora.npz", {}),
    "citeseer": ("citeseer.npz", {}),
    "citeseer_full": ("citeseer_full.npz", {"allow_pickle": True}),
    "pubmed": ("pubmed.npz", {}),
    "polblogs": ("polblogs.npz", {}),
    "amazon_cs": ("amazon_cs.npz", {"allow_pickle": True}),
    "coauthor_phy": ("coauthor_phy.npz", {"allow_pickle": True}),
    "homo_sapiens_ppi": ("Homo_sapiens.mat", {}),
    "yeast_ppi": ("Yeast.mat", {}),
    "shs27k": ("protein.actions.SHS27k.STRING.txt", {"columns": _STRING_IDS}),
    "inj_cora": ("inj_cora.pt.zip", {"allow_pickle": True}),
    "inj_amazon": ("inj_amazon.pt.zip", {"allow_pickle": True}),
    "reddit": ("reddit.pt.zip", {"allow_pickle": True}),
    "disney": ("disney.pt.zip", {"allow_pickle": True}),
    "books": ("books.pt.zip", {"allow_pickle": True}),
    "enron": ("enron.pt.zip", {"allow_pickle": True}),
    "gen_100": ("gen_100.pt.zip", {"allow_pickle": True}),
    "gen_500": ("gen_500.pt.zip", {"allow_pickle": True}),
    "gen_1000": ("gen_1000.pt.zip", {"allow_pickle": True}),
    "gen_time": ("gen_time.pt.zip", {"allow_pickle": True}),
    "tolokers": ("tolokers.npz", {"reader": "tolokers"}),
}
_BOND = {"inj_cora", "inj_amazon", "reddit", "disney", "books", "enron"} | {
    "gen_100",
    "gen_500",
    "gen_1000",
    "gen_time",
}


def available() -> list[str]:
    """Names accepted by :func:`load`.

    Returns
    -------
    list of str
        The dataset names, sorted.
    """
    return sorted(_DATASETS)


def data_dir() -> Path:
    """The folder holding the dataset files.

    Looked up in this order:

    1. the environment variable ``GRAPHWGAN_DATA`` (when set, it must exist);
    2. ``../shared/data`` relative to the current working directory;
    3. ``../shared/data`` relative to the repository root (the folder above the package).

    Returns
    -------
    pathlib.Path
        The resolved folder.

    Raises
    ------
    FileNotFoundError
        If ``GRAPHWGAN_DATA`` names a missing folder, or neither fallback exists (the message
        lists the paths tried).
    """
    env = os.environ.get(DATA_ENV)
    if env:
        path = Path(env).expanduser()
        if not path.is_dir():
            raise FileNotFoundError(f"{DATA_ENV}={env!r} is not a folder; point it at the data folder or unset it.")
        return path.resolve()
    tried = [
        Path(os.path.normpath(Path.cwd() / ".." / "shared" / "data")),
        Path(os.path.normpath(Path(__file__).resolve().parent.parent / ".." / "shared" / "data")),
    ]
    for path in tried:
        if path.is_dir():
            return path.resolve()
    raise FileNotFoundError(
        f"no data folder found; tried {', '.join(str(p) for p in tried)}. Set {DATA_ENV} to the "
        "folder holding the dataset files, or pass root= to load()."
    )


def load(
    name: str,
    *,
    root: str | os.PathLike | None = None,
    largest_component: bool = False,
    **kw: Any,
) -> Data:
    """Load a named benchmark graph.

    Parameters
    ----------
    name : str
        One of :func:`available`: ``cora_ml``, ``cora_ml_netgan``, ``cora``, ``citeseer``,
        ``citeseer_full``, ``pubmed``, ``polblogs``, ``amazon_cs``, ``coauthor_phy``,
        ``homo_sapiens_ppi``, ``yeast_ppi``, ``shs27k`` and the BOND/PyGOD outlier sets
        ``inj_cora``, ``inj_amazon``, ``reddit``, ``disney``, ``books``, ``enron``, ``gen_100``,
        ``gen_500``, ``gen_1000``, ``gen_time``, and ``tolokers`` (crowd workers joined when they
        worked on the same task; ``y`` is 1 for the 2,566 banned workers, organic anomalies).
    root : str or os.PathLike, optional
        Folder holding the files; defaults to :func:`data_dir`.
    largest_component : bool, default False
        Keep only the largest connected component (see :func:`graphwgan.graph.to_graph`).
    **kw
        Further options for :func:`graphwgan.io.read_graph`, e.g. ``remove_self_loops`` or
        ``weight="weight"`` to keep stored values as lengths (default here: ``weight=None``,
        every edge has length 1).

    Returns
    -------
    torch_geometric.data.Data
        The graph in the :func:`graphwgan.graph.to_graph` layout. For the BOND sets, ``y`` is
        ``int64`` (bit 0: contextual outlier, bit 1: structural outlier for the injected and
        generated sets; 0/1 for the organic ones).

    Raises
    ------
    ValueError
        If ``name`` is unknown (the message lists the names and the closest match).
    FileNotFoundError
        If the data folder or the file is missing.

    Examples
    --------
    >>> data = load("cora_ml", largest_component=True)  # doctest: +SKIP
    >>> data.num_nodes, data.num_edges // 2  # doctest: +SKIP
    (2810, 7981)
    """
    from graphwgan.io import read_graph

    if not isinstance(name, str):
        raise TypeError(f"load: name must be a str, got {type(name).__name__}.")
    key = name.strip().lower()
    if key not in _DATASETS:
        close = difflib.get_close_matches(key, available(), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"load: unknown dataset {name!r}.{hint} Available: {available()}.")
    file_name, options = _DATASETS[key]
    folder = Path(root) if root is not None else data_dir()
    path = folder / file_name
    if not path.is_file():
        raise FileNotFoundError(f"load: dataset {key!r} needs the file '{path}', which is missing.")
    options = {**options, "weight": None, **kw}
    if options.pop("reader", None) == "tolokers":
        return _read_tolokers(path, largest_component=largest_component, **options)
    data = read_graph(path, largest_component=largest_component, **options)
    if key in _BOND and getattr(data, "y", None) is not None:
        data.y = data.y.long()
    return data


def _read_tolokers(path: Path, **to_graph_kwargs: Any) -> Data:
    """Tolokers (Platonov et al., ICLR 2023): ``node_features``, ``node_labels`` and ``edges`` stored once each.

    ``y`` is ``int64``, 1 for a banned worker; the split masks of the file are not kept.
    """
    import torch
    from torch_geometric.data import Data

    from graphwgan.graph import to_graph

    with np.load(path, allow_pickle=False) as archive:
        missing = {"node_features", "node_labels", "edges"} - set(archive.files)
        if missing:
            raise ValueError(f"load: '{path}' lacks the arrays {sorted(missing)} of the Tolokers layout.")
        x = np.asarray(archive["node_features"], dtype=np.float32)
        y = np.asarray(archive["node_labels"], dtype=np.int64)
        edges = np.asarray(archive["edges"], dtype=np.int64)
    if edges.ndim != 2 or edges.shape[1] != 2 or y.shape != (x.shape[0],):
        raise ValueError(f"load: '{path}' has edges of shape {edges.shape} and {y.size} labels for {x.shape[0]} "
                         "nodes; expected (E, 2) edges and one label per node.")
    raw = Data(x=torch.from_numpy(x), y=torch.from_numpy(y), edge_index=torch.from_numpy(edges.T.copy()),
               num_nodes=x.shape[0])
    return to_graph(raw, **to_graph_kwargs)


def default_graph() -> Data:
    r"""A small community graph built in code (no files), the same on every call.

    A degree-corrected stochastic block model (Karrer & Newman, 2011) on 540 nodes in four
    communities of sizes 170, 150, 120 and 100: node ``i`` in community ``c_i`` has a
    Pareto-tailed degree propensity :math:`\theta_i` (mean 1 per community) and edge
    ``{i, j}`` appears with probability
    :math:`\min(1, \theta_i \theta_j \Omega_{c_i c_j})`, with about 4.5 expected
    within-community and 0.9 between-community neighbours per node. A triadic-closure pass then
    links random pairs of neighbours, which adds clustering. The graph is drawn from a local
    ``numpy.random.default_rng(0)`` (no global seeding) and restricted to its largest connected
    component.

    Returns
    -------
    torch_geometric.data.Data
        About 530 nodes and 2,300 edges, unweighted (every ``edge_weight`` is 1), heavy-tailed
        degrees (mean about 8.5, maximum above 100), average clustering about 0.3, ``y`` the
        community of each node (``int64``) and ``original_index`` (ids before the
        largest-component restriction).
    """
    import scipy.sparse as sp
    import torch
    from torch_geometric.data import Data

    from graphwgan.graph import to_graph

    rng = np.random.default_rng(0)
    sizes = np.array([170, 150, 120, 100])
    k, n = sizes.size, int(sizes.sum())
    community = np.repeat(np.arange(k), sizes)

    theta = rng.pareto(2.2, n) + 1.0
    totals = np.bincount(community, weights=theta)
    theta *= sizes[community] / totals[community]  # mean propensity 1 inside each community
    within, between = 4.5, 0.9  # expected neighbours inside / outside the own community
    omega = np.full((k, k), between / (n - sizes.mean()))
    np.fill_diagonal(omega, within / sizes)

    iu, ju = np.triu_indices(n, 1)
    prob = np.minimum(theta[iu] * theta[ju] * omega[community[iu], community[ju]], 1.0)
    hit = rng.random(prob.size) < prob
    u, v = iu[hit], ju[hit]

    # triadic closure: each node links about 0.35 * degree random pairs of its neighbours
    adjacency = sp.csr_array((np.ones(2 * u.size), (np.r_[u, v], np.r_[v, u])), shape=(n, n))
    extra_u, extra_v = [], []
    for i in range(n):
        neighbours = adjacency.indices[adjacency.indptr[i] : adjacency.indptr[i + 1]]
        if neighbours.size < 2:
            continue
        for _ in range(rng.poisson(0.35 * neighbours.size)):
            a, b = rng.choice(neighbours, 2, replace=False)
            extra_u.append(a)
            extra_v.append(b)
    row = np.concatenate([u, np.asarray(extra_u, dtype=np.int64)])
    col = np.concatenate([v, np.asarray(extra_v, dtype=np.int64)])

    edge_index = torch.from_numpy(np.stack([row, col]).astype(np.int64))
    raw = Data(edge_index=edge_index, y=torch.from_numpy(community.astype(np.int64)), num_nodes=n)
    return to_graph(raw, largest_component=True)


def resolve_graph(spec: str | None = None, *, largest_component: bool = False) -> tuple[Data, str]:
    """The graph a user names: a file path, a dataset name, or ``None`` for the embedded default graph.

    Returns the graph and a short description of where it came from (for reports). A name that
    is neither a file nor a dataset raises ``FileNotFoundError`` with the closest dataset name.
    """
    from graphwgan.graph import to_graph

    if spec is not None and Path(spec).is_dir():
        raise ValueError(f"{spec!r} is a folder; give a graph file or a dataset name")
    if spec is not None and spec not in available() and not Path(spec).exists():
        close = difflib.get_close_matches(spec.strip().lower(), available(), n=1)
        hint = f" (did you mean the dataset {close[0]!r}?)" if close else ""
        raise FileNotFoundError(f"{spec!r}: no such file, and not a dataset name{hint}")
    if spec is None:
        return default_graph(), "embedded default graph"
    if spec in available():
        return load(spec, largest_component=largest_component), f"dataset {spec}"
    return to_graph(spec, largest_component=largest_component), spec
