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
import hashlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover - typing only
    from torch_geometric.data import Data

__all__ = ["DATA_ENV", "SHA256", "available", "check_file", "data_dir", "default_graph", "load", "resolve_graph",
           "user_data_dir"]

#: Environment variable that points at the data folder.
DATA_ENV = "GRAPHWGAN_DATA"

_STRING_IDS = ("item_id_a", "item_id_b")

# name -> (file name in the data folder, read_graph options). The GraphData and NetGAN archives
# store scipy matrices as pickles: they are read with the restricted unpickler (arrays and sparse
# matrices only, no code runs), and only after their SHA-256 matches SHA256 below.
_RESTRICTED = {"allow_pickle": "restricted"}
_DATASETS: dict[str, tuple[str, dict[str, Any]]] = {
    "cora_ml": ("cora_ml.npz", {}),
    "cora_ml_netgan": ("cora_ml_netgan.npz", _RESTRICTED),
    "cora": ("cora.npz", {}),
    "citeseer": ("citeseer.npz", {}),
    "citeseer_full": ("citeseer_full.npz", _RESTRICTED),
    "pubmed": ("pubmed.npz", {}),
    "polblogs": ("polblogs.npz", {}),
    "amazon_cs": ("amazon_cs.npz", _RESTRICTED),
    "coauthor_phy": ("coauthor_phy.npz", _RESTRICTED),
    "homo_sapiens_ppi": ("Homo_sapiens.mat", {}),
    "yeast_ppi": ("Yeast.mat", {}),
    "shs27k": ("protein.actions.SHS27k.STRING.txt", {"columns": _STRING_IDS}),
    "inj_cora": ("inj_cora.pt.zip", {}),
    "inj_amazon": ("inj_amazon.pt.zip", {}),
    "reddit": ("reddit.pt.zip", {}),
    "disney": ("disney.pt.zip", {}),
    "books": ("books.pt.zip", {}),
    "enron": ("enron.pt.zip", {}),
    "gen_100": ("gen_100.pt.zip", {}),
    "gen_500": ("gen_500.pt.zip", {}),
    "gen_1000": ("gen_1000.pt.zip", {}),
    "gen_time": ("gen_time.pt.zip", {}),
    "tolokers": ("tolokers.npz", {"reader": "tolokers"}),
}

#: SHA-256 of every dataset file :func:`load` reads (file name -> hex digest), as published with
#: the files; a file whose digest differs is refused before it is parsed.
SHA256: dict[str, str] = {
    "cora_ml.npz": "ffbe4e64857dc6bf38f1877e4312559a064df84b59d0f32f938717de5d5af0fd",
    "cora_ml_netgan.npz": "955a8f2c7513b07bf5cf013ac32b66633a178ede5b378d70ad7fa6cf5336f619",
    "citeseer.npz": "280278b21b434c047922e8389518861416fb3ad39389c27865ff0e6bbb0aaab7",
    "cora.npz": "068e22d90c3849b4057dfb05851741428992af058efcd4e7ebb4186f3d581de2",
    "polblogs.npz": "cd0983c2b1caa3bbe2703a4e316f97bb1dccd33f98800d3d8e4bbe51cc86941b",
    "pubmed.npz": "462306a6242bd7dfae530b4f51ab3ee5e9642332d69bdaa57e56877a3c84fe71",
    "citeseer_full.npz": "403e8976b21eed58544dca956b6bd8b513779124c6f88da9538609b085ac8651",
    "amazon_cs.npz": "a6942db609f196b53503d91b99a02ad8d052d5d9be8ef41db976fb65f66ed1f3",
    "coauthor_phy.npz": "1c930d99910763bc5f0c1aa90e8baa945f5ad6027663fe5332d0f08fde33cd7d",
    "Homo_sapiens.mat": "8a32b88b0576276f02d7aaa3fd282e8617a3e6db8d39abb6212a283363bf1183",
    "Yeast.mat": "2d199acffa6cecd9dfd0d13f0c4eaecd34158e83f1a717e5da7e38089692e112",
    "protein.actions.SHS27k.STRING.txt": "6c79932d6489bed3c794fcde68a42ce603bc14e22c3cf549115685cd4fd6076a",
    "inj_cora.pt.zip": "4dfaa72e7b32e55f62471bba11bfd016b4ab625dc3d5cd964f6d565d5708c02c",
    "inj_amazon.pt.zip": "8b458d9bbcad84048dc866fda77067b7a71f3ed0c0caba89f2455b982881a1de",
    "reddit.pt.zip": "276432d36219349b7ad98e974649f73c94e124e11f5282f53b1ec41086c1e18a",
    "disney.pt.zip": "761d111a6ec9d545445241fab8a6056333d9f1c65a61a6b72604ce486fffe949",
    "books.pt.zip": "c9de331ddf4c893e205fad552a9d1074c0fe4730edd7b47952f0c05ac360612c",
    "enron.pt.zip": "ac9f74f9a0ff09b2ec3534099d124479fc590fce7f3f9fa86a38fbd436f7c7bf",
    "gen_100.pt.zip": "29957968f456144cec0438f2fb78546395833a9fcc0aad639c4d239034b6d062",
    "gen_500.pt.zip": "ecb902038484d08a34237e2ec7b1135d6cfe8ed716546d022188e5509928c7b1",
    "gen_1000.pt.zip": "0baf4e97b780c14b2350e1fc8858c00a322eea63b99b1e920349269fe75087af",
    "gen_time.pt.zip": "2e19881e548b0404efe701f570a46a932869f49e21d5cee1461751240699a96a",
    "tolokers.npz": "dacf3ac94cec53d03cd2adb5255c08b33dee1656c33ca8164a464bd9450a1667",
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


def user_data_dir() -> Path:
    """The per-user data folder: ``$XDG_DATA_HOME/graphwgan`` (default ``~/.local/share/graphwgan``).

    On Windows ``%LOCALAPPDATA%/graphwgan``. The folder is not created; put the dataset files
    there (or set ``GRAPHWGAN_DATA``).
    """
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "graphwgan"
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / "graphwgan"


def data_dir() -> Path:
    """The folder holding the dataset files.

    Looked up in this order:

    1. the environment variable ``GRAPHWGAN_DATA`` (when set, it must exist);
    2. the per-user folder :func:`user_data_dir` (``~/.local/share/graphwgan`` by default).

    Nothing is looked up relative to the working directory. :func:`load` also takes an explicit
    ``root=``, which wins over both.

    Returns
    -------
    pathlib.Path
        The resolved folder.

    Raises
    ------
    FileNotFoundError
        If ``GRAPHWGAN_DATA`` names a missing folder, or it is unset and the per-user folder is
        missing (the message names both ways to provide one).
    """
    env = os.environ.get(DATA_ENV)
    if env:
        path = Path(env).expanduser()
        if not path.is_dir():
            raise FileNotFoundError(f"{DATA_ENV}={env!r} is not a folder; point it at the data folder or unset it.")
        return path.resolve()
    path = user_data_dir()
    if path.is_dir():
        return path.resolve()
    raise FileNotFoundError(
        f"no data folder found: {DATA_ENV} is unset and the per-user folder '{path}' does not exist. Set "
        f"{DATA_ENV} to the folder holding the dataset files, put them in '{path}', or pass root= to load()."
    )


def check_file(path: str | os.PathLike, expected: str | None = None) -> str:
    """Check a dataset file's SHA-256 against :data:`SHA256` (or ``expected``); returns the digest.

    Raises
    ------
    ValueError
        If the digest differs, or the file name is not in :data:`SHA256` and ``expected`` is not given.
    """
    path = Path(path)
    if expected is None:
        if path.name not in SHA256:
            raise ValueError(f"check_file: no known SHA-256 for '{path.name}'; pass expected=.")
        expected = SHA256[path.name]
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    actual = digest.hexdigest()
    if actual != expected.lower():
        raise ValueError(
            f"'{path}' has SHA-256 {actual}, not the published {expected}; the file was changed or replaced, so "
            "it is refused. Restore the original file, or read your own copy with graphwgan.read_graph(path) "
            "(pickled content needs allow_pickle=\"restricted\")."
        )
    return actual


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
        Folder holding the files; defaults to :func:`data_dir`. The file's SHA-256 must match
        :data:`SHA256` whatever the folder; pickled content is read with the restricted reader
        (``read_graph(..., allow_pickle="restricted")``), never with Python's full unpickler.
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
        If the file's SHA-256 differs from :data:`SHA256` (checked before anything is parsed).
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
    try:
        check_file(path)
    except ValueError as err:
        raise ValueError(f"load: dataset {key!r}: {err}") from None
    if kw.get("allow_pickle", False) is True:
        raise ValueError("load: named datasets are read without Python's unpickler; drop allow_pickle=True.")
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
