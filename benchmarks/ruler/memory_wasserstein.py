"""Peak memory and time of the exact graph W1 on random graphs of growing size.

Each case runs in a fresh subprocess: import everything, warm the solver on a tiny graph, note the
resident memory (RSS), build a seeded random connected graph (a random recursive spanning tree plus
distinct random extra edges, average degree 10, every length 1) and solve one pair with
``GraphTransport(graph).solve(mu, nu)``. Reported per case:

* ``peak - imports``: peak RSS (``VmHWM`` from ``/proc/self/status``; ``resource.getrusage``'s
  ``ru_maxrss`` where that is missing, see ``benchmarks.common.peak_rss_bytes``) minus the RSS after the imports:
  everything the case allocated, input graph included;
* ``solve peak``: the peak RSS while preparing and solving minus the RSS just before (the peak is
  reset through ``/proc/self/clear_refs`` where Linux allows it; blank elsewhere);
* prepare and solve times; and beside them ``n^2 * 8`` bytes, what a dense ``|V| x |V|`` float64
  cost matrix alone would take.

Two pair kinds: ``cloud`` (a 50-node point cloud against another one) on sizes up to 10^6 edges,
and ``diffuse`` (the issue's pair: a 50-node cloud against random mass on every node) on smaller
sizes only, where one solve stays under a few seconds: the network simplex is much slower on it as
the graph grows.

Growth exponents come from a least-squares line in log-log scale over the cases that finished.

Usage::

    python -m benchmarks.ruler.memory_wasserstein                    # default ladder, under 2 minutes
    python -m benchmarks.ruler.memory_wasserstein --sizes 10000 20000 --diffuse-sizes 5000 10000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import REPO, fit_exponent, last_json, peak_rss_bytes, reset_peak_rss, rss_bytes, table_head

DEFAULT_SIZES = (10_000, 20_000, 50_000, 100_000, 200_000)  # nodes; edges = 5 * nodes
DEFAULT_DIFFUSE_SIZES = (5_000, 10_000, 20_000, 50_000)
AVERAGE_DEGREE = 10
CLOUD_SIZE = 50
CASE_TIMEOUT_S = 90


# ----------------------------------------------------------------------------------------------
# one case (runs in the child process)
# ----------------------------------------------------------------------------------------------


def random_connected_edges(num_nodes: int, num_edges: int, seed: int):
    """``(2, num_edges)`` distinct undirected edges of a seeded random connected simple graph.

    A random recursive tree on a random node order (node ``order[i]`` attaches to a uniformly
    chosen earlier one) keeps it connected; distinct random extra edges fill it up to ``num_edges``.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    order = rng.permutation(num_nodes)
    child = order[1:]
    parent = order[(rng.random(num_nodes - 1) * np.arange(1, num_nodes)).astype(np.int64)]
    tree_keys = np.minimum(child, parent) * num_nodes + np.maximum(child, parent)
    missing = num_edges - (num_nodes - 1)
    extra_keys = np.empty(0, dtype=np.int64)
    while extra_keys.size < missing:
        draw = int(1.1 * missing) + 100
        a, b = rng.integers(0, num_nodes, draw), rng.integers(0, num_nodes, draw)
        keys = np.minimum(a, b) * num_nodes + np.maximum(a, b)
        keys = keys[a != b]
        extra_keys = np.setdiff1d(np.union1d(extra_keys, keys), tree_keys)
    extra_keys = rng.permutation(extra_keys)[:missing]
    keys = np.concatenate([tree_keys, extra_keys])
    return np.stack([keys // num_nodes, keys % num_nodes])


def run_case(num_nodes: int, pair: str, seed: int) -> dict:
    """Build the graph, solve one pair, and return the measurements (child process)."""
    import numpy as np
    import ot  # noqa: F401  (import cost outside the measurement)
    import scipy.sparse  # noqa: F401
    import torch  # noqa: F401
    import torch_geometric  # noqa: F401

    import graphwgan
    from graphwgan.graph import to_graph

    tiny = to_graph(np.array([[0, 1, 2, 3], [1, 2, 3, 0]]), num_nodes=4)  # warm every lazy import
    graphwgan.GraphTransport(tiny).solve(np.array([1.0, 0, 0, 0]), np.array([0, 0, 1.0, 0]))

    rss_imports = rss_bytes()
    num_edges = num_nodes * AVERAGE_DEGREE // 2
    rng = np.random.default_rng(seed + 1)
    cloud = rng.choice(num_nodes, CLOUD_SIZE, replace=False)
    mu = np.zeros(num_nodes)
    mu[cloud] = rng.random(CLOUD_SIZE)
    mu /= mu.sum()
    if pair == "cloud":
        cloud = rng.choice(num_nodes, CLOUD_SIZE, replace=False)
        nu = np.zeros(num_nodes)
        nu[cloud] = rng.random(CLOUD_SIZE)
    else:
        nu = rng.random(num_nodes)
    nu /= nu.sum()
    start = time.perf_counter()
    graph = to_graph(random_connected_edges(num_nodes, num_edges, seed), num_nodes=num_nodes)
    build_s = time.perf_counter() - start

    rss_graph = rss_bytes()
    peak_build = peak_rss_bytes()  # the reset below lowers ru_maxrss too: keep the build phase's peak
    peak_was_reset = reset_peak_rss()
    record = {"nodes": num_nodes, "edges": int(graph.edge_index.shape[1]) // 2, "pair": pair, "seed": seed,
              "build_s": build_s, "rss_imports": rss_imports, "rss_graph": rss_graph}
    try:
        start = time.perf_counter()
        transport = graphwgan.GraphTransport(graph)
        middle = time.perf_counter()
        result = transport.solve(mu, nu)
        end = time.perf_counter()
    except Exception as err:  # reported in the table, not hidden
        record["error"] = f"{type(err).__name__}: {str(err).splitlines()[0]}"
        record["error_after_s"] = time.perf_counter() - start
    else:
        record.update(prepare_s=middle - start, solve_s=end - middle, distance=float(result.distance),
                      core_nodes=int(transport._core_nodes.size))
    record["solve_peak"] = peak_rss_bytes() - rss_graph if peak_was_reset else None
    record["peak"] = max(peak_rss_bytes(), peak_build)
    record["peak_minus_imports"] = record["peak"] - rss_imports
    return record


# ----------------------------------------------------------------------------------------------
# the ladder (parent process)
# ----------------------------------------------------------------------------------------------


def measure(num_nodes: int, pair: str, seed: int = 0, timeout: float = CASE_TIMEOUT_S) -> dict:
    """Run one case in a fresh interpreter and return its record."""
    command = [sys.executable, "-m", "benchmarks.ruler.memory_wasserstein", "--case", str(num_nodes), pair, str(seed)]
    start = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=REPO)
    except subprocess.TimeoutExpired:
        return {"nodes": num_nodes, "edges": num_nodes * AVERAGE_DEGREE // 2, "pair": pair, "seed": seed,
                "error": f"timed out after {timeout:.0f} s"}
    record = last_json(done.stdout)
    if done.returncode != 0 or record is None:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"nodes": num_nodes, "edges": num_nodes * AVERAGE_DEGREE // 2, "pair": pair, "seed": seed,
                "error": f"exit {done.returncode}: {tail}"}
    record["wall_s"] = time.perf_counter() - start
    return record


def run_ladder(sizes=DEFAULT_SIZES, diffuse_sizes=DEFAULT_DIFFUSE_SIZES, seed: int = 0,
               timeout: float = CASE_TIMEOUT_S, log=print) -> list[dict]:
    """The ``cloud`` pair on ``sizes`` nodes, the ``diffuse`` pair on ``diffuse_sizes`` nodes."""
    records = []
    for pair, ladder in (("cloud", sizes), ("diffuse", diffuse_sizes)):
        for n in ladder:
            record = measure(n, pair, seed, timeout)
            log(f"  {pair:7s} n={n:>7d} " + (record.get("error") or
                f"solve {record['solve_s']:.2f} s, peak-imports {record['peak_minus_imports'] / 2**20:.0f} MiB"))
            records.append(record)
    return records


def exponents(records: list[dict]) -> dict:
    """Fitted growth exponents vs |E| per pair kind, over the cases that finished."""
    fits = {}
    for pair in ("cloud", "diffuse"):
        ok = [r for r in records if r["pair"] == pair and "error" not in r]
        edges = [r["edges"] for r in ok]
        fits[pair] = {
            "cases": len(ok),
            "peak_minus_imports": fit_exponent(edges, [r["peak_minus_imports"] for r in ok]),
            "solve_peak": fit_exponent(edges, [r.get("solve_peak") for r in ok]),
            "solve_s": fit_exponent(edges, [r["solve_s"] for r in ok]),
            "prepare_s": fit_exponent(edges, [r["prepare_s"] for r in ok]),
        }
    return fits


def _mib(value) -> str:
    return "" if value is None else f"{value / 2**20:,.0f}"


def _size(num_bytes: float) -> str:
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if num_bytes >= scale:
            return f"{num_bytes / scale:,.1f} {unit}"
    return f"{num_bytes / 1e3:,.0f} kB"


def _exp(value) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def markdown(records: list[dict], fits: dict) -> str:
    """The memory table and the fitted exponents, in markdown."""
    lines = [
        *table_head(["pair", "nodes", "edges", "core nodes", "peak − RSS after imports (MiB)", "solve peak (MiB)",
                     "prepare (s)", "solve (s)", "dense n²·8 bytes"], "lrrrrrrrr"),
    ]
    for r in records:
        dense = _size(8.0 * r["nodes"] ** 2)
        if "error" in r:
            lines.append(f"| {r['pair']} | {r['nodes']:,} | {r['edges']:,} | | {_mib(r.get('peak_minus_imports'))} | "
                         f"{_mib(r.get('solve_peak'))} | | **failed**: {r['error']} | {dense} |")
            continue
        lines.append(
            f"| {r['pair']} | {r['nodes']:,} | {r['edges']:,} | {r['core_nodes']:,} | "
            f"{_mib(r['peak_minus_imports'])} | {_mib(r.get('solve_peak'))} | "
            f"{r['prepare_s']:.2f} | {r['solve_s']:.2f} | {dense} |"
        )
    lines += [
        "",
        "Fitted growth exponents, `y ∝ |E|^k` (least squares in log-log over the cases that finished):",
        "",
        *table_head(["pair", "cases", "k: peak − imports", "k: solve peak", "k: prepare time", "k: solve time"],
                    "lrrrrr"),
    ]
    for pair, fit in fits.items():
        lines.append(f"| {pair} | {fit['cases']} | {_exp(fit['peak_minus_imports'])} | {_exp(fit['solve_peak'])} | "
                     f"{_exp(fit['prepare_s'])} | {_exp(fit['solve_s'])} |")
    lines.append("")
    lines.append("A dense |V| x |V| matrix grows as |E|^2 here (|E| = 5 |V|): exponent 2.")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES), help="node counts")
    parser.add_argument("--diffuse-sizes", type=int, nargs="*", default=list(DEFAULT_DIFFUSE_SIZES),
                        help="node counts for the diffuse pair (its solve time grows fast)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=CASE_TIMEOUT_S, help="seconds per case")
    parser.add_argument("--json", type=Path, help="also write the records here")
    parser.add_argument("--case", nargs=3, metavar=("NODES", "PAIR", "SEED"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.case:  # child process
        print(json.dumps(run_case(int(args.case[0]), args.case[1], int(args.case[2]))))
        return 0
    start = time.perf_counter()
    records = run_ladder(args.sizes, args.diffuse_sizes, args.seed, args.timeout)
    fits = exponents(records)
    print(markdown(records, fits))
    print(f"\ntotal {time.perf_counter() - start:.0f} s")
    if args.json:
        args.json.write_text(json.dumps({"records": records, "fits": fits}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
