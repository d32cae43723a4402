"""The ``graphwgan`` command line.

Subcommands:

``graphwgan w1``
    The exact Wasserstein-1 distance between two node distributions read from files, on a graph
    file, a named dataset, or (by default) the embedded example graph.
``graphwgan synth``
    Fit a :class:`graphwgan.synthesis.GraphSynthesizer` on a graph file, a named dataset or (by
    default) the embedded example graph, sample new graphs, write them as edge lists or ``.npz``
    files, and print the graph statistics of the real graph against the generated ones, with the
    critic's W1 estimate over the evaluations (``--plot FILE`` draws it, with matplotlib).
``graphwgan score``
    Fit an anomaly detector (:class:`graphwgan.anomaly.AnomalyDetector` or a baseline) on a graph,
    or load a saved one, and write one anomaly score per node to CSV (higher = more anomalous).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from graphwgan.datasets import resolve_graph
from graphwgan.io import TABLE_SUFFIXES, WRITE_FORMATS, read_masses, write_graph, write_scores, write_table

__all__ = ["build_parser", "main"]

#: Output formats of ``graphwgan synth`` (file suffix -> format), those of :func:`graphwgan.io.write_graph`.
SYNTH_FORMATS = WRITE_FORMATS
#: Statistics printed by ``graphwgan synth`` (those of the NetGAN/CELL tables).
SYNTH_STATISTICS = ("max_degree", "assortativity", "triangle_count", "square_count", "power_law_exponent",
                    "gini_coefficient", "edge_distribution_entropy", "largest_component_size",
                    "clustering_coefficient", "characteristic_path_length", "spectral_gap")


_GRAPH_HELP = "graph file (npz, mat, edge list, pt, GraphML, GML) or dataset name; default: the embedded graph"


def _load_graph(spec: str | None, largest_component: bool):
    """The graph named by ``--graph`` (a file or a dataset name; the embedded graph when omitted)."""
    try:
        return resolve_graph(spec, largest_component=largest_component)
    except (FileNotFoundError, ValueError) as err:
        raise type(err)(f"--graph {err}") from None


def _check_output(value: str | None, option: str, suffixes: Sequence[str] | None = None) -> Path | None:
    """Validate an output path before any work: a known suffix, not a folder, a writable (creatable) folder."""
    if value is None:
        return None
    path = Path(value)
    if suffixes is not None and path.suffix.lower() not in suffixes:
        raise ValueError(f"{option} {value!r}: unknown suffix {path.suffix!r}; use one of {', '.join(suffixes)}")
    if path.is_dir():
        raise ValueError(f"{option} {value!r} is a folder; give a file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"{option} {value!r}: cannot create the folder '{path.parent}': {exc.strerror or exc}"
                         ) from None
    if not os.access(path.parent, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ValueError(f"{option} {value!r}: not writable")
    return path


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

    _check_output(args.flow_out, "--flow-out", TABLE_SUFFIXES)
    _check_output(args.potential_out, "--potential-out", TABLE_SUFFIXES)
    data, name = _load_graph(args.graph, args.largest_component)
    n = int(data.num_nodes)
    if (args.mu is None) != (args.nu is None):
        raise ValueError("give both --mu and --nu, or neither (for the example distributions)")
    names = _node_names(data, n)
    if args.mu is None:
        mu, nu, described = _demo_masses(data)
    else:
        mu, nu = read_masses(args.mu, n, names), read_masses(args.nu, n, names)
        described = f"{args.mu} vs {args.nu}"
    start = time.perf_counter()
    transport = GraphTransport(data)
    result = transport.solve(mu, nu)
    seconds = time.perf_counter() - start
    ids = np.asarray(names, dtype=object) if names is not None else np.arange(n)
    if args.flow_out:
        u, v = result.edge_index
        write_table(args.flow_out, {"u": ids[u], "v": ids[v], "flow": result.flow},
                    numeric=np.vstack([result.edge_index, result.flow]))
    if args.potential_out:
        write_table(args.potential_out, {"node": ids, "potential": result.potential}, numeric=result.potential)
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


def _sample_paths(out: str, format: str | None, count: int) -> tuple[list[Path], str]:
    """One output path per sample: ``out`` itself for one sample, ``stem_k.suffix`` for several."""
    path = Path(out)
    if format is None:
        format = SYNTH_FORMATS.get(path.suffix.lower())
        if format is None:
            raise ValueError(
                f"--out {out!r}: cannot tell the format from the suffix {path.suffix!r}; use .txt, .csv or .npz, "
                "or pass --format"
            )
    elif path.suffix.lower() not in SYNTH_FORMATS:
        path = path.with_name(path.name + "." + format)
    elif SYNTH_FORMATS[path.suffix.lower()] != format:
        raise ValueError(f"--out {out!r} has the suffix of the {SYNTH_FORMATS[path.suffix.lower()]} format but "
                         f"--format is {format}; make them agree")
    if path.exists() and path.is_dir():
        raise ValueError(f"--out {out!r} is a folder; give a file name such as {Path(out) / 'sample.txt'}")
    _check_output(str(path), "--out")  # before the fit, so that a bad path fails fast
    if count == 1:
        return [path], format
    return [path.with_name(f"{path.stem}_{k}{path.suffix}") for k in range(count)], format


def _check_option(value, name: str, *, low, high=None, low_open: bool = False) -> None:
    bad = value < low or (low_open and value == low) or (high is not None and value > high)
    if bad or (isinstance(value, float) and not np.isfinite(value)):
        left = "(" if low_open else "["
        right = f"{high}]" if high is not None else "inf)"
        raise ValueError(f"{name} must be in {left}{low}, {right}, got {value}")


def _cmd_synth(args: argparse.Namespace) -> int:
    import warnings

    from tqdm.auto import tqdm

    from graphwgan import metrics
    from graphwgan.synthesis import GraphSynthesizer

    _check_option(args.num_samples, "--num-samples", low=1, high=1000)
    _check_option(args.seed, "--seed", low=0)
    _check_option(args.eo_target, "--eo-target", low=0.0, high=1.0, low_open=True)
    _check_option(args.max_epochs, "--max-epochs", low=1)
    paths, format = _sample_paths(args.out, args.format, args.num_samples) if args.out else ([], None)
    # before the fit: a bad plot path or a missing matplotlib fails fast
    _check_output(args.plot, "--plot", (".png", ".pdf", ".svg"))
    pyplot = _pyplot() if args.plot else None
    data, name = _load_graph(args.graph, args.largest_component)
    n, m = int(data.num_nodes), int(data.num_edges) // 2

    # the model shows its own bar over the epochs; this one then counts the samples
    model = GraphSynthesizer(eo_target=args.eo_target, max_epochs=args.max_epochs, random_state=args.seed,
                             verbose=not args.no_progress)
    bar = tqdm(total=1 + args.num_samples, desc="fit", unit="step", file=sys.stderr, leave=False,
               disable=True if args.no_progress else None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        model.fit(data)
    for warning in caught:
        if issubclass(warning.category, RuntimeWarning):
            print(f"graphwgan synth: warning: {warning.message}", file=sys.stderr)
        else:  # not ours to reword: pass it on unchanged
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    bar.set_postfix(epochs=model.n_epochs_, eo=f"{model.edge_overlap_:.3f}")
    bar.update()

    reference = metrics.graph_statistics(data)
    real_row = {k: reference[k] for k in SYNTH_STATISTICS}
    rows = {"real graph": {"edges": m, **real_row}}
    written = []
    for k in range(args.num_samples):
        bar.set_description(f"sample {k + 1}/{args.num_samples}")
        sample = model.sample(seed=np.random.default_rng([args.seed, k]))
        stats = metrics.graph_statistics(sample)
        row = {k2: stats[k2] for k2 in SYNTH_STATISTICS}
        rows[f"sample {k}"] = {
            "edges": int(sample.num_edges) // 2,
            **row,
            "edge_overlap": metrics.edge_overlap(sample, data),
            "mean_relative_error": metrics.mean_relative_error(row, real_row),
        }
        if paths:
            try:
                written.append(write_graph(sample, paths[k], format))
            except OSError as exc:
                raise ValueError(f"cannot write sample {k} to '{paths[k]}': {exc.strerror or exc}") from None
        bar.update()
    bar.close()
    if args.num_samples > 1:
        generated = [rows[f"sample {k}"] for k in range(args.num_samples)]
        mean = {key: float(np.mean([row[key] for row in generated])) for key in generated[0]}
        mean["mean_relative_error"] = metrics.mean_relative_error({k: mean[k] for k in SYNTH_STATISTICS}, real_row)
        rows[f"mean of {args.num_samples} samples"] = mean

    reached = "reached" if model.converged_ else "NOT reached"
    plot = None if pyplot is None else _plot_w1(pyplot, model.history_, args.plot, name)
    if args.json:
        print(json.dumps({"graph": name, "num_nodes": n, "num_edges": m, "epochs": model.n_epochs_,
                          "fit_seconds": model.fit_seconds_, "edge_overlap": model.edge_overlap_,
                          "converged": bool(model.converged_), "written": [str(p) for p in written],
                          "w1_curve": {"epochs": list(model.history_.eval_epochs), "w1": list(model.history_.w1)},
                          "statistics": rows}, default=lambda value: value.item()))
        return 0
    print(f"graph      : {name} ({n} nodes, {m} edges)")
    print(f"model      : GraphSynthesizer(eo_target={args.eo_target}, max_epochs={args.max_epochs}, "
          f"random_state={args.seed})")
    print(f"fit        : {model.n_epochs_} epochs, {model.fit_seconds_:.2f} s, edge overlap "
          f"{model.edge_overlap_:.3f} (target {args.eo_target} {reached})")
    print(f"W1 curve   : {_w1_curve(model.history_)}")
    if plot is not None:
        print(f"W1 plot    : {plot}")
    if written:
        shown = str(written[0]) if len(written) == 1 else f"{written[0]} ... {written[-1]}"
        print(f"samples    : {len(written)} written ({format}): {shown}")
    else:
        print(f"samples    : {args.num_samples} (not written; pass --out to save them)")
    print()
    print(_statistics_by_row(rows, args.num_samples))
    return 0


#: Widest table ``graphwgan synth`` prints; more samples are summarised (all of them: ``--json``).
TABLE_WIDTH = 100


def _statistics_by_row(rows: dict, count: int) -> str:
    """The statistics table with one row per statistic and one column per graph, at most TABLE_WIDTH wide.

    When the samples do not fit side by side, the columns are the real graph and the samples'
    mean, minimum and maximum.
    """
    from graphwgan import metrics

    def table(columns: dict) -> str:
        keys = list(dict.fromkeys(key for stats in columns.values() for key in stats))
        by_row = {key: {col: stats[key] for col, stats in columns.items() if key in stats} for key in keys}
        return metrics.statistics_table(by_row, label="statistic")

    text = table(rows)
    if max(map(len, text.splitlines())) <= TABLE_WIDTH or count == 1:
        return text
    samples = [rows[f"sample {k}"] for k in range(count)]
    summary = {"real graph": rows["real graph"], f"mean of {count}": rows[f"mean of {count} samples"],
               "min": {key: min(s[key] for s in samples) for key in samples[0]},
               "max": {key: max(s[key] for s in samples) for key in samples[0]}}
    return table(summary) + "\n(each sample: --json)"


class _Ticker:
    """A progress line on stderr that keeps moving (elapsed time) while a step without its own bar runs."""

    def __init__(self, desc: str, disable: bool) -> None:
        self.desc, self.disable = desc, disable

    def __enter__(self) -> _Ticker:
        import threading

        from tqdm.auto import tqdm

        self.bar = tqdm(desc=self.desc, total=None, file=sys.stderr, leave=False, unit="s",
                        bar_format="{desc}: {elapsed}", disable=True if self.disable else None)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._tick, daemon=True)
        self.thread.start()
        return self

    def _tick(self) -> None:
        while not self.stop.wait(0.5):
            self.bar.refresh()

    def __exit__(self, *exc: Any) -> None:
        self.stop.set()
        self.thread.join()
        self.bar.close()

_SPARKS = "▁▂▃▄▅▆▇█"


def _w1_curve(history) -> str:
    """One line: a sparkline of the critic's W1 estimate per evaluation, first, last and lowest values."""
    values, epochs = list(history.w1), list(history.eval_epochs)
    if not values:
        return "none (no critic)"
    low, high = min(values), max(values)
    spread = high - low
    sparks = "".join(_SPARKS[0 if spread == 0 else round((v - low) / spread * (len(_SPARKS) - 1))] for v in values)
    best = int(np.argmin(values))
    return (f"{sparks}  {values[0]:.4g} (epoch {epochs[0]}) -> {values[-1]:.4g} (epoch {epochs[-1]}), "
            f"lowest {values[best]:.4g} at epoch {epochs[best]}")


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as pyplot
    except ImportError:
        raise ValueError("--plot needs matplotlib, which is not installed (pip install matplotlib)") from None
    return pyplot


def _plot_w1(pyplot, history, path, name) -> Path:
    """Write the critic's W1 estimate and the edge overlap per evaluation as an image; returns the path."""
    path = Path(path)
    figure, axis = pyplot.subplots(figsize=(6, 3.5))
    axis.plot(history.eval_epochs, history.w1, marker="o", label="critic's W1 estimate")
    axis.set_xlabel("epoch")
    axis.set_ylabel("W1 estimate (certified lower bound)")
    overlap = axis.twinx()
    overlap.plot(history.eval_epochs, history.edge_overlap, color="tab:gray", linestyle="--", label="edge overlap")
    overlap.set_ylabel("edge overlap")
    axis.set_title(f"GraphSynthesizer on {name}")
    lines = axis.get_lines() + overlap.get_lines()
    axis.legend(lines, [line.get_label() for line in lines], loc="center right", fontsize="small")
    figure.tight_layout()
    try:
        figure.savefig(path)
    except OSError as exc:
        raise ValueError(f"cannot write the plot to '{path}': {exc.strerror or exc}") from None
    finally:
        pyplot.close(figure)
    return path


#: Detectors offered by ``graphwgan score`` (name -> class name in :mod:`graphwgan.anomaly`).
SCORE_DETECTORS = {"graphwgan": "AnomalyDetector", "dominant": "DOMINANT", "gaan": "GAAN",
                   "zscore": "DegreeFeatureZScore"}


def _node_names(data, n: int) -> list[str] | None:
    names = getattr(data, "node_names", None)
    if names is None or len(names) != n:
        return None
    return [str(name) for name in names]


def _cmd_score(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from graphwgan import anomaly, metrics

    _check_option(args.contamination, "--contamination", low=0.0, high=0.5, low_open=True)
    _check_option(args.seed, "--seed", low=0)
    _check_option(args.top, "--top", low=0)
    if args.load and args.save:
        raise ValueError("give --load (score with a saved detector) or --save (fit and save one), not both")
    if args.load and not Path(args.load).is_file():
        raise FileNotFoundError(f"--load {args.load!r}: no such file")
    _check_output(args.out, "--out")
    _check_output(args.save, "--save")
    data, name = _load_graph(args.graph, args.largest_component)
    n = int(data.num_nodes)
    if args.load:
        detector = anomaly.BaseDetector.load(args.load)
        how = f"loaded from {args.load}"
        scores = detector.decision_function(data)
    else:
        cls = getattr(anomaly, SCORE_DETECTORS[args.detector])
        options = {"contamination": args.contamination, "random_state": args.seed}
        if "verbose" in cls._param_names():  # the detector's own bar moves over its training epochs
            options["verbose"] = not args.no_progress
        detector = cls(**options)
        with _Ticker(f"fit {cls.__name__}", disable=args.no_progress or "verbose" in options):
            detector.fit(data)
        how = f"fitted in {detector.fit_seconds_:.2f} s"
        scores = detector.decision_scores_
    bar = tqdm(total=bool(args.out) + bool(args.save), desc="write", unit="file", file=sys.stderr, leave=False,
               disable=True if args.no_progress or not (args.out or args.save) else None)
    labels = (scores > detector.threshold_).astype(np.int64)
    names = _node_names(data, n)
    if args.save:
        bar.set_description("save")
        detector.save(args.save)
        bar.update()
    written = None
    if args.out:
        bar.set_description("write")
        try:
            written = write_scores(args.out, scores, labels, names)
        except OSError as exc:
            raise ValueError(f"cannot write the scores to '{args.out}': {exc.strerror or exc}") from None
        bar.update()
    bar.close()

    print(f"graph      : {name} ({n} nodes, {int(data.num_edges) // 2} edges)")
    print(f"detector   : {detector!r}, {how}")
    print(f"threshold  : {detector.threshold_:.6g} ({int(labels.sum())} nodes flagged, contamination "
          f"{detector.contamination})")
    if args.save:
        print(f"saved      : {args.save}")
    print(f"scores     : {written if written else 'not written (pass --out FILE.csv to save them)'}")
    if args.evaluate:
        truth = getattr(data, "y", None)
        if truth is None:
            raise ValueError("--evaluate needs outlier labels in the graph's y (0 = normal, non-zero = outlier)")
        report = metrics.anomaly_scores_report(np.asarray(truth), scores)
        print("evaluation : " + ", ".join(f"{key} {value:.4g}" if isinstance(value, float) else f"{key} {value}"
                                          for key, value in report.items()))
    if args.top:
        order = np.argsort(-scores, kind="stable")[: args.top]
        print()
        print(f"top {len(order)} nodes (highest score first):")
        for rank, node in enumerate(order.tolist(), start=1):
            label = f" {names[node]}" if names is not None else ""
            print(f"{rank:4d}. node {node}{label}: {scores[node]:.6g}")
    return 0


def _cmd_curvature(args: argparse.Namespace) -> int:
    """``graphwgan curvature``: exact Ollivier-Ricci curvature of every edge, to CSV and a summary."""
    from graphwgan.curvature import ollivier_ricci

    _check_output(args.out, "--out")
    data, name = _load_graph(args.graph, args.largest_component)
    n = int(data.num_nodes)
    start = time.perf_counter()
    result = ollivier_ricci(data, alpha=args.alpha, exp_power=args.exp_power,
                            verbose=False if args.no_progress else None)
    seconds = time.perf_counter() - start
    kappa = result.curvature
    names = _node_names(data, n)
    if args.out:
        label = (lambda i: names[i]) if names is not None else (lambda i: i)
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write("u,v,curvature\n")
            for (a, b), value in zip(result.edge_index.T.tolist(), kappa.tolist(), strict=True):
                handle.write(f"{label(a)},{label(b)},{value!r}\n")
    summary = {"graph": name, "num_nodes": n, "num_edges": int(kappa.size), "alpha": args.alpha,
               "mean": float(kappa.mean()) if kappa.size else None,
               "min": float(kappa.min()) if kappa.size else None,
               "max": float(kappa.max()) if kappa.size else None, "seconds": seconds}
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"graph      : {name} ({n} nodes, {kappa.size} edges)")
        if kappa.size:
            print(f"curvature  : mean {summary['mean']:.6g}, min {summary['min']:.6g}, max {summary['max']:.6g}"
                  f" (alpha = {args.alpha:g})")
        if args.out:
            print(f"written    : {args.out}")
        print(f"time       : {seconds:.3f} s")
    return 0


def _add_curvature_parser(sub) -> None:
    curvature = sub.add_parser(
        "curvature", help="exact Ollivier-Ricci curvature of every edge",
        description="Ollivier-Ricci curvature kappa(u, v) = 1 - W1(m_u, m_v) / d(u, v) of every edge, with "
                    "GraphRicciCurvature's lazy walk measures (edge weights are lengths); writes u,v,curvature "
                    "rows and prints a summary.")
    curvature.add_argument("--graph", help=_GRAPH_HELP)
    curvature.add_argument("--largest-component", action="store_true",
                           help="keep only the largest connected component")
    curvature.add_argument("--alpha", type=float, default=0.5, help="mass the walk keeps on its node (default 0.5)")
    curvature.add_argument("--exp-power", type=float, default=2.0,
                           help="power p of the neighbour weights e^(-w^p); 0 for the uniform walk (default 2)")
    curvature.add_argument("-o", "--out", metavar="FILE.csv", help="write u,v,curvature rows here")
    curvature.add_argument("--json", action="store_true", help="print one JSON object instead of a report")
    curvature.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    curvature.set_defaults(handler=_cmd_curvature)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    from graphwgan import __version__

    parser = argparse.ArgumentParser(prog="graphwgan", description="Wasserstein GANs on graphs.")
    parser.add_argument("--version", action="version", version=f"graphwgan {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    w1 = sub.add_parser("w1", help="exact Wasserstein-1 distance between two node distributions",
                        description="Exact W1 with the shortest-path ground cost (edge weights are lengths).")
    w1.add_argument("--graph", help=_GRAPH_HELP)
    w1.add_argument("--mu", help="masses of the first distribution (.npy, one value per line, or 'node mass' lines)")
    w1.add_argument("--nu", help="masses of the second distribution, same formats")
    w1.add_argument("--largest-component", action="store_true", help="keep only the largest connected component")
    w1.add_argument("--flow-out", metavar="FILE", help="save the optimal flow: .csv/.txt/.tsv rows u,v,flow with the "
                                                    "graph's node ids, or .npy (3, E) rows of node positions and flow")
    w1.add_argument("--potential-out", metavar="FILE", help="save the optimal potential: .csv/.txt/.tsv rows "
                                                            "node,potential with the graph's node ids, or .npy")
    w1.add_argument("--json", action="store_true", help="print one JSON object instead of a report")
    w1.set_defaults(handler=_cmd_w1)

    synth = sub.add_parser(
        "synth", help="fit a graph generator and sample graphs like the input",
        description="Fit a GraphSynthesizer (CELL's low-rank random walk with a shortest-path transport term), "
                    "sample graphs with the same number of edges, optionally write them, and print the graph "
                    "statistics of the real graph against the samples (edge overlap and mean relative error "
                    "included).")
    synth.add_argument("--graph", help=_GRAPH_HELP)
    synth.add_argument("--largest-component", action="store_true", help="keep only the largest connected component")
    synth.add_argument("-n", "--num-samples", type=int, default=1, metavar="N",
                       help="number of graphs to sample, 1-1000 (default 1)")
    synth.add_argument("--seed", type=int, default=0, help="seed of the fit and of the samples, >= 0 (default 0)")
    synth.add_argument("--eo-target", type=float, default=0.52, metavar="EO",
                       help="stop training once a sampled graph has this edge overlap with the input (the share of "
                            "its edges it reproduces), in (0, 1] (default 0.52)")
    synth.add_argument("--max-epochs", type=int, default=1000, metavar="E",
                       help="most training epochs, >= 1 (default 1000)")
    synth.add_argument("-o", "--out", metavar="PATH",
                       help="write the samples here: .txt ('u v' lines), .csv ('u,v' lines) or .npz (sparse "
                            "adjacency); with several samples, PATH's stem gets _0, _1, ... ")
    synth.add_argument("--format", choices=sorted(SYNTH_FORMATS.values()),
                       help="output format when the suffix of --out does not say it")
    synth.add_argument("--json", action="store_true",
                       help="print one JSON object (every sample's statistics) instead of the report")
    synth.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    synth.add_argument("--plot", metavar="FILE", help="write the critic's W1 curve as an image (PNG, PDF or SVG "
                       "by the suffix; needs matplotlib)")
    synth.set_defaults(handler=_cmd_synth)

    score = sub.add_parser(
        "score", help="score every node of a graph for anomaly (higher = more anomalous)",
        description="Fit an anomaly detector on a graph (node features from the graph's x, or structural "
                    "encodings when it has none), or load a saved one, and write one score per node to CSV.")
    score.add_argument("--graph", help=_GRAPH_HELP)
    score.add_argument("--largest-component", action="store_true", help="keep only the largest connected component")
    score.add_argument("--detector", choices=sorted(SCORE_DETECTORS), default="graphwgan",
                       help="which detector to fit (default graphwgan, the library's AnomalyDetector)")
    score.add_argument("--contamination", type=float, default=0.1,
                       help="expected share of outliers, in (0, 0.5]; sets the 0/1 threshold (default 0.1)")
    score.add_argument("--seed", type=int, default=0, help="random_state of the detector, >= 0 (default 0)")
    score.add_argument("-o", "--out", metavar="FILE.csv", help="write node,score,outlier rows here")
    score.add_argument("--save", metavar="FILE", help="save the fitted detector here (reload with --load)")
    score.add_argument("--load", metavar="FILE", help="score with a saved detector instead of fitting one")
    score.add_argument("--top", type=int, default=10, help="print the highest-scoring nodes (default 10; 0: none)")
    score.add_argument("--evaluate", action="store_true",
                       help="report ROC-AUC, AP and recall@k against the outlier labels in the graph's y")
    score.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    score.set_defaults(handler=_cmd_score)
    _add_curvature_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except (ValueError, TypeError, OSError) as exc:  # OSError: files that cannot be read or written
        text = str(exc) if not isinstance(exc, OSError) or not exc.filename else f"{exc.filename}: {exc.strerror}"
        print(f"graphwgan {args.command}: error: {' '.join(text.split())}", file=sys.stderr)
        return 2


def _entry() -> Any:  # console-script entry point
    sys.exit(main())
