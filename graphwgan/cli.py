"""The ``graphwgan`` command line.

Subcommands:

``graphwgan w1``
    The exact Wasserstein-1 distance between two node distributions read from files, on a graph
    file, a named dataset, or (by default) the embedded example graph.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["main", "read_masses"]


def read_masses(path: str | Path, num_nodes: int) -> np.ndarray:
    """Read a mass vector of length ``num_nodes`` from a file.

    Accepted: ``.npy`` (a 1-D array); text (``.txt``, ``.csv``, ``.tsv`` or any other suffix)
    with either one mass per line for every node, or ``node mass`` pairs (whitespace, comma or
    tab separated) giving the non-zero entries. Lines starting with ``#`` are comments.
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
        return np.asarray(values, dtype=np.float64)
    rows = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        fields = line.replace(",", " ").split()
        try:
            rows.append([float(field) for field in fields])
        except ValueError:
            raise ValueError(f"{path}, line {number}: expected numbers, got {line!r}") from None
    widths = {len(row) for row in rows}
    if not rows:
        raise ValueError(f"{path} holds no masses")
    if widths == {1}:
        return np.array([row[0] for row in rows])
    if widths == {2}:
        table = np.array(rows)
        nodes = table[:, 0]
        if np.any(nodes != np.round(nodes)) or np.any(nodes < 0) or np.any(nodes >= num_nodes):
            raise ValueError(f"{path}: the first column must hold node ids in 0..{num_nodes - 1}")
        masses = np.zeros(num_nodes)
        np.add.at(masses, nodes.astype(np.int64), table[:, 1])
        return masses
    raise ValueError(
        f"{path}: every line must hold one mass, or a 'node mass' pair; found lines with {sorted(widths)} fields"
    )


def _load_graph(spec: str | None, largest_component: bool):
    from graphwgan import datasets
    from graphwgan.graph import to_graph

    if spec is None:
        return datasets.default_graph(), "embedded default graph"
    if spec in datasets.available():
        return datasets.load(spec, largest_component=largest_component), f"dataset {spec}"
    return to_graph(spec, largest_component=largest_component), spec


def _demo_masses(data) -> tuple[np.ndarray, np.ndarray, str]:
    """Two example distributions: uniform on the first and on the second community."""
    n = int(data.num_nodes)
    labels = getattr(data, "y", None)
    if labels is not None and len(np.unique(np.asarray(labels))) > 1:
        labels = np.asarray(labels)
        first, second = np.unique(labels)[:2]
        mu = (labels == first).astype(float)
        nu = (labels == second).astype(float)
        return mu / mu.sum(), nu / nu.sum(), f"uniform on community {first} vs community {second}"
    mu = np.zeros(n)
    mu[0] = 1.0
    return mu, np.full(n, 1.0 / n), "point mass at node 0 vs uniform"


def _cmd_w1(args: argparse.Namespace) -> int:
    from graphwgan.ot import GraphTransport

    data, name = _load_graph(args.graph, args.largest_component)
    n = int(data.num_nodes)
    if (args.mu is None) != (args.nu is None):
        raise ValueError("give both --mu and --nu, or neither (for the example distributions)")
    if args.mu is None:
        mu, nu, described = _demo_masses(data)
    else:
        mu, nu = read_masses(args.mu, n), read_masses(args.nu, n)
        described = f"{args.mu} vs {args.nu}"
    start = time.perf_counter()
    transport = GraphTransport(data)
    result = transport.solve(mu, nu)
    seconds = time.perf_counter() - start
    if args.flow_out:
        np.save(args.flow_out, np.vstack([result.edge_index, result.flow]))
    if args.potential_out:
        np.save(args.potential_out, result.potential)
    carrying = int(np.count_nonzero(result.flow))
    if args.json:
        print(json.dumps({"graph": name, "num_nodes": n, "num_edges": int(result.flow.size),
                          "distance": result.distance, "edges_with_flow": carrying, "seconds": seconds}))
    else:
        print(f"graph      : {name} ({n} nodes, {result.flow.size} edges)")
        print(f"masses     : {described}")
        print(f"W1         : {result.distance:.12g}")
        print(f"flow       : {carrying} edges carry mass")
        print(f"time       : {seconds:.3f} s")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="graphwgan", description="Wasserstein GANs on graphs.")
    sub = parser.add_subparsers(dest="command", required=True)
    w1 = sub.add_parser("w1", help="exact Wasserstein-1 distance between two node distributions",
                        description="Exact W1 with the shortest-path ground cost (edge weights are lengths).")
    w1.add_argument("--graph", help="graph file (npz, mat, edge list, pt) or dataset name; default: the embedded graph")
    w1.add_argument("--mu", help="masses of the first distribution (.npy, one value per line, or 'node mass' lines)")
    w1.add_argument("--nu", help="masses of the second distribution, same formats")
    w1.add_argument("--largest-component", action="store_true", help="keep only the largest connected component")
    w1.add_argument("--flow-out", help="save (u, v, flow) rows of the optimal flow to this .npy file")
    w1.add_argument("--potential-out", help="save the optimal potential to this .npy file")
    w1.add_argument("--json", action="store_true", help="print one JSON object instead of a report")
    w1.set_defaults(handler=_cmd_w1)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except (ValueError, TypeError, FileNotFoundError) as exc:
        print(f"graphwgan {args.command}: error: {exc}", file=sys.stderr)
        return 2


def _entry() -> Any:  # console-script entry point
    sys.exit(main())
