"""Synthesising a citation network: GraphSynthesizer against classic generators and CELL.

What it shows:

1. a link-prediction split of a citation graph: the split CELL published for Cora-ML, or a seeded
   connected 85/10/5 split of the CiteSeer largest component (``graphwgan.splits.load_split``);
2. five generators fitted on the training graph: Erdos-Renyi, the configuration model, a
   degree-corrected SBM, CELL and graphwgan's ``GraphSynthesizer`` (CELL's random walk with a
   shortest-path transport term), each sampled a few times;
3. the NetGAN/CELL graph statistics of the samples against the real training graph, with the edge
   overlap (EO), the exact W1 between degree distributions, and link prediction on the test pairs;
4. two plots in ``--out``: the degree distributions (log-log) of the real and generated graphs,
   and how EO and the degree W1 move with training for CELL and GraphSynthesizer.

Run ``python examples/synthesize_citation.py`` (Cora-ML; ``--graph citeseer`` for CiteSeer; several
minutes on one core), or with ``--quick`` for a short run (at most 50 epochs, one seed, one sample; on
the embedded default graph, no data files, unless ``--graph`` is given).
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from pathlib import Path

import numpy as np

from graphwgan import datasets, metrics, synthesis
from graphwgan.splits import load_split, train_test_split_edges
from graphwgan.synthesis import GraphSynthesizer

# the data folder: GRAPHWGAN_DATA, else the shared folder next to this repository (set explicitly)
_SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
if not os.environ.get(datasets.DATA_ENV) and _SHARED.is_dir():
    os.environ[datasets.DATA_ENV] = str(_SHARED)

EO_TARGET = 0.52
STATS = ["max_degree", "assortativity", "triangle_count", "square_count", "power_law_exponent",
         "gini_coefficient", "edge_distribution_entropy", "largest_component_size", "clustering_coefficient",
         "characteristic_path_length", "spectral_gap"]


def generators(max_epochs, blocks):
    """Name -> a function of the seed that returns an unfitted generator."""
    return {
        "Erdos-Renyi": lambda seed: synthesis.ErdosRenyi(random_state=seed),
        "configuration model": lambda seed: synthesis.ConfigurationModel(random_state=seed),
        f"DC-SBM ({blocks} blocks)": lambda seed: synthesis.DegreeCorrectedSBM(num_blocks=blocks, random_state=seed),
        "CELL": lambda seed: synthesis.CELL(eo_target=EO_TARGET, max_epochs=max_epochs, random_state=seed),
        "GraphSynthesizer": lambda seed: GraphSynthesizer(eo_target=EO_TARGET, max_epochs=max_epochs,
                                                          random_state=seed),
    }


def fit_quietly(model, graph):
    """Fit, turning the 'EO target not reached' warning into a flag."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return model.fit(graph)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graph", choices=["cora_ml", "citeseer", "default"],
                        help="cora_ml (default), citeseer, or the embedded default graph (default with --quick)")
    parser.add_argument("--quick", action="store_true", help="few epochs, one seed, one sample (for CI)")
    parser.add_argument("--out", default="synthesize_citation_out", help="folder for the plots and the table")
    args = parser.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    # -- the split: a training graph, held-out test edges and non-edges ---------------------------
    graph = args.graph or ("default" if args.quick else "cora_ml")
    if graph == "default":
        split = train_test_split_edges(datasets.default_graph(), seed=0)  # a connected 85/10/5 split
    else:
        split = load_split(graph)
    name, blocks = {"default": ("embedded default graph", 4), "cora_ml": ("Cora-ML", 7),
                    "citeseer": ("CiteSeer", 6)}[graph]  # blocks: the number of classes
    train = split.train
    print(f"{name}: {split.num_nodes} nodes, {len(split.train_edges)} training edges, "
          f"{len(split.test_edges)} test edges and {len(split.test_non_edges)} test non-edges")

    seeds = (0,) if args.quick else (0, 1, 2)  # one fit and one sample per seed
    max_epochs = 50 if args.quick else 1000
    ladder = [10, 25, 50] if args.quick else [5, 10, 20, 40, 80]

    # -- fit every generator and sample -----------------------------------------------------------
    real = metrics.graph_statistics(train)
    rows = {"real (training graph)": {k: real[k] for k in STATS}}
    summary, samples = {}, {}
    for label, build in generators(max_epochs, blocks).items():
        drawn, seconds, aucs, aps, reached = [], [], [], [], []
        for seed in seeds:
            start = time.perf_counter()
            model = fit_quietly(build(seed), train)
            seconds.append(time.perf_counter() - start)
            reached.append(getattr(model, "converged_", True))
            drawn.append(model.sample(seed=1000 * seed))
            if hasattr(model, "score_pairs"):
                scores = metrics.link_prediction_scores(model.score_pairs(split.test_edges.T),
                                                        model.score_pairs(split.test_non_edges.T))
                aucs.append(scores.roc_auc)
                aps.append(scores.average_precision)
        stats = [metrics.graph_statistics(sample) for sample in drawn]
        rows[label] = {k: float(np.mean([s[k] for s in stats])) for k in STATS}
        samples[label] = drawn
        summary[label] = {
            "mean_relative_error": metrics.mean_relative_error(rows[label], real, keys=STATS),
            "edge_overlap": float(np.mean([metrics.edge_overlap(s, train) for s in drawn])),
            "degree_W1": float(np.mean([metrics.degree_wasserstein(s, train) for s in drawn])),
            "test_AUC": float(np.mean(aucs)) if aucs else "—",
            "test_AP": float(np.mean(aps)) if aps else "—",
            "fit_seconds": float(np.mean(seconds)),
            "EO_target_reached": all(reached) if label in ("CELL", "GraphSynthesizer") else "—",
        }

    # -- the table against the real training graph ------------------------------------------------
    table = (f"Graph statistics, mean over {len(seeds)} sample(s) per generator, against the real training graph:\n\n"
             + metrics.statistics_table(rows) + "\n\nSummary (EO and degree W1 against the training graph; "
             "link prediction on the test pairs):\n\n" + metrics.statistics_table(summary, digits=3))
    print()
    print(table)
    (out / "statistics.md").write_text(f"# {name}\n\n{table}\n")

    # -- plot 1: degree distributions, log-log ----------------------------------------------------
    def degree_distribution(data):
        """Degrees k >= 1 present, the fraction of nodes with degree k, and with degree >= k."""
        degrees = np.bincount(data.edge_index[0].numpy(), minlength=int(data.num_nodes))
        values, counts = np.unique(degrees[degrees > 0], return_counts=True)
        at_least = (degrees.size - np.concatenate([[0], np.cumsum(counts)[:-1]]) - np.sum(degrees == 0))
        return values, counts / degrees.size, at_least / degrees.size

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    k, pmf, ccdf = degree_distribution(train)
    left.loglog(k, pmf, "ko", markersize=4, label="real (training graph)")
    right.loglog(k, ccdf, "k-", linewidth=2.5, drawstyle="steps-post", label="real (training graph)")
    for label, drawn in samples.items():
        k, pmf, ccdf = degree_distribution(drawn[0])
        left.loglog(k, pmf, ".", alpha=0.7, label=f"{label} (one sample)")
        right.loglog(k, ccdf, "-", alpha=0.8, drawstyle="steps-post", label=f"{label} (one sample)")
    left.set_ylabel("fraction of nodes with degree k")
    right.set_ylabel("fraction of nodes with degree >= k")
    for ax in (left, right):
        ax.set_xlabel("degree k")
        ax.legend(fontsize=7)
    fig.suptitle(f"Degree distribution, {name}")
    fig.tight_layout()
    fig.savefig(out / "degree_distribution.png", dpi=120)
    plt.close(fig)

    # -- plot 2: EO and degree W1 along training --------------------------------------------------
    # The estimators have no per-epoch hook, so each point is a fresh fit (seed 0) stopped after
    # max_epochs = e with no EO stopping, then one sample drawn from it.
    curves = {}
    for label, cls in (("CELL", synthesis.CELL), ("GraphSynthesizer", GraphSynthesizer)):
        points = []
        for epochs in ladder:
            model = fit_quietly(cls(eo_target=1.0, max_epochs=epochs, random_state=0), train)
            sample = model.sample(seed=0)
            points.append((epochs, metrics.edge_overlap(sample, train), metrics.degree_wasserstein(sample, train)))
        curves[label] = np.array(points)
        print(f"{label:>16} after e epochs (e, EO, degree W1): "
              + ", ".join(f"({int(e)}, {eo:.3f}, {w:.3f})" for e, eo, w in points))

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for label, points in curves.items():
        left.plot(points[:, 0], points[:, 1], "o-", label=label)
        right.plot(points[:, 0], points[:, 2], "o-", label=label)
    left.axhline(EO_TARGET, color="k", linestyle="--", linewidth=1, label=f"EO target {EO_TARGET}")
    left.set_ylabel("edge overlap with the training graph")
    right.set_ylabel("W1 of degree distributions (hops)")
    for ax in (left, right):
        ax.set_xlabel("training epochs (a separate fit per point, seed 0)")
        ax.legend(fontsize=8)
    fig.suptitle(f"One sample after e epochs, {name}")
    fig.tight_layout()
    fig.savefig(out / "training_curve.png", dpi=120)
    plt.close(fig)
    print(f"\nwrote {out / 'degree_distribution.png'}, {out / 'training_curve.png'} and {out / 'statistics.md'}")


if __name__ == "__main__":
    main()
